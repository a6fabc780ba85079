//! Gadget-2 unformatted binary snapshots, SnapFormat 1 and 2 (Springel 2005, MNRAS 364,
//! 1105; the Gadget-2 user guide, section 6).
//!
//! # The format
//! Every block is a Fortran record: a 4-byte length n, n bytes, the same length again.
//! SnapFormat 1 has the blocks in a fixed order: `HEAD` (256 bytes), `POS` (\[N,3\] float or
//! double), `VEL` (same), `ID` (\[N\] 4- or 8-byte ints), `MASS` (only for the types whose
//! mass-table entry is 0), then gas blocks we do not read. SnapFormat 2 puts before each
//! block an 8-byte record holding its 4-character label (`HEAD`, `POS `, `VEL `, `ID  `,
//! `MASS`) and the next block's size; we find the blocks by label. The byte order is the
//! one in which the first record length reads 256 (format 1) or 8 (format 2); float or
//! double and 4- or 8-byte ids follow from the block sizes. Particles are ordered by type
//! 0..5 within a file, and file by file in a multi-file snapshot.
//!
//! The header: `npart[6]` (i32, this file), `mass[6]` (f64, the mass table), `time`,
//! `redshift` (f64), `flag_sfr`, `flag_feedback` (i32), `npartTotal[6]` (u32), `flag_cooling`,
//! `num_files` (i32), `BoxSize`, `Omega0`, `OmegaLambda`, `HubbleParam` (f64),
//! `flag_stellarage`, `flag_metals` (i32), `npartTotalHighWord[6]` (u32), padding to 256.
//! A snapshot written as `num_files` > 1 files `snapshot_XXX.0`, `.1`, ... is read whole
//! from its `.0` file; the totals are `npartTotal + 2^32 npartTotalHighWord`.
//!
//! # Units
//! The files carry none; we assume Gadget's defaults and warn once: length 1 kpc/h, mass
//! 1e10 Msun/h, velocity 1 km/s, time unit = length / velocity. As for Gadget-2 HDF5 headers
//! ([`super::gadget_hdf5`]), a run is comoving when `Time = 1 / (1 + Redshift)` and either
//! Redshift > 0 or `Omega0 > 0` (Gadget-2 writes `Redshift = 0` when
//! `ComovingIntegrationOn = 0`); then `Time` is the scale factor a, and
//! - positions are comoving: x_phys = a x / h kpc;
//! - velocities are u = v_pec / sqrt(a) (Gadget's convention): v_pec = sqrt(a) u km/s;
//! - masses m / h (1e10 Msun);
//! - the time is the cosmic time at a ([`super::hdf5_units::cosmic_time_gyr`], Hogg 1999
//!   eq. 30, H0 = 100 h km/s/Mpc).
//!
//! In a non-comoving run Gadget-2 never uses h (H0 enters only the comoving equations), so
//! lengths are read as 1 kpc and masses as 1e10 Msun, and `Time` is a time. A
//! non-comoving snapshot at exactly `Time = 1` with `Omega0 > 0` in its header cannot be
//! told from a comoving one at z = 0; it is read as comoving, with a warning.
//! `--length-unit` etc. replace the whole factor per code unit (h included); a and sqrt(a)
//! still apply to comoving runs, and `--time-unit` makes `Time` a time in that unit.

use std::path::{Path, PathBuf};

use super::binary::{self, Cursor, Endian, Num};
use super::hdf5_units::{self as units, Cosmology};
use crate::snapshot::{ReadOptions, Snapshot, SnapshotError};

/// Bytes of the header block.
const HEADER_BYTES: usize = 256;
/// Gadget's particle types.
const NTYPES: usize = 6;

/// Whether the first bytes of a file look like this format: a first record of 256 bytes
/// whose particle counts are not negative (SnapFormat 1), or an 8-byte record labelled
/// `HEAD` (SnapFormat 2), in either byte order.
pub fn sniff(head: &[u8]) -> bool {
    Endian::BOTH.into_iter().any(|e| {
        let mut c = Cursor::new(head, e);
        match c.read::<u32>() {
            Ok(256) => (0..NTYPES).all(|_| c.read::<i32>().is_ok_and(|n| n >= 0)),
            Ok(8) => c.take(4) == Ok(b"HEAD") && c.read::<u32>().is_ok() && c.read::<u32>() == Ok(8),
            _ => false,
        }
    })
}

