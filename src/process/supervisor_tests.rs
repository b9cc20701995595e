//! Supervisor behaviour: capture, input, timeouts with escalation over whole trees, maxBuffer,
//! limits, admission and streaming.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::*;

fn sh(script: &str) -> Spec {
    let mut c = Command::new("sh");
    c.args = vec![b"-c".to_vec(), script.as_bytes().to_vec()];
    c.env = vec![b"PATH=/usr/local/bin:/usr/bin:/bin".to_vec()];
    Spec::new(c)
}

fn supervisor(max_concurrent: usize, max_queue: usize) -> Supervisor {
    Supervisor::new(SupervisorConfig {
        max_concurrent,
        max_queue,
    })
    .unwrap()
}

/// Starts `spec`; the receiver yields its report.
fn start(sup: &Supervisor, spec: Spec) -> (Child, mpsc::Receiver<Report>) {
    let (tx, rx) = mpsc::channel();
    let owner = Arc::new(Owner::default());
    let child = sup
        .spawn(spec, &owner, move |r| tx.send(r).unwrap())
        .unwrap();
    (child, rx)
}

fn run(spec: Spec) -> Report {
    let (_, rx) = start(&supervisor(4, 4), spec);
    rx.recv_timeout(Duration::from_secs(20)).unwrap()
}

/// Waits up to 2 s for `pid` to be gone or a zombie (dead, waiting for its new parent).
fn dies(pid: libc::pid_t) -> bool {
    let begin = Instant::now();
    while begin.elapsed() < Duration::from_secs(2) {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) if stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z')) => {
                return true;
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    false
}

#[test]
fn captures_both_streams_and_the_exit_code() {
    let mut spec = sh("printf 'out\\n'; printf 'err\\r\\n' >&2; exit 3");
    spec.strip_final_newline = true;
    let r = run(spec);
    assert_eq!(r.stdout.as_ref().map(Captured::as_slice), Some(&b"out"[..]));
    assert_eq!(r.stderr.as_ref().map(Captured::as_slice), Some(&b"err"[..]));
    let status = r.status.unwrap();
    assert_eq!((status.code, status.signal), (Some(3), None));
    assert!(!r.timed_out && !r.killed && !r.cancelled);
}

#[test]
fn input_is_written_then_closed() {
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut spec = sh("cat");
    spec.stdin = Input::Bytes(Box::new(data.clone()));
    spec.max_buffer = 10_000_000;
    let r = run(spec);
    assert_eq!(r.stdout.unwrap().into_vec(), data);
}

#[test]
fn a_timeout_escalates_to_sigkill_on_a_tree_that_ignores_sigterm() {
    let mut spec = sh("trap '' TERM; sh -c 'trap \"\" TERM; sleep 100' & echo $!; sleep 100");
    spec.timeout = Some(Duration::from_millis(200));
    spec.force_kill_after = Some(Duration::from_millis(300));
    let begin = Instant::now();
    let r = run(spec);
    let took = begin.elapsed();
    assert!(r.timed_out && r.killed);
    assert_eq!(r.status.unwrap().signal, Some(libc::SIGKILL));
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let grandchild: libc::pid_t = String::from_utf8(r.stdout.unwrap().into_vec())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(dies(grandchild), "grandchild {grandchild} survived");
}

