//! Checkpoint directories that are whole or absent, shared by the action map's training
//! (`MODEL_DIR/checkpoint/`) and the field pass (`MODEL_DIR/field_checkpoint/`).
//!
//! A checkpoint is written into a fresh `MODEL_DIR/.NAME.partial-PID/`, closed by
//! `manifest.json` (epoch, the SHA-256 of every file, the digest of the training data, the
//! options that must match on resume), synced, and renamed into place; the one it replaces
//! becomes `NAME.previous/`. Resuming verifies the manifest and every file's digest: a
//! damaged or missing latest checkpoint falls back to the previous one with a warning naming
//! what was wrong, and a checkpoint of other data or other options is refused, naming the
//! difference. The options that may change on resume are [`RESUMABLE`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::digest::{self, DataDigest};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// What a manifest says it is.
const FORMAT: &str = "actionfinder-checkpoint";
/// Options that may change between a checkpoint and its resumption: how long to run
/// (`epochs` extends a run), how often to checkpoint, when to stop this session, and the
/// device (CPU and GPU runs continue each other, to rounding).
pub const RESUMABLE: [&str; 5] = [
    "epochs",
    "checkpoint_every",
    "stop_after",
    "time_limit_s",
    "device",
];

/// What a checkpoint must match to be resumed: the training data and the options (without
/// [`RESUMABLE`]), plus whatever else the caller adds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub data: DataDigest,
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl Identity {
    /// The identity of a run on `data` with `options` (a struct of named fields).
    pub fn new(data: DataDigest, options: &impl Serialize) -> Result<Self> {
        let serde_json::Value::Object(mut options) = serde_json::to_value(options)? else {
            bail!("checkpoint options must be a struct of named fields");
        };
        for key in RESUMABLE {
            options.remove(key);
        }
        Ok(Identity { data, options })
    }

    /// Add `key` to the options that must match (e.g. the digest of an input file).
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.options.insert(key.to_string(), value.into());
        self
    }

    /// Refuse a checkpoint of `saved`'s identity, naming what differs.
    fn check(&self, saved: &Identity, dir: &Path) -> Result<()> {
        if let Some(d) = saved.data.difference(&self.data) {
            bail!(
                "the training data differ from the checkpoint's ({}): {d}; resume on the dataset \
                 the checkpoint was made with, or train afresh",
                dir.display()
            );
        }
        let differences = option_differences(&saved.options, &self.options);
        if !differences.is_empty() {
            bail!(
                "checkpoint {} was made with other options: {}; resume with the same options \
                 (only {} may change), or train afresh",
                dir.display(),
                differences.join("; "),
                RESUMABLE.join(", ")
            );
        }
        Ok(())
    }
}

/// "key: A in the checkpoint, B now" for every key whose value differs.
fn option_differences(
    saved: &serde_json::Map<String, serde_json::Value>,
    now: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = saved.keys().chain(now.keys()).collect();
    let show = |v: Option<&serde_json::Value>| v.map_or("absent".to_string(), |v| v.to_string());
    keys.into_iter()
        .filter(|k| saved.get(*k) != now.get(*k))
        .map(|k| {
            format!(
                "{k}: {} in the checkpoint, {} now",
                show(saved.get(k)),
                show(now.get(k))
            )
        })
        .collect()
}

/// `manifest.json`.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    epoch: usize,
    /// SHA-256 of every other file, by name.
    files: BTreeMap<String, String>,
    identity: Identity,
}

/// The checkpoints `NAME/` and `NAME.previous/` of a model directory.
pub struct Checkpoints {
    model_dir: PathBuf,
    name: &'static str,
}

impl Checkpoints {
    pub fn new(model_dir: &Path, name: &'static str) -> Self {
        Checkpoints {
            model_dir: model_dir.to_path_buf(),
            name,
        }
    }

    /// The latest checkpoint's directory.
    pub fn latest(&self) -> PathBuf {
        self.model_dir.join(self.name)
    }

