//! `validate`: a catalog against the truth of the streams dataset it was made from.
//!
//! Catalog rows are the dataset's points in order: a dataset of S streams x N points gives
//! n = S*N rows in stream-major order (row = s*N + i), `/particles/stream` (when present)
//! equals row / N, and `/particles/xv` equals `/streams/xv`; streams of different lengths
//! (`/streams/offsets`) give their P points the same way, stream `s` on rows
//! `offsets[s]..offsets[s+1]`. A catalog of whole streams named by `/particles/stream`
//! (`apply --subset validation`) is judged against those streams. Anything else is refused.
//!
//! [`validate`] computes, per component (r, z, phi) and overall:
//! * actions against `/truth/actions`: mean |dJ| (kpc km/s), mean |dJ| / mean |J_true| and
//!   median |dJ| ([`ActionErrors`]);
//! * angles against `/truth/angles`: mean and median |wrap(theta - theta_true)| in degrees,
//!   wrap into (-pi, pi] ([`AngleErrors`]);
//! * the field, where the catalog has the column and the truth the part ([`FieldErrors`]):
//!   `acceleration` against `/truth/acceleration` (mean and median |a - a_true| / |a_true|,
//!   angle between a and a_true, |a_k - a_true_k| / |a_true| per x, y, z), `potential`
//!   against `/truth/potential` (relative error after removing the offset
//!   median(Phi - Phi_true)), `frequencies` against `/truth/frequencies` (|dOmega_k| /
//!   |Omega_k,true| per component);
//! * the same action errors for every `/baseline/<name>_actions` of the truth file;
//! * conservation: mean over streams of mean_i |J - mean_stream J| ([`Spread`]), each stream
//!   over its own points (streams of one point left out), for the catalog, each baseline
//!   and the truth itself (the sanity row, zero for exact truth).
//!
//! Each over all points with values and over the trusted ones. `/particles/flag` 0 = ok,
//! [`FLAG_UNTRUSTED`] = values written but not trusted, any other value = no values (NaN).
//! Trusted = flag 0, or every point when the catalog has no flags.
//!
//! [`validate_files`] reads the two files, validates and writes the PNG plots
//! ([`plots`]); the CLI prints its [`ValidateOutput`] as a table or as JSON.

mod history;
pub mod metrics;
pub mod plots;
mod table;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use actionfinder_snapshots::h5::{Attr, H5Error};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::dataset::{StreamLayout, StreamsDataset};
use crate::inverse::roundtrip::RoundTrip;
use crate::output::{self, Existing};
pub use history::{read_history, Epoch, History};
pub use metrics::{
    AccelerationErrors, ActionErrors, AngleErrors, Coverage, FrequencyErrors, PotentialErrors, Spread,
};

pub use crate::catalog::FLAG_UNTRUSTED;

/// Why a validation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// A file could not be read.
    #[error(transparent)]
    Read(#[from] H5Error),
    /// The catalog's rows are not the truth dataset's points.
    #[error("the catalog's rows are not the truth dataset's points: {0}")]
    Rows(String),
    /// The truth dataset holds no truth to compare with.
    #[error("the truth dataset has neither /truth/actions nor /truth/angles: nothing to validate against")]
    NoTruth,
    /// Truth exists but the catalog has none of the matching columns.
    #[error("nothing to compare: {0}")]
    NothingToCompare(String),
    /// An error of [`validate`] with the two files it concerns.
    /// (The cause is part of the message, not a `source`, so that it is printed once.)
    #[error("catalog {} against truth dataset {}: {cause}", catalog.display(), truth.display())]
    InFiles {
        catalog: PathBuf,
        truth: PathBuf,
        cause: Box<ValidateError>,
    },
    /// A model directory's training history could not be read.
    #[error("model directory {}: {message}", dir.display())]
    Model { dir: PathBuf, message: String },
    /// A plot could not be written.
    #[error("plot {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    /// The plot folder cannot take the plots (checked before anything is read).
    #[error("{0}")]
    Output(String),
}

/// A value over all points with values and over the trusted ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Subsets<T> {
    /// Every point (or stream) with finite values.
    pub all: T,
    /// The trusted points (streams whose points are all trusted).
    pub trusted: T,
}

