'use strict'
// hashFile, hmacFile, compressFile, decompressFile on real files of a few hundred MiB in
// os.tmpdir(), checked against independent oracles: node:crypto streaming, coreutils'
// sha256sum, node:zlib. Failures (abort, timeout, corrupt input, output limit) must leave
// neither dest nor a temporary file; file errors must look like node:fs's.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { pipeline } = require('node:stream/promises')
const { execFileSync } = require('node:child_process')
const { pathToFileURL } = require('node:url')
const offload = require('..')
const { hashFile, hmacFile, compressFile, decompressFile, encryptFile, decryptFile, Pool, AbortError } = offload
const { spin } = require('../lib/cpu/testing')

const MiB = 1024 * 1024
const BIG = 320 * MiB

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-files-'))
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))

// A random 1 MiB block written again and again, its first 8 bytes the block's index so no two
// MiB are equal: fast to make, and no format can shrink it much.
function bigFile(name, size) {
  const p = path.join(dir, name)
  const block = crypto.randomBytes(MiB)
  const fd = fs.openSync(p, 'w')
  try {
    for (let i = 0; i * MiB < size; i++) {
      block.writeBigUInt64LE(BigInt(i))
      fs.writeSync(fd, block, 0, Math.min(MiB, size - i * MiB))
    }
  } finally {
    fs.closeSync(fd)
  }
  return p
}

// Fed with update() (an Hmac piped to its end has already given its digest to the stream).
async function streamDigest(file, make) {
  const h = make()
  for await (const chunk of fs.createReadStream(file, { highWaterMark: MiB })) h.update(chunk)
  return h.digest('hex')
}

function sha256sum(file) {
  try {
    return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]
  } catch (err) {
    if (err.code === 'ENOENT') return undefined
    throw err
  }
}

// What is in `dir` whose name starts with `prefix` or is a temporary file beside it.
function leftovers(prefix) {
  return fs.readdirSync(dir).filter((n) => n.startsWith(prefix) || n.startsWith(`.${prefix}`))
}

let big
test.before(() => { big = bigFile('big.bin', BIG + 12345) })

test('hashFile of a few hundred MiB equals node:crypto streaming and sha256sum', async () => {
  const want = await streamDigest(big, () => crypto.createHash('sha256'))
  assert.equal(await hashFile('sha256', big, { encoding: 'hex' }), want)
  const coreutils = sha256sum(big)
  if (coreutils !== undefined) assert.equal(coreutils, want)
  const sha1 = await hashFile('sha1', big)
  assert.ok(Buffer.isBuffer(sha1))
  assert.equal(sha1.toString('hex'), await streamDigest(big, () => crypto.createHash('sha1')))
})

test('hmacFile equals node:crypto createHmac streaming', async () => {
  const key = crypto.randomBytes(40)
  const want = await streamDigest(big, () => crypto.createHmac('sha512', key))
  assert.equal(await hmacFile('sha512', key, big, { encoding: 'hex' }), want)
  assert.equal(await hmacFile('sha256', 'text key', big, { encoding: 'base64' }),
    Buffer.from(await streamDigest(big, () => crypto.createHmac('sha256', 'text key')), 'hex').toString('base64'))
})

test('compressFile then decompressFile round-trip a few hundred MiB, checked by node:zlib', async () => {
  const gz = path.join(dir, 'big.gz')
  const r = await compressFile('gzip', big, gz, { level: 1 })
  assert.deepEqual(r, { bytesRead: BIG + 12345, bytesWritten: fs.statSync(gz).size })
  // node:zlib decodes our output: the oracle for its bytes.
  const want = await streamDigest(big, () => crypto.createHash('sha256'))
  const h = crypto.createHash('sha256')
  await pipeline(fs.createReadStream(gz), zlib.createGunzip(), h)
  assert.equal(h.digest('hex'), want)
  const back = path.join(dir, 'big.back')
  const d = await decompressFile('gzip', gz, back)
  assert.deepEqual(d, { bytesRead: r.bytesWritten, bytesWritten: BIG + 12345 })
  assert.equal(await streamDigest(back, () => crypto.createHash('sha256')), want)
  fs.rmSync(gz)
  fs.rmSync(back)
})

