//! Gadget-2/3, Gadget-4 and AREPO HDF5 snapshots, single files and multi-file snapshots;
//! also the particle reading that SWIFT ([`super::swift`]) shares, since SWIFT keeps
//! Gadget's layout.
//!
//! Layout (Gadget-2 user guide §6.4, Gadget-4 user guide "Snapshot file format"):
//!
//! * `/Header` attributes `NumPart_ThisFile`, `NumPart_Total` (+ `NumPart_Total_HighWord`,
//!   the upper 32 bits, for codes that store 32-bit totals), `MassTable`, `Time` (the scale
//!   factor a in cosmological runs), `Redshift`, `NumFilesPerSnapshot`, `HubbleParam`,
//!   `Omega0`, `OmegaLambda`.
//! * `/PartTypeN/Coordinates` \[n,3\], `Velocities` \[n,3\], `ParticleIDs` \[n\], `Masses`
//!   \[n\] (absent for types whose mass is `MassTable[N]`), float32 or float64, 32- or
//!   64-bit ids.
//! * Units: `UnitLength_in_cm`, `UnitMass_in_g`, `UnitVelocity_in_cm_per_s` (and
//!   `UnitTime_in_s` where given) in `/Parameters` (Gadget-4), `/Header` (AREPO) or
//!   `/Units`; per-dataset `to_cgs`, `a_scaling`, `h_scaling`. Without any, Gadget's
//!   defaults (1 kpc/h, 1 km/s, 1e10 Msun/h) with one warning. See
//!   [`super::hdf5_units`] for the conversion.
//! * Cosmological runs: `ComovingIntegrationOn` in `/Parameters`, `/Header` or `/Config`
//!   where written; else (Gadget-2 headers) a run is taken as cosmological when
//!   `Time = 1 / (1 + Redshift)` and either Redshift > 0 or Omega0 > 0. Their time is the
//!   cosmic time at a = Time ([`super::hdf5_units::cosmic_time_gyr`]); other runs' time is
//!   `Time` in the time unit (length / velocity unless given).
//!
//! A multi-file snapshot (`snapdir_005/snapshot_005.N.hdf5`, `snap_010.N.hdf5`) is read
//! whole from any of its parts: all `NumFilesPerSnapshot` files, in order, checked against
//! `NumPart_Total`.

use std::path::{Path, PathBuf};

use super::hdf5_units::{self as units, Conventions, Cosmology, DatasetUnits, Quantity};
use crate::h5::{Dim, H5File};
use crate::snapshot::{ReadOptions, Snapshot, SnapshotError, UnitSystem};

/// Read the snapshot (all files of a multi-file snapshot), in kpc, km/s, Msun and Gyr.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    read_with(path, opts, gadget_meta)
}

/// Every file of the snapshot that `path` is part of, in order (just `path` for a single
/// file). A directory scan reads a multi-file snapshot once by keeping only paths that are
/// the first element of their own list.
pub fn part_files(path: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let f = H5File::open(path)?;
    parts_of(path, Header::read(&f)?.num_files)
}

/// The particle counts and constants of one file's `/Header`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    /// Particles of each type in this file.
    pub this_file: Vec<u64>,
    /// Particles of each type in the whole snapshot (high words folded in).
    pub total: Vec<u64>,
    /// Mass of each type where it is one constant (0 where `Masses` gives them).
    pub mass_table: Vec<f64>,
    /// Files of the snapshot.
    pub num_files: usize,
    /// `Time` (scale factor or time in code units).
    pub time: f64,
}

const HEADER: &str = "/Header";

impl Header {
    /// Reads and checks the header of `f`.
    pub fn read(f: &H5File) -> Result<Self, SnapshotError> {
        let this_file = f.attr_u64s(HEADER, "NumPart_ThisFile")?;
        let ntypes = this_file.len();
        let low = f.attr_u64s(HEADER, "NumPart_Total")?;
        let high = optional(f, "NumPart_Total_HighWord", |f, n| f.attr_u64s(HEADER, n))?;
        let mass_table = optional(f, "MassTable", |f, n| f.attr_f64s(HEADER, n))?;
        let num_files = optional(f, "NumFilesPerSnapshot", |f, n| f.attr_u64(HEADER, n))?.unwrap_or(1);
        let header = Header {
            total: fold_high_words(&low, high.as_deref()),
            mass_table: mass_table.unwrap_or_else(|| vec![0.0; ntypes]),
            num_files: usize::try_from(num_files).unwrap_or(usize::MAX),
            time: f.attr_f64(HEADER, "Time")?,
            this_file,
        };
        header.check(f.path(), high.map(|h| h.len()))?;
        Ok(header)
    }

