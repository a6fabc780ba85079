//! From command-line arguments to snapshots: files, directories and glob patterns are
//! expanded ([`expand`]), files that are not snapshots are left out (recognised by content,
//! [`recognise`]), the parts `.1`, `.2`, ... of multi-file Gadget snapshots go with their
//! `.0` file (whose reader reads them all), the files are checked to be of one run (one
//! format, one unit system: [`check_one_run`]), and snapshots are read and ordered by the
//! time in their headers ([`read_sorted`]) or handed over one by one ([`for_each_snapshot`],
//! to keep one snapshot in memory at a time).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::formats::{self, Format};
use crate::h5::H5File;
use crate::snapshot::{ReadOptions, Snapshot, SnapshotError};

mod one_run;

pub use one_run::check_one_run;

/// A file recognised as a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub path: PathBuf,
    pub format: Format,
}

/// Characters that make an argument a glob pattern.
const GLOB_CHARS: [char; 3] = ['*', '?', '['];

/// Expands each argument: an existing file is itself, a directory gives every file below
/// it (recursively, hidden entries left out), anything else is a glob pattern. Paths come out
/// sorted within each argument and without repeats. An argument that matches nothing is an
/// error naming it.
pub fn expand<P: AsRef<Path>>(args: &[P]) -> Result<Vec<PathBuf>, SnapshotError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for arg in args {
        for path in expand_one(arg.as_ref())? {
            if seen.insert(path.clone()) {
                out.push(path);
            }
        }
    }
    Ok(out)
}

