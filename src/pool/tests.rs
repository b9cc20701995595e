use std::sync::mpsc;
use std::time::Duration;

use super::*;

fn pool(threads: usize, max_queue: usize) -> Pool {
    Pool::new(PoolConfig {
        threads,
        max_queue,
        name: "test".into(),
        nice: 0,
        idle_priority: false,
    })
    .unwrap()
}

type Done = mpsc::Receiver<Outcome<u32, String>>;

fn submit_with(
    p: &Pool,
    opts: SubmitOptions,
    work: impl FnOnce(&CancelToken) -> Result<u32, String> + Send + 'static,
) -> (Result<u64, PoolError>, Done) {
    let (tx, rx) = mpsc::channel();
    let r = p.submit(opts, work, move |_, o| tx.send(o).unwrap());
    (r, rx)
}

/// Occupies one pool thread until the returned sender is dropped or sent to.
fn block(p: &Pool) -> (mpsc::Sender<()>, Done) {
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    let (_, done) = submit_with(p, SubmitOptions::default(), move |_| {
        started_tx.send(()).unwrap();
        let _ = gate_rx.recv();
        Ok(0)
    });
    started_rx.recv().unwrap();
    (gate_tx, done)
}

fn spin_until_cancelled(t: &CancelToken) -> Result<u32, String> {
    while !t.is_cancelled() {
        std::thread::sleep(Duration::from_millis(1));
    }
    Err("stopped".into())
}

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn runs_work_and_reports_its_result() {
    let p = pool(2, 16);
    let (r, rx) = submit_with(&p, SubmitOptions::default(), |_| Ok(42));
    assert!(r.is_ok());
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Outcome::Ok(42));
    let (_, rx) = submit_with(&p, SubmitOptions::default(), |_| Err("bad".into()));
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Outcome::Err("bad".into()));
    let s = p.stats();
    assert_eq!((s.completed, s.failed, s.queued, s.running), (1, 1, 0, 0));
}

#[test]
#[expect(unsafe_code, reason = "getpriority reads the pool thread's niceness")]
fn threads_take_the_configured_niceness() {
    let p = Pool::new(PoolConfig {
        threads: 1,
        nice: 7,
        ..PoolConfig::default()
    })
    .unwrap();
    let (_, rx) = submit_with(&p, SubmitOptions::default(), |_| {
        // SAFETY: reads the calling thread's niceness.
        let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        Ok(nice as u32)
    });
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Outcome::Ok(7));
}

#[test]
#[expect(
    unsafe_code,
    reason = "sched_getscheduler reads the pool thread's policy"
)]
fn idle_priority_puts_threads_under_sched_idle() {
    for idle in [true, false] {
        let p = Pool::new(PoolConfig {
            threads: 1,
            idle_priority: idle,
            ..PoolConfig::default()
        })
        .unwrap();
        let (_, rx) = submit_with(&p, SubmitOptions::default(), |_| {
            // SAFETY: reads the calling thread's scheduling policy.
            let policy = unsafe { libc::sched_getscheduler(0) };
            Ok(policy as u32)
        });
        let want = if idle {
            libc::SCHED_IDLE
        } else {
            libc::SCHED_OTHER
        };
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), Outcome::Ok(want as u32));
    }
}

#[test]
fn threads_are_named_after_the_pool() {
    let p = pool(1, 16);
    let (_, rx) = submit_with(&p, SubmitOptions::default(), |_| {
        assert_eq!(std::thread::current().name(), Some("offload-test-0"));
        Ok(0)
    });
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Outcome::Ok(0));
}

#[test]
fn higher_priority_runs_first_and_fifo_within_a_level() {
    let p = pool(1, 16);
    let (gate, _) = block(&p);
    let (order_tx, order_rx) = mpsc::channel();
    let plan = [
        (1, Priority::Low),
        (2, Priority::Normal),
        (3, Priority::High),
        (4, Priority::Normal),
        (5, Priority::High),
    ];
    for (n, priority) in plan {
        let tx = order_tx.clone();
        let opts = SubmitOptions {
            priority,
            ..Default::default()
        };
        p.submit::<(), (), _, _>(
            opts,
            move |_| {
                tx.send(n).unwrap();
                Ok(())
            },
            |_, _| {},
        )
        .unwrap();
    }
    drop(gate);
    let order: Vec<u32> = (0..5)
        .map(|_| order_rx.recv_timeout(WAIT).unwrap())
        .collect();
    assert_eq!(order, [3, 5, 2, 4, 1]);
}

