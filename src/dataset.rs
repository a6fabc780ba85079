//! The streams dataset (docs/design.md, "Data contracts"): streams of phase-space points, each
//! stream the points of one orbit, with optional times, particle ids, truth and baselines.
//!
//! File layout (`*.h5`), uniform (S streams of N points):
//! * `/streams/xv` f64 \[S,N,6\] (x,y,z in kpc, vx,vy,vz in km/s) — required;
//!   `/streams/t` f64 \[S,N\] (Gyr); `/streams/ids` u64 \[S\].
//! * `/truth/actions|angles|frequencies|acceleration` f64 \[S,N,3\], `/truth/potential`
//!   f64 \[S,N\]: actions kpc km/s, angles rad, frequencies km/s/kpc, all in (r, z, phi)
//!   order; acceleration (km/s)^2/kpc in (x, y, z); potential (km/s)^2.
//! * `/baseline/<method>_actions` f64 \[S,N,3\] (kpc km/s, (r, z, phi)).
//! * root attributes: `description`, `potential`, `source`, `seed`, the units
//!   (`length_unit` = "kpc", `velocity_unit` = "km/s", `time_unit` = "Gyr", ...) and
//!   `component_order` = "r,z,phi"; every dataset carries its own `unit` (and
//!   `component_order` where it has components).
//!
//! Ragged (streams of different lengths, P points in all): `/streams/offsets` u64 \[S+1\]
//! with `offsets[0] = 0`, non-decreasing, `offsets[S] = P`; stream `s` is rows
//! `offsets[s]..offsets[s+1]` of every per-point array, which drops the \[S,N\] pair for
//! \[P\]: `/streams/xv` \[P,6\], `/streams/t` and `/truth/potential` \[P\], the other truth
//! parts and the baselines \[P,3\]; `/streams/ids` stays \[S\]. In memory the
//! [`StreamLayout`] says which; a dataset whose streams have equal lengths is uniform and is
//! written in the uniform layout, one whose streams differ is written ragged.
//!
//! Reading accepts any subset of the optional parts (files made by AGAMA and galpy are used
//! to judge the project). Units and component orders stated in the file are honoured
//! ([`units`]): points are converted to kpc and km/s (`unit` of `/streams/xv`, e.g.
//! `"pc (x,y,z), m/s (vx,vy,vz)"`, else the root `length_unit`/`velocity_unit`), times to Gyr
//! (`unit` of `/streams/t`, else the root `time_unit`; AGAMA writes kpc/(km/s)), columns stored
//! in a permutation of our order are put in ours; unit attributes not understood, or of
//! derived quantities disagreeing with ours, are refused rather than misread. A file holds at
//! least one stream, every stream at least one point; `xv` and `t` must be finite and points
//! lie within [`checks::MAX_POSITION_KPC`] and [`checks::MAX_SPEED_KMS`]; truth and baselines may hold
//! NaN (a value the generator could not compute). Unknown root attributes are kept in
//! [`DatasetAttrs::extra`] and written back.

pub mod checks;
pub mod layout;
pub(crate) mod units;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use actionfinder_integrators::units::G;
use actionfinder_snapshots::h5::{shape_string, Attr, Dim, H5Error, H5File, H5Writer};

use checks::{check_bounds_in, check_finite, check_times};
pub use layout::StreamLayout;
use units::{gyr_per_unit, normalise_unit, read_labelled, read_xv, unit_matches};

/// Truth known to the generator, each `None` when absent. Flat row-major arrays, one row
/// per point (P = S*N rows when uniform).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Truth {
    /// \[P,3\] J_r, J_z, J_phi in kpc km/s.
    pub actions: Option<Vec<f64>>,
    /// \[P,3\] theta_r, theta_z, theta_phi in rad, in \[0, 2 pi).
    pub angles: Option<Vec<f64>>,
    /// \[P,3\] Omega_r, Omega_z, Omega_phi in km/s/kpc.
    pub frequencies: Option<Vec<f64>>,
    /// \[P,3\] a_x, a_y, a_z in (km/s)^2/kpc.
    pub acceleration: Option<Vec<f64>>,
    /// \[P\] Phi in (km/s)^2.
    pub potential: Option<Vec<f64>>,
}

