// Test and benchmark kernels; not for production use.
import type { TaskOptions } from './index'

/** Resolves with undefined after a round trip through the pool. */
export declare function noop(options?: TaskOptions): Promise<void>
/** Busy-spins a pool thread for `ms` milliseconds, polling for cancellation like a kernel. */
export declare function spin(ms: number, options?: TaskOptions): Promise<void>
/** Panics on a pool thread; rejects with `ERR_OFFLOAD_TASK_PANICKED`. */
export declare function panic(message: string, options?: TaskOptions): Promise<never>
