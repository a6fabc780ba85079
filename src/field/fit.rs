//! The field pass (paper §4): with the action map frozen, its phase-space jets are constants
//! per point, and the field network is trained on the same streams by Adam over mini-batches
//! of whole streams (held-out streams pick the best epoch), then its output layer is
//! polished by least squares ([`super::polish`]).

use std::fmt;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::loss::{self, FieldRows, LossWeights, Penalty, Scales};
use super::{run, spec_for, FieldForm, FieldModel};
use crate::dataset::checks::check_learnable;
use crate::dataset::StreamsDataset;
use crate::digest::DataDigest;
use crate::flags::{self, at_least_one, in_range, positive};
use crate::lock::DirLock;
use crate::model::jet::{model_jets, MapJet};
use crate::model::Model;
use crate::nn::{widths, Activation};
use crate::pass::{restore, snapshot, LoopState};
use crate::train::options::{MAX_LEARNING_RATE, MAX_LOSS_WEIGHT};

/// Everything `fit-field` takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldConfig {
    pub form: FieldForm,
    /// Narrowest block width, widest, and number of blocks.
    pub width: usize,
    pub max_width: usize,
    pub depth: usize,
    pub activation: Activation,
    pub epochs: usize,
    /// Cosine decay from `learning_rate` to `final_learning_rate`.
    pub learning_rate: f64,
    pub final_learning_rate: f64,
    /// Streams per mini-batch.
    pub batch_streams: usize,
    pub weights: LossWeights,
    pub penalty: Penalty,
    /// Finish with the least-squares output layer (L2 only).
    pub polish: bool,
    /// Stop after this many epochs without a better validation loss (0 = never).
    pub patience: usize,
    /// Write a checkpoint every this many epochs (0 = never).
    pub checkpoint_every: usize,
    /// Stop after this many epochs in this session (0 = run to the end), leaving a checkpoint
    /// to `--resume` from.
    pub stop_after: usize,
    pub seed: u64,
    /// `cpu` or `cuda:N`.
    pub device: String,
}

impl Default for FieldConfig {
    fn default() -> Self {
        FieldConfig {
            form: FieldForm::Potential,
            width: 64,
            max_width: 64,
            depth: 3,
            activation: Activation::Silu,
            epochs: 600,
            learning_rate: 3e-3,
            final_learning_rate: 1e-5,
            batch_streams: 16,
            weights: LossWeights {
                actions: 0.0,
                energy: 1.0,
                frequencies: 0.0,
                symmetry: 0.0,
            },
            penalty: Penalty::L1,
            polish: true,
            patience: 0,
            checkpoint_every: 10,
            stop_after: 0,
            seed: 1,
            device: "cpu".to_string(),
        }
    }
}

/// What a field pass reports.
#[derive(Clone, Debug, Serialize)]
pub struct FieldSummary {
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub val_loss: f64,
    pub polished: bool,
    pub streams_used: usize,
    pub streams: usize,
    pub wall_s: f64,
    /// Mean `|a - a_true| / |a_true|` on the held-out streams, where the dataset has truth.
    pub val_acceleration_error: Option<f64>,
    /// The same for the per-point solution of eq. 15, `a = -(dJ''/dv)^-1 dJ''/dx . v`: what
    /// the action map alone implies, without a field network (a diagnostic).
    pub val_pointwise_error: Option<f64>,
}

impl fmt::Display for FieldSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "field: {} epochs in {:.1} s; best epoch {} (validation loss {:.4e}){}",
            self.epochs_run,
            self.wall_s,
            self.best_epoch,
            self.val_loss,
            if self.polished {
                ", output layer polished by least squares"
            } else {
                ""
            }
        )?;
        if let Some(e) = self.val_acceleration_error {
            writeln!(f, "held-out streams: mean relative acceleration error {:.3e}", e)?;
        }
        if let Some(e) = self.val_pointwise_error {
            writeln!(
                f,
                "  (per-point solution of dJ''/dt = 0 from the action map alone: {:.3e})",
                e
            )?;
        }
        write!(
            f,
            "{} of {} streams used (the others have points the action map cannot differentiate)",
            self.streams_used, self.streams
        )
    }
}

/// The streams of the pass: rows and jets of each, split as the action map was trained.
pub(crate) struct PassData {
    /// Jets of every point of the dataset.
    jets: Vec<Option<MapJet>>,
    pub(crate) train: FieldRows,
    pub(crate) validation: FieldRows,
    /// The training streams.
    train_list: Vec<usize>,
    val_streams: Vec<usize>,
    train_streams: usize,
    used: usize,
}

