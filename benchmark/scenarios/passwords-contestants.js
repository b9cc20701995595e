'use strict'
// The password hashers of the passwords scenario and their parameter sets, written once so that
// the timed helper processes (workers/passwords.js) and the scenario's untimed checks make the
// same calls. Each is used as its docs show:
// - offload: hashPassword(password, { algorithm, ...parameters, pool }) and
//   verifyPassword(encoded, password, { pool }) on a pool of its own;
// - @node-rs/argon2 2: hash(password, { algorithm: Algorithm.Argon2id, memoryCost, timeCost,
//   parallelism }), verify(encoded, password) (napi AsyncTask: libuv's threadpool);
// - argon2 (node-argon2): hash(password, { type: argon2id, memoryCost, timeCost, parallelism }),
//   verify(encoded, password) (libuv's threadpool);
// - bcrypt: hash(password, cost), compare(password, encoded) (libuv's threadpool);
// - node:crypto: crypto.scrypt(password, 16 random bytes, 32, { N, r, p, maxmem }) (libuv's
//   threadpool), encoded here as the PHC string RustCrypto's scrypt writes
//   ($scrypt$ln=..,r=..,p=..$salt$hash, unpadded base64) and verified by recomputing it and
//   comparing with crypto.timingSafeEqual. Node's docs leave the storage format to the caller.
// Every hash carries its parameters; checkEncoded() reads them back, so a row cannot quietly
// hash at other parameters than the table says.

const crypto = require('node:crypto')
const { promisify } = require('node:util')

const PASSWORD = 'correct horse battery staple'
const WRONG = 'correct horse battery stapler'

// Parameter sets, in table order. `quick: false` sets run only in the full benchmark.
const CONFIGS = {
  argon2id: {
    label: 'argon2id m=19456 KiB, t=2, p=1 (OWASP; offload\'s and @node-rs/argon2 2\'s defaults): the headline',
    family: 'argon2',
    options: { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2, parallelism: 1 },
    anchors: ['@node-rs/argon2', 'argon2']
  },
  argon2id4m: {
    label: 'argon2id m=4096 KiB, t=3, p=1 (the defaults issue 16 measured; @node-rs/argon2 2.2.1 defaults to OWASP\'s)',
    family: 'argon2',
    options: { algorithm: 'argon2id', memoryCost: 4096, timeCost: 3, parallelism: 1 },
    anchors: ['@node-rs/argon2', 'argon2'],
    quick: false
  },
  bcrypt: {
    label: 'bcrypt cost 10 (OWASP; $2b$)',
    family: 'bcrypt',
    options: { algorithm: 'bcrypt', cost: 10 },
    anchors: ['bcrypt']
  },
  scrypt: {
    label: 'scrypt N=16384, r=8, p=1 (node\'s default; 16 MiB)',
    family: 'scrypt',
    options: { algorithm: 'scrypt', N: 16384, r: 8, p: 1 },
    anchors: ['node:crypto']
  },
  scrypt17: {
    label: 'scrypt N=131072, r=8, p=1 (OWASP; 128 MiB)',
    family: 'scrypt',
    options: { algorithm: 'scrypt', N: 131072, r: 8, p: 1 },
    anchors: ['node:crypto'],
    quick: false
  }
}

const b64 = (buf) => buf.toString('base64').replace(/=+$/, '')
const scryptAsync = promisify(crypto.scrypt)
// node refuses more than maxmem (default 32 MiB) bytes; scrypt needs 128 * N * r of them.
const scryptOptions = ({ N, r, p }) => ({ N, r, p, maxmem: 256 * N * r })

function parseScrypt (encoded) {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(encoded)
  if (!m) return null
  return { N: 2 ** Number(m[1]), r: Number(m[2]), p: Number(m[3]), salt: Buffer.from(m[4], 'base64'), hash: Buffer.from(m[5], 'base64') }
}

async function nodeScryptVerify (encoded, password) {
  const s = parseScrypt(encoded)
  if (!s) throw new Error(`not a $scrypt$ PHC string: ${encoded}`)
  const got = await scryptAsync(password, s.salt, s.hash.length, scryptOptions(s))
  return crypto.timingSafeEqual(got, s.hash)
}

