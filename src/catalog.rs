//! The catalog: per-particle results (docs/design.md "Catalog"), written by `actions` and `apply`.
//!
//! `/particles/xv` [n,6] always; `/particles/ids` and `/particles/stream` [n] when known;
//! `/particles/actions|angles|frequencies|acceleration` [n,3],
//! `/particles/stream_frequencies` [n,3] (per stream, from the time slope of the angles), `/particles/potential` [n],
//! `/particles/action_spread` [n], `/particles/roundtrip_error` [n,2] (`|x - x'|` in kpc and
//! `|v - v'|` in km/s through the inverse map) and `/particles/flag` [n] (0 = ok, otherwise why
//! the point has NaN results) where computed. Root attributes as in every file of ours, plus
//! `method`.

use std::collections::BTreeMap;
use std::path::Path;

use actionfinder_snapshots::h5::{Dim, H5Error, H5File, H5Writer};

use crate::dataset::units::{read_labelled, read_xv};
use crate::dataset::{check_root_units, read_attrs, write_root_attrs, DatasetAttrs};

/// Optional per-particle float columns: (name, values per particle, unit, component order).
const COLUMNS: [(&str, usize, &str, Option<&str>); 9] = [
    ("actions", 3, "kpc km/s", Some("r,z,phi")),
    ("angles", 3, "rad", Some("r,z,phi")),
    ("frequencies", 3, "km/s/kpc", Some("r,z,phi")),
    ("stream_frequencies", 3, "km/s/kpc", Some("r,z,phi")),
    ("acceleration", 3, "(km/s)^2/kpc", Some("x,y,z")),
    ("potential", 1, "(km/s)^2", None),
    ("action_spread", 1, "kpc km/s", None),
    ("action_error", 3, "kpc km/s", Some("r,z,phi")),
    ("roundtrip_error", 2, "kpc, km/s", Some("dx,dv")),
];

/// Meaning of `/particles/flag`.
pub const FLAG_MEANING: &str =
    "0 ok, 1 unbound, 2 non-finite input, 3 no convergence, 4 method does not apply \
     (1-4: values NaN), 5 values written but not trusted (the stream spans too little of a radial period), \
     6 point written but its actions lie outside the range the inverse map learned, \
     7 point written but its round trip through the forward map does not close";

/// `/particles/flag` of a point whose iteration did not converge (values NaN).
pub const FLAG_NO_CONVERGENCE: u32 = actionfinder_integrators::actions::Flag::NoConvergence as u32;

/// `/particles/flag` of a point whose values are written but not trusted: its stream spans
/// too little of a radial period to fix its actions (`docs/notes/learning-prototype.md`).
pub const FLAG_UNTRUSTED: u32 = 5;

/// `/particles/flag` of a point inverted from actions outside the range the inverse map was
/// trained on (the point is written).
pub const FLAG_OUT_OF_RANGE: u32 = 6;

/// `/particles/flag` of an inverted point whose round trip through the forward map does not
/// close (the point is written).
pub const FLAG_NO_CLOSURE: u32 = 7;

/// Per-particle results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    /// \[n,6\] x, y, z (kpc), vx, vy, vz (km/s).
    pub xv: Vec<f64>,
    /// \[n\] particle ids, when known.
    pub ids: Option<Vec<u64>>,
    /// \[n\] index of the stream each point came from, when the input was a streams dataset.
    pub stream: Option<Vec<u64>>,
    /// Float columns by name (see the module doc), each \[n\] or \[n,3\].
    pub columns: BTreeMap<String, Vec<f64>>,
    /// \[n\] 0 = ok, otherwise why the point's results are NaN ([`FLAG_MEANING`]).
    pub flag: Option<Vec<u32>>,
    pub attrs: DatasetAttrs,
}

impl Catalog {
    /// A catalog of the points `xv` (rows of 6) and nothing else yet.
    pub fn new(xv: Vec<f64>) -> Self {
        Catalog {
            xv,
            ..Default::default()
        }
    }

    /// Number of particles.
    pub fn len(&self) -> usize {
        self.xv.len() / 6
    }

    /// True when there are no particles.
    pub fn is_empty(&self) -> bool {
        self.xv.is_empty()
    }

