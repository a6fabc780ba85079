//! The epochs and checkpoints of a network fitted after the action map (the learned field,
//! the inverse map): Adam under a cosine learning rate, the best held-out weights kept, and
//! `MODEL_DIR/NAME/` (`state.safetensors`: current weights, Adam's moments, best weights;
//! `state.json`: epoch, Adam's step, history, best epoch and loss; the manifest of
//! [`crate::checkpoints`], which keeps `NAME.previous/` too) written every few epochs, so
//! `--resume` continues exactly (the caller derives per-epoch batch orders from its seed and
//! the epoch).

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::checkpoints::{Checkpoints, Identity};
use crate::digest::DataDigest;
use crate::train::adam::Adam;

const TENSORS: &str = "state.safetensors";
const STATE: &str = "state.json";

/// How long a pass runs and how its learning rate falls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PassOptions {
    pub epochs: usize,
    /// Cosine decay from `learning_rate` to `final_learning_rate`.
    pub learning_rate: f64,
    pub final_learning_rate: f64,
    /// Stop after this many epochs without a better validation loss (0 = never).
    pub patience: usize,
    /// Write a checkpoint every this many epochs (0 = never).
    pub checkpoint_every: usize,
    /// Stop after this many epochs in this session (0 = run to the end), leaving a checkpoint.
    pub stop_after: usize,
}

impl PassOptions {
    /// Cosine decay from `learning_rate` at epoch 0 to `final_learning_rate` at the last.
    pub fn learning_rate(&self, epoch: usize) -> f64 {
        let x = epoch as f64 / (self.epochs.max(2) - 1) as f64;
        self.final_learning_rate
            + 0.5 * (self.learning_rate - self.final_learning_rate) * (1.0 + (std::f64::consts::PI * x).cos())
    }
}

/// One line of a pass's training history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PassEpoch {
    pub epoch: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub learning_rate: f64,
    pub wall_s: f64,
}

/// The network of a pass: its variables (sorted by name), where it lives, and where its
/// checkpoints go.
pub struct Pass<'a> {
    /// What the progress bar and the log call it (`field`, `inverse`).
    pub label: &'static str,
    pub vars: Vec<(String, Var)>,
    pub device: Device,
    pub model_dir: &'a Path,
    /// The checkpoint directory's name in the model directory.
    pub checkpoint: &'static str,
    pub identity: Identity,
}

/// Where a pass stands: optimiser, history, best epoch so far (number, held-out loss,
/// weights) and the next epoch.
pub struct LoopState {
    adam: Adam,
    history: Vec<PassEpoch>,
    best: (usize, f64, Vec<Tensor>),
    epoch: usize,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    epoch: usize,
    adam_step: u64,
    history: Vec<PassEpoch>,
    best_epoch: usize,
    best_val_loss: f64,
}

impl LoopState {
    /// A fresh pass whose starting network has held-out loss `initial`.
    pub fn new(pass: &Pass<'_>, initial: f64) -> Result<Self> {
        Ok(LoopState {
            adam: Adam::new(pass.vars.clone())?,
            history: Vec::new(),
            best: (0, initial, snapshot(&pass.vars)?),
            epoch: 0,
        })
    }
}

/// Epochs from `state`, each run by `epoch(adam, learning rate, epoch index)`, which returns
/// the training and held-out losses; the best held-out weights are restored at the end.
/// Returns the history and the best epoch.
pub fn train_loop(
    pass: &Pass<'_>,
    opts: &PassOptions,
    started: Instant,
    mut state: LoopState,
    mut epoch: impl FnMut(&mut Adam, f64, usize) -> Result<(f64, f64)>,
) -> Result<(Vec<PassEpoch>, usize)> {
    let offset = state.history.last().map_or(0.0, |r| r.wall_s);
    let first = state.epoch;
    let bar = crate::progress::counter(opts.epochs as u64, pass.label);
    while state.epoch < opts.epochs {
        if opts.stop_after > 0 && state.epoch >= first + opts.stop_after {
            log::info!(
                "{}: stopping after {} epochs as asked; continue with --resume",
                pass.label,
                opts.stop_after
            );
            save(pass, &state)?;
            break;
        }
        let lr = opts.learning_rate(state.epoch);
        let (train_loss, val_loss) = epoch(&mut state.adam, lr, state.epoch)?;
        state.epoch += 1;
        if val_loss < state.best.1 {
            state.best = (state.epoch, val_loss, snapshot(&pass.vars)?);
        }
        state.history.push(PassEpoch {
            epoch: state.epoch,
            train_loss,
            val_loss,
            learning_rate: lr,
            wall_s: offset + started.elapsed().as_secs_f64(),
        });
        bar.set_position(state.epoch as u64);
        bar.set_message(format!("loss {train_loss:.3e} val {val_loss:.3e}"));
        if opts.checkpoint_every > 0 && state.epoch.is_multiple_of(opts.checkpoint_every) {
            save(pass, &state)?;
        }
        if opts.patience > 0 && state.epoch >= state.best.0 + opts.patience {
            log::info!(
                "{}: no better validation loss for {} epochs: stopping",
                pass.label,
                opts.patience
            );
            break;
        }
    }
    bar.finish_and_clear();
    restore(&pass.vars, &state.best.2)?;
    Ok((state.history, state.best.0))
}