/// Learn the field for the model in `model_dir` from the streams of `ds` and add it to
/// the directory, which is locked meanwhile (see [`crate::lock`]).
/// With `resume`, continue from the checkpoint in `model_dir` when there is one.
pub fn fit_field(
    model_dir: &Path,
    ds: &StreamsDataset,
    cfg: &FieldConfig,
    resume: bool,
) -> Result<FieldSummary> {
    check(cfg)?;
    check_learnable(ds).context("the streams dataset")?;
    check_size(cfg, ds.n_stars())?;
    let started = Instant::now();
    let device = crate::device::parse(&cfg.device)?;
    let _lock = DirLock::acquire(model_dir)?;
    let (model, training) = Model::load(model_dir, &device)?;
    let identity = run::identity(model_dir, ds, cfg)?;
    let data = pass_data(&model, &training, ds, &identity.data, &device)?;
    let mut spec = spec_for(
        &model,
        cfg.form,
        widths(cfg.width, cfg.max_width, cfg.depth),
        cfg.activation,
    )?;
    spec.outer_radius = Some(outer_radius(ds, &data));
    let field = FieldModel::new(spec, &device, cfg.seed)?;
    let pass = run::pass(&field, model_dir, identity);
    let state = match resume {
        true => crate::pass::load(&pass)?,
        false => None,
    };
    let state = match state {
        Some(s) => s,
        None => LoopState::new(&pass, held_out_loss(&field, &data.validation, cfg)?)?,
    };
    let (history, best_epoch) = run::train_loop(&field, &data, cfg, started, state, &pass)?;
    let mut val_loss = held_out_loss(&field, &data.validation, cfg)?;
    // The polish needs residuals affine in the output layer: L2, and no symmetry term.
    let affine = cfg.penalty == Penalty::L2 && cfg.weights.symmetry == 0.0;
    let polished = cfg.polish && affine && try_polish(&field, &data, cfg, &mut val_loss)?;
    let val_acceleration_error = truth_error(&field, ds, &data.val_streams)?;
    let val_pointwise_error = pointwise_error(&data.jets, ds, &data.val_streams);
    let summary = FieldSummary {
        epochs_run: history.len(),
        best_epoch,
        val_loss,
        polished,
        streams_used: data.used,
        streams: ds.n_streams(),
        wall_s: started.elapsed().as_secs_f64(),
        val_acceleration_error,
        val_pointwise_error,
    };
    let extra = serde_json::json!({
        "history": history,
        "options": cfg,
        "summary": summary,
        "train_streams": data.train_streams,
    });
    field.save(model_dir, &extra)?;
    Ok(summary)
}

/// Refuses a field network too large for this machine's memory, with mini-batches of
/// streams of `stars` points (every layer counted at the widest block: an upper bound).
fn check_size(cfg: &FieldConfig, stars: usize) -> Result<()> {
    let flags = "--field-width, --field-depth, --field-batch-streams";
    let rows = cfg.batch_streams as f64 * stars as f64;
    crate::budget::check_network(flags, 3.0, cfg.max_width, 2 * cfg.depth, 3.0, rows)
}

/// Every option in its range, each refusal naming the command-line flag.
pub fn check(cfg: &FieldConfig) -> Result<()> {
    at_least_one("--field-epochs", cfg.epochs)?;
    at_least_one("--field-batch-streams", cfg.batch_streams)?;
    flags::widths(
        "--field-width",
        cfg.width,
        "the field's widest block",
        cfg.max_width,
    )?;
    at_least_one("--field-depth", cfg.depth)?;
    positive("--field-lr", cfg.learning_rate, MAX_LEARNING_RATE)?;
    positive(
        "the final field learning rate",
        cfg.final_learning_rate,
        cfg.learning_rate,
    )?;
    let w = cfg.weights;
    for (flag, weight) in [
        ("--action-weight", w.actions),
        ("--energy-weight", w.energy),
        ("--frequency-weight", w.frequencies),
        ("--symmetry-weight", w.symmetry),
    ] {
        in_range(flag, weight, 0.0, MAX_LOSS_WEIGHT)?;
    }
    if w.actions + w.energy + w.frequencies == 0.0 {
        bail!("--action-weight, --energy-weight and --frequency-weight are all 0: nothing would train the field");
    }
    if cfg.form == FieldForm::Vector && w.actions + w.frequencies == 0.0 {
        bail!("the vector form has no potential: energy conservation alone cannot train it (give --action-weight or --frequency-weight)");
    }
    Ok(())
}