    /// The one before it.
    pub fn previous(&self) -> PathBuf {
        self.model_dir.join(format!("{}.previous", self.name))
    }

    fn partial_prefix(&self) -> String {
        format!(".{}.partial-", self.name)
    }

    /// Whether either checkpoint is there.
    pub fn any(&self) -> bool {
        self.latest().exists() || self.previous().exists()
    }

    /// Write the checkpoint of `epoch`: `write` fills a fresh directory, which gets its
    /// manifest and replaces the latest one, that one becoming the previous (unless it is of
    /// the same epoch or damaged: then the previous stays).
    pub fn save(
        &self,
        epoch: usize,
        identity: &Identity,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        self.remove_partials();
        let partial = self
            .model_dir
            .join(format!("{}{}", self.partial_prefix(), std::process::id()));
        std::fs::create_dir(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let written = write(&partial).and_then(|()| seal(&partial, epoch, identity));
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e.context(format!("writing checkpoint {}", partial.display())));
        }
        let (latest, previous) = (self.latest(), self.previous());
        let rotate = latest.exists() && verify(&latest).is_ok_and(|m| m.epoch != epoch);
        if rotate {
            if previous.exists() {
                std::fs::remove_dir_all(&previous)
                    .with_context(|| format!("removing {}", previous.display()))?;
            }
            std::fs::rename(&latest, &previous)
                .with_context(|| format!("moving {} to {}", latest.display(), previous.display()))?;
        } else if latest.exists() {
            // Of the same epoch (saved again at the end of a run), or damaged: the previous
            // one stays.
            std::fs::remove_dir_all(&latest).with_context(|| format!("removing {}", latest.display()))?;
        }
        std::fs::rename(&partial, &latest)
            .with_context(|| format!("moving {} to {}", partial.display(), latest.display()))?;
        sync_dir(&self.model_dir);
        Ok(())
    }

    /// Directories of checkpoints interrupted while being written (nothing else writes here
    /// while the model directory's lock is held).
    fn remove_partials(&self) {
        let prefix = self.partial_prefix();
        let Ok(entries) = std::fs::read_dir(&self.model_dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// The directory of the checkpoint to resume from and its epoch: the latest whose files
    /// match its manifest (falling back to the previous with a warning), which must have
    /// been made with `identity`. `None` when there is no checkpoint.
    pub fn load(&self, identity: &Identity) -> Result<Option<(PathBuf, usize)>> {
        let (latest, previous) = (self.latest(), self.previous());
        if !latest.exists() && !previous.exists() {
            return Ok(None);
        }
        let mut problems = Vec::new();
        if !latest.exists() {
            problems.push(format!(
                "{} is missing (interrupted while saving)",
                latest.display()
            ));
        }
        for dir in [latest, previous].into_iter().filter(|d| d.exists()) {
            match verify(&dir) {
                Ok(manifest) => {
                    if !problems.is_empty() {
                        log::warn!(
                            "{}: resuming from {} (epoch {}) instead",
                            problems.join("; "),
                            dir.display(),
                            manifest.epoch
                        );
                    }
                    identity.check(&manifest.identity, &dir)?;
                    return Ok(Some((dir, manifest.epoch)));
                }
                Err(e) => problems.push(format!("checkpoint {} is damaged: {e:#}", dir.display())),
            }
        }
        bail!(
            "no usable checkpoint in {}: {}; remove the checkpoints to start afresh",
            self.model_dir.display(),
            problems.join("; ")
        )
    }
}

/// Write the manifest of the files in `dir`, after syncing them.
fn seal(dir: &Path, epoch: usize, identity: &Identity) -> Result<()> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.insert(name, digest::file(&path)?);
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        epoch,
        files,
        identity: identity.clone(),
    };
    let path = dir.join(MANIFEST);
    let mut f = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut f, serde_json::to_string_pretty(&manifest)?.as_bytes())
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    sync_dir(dir);
    Ok(())
}