/// A named row (a baseline method, or a source of actions for the conservation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Named<T> {
    /// `catalog`, the baseline's name (e.g. `staeckel`) or `truth`.
    pub name: String,
    #[serde(flatten)]
    pub value: Subsets<T>,
}

/// How the catalog's points are flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FlagCounts {
    /// Whether the catalog has `/particles/flag` (all points count as ok when not).
    pub present: bool,
    /// Points with flag 0.
    pub ok: usize,
    /// Points with [`FLAG_UNTRUSTED`]: values written, not trusted.
    pub untrusted: usize,
    /// Points with any other nonzero flag: no values.
    pub failed: usize,
    /// (untrusted + failed) / all points.
    pub flagged_share: f64,
}

/// The learned field against the truth, each part `None` when the catalog has no such
/// column or the truth no such part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FieldErrors {
    /// `/particles/acceleration` against `/truth/acceleration`.
    pub acceleration: Option<Subsets<AccelerationErrors>>,
    /// `/particles/potential` against `/truth/potential`.
    pub potential: Option<Subsets<PotentialErrors>>,
    /// `/particles/frequencies` against `/truth/frequencies`.
    pub frequencies: Option<Subsets<FrequencyErrors>>,
    /// `/particles/stream_frequencies` (time slope of the angles) against `/truth/frequencies`.
    pub stream_frequencies: Option<Subsets<FrequencyErrors>>,
}

/// Everything [`validate`] measured. Action errors in kpc km/s, angle errors in degrees, field
/// errors relative (directions in degrees, the potential offset in (km/s)^2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Catalog rows = S * N (P when streams differ in length).
    pub points: usize,
    /// Streams S of the truth dataset.
    pub n_streams: usize,
    /// Points per stream N (the longest stream's when they differ in length).
    pub n_stars: usize,
    /// The fewest and the most points of a stream, when streams differ in length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_lengths: Option<[usize; 2]>,
    /// The catalog's root attribute `method`, when it has one.
    pub method: Option<String>,
    pub flags: FlagCounts,
    /// Catalog actions against `/truth/actions`, when both exist.
    pub actions: Option<Subsets<ActionErrors>>,
    /// Catalog angles against `/truth/angles`, when both exist.
    pub angles: Option<Subsets<AngleErrors>>,
    /// The catalog's `action_error` against its actual errors, when it has one.
    pub action_error: Option<Subsets<Coverage>>,
    /// The catalog's round trip through the inverse map, when it has one.
    pub roundtrip: Option<Subsets<RoundTrip>>,
    /// The catalog's field against the truth's, part by part.
    pub field: FieldErrors,
    /// Each `/baseline/<name>_actions` against `/truth/actions` (trusted = the catalog's
    /// trusted points).
    pub baselines: Vec<Named<ActionErrors>>,
    /// Spread of actions along streams: `catalog`, each baseline, `truth`; empty when
    /// streams have fewer than two points.
    pub conservation: Vec<Named<Spread>>,
    /// What could not be validated, and why.
    pub missing: Vec<String>,
}

/// Which points and streams each subset holds.
struct Selection {
    /// Per point: values written (flag 0 or [`FLAG_UNTRUSTED`], or no flags).
    usable: Vec<bool>,
    /// Per point: flag 0 (or no flags).
    trusted: Vec<bool>,
}

impl Selection {
    fn new(flag: Option<&[u32]>, n: usize) -> Self {
        match flag {
            None => Selection {
                usable: vec![true; n],
                trusted: vec![true; n],
            },
            Some(f) => Selection {
                usable: f.iter().map(|&v| v == 0 || v == FLAG_UNTRUSTED).collect(),
                trusted: f.iter().map(|&v| v == 0).collect(),
            },
        }
    }

    fn counts(&self, present: bool) -> FlagCounts {
        let n = self.usable.len();
        let ok = self.trusted.iter().filter(|&&t| t).count();
        let usable = self.usable.iter().filter(|&&u| u).count();
        FlagCounts {
            present,
            ok,
            untrusted: usable - ok,
            failed: n - usable,
            flagged_share: (n - ok) as f64 / n as f64,
        }
    }
}

/// `f(column, truth, selection)` over the usable and over the trusted points, when both the
/// catalog's column and the truth's part exist.
fn score<T>(
    column: Option<&[f64]>,
    truth: Option<&[f64]>,
    sel: &Selection,
    f: impl Fn(&[f64], &[f64], &[bool]) -> T,
) -> Option<Subsets<T>> {
    let (c, t) = column.zip(truth)?;
    Some(subsets(&sel.usable, &sel.trusted, |s| f(c, t, s)))
}