/// Read the snapshot: one, from all its files when `num_files` > 1 (given the `.0` file).
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    let mut all = parse(path, &binary::read_file(path)?, opts)?;
    let files = all.header.num_files;
    if files > 1 {
        let base = first_part_base(path, files)?;
        for k in 1..files {
            let part_path = base.with_file_name(format!("{}.{k}", file_name(&base)));
            let part = parse(&part_path, &binary::read_file(&part_path)?, opts)?;
            all.append(&part_path, part)?;
        }
        all.check_totals(path)?;
    }
    Ok(vec![all.into_snapshot(path)])
}

/// Read a single-file snapshot from its bytes; `path` names it in messages.
pub fn read_bytes(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    let part = parse(path, bytes, opts)?;
    if part.header.num_files > 1 {
        return Err(SnapshotError::invalid(
            path,
            "Gadget-2 header num_files",
            "1 (a multi-file snapshot is read from its .0 file on disk)",
            part.header.num_files.to_string(),
        ));
    }
    Ok(vec![part.into_snapshot(path)])
}

/// The Gadget-2 header fields we use.
#[derive(Clone, Debug, Default, PartialEq)]
struct Header {
    npart: [usize; NTYPES],
    mass: [f64; NTYPES],
    time: f64,
    redshift: f64,
    total: [u64; NTYPES],
    num_files: usize,
    omega0: f64,
    omega_lambda: f64,
    hubble: f64,
}

impl Header {
    fn parse(path: &Path, block: &[u8], endian: Endian) -> Result<Header, SnapshotError> {
        if block.len() != HEADER_BYTES {
            return Err(bad_header(path, "block size", "256 bytes", block.len()));
        }
        let short = |s: binary::Short| s.error(path, "Gadget-2 block HEAD");
        let mut c = Cursor::new(block, endian);
        let mut npart = [0usize; NTYPES];
        for n in npart.iter_mut() {
            let v: i32 = c.read().map_err(short)?;
            *n = usize::try_from(v).map_err(|_| bad_header(path, "npart", "counts >= 0", v))?;
        }
        let mut mass = [0f64; NTYPES];
        for m in mass.iter_mut() {
            *m = c.read().map_err(short)?;
            if !(m.is_finite() && *m >= 0.0) {
                return Err(bad_header(path, "mass", "finite masses >= 0", *m));
            }
        }
        let (time, redshift): (f64, f64) = (c.read().map_err(short)?, c.read().map_err(short)?);
        c.take(8).map_err(short)?; // flag_sfr, flag_feedback
        let mut low = [0u32; NTYPES];
        for n in low.iter_mut() {
            *n = c.read().map_err(short)?;
        }
        c.take(4).map_err(short)?; // flag_cooling
        let files: i32 = c.read().map_err(short)?;
        c.take(8).map_err(short)?; // BoxSize
        let (omega0, omega_lambda, hubble) = (
            c.read().map_err(short)?,
            c.read().map_err(short)?,
            c.read().map_err(short)?,
        );
        c.take(8).map_err(short)?; // flag_stellarage, flag_metals
        let mut total = [0u64; NTYPES];
        for (t, lo) in total.iter_mut().zip(low) {
            *t = (u64::from(c.read::<u32>().map_err(short)?) << 32) | u64::from(lo);
        }
        if !time.is_finite() {
            return Err(bad_header(path, "time", "a finite number", time));
        }
        // Some initial-condition writers leave num_files at 0: one file.
        let num_files = usize::try_from(files.max(1)).unwrap_or(1);
        if files < 0 {
            return Err(bad_header(path, "num_files", "a count >= 0", files));
        }
        Ok(Header {
            npart,
            mass,
            time,
            redshift,
            total,
            num_files,
            omega0,
            omega_lambda,
            hubble,
        })
    }

