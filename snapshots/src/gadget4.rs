//! Gadget-4-style HDF5 snapshots (`snap_XXX.hdf5`), as a simulation would write them.
//!
//! One file per snapshot, all particles of type 1 (collisionless), non-periodic,
//! non-cosmological. Layout:
//!
//! * `/Header` attributes: `NumPart_ThisFile`, `NumPart_Total` (u64\[6\], as Gadget-4),
//!   `NumPart_Total_HighWord` (u32\[6\], zeros: the totals are already 64-bit), `MassTable`
//!   (f64\[6\], zeros: masses are in `/PartType1/Masses`), `Time` (internal time unit, see
//!   below), `Redshift` 0, `NumFilesPerSnapshot` 1, `BoxSize` 0 (non-periodic), `Omega0`,
//!   `OmegaLambda` 0, `HubbleParam` 1, `Flag_DoublePrecision` 1.
//! * `/Parameters` attributes: `UnitLength_in_cm`, `UnitVelocity_in_cm_per_s`,
//!   `UnitMass_in_g`, `ComovingIntegrationOn` 0, `Omega0`, `OmegaLambda`, `HubbleParam`,
//!   `BoxSize`, `NumFilesPerSnapshot`.
//! * `/Config` attributes: `NTYPES` 6, `DOUBLEPRECISION` 1.
//! * `/PartType1/Coordinates` f64 \[n,3\] (kpc), `Velocities` f64 \[n,3\] (km/s),
//!   `ParticleIDs` u64 \[n\], `Masses` f64 \[n\] (Msun); each with Gadget-4's unit
//!   attributes (`to_cgs`, `length_scaling`, `velocity_scaling`, `mass_scaling`,
//!   `a_scaling` 0, `h_scaling` 0: physical, no little-h) and our `unit`.
//! * root attributes: `length_unit`, `velocity_unit`, `mass_unit`, `time_unit`, `time_gyr`,
//!   `component_order`, `source`.
//!
//! Units: the internal units are kpc, km/s and Msun ([`UNIT_LENGTH_IN_CM`],
//! [`UNIT_VELOCITY_IN_CM_PER_S`], [`UNIT_MASS_IN_G`]); with them Gadget's gravitational
//! constant is G = 4.300917e-6 kpc (km/s)^2 / Msun, the project's value, and its time unit is
//! kpc/(km/s) = 0.977792 Gyr ([`GYR_PER_TIME_UNIT`]). `Header/Time` is in that unit, as
//! Gadget writes it; the root attribute `time_gyr` gives the same time in Gyr.

use std::path::{Path, PathBuf};

use crate::h5::{H5Error, H5Writer};

/// One kpc in cm (IAU 2012 astronomical unit, IAU 2015 parsec).
pub const UNIT_LENGTH_IN_CM: f64 = 3.085_677_581_491_367e21;
/// One km/s in cm/s.
pub const UNIT_VELOCITY_IN_CM_PER_S: f64 = 1.0e5;
/// One solar mass in g (IAU 2015 nominal GM_sun divided by CODATA 2018 G, as astropy).
pub const UNIT_MASS_IN_G: f64 = 1.988_409_870_698_051e33;
/// The internal time unit kpc/(km/s) in Gyr (Julian years).
pub const GYR_PER_TIME_UNIT: f64 =
    UNIT_LENGTH_IN_CM / UNIT_VELOCITY_IN_CM_PER_S / (365.25 * 86_400.0 * 1.0e9);

/// The particle type all particles are written as.
const PART_TYPE: usize = 1;

/// One snapshot's particles, in the project's units.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotData<'a> {
    /// Simulation time in Gyr.
    pub time_gyr: f64,
    /// Particle ids, one per particle.
    pub ids: &'a [u64],
    /// Phase-space rows `x, y, z, vx, vy, vz` (kpc, km/s), 6 values per particle.
    pub xv: &'a [f64],
    /// Particle masses in Msun, one per particle.
    pub masses: &'a [f64],
}

