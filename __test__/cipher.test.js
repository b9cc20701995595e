'use strict'
// Key derivation and authenticated encryption against node:crypto, the oracle: scrypt, pbkdf2
// and hkdf give node's bytes; encrypt and decrypt interoperate with createCipheriv and
// createDecipheriv both ways; bad arguments get node's codes and classes (each compared with
// what node throws for the same call); a wrong tag, key, IV or aad rejects with
// ERR_OFFLOAD_AUTH_FAILED and nothing of the plaintext; abort and timeout end a derivation
// mid-way.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { inspect } = require('node:util')
const { scrypt, pbkdf2, hkdf, encrypt, decrypt, Pool } = require('..')
const { spin } = require('offload/testing')
const { random } = require('./helpers/data')

const ALGORITHMS = ['aes-256-gcm', 'aes-128-gcm', 'chacha20-poly1305']
const KEY_LEN = { 'aes-256-gcm': 32, 'aes-128-gcm': 16, 'chacha20-poly1305': 32 }
const DIGESTS = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha512-224', 'sha512-256', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512', 'md5']

const rejection = (promise) => promise.then(() => assert.fail('resolved'), (e) => e)

// What node throws for a call, as { name, code }.
function nodeError(fn) {
  try {
    fn()
  } catch (e) {
    return { name: e.name, code: e.code }
  }
  assert.fail(`node accepted ${fn}`)
}

async function sameError(ours, theirs, what) {
  let promise
  assert.doesNotThrow(() => { promise = ours() }, `${what}: errors go through the promise`)
  const e = await rejection(promise)
  assert.deepEqual({ name: e.name, code: e.code }, nodeError(theirs), `${what}: ${e.message}`)
  return e
}

test('scrypt gives node\'s bytes, for every input type and both spellings of each parameter', async () => {
  const cases = [
    ['pw', 'salt', 32, { N: 16, r: 1, p: 1 }],
    ['', '', 64, { N: 16, r: 1, p: 1 }],
    ['pässwörd ✓ \u{1f600}', random(16, 1), 1, { cost: 1024, blockSize: 8, parallelization: 2 }],
    [random(100, 2), 'NaCl', 100, { N: 1024, r: 2, p: 3, maxmem: 1 << 20 }],
    [new Uint16Array(random(64, 3).buffer, 2, 8), new DataView(random(32, 4).buffer, 4, 16), 20, { N: 256 }],
    ['keylen 0', 'salt', 0, { N: 16 }],
    ['zeros are defaults', 'salt', 16, { N: 0, r: 0, p: 0, maxmem: 0 }],
  ]
  for (const [pw, salt, keylen, options] of cases) {
    const want = crypto.scryptSync(pw, salt, keylen, options)
    const got = await scrypt(pw, salt, keylen, options)
    assert.ok(Buffer.isBuffer(got))
    assert.deepEqual(got, want, `${inspect(pw)} ${inspect(options)}`)
  }
  // node's defaults (N = 16384, r = 8: 16 MiB), no options at all.
  assert.deepEqual(await scrypt('pw', 'salt', 32), crypto.scryptSync('pw', 'salt', 32))
})

test('pbkdf2 gives node\'s bytes for every digest, across block boundaries', async () => {
  for (const digest of DIGESTS) {
    for (const [keylen, iterations] of [[0, 1], [1, 1], [20, 2], [33, 3], [100, 1000]]) {
      const want = crypto.pbkdf2Sync('pässword', 'salt', iterations, keylen, digest)
      assert.deepEqual(await pbkdf2('pässword', 'salt', iterations, keylen, digest), want, `${digest} ${keylen} ${iterations}`)
    }
  }
  // node's other spellings of a digest, and binary inputs.
  const want = crypto.pbkdf2Sync(random(40, 5), random(16, 6), 10, 48, 'sha256')
  for (const digest of ['SHA256', 'sha-256', 'SHA-256']) {
    assert.deepEqual(await pbkdf2(random(40, 5), new Uint8Array(random(16, 6)), 10, 48, digest), want, digest)
  }
})

