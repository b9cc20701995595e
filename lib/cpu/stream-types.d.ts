// Typings for lib/cpu/streams.js (named apart from it so the JS is type-checked itself): compression and decompression as Transform streams on the
// pool, and the sources `hash`/`hmac` accept. Re-exported by the package's index.d.ts.
import type { Readable, Transform } from 'node:stream'
import type { CompressionFormat } from '../../napi/binding'
import type { BinaryLike, Priority } from '../shared/types'
import type { Pool } from './types'

/** What `hash` and `hmac` take besides one input: chunks read one pool task at a time. */
export type HashSource = Readable | AsyncIterable<BinaryLike>

/** Options both streams take. */
export interface PoolStreamOptions {
  /** Pool to run on. Default: the shared default pool. */
  pool?: Pool
  /** Queue priority of each chunk's task. Default: `'normal'`. */
  priority?: Priority
  /** Destroys the stream with an `AbortError` (as Node streams' `signal`). Default: none. */
  signal?: AbortSignal
  /** As `stream.Transform`'s. Default: 16 KiB each side. */
  highWaterMark?: number
  readableHighWaterMark?: number
  writableHighWaterMark?: number
}

/** Options of `createCompressStream`. */
export interface CompressStreamOptions extends PoolStreamOptions {
  /** As `compress()`'s `level`. Default: the format's default. */
  level?: number
}

/** Options of `createDecompressStream`. */
export interface DecompressStreamOptions extends PoolStreamOptions {
  /** Total output allowed; past it the stream errors with `ERR_OFFLOAD_OUTPUT_TOO_LARGE`. Default: `buffer.constants.MAX_LENGTH`. */
  maxOutputLength?: number
  /** Output one pool task makes before it waits for the consumer, 64 to 64 MiB. Default: `65536`. */
  chunkSize?: number
}

/** A Transform on the pool; `flush()` emits everything written so far in decodable form. */
export interface PoolTransform extends Transform {
  flush(callback?: () => void): void
  flush(kind: number, callback?: () => void): void
}

/** A Transform compressing in `format` on the pool; throws on bad arguments. */
export declare function createCompressStream(format: CompressionFormat, options?: CompressStreamOptions): PoolTransform
/** A Transform decompressing `format` on the pool (not lz4); corrupt or truncated input errors with `ERR_OFFLOAD_CORRUPT_INPUT`. */
export declare function createDecompressStream(format: Exclude<CompressionFormat, 'lz4'>, options?: DecompressStreamOptions): PoolTransform