/// The catalog's field columns against the truth's parts.
fn field_errors(catalog: &Catalog, truth: &StreamsDataset, sel: &Selection) -> FieldErrors {
    let t = &truth.truth;
    FieldErrors {
        acceleration: score(
            catalog.column("acceleration"),
            t.acceleration.as_deref(),
            sel,
            metrics::acceleration_errors,
        ),
        potential: score(
            catalog.column("potential"),
            t.potential.as_deref(),
            sel,
            metrics::potential_errors,
        ),
        frequencies: score(
            catalog.column("frequencies"),
            t.frequencies.as_deref(),
            sel,
            metrics::frequency_errors,
        ),
        stream_frequencies: score(
            catalog.column("stream_frequencies"),
            t.frequencies.as_deref(),
            sel,
            metrics::frequency_errors,
        ),
    }
}

/// `f` over the selection `all` and over `trusted`.
fn subsets<T>(all: &[bool], trusted: &[bool], f: impl Fn(&[bool]) -> T) -> Subsets<T> {
    Subsets {
        all: f(all),
        trusted: f(trusted),
    }
}

/// Per stream: whether every point is in `points`.
fn whole_streams(points: &[bool], layout: &StreamLayout) -> Vec<bool> {
    if let Some(n_stars) = layout.uniform_stars() {
        return points
            .chunks(n_stars.max(1))
            .map(|c| c.iter().all(|&p| p))
            .collect();
    }
    layout.split(points, 1).map(|c| c.iter().all(|&p| p)).collect()
}

/// The streams a catalog of fewer rows than the dataset holds (e.g. `apply --subset
/// validation`): whole streams of N rows each, named by `/particles/stream`. `None` when the
/// catalog is not such a subset (then [`check_rows`] judges it as the whole dataset).
fn streams_subset(catalog: &Catalog, truth: &StreamsDataset) -> Option<Vec<usize>> {
    let stream = catalog.stream.as_ref()?;
    if truth.layout().is_ragged() {
        return ragged_subset(stream, truth.layout());
    }
    let (s, n) = (truth.n_streams(), truth.n_stars());
    if catalog.len() == s * n || n == 0 || stream.len() % n != 0 {
        return None;
    }
    let ids: Vec<usize> = stream.chunks(n).map(|c| c[0] as usize).collect();
    let whole = stream.chunks(n).all(|c| c.iter().all(|&x| x == c[0])) && ids.iter().all(|&k| k < s);
    whole.then_some(ids)
}

/// [`streams_subset`] for streams of different lengths: runs of one stream index, each as
/// long as that stream, fewer rows than the dataset.
fn ragged_subset(stream: &[u64], layout: &StreamLayout) -> Option<Vec<usize>> {
    if stream.len() == layout.n_points() {
        return None;
    }
    let mut ids = Vec::new();
    let mut row = 0;
    while row < stream.len() {
        let s = usize::try_from(stream[row])
            .ok()
            .filter(|&s| s < layout.n_streams())?;
        let end = row + layout.len(s);
        if end > stream.len() || stream[row..end].iter().any(|&x| x != stream[row]) {
            return None;
        }
        ids.push(s);
        row = end;
    }
    Some(ids)
}

/// The truth of the catalog's rows: the streams a subset catalog names by
/// `/particles/stream` ([`streams_subset`]), else the whole dataset.
pub fn matched_truth<'a>(catalog: &Catalog, truth: &'a StreamsDataset) -> Cow<'a, StreamsDataset> {
    match streams_subset(catalog, truth) {
        Some(streams) => Cow::Owned(truth.select(&streams)),
        None => Cow::Borrowed(truth),
    }
}