test('hkdf gives node\'s bytes (as a Buffer, where node gives an ArrayBuffer)', async () => {
  for (const digest of DIGESTS) {
    const max = 255 * crypto.createHash(digest).digest().length
    for (const keylen of [0, 1, 42, max]) {
      const want = Buffer.from(crypto.hkdfSync(digest, 'ikm', 'salt', 'info', keylen))
      const got = await hkdf(digest, 'ikm', 'salt', 'info', keylen)
      assert.ok(Buffer.isBuffer(got))
      assert.deepEqual(got, want, `${digest} ${keylen}`)
    }
  }
  const ikm = random(22, 7)
  for (const [salt, info] of [['', ''], [random(13, 8), random(1024, 9)], [new ArrayBuffer(5), 'ünïcode']]) {
    const want = Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, 64))
    assert.deepEqual(await hkdf('sha256', ikm, salt, info, 64), want)
  }
})

// Seals with node (given IV) or with us, opens with the other, for each algorithm, with and
// without aad, for empty, 1-byte and 1 MiB messages.
test('encrypt and decrypt interoperate with createCipheriv and createDecipheriv both ways', async () => {
  const sizes = [0, 1, 1 << 20]
  for (const algorithm of ALGORITHMS) {
    const key = random(KEY_LEN[algorithm], 10)
    for (const aad of [undefined, random(33, 11)]) {
      for (const size of sizes) {
        const what = `${algorithm} aad=${aad !== undefined} ${size} B`
        const plaintext = random(size, 12 + size)
        // Ours → node.
        const sealed = await encrypt(algorithm, key, plaintext, aad === undefined ? undefined : { aad })
        assert.equal(sealed.iv.length, 12)
        assert.equal(sealed.authTag.length, 16)
        assert.equal(sealed.ciphertext.length, size)
        const d = crypto.createDecipheriv(algorithm, key, sealed.iv, { authTagLength: 16 })
        if (aad !== undefined) d.setAAD(aad, { plaintextLength: size })
        d.setAuthTag(sealed.authTag)
        assert.deepEqual(Buffer.concat([d.update(sealed.ciphertext), d.final()]), plaintext, `node opens ours: ${what}`)
        // Node → ours.
        const iv = random(12, 13 + size)
        const c = crypto.createCipheriv(algorithm, key, iv, { authTagLength: 16 })
        if (aad !== undefined) c.setAAD(aad, { plaintextLength: size })
        const ciphertext = Buffer.concat([c.update(plaintext), c.final()])
        const authTag = c.getAuthTag()
        const opened = await decrypt(algorithm, key, { iv, ciphertext, authTag }, aad === undefined ? undefined : { aad })
        assert.ok(Buffer.isBuffer(opened))
        assert.deepEqual(opened, plaintext, `we open node's: ${what}`)
        // With the same IV, the same bytes.
        const again = await encrypt(algorithm, key, plaintext, { iv, aad })
        assert.deepEqual([again.iv, again.ciphertext, again.authTag], [iv, ciphertext, authTag], `same bytes: ${what}`)
      }
    }
  }
})

test('strings are UTF-8 and views are read at their offsets, as node reads them', async () => {
  const key = 'k'.repeat(32)
  const iv = random(12, 14)
  const text = 'héllo wörld ✓ \u{1f600}'
  const sealed = await encrypt('chacha20-poly1305', key, text, { iv, aad: 'äad' })
  const c = crypto.createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 })
  c.setAAD(Buffer.from('äad'))
  assert.deepEqual(sealed.ciphertext, Buffer.concat([c.update(text, 'utf8'), c.final()]))
  assert.deepEqual(sealed.authTag, c.getAuthTag())
  const backing = random(200, 15)
  const view = new Uint32Array(backing.buffer, 8, 10)
  const keyView = new DataView(backing.buffer, 100, 32)
  const got = await encrypt('aes-256-gcm', keyView, view, { iv })
  const c2 = crypto.createCipheriv('aes-256-gcm', backing.subarray(100, 132), iv)
  assert.deepEqual(got.ciphertext, Buffer.concat([c2.update(backing.subarray(8, 48)), c2.final()]))
})

test('an IV is drawn from the OS for each call unless one is given', async () => {
  const key = random(32, 16)
  const ivs = new Set()
  for (let i = 0; i < 64; i++) ivs.add((await encrypt('aes-256-gcm', key, 'same')).iv.toString('hex'))
  assert.equal(ivs.size, 64)
  const iv = random(12, 17)
  assert.deepEqual((await encrypt('aes-256-gcm', key, 'x', { iv })).iv, iv)
})

