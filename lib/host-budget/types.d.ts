// Typings for `hostBudget` (lib/host-budget), the option of Pool, ThreadPool and ProcessPool.
// Re-exported by the package's index.d.ts.
import type { HostBudgetStats } from '../../napi/binding'

/** Generated from the Rust sources (binding.d.ts), documented there. */
export type { HostBudgetStats }

/** A CPU budget shared by every pool, in every process of this user on this host, that names it. */
export interface HostBudgetOption {
  /** The budget's name: 1 to 64 of `A-Z a-z 0-9 . _ -`. */
  name: string
  /**
   * Tasks running at once across all the budget's pools and processes. Every process must ask
   * for the same number or leave it out (else `ERR_OFFLOAD_HOST_BUDGET`). Default: the count in
   * force, or for a new budget `os.availableParallelism()`.
   */
  slots?: number
  /**
   * Directory holding the budget's own directory; it must belong to this user with mode 0700
   * (created so if missing). Default: `$XDG_RUNTIME_DIR/offload`, else `/tmp/offload-<uid>`.
   */
  dir?: string
}

/** The `hostBudget` option. */
export interface HostBudgetOptions {
  /**
   * Runs this pool's tasks only while holding one of the budget's slots. `false` opts out of
   * `OFFLOAD_HOST_BUDGET`. Default: `OFFLOAD_HOST_BUDGET` (`name` or `name:slots`) if set, else none.
   */
  hostBudget?: HostBudgetOption | false
}

/** Stats of a pool with a host budget. */
export interface HostBudgetPoolStats {
  /** The budget as this process sees it; absent without one. */
  hostBudget?: HostBudgetStats
}
