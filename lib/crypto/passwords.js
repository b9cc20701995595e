'use strict'
// Password hashing on the CPU pool: `hashPassword` (argon2id by default, argon2i, argon2d,
// scrypt, bcrypt) writes PHC strings for argon2 and scrypt and `$2b$` for bcrypt;
// `verifyPassword` reads those and the hashes of @node-rs/argon2, node-argon2 and bcrypt
// (`$2a$`, `$2b$`, `$2y$`), comparing in constant time; `needsRehash` only parses, so it is
// synchronous. Hash and verify take the CPU pool's task options (signal, timeout, priority,
// pool) and run whole once started: an abort or timeout stops a hash still queued or waiting
// for memory, and otherwise rejects when the running hash ends. A password is a string (read
// as UTF-8) or binary data, read in place: do not modify it until the promise settles.
// Options are copied key by key here, so the binding never runs a caller's getter.
const binding = require('../shared/native')
const { fromNative } = require('../shared/errors')
const { toBytes, validateString, validateOptions, optionalString, optionalNumber } = require('../shared/validate')
const { call } = require('../cpu/run')

const NUMBERS = ['memoryCost', 'timeCost', 'parallelism', 'N', 'r', 'p', 'cost', 'blockSize', 'parallelization']

// The algorithm options as a fresh object of the known keys, types checked (values are
// checked in Rust: napi/src/options/passwords.rs).
function passwordOptions(o) {
  const out = {}
  const algorithm = optionalString(o, 'algorithm')
  if (algorithm !== undefined) out.algorithm = algorithm
  for (const k of NUMBERS) {
    const v = optionalNumber(o, k)
    if (v !== undefined) out[k] = v
  }
  return out
}

/** Hashes `password` with a fresh 16-byte salt: the encoded hash. */
function hashPassword(password, options) {
  return call(options, (opts) => {
    const bytes = toBytes(password, 'password')
    const spec = passwordOptions(opts)
    return [bytes, (h, slot, p, c) => binding.submitHashPassword(h, slot, bytes, spec, p, c)]
  })
}

/** Whether `password` is the one `encoded` was made from; a wrong one is `false`. */
function verifyPassword(encoded, password, options) {
  return call(options, () => {
    validateString(encoded, 'encoded')
    const bytes = toBytes(password, 'password')
    return [bytes, (h, slot, p, c) => binding.submitVerifyPassword(h, slot, encoded, bytes, p, c)]
  })
}

/** Whether hashing with `options` would give another kind of hash than `encoded`. */
function needsRehash(encoded, options) {
  validateString(encoded, 'encoded')
  const spec = passwordOptions(validateOptions(options))
  try {
    return binding.needsRehash(encoded, spec)
  } catch (err) {
    throw fromNative(err)
  }
}

module.exports = { hashPassword, verifyPassword, needsRehash }