    fn check(&self, file: &Path, high_len: Option<usize>) -> Result<(), SnapshotError> {
        let n = self.this_file.len();
        let attr = |name: &str| format!("attribute {name} of {HEADER}");
        let lengths = [
            ("NumPart_Total", Some(self.total.len())),
            ("NumPart_Total_HighWord", high_len),
            ("MassTable", Some(self.mass_table.len())),
        ];
        for (name, len) in lengths {
            match len {
                Some(len) if len < n => {
                    let expected = format!("{n} entries, one per type (as NumPart_ThisFile)");
                    return Err(SnapshotError::invalid(
                        file,
                        attr(name),
                        expected,
                        format!("{len}"),
                    ));
                }
                _ => {}
            }
        }
        if n == 0 || n > usize::from(u8::MAX) + 1 {
            return Err(SnapshotError::invalid(
                file,
                attr("NumPart_ThisFile"),
                "1 to 256 types",
                format!("{n}"),
            ));
        }
        if self.num_files == 0 || self.num_files > 1 << 20 {
            let found = format!("{}", self.num_files);
            return Err(SnapshotError::invalid(
                file,
                attr("NumFilesPerSnapshot"),
                "1 to 2^20 files",
                found,
            ));
        }
        if !self.time.is_finite() {
            return Err(SnapshotError::invalid(
                file,
                attr("Time"),
                "a finite number",
                format!("{}", self.time),
            ));
        }
        if let Some(t) = self.mass_table.iter().position(|m| !m.is_finite() || *m < 0.0) {
            let found = format!("{} for type {t}", self.mass_table[t]);
            return Err(SnapshotError::invalid(
                file,
                attr("MassTable"),
                "finite masses >= 0",
                found,
            ));
        }
        Ok(())
    }
}

/// Totals from `NumPart_Total` and `NumPart_Total_HighWord`: low + (high << 32) where the
/// low word fits 32 bits (Gadget-2/3, AREPO, SWIFT), the low value alone where it does not
/// (a 64-bit total, as Gadget-4 may write, is already whole).
fn fold_high_words(low: &[u64], high: Option<&[u64]>) -> Vec<u64> {
    low.iter()
        .enumerate()
        .map(|(t, &lo)| match high.and_then(|h| h.get(t)) {
            Some(&hi) if lo <= u64::from(u32::MAX) => lo.saturating_add(hi.saturating_mul(1 << 32)),
            _ => lo,
        })
        .collect()
}

/// An attribute of `/Header` that may be absent.
fn optional<T>(
    f: &H5File,
    name: &str,
    read: impl FnOnce(&H5File, &str) -> Result<T, crate::h5::H5Error>,
) -> Result<Option<T>, SnapshotError> {
    if f.attr_opt(HEADER, name)?.is_none() {
        return Ok(None);
    }
    Ok(Some(read(f, name)?))
}

/// How one snapshot's datasets become project units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta {
    /// The code's attribute names and conventions.
    pub conv: &'static Conventions,
    /// The file's unit system (or the format's defaults), before overrides.
    pub units: UnitSystem,
    /// a and h (1 and 1 for runs without expansion).
    pub cosmo: Cosmology,
    /// The snapshot's time in Gyr (overrides applied).
    pub time_gyr: f64,
}

/// The reader of a code's unit metadata: from the first file and its header.
pub(crate) type MetaReader = fn(&H5File, &Header, &ReadOptions) -> Result<Meta, SnapshotError>;

