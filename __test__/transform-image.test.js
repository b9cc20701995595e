'use strict'
// transformImage: one pipeline on the pool, checked against sharp (libvips) as the oracle:
// sizes for every fit, exact pixels for all 8 EXIF orientations and for lossless round trips,
// PSNR of a Lanczos3 resize against sharp's, alpha kept, metadata stripped, the pixel limit
// before decoding, bad options with Node's codes, abort and timeout, and a bounded fuzz.
const test = require('node:test')
const assert = require('node:assert/strict')
const sharp = require('sharp')
const { transformImage, imageInfo } = require('..')

const code = async (p) => (await p.then(() => assert.fail('resolved'), (e) => e)).code

const { photo } = require('./helpers/photo')

const raw = async (buf) => sharp(buf).raw().toBuffer({ resolveWithObject: true })

function psnr(a, b) {
  assert.equal(a.length, b.length)
  let se = 0
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2
  return 10 * Math.log10((255 * 255) / (se / a.length))
}

test('sharp\'s benchmark task: 2725x2225 JPEG to 720x588 Lanczos3 q80, as close to sharp\'s resize as sharp\'s own JPEG is', async () => {
  const src = await photo(2725, 2225).jpeg({ quality: 90 }).toBuffer()
  const { data, info } = await transformImage(src, { resize: { width: 720, height: 588, kernel: 'lanczos3' }, quality: 80, info: true })
  assert.deepEqual(info, { format: 'jpeg', width: 720, height: 588, channels: 3, size: data.length })
  // Reference: sharp's Lanczos3 resize kept lossless; both JPEGs measured against it.
  const ref = await sharp(src).resize(720, 588, { kernel: 'lanczos3', fastShrinkOnLoad: false }).raw().toBuffer()
  const ours = await raw(data)
  const theirs = await raw(await sharp(src).resize(720, 588).jpeg({ quality: 80 }).toBuffer())
  const mine = psnr(ours.data, ref)
  const sharps = psnr(theirs.data, ref)
  // Quality per byte at least sharp's: no worse PSNR (0.25 dB of slack) in no more bytes (+5%).
  // (This noisy image measured 23.25 dB in 105,987 B against sharp's 23.06 dB in 106,506 B.)
  const theirBytes = (await sharp(src).resize(720, 588).jpeg({ quality: 80 }).toBuffer()).length
  assert.ok(mine > sharps - 0.25, `PSNR ${mine.toFixed(2)} dB against sharp's ${sharps.toFixed(2)} dB`)
  assert.ok(data.length < theirBytes * 1.05, `${data.length} bytes against sharp's ${theirBytes}`)
})

test('a 320-px thumbnail shrinks in the DCT domain and stays as close to a full-decode resize as sharp\'s', async () => {
  const src = await photo(2725, 2225).jpeg({ quality: 90 }).toBuffer()
  const { data, info } = await transformImage(src, { resize: { width: 320 }, info: true })
  const theirs = await sharp(src).resize(320).jpeg({ quality: 80 }).toBuffer()
  assert.deepEqual([info.width, info.height], [320, 261])
  // Reference: the whole image decoded, then sharp's Lanczos3 on those pixels (no shrink-on-load).
  const full = await raw(src)
  const ref = await sharp(full.data, { raw: full.info }).resize(320).raw().toBuffer()
  const [mine, sharps] = [psnr((await raw(data)).data, ref), psnr((await raw(theirs)).data, ref)]
  // Measured 23.98 dB in 21,186 B (decoded at 4/8) against sharp's 24.02 dB in 20,982 B;
  // decoding at 2/8 gave 23.55 dB.
  assert.ok(mine > sharps - 0.25, `PSNR ${mine.toFixed(2)} dB against sharp's ${sharps.toFixed(2)} dB`)
  assert.ok(data.length < theirs.length * 1.05, `${data.length} bytes against sharp's ${theirs.length}`)
})

test('a truncated JPEG is corrupt input, as sharp says by default, not a half-grey picture', async () => {
  const src = await photo(256, 256).jpeg().toBuffer()
  const cut = src.subarray(0, Math.floor(src.length * 0.6))
  await assert.rejects(sharp(cut).toBuffer())
  assert.equal(await code(transformImage(cut, { resize: { width: 64 } })), 'ERR_OFFLOAD_CORRUPT_INPUT')
  assert.equal(await code(transformImage(cut)), 'ERR_OFFLOAD_CORRUPT_INPUT')
})

test('every fit gives sharp\'s size, with and without enlargement', async () => {
  const src = await photo(400, 200).png().toBuffer()
  for (const fit of ['cover', 'contain', 'fill', 'inside', 'outside']) {
    for (const [width, height] of [[100, 100], [300, 50], [1000, 1000], [50, undefined], [undefined, 75]]) {
      for (const withoutEnlargement of [false, true]) {
        const o = { width, height, fit, withoutEnlargement }
        const { info } = await transformImage(src, { resize: o, info: true })
        const want = await sharp(src).resize(o).raw().toBuffer({ resolveWithObject: true })
        assert.deepEqual([info.width, info.height], [want.info.width, want.info.height], JSON.stringify(o))
      }
    }
  }
})

