//! Training (paper §2–3, listing 1; docs/design.md "The method" steps 1–6): Adam over mini-batches
//! of whole streams, the per-stream fixed point for `J'`, the loss of eqs. 12–13 (+ the
//! time-linearity term), held-out streams whose loss drives the learning-rate schedule and
//! the stop ([`schedule`]), the best validation weights kept, the symmetry decided from the
//! data ([`symmetry`]), warm starts from another model ([`init`]), checkpoints and `--resume`.

pub mod adam;
pub mod checkpoint;
pub mod data;
pub mod init;
pub mod loss;
pub mod options;
pub mod output;
pub mod schedule;
pub mod step_bench;
pub mod symmetry;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::checkpoints::Identity;
use crate::dataset::{StreamLayout, StreamsDataset};
use crate::lock::DirLock;
use crate::model::fixed_point::{self, FixedPoint};
use crate::model::groups;
use crate::model::toy::{self, min_mass, BOUND_MARGIN};
use crate::model::transform::{angle_inputs, Nets};
use crate::model::{Model, ModelConfig, COMPONENT_SCALING_RATIO};
use crate::nn::mlp::Dropout;
use crate::nn::{widths, Activation, MlpSpec};
use crate::trust::{self, StreamTiming};
use actionfinder_integrators::actions::Flag;
use adam::Adam;
use data::{Batch, TrainingData};
use init::InitModel;
use schedule::Plateau;
pub use schedule::{Schedule, StopReason};
pub use symmetry::{Axisymmetry, SymmetryDecision};

/// The per-stream fixed point during training: warm-started from the previous epoch, so a
/// few iterations reach the paper's tolerance (listing 1: 5e-5 max, normalised actions).
const TRAIN_FIXED_POINT: FixedPoint = FixedPoint {
    tol: 1e-7,
    max_iter: 8,
};

/// How the toy isochrone is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToyChoice {
    /// From the data: the (M, b) whose toy actions vary least along the streams.
    Auto,
    /// Given M (Msun) and b (kpc).
    Fixed { m: f64, b: f64 },
}

/// Everything `train` takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The most epochs to run (the cosine schedule's length).
    pub epochs: usize,
    pub learning_rate: f64,
    /// The plateau schedule stops below this rate; the cosine one reaches it at the last
    /// epoch.
    pub final_learning_rate: f64,
    pub schedule: Schedule,
    /// Epochs in a stretch over which the plateau schedule averages the validation loss (at
    /// least; see [`schedule`]).
    pub plateau_patience: usize,
    /// Optimizer steps in a stretch of the plateau schedule, at least (so a small dataset, one
    /// step per epoch, waits as long in steps as a large one).
    pub plateau_min_steps: usize,
    /// Streams per mini-batch.
    pub batch_streams: usize,
    /// Narrowest block width; widths double up to `max_width` and come back (fig. 2).
    pub width: usize,
    pub max_width: usize,
    /// Blocks in G and in P.
    pub depth_g: usize,
    pub depth_p: usize,
    pub activation: Activation,
    /// Dropout rate inside G's blocks in the graph pass (0 = off).
    pub dropout: f64,
    pub toy: ToyChoice,
    /// Train M and b with the networks.
    pub fit_toy: bool,
    /// Weight of the paper's angle zero-point term (0 = the simplified loss, eq. 19).
    pub alpha1: f64,
    /// Weight of the time-linearity term (used where points carry times).
    pub time_weight: f64,
    /// Share of streams held out for early stopping.
    pub val_fraction: f64,
    /// Stop after this many epochs without a better validation loss (0 = never).
    pub patience: usize,
    /// Write a checkpoint every this many epochs (0 = never).
    pub checkpoint_every: usize,
    /// Smallest fraction of a radial period a trusted stream spans.
    pub min_coverage: f64,
    /// Keep theta_phi out of G and P (J_phi = L_z exactly): on, off, or decided from the
    /// data ([`symmetry`]).
    pub axisymmetric: Axisymmetry,
    /// Start G, P, the scales and (unless `toy` fixes one) the toy from this model directory.
    pub init: Option<PathBuf>,
    pub seed: u64,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Stop after this many epochs in this session (0 = run to the end), leaving a checkpoint
    /// to `--resume` from: for batch jobs with wall-time limits.
    pub stop_after: usize,
    /// Stop at the end of the first epoch that ends after this many seconds of this session
    /// (0 = no limit), leaving a checkpoint to `--resume` from: for batch jobs with wall-time
    /// limits, and for comparing settings at equal time.
    pub time_limit_s: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 2000,
            learning_rate: 1e-3,
            final_learning_rate: 1e-5,
            schedule: Schedule::Plateau,
            plateau_patience: 10,
            plateau_min_steps: schedule::MIN_STEPS,
            batch_streams: 32,
            width: 64,
            max_width: 64,
            depth_g: 3,
            depth_p: 2,
            activation: Activation::Silu,
            dropout: 0.0,
            toy: ToyChoice::Auto,
            fit_toy: false,
            alpha1: 0.0,
            time_weight: 0.5,
            val_fraction: 0.1,
            patience: 0,
            checkpoint_every: 10,
            min_coverage: trust::MIN_COVERAGE,
            axisymmetric: Axisymmetry::Auto,
            init: None,
            seed: 1,
            device: "cpu".to_string(),
            stop_after: 0,
            time_limit_s: 0.0,
        }
    }
}

