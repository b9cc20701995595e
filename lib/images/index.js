'use strict'
// Images (issue 15, in progress). `transformImage` runs one pipeline (decode, extract, resize,
// orient, crop or place, encode) on the CPU pool; no intermediate crosses to JS. `imageInfo` reads an image's headers on the CPU pool: JPEG,
// PNG, WebP and GIF are recognised by their signatures, and dimensions, EXIF orientation, alpha,
// channels, colour space, bit depth and the presence of an ICC profile or EXIF block are read
// without decoding a pixel. It takes the CPU pool's task options (signal, timeout, priority,
// pool). Like every kernel it reads its input in place: do not modify the buffer until the
// promise settles.
const binding = require('../shared/native')
const { invalidArgType } = require('../shared/errors')
const { toBinary } = require('../shared/validate')
const { call } = require('../cpu/run')

/** @param {unknown[]} f the binding's list, in the order of napi/src/images.rs */
function named(f) {
  return {
    format: f[0],
    width: f[1],
    height: f[2],
    orientation: f[3],
    hasAlpha: f[4],
    channels: f[5],
    space: f[6],
    bitsPerSample: f[7],
    isProgressive: f[8],
    hasProfile: f[9],
    hasExif: f[10],
  }
}

/** What an image's headers say about it. */
function imageInfo(input, options) {
  return call(options, () => {
    const bytes = toBinary(input, 'input')
    return [bytes, (h, slot, p, c) => binding.submitImageInfo(h, slot, bytes, p, c)]
  }).then(named)
}

const OPTIONS = ['resize', 'rotate', 'flip', 'flop', 'extract', 'format', 'quality', 'lossless', 'progressive', 'effort', 'keepMetadata', 'maxPixels']
const RESIZE = ['width', 'height', 'fit', 'position', 'kernel', 'withoutEnlargement', 'background']
const EXTRACT = ['left', 'top', 'width', 'height']
const COLOUR = ['r', 'g', 'b', 'alpha']

// A fresh object with the known keys only, read once: the binding never reads the caller's
// object (a getter is user code, and would run in the middle of a submission).
function pick(value, keys, name) {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object') throw invalidArgType(name, 'of type object', value)
  const out = {}
  for (const k of keys) if (value[k] !== undefined) out[k] = value[k]
  return out
}

function transformSpec(o) {
  const spec = pick(o, OPTIONS, 'options')
  const resize = pick(spec.resize, RESIZE, 'options.resize')
  if (resize !== undefined) {
    if (resize.background !== undefined && typeof resize.background !== 'string') {
      resize.background = pick(resize.background, COLOUR, 'options.resize.background')
    }
    spec.resize = resize
  }
  if (spec.extract !== undefined) spec.extract = pick(spec.extract, EXTRACT, 'options.extract')
  return spec
}

/** Decodes, transforms and re-encodes an image on the CPU pool. */
function transformImage(input, options) {
  let info = false
  return call(options, (opts) => {
    const bytes = toBinary(input, 'input')
    info = opts.info ?? false
    if (typeof info !== 'boolean') throw invalidArgType('options.info', 'of type boolean', info)
    const spec = transformSpec(opts)
    return [bytes, (h, slot, p, c) => binding.submitTransformImage(h, slot, bytes, spec, info, p, c)]
  }).then((r) => (info ? { data: r[0], info: { format: r[1], width: r[2], height: r[3], channels: r[4], size: r[0].length } } : r))
}

module.exports = { imageInfo, transformImage }
