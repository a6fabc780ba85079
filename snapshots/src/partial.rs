//! Temporary `.partial` files: every output is written beside its target under a name that
//! carries the writing process's id, then renamed into place, so a reader never sees half a
//! file and a user's file is replaced only by a complete one.
//!
//! * A [`Partial`] is removed when dropped uncommitted (every error path).
//! * [`remove_registered`] removes the ones still open, for signal handlers (SIGINT, SIGTERM),
//!   where destructors do not run.
//! * [`sweep_stale`] removes those that a process killed outright (SIGKILL, power loss) left
//!   behind, once that process is gone; it runs whenever a new [`Partial`] is made for the
//!   same target.
//!
//! Names: `NAME.PID.partial`, or `STEM.PID.partial.EXT` where the writer needs the extension
//! (the PNG encoder picks the format from it).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files open in this process, removed by [`remove_registered`].
static OPEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file beside `target`, renamed onto it by [`Partial::commit`].
#[derive(Debug)]
pub struct Partial {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Partial {
    /// The temporary path for `target` (named `NAME.PID.partial`), after removing stale ones.
    pub fn new(target: &Path) -> Self {
        Self::build(target, false)
    }

    /// As [`Partial::new`], keeping `target`'s extension last (`STEM.PID.partial.EXT`).
    pub fn keeping_extension(target: &Path) -> Self {
        Self::build(target, true)
    }

    fn build(target: &Path, keep_extension: bool) -> Self {
        sweep_stale(target);
        let tmp = temporary_name(target, std::process::id(), keep_extension);
        lock_open().push(tmp.clone());
        Partial {
            tmp,
            target: target.to_path_buf(),
            committed: false,
        }
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the written file onto the target (atomic on one file system).
    pub fn commit(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.tmp, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
        lock_open().retain(|p| p != &self.tmp);
    }
}

fn lock_open() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every temporary file this process has open; for signal handlers.
pub fn remove_registered() {
    // A handler may interrupt a thread that holds the lock: never wait for it.
    if let Ok(open) = OPEN.try_lock() {
        for p in open.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Removes the temporary files of `target` whose writing process is gone; returns them.
pub fn sweep_stale(target: &Path) -> Vec<PathBuf> {
    let Some(name) = target.file_name() else {
        return Vec::new();
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let stale =
            writer_pid(&file, target).is_some_and(|pid| pid != std::process::id() && !process_alive(pid));
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            log::warn!(
                "removed {}, left by an earlier run that was killed while writing {}",
                entry.path().display(),
                name.to_string_lossy()
            );
            removed.push(entry.path());
        }
    }
    removed
}

/// The temporary name of `target` for process `pid`.
fn temporary_name(target: &Path, pid: u32, keep_extension: bool) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_os_string();
    let mut tmp = OsString::new();
    match (keep_extension, target.file_stem(), target.extension()) {
        (true, Some(stem), Some(ext)) => {
            tmp.push(stem);
            tmp.push(format!(".{pid}.partial."));
            tmp.push(ext);
        }
        _ => {
            tmp.push(name);
            tmp.push(format!(".{pid}.partial"));
        }
    }
    target.with_file_name(tmp)
}

/// The process id in `file` where it is a temporary name of `target`, in either form.
fn writer_pid(file: &std::ffi::OsStr, target: &Path) -> Option<u32> {
    let file = file.to_str()?;
    let forms = [
        target.file_name().and_then(|n| n.to_str()).map(|n| (n, "")),
        target
            .file_stem()
            .and_then(|s| s.to_str())
            .zip(target.extension().and_then(|e| e.to_str())),
    ];
    forms.into_iter().flatten().find_map(|(head, ext)| {
        let rest = file.strip_prefix(head)?.strip_prefix('.')?;
        let rest = if ext.is_empty() {
            rest.strip_suffix(".partial")?
        } else {
            rest.strip_suffix(ext)?.strip_suffix(".partial.")?
        };
        rest.parse().ok()
    })
}

/// Whether process `pid` (on this host) runs. Linux answers through /proc; elsewhere a
/// process is assumed alive, so nothing it might still be using is taken from it.
pub fn process_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pid that no process has: above Linux's largest (2^22).
    const GONE: u32 = 4_194_304 + 17;

    #[test]
    fn names_round_trip_in_both_forms() {
        let t = Path::new("/d/out.h5");
        let plain = temporary_name(t, 42, false);
        let kept = temporary_name(t, 42, true);
        assert_eq!(plain, Path::new("/d/out.h5.42.partial"));
        assert_eq!(kept, Path::new("/d/out.42.partial.h5"));
        assert_eq!(writer_pid(plain.file_name().unwrap(), t), Some(42));
        assert_eq!(writer_pid(kept.file_name().unwrap(), t), Some(42));
        for other in [
            "out.h5",
            "out.h5.x.partial",
            "other.h5.42.partial",
            "out.h5.42.partialx",
        ] {
            assert_eq!(writer_pid(std::ffi::OsStr::new(other), t), None, "{other}");
        }
    }

    #[test]
    fn dropped_uncommitted_files_are_removed_and_committed_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.png");
        let p = Partial::keeping_extension(&target);
        std::fs::write(p.path(), b"half").unwrap();
        let tmp = p.path().to_path_buf();
        drop(p);
        assert!(!tmp.exists() && !target.exists());
        let p = Partial::new(&target);
        std::fs::write(p.path(), b"whole").unwrap();
        p.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_files_of_dead_processes_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("cat.h5");
        let dead = temporary_name(&target, GONE, false);
        let dead_png = temporary_name(&target, GONE, true);
        let live = temporary_name(&target, 1, false); // init runs
        let mine = temporary_name(&target, std::process::id(), false);
        let unrelated = dir.path().join("cat.h5.notes");
        for p in [&dead, &dead_png, &live, &mine, &unrelated] {
            std::fs::write(p, b"x").unwrap();
        }
        let mut removed = sweep_stale(&target);
        removed.sort();
        let mut expected = vec![dead, dead_png];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(live.exists() && mine.exists() && unrelated.exists());
    }
}
