// Test and benchmark kernels; not for production use. In a build without the `test-kernels`
// cargo feature (release binaries) every function throws ERR_OFFLOAD_TESTING_UNAVAILABLE.
import type { TaskOptions } from './types'

/** Resolves with undefined after a round trip through the pool. */
export declare function noop(options?: TaskOptions): Promise<void>
/** Busy-spins a pool thread for `ms` milliseconds, polling for cancellation like a kernel. */
export declare function spin(ms: number, options?: TaskOptions): Promise<void>
/** Panics on a pool thread; rejects with `ERR_OFFLOAD_TASK_PANICKED`. */
export declare function panic(message: string, options?: TaskOptions): Promise<never>
/**
 * Makes an external string through a stand-in for N-API that refuses it in `mode`; returns the
 * string made instead.
 */
export declare function externalStringFailure(mode: 'finalized' | 'unregistered' | 'later', text: string): string
/** Runs the finalizer a `'later'` refusal kept, as Node may at teardown; false if none. */
export declare function runKeptStringFinalizer(): boolean
/**
 * Bytes the C allocator has handed out and not had back (glibc's `mallinfo2`), or -1 where that
 * is not known. Unlike RSS, memory the allocator keeps or returns does not move it.
 */
export declare function mallocInUse(): number