/// Checks that the catalog's rows are the dataset's points, in stream-major order.
fn check_rows(catalog: &Catalog, truth: &StreamsDataset, subset: bool) -> Result<(), ValidateError> {
    if truth.layout().is_ragged() {
        return check_ragged_rows(catalog, truth, subset);
    }
    let (s, n) = (truth.n_streams(), truth.n_stars());
    if catalog.len() != s * n {
        return Err(ValidateError::Rows(format!(
            "the catalog has {} rows, the truth dataset S = {s} streams x N = {n} points = {} \
             (a catalog of a streams dataset has one row per point, stream-major)",
            catalog.len(),
            s * n
        )));
    }
    if let Some(stream) = catalog.stream.as_ref().filter(|_| !subset) {
        if let Some(row) = (0..stream.len()).find(|&r| stream[r] != (r / n.max(1)) as u64) {
            return Err(ValidateError::Rows(format!(
                "/particles/stream of row {row} is {}, expected {} (rows in stream-major order, \
                 N = {n} points per stream)",
                stream[row],
                row / n.max(1)
            )));
        }
    }
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()));
    if let Some(k) = (0..catalog.xv.len()).find(|&k| !same(catalog.xv[k], truth.xv[k])) {
        return Err(ValidateError::Rows(format!(
            "/particles/xv of row {} is not /streams/xv of stream {}, point {} \
             (value {} of 6: {} against {})",
            k / 6,
            k / 6 / n.max(1),
            (k / 6) % n.max(1),
            k % 6 + 1,
            catalog.xv[k],
            truth.xv[k]
        )));
    }
    Ok(())
}

/// [`check_rows`] for streams of different lengths.
fn check_ragged_rows(catalog: &Catalog, truth: &StreamsDataset, subset: bool) -> Result<(), ValidateError> {
    let layout = truth.layout();
    if catalog.len() != layout.n_points() {
        return Err(ValidateError::Rows(format!(
            "the catalog has {} rows, the truth dataset {} \
             (a catalog of a streams dataset has one row per point, stream-major)",
            catalog.len(),
            layout.describe()
        )));
    }
    if let Some(stream) = catalog.stream.as_ref().filter(|_| !subset) {
        let of_rows = layout.stream_of_rows();
        let expected = |r: usize| of_rows.get(r).map(|&s| s as u64);
        if let Some(row) = (0..stream.len()).find(|&r| expected(r) != Some(stream[r])) {
            return Err(ValidateError::Rows(format!(
                "/particles/stream of row {row} is {}, expected {} (rows in stream-major order, \
                 stream s on rows offsets[s]..offsets[s+1] of /streams/offsets)",
                stream[row],
                expected(row).map_or_else(|| "no row".into(), |s| s.to_string())
            )));
        }
    }
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()));
    if let Some(k) = (0..catalog.xv.len()).find(|&k| !same(catalog.xv[k], truth.xv[k])) {
        let (s, i) = layout.locate(k / 6);
        return Err(ValidateError::Rows(format!(
            "/particles/xv of row {} is not /streams/xv of stream {s}, point {i} (value {} of 6: {} against {})",
            k / 6,
            k % 6 + 1,
            catalog.xv[k],
            truth.xv[k]
        )));
    }
    Ok(())
}

/// What exists on either side, as notes for [`Report::missing`]; an error when nothing
/// can be compared.
fn missing_parts(catalog: &Catalog, truth: &StreamsDataset) -> Result<Vec<String>, ValidateError> {
    let (ta, tg) = (truth.truth.actions.is_some(), truth.truth.angles.is_some());
    if !ta && !tg {
        return Err(ValidateError::NoTruth);
    }
    let (ca, cg) = (
        catalog.column("actions").is_some(),
        catalog.column("angles").is_some(),
    );
    if !(ta && ca || tg && cg) {
        return Err(ValidateError::NothingToCompare(format!(
            "the truth has {}, the catalog has {}",
            parts(ta, tg, "/truth"),
            parts(ca, cg, "/particles")
        )));
    }
    let mut missing = Vec::new();
    let mut note = |cond: bool, text: &str| {
        if cond {
            missing.push(text.to_string());
        }
    };
    note(
        !ta,
        "no /truth/actions in the truth dataset: action errors not computed",
    );
    note(
        !tg,
        "no /truth/angles in the truth dataset: angle errors not computed",
    );
    note(
        ta && !ca,
        "no /particles/actions in the catalog: action errors not computed",
    );
    note(
        tg && !cg,
        "no /particles/angles in the catalog: angle errors not computed",
    );
    note(
        truth.n_stars() < 2,
        "streams of fewer than two points: no conservation along streams",
    );
    note(
        truth.n_stars() >= 2 && truth.layout().length_range().0 < 2,
        "some streams have one point: left out of the conservation along streams",
    );
    missing.extend(missing_field(catalog, truth));
    Ok(missing)
}

