// Typings for offload/worker, the worker side of a process pool (docs/protocol.md).

/** What a handler receives besides its payload. */
export interface TaskContext {
  /** Aborted when the pool cancels the task (its AbortSignal fired or its timeout passed). */
  signal: AbortSignal
  /** The task name the caller asked for, or null for the default handler. */
  name: string | null
}

export type Handler = (payload: any, context: TaskContext) => unknown

/**
 * Serves tasks from the ProcessPool that started this process: one handler, or named ones
 * (`default` serves calls without a name). Buffers and TypedArrays anywhere in a payload or
 * result travel as raw bytes; a result JSON would silently change (a `Map`, a `BigInt`, a class
 * instance: see docs/protocol.md) fails the task with `ERR_INVALID_ARG_TYPE` naming its path. A
 * thrown error reaches the caller with its name, message, stack, code and own enumerable
 * properties (those that can be encoded).
 * @throws {Error} if this process was not started by a ProcessPool.
 */
export declare function serve(handlers: Handler | Record<string, Handler>): void
