'use strict'
// offload/express: the two pieces an Express (or plain `http`) app needs to turn offload's
// backpressure into HTTP. `abortOnClose(req)` gives a signal that fires when the client goes
// away, so abandoned requests stop using CPU and processes; `errorHandler()` maps offload's
// errors to statuses (bad input → 400, too large → 413, a failed program or worker → 502,
// overload or shutdown → 503 with Retry-After, timeout → 504) and drops the errors of a
// client that is gone. `compression()` (compression.js) compresses responses on the pool.
// Nothing here depends on Express itself.
const { STATUS_CODES } = require('node:http')
const { invalidArgType, invalidArgValue, outOfRange, raisedByOffload } = require('../shared/errors')
const { validateOptions } = require('../shared/validate')
const { compression } = require('./compression')
const { ABORT_ERR, EACCES, ENOENT, ENOTDIR, ERR_CRYPTO_INVALID_AUTH_TAG, ERR_CRYPTO_INVALID_IV, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OFFLOAD_CLIENT_GONE, ERR_OFFLOAD_TIMEOUT, ERR_OUT_OF_RANGE, ERR_UNKNOWN_SIGNAL } = require('../shared/codes')

// One signal per response, however many calls ask for it.
const signals = new WeakMap()

function clientGone() {
  return Object.assign(new Error('the client closed the connection before the response was sent'), { code: ERR_OFFLOAD_CLIENT_GONE })
}

/**
 * An AbortSignal that fires (with a reason whose code is ERR_OFFLOAD_CLIENT_GONE) when the
 * connection of `req` closes before its response has been sent. `res` defaults to `req.res`
 * (set by Express); pass it for plain `http` servers.
 */
function abortOnClose(req, res = req?.res) {
  if (req === null || typeof req !== 'object' || typeof req.on !== 'function') throw invalidArgType('req', 'an instance of http.IncomingMessage', req)
  if (res === null || typeof res !== 'object' || typeof res.on !== 'function') throw invalidArgType('res', 'an instance of http.ServerResponse', res)
  let signal = signals.get(res)
  if (signal !== undefined) return signal
  const controller = new AbortController()
  signal = controller.signal
  signals.set(res, signal)
  if (res.writableFinished) return signal
  const socket = req.socket
  const onClose = () => {
    cleanup()
    // 'close' also follows a response that was sent completely: that is not an abandonment.
    if (!res.writableFinished) controller.abort(clientGone())
  }
  // The socket too: a pipelined request waiting behind another has no socket of its own
  // yet, so its response emits nothing when the client leaves.
  const cleanup = () => {
    res.removeListener('close', onClose)
    res.removeListener('finish', cleanup)
    socket?.removeListener('close', onClose)
  }
  if (res.closed || socket?.destroyed) {
    onClose()
    return signal
  }
  res.once('close', onClose)
  res.once('finish', cleanup)
  socket?.once('close', onClose)
  return signal
}

function isClientGone(err, req) {
  if (err?.code === ERR_OFFLOAD_CLIENT_GONE) return true // a signal's reason, as fetch() rejects with it
  return err?.name === 'AbortError' && (err.cause?.code === ERR_OFFLOAD_CLIENT_GONE || req.socket?.destroyed === true)
}

// Status by error code; null: not an HTTP condition (a bug in offload or in the app's use of
// it), so it goes on to the app's own handler, which logs it. Keep in step with the table in
// docs/integrations.md and express.d.ts.
const DEFAULT_STATUSES = new Map(Object.entries({
  // The request's data or parameters: corrupt input, an unknown algorithm or a bad level
  // taken from the request.
  ERR_OFFLOAD_CORRUPT_INPUT: 400,
  ERR_INVALID_ARG_TYPE: 400,
  ERR_INVALID_ARG_VALUE: 400,
  ERR_OUT_OF_RANGE: 400,
  ERR_UNKNOWN_SIGNAL: 400,
  // A sealed message, IV or tag from the request that does not authenticate or has the wrong
  // size. A wrong key length or digest is the server's own configuration: passed on.
  ERR_OFFLOAD_AUTH_FAILED: 400,
  ERR_CRYPTO_INVALID_IV: 400,
  ERR_CRYPTO_INVALID_AUTH_TAG: 400,
  ERR_CRYPTO_INVALID_KEYLEN: null,
  ERR_CRYPTO_INVALID_DIGEST: null,
  ERR_OFFLOAD_OUTPUT_TOO_LARGE: 413,
  ERR_OFFLOAD_MAX_BUFFER: 413,
  ERR_OFFLOAD_IMAGE_TOO_LARGE: 413,
  ERR_OFFLOAD_UNSUPPORTED_FORMAT: 415,
  // A program or worker the server relies on failed: the server acted as a gateway to it.
  ERR_OFFLOAD_EXIT: 502,
  ERR_OFFLOAD_LIMIT: 502,
  ERR_OFFLOAD_SPAWN: 502,
  ENOENT: 502,
  EACCES: 502,
  ENOTDIR: 502,
  ERR_OFFLOAD_IO: 502,
  ERR_OFFLOAD_WORKER_CRASHED: 502,
  ERR_OFFLOAD_WORKER_START: 502,
  ERR_OFFLOAD_WORKER_PROTOCOL: 502,
  // Overload or shutdown: the same request may succeed later.
  ERR_OFFLOAD_QUEUE_FULL: 503,
  ERR_OFFLOAD_POOL_CLOSED: 503,
  ERR_OFFLOAD_POOL_DESTROYED: 503,
  ERR_OFFLOAD_CANCELLED: 503,
  ABORT_ERR: 503,
  ERR_OFFLOAD_TIMEOUT: 504,
  ERR_OFFLOAD_TASK_PANICKED: null,
  ERR_OFFLOAD_INTERNAL: null,
  ERR_OFFLOAD_INIT: null,
  ERR_OFFLOAD_NOT_INITIALIZED: null,
  ERR_OFFLOAD_POOL_SPAWN: null,
  ERR_OFFLOAD_UNKNOWN_TASK: null,
}))
// Also raised by Node itself and by other libraries: in the defaults they apply only to
// errors offload raised, so an fs ENOENT or a bug's TypeError elsewhere in the app is not
// answered as a failed program or a bad request.
const NODE_CODES = new Set([ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE, ERR_UNKNOWN_SIGNAL, ERR_CRYPTO_INVALID_IV, ERR_CRYPTO_INVALID_AUTH_TAG, ENOENT, EACCES, ENOTDIR, ABORT_ERR])