    /// Particles in this file.
    fn count(&self) -> usize {
        self.npart.iter().sum()
    }

    /// Particles of the types whose masses are in the MASS block.
    fn count_with_mass_block(&self) -> usize {
        self.npart
            .iter()
            .zip(self.mass)
            .filter(|(_, m)| *m == 0.0)
            .map(|(n, _)| n)
            .sum()
    }

    /// a and h when `Time` is a scale factor (see the module help), like the Gadget-2 HDF5
    /// reader decides it.
    fn cosmology(&self, path: &Path) -> Result<Option<Cosmology>, SnapshotError> {
        let (a, z) = (self.time, self.redshift);
        let consistent = z > -1.0 && (a * (1.0 + z) - 1.0).abs() < 1e-6;
        if !(consistent && (z > 0.0 || self.omega0 > 0.0)) {
            return Ok(None);
        }
        if !(a > 0.0 && self.hubble > 0.0 && self.hubble.is_finite()) {
            let found = format!("Time (a) = {a}, HubbleParam = {}", self.hubble);
            return Err(bad_header(
                path,
                "Time, HubbleParam",
                "a > 0 and h > 0 in a comoving run",
                found,
            ));
        }
        if a == 1.0 && z == 0.0 {
            log::warn!(
                "{}: Time = 1, Redshift = 0, Omega0 = {} > 0: read as a comoving run at z = 0 (a \
                 non-comoving run at t = 1 looks the same)",
                path.display(),
                self.omega0
            );
        }
        Ok(Some(Cosmology { a, h: self.hubble }))
    }
}

fn bad_header(path: &Path, field: &str, expected: &str, found: impl std::fmt::Display) -> SnapshotError {
    SnapshotError::invalid(
        path,
        format!("Gadget-2 header {field}"),
        expected,
        found.to_string(),
    )
}

/// The blocks we read, as byte slices of the file.
#[derive(Default)]
struct Blocks<'a> {
    head: Option<&'a [u8]>,
    pos: Option<&'a [u8]>,
    vel: Option<&'a [u8]>,
    ids: Option<&'a [u8]>,
    mass: Option<&'a [u8]>,
}

impl<'a> Blocks<'a> {
    fn slot(&mut self, label: &[u8]) -> Option<&mut Option<&'a [u8]>> {
        match label {
            b"HEAD" => Some(&mut self.head),
            b"POS " => Some(&mut self.pos),
            b"VEL " => Some(&mut self.vel),
            b"ID  " => Some(&mut self.ids),
            b"MASS" => Some(&mut self.mass),
            _ => None,
        }
    }
}

/// The payload of the Fortran record at the cursor, its two length markers checked.
fn record<'a>(path: &Path, c: &mut Cursor<'a>, name: &str) -> Result<&'a [u8], SnapshotError> {
    let at = c.offset();
    let object = || format!("Gadget-2 block {name} (record at byte {at})");
    let short = |s: binary::Short| s.error(path, object());
    let n: u32 = c.read().map_err(short)?;
    let data = c.take(n as usize).map_err(short)?;
    let end: u32 = c.read().map_err(short)?;
    if end != n {
        let expected = format!("an end marker equal to the start marker {n}");
        return Err(SnapshotError::invalid(path, object(), expected, end.to_string()));
    }
    Ok(data)
}

/// Byte order and SnapFormat (true for 2) from the first record marker.
fn layout(path: &Path, bytes: &[u8]) -> Result<(Endian, bool), SnapshotError> {
    for e in Endian::BOTH {
        match Cursor::new(bytes, e).read::<u32>() {
            Ok(256) => return Ok((e, false)),
            Ok(8) => return Ok((e, true)),
            _ => {}
        }
    }
    let found = format!("{:02x?}", bytes.get(..4).unwrap_or(bytes));
    let expected = "a first record marker 256 (SnapFormat 1) or 8 (SnapFormat 2), either byte order";
    Err(SnapshotError::invalid(
        path,
        "Gadget-2 first record",
        expected,
        found,
    ))
}

