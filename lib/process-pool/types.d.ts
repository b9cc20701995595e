// Typings for ProcessPool (lib/process-pool); the worker side is serve.d.ts. Re-exported by the
// package's index.d.ts.
import type { ProcessLimits } from '../../napi/binding'
import type { Priority } from '../shared/types'
import type { HostBudgetOptions, HostBudgetPoolStats } from '../host-budget/types'

/** The directory holding `offload_worker.py`. A pool whose `command` is named `python*` puts it first on the workers' `PYTHONPATH` by itself; other launchers (`uv run`, a venv's wrapper script) can add it. */
export declare const pythonPath: string

/** Options for `new ProcessPool()`: exactly one of `script` and `command`. */
export interface ProcessPoolOptions extends HostBudgetOptions {
  /** A JavaScript file that calls `serve()` from `offload/worker`, run by this Node binary (`process.execPath`). */
  script?: string | URL
  /** Any program that speaks the protocol on descriptors 3 and 4 (docs/protocol.md), e.g. `'python3'`. Run without a shell, found on `PATH`. */
  command?: string
  /** Names the pool in `metrics()`. Default: the script's or command's file name. */
  name?: string
  /** Arguments after the script or command. Default: `[]`. */
  args?: readonly string[]
  /** Node options before the script (`script` only), e.g. `['--max-old-space-size=512']`. Default: `[]`. */
  execArgv?: readonly string[]
  /** The most workers at once; each runs one task at a time. Default: `os.availableParallelism()`. */
  size?: number
  /** Workers started with the pool and kept when idle. Default: `0` (workers start on demand). */
  minWorkers?: number
  /** Tasks allowed to wait for a worker; past it, `run()` rejects with `ERR_OFFLOAD_QUEUE_FULL`. `Infinity` for no bound. Default: `10000`. */
  maxQueue?: number
  /** Milliseconds from `run()` before a task rejects with `ERR_OFFLOAD_TIMEOUT` (its worker is then cancelled and, after `cancelGrace`, killed); `0` for none. Default: none. */
  timeout?: number
  /** A worker is replaced (after finishing its task) once it has run this many. Default: `Infinity`. */
  maxTasksPerWorker?: number
  /** A worker whose resident memory is above this after a task is replaced. Default: none. */
  maxRssBytes?: number
  /** Resource limits of each worker, as for `exec()`. Default: none. */
  limits?: ProcessLimits
  /** Environment variables on top of `process.env` (unless `extendEnv` is false). Default: `process.env`. */
  env?: Record<string, string | number | boolean | undefined>
  /** Default: `true`. */
  extendEnv?: boolean
  /** Working directory of the workers. Default: the parent's. */
  cwd?: string | URL
  /** Where the workers' own output goes: this process's stdout, or nowhere. It never carries messages. Default: `'inherit'`. */
  stdout?: 'inherit' | 'ignore'
  /** The workers' stderr, always read through a pipe: `'inherit'` forwards it to this process's stderr as it arrives, `'ignore'` drops it. Either way its last lines (up to 4 KiB, 20 lines) go into the `ERR_OFFLOAD_WORKER_START` error of a worker that fails to start. Default: `'inherit'`. */
  stderr?: 'inherit' | 'ignore'
  /** Milliseconds before retrying a worker that failed to start or died before finishing a task; doubles with each failure in a row, up to 30 s. Default: `100`. */
  restartBackoff?: number
  /** Milliseconds a worker has to send `ready` before it counts as failed to start; `0` for no limit. Default: `30000`. */
  startTimeout?: number
  /** Milliseconds an idle worker above `minWorkers` is kept; `0` keeps it. Default: `60000`. */
  idleTimeout?: number
  /** Milliseconds a worker whose task was aborted or timed out has to answer before it is killed with its process tree; a handler that honours its signal keeps its worker. Default: `250`. */
  cancelGrace?: number
}

/** Options for `ProcessPool#run()`. */
export interface ProcessPoolRunOptions {
  /** The handler to run, for workers that serve several (`serve({ name: fn })`). Default: the `default` (or only) handler. */
  name?: string | null
  /** Rejects with an `AbortError` whose `cause` is `signal.reason`; a queued task never starts, a running one is cancelled. Default: none. */
  signal?: AbortSignal
  /** Overrides the pool's `timeout`; `0` for none. Default: the pool's. */
  timeout?: number
  /** Queue priority: FIFO within a level, higher levels first. Default: `'normal'`. */
  priority?: Priority
}

