'use strict'
// Key derivation and authenticated encryption on the CPU pool (issue 16).
//
// `scrypt`, `pbkdf2` and `hkdf` take node:crypto's arguments in node's order and give its bytes
// (as a Buffer; node's `hkdf` gives an ArrayBuffer). `encrypt` seals with AES-256-GCM,
// AES-128-GCM or ChaCha20-Poly1305 (12-byte IV, 16-byte tag), interoperating with
// createCipheriv/createDecipheriv; `decrypt` releases nothing unless the tag verifies
// (`ERR_OFFLOAD_AUTH_FAILED`). Argument types are checked here, values (ranges, lengths,
// names) in the binding with node's codes. Like every kernel these read their inputs in place:
// do not modify a buffer until the promise settles. Strings are read as UTF-8; the binding wipes
// its copy of a string password or key after use.
const binding = require('../shared/native')
const { invalidArgType } = require('../shared/errors')
const { toBytes, toBinary, validateString } = require('../shared/validate')
const { call } = require('../cpu/run')

const EMPTY = new Uint8Array(0)

/**
 * @param {unknown} value
 * @param {string} name
 * @returns {number}
 */
function number(value, name) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  return value
}

const SCRYPT = ['N', 'cost', 'r', 'blockSize', 'p', 'parallelization', 'maxmem']

/** scrypt (RFC 7914): `keylen` bytes, node's `crypto.scrypt`. */
function scrypt(password, salt, keylen, options) {
  return call(options, (opts) => {
    const pw = toBytes(password, 'password')
    const s = toBytes(salt, 'salt')
    number(keylen, 'keylen')
    // A fresh object with the numbers read once (a getter runs here, not mid-submission).
    /** @type {Record<string, number>} */
    const o = {}
    for (const k of SCRYPT) {
      const v = opts[k]
      if (v !== undefined) o[k] = number(v, `options.${k}`)
    }
    return [[pw, s], (h, slot, p, c) => binding.submitScrypt(h, slot, pw, s, keylen, o, p, c)]
  })
}

/** PBKDF2-HMAC (RFC 8018): `keylen` bytes, node's `crypto.pbkdf2`. */
function pbkdf2(password, salt, iterations, keylen, digest, options) {
  return call(options, () => {
    const pw = toBytes(password, 'password')
    const s = toBytes(salt, 'salt')
    number(iterations, 'iterations')
    number(keylen, 'keylen')
    validateString(digest, 'digest')
    return [[pw, s], (h, slot, p, c) => binding.submitPbkdf2(h, slot, pw, s, iterations, keylen, digest, p, c)]
  })
}

/** HKDF (RFC 5869): `keylen` bytes, node's `crypto.hkdf` (as a Buffer). */
function hkdf(digest, ikm, salt, info, keylen, options) {
  return call(options, () => {
    validateString(digest, 'digest')
    const k = toBytes(ikm, 'ikm')
    const s = toBytes(salt, 'salt')
    const i = toBytes(info, 'info')
    number(keylen, 'keylen')
    return [[k, s, i], (h, slot, p, c) => binding.submitHkdf(h, slot, digest, k, s, i, keylen, p, c)]
  })
}

/** Encrypts and authenticates `plaintext`: `{ iv, ciphertext, authTag }`. */
function encrypt(algorithm, key, plaintext, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const k = toBytes(key, 'key')
    const data = toBytes(plaintext, 'plaintext')
    const iv = opts.iv === undefined ? undefined : toBinary(opts.iv, 'options.iv')
    const aad = opts.aad === undefined ? EMPTY : toBytes(opts.aad, 'options.aad')
    return [[k, data, aad], (h, slot, p, c) => binding.submitEncrypt(h, slot, algorithm, k, data, aad, iv, p, c)]
  }).then((r) => ({ iv: r[0], ciphertext: r[1], authTag: r[2] }))
}

/** Verifies and decrypts `{ iv, ciphertext, authTag }`: the plaintext, or `ERR_OFFLOAD_AUTH_FAILED`. */
function decrypt(algorithm, key, encrypted, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const k = toBytes(key, 'key')
    if (encrypted === null || typeof encrypted !== 'object') throw invalidArgType('encrypted', 'of type object', encrypted)
    const iv = toBinary(encrypted.iv, 'encrypted.iv')
    const data = toBinary(encrypted.ciphertext, 'encrypted.ciphertext')
    const tag = toBinary(encrypted.authTag, 'encrypted.authTag')
    const aad = opts.aad === undefined ? EMPTY : toBytes(opts.aad, 'options.aad')
    return [[k, data, aad], (h, slot, p, c) => binding.submitDecrypt(h, slot, algorithm, k, iv, data, tag, aad, p, c)]
  })
}

module.exports = { scrypt, pbkdf2, hkdf, encrypt, decrypt }
