//! Our HDF5 façade: the only module that talks to the HDF5 library (`hdf5-pure`, pure Rust,
//! no system library), so the library can be swapped without touching callers.
//!
//! * [`H5Writer`] collects groups, datasets (f64, f32, u64, u32, i64, i32 of any shape) and
//!   attributes (strings, f64, integers and small arrays of them), addressed by absolute
//!   paths such as `/PartType1/Coordinates`, and writes them to a file in one go
//!   (atomically: a temporary file is renamed into place).
//! * [`H5File`] opens a file and reads datasets as f64 or u64 with their shape (converting
//!   f32, u32, i32, i64 and other widths), lists groups and datasets, and reads attributes.
//!
//! Reading is built for large snapshots: the file is opened lazily (positioned reads, no
//! copy of the whole file), and a dataset of standard numeric type is read on rayon's
//! threads, each stored element decoded once straight into the output (byte order and
//! widening in the same pass): contiguous storage in windows read from the file, chunked
//! storage (shuffle and deflate) a band of chunks per task, anything else in windows that
//! the library reads. Whatever the fast path declines or fails on is read the library's
//! way, and where the lazily read file makes the library fail, the question is asked again
//! of the whole file in memory, so what a damaged file reads as (errors included) is what
//! the library's in-memory reader says.
//!
//! Every error ([`H5Error`]) names the file, the object (dataset, group or attribute) and
//! what was expected. A missing, foreign, truncated or damaged file gives an error, never a
//! panic; a dataset's shape is checked against what its storage can hold before anything of
//! that size is allocated, so a damaged dimension costs no more memory than the file's size
//! allows. Both opens and the format readers are fuzzed with damaged files
//! (`tests/hdf5_fuzz.rs`; the long campaign is `bench/hdf5_fuzz.sh`).
//!
//! hdf5-pure cannot read chunked datasets whose data-layout message is version 5 (HDF5 2.x
//! with `libver='latest'`); such a read is retried, on the same bytes, with the read-only
//! `hdf5-reader` crate (also pure Rust), invisibly to callers.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::partial::Partial;
use hdf5_pure as lib;
use hdf5_reader as fallback;
use rayon::prelude::*;

/// An HDF5 error that names the file, the object and what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum H5Error {
    /// The file could not be read or written at the operating-system level.
    #[error("file {}: {action}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// What was being done ("cannot open", "cannot write").
        action: &'static str,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The file exists but carries no HDF5 signature.
    #[error("file {}: not an HDF5 file (no HDF5 signature found)", file.display())]
    NotHdf5 {
        /// The file.
        file: PathBuf,
    },
    /// The file is HDF5 but truncated or damaged, or uses a feature the library cannot read.
    #[error("file {}: cannot read HDF5 structure (truncated, damaged or unsupported file): {detail}", file.display())]
    Damaged {
        /// The file.
        file: PathBuf,
        /// The library's description.
        detail: String,
    },
    /// A dataset, group or attribute is absent.
    #[error("file {}: {object}: not found", file.display())]
    NotFound {
        /// The file.
        file: PathBuf,
        /// The object, e.g. `dataset /streams/xv` or `attribute Time of group /Header`.
        object: String,
    },
    /// An object has the wrong shape, type or content.
    #[error("file {}: {object}: expected {expected}, found {found}", file.display())]
    Unexpected {
        /// The file.
        file: PathBuf,
        /// The object, e.g. `dataset /PartType1/Coordinates`.
        object: String,
        /// What was expected, e.g. `shape [n,3]`.
        expected: String,
        /// What was found, e.g. `shape [100]`.
        found: String,
    },
    /// The library failed while reading an object.
    #[error("file {}: {object}: cannot read: {detail}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The object.
        object: String,
        /// The library's description.
        detail: String,
    },
    /// The file could not be built (bad path, inconsistent contents) or serialised.
    #[error("file {}: cannot write: {detail}", file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// What was wrong.
        detail: String,
    },
}

