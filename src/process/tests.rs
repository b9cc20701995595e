use std::io::Read;
use std::os::fd::{FromRawFd, RawFd};
use std::time::{Duration, Instant};

use super::*;

fn env() -> Vec<Vec<u8>> {
    vec![b"PATH=/usr/local/bin:/usr/bin:/bin".to_vec()]
}

fn sh(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.args = vec![b"-c".to_vec(), script.as_bytes().to_vec()];
    c.env = env();
    c
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: valid out-array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

/// Runs `cmd` with stdout captured; returns (output, status).
fn output(mut cmd: Command) -> (String, ExitStatus) {
    let (r, w) = pipe();
    cmd.stdout = Stdio::Fd(w);
    let pid = spawn(&cmd).unwrap();
    // SAFETY: we own `w` and `r`.
    unsafe { libc::close(w) };
    let mut out = String::new();
    // SAFETY: `r` is the read end made above, owned here alone; the File takes it over.
    unsafe { std::fs::File::from_raw_fd(r) }
        .read_to_string(&mut out)
        .unwrap();
    (out, wait(pid).unwrap())
}

#[test]
fn runs_a_program_found_on_path_and_reports_its_exit() {
    let (out, status) = output(sh("echo hi; exit 3"));
    assert_eq!(out, "hi\n");
    assert_eq!((status.code, status.signal), (Some(3), None));
}

#[test]
fn passes_arguments_verbatim_and_only_the_given_environment() {
    let mut c = sh("printf '%s|' \"$0\" \"$1\" \"$FOO\"; env | grep -c .");
    c.args.extend([b"a b".to_vec(), b"$HOME;*".to_vec()]);
    c.env.push(b"FOO=bar baz".to_vec());
    let (out, _) = output(c);
    // PATH, FOO and the PWD the shell sets itself.
    assert_eq!(out, "a b|$HOME;*|bar baz|3\n");
}

#[test]
fn a_missing_program_names_it_and_the_path_searched() {
    let mut c = Command::new("no-such-program-offload");
    c.env = env();
    assert_eq!(
        spawn(&c),
        Err(SpawnError::NotFound {
            program: "no-such-program-offload".into(),
            path: "/usr/local/bin:/usr/bin:/bin".into(),
        })
    );
    let c = Command::new("/nonexistent/prog");
    assert!(matches!(spawn(&c), Err(SpawnError::NotFound { .. })));
}

#[test]
fn a_non_executable_file_is_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("offload-noexec-{}", std::process::id()));
    std::fs::write(&path, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let result = spawn(&Command::new(&path));
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        result,
        Err(SpawnError::PermissionDenied {
            program: path.display().to_string()
        })
    );
}

#[test]
fn nul_bytes_are_rejected_before_spawning() {
    let mut c = sh("true");
    c.args.push(b"a\0b".to_vec());
    assert_eq!(
        spawn(&c),
        Err(SpawnError::Nul {
            what: "an argument"
        })
    );
}

#[test]
fn limits_apply_in_the_child_only() {
    let mut c = sh("ulimit -n; ulimit -f");
    c.limits.open_files = Some(64);
    c.limits.file_size_bytes = Some(1024 * 1024);
    let (out, _) = output(c);
    // `ulimit -f` counts 512-byte blocks in dash, 1024-byte blocks in bash.
    assert!(out == "64\n2048\n" || out == "64\n1024\n", "{out:?}");
    let mut own = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut own) };
    assert_ne!(own.rlim_cur, 64);
}

#[test]
fn a_tight_descriptor_limit_does_not_break_stdio_setup() {
    // Fill the low descriptors so opening /dev/null for stdin in the child gets one above the
    // limit; that open must come before the limit is applied. (4, not 3: the dynamic loader
    // of the exec'd shell needs one descriptor of its own.)
    let held: Vec<std::fs::File> = (0..8)
        .map(|_| std::fs::File::open("/dev/null").unwrap())
        .collect();
    let mut c = sh("echo ok");
    c.stdin = Stdio::Null;
    c.limits.open_files = Some(4);
    let (out, status) = output(c);
    assert_eq!((out.as_str(), status.code), ("ok\n", Some(0)));
    drop(held);
}

