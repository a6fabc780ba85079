//! The inverse pass (paper §5): with the action map frozen, pairs of its own output
//! ([`super::samples`]: at the training streams' points and on the tori between them) train the
//! inverse network by Adam over shuffled mini-batches of pairs; the held-out streams' points
//! pick the best epoch and measure the round trip.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use super::net::{Pairs, Rows, OUTPUTS};
use super::roundtrip::{self, RoundTrip};
use super::samples::{self, TorusSampling};
use super::{map_digest, Closure, InverseModel, InverseSpec, MAP_DIGEST_KEY};
use crate::checkpoints::{Checkpoints, Identity};
use crate::dataset::checks::check_learnable;
use crate::dataset::StreamsDataset;
use crate::digest::DataDigest;
use crate::flags::{self, at_least_one, in_range, positive};
use crate::lock::DirLock;
use crate::model::Model;
use crate::nn::{widths, Activation, MlpSpec};
use crate::pass::{LoopState, Pass, PassOptions};
use crate::train::adam::Adam;
use crate::train::options::MAX_LEARNING_RATE;

/// The inverse checkpoint's directory name in the model directory.
pub const CHECKPOINT: &str = "inverse_checkpoint";
/// Largest torus points per data point.
pub const MAX_SAMPLES: usize = 1024;
/// Closure tolerances are this many times the 99th percentile of the held-out departures,
/// and at least [`CLOSURE_FLOOR`].
const CLOSURE_FACTOR: f64 = 3.0;
const CLOSURE_FLOOR: f64 = 1e-6;

/// Everything `fit-inverse` takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InverseConfig {
    /// Narrowest block width, widest, and number of blocks.
    pub width: usize,
    pub max_width: usize,
    pub depth: usize,
    pub activation: Activation,
    pub epochs: usize,
    /// Cosine decay from `learning_rate` to `final_learning_rate`.
    pub learning_rate: f64,
    pub final_learning_rate: f64,
    /// Pairs per mini-batch.
    pub batch_rows: usize,
    /// Pairs on the learned tori between the data points.
    pub sampling: TorusSampling,
    /// Stop after this many epochs without a better validation loss (0 = never).
    pub patience: usize,
    /// Write a checkpoint every this many epochs (0 = never).
    pub checkpoint_every: usize,
    /// Stop after this many epochs in this session (0 = run to the end).
    pub stop_after: usize,
    pub seed: u64,
    /// `cpu` or `cuda:N`.
    pub device: String,
}

impl Default for InverseConfig {
    fn default() -> Self {
        InverseConfig {
            width: 128,
            max_width: 128,
            depth: 4,
            activation: Activation::Silu,
            epochs: 300,
            learning_rate: 1e-3,
            final_learning_rate: 1e-5,
            batch_rows: 512,
            sampling: TorusSampling {
                per_star: 8,
                jitter: 0.1,
                seed: 1,
            },
            patience: 0,
            checkpoint_every: 10,
            stop_after: 0,
            seed: 1,
            device: "cpu".to_string(),
        }
    }
}

/// What an inverse pass reports.
#[derive(Clone, Debug, Serialize)]
pub struct InverseSummary {
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub val_loss: f64,
    /// Training pairs at the data points and on the tori between them.
    pub data_pairs: usize,
    pub torus_pairs: usize,
    /// Whether held-out streams measure the round trip (else the training streams do).
    pub held_out: bool,
    /// The round trip before the pass (the toy's own inverse) and after it.
    pub before: RoundTrip,
    pub after: RoundTrip,
    pub closure: Closure,
    pub wall_s: f64,
}

impl fmt::Display for InverseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "inverse: {} epochs in {:.1} s on {} pairs at the points and {} on the tori between them; best epoch {} (validation loss {:.4e})",
            self.epochs_run, self.wall_s, self.data_pairs, self.torus_pairs, self.best_epoch, self.val_loss
        )?;
        let whose = if self.held_out { "held-out" } else { "training" };
        writeln!(
            f,
            "round trip (x, v) -> (J, theta) -> (x', v') on the {whose} streams:"
        )?;
        writeln!(f, "  toy inverse alone: {}", self.before)?;
        write!(f, "  learned inverse:   {}", self.after)
    }
}

/// The pairs and held-out points of a pass.
struct PassData {
    train: Rows,
    train_pairs: usize,
    validation: Rows,
    /// Held-out points (rows of 6), for the round trip.
    held_out_xv: Vec<f64>,
    held_out: bool,
    data_pairs: usize,
    /// Smallest and largest `J''` per component (kpc km/s) of the training pairs.
    action_range: [[f64; 2]; 3],
}

