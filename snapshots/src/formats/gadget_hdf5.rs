//! Placeholder until the Gadget HDF5 reader lands (this session).

use std::path::Path;

use crate::snapshot::{ReadOptions, Snapshot, SnapshotError};

/// Read the snapshot (all files of a multi-file snapshot).
pub fn read(path: &Path, _opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    Err(SnapshotError::UnknownFormat { file: path.to_path_buf(), detail: "reader not built yet".into() })
}