#[test]
fn rejects_at_once_when_the_queue_is_full() {
    let p = pool(1, 2);
    let (gate, _) = block(&p);
    let (a, _ra) = submit_with(&p, SubmitOptions::default(), |_| Ok(1));
    let (b, _rb) = submit_with(&p, SubmitOptions::default(), |_| Ok(2));
    let (c, _rc) = submit_with(&p, SubmitOptions::default(), |_| Ok(3));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(c, Err(PoolError::QueueFull { max_queue: 2 }));
    let s = p.stats();
    assert_eq!((s.queued, s.running, s.rejected), (2, 1, 1));
    drop(gate);
}

#[test]
fn a_free_thread_takes_new_work_while_another_runs_a_long_task() {
    let p = pool(2, 16);
    let (gate, _) = block(&p);
    for i in 0..3 {
        let (_, rx) = submit_with(&p, SubmitOptions::default(), move |_| Ok(i));
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), Outcome::Ok(i));
    }
    drop(gate);
}

#[test]
fn tasks_for_free_threads_are_not_counted_as_waiting() {
    let p = pool(2, 0);
    let (gate, _) = block(&p);
    // One thread is free: the first task may start there; the next would have to wait.
    let (a, ra) = submit_with(&p, SubmitOptions::default(), |_| Ok(1));
    assert!(a.is_ok());
    assert_eq!(ra.recv_timeout(WAIT).unwrap(), Outcome::Ok(1));
    let (gate2, _) = block(&p);
    let (b, _) = submit_with(&p, SubmitOptions::default(), |_| Ok(2));
    assert_eq!(b, Err(PoolError::QueueFull { max_queue: 0 }));
    drop((gate, gate2));
}

#[test]
fn cancelling_a_queued_task_finishes_it_immediately() {
    let p = pool(1, 16);
    let (gate, _) = block(&p);
    let opts = SubmitOptions {
        cancellable: true,
        ..Default::default()
    };
    let (id, rx) = submit_with(&p, opts, |_| panic!("must not run"));
    let id = id.unwrap();
    assert_eq!(p.cancel(id, CancelReason::Aborted), Cancelled::Dequeued);
    assert_eq!(
        rx.try_recv().unwrap(),
        Outcome::Cancelled(CancelReason::Aborted)
    );
    assert_eq!(p.stats().queued, 0);
    assert_eq!(
        p.cancel(id, CancelReason::Aborted),
        Cancelled::NotFound,
        "only once"
    );
    drop(gate);
}

#[test]
fn cancelling_a_running_task_fires_its_token() {
    let p = pool(1, 16);
    let opts = SubmitOptions {
        cancellable: true,
        ..Default::default()
    };
    let (started_tx, started_rx) = mpsc::channel();
    let (id, rx) = submit_with(&p, opts, move |t| {
        started_tx.send(()).unwrap();
        spin_until_cancelled(t)
    });
    started_rx.recv_timeout(WAIT).unwrap();
    assert_eq!(
        p.cancel(id.unwrap(), CancelReason::TimedOut),
        Cancelled::Signalled
    );
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap(),
        Outcome::Cancelled(CancelReason::TimedOut)
    );
    let s = p.stats();
    assert_eq!((s.timed_out, s.cancelled, s.failed), (1, 0, 0));
}

#[test]
fn a_panic_is_reported_and_the_pool_keeps_serving() {
    let p = pool(1, 16);
    let (_, rx) = submit_with(&p, SubmitOptions::default(), |_| panic!("kaboom {}", 7));
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap(),
        Outcome::Panicked("kaboom 7".into())
    );
    let (_, rx) = submit_with(&p, SubmitOptions::default(), |_| Ok(1));
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Outcome::Ok(1));
    assert_eq!(p.stats().failed, 1);
}

