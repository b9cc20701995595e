//! The escalation against a fake child on tokio's paused clock: which signals, at which
//! virtual times.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};
use tokio::time::{sleep, timeout};

use super::*;

const TERM: c_int = libc::SIGTERM;
const KILL: c_int = libc::SIGKILL;

/// A child that records the signals it gets (with the virtual time since the start, in ms)
/// and exits on those in `dies_on`.
struct Fake {
    start: Instant,
    dies_on: Vec<c_int>,
    sent: Mutex<Vec<(u128, c_int)>>,
    escalate: AtomicBool,
    wake: Notify,
    exited: watch::Sender<bool>,
}

impl Fake {
    fn new(dies_on: &[c_int]) -> Self {
        Self {
            start: Instant::now(),
            dies_on: dies_on.to_vec(),
            sent: Mutex::new(Vec::new()),
            escalate: AtomicBool::new(false),
            wake: Notify::new(),
            exited: watch::Sender::new(false),
        }
    }

    fn sent(&self) -> Vec<(u128, c_int)> {
        self.sent.lock().unwrap().clone()
    }

    fn exit_now(&self) {
        self.exited.send_replace(true);
    }
}

impl Kill for Fake {
    fn kill(&self, sig: c_int, escalate: bool) {
        let at = self.start.elapsed().as_millis();
        let mut sent = self.sent.lock().unwrap();
        // A repeating signal would loop without letting virtual time pass: fail, not hang.
        assert!(sent.len() < 100, "signal storm: {:?}", &sent[..4]);
        sent.push((at, sig));
        drop(sent);
        // As `Inner::signal` does for a stopping signal.
        if escalate && sig != KILL {
            self.escalate.store(true, Ordering::SeqCst);
        }
        if self.dies_on.contains(&sig) {
            self.exit_now();
        }
        self.wake.notify_one();
    }

    fn take_escalation(&self) -> bool {
        self.escalate.swap(false, Ordering::SeqCst)
    }

    fn changed(&self) -> impl Future<Output = ()> + Send + '_ {
        self.wake.notified()
    }
}

impl Wait for Fake {
    fn exit(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut exited = self.exited.subscribe();
        async move {
            let _ = exited.wait_for(|e| *e).await;
        }
    }
}

fn policy(timeout_ms: Option<u64>, force_kill_ms: Option<u64>) -> Policy {
    Policy {
        deadline: timeout_ms.map(|t| Instant::now() + Duration::from_millis(t)),
        kill_signal: TERM,
        force_kill_after: force_kill_ms.map(Duration::from_millis),
        register_after: None,
    }
}

/// Runs the escalation for at most a virtual minute: `None` if the child was still running.
async fn bounded<C: Kill + Wait>(
    child: &C,
    policy: Policy,
    on_long_run: impl FnOnce(),
) -> Option<Ended> {
    timeout(
        Duration::from_secs(60),
        until_exit(child, policy, on_long_run),
    )
    .await
    .ok()
}

#[tokio::test(start_paused = true)]
async fn timeout_sends_the_kill_signal_then_sigkill_after_the_grace_period() {
    let child = Fake::new(&[KILL]);
    let ended = bounded(&child, policy(Some(1000), Some(2000)), || {}).await;
    assert_eq!(child.sent(), [(1000, TERM), (3000, KILL)]);
    assert!(ended.unwrap().timed_out);
}

#[tokio::test(start_paused = true)]
async fn a_child_that_exits_on_sigterm_never_gets_sigkill() {
    let child = Fake::new(&[TERM]);
    let ended = bounded(&child, policy(Some(1000), Some(2000)), || {}).await;
    sleep(Duration::from_secs(10)).await;
    assert_eq!(child.sent(), [(1000, TERM)]);
    assert!(ended.unwrap().timed_out);
}

#[tokio::test(start_paused = true)]
async fn the_timeout_fires_once() {
    // Ignores everything and never escalates: only the one timeout signal may be sent.
    let child = Fake::new(&[]);
    let ended = bounded(&child, policy(Some(1000), None), || {}).await;
    assert_eq!(ended, None);
    assert_eq!(child.sent(), [(1000, TERM)]);
}

#[tokio::test(start_paused = true)]
async fn sigkill_comes_once_even_if_the_child_survives_it() {
    // A child stuck in the kernel (D state) outlives SIGKILL for a while: no repeats.
    let child = Fake::new(&[]);
    let ended = bounded(&child, policy(Some(1000), Some(500)), || {}).await;
    assert_eq!(ended, None);
    assert_eq!(child.sent(), [(1000, TERM), (1500, KILL)]);
}

#[tokio::test(start_paused = true)]
async fn a_kill_from_elsewhere_escalates_from_its_own_time() {
    let child = Fake::new(&[KILL]);
    let (ended, ()) = tokio::join!(bounded(&child, policy(None, Some(2000)), || {}), async {
        sleep(Duration::from_millis(500)).await;
        child.kill(TERM, true);
    });
    assert_eq!(child.sent(), [(500, TERM), (2500, KILL)]);
    assert!(!ended.unwrap().timed_out);
}

#[tokio::test(start_paused = true)]
async fn the_spec_kill_signal_is_used_and_no_escalation_without_a_grace_period() {
    let child = Fake::new(&[]);
    let mut p = policy(Some(300), None);
    p.kill_signal = libc::SIGINT;
    let ended = bounded(&child, p, || {}).await;
    assert_eq!(ended, None);
    assert_eq!(child.sent(), [(300, libc::SIGINT)]);
}

#[tokio::test(start_paused = true)]
async fn a_child_that_exits_in_time_gets_no_signal() {
    let child = Fake::new(&[]);
    let (ended, ()) = tokio::join!(
        bounded(&child, policy(Some(1000), Some(10)), || {}),
        async {
            sleep(Duration::from_millis(999)).await;
            child.exit_now();
        }
    );
    sleep(Duration::from_secs(10)).await;
    assert_eq!(child.sent(), []);
    assert_eq!(ended, Some(Ended::default()));
}

#[tokio::test(start_paused = true)]
async fn only_a_long_run_is_registered_and_only_once() {
    for (lives_ms, registered) in [(5, false), (100, true)] {
        let child = Fake::new(&[]);
        let calls = AtomicUsize::new(0);
        let mut p = policy(None, None);
        p.register_after = Some(Duration::from_millis(20));
        let (ended, ()) = tokio::join!(
            bounded(&child, p, || {
                calls.fetch_add(1, Ordering::SeqCst);
            }),
            async {
                sleep(Duration::from_millis(lives_ms)).await;
                child.exit_now();
            }
        );
        assert_eq!(ended.unwrap().registered, registered);
        assert_eq!(calls.load(Ordering::SeqCst), registered as usize);
    }
}