/// Learn the inverse of the action map in `model_dir` from the streams of `ds` and add it to
/// the directory, which is locked meanwhile. With `resume`, continue from the checkpoint in
/// `model_dir` when there is one.
pub fn fit_inverse(
    model_dir: &Path,
    ds: &StreamsDataset,
    cfg: &InverseConfig,
    resume: bool,
) -> Result<InverseSummary> {
    check(cfg)?;
    check_learnable(ds).context("the streams dataset")?;
    let started = Instant::now();
    let device = crate::device::parse(&cfg.device)?;
    let _lock = DirLock::acquire(model_dir)?;
    let (model, training) = Model::load(model_dir, &device)?;
    let map = map_digest(model_dir)?;
    let identity = Identity::new(DataDigest::of(ds), cfg)?.with(MAP_DIGEST_KEY, map.clone());
    let mut spec = spec_for(&model, cfg)?;
    let data = pass_data(&model, &training, ds, &identity.data, cfg, &spec)?;
    spec.action_range = data.action_range;
    let inverse = InverseModel::new(spec, &device, cfg.seed)?;
    let before = RoundTrip::of(&roundtrip::errors(&model, &inverse, &data.held_out_xv)?);
    let pass = Pass {
        label: "inverse",
        vars: inverse.vars(),
        device: device.clone(),
        model_dir,
        checkpoint: CHECKPOINT,
        identity,
    };
    let state = match resume {
        true => crate::pass::load(&pass)?,
        false => None,
    };
    let state = match state {
        Some(s) => s,
        None => LoopState::new(&pass, held_out_loss(&inverse, &data.validation)?)?,
    };
    let (history, best_epoch) =
        crate::pass::train_loop(&pass, &options(cfg), started, state, |adam, lr, e| {
            epoch(&inverse, &data, cfg, adam, lr, e)
        })?;
    let mut inverse = inverse;
    let errors = roundtrip::errors(&model, &inverse, &data.held_out_xv)?;
    inverse.spec.closure = closure_tolerance(&model, &inverse, &data.held_out_xv)?;
    let summary = InverseSummary {
        epochs_run: history.len(),
        best_epoch,
        val_loss: held_out_loss(&inverse, &data.validation)?,
        data_pairs: data.data_pairs,
        torus_pairs: data.train_pairs - data.data_pairs,
        held_out: data.held_out,
        before,
        after: RoundTrip::of(&errors),
        closure: inverse.spec.closure,
        wall_s: started.elapsed().as_secs_f64(),
    };
    let extra = serde_json::json!({
        "history": history,
        "options": cfg,
        "summary": summary,
        MAP_DIGEST_KEY: map,
    });
    inverse.save(model_dir, &extra)?;
    Ok(summary)
}

/// The spec of an inverse for `model` (its scales, toy and symmetry), before its action range
/// and closure tolerances are known.
fn spec_for(model: &Model, cfg: &InverseConfig) -> Result<InverseSpec> {
    let c = &model.config;
    Ok(InverseSpec {
        net: MlpSpec {
            inputs: InverseSpec::inputs(c.axisymmetric),
            outputs: OUTPUTS,
            widths: widths(cfg.width, cfg.max_width, cfg.depth),
            activation: cfg.activation,
        },
        axisymmetric: c.axisymmetric,
        length_scale: c.length_scale,
        velocity_scale: c.velocity_scale,
        component_scales: c.component_scales,
        toy_m: model.toy.m()?,
        toy_b: model.toy.b()?,
        action_range: [[f64::NEG_INFINITY, f64::INFINITY]; 3],
        closure: Closure {
            actions: f64::INFINITY,
            angles: f64::INFINITY,
        },
    })
}

/// Every option in its range, each refusal naming the command-line flag.
pub fn check(cfg: &InverseConfig) -> Result<()> {
    at_least_one("--inverse-epochs", cfg.epochs)?;
    at_least_one("--inverse-batch", cfg.batch_rows)?;
    flags::widths(
        "--inverse-width",
        cfg.width,
        "the inverse's widest block",
        cfg.max_width,
    )?;
    at_least_one("--inverse-depth", cfg.depth)?;
    positive("--inverse-lr", cfg.learning_rate, MAX_LEARNING_RATE)?;
    positive(
        "the final inverse learning rate",
        cfg.final_learning_rate,
        cfg.learning_rate,
    )?;
    in_range("--inverse-jitter", cfg.sampling.jitter, 0.0, 0.5)?;
    if cfg.sampling.per_star > MAX_SAMPLES {
        bail!(
            "--inverse-samples {} is more than {MAX_SAMPLES} torus points per data point",
            cfg.sampling.per_star
        );
    }
    Ok(())
}

fn options(cfg: &InverseConfig) -> PassOptions {
    PassOptions {
        epochs: cfg.epochs,
        learning_rate: cfg.learning_rate,
        final_learning_rate: cfg.final_learning_rate,
        patience: cfg.patience,
        checkpoint_every: cfg.checkpoint_every,
        stop_after: cfg.stop_after,
    }
}

