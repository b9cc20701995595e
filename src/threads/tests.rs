use super::*;
use std::time::Duration;

fn pool(max_queue: usize) -> Dispatch<u32, &'static str> {
    Dispatch::new(max_queue)
}

/// Joins a worker under a fresh name (the binding names them by thread id).
fn add<T>(d: &Dispatch<u32, T>) -> WorkerId {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    assert!(d.add_worker(id));
    id
}

#[test]
fn a_parked_worker_is_handed_out_once_and_takes_the_task() {
    let d = pool(0);
    let w = add(&d);
    assert_eq!(d.take(w), None, "nothing queued: parks");
    let (t, wake) = d.submit(0, "a", Priority::Normal).unwrap();
    assert_eq!(wake, Some(w));
    // A second task finds no parked worker and, with max_queue 0, no room.
    assert_eq!(
        d.submit(0, "b", Priority::Normal),
        Err(DispatchError::QueueFull(0))
    );
    assert_eq!(d.take(w), Some((t, 0, "a")));
    assert_eq!(d.finish(w, t), Some(0));
    let s = d.stats();
    assert_eq!(
        (s.submitted, s.completed, s.rejected, s.queued, s.running),
        (1, 1, 1, 0, 0)
    );
}

#[test]
fn max_queue_counts_only_tasks_no_woken_worker_will_take() {
    let d = pool(1);
    let (a, b) = (add(&d), add(&d));
    assert_eq!(d.take(a), None);
    assert_eq!(d.take(b), None);
    let wakes: Vec<_> = ["1", "2", "3"]
        .iter()
        .map(|p| d.submit(0, p, Priority::Normal).unwrap().1)
        .collect();
    // Two wakes (each worker once), then one waiting task fills max_queue.
    assert_eq!(wakes.iter().filter(|w| w.is_some()).count(), 2);
    assert!(matches!(
        d.submit(0, "4", Priority::Normal),
        Err(DispatchError::QueueFull(1))
    ));
}

#[test]
fn higher_priority_first_fifo_within_a_level() {
    let d = pool(16);
    let w = add(&d);
    for (p, prio) in [
        ("l", Priority::Low),
        ("n1", Priority::Normal),
        ("h", Priority::High),
        ("n2", Priority::Normal),
    ] {
        d.submit(0, p, prio).unwrap();
    }
    let mut order = Vec::new();
    while let Some((t, _, p)) = d.take(w) {
        order.push(p);
        assert_eq!(d.finish(w, t), Some(0));
    }
    assert_eq!(order, ["h", "n1", "n2", "l"]);
}

#[test]
fn cancel_removes_a_queued_task_and_reports_a_running_one() {
    let d = pool(16);
    let w = add(&d);
    let (a, _) = d.submit(0, "a", Priority::Normal).unwrap();
    let (b, _) = d.submit(0, "b", Priority::Normal).unwrap();
    assert_eq!(d.cancel(b), Cancelled::Queued(0, "b"));
    assert_eq!(d.take(w), Some((a, 0, "a")));
    assert_eq!(d.cancel(a), Cancelled::Running(w, 0));
    assert_eq!(d.take(w), None, "b never reaches a worker");
    assert_eq!(d.finish(w, a), Some(0));
    assert_eq!(d.cancel(a), Cancelled::Unknown);
    assert_eq!(d.stats().cancelled, 1);
}

#[test]
fn a_worker_that_exits_loses_its_task_once_and_the_rest_goes_on() {
    let d = pool(16);
    let (w1, w2) = (add(&d), add(&d));
    let (a, _) = d.submit(0, "a", Priority::Normal).unwrap();
    let (b, _) = d.submit(0, "b", Priority::Normal).unwrap();
    assert_eq!(d.take(w1), Some((a, 0, "a")));
    assert_eq!(d.worker_exited(w1), Some((a, 0)));
    assert_eq!(d.worker_exited(w1), None, "a worker exits once");
    assert_eq!(
        d.finish(w1, a),
        None,
        "a late result of a lost task is dropped"
    );
    assert_eq!(d.take(w2), Some((b, 0, "b")));
    assert_eq!(d.finish(w2, b), Some(0));
    let s = d.stats();
    assert_eq!((s.lost, s.completed), (1, 1));
}