/** One live worker of a ProcessPool. */
export interface ProcessPoolWorkerStats {
  /** The worker process. */
  pid: number
  /** `cancelling`: its task was aborted or timed out and it has `cancelGrace` to answer; `retiring`: asked to exit; `exiting`: its reply pipe closed; `killing`: SIGKILL sent. */
  state: 'idle' | 'busy' | 'cancelling' | 'retiring' | 'exiting' | 'killing'
  /** Tasks answered by this worker. */
  tasks: number
  /** Resident memory now (`/proc/<pid>/statm`), or null if it could not be read. */
  rssBytes: number | null
}

/** A snapshot of a ProcessPool: gauges, counters since it started, and its workers. */
export interface ProcessPoolStats extends HostBudgetPoolStats {
  /** The pool's `size`. */
  size: number
  /** Live workers that have started. */
  workers: ProcessPoolWorkerStats[]
  /** Workers started but not ready yet. */
  starting: number
  /** Ready workers without a task. */
  idle: number
  /** Workers running a task (or finishing a cancelled one). */
  busy: number
  /** Tasks waiting for a worker. */
  queued: number
  /** Tasks resolved. */
  completed: number
  /** Tasks rejected by the handler's error, a crash, a protocol error, a failed start or `destroy()`. */
  failed: number
  /** Tasks aborted by their signal. */
  cancelled: number
  /** Tasks that passed their `timeout`. */
  timedOut: number
  /**
   * Calls refused at admission, which never became tasks: queue full (`ERR_OFFLOAD_QUEUE_FULL`),
   * pool closed (`ERR_OFFLOAD_POOL_CLOSED`), or no worker up while restarts back off
   * (`ERR_OFFLOAD_WORKER_START`). Argument errors are not counted.
   */
  rejected: number
  /** Workers that died without being asked to. */
  crashed: number
  /** Workers started to replace one that crashed, was killed or was recycled. */
  restarts: number
  /** Workers replaced because of `maxTasksPerWorker` or `maxRssBytes`. */
  recycled: number
  /** Workers that exited, or did not answer in time, before they were ready. */
  startFailures: number
}

/**
 * Persistent, isolated worker processes running your code (docs/protocol.md). `run()` rejects
 * with the handler's error (same class for built-in ones, `name`, `message`, `code`, own
 * properties, the worker's stack), `ERR_OFFLOAD_WORKER_CRASHED` (`exitCode`, `signal`, `pid`,
 * and `stderr`, the worker's last stderr lines, also in the message; only the task that was
 * running fails), `ERR_OFFLOAD_WORKER_START` (`exitCode`,
 * `signal`, and `stderr`: the worker's last stderr lines, also in the message, with a hint for
 * a `.ts` script run without a loader),
 * `ERR_OFFLOAD_TIMEOUT`, `ERR_OFFLOAD_QUEUE_FULL`, `ERR_OFFLOAD_POOL_CLOSED`,
 * `ERR_OFFLOAD_POOL_DESTROYED`, `ERR_OFFLOAD_WORKER_PROTOCOL` or an `AbortError`.
 */
export declare class ProcessPool {
  /** @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`, {RangeError} `ERR_OUT_OF_RANGE`, naming the option. */
  constructor(options: ProcessPoolOptions)
  /** The pool's name in `metrics()`. */
  readonly name: string
  /** The most workers at once. */
  readonly size: number
  /** Workers started with the pool and kept while idle. */
  readonly minWorkers: number
  /** Waiting tasks admitted before `ERR_OFFLOAD_QUEUE_FULL`; `Infinity` when unbounded. */
  readonly maxQueue: number
  /**
   * Runs `payload` (JSON, with Buffers and TypedArrays carried as raw bytes, read in place: do
   * not modify them until the task settles) on a worker. Rejects with `ERR_INVALID_ARG_TYPE`,
   * naming the path, for what JSON would silently change (`BigInt`, functions, symbols,
   * `SharedArrayBuffer`, `Map`, `Set`, other class instances; see docs/protocol.md).
   */
  run<R = any>(payload?: unknown, options?: ProcessPoolRunOptions): Promise<R>
  /** Counters, gauges and each live worker's pid, state, tasks and RSS (read from `/proc`). */
  stats(): ProcessPoolStats
  /** Stops admission (`ERR_OFFLOAD_POOL_CLOSED`), finishes queued and running tasks, then lets every worker exit; resolves when none is left. */
  close(): Promise<void>
  /** Rejects queued and running tasks with `ERR_OFFLOAD_POOL_DESTROYED` and SIGKILLs every worker tree; resolves when none is left. */
  destroy(): Promise<void>
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}