#[test]
fn a_memory_limit_stops_an_allocation() {
    // The shell must hold 100 MB in one variable; under a 64 MiB address-space cap it cannot.
    let script = "x=$(head -c 100000000 /dev/zero | tr '\\0' x); echo ${#x}";
    let (out, status) = output(sh(script));
    assert_eq!(
        (out.as_str(), status.code),
        ("100000000\n", Some(0)),
        "runs without the cap"
    );
    let mut c = sh(script);
    c.limits.memory_bytes = Some(64 << 20);
    c.stderr = Stdio::Null;
    let (out, status) = output(c);
    assert_eq!(out, "");
    assert_ne!(status.code, Some(0), "{status:?}");
}

#[test]
fn the_child_leads_a_new_process_group() {
    let mut c = sh("sleep 5");
    c.process_group = true;
    let pid = spawn(&c).unwrap();
    // SAFETY: plain syscall on our unreaped child.
    assert_eq!(unsafe { libc::getpgid(pid) }, pid);
    // SAFETY: as above.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    assert_eq!(wait(pid).unwrap().signal, Some(libc::SIGKILL));
}

#[test]
fn cwd_and_dev_null_stdin() {
    let mut c = sh("pwd; wc -c");
    c.cwd = Some("/tmp".into());
    let (out, _) = output(c);
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["/tmp", "0"]);
    let mut c = sh("true");
    c.cwd = Some("/nonexistent-dir".into());
    assert_eq!(
        spawn(&c),
        Err(SpawnError::Cwd {
            cwd: "/nonexistent-dir".into(),
            errno: libc::ENOENT
        })
    );
}

