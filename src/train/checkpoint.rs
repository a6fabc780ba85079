//! Checkpoints for `--resume`: `MODEL_DIR/checkpoint/` holds the current model as a model
//! directory, `optimizer.safetensors` (Adam's moments, the best weights so far and the
//! per-stream `J'` warm starts) and `state.json` (epoch, history, best epoch, options).
//! With the per-epoch generators derived from the seed, a resumed run continues exactly. The
//! checkpoint is kept after the last epoch, so `--resume --epochs M` also extends a run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::data::TrainingData;
use super::{refresh_streams, EpochRecord, Run, TrainConfig};
use crate::dataset::StreamsDataset;
use crate::model::Model;

const DIR: &str = "checkpoint";
const OPTIMIZER: &str = "optimizer.safetensors";
const STATE: &str = "state.json";

#[derive(Serialize, Deserialize)]
struct State {
    epoch: usize,
    adam_step: u64,
    history: Vec<EpochRecord>,
    best_epoch: usize,
    best_val_loss: f64,
    options: TrainConfig,
    streams: usize,
}

fn dir(out: &Path) -> PathBuf {
    out.join(DIR)
}

/// Write the checkpoint of `run` under `out`.
pub(crate) fn save(out: &Path, run: &Run, cfg: &TrainConfig) -> Result<()> {
    let dir = dir(out);
    run.model.save(&dir, &serde_json::json!({"checkpoint": true}))?;
    let (moments, adam_step) = run.adam.state();
    let mut tensors: HashMap<String, Tensor> = moments.into_iter().collect();
    let Some((best_epoch, best_val_loss, best)) = &run.best else {
        bail!("checkpoint before the first epoch");
    };
    for (name, t) in best {
        tensors.insert(format!("best.{name}"), t.clone());
    }
    let n = run.j_cache.len() / 3;
    tensors.insert(
        "j_cache".into(),
        Tensor::from_slice(&run.j_cache, (n, 3), &Device::Cpu)?,
    );
    candle_core::safetensors::save(&tensors, dir.join(OPTIMIZER))?;
    let state = State {
        epoch: run.epoch,
        adam_step,
        history: run.history.clone(),
        best_epoch: *best_epoch,
        best_val_loss: *best_val_loss,
        options: cfg.clone(),
        streams: n,
    };
    std::fs::write(dir.join(STATE), serde_json::to_string_pretty(&state)?)
        .with_context(|| format!("writing {}", dir.join(STATE).display()))
}

/// The run saved under `out`, or `None` when there is no checkpoint. The options must be the
/// run's own (only the number of epochs and the checkpoint interval may change).
pub(crate) fn load(
    out: &Path,
    ds: &StreamsDataset,
    cfg: &TrainConfig,
    device: &Device,
) -> Result<Option<Run>> {
    let dir = dir(out);
    let state_path = dir.join(STATE);
    if !state_path.exists() {
        log::info!("no checkpoint in {}: starting afresh", dir.display());
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&state_path).with_context(|| format!("reading {}", state_path.display()))?;
    let state: State =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", state_path.display()))?;
    let comparable = |c: &TrainConfig| TrainConfig {
        epochs: 0,
        checkpoint_every: 0,
        stop_after: 0,
        ..c.clone()
    };
    if comparable(&state.options) != comparable(cfg) || state.streams != ds.n_streams() {
        bail!(
            "checkpoint {} was made with other options or data ({} streams, {:?}); \
             resume with the same options, or remove the folder to start afresh",
            dir.display(),
            state.streams,
            state.options
        );
    }
    let (model, _) = Model::load(&dir, device)?;
    let tensors = candle_core::safetensors::load(dir.join(OPTIMIZER), device)
        .with_context(|| format!("reading {}", dir.join(OPTIMIZER).display()))?;
    let mut adam = Adam::new(model.trainable())?;
    adam.restore(&tensors, state.adam_step)?;
    let best: Vec<(String, Tensor)> = model
        .snapshot()
        .into_iter()
        .map(|(name, _)| {
            let t = tensors.get(&format!("best.{name}")).cloned();
            t.map(|t| (name.clone(), t))
                .with_context(|| format!("checkpoint lacks best.{name}"))
        })
        .collect::<Result<_>>()?;
    let j_cache = tensors
        .get("j_cache")
        .context("checkpoint lacks j_cache")?
        .flatten_all()?
        .to_vec1::<f64>()?;
    let mut run = Run {
        model,
        adam,
        data: TrainingData::new(ds, cfg.val_fraction, cfg.seed),
        timing: None,
        excluded: Vec::new(),
        j_cache,
        history: state.history,
        best: Some((state.best_epoch, state.best_val_loss, best)),
        epoch: state.epoch,
    };
    refresh_streams(&mut run)?;
    log::info!("resuming from epoch {} ({})", run.epoch, dir.display());
    Ok(Some(run))
}