test('a wrong tag, key, IV, aad or ciphertext rejects with ERR_OFFLOAD_AUTH_FAILED and no plaintext', async () => {
  const marker = 'SECRET-PLAINTEXT-'.repeat(4)
  for (const algorithm of ALGORITHMS) {
    const key = random(KEY_LEN[algorithm], 18)
    const aad = Buffer.from('header')
    const sealed = await encrypt(algorithm, key, marker, { aad })
    assert.equal((await decrypt(algorithm, key, sealed, { aad })).toString(), marker)
    const flip = (b, i = 0) => { const c = Buffer.from(b); c[i] ^= 1; return c }
    const tries = {
      tag: [key, { ...sealed, authTag: flip(sealed.authTag, 15) }, aad],
      key: [flip(key), sealed, aad],
      iv: [key, { ...sealed, iv: flip(sealed.iv, 11) }, aad],
      aad: [key, sealed, flip(aad)],
      'no aad': [key, sealed, undefined],
      ciphertext: [key, { ...sealed, ciphertext: flip(sealed.ciphertext, 40) }, aad],
      truncated: [key, { ...sealed, ciphertext: sealed.ciphertext.subarray(1) }, aad],
    }
    for (const [what, [k, s, a]] of Object.entries(tries)) {
      const e = await rejection(decrypt(algorithm, k, s, { aad: a }))
      assert.equal(e.code, 'ERR_OFFLOAD_AUTH_FAILED', `${algorithm} ${what}: ${e.message}`)
      assert.equal(e.name, 'OffloadError')
      // Nothing of the message is on the error, in any property.
      const shown = inspect(e, { showHidden: true, depth: 5 })
      assert.ok(!shown.includes('SECRET') && !shown.includes(Buffer.from(marker).toString('hex').slice(0, 16)), shown)
      assert.deepEqual(Object.keys(e).filter((p) => typeof e[p] === 'object'), [], `${what}: no object properties`)
    }
  }
})

