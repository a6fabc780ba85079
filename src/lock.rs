//! `DIR/.lock`: keeps a second `train` or `fit-field` out of a model directory in use. The
//! file is created with `create_new` (so two runs cannot both hold it) and holds the holder's
//! process id and host as JSON; a lock whose process is gone (on Linux: no `/proc/PID` on
//! the same host) is taken over with a warning; elsewhere, or on another host, a lock is
//! never presumed stale. The lock is released when its guard is dropped, on success and on
//! error alike.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Name of the lock file in a directory.
pub const LOCK_FILE: &str = ".lock";

/// Who holds a lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
}

impl Holder {
    /// This process on this host.
    pub fn this_process() -> Self {
        Holder {
            pid: std::process::id(),
            host: host_name(),
        }
    }

    /// Whether the holder's process is known to be gone: only on Linux, only on this host.
    pub fn is_gone(&self) -> bool {
        self.host == host_name() && !actionfinder_snapshots::partial::process_alive(self.pid)
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "process {} on host {}", self.pid, self.host)
    }
}

/// This machine's name (the kernel's on Linux, else `HOSTNAME`/`COMPUTERNAME`).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The holder of `dir`'s lock, if the directory has one.
pub fn holder(dir: &Path) -> Result<Option<Holder>> {
    let path = dir.join(LOCK_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).with_context(|| {
            format!(
                "lock file {} is unreadable: remove it if no actionfinder run uses {}",
                path.display(),
                dir.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading lock file {}", path.display())),
    }
}

/// The error for a directory in use by `holder`.
fn in_use(dir: &Path, holder: &Holder) -> anyhow::Error {
    anyhow::anyhow!(
        "{} is in use by {holder} (lock file {}): wait for that run to finish, or remove the \
         lock file if that process no longer runs",
        dir.display(),
        dir.join(LOCK_FILE).display()
    )
}

/// Refuse `dir` when a live process holds its lock (a check before work; the guard of
/// [`DirLock::acquire`] is what keeps others out).
pub fn check_free(dir: &Path) -> Result<()> {
    match holder(dir)? {
        Some(h) if !h.is_gone() => Err(in_use(dir, &h)),
        _ => Ok(()),
    }
}

/// A held lock; dropping it removes the lock file if it is still this guard's.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
    text: String,
}

impl DirLock {
    /// Take `dir`'s lock, taking over a stale one; an error naming the holder when a live
    /// process has it.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let text = serde_json::to_string(&Holder::this_process())?;
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(text.as_bytes())
                        .and_then(|_| f.sync_all())
                        .with_context(|| format!("writing lock file {}", path.display()))?;
                    return Ok(DirLock { path, text });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let Some(h) = holder(dir)? else { continue };
                    if !h.is_gone() {
                        return Err(in_use(dir, &h));
                    }
                    log::warn!(
                        "taking over the stale lock {}: {h}, which held it, is gone",
                        path.display()
                    );
                    match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(e).with_context(|| format!("removing stale lock {}", path.display()))
                        }
                        _ => {}
                    }
                }
                Err(e) => return Err(e).with_context(|| format!("creating lock file {}", path.display())),
            }
        }
        bail!(
            "could not take the lock {}: another run took it first",
            path.display()
        )
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if std::fs::read_to_string(&self.path).is_ok_and(|t| t == self.text) {
            if let Err(e) = std::fs::remove_file(&self.path) {
                log::warn!("could not remove the lock {}: {e}", self.path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_a_second_and_is_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let lock = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&format!("process {}", std::process::id())), "{err}");
        assert!(check_free(dir.path()).is_err());
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        DirLock::acquire(dir.path()).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_lock_of_a_finished_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        let gone = Holder {
            pid: child.id(),
            host: host_name(),
        };
        std::fs::write(dir.path().join(LOCK_FILE), serde_json::to_string(&gone).unwrap()).unwrap();
        check_free(dir.path()).unwrap();
        let _lock = DirLock::acquire(dir.path()).unwrap();
        assert_eq!(holder(dir.path()).unwrap(), Some(Holder::this_process()));
    }

    #[test]
    fn a_lock_on_another_host_is_never_presumed_stale() {
        let dir = tempfile::tempdir().unwrap();
        let other = Holder {
            pid: u32::MAX,
            host: format!("not-{}", host_name()),
        };
        std::fs::write(dir.path().join(LOCK_FILE), serde_json::to_string(&other).unwrap()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&other.host), "{err}");
    }
}