/// The training and held-out streams of a pass on data `data` of `streams` streams: the action
/// map's own split when `data` is what it was trained on (by the digest in its training record
/// `training`; models without one: the split covers as many streams), else every stream
/// trains and none is held out (said in the log, naming the pass `label`).
pub fn model_split(
    training: &serde_json::Value,
    streams: usize,
    data: &DataDigest,
    label: &str,
) -> (Vec<usize>, Vec<usize>) {
    let split =
        |key: &str| -> Option<Vec<usize>> { serde_json::from_value(training["split"][key].clone()).ok() };
    match (split("train"), split("validation")) {
        (Some(t), Some(v)) if trained_on(training, data, t.len() + v.len()) => (t, v),
        _ => {
            log::warn!("the dataset is not the one the action map was trained on: every stream trains the {label}, none is held out");
            ((0..streams).collect(), Vec::new())
        }
    }
}

/// Whether `data` is what the action map was trained on.
fn trained_on(training: &serde_json::Value, data: &DataDigest, split_streams: usize) -> bool {
    DataDigest::recorded(training).map_or(split_streams == data.streams, |r| r == *data)
}

/// Copies of the variables' values, in order.
pub fn snapshot(vars: &[(String, Var)]) -> Result<Vec<Tensor>> {
    Ok(vars
        .iter()
        .map(|(_, v)| v.as_tensor().copy())
        .collect::<candle_core::Result<_>>()?)
}

/// Set the variables from a [`snapshot`].
pub fn restore(vars: &[(String, Var)], values: &[Tensor]) -> Result<()> {
    for ((_, v), t) in vars.iter().zip(values) {
        v.set(t)?;
    }
    Ok(())
}

/// The checkpoints named `name` in `model_dir`.
pub fn store(model_dir: &Path, name: &'static str) -> Checkpoints {
    Checkpoints::new(model_dir, name)
}

/// Write the checkpoint of `state`.
fn save(pass: &Pass<'_>, state: &LoopState) -> Result<()> {
    store(pass.model_dir, pass.checkpoint).save(state.epoch, &pass.identity, |dir| {
        let (moments, adam_step) = state.adam.state();
        let mut tensors: HashMap<String, Tensor> = moments.into_iter().collect();
        for ((name, var), best) in pass.vars.iter().zip(&state.best.2) {
            tensors.insert(format!("current.{name}"), var.as_tensor().clone());
            tensors.insert(format!("best.{name}"), best.clone());
        }
        candle_core::safetensors::save(&tensors, dir.join(TENSORS))?;
        let saved = Saved {
            epoch: state.epoch,
            adam_step,
            history: state.history.clone(),
            best_epoch: state.best.0,
            best_val_loss: state.best.1,
        };
        std::fs::write(dir.join(STATE), serde_json::to_string_pretty(&saved)?)
            .with_context(|| format!("writing {}", dir.join(STATE).display()))
    })
}

/// The pass saved under the model directory (weights set into the variables), or `None`
/// when there is no checkpoint. It must have been made with the pass's identity.
pub fn load(pass: &Pass<'_>) -> Result<Option<LoopState>> {
    let Some((dir, _)) = store(pass.model_dir, pass.checkpoint).load(&pass.identity)? else {
        log::info!(
            "no {} checkpoint in {}: starting afresh",
            pass.label,
            pass.model_dir.display()
        );
        return Ok(None);
    };
    let path = dir.join(STATE);
    let saved: Saved = serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("parsing {}", path.display()))?;
    let tensors = candle_core::safetensors::load(dir.join(TENSORS), &Device::Cpu)
        .with_context(|| format!("reading {}", dir.join(TENSORS).display()))?;
    let get = |key: String| -> Result<Tensor> {
        let t = tensors
            .get(&key)
            .with_context(|| format!("{} checkpoint lacks {key}", pass.label))?;
        Ok(t.to_device(&pass.device)?)
    };
    let mut best = Vec::new();
    for (name, var) in &pass.vars {
        var.set(&get(format!("current.{name}"))?)?;
        best.push(get(format!("best.{name}"))?);
    }
    let moments: HashMap<String, Tensor> = tensors
        .iter()
        .map(|(k, t)| Ok((k.clone(), t.to_device(&pass.device)?)))
        .collect::<Result<_>>()?;
    let mut adam = Adam::new(pass.vars.clone())?;
    adam.restore(&moments, saved.adam_step)?;
    Ok(Some(LoopState {
        adam,
        history: saved.history,
        best: (saved.best_epoch, saved.best_val_loss, best),
        epoch: saved.epoch,
    }))
}
