//! `actionfinder apply`: a trained model on every point of a streams dataset or a catalog
//! (docs/design.md step 8). Per star: the toy, the fixed point for `J'` (one star per group, damped
//! so that it converges where plain iteration does not), then `theta''` and `J''`. Points go
//! through in chunks, so millions fit in memory; stars the model cannot vouch for are flagged.
//!
//! Angle origin: any shift of theta'' by a function of the actions is as canonical as the map
//! itself, so the loss leaves the zero point free. `apply` puts it where the toy has its own
//! (pericentre and ascending node): `theta = theta''(x, v) - theta''(theta_toy = 0, J')`, the
//! image of the toy's origin on the star's torus. This moves no action (unlike the paper's
//! alpha1 term, which pulls the whole map towards the toy during training).
//!
//! Where the model directory has an inverse map, each point's round trip through it,
//! `|x - x'|` and `|v - v'|`, is a per-point quality measure (`/particles/roundtrip_error`).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::ensemble::Ensemble;
use std::time::Instant;

use actionfinder_integrators::actions::{Flag, IsochroneFinder};
use actionfinder_snapshots::h5::H5File;
use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use rand_pcg::Pcg64;

use crate::catalog::{Catalog, FLAG_NO_CONVERGENCE, FLAG_UNTRUSTED};
use crate::classic::action_spread_streams;
use crate::dataset::{StreamLayout, StreamsDataset};
use crate::digest::DataDigest;
use crate::field::columns::{field_columns, FieldColumns, POTENTIAL_ZERO_POINT};
use crate::field::FieldModel;
use crate::inverse::InverseModel;
use crate::model::fixed_point;
use crate::model::transform::Nets;
use crate::model::Model;
use crate::points::Points;
use crate::stream_frequency::stream_frequencies_streams;
use crate::trust::{self, StreamTiming};

/// Rows per chunk.
pub const CHUNK_ROWS: usize = 16384;

/// Which streams of a streams dataset to apply to (the split stored by `train`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Subset {
    All,
    Training,
    Validation,
}

/// What `apply` did.
#[derive(Clone, Debug)]
pub struct ApplySummary {
    pub points: usize,
    pub failed: usize,
    pub untrusted: usize,
    pub seconds: f64,
    pub out: PathBuf,
    /// Whether the model's learned field was written (acceleration, potential, frequencies).
    pub field: bool,
}

impl fmt::Display for ApplySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} points in {:.2} s ({:.0} points/s): {} without values (flagged), {} not trusted (flag {})",
            self.points,
            self.seconds,
            self.points as f64 / self.seconds.max(1e-9),
            self.failed,
            self.untrusted,
            FLAG_UNTRUSTED
        )?;
        if !self.field {
            writeln!(
                f,
                "the model has no learned field: no acceleration, potential or frequencies (add one with `actionfinder fit-field`)"
            )?;
        }
        write!(f, "wrote {}", self.out.display())
    }
}

/// Results of the map for a set of points: `[n,3]` actions (kpc km/s) and angles (rad,
/// `[0, 2 pi)`), and one flag per point (0 ok; otherwise the values are NaN).
pub struct Mapped {
    pub actions: Vec<f64>,
    pub angles: Vec<f64>,
    pub flags: Vec<u32>,
    /// `[n,3]` the solved `J'` (units of the action scale; NaN where no value), which the
    /// field's frequencies reuse.
    pub j_prime: Vec<f64>,
}