/// Reads the snapshot `path` belongs to, with the code's metadata reader `meta`.
pub(crate) fn read_with(
    path: &Path,
    opts: &ReadOptions,
    meta: MetaReader,
) -> Result<Vec<Snapshot>, SnapshotError> {
    let given = H5File::open(path)?;
    let given_header = Header::read(&given)?;
    let parts = parts_of(path, given_header.num_files)?;
    let mut cached = Some((given, given_header));
    let mut open_part = |i: usize| -> Result<(H5File, Header), SnapshotError> {
        match cached.take() {
            Some((f, h)) if parts[i] == path => Ok((f, h)),
            other => {
                cached = other;
                let f = open_part_file(&parts, i)?;
                let h = Header::read(&f)?;
                Ok((f, h))
            }
        }
    };
    let (first, first_header) = open_part(0)?;
    let meta = meta(&first, &first_header, opts)?;
    let mut particles = Particles::default();
    let mut counted = vec![0u64; first_header.this_file.len()];
    let mut next = Some((first, first_header.clone()));
    for i in 0..parts.len() {
        let (f, h) = match next.take() {
            Some(part) => part,
            None => open_part(i)?,
        };
        check_same_snapshot(&f, &h, &first_header, &parts[0])?;
        read_file(&f, &h, &meta, opts, &mut particles)?;
        add_counts(&mut counted, &h);
    }
    check_totals(&parts[0], parts.len(), &counted, &first_header.total)?;
    Ok(vec![particles.into_snapshot(&parts[0], meta.time_gyr)?])
}

fn add_counts(counted: &mut [u64], h: &Header) {
    for (c, n) in counted.iter_mut().zip(&h.this_file) {
        *c = c.saturating_add(*n);
    }
}

/// The files of a snapshot of `num_files` parts, `path` being one: `NAME.N.EXT` for N in
/// 0..num_files.
fn parts_of(path: &Path, num_files: usize) -> Result<Vec<PathBuf>, SnapshotError> {
    if num_files == 1 {
        return Ok(vec![path.to_path_buf()]);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let split = name.rsplit_once('.').and_then(|(rest, ext)| {
        let (base, index) = rest.rsplit_once('.')?;
        let index: usize = index
            .parse()
            .ok()
            .filter(|_| index.bytes().all(|b| b.is_ascii_digit()))?;
        Some((base, index, ext))
    });
    let Some((base, _, ext)) = split.filter(|&(_, i, _)| i < num_files) else {
        return Err(SnapshotError::invalid(
            path,
            "file name of a multi-file snapshot",
            format!("NAME.N.EXT with N in 0..{num_files} (NumFilesPerSnapshot = {num_files})"),
            format!("{name:?}"),
        ));
    };
    Ok((0..num_files)
        .map(|i| path.with_file_name(format!("{base}.{i}.{ext}")))
        .collect())
}

/// Opens part `i` of `parts`, saying which part of which snapshot is missing.
fn open_part_file(parts: &[PathBuf], i: usize) -> Result<H5File, SnapshotError> {
    let part = &parts[i];
    if !part.exists() {
        return Err(SnapshotError::invalid(
            part,
            "part of a multi-file snapshot",
            format!(
                "file {i} of the {} files (NumFilesPerSnapshot) of the snapshot {}",
                parts.len(),
                parts[0].display()
            ),
            "no such file",
        ));
    }
    Ok(H5File::open(part)?)
}

/// A part must belong to the same snapshot as the first: same file count, totals and time.
fn check_same_snapshot(
    f: &H5File,
    h: &Header,
    first: &Header,
    first_path: &Path,
) -> Result<(), SnapshotError> {
    let mismatch = |name: &str, expected: String, found: String| {
        let expected = format!("{expected}, as in {}", first_path.display());
        Err(SnapshotError::invalid(
            f.path(),
            format!("attribute {name} of {HEADER}"),
            expected,
            found,
        ))
    };
    if h.num_files != first.num_files {
        return mismatch(
            "NumFilesPerSnapshot",
            first.num_files.to_string(),
            h.num_files.to_string(),
        );
    }
    if h.total != first.total {
        return mismatch(
            "NumPart_Total",
            format!("{:?}", first.total),
            format!("{:?}", h.total),
        );
    }
    if h.time != first.time {
        return mismatch("Time", first.time.to_string(), h.time.to_string());
    }
    if h.this_file.len() != first.this_file.len() {
        let (e, n) = (first.this_file.len(), h.this_file.len());
        return mismatch("NumPart_ThisFile", format!("{e} types"), format!("{n} types"));
    }
    Ok(())
}

/// The files' `NumPart_ThisFile` must add up to `NumPart_Total`.
fn check_totals(first: &Path, files: usize, counted: &[u64], total: &[u64]) -> Result<(), SnapshotError> {
    if counted == &total[..counted.len()] {
        return Ok(());
    }
    Err(SnapshotError::invalid(
        first,
        format!("attribute NumPart_Total (with NumPart_Total_HighWord) of {HEADER}"),
        format!("the sum of NumPart_ThisFile over the {files} file(s) of the snapshot, {counted:?}"),
        format!("{:?}", &total[..counted.len()]),
    ))
}

/// Reads the wanted particle types of one file into `out`.
fn read_file(
    f: &H5File,
    h: &Header,
    meta: &Meta,
    opts: &ReadOptions,
    out: &mut Particles,
) -> Result<(), SnapshotError> {
    for (t, &n) in h.this_file.iter().enumerate() {
        // at most 256 types (Header::check), so t fits u8
        let t = u8::try_from(t).unwrap_or(u8::MAX);
        if n > 0 && opts.wants(t) {
            read_type(f, h, t, n, meta, opts, out)?;
        }
    }
    Ok(())
}

/// Reads `/PartType{t}` (n particles) of `f`.
fn read_type(
    f: &H5File,
    h: &Header,
    t: u8,
    n: u64,
    meta: &Meta,
    opts: &ReadOptions,
    out: &mut Particles,
) -> Result<(), SnapshotError> {
    let group = format!("/PartType{t}");
    if !f.has_group(&group) {
        let expected = format!("a group of {n} particles (NumPart_ThisFile[{t}] = {n})");
        return Err(SnapshotError::invalid(
            f.path(),
            format!("group {group}"),
            expected,
            "no such group",
        ));
    }
    let n = usize::try_from(n).map_err(|_| {
        SnapshotError::invalid(
            f.path(),
            format!("NumPart_ThisFile[{t}]"),
            "a count that fits memory",
            n.to_string(),
        )
    })?;
    let field = Field {
        f,
        group: &group,
        n,
        meta,
        opts,
    };
    let pos = field.read("Coordinates", 3, Quantity::Length)?;
    let vel = field.read("Velocities", 3, Quantity::Velocity)?;
    let masses = field.masses(h.mass_table[usize::from(t)], t)?;
    let ids_path = format!("{group}/ParticleIDs");
    let ids = if f.has_dataset(&ids_path) {
        Some(
            f.read_u64_shaped(&ids_path, &[Dim::Named("NumPart_ThisFile", n)])?
                .data,
        )
    } else {
        None
    };
    out.push(t, &group, &pos, &vel, ids, masses);
    Ok(())
}

/// Reads the datasets of one particle group, converted.
struct Field<'a> {
    f: &'a H5File,
    group: &'a str,
    n: usize,
    meta: &'a Meta,
    opts: &'a ReadOptions,
}