test('all 8 EXIF orientations are turned upright exactly as sharp\'s rotate() does', async () => {
  // An asymmetric image: no two orientations look alike.
  const base = photo(6, 4)
  for (let orientation = 1; orientation <= 8; orientation++) {
    const src = await base.clone().withMetadata({ orientation }).png().toBuffer()
    const ours = await raw(await transformImage(src))
    const want = await sharp(src).rotate().raw().toBuffer({ resolveWithObject: true })
    assert.deepEqual([ours.info.width, ours.info.height], [want.info.width, want.info.height], `orientation ${orientation}`)
    assert.ok(ours.data.equals(want.data), `orientation ${orientation}: pixels`)
  }
  // rotate, flip and flop as sharp applies them (EXIF ignored with an explicit angle).
  const src = await base.clone().png().toBuffer()
  for (const o of [{ rotate: 90 }, { rotate: 180 }, { rotate: 270 }, { flip: true }, { flop: true }, { rotate: 90, flip: true }]) {
    const ours = await raw(await transformImage(src, o))
    let s = sharp(src)
    if (o.rotate) s = s.rotate(o.rotate)
    if (o.flip) s = s.flip()
    if (o.flop) s = s.flop()
    const want = await s.raw().toBuffer()
    assert.ok(ours.data.equals(want), JSON.stringify(o))
  }
})

test('lossless round trips keep every pixel and the alpha; JPEG output flattens alpha', async () => {
  const rgba = await photo(64, 48, 4).png().toBuffer()
  const want = await raw(rgba)
  for (const format of ['png', 'webp']) {
    const out = await transformImage(rgba, { format, lossless: true })
    assert.equal((await imageInfo(out)).format, format)
    const got = await raw(out)
    assert.equal(got.info.channels, 4, `${format} keeps alpha`)
    assert.ok(got.data.equals(want.data), `${format}: pixels`)
  }
  // Lossy WebP (libwebp): alpha kept, as close to the source as sharp's (libwebp too) in about
  // as many bytes, and far smaller than lossless.
  const big = await photo(320, 240, 4).png().toBuffer()
  const lossy = await transformImage(big, { format: 'webp', quality: 80, info: true })
  const lossless = await transformImage(big, { format: 'webp', lossless: true })
  assert.deepEqual([lossy.info.format, lossy.info.channels], ['webp', 4])
  const back = await raw(lossy.data)
  assert.equal(back.info.channels, 4)
  const source = (await raw(big)).data
  const theirs = await sharp(big).webp({ quality: 80 }).toBuffer()
  const [mine, sharps] = [psnr(back.data, source), psnr((await raw(theirs)).data, source)]
  assert.ok(mine > sharps - 0.5, `lossy WebP PSNR ${mine.toFixed(2)} dB, sharp's ${sharps.toFixed(2)} dB`)
  assert.ok(lossy.data.length < theirs.length * 1.1, `${lossy.data.length} bytes, sharp's ${theirs.length}`)
  assert.ok(lossy.data.length < lossless.length / 2, `${lossy.data.length} bytes lossy, ${lossless.length} lossless`)
  const gif = await photo(30, 20).gif().toBuffer()
  const fromGif = await transformImage(gif)
  assert.equal((await imageInfo(fromGif)).format, 'png')
  const jpeg = await transformImage(rgba, { format: 'jpeg', info: true })
  assert.equal(jpeg.info.channels, 3)
  assert.equal((await imageInfo(jpeg.data)).hasAlpha, false)
})

test('metadata is stripped: EXIF (GPS included) and ICC do not reach the output', async () => {
  const src = await photo(40, 30).withMetadata({ orientation: 6, icc: 'p3', exif: { IFD3: { GPSLatitudeRef: 'N' } } }).jpeg().toBuffer()
  const before = await imageInfo(src)
  assert.equal(before.hasExif && before.hasProfile, true)
  const out = await transformImage(src, { resize: { width: 20 } })
  const m = await sharp(out).metadata()
  assert.equal(m.exif, undefined)
  assert.equal(m.icc, undefined)
  const after = await imageInfo(out)
  assert.deepEqual([after.width, after.height, after.orientation], [20, 27, 1], 'turned upright, then 20 px wide')
})