#[test]
fn grandchildren_holding_a_pipe_do_not_hang_the_call() {
    let begin = Instant::now();
    let r = run(sh("sleep 100 & echo started"));
    assert_eq!(
        r.stdout.as_ref().map(Captured::as_slice),
        Some(&b"started\n"[..])
    );
    assert_eq!(r.status.unwrap().code, Some(0));
    assert!(begin.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_large_capture_spills_to_a_mapping_and_keeps_every_byte() {
    let mut spec = sh("yes 0123456789abcdef | head -c 20000003");
    spec.max_buffer = 30_000_000;
    let r = run(spec);
    let out = r.stdout.unwrap();
    assert!(matches!(out, Captured::Mapped(_)));
    let expected: Vec<u8> = b"0123456789abcdef\n"
        .iter()
        .copied()
        .cycle()
        .take(20_000_003)
        .collect();
    assert_eq!(out.as_slice(), &expected[..]);
    // maxBuffer cuts a spilled capture at the exact byte too.
    let mut spec = sh("head -c 20000000 /dev/zero; sleep 100");
    spec.max_buffer = 10_000_001;
    let r = run(spec);
    assert_eq!(r.max_buffer_exceeded, Some(Stream::Stdout));
    assert_eq!(r.stdout.unwrap().len(), 10_000_001);
}

#[test]
fn max_buffer_truncates_and_kills() {
    let mut spec = sh("head -c 5000000 /dev/zero; sleep 100");
    spec.max_buffer = 1000;
    let r = run(spec);
    assert_eq!(r.max_buffer_exceeded, Some(Stream::Stdout));
    assert_eq!(r.stdout.unwrap().len(), 1000);
    assert!(r.killed);
    assert!(r.status.unwrap().signal.is_some());
}

#[test]
fn a_cpu_limit_is_named() {
    let mut spec = sh("while :; do :; done");
    spec.command.limits.cpu_seconds = Some(1);
    let r = run(spec);
    assert_eq!(r.status.unwrap().signal, Some(libc::SIGXCPU));
    assert_eq!(r.killed_by_limit, Some("cpuSeconds"));
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let r = run(Spec::new(Command::new("offload-no-such-program")));
    assert!(matches!(r.spawn_error, Some(SpawnError::NotFound { .. })));
    assert!(r.status.is_none() && r.pid.is_none());
}

#[test]
fn admission_queues_then_rejects_and_a_queued_child_can_be_cancelled() {
    let sup = supervisor(1, 1);
    let (first, first_rx) = start(&sup, sh("sleep 100"));
    while first.pid().is_none() {
        std::thread::yield_now();
    }
    let (queued, queued_rx) = start(&sup, sh("echo never"));
    let owner = Arc::new(Owner::default());
    let third = sup.spawn(sh("true"), &owner, |_| {});
    assert!(matches!(
        third,
        Err(SupervisorError::QueueFull { max_queue: 1 })
    ));
    assert_eq!((sup.stats().running, sup.stats().queued), (1, 1));
    assert!(queued.pid().is_none());
    queued.cancel();
    let r = queued_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(r.cancelled && r.status.is_none() && r.pid.is_none());
    assert!(first.kill(libc::SIGKILL));
    let r = first_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(r.status.unwrap().signal, Some(libc::SIGKILL));
    assert!(
        !first.kill(libc::SIGTERM),
        "signals stop once the child has exited"
    );
    let stats = sup.stats();
    assert_eq!((stats.running, stats.queued, stats.spawned), (0, 0, 1));
}

#[test]
fn a_slot_passes_to_the_next_queued_child() {
    let sup = supervisor(1, 10);
    let rxs: Vec<_> = (0..5)
        .map(|i| start(&sup, sh(&format!("echo {i}"))).1)
        .collect();
    for (i, rx) in rxs.into_iter().enumerate() {
        let r = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(r.stdout.unwrap().into_vec(), format!("{i}\n").into_bytes());
    }
    assert_eq!(sup.stats().exited, 5);
}

#[test]
fn streams_are_read_and_written_on_demand() {
    let mut spec = sh("cat; echo done >&2");
    spec.stdin = Input::Pipe;
    spec.stdout = Output::Stream;
    spec.stderr = Output::Stream;
    let (child, exit_rx) = start(&supervisor(2, 2), spec);
    let (tx, rx) = mpsc::channel();
    let t = tx.clone();
    child.write(Box::new(b"hello ".to_vec()), move |r| {
        t.send(r.map(|()| None)).unwrap()
    });
    let t = tx.clone();
    child.write(Box::new(b"world".to_vec()), move |r| {
        t.send(r.map(|()| None)).unwrap()
    });
    child.close_stdin();
    assert!(rx.recv().unwrap().is_ok() && rx.recv().unwrap().is_ok());
    let mut out = Vec::new();
    loop {
        let t = tx.clone();
        child.read(Stream::Stdout, move |r| t.send(r).unwrap());
        match rx.recv().unwrap().unwrap() {
            Some(chunk) => out.extend(chunk),
            None => break,
        }
    }
    assert_eq!(out, b"hello world");
    let t = tx.clone();
    child.read(Stream::Stderr, move |r| t.send(r).unwrap());
    assert_eq!(rx.recv().unwrap().unwrap().unwrap(), b"done\n");
    let r = exit_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(r.status.unwrap().code, Some(0));
    assert!(r.stdout.is_none());
}

#[test]
fn an_owner_kills_all_its_children() {
    let sup = supervisor(4, 4);
    let owner = Arc::new(Owner::default());
    let (tx, rx) = mpsc::channel();
    let children: Vec<_> = (0..3)
        .map(|_| {
            let tx = tx.clone();
            sup.spawn(sh("sleep 100"), &owner, move |r| tx.send(r).unwrap())
                .unwrap()
        })
        .collect();
    while children.iter().any(|c| c.pid().is_none()) {
        std::thread::yield_now();
    }
    owner.kill_all();
    for _ in 0..3 {
        let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(r.status.unwrap().signal, Some(libc::SIGKILL));
    }
    assert!(matches!(
        sup.spawn(sh("true"), &owner, |_| {}),
        Err(SupervisorError::Closed)
    ));
}

#[test]
fn a_child_cancelled_before_its_spawn_never_runs() {
    let mut spec = sh("touch /tmp/offload-should-not-exist");
    spec.cancelled = true;
    let (_, rx) = start(&supervisor(4, 4), spec);
    let r = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(r.cancelled && r.status.is_none() && r.pid.is_none());
}

#[test]
fn peak_rss_is_the_childs_own_or_unknown() {
    // The child must peak well above this process's own peak, which other tests running in
    // parallel raise (a fixed 100 MB failed once the test binary grew): its own figure shows.
    let size = (crate::process::sys::reap::own_peak_rss() + (128 << 20)).max(100_000_000);
    let big = run(sh(&format!(
        "x=$(head -c {size} /dev/zero | tr '\\0' a); echo ${{#x}}"
    )));
    assert_eq!(
        big.stdout.as_ref().map(Captured::as_slice),
        Some(format!("{size}\n").as_bytes())
    );
    let rss = big
        .max_rss_bytes
        .expect("a peak well above the test process's own");
    assert!(rss >= size, "{rss} for {size}");
    assert!(rss < 3 * size, "{rss} for {size}");
    // `true` peaks far below this process, and the kernel charges it with our peak: unknown.
    let small = run(Spec::new(Command::new("/bin/true")));
    assert_eq!(small.max_rss_bytes, None, "{small:?}");
}

#[test]
fn channels_reach_the_worker_on_descriptors_3_and_4_and_close_here() {
    use std::io::{Read, Write};
    let Channels {
        requests,
        replies,
        stderr,
        worker_ends,
        worker_stderr,
    } = channels().unwrap();
    // The worker echoes requests to replies, upper-cased, says whether stdout is free, and
    // writes to its stderr, which is the third pipe whatever the spec's stderr says.
    let mut spec = sh("tr a-z A-Z <&3 >&4; echo done; echo oops >&2");
    spec.stderr = Output::Inherit;
    spec.channels = worker_ends;
    spec.stderr_fd = Some(worker_stderr);
    let (_child, rx) = start(&supervisor(1, 1), spec);
    let mut requests = std::fs::File::from(requests);
    let mut replies = std::fs::File::from(replies);
    requests.write_all(b"hello pool").unwrap();
    drop(requests);
    let mut echoed = String::new();
    // EOF here proves the parent kept no copy of the worker's reply end.
    replies.read_to_string(&mut echoed).unwrap();
    assert_eq!(echoed, "HELLO POOL");
    let mut logged = String::new();
    std::fs::File::from(stderr)
        .read_to_string(&mut logged)
        .unwrap();
    assert_eq!(logged, "oops\n");
    let r = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(r.stdout.unwrap().as_slice(), b"done\n");
    assert_eq!(r.status.unwrap().code, Some(0));
}