/// Root attributes describing where the data came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatasetAttrs {
    /// What the dataset is.
    pub description: String,
    /// The potential, as text with parameters (e.g. `isochrone:M=3.334e11,b=5`).
    pub potential: String,
    /// The program that made it.
    pub source: String,
    /// Random seed, when one was used.
    pub seed: Option<u64>,
    /// Other root attributes, kept as found (e.g. AGAMA's `n_candidates_tried`).
    pub extra: BTreeMap<String, Attr>,
}

/// S streams of points (docs/design.md): N each, or of their own lengths as the
/// [`StreamLayout`] says. Per-point arrays hold P rows, stream after stream. Fields are public
/// for filling in; [`validate`] (run by [`write`] and [`read`]) checks that their lengths
/// agree with the layout.
///
/// [`validate`]: StreamsDataset::validate
/// [`write`]: StreamsDataset::write
/// [`read`]: StreamsDataset::read
#[derive(Debug, Clone, PartialEq)]
pub struct StreamsDataset {
    layout: StreamLayout,
    /// \[P,6\] x, y, z (kpc), vx, vy, vz (km/s).
    pub xv: Vec<f64>,
    /// \[P\] time of each point in Gyr.
    pub t: Option<Vec<f64>>,
    /// \[S\] particle id of each stream (when it came from snapshots).
    pub ids: Option<Vec<u64>>,
    /// Truth, where the generator knows it.
    pub truth: Truth,
    /// \[P,3\] actions of comparison methods, by method name (`staeckel` for
    /// `/baseline/staeckel_actions`).
    pub baselines: BTreeMap<String, Vec<f64>>,
    /// Root attributes.
    pub attrs: DatasetAttrs,
}

/// A part of a dataset whose size or content is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPart {
    /// The object, e.g. `dataset /truth/actions`.
    pub object: String,
    /// What was expected.
    pub expected: String,
    /// What was found.
    pub found: String,
}

impl fmt::Display for InvalidPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.object, self.expected, self.found
        )
    }
}

impl std::error::Error for InvalidPart {}

/// Units and component order of each dataset: (path, unit, component order).
pub const LAYOUT: [(&str, &str, Option<&str>); 8] = [
    (
        "/streams/xv",
        "kpc (x,y,z), km/s (vx,vy,vz)",
        Some("x,y,z,vx,vy,vz"),
    ),
    ("/streams/t", "Gyr", None),
    ("/truth/actions", "kpc km/s", Some("r,z,phi")),
    ("/truth/angles", "rad", Some("r,z,phi")),
    ("/truth/frequencies", "km/s/kpc", Some("r,z,phi")),
    ("/truth/acceleration", "(km/s)^2/kpc", Some("x,y,z")),
    ("/truth/potential", "(km/s)^2", None),
    ("/baseline/*_actions", "kpc km/s", Some("r,z,phi")),
];

/// Root unit attributes we write, and accept on reading when they say the same thing.
pub const ROOT_UNITS: [(&str, &str); 9] = [
    ("length_unit", "kpc"),
    ("velocity_unit", "km/s"),
    ("mass_unit", "Msun"),
    ("time_unit", "Gyr"),
    ("action_unit", "kpc km/s"),
    ("angle_unit", "rad"),
    ("frequency_unit", "km/s/kpc"),
    ("acceleration_unit", "(km/s)^2/kpc"),
    ("potential_unit", "(km/s)^2"),
];

/// Root unit attributes converted from rather than required to be ours.
const CONVERTED_ROOT_UNITS: [&str; 3] = ["length_unit", "velocity_unit", "time_unit"];

/// Root attributes we write ourselves (not kept in `extra`).
const KNOWN_ROOT: [&str; 10] = [
    "description",
    "potential",
    "source",
    "seed",
    "component_order",
    "G",
    "n_streams",
    "n_stars",
    "n_particles",
    "time_unit",
];

impl StreamsDataset {
    /// A dataset of `n_streams` streams of `n_stars` stars, all points zero, nothing
    /// optional present.
    pub fn new(n_streams: usize, n_stars: usize) -> Self {
        let layout = StreamLayout::uniform(n_streams, n_stars);
        Self::with_points(layout, vec![0.0; n_streams * n_stars * 6])
    }