impl SnapshotData<'_> {
    /// Number of particles (from `ids`).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no particles.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Checks that the slices agree and the values are finite; errors name `file`.
    fn validate(&self, file: &Path) -> Result<(), H5Error> {
        let n = self.ids.len();
        let part = |name: &str| format!("dataset /PartType{PART_TYPE}/{name}");
        if self.xv.len() != 6 * n {
            let expected = format!("{} values (6 per particle, {n} ids)", 6 * n);
            let found = format!("{} values", self.xv.len());
            return Err(H5Error::unexpected(file, part("Coordinates"), expected, found));
        }
        if self.masses.len() != n {
            let expected = format!("{n} masses (one per id)");
            let found = format!("{}", self.masses.len());
            return Err(H5Error::unexpected(file, part("Masses"), expected, found));
        }
        if let Some(i) = self.xv.iter().position(|v| !v.is_finite()) {
            let found = format!("{} for particle {}", self.xv[i], i / 6);
            return Err(H5Error::unexpected(
                file,
                part("Coordinates"),
                "finite x, v",
                found,
            ));
        }
        if let Some(i) = self.masses.iter().position(|m| !m.is_finite()) {
            let found = format!("{} for particle {i}", self.masses[i]);
            return Err(H5Error::unexpected(file, part("Masses"), "finite masses", found));
        }
        if !self.time_gyr.is_finite() {
            let found = format!("{}", self.time_gyr);
            return Err(H5Error::unexpected(
                file,
                "attribute Time of /Header",
                "a finite time",
                found,
            ));
        }
        Ok(())
    }
}

/// Gyr -> Gadget internal time unit kpc/(km/s).
pub fn gyr_to_internal(t_gyr: f64) -> f64 {
    t_gyr / GYR_PER_TIME_UNIT
}

/// Gadget internal time unit kpc/(km/s) -> Gyr.
pub fn internal_to_gyr(t: f64) -> f64 {
    t * GYR_PER_TIME_UNIT
}

/// Writes one snapshot file at `path`, particles in the order given.
pub fn write_snapshot(path: impl AsRef<Path>, snap: &SnapshotData<'_>) -> Result<(), H5Error> {
    let path = path.as_ref();
    snap.validate(path)?;
    let n = snap.len();
    let (x, v) = split_xv(snap.xv);
    let mut w = H5Writer::new();
    header(&mut w, n as u64, snap.time_gyr);
    parameters(&mut w);
    let g = format!("/PartType{PART_TYPE}");
    w.dataset(&format!("{g}/Coordinates"), x, &[n, 3])
        .dataset(&format!("{g}/Velocities"), v, &[n, 3])
        .dataset(&format!("{g}/ParticleIDs"), snap.ids, &[n])
        .dataset(&format!("{g}/Masses"), snap.masses, &[n]);
    dataset_units(&mut w, &g);
    w.write(path)
}

/// Splits rows of 6 into positions and velocities, rows of 3 each.
fn split_xv(xv: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut x = Vec::with_capacity(xv.len() / 2);
    let mut v = Vec::with_capacity(xv.len() / 2);
    for row in xv.chunks_exact(6) {
        x.extend_from_slice(&row[..3]);
        v.extend_from_slice(&row[3..]);
    }
    (x, v)
}

