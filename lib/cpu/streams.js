// TEMPORARY stand-in, replaced at merge by the real lib/cpu/streams.js
'use strict'
// createCompressStream(format, { level, pool, priority }) with the real module's signature, so
// offload/express's compression() can be built and tested before the pool-backed streams land.
// It compresses with node:zlib (libuv's threads), but each chunk is first admitted by the
// offload pool (a hash of the chunk on it), so a full queue fails a chunk with the pool's own
// ERR_OFFLOAD_QUEUE_FULL as the real stream does. zstd is refused: Node 20 has none.
const { Transform } = require('node:stream')
const zlib = require('node:zlib')
const { hash } = require('./kernels')

// Marks a flush in the write queue, so it is ordered after the chunks written before it.
const FLUSH = Buffer.alloc(0)

function inner(format, level) {
  switch (format) {
    case 'gzip': return zlib.createGzip({ level })
    case 'deflate': return zlib.createDeflate({ level })
    case 'brotli': return zlib.createBrotliCompress(level === undefined ? {} : { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level } })
    default: throw Object.assign(new Error(`the temporary lib/cpu/streams.js does not compress ${format}`), { code: 'ERR_OFFLOAD_UNSUPPORTED_FORMAT' })
  }
}

class CompressStream extends Transform {
  #z
  #pool
  #priority
  #kind

  /** @param {string} format @param {{ level?: number, pool?: any, priority?: string }} [options] */
  constructor(format, { level, pool, priority } = {}) {
    super()
    this.#z = inner(format, level)
    this.#kind = format === 'brotli' ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH
    this.#pool = pool
    this.#priority = priority
    this.#z.on('data', (c) => this.push(c))
    this.#z.on('error', (e) => this.destroy(e))
  }

  _transform(chunk, encoding, callback) {
    if (chunk === FLUSH) {
      this.#z.flush(this.#kind, () => callback())
      return
    }
    hash('sha256', chunk, { pool: this.#pool, priority: this.#priority }).then(
      () => this.#z.write(chunk, () => callback()),
      (err) => callback(err))
  }

  _flush(callback) {
    this.#z.once('end', () => callback())
    this.#z.end()
  }

  _destroy(err, callback) {
    this.#z.destroy()
    callback(err)
  }

  /** A sync flush: everything written so far comes out decodable. */
  flush(callback) {
    this.write(FLUSH, callback)
  }
}

function createCompressStream(format, options) {
  return new CompressStream(format, options)
}

module.exports = { createCompressStream }