#[test]
fn a_woken_worker_that_exits_before_taking_frees_its_queue_room() {
    let d = pool(0);
    let w = add(&d);
    assert_eq!(d.take(w), None);
    let (t, wake) = d.submit(0, "a", Priority::Normal).unwrap();
    assert_eq!(wake, Some(w));
    assert_eq!(d.worker_exited(w), None);
    // The task waits for a replacement; the room the woken worker held is gone.
    assert!(matches!(
        d.submit(0, "b", Priority::Normal),
        Err(DispatchError::QueueFull(1))
    ));
    let w2 = add(&d);
    assert_eq!(d.take(w2), Some((t, 0, "a")));
}

#[test]
fn close_refuses_new_tasks_and_destroy_hands_back_the_waiting_ones() {
    let d = pool(16);
    let w = add(&d);
    let (a, _) = d.submit(0, "a", Priority::Normal).unwrap();
    let (b, _) = d.submit(0, "b", Priority::Low).unwrap();
    d.close();
    assert_eq!(
        d.submit(0, "c", Priority::Normal),
        Err(DispatchError::Closed)
    );
    assert_eq!(d.take(w), Some((a, 0, "a")), "close lets queued tasks run");
    assert_eq!(d.destroy(), vec![(b, 0, "b")]);
    assert_eq!(d.finish(w, a), Some(0));
    assert_eq!(d.take(w), None);
    assert_eq!(d.stats().queued, 0);
}

#[test]
fn every_task_leaves_exactly_once_under_a_random_mix() {
    // A deterministic pseudo-random mix of submits, takes, finishes, cancels and exits.
    let d: Dispatch<u32, u64> = Dispatch::new(8);
    let mut workers: Vec<WorkerId> = (0..3).map(|_| add(&d)).collect();
    let mut running: Vec<(WorkerId, TaskId)> = Vec::new();
    let mut live: HashMap<TaskId, bool> = HashMap::new();
    let mut left = 0u64;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        match seed % 6 {
            0 | 1 => {
                if let Ok((t, _)) = d.submit(0, t_payload(seed), Priority::Normal) {
                    live.insert(t, true);
                }
            }
            2 => {
                let w = workers[(seed as usize / 7) % workers.len()];
                if running.iter().all(|&(rw, _)| rw != w)
                    && let Some((t, _, _)) = d.take(w)
                {
                    running.push((w, t));
                }
            }
            3 if !running.is_empty() => {
                let (w, t) = running.swap_remove((seed as usize / 11) % running.len());
                if d.finish(w, t).is_some() {
                    assert!(live.remove(&t).is_some());
                    left += 1;
                }
            }
            4 => {
                let t = (seed / 13) % (d.stats().submitted + 1);
                if let Cancelled::Queued(..) = d.cancel(t) {
                    assert!(live.remove(&t).is_some());
                    left += 1;
                }
            }
            5 if seed.is_multiple_of(97) => {
                let i = (seed as usize / 17) % workers.len();
                let w = workers.swap_remove(i);
                if let Some((t, _)) = d.worker_exited(w) {
                    assert!(live.remove(&t).is_some());
                    left += 1;
                }
                running.retain(|&(rw, _)| rw != w);
                workers.push(add(&d));
            }
            _ => {}
        }
    }
    for (w, t) in running.drain(..) {
        if d.finish(w, t).is_some() {
            assert!(live.remove(&t).is_some());
            left += 1;
        }
    }
    for (t, _, _) in d.destroy() {
        assert!(live.remove(&t).is_some());
        left += 1;
    }
    assert!(live.is_empty(), "{} tasks never left", live.len());
    let s = d.stats();
    assert_eq!(left, s.submitted, "every accepted task left exactly once");
    assert_eq!(s.queued, 0);
}

#[test]
fn retire_takes_the_longest_parked_worker_once_it_has_idled_long_enough() {
    let d = pool(16);
    let (a, b, busy) = (add(&d), add(&d), add(&d));
    assert_eq!(d.retire(Duration::ZERO), Err(None), "nobody parked");
    assert_eq!(d.take(a), None);
    let a_parked = Instant::now();
    assert_eq!(d.take(b), None);
    let (t, _) = d.submit(0, "x", Priority::Normal).unwrap();
    assert_eq!(
        d.take(busy),
        Some((t, 0, "x")),
        "b was woken; busy took it first"
    );
    assert_eq!(d.take(b), None, "b parks again, after a");
    // Not idle long enough yet: the wait is for the longest-parked worker (a).
    let hour = Duration::from_secs(3600);
    match d.retire_at(hour, a_parked + Duration::from_secs(60)) {
        Err(Some(wait)) => assert!(wait <= hour - Duration::from_secs(60)),
        other => panic!("expected a wait, got {other:?}"),
    }
    assert_eq!(d.retire_at(hour, a_parked + hour * 2), Ok(a));
    assert_eq!(d.stats().idle_workers, 1, "a left the idle set");
    // A retired worker is never handed a task and never parks again.
    let (t2, wake) = d.submit(0, "y", Priority::Normal).unwrap();
    assert_eq!(wake, Some(b));
    assert_eq!(d.take(a), None);
    assert_eq!(
        d.retire(Duration::ZERO),
        Err(None),
        "b is woken, not parked"
    );
    assert_eq!(d.take(b), Some((t2, 0, "y")));
    assert_eq!(d.worker_exited(a), None);
    assert!(!d.add_worker(busy), "a name is taken once");
}