test('bad key derivation arguments get node\'s codes and classes', async () => {
  const scryptCases = [
    [['p', 's', -1], 'keylen -1'], [['p', 's', 1.5], 'keylen 1.5'], [['p', 's', '1'], 'keylen string'], [['p', 's', 2 ** 31], 'keylen 2^31'],
    [['p', 's', 16, { N: 3 }], 'N 3'], [['p', 's', 16, { N: 1 }], 'N 1'], [['p', 's', 16, { N: -1 }], 'N -1'], [['p', 's', 16, { N: '16' }], 'N string'],
    [['p', 's', 16, { N: 2 ** 32 }], 'N 2^32'], [['p', 's', 16, { cost: 3 }], 'cost 3'], [['p', 's', 16, { N: 16, cost: 16 }], 'N and cost'],
    [['p', 's', 16, { r: 1, blockSize: 1 }], 'r and blockSize'], [['p', 's', 16, { p: 1, parallelization: 1 }], 'p and parallelization'],
    [['p', 's', 16, { N: -1, cost: 16 }], 'bad N before the pair'], [['p', 's', 16, { N: 2 ** 15, r: 8 }], 'over the default maxmem'],
    [['p', 's', 16, { N: 2 ** 14, r: 8, maxmem: 128 * 8 * 2 ** 14 }], 'over a given maxmem'], [['p', 's', 16, { maxmem: -1 }], 'maxmem -1'],
    [['p', 's', 16, { maxmem: 1.5 }], 'maxmem 1.5'], [['p', 's', 16, { maxmem: '1' }], 'maxmem string'], [['p', 's', 16, { N: 16, r: 2 ** 15, p: 2 ** 15 }], 'r * p'],
    [['p', 's', 16, { N: 2 ** 16, r: 1 }], 'N >= 2^(16 r)'], [['p', 's', 16, { r: 1.5 }], 'r 1.5'], [[5, 's', 16], 'password type'], [['p', 5, 16], 'salt type'],
  ]
  for (const [args, what] of scryptCases) await sameError(() => scrypt(...args), () => crypto.scryptSync(...args), `scrypt ${what}`)

  const pbkdf2Cases = [
    [['p', 's', 1, 16, 'sha999'], 'unknown digest'], [['p', 's', 1, 16, 5], 'digest type'], [['p', 's', 1, 16, undefined], 'no digest'],
    [['p', 's', 0, 16, 'sha256'], 'iterations 0'], [['p', 's', 1.5, 16, 'sha256'], 'iterations 1.5'], [['p', 's', '1', 16, 'sha256'], 'iterations string'],
    [['p', 's', 2 ** 31, 16, 'sha256'], 'iterations 2^31'], [['p', 's', 1, -1, 'sha256'], 'keylen -1'], [['p', 's', 1, 2 ** 31, 'sha256'], 'keylen 2^31'],
    [[5, 's', 1, 16, 'sha256'], 'password type'], [['p', null, 1, 16, 'sha256'], 'salt null'],
  ]
  for (const [args, what] of pbkdf2Cases) await sameError(() => pbkdf2(...args), () => crypto.pbkdf2Sync(...args), `pbkdf2 ${what}`)

  const hkdfCases = [
    [['sha999', 'k', 's', 'i', 16], 'unknown digest'], [[5, 'k', 's', 'i', 16], 'digest type'], [['sha256', 'k', 's', 'i', 255 * 32 + 1], 'keylen over 255 blocks'],
    [['sha1', 'k', 's', 'i', 255 * 20 + 1], 'sha1 keylen over 255 blocks'], [['sha256', 'k', 's', 'i', -1], 'keylen -1'], [['sha256', 'k', 's', 'i', 1.5], 'keylen 1.5'],
    [['sha256', 'k', 's', 'i', '16'], 'keylen string'], [['sha256', 'k', 's', Buffer.alloc(1025), 16], 'info over 1024 bytes'],
    [['sha256', 5, 's', 'i', 16], 'ikm type'], [['sha256', 'k', 5, 'i', 16], 'salt type'], [['sha256', 'k', 's', 5, 16], 'info type'],
  ]
  for (const [args, what] of hkdfCases) await sameError(() => hkdf(...args), () => crypto.hkdfSync(...args), `hkdf ${what}`)
})

test('bad encryption arguments get node\'s codes and classes where node has them', async () => {
  const iv = Buffer.alloc(12)
  const cipher = (alg, key, v) => () => crypto.createCipheriv(alg, key, v, { authTagLength: 16 })
  const cases = [
    ['aes-256-gcm', Buffer.alloc(16), iv, 'aes-256-gcm 16-byte key'],
    ['aes-128-gcm', Buffer.alloc(32), iv, 'aes-128-gcm 32-byte key'],
    ['chacha20-poly1305', Buffer.alloc(16), iv, 'chacha20-poly1305 16-byte key'],
    ['aes-256-gcm', 5, iv, 'key type'],
    ['aes-256-gcm', Buffer.alloc(32), Buffer.alloc(0), 'empty IV'],
    ['chacha20-poly1305', Buffer.alloc(32), Buffer.alloc(8), 'chacha20-poly1305 8-byte IV'],
    ['chacha20-poly1305', Buffer.alloc(32), Buffer.alloc(16), 'chacha20-poly1305 16-byte IV'],
    ['aes-256-gcm', Buffer.alloc(32), 5, 'IV type'],
    [5, Buffer.alloc(32), iv, 'algorithm type'],
  ]
  for (const [alg, key, v, what] of cases) {
    await sameError(() => encrypt(alg, key, 'x', { iv: v }), cipher(alg, key, v), `encrypt ${what}`)
    await sameError(() => decrypt(alg, key, { iv: v, ciphertext: Buffer.alloc(1), authTag: Buffer.alloc(16) }),
      () => crypto.createDecipheriv(alg, key, v, { authTagLength: 16 }), `decrypt ${what}`)
  }
  // Tags node refuses at any length setting.
  for (const len of [3, 17]) {
    await sameError(() => decrypt('aes-256-gcm', Buffer.alloc(32), { iv, ciphertext: Buffer.alloc(1), authTag: Buffer.alloc(len) }),
      () => crypto.createDecipheriv('aes-256-gcm', Buffer.alloc(32), iv).setAuthTag(Buffer.alloc(len)), `${len}-byte tag`)
  }
})

