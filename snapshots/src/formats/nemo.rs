//! NEMO structured binary snapshots, as gyrfalcON (and every NEMO program) writes them.
//!
//! # The format (NEMO `filesecret.c`, `filestruct.h`, `snapshot.h`; Barnes 1987, Teuben)
//! A file is a sequence of items. Each item starts with a 2-byte magic number in the
//! writer's byte order, `SingMagic` = 0x0992 (octal 011<<8 + 0222) for singular items and
//! `PlurMagic` = 0x0B92 for arrays; seen byte-swapped it means the other byte order
//! (NEMO reads such files "swapped"). Then a NUL-terminated type string of one character
//! (`c` char, `b` byte, `s` short, `i` int, `l` long (8 bytes), `h` half, `f` float,
//! `d` double, `(` begin set, `)` end set), a NUL-terminated tag (absent for `)`), for
//! plural items the dimensions as 4-byte ints ending with a 0, and finally the data: the
//! product of the dimensions times the element size, C order. A set holds items up to its
//! `)`.
//!
//! A snapshot is the set `SnapShot { Parameters { Nobj, Time }, Particles { CoordSystem,
//! Mass [N], PhaseSpace [N,2,3] | Position [N,3] and Velocity [N,3], Key [N], ... } }`.
//! gyrfalcON appends one such set per output time, so one file holds many snapshots; files
//! concatenate. Top-level items other than `SnapShot` (`History`, `Headline`) are skipped,
//! as are items of a snapshot we do not use (`Potential`, `Acceleration`, `Diagnostics`,
//! ...) and `SnapShot` sets without `Particles` (NEMO codes write those for diagnostics).
//! [`Snapshot::index`] is the position of the `SnapShot` set in the file, counting those.
//! A file is read whole into memory; of each snapshot only the items used are kept while
//! it is converted.
//!
//! # Units
//! NEMO files carry no units, and gyrfalcON works with G = 1. We read lengths as kpc and
//! velocities as km/s unless `--length-unit`/`--velocity-unit` say otherwise; the mass and
//! time units then follow from G = 1, unless given too: M = V^2 L / G (G = 4.300917270e-6
//! kpc (km/s)^2/Msun, so 232,510 Msun by default) and T = L / V (0.977792 Gyr by default).
//! Common gyrfalcON unit systems, as (length, velocity) per unit: kpc and km/s (the
//! default); kpc and Gyr: V = 0.977792 km/s (M = 222,288 Msun, T = 1 Gyr); kpc and Myr:
//! V = 977.792 km/s (M = 2.22288e11 Msun, T = 1 Myr). A warning says once which units
//! were assumed. Particle types: NEMO has none; every particle is type 1.

use std::borrow::Cow;
use std::path::Path;

use super::binary::{self, Cursor, Endian, Num, Short};
use super::hdf5_units as units;
use crate::snapshot::{ReadOptions, Snapshot, SnapshotError, UnitOverrides, UnitSystem};

/// Magic number of singular items (`SingMagic`).
const SING_MAGIC: u16 = (0o011 << 8) | 0o222;
/// Magic number of plural (array) items (`PlurMagic`).
const PLUR_MAGIC: u16 = (0o013 << 8) | 0o222;
/// The most dimensions an item may have (NEMO's `MaxVecDim` is 9).
const MAX_DIMS: usize = 9;
/// The deepest nesting of sets we follow (a snapshot needs 2).
const MAX_DEPTH: usize = 16;
/// `CSCode(Cartesian, 3, 2)`: Cartesian, 3 dimensions, positions and velocities.
const CARTESIAN_3D: u64 = (1 << 16) | (3 << 8) | 2;
/// Gravitational constant in kpc (km/s)^2 / Msun (the project's G).
const G_KPC_KMS2_PER_MSUN: f64 = 4.300917270e-6;
/// The items of a snapshot we read; others are parsed (to find the end of their set) and
/// dropped.
const USED: [&str; 10] = [
    "Parameters",
    "Nobj",
    "Time",
    "Particles",
    "CoordSystem",
    "Mass",
    "PhaseSpace",
    "Position",
    "Velocity",
    "Key",
];
/// The type every NEMO particle gets.
const PARTICLE_TYPE: u8 = 1;

/// Whether the first bytes of a file look like this format: a NEMO magic number (either
/// byte order) followed by a known one-character type string.
pub fn sniff(head: &[u8]) -> bool {
    let (Some(magic), Some(&t), Some(&0)) = (head.get(0..2), head.get(2), head.get(3)) else {
        return false;
    };
    let known = [b'a', b'c', b'b', b's', b'i', b'l', b'h', b'f', b'd', b'('];
    item_endian(magic).is_some() && known.contains(&t)
}