impl H5Error {
    /// An [`H5Error::Unexpected`] for callers that validate what they read.
    pub fn unexpected(
        file: impl Into<PathBuf>,
        object: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Unexpected {
            file: file.into(),
            object: object.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// The file the error is about.
    pub fn file(&self) -> &Path {
        match self {
            Self::Io { file, .. }
            | Self::NotHdf5 { file }
            | Self::Damaged { file, .. }
            | Self::NotFound { file, .. }
            | Self::Unexpected { file, .. }
            | Self::Read { file, .. }
            | Self::Write { file, .. } => file,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values: dataset data and attributes
// ---------------------------------------------------------------------------------------------

/// The elements of one dataset, borrowed or owned, in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub enum Data<'a> {
    /// 64-bit floats.
    F64(Cow<'a, [f64]>),
    /// 32-bit floats.
    F32(Cow<'a, [f32]>),
    /// 64-bit unsigned integers.
    U64(Cow<'a, [u64]>),
    /// 32-bit unsigned integers.
    U32(Cow<'a, [u32]>),
    /// 64-bit signed integers.
    I64(Cow<'a, [i64]>),
    /// 32-bit signed integers.
    I32(Cow<'a, [i32]>),
}

impl Data<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Self::F64(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::U64(v) => v.len(),
            Self::U32(v) => v.len(),
            Self::I64(v) => v.len(),
            Self::I32(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type's name (`f64`, `u32`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::F64(_) => "f64",
            Self::F32(_) => "f32",
            Self::U64(_) => "u64",
            Self::U32(_) => "u32",
            Self::I64(_) => "i64",
            Self::I32(_) => "i32",
        }
    }
}

macro_rules! data_from {
    ($t:ty, $variant:ident) => {
        impl<'a> From<&'a [$t]> for Data<'a> {
            fn from(v: &'a [$t]) -> Self {
                Data::$variant(Cow::Borrowed(v))
            }
        }
        impl<'a> From<&'a Vec<$t>> for Data<'a> {
            fn from(v: &'a Vec<$t>) -> Self {
                Data::$variant(Cow::Borrowed(v.as_slice()))
            }
        }
        impl<'a> From<Vec<$t>> for Data<'a> {
            fn from(v: Vec<$t>) -> Self {
                Data::$variant(Cow::Owned(v))
            }
        }
    };
}
data_from!(f64, F64);
data_from!(f32, F32);
data_from!(u64, U64);
data_from!(u32, U32);
data_from!(i64, I64);
data_from!(i32, I32);

/// An attribute value. Strings are written as variable-length UTF-8 strings (what h5py
/// writes and reads back as `str`); fixed-length strings are read too. On reading, every
/// integer width arrives as `I64`/`U64` (by signedness) and every float as `F64`.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// A string.
    Str(String),
    /// An array of strings.
    Strs(Vec<String>),
    /// A 64-bit float.
    F64(f64),
    /// An array of 64-bit floats.
    F64s(Vec<f64>),
    /// A 32-bit signed integer (written as such; read back as `I64`).
    I32(i32),
    /// An array of 32-bit signed integers.
    I32s(Vec<i32>),
    /// A 64-bit signed integer.
    I64(i64),
    /// An array of 64-bit signed integers.
    I64s(Vec<i64>),
    /// A 32-bit unsigned integer (written as such; read back as `U64`).
    U32(u32),
    /// An array of 32-bit unsigned integers.
    U32s(Vec<u32>),
    /// A 64-bit unsigned integer.
    U64(u64),
    /// An array of 64-bit unsigned integers.
    U64s(Vec<u64>),
}

impl Attr {
    /// The string, when this is one string (or an array of one).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            Self::Strs(v) if v.len() == 1 => Some(&v[0]),
            _ => None,
        }
    }

    /// Every number as f64 (integers converted), a scalar reading as one element.
    pub fn to_f64s(&self) -> Option<Vec<f64>> {
        Some(match self {
            Self::F64(x) => vec![*x],
            Self::F64s(v) => v.clone(),
            Self::I32(x) => vec![f64::from(*x)],
            Self::I32s(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::U32(x) => vec![f64::from(*x)],
            Self::U32s(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::I64(x) => vec![*x as f64],
            Self::I64s(v) => v.iter().map(|&x| x as f64).collect(),
            Self::U64(x) => vec![*x as f64],
            Self::U64s(v) => v.iter().map(|&x| x as f64).collect(),
            Self::Str(_) | Self::Strs(_) => return None,
        })
    }

    /// Every integer as i64, a scalar reading as one element; `None` for floats, strings
    /// and values that do not fit.
    pub fn to_i64s(&self) -> Option<Vec<i64>> {
        match self {
            Self::I32(x) => Some(vec![i64::from(*x)]),
            Self::I32s(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
            Self::I64(x) => Some(vec![*x]),
            Self::I64s(v) => Some(v.clone()),
            Self::U32(x) => Some(vec![i64::from(*x)]),
            Self::U32s(v) => Some(v.iter().map(|&x| i64::from(x)).collect()),
            Self::U64(x) => i64::try_from(*x).ok().map(|x| vec![x]),
            Self::U64s(v) => v.iter().map(|&x| i64::try_from(x).ok()).collect(),
            _ => None,
        }
    }

    /// Every integer as u64, a scalar reading as one element; `None` for floats, strings
    /// and negative values.
    pub fn to_u64s(&self) -> Option<Vec<u64>> {
        match self {
            Self::U64(x) => Some(vec![*x]),
            Self::U64s(v) => Some(v.clone()),
            _ => self
                .to_i64s()?
                .into_iter()
                .map(|x| u64::try_from(x).ok())
                .collect(),
        }
    }

    /// The single number as f64 (integers converted).
    pub fn as_f64(&self) -> Option<f64> {
        single(self.to_f64s()?)
    }

    /// The single integer as i64.
    pub fn as_i64(&self) -> Option<i64> {
        single(self.to_i64s()?)
    }

    /// The single integer as u64.
    pub fn as_u64(&self) -> Option<u64> {
        single(self.to_u64s()?)
    }

    /// A short description of the value's type, e.g. `f64[6]` or `string`.
    pub fn type_name(&self) -> String {
        let (name, len) = match self {
            Self::Str(_) => ("string", None),
            Self::Strs(v) => ("string", Some(v.len())),
            Self::F64(_) => ("f64", None),
            Self::F64s(v) => ("f64", Some(v.len())),
            Self::I32(_) => ("i32", None),
            Self::I32s(v) => ("i32", Some(v.len())),
            Self::I64(_) => ("i64", None),
            Self::I64s(v) => ("i64", Some(v.len())),
            Self::U32(_) => ("u32", None),
            Self::U32s(v) => ("u32", Some(v.len())),
            Self::U64(_) => ("u64", None),
            Self::U64s(v) => ("u64", Some(v.len())),
        };
        match len {
            Some(n) => format!("{name}[{n}]"),
            None => name.to_string(),
        }
    }
}

fn single<T: Copy>(v: Vec<T>) -> Option<T> {
    match v.as_slice() {
        [x] => Some(*x),
        _ => None,
    }
}

macro_rules! attr_from {
    ($t:ty, $one:ident, $many:ident) => {
        impl From<$t> for Attr {
            fn from(x: $t) -> Self {
                Attr::$one(x)
            }
        }
        impl From<Vec<$t>> for Attr {
            fn from(v: Vec<$t>) -> Self {
                Attr::$many(v)
            }
        }
        impl From<&[$t]> for Attr {
            fn from(v: &[$t]) -> Self {
                Attr::$many(v.to_vec())
            }
        }
        impl<const N: usize> From<[$t; N]> for Attr {
            fn from(v: [$t; N]) -> Self {
                Attr::$many(v.to_vec())
            }
        }
    };
}
attr_from!(f64, F64, F64s);
attr_from!(i32, I32, I32s);
attr_from!(i64, I64, I64s);
attr_from!(u32, U32, U32s);
attr_from!(u64, U64, U64s);

impl From<&str> for Attr {
    fn from(s: &str) -> Self {
        Attr::Str(s.to_string())
    }
}
impl From<String> for Attr {
    fn from(s: String) -> Self {
        Attr::Str(s)
    }
}
impl From<&String> for Attr {
    fn from(s: &String) -> Self {
        Attr::Str(s.clone())
    }
}
impl From<Vec<String>> for Attr {
    fn from(v: Vec<String>) -> Self {
        Attr::Strs(v)
    }
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => write!(f, "{s:?}"),
            Self::Strs(v) => write!(f, "{v:?}"),
            Self::F64(x) => write!(f, "{x}"),
            Self::F64s(v) => write!(f, "{v:?}"),
            Self::I32(x) => write!(f, "{x}"),
            Self::I32s(v) => write!(f, "{v:?}"),
            Self::I64(x) => write!(f, "{x}"),
            Self::I64s(v) => write!(f, "{v:?}"),
            Self::U32(x) => write!(f, "{x}"),
            Self::U32s(v) => write!(f, "{v:?}"),
            Self::U64(x) => write!(f, "{x}"),
            Self::U64s(v) => write!(f, "{v:?}"),
        }
    }
}

/// Library attribute value -> ours (`None` for types we do not model).
fn attr_from_lib(v: &lib::AttrValue) -> Option<Attr> {
    use lib::AttrValue as A;
    Some(match v {
        A::F32(x) => Attr::F64(f64::from(*x)),
        A::F64(x) => Attr::F64(*x),
        A::F32Array(_) | A::F64Array(_) => Attr::F64s(v.to_f64s()?),
        A::I8(_) | A::I16(_) | A::I32(_) | A::I64(_) => Attr::I64(v.as_i64()?),
        A::U8(_) | A::U16(_) | A::U32(_) | A::U64(_) => Attr::U64(v.as_u64()?),
        A::I8Array(_) | A::I16Array(_) | A::I32Array(_) | A::I64Array(_) => Attr::I64s(v.to_i64s()?),
        A::U8Array(_) | A::U16Array(_) | A::U32Array(_) | A::U64Array(_) => Attr::U64s(v.to_u64s()?),
        A::String(_)
        | A::AsciiString(_)
        | A::VarLenString(_)
        | A::VarLenAsciiString(_)
        | A::StringSized { .. }
        | A::AsciiStringSized { .. } => Attr::Str(v.as_str()?.to_string()),
        _ => Attr::Strs(v.as_strings()?.to_vec()),
    })
}

/// Ours -> library attribute value.
fn attr_to_lib(v: &Attr) -> lib::AttrValue {
    use lib::AttrValue as A;
    match v {
        Attr::Str(s) => A::VarLenString(s.clone()),
        Attr::Strs(v) => A::VarLenStringArray(v.clone()),
        Attr::F64(x) => A::F64(*x),
        Attr::F64s(v) => A::F64Array(v.clone()),
        Attr::I32(x) => A::I32(*x),
        Attr::I32s(v) => A::I32Array(v.clone()),
        Attr::I64(x) => A::I64(*x),
        Attr::I64s(v) => A::I64Array(v.clone()),
        Attr::U32(x) => A::U32(*x),
        Attr::U32s(v) => A::U32Array(v.clone()),
        Attr::U64(x) => A::U64(*x),
        Attr::U64s(v) => A::U64Array(v.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// `"/a//b/"` -> `["a", "b"]`; the root is the empty list.
fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// Canonical absolute form: `/a/b`, or `/` for the root.
fn canonical(path: &str) -> String {
    format!("/{}", components(path).join("/"))
}

/// Library form: `a/b`, or empty for the root.
fn relative(path: &str) -> String {
    components(path).join("/")
}

/// A shape as `[a,b,c]`.
pub fn shape_string(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(","))
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct DatasetSpec<'a> {
    data: Data<'a>,
    shape: Vec<usize>,
}

/// Collects the contents of an HDF5 file, then writes it with [`H5Writer::write`].
///
/// Paths are absolute (`/Header`, `/PartType1/Coordinates`); a leading `/` is optional and
/// `/` (or the empty string) is the root group. Groups on the way to a dataset, and a group
/// that only carries attributes (like Gadget's `/Header`), are created implicitly. Building never fails: all checks (shape against length, attribute targets,
/// name clashes) run in [`write`](H5Writer::write), whose error names the file.
///
/// ```
/// # fn main() -> Result<(), actionfinder_snapshots::h5::H5Error> {
/// use actionfinder_snapshots::h5::{H5File, H5Writer};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("demo.h5");
/// let xv = vec![1.0; 12];
/// let mut w = H5Writer::new();
/// w.dataset("/streams/xv", &xv, &[1, 2, 6])
///     .attr("/", "length_unit", "kpc")
///     .attr("/streams/xv", "component_order", "x,y,z,vx,vy,vz");
/// w.write(&path)?;
/// let f = H5File::open(&path)?;
/// assert_eq!(f.read_f64("/streams/xv")?.shape, vec![1, 2, 6]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct H5Writer<'a> {
    datasets: BTreeMap<String, DatasetSpec<'a>>,
    groups: BTreeSet<String>,
    attrs: BTreeMap<String, Vec<(String, Attr)>>,
}

impl<'a> H5Writer<'a> {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a (possibly empty) group.
    pub fn group(&mut self, path: &str) -> &mut Self {
        self.groups.insert(canonical(path));
        self
    }

    /// Adds a dataset with the given shape (row-major; the product of `shape` must equal
    /// the number of elements). A second dataset at the same path replaces the first.
    pub fn dataset(&mut self, path: &str, data: impl Into<Data<'a>>, shape: &[usize]) -> &mut Self {
        let spec = DatasetSpec {
            data: data.into(),
            shape: shape.to_vec(),
        };
        self.datasets.insert(canonical(path), spec);
        self
    }

    /// Sets an attribute on the dataset at `path`, or else on the group there (`/` for the
    /// root; the group is created when absent). Setting the same name twice keeps the last
    /// value.
    pub fn attr(&mut self, path: &str, name: &str, value: impl Into<Attr>) -> &mut Self {
        let list = self.attrs.entry(canonical(path)).or_default();
        list.retain(|(n, _)| n != name);
        list.push((name.to_string(), value.into()));
        self
    }

    /// Validates the contents and writes them to `file` (replacing any file there). The
    /// file is written under a temporary name next to it and renamed into place, so a
    /// failure never leaves a half-written file at `file`.
    pub fn write(&self, file: impl AsRef<Path>) -> Result<(), H5Error> {
        let file = file.as_ref();
        let tree = self.tree(file)?;
        let mut builder = lib::FileBuilder::new();
        emit_group(&mut builder, &tree);
        let tmp = Partial::new(file);
        let written = guard(|| builder.write(tmp.path())).and_then(|r| r.map_err(|e| e.to_string()));
        if let Err(detail) = written {
            return Err(H5Error::Write {
                file: file.to_path_buf(),
                detail,
            });
        }
        tmp.commit().map_err(|source| H5Error::Io {
            file: file.to_path_buf(),
            action: "cannot write",
            source,
        })
    }

    /// Checks everything and arranges it as a tree of groups.
    fn tree(&self, file: &Path) -> Result<Node<'_, 'a>, H5Error> {
        let err = |detail: String| H5Error::Write {
            file: file.to_path_buf(),
            detail,
        };
        let mut root = Node::default();
        for path in &self.groups {
            root.insert_group(&components(path)).map_err(err)?;
        }
        for (path, spec) in &self.datasets {
            check_shape(path, spec).map_err(err)?;
            root.insert_dataset(&components(path), spec).map_err(err)?;
        }
        for (path, attrs) in &self.attrs {
            root.attach(&components(path), attrs)
                .map_err(|d| err(format!("attributes of {path}: {d}")))?;
        }
        Ok(root)
    }
}

fn check_shape(path: &str, spec: &DatasetSpec<'_>) -> Result<(), String> {
    let product: usize = spec.shape.iter().product();
    if product != spec.data.len() {
        return Err(format!(
            "dataset {path}: shape {} holds {product} elements, but {} were given",
            shape_string(&spec.shape),
            spec.data.len()
        ));
    }
    if path == "/" {
        return Err("a dataset cannot be the root group".into());
    }
    Ok(())
}

/// Attributes of one object, as given to the writer.
type AttrList = [(String, Attr)];

/// A dataset of the tree being written, with its attributes.
type Leaf<'w, 'a> = (&'w DatasetSpec<'a>, &'w AttrList);

/// One group of the tree being written.
#[derive(Default)]
struct Node<'w, 'a> {
    groups: BTreeMap<&'w str, Node<'w, 'a>>,
    datasets: BTreeMap<&'w str, Leaf<'w, 'a>>,
    attrs: &'w AttrList,
}

impl<'w, 'a> Node<'w, 'a> {
    /// The group at `path`, created with its parents; an error where a dataset is in the way.
    fn insert_group(&mut self, path: &[&'w str]) -> Result<&mut Self, String> {
        let mut node = self;
        for (k, name) in path.iter().enumerate() {
            if node.datasets.contains_key(name) {
                return Err(format!(
                    "/{} is a dataset and cannot also be a group",
                    path[..=k].join("/")
                ));
            }
            node = node.groups.entry(name).or_default();
        }
        Ok(node)
    }

    fn insert_dataset(&mut self, path: &[&'w str], spec: &'w DatasetSpec<'a>) -> Result<(), String> {
        let (name, parent) = path.split_last().ok_or("a dataset needs a name")?;
        let node = self.insert_group(parent)?;
        if node.groups.contains_key(name) {
            return Err(format!(
                "/{} is a group and cannot also be a dataset",
                path.join("/")
            ));
        }
        node.datasets.insert(name, (spec, &[]));
        Ok(())
    }

    /// Attaches attributes to the dataset at `path`, or else to the group there (created
    /// with its parents when absent).
    fn attach(&mut self, path: &[&'w str], attrs: &'w AttrList) -> Result<(), String> {
        if let Some((name, parent)) = path.split_last() {
            let node = self.insert_group(parent)?;
            if let Some(leaf) = node.datasets.get_mut(name) {
                leaf.1 = attrs;
                return Ok(());
            }
        }
        self.insert_group(path)?.attrs = attrs;
        Ok(())
    }
}

/// The two library builders that hold children: the file (root group) and a group.
trait Container {
    fn dataset(&mut self, name: &str) -> &mut lib::DatasetBuilder;
    fn group(&mut self, name: &str) -> lib::GroupBuilder;
    fn add(&mut self, group: lib::FinishedGroup);
    fn attr(&mut self, name: &str, value: lib::AttrValue);
}

/// The file and group builders have the same inherent methods under these names; one
/// delegating impl serves both.
macro_rules! impl_container {
    ($($builder:ty),+) => {$(
        impl Container for $builder {
            fn dataset(&mut self, name: &str) -> &mut lib::DatasetBuilder {
                self.create_dataset(name)
            }
            fn group(&mut self, name: &str) -> lib::GroupBuilder {
                self.create_group(name)
            }
            fn add(&mut self, group: lib::FinishedGroup) {
                self.add_group(group);
            }
            fn attr(&mut self, name: &str, value: lib::AttrValue) {
                self.set_attr(name, value);
            }
        }
    )+};
}

impl_container!(lib::FileBuilder, lib::GroupBuilder);

fn emit_group<C: Container>(target: &mut C, node: &Node<'_, '_>) {
    for (name, value) in node.attrs {
        target.attr(name, attr_to_lib(value));
    }
    for (name, (spec, attrs)) in &node.datasets {
        let builder = target.dataset(name);
        emit_dataset(builder, spec);
        for (attr, value) in attrs.iter() {
            builder.set_attr(attr, attr_to_lib(value));
        }
    }
    for (name, child) in &node.groups {
        let mut group = target.group(name);
        emit_group(&mut group, child);
        target.add(group.finish());
    }
}

fn emit_dataset(builder: &mut lib::DatasetBuilder, spec: &DatasetSpec<'_>) {
    match &spec.data {
        Data::F64(v) => builder.with_f64_data(v),
        Data::F32(v) => builder.with_f32_data(v),
        Data::U64(v) => builder.with_u64_data(v),
        Data::U32(v) => builder.with_u32_data(v),
        Data::I64(v) => builder.with_i64_data(v),
        Data::I32(v) => builder.with_i32_data(v),
    };
    let shape: Vec<u64> = spec.shape.iter().map(|&d| d as u64).collect();
    builder.with_shape(&shape);
}

/// Runs library code, turning a panic inside it into an error message (the library is
/// not trusted never to panic on damaged input).
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".into());
        format!("HDF5 library failure: {msg}")
    })
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

/// A dataset read into memory: flat row-major data and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    /// The elements, row-major.
    pub data: Vec<T>,
    /// The dimensions (empty for a scalar dataset).
    pub shape: Vec<usize>,
}

/// What an object in a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A group.
    Group,
    /// A dataset.
    Dataset,
}

/// One dimension of an expected shape, for [`H5File::read_f64_shaped`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Any size, shown by name (`n`).
    Any(&'static str),
    /// Exactly this size.
    Is(usize),
    /// Exactly this size, shown with its name (`S=256`).
    Named(&'static str, usize),
}

impl Dim {
    fn accepts(self, d: usize) -> bool {
        match self {
            Dim::Any(_) => true,
            Dim::Is(n) | Dim::Named(_, n) => n == d,
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Any(name) => write!(f, "{name}"),
            Dim::Is(n) => write!(f, "{n}"),
            Dim::Named(name, n) => write!(f, "{name}={n}"),
        }
    }
}

/// An expected shape as `[n,3]`.
pub fn dims_string(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims.iter().map(Dim::to_string).collect();
    format!("[{}]", parts.join(","))
}

/// An HDF5 file opened for reading (lazily; see the module documentation).
pub struct H5File {
    path: PathBuf,
    inner: lib::File,
    /// The open file `inner` reads from, for parallel reads of contiguous data (`None`
    /// when the file was read into memory).
    handle: Option<Arc<std::fs::File>>,
    /// The whole file in memory, read at the first failure of the lazy reader (see
    /// [`on`](Self::on)).
    memory: OnceLock<Option<lib::File>>,
    /// hdf5-reader's view of the same bytes, opened at the first read hdf5-pure refuses.
    fallback: OnceLock<Result<fallback::Hdf5File, String>>,
}

/// One run of a façade operation on one of the library's views of the file: the lazily
/// read file or the whole file in memory.
struct View<'a> {
    lib: &'a lib::File,
    /// Where a parallel read fetches contiguous bytes.
    bytes: Bytes<'a>,
    /// Set when the library failed (an error other than an absent object, or a panic).
    failed: Cell<bool>,
}

impl View<'_> {
    /// Notes a failure of the library and passes `e` on.
    fn failed<E>(&self, e: E) -> E {
        self.failed.set(true);
        e
    }

    /// The object a lookup found; `None` when it found none, noting any other error.
    fn lookup<T>(&self, found: Result<T, lib::Error>) -> Option<T> {
        match found {
            Ok(object) => Some(object),
            Err(lib::Error::NotAGroup(_) | lib::Error::NotADataset(_)) => None,
            Err(lib::Error::Format(lib::FormatError::PathNotFound(_))) => None,
            Err(_) => self.failed(None),
        }
    }

    /// The value of a guarded call, noting a panic.
    fn panicked<T>(&self, outcome: Result<T, String>) -> Option<T> {
        outcome.map_err(|e| self.failed(e)).ok()
    }
}

impl fmt::Debug for H5File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H5File").field("path", &self.path).finish()
    }
}

/// Element classes, for conversion decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Float,
    Signed,
    Unsigned,
}

impl H5File {
    /// Opens `path`: a clean error when it is missing, not HDF5, truncated or damaged.
    ///
    /// The file is read lazily, with positioned reads, rather than copied into memory:
    /// opening costs a few small reads whatever the file's size. Where that open fails
    /// (or the file is no regular file), the file is read into memory and opened from
    /// there, whose error is the one reported.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, H5Error> {
        let path = path.as_ref().to_path_buf();
        match Self::open_positioned(&path) {
            Some(file) => Ok(file),
            // Said without reading a file that is not HDF5 whole.
            None if matches!(lib::is_hdf5(&path), Ok(false)) => Err(H5Error::NotHdf5 { file: path }),
            None => Self::open_in_memory(path),
        }
    }

    /// The lazy open; `None` where anything is amiss, for [`open_in_memory`](Self::open_in_memory)
    /// to describe.
    fn open_positioned(path: &Path) -> Option<Self> {
        let handle = Arc::new(std::fs::File::open(path).ok()?);
        let len = handle.metadata().ok().filter(|m| m.is_file())?.len();
        let source = PositionedSource {
            file: Arc::clone(&handle),
            len,
        };
        let properties = lib::FileAccessProperties::new()
            .with_metadata_cache(lib::MetadataCacheConfig::new(METADATA_CACHE_BYTES));
        let inner = guard(|| lib::File::from_source_with_options(source, properties))
            .ok()?
            .ok()?;
        let file = Self {
            path: path.to_path_buf(),
            inner,
            handle: Some(handle),
            memory: OnceLock::new(),
            fallback: OnceLock::new(),
        };
        file.check_length(len).ok()?;
        file.check_root().ok()?;
        Some(file)
    }

    /// Reads the whole file into memory and opens it from there.
    fn open_in_memory(path: PathBuf) -> Result<Self, H5Error> {
        let bytes = std::fs::read(&path).map_err(|source| H5Error::Io {
            file: path.clone(),
            action: "cannot open",
            source,
        })?;
        Self::from_bytes(path, bytes)
    }

    /// Opens an HDF5 file image held in memory (a file received or built elsewhere), named
    /// `path` in errors: the same checks and errors as [`open`](Self::open), every read
    /// served from `bytes` (the library's in-memory reader, which `open` also falls back to).
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<Self, H5Error> {
        let path = path.into();
        if !lib::is_hdf5_bytes(&bytes) {
            return Err(H5Error::NotHdf5 { file: path });
        }
        let len = bytes.len() as u64;
        let opened = guard(|| lib::File::from_bytes(bytes));
        match opened {
            Ok(Ok(inner)) => {
                let file = Self {
                    path,
                    inner,
                    handle: None,
                    memory: OnceLock::new(),
                    fallback: OnceLock::new(),
                };
                file.check_length(len)?;
                file.check_root()?;
                Ok(file)
            }
            Ok(Err(e)) => Err(H5Error::Damaged {
                file: path,
                detail: e.to_string(),
            }),
            Err(detail) => Err(H5Error::Damaged { file: path, detail }),
        }
    }

    /// A file shorter than its superblock's end-of-file address was cut short (as the HDF5
    /// library itself reports).
    fn check_length(&self, len: u64) -> Result<(), H5Error> {
        let sb = self.inner.superblock();
        let stored = sb.base_address.get().saturating_add(sb.eof_address);
        if len < stored {
            let detail = format!("truncated: the superblock says {stored} bytes, the file has {len}");
            return Err(self.damaged(detail));
        }
        Ok(())
    }

    /// Reads the root group once so that a damaged header is reported at open.
    fn check_root(&self) -> Result<(), H5Error> {
        let listed = guard(|| {
            let root = self.inner.root();
            root.groups()?;
            root.datasets()?;
            root.attrs().map(|_| ())
        });
        match listed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.damaged(e.to_string())),
            Err(detail) => Err(self.damaged(detail)),
        }
    }

    fn damaged(&self, detail: String) -> H5Error {
        H5Error::Damaged {
            file: self.path.clone(),
            detail,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An [`H5Error::Unexpected`] about an object of this file.
    pub fn unexpected(
        &self,
        object: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> H5Error {
        H5Error::unexpected(&self.path, object, expected, found)
    }

    fn not_found(&self, object: String) -> H5Error {
        H5Error::NotFound {
            file: self.path.clone(),
            object,
        }
    }

    fn read_error(&self, object: String, detail: impl fmt::Display) -> H5Error {
        let mut detail = detail.to_string();
        if detail.contains("layout version: 5") {
            detail.push_str(LAYOUT_V5_HINT);
        }
        H5Error::Read {
            file: self.path.clone(),
            object,
            detail,
        }
    }

    /// Runs the façade operation `op` on the library's view of the file. Where the file is
    /// read lazily and the library failed on the way (anything but an absent object),
    /// runs it again on the whole file read into memory and answers that instead: the
    /// library's lazy reader describes some damage differently from its in-memory one,
    /// which stays the reference for every answer about a damaged file.
    fn on<R>(&self, op: impl Fn(&View<'_>) -> R) -> R {
        let first = self.view(&self.inner);
        let out = op(&first);
        if !first.failed.get() || self.handle.is_none() {
            return out;
        }
        match self.in_memory() {
            Some(lib) => op(&self.view(lib)),
            None => out,
        }
    }

    fn view<'a>(&'a self, lib: &'a lib::File) -> View<'a> {
        let bytes = match &self.handle {
            Some(file) if std::ptr::eq(lib, &self.inner) => Bytes::File(file, lib.file_size()),
            _ => Bytes::Memory(lib.as_bytes()),
        };
        View {
            lib,
            bytes,
            failed: Cell::new(false),
        }
    }

    /// The whole file read into memory and opened there, once, for [`on`](Self::on) (`None`
    /// where that fails, or when `inner` is already that).
    fn in_memory(&self) -> Option<&lib::File> {
        let file = self.handle.as_ref()?;
        let held = self.memory.get_or_init(|| {
            let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
            let mut bytes = vec![0; len];
            read_exact_at(file, &mut bytes, 0).ok()?;
            guard(|| lib::File::from_bytes(bytes)).ok()?.ok()
        });
        held.as_ref()
    }

    /// What is at `path` (`/` is the root group), or `None`.
    pub fn kind(&self, path: &str) -> Option<Kind> {
        self.on(|v| self.kind_in(v, path))
    }

    fn kind_in(&self, v: &View<'_>, path: &str) -> Option<Kind> {
        let rel = relative(path);
        if rel.is_empty() {
            return Some(Kind::Group);
        }
        let found = guard(|| {
            if v.lookup(v.lib.group(&rel)).is_some() {
                Some(Kind::Group)
            } else if v.lookup(v.lib.dataset(&rel)).is_some() {
                Some(Kind::Dataset)
            } else {
                None
            }
        });
        v.panicked(found).flatten()
    }

    /// True when a group or dataset exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.kind(path).is_some()
    }

    /// True when a dataset exists at `path`.
    pub fn has_dataset(&self, path: &str) -> bool {
        self.kind(path) == Some(Kind::Dataset)
    }

    /// True when a group exists at `path`.
    pub fn has_group(&self, path: &str) -> bool {
        self.kind(path) == Some(Kind::Group)
    }

    fn group(&self, v: &View<'_>, path: &str) -> Result<lib::Group, H5Error> {
        let rel = relative(path);
        if rel.is_empty() {
            return Ok(v.lib.root());
        }
        let object = format!("group {}", canonical(path));
        match v.panicked(guard(|| v.lookup(v.lib.group(&rel)))).flatten() {
            Some(g) => Ok(g),
            None if self.kind_in(v, path) == Some(Kind::Dataset) => {
                Err(self.unexpected(object, "a group", "a dataset"))
            }
            None => Err(self.not_found(object)),
        }
    }

    fn dataset(&self, v: &View<'_>, path: &str) -> Result<lib::Dataset, H5Error> {
        let rel = relative(path);
        let object = format!("dataset {}", canonical(path));
        match v.panicked(guard(|| v.lookup(v.lib.dataset(&rel)))).flatten() {
            Some(d) => Ok(d),
            None if self.kind_in(v, path) == Some(Kind::Group) => {
                Err(self.unexpected(object, "a dataset", "a group"))
            }
            None => Err(self.not_found(object)),
        }
    }

    /// Names of the child groups of the group at `path`, sorted.
    pub fn groups(&self, path: &str) -> Result<Vec<String>, H5Error> {
        self.on(|v| {
            let group = self.group(v, path)?;
            self.listing(v, path, || group.groups())
        })
    }

    /// Names of the datasets in the group at `path`, sorted.
    pub fn datasets(&self, path: &str) -> Result<Vec<String>, H5Error> {
        self.on(|v| {
            let group = self.group(v, path)?;
            self.listing(v, path, || group.datasets())
        })
    }

    fn listing(
        &self,
        v: &View<'_>,
        path: &str,
        f: impl FnOnce() -> Result<Vec<String>, lib::Error>,
    ) -> Result<Vec<String>, H5Error> {
        let object = format!("group {}", canonical(path));
        let mut names = self.library(v, object, f)?;
        names.sort();
        Ok(names)
    }

    /// Runs the library call `f` about `object`: its panics and errors become read errors
    /// (noted on `v` as the library's failures).
    fn library<T, E: fmt::Display>(
        &self,
        v: &View<'_>,
        object: String,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, H5Error> {
        match guard(f) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(v.failed(self.read_error(object, e))),
            Err(detail) => Err(v.failed(self.read_error(object, detail))),
        }
    }

    /// The shape of the dataset at `path`.
    pub fn shape(&self, path: &str) -> Result<Vec<usize>, H5Error> {
        self.on(|v| {
            let ds = self.dataset(v, path)?;
            self.shape_of(v, path, &ds)
        })
    }

    fn shape_of(&self, v: &View<'_>, path: &str, ds: &lib::Dataset) -> Result<Vec<usize>, H5Error> {
        let object = format!("dataset {}", canonical(path));
        self.library(v, object.clone(), || ds.shape())?
            .into_iter()
            .map(|d| usize::try_from(d).map_err(|_| self.read_error(object.clone(), "dimension too large")))
            .collect()
    }

    /// The element type of the dataset at `path`, e.g. `f32` or `u64`.
    pub fn type_name(&self, path: &str) -> Result<String, H5Error> {
        self.on(|v| {
            let ds = self.dataset(v, path)?;
            self.dtype_of(v, path, &ds).map(|d| d.to_string())
        })
    }

    fn dtype_of(&self, v: &View<'_>, path: &str, ds: &lib::Dataset) -> Result<lib::DType, H5Error> {
        self.library(v, format!("dataset {}", canonical(path)), || ds.dtype())
    }

    fn class_of(&self, v: &View<'_>, path: &str, ds: &lib::Dataset) -> Result<Class, H5Error> {
        use lib::DType as D;
        let dtype = self.dtype_of(v, path, ds)?;
        match dtype {
            D::F32 | D::F64 => Ok(Class::Float),
            D::I8 | D::I16 | D::I32 | D::I64 => Ok(Class::Signed),
            D::U8 | D::U16 | D::U32 | D::U64 => Ok(Class::Unsigned),
            other => Err(self.unexpected(
                format!("dataset {}", canonical(path)),
                "a numeric dataset (float or integer)",
                format!("element type {other}"),
            )),
        }
    }

    /// The shape, refusing one that the dataset's storage cannot hold ([`storable_elements`]):
    /// a damaged dimension would otherwise size the output, hundreds of megabytes from a
    /// file of kilobytes, or an allocation that aborts the process.
    fn plausible_shape(&self, v: &View<'_>, path: &str, ds: &lib::Dataset) -> Result<Vec<usize>, H5Error> {
        let shape = self.shape_of(v, path, ds)?;
        let elements = shape.iter().fold(1u128, |acc, &d| acc.saturating_mul(d as u128));
        let (limit, storage) = storable_elements(ds, v.lib.file_size());
        if elements > limit {
            let found = format!(
                "shape {} ({elements} elements) in {storage}",
                shape_string(&shape)
            );
            let object = format!("dataset {}", canonical(path));
            return Err(self.unexpected(object, "a shape its storage can hold", found));
        }
        Ok(shape)
    }

    /// Reads a numeric dataset as f64 (floats and integers of any width converted) with
    /// its shape.
    pub fn read_f64(&self, path: &str) -> Result<Array<f64>, H5Error> {
        self.on(|v| {
            let ds = self.dataset(v, path)?;
            self.class_of(v, path, &ds)?;
            let shape = self.plausible_shape(v, path, &ds)?;
            let data = self.read_elements(v, path, &ds, &shape, || ds.read_f64())?;
            self.checked(path, data, shape)
        })
    }

    /// Reads an integer dataset as u64 (any width; negative values are an error) with its
    /// shape. Float datasets are refused rather than rounded.
    pub fn read_u64(&self, path: &str) -> Result<Array<u64>, H5Error> {
        self.on(|v| {
            let ds = self.dataset(v, path)?;
            let class = self.class_of(v, path, &ds)?;
            let shape = self.plausible_shape(v, path, &ds)?;
            let data = match class {
                Class::Float => {
                    let t = self.dtype_of(v, path, &ds)?;
                    let found = format!("element type {t}");
                    return Err(self.unexpected(
                        format!("dataset {}", canonical(path)),
                        "integer elements",
                        found,
                    ));
                }
                Class::Unsigned => self.read_elements(v, path, &ds, &shape, || ds.read_u64())?,
                Class::Signed => {
                    let signed = self.read_elements(v, path, &ds, &shape, || ds.read_i64())?;
                    self.non_negative(path, signed)?
                }
            };
            self.checked(path, data, shape)
        })
    }

    /// Signed integers as u64, or an error naming the first negative one.
    fn non_negative(&self, path: &str, signed: Vec<i64>) -> Result<Vec<u64>, H5Error> {
        match signed.iter().position(|&x| x < 0) {
            Some(i) => {
                let found = format!("{} at index {i}", signed[i]);
                let object = format!("dataset {}", canonical(path));
                Err(self.unexpected(object, "non-negative integers", found))
            }
            None => Ok(signed.into_iter().map(|x| x as u64).collect()),
        }
    }

    /// All elements of `ds` (of `shape`) as `T`: read in parallel where [`read_parallel`]
    /// can, else by the library's whole-dataset read `f` (through [`read_with`](Self::read_with),
    /// which also gives any error).
    fn read_elements<T: Element + FromNative>(
        &self,
        v: &View<'_>,
        path: &str,
        ds: &lib::Dataset,
        shape: &[usize],
        f: impl FnOnce() -> Result<Vec<T>, lib::Error>,
    ) -> Result<Vec<T>, H5Error> {
        if !stored_inside(ds, v.bytes) {
            let object = format!("dataset {}", canonical(path));
            return Err(v.failed(self.read_error(object, "storage outside the file")));
        }
        match read_parallel(ds, shape, v.bytes) {
            Some(data) => Ok(data),
            None => self.read_with(v, path, f),
        }
    }

    /// Runs the hdf5-pure read `f`; where it refuses the data-layout message version 5,
    /// reads the dataset with hdf5-reader instead.
    fn read_with<T: FromNative>(
        &self,
        v: &View<'_>,
        path: &str,
        f: impl FnOnce() -> Result<Vec<T>, lib::Error>,
    ) -> Result<Vec<T>, H5Error> {
        let object = format!("dataset {}", canonical(path));
        match guard(f) {
            Ok(Ok(data)) => Ok(data),
            Ok(Err(e)) if is_layout_v5(&e) => self.read_fallback(v, path).map_err(|detail| {
                v.failed(self.read_error(object, format!("{e}; hdf5-reader also failed: {detail}")))
            }),
            Ok(Err(e)) => Err(v.failed(self.read_error(object, e))),
            Err(detail) => Err(v.failed(self.read_error(object, detail))),
        }
    }

    /// Reads the dataset at `path` with hdf5-reader (opened once per file, on a copy of the
    /// bytes: those `v` holds in memory, or else the file's, read now), widened to `T`.
    fn read_fallback<T: FromNative>(&self, v: &View<'_>, path: &str) -> Result<Vec<T>, String> {
        let opened = self.fallback.get_or_init(|| {
            let held = v.lib.as_bytes();
            let bytes = match held.is_empty() {
                true => Cow::Owned(std::fs::read(&self.path).map_err(|e| e.to_string())?),
                false => Cow::Borrowed(held),
            };
            guard(|| fallback::Hdf5File::from_bytes(&bytes)).and_then(|r| r.map_err(|e| e.to_string()))
        });
        let file = opened.as_ref().map_err(Clone::clone)?;
        let ds = self.dataset(v, path).map_err(|e| e.to_string())?;
        let expected = self
            .shape_of(v, path, &ds)
            .map_err(|e| e.to_string())?
            .iter()
            .product();
        let native = guard(|| read_native(file, &canonical(path), expected)).and_then(|r| r)?;
        T::from_native(native)
    }

    fn checked<T>(&self, path: &str, data: Vec<T>, shape: Vec<usize>) -> Result<Array<T>, H5Error> {
        let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if expected != Some(data.len()) {
            let expected = expected.map_or("too many".into(), |n| n.to_string());
            return Err(self.unexpected(
                format!("dataset {}", canonical(path)),
                format!("{expected} elements for shape {}", shape_string(&shape)),
                format!("{} elements", data.len()),
            ));
        }
        Ok(Array { data, shape })
    }

    /// Checks that the dataset at `path` has the shape `dims` and returns its shape.
    pub fn expect_shape(&self, path: &str, dims: &[Dim]) -> Result<Vec<usize>, H5Error> {
        let shape = self.shape(path)?;
        self.check_dims(path, &shape, dims)?;
        Ok(shape)
    }

    fn check_dims(&self, path: &str, shape: &[usize], dims: &[Dim]) -> Result<(), H5Error> {
        let fits = shape.len() == dims.len() && dims.iter().zip(shape).all(|(d, &n)| d.accepts(n));
        if fits {
            return Ok(());
        }
        Err(self.unexpected(
            format!("dataset {}", canonical(path)),
            format!("shape {}", dims_string(dims)),
            format!("shape {}", shape_string(shape)),
        ))
    }

    /// [`read_f64`](Self::read_f64) after checking the shape against `dims`.
    pub fn read_f64_shaped(&self, path: &str, dims: &[Dim]) -> Result<Array<f64>, H5Error> {
        self.expect_shape(path, dims)?;
        self.read_f64(path)
    }

    /// [`read_u64`](Self::read_u64) after checking the shape against `dims`.
    pub fn read_u64_shaped(&self, path: &str, dims: &[Dim]) -> Result<Array<u64>, H5Error> {
        self.expect_shape(path, dims)?;
        self.read_u64(path)
    }

    /// All attributes of the group or dataset at `path` (`/` for the root), by name.
    /// Attributes of types we do not model (compound, enum, ...) are left out.
    pub fn attrs(&self, path: &str) -> Result<BTreeMap<String, Attr>, H5Error> {
        self.on(|v| {
            let object = format!("attributes of {}", canonical(path));
            let raw = match self.kind_in(v, path) {
                Some(Kind::Group) => {
                    let g = self.group(v, path)?;
                    self.library(v, object, || g.attrs())?
                }
                Some(Kind::Dataset) => {
                    let d = self.dataset(v, path)?;
                    self.library(v, object, || d.attrs())?
                }
                None => return Err(self.not_found(format!("object {}", canonical(path)))),
            };
            Ok(raw
                .iter()
                .filter_map(|(k, v)| attr_from_lib(v).map(|a| (k.clone(), a)))
                .collect())
        })
    }

    /// Names of the attributes of the object at `path`, sorted.
    pub fn attr_names(&self, path: &str) -> Result<Vec<String>, H5Error> {
        Ok(self.attrs(path)?.into_keys().collect())
    }

    /// The attribute `name` of the object at `path`, or `None` when it is absent.
    pub fn attr_opt(&self, path: &str, name: &str) -> Result<Option<Attr>, H5Error> {
        Ok(self.attrs(path)?.remove(name))
    }

    /// The attribute `name` of the object at `path`; an error naming both when absent.
    pub fn attr(&self, path: &str, name: &str) -> Result<Attr, H5Error> {
        self.attr_opt(path, name)?
            .ok_or_else(|| self.not_found(attr_object(path, name)))
    }

    fn attr_as<T>(
        &self,
        path: &str,
        name: &str,
        expected: &str,
        convert: impl FnOnce(&Attr) -> Option<T>,
    ) -> Result<T, H5Error> {
        let value = self.attr(path, name)?;
        convert(&value).ok_or_else(|| {
            let found = format!("{} {value}", value.type_name());
            self.unexpected(attr_object(path, name), expected, found)
        })
    }

    /// A string attribute.
    pub fn attr_str(&self, path: &str, name: &str) -> Result<String, H5Error> {
        self.attr_as(path, name, "a string", |a| a.as_str().map(str::to_string))
    }

    /// A single-number attribute as f64 (integers converted).
    pub fn attr_f64(&self, path: &str, name: &str) -> Result<f64, H5Error> {
        self.attr_as(path, name, "one number", Attr::as_f64)
    }

    /// A single-integer attribute as i64.
    pub fn attr_i64(&self, path: &str, name: &str) -> Result<i64, H5Error> {
        self.attr_as(path, name, "one integer", Attr::as_i64)
    }

    /// A single-integer attribute as u64.
    pub fn attr_u64(&self, path: &str, name: &str) -> Result<u64, H5Error> {
        self.attr_as(path, name, "one non-negative integer", Attr::as_u64)
    }

    /// A numeric array attribute as f64 (a scalar reads as one element).
    pub fn attr_f64s(&self, path: &str, name: &str) -> Result<Vec<f64>, H5Error> {
        self.attr_as(path, name, "numbers", Attr::to_f64s)
    }

    /// An integer array attribute as i64 (a scalar reads as one element).
    pub fn attr_i64s(&self, path: &str, name: &str) -> Result<Vec<i64>, H5Error> {
        self.attr_as(path, name, "integers", Attr::to_i64s)
    }

    /// An integer array attribute as u64 (a scalar reads as one element).
    pub fn attr_u64s(&self, path: &str, name: &str) -> Result<Vec<u64>, H5Error> {
        self.attr_as(path, name, "non-negative integers", Attr::to_u64s)
    }
}

/// Elements one stored byte can decompress to at most: deflate's best ratio (1032:1).
const DEFLATE_RATIO: u128 = 1032;

/// Elements a chunked dataset may hold beyond its stored chunks, read as its fill value
/// (chunks never written): 1 Mi, 8 MiB as f64. A sparse dataset with more is refused rather
/// than a damaged dimension believed.
const FILL_ELEMENTS: u128 = 1 << 20;

/// The most elements the storage of `ds` can hold, with that storage in words: contiguous
/// and compact storage, its bytes over the element size; chunked storage, each stored
/// chunk's elements (no more than its bytes decompress to) plus [`FILL_ELEMENTS`]; anything
/// else (or a chunk index that cannot be listed), what the whole file decompresses to plus
/// [`FILL_ELEMENTS`].
fn storable_elements(ds: &lib::Dataset, file_size: u64) -> (u128, String) {
    let width = u128::from(ds.element_size().unwrap_or(1).max(1));
    let decompressed = |bytes: u64| u128::from(bytes) * DEFLATE_RATIO / width;
    let chunked = match ds.layout() {
        Ok(lib::Layout::Contiguous { size, .. } | lib::Layout::Compact { size }) => {
            return (u128::from(size) / width, format!("{size} bytes of storage"));
        }
        Ok(lib::Layout::Chunked { chunk_shape, .. }) => ds.chunks().ok().map(|c| (chunk_shape, c)),
        Ok(_) | Err(_) => None,
    };
    let Some((chunk_shape, chunks)) = chunked else {
        let whole = decompressed(file_size).saturating_add(FILL_ELEMENTS);
        return (whole, format!("a file of {file_size} bytes"));
    };
    let per_chunk = chunk_shape
        .iter()
        .fold(1u128, |acc, &d| acc.saturating_mul(u128::from(d)));
    let stored = chunks
        .iter()
        .map(|c| per_chunk.min(decompressed(c.storage_size)))
        .fold(0u128, u128::saturating_add);
    let storage = format!("{} stored chunks of {per_chunk} elements", chunks.len());
    (stored.saturating_add(FILL_ELEMENTS), storage)
}

/// Advice for the one layout hdf5-pure cannot read, shown where hdf5-reader failed too.
const LAYOUT_V5_HINT: &str = " (a chunked dataset in the HDF5 2.0 format, as written with \
libver='latest' by HDF5 >= 2.0; rewrite the file with h5py's libver='v114' or h5repack)";

/// True for hdf5-pure's refusal of the data-layout message version 5.
fn is_layout_v5(e: &lib::Error) -> bool {
    matches!(e, lib::Error::Format(lib::FormatError::InvalidLayoutVersion(5)))
}

/// A dataset's elements as read by the fallback, widened by class.
enum Native {
    Float(Vec<f64>),
    Unsigned(Vec<u64>),
    Signed(Vec<i64>),
}

impl Native {
    fn class(&self) -> &'static str {
        match self {
            Native::Float(_) => "float",
            Native::Unsigned(_) => "unsigned integer",
            Native::Signed(_) => "signed integer",
        }
    }
}

/// The element types [`H5File::read_with`] returns, built from the fallback's [`Native`].
trait FromNative: Sized {
    fn from_native(n: Native) -> Result<Vec<Self>, String>;
}

impl FromNative for f64 {
    fn from_native(n: Native) -> Result<Vec<Self>, String> {
        Ok(match n {
            Native::Float(v) => v,
            Native::Unsigned(v) => v.into_iter().map(|x| x as f64).collect(),
            Native::Signed(v) => v.into_iter().map(|x| x as f64).collect(),
        })
    }
}

impl FromNative for u64 {
    fn from_native(n: Native) -> Result<Vec<Self>, String> {
        match n {
            Native::Unsigned(v) => Ok(v),
            other => Err(format!(
                "expected unsigned integers, found {} elements",
                other.class()
            )),
        }
    }
}

impl FromNative for i64 {
    fn from_native(n: Native) -> Result<Vec<Self>, String> {
        match n {
            Native::Signed(v) => Ok(v),
            other => Err(format!(
                "expected signed integers, found {} elements",
                other.class()
            )),
        }
    }
}

/// Reads the numeric dataset `path` (of `expected` elements, the shape hdf5-pure reported)
/// with hdf5-reader.
fn read_native(file: &fallback::Hdf5File, path: &str, expected: usize) -> Result<Native, String> {
    use fallback::Datatype as D;
    let ds = file.dataset(path).map_err(|e| e.to_string())?;
    let n = ds.num_elements().map_err(|e| e.to_string())?;
    if n != expected as u64 {
        return Err(format!(
            "{n} elements, where the dataspace read first holds {expected}"
        ));
    }
    Ok(match ds.dtype().clone() {
        D::FloatingPoint { size: 4, .. } => Native::Float(widen::<f32, f64>(&ds, expected)?),
        D::FloatingPoint { size: 8, .. } => Native::Float(widen::<f64, f64>(&ds, expected)?),
        D::FixedPoint {
            size, signed: false, ..
        } => Native::Unsigned(match size {
            1 => widen::<u8, u64>(&ds, expected)?,
            2 => widen::<u16, u64>(&ds, expected)?,
            4 => widen::<u32, u64>(&ds, expected)?,
            8 => widen::<u64, u64>(&ds, expected)?,
            _ => return Err(format!("unsigned integers of {size} bytes")),
        }),
        D::FixedPoint {
            size, signed: true, ..
        } => Native::Signed(match size {
            1 => widen::<i8, i64>(&ds, expected)?,
            2 => widen::<i16, i64>(&ds, expected)?,
            4 => widen::<i32, i64>(&ds, expected)?,
            8 => widen::<i64, i64>(&ds, expected)?,
            _ => return Err(format!("signed integers of {size} bytes")),
        }),
        other => return Err(format!("a non-numeric element type {other:?}")),
    })
}

/// All `n` elements of `ds` read as `T` (the file's own type), converted to `U`.
fn widen<T, U>(ds: &fallback::Dataset, n: usize) -> Result<Vec<U>, String>
where
    T: fallback::H5Type + Copy + Default,
    U: From<T>,
{
    let mut raw = vec![T::default(); n];
    ds.read_into(&mut raw).map_err(|e| e.to_string())?;
    Ok(raw.into_iter().map(U::from).collect())
}

// ---------------------------------------------------------------------------------------------
// Fast reads: positioned file access, parallel row windows, one-pass conversion
// ---------------------------------------------------------------------------------------------

/// Metadata bytes (object headers, B-tree nodes, heaps) the lazy open keeps, so that finding
/// the same objects again does not read the file again.
const METADATA_CACHE_BYTES: usize = 4 << 20;

/// Stored bytes per window of a parallel read of contiguous storage: small enough for the
/// scratch buffer to stay in cache between the read and the conversion.
const CONTIGUOUS_WINDOW_BYTES: usize = 256 << 10;

/// Stored bytes per window of a parallel read of chunked storage, about (whole bands of
/// chunks, at least one): small enough to spread a dataset of a few MB over the threads,
/// large enough that the per-window work (a walk of the chunk index) stays negligible.
const CHUNKED_WINDOW_BYTES: usize = 1 << 20;

/// A file read with positioned reads (`pread`): no seek, hence no lock, so the threads of a
/// parallel read fetch their windows at once.
struct PositionedSource {
    file: Arc<std::fs::File>,
    len: u64,
}

impl lib::Source for PositionedSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), lib::FormatError> {
        let length = buf.len() as u64;
        let end = offset
            .checked_add(length)
            .ok_or(lib::FormatError::OffsetOverflow { offset, length })?;
        if end > self.len {
            return Err(lib::FormatError::UnexpectedEof {
                expected: usize::try_from(end).unwrap_or(usize::MAX),
                available: usize::try_from(self.len).unwrap_or(usize::MAX),
            });
        }
        read_exact_at(&self.file, buf, offset).map_err(|e| lib::FormatError::Source(e.to_string()))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Elsewhere no positioned reads: the lazy open fails and the file is read into memory.
#[cfg(not(any(unix, windows)))]
fn read_exact_at(_: &std::fs::File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The scalar types a parallel read decodes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    F32,
    F64,
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
}

/// A stored element type a parallel read decodes: an IEEE float of 4 or 8 bytes or an
/// integer of 1, 2, 4 or 8 bytes using all its bits (the library's "standard layout"), in
/// either byte order. Anything else is left to the library.
#[derive(Debug, Clone, Copy)]
struct Stored {
    scalar: Scalar,
    big_endian: bool,
}

impl Stored {
    fn of(dt: &lib::Datatype) -> Option<Self> {
        use lib::{Datatype as D, FloatingPointLayout as F};
        let (scalar, order) = match dt {
            D::FloatingPoint {
                size: 4,
                byte_order,
                layout,
            } if *layout == F::IEEE754_BINARY32 => (Scalar::F32, byte_order),
            D::FloatingPoint {
                size: 8,
                byte_order,
                layout,
            } if *layout == F::IEEE754_BINARY64 => (Scalar::F64, byte_order),
            D::FixedPoint {
                size,
                byte_order,
                layout,
            } if layout.bit_offset == 0 && u32::from(layout.bit_precision) == size * 8 => {
                (integer(*size, layout.signed)?, byte_order)
            }
            _ => return None,
        };
        let big_endian = match order {
            lib::DatatypeByteOrder::LittleEndian => false,
            lib::DatatypeByteOrder::BigEndian => true,
            lib::DatatypeByteOrder::Vax => return None,
        };
        Some(Self { scalar, big_endian })
    }

