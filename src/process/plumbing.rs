//! The pipes between the supervisor and one child, made before the spawn: which of the
//! child's streams get a pipe (from the [`Spec`]'s modes), and which descriptors it inherits
//! beyond stdio (a process-pool worker's channels and stderr).
//!
//! Both ends of every pipe are close-on-exec; the spawn duplicates the child's ends onto its
//! descriptors, and the parent closes its copies of them right after ([`Pipes::child_ends`]),
//! so the child's exit is what ends the parent's reads.

#![forbid(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use super::spec::{Input, Output, Spec};
use super::sys::command::{Command, Stdio};
use super::sys::pipe::pipe;

/// The parent's ends of the child's pipes, plus the child's ends (closed after the spawn).
#[derive(Default)]
pub(crate) struct Pipes {
    pub(crate) stdin: Option<OwnedFd>,
    pub(crate) stdout: Option<OwnedFd>,
    pub(crate) stderr: Option<OwnedFd>,
    pub(crate) child_ends: Vec<OwnedFd>,
}

/// Makes the pipes `spec` asks for and points `cmd`'s stdio and extra descriptors at the
/// child's ends; `spec.channels` and `spec.stderr_fd` move into the returned [`Pipes`].
pub(crate) fn plumb(spec: &mut Spec, cmd: &mut Command) -> io::Result<Pipes> {
    let mut p = Pipes::default();
    cmd.stdin = match spec.stdin {
        Input::Null => Stdio::Null,
        Input::Inherit => Stdio::Inherit,
        Input::Pipe | Input::Bytes(_) => {
            let (read, write) = pipe()?;
            let fd = Stdio::Fd(read.as_raw_fd());
            p.child_ends.push(read);
            p.stdin = Some(write);
            fd
        }
    };
    for (mode, target, parent) in [
        (spec.stdout, &mut cmd.stdout, &mut p.stdout),
        (spec.stderr, &mut cmd.stderr, &mut p.stderr),
    ] {
        *target = match mode {
            Output::Ignore => Stdio::Null,
            Output::Inherit => Stdio::Inherit,
            Output::Capture | Output::Stream => {
                let (read, write) = pipe()?;
                let fd = Stdio::Fd(write.as_raw_fd());
                p.child_ends.push(write);
                *parent = Some(read);
                fd
            }
        };
    }
    for (target, fd) in std::mem::take(&mut spec.channels) {
        cmd.extra_fds.push((target, fd.as_raw_fd()));
        p.child_ends.push(fd);
    }
    if let Some(fd) = spec.stderr_fd.take() {
        cmd.stderr = Stdio::Fd(fd.as_raw_fd());
        p.child_ends.push(fd);
    }
    Ok(p)
}
