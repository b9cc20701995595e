// Typings for ThreadPool (lib/thread-pool). The worker side is the same `serve()` as a
// ProcessPool's (offload/worker). Re-exported by the package's index.d.ts.
import type { ResourceLimits } from 'node:worker_threads'
import type { Priority } from '../shared/types'
import type { HostBudgetOptions, HostBudgetPoolStats } from '../host-budget/types'

/** Options for `new ThreadPool()`. */
export interface ThreadPoolOptions extends HostBudgetOptions {
  /** A CommonJS or ES module (path or `file:` URL) that calls `serve()` from `offload/worker`. */
  script: string | URL
  /** The most worker threads; each runs one task at a time. Default: `os.availableParallelism()`, or `minThreads` if that is larger. */
  threads?: number
  /** Threads started with the pool and kept while idle, 0 to `threads`; more start when a task finds no idle thread, up to `threads`. Default: `threads` (all start with the pool). */
  minThreads?: number
  /** Milliseconds a thread above `minThreads` may stay idle before it is ended; `0` keeps it forever (as ProcessPool's `idleTimeout`). A task is never handed to a thread being ended. Default: `30000`. */
  idleTimeout?: number
  /** Milliseconds a new thread has to call `serve()`; past it the thread is terminated and waiting tasks fail with `ERR_OFFLOAD_WORKER_START` (starts are retried with a backoff). `0` for no limit. Default: `10000`. */
  startTimeout?: number
  /** Scheduling niceness of the threads on Linux, 0–19: above 0 the event loop's thread wins the CPU from them (as piscina's `niceIncrement`). Default: `10`. */
  nice?: number
  /** Tasks allowed to wait for a thread; past it, `run()` rejects with `ERR_OFFLOAD_QUEUE_FULL`. Default: `Infinity`. */
  maxQueue?: number
  /** Milliseconds a handler has to settle after its task was aborted before its thread is terminated and replaced. Default: `1000`. */
  abortGrace?: number
  /** V8 heap limits of each thread, as for `new Worker()`; a thread that runs out fails its task with `ERR_OFFLOAD_WORKER_CRASHED`. Default: Node's. */
  resourceLimits?: ResourceLimits
  /** Node options of each thread, as for `new Worker()` (e.g. a loader for TypeScript). Default: the parent's. */
  execArgv?: string[]
  /** The threads' `process.env`, as for `new Worker()`. Default: a copy of the parent's. */
  env?: Record<string, string> | symbol
  /** Names the pool in `metrics()` and its threads. Default: `'threads'`. */
  name?: string
}

/** Options for `ThreadPool#run()`. */
export interface ThreadPoolRunOptions {
  /** The handler to run, for modules that serve several (`serve({ name: fn })`). Default: the `default` (or only) handler. */
  name?: string | null
  /** Rejects with an `AbortError` whose `cause` is `signal.reason`; a queued task never starts, a running one's handler sees its own signal abort (and is terminated after `abortGrace`). Default: none. */
  signal?: AbortSignal
  /** Milliseconds before the task rejects with `ERR_OFFLOAD_TIMEOUT`; a running task's thread is terminated (even in a tight loop) and replaced. `0` for none. Default: none. */
  timeout?: number
  /** Queue priority: FIFO within a level, higher levels first. Default: `'normal'`. */
  priority?: Priority
  /**
   * What moves instead of being copied. `true`: every Buffer or typed array of 64 KiB or more moves its
   * ArrayBuffer to the worker (no copy; the caller's views of that buffer are detached at `run()`).
   * `false`: everything is copied and nothing is detached. An array: as `true`, plus these ArrayBuffers
   * (any size) and MessagePorts, as postMessage's transfer list. Default: `true`.
   */
  transfer?: boolean | ReadonlyArray<ArrayBuffer | import('node:worker_threads').MessagePort>
}

/** A snapshot of a ThreadPool: gauges, and counters since it started. */
export interface ThreadPoolStats extends HostBudgetPoolStats {
  /** Live worker threads. */
  threads: number
  /** Tasks waiting for a thread. */
  queued: number
  /** Tasks being run. */
  running: number
  /** Threads waiting for a task. */
  idle: number
  /** Tasks accepted. */
  submitted: number
  /** Tasks a handler settled (resolved or threw). */
  completed: number
  /** Tasks that left the queue by abort or timeout before they started. */
  cancelled: number
  /** Calls refused because the queue was full. */
  rejected: number
  /** Tasks lost with the thread running them: a crash, `process.exit()`, an out-of-memory, or a timeout's terminate. */
  crashed: number
}

/**
 * Worker threads running your own JavaScript, with tasks handed over by the addon (no
 * MessagePort per task). Payloads and results follow structured-clone rules (`v8.serialize`):
 * Map, Set, Date, BigInt, cycles and typed arrays arrive intact, class instances as plain
 * objects, functions and symbols are refused (`ERR_INVALID_ARG_VALUE` for a payload; a
 * `DataCloneError` for a result). Buffers are copied (serialized, queued, deserialized). `run()` rejects with the
 * handler's error (class for built-in ones, `name`, `message`, `code`, own properties, the
 * thread's stack), `ERR_OFFLOAD_WORKER_CRASHED` (only the task of the thread that died),
 * `ERR_OFFLOAD_WORKER_START`, `ERR_OFFLOAD_TIMEOUT`, `ERR_OFFLOAD_QUEUE_FULL`,
 * `ERR_OFFLOAD_POOL_CLOSED`, `ERR_OFFLOAD_POOL_DESTROYED` or an `AbortError`.
 * @typeParam Payload - what every `run()` takes (not checked at run time: share the type with the worker module).
 * @typeParam Result - what `run()` resolves to, unless a call names its own (`run<R>()`).
 */
export declare class ThreadPool<Payload = any, Result = any> {
  /** @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`, {RangeError} `ERR_OUT_OF_RANGE`, naming the option. */
  constructor(options: ThreadPoolOptions)
  /** The pool's name in `metrics()`. */
  readonly name: string
  /** The most worker threads the pool runs at once (`options.threads`). */
  readonly threads: number
  /** Runs `payload` through the module's handler on a free thread. */
  run<R = Result>(payload?: Payload, options?: ThreadPoolRunOptions): Promise<R>
  /** Counters and gauges. */
  stats(): ThreadPoolStats
  /** Stops admission (`ERR_OFFLOAD_POOL_CLOSED`), finishes queued and running tasks, then terminates the threads. */
  close(): Promise<void>
  /** Rejects queued and running tasks with `ERR_OFFLOAD_POOL_DESTROYED` and terminates the threads. */
  destroy(): Promise<void>
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}