/// One line of the training history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// Validation J'' spread along streams, kpc km/s (mean over components).
    pub val_spread: f64,
    pub learning_rate: f64,
    pub wall_s: f64,
    pub toy_m: f64,
    pub toy_b: f64,
}

/// What a finished training reports.
#[derive(Clone, Debug)]
pub struct TrainSummary {
    pub out: PathBuf,
    pub epochs_run: usize,
    pub epochs_planned: usize,
    pub best_epoch: usize,
    pub best_val_loss: f64,
    pub best_val_spread: f64,
    pub wall_s: f64,
    pub toy_m: f64,
    pub toy_b: f64,
    pub flagged_streams: usize,
    pub streams: usize,
    pub stop: StopReason,
    pub symmetry: SymmetryDecision,
}

impl fmt::Display for TrainSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "trained {} epochs in {:.1} s; best epoch {} (validation loss {:.4e}, J'' spread {:.4} kpc km/s)",
            self.epochs_run, self.wall_s, self.best_epoch, self.best_val_loss, self.best_val_spread
        )?;
        writeln!(f, "stopped: {}", self.stop)?;
        writeln!(f, "{}", self.symmetry)?;
        writeln!(
            f,
            "toy isochrone: M = {:.5e} Msun, b = {:.5} kpc",
            self.toy_m, self.toy_b
        )?;
        writeln!(
            f,
            "{} of {} streams flagged (too little of a radial period covered, or unbound in the toy)",
            self.flagged_streams, self.streams
        )?;
        write!(f, "model written to {}", self.out.display())
    }
}

/// The best epoch so far: its number, validation loss and weights.
pub(crate) type Best = (usize, f64, Vec<(String, Tensor)>);

/// The state of a run: model, optimiser, data, per-stream warm starts and the history.
pub(crate) struct Run {
    pub model: Model,
    pub adam: Adam,
    pub data: TrainingData,
    pub timing: Option<Vec<StreamTiming>>,
    /// Streams excluded because the toy cannot map one of their points.
    pub excluded: Vec<bool>,
    /// \[S,3\] last J' of every stream (NaN before the first solve).
    pub j_cache: Vec<f64>,
    pub history: Vec<EpochRecord>,
    pub best: Option<Best>,
    pub epoch: usize,
    pub plateau: Plateau,
    /// The model started from (`--init`): its path and data digest, for `model.json`.
    pub init: Option<serde_json::Value>,
}

