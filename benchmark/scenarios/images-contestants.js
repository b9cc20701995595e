'use strict'
// How each contestant of the images scenario runs each task, written once so that the timed
// helper processes (workers/images.js) and the untimed quality check in the scenario make the
// same call. Each is used as its docs show:
// - offload: transformImage(input, { resize, format, quality: 80, pool }) on a pool of its own;
// - sharp: sharp(input).resize(w, h, { kernel: 'lanczos3' }).jpeg|webp({ quality: 80 }), defaults
//   otherwise (libuv's threadpool, its cache, shrink-on-load);
// - jimp: Jimp.read(buffer), .resize({ w, h }) with its default resampler (jimp has no Lanczos3),
//   getBuffer('image/jpeg', { quality: 80 }); pure JS on the event loop. jimp 1.6 has no WebP
//   encoder without the separate @jimp/wasm-webp plugin, so it sits out task (c).

const { TASKS } = require('../photo')

const KINDS = ['offload', 'sharp', 'jimp']

// Why a contestant sits a task out, or null when it runs it.
function unsupported (kind, key) {
  if (kind === 'jimp' && TASKS[key].format === 'webp') return 'jimp 1.6 has no WebP encoder (the separate @jimp/wasm-webp plugin is not a dependency)'
  return null
}

// () => Promise<Buffer>: one run of task `key` on `input`. `pool` is offload's Pool; `quality`
// other than the tasks' 80 is for the quality-per-byte curve only.
function transformer (kind, key, input, { pool, quality = 80 } = {}) {
  const t = TASKS[key]
  if (unsupported(kind, key)) throw new Error(`${kind} cannot run task ${key}: ${unsupported(kind, key)}`)
  if (kind === 'offload') {
    const { transformImage } = require('../..')
    const options = { resize: { width: t.width, height: t.height, kernel: 'lanczos3' }, format: t.format, quality, pool }
    return () => transformImage(input, options)
  }
  if (kind === 'sharp') {
    const sharp = require('sharp')
    return () => sharp(input).resize(t.width, t.height, { kernel: 'lanczos3' })[t.format]({ quality }).toBuffer()
  }
  if (kind === 'jimp') {
    const { Jimp } = require('jimp')
    const size = t.height ? { w: t.width, h: t.height } : { w: t.width }
    return async () => {
      const image = await Jimp.read(input)
      image.resize(size)
      return image.getBuffer('image/jpeg', { quality })
    }
  }
  throw new Error(`unknown image contestant ${kind}`)
}

// Throws unless `out` starts with the task's output format's signature: a cheap check that
// loads no decoder into the measured process (the scenario decodes every contestant's output
// with sharp at setup and checks its size and quality there).
function checkSignature (key, out, who) {
  const format = TASKS[key].format
  const ok = format === 'jpeg'
    ? out.length > 3 && out[0] === 0xff && out[1] === 0xd8 && out[2] === 0xff
    : out.length > 12 && out.toString('latin1', 0, 4) === 'RIFF' && out.toString('latin1', 8, 12) === 'WEBP'
  if (!ok) throw new Error(`${who} did not make a ${format} for task ${key} (${out.length} bytes, starting ${out.subarray(0, 12).toString('hex')})`)
}

module.exports = { KINDS, unsupported, transformer, checkSignature }
