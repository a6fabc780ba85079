//! The snapshot folder of `generate --snapshots DIR`. Snapshots of another run left in it
//! would be read by `tracks DIR` together with the new ones, so a folder that holds
//! snapshots is refused before any work, unless `--force`: then the snapshot files directly
//! in it are removed before the new ones are written. Snapshots are the files recognised by
//! content as `tracks` recognises them, and files named as the new snapshots will be; other
//! files are never touched. Snapshots in subfolders (which `tracks DIR` reads too) are
//! refused even with `--force`: they are left for the user to move.

use std::path::{Path, PathBuf};

use actionfinder_snapshots::gadget4::snapshot_file_name;
use actionfinder_snapshots::scan::expand;
use actionfinder_snapshots::{formats, SnapshotError};
use anyhow::{bail, Context, Result};

use super::SnapshotPlan;

/// Snapshot files found under a snapshot folder.
#[derive(Debug, Default)]
struct Existing {
    /// Directly in the folder: recognised snapshots, or files the plan will write.
    own: Vec<PathBuf>,
    /// In subfolders: recognised snapshots.
    nested: Vec<PathBuf>,
}

/// Refuses `plan.dir` when it holds snapshots already (with `plan.force`, only when some
/// are in subfolders), naming the folder and the first files.
pub fn check(plan: &SnapshotPlan) -> Result<()> {
    let dir = &plan.dir;
    if dir.exists() && !dir.is_dir() {
        bail!("--snapshots {}: not a folder", dir.display());
    }
    let found = find(plan)?;
    if !found.nested.is_empty() {
        bail!(
            "--snapshots {}: its subfolders hold snapshots ({}), which `tracks {}` would read \
             together with the new ones; move them out of the folder or choose another",
            dir.display(),
            examples(&found.nested),
            dir.display()
        );
    }
    if !found.own.is_empty() && !plan.force {
        bail!(
            "--snapshots {}: the folder holds snapshots already ({}); pass --force to remove \
             them (only the snapshot files) before writing, or choose another folder",
            dir.display(),
            examples(&found.own)
        );
    }
    Ok(())
}

/// With `plan.force`, removes the snapshots directly in `plan.dir` that are recognised by
/// content (files merely named like new snapshots are replaced when those are written).
pub fn clear(plan: &SnapshotPlan) -> Result<()> {
    if !plan.force {
        return Ok(());
    }
    for path in find(plan)?.own.into_iter().filter(|p| is_snapshot(p)) {
        std::fs::remove_file(&path)
            .with_context(|| format!("removing the old snapshot {}", path.display()))?;
        log::info!("removed the old snapshot {}", path.display());
    }
    Ok(())
}

/// The snapshots under `plan.dir`, and the files there that the plan would write over.
fn find(plan: &SnapshotPlan) -> Result<Existing> {
    let mut found = Existing::default();
    if !plan.dir.is_dir() {
        return Ok(found);
    }
    let will_write: Vec<PathBuf> = (0..plan.outputs)
        .map(|k| plan.dir.join(snapshot_file_name(k)))
        .collect();
    let files = expand(&[&plan.dir])
        .with_context(|| format!("listing the snapshot folder {}", plan.dir.display()))?;
    for path in files {
        let own = path.parent() == Some(plan.dir.as_path());
        if own && will_write.contains(&path) || is_snapshot(&path) {
            if own {
                found.own.push(path);
            } else {
                found.nested.push(path);
            }
        }
    }
    Ok(found)
}

/// Whether `path` is recognised as a snapshot (by content, as `tracks` recognises them); a
/// file that cannot be read or is damaged is not (it is left alone, with a warning).
fn is_snapshot(path: &Path) -> bool {
    match formats::detect(path) {
        Ok(_) => true,
        Err(SnapshotError::UnknownFormat { .. }) => false,
        Err(e) => {
            log::warn!("{}: not recognised as a snapshot ({e})", path.display());
            false
        }
    }
}

/// The first two of `paths`, and how many more.
fn examples(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().take(2).map(|p| p.display().to_string()).collect();
    match paths.len().saturating_sub(2) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}
