// Typings for the CPU pool and its kernels (lib/cpu). Option docs for kernel-specific fields
// are generated from the Rust sources into napi/binding.d.ts and re-used here. Re-exported by
// the package's index.d.ts.
import type {
  CompressionFormat,
  CompressOptions as NativeCompressOptions,
  DecompressOptions as NativeDecompressOptions,
  Encoding,
  HashAlgorithm,
  HashOptions as NativeHashOptions,
  HmacAlgorithm,
  LatencyStats,
  PoolOptions,
  PoolStats,
} from '../../napi/binding'
import type { BinaryLike, Priority } from '../shared/types'
import type { HashSource } from './stream-types'
import type { HostBudgetOptions, HostBudgetPoolStats } from '../host-budget/types'

/** Generated from the Rust sources (binding.d.ts), documented there. */
export type { LatencyStats, PoolOptions, PoolStats }
/** Name unions generated from the Rust enums (binding.d.ts): algorithms, encodings, formats. */
export type { CompressionFormat, Encoding, HashAlgorithm, HmacAlgorithm }

/** Options every kernel accepts. */
export interface TaskOptions {
  /** Pool to run on. Default: the shared default pool (`defaultPool()`). */
  pool?: Pool
  /** Cancels the task, queued or running; the promise rejects with an `AbortError` whose `cause` is `signal.reason`. Default: none. */
  signal?: AbortSignal
  /** Milliseconds before the task is cancelled and the promise rejects with `ERR_OFFLOAD_TIMEOUT`; `0` disables it. Default: none. */
  timeout?: number
  /** Queue priority: FIFO within a level, higher levels first. Default: `'normal'`. */
  priority?: Priority
}

/** Options of `hash`, `hmac` and `hashMany`. */
export interface HashOptions extends TaskOptions, Omit<NativeHashOptions, 'encoding'> {
  /** Output encoding. Default: `'buffer'`. */
  encoding?: Encoding
}
/** Options of `compress`: the task options and `level`. */
export interface CompressOptions extends TaskOptions, NativeCompressOptions {}
/** Options of `decompress`: the task options and `maxOutputLength`. */
export interface DecompressOptions extends TaskOptions, NativeDecompressOptions {}

type Digest<O> = O extends { encoding: 'hex' | 'base64' | 'base64url' } ? string : Buffer

/** A dedicated set of Rust threads with its own bounded, prioritised queue. */
export declare class Pool {
  /** @throws {RangeError} `ERR_OUT_OF_RANGE` for a bad `threads` or `maxQueue`. */
  constructor(options?: PoolOptions & HostBudgetOptions)
  /** Number of worker threads. */
  readonly threads: number
  /** Name used in the threads' names (`offload-<name>-<n>`). */
  readonly name: string
  /** Waiting tasks admitted before calls reject with `ERR_OFFLOAD_QUEUE_FULL`. */
  readonly maxQueue: number
  /** The host budget this pool's tasks take slots from (`options.hostBudget`), if any. */
  readonly hostBudget: string | undefined
  /** Counters and latency percentiles; O(1) and cheap to call. With a `hostBudget`, also the budget's stats, whose `heldAnywhere` probes each slot (one or two system calls per slot). */
  stats(): PoolStats & HostBudgetPoolStats
  /** Stops admission (later calls reject with `ERR_OFFLOAD_POOL_CLOSED`); resolves once every accepted task has settled. */
  close(): Promise<void>
  /** Stops admission, rejects queued tasks with `ERR_OFFLOAD_POOL_DESTROYED` and cancels running ones. */
  destroy(): void
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/** The lazily created pool used when no `pool` option is given (`OFFLOAD_THREADS` or `os.availableParallelism()` threads). */
export declare function defaultPool(): Pool

/** Digest of `data` (or of every chunk of a Readable / AsyncIterable). Resolves to a Buffer, or a string for the text encodings. */
export declare function hash<O extends HashOptions = {}>(algorithm: HashAlgorithm, data: BinaryLike | HashSource, options?: O): Promise<Digest<O>>
/** HMAC of `data` (or of every chunk of a Readable / AsyncIterable) under `key`. */
export declare function hmac<O extends HashOptions = {}>(algorithm: HmacAlgorithm, key: BinaryLike, data: BinaryLike | HashSource, options?: O): Promise<Digest<O>>
/** Digests of every input, computed in parallel on the pool, in input order. */
export declare function hashMany<O extends HashOptions = {}>(algorithm: HashAlgorithm, datas: readonly BinaryLike[], options?: O): Promise<Array<Digest<O>>>
/** Compresses `data`; gzip, deflate, deflate-raw and brotli output is readable by node:zlib. */
export declare function compress(format: CompressionFormat, data: BinaryLike, options?: CompressOptions): Promise<Buffer>
/** Decompresses `data`; rejects with `ERR_OFFLOAD_CORRUPT_INPUT` or `ERR_OFFLOAD_OUTPUT_TOO_LARGE`. */
export declare function decompress(format: CompressionFormat, data: BinaryLike, options?: DecompressOptions): Promise<Buffer>
