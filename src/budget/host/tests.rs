use super::*;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::process::{Child, Command};
use std::sync::mpsc;

/// A fresh base directory (0700) under the system temp dir.
fn base() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let p = std::env::temp_dir().join(format!(
        "offload-budget-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    p
}

/// Another process (util-linux `flock`, which with `-o` keeps the lock from its `sleep`) holding
/// `file` exclusively until killed. Waits until
/// it holds it: the file is then locked against us.
fn foreign_holder(file: &Path) -> Child {
    let child = Command::new("flock")
        .args(["-o", "-x", file.to_str().unwrap(), "sleep", "60"])
        .spawn()
        .expect("util-linux flock");
    let fd = std::fs::File::open(file).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sys::flock(std::os::fd::AsFd::as_fd(&fd), libc::LOCK_EX | libc::LOCK_NB).unwrap() {
        sys::flock(std::os::fd::AsFd::as_fd(&fd), libc::LOCK_UN).unwrap();
        assert!(Instant::now() < deadline, "flock never took {file:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

#[test]
fn at_most_slots_permits_and_a_released_one_is_taken_again() {
    let b = HostBudget::open(&base(), "a", Some(3), 8).unwrap();
    assert_eq!(b.slots(), 3);
    let held: Vec<_> = (0..3)
        .map(|_| b.try_acquire().expect("free slot"))
        .collect();
    assert!(b.try_acquire().is_none(), "a fourth permit");
    let s = b.stats();
    assert_eq!((s.held, s.held_anywhere, s.acquired), (3, 3, 3));
    drop(held);
    assert_eq!(b.stats().held, 0);
    assert!(b.try_acquire().is_some());
}

#[test]
fn the_directory_is_private_and_a_planted_one_is_refused() {
    let root = base();
    let b = HostBudget::open(&root, "priv", None, 2).unwrap();
    let mode = std::fs::metadata(root.join("priv"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    assert_eq!(b.slots(), 2, "the default for a new budget");
    // Readable by the group: refused, not fixed.
    let open = root.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o750)).unwrap();
    let err = HostBudget::open(&root, "open", None, 2).err().unwrap();
    assert!(matches!(err, HostBudgetError::Insecure { .. }), "{err}");
    assert!(err.to_string().contains("750"), "{err}");
    // A symlink to a good directory: refused too.
    symlink(root.join("priv"), root.join("link")).unwrap();
    let err = HostBudget::open(&root, "link", None, 2).err().unwrap();
    assert!(err.to_string().contains("symlink"), "{err}");
    // So is a base directory others can enter, such as /tmp itself.
    let err = HostBudget::open(Path::new("/tmp"), "x", None, 2)
        .err()
        .unwrap();
    assert!(matches!(err, HostBudgetError::Insecure { .. }), "{err}");
}

#[test]
fn a_waiting_request_is_granted_when_a_permit_drops() {
    let b = HostBudget::open(&base(), "wait", Some(1), 1).unwrap();
    let first = b.try_acquire().unwrap();
    let (tx, rx) = mpsc::channel();
    b.acquire(move |p| tx.send(p).unwrap());
    assert_eq!(b.stats().waiting, 1);
    assert!(
        rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "granted while held"
    );
    drop(first);
    let p = rx.recv_timeout(Duration::from_secs(10)).expect("granted");
    assert_eq!(b.stats().waiting, 0);
    assert_eq!(b.stats().waited, 1);
    drop(p);
    // A withdrawn request is never granted.
    let held = b.try_acquire().unwrap();
    let (tx, rx) = mpsc::channel::<Permit>();
    let id = b.acquire(move |p| tx.send(p).unwrap());
    assert!(b.withdraw(id));
    assert!(!b.withdraw(id));
    drop(held);
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
    assert!(b.try_acquire().is_some());
}

#[test]
fn slots_held_by_a_killed_process_come_back_to_a_waiter() {
    let root = base();
    let b = HostBudget::open(&root, "kill", Some(2), 2).unwrap();
    let mut holders: Vec<_> = (0..2)
        .map(|i| foreign_holder(&root.join("kill").join(format!("slot-{i}"))))
        .collect();
    assert!(b.try_acquire().is_none(), "both slots are held elsewhere");
    assert_eq!(b.stats().held_anywhere, 2);
    let (tx, rx) = mpsc::channel();
    b.acquire(move |p| tx.send((p, Instant::now())).unwrap());
    std::thread::sleep(Duration::from_millis(20));
    assert!(rx.try_recv().is_err());
    // SIGKILL: no release code runs in the holder; the kernel closes its files.
    let killed = Instant::now();
    holders[0].kill().unwrap();
    let (permit, at) = rx.recv_timeout(Duration::from_secs(10)).expect("slot back");
    eprintln!("slot back {:?} after SIGKILL", at - killed);
    assert!(
        b.try_acquire().is_none(),
        "the other holder still holds its slot"
    );
    drop(permit);
    for h in &mut holders {
        let _ = h.kill();
        let _ = h.wait();
    }
}

#[test]
fn members_agree_on_the_slot_count() {
    let root = base();
    let b = HostBudget::open(&root, "n", Some(2), 4).unwrap();
    let err = HostBudget::open(&root, "n", Some(3), 4).err().unwrap();
    assert!(
        matches!(
            err,
            HostBudgetError::Mismatch {
                slots: 2,
                asked: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(HostBudget::open(&root, "n", None, 4).unwrap().slots(), 2);
    // Another process is a member (holds `meta` shared): the count it set stays.
    drop(b);
    let meta = root.join("n").join("meta");
    let mut member = Command::new("flock")
        .args(["-o", "-s", meta.to_str().unwrap(), "sleep", "60"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let err = HostBudget::open(&root, "n", Some(5), 4).err().unwrap();
    assert!(
        matches!(err, HostBudgetError::Mismatch { slots: 2, .. }),
        "{err}"
    );
    member.kill().unwrap();
    member.wait().unwrap();
    // Once nobody uses it, a new count takes effect.
    assert_eq!(HostBudget::open(&root, "n", Some(5), 4).unwrap().slots(), 5);
}

#[test]
fn a_gated_pool_runs_at_most_slots_tasks_and_none_while_another_process_holds_them() {
    use crate::pool::{Outcome, Pool, PoolConfig, SubmitOptions};
    let root = base();
    let budget = HostBudget::open(&root, "pool", Some(1), 1).unwrap();
    let config = PoolConfig {
        threads: 4,
        ..PoolConfig::default()
    };
    let pool = Pool::gated(config, Some(Arc::new(budget.clone()))).unwrap();
    let mut holder = foreign_holder(&root.join("pool").join("slot-0"));
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    for i in 0..24u64 {
        let (running, most, tx) = (running.clone(), most.clone(), tx.clone());
        let work = move |_: &crate::pool::CancelToken| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<u64, ()>(i * 2)
        };
        let done = move |_, o: Outcome<u64, ()>| {
            let _ = tx.send(matches!(o, Outcome::Ok(v) if v == i * 2));
        };
        pool.submit(SubmitOptions::default(), work, done).unwrap();
    }
    // Every pool thread is free, but the one slot is held elsewhere: nothing runs.
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "a task ran without a slot"
    );
    assert_eq!(pool.stats().queued, 24);
    assert!(budget.stats().waiting >= 1);
    holder.kill().unwrap();
    holder.wait().unwrap();
    let ok = (0..24)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(20))
                .expect("every task ends")
        })
        .filter(|&ok| ok)
        .count();
    assert_eq!(ok, 24);
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "more tasks ran at once than slots"
    );
    // Idle again: the drainer gave its slot back.
    let deadline = Instant::now() + Duration::from_secs(10);
    while budget.stats().held > 0 {
        assert!(
            Instant::now() < deadline,
            "the slot was kept after the queue emptied"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_busy_holder_gives_its_slot_to_another_waiting_process_after_the_quantum() {
    use crate::pool::{Outcome, Pool, PoolConfig, SubmitOptions};
    let root = base();
    let budget = HostBudget::open(&root, "fair", Some(1), 1).unwrap();
    let config = PoolConfig {
        threads: 1,
        ..PoolConfig::default()
    };
    let pool = Pool::gated(config, Some(Arc::new(budget.clone()))).unwrap();
    for _ in 0..400 {
        let work = |_: &crate::pool::CancelToken| {
            std::thread::sleep(Duration::from_millis(1));
            Ok::<(), ()>(())
        };
        pool.submit(SubmitOptions::default(), work, |_, _: Outcome<(), ()>| {})
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while budget.stats().held == 0 {
        assert!(Instant::now() < deadline, "the pool never took the slot");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Another process says it waits (a shared lock on `waiting`, as a budget thread takes) and
    // blocks on the slot; the pool, with 400 ms of tasks queued, must let it in well before.
    let dir = root.join("fair");
    let mut says = Command::new("flock")
        .args([
            "-o",
            "-s",
            dir.join("waiting").to_str().unwrap(),
            "sleep",
            "60",
        ])
        .spawn()
        .unwrap();
    let mut other = Command::new("flock")
        .args(["-o", "-x", dir.join("slot-0").to_str().unwrap(), "true"])
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = other.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the other process never got the slot"
        );
        std::thread::sleep(Duration::from_micros(200));
    };
    let left = pool.stats().queued;
    says.kill().unwrap();
    says.wait().unwrap();
    assert!(status.success());
    assert!(
        left > 100,
        "it got the slot only once the queue ran low ({left} tasks left)"
    );
}
