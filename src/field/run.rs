//! The field pass's epochs and its checkpoints: Adam over mini-batches of whole streams, the
//! best held-out weights kept, and `MODEL_DIR/field_checkpoint/` (`state.safetensors`: current
//! weights, Adam's moments, best weights; `state.json`: epoch, Adam's step, history, best epoch
//! and loss; the manifest of [`crate::checkpoints`], which keeps `field_checkpoint.previous/`
//! too) written every few epochs, so `--resume` continues exactly (per-epoch batch orders
//! derive from the seed and the epoch).

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use super::fit::{held_out_loss, FieldConfig, FieldEpoch, PassData};
use super::loss::{self, FieldRows};
use super::FieldModel;
use crate::checkpoints::{Checkpoints, Identity};
use crate::dataset::StreamsDataset;
use crate::digest::DataDigest;
use crate::train::adam::Adam;

/// The field checkpoint's directory name in the model directory.
pub const NAME: &str = "field_checkpoint";
const TENSORS: &str = "state.safetensors";
const STATE: &str = "state.json";

/// Where a pass stands: optimiser, history, best epoch so far (number, held-out loss,
/// weights) and the next epoch.
pub struct LoopState {
    adam: Adam,
    history: Vec<FieldEpoch>,
    best: (usize, f64, Vec<Tensor>),
    epoch: usize,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    epoch: usize,
    adam_step: u64,
    history: Vec<FieldEpoch>,
    best_epoch: usize,
    best_val_loss: f64,
}

impl LoopState {
    /// A fresh pass whose starting (toy) field has held-out loss `initial`.
    pub fn new(field: &FieldModel, initial: f64) -> Result<Self> {
        Ok(LoopState {
            adam: Adam::new(field.vars())?,
            history: Vec::new(),
            best: (0, initial, snapshot(field)?),
            epoch: 0,
        })
    }
}

/// Adam epochs from `state`; the best held-out weights are restored at the end. Returns the
/// history and the best epoch.
pub(crate) fn train_loop(
    field: &FieldModel,
    data: &PassData,
    cfg: &FieldConfig,
    started: Instant,
    mut state: LoopState,
    model_dir: &Path,
    identity: &Identity,
) -> Result<(Vec<FieldEpoch>, usize)> {
    let offset = state.history.last().map_or(0.0, |r| r.wall_s);
    let first = state.epoch;
    let bar = crate::progress::counter(cfg.epochs as u64, "field");
    while state.epoch < cfg.epochs {
        if cfg.stop_after > 0 && state.epoch >= first + cfg.stop_after {
            log::info!(
                "field: stopping after {} epochs as asked; continue with --resume",
                cfg.stop_after
            );
            save(model_dir, field, &state, identity)?;
            break;
        }
        let (train_loss, val_loss) = epoch(field, data, cfg, &mut state)?;
        state.epoch += 1;
        if val_loss < state.best.1 {
            state.best = (state.epoch, val_loss, snapshot(field)?);
        }
        state.history.push(FieldEpoch {
            epoch: state.epoch,
            train_loss,
            val_loss,
            learning_rate: learning_rate(cfg, state.epoch - 1),
            wall_s: offset + started.elapsed().as_secs_f64(),
        });
        bar.set_position(state.epoch as u64);
        bar.set_message(format!("loss {train_loss:.3e} val {val_loss:.3e}"));
        if cfg.checkpoint_every > 0 && state.epoch.is_multiple_of(cfg.checkpoint_every) {
            save(model_dir, field, &state, identity)?;
        }
        if cfg.patience > 0 && state.epoch >= state.best.0 + cfg.patience {
            log::info!(
                "field: no better validation loss for {} epochs: stopping",
                cfg.patience
            );
            break;
        }
    }
    bar.finish_and_clear();
    restore(field, &state.best.2)?;
    Ok((state.history, state.best.0))
}

/// Cosine decay from `learning_rate` at epoch 0 to `final_learning_rate` at the last.
fn learning_rate(cfg: &FieldConfig, epoch: usize) -> f64 {
    let x = epoch as f64 / (cfg.epochs.max(2) - 1) as f64;
    cfg.final_learning_rate
        + 0.5 * (cfg.learning_rate - cfg.final_learning_rate) * (1.0 + (std::f64::consts::PI * x).cos())
}

