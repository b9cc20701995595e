// Typings for offload/express. Structural types, so neither Express nor its typings are needed.
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface ErrorHandlerOptions {
  /** Seconds sent in `Retry-After` with a 503 for a full queue. Default: `1`. */
  retryAfter?: number
}

/** An Express error-handling middleware (four arguments). */
export type OffloadErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

/**
 * Error-handling middleware: `ERR_OFFLOAD_QUEUE_FULL` → 503 with `Retry-After`,
 * `ERR_OFFLOAD_TIMEOUT` → 504, both with a JSON body `{ error: { code, message } }`; an
 * `AbortError` from a closed client connection → nothing (the socket is released). Other
 * errors go on to the next error handler.
 * @throws {TypeError|RangeError} for a bad `retryAfter`.
 */
export declare function errorHandler(options?: ErrorHandlerOptions): OffloadErrorHandler

/**
 * An AbortSignal that fires when the client disconnects before the response is sent; pass it
 * as `signal` to offload calls so abandoned requests stop using CPU and processes. Its reason
 * is an Error with code `ERR_OFFLOAD_CLIENT_GONE`. `res` defaults to `req.res` (Express).
 */
export declare function abortOnClose(req: IncomingMessage, res?: ServerResponse): AbortSignal