/// Read every snapshot of the file, in the project's units (see the module help).
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    let bytes = binary::read_file(path)?;
    read_bytes(path, &bytes, opts)
}

/// Read every snapshot from the bytes of a NEMO file; `path` names it in messages and in
/// each [`Snapshot::path`].
pub fn read_bytes(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Vec<Snapshot>, SnapshotError> {
    if !opts.wants(PARTICLE_TYPE) {
        return Err(SnapshotError::invalid(
            path,
            "particle types",
            "a selection with type 1 (NEMO has no types: every particle is type 1)",
            format!("{:?}", opts.types.as_deref().unwrap_or_default()),
        ));
    }
    let units = unit_system(&opts.units);
    let parser = Parser { path };
    let mut cur = Cursor::new(bytes, Endian::Little);
    let (mut snaps, mut index) = (Vec::new(), 0);
    // One top-level item at a time: only the current snapshot's items are held.
    while !cur.is_empty() {
        let item = parser.item(&mut cur, 0)?;
        match item.ty {
            Type::Tes => return Err(parser.bad(")", item.offset, "a tagged item", "an end of set".into())),
            Type::Set if item.tag == "SnapShot" => {
                snaps.extend(snapshot(path, &item, index, &units)?);
                index += 1;
            }
            _ => log::debug!("{}: skipped top-level item {}", path.display(), item.tag),
        }
    }
    if !snaps.is_empty() {
        warn_units(path, &opts.units, &units);
    }
    Ok(snaps)
}

/// The units of a NEMO file: kpc and km/s unless overridden, mass and time from G = 1.
fn unit_system(o: &UnitOverrides) -> UnitSystem {
    let l = o.length_kpc.unwrap_or(1.0);
    let v = o.velocity_kms.unwrap_or(1.0);
    UnitSystem {
        length_kpc: l,
        velocity_kms: v,
        mass_msun: o.mass_msun.unwrap_or(v * v * l / G_KPC_KMS2_PER_MSUN),
        time_gyr: o.time_gyr.unwrap_or(binary::time_unit_gyr(l, v)),
    }
}

fn warn_units(path: &Path, o: &UnitOverrides, u: &UnitSystem) {
    if [o.length_kpc, o.velocity_kms, o.mass_msun, o.time_gyr]
        .iter()
        .any(Option::is_none)
    {
        let defaults = format!(
            "{} kpc, {} km/s, {} Msun, {} Gyr per unit: kpc and km/s unless given, mass and time \
             from G = 1 as in gyrfalcON unless given",
            u.length_kpc, u.velocity_kms, u.mass_msun, u.time_gyr
        );
        units::warn_no_units(path, "NEMO", &defaults);
    }
}

/// Item types (`filestruct.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    /// Bytes of any kind (`a`, `c`, `b`).
    Bytes,
    /// A number stored as [`Num`].
    Num(Num),
    /// Half-precision float (`h`), 2 bytes; skipped.
    Half,
    Set,
    Tes,
}

impl Type {
    fn from_code(code: &[u8]) -> Option<Type> {
        Some(match code {
            b"a" | b"c" | b"b" => Type::Bytes,
            b"s" => Type::Num(Num::I16),
            b"i" => Type::Num(Num::I32),
            b"l" => Type::Num(Num::I64),
            b"f" => Type::Num(Num::F32),
            b"d" => Type::Num(Num::F64),
            b"h" => Type::Half,
            b"(" => Type::Set,
            b")" => Type::Tes,
            _ => return None,
        })
    }

    fn width(self) -> usize {
        match self {
            Type::Bytes => 1,
            Type::Half => 2,
            Type::Num(n) => n.width(),
            Type::Set | Type::Tes => 0,
        }
    }
}

/// One parsed item; data stay in the file's bytes.
#[derive(Debug)]
struct Item<'a> {
    tag: Cow<'a, str>,
    ty: Type,
    dims: Vec<usize>,
    data: &'a [u8],
    endian: Endian,
    /// Byte offset of the item's magic number.
    offset: usize,
    children: Vec<Item<'a>>,
}

/// The byte order whose reading of the 2 magic bytes is a NEMO magic number.
fn item_endian(magic: &[u8]) -> Option<Endian> {
    Endian::BOTH.into_iter().find(|&e| {
        let m = <u16 as binary::Scalar>::decode(magic, e);
        magic.len() == 2 && (m == SING_MAGIC || m == PLUR_MAGIC)
    })
}