/// Train on `ds` and write the model directory `out` (created if need be, and locked while
/// training: see [`crate::lock`]); with `resume`, continue from the checkpoint in `out` when
/// there is one. Whether `out` may be written at all is [`output::ModelOutput`]'s question.
pub fn train(
    ds: &StreamsDataset,
    cfg: &TrainConfig,
    out: &Path,
    resume: bool,
    source: &str,
) -> Result<TrainSummary> {
    cfg.check()?;
    cfg.check_size(ds.n_stars())?;
    crate::dataset::checks::check_learnable(ds).with_context(|| format!("dataset {source}"))?;
    let device = crate::device::parse(&cfg.device)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let _lock = DirLock::acquire(out)?;
    let identity = checkpoint::identity(ds, cfg)?;
    let symmetry = symmetry::decide_streams(cfg.axisymmetric, &ds.xv, ds.layout());
    log::info!("{symmetry}");
    let started = Instant::now();
    let mut run = match resume
        .then(|| checkpoint::load(out, ds, cfg, &identity, &device))
        .transpose()?
    {
        Some(Some(run)) => run,
        _ => new_run(ds, cfg, symmetry.axisymmetric, &device)?,
    };
    let bar = crate::progress::counter(cfg.epochs as u64, "training");
    bar.set_position(run.epoch as u64);
    let offset = run.history.last().map_or(0.0, |r| r.wall_s);
    let first = run.epoch;
    let stop = loop {
        let best_epoch = run.best.as_ref().map(|b| b.0);
        let session = schedule::Session {
            first_epoch: first,
            seconds: started.elapsed().as_secs_f64(),
        };
        if let Some(reason) = schedule::stop_reason(cfg, &run.plateau, run.epoch, session, best_epoch) {
            log::info!("stopping: {reason}");
            break reason;
        }
        let lr = schedule::learning_rate(cfg, &run.plateau, run.epoch);
        let train_loss = train_epoch(&mut run, cfg, lr)?;
        let (val_loss, val_spread) = validate_epoch(&mut run, cfg)?;
        run.epoch += 1;
        record(
            &mut run,
            train_loss,
            val_loss,
            val_spread,
            lr,
            offset + started.elapsed().as_secs_f64(),
        )?;
        let steps = run.data.train.len().div_ceil(cfg.batch_streams);
        run.plateau.update(cfg, val_loss, steps);
        bar.set_position(run.epoch as u64);
        bar.set_message(format!(
            "loss {train_loss:.3e} val {val_loss:.3e} spread {val_spread:.3} lr {lr:.1e}"
        ));
        if cfg.checkpoint_every > 0 && run.epoch % cfg.checkpoint_every == 0 {
            checkpoint::save(out, &run, &identity)?;
        }
    };
    bar.finish_and_clear();
    finish(
        run,
        cfg,
        out,
        source,
        &device,
        &identity,
        Outcome { stop, symmetry },
    )
}

/// How a run ended and what it decided, for the summary and `model.json`.
struct Outcome {
    stop: StopReason,
    symmetry: SymmetryDecision,
}

/// The specs of G and P that `cfg` asks for.
fn net_specs(cfg: &TrainConfig, axisymmetric: bool) -> (MlpSpec, MlpSpec) {
    let a = angle_inputs(axisymmetric);
    let spec = |inputs, outputs, depth| MlpSpec {
        inputs,
        outputs,
        widths: widths(cfg.width, cfg.max_width, depth),
        activation: cfg.activation,
    };
    (spec(2 * a + 3, 1, cfg.depth_g), spec(2 * a, 3, cfg.depth_p))
}

/// The architecture, scales and toy for `ds` under `cfg`.
pub fn model_config(data: &TrainingData, cfg: &TrainConfig, axisymmetric: bool) -> Result<ModelConfig> {
    let (length_scale, velocity_scale) = data::scales(&data.xv);
    let (toy_m, toy_b) = match cfg.toy {
        ToyChoice::Auto => {
            crate::model::toy_choice::auto_toy_streams(&data.train_rows(), &data.train_layout())
        }
        ToyChoice::Fixed { m, b } => (m, b),
    };
    if !(toy_m > 0.0 && toy_b > 0.0 && toy_m.is_finite() && toy_b.is_finite()) {
        bail!("toy isochrone needs M > 0 and b > 0, got M = {toy_m}, b = {toy_b}");
    }
    let scales = component_scales(&data.train_rows(), toy_m, toy_b, length_scale * velocity_scale);
    let spread =
        scales.iter().cloned().fold(0.0, f64::max) / scales.iter().cloned().fold(f64::INFINITY, f64::min);
    let (g, p) = net_specs(cfg, axisymmetric);
    Ok(ModelConfig {
        g,
        p,
        axisymmetric,
        length_scale,
        velocity_scale,
        toy_m,
        toy_b,
        toy_trained: cfg.fit_toy,
        component_scales: if spread > COMPONENT_SCALING_RATIO {
            scales
        } else {
            [1.0; 3]
        },
    })
}