#[test]
fn a_refused_worker_never_joins_and_a_joined_one_cannot_be_refused() {
    let d = pool(16);
    let joined = add(&d);
    assert!(!d.refuse(joined));
    assert!(d.refuse(1_000_000));
    assert!(!d.add_worker(1_000_000), "refused before it joined");
    assert_eq!(d.take(1_000_000), None);
    let (t, wake) = d.submit(0, "a", Priority::Normal).unwrap();
    assert_eq!(wake, None);
    assert_eq!(d.backlog(), 1);
    assert_eq!(d.worker_exited(1_000_000), None);
    assert_eq!(d.take(joined), Some((t, 0, "a")));
    assert_eq!(d.backlog(), 0);
}

#[test]
fn joined_counts_workers_from_add_until_they_retire_or_exit() {
    let d = pool(16);
    assert_eq!(d.joined(), 0);
    let a = add(&d);
    let b = add(&d);
    assert!(d.refuse(1_000_000));
    assert_eq!(d.joined(), 2, "a refused worker never joined");
    let (t, _) = d.submit(0, "a", Priority::Normal).unwrap();
    assert_eq!(d.take(a), Some((t, 0, "a")));
    assert_eq!(d.joined(), 2, "running still counts");
    assert_eq!(d.worker_exited(a), Some((t, 0)));
    assert_eq!(d.joined(), 1);
    assert_eq!(d.take(b), None);
    assert!(d.retire(Duration::ZERO).is_ok());
    assert_eq!(d.joined(), 0, "retired");
}

#[test]
fn retiring_parked_workers_while_tasks_arrive_never_strands_or_loses_a_task() {
    // Worker threads park, get woken and take tasks while another thread retires every parked
    // worker at once and joins a replacement: every task must be taken exactly once, and no
    // task may be handed (woken) to a retired worker.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    const TASKS: u64 = 20_000;
    let d: Arc<Dispatch<u32, u64>> = Arc::new(Dispatch::new(usize::MAX));
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let retired = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let spawn = |id: WorkerId| {
        let (d, done, stop, retired) = (d.clone(), done.clone(), stop.clone(), retired.clone());
        assert!(d.add_worker(id));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match d.take(id) {
                    Some((t, _, _)) => {
                        assert!(
                            !retired.lock().unwrap().contains(&id),
                            "a retired worker took a task"
                        );
                        assert_eq!(d.finish(id, t), Some(0));
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    None if retired.lock().unwrap().contains(&id) => return,
                    None => std::thread::yield_now(),
                }
            }
        })
    };
    let mut next = 1;
    let mut handles: Vec<_> = (0..3)
        .map(|_| {
            next += 1;
            spawn(next)
        })
        .collect();
    for i in 0..TASKS {
        d.submit(0, 0, Priority::Normal).unwrap();
        // Every 1000th task waits (briefly) for a parked worker to retire, so retirements
        // happen in every run, not only when the timing happens to allow one.
        let patience = if i % 1000 == 999 { 10_000 } else { 1 };
        for _ in 0..patience {
            if let Ok(w) = d.retire(Duration::ZERO) {
                if retired.lock().unwrap().insert(w) {
                    next += 1;
                    handles.push(spawn(next));
                }
                break;
            }
            std::thread::yield_now();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while done.load(Ordering::Relaxed) < TASKS && Instant::now() < deadline {
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    assert_eq!(done.load(Ordering::Relaxed), TASKS, "tasks stranded");
    for h in handles {
        h.join().unwrap();
    }
    let s = d.stats();
    assert_eq!((s.completed, s.queued, s.lost), (TASKS, 0, 0));
    assert!(
        !retired.lock().unwrap().is_empty(),
        "some workers were retired"
    );
}

fn t_payload(seed: u64) -> u64 {
    seed
}
