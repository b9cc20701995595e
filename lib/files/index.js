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
const nodePath = require('node:path')
const { constants } = require('node:os')
const { fileURLToPath } = require('node:url')
const binding = require('../shared/native')
const { invalidArgType, invalidArgValue } = require('../shared/errors')
const { toBytes, validateString, optionalString, optionalInteger, optionalBoolean, optionalNumber } = require('../shared/validate')
const { call } = require('../cpu/run')

const PATH_TYPES = 'of type string or an instance of Buffer or URL'

// The path as absolute bytes (a Buffer the binding copies): strings and URLs through
// path.resolve, Buffers (which may not be UTF-8) joined to the working directory as bytes.
function resolvedPath(value, name) {
  let p = value
  if (value instanceof URL) {
    try {
      p = fileURLToPath(value)
    } catch (err) {
      // Not a file: URL (or one with a host): said as a bad value, the code the CPU layer keeps.
      throw invalidArgValue(name, value, `must be a file: URL (${err.message})`)
    }
  }
  if (typeof p === 'string') {
    if (p.length === 0 || p.includes('\u0000')) throw nullBytes(name, value)
    return Buffer.from(nodePath.resolve(p))
  }
  if (p instanceof Uint8Array) {
    if (p.length === 0 || p.includes(0)) throw nullBytes(name, value)
    if (p[0] === 0x2f) return Buffer.from(p)
    return Buffer.concat([Buffer.from(`${process.cwd()}/`), p])
  }
  throw invalidArgType(name, PATH_TYPES, value)
}

function nullBytes(name, value) {
  return invalidArgValue(name, value, 'must be a non-empty string, Uint8Array, or URL without null bytes')
}

// node's message for a failed file call: `ENOENT: no such file or directory, open '/x'`.
const FS_MESSAGE = /^([A-Z0-9]+): ([^,]*), (\w+) '([\s\S]*)'$/
// libuv's UV_UNKNOWN, node's errno for a code it has no number for.
const UV_UNKNOWN = -4094

// A task error whose code is an errno name becomes the Error node:fs would reject with.
function fsError(err) {
  const m = typeof err?.code === 'string' && !err.code.startsWith('ERR_') && FS_MESSAGE.exec(err.message)
  if (!m || m[1] !== err.code) throw err
  const e = /** @type {NodeJS.ErrnoException} */ (new Error(err.message))
  const n = constants.errno[/** @type {keyof typeof constants.errno} */ (err.code)]
  e.errno = n === undefined ? UV_UNKNOWN : -n
  e.code = err.code
  e.syscall = m[3]
  e.path = m[4]
  throw e
}

/** @param {[number, number]} r the binding's [bytesRead, bytesWritten] */
function transfer(r) {
  return { bytesRead: r[0], bytesWritten: r[1] }
}

// A fresh object with the validated values only (see lib/cpu/kernels.js `only`).
function pick(opts, checks) {
  const o = {}
  for (const [key, check] of checks) {
    const v = check(opts, key)
    if (v !== undefined) o[key] = v
  }
  return o
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