// { hash: () => Promise<string>, verify: (encoded, password = PASSWORD) => Promise<boolean> }
// for contestant `kind` at parameter set `key`. `pool` is offload's Pool.
function hasher (kind, key, { pool } = {}) {
  const o = CONFIGS[key].options
  if (kind === 'offload') {
    const { hashPassword, verifyPassword } = require('../..')
    return { hash: () => hashPassword(PASSWORD, { ...o, pool }), verify: (e, pw = PASSWORD) => verifyPassword(e, pw, { pool }) }
  }
  if (kind === '@node-rs/argon2') {
    const a = require('@node-rs/argon2')
    const options = { algorithm: a.Algorithm.Argon2id, memoryCost: o.memoryCost, timeCost: o.timeCost, parallelism: o.parallelism }
    return { hash: () => a.hash(PASSWORD, options), verify: (e, pw = PASSWORD) => a.verify(e, pw) }
  }
  if (kind === 'argon2') {
    const a = require('argon2')
    const options = { type: a.argon2id, memoryCost: o.memoryCost, timeCost: o.timeCost, parallelism: o.parallelism }
    return { hash: () => a.hash(PASSWORD, options), verify: (e, pw = PASSWORD) => a.verify(e, pw) }
  }
  if (kind === 'bcrypt') {
    const b = require('bcrypt')
    return { hash: () => b.hash(PASSWORD, o.cost), verify: (e, pw = PASSWORD) => b.compare(pw, e) }
  }
  if (kind === 'node:crypto') {
    return {
      hash: async () => {
        const salt = crypto.randomBytes(16)
        const hash = await scryptAsync(PASSWORD, salt, 32, scryptOptions(o))
        return `$scrypt$ln=${Math.log2(o.N)},r=${o.r},p=${o.p}$${b64(salt)}$${b64(hash)}`
      },
      verify: (e, pw = PASSWORD) => nodeScryptVerify(e, pw)
    }
  }
  throw new Error(`unknown password contestant ${kind}`)
}

// The start every hash at parameter set `key` must have: its algorithm and parameters.
function prefixOf (key) {
  const o = CONFIGS[key].options
  if (o.algorithm === 'bcrypt') return `$2b$${String(o.cost).padStart(2, '0')}$`
  if (o.algorithm === 'scrypt') return `$scrypt$ln=${Math.log2(o.N)},r=${o.r},p=${o.p}$`
  return `$${o.algorithm}$v=19$m=${o.memoryCost},t=${o.timeCost},p=${o.parallelism}$`
}

// Throws unless `encoded` (made by `who`) is a hash at parameter set `key`.
function checkEncoded (key, encoded, who) {
  if (typeof encoded !== 'string' || !encoded.startsWith(prefixOf(key))) throw new Error(`${who} made ${JSON.stringify(encoded)} for ${key}, expected a hash starting ${prefixOf(key)}`)
}

// Throws unless `verify` accepts `encoded` for PASSWORD and rejects it for a wrong password.
async function checkVerify (verify, encoded, who) {
  const ok = await verify(encoded, PASSWORD)
  const wrong = await verify(encoded, WRONG)
  if (ok !== true || wrong !== false) throw new Error(`${who} verified ${encoded}: ${ok} for the password, ${wrong} for a wrong one (expected true, false)`)
}

// Independent checks of a hash that `who` made at `key`: read with every anchor of the family
// other than `who` (the bcrypt and node:crypto anchors, the only ones of theirs, read their own).
async function checkWithOracles (key, encoded, who) {
  checkEncoded(key, encoded, who)
  const anchors = CONFIGS[key].anchors
  const oracles = anchors.filter((k) => k !== who)
  for (const k of oracles.length ? oracles : anchors) await checkVerify(hasher(k, key).verify, encoded, `${k} (oracle for ${who})`)
}

module.exports = { PASSWORD, WRONG, CONFIGS, hasher, checkEncoded, checkVerify, checkWithOracles, parseScrypt }
