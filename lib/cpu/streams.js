'use strict'
// Streams on the CPU pool: compression and decompression as Node Transform streams, and
// hashing a Readable or an AsyncIterable (what `hash`/`hmac` do when given one).
//
// How: a native stream (napi/src/streams.rs) keeps an incremental kernel between chunks, and
// each step of it is one pool task reading its chunks in place. A stream has at most one
// task in flight, which keeps the chunks in order and bounds memory: the write callback waits
// for the task, so Writable buffering (writableHighWaterMark) holds back the producer; output
// is pushed and Transform's own logic holds the next write while the readable side is full
// (readableHighWaterMark). Writes buffered meanwhile go to one task together (`_writev`); they
// are read in place, so coalescing copies nothing. A decompression task stops once it has made
// `chunkSize` bytes and continues only when the consumer reads (`_read`), so a small input
// that expands a thousandfold never sits whole in memory.
//
// Guarantees: `destroy()` (or the `signal` option) cancels the task in flight; 'close' is
// emitted only after that task has ended, so native code no longer reads the chunks, and the
// native state is freed then. Corrupt or truncated input is a stream error with
// ERR_OFFLOAD_CORRUPT_INPUT; output past `maxOutputLength` ERR_OFFLOAD_OUTPUT_TOO_LARGE.
const { Transform } = require('node:stream')
const binding = require('../shared/native')
const { fromNative } = require('../shared/errors')
const { abortError, timeoutError } = require('../shared/cancellable')
const { abortable } = require('../shared/abortable')
const { toBytes, validateString, validateOptions, optionalString, optionalInteger, boundedInteger, optionalSignal, optionalTimeout, unlisten } = require('../shared/validate')
const { nativeOf } = require('./pool')
const { submit } = require('./tasks')

// Output one decompression task may make before it yields to the consumer; 64 KiB keeps a
// task's fixed cost (tens of µs) small beside its work and the read-ahead at one such step.
const DEFAULT_CHUNK_SIZE = 64 * 1024
// node:zlib's Z_MIN_CHUNK and our own ceiling (napi/src/options/streams.rs).
const MIN_CHUNK_SIZE = 64
const MAX_CHUNK_SIZE = 64 * 1024 * 1024

// Written by flush(): its identity marks the point to sync-flush at, as in node:zlib.
const SYNC_FLUSH = Buffer.alloc(0)

// The chunks left after `used` bytes of them were consumed (views, no copy).
function drop(chunks, used) {
  const rest = []
  for (const c of chunks) {
    if (used >= c.length) {
      used -= c.length
      continue
    }
    rest.push(used > 0 ? c.subarray(used) : c)
    used = 0
  }
  return rest
}

class PoolTransform extends Transform {
  #native
  #state
  #priority
  #chunkSize
  #decode
  // Cancels the task in flight when the stream is destroyed.
  #ac = new AbortController()
  /** @type {Promise<any> | undefined} */
  #inflight = undefined
  /** @type {{ next: () => void, cb: (err?: Error) => void } | undefined} */
  #waiting = undefined

  constructor(native, state, priority, chunkSize, decode, options) {
    super(options)
    this.#native = native
    this.#state = state
    this.#priority = priority
    this.#chunkSize = chunkSize
    this.#decode = decode
  }

