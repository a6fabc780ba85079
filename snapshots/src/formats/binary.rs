//! Bounds-checked reading of the binary snapshot formats (NEMO, Gadget-2): a byte cursor
//! with either byte order, typed array decoding, and the few helpers both readers share.
//!
//! Nothing here panics or allocates more than the bytes it was given: every read checks
//! the bytes left first and reports a [`Short`] read, which the readers turn into a
//! [`SnapshotError`] that names the file and the item or block.

use std::path::Path;

use crate::gadget4::GYR_PER_TIME_UNIT;
use crate::snapshot::SnapshotError;

/// Byte order of the numbers in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    /// Both orders, the machine's first guess (little) first.
    pub const BOTH: [Endian; 2] = [Endian::Little, Endian::Big];
}

/// A read that wanted more bytes than were left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Short {
    /// Byte offset of the read in the file.
    pub offset: usize,
    /// Bytes wanted.
    pub wanted: usize,
    /// Bytes left.
    pub left: usize,
}

impl Short {
    /// The error for `object` of `file` (a truncated or damaged file).
    pub fn error(self, file: &Path, object: impl Into<String>) -> SnapshotError {
        SnapshotError::invalid(
            file,
            object,
            format!("{} bytes at byte {}", self.wanted, self.offset),
            format!("{} bytes left (truncated or damaged file)", self.left),
        )
    }
}

/// A fixed-size number stored in a file in either byte order.
pub trait Scalar: Copy {
    /// Size in bytes.
    const SIZE: usize;
    /// The number whose bytes are the first [`Self::SIZE`] of `bytes` (missing bytes
    /// read as zero; callers pass exactly `SIZE`).
    fn decode(bytes: &[u8], endian: Endian) -> Self;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn decode(bytes: &[u8], endian: Endian) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
                match endian {
                    Endian::Little => <$t>::from_le_bytes(a),
                    Endian::Big => <$t>::from_be_bytes(a),
                }
            }
        }
    )*};
}
scalar!(u16, i16, u32, i32, u64, i64, f32, f64);

/// A read position in a byte slice, with the byte order its numbers are in.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Byte order used by [`Cursor::read`].
    pub endian: Endian,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8], endian: Endian) -> Self {
        Cursor {
            bytes,
            pos: 0,
            endian,
        }
    }

    /// Offset of the next byte.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `n` bytes, or [`Short`] (the cursor does not move then).
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Short> {
        let short = Short {
            offset: self.pos,
            wanted: n,
            left: self.remaining(),
        };
        let end = self.pos.checked_add(n).ok_or(short)?;
        let slice = self.bytes.get(self.pos..end).ok_or(short)?;
        self.pos = end;
        Ok(slice)
    }

    /// The next number, in the cursor's byte order.
    pub fn read<T: Scalar>(&mut self) -> Result<T, Short> {
        let endian = self.endian;
        self.take(T::SIZE).map(|b| T::decode(b, endian))
    }

    /// The bytes up to the next NUL (which is consumed, not returned).
    pub fn c_string(&mut self) -> Result<&'a [u8], Short> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let short = Short {
            offset: self.pos,
            wanted: rest.len() + 1,
            left: rest.len(),
        };
        let len = rest.iter().position(|&b| b == 0).ok_or(short)?;
        let s = self.take(len)?;
        self.take(1)?;
        Ok(s)
    }
}

/// How the numbers of an array are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Num {
    F32,
    F64,
    I16,
    I32,
    I64,
    U32,
    U64,
}

impl Num {
    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            Num::I16 => 2,
            Num::F32 | Num::I32 | Num::U32 => 4,
            Num::F64 | Num::I64 | Num::U64 => 8,
        }
    }

    /// True for the floating-point kinds.
    pub fn is_float(self) -> bool {
        matches!(self, Num::F32 | Num::F64)
    }
}

fn collect<T: Scalar, U>(bytes: &[u8], endian: Endian, f: impl Fn(T) -> U) -> Vec<U> {
    bytes
        .chunks_exact(T::SIZE)
        .map(|c| f(T::decode(c, endian)))
        .collect()
}

/// Every element of `bytes` (a whole number of `num` elements) as f64.
pub fn floats(bytes: &[u8], num: Num, endian: Endian) -> Vec<f64> {
    match num {
        Num::F32 => collect(bytes, endian, |x: f32| f64::from(x)),
        Num::F64 => collect(bytes, endian, |x: f64| x),
        Num::I16 => collect(bytes, endian, |x: i16| f64::from(x)),
        Num::I32 => collect(bytes, endian, |x: i32| f64::from(x)),
        Num::I64 => collect(bytes, endian, |x: i64| x as f64),
        Num::U32 => collect(bytes, endian, |x: u32| f64::from(x)),
        Num::U64 => collect(bytes, endian, |x: u64| x as f64),
    }
}