struct Parser<'p> {
    path: &'p Path,
}

impl Parser<'_> {
    fn short(&self, what: &str, at: usize, s: Short) -> SnapshotError {
        s.error(self.path, format!("NEMO item {what} (at byte {at})"))
    }

    fn bad(&self, what: &str, at: usize, expected: &str, found: String) -> SnapshotError {
        SnapshotError::invalid(
            self.path,
            format!("NEMO item {what} (at byte {at})"),
            expected,
            found,
        )
    }

    /// The items of the set `tag` (at byte `at`), up to the `)` that closes it.
    fn items<'a>(
        &self,
        cur: &mut Cursor<'a>,
        depth: usize,
        tag: &str,
        at: usize,
    ) -> Result<Vec<Item<'a>>, SnapshotError> {
        let mut items = Vec::new();
        loop {
            if cur.is_empty() {
                return Err(self.bad(tag, at, "its end-of-set item ')'", "end of file".into()));
            }
            let item = self.item(cur, depth)?;
            if item.ty == Type::Tes {
                return Ok(items);
            }
            // Only the first of each item we use is kept: memory stays a few items per set.
            if USED.contains(&&*item.tag) && !items.iter().any(|i: &Item<'_>| i.tag == item.tag) {
                items.push(item);
            }
        }
    }

    /// One item: header, then data or (for a set) its items.
    fn item<'a>(&self, cur: &mut Cursor<'a>, depth: usize) -> Result<Item<'a>, SnapshotError> {
        let at = cur.offset();
        let magic = cur.take(2).map_err(|s| self.short("header", at, s))?;
        let Some(endian) = item_endian(magic) else {
            let found = format!(
                "bytes {:02x} {:02x}",
                magic.first().unwrap_or(&0),
                magic.get(1).unwrap_or(&0)
            );
            return Err(self.bad(
                "header",
                at,
                "a magic number 0x0992 or 0x0b92 (either byte order)",
                found,
            ));
        };
        cur.endian = endian;
        let code = cur.c_string().map_err(|s| self.short("type", at, s))?;
        let ty = Type::from_code(code)
            .ok_or_else(|| self.bad("type", at, "a type a c b s i l h f d ( )", lossy(code)))?;
        let tag = match ty {
            Type::Tes => Cow::Borrowed(")"),
            _ => String::from_utf8_lossy(cur.c_string().map_err(|s| self.short("tag", at, s))?),
        };
        let plural = <u16 as binary::Scalar>::decode(magic, endian) == PLUR_MAGIC;
        let dims = if plural {
            self.dims(cur, &tag, at)?
        } else {
            Vec::new()
        };
        let mut item = Item {
            tag,
            ty,
            dims,
            data: &[],
            endian,
            offset: at,
            children: Vec::new(),
        };
        match ty {
            Type::Tes => {}
            Type::Set if depth >= MAX_DEPTH => {
                return Err(self.bad(
                    &item.tag,
                    at,
                    &format!("sets nested at most {MAX_DEPTH} deep"),
                    "deeper nesting".into(),
                ))
            }
            Type::Set => item.children = self.items(cur, depth + 1, &item.tag, at)?,
            _ => item.data = self.data(cur, &item, at)?,
        }
        Ok(item)
    }

    /// Dimensions: positive 4-byte ints ending with 0.
    fn dims(&self, cur: &mut Cursor<'_>, tag: &str, at: usize) -> Result<Vec<usize>, SnapshotError> {
        let mut dims = Vec::new();
        loop {
            let d: i32 = cur.read().map_err(|s| self.short(tag, at, s))?;
            match usize::try_from(d) {
                Ok(0) => return Ok(dims),
                Ok(d) if dims.len() < MAX_DIMS => dims.push(d),
                Ok(_) => {
                    return Err(self.bad(tag, at, &format!("at most {MAX_DIMS} dimensions"), "more".into()))
                }
                Err(_) => return Err(self.bad(tag, at, "positive dimensions", d.to_string())),
            }
        }
    }

    /// The item's data bytes, their declared size checked against the bytes left first.
    fn data<'a>(&self, cur: &mut Cursor<'a>, item: &Item<'_>, at: usize) -> Result<&'a [u8], SnapshotError> {
        let len = item
            .dims
            .iter()
            .try_fold(item.ty.width(), |acc, &d| acc.checked_mul(d))
            .filter(|&len| len <= cur.remaining())
            .ok_or_else(|| {
                let found = format!("{} bytes left (truncated or damaged file)", cur.remaining());
                self.bad(
                    &item.tag,
                    at,
                    &format!("data of dimensions {:?}", item.dims),
                    found,
                )
            })?;
        cur.take(len).map_err(|s| self.short(&item.tag, at, s))
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Where in the file an item is, for messages: `SnapShot[k]/Particles/Mass`.
struct Ctx<'p> {
    path: &'p Path,
    index: usize,
}

