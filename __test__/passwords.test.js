'use strict'
// hashPassword, verifyPassword and needsRehash against independent implementations as oracles:
// @node-rs/argon2 (RustCrypto's argon2, in another build), node-argon2 (the C reference
// implementation), bcrypt (OpenBSD's C code) and node's crypto.scrypt (OpenSSL). Hashes go both
// ways (ours verified by them, theirs by us, bcrypt under its $2a$, $2b$ and $2y$ prefixes),
// wrong passwords are false, malformed hashes are ERR_INVALID_ARG_VALUE without the hash or a
// password in the message, needsRehash sees each parameter, options fail with Node's codes
// naming the option, and abort, timeout and a full queue behave as for every CPU task.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const nodeRs = require('@node-rs/argon2')
const argon2 = require('argon2')
const bcrypt = require('bcrypt')
const offload = require('..')
const { hashPassword, verifyPassword, needsRehash } = offload
const { spin } = require('offload/testing')

const rejection = async (p) => p.then(() => assert.fail('resolved'), (e) => e)
const code = async (p) => (await rejection(p)).code
const throws = (f) => {
  try {
    f()
  } catch (e) {
    return e
  }
  assert.fail('did not throw')
}

// Not ASCII, so UTF-8 encoding is exercised; the same bytes as a Buffer.
const PASSWORD = 'corrèct hörse 🐎 battery'
const SMALL_ARGON2 = { memoryCost: 256, timeCost: 1 }

// A PHC string's parts: `$id$params$salt$hash` (argon2 has `v=19` before the params).
function phc(encoded) {
  const parts = encoded.split('$')
  const [salt, hash] = parts.slice(-2).map((s) => Buffer.from(s, 'base64'))
  const params = Object.fromEntries(parts.at(-3).split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]))
  return { id: parts[1], params, salt, hash }
}

test('argon2 hashes are PHC strings that @node-rs/argon2 and node-argon2 verify, with every variant', async () => {
  const h = await hashPassword(PASSWORD)
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  assert.equal(phc(h).salt.length, 16)
  assert.equal(await nodeRs.verify(h, PASSWORD), true)
  assert.equal(await argon2.verify(h, PASSWORD), true)
  assert.equal(await argon2.verify(h, 'wrong'), false)
  assert.equal(await verifyPassword(h, PASSWORD), true)
  assert.equal(await verifyPassword(h, Buffer.from(PASSWORD)), true)
  assert.equal(await verifyPassword(h, 'corrèct hörse 🐎 batterY'), false)
  for (const algorithm of ['argon2i', 'argon2d', 'argon2id']) {
    const e = await hashPassword(Buffer.from(PASSWORD), { algorithm, ...SMALL_ARGON2, parallelism: 2 })
    assert.ok(e.startsWith(`$${algorithm}$v=19$m=256,t=1,p=2$`), e)
    assert.equal(await nodeRs.verify(e, PASSWORD), true, algorithm)
    assert.equal(await argon2.verify(e, PASSWORD), true, algorithm)
    assert.equal(await nodeRs.verify(e, 'wrong'), false, algorithm)
  }
  // Two hashes of one password differ (fresh salts).
  assert.notEqual(await hashPassword('x', SMALL_ARGON2), await hashPassword('x', SMALL_ARGON2))
})

test('hashes made by @node-rs/argon2 and node-argon2 verify, at their defaults and other variants', async () => {
  const theirs = [
    await nodeRs.hash(PASSWORD),
    await nodeRs.hash(PASSWORD, { algorithm: 1 /* Argon2i */, ...SMALL_ARGON2 }),
    await nodeRs.hash(PASSWORD, { algorithm: 0 /* Argon2d */, ...SMALL_ARGON2, parallelism: 4 }),
    await argon2.hash(PASSWORD), // 64 MiB, t = 3, p = 4
    await argon2.hash(PASSWORD, { type: argon2.argon2i, memoryCost: 256, timeCost: 2, hashLength: 16 }),
    await argon2.hash(PASSWORD, { type: argon2.argon2d, memoryCost: 256, timeCost: 2, saltLength: 32, hashLength: 64 }),
    await argon2.hash(PASSWORD, { memoryCost: 256, timeCost: 2, version: 0x10 }),
    await argon2.hash(PASSWORD, { memoryCost: 256, timeCost: 2, associatedData: Buffer.from('context') }),
  ]
  for (const h of theirs) {
    assert.equal(await verifyPassword(h, PASSWORD), true, h)
    assert.equal(await verifyPassword(h, `${PASSWORD} `), false, h)
  }
})