/// Map every row of `xv` (rows of 6) with `model`, chunk by chunk.
pub fn map_points(model: &Model, xv: &[f64]) -> Result<Mapped> {
    let n = xv.len() / 6;
    let mut out = Mapped {
        actions: vec![f64::NAN; 3 * n],
        angles: vec![f64::NAN; 3 * n],
        flags: vec![0; n],
        j_prime: vec![f64::NAN; 3 * n],
    };
    let nets = model.nets()?.detach();
    let bar = crate::progress::counter(n as u64, "applying");
    for (c, chunk) in xv.chunks(6 * CHUNK_ROWS).enumerate() {
        let start = c * CHUNK_ROWS;
        let rows = chunk.len() / 6;
        map_chunk(model, &nets, chunk, &mut out, start)?;
        bar.inc(rows as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// One chunk: toy, per-star `J'`, then `J''`, `theta''` for the rows the toy maps.
fn map_chunk(model: &Model, nets: &Nets, xv: &[f64], out: &mut Mapped, start: usize) -> Result<()> {
    let scale = model.config.action_scale();
    let pts = model.toy.evaluate(xv)?;
    let ok: Vec<usize> = (0..xv.len() / 6).filter(|&i| pts.flags[i] == Flag::Ok).collect();
    for (i, f) in pts.flags.iter().enumerate() {
        if *f != Flag::Ok {
            out.flags[start + i] = *f as u32;
        }
    }
    if ok.is_empty() {
        return Ok(());
    }
    let values: Vec<f64> = ok
        .iter()
        .flat_map(|&i| pts.values[6 * i..6 * i + 6].iter().copied())
        .collect();
    let (t, solved) = fixed_point::solve_stars(model, nets, &values)?;
    let j_prime = Tensor::from_slice(&solved.j_prime, (ok.len(), 3), &model.device)?;
    let mapped = nets.map::<Pcg64>(&t.angles, &t.actions, &j_prime, None)?;
    let origin = nets.map::<Pcg64>(&t.angles.zeros_like()?, &t.actions, &j_prime, None)?;
    let j2 = (mapped.j2 * scale)?.to_vec2::<f64>()?;
    let th2 = (mapped.theta2 - origin.theta2)?.to_vec2::<f64>()?;
    for (k, &i) in ok.iter().enumerate() {
        let row = start + i;
        let finite = j2[k].iter().chain(&th2[k]).all(|x| x.is_finite());
        if !solved.converged[k] || !finite {
            out.flags[row] = FLAG_NO_CONVERGENCE;
            continue;
        }
        out.actions[3 * row..3 * row + 3].copy_from_slice(&j2[k]);
        out.j_prime[3 * row..3 * row + 3].copy_from_slice(&solved.j_prime[3 * k..3 * k + 3]);
        for (dst, a) in out.angles[3 * row..3 * row + 3].iter_mut().zip(&th2[k]) {
            *dst = a.rem_euclid(std::f64::consts::TAU);
        }
    }
    Ok(())
}

/// Input points with their times when they form streams.
struct Input {
    points: Points,
    t: Option<Vec<f64>>,
}

/// Read a streams dataset (only the streams `subset` names, by the model's training split)
/// or a catalog (`subset` must then be `All`).
fn read_input(path: &Path, training: &serde_json::Value, subset: Subset) -> Result<Input> {
    let f = H5File::open(path)?;
    let streams = f.has_dataset("/streams/xv");
    drop(f);
    if !streams {
        if subset != Subset::All {
            bail!(
                "--subset needs a streams dataset, {} is a catalog",
                path.display()
            );
        }
        return Ok(Input {
            points: Points::read(path)?,
            t: None,
        });
    }
    let mut ds = StreamsDataset::read(path)?;
    let chosen = chosen_streams(training, subset, &ds)?;
    if let Some(list) = &chosen {
        ds = ds.select(list);
    }
    let t = ds.t.take();
    let layout = ds.layout().clone();
    let mut points = Points::from_dataset(ds);
    if let Some(list) = chosen {
        // Keep the streams' indices in the whole dataset, for `validate`.
        let whole: Vec<u64> = list.iter().map(|&s| s as u64).collect();
        points.stream = Some(layout.repeat(&whole));
    }
    Ok(Input { points, t })
}

/// Streams chosen by `subset` from the split in the model's training record; `ds` must be
/// the training data (by the digest the model records; by the stream count for models
/// without one).
fn chosen_streams(
    training: &serde_json::Value,
    subset: Subset,
    ds: &StreamsDataset,
) -> Result<Option<Vec<usize>>> {
    let key = match subset {
        Subset::All => return Ok(None),
        Subset::Training => "train",
        Subset::Validation => "validation",
    };
    let list: Vec<usize> = serde_json::from_value(training["split"][key].clone())
        .context("the model's model.json has no training split to choose streams from")?;
    let total = training["split"]["train"].as_array().map_or(0, Vec::len)
        + training["split"]["validation"].as_array().map_or(0, Vec::len);
    match DataDigest::recorded(training) {
        Some(trained) => {
            if let Some(d) = trained.difference(&DataDigest::of(ds)) {
                bail!("the streams differ from the model's training data: {d} (training data first): --subset needs the training dataset");
            }
        }
        None => {
            log::warn!(
                "the model records no digest of its training data: --subset checks only the stream count"
            );
            let streams = ds.n_streams();
            if total != streams {
                bail!("the model was trained on {total} streams, the input has {streams}: --subset needs the training dataset");
            }
        }
    }
    Ok(Some(list))
}

/// `actionfinder apply MODEL_DIR INPUT --out CATALOG`.
pub fn apply(
    model_dir: &Path,
    path: &Path,
    out: &Path,
    subset: Subset,
    device: &Device,
) -> Result<ApplySummary> {
    apply_with_ensemble(model_dir, &Ensemble::none(), path, out, subset, device)
}

/// [`apply`], with `/particles/action_error` from the ensemble of `model_dir` and the further
/// models of `ensemble` ([`crate::ensemble`]) when there are any.
pub fn apply_with_ensemble(
    model_dir: &Path,
    ensemble: &Ensemble,
    path: &Path,
    out: &Path,
    subset: Subset,
    device: &Device,
) -> Result<ApplySummary> {
    let started = Instant::now();
    let (model, training) = Model::load(model_dir, device)?;
    let input = read_input(path, &training, subset).with_context(|| format!("reading {}", path.display()))?;
    let mut mapped = map_points(&model, &input.points.xv)?;
    let action_error = ensemble.action_error(&mapped.actions, &input.points.xv, device)?;
    let min_coverage = training["trust"]["min_coverage"]
        .as_f64()
        .unwrap_or(trust::MIN_COVERAGE);
    let timing = stream_timing(&model, &input)?;
    let single = StreamLayout::uniform(input.points.len(), 1);
    let layout = input.points.layout.clone().unwrap_or(single);
    let untrusted = timing.as_ref().map_or(0, |tm| {
        flag_untrusted(tm, &layout, min_coverage, &mut mapped.flags)
    });
    let field = learned_field(&model, model_dir, &input.points.xv, &mapped.j_prime, device)?;
    let roundtrip = roundtrip_errors(model_dir, &input.points.xv, &mapped, device)?;
    let has_field = field.is_some();
    let slopes = timing
        .as_ref()
        .zip(input.t.as_ref())
        .map(|(tm, t)| time_slopes(tm, t, &layout, &mapped.angles));
    let mut catalog = build_catalog(input, mapped, model_dir)?;
    if let Some(slopes) = slopes {
        catalog
            .set_column("stream_frequencies", slopes)
            .map_err(anyhow::Error::msg)?;
    }
    if let Some(columns) = field {
        add_field(&mut catalog, columns)?;
    }
    if let Some(e) = action_error {
        catalog
            .set_column("action_error", e)
            .map_err(anyhow::Error::msg)?;
    }
    if let Some(e) = roundtrip {
        catalog
            .set_column("roundtrip_error", e)
            .map_err(anyhow::Error::msg)?;
    }
    catalog.write(out)?;
    let failed = catalog.flag.as_ref().map_or(0, |f| {
        f.iter().filter(|&&x| x != 0 && x != FLAG_UNTRUSTED).count()
    });
    Ok(ApplySummary {
        points: catalog.len(),
        failed,
        untrusted,
        seconds: started.elapsed().as_secs_f64(),
        out: out.to_path_buf(),
        field: has_field,
    })
}

/// The learned field's columns, or `None` (said plainly) when the model has no field.
fn learned_field(
    model: &Model,
    model_dir: &Path,
    xv: &[f64],
    j_prime: &[f64],
    device: &Device,
) -> Result<Option<FieldColumns>> {
    if !FieldModel::exists(model_dir) {
        log::warn!(
            "{} has no learned field: acceleration, potential and frequencies are not written \
             (add one with `actionfinder fit-field`)",
            model_dir.display()
        );
        return Ok(None);
    }
    let (field, _) = FieldModel::load(model_dir, device)?;
    Ok(Some(field_columns(model, &field, xv, j_prime)?))
}

/// `[n,2]` round-trip errors `|x - x'|`, `|v - v'|` through the model's inverse map
/// ([`crate::inverse::roundtrip`]), or `None` when the model has none or one that cannot be
/// used (fitted to an earlier action map, or damaged: said in the log; the actions do not
/// need it).
fn roundtrip_errors(
    model_dir: &Path,
    xv: &[f64],
    mapped: &Mapped,
    device: &Device,
) -> Result<Option<Vec<f64>>> {
    if !InverseModel::exists(model_dir) {
        return Ok(None);
    }
    match InverseModel::load(model_dir, device) {
        Ok((inverse, _)) => Ok(Some(crate::inverse::roundtrip::errors_of(&inverse, xv, mapped)?)),
        Err(e) => {
            log::warn!("{e}: no /particles/roundtrip_error written");
            Ok(None)
        }
    }
}

fn add_field(catalog: &mut Catalog, columns: FieldColumns) -> Result<()> {
    catalog
        .set_column("acceleration", columns.acceleration)
        .map_err(anyhow::Error::msg)?;
    catalog
        .set_column("frequencies", columns.frequencies)
        .map_err(anyhow::Error::msg)?;
    if let Some(phi) = columns.potential {
        catalog.set_column("potential", phi).map_err(anyhow::Error::msg)?;
        catalog.attrs.extra.insert(
            "potential_zero_point".into(),
            POTENTIAL_ZERO_POINT.to_string().into(),
        );
    }
    Ok(())
}

/// Timing of each stream of the toy's orbits (coverage of a radial period, whether the
/// points can be unwrapped in phase), where points carry times.
fn stream_timing(model: &Model, input: &Input) -> Result<Option<Vec<StreamTiming>>> {
    let (Some(t), Some(layout)) = (&input.t, &input.points.layout) else {
        return Ok(None);
    };
    let finder = IsochroneFinder::new(model.toy.m()?, model.toy.b()?)?;
    Ok(Some(trust::stream_timing_streams(
        &finder,
        &input.points.xv,
        t,
        layout,
    )))
}

/// Flag the points of streams that span too little of a radial period (values kept).
fn flag_untrusted(
    timing: &[StreamTiming],
    layout: &StreamLayout,
    min_coverage: f64,
    flags: &mut [u32],
) -> usize {
    let mut count = 0;
    for (s, tm) in timing.iter().enumerate() {
        if trust::trusted(Some(tm.coverage), min_coverage) {
            continue;
        }
        for f in flags[layout.rows(s)].iter_mut().filter(|f| **f == 0) {
            *f = FLAG_UNTRUSTED;
            count += 1;
        }
    }
    count
}

/// Per-stream frequencies from the time slope of the angles (NaN for streams whose points
/// are too far apart in phase to unwrap).
fn time_slopes(timing: &[StreamTiming], t: &[f64], layout: &StreamLayout, angles: &[f64]) -> Vec<f64> {
    let usable: Vec<bool> = timing.iter().map(StreamTiming::unwrappable).collect();
    stream_frequencies_streams(angles, t, layout, &usable)
}

fn build_catalog(input: Input, mapped: Mapped, model_dir: &Path) -> Result<Catalog> {
    let Input { points, .. } = input;
    let mut cat = Catalog::new(points.xv);
    cat.ids = points.ids;
    cat.stream = points.stream;
    if let Some(layout) = &points.layout {
        cat.set_column("action_spread", action_spread_streams(&mapped.actions, layout))
            .map_err(anyhow::Error::msg)?;
    }
    cat.set_column("actions", mapped.actions)
        .map_err(anyhow::Error::msg)?;
    cat.set_column("angles", mapped.angles)
        .map_err(anyhow::Error::msg)?;
    cat.flag = Some(mapped.flags);
    cat.attrs = points.attrs;
    cat.attrs.source = format!("actionfinder apply (model {})", model_dir.display());
    cat.attrs
        .extra
        .insert("method".into(), "actionfinder".to_string().into());
    cat.attrs
        .extra
        .insert("model".into(), model_dir.display().to_string().into());
    Ok(cat)
}