/// Jets of every point; streams whose every point has one, split by the model's split
/// (all streams for training when the dataset is not the one the map was trained on).
fn pass_data(
    model: &Model,
    training: &serde_json::Value,
    ds: &StreamsDataset,
    data: &DataDigest,
    dev: &Device,
) -> Result<PassData> {
    let layout = ds.layout();
    let jets = model_jets(model, &ds.xv)?;
    let complete: Vec<bool> = layout
        .split(&jets, 1)
        .map(|c| c.iter().all(Option::is_some))
        .collect();
    let (mut train, mut val) = crate::pass::model_split(training, ds.n_streams(), data, "field");
    train.retain(|&s| complete[s]);
    val.retain(|&s| complete[s]);
    if train.is_empty() {
        bail!("no stream has every point mapped by the action model: nothing to learn the field from");
    }
    let c = &model.config;
    let scales = Scales {
        velocity: c.velocity_scale,
        length: c.length_scale,
        actions: c.component_scales,
    };
    let rows = |streams: &[usize]| -> Result<FieldRows> {
        let xv: Vec<f64> = layout.gather(&ds.xv, 6, streams);
        let j: Vec<MapJet> = streams
            .iter()
            .flat_map(|&s| {
                // Only complete streams are listed: every jet is there.
                jets[layout.rows(s)].iter().flatten().copied()
            })
            .collect();
        Ok(FieldRows::new(&xv, &j, layout.select(streams), scales, dev)?)
    };
    let validation = if val.is_empty() {
        rows(&train)?
    } else {
        rows(&val)?
    };
    Ok(PassData {
        train: rows(&train)?,
        jets,
        validation,
        used: train.len() + val.len(),
        train_streams: train.len(),
        train_list: train.clone(),
        val_streams: if val.is_empty() { train } else { val },
    })
}

/// Polish the output layer on the training streams; keep it only if the held-out loss does
/// not rise.
fn try_polish(field: &FieldModel, data: &PassData, cfg: &FieldConfig, val_loss: &mut f64) -> Result<bool> {
    let before = snapshot(&field.vars())?;
    if !super::polish::polish(field, &data.train, cfg.weights)? {
        return Ok(false);
    }
    let after = held_out_loss(field, &data.validation, cfg)?;
    if after <= *val_loss {
        *val_loss = after;
        return Ok(true);
    }
    restore(&field.vars(), &before)?;
    Ok(false)
}

pub(crate) fn held_out_loss(field: &FieldModel, rows: &FieldRows, cfg: &FieldConfig) -> Result<f64> {
    let w = field.net.weights()?.detach();
    Ok(loss::loss(&field.spec, &w, rows, cfg.weights, cfg.penalty)?.to_scalar::<f64>()?)
}

/// Mean relative acceleration error on `streams`, where the dataset carries the truth.
fn truth_error(field: &FieldModel, ds: &StreamsDataset, streams: &[usize]) -> Result<Option<f64>> {
    let Some(truth) = &ds.truth.acceleration else {
        return Ok(None);
    };
    let rows: Vec<usize> = ds.layout().rows_of(streams);
    let x: Vec<f64> = rows
        .iter()
        .flat_map(|&r| ds.xv[6 * r..6 * r + 3].to_vec())
        .collect();
    let a = field.evaluate(&x).context("evaluating the field")?.acceleration;
    let errors: Vec<f64> = rows
        .iter()
        .enumerate()
        .filter_map(|(k, &r)| relative_error(&a[3 * k..3 * k + 3], &truth[3 * r..3 * r + 3]))
        .collect();
    Ok((!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64))
}

/// The largest radius of the training points (kpc): beyond it the correction falls off.
fn outer_radius(ds: &StreamsDataset, data: &PassData) -> f64 {
    ds.layout()
        .gather(&ds.xv, 6, &data.train_list)
        .chunks_exact(6)
        .map(|p| (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt())
        .fold(0.0, f64::max)
        .max(crate::train::data::scales(&ds.xv).0)
}

/// Mean relative error of the per-point solution of eq. 15 on `streams`, where the dataset
/// has truth.
fn pointwise_error(jets: &[Option<MapJet>], ds: &StreamsDataset, streams: &[usize]) -> Option<f64> {
    let truth = ds.truth.acceleration.as_ref()?;
    let errors: Vec<f64> = ds
        .layout()
        .rows_of(streams)
        .into_iter()
        .filter_map(|r| {
            let jet = jets[r].as_ref()?;
            let a = pointwise_acceleration(jet, &ds.xv[6 * r..6 * r + 6]);
            relative_error(&a, &truth[3 * r..3 * r + 3])
        })
        .collect();
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
}

/// `a = -(dJ''/dv)^-1 (dJ''/dx . v)`: the acceleration that makes `dJ''/dt` vanish at one
/// point (eq. 15 solved by linear algebra; ill-conditioned where dJ''/dv nearly is singular).
pub fn pointwise_acceleration(jet: &MapJet, xv: &[f64]) -> [f64; 3] {
    let d = &jet.d_actions;
    let m: [[f64; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| d[i][3 + j]));
    let rhs: [f64; 3] = std::array::from_fn(|i| -(0..3).map(|j| d[i][j] * xv[3 + j]).sum::<f64>());
    crate::model::jet::solve3(&m, &rhs)
}

/// `|a - b| / |b|`, where both are finite and `b` nonzero.
pub fn relative_error(a: &[f64], b: &[f64]) -> Option<f64> {
    let d = (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>().sqrt();
    let n = (0..3).map(|k| b[k] * b[k]).sum::<f64>().sqrt();
    let e = d / n;
    e.is_finite().then_some(e)
}
