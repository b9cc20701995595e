'use strict'
// compression(options): the `compression` middleware's contract, with the bytes compressed on
// the offload pool (lib/cpu/streams.js) instead of node:zlib on libuv's threads.
//
// How it works: per response, res.writeHead/write/end/flush/flushHeaders are wrapped. The
// decision is taken when the head would be written (on-headers' moment, as `compression`):
// filter, Cache-Control no-transform, Vary, status and method, threshold, an existing
// Content-Encoding, then Accept-Encoding. When it compresses, the real head is held back until
// the compressor's first output, so a compressor that fails before that (the pool's
// ERR_OFFLOAD_QUEUE_FULL on the first chunk) costs only compression: the head goes out
// without Content-Encoding and the chunks written so far, kept until then, are replayed as
// they were. The first write is followed by a sync flush, so that moment comes after one
// chunk, not after the encoder's first full block (a few bytes; early first byte too). A body
// given whole to end() before any write (res.send, res.json) is compressed in one task by the
// one-shot kernel instead (no stream, a Content-Length), with the same fallback.
//
// Guarantees: at most the chunks written before the first output are held; write() returns
// false while the compressor is full and 'drain' is emitted on res when it empties; the
// compressor is paused while the socket is full and destroyed when the response closes; a
// failure after the head is out destroys the response (the client sees a truncated body,
// never a wrong one).
const { OutgoingMessage } = require('node:http')
const zlib = require('node:zlib')
const { createCompressStream } = require('../cpu/streams')
const { compress } = require('../cpu/kernels')
const { Pool } = require('../cpu/pool')
const { invalidArgType, invalidArgValue, outOfRange, withCode } = require('../shared/errors')
const { validateOptions } = require('../shared/validate')
const { negotiate, addVary, noTransform, compressible, parseThreshold } = require('./negotiate')

// Content codings by server preference; stream format, level range and default level (those
// CDNs use for dynamic responses: brotli 4 and zstd 3 cost about what gzip 6 does).
const CODINGS = {
  zstd: { format: 'zstd', min: 1, max: 22, level: 3 },
  br: { format: 'brotli', min: 0, max: 11, level: 4 },
  gzip: { format: 'gzip', min: 0, max: 9, level: 6 },
  deflate: { format: 'deflate', min: 0, max: 9, level: 6 },
}
const PREFERENCE = Object.freeze(['zstd', 'br', 'gzip', 'deflate'])
const PRIORITIES = new Set(['high', 'normal', 'low'])
const headersSentOf = Object.getOwnPropertyDescriptor(OutgoingMessage.prototype, 'headersSent').get
const noop = () => {}

function level(name, value, coding) {
  const { min, max } = CODINGS[coding]
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value)
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, `an integer >= ${min} && <= ${max}`, value)
  return value
}

function levelsOf(o) {
  const out = { zstd: 3, br: 4, gzip: 6, deflate: 6 }
  // `compression`'s own spellings: `level` is zlib's (gzip and deflate; -1 its default), and
  // brotli's quality sits in `brotli.params`.
  if (o.level !== undefined) out.gzip = out.deflate = o.level === -1 ? 6 : level('options.level', o.level, 'gzip')
  const quality = o.brotli?.params?.[zlib.constants.BROTLI_PARAM_QUALITY]
  if (quality !== undefined) out.br = level('options.brotli.params[BROTLI_PARAM_QUALITY]', quality, 'br')
  if (o.levels === undefined) return out
  if (o.levels === null || typeof o.levels !== 'object') throw invalidArgType('options.levels', 'of type object', o.levels)
  for (const [coding, value] of Object.entries(o.levels)) {
    if (!Object.hasOwn(CODINGS, coding)) throw invalidArgValue(`options.levels.${coding}`, value, `names no coding offered (${PREFERENCE.join(', ')})`)
    if (value !== undefined) out[coding] = level(`options.levels.${coding}`, value, coding)
  }
  return out
}

