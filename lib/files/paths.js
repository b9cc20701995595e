'use strict'
// Paths as node:fs takes them (string, Buffer, file: URL), resolved at the call, and task
// errors of file calls rebuilt as the errors node:fs rejects with. Shared by the file kernels
// and the parsers' { path } sources.
const nodePath = require('node:path')
const { constants } = require('node:os')
const { fileURLToPath } = require('node:url')
const { invalidArgType, invalidArgValue } = require('../shared/errors')

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

module.exports = { resolvedPath, fsError }