    /// Bytes per element.
    fn width(self) -> usize {
        match self.scalar {
            Scalar::U8 | Scalar::I8 => 1,
            Scalar::U16 | Scalar::I16 => 2,
            Scalar::F32 | Scalar::U32 | Scalar::I32 => 4,
            Scalar::F64 | Scalar::U64 | Scalar::I64 => 8,
        }
    }
}

fn integer(size: u32, signed: bool) -> Option<Scalar> {
    Some(match (size, signed) {
        (1, false) => Scalar::U8,
        (2, false) => Scalar::U16,
        (4, false) => Scalar::U32,
        (8, false) => Scalar::U64,
        (1, true) => Scalar::I8,
        (2, true) => Scalar::I16,
        (4, true) => Scalar::I32,
        (8, true) => Scalar::I64,
        _ => return None,
    })
}

/// Decodes stored bytes into a slice of output elements of the same count.
type Decoder<T> = fn(&[u8], &mut [T]);

/// `out[i] = f(bytes of element i)`, one pass, no allocation.
fn decode_with<const N: usize, T>(raw: &[u8], out: &mut [T], f: impl Fn([u8; N]) -> T) {
    for (o, b) in out.iter_mut().zip(raw.chunks_exact(N)) {
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(b);
        *o = f(bytes);
    }
}

/// The [`Decoder`] of stored `$s` (in the byte order of `$from`) to `$t`, converting with
/// `as` as the library's own reads do (exact widening; nearest f64 for wide integers).
macro_rules! decoder {
    ($from:expr, $s:ty => $t:ty) => {
        if $from.big_endian {
            (|raw, out| decode_with(raw, out, |b| <$s>::from_be_bytes(b) as $t)) as Decoder<$t>
        } else {
            (|raw, out| decode_with(raw, out, |b| <$s>::from_le_bytes(b) as $t)) as Decoder<$t>
        }
    };
}

/// The element types a parallel read produces: f64 from any number, u64 from unsigned
/// integers, i64 from signed integers (what `read_f64`, `read_u64` and `read_i64` of the
/// library give for them).
trait Element: lib::H5Element + Copy + Default + Send + Sync {
    /// How elements stored as `from` become `Self`, or `None` where this type is not read
    /// from them.
    fn decoder(from: Stored) -> Option<Decoder<Self>>;
}

impl Element for f64 {
    fn decoder(from: Stored) -> Option<Decoder<f64>> {
        Some(match from.scalar {
            Scalar::F32 => decoder!(from, f32 => f64),
            Scalar::F64 => decoder!(from, f64 => f64),
            Scalar::U8 => decoder!(from, u8 => f64),
            Scalar::U16 => decoder!(from, u16 => f64),
            Scalar::U32 => decoder!(from, u32 => f64),
            Scalar::U64 => decoder!(from, u64 => f64),
            Scalar::I8 => decoder!(from, i8 => f64),
            Scalar::I16 => decoder!(from, i16 => f64),
            Scalar::I32 => decoder!(from, i32 => f64),
            Scalar::I64 => decoder!(from, i64 => f64),
        })
    }
}

impl Element for u64 {
    fn decoder(from: Stored) -> Option<Decoder<u64>> {
        Some(match from.scalar {
            Scalar::U8 => decoder!(from, u8 => u64),
            Scalar::U16 => decoder!(from, u16 => u64),
            Scalar::U32 => decoder!(from, u32 => u64),
            Scalar::U64 => decoder!(from, u64 => u64),
            _ => return None,
        })
    }
}

impl Element for i64 {
    fn decoder(from: Stored) -> Option<Decoder<i64>> {
        Some(match from.scalar {
            Scalar::I8 => decoder!(from, i8 => i64),
            Scalar::I16 => decoder!(from, i16 => i64),
            Scalar::I32 => decoder!(from, i32 => i64),
            Scalar::I64 => decoder!(from, i64 => i64),
            _ => return None,
        })
    }
}

/// Where a parallel read of contiguous storage fetches its bytes: the open file (positioned
/// reads) or the bytes held in memory.
#[derive(Clone, Copy)]
enum Bytes<'a> {
    /// The file and its length.
    File(&'a std::fs::File, u64),
    Memory(&'a [u8]),
}

impl Bytes<'_> {
    /// True when `len` bytes from `offset` are all there: checked before anything of that
    /// size is allocated (a damaged header can name any size).
    fn holds(self, offset: u64, len: u64) -> bool {
        let size = match self {
            Bytes::File(_, size) => size,
            Bytes::Memory(all) => all.len() as u64,
        };
        offset.checked_add(len).is_some_and(|end| end <= size)
    }

    /// Fills `buf` from `offset`; `None` where the bytes are not there.
    fn read(self, offset: u64, buf: &mut [u8]) -> Option<()> {
        match self {
            Bytes::File(file, _) => read_exact_at(file, buf, offset).ok(),
            Bytes::Memory(all) => {
                let start = usize::try_from(offset).ok()?;
                buf.copy_from_slice(all.get(start..start.checked_add(buf.len())?)?);
                Some(())
            }
        }
    }
}

/// A parallel read of one whole dataset (rank >= 1, not empty) as `T`.
struct Plan<T> {
    decode: Decoder<T>,
    /// Stored bytes per element.
    width: usize,
    rows: usize,
    /// Elements per row (the product of the other dimensions).
    row_elems: usize,
    total: usize,
}

impl<T: Element> Plan<T> {
    /// `None` for a type not decoded here (or not read as `T`), a scalar or an empty dataset.
    fn of(ds: &lib::Dataset, shape: &[usize]) -> Option<Self> {
        let stored = Stored::of(&ds.datatype().ok()?)?;
        let total = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
        let rows = *shape.first()?;
        if total == 0 {
            return None;
        }
        Some(Self {
            decode: T::decoder(stored)?,
            width: stored.width(),
            rows,
            row_elems: total / rows,
            total,
        })
    }

