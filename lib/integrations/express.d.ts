// Typings for offload/express. Structural types, so neither Express nor its typings are needed.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Pool } from '../cpu/types'
import type { Priority } from '../shared/types'

/**
 * An HTTP error status (400–599) for an error code, or `null` to pass errors with that code on
 * to the next error handler.
 */
export type ErrorStatus = number | null

export interface ErrorHandlerOptions {
  /** Seconds sent in `Retry-After` with every 503 (and 429) response. Default: `1`. */
  retryAfter?: number
  /**
   * Statuses by error code, over the defaults (see `errorHandler`): `{ ERR_OFFLOAD_CORRUPT_INPUT:
   * 422 }` changes one, `{ ERR_OFFLOAD_EXIT: null }` passes one on, `{ ERR_MY_CODE: 409 }` adds
   * your own. Unlike the defaults for Node's codes, an entry applies to every error with that
   * code, whoever raised it. `ERR_OFFLOAD_CLIENT_GONE` cannot be mapped (nothing can be sent).
   * Default: none.
   */
  statuses?: Readonly<Record<string, ErrorStatus | undefined>>
}

/** An Express error-handling middleware (four arguments). */
export type OffloadErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

/**
 * Error-handling middleware that answers offload's errors by code:
 * - 400: `ERR_OFFLOAD_CORRUPT_INPUT`, `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`,
 *   `ERR_OUT_OF_RANGE`, `ERR_UNKNOWN_SIGNAL` (bad data or parameters taken from the request),
 *   `ERR_OFFLOAD_AUTH_FAILED`, `ERR_CRYPTO_INVALID_IV`, `ERR_CRYPTO_INVALID_AUTH_TAG` (a sealed
 *   message from the request that does not authenticate);
 * - 413: `ERR_OFFLOAD_OUTPUT_TOO_LARGE`, `ERR_OFFLOAD_MAX_BUFFER`, `ERR_OFFLOAD_IMAGE_TOO_LARGE`;
 * - 415: `ERR_OFFLOAD_UNSUPPORTED_FORMAT`;
 * - 502: `ERR_OFFLOAD_EXIT`, `ERR_OFFLOAD_LIMIT`, `ERR_OFFLOAD_SPAWN`, `ENOENT`, `EACCES`,
 *   `ENOTDIR`, `ERR_OFFLOAD_IO`, `ERR_OFFLOAD_WORKER_CRASHED`, `ERR_OFFLOAD_WORKER_START`,
 *   `ERR_OFFLOAD_WORKER_PROTOCOL` (a program or worker failed);
 * - 503 with `Retry-After`: `ERR_OFFLOAD_QUEUE_FULL`, `ERR_OFFLOAD_POOL_CLOSED`,
 *   `ERR_OFFLOAD_POOL_DESTROYED`, `ERR_OFFLOAD_CANCELLED`, and an `AbortError` (`ABORT_ERR`) of
 *   the server's own signal;
 * - 504: `ERR_OFFLOAD_TIMEOUT`, and an `AbortError` whose signal timed out (`AbortSignal.timeout()`);
 * - nothing, the socket released: the `AbortError` (or the `ERR_OFFLOAD_CLIENT_GONE` reason
 *   itself) of a client that disconnected;
 * - passed on: `ERR_OFFLOAD_TASK_PANICKED`, `ERR_OFFLOAD_INTERNAL`, `ERR_OFFLOAD_INIT`,
 *   `ERR_OFFLOAD_NOT_INITIALIZED`, `ERR_OFFLOAD_POOL_SPAWN`, `ERR_OFFLOAD_UNKNOWN_TASK` (bugs,
 *   for your own handler to log and answer), other codes, and any error once headers are sent.
 *
 * Node's own codes in that list (`ERR_INVALID_ARG_*`, `ERR_OUT_OF_RANGE`, `ERR_UNKNOWN_SIGNAL`,
 * `ENOENT`, `EACCES`, `ENOTDIR`, `ABORT_ERR`) are answered only for errors offload raised, so an
 * `fs` ENOENT elsewhere in the app still reaches your handler. Responses have a JSON body
 * `{ error: { code, message } }` whose message is fixed per status (never `err.message`, which
 * can carry a command's stderr or paths), `Cache-Control: no-store`, and none of the headers
 * the route had set. Answered errors are not passed on: log them in a handler placed before
 * this one.
 * @throws {TypeError|RangeError} for a bad `retryAfter` or `statuses`.
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

/** A content coding `compression()` produces, as Accept-Encoding names it. */
export type CompressionCoding = 'zstd' | 'br' | 'gzip' | 'deflate'