    /// A dataset from its points `xv` (\[S,N,6\] row-major); an error when the length is
    /// not S*N*6.
    pub fn from_xv(n_streams: usize, n_stars: usize, xv: Vec<f64>) -> Result<Self, InvalidPart> {
        Self::from_layout(StreamLayout::uniform(n_streams, n_stars), xv)
    }

    /// A dataset of streams of different lengths from `offsets` (S+1 values: stream `s` is
    /// rows `offsets[s]..offsets[s+1]` of `xv`, \[P,6\] row-major); uniform when the lengths
    /// are equal. An error when the offsets do not start at 0, decrease, or do not end at P.
    pub fn from_offsets(offsets: Vec<usize>, xv: Vec<f64>) -> Result<Self, InvalidPart> {
        Self::from_layout(StreamLayout::from_offsets(offsets)?, xv)
    }

    /// A dataset of `layout` from its points `xv` (\[P,6\] row-major); an error when the
    /// length is not P*6.
    pub fn from_layout(layout: StreamLayout, xv: Vec<f64>) -> Result<Self, InvalidPart> {
        let ds = Self::with_points(layout, xv);
        ds.check_len("dataset /streams/xv", ds.xv.len(), 6)?;
        Ok(ds)
    }

    fn with_points(layout: StreamLayout, xv: Vec<f64>) -> Self {
        Self {
            layout,
            xv,
            t: None,
            ids: None,
            truth: Truth::default(),
            baselines: BTreeMap::new(),
            attrs: DatasetAttrs::default(),
        }
    }

    /// The streams `streams` (indices below S, in the order given) as a dataset of their
    /// own, with their times, ids, truth and baselines.
    pub fn select(&self, streams: &[usize]) -> Self {
        let l = &self.layout;
        let pick_opt =
            |v: &Option<Vec<f64>>, per_star: usize| v.as_ref().map(|v| l.gather(v, per_star, streams));
        let mut out = Self::with_points(l.select(streams), l.gather(&self.xv, 6, streams));
        out.t = pick_opt(&self.t, 1);
        out.ids = self
            .ids
            .as_ref()
            .map(|ids| streams.iter().map(|&s| ids[s]).collect());
        out.truth = Truth {
            actions: pick_opt(&self.truth.actions, 3),
            angles: pick_opt(&self.truth.angles, 3),
            frequencies: pick_opt(&self.truth.frequencies, 3),
            acceleration: pick_opt(&self.truth.acceleration, 3),
            potential: pick_opt(&self.truth.potential, 1),
        };
        out.baselines = self
            .baselines
            .iter()
            .map(|(k, v)| (k.clone(), l.gather(v, 3, streams)))
            .collect();
        out.attrs = self.attrs.clone();
        out
    }

    /// How the points divide into streams.
    pub fn layout(&self) -> &StreamLayout {
        &self.layout
    }

    /// Number of streams S.
    pub fn n_streams(&self) -> usize {
        self.layout.n_streams()
    }

    /// Number of stars per stream N; the longest stream's when streams differ in length
    /// (see [`layout`](Self::layout)).
    pub fn n_stars(&self) -> usize {
        self.layout.length_range().1
    }

    /// Number of points P.
    pub fn n_points(&self) -> usize {
        self.layout.n_points()
    }

    /// The points of stream `s`, 6 values each (panics when `s >= S`).
    pub fn stream(&self, s: usize) -> &[f64] {
        let rows = self.layout.rows(s);
        &self.xv[6 * rows.start..6 * rows.end]
    }

    /// Point `i` of stream `s` as `[x, y, z, vx, vy, vz]` (panics when out of range).
    pub fn point(&self, s: usize, i: usize) -> [f64; 6] {
        let rows = self.layout.rows(s);
        assert!(i < rows.len(), "star {i} of {}", rows.len());
        let k = 6 * (rows.start + i);
        let mut p = [0.0; 6];
        p.copy_from_slice(&self.xv[k..k + 6]);
        p
    }

    /// The times (Gyr) of stream `s`, when the dataset has times.
    pub fn stream_times(&self, s: usize) -> Option<&[f64]> {
        let rows = self.layout.rows(s);
        self.t.as_deref().map(|t| &t[rows])
    }

