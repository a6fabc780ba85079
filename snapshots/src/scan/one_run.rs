//! Whether snapshot files can be one run: a simulation writes all its snapshots in one
//! format and one unit system, so files that differ in either come from different runs
//! (or were converted differently) and are refused before any particle is read.
//!
//! The unit system of an HDF5 snapshot is compared through its unit attributes: those whose
//! name contains "unit" (any case) on the root and in [`UNIT_GROUPS`] (Gadget-4's
//! `Parameters`, AREPO's `Header`, SWIFT's `Units`/`InternalCodeUnits`, our own root
//! `length_unit` ...). NEMO and Gadget-2 binary files carry no units, so their format is all
//! that is compared.

use std::collections::BTreeMap;

use super::SnapshotFile;
use crate::formats::Format;
use crate::h5::{Attr, H5File};
use crate::snapshot::SnapshotError;

/// Groups whose unit attributes make a file's unit system.
const UNIT_GROUPS: [&str; 5] = ["/", "/Header", "/Parameters", "/Units", "/InternalCodeUnits"];

/// The unit attributes of a file: (group, name) -> value.
type Units = BTreeMap<(String, String), Attr>;

/// Checks that `files` share the first file's format and unit attributes; the error names
/// the first file that differs, the first file, and the difference.
pub fn check_one_run(files: &[SnapshotFile]) -> Result<(), SnapshotError> {
    let Some(first) = files.first() else {
        return Ok(());
    };
    let first_units = unit_attributes(first)?;
    for file in &files[1..] {
        if file.format != first.format {
            return Err(SnapshotError::invalid(
                &file.path,
                "snapshot format",
                format!(
                    "{} like {} (the snapshots of one run share a format)",
                    format_name(first.format),
                    first.path.display()
                ),
                format_name(file.format),
            ));
        }
        let units = unit_attributes(file)?;
        if let Some(difference) = first_difference(&first_units, &units) {
            return Err(SnapshotError::invalid(
                &file.path,
                "unit attributes",
                format!(
                    "the unit system of {} (the snapshots of one run share one)",
                    first.path.display()
                ),
                difference,
            ));
        }
    }
    Ok(())
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::GadgetHdf5 => "Gadget/AREPO HDF5",
        Format::Swift => "SWIFT HDF5",
        Format::Nemo => "NEMO",
        Format::Gadget2 => "Gadget-2 binary",
    }
}

/// The unit attributes of an HDF5 snapshot; none for formats without units.
fn unit_attributes(file: &SnapshotFile) -> Result<Units, SnapshotError> {
    if !matches!(file.format, Format::GadgetHdf5 | Format::Swift) {
        return Ok(Units::new());
    }
    let f = H5File::open(&file.path)?;
    let mut units = Units::new();
    for group in UNIT_GROUPS.into_iter().filter(|g| *g == "/" || f.has_group(g)) {
        for (name, value) in f.attrs(group)? {
            if name.to_ascii_lowercase().contains("unit") {
                units.insert((group.to_string(), name), value);
            }
        }
    }
    Ok(units)
}

/// The first unit attribute that `b` lacks, adds or has with another value than `a`.
fn first_difference(a: &Units, b: &Units) -> Option<String> {
    let name = |(group, attr): &(String, String)| format!("attribute {attr} of {group}");
    let show = |v: Option<&Attr>| v.map_or_else(|| "none".to_string(), |v| v.to_string());
    a.keys()
        .chain(b.keys())
        .find(|key| a.get(*key) != b.get(*key))
        .map(|key| {
            format!(
                "{} = {} where the first file has {}",
                name(key),
                show(b.get(key)),
                show(a.get(key))
            )
        })
}
