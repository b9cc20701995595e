// Typings for offload/express. Structural types, so neither Express nor its typings are needed.
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface ErrorHandlerOptions {
  /** Seconds sent in `Retry-After` with a 503 for a full queue. Default: `1`. */
  retryAfter?: number
}

/** An Express error-handling middleware (four arguments). */
export type OffloadErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

/**
 * Error-handling middleware: `ERR_OFFLOAD_QUEUE_FULL` and `ERR_OFFLOAD_POOL_CLOSED` → 503 with
 * `Retry-After`, `ERR_OFFLOAD_TIMEOUT` → 504, both with a JSON body `{ error: { code, message } }`,
 * `Cache-Control: no-store` and none of the headers the route had set; an `AbortError` (or
 * the `ERR_OFFLOAD_CLIENT_GONE` reason itself) from a closed client connection → nothing (the
 * socket is released). Other errors go on to the next error handler.
 * @throws {TypeError|RangeError} for a bad `retryAfter`.
 */
export declare function errorHandler(options?: ErrorHandlerOptions): OffloadErrorHandler

/**
 * An AbortSignal that fires when the client disconnects before the response is sent; pass it
 * as `signal` to offload calls so abandoned requests stop using CPU and processes. Its reason
 * is an Error with code `ERR_OFFLOAD_CLIENT_GONE`. Calls for the same response share one signal.
 * This form is for Express, which sets `req.res`.
 */
export declare function abortOnClose(req: IncomingMessage & { res?: ServerResponse }): AbortSignal
/**
 * For plain `http` servers: their requests have no `res` property, so `res` must be given
 * (without it the call throws `ERR_INVALID_ARG_TYPE` naming `res`).
 */
export declare function abortOnClose(req: IncomingMessage, res: ServerResponse): AbortSignal