/// Per-component spread (standard deviation) of the toy actions over `rows`, in units of
/// `action_scale`, floored at 1e-3 of the largest so that no weight blows up.
fn component_scales(rows: &[f64], m: f64, b: f64, action_scale: f64) -> [f64; 3] {
    let values = toy::evaluate(m, b, rows, false).values;
    let finite: Vec<&[f64]> = values
        .chunks_exact(6)
        .filter(|p| p.iter().all(|x| x.is_finite()))
        .collect();
    let count = finite.len().max(1) as f64;
    let std: [f64; 3] = std::array::from_fn(|k| {
        let mean = finite.iter().map(|p| p[k]).sum::<f64>() / count;
        (finite.iter().map(|p| (p[k] - mean).powi(2)).sum::<f64>() / count).sqrt() / action_scale
    });
    let floor = 1e-3 * std.iter().cloned().fold(0.0, f64::max).max(1e-300);
    std.map(|s| {
        if s.is_finite() && s > floor {
            s
        } else {
            floor.max(1e-12)
        }
    })
}

/// A run from scratch, or from `cfg.init`'s weights.
fn new_run(ds: &StreamsDataset, cfg: &TrainConfig, axisymmetric: bool, device: &Device) -> Result<Run> {
    let data = TrainingData::new(ds, cfg.val_fraction, cfg.seed);
    let init = cfg
        .init
        .as_deref()
        .map(|path| InitModel::load(path, device))
        .transpose()?;
    let config = match &init {
        Some(init) => {
            let (g, p) = net_specs(cfg, axisymmetric);
            init.config(cfg, &g, &p, axisymmetric)?
        }
        None => model_config(&data, cfg, axisymmetric)?,
    };
    log::info!(
        "scales {:.4} kpc, {:.4} km/s; toy M = {:.4e} Msun, b = {:.4} kpc ({})",
        config.length_scale,
        config.velocity_scale,
        config.toy_m,
        config.toy_b,
        if cfg.fit_toy { "trained" } else { "fixed" }
    );
    let model = Model::new(config, device, cfg.seed)?;
    if let Some(init) = &init {
        model.restore(&init.network_weights())?;
        log::info!("G and P start from --init {}", init.path.display());
    }
    if cfg.fit_toy && model.toy.keep_bound(&data.train_rows())? {
        log::info!(
            "toy mass raised to {:.4e} Msun so that every point is bound",
            model.toy.m()?
        );
    }
    let adam = Adam::new(model.trainable())?;
    let mut run = Run {
        model,
        adam,
        timing: None,
        excluded: Vec::new(),
        j_cache: vec![f64::NAN; 3 * data.n_streams()],
        data,
        history: Vec::new(),
        best: None,
        epoch: 0,
        plateau: Plateau::new(cfg),
        init: init.as_ref().map(InitModel::record),
    };
    refresh_streams(&mut run)?;
    Ok(run)
}

/// Recompute which streams the toy can map and their timing (after the toy changed).
pub(crate) fn refresh_streams(run: &mut Run) -> Result<()> {
    let (m, b) = (run.model.toy.m()?, run.model.toy.b()?);
    let pts = toy::evaluate(m, b, &run.data.xv, false);
    let layout = &run.data.layout;
    run.excluded = layout
        .split(&pts.flags, 1)
        .map(|f| f.iter().any(|f| *f != Flag::Ok))
        .collect();
    let excluded = run.excluded.iter().filter(|&&e| e).count();
    if excluded > 0 {
        log::warn!(
            "{excluded} streams have points the toy (M = {m:.4e}, b = {b:.4}) cannot map (unbound in it): \
             left out of training and flagged; bound them all with M >= {:.4e} or --fit-toy",
            BOUND_MARGIN * min_mass(&run.data.xv, b)
        );
    }
    let finder = actionfinder_integrators::actions::IsochroneFinder::new(m, b)?;
    run.timing = run
        .data
        .t
        .as_ref()
        .map(|t| trust::stream_timing_streams(&finder, &run.data.xv, t, layout));
    Ok(())
}

fn train_epoch(run: &mut Run, cfg: &TrainConfig, lr: f64) -> Result<f64> {
    let mut rng = Pcg64::seed_from_u64(cfg.seed.wrapping_mul(0x9e37_79b9).wrapping_add(run.epoch as u64));
    let mut order: Vec<usize> = run
        .data
        .train
        .iter()
        .copied()
        .filter(|&s| !run.excluded[s])
        .collect();
    order.shuffle(&mut rng);
    let rows = cfg.fit_toy.then(|| run.data.train_rows());
    let mut total = 0.0;
    let mut batches = 0;
    for chunk in order.chunks(cfg.batch_streams) {
        let batch = run.data.batch(chunk);
        let nets = run.model.nets()?;
        let dropout = (cfg.dropout > 0.0).then_some(Dropout {
            rate: cfg.dropout,
            rng: &mut rng,
        });
        let (loss, _) = batch_forward(run, &nets, &batch, cfg, dropout)?;
        total += loss.to_scalar::<f64>()?;
        batches += 1;
        let grads = loss.backward()?;
        run.adam.step(&grads, lr)?;
        if let Some(rows) = &rows {
            run.model.toy.keep_bound(rows)?;
        }
    }
    if cfg.fit_toy {
        refresh_streams(run)?;
    }
    Ok(total / batches.max(1) as f64)
}

