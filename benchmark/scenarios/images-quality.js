'use strict'
// Quality of the images scenario's outputs, measured once at setup (never timed): PSNR in dB of
// each contestant's output against a reference, both decoded to raw pixels by sharp.
// The reference is sharp's Lanczos3 resize of the whole decoded input to the same size, kept raw
// (no lossy encode, no shrink-on-load), so it is the best resize sharp can make; a contestant
// scores by how little its shortcuts, resampler and encoder lose from it.
// With alpha (task c) the comparison is on premultiplied RGBA: colour under a transparent pixel
// is invisible, and libwebp is free to change it, so it must not count; alpha itself does.
// Quality per byte: sharp's (bytes, dB) at several qualities make a curve, and a contestant is
// compared with sharp's dB interpolated at its own byte count, so a few bytes more or less at
// quality 80 is not mistaken for better or worse compression.
// Also checks each output's format and size, so a wrong output fails the run before timing.

const sharp = require('sharp')
const { TASKS } = require('../photo')
const { transformer } = require('./images-contestants')

async function reference (key, input) {
  const t = TASKS[key]
  // The whole image decoded first: sharp's `fastShrinkOnLoad: false` still decodes a JPEG at 1/4
  // for an 8.5x reduction, which would make sharp's own shortcut the reference.
  const full = await sharp(input).raw().toBuffer({ resolveWithObject: true })
  let p = sharp(full.data, { raw: full.info }).resize(t.width, t.height, { kernel: 'lanczos3' })
  if (t.format === 'webp') p = p.ensureAlpha()
  return p.raw().toBuffer({ resolveWithObject: true })
}

// Premultiplies RGBA in a copy; the alpha channel stays as it is.
function premultiply (px) {
  const out = Buffer.from(px)
  for (let i = 0; i < out.length; i += 4) {
    const a = out[i + 3]
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((out[i + c] * a) / 255)
  }
  return out
}

function psnr (a, b) {
  if (a.length !== b.length) throw new Error(`PSNR of ${a.length} against ${b.length} samples`)
  let se = 0
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length))
}

// { bytes, width, height, psnr } of one output against `ref` (from reference()); throws when
// the output is not the task's format and size.
async function score (key, out, ref, who) {
  const t = TASKS[key]
  const meta = await sharp(out).metadata()
  const { width, height } = ref.info
  if (meta.format !== t.format || meta.width !== width || meta.height !== height) {
    throw new Error(`${who} made ${meta.format} ${meta.width}x${meta.height} for task ${key}, expected ${t.format} ${width}x${height}`)
  }
  if (t.format === 'webp' && !meta.hasAlpha) throw new Error(`${who} dropped the alpha channel in task ${key}`)
  let p = sharp(out)
  if (ref.info.channels === 4) p = p.ensureAlpha()
  const got = await p.raw().toBuffer()
  const db = ref.info.channels === 4 ? psnr(premultiply(got), premultiply(ref.data)) : psnr(got, ref.data)
  return { bytes: out.length, width, height, psnr: db }
}

const CURVE_QUALITIES = [60, 70, 75, 80, 85, 90, 95]

// sharp's [{ quality, bytes, psnr }] for task `key`, in increasing bytes.
async function sharpCurve (key, input, ref) {
  const points = []
  for (const quality of CURVE_QUALITIES) {
    points.push({ quality, ...await score(key, await transformer('sharp', key, input, { quality })(), ref, `sharp q${quality}`) })
  }
  return points.sort((a, b) => a.bytes - b.bytes)
}

// sharp's dB at `bytes`, linear between the two curve points around it (in log bytes, where
// PSNR is close to linear); null outside the curve.
function sharpAt (curve, bytes) {
  for (let i = 1; i < curve.length; i++) {
    const [lo, hi] = [curve[i - 1], curve[i]]
    if (bytes < lo.bytes || bytes > hi.bytes) continue
    const f = hi.bytes === lo.bytes ? 0 : Math.log(bytes / lo.bytes) / Math.log(hi.bytes / lo.bytes)
    return { psnr: lo.psnr + f * (hi.psnr - lo.psnr), between: [lo.quality, hi.quality] }
  }
  return null
}

module.exports = { reference, score, psnr, premultiply, sharpCurve, sharpAt }
