//! The model directory a `train` writes, checked before any work: a new directory (its parent
//! must exist and be writable), an empty one, or, with `--resume`, the directory of the run
//! to continue. An existing model is never replaced silently: without `--resume` it takes
//! `--force`, and then the new model is trained into a sibling directory
//! (`.NAME.new-PID`) that replaces the old one only once complete, so a failed or interrupted
//! training leaves the old model as it was. `--force` replaces the whole directory
//! (everything in it), and only a directory that holds a model or a checkpoint.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::lock::{self, DirLock, LOCK_FILE};
use crate::model::{JSON_FILE, WEIGHTS_FILE};

/// How the model directory may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// A new or empty directory.
    New,
    /// Continue the run whose checkpoint the directory holds (or start one there).
    Resume,
    /// Replace the model the directory holds, once the new one is complete.
    Replace,
}

/// Where a training writes, and what happens to it at the end.
#[derive(Debug)]
pub struct ModelOutput {
    target: PathBuf,
    /// The sibling directory trained into when replacing, with the lock that keeps others
    /// out of `target` meanwhile.
    replacement: Option<(PathBuf, DirLock)>,
    /// `target` was made here (removed again if it stays empty).
    created: bool,
    committed: bool,
}

impl ModelOutput {
    /// Check `out` for `mode` and prepare it (see the module documentation).
    pub fn prepare(out: &Path, mode: OutputMode) -> Result<ModelOutput> {
        let mut output = ModelOutput {
            target: out.to_path_buf(),
            replacement: None,
            created: false,
            committed: false,
        };
        let meta = match std::fs::metadata(out) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_new(out)?;
                output.created = true;
                return Ok(output);
            }
            Err(e) => return Err(e).with_context(|| format!("--out {}", out.display())),
        };
        if !meta.is_dir() {
            bail!("--out {} exists and is not a directory", out.display());
        }
        lock::check_free(out)?;
        let model = holds_model(out);
        let other = first_other_entry(out)?;
        match (mode, model, other) {
            (_, None, None) => {}
            (OutputMode::New, Some(what), _) => bail!(
                "--out {} already holds a model ({what}): continue its training with --resume, or \
                 replace it with --force",
                out.display()
            ),
            (OutputMode::Resume, Some(what), _) if !super::checkpoint::store(out).any() => bail!(
                "--out {} holds a model ({what}) but no checkpoint to resume from: replace it with \
                 --force",
                out.display()
            ),
            (OutputMode::Resume, Some(_), _) => {}
            (OutputMode::Replace, Some(_), _) => {
                output.replacement = Some(sibling(out)?);
            }
            (_, None, Some(name)) => bail!(
                "--out {} is not empty ({name}) and holds no model: choose a new or empty directory",
                out.display()
            ),
        }
        Ok(output)
    }

    /// The directory to train into.
    pub fn dir(&self) -> &Path {
        self.replacement.as_ref().map_or(&self.target, |(dir, _)| dir)
    }

    /// Put the finished model in place (when replacing: the old directory goes, the new one
    /// takes its name) and return where it is.
    pub fn commit(mut self) -> Result<PathBuf> {
        self.committed = true;
        if let Some((new, _lock)) = &self.replacement {
            let old = hidden_sibling(&self.target, "old")?;
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("moving {} aside to {}", self.target.display(), old.display()))?;
            if let Err(e) = std::fs::rename(new, &self.target) {
                let _ = std::fs::rename(&old, &self.target);
                return Err(e)
                    .with_context(|| format!("moving {} to {}", new.display(), self.target.display()));
            }
            if let Err(e) = std::fs::remove_dir_all(&old) {
                log::warn!("the replaced model is left in {}: {e}", old.display());
            }
        }
        Ok(self.target.clone())
    }
}

impl Drop for ModelOutput {
    /// An unfinished replacement is removed; a directory made here is removed if it stayed
    /// empty (a failed run's checkpoints stay, for `--resume`).
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if let Some((new, _)) = &self.replacement {
            let _ = std::fs::remove_dir_all(new);
        }
        if self.created {
            let _ = std::fs::remove_dir(&self.target);
        }
    }
}

/// Create `out`, whose parent must exist: the check that it can be written.
fn create_new(out: &Path) -> Result<()> {
    let parent = parent(out);
    if !parent.is_dir() {
        bail!(
            "the folder {} of --out {} does not exist",
            parent.display(),
            out.display()
        );
    }
    std::fs::create_dir(out).with_context(|| format!("cannot create --out {}", out.display()))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `PARENT/.NAME.KIND-PID`, beside `out`.
fn hidden_sibling(out: &Path, kind: &str) -> Result<PathBuf> {
    let name = out
        .file_name()
        .with_context(|| format!("--out {} has no directory name", out.display()))?;
    Ok(parent(out).join(format!(
        ".{}.{kind}-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// The fresh sibling directory a replacement is trained into, and the lock on `out`.
fn sibling(out: &Path) -> Result<(PathBuf, DirLock)> {
    let lock = DirLock::acquire(out)?;
    let dir = hidden_sibling(out, "new")?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir(&dir).with_context(|| format!("cannot create {} beside --out", dir.display()))?;
    Ok((dir, lock))
}

/// What in `dir` shows that it holds a model: a model file or a checkpoint.
pub fn holds_model(dir: &Path) -> Option<String> {
    let checkpoints = [
        super::checkpoint::store(dir),
        crate::field::run::store(dir),
        crate::inverse::fit::store(dir),
    ];
    [JSON_FILE, WEIGHTS_FILE]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .or_else(|| {
            checkpoints
                .iter()
                .flat_map(|c| [c.latest(), c.previous()])
                .find(|p| p.exists())
        })
        .map(|p| p.display().to_string())
}

/// The first entry of `dir` other than a lock file, if any.
fn first_other_entry(dir: &Path) -> Result<Option<String>> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing --out {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name != LOCK_FILE {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_parent_is_refused_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nodir").join("model");
        let err = ModelOutput::prepare(&out, OutputMode::New)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nodir") && err.contains("does not exist"), "{err}");
    }

    #[test]
    fn a_replacement_leaves_the_old_model_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join(JSON_FILE), "old").unwrap();
        let err = ModelOutput::prepare(&out, OutputMode::New)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--force") && err.contains(JSON_FILE), "{err}");
        let unfinished = ModelOutput::prepare(&out, OutputMode::Replace).unwrap();
        std::fs::write(unfinished.dir().join(JSON_FILE), "new").unwrap();
        drop(unfinished);
        assert_eq!(std::fs::read_to_string(out.join(JSON_FILE)).unwrap(), "old");
        let finished = ModelOutput::prepare(&out, OutputMode::Replace).unwrap();
        std::fs::write(finished.dir().join(JSON_FILE), "new").unwrap();
        assert_eq!(finished.commit().unwrap(), out);
        assert_eq!(std::fs::read_to_string(out.join(JSON_FILE)).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn force_never_replaces_a_folder_without_a_model() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.tex"), "mine").unwrap();
        let err = ModelOutput::prepare(dir.path(), OutputMode::Replace)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("thesis.tex") && err.contains("holds no model"),
            "{err}"
        );
    }
}