/// The manifest of `dir`, after checking every file it lists against its digest.
fn verify(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no readable {MANIFEST} (incomplete, or written by an older version)"))?;
    let manifest: Manifest =
        serde_json::from_str(&text).with_context(|| format!("{MANIFEST} is not valid"))?;
    if manifest.format != FORMAT {
        bail!("{MANIFEST} has format {:?}, expected {FORMAT:?}", manifest.format);
    }
    for (name, want) in &manifest.files {
        let file = dir.join(name);
        if !file.is_file() {
            bail!("{name} is missing");
        }
        let got = digest::file(&file)?;
        if &got != want {
            bail!("{name} does not match its digest in {MANIFEST} ({got} vs {want}): it was changed or torn");
        }
    }
    Ok(manifest)
}

/// Make a directory's renames durable (where the platform allows opening a directory).
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Options {
        rate: f64,
        epochs: usize,
        device: String,
    }

    fn identity(rate: f64, epochs: usize, data: &str) -> Identity {
        let data = DataDigest {
            digest: data.to_string(),
            streams: 4,
            stars: 8,
        };
        let options = Options {
            rate,
            epochs,
            device: "cpu".into(),
        };
        Identity::new(data, &options).unwrap()
    }

    /// Save epochs 1 and 2, each one file holding its epoch.
    fn two_epochs(dir: &Path) -> Checkpoints {
        let store = Checkpoints::new(dir, "checkpoint");
        for epoch in [1, 2] {
            store
                .save(epoch, &identity(0.1, 10, "a"), |d| {
                    Ok(std::fs::write(d.join("state"), epoch.to_string())?)
                })
                .unwrap();
        }
        store
    }

    #[test]
    fn the_latest_intact_checkpoint_is_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let store = two_epochs(dir.path());
        // Only the run's epochs differ: resumable.
        let (found, epoch) = store.load(&identity(0.1, 20, "a")).unwrap().unwrap();
        assert_eq!((found, epoch), (store.latest(), 2));
        assert_eq!(
            std::fs::read_to_string(store.previous().join("state")).unwrap(),
            "1"
        );
        // Saving epoch 2 again (the end of a run) keeps epoch 1 as the previous.
        store
            .save(2, &identity(0.1, 10, "a"), |d| {
                Ok(std::fs::write(d.join("state"), "2")?)
            })
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(store.previous().join("state")).unwrap(),
            "1"
        );
    }

    #[test]
    fn a_torn_latest_checkpoint_falls_back_to_the_previous() {
        let dir = tempfile::tempdir().unwrap();
        let store = two_epochs(dir.path());
        std::fs::write(store.latest().join("state"), "1").unwrap();
        let (found, epoch) = store.load(&identity(0.1, 10, "a")).unwrap().unwrap();
        assert_eq!((found, epoch), (store.previous(), 1));
        std::fs::remove_dir_all(store.latest()).unwrap();
        assert_eq!(store.load(&identity(0.1, 10, "a")).unwrap().unwrap().1, 1);
        std::fs::remove_file(store.previous().join(MANIFEST)).unwrap();
        let err = store.load(&identity(0.1, 10, "a")).unwrap_err().to_string();
        assert!(err.contains("manifest.json") && err.contains("missing"), "{err}");
    }

    #[test]
    fn other_data_or_options_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = two_epochs(dir.path());
        let err = store.load(&identity(0.2, 10, "a")).unwrap_err().to_string();
        assert!(err.contains("rate: 0.1 in the checkpoint, 0.2 now"), "{err}");
        let err = store.load(&identity(0.1, 10, "b")).unwrap_err().to_string();
        assert!(
            err.contains("training data differ") && err.contains("digest a vs b"),
            "{err}"
        );
    }

    #[test]
    fn an_interrupted_save_leaves_the_checkpoints_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let store = two_epochs(dir.path());
        let err = store.save(3, &identity(0.1, 10, "a"), |_| bail!("disk full"));
        assert!(err.is_err());
        assert_eq!(store.load(&identity(0.1, 10, "a")).unwrap().unwrap().1, 2);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