    fn row_bytes(&self) -> usize {
        self.row_elems * self.width
    }

    /// The output cut into windows of `window` rows, each filled by `fill(first row, its
    /// slice, a scratch buffer kept per thread)` on rayon's threads. `None` where one
    /// window would hold every row (the library's whole read is as good), a window fails,
    /// or the library panics.
    fn run<F>(&self, window: usize, fill: F) -> Option<Vec<T>>
    where
        F: Fn(u64, &mut [T], &mut Vec<u8>) -> Option<()> + Sync,
    {
        if window >= self.rows {
            return None;
        }
        let mut out = vec![T::default(); self.total];
        let done = guard(|| {
            out.par_chunks_mut(window * self.row_elems)
                .enumerate()
                .try_for_each_init(Vec::new, |scratch, (k, part)| {
                    fill((k * window) as u64, part, scratch)
                })
        });
        matches!(done, Ok(Some(()))).then_some(out)
    }

    /// Contiguous storage at `address` (absolute, `size` bytes): each window's bytes read
    /// straight from `bytes` into a scratch buffer and decoded into place.
    fn contiguous(&self, bytes: Bytes<'_>, address: u64, size: u64) -> Option<Vec<T>> {
        if size != (self.total as u64).checked_mul(self.width as u64)? || !bytes.holds(address, size) {
            return None;
        }
        let row_bytes = self.row_bytes();
        let window = window_rows(CONTIGUOUS_WINDOW_BYTES, row_bytes, 1);
        self.run(window, |first, part, scratch| {
            let len = part.len() * self.width;
            scratch.resize(len, 0);
            let offset = address.checked_add(first.checked_mul(row_bytes as u64)?)?;
            bytes.read(offset, &mut scratch[..len])?;
            (self.decode)(&scratch[..len], part);
            Some(())
        })
    }