test('scrypt hashes are PHC strings whose hash is node\'s crypto.scrypt of the password and salt', async () => {
  const h = await hashPassword(PASSWORD, { algorithm: 'scrypt' })
  assert.match(h, /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
  const { salt, hash } = phc(h)
  const expected = crypto.scryptSync(PASSWORD, salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 << 20 })
  assert.deepEqual(hash, expected)
  assert.equal(await verifyPassword(h, PASSWORD), true)
  assert.equal(await verifyPassword(h, 'wrong'), false)
  // One made with node's scrypt verifies: other parameters, a longer salt and hash.
  const nodeSalt = crypto.randomBytes(24)
  const nodeHash = crypto.scryptSync(PASSWORD, nodeSalt, 64, { N: 1024, r: 4, p: 3 })
  const b64 = (b) => b.toString('base64').replace(/=+$/, '')
  const theirs = `$scrypt$ln=10,r=4,p=3$${b64(nodeSalt)}$${b64(nodeHash)}`
  assert.equal(await verifyPassword(theirs, PASSWORD), true)
  assert.equal(await verifyPassword(theirs, Buffer.from('wrong')), false)
  // node's option names.
  const aliased = await hashPassword(PASSWORD, { algorithm: 'scrypt', cost: 1024, blockSize: 4, parallelization: 3 })
  assert.ok(aliased.startsWith('$scrypt$ln=10,r=4,p=3$'), aliased)
  const a = phc(aliased)
  assert.deepEqual(a.hash, crypto.scryptSync(PASSWORD, a.salt, 32, { N: 1024, r: 4, p: 3 }))
})

test('bcrypt hashes are $2b$ that the bcrypt package verifies; its hashes verify under $2a$, $2b$ and $2y$', async () => {
  const h = await hashPassword(PASSWORD, { algorithm: 'bcrypt' })
  assert.match(h, /^\$2b\$10\$[./A-Za-z0-9]{53}$/)
  assert.equal(await bcrypt.compare(PASSWORD, h), true)
  assert.equal(await bcrypt.compare('wrong', h), false)
  // $2a$ is what it is, under another name (the bcrypt package does not read $2y$).
  assert.equal(await bcrypt.compare(PASSWORD, `$2a$${h.slice(4)}`), true)
  const theirs = await bcrypt.hash(PASSWORD, 5)
  assert.ok(theirs.startsWith('$2b$05$'))
  for (const prefix of ['$2a$', '$2b$', '$2y$']) {
    const e = prefix + theirs.slice(4)
    assert.equal(await verifyPassword(e, PASSWORD), true, e)
    assert.equal(await verifyPassword(e, Buffer.from(PASSWORD)), true, e)
    assert.equal(await verifyPassword(e, 'wrong'), false, e)
  }
  // 72 bytes are read whole; past that bcrypt would ignore the rest, so it is refused, both ways.
  const p72 = 'é'.repeat(36)
  const h72 = await hashPassword(p72, { algorithm: 'bcrypt', cost: 4 })
  assert.equal(await bcrypt.compare(p72, h72), true)
  assert.equal(await verifyPassword(h72, p72), true)
  assert.equal(await verifyPassword(h72, `${'é'.repeat(35)}e`), false)
  const p73 = `${p72}x`
  for (const p of [hashPassword(p73, { algorithm: 'bcrypt' }), verifyPassword(h72, p73), verifyPassword(theirs, Buffer.alloc(100, 1))]) {
    const e = await rejection(p)
    assert.equal(e.code, 'ERR_OUT_OF_RANGE')
    assert.ok(e instanceof RangeError)
    assert.match(e.message, /"password".*at most 72 bytes/)
    assert.ok(!e.message.includes('é'), e.message)
  }
  // Other algorithms read every byte.
  assert.equal(await verifyPassword(await hashPassword(p73, SMALL_ARGON2), p73), true)
})