/// Validation loss and J'' spread (kpc km/s) over the held-out streams (the training
/// streams when none are held out), without gradients.
fn validate_epoch(run: &mut Run, cfg: &TrainConfig) -> Result<(f64, f64)> {
    let pool = if run.data.validation.is_empty() {
        &run.data.train
    } else {
        &run.data.validation
    };
    let streams: Vec<usize> = pool.iter().copied().filter(|&s| !run.excluded[s]).collect();
    let nets = run.model.nets()?.detach();
    let scale = run.model.config.action_scale();
    let unit = Tensor::ones((1, 3), candle_core::DType::F64, &run.model.device)?;
    let (mut loss, mut spread, mut rows) = (0.0, 0.0, 0.0);
    for chunk in streams.chunks(cfg.batch_streams.max(256)) {
        let batch = run.data.batch(chunk);
        let w = chunk.len() as f64;
        let (l, j2) = batch_forward(run, &nets, &batch, cfg, None)?;
        loss += w * l.to_scalar::<f64>()?;
        spread += w * scale * loss::spread_streams(&j2, &batch.layout, &unit)?.to_scalar::<f64>()?;
        rows += w;
    }
    Ok((loss / rows.max(1.0), spread / rows.max(1.0)))
}

/// The loss of one batch and its J'' (`[B,3]`, normalised): toy, fixed point for `J'` per
/// stream (warm-started), the map with the graph, and the loss terms.
fn batch_forward(
    run: &mut Run,
    nets: &Nets,
    batch: &Batch,
    cfg: &TrainConfig,
    dropout: Option<Dropout<'_, Pcg64>>,
) -> Result<(Tensor, Tensor)> {
    let layout = &batch.layout;
    let model = &run.model;
    let pts = model.toy.evaluate(&batch.xv)?;
    let toy = model
        .toy
        .tensors(&pts, model.config.action_scale(), &model.device)?;
    let init = warm_start(
        &run.j_cache,
        &batch.streams,
        &pts.values,
        model.config.action_scale(),
        layout,
    );
    let rule = TRAIN_FIXED_POINT;
    let solved = fixed_point::solve_streams(
        &nets.detach(),
        &toy.angles.detach(),
        &toy.actions.detach(),
        layout,
        &init,
        rule,
    )?;
    for (i, &s) in batch.streams.iter().enumerate() {
        run.j_cache[3 * s..3 * s + 3].copy_from_slice(&solved.j_prime[3 * i..3 * i + 3]);
    }
    let j_prime = groups::expand(
        &Tensor::from_slice(&solved.j_prime, (batch.streams.len(), 3), &model.device)?,
        layout,
    )?;
    let mapped = nets.map(&toy.angles, &toy.actions, &j_prime, dropout)?;
    let w = &nets.component_scales;
    let mut total = (loss::spread_streams(&mapped.j2, layout, w)? + loss::negative_actions(&mapped.j2, w)?)?;
    if let (Some(t), Some(timing), true) = (&batch.t, &run.timing, cfg.time_weight > 0.0) {
        let usable: Vec<bool> = batch.streams.iter().map(|&s| timing[s].unwrappable()).collect();
        let linearity = loss::time_linearity_streams(&mapped.theta2, t, &usable, layout)?;
        total = (total + (linearity * cfg.time_weight)?)?;
    }
    if cfg.alpha1 > 0.0 {
        let zeros = toy.angles.zeros_like()?;
        let at_zero = nets.map::<Pcg64>(&zeros, &toy.actions, &j_prime, None)?;
        total = (total + (loss::zero_point(&at_zero.theta2)? * cfg.alpha1)?)?;
    }
    Ok((total, mapped.j2))
}