impl Field<'_> {
    /// The dataset `name` (\[n, columns\], or \[n\] for one column) in project units.
    fn read(&self, name: &str, columns: usize, q: Quantity) -> Result<Vec<f64>, SnapshotError> {
        let path = format!("{}/{name}", self.group);
        if !self.f.has_dataset(&path) {
            let expected = format!("a dataset of {} particles", self.n);
            return Err(SnapshotError::invalid(
                self.f.path(),
                format!("dataset {path}"),
                expected,
                "no such dataset",
            ));
        }
        let rows = Dim::Named("NumPart_ThisFile", self.n);
        let data = match columns {
            1 => self.f.read_f64_shaped(&path, &[rows])?,
            c => self.f.read_f64_shaped(&path, &[rows, Dim::Is(c)])?,
        }
        .data;
        let ds = DatasetUnits::read(self.f, &path, self.meta.conv)?;
        let scale = self.scale(&format!("dataset {path}"), q, &ds)?;
        units::scaled(self.f.path(), &path, data, scale, columns)
    }

    fn scale(&self, object: &str, q: Quantity, ds: &DatasetUnits) -> Result<f64, SnapshotError> {
        let m = self.meta;
        let s = units::field_scale(self.f.path(), object, q, ds, &m.units, m.conv, &self.opts.units)?;
        Ok(s.total(&m.cosmo))
    }

    /// `Masses` where present, else the type's `MassTable` entry for every particle.
    fn masses(&self, table: f64, t: u8) -> Result<Vec<f64>, SnapshotError> {
        let path = format!("{}/Masses", self.group);
        if self.f.has_dataset(&path) {
            return self.read("Masses", 1, Quantity::Mass);
        }
        if table > 0.0 {
            let object = format!("attribute MassTable[{t}] of {HEADER}");
            let scale = self.scale(&object, Quantity::Mass, &DatasetUnits::default())?;
            return Ok(vec![table * scale; self.n]);
        }
        Err(SnapshotError::invalid(
            self.f.path(),
            format!("dataset {path}"),
            format!("particle masses (MassTable[{t}] is 0, so each particle needs its own)"),
            "no such dataset",
        ))
    }
}

