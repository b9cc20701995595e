// Typings shared by every feature: binary inputs, queue priorities and offload's error
// classes (lib/shared/errors.js). Re-exported by the package's index.d.ts.

/** Binary inputs are read in place (zero-copy); strings are read as UTF-8. Do not modify or transfer a binary input until the promise settles. */
export type BinaryLike = string | ArrayBufferView | ArrayBuffer | SharedArrayBuffer

/** Queue level of a task: FIFO within a level, higher levels first. */
export type Priority = 'high' | 'normal' | 'low'

/** Error for offload's own failures; `code` is one of the `ERR_OFFLOAD_*` codes. */
export declare class OffloadError extends Error {
  /** Mostly for tests and wrappers: offload creates these itself. */
  constructor(code: string, message: string, options?: { cause?: unknown })
  /** One of the `ERR_OFFLOAD_*` codes. */
  readonly code: string
}

/** Rejection for an aborted task: `name` is `'AbortError'`, `code` is `'ABORT_ERR'`, `cause` is the signal's reason. */
export declare class AbortError extends Error {
  /** Default message: `'The operation was aborted'`. */
  constructor(message?: string, options?: { cause?: unknown })
  /** Always `'ABORT_ERR'`, as Node's own AbortError. */
  readonly code: 'ABORT_ERR'
}
