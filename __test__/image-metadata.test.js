'use strict'
// transformImage's metadata and colour, with sharp (libvips, lcms) as the oracle: EXIF and ICC
// stripped by default and kept with keepMetadata (orientation reset to 1 once applied, as
// sharp's rotate().keepMetadata() does), from and to JPEG, PNG and WebP; an embedded Display P3
// or Adobe RGB profile converted to sRGB as sharp converts it; CMYK JPEGs against sharp's
// conversion.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const sharp = require('sharp')
const { transformImage, imageInfo } = require('..')

const FORMATS = ['jpeg', 'png', 'webp']

const { photo } = require('./helpers/photo')

function meanDiff(a, b) {
  assert.equal(a.length, b.length)
  let s = 0
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i])
  return s / a.length
}

// A version 2 matrix/TRC display profile: Adobe RGB (1998), its colorants adapted to D50 and its
// gamma 563/256, as Adobe publishes them. `curvePoints` > 1 samples the curve into a table (a
// profile large enough to need several JPEG APP2 segments).
function adobeRgb(curvePoints = 1) {
  const s15 = (v) => { const b = Buffer.alloc(4); b.writeInt32BE(Math.round(v * 65536)); return b }
  const xyz = (x, y, z) => Buffer.concat([Buffer.from('XYZ \0\0\0\0'), s15(x), s15(y), s15(z)])
  const desc = Buffer.alloc(12 + 15 + 8 + 3 + 67)
  desc.write('desc')
  desc.writeUInt32BE(15, 8)
  desc.write('Adobe RGB test', 12)
  const curv = Buffer.alloc(12 + 2 * curvePoints)
  curv.write('curv')
  curv.writeUInt32BE(curvePoints, 8)
  if (curvePoints === 1) curv.writeUInt16BE(563, 12)
  else for (let i = 0; i < curvePoints; i++) curv.writeUInt16BE(Math.round(65535 * (i / (curvePoints - 1)) ** (563 / 256)), 12 + 2 * i)
  const tags = [['desc', desc], ['cprt', Buffer.from('text\0\0\0\0none\0')], ['wtpt', xyz(0.9642, 1, 0.8249)],
    ['rXYZ', xyz(0.60974, 0.31111, 0.01947)], ['gXYZ', xyz(0.20528, 0.62567, 0.06087)], ['bXYZ', xyz(0.14919, 0.06322, 0.74457)],
    ['rTRC', curv], ['gTRC', curv], ['bTRC', curv]]
  let offset = 128 + 4 + 12 * tags.length
  const table = Buffer.alloc(4 + 12 * tags.length)
  table.writeUInt32BE(tags.length)
  const bodies = []
  tags.forEach(([sig, body], i) => {
    while (offset % 4) { bodies.push(Buffer.alloc(1)); offset++ }
    table.write(sig, 4 + 12 * i)
    table.writeUInt32BE(offset, 8 + 12 * i)
    table.writeUInt32BE(body.length, 12 + 12 * i)
    bodies.push(body)
    offset += body.length
  })
  const header = Buffer.alloc(128)
  header.writeUInt32BE(offset, 0)
  header.writeUInt32BE(0x02100000, 8)
  header.write('mntrRGB XYZ ', 12)
  header.write('acsp', 36)
  Buffer.concat([s15(0.9642), s15(1), s15(0.8249)]).copy(header, 68)
  return Buffer.concat([header, table, ...bodies])
}

// sharp takes a profile by file name.
function profileFile(t, name, bytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-icc-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, name)
  fs.writeFileSync(file, bytes)
  return file
}

// EXIF as a TIFF block: PNG and our WebP carry it bare, JPEG (and libvips's WebP) after `Exif\0\0`.
const tiff = (exif) => exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif

// An input with a GPS position, a copyright, orientation 6 and a Display P3 profile, in `format`.
const tagged = (format) => photo(40, 30)
  .withMetadata({ orientation: 6 })
  .withExif({ IFD0: { Copyright: 'offload tests' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 3230/100' } })
  .withIccProfile('p3')
  .toFormat(format)
  .toBuffer()

test('metadata is stripped by default: no EXIF (GPS included) and no ICC profile, from and to every format', async () => {
  for (const from of FORMATS) {
    const src = await tagged(from)
    const m = await sharp(src).metadata()
    assert.ok(m.exif && m.icc && m.orientation === 6, `${from} input carries EXIF, ICC and orientation 6`)
    for (const format of FORMATS) {
      const out = await transformImage(src, { format })
      const o = await sharp(out).metadata()
      assert.deepEqual([o.exif, o.icc, o.orientation], [undefined, undefined, undefined], `${from} to ${format}`)
      const info = await imageInfo(out)
      assert.deepEqual([info.hasExif, info.hasProfile, info.width, info.height], [false, false, 30, 40], `${from} to ${format}`)
    }
  }
})

test('keepMetadata keeps EXIF and the ICC profile from and to every format; orientation is reset to 1 once applied, as sharp does', async () => {
  for (const from of FORMATS) {
    const src = await tagged(from)
    const m = await sharp(src).metadata()
    for (const format of FORMATS) {
      const label = `${from} to ${format}`
      const out = await transformImage(src, { keepMetadata: true, format })
      const theirs = await sharp(await sharp(src).rotate().keepMetadata().toFormat(format).toBuffer()).metadata()
      const o = await sharp(out).metadata()
      assert.deepEqual([o.width, o.height, o.orientation], [theirs.width, theirs.height, theirs.orientation], label)
      assert.equal(o.orientation, 1, label)
      assert.ok(o.icc && o.icc.equals(m.icc), `${label}: the profile, byte for byte`)
      assert.ok(o.icc.equals(theirs.icc), `${label}: sharp keeps the same profile`)
      // The EXIF block as it came, but for the orientation's value: one byte.
      const [a, b] = [tiff(m.exif), tiff(o.exif)]
      assert.equal(b.length, a.length, label)
      const changed = [...a.keys()].filter((i) => a[i] !== b[i])
      assert.equal(changed.length, 1, `${label}: bytes changed ${changed}`)
      assert.deepEqual([a[changed[0]], b[changed[0]]], [6, 1], label)
    }
  }
  // An explicit angle ignores EXIF's orientation, and so leaves it in the kept block (sharp too).
  const src = await tagged('jpeg')
  const out = await sharp(await transformImage(src, { keepMetadata: true, rotate: 90 })).metadata()
  const theirs = await sharp(await sharp(src).rotate(90).keepMetadata().toBuffer()).metadata()
  assert.deepEqual([out.orientation, out.width, out.height], [theirs.orientation, theirs.width, theirs.height])
  assert.equal(out.orientation, 6)
})

// `jpeg` with `icc` embedded after SOI in APP2 segments of at most 65,519 bytes, as the ICC
// specification splits a profile (sharp rewrites profiles it attaches, so it cannot make one).
function withProfileSegments(jpeg, icc) {
  const pieces = []
  for (let at = 0; at < icc.length; at += 65_519) pieces.push(icc.subarray(at, at + 65_519))
  const segments = pieces.map((p, i) => {
    const head = Buffer.alloc(4 + 14)
    head.writeUInt16BE(0xFFE2, 0)
    head.writeUInt16BE(2 + 14 + p.length, 2)
    head.write('ICC_PROFILE\0', 4, 'latin1')
    head[16] = i + 1
    head[17] = pieces.length
    return Buffer.concat([head, p])
  })
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)])
}

test('a profile split over several JPEG APP2 segments is joined and kept whole', async () => {
  // 30,000-point curves: a 180 KB profile, 3 segments. (lcms, in sharp, ignores a profile with
  // 40,000-point curves.)
  const big = adobeRgb(30_000)
  const src = withProfileSegments(await photo(64, 48).jpeg().toBuffer(), big)
  assert.ok((await sharp(src).metadata()).icc.equals(big), 'sharp reads the same profile')
  for (const format of FORMATS) {
    const o = await sharp(await transformImage(src, { keepMetadata: true, format })).metadata()
    assert.ok(o.icc && o.icc.equals(big), format)
  }
  // Without keepMetadata it is converted from, as sharp does.
  const ours = await sharp(await transformImage(src, { format: 'png' })).raw().toBuffer()
  const want = await sharp(src).raw().toBuffer()
  const unconverted = await sharp(src, { ignoreIcc: true }).raw().toBuffer()
  assert.ok(meanDiff(ours, want) < 1, `mean difference ${meanDiff(ours, want)}`)
  assert.ok(meanDiff(unconverted, want) > 5)
})

