//! Checkpoints for `--resume` (atomic and verified by [`crate::checkpoints`]):
//! `MODEL_DIR/checkpoint/` holds the current model as a model directory,
//! `optimizer.safetensors` (Adam's moments, the best weights so far and the per-stream `J'`
//! warm starts), `state.json` (epoch, history, best epoch, the plateau schedule's state, the
//! `--init` record) and the manifest;
//! `checkpoint.previous/` the one before. With the per-epoch generators derived from the
//! seed, a resumed run continues exactly. The checkpoint is kept after the last epoch, so
//! `--resume --epochs M` also extends a run.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::data::TrainingData;
use super::schedule::Plateau;
use super::{refresh_streams, EpochRecord, Run, TrainConfig};
use crate::checkpoints::{Checkpoints, Identity};
use crate::dataset::StreamsDataset;
use crate::digest::DataDigest;
use crate::model::Model;

/// The checkpoint's directory name in the model directory.
pub const NAME: &str = "checkpoint";
const OPTIMIZER: &str = "optimizer.safetensors";
const STATE: &str = "state.json";

#[derive(Serialize, Deserialize)]
struct State {
    epoch: usize,
    adam_step: u64,
    history: Vec<EpochRecord>,
    best_epoch: usize,
    best_val_loss: f64,
    plateau: Plateau,
    init: Option<serde_json::Value>,
}

/// The action map's checkpoints in `out`.
pub fn store(out: &Path) -> Checkpoints {
    Checkpoints::new(out, NAME)
}

/// What a checkpoint of training on `ds` with `cfg` must match to be resumed.
pub(crate) fn identity(ds: &StreamsDataset, cfg: &TrainConfig) -> Result<Identity> {
    Identity::new(DataDigest::of(ds), cfg)
}

/// Write the checkpoint of `run` under `out`.
pub(crate) fn save(out: &Path, run: &Run, identity: &Identity) -> Result<()> {
    let Some((best_epoch, best_val_loss, best)) = &run.best else {
        bail!("checkpoint before the first epoch");
    };
    store(out).save(run.epoch, identity, |dir| {
        run.model.save(dir, &serde_json::json!({"checkpoint": true}))?;
        let (moments, adam_step) = run.adam.state();
        let mut tensors: HashMap<String, Tensor> = moments.into_iter().collect();
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
            plateau: run.plateau.clone(),
            init: run.init.clone(),
        };
        std::fs::write(dir.join(STATE), serde_json::to_string_pretty(&state)?)
            .with_context(|| format!("writing {}", dir.join(STATE).display()))
    })
}

/// The run saved under `out`, or `None` when there is no checkpoint. The checkpoint must
/// have been made on `ds` with `cfg` (as `identity` states).
pub(crate) fn load(
    out: &Path,
    ds: &StreamsDataset,
    cfg: &TrainConfig,
    identity: &Identity,
    device: &Device,
) -> Result<Option<Run>> {
    let Some((dir, _)) = store(out).load(identity)? else {
        log::info!("no checkpoint in {}: starting afresh", out.display());
        return Ok(None);
    };
    let state_path = dir.join(STATE);
    let text =
        std::fs::read_to_string(&state_path).with_context(|| format!("reading {}", state_path.display()))?;
    let state: State =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", state_path.display()))?;
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
        plateau: state.plateau,
        init: state.init,
    };
    refresh_streams(&mut run)?;
    log::info!("resuming from epoch {} ({})", run.epoch, dir.display());
    Ok(Some(run))
}