test('stricter than node where the API is: 12-byte IVs, 16-byte tags, three algorithms', async () => {
  const key = Buffer.alloc(32)
  // node takes these for GCM (an 8-byte IV is hashed into a counter, a short tag is weaker).
  const e1 = await rejection(encrypt('aes-256-gcm', key, 'x', { iv: Buffer.alloc(8) }))
  assert.equal(e1.code, 'ERR_CRYPTO_INVALID_IV')
  assert.equal(e1.name, 'TypeError')
  const e2 = await rejection(decrypt('aes-256-gcm', key, { iv: Buffer.alloc(12), ciphertext: Buffer.alloc(1), authTag: Buffer.alloc(12) }))
  assert.equal(e2.code, 'ERR_CRYPTO_INVALID_AUTH_TAG')
  // A cipher this API does not have (node: ERR_CRYPTO_UNKNOWN_CIPHER for ones it has not either).
  const e3 = await rejection(encrypt('aes-256-cbc', key, 'x'))
  assert.equal(e3.code, 'ERR_INVALID_ARG_VALUE')
  assert.match(e3.message, /'aes-256-gcm', 'aes-128-gcm', 'chacha20-poly1305'\. Received 'aes-256-cbc'/)
  // Binary only for the IV, ciphertext and tag; an object for the sealed message.
  assert.equal((await rejection(decrypt('aes-256-gcm', key, { iv: 'a'.repeat(12), ciphertext: '', authTag: Buffer.alloc(16) }))).code, 'ERR_INVALID_ARG_TYPE')
  const e4 = await rejection(decrypt('aes-256-gcm', key, null))
  assert.equal(e4.code, 'ERR_INVALID_ARG_TYPE')
  assert.match(e4.message, /"encrypted" argument/)
  // No key bytes in a key error.
  const e5 = await rejection(encrypt('aes-256-gcm', Buffer.from('0123456789abcdef'), 'x'))
  assert.ok(!e5.message.includes('0123456789abcdef') && !e5.message.includes('3031323334'), e5.message)
})

test('abort and timeout end a derivation mid-way; encrypt takes the task options', async () => {
  const pool = new Pool({ threads: 1, name: 'cipher-test' })
  try {
    // 2^31 - 1 iterations is half an hour of HMAC: these settle only if the loop polls.
    const ac = new AbortController()
    const running = pbkdf2('p', 's', 2 ** 31 - 1, 64, 'sha512', { pool, signal: ac.signal })
    setTimeout(() => ac.abort(new Error('user left')), 50)
    const e = await rejection(running)
    assert.equal(e.name, 'AbortError')
    assert.equal(e.cause.message, 'user left')
    const t = await rejection(pbkdf2('p', 's', 2 ** 31 - 1, 64, 'sha256', { pool, timeout: 50 }))
    assert.equal(t.code, 'ERR_OFFLOAD_TIMEOUT')
    // Queued behind a busy thread: cancelled before it starts.
    const busy = spin(300, { pool })
    const q = await rejection(encrypt('aes-256-gcm', Buffer.alloc(32), 'x', { pool, timeout: 20, priority: 'low' }))
    assert.equal(q.code, 'ERR_OFFLOAD_TIMEOUT')
    await busy
    const pre = new AbortController()
    pre.abort()
    assert.equal((await rejection(decrypt('aes-256-gcm', Buffer.alloc(32), { iv: Buffer.alloc(12), ciphertext: Buffer.alloc(0), authTag: Buffer.alloc(16) }, { signal: pre.signal }))).name, 'AbortError')
    assert.equal((await rejection(scrypt('p', 's', 16, { signal: pre.signal }))).name, 'AbortError')
    assert.equal((await rejection(hkdf('sha256', 'k', 's', 'i', 16, { signal: pre.signal }))).name, 'AbortError')
    // And it still works on the pool afterwards.
    const sealed = await encrypt('aes-128-gcm', Buffer.alloc(16), 'ok', { pool, priority: 'high' })
    assert.equal((await decrypt('aes-128-gcm', Buffer.alloc(16), sealed, { pool })).toString(), 'ok')
  } finally {
    await pool.close()
  }
})
