//! Placeholder until the nemo reader lands (this session).

use std::path::Path;

use crate::snapshot::{ReadOptions, Snapshot, SnapshotError};

/// Whether the first bytes of a file look like this format.
pub fn sniff(_head: &[u8]) -> bool {
    false
}

/// Read every snapshot of the file.
pub fn read(path: &Path, _opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    Err(SnapshotError::UnknownFormat { file: path.to_path_buf(), detail: "reader not built yet".into() })
}