export interface CompressionOptions {
  /**
   * Whether to compress this response; called when the head is written. Default:
   * `compression.filter`, the `compressible` package's answer for the Content-Type (the types
   * mime-db marks compressible, `text/*`, `+json`, `+text`, `+xml`).
   */
  filter?: (req: IncomingMessage, res: ServerResponse) => boolean
  /**
   * Smallest body compressed, in bytes or as a size string (`'1kb'`), judged from
   * Content-Length or from `res.end(chunk)` when it writes the head; a body started with
   * `res.write()` is always compressed. Default: `1024`.
   */
  threshold?: number | string
  /** Codings offered, in server preference (ties of q-value go to the earlier). Default: `['zstd', 'br', 'gzip', 'deflate']`. */
  encodings?: readonly CompressionCoding[]
  /** Level per coding. Default: `{ zstd: 3, br: 4, gzip: 6, deflate: 6 }` (as CDNs use for dynamic responses). */
  levels?: Partial<Record<CompressionCoding, number>>
  /** As in `compression`: the gzip and deflate level (0–9, -1 for 6). `levels` wins. */
  level?: number
  /** As in `compression`: only `params[zlib.constants.BROTLI_PARAM_QUALITY]` is read. */
  brotli?: { params?: Record<number, number> }
  /** The coding used when the request has no Accept-Encoding. Default: `'identity'` (none). */
  enforceEncoding?: CompressionCoding | 'identity'
  /** The CPU pool that compresses. Default: the default pool. */
  pool?: Pool
  /** Priority of the compression tasks. Default: `'normal'`. */
  priority?: Priority
  /**
   * Called when a response that was to be compressed goes out uncompressed because the
   * compressor failed before its first output (`ERR_OFFLOAD_QUEUE_FULL` under load). Must not throw.
   */
  onFallback?: (err: Error, req: IncomingMessage, res: ServerResponse) => void
}

export interface CompressionStats {
  /** Responses compressed, by coding. */
  compressed: Record<CompressionCoding, number>
  /** Responses sent uncompressed because the compressor failed before its first output. */
  fallbacks: number
}

/** The middleware `compression()` returns; `res.flush()` is added to each response. */
export interface CompressionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void
  /** Counters since the middleware was made. */
  stats(): CompressionStats
}

/**
 * Compresses responses on the offload pool: a drop-in for the `compression` package. Negotiates
 * zstd, br, gzip and deflate from Accept-Encoding (q-values, `*`, `identity`), adds
 * `Vary: Accept-Encoding`, leaves alone `Cache-Control: no-transform`, an existing
 * Content-Encoding, HEAD, 204 and 304, and bodies under `threshold`; removes Content-Length and
 * weakens a strong ETag when it compresses. Streams bodies of any length with backpressure;
 * `res.flush()` does a sync flush (server-sent events). If the pool refuses the first chunk
 * (`ERR_OFFLOAD_QUEUE_FULL`), the response goes out uncompressed.
 * @throws {TypeError|RangeError} for bad options.
 */
export declare function compression(options?: CompressionOptions): CompressionMiddleware
export declare namespace compression {
  /** The default filter. */
  function filter(req: IncomingMessage, res: ServerResponse): boolean
}