/// Particles gathered over types and files.
#[derive(Debug, Default)]
struct Particles {
    xv: Vec<f64>,
    masses: Vec<f64>,
    types: Vec<u8>,
    ids: Vec<u64>,
    /// A group that had `ParticleIDs` and one that had none (both set is an error).
    with_ids: Option<String>,
    without_ids: Option<String>,
}

impl Particles {
    fn push(
        &mut self,
        t: u8,
        group: &str,
        pos: &[f64],
        vel: &[f64],
        ids: Option<Vec<u64>>,
        masses: Vec<f64>,
    ) {
        for (x, v) in pos.chunks_exact(3).zip(vel.chunks_exact(3)) {
            self.xv.extend_from_slice(x);
            self.xv.extend_from_slice(v);
        }
        self.types.extend(std::iter::repeat_n(t, masses.len()));
        self.masses.extend(masses);
        match ids {
            Some(ids) => {
                self.ids.extend(ids);
                self.with_ids.get_or_insert_with(|| group.to_string());
            }
            None => {
                self.without_ids.get_or_insert_with(|| group.to_string());
            }
        }
    }

    fn into_snapshot(self, path: &Path, time_gyr: f64) -> Result<Snapshot, SnapshotError> {
        let ids = match (&self.with_ids, &self.without_ids) {
            (Some(with), Some(without)) => {
                return Err(SnapshotError::invalid(
                    path,
                    format!("dataset {without}/ParticleIDs"),
                    format!("particle ids in every group read (as in {with})"),
                    "no such dataset",
                ))
            }
            (None, Some(_)) => {
                log::warn!(
                    "{}: no ParticleIDs: particles can only be matched by order",
                    path.display()
                );
                None
            }
            _ => Some(self.ids),
        };
        Ok(Snapshot {
            path: path.to_path_buf(),
            index: 0,
            time_gyr,
            ids,
            xv: self.xv,
            masses: self.masses,
            types: self.types,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Gadget / AREPO metadata
// ---------------------------------------------------------------------------------------------

/// Where Gadget-4 (`Parameters`), AREPO (`Header`) and others (`Units`) keep unit and
/// cosmology attributes, in the order searched.
const META_GROUPS: [&str; 4] = ["/Parameters", "/Header", "/Units", "/Config"];

/// The number `name` from the first of [`META_GROUPS`] that has it.
fn meta_number(f: &H5File, name: &str) -> Result<Option<f64>, SnapshotError> {
    for g in META_GROUPS {
        if f.has_group(g) && f.attr_opt(g, name)?.is_some() {
            return Ok(Some(f.attr_f64(g, name)?));
        }
    }
    Ok(None)
}

/// Like [`meta_number`], but an error naming the groups searched when absent.
fn required_number(f: &H5File, name: &str, why: &str) -> Result<f64, SnapshotError> {
    meta_number(f, name)?.ok_or_else(|| {
        SnapshotError::invalid(
            f.path(),
            format!("attribute {name} of {}", META_GROUPS.join(", ")),
            format!("a number ({why})"),
            "no such attribute",
        )
    })
}

fn gadget_meta(f: &H5File, h: &Header, opts: &ReadOptions) -> Result<Meta, SnapshotError> {
    let file_units = gadget_units(f)?;
    let cosmo = gadget_cosmology(f, h)?;
    let time_gyr = match cosmo {
        Some(c) => {
            let why = "to turn the scale factor Time into cosmic time";
            let om = required_number(f, "Omega0", why)?;
            let ol = required_number(f, "OmegaLambda", why)?;
            units::cosmic_time_gyr(c.a, om, ol, c.h).ok_or_else(|| {
                let found = format!("a = {}, Omega0 = {om}, OmegaLambda = {ol}, h = {}", c.a, c.h);
                SnapshotError::invalid(
                    f.path(),
                    "cosmology of /Header",
                    "a model that reaches a = Time",
                    found,
                )
            })?
        }
        None => h.time * opts.units.time_gyr.unwrap_or(file_units.time_gyr),
    };
    Ok(Meta {
        conv: &units::GADGET,
        units: file_units,
        cosmo: cosmo.unwrap_or(Cosmology::STATIC),
        time_gyr,
    })
}

/// The unit system from `UnitLength_in_cm`, `UnitVelocity_in_cm_per_s`, `UnitMass_in_g`
/// (all three, or none: then Gadget's defaults, with a warning) and `UnitTime_in_s`.
fn gadget_units(f: &H5File) -> Result<UnitSystem, SnapshotError> {
    const NAMES: [&str; 3] = ["UnitLength_in_cm", "UnitVelocity_in_cm_per_s", "UnitMass_in_g"];
    let mut found = [None; 3];
    for (slot, name) in found.iter_mut().zip(NAMES) {
        *slot = meta_number(f, name)?;
    }
    let time_s = meta_number(f, "UnitTime_in_s")?;
    match found {
        [Some(l), Some(v), Some(m)] => Ok(units::unit_system_from_cgs(l, v, m, time_s)),
        [None, None, None] => {
            units::warn_no_units(f.path(), "Gadget", "1 kpc/h, 1 km/s, 1e10 Msun/h");
            Ok(units::gadget_default_units())
        }
        _ => {
            let missing: Vec<&str> = NAMES
                .iter()
                .zip(found)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            Err(SnapshotError::invalid(
                f.path(),
                format!("unit attributes of {}", META_GROUPS.join(", ")),
                "UnitLength_in_cm, UnitVelocity_in_cm_per_s and UnitMass_in_g together",
                format!("{} missing", missing.join(", ")),
            ))
        }
    }
}

/// a and h of a cosmological run, `None` for a run without comoving integration.
fn gadget_cosmology(f: &H5File, h: &Header) -> Result<Option<Cosmology>, SnapshotError> {
    let cosmological = match meta_number(f, "ComovingIntegrationOn")? {
        Some(flag) => flag != 0.0,
        None => looks_cosmological(f, h)?,
    };
    if !cosmological {
        return Ok(None);
    }
    let hubble = required_number(f, "HubbleParam", "comoving units are in h^-1")?;
    if !(h.time > 0.0 && hubble > 0.0 && hubble.is_finite()) {
        let found = format!("Time (a) = {}, HubbleParam = {hubble}", h.time);
        return Err(SnapshotError::invalid(
            f.path(),
            HEADER,
            "a > 0 and h > 0 in a cosmological run",
            found,
        ));
    }
    log::debug!(
        "{}: cosmological run, a = {}, h = {hubble}",
        f.path().display(),
        h.time
    );
    Ok(Some(Cosmology { a: h.time, h: hubble }))
}

/// Gadget-2 headers carry no ComovingIntegrationOn: a run is cosmological when Time is the
/// scale factor of Redshift, 1 / (1 + z) (to 1e-6), and either z > 0 or Omega0 > 0.
fn looks_cosmological(f: &H5File, h: &Header) -> Result<bool, SnapshotError> {
    let Some(z) = meta_number(f, "Redshift")? else {
        return Ok(false);
    };
    let consistent = z > -1.0 && (h.time * (1.0 + z) - 1.0).abs() < 1e-6;
    let omega_m = meta_number(f, "Omega0")?.unwrap_or(0.0);
    Ok(consistent && (z > 0.0 || omega_m > 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_words_fold_into_32_bit_totals_only() {
        let low = [5u64, u64::from(u32::MAX), 1 << 40];
        let high = [1u64, 2, 256];
        let t = fold_high_words(&low, Some(&high));
        assert_eq!(t, vec![5 + (1 << 32), u64::from(u32::MAX) + (2 << 32), 1 << 40]);
        assert_eq!(fold_high_words(&low, None), low.to_vec());
    }

    #[test]
    fn part_names() {
        let p = Path::new("/d/snapdir_005/snapshot_005.1.hdf5");
        let parts = parts_of(p, 3).unwrap();
        assert_eq!(parts[0], Path::new("/d/snapdir_005/snapshot_005.0.hdf5"));
        assert_eq!(parts[2], Path::new("/d/snapdir_005/snapshot_005.2.hdf5"));
        assert_eq!(
            parts_of(Path::new("snap.hdf5"), 1).unwrap(),
            vec![PathBuf::from("snap.hdf5")]
        );
        for bad in ["snap.hdf5", "snap_010.3.hdf5", "snap.x1.hdf5", "snap_010.+1.hdf5"] {
            let e = parts_of(Path::new(bad), 3).unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("NumFilesPerSnapshot = 3"), "{e}");
        }
    }
}