// What clients read: fixed per status, never `err.message`, which can carry a command's
// stderr, paths or the values of arguments.
const MESSAGES = {
  400: 'The request could not be processed: its data or parameters are invalid.',
  413: 'The result is too large.',
  502: 'A program or worker the server relies on failed.',
  503: 'The server is busy; retry later.',
  504: 'The work did not finish in time.',
}

function validateStatuses(statuses) {
  const own = new Map()
  if (statuses === undefined) return own
  if (statuses === null || typeof statuses !== 'object' || Array.isArray(statuses)) throw invalidArgType('options.statuses', 'of type object', statuses)
  for (const [code, status] of Object.entries(statuses)) {
    if (status === undefined) continue
    const name = `options.statuses.${code}`
    if (code === ERR_OFFLOAD_CLIENT_GONE) throw invalidArgValue(name, status, 'cannot be mapped: the client is gone, nothing can be sent')
    if (status !== null && typeof status !== 'number') throw invalidArgType(name, 'of type number or null', status)
    if (status !== null && (!Number.isInteger(status) || status < 400 || status > 599)) throw outOfRange(name, 'an integer from 400 to 599, or null', status)
    own.set(code, status)
  }
  return own
}

// The status for `err`, or null to pass it on.
function statusOf(err, own) {
  if (typeof err.code !== 'string') return null
  const ours = raisedByOffload(err)
  // An abort by a signal that timed out (AbortSignal.timeout(): its reason is a TimeoutError)
  // is a timeout, whoever set the deadline.
  const code = ours && err.code === ABORT_ERR && err.cause?.name === 'TimeoutError' ? ERR_OFFLOAD_TIMEOUT : err.code
  if (own.has(code)) return own.get(code)
  if (!DEFAULT_STATUSES.has(code) || (NODE_CODES.has(code) && !ours)) return null
  return DEFAULT_STATUSES.get(code)
}

function send(res, status, code, message, headers) {
  // The route may have set headers for the response it meant to send (Content-Encoding,
  // caching): none of them describe this one.
  for (const name of res.getHeaderNames()) res.removeHeader(name)
  const body = JSON.stringify({ error: { code, message } })
  res.statusCode = status
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(body)
}

/**
 * Error-handling middleware: offload's errors become statuses by code (the table in
 * docs/integrations.md and express.d.ts; `options.statuses` overrides entries, `null` passes a code on), the
 * errors of a client that disconnected → nothing. Everything else goes on to the next error
 * handler.
 */
function errorHandler(options) {
  const o = validateOptions(options)
  const retryAfter = o.retryAfter ?? 1
  if (typeof retryAfter !== 'number') throw invalidArgType('options.retryAfter', 'of type number', retryAfter)
  if (!Number.isInteger(retryAfter) || retryAfter < 0) throw outOfRange('options.retryAfter', 'an integer >= 0 (seconds)', retryAfter)
  const own = validateStatuses(o.statuses)
  return function offloadErrorHandler(err, req, res, next) {
    if (isClientGone(err, req)) {
      if (!res.writableEnded) res.destroy() // nobody is listening; free the socket
      return
    }
    if (res.headersSent || err === null || typeof err !== 'object') return next(err)
    const status = statusOf(err, own)
    if (status === null) return next(err)
    // Both tell the client when to come back (RFC 9110 10.2.3, RFC 6585 4).
    const headers = status === 503 || status === 429 ? { 'Retry-After': String(retryAfter) } : {}
    return send(res, status, err.code, MESSAGES[status] ?? STATUS_CODES[status] ?? 'Error', headers)
  }
}

module.exports = { abortOnClose, errorHandler, compression }
