//! The watchdog: kills children's whole process groups when this process dies, even by SIGKILL.
//!
//! The parent-death signal reaches only direct children; their own children would outlive a
//! SIGKILLed Node process. So a tiny `/bin/sh` process, started once and in a process group of
//! its own (and without a parent-death signal, so it outlives us), reads lines `+PGID` and
//! `-PGID` on its stdin as children start and end. When its stdin reaches end of file (we
//! closed it, or we died and the kernel did), it SIGKILLs every group still listed and exits.
//! Registration is a few bytes on a pipe; a child is registered only once it has run for
//! [`REGISTER_AFTER`], so spawn storms of short-lived tools cost the shell nothing.

#![forbid(unsafe_code)]

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::time::Duration;

use super::spawner::Spawner;
use super::sys::command::{Command, Stdio};
use super::sys::pipe::{nonblocking, pipe};

/// How long a child runs before its group is registered (see the module docs).
pub(crate) const REGISTER_AFTER: Duration = Duration::from_millis(20);

/// POSIX sh only (dash): the list of live groups is a string of ` PGID ` words, and removal
/// cuts a word out with parameter expansion (no rescans, so thousands of groups stay cheap).
const SCRIPT: &str = r#"# offload-watchdog
trap '' INT TERM HUP QUIT PIPE
live=' '
while IFS= read -r line; do
  case $line in
    +*) live="$live${line#+} " ;;
    -*) g=${line#-}
        while :; do
          case $live in
            *" $g "*) live="${live%%" $g "*} ${live#*" $g "}" ;;
            *) break ;;
          esac
        done ;;
  esac
done
for g in $live; do kill -s KILL -- "-$g" 2>/dev/null; done
"#;

pub(crate) struct Watchdog {
    feed: Mutex<Feed>,
}

#[derive(Default)]
struct Feed {
    /// Our end of the watchdog's stdin; `None` until it has started, or once it has died.
    fd: Option<File>,
    /// Lines not yet written (the pipe was full, or the watchdog was still starting). Never
    /// dropped: a lost `-PGID` would leave a stale entry naming a recycled group.
    pending: String,
}

impl Feed {
    /// Writes what is pending, keeping whatever the pipe does not take now.
    fn flush(&mut self) {
        let Some(fd) = self.fd.as_ref() else { return };
        while !self.pending.is_empty() {
            match (&*fd).write(self.pending.as_bytes()) {
                Ok(n) if n > 0 => {
                    self.pending.drain(..n);
                    continue;
                }
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                    // It died; the direct children still have their parent-death signal.
                    self.fd = None;
                    self.pending.clear();
                }
                // Full (EAGAIN): the rest goes with the next line.
                _ => {}
            }
            return;
        }
    }
}

impl Watchdog {
    /// Starts the watchdog on the spawner thread without waiting for it; `reap` is handed
    /// its pid so it is reaped should it ever exit before us. Failure only loses this extra
    /// guarantee.
    pub(crate) fn start(
        spawner: &Spawner,
        reap: impl FnOnce(libc::pid_t) + Send + 'static,
    ) -> std::sync::Arc<Self> {
        let dog = std::sync::Arc::new(Self {
            feed: Mutex::new(Feed::default()),
        });
        let Ok((read, write)) = pipe() else {
            return dog;
        };
        let mut cmd = Command::new("/bin/sh");
        cmd.args = vec![b"-c".to_vec(), SCRIPT.as_bytes().to_vec()];
        cmd.env = vec![b"PATH=/usr/bin:/bin".to_vec()];
        cmd.stdin = Stdio::Fd(read.as_raw_fd());
        cmd.stdout = Stdio::Null;
        cmd.stderr = Stdio::Null;
        // Its own group (no group kill of ours reaches it) and no parent-death signal: it
        // must outlive us to do its job. It exits at end of file, so it never lingers.
        cmd.process_group = true;
        let installed = dog.clone();
        spawner.request(
            cmd,
            Box::new(move |spawned| {
                drop(read);
                if let Ok(pid) = spawned {
                    // Writes must never block the I/O thread; a full pipe drops a message.
                    let _ = nonblocking(&write);
                    let mut feed = installed.feed.lock().unwrap_or_else(|p| p.into_inner());
                    feed.fd = Some(File::from(write));
                    feed.flush();
                    reap(pid);
                }
            }),
        );
        dog
    }

    fn send(&self, line: &str) {
        let mut feed = self.feed.lock().unwrap_or_else(|p| p.into_inner());
        feed.pending.push_str(line);
        feed.flush();
    }

    /// Lists a running child's process group.
    pub(crate) fn watch(&self, pgid: libc::pid_t) {
        self.send(&format!("+{pgid}\n"));
    }

    /// Takes a group off the list once it is gone.
    pub(crate) fn unwatch(&self, pgid: libc::pid_t) {
        self.send(&format!("-{pgid}\n"));
    }
}