/// One epoch: the training loss (mean over batches, weighted by streams) and the held-out
/// loss after it.
fn epoch(
    field: &FieldModel,
    data: &PassData,
    cfg: &FieldConfig,
    state: &mut LoopState,
) -> Result<(f64, f64)> {
    let lr = learning_rate(cfg, state.epoch);
    let streams = data.train.layout.n_streams();
    let mut order: Vec<usize> = (0..streams).collect();
    order.shuffle(&mut Pcg64::seed_from_u64(
        cfg.seed.wrapping_add(state.epoch as u64),
    ));
    let mut total = 0.0;
    for chunk in order.chunks(cfg.batch_streams) {
        let batch = select(&data.train, chunk)?;
        let w = field.net.weights()?;
        let l = loss::loss(&field.spec, &w, &batch, cfg.weights, cfg.penalty)?;
        total += l.to_scalar::<f64>()? * chunk.len() as f64 / streams as f64;
        state.adam.step(&l.backward()?, lr)?;
    }
    let val_loss = held_out_loss(field, &data.validation, cfg)?;
    if !(val_loss.is_finite() && total.is_finite()) {
        bail!(
            "the field loss became {total} at epoch {}: lower --field-lr",
            state.epoch
        );
    }
    Ok((total, val_loss))
}

/// The rows of streams `chunk` (indices into `rows`' streams).
fn select(rows: &FieldRows, chunk: &[usize]) -> Result<FieldRows> {
    let idx: Vec<u32> = rows.layout.rows_of(chunk).into_iter().map(|r| r as u32).collect();
    let count = idx.len();
    let idx = Tensor::from_vec(idx, count, rows.x.device())?;
    let pick = |t: &Tensor| t.index_select(&idx, 0);
    Ok(FieldRows {
        layout: rows.layout.select(chunk),
        x: pick(&rows.x)?,
        kinetic: pick(&rows.kinetic)?,
        j_x: pick(&rows.j_x)?,
        j_v: pick(&rows.j_v)?,
        o_x: pick(&rows.o_x)?,
        o_v: pick(&rows.o_v)?,
    })
}

/// Copies of the field's variables, in name order.
pub fn snapshot(field: &FieldModel) -> Result<Vec<Tensor>> {
    Ok(field
        .vars()
        .iter()
        .map(|(_, v)| v.as_tensor().copy())
        .collect::<candle_core::Result<_>>()?)
}

/// Set the field's variables from a [`snapshot`].
pub fn restore(field: &FieldModel, values: &[Tensor]) -> Result<()> {
    for ((_, v), t) in field.vars().iter().zip(values) {
        v.set(t)?;
    }
    Ok(())
}

/// The field pass's checkpoints in `model_dir`.
pub fn store(model_dir: &Path) -> Checkpoints {
    Checkpoints::new(model_dir, NAME)
}

/// What a field checkpoint must match to be resumed: the streams `ds`, the options `cfg`
/// and the action map the pass learns from (its weights file in `model_dir`).
pub(crate) fn identity(model_dir: &Path, ds: &StreamsDataset, cfg: &FieldConfig) -> Result<Identity> {
    let map = crate::digest::file(&model_dir.join(crate::model::WEIGHTS_FILE))?;
    Ok(Identity::new(DataDigest::of(ds), cfg)?.with("action_map_weights", map))
}

/// Write the checkpoint of `state`.
fn save(model_dir: &Path, field: &FieldModel, state: &LoopState, identity: &Identity) -> Result<()> {
    store(model_dir).save(state.epoch, identity, |dir| {
        let (moments, adam_step) = state.adam.state();
        let mut tensors: HashMap<String, Tensor> = moments.into_iter().collect();
        for ((name, var), best) in field.vars().iter().zip(&state.best.2) {
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

/// The pass saved under `model_dir` (weights set into `field`), or `None` when there is no
/// checkpoint. It must have been made with `identity` (see [`identity`]).
pub fn load(model_dir: &Path, field: &FieldModel, identity: &Identity) -> Result<Option<LoopState>> {
    let Some((dir, _)) = store(model_dir).load(identity)? else {
        log::info!("no field checkpoint in {}: starting afresh", model_dir.display());
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
            .with_context(|| format!("field checkpoint lacks {key}"))?;
        Ok(t.to_device(&field.device)?)
    };
    let mut best = Vec::new();
    for (name, var) in field.vars() {
        var.set(&get(format!("current.{name}"))?)?;
        best.push(get(format!("best.{name}"))?);
    }
    let moments: HashMap<String, Tensor> = tensors
        .iter()
        .map(|(k, t)| Ok((k.clone(), t.to_device(&field.device)?)))
        .collect::<Result<_>>()?;
    let mut adam = Adam::new(field.vars())?;
    adam.restore(&moments, saved.adam_step)?;
    Ok(Some(LoopState {
        adam,
        history: saved.history,
        best: (saved.best_epoch, saved.best_val_loss, best),
        epoch: saved.epoch,
    }))
}