/// SnapFormat 1: HEAD, POS, VEL, ID, then MASS when some type needs it; later records are
/// only checked for framing.
fn blocks_format1<'a>(path: &Path, c: &mut Cursor<'a>) -> Result<Blocks<'a>, SnapshotError> {
    let mut b = Blocks {
        head: Some(record(path, c, "HEAD")?),
        ..Blocks::default()
    };
    let header = Header::parse(path, b.head.unwrap_or_default(), c.endian)?;
    b.pos = Some(record(path, c, "POS")?);
    b.vel = Some(record(path, c, "VEL")?);
    b.ids = Some(record(path, c, "ID")?);
    if header.count_with_mass_block() > 0 {
        b.mass = Some(record(path, c, "MASS")?);
    }
    for k in 1.. {
        if c.is_empty() {
            break;
        }
        record(path, c, &format!("#{k} after ID/MASS"))?;
    }
    Ok(b)
}

/// SnapFormat 2: label records (4 characters and the next size) before each block.
fn blocks_format2<'a>(path: &Path, c: &mut Cursor<'a>) -> Result<Blocks<'a>, SnapshotError> {
    let mut b = Blocks::default();
    while !c.is_empty() {
        let at = c.offset();
        let label = record(path, c, "label")?;
        let name = String::from_utf8_lossy(label.get(..4).unwrap_or(label)).into_owned();
        if label.len() != 8 {
            let object = format!("Gadget-2 label record at byte {at}");
            return Err(SnapshotError::invalid(
                path,
                object,
                "8 bytes",
                label.len().to_string(),
            ));
        }
        let data = record(path, c, name.trim_end())?;
        if let Some(slot) = b.slot(label.get(..4).unwrap_or_default()) {
            slot.get_or_insert(data);
        }
    }
    Ok(b)
}

/// One file's particles (or a whole snapshot's) in the project's units, filtered by type.
#[derive(Default)]
struct Part {
    header: Header,
    time_gyr: f64,
    ids: Vec<u64>,
    /// \[n,6\] kpc and km/s.
    xv: Vec<f64>,
    masses: Vec<f64>,
    types: Vec<u8>,
}

/// Bytes per element of a block of `count` elements of `len` bytes: 4 or 8.
fn width(path: &Path, block: &str, len: usize, count: usize) -> Result<usize, SnapshotError> {
    if count == 0 && len == 0 {
        return Ok(4);
    }
    [4usize, 8]
        .into_iter()
        .find(|w| count.checked_mul(*w) == Some(len))
        .ok_or_else(|| {
            let expected = format!("4 or 8 bytes for each of {count} numbers");
            SnapshotError::invalid(
                path,
                format!("Gadget-2 block {block}"),
                expected,
                format!("{len} bytes"),
            )
        })
}

fn required<'a>(path: &Path, block: Option<&'a [u8]>, name: &str) -> Result<&'a [u8], SnapshotError> {
    block.ok_or_else(|| SnapshotError::invalid(path, format!("Gadget-2 block {name}"), "this block", "none"))
}

fn float_kind(w: usize) -> Num {
    if w == 8 {
        Num::F64
    } else {
        Num::F32
    }
}

