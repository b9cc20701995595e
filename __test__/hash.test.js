'use strict'
// Digests checked against node:crypto (the oracle) for every algorithm it has, and against
// published test vectors for blake3, xxh3 and crc32c.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { hash, hmac, hashMany, Pool } = require('..')
const { random } = require('./helpers/data')

// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78) bit by bit: an oracle for crc32c,
// which node:crypto lacks. Big-endian bytes, as the digest is printed.
function crc32c(data) {
  let crc = 0xffffffff
  for (const byte of Buffer.from(data)) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  const out = Buffer.alloc(4)
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0)
  return out
}

const NODE_ALGS = ['sha1', 'sha256', 'sha384', 'sha512', 'sha3-256', 'sha3-512', 'md5']
const ENCODINGS = ['hex', 'base64', 'base64url']

const inputs = {
  empty: Buffer.alloc(0),
  oneByte: Buffer.from([0xa5]),
  text: 'héllo wörld ✓ \u{1f600}',
  odd: random(1_000_003, 1),
  chunkEdge: random(256 * 1024 + 1, 2),
}

test('digests match node:crypto for every algorithm, input and encoding', async () => {
  for (const alg of NODE_ALGS) {
    for (const [name, data] of Object.entries(inputs)) {
      const expected = crypto.createHash(alg).update(data).digest()
      const got = await hash(alg, data)
      assert.ok(Buffer.isBuffer(got), `${alg}/${name} resolves to a Buffer`)
      assert.deepEqual(got, expected, `${alg}/${name}`)
      for (const encoding of ENCODINGS) {
        assert.equal(await hash(alg, data, { encoding }), expected.toString(encoding), `${alg}/${name}/${encoding}`)
      }
      assert.deepEqual(await hash(alg, data, { encoding: 'buffer' }), expected)
    }
  }
})

test('blake3, xxh3 and crc32c match published vectors', async () => {
  const vectors = [
    ['blake3', '', 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
    ['blake3', 'abc', '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85'],
    ['xxh3-64', '', '2d06800538d394c2'],
    ['xxh3-128', '', '99aa06d3014798d86001c324468d497f'],
    ['crc32c', '123456789', 'e3069283'],
    ['crc32c', '', '00000000'],
  ]
  for (const [alg, input, hex] of vectors) assert.equal(await hash(alg, input, { encoding: 'hex' }), hex, `${alg}(${JSON.stringify(input)})`)
  assert.deepEqual(await hash('crc32c', inputs.odd), crc32c(inputs.odd), 'crc32c over 1 MB')
  for (const alg of ['blake3', 'xxh3-64', 'xxh3-128', 'crc32c']) {
    const a = await hash(alg, inputs.odd)
    assert.deepEqual(await hash(alg, new Uint8Array(inputs.odd)), a, 'same digest from any view')
  }
})

test('every binary input type is read in place, honouring view offsets', async () => {
  const backing = random(4096, 3)
  const ab = backing.buffer.slice(backing.byteOffset, backing.byteOffset + backing.length)
  const slice = Buffer.from(ab, 100, 1000)
  const expected = crypto.createHash('sha256').update(slice).digest('hex')
  const sab = new SharedArrayBuffer(1000)
  new Uint8Array(sab).set(slice)
  const views = {
    buffer: slice,
    uint8: new Uint8Array(ab, 100, 1000),
    uint16: new Uint16Array(ab, 100, 500),
    float64: new Float64Array(ab.slice(100, 1100)),
    clamped: new Uint8ClampedArray(ab, 100, 1000),
    dataview: new DataView(ab, 100, 1000),
    arraybuffer: ab.slice(100, 1100),
    sharedarraybuffer: sab,
  }
  for (const [name, view] of Object.entries(views)) {
    assert.equal(await hash('sha256', view, { encoding: 'hex' }), expected, name)
  }
})

test('a 64 MiB input matches node:crypto', async () => {
  const big = random(64 << 20, 4)
  for (const alg of ['sha256', 'md5']) {
    assert.equal(await hash(alg, big, { encoding: 'hex' }), crypto.createHash(alg).update(big).digest('hex'), alg)
  }
})

test('hmac matches node:crypto, with string and binary keys', async () => {
  const keys = ['', 'key', random(200, 5), new Uint16Array(random(64, 6).buffer)]
  for (const alg of NODE_ALGS) {
    for (const key of keys) {
      for (const data of [inputs.empty, inputs.text, inputs.odd]) {
        const k = typeof key === 'string' ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength)
        const expected = crypto.createHmac(alg, k).update(data).digest('base64')
        assert.equal(await hmac(alg, key, data, { encoding: 'base64' }), expected, `${alg}`)
      }
    }
  }
})

test('hmac rejects algorithms without an HMAC construction', async () => {
  for (const alg of ['blake3', 'xxh3-64', 'crc32c']) {
    await assert.rejects(hmac(alg, 'k', 'x'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  }
})

test('hashMany resolves in input order and matches single hashes', async () => {
  const pool = new Pool({ threads: 2, name: 'many' })
  const datas = Array.from({ length: 300 }, (_, i) => (i % 3 ? random(i * 37, i) : `item ${i}`))
  const got = await hashMany('sha512', datas, { pool, encoding: 'hex' })
  assert.equal(got.length, datas.length)
  datas.forEach((d, i) => assert.equal(got[i], crypto.createHash('sha512').update(d).digest('hex'), `item ${i}`))
  assert.deepEqual(await hashMany('sha256', []), [])
  // Without an encoding, Buffers; crc32c checked against the reference above.
  const items = ['a', 'b', inputs.chunkEdge]
  const bufs = await hashMany('crc32c', items)
  assert.ok(bufs.every(Buffer.isBuffer))
  assert.deepEqual(bufs, items.map(crc32c))
  assert.deepEqual(await hashMany('sha256', items), items.map((d) => crypto.createHash('sha256').update(d).digest()))
  await pool.close()
})
