//! Host budgets for JavaScript: `openHostBudget` joins one; `createGatedPool` makes a CPU pool
//! whose tasks run only while holding one of its slots. The JS schedulers (`ThreadPool`,
//! `ProcessPool`) take a slot per task with `hostBudgetAcquire` and give it back with
//! `hostBudgetRelease`: a slot that is not free now arrives later through the completion
//! channel, granted on the budget's own thread, so the JS thread never waits for one.
//! Permits live in the handle's table: an environment torn down drops the handle and with it
//! every slot it held.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use napi::Env;
use napi::bindgen_prelude::External;
use napi_derive::napi;

use crate::env_scope;
use crate::errors::{Result, host_budget_error, pool_error};
use crate::options::budget::{HostBudgetOptions, HostBudgetSpec};
use crate::options::pool::PoolOptions;
use crate::pool::{LatencyStats, NativePool};
use crate::runtime::channel::{Completion, EnvScope, Settle};
use crate::runtime::value::Value;
use offload_core::budget::host::{HostBudget, Permit};
use offload_core::pool::{Pool, PoolConfig};

/// A joined budget as JS holds it.
#[napi]
pub struct NativeHostBudget {
    core: HostBudget,
    scope: Arc<EnvScope>,
    permits: Arc<Mutex<HashMap<u64, Permit>>>,
}

static NEXT_PERMIT: AtomicU64 = AtomicU64::new(1);

#[napi(object)]
pub struct HostBudgetStats {
    pub name: String,
    /// The budget's directory.
    pub dir: String,
    pub slots: u32,
    /// Slots this process holds now.
    pub held: u32,
    /// Slots held by any process on the host now (this one included).
    pub held_anywhere: u32,
    /// Tasks of this process waiting for a slot.
    pub waiting: u32,
    /// Slots this process has taken.
    pub acquired: f64,
    /// Of those, the ones a task waited for.
    pub waited: f64,
    /// How long tasks waited for a slot.
    pub wait_time: LatencyStats,
}

#[napi]
pub fn open_host_budget(
    env: Env,
    options: HostBudgetOptions,
    default_slots: u32,
) -> Result<External<NativeHostBudget>> {
    let spec = HostBudgetSpec::try_from(options)?;
    let core = HostBudget::open(&spec.base, &spec.name, spec.slots, default_slots as usize)
        .map_err(host_budget_error)?;
    Ok(External::new(NativeHostBudget {
        core,
        scope: env_scope(&env)?,
        permits: Arc::default(),
    }))
}

/// A CPU pool gated by `budget`.
#[napi]
pub fn create_gated_pool(
    env: Env,
    options: Option<PoolOptions>,
    budget: &External<NativeHostBudget>,
) -> Result<External<NativePool>> {
    let config = match options {
        Some(o) => PoolConfig::try_from(o)?,
        None => PoolConfig::default(),
    };
    let core = Pool::gated(config, Some(Arc::new(budget.core.clone()))).map_err(pool_error)?;
    Ok(External::new(NativePool {
        core,
        scope: env_scope(&env)?,
    }))
}

/// Takes a slot: a permit id (> 0) if one is free now. Otherwise minus the id of a request
/// (for `hostBudgetWithdraw`): the permit id is posted to `slot` once granted, or `undefined`
/// if the request is withdrawn first.
#[napi]
pub fn host_budget_acquire(env: Env, budget: &External<NativeHostBudget>, slot: u32) -> f64 {
    if let Some(p) = budget.core.try_acquire() {
        return keep(&budget.permits, p) as f64;
    }
    budget.scope.begin(&env);
    let pending = Pending {
        scope: budget.scope.clone(),
        slot,
        permits: budget.permits.clone(),
        granted: false,
    };
    -(budget.core.acquire(move |p| pending.grant(p)) as f64)
}

/// Withdraws a request `hostBudgetAcquire` made (its id is minus what it returned): its slot
/// then gets `undefined`. False if it was granted already.
#[napi]
pub fn host_budget_withdraw(budget: &External<NativeHostBudget>, request: f64) -> bool {
    budget.core.withdraw(request as u64)
}

/// Gives back a permit; unknown ids (given back already) are ignored.
#[napi]
pub fn host_budget_release(budget: &External<NativeHostBudget>, permit: f64) {
    let p = lock(&budget.permits).remove(&(permit as u64));
    drop(p);
}

#[napi]
pub fn host_budget_stats(budget: &External<NativeHostBudget>) -> HostBudgetStats {
    let s = budget.core.stats();
    HostBudgetStats {
        name: s.name,
        dir: s.dir,
        slots: s.slots as u32,
        held: s.held as u32,
        held_anywhere: s.held_anywhere as u32,
        waiting: s.waiting as u32,
        acquired: s.acquired as f64,
        waited: s.waited as f64,
        wait_time: s.wait.into(),
    }
}

/// Wait times at or below each bound (seconds), then their count and sum (seconds).
#[napi]
pub fn host_budget_wait_buckets(budget: &External<NativeHostBudget>, bounds: Vec<f64>) -> Vec<f64> {
    let bounds_us: Vec<u64> = bounds.iter().map(|b| (b * 1e6) as u64).collect();
    let c = budget.core.wait_buckets(&bounds_us);
    let mut out: Vec<f64> = c.le.iter().map(|&n| n as f64).collect();
    out.push(c.count as f64);
    out.push(c.sum_us as f64 / 1e6);
    out
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn keep(permits: &Mutex<HashMap<u64, Permit>>, p: Permit) -> u64 {
    let id = NEXT_PERMIT.fetch_add(1, Ordering::Relaxed);
    lock(permits).insert(id, p);
    id
}

/// A waiting request's end of the channel: posts the permit id when granted, or `undefined`
/// when dropped ungranted (withdrawn), so the channel's count of owed completions balances.
struct Pending {
    scope: Arc<EnvScope>,
    slot: u32,
    permits: Arc<Mutex<HashMap<u64, Permit>>>,
    granted: bool,
}

impl Pending {
    fn grant(mut self, p: Permit) {
        self.granted = true;
        let id = keep(&self.permits, p);
        self.scope.post(Completion {
            settle: Settle::Slot(self.slot),
            result: Ok(Value::Number(id as f64)),
        });
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.granted {
            self.scope.post(Completion {
                settle: Settle::Slot(self.slot),
                result: Ok(Value::Undefined),
            });
        }
    }
}
