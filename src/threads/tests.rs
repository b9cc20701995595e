use super::*;

fn pool(max_queue: usize) -> Dispatch<u32, &'static str> {
    Dispatch::new(max_queue)
}

#[test]
fn a_parked_worker_is_handed_out_once_and_takes_the_task() {
    let d = pool(0);
    let w = d.add_worker();
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
    let (a, b) = (d.add_worker(), d.add_worker());
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
    let w = d.add_worker();
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
    let w = d.add_worker();
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
    let (w1, w2) = (d.add_worker(), d.add_worker());
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
    let w = d.add_worker();
    assert_eq!(d.take(w), None);
    let (t, wake) = d.submit(0, "a", Priority::Normal).unwrap();
    assert_eq!(wake, Some(w));
    assert_eq!(d.worker_exited(w), None);
    // The task waits for a replacement; the room the woken worker held is gone.
    assert!(matches!(
        d.submit(0, "b", Priority::Normal),
        Err(DispatchError::QueueFull(1))
    ));
    let w2 = d.add_worker();
    assert_eq!(d.take(w2), Some((t, 0, "a")));
}

#[test]
fn close_refuses_new_tasks_and_destroy_hands_back_the_waiting_ones() {
    let d = pool(16);
    let w = d.add_worker();
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
    let mut workers: Vec<WorkerId> = (0..3).map(|_| d.add_worker()).collect();
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
                workers.push(d.add_worker());
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

fn t_payload(seed: u64) -> u64 {
    seed
}