  /** One pool task: a step of the native stream over `chunks`. */
  #step(chunks, flush) {
    const p = submit(this.#native, this.#ac.signal, undefined, this.#priority, chunks,
      (h, slot, pr, c) => binding.submitStreamWrite(h, slot, this.#state, chunks, flush, this.#chunkSize, pr, c), false)
    this.#inflight = p
    const clear = () => {
      if (this.#inflight === p) this.#inflight = undefined
    }
    p.then(clear, clear)
    return p
  }

  _transform(chunk, encoding, cb) {
    // `_writev` passes an array of the buffered chunks.
    const chunks = Array.isArray(chunk) ? chunk : [chunk]
    let flush = 'none'
    const data = []
    for (const c of chunks) {
      if (c === SYNC_FLUSH) flush = 'sync'
      else if (c.length > 0) data.push(c)
    }
    if (this.#decode) {
      if (data.length === 0) return cb()
      return this.#decodeFrom(data, 'none', cb)
    }
    if (data.length === 0 && flush === 'none') return cb()
    this.#encode(data, flush, cb)
  }

  // Buffered writes become one task; Transform's _write keeps its backpressure logic.
  _writev(entries, cb) {
    Transform.prototype._write.call(this, entries.map((e) => e.chunk), 'buffer', cb)
  }

  _flush(cb) {
    if (this.#decode) this.#decodeFrom([], 'finish', cb)
    else this.#encode([], 'finish', cb)
  }

  #encode(chunks, flush, cb) {
    this.#step(chunks, flush).then((out) => {
      if (!this.destroyed && out.length > 0) this.push(out)
      cb()
    }, (err) => cb(err))
  }