test('the pixel limit refuses a dimension bomb before decoding; bad options get Node\'s codes', async () => {
  const png = await photo(1, 1).png().toBuffer()
  png.writeUInt32BE(100_000, 16)
  png.writeUInt32BE(100_000, 20)
  assert.equal(await code(transformImage(png)), 'ERR_OFFLOAD_IMAGE_TOO_LARGE')
  const small = await photo(50, 50).png().toBuffer()
  assert.equal(await code(transformImage(small, { maxPixels: 2499 })), 'ERR_OFFLOAD_IMAGE_TOO_LARGE')
  assert.equal((await imageInfo(await transformImage(small, { maxPixels: 2500 }))).width, 50)
  const cases = [
    [{ resize: { width: 0 } }, 'ERR_OUT_OF_RANGE', /options\.resize\.width/],
    [{ resize: { width: 1.5 } }, 'ERR_OUT_OF_RANGE', /options\.resize\.width/],
    [{ resize: { width: 10, fit: 'squash' } }, 'ERR_INVALID_ARG_VALUE', /fit/],
    [{ resize: { width: 10, position: 'middle' } }, 'ERR_INVALID_ARG_VALUE', /position/],
    [{ resize: { width: 10, kernel: 'box' } }, 'ERR_INVALID_ARG_VALUE', /kernel/],
    [{ resize: { width: 10, background: '#12345' } }, 'ERR_INVALID_ARG_VALUE', /background/],
    [{ resize: { width: 10, background: { r: 300 } } }, 'ERR_OUT_OF_RANGE', /background\.r/],
    [{ rotate: 45 }, 'ERR_OUT_OF_RANGE', /rotate/],
    [{ rotate: 'sideways' }, 'ERR_INVALID_ARG_VALUE', /rotate/],
    [{ quality: 101 }, 'ERR_OUT_OF_RANGE', /quality/],
    [{ effort: -1 }, 'ERR_OUT_OF_RANGE', /effort/],
    [{ format: 'tiff' }, 'ERR_INVALID_ARG_VALUE', /format/],
    [{ maxPixels: 0 }, 'ERR_OUT_OF_RANGE', /maxPixels/],
    [{ extract: { left: 40, top: 0, width: 20, height: 10 } }, 'ERR_INVALID_ARG_VALUE', /outside/],
    [{ keepMetadata: 'yes' }, 'ERR_INVALID_ARG_TYPE', /keepMetadata/],
    [{ info: 'yes' }, 'ERR_INVALID_ARG_TYPE', /options\.info/],
    [{ resize: 5 }, 'ERR_INVALID_ARG_TYPE', /options\.resize/],
  ]
  for (const [o, c, what] of cases) {
    const err = await transformImage(small, o).then(() => assert.fail(JSON.stringify(o)), (e) => e)
    assert.equal(err.code, c, `${JSON.stringify(o)}: ${err.message}`)
    assert.match(err.message, what, JSON.stringify(o))
  }
  assert.equal(await code(transformImage('x.jpg')), 'ERR_INVALID_ARG_TYPE')
  assert.equal(await code(transformImage(Buffer.from('plain text'))), 'ERR_OFFLOAD_UNSUPPORTED_FORMAT')
})

test('extract cuts a region of the upright image, as sharp does', async () => {
  const src = await photo(60, 40).withMetadata({ orientation: 6 }).png().toBuffer()
  const region = { left: 5, top: 10, width: 20, height: 15 }
  const ours = await raw(await transformImage(src, { extract: region }))
  const want = await sharp(src).rotate().extract(region).raw().toBuffer()
  assert.ok(ours.data.equals(want))
})

test('abort and timeout end a transform; every mutated file settles without a crash', async () => {
  const src = await photo(2725, 2225).jpeg({ quality: 90 }).toBuffer()
  const ac = new AbortController()
  ac.abort(new Error('user left'))
  const err = await transformImage(src, { signal: ac.signal }).then(() => assert.fail('resolved'), (e) => e)
  assert.equal(err.name, 'AbortError')
  assert.equal(err.cause.message, 'user left')
  assert.equal(await code(transformImage(src, { resize: { width: 100 }, timeout: 1 })), 'ERR_OFFLOAD_TIMEOUT')
  // A bounded fuzz: bytes of small files of each format overwritten at seeded places.
  const seeds = [
    await photo(32, 24).jpeg().toBuffer(),
    await photo(32, 24, 4).png().toBuffer(),
    await photo(32, 24, 4).webp().toBuffer(),
    await photo(32, 24).gif().toBuffer(),
  ]
  let s = 7
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8)
  const allowed = new Set(['ERR_OFFLOAD_CORRUPT_INPUT', 'ERR_OFFLOAD_UNSUPPORTED_FORMAT', 'ERR_OFFLOAD_IMAGE_TOO_LARGE', 'ERR_INVALID_ARG_VALUE'])
  for (const seed of seeds) {
    for (let round = 0; round < 150; round++) {
      const m = Buffer.from(seed)
      for (let k = 0; k < 1 + (round % 4); k++) m[next() % m.length] = next() & 255
      const r = await transformImage(m, { resize: { width: 16 }, maxPixels: 1 << 20 }).then(() => 'ok', (e) => e.code)
      assert.ok(r === 'ok' || allowed.has(r), `unexpected ${r}`)
    }
  }
})