function encodingsOf(value) {
  if (value === undefined) return PREFERENCE
  if (!Array.isArray(value)) throw invalidArgType('options.encodings', 'an instance of Array', value)
  for (const [i, coding] of value.entries()) {
    if (!Object.hasOwn(CODINGS, coding)) throw invalidArgValue(`options.encodings[${i}]`, coding, `must be one of ${PREFERENCE.join(', ')}`)
    if (value.indexOf(coding) !== i) throw invalidArgValue(`options.encodings[${i}]`, coding, 'is listed twice')
  }
  return Object.freeze([...value])
}

function configOf(options) {
  const o = validateOptions(options)
  const filter = o.filter ?? compressible
  if (typeof filter !== 'function') throw invalidArgType('options.filter', 'of type function', filter)
  const onFallback = o.onFallback ?? noop
  if (typeof onFallback !== 'function') throw invalidArgType('options.onFallback', 'of type function', onFallback)
  const encodings = encodingsOf(o.encodings)
  const enforce = o.enforceEncoding ?? 'identity'
  if (enforce !== 'identity' && !encodings.includes(enforce)) throw invalidArgValue('options.enforceEncoding', enforce, `must be 'identity' or one of ${encodings.join(', ')}`)
  if (o.pool !== undefined && !(o.pool instanceof Pool)) throw invalidArgType('options.pool', 'an instance of Pool', o.pool)
  if (o.priority !== undefined && !PRIORITIES.has(o.priority)) throw invalidArgValue('options.priority', o.priority, "must be 'high', 'normal' or 'low'")
  return {
    filter, onFallback, encodings, enforce: enforce === 'identity' ? undefined : enforce,
    threshold: parseThreshold(o.threshold), levels: levelsOf(o), pool: o.pool, priority: o.priority,
  }
}

// The coding for this response, or undefined to send it as it is. `length` is the body's
// size when end(chunk) wrote the head, else undefined.
function choose(req, res, c, length) {
  if (!c.filter(req, res) || noTransform(res)) return undefined
  // Every response the filter lets through varies with Accept-Encoding, compressed or not
  // (HEAD and 304 included: their headers must be the GET's).
  addVary(res)
  const status = res.statusCode
  if (req.method === 'HEAD' || status === 204 || status === 304 || status < 200) return undefined
  // A range of the identity bytes: compressed, its Content-Range would describe other bytes.
  if (res.hasHeader('Content-Range')) return undefined
  const declared = res.getHeader('Content-Length')
  if ((declared !== undefined && Number(declared) < c.threshold) || (length !== undefined && length < c.threshold)) return undefined
  const current = res.getHeader('Content-Encoding')
  if (current !== undefined && String(current).toLowerCase() !== 'identity') return undefined
  const accept = req.headers['accept-encoding']
  return accept === undefined ? c.enforce : negotiate(accept, c.encodings)
}

