//! What every snapshot reader returns: particles in the project's units, and the errors.
//!
//! Units: positions kpc, velocities km/s (physical, peculiar), masses Msun, time Gyr.

use std::path::{Path, PathBuf};

use crate::h5::H5Error;

/// One snapshot's particles, converted to kpc, km/s, Msun and Gyr.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// The file it came from (the first file of a multi-file snapshot).
    pub path: PathBuf,
    /// Position of this snapshot inside its file (NEMO files hold many), else 0.
    pub index: usize,
    /// Simulation time in Gyr (from the header, converted with the time unit).
    pub time_gyr: f64,
    /// \[n\] particle ids, when the file has them.
    pub ids: Option<Vec<u64>>,
    /// \[n,6\] x, y, z (kpc), vx, vy, vz (km/s).
    pub xv: Vec<f64>,
    /// \[n\] masses in Msun.
    pub masses: Vec<f64>,
    /// \[n\] particle type of each particle (Gadget's PartType number; 1 where a format has
    /// no types).
    pub types: Vec<u8>,
}

impl Snapshot {
    /// Number of particles.
    pub fn len(&self) -> usize {
        self.masses.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.masses.is_empty()
    }
}

/// A simulation's units, each as the number of project units per simulation unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitSystem {
    /// kpc per length unit.
    pub length_kpc: f64,
    /// km/s per velocity unit.
    pub velocity_kms: f64,
    /// Msun per mass unit.
    pub mass_msun: f64,
    /// Gyr per time unit.
    pub time_gyr: f64,
}

/// Command-line overrides of a file's units (`--length-unit` ...): any that is set wins.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UnitOverrides {
    pub length_kpc: Option<f64>,
    pub velocity_kms: Option<f64>,
    pub mass_msun: Option<f64>,
    pub time_gyr: Option<f64>,
}

impl UnitOverrides {
    /// `units` with every override that is set applied.
    pub fn apply(&self, units: UnitSystem) -> UnitSystem {
        UnitSystem {
            length_kpc: self.length_kpc.unwrap_or(units.length_kpc),
            velocity_kms: self.velocity_kms.unwrap_or(units.velocity_kms),
            mass_msun: self.mass_msun.unwrap_or(units.mass_msun),
            time_gyr: self.time_gyr.unwrap_or(units.time_gyr),
        }
    }
}

/// What to read from a snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadOptions {
    /// Particle types to keep (Gadget numbers 0..=5); `None` keeps all.
    pub types: Option<Vec<u8>>,
    /// Unit overrides.
    pub units: UnitOverrides,
}

impl ReadOptions {
    /// Whether particles of `ptype` are wanted.
    pub fn wants(&self, ptype: u8) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&ptype))
    }
}

/// Why a snapshot could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Operating-system error.
    #[error("file {}: {action}: {source}", file.display())]
    Io {
        file: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// HDF5-level problem (missing dataset, wrong shape, damaged file...).
    #[error(transparent)]
    Hdf5(#[from] H5Error),
    /// The content is not what the format requires.
    #[error("file {}: {object}: expected {expected}, found {found}", file.display())]
    Invalid {
        file: PathBuf,
        object: String,
        expected: String,
        found: String,
    },
    /// Not a snapshot format we know.
    #[error("file {}: not a snapshot (known: Gadget-2/3/4 and AREPO HDF5, SWIFT HDF5, NEMO, Gadget-2 binary): {detail}", file.display())]
    UnknownFormat { file: PathBuf, detail: String },
}

impl SnapshotError {
    /// An [`SnapshotError::Invalid`] naming `file`, `object`, what was expected and found.
    pub fn invalid(
        file: &Path,
        object: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        SnapshotError::Invalid {
            file: file.to_path_buf(),
            object: object.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// An [`SnapshotError::Io`] for `file`.
    pub fn io(file: &Path, action: &'static str, source: std::io::Error) -> Self {
        SnapshotError::Io {
            file: file.to_path_buf(),
            action,
            source,
        }
    }
}

/// Gadget particle type names and numbers: gas 0, halo/dm 1, disk 2, bulge 3, stars 4,
/// bndry/bh 5; a number is accepted as itself.
pub fn parse_particle_type(name: &str) -> Option<u8> {
    match name.trim().to_ascii_lowercase().as_str() {
        "gas" => Some(0),
        "halo" | "dm" | "darkmatter" | "dark-matter" => Some(1),
        "disk" | "disc" => Some(2),
        "bulge" => Some(3),
        "stars" | "star" => Some(4),
        "bndry" | "bh" | "boundary" => Some(5),
        n => n.parse::<u8>().ok().filter(|&t| t <= 5),
    }
}