impl Ctx<'_> {
    fn object(&self, set: &str, item: &str) -> String {
        format!("NEMO SnapShot[{}]/{set}/{item}", self.index)
    }

    fn bad(&self, set: &str, item: &str, expected: &str, found: String) -> SnapshotError {
        SnapshotError::invalid(self.path, self.object(set, item), expected, found)
    }

    fn child<'s, 'a>(&self, set: &'s Item<'a>, tag: &str) -> Option<&'s Item<'a>> {
        set.children.iter().find(|c| c.tag == tag)
    }

    fn required<'s, 'a>(&self, set: &'s Item<'a>, tag: &str) -> Result<&'s Item<'a>, SnapshotError> {
        self.child(set, tag)
            .ok_or_else(|| self.bad(&set.tag, tag, "this item", "none".into()))
    }

    /// The numbers of `item` times `scale`, after checking its dimensions are `dims`; they
    /// must be finite (`columns` per particle, for the message).
    fn reals(
        &self,
        set: &str,
        item: &Item<'_>,
        dims: &[usize],
        (scale, columns): (f64, usize),
    ) -> Result<Vec<f64>, SnapshotError> {
        let num = self.float_kind(set, item, dims)?;
        let values = binary::floats(item.data, num, item.endian);
        units::scaled(self.path, &self.object(set, &item.tag), values, scale, columns)
    }

    /// How the numbers of `item` are stored (float or double), after checking its
    /// dimensions are `dims`.
    fn float_kind(&self, set: &str, item: &Item<'_>, dims: &[usize]) -> Result<Num, SnapshotError> {
        self.check_dims(set, item, dims)?;
        match item.ty {
            Type::Num(n) if n.is_float() => Ok(n),
            t => Err(self.bad(set, &item.tag, "float or double data", format!("{t:?}"))),
        }
    }

    /// The numbers of `item` as non-negative integers, dimensions checked.
    fn ints(&self, set: &str, item: &Item<'_>, dims: &[usize]) -> Result<Vec<u64>, SnapshotError> {
        self.check_dims(set, item, dims)?;
        let values = match item.ty {
            Type::Num(n) => binary::integers(item.data, n, item.endian),
            _ => None,
        };
        values.ok_or_else(|| {
            self.bad(
                set,
                &item.tag,
                "non-negative short, int or long data",
                format!("{:?}", item.ty),
            )
        })
    }

    fn check_dims(&self, set: &str, item: &Item<'_>, dims: &[usize]) -> Result<(), SnapshotError> {
        let scalar = dims.is_empty() && item.dims.iter().all(|&d| d == 1);
        if item.dims == dims || scalar {
            return Ok(());
        }
        Err(self.bad(
            set,
            &item.tag,
            &format!("dimensions {dims:?}"),
            format!("{:?}", item.dims),
        ))
    }

    /// The single number of a scalar item.
    fn scalar_real(&self, set: &Item<'_>, tag: &str) -> Result<f64, SnapshotError> {
        let item = self.required(set, tag)?;
        let v = self.reals(&set.tag, item, &[], (1.0, 1))?;
        v.first()
            .copied()
            .ok_or_else(|| self.bad(&set.tag, tag, "one number", "none".into()))
    }

    fn scalar_int(&self, set: &Item<'_>, tag: &str) -> Result<u64, SnapshotError> {
        let item = self.required(set, tag)?;
        let v = self.ints(&set.tag, item, &[])?;
        v.first()
            .copied()
            .ok_or_else(|| self.bad(&set.tag, tag, "one number", "none".into()))
    }
}