fn header(w: &mut H5Writer<'_>, n: u64, time_gyr: f64) {
    let mut npart = [0u64; 6];
    npart[PART_TYPE] = n;
    let h = "/Header";
    w.attr(h, "NumPart_ThisFile", npart)
        .attr(h, "NumPart_Total", npart)
        .attr(h, "NumPart_Total_HighWord", [0u32; 6])
        .attr(h, "MassTable", [0.0f64; 6])
        .attr(h, "Time", gyr_to_internal(time_gyr))
        .attr(h, "Redshift", 0.0)
        .attr(h, "Flag_DoublePrecision", 1i32);
    single_file_non_cosmological(w, h);
    w.attr("/", "length_unit", "kpc")
        .attr("/", "velocity_unit", "km/s")
        .attr("/", "mass_unit", "Msun")
        .attr("/", "time_unit", "kpc/(km/s) = 0.977792 Gyr (Header/Time)")
        .attr("/", "time_gyr", time_gyr)
        .attr(
            "/",
            "component_order",
            "x,y,z (Coordinates), vx,vy,vz (Velocities)",
        )
        .attr("/", "source", concat!("actionfinder ", env!("CARGO_PKG_VERSION")));
}

/// The attributes Gadget-4 repeats in `/Header` and `/Parameters` for a non-cosmological
/// run written as one file per snapshot: no expansion (Omega0 = OmegaLambda = 0,
/// HubbleParam = 1), open boundaries (BoxSize = 0), NumFilesPerSnapshot = 1.
fn single_file_non_cosmological(w: &mut H5Writer<'_>, group: &str) {
    w.attr(group, "NumFilesPerSnapshot", 1i32)
        .attr(group, "BoxSize", 0.0)
        .attr(group, "Omega0", 0.0)
        .attr(group, "OmegaLambda", 0.0)
        .attr(group, "HubbleParam", 1.0);
}

fn parameters(w: &mut H5Writer<'_>) {
    let p = "/Parameters";
    w.attr(p, "UnitLength_in_cm", UNIT_LENGTH_IN_CM)
        .attr(p, "UnitVelocity_in_cm_per_s", UNIT_VELOCITY_IN_CM_PER_S)
        .attr(p, "UnitMass_in_g", UNIT_MASS_IN_G)
        .attr(p, "ComovingIntegrationOn", 0i32);
    single_file_non_cosmological(w, p);
    w.attr("/Config", "NTYPES", 6i32)
        .attr("/Config", "DOUBLEPRECISION", 1i32);
}

/// Gadget-4's per-dataset unit attributes, plus our plain `unit`.
fn dataset_units(w: &mut H5Writer<'_>, group: &str) {
    // (name, unit, to_cgs, length, velocity, mass exponents)
    let table: [(&str, &str, f64, f64, f64, f64); 4] = [
        ("Coordinates", "kpc", UNIT_LENGTH_IN_CM, 1.0, 0.0, 0.0),
        ("Velocities", "km/s", UNIT_VELOCITY_IN_CM_PER_S, 0.0, 1.0, 0.0),
        ("ParticleIDs", "dimensionless", 0.0, 0.0, 0.0, 0.0),
        ("Masses", "Msun", UNIT_MASS_IN_G, 0.0, 0.0, 1.0),
    ];
    for (name, unit, to_cgs, length, velocity, mass) in table {
        let path = format!("{group}/{name}");
        w.attr(&path, "unit", unit)
            .attr(&path, "to_cgs", to_cgs)
            .attr(&path, "length_scaling", length)
            .attr(&path, "velocity_scaling", velocity)
            .attr(&path, "mass_scaling", mass)
            .attr(&path, "a_scaling", 0.0)
            .attr(&path, "h_scaling", 0.0);
    }
}

/// The file name of snapshot `k`: `snap_000.hdf5`, `snap_001.hdf5`, ... (at least three
/// digits, as Gadget).
pub fn snapshot_file_name(k: usize) -> String {
    format!("snap_{k:03}.hdf5")
}

