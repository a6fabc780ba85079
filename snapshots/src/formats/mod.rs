//! Snapshot formats, detected by content (never by file name), and one `read` for all.

use std::io::Read;
use std::path::Path;

use crate::h5::H5File;
use crate::snapshot::{ReadOptions, Snapshot, SnapshotError};

mod binary;
pub mod gadget2;
pub mod gadget_hdf5;
pub mod hdf5_units;
pub mod nemo;
pub mod swift;

/// The formats we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Gadget-2/3/4 and AREPO HDF5 (single or multi-file).
    GadgetHdf5,
    /// SWIFT HDF5 (`Header/Code = "SWIFT"`).
    Swift,
    /// NEMO structured binary (gyrfalcON), many snapshots per file.
    Nemo,
    /// Gadget-2 unformatted binary, SnapFormat 1 or 2.
    Gadget2,
}

/// Bytes read from the start of a file to recognise it.
const SNIFF_BYTES: usize = 64;

/// Recognise a snapshot file by its content.
pub fn detect(path: &Path) -> Result<Format, SnapshotError> {
    let head = read_head(path)?;
    if crate::h5::is_hdf5(path) {
        let f = H5File::open(path)?;
        return if swift::is_swift(&f) {
            Ok(Format::Swift)
        } else if f.has_group("/Header") {
            Ok(Format::GadgetHdf5)
        } else {
            Err(unknown(path, "an HDF5 file without a /Header group"))
        };
    }
    if nemo::sniff(&head) {
        Ok(Format::Nemo)
    } else if gadget2::sniff(&head) {
        Ok(Format::Gadget2)
    } else {
        Err(unknown(
            path,
            "no HDF5 signature, NEMO magic number or Gadget-2 header block",
        ))
    }
}

/// Read every snapshot a file holds (one, or many for NEMO), in the project's units.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    match detect(path)? {
        Format::GadgetHdf5 => gadget_hdf5::read(path, opts),
        Format::Swift => swift::read(path, opts),
        Format::Nemo => nemo::read(path, opts),
        Format::Gadget2 => gadget2::read(path, opts),
    }
}

fn read_head(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    let file = std::fs::File::open(path).map_err(|e| SnapshotError::io(path, "cannot open", e))?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    file.take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| SnapshotError::io(path, "cannot read", e))?;
    Ok(head)
}

fn unknown(path: &Path, detail: &str) -> SnapshotError {
    SnapshotError::UnknownFormat {
        file: path.to_path_buf(),
        detail: detail.to_string(),
    }
}