/// Every element of `bytes` as u64, or `None` when `num` is a float kind or an element is
/// negative.
pub fn integers(bytes: &[u8], num: Num, endian: Endian) -> Option<Vec<u64>> {
    match num {
        Num::F32 | Num::F64 => None,
        Num::I16 => collect(bytes, endian, |x: i16| u64::try_from(x).ok())
            .into_iter()
            .collect(),
        Num::I32 => collect(bytes, endian, |x: i32| u64::try_from(x).ok())
            .into_iter()
            .collect(),
        Num::I64 => collect(bytes, endian, |x: i64| u64::try_from(x).ok())
            .into_iter()
            .collect(),
        Num::U32 => Some(collect(bytes, endian, |x: u32| u64::from(x))),
        Num::U64 => Some(collect(bytes, endian, |x: u64| x)),
    }
}

/// Append to `xv` the `[n,6]` rows (x, y, z, vx, vy, vz) decoded from `[n,3]` positions and
/// velocities stored as `num` (float or double; integer kinds add nothing), times
/// `scales` = (position, velocity) factors: one pass, no intermediate arrays.
pub fn decode_xv(
    xv: &mut Vec<f64>,
    (pos, vel): (&[u8], &[u8]),
    num: Num,
    endian: Endian,
    scales: (f64, f64),
) {
    fn rows<T: Scalar>(
        xv: &mut Vec<f64>,
        pos: &[u8],
        vel: &[u8],
        e: Endian,
        f: impl Fn(T) -> f64,
        s: (f64, f64),
    ) {
        xv.reserve(2 * pos.len().min(vel.len()) / T::SIZE);
        for (p, v) in pos.chunks_exact(3 * T::SIZE).zip(vel.chunks_exact(3 * T::SIZE)) {
            xv.extend(p.chunks_exact(T::SIZE).map(|c| f(T::decode(c, e)) * s.0));
            xv.extend(v.chunks_exact(T::SIZE).map(|c| f(T::decode(c, e)) * s.1));
        }
    }
    match num {
        Num::F32 => rows(xv, pos, vel, endian, |x: f32| f64::from(x), scales),
        Num::F64 => rows(xv, pos, vel, endian, |x: f64| x, scales),
        _ => {}
    }
}

/// The time unit, in Gyr, of a system whose length unit is `length_kpc` kpc and velocity
/// unit `velocity_kms` km/s: t = L / V, with kpc/(km/s) = 0.977792 Gyr.
pub fn time_unit_gyr(length_kpc: f64, velocity_kms: f64) -> f64 {
    length_kpc / velocity_kms * GYR_PER_TIME_UNIT
}

/// Read a whole file (its size bounds every later allocation).
pub fn read_file(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    std::fs::read(path).map_err(|e| SnapshotError::io(path, "cannot read", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_reads_both_orders_and_stops_at_the_end() {
        let bytes = [0x92u8, 0x09, 0, 0, 1, 0];
        let mut le = Cursor::new(&bytes, Endian::Little);
        assert_eq!(le.read::<u16>(), Ok(0x0992));
        let mut be = Cursor::new(&bytes, Endian::Big);
        assert_eq!(be.read::<u16>(), Ok(0x9209));
        assert_eq!(be.read::<u32>(), Ok(0x0000_0100));
        assert_eq!(
            be.read::<u16>(),
            Err(Short {
                offset: 6,
                wanted: 2,
                left: 0
            })
        );
        assert_eq!(
            be.take(usize::MAX),
            Err(Short {
                offset: 6,
                wanted: usize::MAX,
                left: 0
            })
        );
    }

    #[test]
    fn c_string_needs_its_nul() {
        let mut c = Cursor::new(b"ab\0cd", Endian::Little);
        assert_eq!(c.c_string(), Ok(&b"ab"[..]));
        assert_eq!(
            c.c_string(),
            Err(Short {
                offset: 3,
                wanted: 3,
                left: 2
            })
        );
        assert_eq!(c.offset(), 3);
    }

    #[test]
    fn integers_refuse_negative_and_float() {
        let b = (-1i32).to_le_bytes();
        assert_eq!(integers(&b, Num::I32, Endian::Little), None);
        assert_eq!(
            integers(&b, Num::U32, Endian::Little),
            Some(vec![u64::from(u32::MAX)])
        );
        assert_eq!(integers(&b, Num::F32, Endian::Little), None);
        assert_eq!(floats(&1.5f32.to_be_bytes(), Num::F32, Endian::Big), vec![1.5]);
    }

    #[test]
    fn decode_xv_makes_scaled_rows_of_six() {
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
        let (p, v) = (
            bytes(&[1.0, 2.0, 3.0, 7.0, 8.0, 9.0]),
            bytes(&[4.0, 5.0, 6.0, 10.0, 11.0, 12.0]),
        );
        let mut xv = vec![-1.0];
        decode_xv(&mut xv, (&p, &v), Num::F32, Endian::Big, (2.0, 10.0));
        let want = [
            -1.0, 2.0, 4.0, 6.0, 40.0, 50.0, 60.0, 14.0, 16.0, 18.0, 100.0, 110.0, 120.0,
        ];
        assert_eq!(xv, want);
        decode_xv(&mut xv, (&p, &v), Num::I32, Endian::Big, (1.0, 1.0));
        assert_eq!(xv.len(), 13);
    }
}