    /// Expects `len == P*per_star`.
    fn check_len(&self, object: &str, len: usize, per_star: usize) -> Result<(), InvalidPart> {
        let want = self.layout.n_points() * per_star;
        if len == want {
            return Ok(());
        }
        Err(InvalidPart {
            object: object.to_string(),
            expected: format!("{want} values (shape {})", self.layout.shape_text(per_star)),
            found: format!("{len} values"),
        })
    }

    /// Checks that every part has the length the layout gives, that there is at least one
    /// stream and no stream without points, that `xv` and `t` are finite and the points
    /// within the bounds of [`checks`].
    pub fn validate(&self) -> Result<(), InvalidPart> {
        self.layout.check_not_empty()?;
        self.check_len("dataset /streams/xv", self.xv.len(), 6)?;
        check_points(&self.xv, &self.layout)?;
        if let Some(t) = &self.t {
            self.check_len("dataset /streams/t", t.len(), 1)?;
            check_times(t, &self.layout)?;
        }
        if let Some(ids) = &self.ids {
            if ids.len() != self.n_streams() {
                return Err(InvalidPart {
                    object: "dataset /streams/ids".into(),
                    expected: format!("{} ids (one per stream)", self.n_streams()),
                    found: format!("{}", ids.len()),
                });
            }
        }
        for (name, data, per_star) in self.truth_parts() {
            self.check_len(&format!("dataset /truth/{name}"), data.len(), per_star)?;
        }
        for (method, data) in &self.baselines {
            check_method_name(method)?;
            self.check_len(&format!("dataset /baseline/{method}_actions"), data.len(), 3)?;
        }
        Ok(())
    }

    /// The truth parts present: (name, data, values per star).
    fn truth_parts(&self) -> Vec<(&'static str, &[f64], usize)> {
        let t = &self.truth;
        [
            ("actions", &t.actions, 3),
            ("angles", &t.angles, 3),
            ("frequencies", &t.frequencies, 3),
            ("acceleration", &t.acceleration, 3),
            ("potential", &t.potential, 1),
        ]
        .into_iter()
        .filter_map(|(name, data, k)| data.as_deref().map(|d| (name, d, k)))
        .collect()
    }

    /// The shape of a per-point dataset with `per_star` values per point: \[S,N(,k)\] when
    /// uniform, \[P(,k)\] when ragged.
    fn shape(&self, per_star: usize) -> Vec<usize> {
        let mut shape = match self.layout {
            StreamLayout::Uniform { streams, stars } => vec![streams, stars],
            StreamLayout::Ragged { .. } => vec![self.n_points()],
        };
        if per_star > 1 {
            shape.push(per_star);
        }
        shape
    }

