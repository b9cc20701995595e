'use strict'
// The image scenario's input: a deterministic photo-like 2725 x 2225 JPEG (sharp's benchmark
// size), quality 90 4:2:0, written by sharp from pixels made here — gradients, waves and seeded
// noise, so it is neither flat nor pure noise. Same bytes in every process.
const sharp = require('sharp')
const { prng } = require('./prng')

const WIDTH = 2725
const HEIGHT = 2225

async function photoJpeg () {
  const rand = prng(0x1a9e)
  const px = Buffer.alloc(WIDTH * HEIGHT * 3)
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3
      const n = rand() * 24
      px[i] = (x * 255 / WIDTH + 40 * Math.sin(y / 17) + n) & 255
      px[i + 1] = (y * 255 / HEIGHT + 40 * Math.cos(x / 23) + n) & 255
      px[i + 2] = (((x + y) * 128) / (WIDTH + HEIGHT) + 60 * Math.sin((x * y) / 5000) + n) & 255
    }
  }
  return sharp(px, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()
}

// The two tasks: (a) sharp's own benchmark, (b) thumbnails 320 px wide.
const TASKS = {
  a: { label: '2725x2225 JPEG to 720x588, Lanczos3, JPEG q80', width: 720, height: 588 },
  b: { label: '2725x2225 JPEG to a 320-px-wide thumbnail, JPEG q80', width: 320, height: undefined }
}

module.exports = { photoJpeg, TASKS, WIDTH, HEIGHT }