/// The snapshot of one `SnapShot` set, or `None` when it has no `Particles`.
fn snapshot(
    path: &Path,
    set: &Item<'_>,
    index: usize,
    u: &UnitSystem,
) -> Result<Option<Snapshot>, SnapshotError> {
    let cx = Ctx { path, index };
    let params = cx.required(set, "Parameters")?;
    let Some(parts) = cx.child(set, "Particles") else {
        log::debug!("{}: SnapShot[{index}] has no Particles, skipped", path.display());
        return Ok(None);
    };
    let n = usize::try_from(cx.scalar_int(params, "Nobj")?).unwrap_or(usize::MAX);
    let time = cx.scalar_real(params, "Time")?;
    check_coordinates(&cx, parts)?;
    let masses = cx.reals("Particles", cx.required(parts, "Mass")?, &[n], (u.mass_msun, 1))?;
    let xv = phase_space(&cx, parts, n, u)?;
    let ids = cx
        .child(parts, "Key")
        .map(|k| cx.ints("Particles", k, &[n]))
        .transpose()?;
    Ok(Some(Snapshot {
        path: path.to_path_buf(),
        index,
        time_gyr: time * u.time_gyr,
        ids,
        xv,
        masses,
        types: vec![PARTICLE_TYPE; n],
    }))
}

/// `CoordSystem`, when present, must be Cartesian in 3 dimensions.
fn check_coordinates(cx: &Ctx<'_>, parts: &Item<'_>) -> Result<(), SnapshotError> {
    let Some(cs) = cx.child(parts, "CoordSystem") else {
        return Ok(());
    };
    let code = cx.ints("Particles", cs, &[])?;
    match code.first() {
        Some(&CARTESIAN_3D) => Ok(()),
        c => Err(cx.bad(
            "Particles",
            "CoordSystem",
            "Cartesian in 3 dimensions (66306 = 0x10302)",
            format!("{c:?}"),
        )),
    }
}

/// `[n,6]` positions and velocities in kpc and km/s, from `PhaseSpace` or from
/// `Position` and `Velocity`.
fn phase_space(cx: &Ctx<'_>, parts: &Item<'_>, n: usize, u: &UnitSystem) -> Result<Vec<f64>, SnapshotError> {
    if let Some(ps) = cx.child(parts, "PhaseSpace") {
        let mut w = cx.reals("Particles", ps, &[n, 2, 3], (1.0, 6))?;
        for row in w.chunks_exact_mut(6) {
            let (x, v) = row.split_at_mut(3);
            x.iter_mut().for_each(|c| *c *= u.length_kpc);
            v.iter_mut().for_each(|c| *c *= u.velocity_kms);
        }
        return Ok(w);
    }
    let (Some(pos), Some(vel)) = (cx.child(parts, "Position"), cx.child(parts, "Velocity")) else {
        return Err(cx.bad(
            "Particles",
            "PhaseSpace",
            "PhaseSpace, or Position and Velocity",
            "neither".into(),
        ));
    };
    let kind = cx.float_kind("Particles", pos, &[n, 3])?;
    if (cx.float_kind("Particles", vel, &[n, 3])?, vel.endian) != (kind, pos.endian) {
        let found = format!("{:?} {:?}", vel.ty, vel.endian);
        let expected = format!(
            "the type and byte order of Position, {:?} {:?}",
            pos.ty, pos.endian
        );
        return Err(cx.bad("Particles", "Velocity", &expected, found));
    }
    let mut xv = Vec::new();
    binary::decode_xv(
        &mut xv,
        (pos.data, vel.data),
        kind,
        pos.endian,
        (u.length_kpc, u.velocity_kms),
    );
    units::scaled(
        cx.path,
        &cx.object("Particles", "Position and Velocity"),
        xv,
        1.0,
        6,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_are_nemos() {
        assert_eq!(SING_MAGIC, 0x0992);
        assert_eq!(PLUR_MAGIC, 0x0b92);
        assert_eq!(CARTESIAN_3D, 0x10302);
        assert!(sniff(&[0x92, 0x0b, b'c', 0, b'H']));
        assert!(sniff(&[0x09, 0x92, b'(', 0]));
        assert!(!sniff(&[0x92, 0x0b, b'x', 0]));
        assert!(!sniff(&[0, 1, 0, 0]));
    }

    #[test]
    fn default_units_have_g_equal_one() {
        let u = unit_system(&UnitOverrides::default());
        assert!((u.mass_msun * G_KPC_KMS2_PER_MSUN - 1.0).abs() < 1e-15);
        assert!((u.time_gyr - 0.977792).abs() < 1e-6);
        // kpc and Gyr: V = 1 kpc/Gyr.
        let gyr = unit_system(&UnitOverrides {
            velocity_kms: Some(0.977_792_221_680_789),
            ..Default::default()
        });
        assert!((gyr.time_gyr - 1.0).abs() < 1e-12);
        assert!((gyr.mass_msun / 222_288.0 - 1.0).abs() < 1e-4);
    }
}