/// Parse one file of a snapshot, converting to the project's units.
fn parse(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Part, SnapshotError> {
    let (endian, format2) = layout(path, bytes)?;
    let mut c = Cursor::new(bytes, endian);
    let b = if format2 {
        blocks_format2(path, &mut c)?
    } else {
        blocks_format1(path, &mut c)?
    };
    let header = Header::parse(path, required(path, b.head, "HEAD")?, endian)?;
    let conv = Conversion::new(path, &header, opts)?;
    let n = header.count();
    let pos = required(path, b.pos, "POS")?;
    let vel = required(path, b.vel, "VEL")?;
    let fw = width(path, "POS", pos.len(), n.saturating_mul(3))?;
    if vel.len() != pos.len() {
        let expected = format!("{} bytes, as POS", pos.len());
        return Err(SnapshotError::invalid(
            path,
            "Gadget-2 block VEL",
            expected,
            vel.len().to_string(),
        ));
    }
    let ids_bytes = required(path, b.ids, "ID")?;
    let iw = width(path, "ID", ids_bytes.len(), n)?;
    let ids =
        binary::integers(ids_bytes, if iw == 8 { Num::U64 } else { Num::U32 }, endian).unwrap_or_default();
    let n_var = header.count_with_mass_block();
    let var_masses = match n_var {
        0 => Vec::new(),
        _ => {
            let m = required(path, b.mass, "MASS")?;
            let raw = binary::floats(m, float_kind(width(path, "MASS", m.len(), n_var)?), endian);
            units::scaled(path, "MASS (block)", raw, conv.mass, 1)?
        }
    };
    let mut part = Part {
        header,
        time_gyr: conv.time_gyr,
        ..Part::default()
    };
    let blocks = Particles {
        pos,
        vel,
        float: float_kind(fw),
        endian,
        ids: &ids,
        var_masses: &var_masses,
    };
    part.select(&blocks, &conv, opts);
    part.xv = units::scaled(path, "POS and VEL (blocks)", std::mem::take(&mut part.xv), 1.0, 6)?;
    Ok(part)
}

/// A file's particle blocks, decoded where small (ids, masses), raw where large.
struct Particles<'a> {
    pos: &'a [u8],
    vel: &'a [u8],
    float: Num,
    endian: Endian,
    ids: &'a [u64],
    /// The MASS block in Msun.
    var_masses: &'a [f64],
}

impl Part {
    /// Add the particles of the wanted types in kpc, km/s and Msun, masses from the table or
    /// the MASS block.
    fn select(&mut self, b: &Particles<'_>, conv: &Conversion, opts: &ReadOptions) {
        let row = 3 * b.float.width();
        let (mut first, mut first_var) = (0usize, 0usize);
        for t in 0..NTYPES {
            let (k, table) = (self.header.npart[t], self.header.mass[t]);
            let range = first..first + k;
            if opts.wants(t as u8) {
                let rows = row * range.start..row * range.end;
                let pos_vel = (
                    b.pos.get(rows.clone()).unwrap_or_default(),
                    b.vel.get(rows).unwrap_or_default(),
                );
                let scales = (conv.length, conv.velocity);
                binary::decode_xv(&mut self.xv, pos_vel, b.float, b.endian, scales);
                self.ids
                    .extend_from_slice(b.ids.get(range.clone()).unwrap_or_default());
                if table == 0.0 {
                    self.masses
                        .extend_from_slice(b.var_masses.get(first_var..first_var + k).unwrap_or_default());
                } else {
                    self.masses.extend(std::iter::repeat_n(table * conv.mass, k));
                }
                self.types.extend(std::iter::repeat_n(t as u8, k));
            }
            first += k;
            first_var += if table == 0.0 { k } else { 0 };
        }
    }

    /// Add the particles of another file of the same snapshot.
    fn append(&mut self, path: &Path, other: Part) -> Result<(), SnapshotError> {
        let (a, b) = (&self.header, &other.header);
        let same = a.time == b.time && a.mass == b.mass && a.num_files == b.num_files && a.total == b.total;
        if !same {
            let expected = format!(
                "the time {}, mass table {:?}, num_files {} and totals {:?} of the first file",
                a.time, a.mass, a.num_files, a.total
            );
            let found = format!("{}, {:?}, {}, {:?}", b.time, b.mass, b.num_files, b.total);
            return Err(SnapshotError::invalid(path, "Gadget-2 header", expected, found));
        }
        for (n, m) in self.header.npart.iter_mut().zip(other.header.npart) {
            *n = n.saturating_add(m);
        }
        self.ids.extend(other.ids);
        self.xv.extend(other.xv);
        self.masses.extend(other.masses);
        self.types.extend(other.types);
        Ok(())
    }

    /// The particle counts of all files add up to the header's totals.
    fn check_totals(&self, path: &Path) -> Result<(), SnapshotError> {
        let sums: Vec<u64> = self.header.npart.iter().map(|&n| n as u64).collect();
        if sums == self.header.total {
            return Ok(());
        }
        let expected = format!("npartTotal (+ 2^32 npartTotalHighWord) = {:?}", self.header.total);
        Err(SnapshotError::invalid(
            path,
            "Gadget-2 particle counts of all files",
            expected,
            format!("{sums:?}"),
        ))
    }