/// Pairs of the training streams (at the points and on the tori), pairs and points of the
/// held-out streams (the training streams when none is held out).
fn pass_data(
    model: &Model,
    training: &serde_json::Value,
    ds: &StreamsDataset,
    data: &DataDigest,
    cfg: &InverseConfig,
    spec: &InverseSpec,
) -> Result<PassData> {
    let (train, val) = crate::pass::model_split(training, ds.n_streams(), data, "inverse");
    let held_out = !val.is_empty();
    let layout = ds.layout();
    let (mut pairs, j_prime) = samples::at_points(model, &layout.gather(&ds.xv, 6, &train))?;
    if pairs.is_empty() {
        bail!("the action map maps none of the training streams' points: nothing to learn the inverse from");
    }
    let data_pairs = pairs.len();
    pairs.extend(samples::on_tori(model, &j_prime, &cfg.sampling)?);
    let held_out_xv = layout.gather(&ds.xv, 6, if held_out { &val } else { &train });
    let (val_pairs, _) = samples::at_points(model, &held_out_xv)?;
    let dev = &model.device;
    Ok(PassData {
        train: Rows::new(spec, &pairs, dev)?,
        train_pairs: pairs.len(),
        validation: Rows::new(spec, &val_pairs, dev)?,
        held_out_xv,
        held_out,
        data_pairs,
        action_range: action_range(&pairs, spec.action_scale()),
    })
}

/// Smallest and largest `J''` per component (kpc km/s).
fn action_range(pairs: &Pairs, scale: f64) -> [[f64; 2]; 3] {
    std::array::from_fn(|k| {
        let column = pairs.j.iter().skip(k).step_by(3).map(|j| j * scale);
        column.fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], j| {
            [lo.min(j), hi.max(j)]
        })
    })
}

/// One epoch: the training loss (mean over batches, weighted by rows) and the held-out loss
/// after it.
fn epoch(
    inverse: &InverseModel,
    data: &PassData,
    cfg: &InverseConfig,
    adam: &mut Adam,
    lr: f64,
    epoch: usize,
) -> Result<(f64, f64)> {
    let n = data.train_pairs;
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.shuffle(&mut Pcg64::seed_from_u64(cfg.seed.wrapping_add(epoch as u64)));
    let mut total = 0.0;
    for chunk in order.chunks(cfg.batch_rows) {
        let idx = Tensor::from_slice(chunk, chunk.len(), &inverse.device)?;
        let pick = |t: &Tensor| t.index_select(&idx, 0);
        let batch = Rows {
            features: pick(&data.train.features)?,
            cos_delta: pick(&data.train.cos_delta)?,
            sin_delta: pick(&data.train.sin_delta)?,
            dj: pick(&data.train.dj)?,
            jacobian: pick(&data.train.jacobian)?,
        };
        let l = inverse.spec.loss(&inverse.net.weights()?, &batch)?;
        total += l.to_scalar::<f64>()? * chunk.len() as f64 / n as f64;
        adam.step(&l.backward()?, lr)?;
    }
    let val_loss = held_out_loss(inverse, &data.validation)?;
    if !(val_loss.is_finite() && total.is_finite()) {
        bail!("the inverse loss became {total} at epoch {epoch}: lower --inverse-lr");
    }
    Ok((total, val_loss))
}

fn held_out_loss(inverse: &InverseModel, rows: &Rows) -> Result<f64> {
    let w = inverse.net.weights()?.detach();
    Ok(inverse.spec.loss(&w, rows)?.to_scalar::<f64>()?)
}

/// Closure tolerances from the held-out points: [`CLOSURE_FACTOR`] times the 99th percentile
/// of the departures of `(J'', theta) -> (x', v') -> (J''', theta''')`, at least
/// [`CLOSURE_FLOOR`].
fn closure_tolerance(model: &Model, inverse: &InverseModel, xv: &[f64]) -> Result<Closure> {
    let (pairs, _) = samples::at_points(model, xv)?;
    let scale = inverse.spec.action_scale();
    let actions: Vec<f64> = pairs.j.iter().map(|j| j * scale).collect();
    let back = inverse.invert(&actions, &pairs.theta)?;
    let departures = roundtrip::closure(model, &actions, &pairs.theta, &back.xv)?;
    let tolerance = |k: usize| {
        let mut v: Vec<f64> = departures
            .iter()
            .map(|d| d[k])
            .filter(|x| x.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        let p99 = v.get((v.len() as f64 * 0.99) as usize).copied().unwrap_or(0.0);
        (CLOSURE_FACTOR * p99).max(CLOSURE_FLOOR)
    };
    Ok(Closure {
        actions: tolerance(0),
        angles: tolerance(1),
    })
}

/// The inverse pass's checkpoints in `model_dir`.
pub fn store(model_dir: &Path) -> Checkpoints {
    crate::pass::store(model_dir, CHECKPOINT)
}
