//! One `run` at a time per project: an exclusive operating-system lock (`flock`/`LockFileEx`)
//! on `.viewdag/run.lock` next to the spec, which also names the holder's process id.
//!
//! ## Invariants
//! - The lock is the OS file lock, not the file's existence: of two runs starting at once
//!   exactly one holds it; the other gets [`LockError::Held`] before it reads the run state
//!   or writes any table.
//! - A killed run cannot leave a stale lock: the OS releases it with the process. The file
//!   itself stays (deleting it would let a third run lock a new file while a second still
//!   holds the old one).
//! - The holder writes its pid into the file only after it holds the lock; the pid is for
//!   the message, never for the decision.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Where the lock lives, relative to the spec's directory.
pub const RUN_LOCK_FILE: &str = ".viewdag/run.lock";

/// Held while a run may write tables or the run state; released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct ProjectLock {
    file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("another `viewdag run` ({holder}) is running on this project ({path}); wait for it to finish")]
    Held { holder: String, path: String },
    #[error("cannot take the run lock {path}: {message}")]
    Io { path: String, message: String },
}

impl ProjectLock {
    /// Takes the lock of the project whose spec lives in `root`, without waiting.
    pub fn acquire(root: &Path) -> Result<ProjectLock, LockError> {
        let path = root.join(RUN_LOCK_FILE);
        let io = |error: std::io::Error| LockError::Io { path: path.display().to_string(), message: error.to_string() };
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory).map_err(io)?;
        }
        let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("process {pid}"),
                    Err(_) => "a process that is starting".to_string(),
                };
                return Err(LockError::Held { holder, path: path.display().to_string() });
            }
            Err(TryLockError::Error(error)) => return Err(io(error)),
        }
        file.set_len(0).and_then(|()| file.rewind()).and_then(|()| writeln!(file, "{}", std::process::id())).map_err(io)?;
        Ok(ProjectLock { file })
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_while_the_first_is_held_and_granted_after() {
        let root = tempfile::tempdir().unwrap();
        let first = ProjectLock::acquire(root.path()).unwrap();
        let written = std::fs::read_to_string(root.path().join(RUN_LOCK_FILE)).unwrap();
        assert_eq!(written.trim(), std::process::id().to_string());
        // Another open file description of the same file conflicts, as another process would.
        let refused = ProjectLock::acquire(root.path()).unwrap_err();
        assert_eq!(
            refused,
            LockError::Held {
                holder: format!("process {}", std::process::id()),
                path: root.path().join(RUN_LOCK_FILE).display().to_string()
            }
        );
        drop(first);
        assert!(ProjectLock::acquire(root.path()).is_ok(), "granted once released");
    }

    #[test]
    fn a_lock_file_left_behind_does_not_lock() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(".viewdag")).unwrap();
        // What a killed run leaves: the file with its pid, but no OS lock.
        std::fs::write(root.path().join(RUN_LOCK_FILE), "4242\n").unwrap();
        let lock = ProjectLock::acquire(root.path()).unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join(RUN_LOCK_FILE)).unwrap().trim(), std::process::id().to_string());
        drop(lock);
    }
}