    /// Writes the dataset to `path` (replacing it), with units and component order as
    /// attributes on the root and on every dataset; in the ragged layout (with
    /// `/streams/offsets`) when the streams differ in length.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), H5Error> {
        let path = path.as_ref();
        self.validate()
            .map_err(|e| H5Error::unexpected(path, e.object, e.expected, e.found))?;
        let offsets: Option<Vec<u64>> = match &self.layout {
            StreamLayout::Uniform { .. } => None,
            StreamLayout::Ragged { offsets } => Some(offsets.iter().map(|&o| o as u64).collect()),
        };
        let mut w = H5Writer::new();
        w.dataset("/streams/xv", &self.xv, &self.shape(6));
        if let Some(offsets) = &offsets {
            w.dataset("/streams/offsets", offsets, &[offsets.len()]);
            w.attr("/streams/offsets", "unit", OFFSETS_UNIT);
        }
        if let Some(t) = &self.t {
            w.dataset("/streams/t", t, &self.shape(1));
        }
        if let Some(ids) = &self.ids {
            w.dataset("/streams/ids", ids, &[self.n_streams()]);
            w.attr("/streams/ids", "unit", "particle id of each stream");
        }
        for (name, data, k) in self.truth_parts() {
            w.dataset(&format!("/truth/{name}"), data, &self.shape(k));
        }
        for (method, data) in &self.baselines {
            w.dataset(&format!("/baseline/{method}_actions"), data, &self.shape(3));
        }
        self.label_datasets(&mut w);
        self.root_attrs(&mut w);
        w.write(path)
    }

    /// `unit` and `component_order` on every dataset written.
    fn label_datasets(&self, w: &mut H5Writer<'_>) {
        let mut paths: Vec<String> = vec!["/streams/xv".into()];
        if self.t.is_some() {
            paths.push("/streams/t".into());
        }
        paths.extend(
            self.truth_parts()
                .iter()
                .map(|(name, _, _)| format!("/truth/{name}")),
        );
        paths.extend(self.baselines.keys().map(|m| format!("/baseline/{m}_actions")));
        for path in paths {
            let key = if path.starts_with("/baseline/") {
                "/baseline/*_actions"
            } else {
                path.as_str()
            };
            if let Some((_, unit, order)) = LAYOUT.iter().find(|(p, _, _)| *p == key) {
                w.attr(&path, "unit", *unit);
                if let Some(order) = order {
                    w.attr(&path, "component_order", *order);
                }
            }
        }
    }

    fn root_attrs(&self, w: &mut H5Writer<'_>) {
        write_root_attrs(w, &self.attrs);
        w.attr("/", "n_streams", self.n_streams() as u64);
        if let Some(n) = self.layout.uniform_stars() {
            w.attr("/", "n_stars", n as u64);
        }
    }

    /// Reads a streams dataset, uniform or ragged (with `/streams/offsets`), accepting any
    /// subset of the optional parts. Errors name the file, the dataset and what was expected.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, H5Error> {
        let f = H5File::open(path)?;
        check_root_units(&f)?;
        let invalid = |e: InvalidPart| f.unexpected(e.object, e.expected, e.found);
        let (points, xv) = read_points(&f)?;
        let s = points.layout.n_streams();
        let mut ds = Self::from_layout(points.layout, xv).map_err(invalid)?;
        let dims = &points.dims;
        ds.t = read_times(&f, &ds.layout, dims)?;
        if f.exists("/streams/ids") {
            ds.ids = Some(f.read_u64_shaped("/streams/ids", &[Dim::Named("S", s)])?.data);
        }
        ds.truth = read_truth(&f, dims)?;
        ds.baselines = read_baselines(&f, dims)?;
        ds.attrs = read_attrs(&f)?;
        Ok(ds)
    }
}

/// What `/streams/offsets` says of itself.
const OFFSETS_UNIT: &str =
    "row of /streams/xv where each stream starts, then the row count: stream s is rows offsets[s]..offsets[s+1]";

/// How a file lays out its points: the streams, and the leading dimensions of every
/// per-point dataset as stored (\[S,N\] uniform, \[P\] ragged; a ragged file of equal
/// streams is read as uniform, its datasets still \[P\]).
struct FilePoints {
    layout: StreamLayout,
    dims: Vec<Dim>,
}

/// `/streams/xv` (checked: not empty, finite, within bounds) and its layout: \[S,N,6\], or
/// \[P,6\] with `/streams/offsets` \[S+1\].
fn read_points(f: &H5File) -> Result<(FilePoints, Vec<f64>), H5Error> {
    let invalid = |e: InvalidPart| f.unexpected(e.object, e.expected, e.found);
    let (points, xv) = if f.exists("/streams/offsets") {
        let xv = read_xv(f, "/streams/xv", &[Dim::Any("P"), Dim::Is(6)])?;
        let p = xv.shape[0];
        let offsets = f.read_u64_shaped("/streams/offsets", &[Dim::Any("S+1")])?.data;
        let layout = ragged_layout(&offsets, p).map_err(invalid)?;
        let dims = vec![Dim::Named("P", p)];
        (FilePoints { layout, dims }, xv.data)
    } else {
        refuse_rows_without_offsets(f)?;
        let xv = read_xv(f, "/streams/xv", &[Dim::Any("S"), Dim::Any("N"), Dim::Is(6)])?;
        let (s, n) = (xv.shape[0], xv.shape[1]);
        let layout = StreamLayout::uniform(s, n);
        let dims = vec![Dim::Named("S", s), Dim::Named("N", n)];
        (FilePoints { layout, dims }, xv.data)
    };
    points.layout.check_not_empty().map_err(invalid)?;
    check_points(&xv, &points.layout).map_err(invalid)?;
    Ok((points, xv))
}