    /// Chunked storage whose chunks the library reads (and decompresses): windows of whole
    /// bands of `band` rows, each read by `read_raw_rows` and decoded into place.
    fn chunked_by_library(&self, ds: &lib::Dataset, band: usize) -> Option<Vec<T>> {
        let window = window_rows(CHUNKED_WINDOW_BYTES, self.row_bytes(), band);
        self.run(window, |first, part, _| {
            let raw = ds
                .read_raw_rows(first, (part.len() / self.row_elems) as u64)
                .ok()?;
            (raw.len() == part.len() * self.width).then(|| (self.decode)(&raw, part))
        })
    }

    /// Chunked storage of a 1-D or 2-D dataset whose every chunk is stored, filtered by
    /// nothing, shuffle or deflate: each band of chunks (one slice of the output) on one
    /// thread, each chunk read from `bytes`, inflated, unshuffled and decoded into place.
    /// `None` for anything else (the library then reads it).
    fn chunked(&self, ds: &lib::Dataset, bytes: Bytes<'_>, chunk_shape: &[u64]) -> Option<Vec<T>> {
        let grid = ChunkGrid::new(self, chunk_shape)?;
        let filters = ds
            .filter_pipeline()
            .iter()
            .map(Step::of)
            .collect::<Option<Vec<_>>>()?;
        let bands = grid.bands(ds.chunks().ok()?, self.rows.div_ceil(grid.rows), bytes)?;
        let (width, expected) = (self.width, grid.chunk_bytes(self));
        let mut out = vec![T::default(); self.total];
        let done = guard(|| {
            out.par_chunks_mut(grid.rows * self.row_elems)
                .zip(bands.par_iter())
                .try_for_each_init(Scratch::default, |scratch, (part, chunks)| {
                    chunks.iter().try_for_each(|chunk| {
                        let data = scratch.unfilter(bytes, chunk, &filters, width, expected)?;
                        grid.place(self, chunk, data, part)
                    })
                })
        });
        matches!(done, Ok(Some(()))).then_some(out)
    }
}

/// The chunks of a 1-D or 2-D dataset seen as a `rows` x `cols` grid of elements (a 1-D
/// dataset is one column).
struct ChunkGrid {
    /// Chunk rows (a band of the output).
    rows: usize,
    /// Chunk columns.
    cols: usize,
    /// Dataset columns.
    width: usize,
}

impl ChunkGrid {
    fn new<T>(plan: &Plan<T>, chunk_shape: &[u64]) -> Option<Self> {
        let (rows, cols) = match *chunk_shape {
            [r] => (r, 1),
            [r, c] => (r, c),
            _ => return None,
        };
        let (rows, cols) = (usize::try_from(rows).ok()?, usize::try_from(cols).ok()?);
        (rows > 0 && cols > 0).then_some(Self {
            rows,
            cols,
            width: plan.row_elems,
        })
    }