test('Display P3 and Adobe RGB inputs are converted to sRGB as sharp converts them; keepMetadata keeps profile and pixels', async (t) => {
  const profiles = [['Display P3', 'p3'], ['Adobe RGB', profileFile(t, 'adobe.icc', adobeRgb())]]
  for (const [name, icc] of profiles) {
    for (const [from, channels] of [['png', 3], ['png', 4], ['webp', 3], ['jpeg', 3]]) {
      const label = `${name} ${from}, ${channels} channels`
      const src = await photo(200, 150, channels).withIccProfile(icc).toFormat(from, { quality: 95 }).toBuffer()
      const want = await sharp(src).raw().toBuffer()
      const unconverted = await sharp(src, { ignoreIcc: true }).raw().toBuffer()
      const ours = await sharp(await transformImage(src, { format: 'png' })).raw().toBuffer()
      // Measured: 0.03–0.04 levels from PNG and WebP, 0.53–0.54 from JPEG (the decoders differ
      // by 0.39 on an sRGB JPEG alone); the pixels as stored are 7.9–10.8 levels away.
      const d = meanDiff(ours, want)
      const away = meanDiff(unconverted, want)
      assert.ok(d < (from === 'jpeg' ? 1 : 0.25), `${label}: mean difference from sharp ${d.toFixed(3)}`)
      assert.ok(away > 5, `${label}: unconverted pixels ${away.toFixed(2)} levels away`)
      // Resized: converted before resampling, as sharp does (0.08 measured from PNG; with
      // alpha the two resamplers differ by 1.4 levels on an untagged image, so RGB only).
      if (from === 'png' && channels === 3) {
        const small = await sharp(await transformImage(src, { format: 'png', resize: { width: 100 } })).raw().toBuffer()
        const theirs = await sharp(src).resize(100).raw().toBuffer()
        assert.ok(meanDiff(small, theirs) < 0.25, `${label}: resized, ${meanDiff(small, theirs).toFixed(3)}`)
      }
      // keepMetadata: the profile stays and the pixels are those stored (lossless PNG: exactly).
      const kept = await transformImage(src, { format: 'png', keepMetadata: true })
      assert.ok((await sharp(kept).metadata()).icc.equals((await sharp(src).metadata()).icc), label)
      const keptPixels = await sharp(kept, { ignoreIcc: true }).raw().toBuffer()
      if (from !== 'jpeg') assert.ok(keptPixels.equals(unconverted), `${label}: kept pixels`)
    }
  }
  // An sRGB profile changes nothing: the pixels are those of the untagged image, exactly.
  const plain = await photo(64, 48).png().toBuffer()
  const srgb = await photo(64, 48).withIccProfile('srgb').png().toBuffer()
  assert.ok((await sharp(srgb).metadata()).icc)
  const [a, b] = await Promise.all([plain, srgb].map(async (x) => sharp(await transformImage(x)).raw().toBuffer()))
  assert.ok(a.equals(b))
})

test('CMYK JPEGs (Adobe-inverted, as libjpeg writes them) decode the right way round', async () => {
  // White, black and the primaries through sharp's CMYK conversion (its built-in profile).
  const patches = [[255, 255, 255], [0, 0, 0], [200, 30, 30], [30, 160, 40], [30, 60, 200], [240, 140, 30]]
  const px = Buffer.from(patches.flatMap((p) => Array(64).fill(p).flat()))
  const rgb = sharp(px, { raw: { width: 64, height: patches.length, channels: 3 } })
  const cmyk = await rgb.toColourspace('cmyk').jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer()
  assert.equal((await imageInfo(cmyk)).space, 'cmyk')
  const want = await sharp(cmyk).raw().toBuffer()
  const ours = await sharp(await transformImage(cmyk, { format: 'png' })).raw().toBuffer()
  const at = (buf, row) => [...buf.subarray((row * 64 + 32) * 3, (row * 64 + 32) * 3 + 3)]
  // Paper and full ink exactly; each colour with the same dominant channel as sharp's. (Read
  // inverted, white would come out black.)
  assert.deepEqual(at(ours, 0), [255, 255, 255])
  assert.ok(at(ours, 1).every((v) => v < 40), `black: ${at(ours, 1)}`)
  for (let row = 2; row < patches.length; row++) {
    const [o, w] = [at(ours, row), at(want, row)]
    const top = (c) => c.indexOf(Math.max(...c))
    assert.equal(top(o), top(w), `patch ${patches[row]}: ours ${o}, sharp ${w}`)
  }
})

test('a CMYK JPEG with a profile is converted through it, as sharp converts it', async () => {
  // sharp embeds its CMYK profile on request; untagged, it would use the same one built in.
  const src = await photo(64, 48).toColourspace('cmyk').withIccProfile('cmyk').jpeg({ quality: 95 }).toBuffer()
  assert.equal((await sharp(src).metadata()).icc.subarray(16, 20).toString(), 'CMYK')
  const want = await sharp(src).raw().toBuffer()
  const ours = await sharp(await transformImage(src, { format: 'png' })).raw().toBuffer()
  // Measured 6.7 levels from sharp's (qcms's 17-point CMYK grid against lcms, either intent);
  // the naive conversion, which ignores the profile, is ~21 levels away.
  const d = meanDiff(ours, want)
  assert.ok(d < 8, `mean difference ${d.toFixed(2)}`)
})