fn expand_one(arg: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    if arg.is_dir() {
        let mut files = Vec::new();
        walk(arg, &mut files)?;
        files.sort();
        return Ok(files);
    }
    if arg.exists() {
        return Ok(vec![arg.to_path_buf()]);
    }
    let text = arg.to_string_lossy();
    if !text.contains(GLOB_CHARS) {
        let e = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory");
        return Err(SnapshotError::io(arg, "cannot find snapshot", e));
    }
    let bad_pattern = |detail: String| SnapshotError::invalid(arg, "glob pattern", "a valid pattern", detail);
    let paths = glob::glob(&text).map_err(|e| bad_pattern(e.to_string()))?;
    let mut files = Vec::new();
    for entry in paths {
        let path = entry.map_err(|e| {
            let file = e.path().to_path_buf();
            SnapshotError::io(&file, "cannot read", e.into())
        })?;
        if path.is_dir() {
            walk(&path, &mut files)?;
        } else {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(SnapshotError::invalid(
            arg,
            "glob pattern",
            "at least one matching file",
            "no match",
        ));
    }
    files.sort();
    Ok(files)
}

/// Every file below `dir`, skipping names that start with a dot.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SnapshotError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SnapshotError::io(dir, "cannot list directory", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SnapshotError::io(dir, "cannot list directory", e))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The format of `path` when it is a snapshot, `None` when it is a file of no known format.
/// Errors: a file that cannot be read, or a snapshot that is damaged.
pub fn recognise(path: &Path) -> Result<Option<Format>, SnapshotError> {
    match formats::detect(path) {
        Ok(format) => Ok(Some(format)),
        Err(SnapshotError::UnknownFormat { detail, .. }) => {
            log::info!("skipping {}: not a snapshot ({detail})", path.display());
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The snapshots among `paths`, recognised by content ([`recognise`]), in the order given;
/// parts `.1`, `.2`, ... of a multi-file Gadget snapshot are left to their `.0` file. None
/// at all is not an error here ([`scan`] makes it one, naming its arguments).
pub fn snapshot_files(paths: &[PathBuf]) -> Result<Vec<SnapshotFile>, SnapshotError> {
    let mut files = Vec::new();
    for path in paths {
        let Some(format) = recognise(path)? else {
            continue;
        };
        if is_later_part(path, format)? {
            log::debug!(
                "{}: part of a multi-file snapshot, read with its .0 file",
                path.display()
            );
            continue;
        }
        files.push(SnapshotFile {
            path: path.clone(),
            format,
        });
    }
    Ok(files)
}

/// [`expand`], then [`snapshot_files`], then [`check_one_run`]. Arguments that hold no
/// snapshot at all are an error naming them and what was looked for.
pub fn scan<P: AsRef<Path>>(args: &[P]) -> Result<Vec<SnapshotFile>, SnapshotError> {
    let paths = expand(args)?;
    let files = snapshot_files(&paths)?;
    if files.is_empty() {
        return Err(no_snapshots(args, &paths));
    }
    check_one_run(&files)?;
    Ok(files)
}

/// The error for arguments that expand to `paths`, none of them a snapshot.
fn no_snapshots<P: AsRef<Path>>(args: &[P], paths: &[PathBuf]) -> SnapshotError {
    let first = args.first().map_or(Path::new(""), |a| a.as_ref());
    let object = if first.is_dir() {
        "snapshot folder"
    } else {
        "snapshot files"
    };
    let expected = "at least one snapshot: a Gadget/AREPO/SWIFT HDF5, NEMO or Gadget-2 binary file, \
                    recognised by content (folders are searched recursively, hidden files skipped)";
    let mut found = match paths.first() {
        None => "no files".to_string(),
        Some(p) => format!(
            "{} file(s), none of them a snapshot (e.g. {})",
            paths.len(),
            p.display()
        ),
    };
    if args.len() > 1 {
        let names: Vec<String> = args.iter().map(|a| a.as_ref().display().to_string()).collect();
        found.push_str(&format!(" in {}", names.join(", ")));
    }
    SnapshotError::invalid(first, object, expected, found)
}

/// For a name `stem.N` or `stem.N.ext` with N >= 1: the sibling `stem.0[.ext]`.
fn first_part(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) if !e.chars().all(|c| c.is_ascii_digit()) => (b, Some(e)),
        _ => (name, None),
    };
    let (stem, number) = base.rsplit_once('.')?;
    let n: u64 = number
        .parse()
        .ok()
        .filter(|_| number.chars().all(|c| c.is_ascii_digit()))?;
    if n == 0 || stem.is_empty() {
        return None;
    }
    let sibling = match ext {
        Some(e) => format!("{stem}.0.{e}"),
        None => format!("{stem}.0"),
    };
    Some(path.with_file_name(sibling))
}

/// True for part N >= 1 of a multi-file Gadget snapshot whose `.0` file exists (for HDF5,
/// also `Header/NumFilesPerSnapshot` > 1).
fn is_later_part(path: &Path, format: Format) -> Result<bool, SnapshotError> {
    if !first_part(path).is_some_and(|f| f.is_file()) {
        return Ok(false);
    }
    match format {
        Format::Gadget2 => Ok(true),
        Format::GadgetHdf5 => {
            let f = H5File::open(path)?;
            let files = f
                .attr_opt("/Header", "NumFilesPerSnapshot")?
                .and_then(|a| a.as_i64());
            Ok(files.is_some_and(|n| n > 1))
        }
        Format::Swift | Format::Nemo => Ok(false),
    }
}

/// Reads each snapshot of `files` (a NEMO file holds many) and hands it to `each`, in the
/// order of `files`; stops at the first error.
pub fn for_each_snapshot(
    files: &[SnapshotFile],
    opts: &ReadOptions,
    mut each: impl FnMut(Snapshot) -> Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    for file in files {
        for snap in formats::read(&file.path, opts)? {
            each(snap)?;
        }
    }
    Ok(())
}

/// Every snapshot of `files`, ordered by time (stable: equal times keep the file order).
pub fn read_sorted(files: &[SnapshotFile], opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    let mut snaps = Vec::new();
    for_each_snapshot(files, opts, |s| {
        snaps.push(s);
        Ok(())
    })?;
    snaps.sort_by(|a, b| a.time_gyr.total_cmp(&b.time_gyr));
    Ok(snaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_part_of_multi_file_names() {
        let p = |s: &str| first_part(Path::new(s));
        assert_eq!(
            p("d/snapshot_012.3.hdf5"),
            Some(PathBuf::from("d/snapshot_012.0.hdf5"))
        );
        assert_eq!(p("d/snapshot_012.1"), Some(PathBuf::from("d/snapshot_012.0")));
        assert_eq!(p("d/snapshot_012.0.hdf5"), None);
        assert_eq!(p("d/snap_012.hdf5"), None);
        assert_eq!(p("d/snap_012"), None);
        assert_eq!(p(".1"), None);
    }
}