    /// Stored bytes of one whole chunk, decompressed.
    fn chunk_bytes<T>(&self, plan: &Plan<T>) -> usize {
        self.rows * self.cols * plan.width
    }

    /// The chunks sorted into bands of rows (`bands` of them), or `None` unless every chunk
    /// of the grid is there exactly once, at a grid position, and stored inside the file.
    fn bands(&self, chunks: Vec<lib::Chunk>, bands: usize, bytes: Bytes<'_>) -> Option<Vec<Vec<lib::Chunk>>> {
        let per_band = self.width.div_ceil(self.cols);
        if bands.checked_mul(per_band) != Some(chunks.len()) {
            return None;
        }
        let mut out: Vec<Vec<lib::Chunk>> = (0..bands).map(|_| Vec::new()).collect();
        for chunk in chunks {
            if !bytes.holds(chunk.address, chunk.storage_size) {
                return None;
            }
            let (r, c) = self.origin(&chunk)?;
            if r % self.rows != 0 || c % self.cols != 0 || c >= self.width {
                return None;
            }
            out.get_mut(r / self.rows)?.push(chunk);
        }
        for band in &mut out {
            band.sort_by_key(|c| c.offset.get(1).copied());
            band.dedup_by_key(|c| c.offset.get(1).copied());
            if band.len() != per_band {
                return None;
            }
        }
        Some(out)
    }

    /// A chunk's first row and column.
    fn origin(&self, chunk: &lib::Chunk) -> Option<(usize, usize)> {
        let at = |k: usize| chunk.offset.get(k).map_or(Some(0), |&o| usize::try_from(o).ok());
        Some((at(0)?, at(1)?))
    }