#[test]
fn close_rejects_new_work_and_waits_for_accepted_work() {
    let p = pool(1, 16);
    let (gate, first) = block(&p);
    let (_, second) = submit_with(&p, SubmitOptions::default(), |_| Ok(2));
    let (idle_tx, idle_rx) = mpsc::channel();
    p.close(move || idle_tx.send(()).unwrap());
    let (late, _) = submit_with(&p, SubmitOptions::default(), |_| Ok(3));
    assert_eq!(late, Err(PoolError::Closed));
    assert!(idle_rx.try_recv().is_err(), "idle before the work ended");
    drop(gate);
    assert_eq!(first.recv_timeout(WAIT).unwrap(), Outcome::Ok(0));
    assert_eq!(second.recv_timeout(WAIT).unwrap(), Outcome::Ok(2));
    idle_rx.recv_timeout(WAIT).unwrap();
    // A second close of an idle pool reports idle at once.
    let (tx, rx) = mpsc::channel();
    p.close(move || tx.send(()).unwrap());
    rx.try_recv().unwrap();
}

#[test]
fn destroy_cancels_queued_and_running_work() {
    let p = pool(1, 16);
    let (started_tx, started_rx) = mpsc::channel();
    let (_, running) = submit_with(&p, SubmitOptions::default(), move |t| {
        started_tx.send(()).unwrap();
        spin_until_cancelled(t)
    });
    started_rx.recv_timeout(WAIT).unwrap();
    let (_, queued) = submit_with(&p, SubmitOptions::default(), |_| panic!("must not run"));
    p.destroy();
    let destroyed = Outcome::Cancelled(CancelReason::PoolDestroyed);
    assert_eq!(queued.try_recv().unwrap(), destroyed);
    assert_eq!(running.recv_timeout(WAIT).unwrap(), destroyed);
    let (late, _) = submit_with(&p, SubmitOptions::default(), |_| Ok(1));
    assert_eq!(late, Err(PoolError::Closed));
    assert_eq!(p.stats().cancelled, 2);
}

#[test]
fn cancelling_a_scope_cancels_its_tasks() {
    let p = pool(1, 16);
    let scope = Arc::new(CancelGroup::default());
    let opts = SubmitOptions {
        scope: Some(scope.clone()),
        ..Default::default()
    };
    let (gate, _) = block(&p);
    let (_, queued) = submit_with(&p, opts, |_| panic!("must not run"));
    scope.cancel();
    drop(gate);
    assert_eq!(
        queued.recv_timeout(WAIT).unwrap(),
        Outcome::Cancelled(CancelReason::ScopeClosed)
    );
}

#[test]
fn every_accepted_task_completes_exactly_once_under_load() {
    let p = pool(4, 100_000);
    let (tx, rx) = mpsc::channel();
    let n = 20_000;
    for i in 0..n {
        let tx = tx.clone();
        let opts = SubmitOptions {
            cancellable: i % 3 == 0,
            priority: [Priority::Low, Priority::Normal, Priority::High][i % 3],
            ..Default::default()
        };
        let id = p
            .submit::<usize, (), _, _>(opts, move |_| Ok(i), move |_, o| tx.send(o).unwrap())
            .unwrap();
        if i % 6 == 0 {
            p.cancel(id, CancelReason::Aborted);
        }
    }
    drop(tx);
    let outcomes: Vec<_> = rx.iter().collect();
    assert_eq!(outcomes.len(), n);
    let s = p.stats();
    assert_eq!(s.completed + s.cancelled, n as u64);
    assert_eq!((s.queued, s.running), (0, 0));
}

#[test]
fn thread_names_keep_their_number_within_linux_limit() {
    assert_eq!(thread_name("pool", 0), "offload-pool-0");
    assert_eq!(thread_name("images", 0), "offload-image-0");
    assert_eq!(thread_name("images", 12), "offload-imag-12");
    // Multi-byte characters are never split.
    assert_eq!(thread_name("ééé", 3), "offload-éé-3");
    for (name, i) in [("x", 1023), ("a-very-long-pool-name", 7), ("ünïcödé", 99)] {
        let n = thread_name(name, i);
        assert!(n.len() <= THREAD_NAME_MAX, "{n}");
        assert!(n.ends_with(&format!("-{i}")), "{n}");
    }
}