/// `[b,3]` starting `J'` per stream: the cached value, else the stream mean of the toy
/// actions (normalised). `layout` is the batch's.
fn warm_start(
    cache: &[f64],
    streams: &[usize],
    toy_values: &[f64],
    scale: f64,
    layout: &StreamLayout,
) -> Vec<f64> {
    let mut init = Vec::with_capacity(3 * streams.len());
    for ((i, &s), values) in streams.iter().enumerate().zip(layout.split(toy_values, 6)) {
        let cached = &cache[3 * s..3 * s + 3];
        if cached.iter().all(|x| x.is_finite()) {
            init.extend_from_slice(cached);
            continue;
        }
        let n = layout.len(i);
        for k in 0..3 {
            let sum: f64 = values.chunks_exact(6).map(|p| p[k]).sum();
            init.push(sum / (n as f64 * scale));
        }
    }
    init
}

fn record(
    run: &mut Run,
    train_loss: f64,
    val_loss: f64,
    val_spread: f64,
    lr: f64,
    wall_s: f64,
) -> Result<()> {
    let rec = EpochRecord {
        epoch: run.epoch,
        train_loss,
        val_loss,
        val_spread,
        learning_rate: lr,
        wall_s,
        toy_m: run.model.toy.m()?,
        toy_b: run.model.toy.b()?,
    };
    if !val_loss.is_finite() || !train_loss.is_finite() {
        bail!("the loss became {train_loss} (training) / {val_loss} (validation) at epoch {}: lower the learning rate", run.epoch);
    }
    if run.best.as_ref().is_none_or(|b| val_loss < b.1) {
        run.best = Some((run.epoch, val_loss, run.model.snapshot()));
    }
    run.history.push(rec);
    Ok(())
}

/// Restore the best weights, flag streams, write the model directory.
fn finish(
    mut run: Run,
    cfg: &TrainConfig,
    out: &Path,
    source: &str,
    device: &Device,
    identity: &Identity,
    outcome: Outcome,
) -> Result<TrainSummary> {
    checkpoint::save(out, &run, identity)?;
    let (best_epoch, best_val, snapshot) = run.best.take().context("no epoch finished")?;
    run.model.restore(&snapshot)?;
    refresh_streams(&mut run)?;
    let flagged: Vec<usize> = (0..run.data.n_streams())
        .filter(|&s| {
            run.excluded[s] || !trust::trusted(run.timing.as_ref().map(|t| t[s].coverage), cfg.min_coverage)
        })
        .collect();
    let best_spread = run
        .history
        .iter()
        .find(|r| r.epoch == best_epoch)
        .map_or(f64::NAN, |r| r.val_spread);
    let wall_s = run.history.last().map_or(0.0, |r| r.wall_s);
    let extra = serde_json::json!({
        "history": run.history,
        "best_epoch": best_epoch,
        "best_val_loss": best_val,
        "wall_s": wall_s,
        "device": crate::device::describe(device),
        "dataset": source,
        "data": identity.data,
        "options": cfg,
        "stop": outcome.stop,
        "stop_reason": outcome.stop.to_string(),
        "symmetry": outcome.symmetry,
        "init": run.init,
        "split": {"train": run.data.train, "validation": run.data.validation},
        "trust": {"min_coverage": cfg.min_coverage, "flagged_streams": flagged},
    });
    run.model.save(out, &extra)?;
    Ok(TrainSummary {
        out: out.to_path_buf(),
        epochs_run: run.history.len(),
        epochs_planned: cfg.epochs,
        best_epoch,
        best_val_loss: best_val,
        best_val_spread: best_spread,
        wall_s,
        toy_m: run.model.toy.m()?,
        toy_b: run.model.toy.b()?,
        flagged_streams: flagged.len(),
        streams: run.data.n_streams(),
        stop: outcome.stop,
        symmetry: outcome.symmetry,
    })
}

impl std::str::FromStr for ToyChoice {
    type Err = String;

    /// `auto`, or `M=<Msun>,b=<kpc>` (either order).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(ToyChoice::Auto);
        }
        let (mut m, mut b) = (None, None);
        for part in s.split(',') {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("toy {s:?}: expected auto or M=..,b=.."))?;
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("toy {s:?}: {value:?} is not a number"))?;
            match key.trim() {
                "M" | "m" => m = Some(value),
                "b" => b = Some(value),
                other => return Err(format!("toy {s:?}: unknown parameter {other:?} (M, b)")),
            }
        }
        match (m, b) {
            (Some(m), Some(b)) => Ok(ToyChoice::Fixed { m, b }),
            _ => Err(format!("toy {s:?}: give both M and b")),
        }
    }
}