    /// Decodes the decompressed chunk `data` into `band`, the output rows of its band
    /// (the chunk's part inside the dataset; edge chunks are stored whole).
    fn place<T>(&self, plan: &Plan<T>, chunk: &lib::Chunk, data: &[u8], band: &mut [T]) -> Option<()> {
        let (r, c) = self.origin(chunk)?;
        let rows = self.rows.min(plan.rows.checked_sub(r)?);
        let cols = self.cols.min(self.width - c);
        let (src_row, dst_row) = (self.cols * plan.width, self.width);
        if rows * dst_row > band.len() {
            return None;
        }
        if cols == self.width {
            // Whole rows: one run.
            (plan.decode)(&data[..rows * src_row], &mut band[..rows * dst_row]);
            return Some(());
        }
        for i in 0..rows {
            let src = &data[i * src_row..][..cols * plan.width];
            (plan.decode)(src, &mut band[i * dst_row + c..][..cols]);
        }
        Some(())
    }
}

/// A filter of a chunk pipeline decoded here.
#[derive(Debug, Clone, Copy)]
enum Step {
    Deflate,
    Shuffle,
}

impl Step {
    fn of(filter: &lib::Filter) -> Option<Self> {
        match filter.id {
            1 => Some(Step::Deflate),
            2 => Some(Step::Shuffle),
            _ => None,
        }
    }
}

/// Undoes HDF5's shuffle filter (`H5Z_FILTER_SHUFFLE`, HDF5 User's Guide, "Using the
/// shuffle filter"): byte `j` of element `i` is stored at `j * n + i` (`n` elements of
/// `width` bytes). `None` for a length that is not a whole number of elements (which the
/// library refuses too).
fn unshuffle(input: &[u8], width: usize, output: &mut Vec<u8>) -> Option<()> {
    output.clear();
    if width <= 1 {
        output.extend_from_slice(input);
        return Some(());
    }
    if !input.len().is_multiple_of(width) {
        return None;
    }
    output.resize(input.len(), 0);
    match width {
        2 => unshuffle_n::<2>(input, output),
        4 => unshuffle_n::<4>(input, output),
        8 => unshuffle_n::<8>(input, output),
        _ => return None,
    }
    Some(())
}

fn unshuffle_n<const W: usize>(input: &[u8], output: &mut [u8]) {
    let n = input.len() / W;
    for (i, element) in output.chunks_exact_mut(W).enumerate() {
        for (j, byte) in element.iter_mut().enumerate() {
            *byte = input[j * n + i];
        }
    }
}

/// Buffers one thread reuses from chunk to chunk.
#[derive(Default)]
struct Scratch {
    stored: Vec<u8>,
    plain: Vec<u8>,
}

impl Scratch {
    /// The chunk's bytes as stored, then with `filters` undone (in reverse order, skipping
    /// those its filter mask says were not applied; elements of `width` bytes); `None`
    /// unless they come to `expected` bytes.
    fn unfilter(
        &mut self,
        bytes: Bytes<'_>,
        chunk: &lib::Chunk,
        filters: &[Step],
        width: usize,
        expected: usize,
    ) -> Option<&[u8]> {
        let len = usize::try_from(chunk.storage_size).ok()?;
        self.stored.resize(len, 0);
        bytes.read(chunk.address, &mut self.stored)?;
        let mut in_stored = true;
        for (i, step) in filters.iter().enumerate().rev() {
            if i < 32 && (chunk.filter_mask >> i) & 1 == 1 {
                continue;
            }
            let (input, output) = match in_stored {
                true => (&self.stored, &mut self.plain),
                false => (&self.plain, &mut self.stored),
            };
            match step {
                // One byte of room past `expected`: a stream that has not ended (checksum
                // verified) by then fills it and is refused below, as the library does.
                Step::Deflate => {
                    *output = fallback::filters::deflate::decompress_with_limit(input, expected + 1).ok()?;
                }
                Step::Shuffle => unshuffle(input, width, output)?,
            }
            in_stored = !in_stored;
        }
        let data = if in_stored { &self.stored } else { &self.plain };
        (data.len() == expected).then_some(data.as_slice())
    }
}

/// False where the library's lazy reader would fetch bytes of `ds` from outside the file:
/// it sizes a chunk's buffer by what the chunk index says before reading, so a damaged index
/// could ask for any allocation. Such a dataset (and one whose chunks cannot be listed) is
/// left to the in-memory reader, which takes slices of the file instead. True for the
/// in-memory view, and where the layout does not parse (the read then fails on it first).
fn stored_inside(ds: &lib::Dataset, bytes: Bytes<'_>) -> bool {
    if matches!(bytes, Bytes::Memory(_)) {
        return true;
    }
    match ds.layout() {
        Ok(lib::Layout::Chunked { .. }) => ds
            .chunks()
            .is_ok_and(|chunks| chunks.iter().all(|c| bytes.holds(c.address, c.storage_size))),
        Ok(lib::Layout::Contiguous {
            address: Some(address),
            size,
        }) => bytes.holds(address, size),
        Ok(_) | Err(_) => true,
    }
}

/// Reads every element of `ds` (of `shape`) as `T` on rayon's threads, decoding each
/// stored element once, straight into the output: contiguous storage by positioned reads
/// from `bytes`, chunked storage by windows of whole chunk bands that the library reads
/// and decompresses.
///
/// `None` (the caller then reads the library's way, which also reports any error) for a
/// type or layout not handled here, a dataset that fits in one window, or any failure.
fn read_parallel<T: Element>(ds: &lib::Dataset, shape: &[usize], bytes: Bytes<'_>) -> Option<Vec<T>> {
    let plan = Plan::<T>::of(ds, shape)?;
    // The library's own read path accepts this dataset (no external or virtual storage),
    // and its fill value, which the library's reads of chunked storage need whether or not
    // a chunk is missing.
    ds.read_raw_rows(0, 0).ok()?;
    ds.fill_value::<T>().ok()?;
    match ds.layout().ok()? {
        lib::Layout::Contiguous {
            address: Some(address),
            size,
        } => plan.contiguous(bytes, address, size),
        lib::Layout::Chunked { chunk_shape, .. } => plan
            .chunked(ds, bytes, &chunk_shape)
            .or_else(|| plan.chunked_by_library(ds, usize::try_from(*chunk_shape.first()?).ok()?)),
        _ => None,
    }
}

/// Rows per window: `bytes` of stored rows of `row_bytes`, rounded down to whole bands of
/// `band` rows (the chunks' extent along the rows; 1 when not chunked) so that no chunk is
/// decompressed for two windows, and at least one band.
fn window_rows(bytes: usize, row_bytes: usize, band: usize) -> usize {
    let band = band.max(1);
    let rows = bytes / row_bytes.max(1);
    (rows / band).max(1) * band
}

/// `attribute NAME of /path`.
fn attr_object(path: &str, name: &str) -> String {
    format!("attribute {name} of {}", canonical(path))
}

/// True when `path` exists and starts with the HDF5 signature.
pub fn is_hdf5(path: impl AsRef<Path>) -> bool {
    lib::is_hdf5(path).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    //! The fast reads against the library's own reads of the same files: the lazy open,
    //! the parallel reads of contiguous and chunked storage (every path, both byte orders,
    //! the conversions), and answers about damaged files equal to an in-memory open's.

    use super::*;

    /// Distinct, exactly representable values.
    fn values(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (i as f32 * 0.618).sin() * 1000.0 + i as f32)
            .collect()
    }

    fn write(dir: &Path, name: &str, build: impl FnOnce(&mut lib::FileBuilder)) -> PathBuf {
        let path = dir.join(name);
        let mut builder = lib::FileBuilder::new();
        build(&mut builder);
        builder.write(&path).unwrap();
        path
    }

    /// The library's own whole read (the file in memory).
    fn library(path: &Path, ds: &str) -> lib::Dataset {
        let file = lib::File::from_bytes(std::fs::read(path).unwrap()).unwrap();
        file.dataset(ds).unwrap()
    }

    /// The parallel read alone (`None` where it declines).
    fn parallel<T: Element>(f: &H5File, path: &str) -> Option<Vec<T>> {
        f.on(|v| {
            let ds = f.dataset(v, path).ok()?;
            let shape = f.shape_of(v, path, &ds).ok()?;
            read_parallel::<T>(&ds, &shape, v.bytes)
        })
    }

    /// The chunked read that decompresses chunks here (`None` where it declines).
    fn own_chunked(f: &H5File, path: &str) -> Option<Vec<f64>> {
        f.on(|v| {
            let ds = f.dataset(v, path).ok()?;
            let shape = f.shape_of(v, path, &ds).ok()?;
            let lib::Layout::Chunked { chunk_shape, .. } = ds.layout().ok()? else {
                return None;
            };
            Plan::<f64>::of(&ds, &shape)?.chunked(&ds, v.bytes, &chunk_shape)
        })
    }

    #[test]
    fn contiguous_reads_match_the_library_in_both_byte_orders() {
        let dir = tempfile::tempdir().unwrap();
        let x = values(300_000);
        let be: Vec<u8> = x.iter().flat_map(|v| f64::from(*v).to_be_bytes()).collect();
        let be_f64 = lib::Datatype::FloatingPoint {
            size: 8,
            byte_order: lib::DatatypeByteOrder::BigEndian,
            layout: lib::FloatingPointLayout::IEEE754_BINARY64,
        };
        let path = write(dir.path(), "c.h5", |b| {
            b.create_dataset("xyz")
                .with_f32_data(&x)
                .with_shape(&[100_000, 3]);
            b.create_dataset("be").with_raw_data(be_f64, be, 300_000);
            b.create_dataset("small")
                .with_f32_data(&x[..30])
                .with_shape(&[10, 3]);
        });
        for opened in [
            H5File::open(&path).unwrap(),
            H5File::open_in_memory(path.clone()).unwrap(),
        ] {
            for name in ["xyz", "be"] {
                let want = library(&path, name).read_f64().unwrap();
                assert_eq!(parallel::<f64>(&opened, name).as_ref(), Some(&want), "{name}");
                assert_eq!(opened.read_f64(name).unwrap().data, want, "{name}");
            }
            // One window: the library's whole read.
            assert_eq!(parallel::<f64>(&opened, "small"), None);
            assert_eq!(
                opened.read_f64("small").unwrap().data,
                library(&path, "small").read_f64().unwrap()
            );
        }
        let f = H5File::open(&path).unwrap();
        assert_eq!(f.read_f64("xyz").unwrap().shape, vec![100_000, 3]);
        assert!(f.handle.is_some(), "opened lazily");
        assert!(f.memory.get().is_none(), "never read into memory");
    }

