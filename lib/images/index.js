'use strict'
// Images (issue 15, in progress). `imageInfo` reads an image's headers on the CPU pool: JPEG,
// PNG, WebP and GIF are recognised by their signatures, and dimensions, EXIF orientation, alpha,
// channels, colour space, bit depth and the presence of an ICC profile or EXIF block are read
// without decoding a pixel. It takes the CPU pool's task options (signal, timeout, priority,
// pool). Like every kernel it reads its input in place: do not modify the buffer until the
// promise settles.
const binding = require('../shared/native')
const { invalidArgType } = require('../shared/errors')
const { toBytes } = require('../shared/validate')
const { call } = require('../cpu/run')

const BINARY = 'an instance of Buffer, TypedArray, DataView or ArrayBuffer'

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
    if (typeof input === 'string') throw invalidArgType('input', BINARY, input)
    const bytes = toBytes(input, 'input')
    return [bytes, (h, slot, p, c) => binding.submitImageInfo(h, slot, bytes, p, c)]
  }).then(named)
}

module.exports = { imageInfo }