#[test]
fn signal_handlers_and_masks_are_reset_in_the_child() {
    // Ignore SIGTERM here; the child must still die of it.
    // SAFETY: process-wide disposition change, restored below.
    let old = unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
    let pid = spawn(&sh("exec sleep 5")).unwrap();
    // SAFETY: restores the disposition saved above.
    unsafe { libc::signal(libc::SIGTERM, old) };
    // Signal it only once it runs `sleep`: dispositions are settled at execve, and a signal
    // that came sooner could not tell a reset from an early death.
    let begin = Instant::now();
    while std::fs::read_link(format!("/proc/{pid}/exe"))
        .is_ok_and(|exe| !exe.to_string_lossy().ends_with("/sleep"))
    {
        assert!(
            begin.elapsed() < Duration::from_secs(10),
            "the child never ran sleep"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(wait(pid).unwrap().signal, Some(libc::SIGTERM));
}

#[test]
fn the_parent_death_signal_follows_the_spawning_thread() {
    // Spawned from a thread that then exits: the child is killed with it. This is why the
    // supervisor spawns from the long-lived `Spawner` thread.
    let pid = std::thread::spawn(|| {
        let mut c = sh("sleep 30");
        c.parent_death_signal = Some(libc::SIGKILL);
        spawn(&c).unwrap()
    })
    .join()
    .unwrap();
    let t0 = Instant::now();
    assert_eq!(wait(pid).unwrap().signal, Some(libc::SIGKILL));
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn the_spawner_thread_keeps_children_alive_and_reports_errors() {
    let spawner = Spawner::start().unwrap();
    let mut c = sh("sleep 0.2; exit 7");
    c.parent_death_signal = Some(libc::SIGKILL);
    // Asked from a thread that exits at once; the child lives on with the spawner.
    let pid = std::thread::scope(|s| s.spawn(|| spawner.spawn(c).unwrap()).join().unwrap());
    assert_eq!(wait(pid).unwrap().code, Some(7));
    let mut missing = Command::new("no-such-program-offload");
    missing.env = env();
    assert!(matches!(
        spawner.spawn(missing),
        Err(SpawnError::NotFound { .. })
    ));
}

#[test]
fn failed_execs_are_reaped() {
    // A child whose execve fails exits at once and must be reaped by `spawn`. Such a child
    // never execs, so it keeps the name of the thread that cloned it: spawn from a uniquely
    // named thread, then look for zombies with that name among our children.
    const NAME: &str = "offload-reapchk";
    std::thread::Builder::new()
        .name(NAME.into())
        .spawn(|| {
            let mut bad = sh("exit 0");
            bad.cwd = Some("/nonexistent-dir".into());
            for _ in 0..100 {
                assert!(spawn(&bad).is_err());
            }
        })
        .unwrap()
        .join()
        .unwrap();
    let me = std::process::id().to_string();
    let zombies = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            let Some((comm, rest)) = stat.split_once(") ") else {
                return false;
            };
            let fields: Vec<&str> = rest.split(' ').collect();
            comm.ends_with(NAME)
                && fields.first() == Some(&"Z")
                && fields.get(1) == Some(&me.as_str())
        })
        .count();
    assert_eq!(zombies, 0);
}

/// This process's peak resident set, as `getrusage` reports it.
fn own_peak_rss() -> u64 {
    // SAFETY: valid out-pointer.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as u64 * 1024
}

#[test]
fn wait_reports_the_childs_peak_rss() {
    // Linux charges a child that shared our memory until execve with our peak, so the child
    // must peak well above it for its own figure to show: it holds `size` bytes in one
    // shell variable.
    let size = own_peak_rss() + (64 << 20);
    let script = format!("x=$(head -c {size} /dev/zero | tr '\\0' x); echo ${{#x}}");
    let (out, status) = output(sh(&script));
    assert_eq!(out, format!("{size}\n"));
    assert_eq!(status.code, Some(0));
    assert!(status.max_rss_bytes >= size, "{status:?} for {size} bytes");
    // The variable, the shell's copy of it while reading, and a shell: never several times it.
    assert!(
        status.max_rss_bytes < 3 * size,
        "{status:?} for {size} bytes"
    );
}

/// A duration as the shell's `times` prints it (`0m0.270000s`), in microseconds.
fn shell_time_us(t: &str) -> u64 {
    let (min, sec) = t.trim_end_matches('s').split_once('m').unwrap();
    let sec: f64 = sec.parse().unwrap();
    min.parse::<u64>().unwrap() * 60_000_000 + (sec * 1e6).round() as u64
}

#[test]
fn wait_reports_cpu_time() {
    // The oracle is the child's own account: `times` prints the shell's user and system time
    // at its end (in 10 ms ticks, rounded down). What wait4 reports is that, plus the little
    // the shell spends exiting.
    let (out, status) = output(sh(
        "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; times",
    ));
    assert_eq!(status.code, Some(0));
    let own: Vec<u64> = out
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .map(shell_time_us)
        .collect();
    let [user, system] = own[..] else {
        panic!("{out:?}")
    };
    assert!(user >= 100_000, "the loop took only {user} us: {out:?}");
    assert!(
        (user..user + 50_000).contains(&status.user_cpu_us),
        "{status:?}, the shell said {out:?}"
    );
    assert!(
        (system..system + 50_000).contains(&status.system_cpu_us),
        "{status:?}, the shell said {out:?}"
    );
}

#[test]
fn extra_descriptors_reach_the_child_even_when_sources_collide_with_targets() {
    let (r1, w1) = pipe();
    let (r2, w2) = pipe();
    // Make the second source's number a target of the first: moving must keep both intact.
    let mut c = sh("echo one >&3; echo two >&4");
    c.extra_fds = vec![(3, w1), (4, w2)];
    c.extra_fds.push((w1.max(w2) + 1, w2));
    let pid = spawn(&c).unwrap();
    // SAFETY: we own these descriptors.
    unsafe { libc::close(w1) };
    // SAFETY: as above.
    unsafe { libc::close(w2) };
    let read = |fd| {
        let mut s = String::new();
        // SAFETY: we own `fd`.
        unsafe { std::fs::File::from_raw_fd(fd) }
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    assert_eq!(wait(pid).unwrap().code, Some(0));
    assert_eq!((read(r1).as_str(), read(r2).as_str()), ("one\n", "two\n"));
    let mut bad = sh("true");
    bad.extra_fds = vec![(2, 0)];
    assert_eq!(spawn(&bad), Err(SpawnError::ExtraFds));
}