    #[test]
    fn integer_reads_match_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let n: usize = 200_000;
        let u16s: Vec<u16> = (0..n).map(|i| (i * 7 % 65_536) as u16).collect();
        let u64s: Vec<u64> = (0..n as u64).map(|i| (1 << 60) + i * 7919).collect();
        let i32s: Vec<i32> = (0..n as i32).map(|i| i - 5).collect();
        let path = write(dir.path(), "i.h5", |b| {
            b.create_dataset("u16").with_u16_data(&u16s);
            b.create_dataset("u64").with_u64_data(&u64s);
            b.create_dataset("i32").with_i32_data(&i32s);
            b.create_dataset("u64z")
                .with_u64_data(&u64s)
                .with_chunks(&[4096])
                .with_shuffle()
                .with_deflate(4);
        });
        let f = H5File::open(&path).unwrap();
        for name in ["u16", "u64", "u64z"] {
            let want = library(&path, name).read_u64().unwrap();
            assert_eq!(parallel::<u64>(&f, name).as_ref(), Some(&want), "{name}");
            assert_eq!(f.read_u64(name).unwrap().data, want, "{name}");
            assert_eq!(
                f.read_f64(name).unwrap().data,
                library(&path, name).read_f64().unwrap()
            );
        }
        assert_eq!(f.read_u64("u64").unwrap().data, u64s);
        assert_eq!(
            f.read_f64("i32").unwrap().data,
            library(&path, "i32").read_f64().unwrap()
        );
        assert_eq!(
            parallel::<i64>(&f, "i32"),
            Some(library(&path, "i32").read_i64().unwrap())
        );
        assert_eq!(
            parallel::<u64>(&f, "i32"),
            None,
            "signed integers are not read as u64"
        );
        let e = f.read_u64("i32").unwrap_err().to_string();
        assert!(
            e.contains("expected non-negative integers, found -5 at index 0"),
            "{e}"
        );
    }

    #[test]
    fn chunked_reads_match_the_library_for_every_chunk_shape_and_filter() {
        let dir = tempfile::tempdir().unwrap();
        let rows = 10_007;
        let x = values(rows * 3);
        let cube = values(30_000 * 4 * 3);
        let long = values(100_000 * 3);
        let path = write(dir.path(), "z.h5", |b| {
            let mut add = |name: &str, chunks: &[u64], shuffle: bool, deflate: bool| {
                let d = b.create_dataset(name);
                d.with_f32_data(&x)
                    .with_shape(&[rows as u64, 3])
                    .with_chunks(chunks);
                if shuffle {
                    d.with_shuffle();
                }
                if deflate {
                    d.with_deflate(4);
                }
            };
            add("rows", &[1000, 3], true, true);
            add("columns", &[777, 1], false, true);
            add("two_columns", &[500, 2], true, true);
            add("shuffled", &[333, 3], true, false);
            add("plain", &[4096, 3], false, false);
            add("one_chunk", &[20_000, 3], true, true);
            b.create_dataset("x1d")
                .with_f32_data(&x)
                .with_chunks(&[999])
                .with_deflate(1);
            b.create_dataset("cube")
                .with_f32_data(&cube)
                .with_shape(&[30_000, 4, 3])
                .with_chunks(&[100, 4, 3])
                .with_deflate(4);
            b.create_dataset("fletcher")
                .with_f32_data(&long)
                .with_shape(&[100_000, 3])
                .with_chunks(&[1000, 3])
                .with_fletcher32();
        });
        for opened in [
            H5File::open(&path).unwrap(),
            H5File::open_in_memory(path.clone()).unwrap(),
        ] {
            for name in [
                "rows",
                "columns",
                "two_columns",
                "shuffled",
                "plain",
                "one_chunk",
                "x1d",
            ] {
                let want = library(&path, name).read_f64().unwrap();
                assert_eq!(own_chunked(&opened, name).as_ref(), Some(&want), "{name}");
                assert_eq!(opened.read_f64(name).unwrap().data, want, "{name}");
            }
            // Rank 3 and fletcher32: windows (of over 1 MiB) that the library decompresses.
            for name in ["cube", "fletcher"] {
                let want = library(&path, name).read_f64().unwrap();
                assert_eq!(own_chunked(&opened, name), None, "{name}");
                assert_eq!(parallel::<f64>(&opened, name).as_ref(), Some(&want), "{name}");
                assert_eq!(opened.read_f64(name).unwrap().data, want, "{name}");
            }
        }
    }

    /// A deflate stream damaged inside a chunk is an error, as the library says, never
    /// values decoded from the damaged bytes.
    #[test]
    fn a_damaged_chunk_is_the_libraries_error() {
        let dir = tempfile::tempdir().unwrap();
        let x = values(30_000);
        let path = write(dir.path(), "z.h5", |b| {
            b.create_dataset("z")
                .with_f32_data(&x)
                .with_shape(&[10_000, 3])
                .with_chunks(&[1000, 3])
                .with_deflate(6);
        });
        let chunk = library(&path, "z").chunks().unwrap()[4].clone();
        let clean = std::fs::read(&path).unwrap();
        // Each byte of the stream in turn: some damage stops the decoder, some makes it
        // decode too much, some is caught by the checksum alone.
        for at in (0..chunk.storage_size).step_by(5) {
            let mut bytes = clean.clone();
            bytes[(chunk.address + at) as usize] ^= 0x5a;
            std::fs::write(&path, &bytes).unwrap();
            let expected = library(&path, "z").read_f64().unwrap_err().to_string();
            for opened in [
                H5File::open(&path).unwrap(),
                H5File::open_in_memory(path.clone()).unwrap(),
            ] {
                let e = opened.read_f64("/z").unwrap_err().to_string();
                assert!(
                    e.contains("dataset /z: cannot read") && e.contains(&expected),
                    "{at}: {e} / {expected}"
                );
            }
        }
    }

    #[test]
    fn absent_objects_do_not_read_the_file_into_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.h5", |b| {
            b.create_dataset("d").with_f64_data(&[1.0, 2.0]);
            let mut g = b.create_group("g");
            g.create_dataset("e").with_f64_data(&[3.0]);
            b.add_group(g.finish());
        });
        let f = H5File::open(&path).unwrap();
        assert_eq!(f.kind("/nope"), None);
        assert_eq!(f.kind("/g/nope/deeper"), None);
        assert_eq!(f.kind("/d/x"), None);
        assert_eq!(f.kind("/g/e"), Some(Kind::Dataset));
        assert!(matches!(f.read_f64("/g/missing"), Err(H5Error::NotFound { .. })));
        assert!(matches!(f.groups("/d"), Err(H5Error::Unexpected { .. })));
        assert!(f.memory.get().is_none());
    }

    #[test]
    fn opening_something_else_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("text.h5");
        std::fs::write(&text, "not HDF5 at all, not at all").unwrap();
        assert!(matches!(H5File::open(&text), Err(H5Error::NotHdf5 { .. })));
        let missing = dir.path().join("missing.h5");
        let e = H5File::open(&missing).unwrap_err();
        let old = H5File::open_in_memory(missing).unwrap_err();
        assert_eq!(e.to_string(), old.to_string());
        assert!(
            matches!(H5File::open(dir.path()), Err(H5Error::Io { .. })),
            "a directory"
        );
    }

    fn digest(words: impl Iterator<Item = u64>) -> u64 {
        words.fold(0, |h, w| h.rotate_left(5) ^ w.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// Everything the façade says about a file, in one string.
    fn describe(f: Result<H5File, H5Error>) -> String {
        let f = match f {
            Ok(f) => f,
            Err(e) => return format!("open: {e}"),
        };
        let mut out = String::new();
        // Depth-limited: damage can make a group its own descendant.
        let mut stack = vec![("/".to_string(), 0)];
        while let Some((group, depth)) = stack.pop() {
            out += &format!("{group}: {:?}\n", f.attrs(&group).map_err(|e| e.to_string()));
            for name in f.datasets(&group).unwrap_or_else(|e| vec![format!("! {e}")]) {
                let p = format!("{}/{name}", group.trim_end_matches('/'));
                out += &format!("{p}: {:?}\n", f.attrs(&p).map_err(|e| e.to_string()));
                let bits = f
                    .read_f64(&p)
                    .map(|a| (a.shape, digest(a.data.iter().map(|x| x.to_bits()))));
                out += &format!("{p}: {:?}\n", bits.map_err(|e| e.to_string()));
                let ints = f.read_u64(&p).map(|a| (a.shape, digest(a.data.into_iter())));
                out += &format!("{p}: {:?}\n", ints.map_err(|e| e.to_string()));
            }
            for name in f.groups(&group).unwrap_or_else(|e| vec![format!("! {e}")]) {
                out += &format!("{group} has group {name}\n");
                if depth < 3 {
                    stack.push((format!("{}/{name}", group.trim_end_matches('/')), depth + 1));
                }
            }
        }
        out
    }

    /// Overwrites 8 bytes at every `step`-th offset of `range` in turn (with 0xff, then with
    /// pseudo-random bytes) and checks that the lazy open and its fast reads say exactly
    /// what an in-memory open and the library's reads say.
    fn damage_agrees(bytes: &[u8], range: std::ops::Range<usize>, step: usize, bad: &Path) {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for start in range.step_by(step) {
            for random in [false, true] {
                let mut damaged = bytes.to_vec();
                for b in &mut damaged[start..start + 8] {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    *b = if random { (state >> 56) as u8 } else { 0xff };
                }
                std::fs::write(bad, &damaged).unwrap();
                let lazy = describe(H5File::open(bad));
                let memory = describe(H5File::open_in_memory(bad.to_path_buf()));
                assert_eq!(lazy, memory, "damage at byte {start}");
            }
        }
    }

    /// A Gadget-4 snapshot as h5py writes it by default (version-1 groups, whose damage the
    /// library's lazy reader reports differently from its in-memory one).
    #[test]
    fn a_damaged_h5py_snapshot_reads_as_the_in_memory_open_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hdf5/g4_default.hdf5");
        let bytes = std::fs::read(fixture).unwrap();
        damage_agrees(&bytes, 1300..3500, 7, &dir.path().join("bad.hdf5"));
    }

    /// Damage to a chunk index (a Gadget-2-style multi-file part as h5py writes it): the
    /// library's lazy reader would size a buffer by a damaged chunk size before reading.
    #[test]
    fn a_damaged_chunk_index_reads_as_the_in_memory_open_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hdf5/snap_010.0.hdf5");
        let bytes = std::fs::read(fixture).unwrap();
        damage_agrees(&bytes, 4300..4450, 3, &dir.path().join("bad.hdf5"));
    }

    /// What keeps the library's lazy reader from sizing a buffer by a damaged chunk size:
    /// storage that runs past the file's end is left to the in-memory reader.
    #[test]
    fn storage_past_the_end_of_the_file_is_left_to_the_in_memory_reader() {
        let dir = tempfile::tempdir().unwrap();
        let x = values(30_000);
        let path = write(dir.path(), "z.h5", |b| {
            b.create_dataset("z")
                .with_f32_data(&x)
                .with_chunks(&[1000])
                .with_deflate(4);
            b.create_dataset("c").with_f32_data(&x);
        });
        let f = H5File::open(&path).unwrap();
        let handle = f.handle.as_ref().unwrap();
        let len = handle.metadata().unwrap().len();
        for name in ["z", "c"] {
            let ds = f.inner.dataset(name).unwrap();
            let end = match ds.layout().unwrap() {
                lib::Layout::Contiguous { address, size } => address.unwrap() + size,
                _ => ds
                    .chunks()
                    .unwrap()
                    .iter()
                    .map(|c| c.address + c.storage_size)
                    .max()
                    .unwrap(),
            };
            assert!(end <= len);
            assert!(stored_inside(&ds, Bytes::File(handle, len)), "{name}");
            assert!(stored_inside(&ds, Bytes::File(handle, end)), "{name}");
            assert!(!stored_inside(&ds, Bytes::File(handle, end - 1)), "{name}");
            assert!(
                stored_inside(&ds, Bytes::Memory(&[])),
                "{name}: the in-memory reader takes slices"
            );
        }
    }

    #[test]
    fn damaged_files_read_as_the_in_memory_open_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let x = values(9000);
        let ids: Vec<u64> = (0..3000).collect();
        let whole = write(dir.path(), "whole.h5", |b| {
            b.set_attr("title", lib::AttrValue::VarLenString("demo".into()));
            let mut g = b.create_group("PartType1");
            g.create_dataset("Coordinates")
                .with_f32_data(&x)
                .with_shape(&[3000, 3]);
            g.create_dataset("Velocities")
                .with_f32_data(&x)
                .with_shape(&[3000, 3])
                .with_chunks(&[700, 3])
                .with_shuffle()
                .with_deflate(4);
            g.create_dataset("ParticleIDs")
                .with_u64_data(&ids)
                .with_chunks(&[1000])
                .with_deflate(4);
            g.set_attr("n", lib::AttrValue::U64(3000));
            b.add_group(g.finish());
        });
        let bytes = std::fs::read(&whole).unwrap();
        damage_agrees(&bytes, 0..bytes.len() - 8, 29, &dir.path().join("bad.h5"));
    }
}
