//! The spawner thread: one long-lived thread that creates every child.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that created the child exits, not the process.
//! Spawning from whatever thread happens to ask (a pool thread that may be retired, a worker
//! thread that may be terminated) would kill children early; spawning from one thread that lives
//! as long as the process means the signal fires exactly when the process dies. Requests come
//! over a channel; the spawn itself is cheap (no fork), so one thread keeps up.

#![forbid(unsafe_code)]

use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};
use std::thread;

use super::sys::command::{Command, SpawnError};
use super::sys::spawn::spawn;

type Reply = Box<dyn FnOnce(Result<libc::pid_t, SpawnError>) + Send>;

pub struct Spawner {
    requests: Mutex<Sender<(Command, Reply)>>,
}

impl Spawner {
    /// Starts the spawner thread. It runs until this `Spawner` is dropped, and children that
    /// asked for a parent-death signal get it then, so keep it for the process's lifetime.
    pub fn start() -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<(Command, Reply)>();
        thread::Builder::new()
            .name("offload-spawner".into())
            .spawn(move || {
                for (cmd, reply) in rx {
                    reply(spawn(&cmd));
                }
            })?;
        Ok(Self {
            requests: Mutex::new(tx),
        })
    }

    /// Spawns `cmd` on the spawner thread; `reply` runs there with the outcome.
    pub fn request(&self, cmd: Command, reply: Reply) {
        let sent = self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send((cmd, reply));
        if let Err(mpsc::SendError((_, reply))) = sent {
            reply(Err(SpawnError::Clone(libc::EAGAIN)));
        }
    }

    /// Spawns `cmd` on the spawner thread and waits for the result (a few microseconds).
    pub fn spawn(&self, cmd: Command) -> Result<libc::pid_t, SpawnError> {
        let (tx, rx) = mpsc::channel();
        self.request(
            cmd,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv().unwrap_or(Err(SpawnError::Clone(libc::EAGAIN)))
    }
}
