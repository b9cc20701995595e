'use strict'
// imageInfo: headers read on the pool, checked against sharp's metadata() (libvips) as the
// oracle, for every format, all 8 EXIF orientations, alpha, grey, CMYK, progressive and ICC;
// dimension bombs are read without decoding; garbage and truncated headers get their codes.
const test = require('node:test')
const assert = require('node:assert/strict')
const sharp = require('sharp')
const { imageInfo } = require('..')

const rgb = (w, h) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 80, b: 20 } } })
const rgba = (w, h) => sharp({ create: { width: w, height: h, channels: 4, background: { r: 0, g: 90, b: 200, alpha: 0.5 } } })

// What sharp says, in imageInfo's terms.
async function oracle(buf) {
  const m = await sharp(buf).metadata()
  return {
    format: m.format,
    width: m.width,
    height: m.height,
    orientation: m.orientation ?? 1,
    hasAlpha: m.hasAlpha,
    channels: m.channels,
    space: m.space,
    isProgressive: m.isProgressive,
    hasProfile: m.hasProfile,
  }
}

async function agrees(buf, label) {
  const got = await imageInfo(buf)
  const want = await oracle(buf)
  for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `${label}: ${k}`)
  return got
}

test('JPEG, PNG, WebP and GIF agree with sharp, with and without alpha', async () => {
  const cases = [
    ['jpeg', await rgb(2725, 2225).jpeg({ quality: 80 }).toBuffer()],
    ['progressive jpeg', await rgb(64, 48).jpeg({ progressive: true }).toBuffer()],
    ['grey jpeg', await rgb(30, 20).greyscale().jpeg().toBuffer()],
    ['png', await rgb(33, 17).png().toBuffer()],
    ['png with alpha', await rgba(33, 17).png().toBuffer()],
    ['interlaced png', await rgba(40, 40).png({ progressive: true }).toBuffer()],
    ['grey png', await rgb(9, 9).greyscale().png().toBuffer()],
    ['palette png', await rgb(12, 12).png({ palette: true }).toBuffer()],
    ['lossy webp', await rgb(720, 588).webp({ quality: 80 }).toBuffer()],
    ['lossless webp with alpha', await rgba(101, 51).webp({ lossless: true }).toBuffer()],
    ['lossy webp with alpha', await rgba(64, 32).webp().toBuffer()],
    ['gif', await rgb(50, 25).gif().toBuffer()],
  ]
  for (const [label, buf] of cases) await agrees(buf, label)
  const info = await imageInfo(cases[0][1])
  assert.deepEqual(info, {
    format: 'jpeg', width: 2725, height: 2225, orientation: 1, hasAlpha: false, channels: 3,
    space: 'srgb', bitsPerSample: 8, isProgressive: false, hasProfile: false, hasExif: false,
  })
})

test('all 8 EXIF orientations, in JPEG, PNG and WebP', async () => {
  for (const format of ['jpeg', 'png', 'webp']) {
    for (let orientation = 1; orientation <= 8; orientation++) {
      const buf = await rgb(40, 20).withMetadata({ orientation }).toFormat(format).toBuffer()
      const got = await agrees(buf, `${format} orientation ${orientation}`)
      assert.equal(got.orientation, orientation)
      assert.equal(got.hasExif, true)
    }
  }
})

test('CMYK and an ICC profile are reported', async () => {
  const cmyk = await rgb(16, 16).toColourspace('cmyk').jpeg().toBuffer()
  const got = await agrees(cmyk, 'cmyk jpeg')
  assert.equal(got.channels, 4)
  const icc = await rgb(16, 16).withMetadata({ icc: 'p3' }).jpeg().toBuffer()
  assert.equal((await agrees(icc, 'jpeg with icc')).hasProfile, true)
})

test('a dimension bomb is read from its headers, without decoding', async () => {
  // A valid 1×1 PNG whose IHDR claims 100 000 × 100 000 (40 GB of RGBA): only headers are read.
  const png = await rgba(1, 1).png().toBuffer()
  png.writeUInt32BE(100_000, 16)
  png.writeUInt32BE(100_000, 20)
  const got = await imageInfo(png)
  assert.deepEqual([got.width, got.height, got.format], [100_000, 100_000, 'png'])
})

test('unknown formats, corrupt and truncated headers, and bad arguments get their codes', async () => {
  const code = async (p) => (await p.then(() => assert.fail('resolved'), (e) => e)).code
  assert.equal(await code(imageInfo(Buffer.from('not an image at all'))), 'ERR_OFFLOAD_UNSUPPORTED_FORMAT')
  assert.equal(await code(imageInfo(Buffer.alloc(0))), 'ERR_OFFLOAD_UNSUPPORTED_FORMAT')
  const jpeg = await rgb(8, 8).jpeg().toBuffer()
  assert.equal(await code(imageInfo(jpeg.subarray(0, 12))), 'ERR_OFFLOAD_CORRUPT_INPUT')
  const png = await rgb(8, 8).png().toBuffer()
  assert.equal(await code(imageInfo(png.subarray(0, 20))), 'ERR_OFFLOAD_CORRUPT_INPUT')
  // Every prefix of every format settles with a value or one of the two codes.
  for (const buf of [jpeg, png, await rgba(8, 8).webp().toBuffer(), await rgb(8, 8).gif().toBuffer()]) {
    for (let cut = 0; cut < Math.min(buf.length, 400); cut++) {
      const r = await imageInfo(buf.subarray(0, cut)).then((i) => i.format, (e) => e.code)
      assert.ok(['jpeg', 'png', 'webp', 'gif', 'ERR_OFFLOAD_UNSUPPORTED_FORMAT', 'ERR_OFFLOAD_CORRUPT_INPUT'].includes(r), `${cut}: ${r}`)
    }
  }
  assert.equal(await code(imageInfo('a string')), 'ERR_INVALID_ARG_TYPE')
  assert.equal(await code(imageInfo(42)), 'ERR_INVALID_ARG_TYPE')
  assert.equal(await code(imageInfo(jpeg, { timeout: -1 })), 'ERR_OUT_OF_RANGE')
  // The ArrayBuffer and typed-array forms read the same bytes.
  const ab = jpeg.buffer.slice(jpeg.byteOffset, jpeg.byteOffset + jpeg.length)
  assert.equal((await imageInfo(ab)).width, 8)
  assert.equal((await imageInfo(new Uint8Array(ab))).width, 8)
})