/// A note for each field column of the catalog whose truth part the dataset lacks.
fn missing_field(catalog: &Catalog, truth: &StreamsDataset) -> Vec<String> {
    let t = &truth.truth;
    [
        ("acceleration", t.acceleration.is_some()),
        ("potential", t.potential.is_some()),
        ("frequencies", t.frequencies.is_some()),
    ]
    .into_iter()
    .filter(|&(name, in_truth)| catalog.column(name).is_some() && !in_truth)
    .map(|(name, _)| format!("no /truth/{name} in the truth dataset: {name} errors not computed"))
    .collect()
}

/// "/truth/actions and /truth/angles", "/truth/actions only", ..., "neither".
fn parts(actions: bool, angles: bool, group: &str) -> String {
    match (actions, angles) {
        (true, true) => format!("{group}/actions and {group}/angles"),
        (true, false) => format!("{group}/actions only"),
        (false, true) => format!("{group}/angles only"),
        (false, false) => format!("neither {group}/actions nor {group}/angles"),
    }
}

/// Validates `catalog` against the truth of `truth` (see the module doc for the numbers).
///
/// Errors when the catalog's rows are not the dataset's points in stream-major order, when
/// the dataset has no truth, or when the catalog has nothing the truth can judge.
pub fn validate(catalog: &Catalog, truth: &StreamsDataset) -> Result<Report, ValidateError> {
    let matched = matched_truth(catalog, truth);
    let truth = matched.as_ref();
    check_rows(catalog, truth, matches!(matched, Cow::Owned(_)))?;
    let missing = missing_parts(catalog, truth)?;
    let n = catalog.len();
    let sel = Selection::new(catalog.flag.as_deref(), n);
    let true_actions = truth.truth.actions.as_deref();
    let actions = score(
        catalog.column("actions"),
        true_actions,
        &sel,
        metrics::action_errors,
    );
    let angles = score(
        catalog.column("angles"),
        truth.truth.angles.as_deref(),
        &sel,
        metrics::angle_errors,
    );
    let action_error = catalog
        .column("actions")
        .zip(catalog.column("action_error"))
        .zip(true_actions)
        .map(|((a, e), t)| subsets(&sel.usable, &sel.trusted, |s| metrics::coverage(a, e, t, s)));
    let every = vec![true; n];
    let baselines = true_actions.map_or_else(Vec::new, |t| {
        (truth.baselines.iter())
            .map(|(name, b)| Named {
                name: name.clone(),
                value: subsets(&every, &sel.trusted, |s| metrics::action_errors(b, t, s)),
            })
            .collect()
    });
    Ok(Report {
        points: n,
        n_streams: truth.n_streams(),
        n_stars: truth.n_stars(),
        stream_lengths: truth.layout().is_ragged().then(|| {
            let (min, max) = truth.layout().length_range();
            [min, max]
        }),
        method: catalog
            .attrs
            .extra
            .get("method")
            .and_then(Attr::as_str)
            .map(str::to_string),
        flags: sel.counts(catalog.flag.is_some()),
        actions,
        angles,
        action_error,
        roundtrip: catalog
            .column("roundtrip_error")
            .map(|e| subsets(&sel.usable, &sel.trusted, |s| roundtrip(e, s))),
        field: field_errors(catalog, truth, &sel),
        baselines,
        conservation: conservation(catalog, truth, &sel),
        missing,
    })
}

/// The round trip of the `select`ed rows of `[n,2]` errors.
fn roundtrip(errors: &[f64], select: &[bool]) -> RoundTrip {
    let rows: Vec<f64> = (errors.chunks_exact(2).zip(select))
        .filter(|(_, &s)| s)
        .flat_map(|(r, _)| r.to_vec())
        .collect();
    RoundTrip::of(&rows)
}

