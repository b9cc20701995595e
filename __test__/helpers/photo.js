'use strict'
// A deterministic photo-like image for the image tests: gradients, waves and seeded noise, so it
// neither compresses to nothing nor is pure noise (with channels 4, alpha ramps left to right).
const sharp = require('sharp')

function photo(w, h, channels = 3) {
  const px = Buffer.alloc(w * h * channels)
  let seed = 12345
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 31
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * channels
      px[i] = (x * 255 / w + 40 * Math.sin(y / 17) + rnd()) & 255
      px[i + 1] = (y * 255 / h + 40 * Math.cos(x / 23) + rnd()) & 255
      px[i + 2] = ((x + y) * 128 / (w + h) + 60 * Math.sin((x * y) / 5000) + rnd()) & 255
      if (channels === 4) px[i + 3] = (x * 255 / w) & 255
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels } })
}

module.exports = { photo }
