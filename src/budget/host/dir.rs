//! A budget's directory, `<base>/<name>/`, and the slot count its members agree on.
//!
//! Both directories are created with mode 0700 and then checked through their open descriptor:
//! a directory, owned by this user, with no group or other permission bits. Another user can
//! therefore neither take slots nor starve them, and a directory someone else planted (or a
//! symlink, refused by `O_NOFOLLOW`) fails the open instead of being trusted or chmod-ed.
//! Every later open is relative to the checked descriptor, so no path is resolved twice.
//!
//! The slot count lives in `meta`. Each member holds a shared lock on it for its lifetime; an
//! opener that gets the exclusive lock is alone and (re)writes the count, so a budget's size
//! can change once every process using it has gone, and never under a running one.

use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::HostBudgetError;
use super::sys;

/// An open, checked budget directory.
pub(crate) struct BudgetDir {
    pub fd: OwnedFd,
    pub path: PathBuf,
}

fn io_err(path: &Path, source: io::Error) -> HostBudgetError {
    HostBudgetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens directory `name` under `parent` (creating it), and checks it is ours alone.
fn secure_dir(
    parent: Option<&OwnedFd>,
    name: &str,
    path: &Path,
) -> Result<OwnedFd, HostBudgetError> {
    sys::mkdir_at(parent.map(|p| p.as_fd()), name).map_err(|e| io_err(path, e))?;
    let fd = sys::open_at(
        parent.map(|p| p.as_fd()),
        name,
        libc::O_RDONLY | libc::O_DIRECTORY,
    )
    .map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::ENOTDIR) => HostBudgetError::Insecure {
            path: path.to_path_buf(),
            why: "it is a symlink or not a directory".into(),
        },
        _ => io_err(path, e),
    })?;
    let st = sys::fstat(fd.as_fd()).map_err(|e| io_err(path, e))?;
    let insecure = |why: String| HostBudgetError::Insecure {
        path: path.to_path_buf(),
        why,
    };
    if st.uid != sys::getuid() {
        return Err(insecure(format!(
            "it belongs to uid {}, not to this user ({})",
            st.uid,
            sys::getuid()
        )));
    }
    if st.mode & 0o077 != 0 {
        return Err(insecure(format!(
            "its mode is {:o}; other users must have no access (0700)",
            st.mode & 0o777
        )));
    }
    Ok(fd)
}

impl BudgetDir {
    /// `<base>/<name>`; `base` must be absolute. Its parent is trusted as given (e.g. `/tmp`).
    pub(crate) fn open(base: &Path, name: &str) -> Result<Self, HostBudgetError> {
        let base_str = base.to_str().filter(|s| s.starts_with('/') && s.len() > 1);
        let base_str = base_str.ok_or_else(|| HostBudgetError::Insecure {
            path: base.to_path_buf(),
            why: "the directory must be an absolute path".into(),
        })?;
        let base_fd = secure_dir(None, base_str.trim_end_matches('/'), base)?;
        let path = base.join(name);
        let fd = secure_dir(Some(&base_fd), name, &path)?;
        Ok(Self { fd, path })
    }

    pub(crate) fn open_file(
        &self,
        name: &str,
        flags: libc::c_int,
    ) -> Result<OwnedFd, HostBudgetError> {
        sys::open_at(Some(self.fd.as_fd()), name, flags | libc::O_CREAT)
            .map_err(|e| io_err(&self.path.join(name), e))
    }

    /// Joins the budget: returns the `meta` descriptor (holding a shared lock while it lives)
    /// and the slot count. `asked` is this member's wish (`None`: whatever the budget has, or
    /// `default` for a new one); a different count already in force is an error.
    pub(crate) fn join(
        &self,
        asked: Option<usize>,
        default: usize,
    ) -> Result<(OwnedFd, usize), HostBudgetError> {
        let path = self.path.join("meta");
        let meta = self.open_file("meta", libc::O_RDWR)?;
        let mut file = std::fs::File::from(meta);
        let ours = asked.unwrap_or(default);
        if sys::flock(file.as_fd(), libc::LOCK_EX | libc::LOCK_NB).map_err(|e| io_err(&path, e))? {
            // Alone: nobody relies on the count, so it is ours to set.
            file.set_len(0).map_err(|e| io_err(&path, e))?;
            file.rewind().map_err(|e| io_err(&path, e))?;
            file.write_all(ours.to_string().as_bytes())
                .map_err(|e| io_err(&path, e))?;
        }
        // A shared lock waits only for an opener's short exclusive section above, a few system
        // calls; a deadline guards against one that is stopped there.
        let deadline = Instant::now() + Duration::from_secs(2);
        while !sys::flock(file.as_fd(), libc::LOCK_SH | libc::LOCK_NB)
            .map_err(|e| io_err(&path, e))?
        {
            if Instant::now() > deadline {
                return Err(io_err(&path, io::Error::from(io::ErrorKind::TimedOut)));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // Converting the lock is not atomic: read back what is in force now that we hold it.
        let mut text = String::new();
        file.rewind().map_err(|e| io_err(&path, e))?;
        file.read_to_string(&mut text)
            .map_err(|e| io_err(&path, e))?;
        let slots = match text.trim().parse::<usize>() {
            Ok(n) if (1..=super::MAX_SLOTS).contains(&n) => n,
            // Written by no one yet (a creator died mid-write): ours, unwritten.
            _ => ours,
        };
        if asked.is_some_and(|a| a != slots) {
            return Err(HostBudgetError::Mismatch {
                path: self.path.clone(),
                slots,
                asked: ours,
            });
        }
        Ok((file.into(), slots))
    }
}
