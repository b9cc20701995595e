'use strict'
// offload/express: the two pieces an Express (or plain `http`) app needs to turn offload's
// backpressure into HTTP. `abortOnClose(req)` gives a signal that fires when the client goes
// away, so abandoned requests stop using CPU and processes; `errorHandler()` maps offload's
// errors to statuses (queue full or pool closed → 503 with Retry-After, timeout → 504) and
// drops the errors of a client that is gone. Nothing here depends on Express itself.
const { invalidArgType, outOfRange } = require('./errors')
const { validateOptions } = require('./validate')

const CLIENT_GONE = 'ERR_OFFLOAD_CLIENT_GONE'
// One signal per response, however many calls ask for it.
const signals = new WeakMap()

function clientGone() {
  const err = new Error('the client closed the connection before the response was sent')
  err.code = CLIENT_GONE
  return err
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
  if (err?.code === CLIENT_GONE) return true // a signal's reason, as fetch() rejects with it
  return err?.name === 'AbortError' && (err.cause?.code === CLIENT_GONE || req.socket?.destroyed === true)
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
 * Error-handling middleware: `ERR_OFFLOAD_QUEUE_FULL` and `ERR_OFFLOAD_POOL_CLOSED` → 503
 * with `Retry-After`, `ERR_OFFLOAD_TIMEOUT` → 504, the errors of a client that disconnected
 * → nothing. Everything else goes on to the next error handler.
 */
function errorHandler(options) {
  const o = validateOptions(options)
  const retryAfter = o.retryAfter ?? 1
  if (typeof retryAfter !== 'number') throw invalidArgType('options.retryAfter', 'of type number', retryAfter)
  if (!Number.isInteger(retryAfter) || retryAfter < 0) throw outOfRange('options.retryAfter', 'an integer >= 0 (seconds)', retryAfter)
  return function offloadErrorHandler(err, req, res, next) {
    if (isClientGone(err, req)) {
      if (!res.writableEnded) res.destroy() // nobody is listening; free the socket
      return
    }
    if (res.headersSent || err === null || typeof err !== 'object') return next(err)
    if (err.code === 'ERR_OFFLOAD_QUEUE_FULL' || err.code === 'ERR_OFFLOAD_POOL_CLOSED') {
      return send(res, 503, err.code, 'The server is busy; retry later.', { 'Retry-After': String(retryAfter) })
    }
    if (err.code === 'ERR_OFFLOAD_TIMEOUT') return send(res, 504, err.code, 'The work did not finish in time.', {})
    return next(err)
  }
}

module.exports = { abortOnClose, errorHandler }