  // Steps until the input is used up (and, for 'finish', the stream verified); after a step
  // whose output filled the readable side, the next waits for the consumer (`_read`).
  #decodeFrom(chunks, flush, cb) {
    this.#step(chunks, flush).then(([used, out, more]) => {
      if (this.destroyed) return cb()
      const room = out.length === 0 || this.push(out)
      const rest = drop(chunks, used)
      if (rest.length === 0 && !more) return cb()
      const next = () => this.#decodeFrom(rest, flush, cb)
      if (room) next()
      else this.#waiting = { next, cb }
    }, (err) => cb(err))
  }

  _read(size) {
    const waiting = this.#waiting
    this.#waiting = undefined
    if (waiting !== undefined) waiting.next()
    super._read(size)
  }

  _destroy(err, callback) {
    this.#ac.abort(err ?? undefined)
    const waiting = this.#waiting
    this.#waiting = undefined
    // The native kernel is freed now, or by the running task when it ends.
    binding.closeStream(this.#state)
    const done = () => {
      if (waiting !== undefined) waiting.cb()
      callback(err)
    }
    // 'close' waits for the task in flight: after it, nothing native reads the chunks.
    if (this.#inflight !== undefined) this.#inflight.then(done, done)
    else done()
  }

  /**
   * Makes everything written so far decodable (node:zlib's `flush()`, Z_SYNC_FLUSH), for
   * server-sent events; `kind` is accepted for zlib's signature and ignored.
   */
  flush(kind, callback) {
    if (typeof kind === 'function') callback = kind
    if (this.writableEnded) {
      if (typeof callback === 'function') process.nextTick(callback)
      return
    }
    this.write(SYNC_FLUSH, typeof callback === 'function' ? callback : undefined)
  }
}

// Options of both streams: what the pool needs, then what Transform takes.
function common(options) {
  const opts = validateOptions(options)
  const native = nativeOf(opts.pool)
  const priority = optionalString(opts, 'priority')
  const signal = optionalSignal(opts)
  const streamOpts = { signal }
  for (const key of ['highWaterMark', 'readableHighWaterMark', 'writableHighWaterMark']) {
    if (opts[key] !== undefined) streamOpts[key] = boundedInteger(opts, key, 0, Number.MAX_SAFE_INTEGER, undefined)
  }
  return { opts, native, priority, streamOpts }
}

/** A Transform compressing in `format` on the pool. Throws on bad arguments, as zlib does. */
function createCompressStream(format, options) {
  validateString(format, 'format')
  const { opts, native, priority, streamOpts } = common(options)
  const level = optionalInteger(opts, 'level')
  let state
  try {
    state = binding.createCompressStream(format, level === undefined ? undefined : { level }, priority)
  } catch (err) {
    throw fromNative(err)
  }
  return new PoolTransform(native, state, priority, DEFAULT_CHUNK_SIZE, false, streamOpts)
}

/** A Transform decompressing `format` on the pool (lz4 is refused: it is one-shot only). */
function createDecompressStream(format, options) {
  validateString(format, 'format')
  const { opts, native, priority, streamOpts } = common(options)
  const max = optionalInteger(opts, 'maxOutputLength')
  const chunkSize = boundedInteger(opts, 'chunkSize', MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, DEFAULT_CHUNK_SIZE)
  let state
  try {
    state = binding.createDecompressStream(format, max === undefined ? undefined : { maxOutputLength: max }, priority)
  } catch (err) {
    throw fromNative(err)
  }
  return new PoolTransform(native, state, priority, chunkSize, true, streamOpts)
}

/** Whether `hash`/`hmac` take `data` as a source of chunks rather than one input. */
function isSource(data) {
  return data !== null && typeof data === 'object' && !ArrayBuffer.isView(data) &&
    typeof data[Symbol.asyncIterator] === 'function'
}

// A Readable is iterated without being destroyed when we stop early, unless `destroyOnReturn`
// (as `for await` does); other iterables as `for await` would (return() is called).
function iteratorOf(source, destroyOnReturn = false) {
  if (typeof source.iterator === 'function' && typeof source.pipe === 'function') {
    return source.iterator({ destroyOnReturn })
  }
  return source[Symbol.asyncIterator]()
}

/**
 * The digest (or, with `key`, the HMAC) of every chunk of `source`, each chunk a pool task.
 * `signal`/`timeout` stop it: the promise rejects at once if we are waiting for the source,
 * else when the running chunk ends; the source is left as it is (a Readable is neither
 * destroyed nor resumed; another iterator gets return()).
 */
async function hashSource(algorithm, key, source, options) {
  validateString(algorithm, 'algorithm')
  const k = key === undefined ? undefined : toBytes(key, 'key')
  const opts = validateOptions(options)
  const encoding = optionalString(opts, 'encoding')
  const native = nativeOf(opts.pool)
  const signal = optionalSignal(opts)
  const timeout = optionalTimeout(opts)
  const priority = optionalString(opts, 'priority')
  if (signal !== undefined && signal.aborted) throw abortError(signal)
  let state
  try {
    state = binding.createHashStream(algorithm, k, encoding === undefined ? undefined : { encoding })
  } catch (err) {
    throw fromNative(err)
  }
  const ac = new AbortController()
  /** @type {Error | undefined} */
  let stopped
  const stop = (err) => {
    if (stopped === undefined) {
      stopped = err
      ac.abort(err)
    }
  }
  const onAbort = () => stop(abortError(/** @type {AbortSignal} */ (signal)))
  if (signal !== undefined) signal.addEventListener('abort', onAbort)
  const timer = timeout === undefined ? undefined : setTimeout(() => stop(timeoutError(timeout)), timeout)
  // The key is read in place by the first task: every task holds it.
  const keep = k === undefined ? [] : [k]
  const step = (chunks, flush) => submit(native, ac.signal, undefined, priority, [...keep, ...chunks],
    (h, slot, pr, c) => binding.submitStreamWrite(h, slot, state, chunks, flush, DEFAULT_CHUNK_SIZE, pr, c), false)
  const it = iteratorOf(source)
  let ended = false
  try {
    for (;;) {
      // Not a race against one never-settling promise: each race would stay attached to it.
      const r = await abortable(it.next(), ac.signal, () => stopped)
      if (r.done) break
      const chunk = toBytes(r.value, 'chunk of source')
      if (chunk.length > 0) await step([chunk], 'none')
    }
    ended = true
    return await step([], 'finish')
  } catch (err) {
    throw stopped ?? err
  } finally {
    if (signal !== undefined) unlisten(signal, onAbort)
    clearTimeout(timer)
    binding.closeStream(state)
    if (!ended && typeof it.return === 'function') Promise.resolve(it.return()).catch(() => {})
  }
}

module.exports = { createCompressStream, createDecompressStream, hashSource, isSource, iteratorOf }