test('every format: our output read by node:zlib (offload for zstd), node:zlib output read by us', async () => {
  const text = Buffer.from('offload files '.repeat(200000) + crypto.randomBytes(5000).toString('hex'))
  const src = path.join(dir, 'text.txt')
  fs.writeFileSync(src, text)
  const node = {
    gzip: [zlib.gunzipSync, zlib.gzipSync],
    deflate: [zlib.inflateSync, zlib.deflateSync],
    'deflate-raw': [zlib.inflateRawSync, zlib.deflateRawSync],
    brotli: [zlib.brotliDecompressSync, zlib.brotliCompressSync],
  }
  for (const format of ['gzip', 'deflate', 'deflate-raw', 'brotli', 'zstd']) {
    const out = path.join(dir, `text.${format}`)
    await compressFile(format, src, out, format === 'brotli' ? { level: 5 } : undefined)
    const packed = fs.readFileSync(out)
    const decode = node[format] ? node[format][0] : (b) => offload.decompress('zstd', b)
    assert.deepEqual(await decode(packed), text, format)
    if (node[format]) fs.writeFileSync(out, node[format][1](text))
    const back = path.join(dir, `text.${format}.back`)
    await decompressFile(format, out, back)
    assert.deepEqual(fs.readFileSync(back), text, format)
    fs.rmSync(out)
    fs.rmSync(back)
  }
  await assert.rejects(decompressFile('lz4', src, path.join(dir, 'x')), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  assert.deepEqual(leftovers('x'), [])
})

test('abort mid-file: AbortError with the reason as cause, no dest and no temporary file', async () => {
  const dest = path.join(dir, 'aborted.gz')
  const ac = new AbortController()
  const p = compressFile('gzip', big, dest, { level: 9, signal: ac.signal })
  let settled = false
  p.then(() => { settled = true }, () => { settled = true })
  // Wait until the temporary file exists and has data: the task is mid-file.
  for (;;) {
    assert.equal(settled, false, 'the task ended before it was seen mid-file')
    const tmp = leftovers('aborted.gz')
    if (tmp.length === 1 && fs.statSync(path.join(dir, tmp[0])).size > 0) break
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const reason = new Error('stop')
  ac.abort(reason)
  await assert.rejects(p, (err) => err instanceof AbortError && err.cause === reason)
  assert.deepEqual(leftovers('aborted.gz'), [])
})

test('timeout, corrupt input and output limit leave an existing dest as it was', async () => {
  const dest = path.join(dir, 'kept.out')
  fs.writeFileSync(dest, 'old')
  await assert.rejects(compressFile('brotli', big, dest, { level: 11, timeout: 50 }), { code: 'ERR_OFFLOAD_TIMEOUT' })
  const gz = path.join(dir, 'kept.gz')
  fs.writeFileSync(gz, zlib.gzipSync(Buffer.alloc(4 * MiB, 'a')))
  await assert.rejects(decompressFile('gzip', gz, dest, { maxOutputLength: MiB }), { code: 'ERR_OFFLOAD_OUTPUT_TOO_LARGE' })
  fs.truncateSync(gz, fs.statSync(gz).size - 8)
  await assert.rejects(decompressFile('gzip', gz, dest), { code: 'ERR_OFFLOAD_CORRUPT_INPUT' })
  assert.equal(fs.readFileSync(dest, 'utf8'), 'old')
  assert.deepEqual(leftovers('kept').sort(), ['kept.gz', 'kept.out'])
})

// node:fs's own error for the same path is the oracle for code, errno, syscall, path, message.
async function fsOpenError(p, flags) {
  try {
    await (await fs.promises.open(p, flags)).close()
  } catch (err) {
    return err
  }
  assert.fail(`${p} opened`)
}

function sameAsFs(err, want) {
  assert.ok(err instanceof Error)
  assert.equal(err.message, want.message)
  for (const key of ['code', 'errno', 'syscall', 'path']) assert.equal(err[key], want[key], key)
}

test('ENOENT and EISDIR look like node:fs errors, with the path', async () => {
  const missing = path.join(dir, 'no-such-file')
  await assert.rejects(hashFile('sha256', missing), (err) => {
    sameAsFs(err, { message: `ENOENT: no such file or directory, open '${missing}'`, code: 'ENOENT', errno: -os.constants.errno.ENOENT, syscall: 'open', path: missing })
    return true
  })
  const want = await fsOpenError(missing, 'r')
  await assert.rejects(compressFile('gzip', missing, path.join(dir, 'y')), (err) => (sameAsFs(err, want), true))
  const destMissing = path.join(dir, 'no', 'dir', 'out.gz')
  const wantDest = await fsOpenError(destMissing, 'w')
  await assert.rejects(compressFile('gzip', big, destMissing), (err) => (sameAsFs(err, wantDest), true))

  await assert.rejects(hashFile('md5', dir), (err) => {
    assert.equal(err.code, 'EISDIR')
    assert.equal(err.errno, -os.constants.errno.EISDIR)
    assert.equal(err.syscall, 'read')
    assert.equal(err.path, dir)
    assert.equal(err.message, `EISDIR: illegal operation on a directory, read '${dir}'`)
    return true
  })

})

// Run as a user the file's mode shuts out: as root (which reads anything), in a child at
// uid/gid 65534 (nobody), in a directory it may enter.
test('EACCES looks like node:fs\'s, with the path', async () => {
  const open = fs.mkdtempSync(path.join(dir, 'eacces-'))
  // mkdtemp makes 0700 directories: opened up so only the file's own mode refuses.
  fs.chmodSync(dir, 0o755)
  fs.chmodSync(open, 0o755)
  const locked = path.join(open, 'locked')
  fs.writeFileSync(locked, 'secret')
  fs.chmodSync(locked, 0o000)
  // The child loads a copy of the package from `dir`: the checkout itself may sit in a
  // directory nobody cannot enter (a CI clone in a 0700 mkdtemp did).
  const pkg = path.join(dir, 'pkg')
  const root = path.join(__dirname, '..')
  for (const f of ['package.json', 'index.js', 'lib', 'napi/binding.js', ...fs.readdirSync(path.join(root, 'napi')).filter((n) => n.endsWith('.node')).map((n) => `napi/${n}`)]) {
    fs.cpSync(path.join(root, f), path.join(pkg, f), { recursive: true })
  }
  const script = `
    const fs = require('node:fs')
    const { hashFile } = require(${JSON.stringify(pkg)})
    const pick = (e) => ({ message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path })
    ;(async () => {
      const want = await fs.promises.open(process.argv[1], 'r').then(() => null, pick)
      const got = await hashFile('sha256', process.argv[1]).then(() => null, pick)
      console.log(JSON.stringify({ want, got }))
    })()`
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
  const { want, got } = JSON.parse(execFileSync(process.execPath, ['-e', script, locked], { encoding: 'utf8', ...asNobody }))
  assert.equal(want.code, 'EACCES')
  assert.deepEqual(got, want)
})

test('relative paths are resolved at the call: a later chdir does not change the file', async (t) => {
  const a = fs.mkdtempSync(path.join(dir, 'a-'))
  const b = fs.mkdtempSync(path.join(dir, 'b-'))
  fs.writeFileSync(path.join(a, 'rel.bin'), 'in a')
  fs.writeFileSync(path.join(b, 'rel.bin'), 'in b')
  const cwd = process.cwd()
  t.after(() => process.chdir(cwd))
  // One thread kept busy, so the hashes run after the chdir below.
  const pool = new Pool({ threads: 1 })
  t.after(() => pool.close())
  const busy = spin(300, { pool })
  process.chdir(a)
  const calls = [
    hashFile('sha256', 'rel.bin', { pool, encoding: 'hex' }),
    hashFile('sha256', Buffer.from('rel.bin'), { pool, encoding: 'hex' }),
    hashFile('sha256', pathToFileURL(path.join(a, 'rel.bin')), { pool, encoding: 'hex' }),
  ]
  process.chdir(b)
  await busy
  const want = crypto.createHash('sha256').update('in a').digest('hex')
  assert.deepEqual(await Promise.all(calls), [want, want, want])
})

test('argument errors are Node-style and reject', async () => {
  await assert.rejects(hashFile('sha256', 42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(hashFile('sha256', 'a\u0000b'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(hashFile('sha256', new URL('http://example.com/x')), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(hashFile('sha257', big), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(hashFile('sha256', big, { encoding: 'hexx' }), { code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(compressFile('gzip', big, path.join(dir, 'z'), { level: 10 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(compressFile('gzip', big, path.join(dir, 'z'), { fsync: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(decompressFile('gzip', big, path.join(dir, 'z'), { maxOutputLength: -1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  assert.deepEqual(leftovers('z'), [])
})

// An independent reader of the offload STREAM format, written from docs/encryption.md on
// node:crypto (HKDF, createDecipheriv): what a user of another language would write.
const STREAM_ALGS = { 1: ['aes-256-gcm', 32], 2: ['aes-128-gcm', 16], 3: ['chacha20-poly1305', 32] }
function openStream(key, sealed) {
  assert.equal(sealed.subarray(0, 8).toString('latin1'), 'OFLDSTRM')
  assert.equal(sealed[8], 1)
  const [alg, keyLen] = STREAM_ALGS[sealed[9]]
  const size = 2 ** sealed[10]
  const k = Buffer.from(crypto.hkdfSync('sha256', key, sealed.subarray(11, 43), sealed.subarray(0, 11), keyLen))
  const out = []
  let pos = 43
  for (let i = 0; ; i++) {
    const len = Math.min(size + 16, sealed.length - pos)
    const last = pos + len === sealed.length
    const nonce = Buffer.alloc(12)
    nonce.writeUIntBE(i, 5, 6) // bytes 0-4 of the 11-byte counter stay 0 below 2^48 segments
    nonce[11] = last ? 1 : 0
    const d = crypto.createDecipheriv(alg, k, nonce, { authTagLength: 16 })
    d.setAuthTag(sealed.subarray(pos + len - 16, pos + len))
    out.push(d.update(sealed.subarray(pos, pos + len - 16)), d.final())
    pos += len
    if (last) return Buffer.concat(out)
  }
}

test('encryptFile writes the documented STREAM format, node:crypto reads it, and decryptFile gives the file back', async () => {
  const src = bigFile('seal-src', 9 * MiB + 12345)
  const plain = fs.readFileSync(src)
  for (const [algorithm, keyLen] of [['aes-256-gcm', 32], ['aes-128-gcm', 16], ['chacha20-poly1305', 32]]) {
    const key = crypto.randomBytes(keyLen)
    const sealedPath = path.join(dir, `seal-${algorithm}`)
    const t = await encryptFile(algorithm, key, src, sealedPath)
    const sealed = fs.readFileSync(sealedPath)
    assert.deepEqual(t, { bytesRead: plain.length, bytesWritten: sealed.length })
    assert.equal(sealed.length, 43 + plain.length + 16 * Math.ceil(plain.length / 65536))
    assert.ok(openStream(key, sealed).equals(plain), algorithm)
    const back = path.join(dir, `seal-back-${algorithm}`)
    assert.deepEqual(await decryptFile(algorithm, key, sealedPath, back), { bytesRead: sealed.length, bytesWritten: plain.length })
    assert.equal(await hashFile('sha256', back, { encoding: 'hex' }), crypto.createHash('sha256').update(plain).digest('hex'))
    fs.rmSync(back)
  }
  // Two encryptions of one file under one key differ (a fresh salt each time).
  const key = crypto.randomBytes(32)
  await encryptFile('aes-256-gcm', key, src, path.join(dir, 'seal-a'))
  await encryptFile('aes-256-gcm', key, src, path.join(dir, 'seal-b'))
  assert.ok(!fs.readFileSync(path.join(dir, 'seal-a')).subarray(0, 4096).equals(fs.readFileSync(path.join(dir, 'seal-b')).subarray(0, 4096)))
})

test('decryptFile: a damaged or truncated file, or a wrong key, rejects and leaves no dest; a non-stream is corrupt input', async () => {
  const src = bigFile('seal2-src', 3 * MiB)
  const key = crypto.randomBytes(32)
  const sealedPath = path.join(dir, 'seal2')
  await encryptFile('chacha20-poly1305', key, src, sealedPath)
  const good = fs.readFileSync(sealedPath)
  const flipped = Buffer.from(good)
  flipped[2 * MiB] ^= 0x40
  const cases = [
    ['a flipped byte', flipped, key, 'ERR_OFFLOAD_AUTH_FAILED'],
    ['the last segment cut off', good.subarray(0, good.length - 1000), key, 'ERR_OFFLOAD_AUTH_FAILED'],
    ['a wrong key', good, crypto.randomBytes(32), 'ERR_OFFLOAD_AUTH_FAILED'],
    ['not a stream', fs.readFileSync(src), key, 'ERR_OFFLOAD_CORRUPT_INPUT'],
  ]
  for (const [what, bytes, k, code] of cases) {
    const bad = path.join(dir, 'seal2-bad')
    fs.writeFileSync(bad, bytes)
    const dest = path.join(dir, 'seal2-out')
    const err = await decryptFile('chacha20-poly1305', k, bad, dest).then(() => assert.fail(`${what}: resolved`), (e) => e)
    assert.equal(err.code, code, `${what}: ${err.message}`)
    assert.equal(fs.existsSync(dest), false, what)
    assert.deepEqual(leftovers('seal2-out'), [], what)
  }
  const other = await decryptFile('aes-256-gcm', key, sealedPath, path.join(dir, 'seal2-out')).catch((e) => e)
  assert.equal(other.code, 'ERR_INVALID_ARG_VALUE', 'sealed with chacha20-poly1305, opened as aes-256-gcm')
  assert.match(other.message, /chacha20-poly1305/)
  assert.deepEqual(leftovers('seal2-out'), [])
  const err = await encryptFile('aes-256-gcm', crypto.randomBytes(16), src, path.join(dir, 'x')).catch((e) => e)
  assert.equal(err.code, 'ERR_CRYPTO_INVALID_KEYLEN')
  const missing = await encryptFile('aes-256-gcm', key, path.join(dir, 'nope'), path.join(dir, 'x')).catch((e) => e)
  assert.equal(missing.code, 'ENOENT')
})
