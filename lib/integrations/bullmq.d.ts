// Typings for offload/bullmq. Needs the optional peer dependency `bullmq` (and `ioredis`).
import type { Job, Worker, WorkerOptions } from 'bullmq'
import type { Pool } from '../cpu/types'
import type { ThreadPool } from '../thread-pool/types'
import type { ProcessPool } from '../process-pool/types'

/** What a processor gets besides its job. */
export interface JobContext {
  /**
   * Fires when the job must stop: its lock was lost (another worker may run it), or the worker
   * is closing and the job ran past `closeTimeout` (it goes back to the queue). Pass it to
   * every offload call. The reason is an `OffloadError` with code `ERR_OFFLOAD_CANCELLED`.
   */
  signal: AbortSignal
  /** The job's lock token, for BullMQ calls that take one (`job.moveToDelayed(ts, token)`). */
  token: string | undefined
}

export type OffloadProcessor<DataType = any, ResultType = any, NameType extends string = string> =
  (job: Job<DataType, ResultType, NameType>, context: JobContext) => Promise<ResultType>

export interface CreateWorkerOptions extends Omit<WorkerOptions, 'concurrency'> {
  /**
   * The offload pools the processor uses. Their capacity makes `concurrency: 'auto'`, and
   * `close()` closes them. Default: none.
   */
  pools?: ReadonlyArray<Pool | ThreadPool | ProcessPool>
  /**
   * Jobs run at once: a number, or `'auto'` for the tasks the pools run at once (Pool and
   * ThreadPool `threads`, ProcessPool `size`, summed; at least 1). Default: `'auto'` with
   * pools, else 1.
   */
  concurrency?: number | 'auto'
  /**
   * Milliseconds `close()` lets running jobs finish before aborting them (they go back to the
   * queue); a second later the pools are destroyed under any job that ignores its signal.
   * Default: `30000`.
   */
  closeTimeout?: number
}

/**
 * A BullMQ `Worker` whose processor does its CPU work through offload, so the event loop
 * stays free and locks renew on time. Offload errors no retry can cure (see docs/bullmq.md)
 * fail the job at once as `UnrecoverableError`; `ERR_OFFLOAD_QUEUE_FULL` puts the job back
 * without using an attempt. `worker.close(force?)` waits up to `closeTimeout` (0 with
 * `force`), aborts the jobs still running, puts them back, then closes the pools.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`, {RangeError}
 *   `ERR_OUT_OF_RANGE` for bad arguments.
 */
export declare function createWorker<DataType = any, ResultType = any, NameType extends string = string>(
  queueName: string,
  processor: OffloadProcessor<DataType, ResultType, NameType>,
  options: CreateWorkerOptions,
): Worker<DataType, ResultType, NameType>

/** The codes whose errors fail a job without retries (raised by offload only). */
export declare const UNRECOVERABLE: ReadonlySet<string>