/// `/streams/xv` as rows \[P,6\] needs `/streams/offsets` to say where streams start.
fn refuse_rows_without_offsets(f: &H5File) -> Result<(), H5Error> {
    match f.shape("/streams/xv") {
        Ok(shape) if shape.len() == 2 => Err(f.unexpected(
            "dataset /streams/xv",
            "shape [S,N,6], or [P,6] beside /streams/offsets [S+1] (streams of different lengths)",
            format!("shape {} and no /streams/offsets", shape_string(&shape)),
        )),
        _ => Ok(()),
    }
}

/// The layout of `/streams/offsets` over `p` rows of `/streams/xv`.
fn ragged_layout(offsets: &[u64], p: usize) -> Result<StreamLayout, InvalidPart> {
    let object = layout::OFFSETS.to_string();
    let offsets: Vec<usize> = offsets
        .iter()
        .map(|&o| usize::try_from(o))
        .collect::<Result<_, _>>()
        .map_err(|_| InvalidPart {
            object: object.clone(),
            expected: "row indices".into(),
            found: "a value too large for this machine".into(),
        })?;
    let layout = StreamLayout::from_offsets(offsets)?;
    let last = layout.n_points();
    if last != p {
        return Err(InvalidPart {
            object,
            expected: format!("a last offset equal to P = {p}, the rows of /streams/xv"),
            found: format!("offsets[{}] = {last}", layout.n_streams()),
        });
    }
    Ok(layout)
}

/// The root attributes every file of ours carries: provenance, units, component order, G.
pub(crate) fn write_root_attrs(w: &mut H5Writer<'_>, a: &DatasetAttrs) {
    for (name, value) in &a.extra {
        w.attr("/", name, value.clone());
    }
    w.attr("/", "description", a.description.as_str())
        .attr("/", "potential", a.potential.as_str())
        .attr("/", "source", a.source.as_str())
        .attr("/", "component_order", "r,z,phi")
        .attr("/", "G", G);
    if let Some(seed) = a.seed {
        w.attr("/", "seed", seed);
    }
    for (name, unit) in ROOT_UNITS {
        w.attr("/", name, unit);
    }
}

/// Points (rows of six) finite and within the bounds of [`checks`].
fn check_points(xv: &[f64], layout: &StreamLayout) -> Result<(), InvalidPart> {
    check_finite("dataset /streams/xv", xv, layout, 6)?;
    check_bounds_in("dataset /streams/xv", xv, layout)
}

/// A baseline method name becomes part of a dataset name: no `/`, not empty.
fn check_method_name(method: &str) -> Result<(), InvalidPart> {
    if !method.is_empty() && !method.contains('/') {
        return Ok(());
    }
    Err(InvalidPart {
        object: "baseline method name".into(),
        expected: "a non-empty name without '/'".into(),
        found: format!("{method:?}"),
    })
}

/// Unit attributes of the root that contradict ours are refused (length, velocity and
/// time are converted where they are used, by [`units`]).
pub(crate) fn check_root_units(f: &H5File) -> Result<(), H5Error> {
    for (name, ours) in ROOT_UNITS {
        if CONVERTED_ROOT_UNITS.contains(&name) {
            continue;
        }
        if let Some(found) = f.attr_opt("/", name)? {
            let ok = found.as_str().is_some_and(|s| unit_matches(s, ours));
            if !ok {
                let object = format!("attribute {name} of /");
                return Err(f.unexpected(
                    object,
                    format!("{ours:?} (the project's unit)"),
                    found.to_string(),
                ));
            }
        }
    }
    if let Some(order) = f.attr_opt("/", "component_order")? {
        if normalise_unit(order.as_str().unwrap_or_default()) != "r,z,phi" {
            return Err(f.unexpected("attribute component_order of /", "\"r,z,phi\"", order.to_string()));
        }
    }
    Ok(())
}

