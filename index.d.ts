// Public typings for offload. Each feature folder declares its own API (lib/*/types.d.ts);
// this file gathers them, as index.js gathers the code.
export * from './lib/shared/types'
export * from './lib/cpu/types'
export * from './lib/cpu/stream-types'
export * from './lib/images/types'
export * from './lib/files/types'
export * from './lib/parse/types'
export * from './lib/crypto/types'
export * from './lib/subprocess/types'
export * from './lib/process-pool/types'
export * from './lib/thread-pool/types'
export * from './lib/host-budget/types'

/**
 * Every CPU pool, process pool, thread pool and the subprocess counters in the Prometheus text
 * exposition format (0.0.4), with `# HELP` and `# TYPE` lines: queue depth, running, tasks by
 * outcome, wait and run time histograms (`offload_pool_*`); spawned, running, failed, killed,
 * max RSS (`offload_subprocess*`); process-pool workers, crashes and restarts
 * (`offload_process_pool_*`); thread-pool threads, queue depth and tasks by outcome
 * (`offload_thread_pool_*`). Serve it with `metrics.contentType`.
 */
export declare const metrics: {
  (): string
  /** `'text/plain; version=0.0.4; charset=utf-8'`. */
  readonly contentType: string
}