test('a malformed hash is ERR_INVALID_ARG_VALUE naming the argument, without echoing it', async () => {
  const good = await hashPassword('pw', SMALL_ARGON2)
  const bcryptHash = await bcrypt.hash('pw', 4)
  const malformed = [
    '', 'hunter2 is my password', good.slice(0, -1).replace(/\$[^$]*$/, ''), good.replace('argon2id', 'argon2x'),
    good.replace('v=19', 'v=20'), good.replace('t=1', 't=0'), good.replace('m=256', 'm=5000000'),
    good.replace('p=1', 'p=1,x=2'), '$scrypt$ln=0,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', `$2x$${bcryptHash.slice(4)}`,
    `$2b$03$${bcryptHash.slice(7)}`, bcryptHash.slice(0, -1), `${bcryptHash.slice(0, -1)}!`,
  ]
  for (const bad of malformed) {
    const e = await rejection(verifyPassword(bad, 'pw'))
    assert.equal(e.code, 'ERR_INVALID_ARG_VALUE', bad)
    assert.ok(e instanceof TypeError)
    assert.match(e.message, /The argument 'encoded' is not a password hash/)
    const tail = bad.slice(-12)
    if (tail.length > 4) assert.ok(!e.message.includes(tail), e.message)
    assert.throws(() => needsRehash(bad), { code: 'ERR_INVALID_ARG_VALUE' })
  }
  // A password passed in the wrong argument is not echoed.
  assert.ok(!(await rejection(verifyPassword('hunter2 is my password', good))).message.includes('hunter2'))
  for (const notString of [undefined, 42, Buffer.from(good)]) {
    assert.equal(await code(verifyPassword(notString, 'pw')), 'ERR_INVALID_ARG_TYPE')
    assert.throws(() => needsRehash(notString), { code: 'ERR_INVALID_ARG_TYPE' })
  }
  for (const notBytes of [undefined, null, 42, {}]) {
    assert.equal(await code(verifyPassword(good, notBytes)), 'ERR_INVALID_ARG_TYPE')
    assert.equal(await code(hashPassword(notBytes)), 'ERR_INVALID_ARG_TYPE')
  }
})

test('needsRehash: true when the algorithm, a parameter or the argon2 version differs from the options', async () => {
  const defaults = await hashPassword('pw')
  assert.equal(needsRehash(defaults), false)
  assert.equal(needsRehash(defaults, {}), false)
  assert.equal(needsRehash(defaults, { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2, parallelism: 1 }), false)
  for (const other of [{ memoryCost: 65536 }, { timeCost: 3 }, { parallelism: 2 }, { algorithm: 'argon2i' }, { algorithm: 'scrypt' }, { algorithm: 'bcrypt' }]) {
    assert.equal(needsRehash(defaults, other), true, JSON.stringify(other))
  }
  // @node-rs/argon2's defaults are OWASP's too; node-argon2's are not.
  assert.equal(needsRehash(await nodeRs.hash('pw')), false)
  const nodeArgon2 = await argon2.hash('pw', { memoryCost: 256, timeCost: 2, parallelism: 1 })
  assert.equal(needsRehash(nodeArgon2, { memoryCost: 256, timeCost: 2 }), false)
  assert.equal(needsRehash(nodeArgon2), true)
  // Version 0x10 is older than what we write.
  assert.equal(needsRehash(await argon2.hash('pw', { memoryCost: 256, timeCost: 2, parallelism: 1, version: 0x10 }), { memoryCost: 256, timeCost: 2 }), true)
  const s = await hashPassword('pw', { algorithm: 'scrypt', N: 1024 })
  assert.equal(needsRehash(s, { algorithm: 'scrypt', cost: 1024, r: 8, parallelization: 1 }), false)
  assert.equal(needsRehash(s, { algorithm: 'scrypt' }), true)
  assert.equal(needsRehash(s, { algorithm: 'scrypt', N: 1024, blockSize: 16 }), true)
  const b = await bcrypt.hash('pw', 10)
  assert.equal(needsRehash(b, { algorithm: 'bcrypt' }), false)
  assert.equal(needsRehash(`$2y$${b.slice(4)}`, { algorithm: 'bcrypt', cost: 10 }), false)
  assert.equal(needsRehash(b, { algorithm: 'bcrypt', cost: 12 }), true)
  assert.equal(needsRehash(b), true)
  // Its options are checked as hashPassword's are.
  assert.throws(() => needsRehash(b, { algorithm: 'bcrypt', cost: 40 }), { code: 'ERR_OUT_OF_RANGE' })
})