/// `/streams/t` in Gyr, converted from the unit the file states (`unit` of the dataset,
/// else the root `time_unit`; Gyr when neither is given).
fn read_times(f: &H5File, layout: &StreamLayout, dims: &[Dim]) -> Result<Option<Vec<f64>>, H5Error> {
    if !f.exists("/streams/t") {
        return Ok(None);
    }
    let t = f.read_f64_shaped("/streams/t", dims)?;
    let stated = match f.attr_opt("/streams/t", "unit")? {
        Some(unit) => Some(("attribute unit of /streams/t", unit)),
        None => f
            .attr_opt("/", "time_unit")?
            .map(|u| ("attribute time_unit of /", u)),
    };
    let factor = match stated {
        None => 1.0,
        Some((object, unit)) => unit
            .as_str()
            .and_then(gyr_per_unit)
            .ok_or_else(|| f.unexpected(object, "a time unit: Gyr, Myr or kpc/(km/s)", unit.to_string()))?,
    };
    let t: Vec<f64> = t.data.into_iter().map(|x| x * factor).collect();
    check_times(&t, layout).map_err(|e| f.unexpected(e.object, e.expected, e.found))?;
    Ok(Some(t))
}

/// The truth parts present; `one` are the dimensions of a per-point value as stored.
fn read_truth(f: &H5File, one: &[Dim]) -> Result<Truth, H5Error> {
    let three = with_components(one, 3);
    let read = |name: &str, dims: &[Dim]| -> Result<Option<Vec<f64>>, H5Error> {
        let path = format!("/truth/{name}");
        if !f.exists(&path) {
            return Ok(None);
        }
        Ok(Some(read_derived(f, &path, &path, dims)?))
    };
    Ok(Truth {
        actions: read("actions", &three)?,
        angles: read("angles", &three)?,
        frequencies: read("frequencies", &three)?,
        acceleration: read("acceleration", &three)?,
        potential: read("potential", one)?,
    })
}

/// The dataset at `path`, laid out as `LAYOUT` says for `key`: in our unit (a `unit`
/// attribute saying otherwise is refused) and component order (a permutation is undone).
fn read_derived(f: &H5File, path: &str, key: &str, dims: &[Dim]) -> Result<Vec<f64>, H5Error> {
    let (_, unit, order) = LAYOUT.iter().find(|(p, _, _)| *p == key).ok_or_else(|| {
        f.unexpected(
            path,
            "a dataset of the streams schema",
            "one it does not describe",
        )
    })?;
    let order: Option<Vec<&str>> = order.map(|o| o.split(',').collect());
    Ok(read_labelled(f, path, dims, unit, order.as_deref())?.data)
}

/// Every `/baseline/<method>_actions`; other baseline datasets are skipped.
fn read_baselines(f: &H5File, one: &[Dim]) -> Result<BTreeMap<String, Vec<f64>>, H5Error> {
    let mut out = BTreeMap::new();
    if !f.has_group("/baseline") {
        return Ok(out);
    }
    let dims = with_components(one, 3);
    for name in f.datasets("/baseline")? {
        match name.strip_suffix("_actions") {
            Some(method) if !method.is_empty() => {
                let data = read_derived(f, &format!("/baseline/{name}"), "/baseline/*_actions", &dims)?;
                out.insert(method.to_string(), data);
            }
            _ => log::debug!(
                "{}: skipping /baseline/{name} (not <method>_actions)",
                f.path().display()
            ),
        }
    }
    Ok(out)
}

/// The dimensions `one` of a per-point value with `k` components added.
fn with_components(one: &[Dim], k: usize) -> Vec<Dim> {
    one.iter().copied().chain([Dim::Is(k)]).collect()
}

pub(crate) fn read_attrs(f: &H5File) -> Result<DatasetAttrs, H5Error> {
    let mut all = f.attrs("/")?;
    let text = |all: &BTreeMap<String, Attr>, key: &str| {
        all.get(key)
            .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_string))
            .unwrap_or_default()
    };
    let mut attrs = DatasetAttrs {
        description: text(&all, "description"),
        potential: text(&all, "potential"),
        source: text(&all, "source"),
        seed: all.get("seed").and_then(Attr::as_u64),
        extra: BTreeMap::new(),
    };
    if attrs.seed.is_none() {
        // A seed we cannot hold as u64 (negative, text) is kept as found.
        if let Some(seed) = all.remove("seed") {
            attrs.extra.insert("seed_original".into(), seed);
        }
    }
    let ours = |k: &str| KNOWN_ROOT.contains(&k) || ROOT_UNITS.iter().any(|(name, _)| *name == k);
    attrs.extra.extend(all.into_iter().filter(|(k, _)| !ours(k)));
    Ok(attrs)
}
