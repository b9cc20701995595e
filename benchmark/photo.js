'use strict'
// The image scenario's inputs and tasks, made from pixels computed here (gradients, waves and
// seeded noise, so neither flat nor pure noise) and encoded by sharp: same bytes in every run.
// - photoJpeg(): a 2725 x 2225 JPEG (sharp's benchmark size), quality 90, 4:2:0.
// - photoPng(): a 1024 x 768 RGBA PNG, the same kind of pixels under a soft-edged elliptical
//   alpha mask (opaque middle, a feathered band of partial alpha, transparent corners), as a
//   cut-out product shot or a logo on a transparent background is.
// Each is made once per process and kept (the scenario writes them to files for its helpers).
const sharp = require('sharp')
const { prng } = require('./prng')

const WIDTH = 2725
const HEIGHT = 2225
const PNG_WIDTH = 1024
const PNG_HEIGHT = 768

function pixels (width, height, channels, seed) {
  const rand = prng(seed)
  const px = Buffer.alloc(width * height * channels)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels
      const n = rand() * 24
      px[i] = (x * 255 / width + 40 * Math.sin(y / 17) + n) & 255
      px[i + 1] = (y * 255 / height + 40 * Math.cos(x / 23) + n) & 255
      px[i + 2] = (((x + y) * 128) / (width + height) + 60 * Math.sin((x * y) / 5000) + n) & 255
      if (channels === 4) {
        // Normalised distance from the centre: opaque inside 0.8, transparent beyond 1.0.
        const d = Math.hypot((x - width / 2) / (width / 2), (y - height / 2) / (height / 2))
        px[i + 3] = Math.round(255 * Math.min(1, Math.max(0, (1 - d) / 0.2)))
      }
    }
  }
  return px
}

let jpeg = null
function photoJpeg () {
  jpeg ??= sharp(pixels(WIDTH, HEIGHT, 3, 0x1a9e), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()
  return jpeg
}

let png = null
function photoPng () {
  png ??= sharp(pixels(PNG_WIDTH, PNG_HEIGHT, 4, 0x7a3c), { raw: { width: PNG_WIDTH, height: PNG_HEIGHT, channels: 4 } }).png().toBuffer()
  return png
}

// The three tasks of issue 15. `height` undefined keeps the aspect ratio.
// (c) resizes as well as converting: a PNG cut-out is usually turned into a smaller WebP for a
// page, and 512 px wide is a common product-card size.
const TASKS = {
  a: { label: '2725x2225 JPEG to 720x588, Lanczos3, JPEG q80', input: 'jpeg', width: 720, height: 588, format: 'jpeg' },
  b: { label: '2725x2225 JPEG to a 320-px-wide thumbnail, JPEG q80', input: 'jpeg', width: 320, height: undefined, format: 'jpeg' },
  c: { label: '1024x768 RGBA PNG to 512 px wide, lossy WebP q80 (alpha kept)', input: 'png', width: 512, height: undefined, format: 'webp' }
}

const INPUTS = { jpeg: photoJpeg, png: photoPng }

module.exports = { photoJpeg, photoPng, INPUTS, TASKS, WIDTH, HEIGHT, PNG_WIDTH, PNG_HEIGHT }