    /// A float column, e.g. `actions`.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns.get(name).map(Vec::as_slice)
    }

    /// Set a float column, checking its name and length.
    pub fn set_column(&mut self, name: &str, values: Vec<f64>) -> Result<(), String> {
        let (_, width, _, _) = COLUMNS
            .iter()
            .find(|c| c.0 == name)
            .ok_or_else(|| format!("unknown catalog column {name}"))?;
        if values.len() != width * self.len() {
            return Err(format!(
                "column {name}: {} values for {} particles x {width}",
                values.len(),
                self.len()
            ));
        }
        self.columns.insert(name.to_string(), values);
        Ok(())
    }

    /// Write to `path` (replacing it).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), H5Error> {
        let path = path.as_ref();
        let n = self.len();
        let mut w = H5Writer::new();
        w.dataset("/particles/xv", &self.xv, &[n, 6]);
        w.attr("/particles/xv", "unit", "kpc (x,y,z), km/s (vx,vy,vz)");
        w.attr("/particles/xv", "component_order", "x,y,z,vx,vy,vz");
        for (name, values) in [("ids", &self.ids), ("stream", &self.stream)] {
            if let Some(v) = values {
                check_len(path, name, v.len(), n)?;
                w.dataset(&format!("/particles/{name}"), v, &[n]);
            }
        }
        if let Some(flag) = &self.flag {
            check_len(path, "flag", flag.len(), n)?;
            w.dataset("/particles/flag", flag, &[n]);
            w.attr("/particles/flag", "meaning", FLAG_MEANING);
        }
        for (name, width, unit, order) in COLUMNS {
            if let Some(v) = self.columns.get(name) {
                check_len(path, name, v.len(), n * width)?;
                let p = format!("/particles/{name}");
                let shape = if width == 1 { vec![n] } else { vec![n, width] };
                w.dataset(&p, v, &shape);
                w.attr(&p, "unit", unit);
                if let Some(order) = order {
                    w.attr(&p, "component_order", order);
                }
            }
        }
        write_root_attrs(&mut w, &self.attrs);
        w.attr("/", "n_particles", n as u64);
        w.write(path)
    }

    /// Read a catalog, accepting any subset of the optional columns; units and component
    /// orders stated by the file are honoured as for streams datasets (points converted to
    /// kpc and km/s, permuted columns put in our order, other units refused).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, H5Error> {
        let f = H5File::open(path)?;
        check_root_units(&f)?;
        let xv = read_xv(&f, "/particles/xv", &[Dim::Any("n"), Dim::Is(6)])?;
        let n = xv.shape[0];
        let mut cat = Catalog::new(xv.data);
        let read_u64 = |name: &str| -> Result<Option<Vec<u64>>, H5Error> {
            let p = format!("/particles/{name}");
            if !f.exists(&p) {
                return Ok(None);
            }
            Ok(Some(f.read_u64_shaped(&p, &[Dim::Named("n", n)])?.data))
        };
        cat.ids = read_u64("ids")?;
        cat.stream = read_u64("stream")?;
        cat.flag = read_u64("flag")?.map(|v| v.into_iter().map(|x| x.min(u32::MAX as u64) as u32).collect());
        for (name, width, unit, order) in COLUMNS {
            let p = format!("/particles/{name}");
            if f.exists(&p) {
                let dims: &[Dim] = if width == 1 {
                    &[Dim::Named("n", n)]
                } else {
                    &[Dim::Named("n", n), Dim::Is(width)]
                };
                let order: Option<Vec<&str>> = order.map(|o| o.split(',').collect());
                let values = read_labelled(&f, &p, dims, unit, order.as_deref())?;
                cat.columns.insert(name.to_string(), values.data);
            }
        }
        cat.attrs = read_attrs(&f)?;
        Ok(cat)
    }
}

fn check_len(path: &Path, name: &str, found: usize, expected: usize) -> Result<(), H5Error> {
    if found == expected {
        return Ok(());
    }
    Err(H5Error::unexpected(
        path,
        format!("dataset /particles/{name}"),
        format!("{expected} values"),
        format!("{found}"),
    ))
}