test('options: Node\'s codes naming the option as given, before anything runs', async () => {
  const cases = [
    [{ algorithm: 'md5' }, 'ERR_INVALID_ARG_VALUE', /options\.algorithm/],
    [{ algorithm: 1 }, 'ERR_INVALID_ARG_TYPE', /options\.algorithm/],
    [{ memoryCost: '19456' }, 'ERR_INVALID_ARG_TYPE', /options\.memoryCost/],
    [{ memoryCost: 7 }, 'ERR_OUT_OF_RANGE', /"options\.memoryCost".*>= 8/],
    [{ memoryCost: 15, parallelism: 2 }, 'ERR_OUT_OF_RANGE', /"options\.memoryCost".*>= 16 \(8 × parallelism\)/],
    [{ memoryCost: 4 * 1024 * 1024 + 1 }, 'ERR_OUT_OF_RANGE', /"options\.memoryCost".*4 GiB/],
    [{ memoryCost: 1.5 }, 'ERR_OUT_OF_RANGE', /"options\.memoryCost"/],
    [{ timeCost: 0 }, 'ERR_OUT_OF_RANGE', /"options\.timeCost"/],
    [{ timeCost: 2 ** 32 }, 'ERR_OUT_OF_RANGE', /"options\.timeCost"/],
    [{ parallelism: 0 }, 'ERR_OUT_OF_RANGE', /"options\.parallelism"/],
    [{ parallelism: -1 }, 'ERR_OUT_OF_RANGE', /"options\.parallelism"/],
    [{ cost: 12 }, 'ERR_INVALID_ARG_VALUE', /'options\.cost' does not apply to argon2id/],
    [{ algorithm: 'bcrypt', memoryCost: 1024 }, 'ERR_INVALID_ARG_VALUE', /'options\.memoryCost' does not apply to bcrypt/],
    [{ algorithm: 'bcrypt', cost: 3 }, 'ERR_OUT_OF_RANGE', /"options\.cost".*>= 4 && <= 31/],
    [{ algorithm: 'bcrypt', cost: 32 }, 'ERR_OUT_OF_RANGE', /"options\.cost"/],
    [{ algorithm: 'scrypt', N: 1000 }, 'ERR_OUT_OF_RANGE', /"options\.N".*power of 2/],
    [{ algorithm: 'scrypt', cost: 1 }, 'ERR_OUT_OF_RANGE', /"options\.cost".*power of 2/],
    [{ algorithm: 'scrypt', N: 2 ** 40 }, 'ERR_OUT_OF_RANGE', /"options\.N".*memory budget/],
    [{ algorithm: 'scrypt', N: 2 ** 20, r: 1 }, 'ERR_OUT_OF_RANGE', /"options\.N".*2\^16/],
    [{ algorithm: 'scrypt', blockSize: 0 }, 'ERR_OUT_OF_RANGE', /"options\.blockSize"/],
    [{ algorithm: 'scrypt', p: 2 ** 27 }, 'ERR_OUT_OF_RANGE', /"options\.p".*2\^30/],
    [{ algorithm: 'scrypt', N: 1024, cost: 2048 }, 'ERR_INVALID_ARG_VALUE', /'options\.N' and 'options\.cost'/],
    [{ algorithm: 'scrypt', r: 8, blockSize: 4 }, 'ERR_INVALID_ARG_VALUE', /'options\.r' and 'options\.blockSize'/],
    [{ algorithm: 'scrypt', timeCost: 2 }, 'ERR_INVALID_ARG_VALUE', /'options\.timeCost' does not apply to scrypt/],
    [{ priority: 'urgent' }, 'ERR_INVALID_ARG_VALUE', /priority/],
    [{ timeout: -1 }, 'ERR_OUT_OF_RANGE', /timeout/],
    ['fast', 'ERR_INVALID_ARG_TYPE', /options/],
  ]
  for (const [options, expected, message] of cases) {
    const e = await rejection(hashPassword('pw', options))
    assert.equal(e.code, expected, JSON.stringify(options))
    assert.match(e.message, message)
    assert.ok(e instanceof (expected === 'ERR_OUT_OF_RANGE' ? RangeError : TypeError))
  }
  // Both spellings of one scrypt parameter may be given when they agree.
  assert.ok((await hashPassword('pw', { algorithm: 'scrypt', N: 1024, cost: 1024 })).startsWith('$scrypt$ln=10,'))
})