    fn into_snapshot(self, path: &Path) -> Snapshot {
        Snapshot {
            path: path.to_path_buf(),
            index: 0,
            time_gyr: self.time_gyr,
            ids: Some(self.ids),
            xv: self.xv,
            masses: self.masses,
            types: self.types,
        }
    }
}

/// Project units per code unit of a file, a and h included (see the module help).
struct Conversion {
    length: f64,
    velocity: f64,
    mass: f64,
    time_gyr: f64,
}

impl Conversion {
    fn new(path: &Path, h: &Header, opts: &ReadOptions) -> Result<Conversion, SnapshotError> {
        let cosmo = h.cosmology(path)?;
        let (a, per_h) = cosmo.map_or((1.0, 1.0), |c| (c.a, 1.0 / c.h));
        let (o, d) = (&opts.units, units::gadget_default_units());
        let length = o.length_kpc.unwrap_or(d.length_kpc * per_h);
        let velocity = o.velocity_kms.unwrap_or(d.velocity_kms);
        let time_unit = o.time_gyr.unwrap_or(binary::time_unit_gyr(length, velocity));
        let time_gyr = match (cosmo, o.time_gyr) {
            (Some(c), None) => {
                units::cosmic_time_gyr(c.a, h.omega0, h.omega_lambda, c.h).ok_or_else(|| {
                    let found = format!("Omega0 {}, OmegaLambda {}, a {}", h.omega0, h.omega_lambda, c.a);
                    bad_header(path, "cosmology", "a model that reached a = Time", found)
                })?
            }
            _ => h.time * time_unit,
        };
        if [o.length_kpc, o.velocity_kms, o.mass_msun, o.time_gyr]
            .iter()
            .any(Option::is_none)
        {
            let defaults = match cosmo {
                Some(c) => format!("comoving run, a = {}, h = {}: kpc/h, km/s, 1e10 Msun/h", c.a, c.h),
                None => "non-comoving run: kpc, km/s, 1e10 Msun, no h".to_string(),
            };
            units::warn_no_units(path, "Gadget-2", &defaults);
        }
        Ok(Conversion {
            length: a * length,
            velocity: a.sqrt() * velocity,
            mass: o.mass_msun.unwrap_or(d.mass_msun * per_h),
            time_gyr,
        })
    }
}

/// The path `dir/stem` of a multi-file snapshot named `dir/stem.0`; an error for a later
/// part or a name without the `.N` suffix.
fn first_part_base(path: &Path, files: usize) -> Result<PathBuf, SnapshotError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, suffix) = name.rsplit_once('.').unwrap_or((&name, ""));
    if suffix == "0" && !stem.is_empty() {
        return Ok(path.with_file_name(stem));
    }
    Err(SnapshotError::invalid(
        path,
        "Gadget-2 multi-file snapshot",
        format!("the name of its first file, ending in .0 (num_files = {files}; parts are read from it)"),
        format!("the name {name}"),
    ))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_knows_both_formats_and_orders() {
        let mut f1 = 256u32.to_be_bytes().to_vec();
        f1.extend([0u8; 24]);
        assert!(sniff(&f1));
        let mut f2 = 8u32.to_le_bytes().to_vec();
        f2.extend(b"HEAD");
        f2.extend(264u32.to_le_bytes());
        f2.extend(8u32.to_le_bytes());
        assert!(sniff(&f2));
        assert!(!sniff(&[0x92, 0x0b, b'c', 0]));
        let mut neg = 256u32.to_le_bytes().to_vec();
        neg.extend((-1i32).to_le_bytes());
        assert!(!sniff(&neg));
    }

    #[test]
    fn later_parts_and_odd_names_are_refused() {
        assert_eq!(
            first_part_base(Path::new("d/snap_005.0"), 2).unwrap(),
            PathBuf::from("d/snap_005")
        );
        assert!(first_part_base(Path::new("d/snap_005.1"), 2).is_err());
        assert!(first_part_base(Path::new("d/snap_005"), 2).is_err());
    }
}