/// Spread along streams of the catalog's actions, each baseline's and the truth's.
fn conservation(catalog: &Catalog, truth: &StreamsDataset, sel: &Selection) -> Vec<Named<Spread>> {
    let layout = truth.layout();
    if truth.n_stars() < 2 {
        return Vec::new();
    }
    let usable = whole_streams(&sel.usable, layout);
    let trusted = whole_streams(&sel.trusted, layout);
    let every = vec![true; truth.n_streams()];
    let row = |name: &str, actions: &[f64], all: &[bool]| Named {
        name: name.to_string(),
        value: subsets(all, &trusted, |s| {
            metrics::stream_spread_streams(actions, layout, s)
        }),
    };
    let mut rows = Vec::new();
    if let Some(a) = catalog.column("actions") {
        rows.push(row("catalog", a, &usable));
    }
    rows.extend(truth.baselines.iter().map(|(name, b)| row(name, b, &every)));
    if let Some(t) = &truth.truth.actions {
        rows.push(row("truth", t, &every));
    }
    rows
}

/// What `validate_files` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateOptions {
    /// The catalog (HDF5).
    pub catalog: PathBuf,
    /// The streams dataset with the truth of the same points.
    pub truth: PathBuf,
    /// Folder for the PNG plots; `None`: `<catalog stem>_plots` beside the catalog.
    pub plots: Option<PathBuf>,
    /// Model directory for `loss.png`; `None`: the catalog's root attribute `model`, if any.
    pub model: Option<PathBuf>,
    /// Whether plots already in the folder may be replaced.
    pub existing: Existing,
}

/// The outcome of [`validate_files`]: the report, the files it judged and the plots written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidateOutput {
    /// The catalog file.
    pub catalog: String,
    /// The truth dataset file.
    pub truth: String,
    /// PNG files written.
    pub plots: Vec<String>,
    /// Plots not written, and why.
    pub plot_notes: Vec<String>,
    #[serde(flatten)]
    pub report: Report,
}

/// Reads the catalog and the truth dataset, validates, and writes the plots.
pub fn validate_files(opts: &ValidateOptions) -> Result<ValidateOutput, ValidateError> {
    let dir = opts
        .plots
        .clone()
        .unwrap_or_else(|| default_plot_dir(&opts.catalog));
    let inputs = [opts.catalog.as_path(), opts.truth.as_path()];
    output::check_files_in("--plots", &dir, &plots::FILES, &inputs, opts.existing)
        .map_err(|e| ValidateError::Output(format!("{e:#}")))?;
    let catalog = Catalog::read(&opts.catalog)?;
    let truth = StreamsDataset::read(&opts.truth)?;
    let report = validate(&catalog, &truth).map_err(|e| ValidateError::InFiles {
        catalog: opts.catalog.clone(),
        truth: opts.truth.clone(),
        cause: Box::new(e),
    })?;
    let history = model_history(opts, &catalog)?;
    let written = plots::write_all(&dir, &catalog, &matched_truth(&catalog, &truth), history.as_ref())?;
    let show = |p: &Path| p.display().to_string();
    Ok(ValidateOutput {
        catalog: show(&opts.catalog),
        truth: show(&opts.truth),
        plots: written.files.iter().map(|p| show(p)).collect(),
        plot_notes: written.notes,
        report,
    })
}

/// `<dir>/<stem>_plots` for the catalog `<dir>/<stem>.h5`.
pub fn default_plot_dir(catalog: &Path) -> PathBuf {
    let stem = catalog
        .file_stem()
        .map_or_else(|| "catalog".into(), |s| s.to_string_lossy());
    catalog.with_file_name(format!("{stem}_plots"))
}

/// The training history of `--model`, or of the catalog's `model` attribute when that
/// directory can be found (as written, else relative to the catalog's folder). An explicit
/// model directory must have a readable `model.json`; one from the attribute that cannot be
/// found is skipped with a warning.
fn model_history(opts: &ValidateOptions, catalog: &Catalog) -> Result<Option<History>, ValidateError> {
    if let Some(dir) = &opts.model {
        return read_history(dir).map(Some);
    }
    let Some(named) = catalog.attrs.extra.get("model").and_then(Attr::as_str) else {
        return Ok(None);
    };
    let beside = opts.catalog.parent().map(|p| p.join(named));
    let found = std::iter::once(PathBuf::from(named))
        .chain(beside)
        .find(|d| d.join("model.json").is_file());
    match found {
        Some(dir) => read_history(&dir).map(Some),
        None => {
            log::warn!(
                "catalog {}: model directory {named:?} (root attribute `model`) has no model.json; \
                 loss.png not written",
                opts.catalog.display()
            );
            Ok(None)
        }
    }
}
