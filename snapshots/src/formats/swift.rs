//! Placeholder until the SWIFT reader lands (this session).

use std::path::Path;

use crate::h5::H5File;
use crate::snapshot::{ReadOptions, Snapshot, SnapshotError};

/// Whether an HDF5 file is a SWIFT snapshot.
pub fn is_swift(_f: &H5File) -> bool {
    false
}

/// Read the snapshot.
pub fn read(path: &Path, _opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    Err(SnapshotError::UnknownFormat { file: path.to_path_buf(), detail: "reader not built yet".into() })
}