/// Writes `snaps` as `dir/snap_000.hdf5`, `dir/snap_001.hdf5`, ... (creating `dir`), each
/// with its particles in a different order, as a simulation's domain decomposition would
/// leave them: snapshot `k` is shuffled by [`permutation`]`(n, seed, k)`. Returns the paths.
pub fn write_snapshot_dir(
    dir: impl AsRef<Path>,
    snaps: &[SnapshotData<'_>],
    seed: u64,
) -> Result<Vec<PathBuf>, H5Error> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|source| H5Error::Io {
        file: dir.to_path_buf(),
        action: "cannot create snapshot directory",
        source,
    })?;
    let mut paths = Vec::with_capacity(snaps.len());
    for (k, snap) in snaps.iter().enumerate() {
        let path = dir.join(snapshot_file_name(k));
        snap.validate(&path)?;
        let perm = permutation(snap.len(), seed, k as u64);
        let shuffled = Shuffled::new(snap, &perm);
        write_snapshot(&path, &shuffled.view(snap.time_gyr))?;
        paths.push(path);
    }
    Ok(paths)
}

/// A snapshot's particles reordered by a permutation.
struct Shuffled {
    ids: Vec<u64>,
    xv: Vec<f64>,
    masses: Vec<f64>,
}

impl Shuffled {
    /// Row `i` of the result is row `perm[i]` of `snap` (slices already validated).
    fn new(snap: &SnapshotData<'_>, perm: &[usize]) -> Self {
        let ids = perm.iter().map(|&j| snap.ids[j]).collect();
        let masses = perm.iter().map(|&j| snap.masses[j]).collect();
        let xv = perm
            .iter()
            .flat_map(|&j| snap.xv[6 * j..6 * j + 6].iter().copied())
            .collect();
        Self { ids, xv, masses }
    }

    fn view(&self, time_gyr: f64) -> SnapshotData<'_> {
        SnapshotData {
            time_gyr,
            ids: &self.ids,
            xv: &self.xv,
            masses: &self.masses,
        }
    }
}

/// A permutation of `0..n`, determined by `(seed, stream)`: a Fisher–Yates shuffle driven
/// by a PCG-XSH-RR 64/32 generator (local, so this crate needs no random-number crate).
pub fn permutation(n: usize, seed: u64, stream: u64) -> Vec<usize> {
    let mut rng = Pcg32::new(seed, stream);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        perm.swap(i, j);
    }
    perm
}

/// PCG-XSH-RR 64/32 (O'Neill 2014), the reference `pcg32` generator.
struct Pcg32 {
    state: u64,
    inc: u64,
}

impl Pcg32 {
    const MULT: u64 = 6_364_136_223_846_793_005;

    fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Self {
            state: 0,
            inc: (stream << 1) | 1,
        };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed);
        rng.next_u32();
        rng
    }

    fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MULT).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }

    /// Uniform in `0..bound` (bound > 0), unbiased by rejection.
    fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let r = self.next_u64();
            if r < zone {
                return r % bound;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg32_matches_reference_sequence() {
        // pcg32_srandom(42, 54) from the PCG reference demo: first outputs.
        let mut rng = Pcg32::new(42, 54);
        let got: Vec<u32> = (0..6).map(|_| rng.next_u32()).collect();
        let want = [
            0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn permutation_is_a_permutation_and_depends_on_stream() {
        let p0 = permutation(1000, 7, 0);
        let p1 = permutation(1000, 7, 1);
        let mut sorted = p0.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert_ne!(p0, p1);
        assert_eq!(p0, permutation(1000, 7, 0));
        assert!(permutation(0, 1, 2).is_empty());
        assert_eq!(permutation(1, 1, 2), vec![0]);
    }

    #[test]
    fn time_unit_is_0_977792_gyr() {
        assert!((GYR_PER_TIME_UNIT - 0.977_792_221).abs() < 1e-9);
        assert!((internal_to_gyr(gyr_to_internal(1.25)) - 1.25).abs() < 1e-15);
    }

    #[test]
    fn units_give_the_projects_g() {
        let g_cgs = 6.674_30e-8;
        let g = g_cgs * UNIT_MASS_IN_G / (UNIT_LENGTH_IN_CM * UNIT_VELOCITY_IN_CM_PER_S.powi(2));
        assert!((g / 4.300_917_270e-6 - 1.0).abs() < 1e-9, "G = {g}");
    }
}
