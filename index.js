'use strict'
// offload: CPU work on a dedicated Rust thread pool, supervised subprocesses and process pools,
// so the event loop never blocks. This file only gathers the public API from the feature folders
// under lib/ (cpu, images, files, parse, crypto, subprocess, process-pool, thread-pool, integrations; shared holds what
// they all use).
// Kernels read their input in place: do not modify (or transfer) an input buffer until the
// returned promise settles.
const { Pool, getDefaultPool } = require('./lib/cpu/pool')
const { hash, hmac, hashMany, compress, decompress } = require('./lib/cpu/kernels')
const { createCompressStream, createDecompressStream } = require('./lib/cpu/streams')
const { AbortError, OffloadError } = require('./lib/shared/errors')
const { Supervisor, SubprocessError, exec, processStats } = require('./lib/subprocess/process')
const { Subprocess, spawn } = require('./lib/subprocess/subprocess')
const { ProcessPool } = require('./lib/process-pool')
const { ThreadPool } = require('./lib/thread-pool')
const { imageInfo, transformImage } = require('./lib/images')
const { hashFile, hmacFile, compressFile, decompressFile, encryptFile, decryptFile } = require('./lib/files')
const { parseCsv, parseNdjson, parseJson } = require('./lib/parse')
const { hashPassword, verifyPassword, needsRehash, scrypt, pbkdf2, hkdf, encrypt, decrypt } = require('./lib/crypto')
const { pythonPath } = require('./lib/process-pool/options')
const { metrics } = require('./lib/integrations/metrics')

module.exports = {
  Pool,
  defaultPool: getDefaultPool,
  hash,
  hmac,
  hashMany,
  compress,
  decompress,
  createCompressStream,
  createDecompressStream,
  imageInfo,
  transformImage,
  hashFile,
  hmacFile,
  compressFile,
  decompressFile,
  encryptFile,
  decryptFile,
  parseCsv,
  parseNdjson,
  parseJson,
  hashPassword,
  verifyPassword,
  needsRehash,
  scrypt,
  pbkdf2,
  hkdf,
  encrypt,
  decrypt,
  exec,
  spawn,
  Supervisor,
  Subprocess,
  processStats,
  ProcessPool,
  ThreadPool,
  pythonPath,
  metrics,
  AbortError,
  OffloadError,
  SubprocessError,
}