// Resolves once a task runs on `pool`.
async function running(pool) {
  while (pool.stats().running === 0) await new Promise((resolve) => setImmediate(resolve))
}

test('abort and timeout end a queued hash at once and a running one when it ends; a full queue refuses at once', async (t) => {
  const pool = new offload.Pool({ threads: 1, maxQueue: 1 })
  t.after(() => pool.close())
  const busy = spin(300, { pool })
  await running(pool)
  const ac = new AbortController()
  const queued = hashPassword('pw', { pool, signal: ac.signal })
  assert.equal(await code(verifyPassword('$2b$04$fs7hwf/ZgVrtHGkq1QFOxug3v.n5S7BKl8lJ6PwK6RJsv1MrKEGc6', 'pw', { pool })), 'ERR_OFFLOAD_QUEUE_FULL')
  ac.abort()
  assert.equal((await rejection(queued)).name, 'AbortError')
  assert.equal(await code(hashPassword('pw', { pool, timeout: 1 })), 'ERR_OFFLOAD_TIMEOUT')
  await busy
  // Running: a hash cannot stop mid-way, so the promise rejects when it ends (no result).
  const later = new AbortController()
  const slow = hashPassword('pw', { pool, memoryCost: 65536, timeCost: 3, signal: later.signal })
  await running(pool)
  later.abort()
  assert.equal((await rejection(slow)).name, 'AbortError')
  assert.equal(await verifyPassword(await hashPassword('pw', { pool, ...SMALL_ARGON2 }), 'pw', { pool }), true)
})

// bcrypt at cost 31 runs for about a day: only a mid-way cancel lets these settle (without it
// the test runner's timeout fails them), and the pool thread is free again afterwards.
test('a running bcrypt hash stops on timeout and on abort, and its thread serves the next task', async () => {
  const pool = new offload.Pool({ threads: 1, name: 'bcryptcancel' })
  try {
    assert.equal(await code(hashPassword('pw', { algorithm: 'bcrypt', cost: 31, timeout: 100, pool })), 'ERR_OFFLOAD_TIMEOUT')
    const ac = new AbortController()
    const running = hashPassword('pw', { algorithm: 'bcrypt', cost: 31, signal: ac.signal, pool })
    setTimeout(() => ac.abort(new Error('user left')), 100)
    const err = await rejection(running)
    assert.equal(err.name, 'AbortError')
    assert.equal(err.cause.message, 'user left')
    const stored = await hashPassword('pw', { algorithm: 'bcrypt', cost: 4, pool })
    assert.ok(await bcrypt.compare('pw', stored))
  } finally {
    await pool.close()
  }
})
