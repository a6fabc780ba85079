//! Output locations, checked before a command computes anything: an output is never one of
//! the command's inputs (same path, symbolic link or hard link), an existing output is
//! replaced only on request (`--force`), and the folder it goes into exists and takes new
//! files. The files themselves are written atomically (`actionfinder_snapshots::partial`).

use std::path::{Path, PathBuf};

use actionfinder_snapshots::partial::Partial;
use anyhow::{bail, Context, Result};

/// Whether existing outputs may be replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to start when an output exists.
    #[default]
    Refuse,
    /// Replace it (atomically, when the new one is complete).
    Replace,
}

impl Existing {
    /// [`Existing::Replace`] when `force` is set.
    pub fn from_force(force: bool) -> Self {
        if force {
            Existing::Replace
        } else {
            Existing::Refuse
        }
    }
}

/// Checks the output file `out` given by `flag`: not one of `inputs`, not existing unless
/// `existing` allows it, and in a folder that exists and takes new files.
pub fn check_file(flag: &str, out: &Path, inputs: &[&Path], existing: Existing) -> Result<()> {
    refuse_inputs(flag, out, inputs)?;
    if let Ok(meta) = std::fs::metadata(out) {
        if meta.is_dir() {
            bail!("{flag} {}: is a folder; give a file name", out.display());
        }
        if existing == Existing::Refuse {
            bail!(
                "{flag} {} exists; pass --force to replace it (or choose another name)",
                out.display()
            );
        }
    }
    check_writable_folder(flag, out, &folder_of(out))
}

/// Checks a folder `dir` given by `flag` into which `names` are written: none of them is one
/// of `inputs`, none exists unless `existing` allows it, and the folder (or, where it does
/// not exist yet, the nearest existing folder above it) takes new files.
pub fn check_files_in(
    flag: &str,
    dir: &Path,
    names: &[&str],
    inputs: &[&Path],
    existing: Existing,
) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("{flag} {}: exists and is not a folder", dir.display());
    }
    for name in names {
        let out = dir.join(name);
        refuse_inputs(flag, &out, inputs)?;
        if out.exists() && existing == Existing::Refuse {
            bail!(
                "{flag} {}: {} exists; pass --force to replace it (or choose another folder)",
                dir.display(),
                out.display()
            );
        }
    }
    let mut nearest = dir.to_path_buf();
    while !nearest.exists() {
        nearest = folder_of(&nearest);
    }
    check_writable_folder(flag, dir, &nearest)
}

/// Checks an output folder `dir` given by `flag` that a command fills with many files: it is
/// not an input and is absent or empty, unless `existing` allows it.
pub fn check_folder(flag: &str, dir: &Path, inputs: &[&Path], existing: Existing) -> Result<()> {
    refuse_inputs(flag, dir, inputs)?;
    let occupied = std::fs::read_dir(dir).map(|mut d| d.next().is_some());
    if dir.exists() && !dir.is_dir() {
        bail!("{flag} {}: exists and is not a folder", dir.display());
    }
    if occupied.unwrap_or(false) && existing == Existing::Refuse {
        bail!(
            "{flag} {}: the folder holds files already; pass --force to replace what this command writes there (or choose another folder)",
            dir.display()
        );
    }
    check_files_in(flag, dir, &[], inputs, existing)
}

/// An error of a file writer.
pub type WriteError = Box<dyn std::error::Error>;

/// Writes `path` through `write`, given a temporary path beside it with the same extension,
/// and renames the complete file into place.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), WriteError>,
) -> Result<(), WriteError> {
    let tmp = Partial::keeping_extension(path);
    write(tmp.path())?;
    tmp.commit()?;
    Ok(())
}

/// The files directly inside `dir` (none where it cannot be read): the inputs a model
/// directory holds.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default()
}

/// The folder a path lies in ("." for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn refuse_inputs(flag: &str, out: &Path, inputs: &[&Path]) -> Result<()> {
    if let Some(input) = inputs.iter().find(|i| same_file(out, i)) {
        bail!(
            "{flag} {}: is the input {} (the same file); refusing to overwrite an input",
            out.display(),
            input.display()
        );
    }
    Ok(())
}

/// Whether `a` and `b` name one existing file: the same canonical path (symbolic links
/// resolved) or, on Unix, the same device and inode (hard links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) {
            return true;
        }
    }
    let _ = (ma, mb);
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Checks that `folder` exists and takes a new file, by creating and removing a temporary
/// one (permissions alone do not tell: read-only mounts, quotas, ACLs).
fn check_writable_folder(flag: &str, out: &Path, folder: &Path) -> Result<()> {
    if !folder.is_dir() {
        bail!(
            "{flag} {}: the folder {} does not exist",
            out.display(),
            folder.display()
        );
    }
    let probe = Partial::new(&folder.join(".actionfinder-write-test"));
    std::fs::File::create_new(probe.path())
        .with_context(|| format!("{flag} {}: cannot write in {}", out.display(), folder.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_of_an_input_are_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.h5");
        std::fs::write(&input, b"data").unwrap();
        let hard = dir.path().join("hard.h5");
        std::fs::hard_link(&input, &hard).unwrap();
        let dotted = dir.path().join(".").join("in.h5");
        for out in [&input, &hard, &dotted] {
            let err = check_file("--out", out, &[&input], Existing::Replace).unwrap_err();
            assert!(err.to_string().contains("is the input"), "{err}");
        }
        #[cfg(unix)]
        {
            let soft = dir.path().join("soft.h5");
            std::os::unix::fs::symlink(&input, &soft).unwrap();
            assert!(check_file("--out", &soft, &[&input], Existing::Replace).is_err());
        }
        assert_eq!(std::fs::read(&input).unwrap(), b"data");
    }

    #[test]
    fn existing_outputs_need_force_and_folders_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.h5");
        check_file("--out", &out, &[], Existing::Refuse).unwrap();
        std::fs::write(&out, b"old").unwrap();
        let err = check_file("--out", &out, &[], Existing::Refuse).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        check_file("--out", &out, &[], Existing::Replace).unwrap();
        let missing = dir.path().join("nodir").join("x.h5");
        let err = check_file("--out", &missing, &[], Existing::Replace).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "the probe is removed"
        );
    }

    #[test]
    fn plot_folders_refuse_existing_plots_only() {
        let dir = tempfile::tempdir().unwrap();
        let plots = dir.path().join("plots");
        check_files_in(
            "--plots",
            &plots.join("deeper"),
            &["a.png"],
            &[],
            Existing::Refuse,
        )
        .unwrap();
        std::fs::create_dir(&plots).unwrap();
        std::fs::write(plots.join("notes.txt"), b"mine").unwrap();
        check_files_in("--plots", &plots, &["a.png"], &[], Existing::Refuse).unwrap();
        std::fs::write(plots.join("a.png"), b"old").unwrap();
        assert!(check_files_in("--plots", &plots, &["a.png"], &[], Existing::Refuse).is_err());
        check_files_in("--plots", &plots, &["a.png"], &[], Existing::Replace).unwrap();
        assert!(check_folder("--out", &plots, &[], Existing::Refuse).is_err());
        check_folder("--out", &dir.path().join("fresh"), &[], Existing::Refuse).unwrap();
    }
}