function toBuffer(chunk, encoding) {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8')
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

const isChunk = (chunk) => typeof chunk === 'string' || chunk instanceof Uint8Array

function headersAlreadySent() {
  return withCode(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client')
}

// The head's headers as writeHead(status, [message], [headers]) takes them: an object or
// Node's flat [name, value, name, value] array.
function applyHeaders(res, headers) {
  if (Array.isArray(headers)) {
    for (let n = 0; n + 1 < headers.length; n += 2) res.appendHeader(headers[n], headers[n + 1])
  } else if (headers !== null && typeof headers === 'object') {
    for (const name of Object.keys(headers)) res.setHeader(name, headers[name])
  }
}

function attach(req, res, c, stats) {
  const _writeHead = res.writeHead
  const _write = res.write
  const _end = res.end
  const _flushHeaders = res.flushHeaders
  let decided = false
  let coding
  let stream = null // the compressor, while compressing
  let pendingHead = false // compressing, and the real head not written yet
  let held = null // [buffer, callback] written before the first output, for a fallback
  let flushAsked = false
  let ended = false
  let endCallback
  let length
  let owedDrain = false
  let paused = false
  let whole = null // the body, when end(body) came before any write: compressed in one task

  Object.defineProperty(res, 'headersSent', { configurable: true, get() { return pendingHead || headersSentOf.call(this) } })

  function compressedHead(length) {
    pendingHead = false
    res.setHeader('Content-Encoding', coding)
    if (length === undefined) res.removeHeader('Content-Length')
    else res.setHeader('Content-Length', length)
    // A strong ETag promises these exact bytes; the compressed ones are only equivalent
    // (RFC 9110 8.8.1), as nginx does. Express's own ETags are weak already.
    const etag = res.getHeader('ETag')
    if (typeof etag === 'string' && !etag.startsWith('W/')) res.setHeader('ETag', `W/${etag}`)
    stats.compressed[coding]++
    _writeHead.call(res, res.statusCode)
  }

  function commit() {
    compressedHead(undefined)
    for (const [, cb] of held) if (cb !== undefined) process.nextTick(cb)
    held = null
  }

  function fallback(err) {
    const s = stream
    stream = null
    pendingHead = false
    s.removeListener('data', onData).removeListener('end', onEnd).removeListener('drain', onStreamDrain)
    s.destroy()
    stats.fallbacks++
    _writeHead.call(res, res.statusCode)
    const chunks = held
    held = null
    for (const [buffer, cb] of chunks) _write.call(res, buffer, cb)
    if (ended) _end.call(res, undefined, undefined, endCallback)
    else if (owedDrain) {
      owedDrain = false
      if (!res.writableNeedDrain) process.nextTick(() => res.emit('drain'))
    }
    // Last: the response is on its way whatever the hook does.
    c.onFallback(err, req, res)
  }

  function onData(chunk) {
    if (pendingHead) commit()
    if (_write.call(res, chunk) === false) {
      paused = true
      stream.pause()
    }
  }
  function onEnd() {
    if (pendingHead) commit()
    _end.call(res, undefined, undefined, endCallback)
  }
  function onError(err) {
    if (stream === null) return
    if (pendingHead) return fallback(err)
    stream = null
    res.destroy(err)
  }
  function onStreamDrain() {
    if (!owedDrain) return
    owedDrain = false
    res.emit('drain')
  }
  function onResDrain() {
    if (!paused || stream === null) return
    paused = false
    stream.resume()
  }

  // The whole body in one task (res.send, res.json, res.end(body)): the one-shot kernel,
  // whose gzip runs libdeflate, with no stream state, no flush and a Content-Length. A
  // failure (a full queue) sends the body as it is, as the streaming path's fallback does.
  function startWhole() {
    const body = whole
    whole = null
    pendingHead = true
    compress(CODINGS[coding].format, body, { level: c.levels[coding], pool: c.pool, priority: c.priority }).then((out) => {
      compressedHead(out.length)
      _end.call(res, out, undefined, endCallback)
    }, (err) => {
      pendingHead = false
      stats.fallbacks++
      _writeHead.call(res, res.statusCode)
      _end.call(res, body, undefined, endCallback)
      c.onFallback(err, req, res)
    })
  }

  function start() {
    if (whole !== null) {
      startWhole()
      return true
    }
    try {
      const { format } = CODINGS[coding]
      stream = createCompressStream(format, { level: c.levels[coding], pool: c.pool, priority: c.priority })
    } catch (err) {
      // Refused before any byte (an encoding this build lacks): the response goes out as it is.
      stats.fallbacks++
      c.onFallback(err, req, res)
      return false
    }
    pendingHead = true
    held = []
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('drain', onStreamDrain)
    res.on('drain', onResDrain)
    res.once('close', () => stream?.destroy())
    return true
  }

  res.writeHead = function writeHead(statusCode, ...rest) {
    if (pendingHead) throw headersAlreadySent()
    // Already decided, or a status Node refuses: Node's own writeHead answers (and throws).
    if (decided || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) return _writeHead.call(this, statusCode, ...rest)
    decided = true
    let i = 0
    if (typeof rest[0] === 'string') this.statusMessage = rest[i++]
    this.statusCode = statusCode
    applyHeaders(this, rest[i])
    coding = choose(req, this, c, length)
    if (coding !== undefined && start()) return this
    return _writeHead.call(this, this.statusCode)
  }

  res.write = function write(chunk, encoding, cb) {
    if (typeof encoding === 'function') {
      cb = encoding
      encoding = undefined
    }
    if (!isChunk(chunk)) return _write.call(this, chunk, encoding, cb) // Node's own error
    if (!decided && !headersSentOf.call(this)) this.writeHead(this.statusCode)
    if (ended) {
      if (typeof cb === 'function') process.nextTick(cb, withCode(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end'))
      return false
    }
    if (stream === null) return _write.call(this, chunk, encoding, cb)
    const buffer = toBuffer(chunk, encoding)
    let ok
    if (pendingHead) {
      held.push([buffer, cb])
      ok = stream.write(buffer)
    } else {
      ok = stream.write(buffer, cb)
    }
    if (!flushAsked) {
      flushAsked = true
      stream.flush(noop)
    }
    if (!ok) owedDrain = true
    return ok
  }

  res.end = function end(chunk, encoding, cb) {
    if (typeof chunk === 'function') {
      cb = chunk
      chunk = undefined
    } else if (typeof encoding === 'function') {
      cb = encoding
      encoding = undefined
    }
    if (chunk != null && !isChunk(chunk)) return _end.call(this, chunk, encoding, cb) // Node's own error
    if (!decided && !headersSentOf.call(this)) {
      // A string body is encoded once, here: its length, the one-shot task and, when it is
      // not compressed, the response itself all use these bytes.
      if (chunk != null) whole = toBuffer(chunk, encoding)
      if (this.getHeader('Content-Length') === undefined) length = whole === null ? 0 : whole.length
      endCallback = cb
      this.writeHead(this.statusCode)
      if (pendingHead && stream === null) {
        ended = true
        return this
      }
      if (whole !== null) {
        chunk = whole
        encoding = undefined
        whole = null
      }
    }
    if (ended) return this
    if (stream === null) return _end.call(this, chunk, encoding, cb)
    ended = true
    endCallback = cb
    if (chunk == null) {
      stream.end()
      return this
    }
    const buffer = toBuffer(chunk, encoding)
    if (pendingHead) held.push([buffer, undefined])
    stream.end(buffer)
    return this
  }

  // A sync flush of what was written so far, for server-sent events and long polls.
  res.flush = function flush() {
    if (stream !== null && !ended) {
      flushAsked = true
      stream.flush(noop)
    }
  }

  // Compressing, the head leaves with the compressor's first output: a flush asks for it now.
  res.flushHeaders = function flushHeaders() {
    if (!decided && !headersSentOf.call(this)) this.writeHead(this.statusCode)
    // Ended too: the head goes out with the output, on its way.
    if (pendingHead) return ended ? undefined : this.flush()
    return _flushHeaders.call(this)
  }
}

/**
 * Middleware compressing responses on the offload pool; a drop-in for the `compression`
 * package (see docs/integrations.md and express.d.ts for the options).
 */
function compression(options) {
  const c = configOf(options)
  const stats = { compressed: { zstd: 0, br: 0, gzip: 0, deflate: 0 }, fallbacks: 0 }
  function offloadCompression(req, res, next) {
    attach(req, res, c, stats)
    next()
  }
  offloadCompression.stats = () => ({ compressed: { ...stats.compressed }, fallbacks: stats.fallbacks })
  return offloadCompression
}
// As `compression.filter`: the default filter, for a filter of your own to fall back on.
compression.filter = compressible

module.exports = { compression }
