'use strict'
// Files on the CPU pool (issue 17): hashFile, hmacFile, compressFile, decompressFile,
// encryptFile, decryptFile (the offload STREAM format of docs/encryption.md). The pool
// thread running the task opens, reads (pread, 1 MiB at a time through one buffer) and writes
// the files itself, so neither libuv nor the JS thread touches the data and memory stays
// constant whatever the size. Outputs are written to a temporary file beside `dest` and renamed
// over it only on success: an error, abort or timeout never leaves a partial `dest`.
//
// Paths are taken as node:fs takes them (string, Buffer, file: URL) and resolved against the
// working directory here, at the call: a later process.chdir() does not change the file a
// queued task opens. File failures reject with errors shaped like node:fs's (`code`, negative
// `errno`, `syscall`, `path` — the resolved path — and node's message).
const binding = require('../shared/native')
const { invalidArgValue } = require('../shared/errors')
const { resolvedPath, fsError } = require('./paths')
const { toBytes, validateString, optionalString, optionalInteger, optionalBoolean, optionalNumber, pick } = require('../shared/validate')
const { call } = require('../cpu/run')

/** @param {[number, number]} r the binding's [bytesRead, bytesWritten] */
function transfer(r) {
  return { bytesRead: r[0], bytesWritten: r[1] }
}

/** Digest of the file at `path`. */
function hashFile(algorithm, path, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const p = resolvedPath(path, 'path')
    const o = pick(opts, [['encoding', optionalString]])
    return [p, (h, slot, pr, c) => binding.submitHashFile(h, slot, algorithm, p, o, pr, c)]
  }).then(undefined, fsError)
}

/** HMAC of the file at `path` under `key`. */
function hmacFile(algorithm, key, path, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const k = toBytes(key, 'key')
    const p = resolvedPath(path, 'path')
    const o = pick(opts, [['encoding', optionalString]])
    return [k, (h, slot, pr, c) => binding.submitHmacFile(h, slot, algorithm, k, p, o, pr, c)]
  }).then(undefined, fsError)
}

/** Compresses `src` into `dest` (replaced whole, or left alone on failure). */
function compressFile(format, src, dest, options) {
  return call(options, (opts) => {
    validateString(format, 'format')
    const s = resolvedPath(src, 'src')
    const d = resolvedPath(dest, 'dest')
    const o = pick(opts, [['level', optionalInteger], ['fsync', optionalBoolean]])
    return [s, (h, slot, pr, c) => binding.submitCompressFile(h, slot, format, s, d, o, pr, c)]
  }).then(transfer, fsError)
}

/** Decompresses `src` into `dest` (replaced whole, or left alone on failure). */
function decompressFile(format, src, dest, options) {
  return call(options, (opts) => {
    validateString(format, 'format')
    const s = resolvedPath(src, 'src')
    const d = resolvedPath(dest, 'dest')
    const o = pick(opts, [['maxOutputLength', optionalNumber], ['fsync', optionalBoolean]])
    return [s, (h, slot, pr, c) => binding.submitDecompressFile(h, slot, format, s, d, o, pr, c)]
  }).then(transfer, fsError)
}

/** Encrypts `src` into `dest` in the offload STREAM format (docs/encryption.md). */
function encryptFile(algorithm, key, src, dest, options) {
  return cipherFile(false, algorithm, key, src, dest, options)
}

/** Decrypts `src` into `dest`; `dest` appears only once every segment verified. */
function decryptFile(algorithm, key, src, dest, options) {
  return cipherFile(true, algorithm, key, src, dest, options)
}

/**
 * @param {boolean} decrypt
 * @param {unknown} algorithm @param {unknown} key @param {unknown} src @param {unknown} dest
 * @param {any} options
 */
function cipherFile(decrypt, algorithm, key, src, dest, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const k = toBytes(key, 'key')
    const s = resolvedPath(src, 'src')
    const d = resolvedPath(dest, 'dest')
    const o = pick(opts, [['fsync', optionalBoolean]])
    return [k, (h, slot, pr, c) => binding.submitCipherFile(h, slot, decrypt, algorithm, k, s, d, o, pr, c)]
  }).then(transfer, fsError)
}

module.exports = { hashFile, hmacFile, compressFile, decompressFile, encryptFile, decryptFile }
