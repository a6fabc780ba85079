//! SWIFT HDF5 snapshots (Schaller et al. 2024, MNRAS 530, 2378; SWIFT's "Snapshots"
//! documentation).
//!
//! SWIFT keeps Gadget's layout (`/Header` counts, `/PartTypeN/Coordinates|Velocities|
//! ParticleIDs|Masses`, multi-file parts), so the particles are read by
//! [`super::gadget_hdf5`]; what differs is the metadata:
//!
//! * `/Header` attribute `Code = "SWIFT"` (a fixed- or variable-length string) marks the file.
//! * `/Units` (else `/InternalCodeUnits`): `Unit length in cgs (U_L)`, `Unit mass in cgs
//!   (U_M)`, `Unit time in cgs (U_t)` (current and temperature units are not needed); the
//!   velocity unit is U_L / U_t. Without them SWIFT's example unit system (1e10 Msun, 1 Mpc,
//!   1 km/s) is assumed, with one warning.
//! * Each field: `Conversion factor to CGS (not including cosmological corrections)`,
//!   `a-scale exponent`, `h-scale exponent` and `Value stored as physical`; the `U_L
//!   exponent`-style attributes restate the conversion factor and are not needed.
//! * `/Cosmology` (`Cosmological run`, `Scale-factor`, `h`) or `/Header` `Scale-factor`:
//!   comoving positions become physical with x a; velocities are peculiar already.
//! * `/Header` `Time` is the (cosmic) time in U_t.
//! * `/Cells` (the spatial index) is not needed and ignored.

use std::path::Path;

use super::gadget_hdf5::{self, Header, Meta};
use super::hdf5_units::{self as units, Cosmology};
use crate::h5::H5File;
use crate::snapshot::{ReadOptions, Snapshot, SnapshotError, UnitSystem};

/// Whether an HDF5 file is a SWIFT snapshot: `/Header` has `Code = "SWIFT"`.
pub fn is_swift(f: &H5File) -> bool {
    matches!(f.attr_opt("/Header", "Code"), Ok(Some(code))
        if code.as_str().is_some_and(|s| s.trim_matches(|c: char| c == '\0' || c.is_whitespace()) == "SWIFT"))
}

/// Read the snapshot (all files of a multi-file snapshot), in kpc, km/s, Msun and Gyr.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    gadget_hdf5::read_with(path, opts, swift_meta)
}

fn swift_meta(f: &H5File, h: &Header, opts: &ReadOptions) -> Result<Meta, SnapshotError> {
    let file_units = swift_units(f)?;
    Ok(Meta {
        conv: &units::SWIFT,
        units: file_units,
        cosmo: swift_cosmology(f)?,
        time_gyr: h.time * opts.units.time_gyr.unwrap_or(file_units.time_gyr),
    })
}

/// The groups that hold SWIFT's unit system, in the order searched.
const UNIT_GROUPS: [&str; 2] = ["/Units", "/InternalCodeUnits"];

/// SWIFT's unit system from U_L, U_M, U_t.
fn swift_units(f: &H5File) -> Result<UnitSystem, SnapshotError> {
    let Some(group) = UNIT_GROUPS.into_iter().find(|g| f.has_group(g)) else {
        units::warn_no_units(f.path(), "SWIFT", "1 Mpc, 1 km/s, 1e10 Msun");
        let mpc_cm = 1.0e3 * crate::gadget4::UNIT_LENGTH_IN_CM;
        let kms = crate::gadget4::UNIT_VELOCITY_IN_CM_PER_S;
        return Ok(units::unit_system_from_cgs(
            mpc_cm,
            kms,
            1.0e10 * crate::gadget4::UNIT_MASS_IN_G,
            None,
        ));
    };
    let unit = |name: &str| -> Result<f64, SnapshotError> {
        let value = f.attr_f64(group, name)?;
        if value.is_finite() && value > 0.0 {
            return Ok(value);
        }
        let object = format!("attribute {name} of {group}");
        Err(SnapshotError::invalid(
            f.path(),
            object,
            "a positive number of cgs units",
            value.to_string(),
        ))
    };
    let length = unit("Unit length in cgs (U_L)")?;
    let mass = unit("Unit mass in cgs (U_M)")?;
    let time = unit("Unit time in cgs (U_t)")?;
    Ok(units::unit_system_from_cgs(
        length,
        length / time,
        mass,
        Some(time),
    ))
}

/// a and h: from `/Cosmology` (or `/Header` `Scale-factor`), a = h = 1 where the run is not
/// cosmological (`Cosmological run` = 0) or nothing is given.
fn swift_cosmology(f: &H5File) -> Result<Cosmology, SnapshotError> {
    let number = |group: &str, name: &str| -> Result<Option<f64>, SnapshotError> {
        if f.has_group(group) && f.attr_opt(group, name)?.is_some() {
            return Ok(Some(f.attr_f64(group, name)?));
        }
        Ok(None)
    };
    if number("/Cosmology", "Cosmological run")? == Some(0.0) {
        return Ok(Cosmology::STATIC);
    }
    let a = match number("/Cosmology", "Scale-factor")? {
        Some(a) => a,
        None => number("/Header", "Scale-factor")?.unwrap_or(1.0),
    };
    let h = number("/Cosmology", "h")?.unwrap_or(1.0);
    if a > 0.0 && a.is_finite() && h > 0.0 && h.is_finite() {
        return Ok(Cosmology { a, h });
    }
    let found = format!("Scale-factor = {a}, h = {h}");
    Err(SnapshotError::invalid(
        f.path(),
        "/Cosmology",
        "a > 0 and h > 0",
        found,
    ))
}
