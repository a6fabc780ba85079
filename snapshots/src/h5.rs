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
//! Every error ([`H5Error`]) names the file, the object (dataset, group or attribute) and
//! what was expected. A missing, foreign, truncated or damaged file gives an error, never a
//! panic.
//!
//! hdf5-pure cannot read chunked datasets whose data-layout message is version 5 (HDF5 2.x
//! with `libver='latest'`); such a read is retried, on the same bytes, with the read-only
//! `hdf5-reader` crate (also pure Rust), invisibly to callers.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hdf5_pure as lib;
use hdf5_reader as fallback;

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
        let tmp = temporary_path(file);
        let written = guard(|| builder.write(&tmp)).and_then(|r| r.map_err(|e| e.to_string()));
        if let Err(detail) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(H5Error::Write {
                file: file.to_path_buf(),
                detail,
            });
        }
        std::fs::rename(&tmp, file).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            H5Error::Io {
                file: file.to_path_buf(),
                action: "cannot write",
                source,
            }
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

fn temporary_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.partial", std::process::id()));
    file.with_file_name(name)
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

/// An HDF5 file opened for reading (read into memory at open).
pub struct H5File {
    path: PathBuf,
    inner: lib::File,
    /// hdf5-reader's view of the same bytes, opened at the first read hdf5-pure refuses.
    fallback: OnceLock<Result<fallback::Hdf5File, String>>,
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
    pub fn open(path: impl AsRef<Path>) -> Result<Self, H5Error> {
        let path = path.as_ref().to_path_buf();
        let bytes = std::fs::read(&path).map_err(|source| H5Error::Io {
            file: path.clone(),
            action: "cannot open",
            source,
        })?;
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

    /// What is at `path` (`/` is the root group), or `None`.
    pub fn kind(&self, path: &str) -> Option<Kind> {
        let rel = relative(path);
        if rel.is_empty() {
            return Some(Kind::Group);
        }
        let found = guard(|| {
            if self.inner.group(&rel).is_ok() {
                Some(Kind::Group)
            } else if self.inner.dataset(&rel).is_ok() {
                Some(Kind::Dataset)
            } else {
                None
            }
        });
        found.ok().flatten()
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

    fn group(&self, path: &str) -> Result<lib::Group, H5Error> {
        let rel = relative(path);
        if rel.is_empty() {
            return Ok(self.inner.root());
        }
        let object = format!("group {}", canonical(path));
        match guard(|| self.inner.group(&rel)) {
            Ok(Ok(g)) => Ok(g),
            Ok(Err(_)) | Err(_) if self.has_dataset(path) => {
                Err(self.unexpected(object, "a group", "a dataset"))
            }
            _ => Err(self.not_found(object)),
        }
    }

    fn dataset(&self, path: &str) -> Result<lib::Dataset, H5Error> {
        let rel = relative(path);
        let object = format!("dataset {}", canonical(path));
        match guard(|| self.inner.dataset(&rel)) {
            Ok(Ok(d)) => Ok(d),
            _ if self.has_group(path) => Err(self.unexpected(object, "a dataset", "a group")),
            _ => Err(self.not_found(object)),
        }
    }

    /// Names of the child groups of the group at `path`, sorted.
    pub fn groups(&self, path: &str) -> Result<Vec<String>, H5Error> {
        let group = self.group(path)?;
        self.listing(path, || group.groups())
    }

    /// Names of the datasets in the group at `path`, sorted.
    pub fn datasets(&self, path: &str) -> Result<Vec<String>, H5Error> {
        let group = self.group(path)?;
        self.listing(path, || group.datasets())
    }

    fn listing(
        &self,
        path: &str,
        f: impl FnOnce() -> Result<Vec<String>, lib::Error>,
    ) -> Result<Vec<String>, H5Error> {
        let object = format!("group {}", canonical(path));
        match guard(f) {
            Ok(Ok(mut names)) => {
                names.sort();
                Ok(names)
            }
            Ok(Err(e)) => Err(self.read_error(object, e)),
            Err(detail) => Err(self.read_error(object, detail)),
        }
    }

    /// The shape of the dataset at `path`.
    pub fn shape(&self, path: &str) -> Result<Vec<usize>, H5Error> {
        let ds = self.dataset(path)?;
        self.shape_of(path, &ds)
    }

    fn shape_of(&self, path: &str, ds: &lib::Dataset) -> Result<Vec<usize>, H5Error> {
        let object = format!("dataset {}", canonical(path));
        match guard(|| ds.shape()) {
            Ok(Ok(shape)) => shape
                .into_iter()
                .map(|d| {
                    usize::try_from(d).map_err(|_| self.read_error(object.clone(), "dimension too large"))
                })
                .collect(),
            Ok(Err(e)) => Err(self.read_error(object, e)),
            Err(detail) => Err(self.read_error(object, detail)),
        }
    }

    /// The element type of the dataset at `path`, e.g. `f32` or `u64`.
    pub fn type_name(&self, path: &str) -> Result<String, H5Error> {
        let ds = self.dataset(path)?;
        self.dtype_of(path, &ds).map(|d| d.to_string())
    }

    fn dtype_of(&self, path: &str, ds: &lib::Dataset) -> Result<lib::DType, H5Error> {
        let object = format!("dataset {}", canonical(path));
        match guard(|| ds.dtype()) {
            Ok(Ok(dtype)) => Ok(dtype),
            Ok(Err(e)) => Err(self.read_error(object, e)),
            Err(detail) => Err(self.read_error(object, detail)),
        }
    }

    fn class_of(&self, path: &str, ds: &lib::Dataset) -> Result<Class, H5Error> {
        use lib::DType as D;
        let dtype = self.dtype_of(path, ds)?;
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

    /// The shape, refusing one too large to be real (a damaged header would otherwise ask
    /// for an allocation that aborts the process): more than gzip's best ratio (~1032:1)
    /// over the file's size, plus 1 GiB.
    fn plausible_shape(&self, path: &str, ds: &lib::Dataset) -> Result<Vec<usize>, H5Error> {
        let shape = self.shape_of(path, ds)?;
        let limit = (self.inner.file_size() as u128) * 1032 + (1u128 << 30);
        let bytes = shape.iter().fold(8u128, |acc, &d| acc.saturating_mul(d as u128));
        if bytes > limit {
            let found = format!(
                "shape {} in a file of {} bytes",
                shape_string(&shape),
                self.inner.file_size()
            );
            return Err(self.unexpected(format!("dataset {}", canonical(path)), "a plausible size", found));
        }
        Ok(shape)
    }

    /// Reads a numeric dataset as f64 (floats and integers of any width converted) with
    /// its shape.
    pub fn read_f64(&self, path: &str) -> Result<Array<f64>, H5Error> {
        let ds = self.dataset(path)?;
        self.class_of(path, &ds)?;
        let shape = self.plausible_shape(path, &ds)?;
        let data = self.read_with(path, || ds.read_f64())?;
        self.checked(path, data, shape)
    }

    /// Reads an integer dataset as u64 (any width; negative values are an error) with its
    /// shape. Float datasets are refused rather than rounded.
    pub fn read_u64(&self, path: &str) -> Result<Array<u64>, H5Error> {
        let ds = self.dataset(path)?;
        let class = self.class_of(path, &ds)?;
        let shape = self.plausible_shape(path, &ds)?;
        let object = || format!("dataset {}", canonical(path));
        let data = match class {
            Class::Float => {
                let t = self.dtype_of(path, &ds)?;
                return Err(self.unexpected(object(), "integer elements", format!("element type {t}")));
            }
            Class::Unsigned => self.read_with(path, || ds.read_u64())?,
            Class::Signed => {
                let signed = self.read_with(path, || ds.read_i64())?;
                match signed.iter().position(|&x| x < 0) {
                    Some(i) => {
                        let found = format!("{} at index {i}", signed[i]);
                        return Err(self.unexpected(object(), "non-negative integers", found));
                    }
                    None => signed.into_iter().map(|x| x as u64).collect(),
                }
            }
        };
        self.checked(path, data, shape)
    }

    /// Runs the hdf5-pure read `f`; where it refuses the data-layout message version 5,
    /// reads the dataset with hdf5-reader instead.
    fn read_with<T: FromNative>(
        &self,
        path: &str,
        f: impl FnOnce() -> Result<Vec<T>, lib::Error>,
    ) -> Result<Vec<T>, H5Error> {
        let object = format!("dataset {}", canonical(path));
        match guard(f) {
            Ok(Ok(data)) => Ok(data),
            Ok(Err(e)) if is_layout_v5(&e) => self
                .read_fallback(path)
                .map_err(|detail| self.read_error(object, format!("{e}; hdf5-reader also failed: {detail}"))),
            Ok(Err(e)) => Err(self.read_error(object, e)),
            Err(detail) => Err(self.read_error(object, detail)),
        }
    }

    /// Reads the dataset at `path` with hdf5-reader (opened once per file, on a copy of the
    /// bytes), widened to `T`.
    fn read_fallback<T: FromNative>(&self, path: &str) -> Result<Vec<T>, String> {
        let opened = self.fallback.get_or_init(|| {
            guard(|| fallback::Hdf5File::from_bytes(self.inner.as_bytes()))
                .and_then(|r| r.map_err(|e| e.to_string()))
        });
        let file = opened.as_ref().map_err(Clone::clone)?;
        let expected = self.shape(path).map_err(|e| e.to_string())?.iter().product();
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
        let raw = match self.kind(path) {
            Some(Kind::Group) => {
                let g = self.group(path)?;
                guard(|| g.attrs())
            }
            Some(Kind::Dataset) => {
                let d = self.dataset(path)?;
                guard(|| d.attrs())
            }
            None => return Err(self.not_found(format!("object {}", canonical(path)))),
        };
        let object = || format!("attributes of {}", canonical(path));
        let raw = match raw {
            Ok(Ok(map)) => map,
            Ok(Err(e)) => return Err(self.read_error(object(), e)),
            Err(detail) => return Err(self.read_error(object(), detail)),
        };
        Ok(raw
            .iter()
            .filter_map(|(k, v)| attr_from_lib(v).map(|a| (k.clone(), a)))
            .collect())
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

/// `attribute NAME of /path`.
fn attr_object(path: &str, name: &str) -> String {
    format!("attribute {name} of {}", canonical(path))
}

/// True when `path` exists and starts with the HDF5 signature.
pub fn is_hdf5(path: impl AsRef<Path>) -> bool {
    lib::is_hdf5(path).unwrap_or(false)
}
