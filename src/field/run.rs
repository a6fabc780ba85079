//! The field pass's epochs ([`crate::pass`]): Adam over mini-batches of whole streams, the
//! best held-out weights kept, checkpoints in `MODEL_DIR/field_checkpoint/`.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};
use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;

use super::fit::{held_out_loss, FieldConfig, PassData};
use super::loss::{self, FieldRows};
use super::FieldModel;
use crate::checkpoints::{Checkpoints, Identity};
use crate::dataset::StreamsDataset;
use crate::digest::DataDigest;
use crate::pass::{LoopState, Pass, PassEpoch, PassOptions};
use crate::train::adam::Adam;

/// The field checkpoint's directory name in the model directory.
pub const NAME: &str = "field_checkpoint";

/// The pass of `field` in `model_dir`, its checkpoints matching `identity`.
pub(crate) fn pass<'a>(field: &FieldModel, model_dir: &'a Path, identity: Identity) -> Pass<'a> {
    Pass {
        label: "field",
        vars: field.vars(),
        device: field.device.clone(),
        model_dir,
        checkpoint: NAME,
        identity,
    }
}

/// How long the pass runs.
fn options(cfg: &FieldConfig) -> PassOptions {
    PassOptions {
        epochs: cfg.epochs,
        learning_rate: cfg.learning_rate,
        final_learning_rate: cfg.final_learning_rate,
        patience: cfg.patience,
        checkpoint_every: cfg.checkpoint_every,
        stop_after: cfg.stop_after,
    }
}

/// Adam epochs from `state`; the best held-out weights are restored at the end. Returns the
/// history and the best epoch.
pub(crate) fn train_loop(
    field: &FieldModel,
    data: &PassData,
    cfg: &FieldConfig,
    started: Instant,
    state: LoopState,
    pass: &Pass<'_>,
) -> Result<(Vec<PassEpoch>, usize)> {
    crate::pass::train_loop(pass, &options(cfg), started, state, |adam, lr, e| {
        epoch(field, data, cfg, adam, lr, e)
    })
}

/// One epoch: the training loss (mean over batches, weighted by streams) and the held-out
/// loss after it.
fn epoch(
    field: &FieldModel,
    data: &PassData,
    cfg: &FieldConfig,
    adam: &mut Adam,
    lr: f64,
    epoch: usize,
) -> Result<(f64, f64)> {
    let streams = data.train.layout.n_streams();
    let mut order: Vec<usize> = (0..streams).collect();
    order.shuffle(&mut Pcg64::seed_from_u64(cfg.seed.wrapping_add(epoch as u64)));
    let mut total = 0.0;
    for chunk in order.chunks(cfg.batch_streams) {
        let batch = select(&data.train, chunk)?;
        let w = field.net.weights()?;
        let l = loss::loss(&field.spec, &w, &batch, cfg.weights, cfg.penalty)?;
        total += l.to_scalar::<f64>()? * chunk.len() as f64 / streams as f64;
        adam.step(&l.backward()?, lr)?;
    }
    let val_loss = held_out_loss(field, &data.validation, cfg)?;
    if !(val_loss.is_finite() && total.is_finite()) {
        bail!("the field loss became {total} at epoch {epoch}: lower --field-lr");
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

/// The field pass's checkpoints in `model_dir`.
pub fn store(model_dir: &Path) -> Checkpoints {
    crate::pass::store(model_dir, NAME)
}

/// What a field checkpoint must match to be resumed: the streams `ds`, the options `cfg`
/// and the action map the pass learns from (its weights file in `model_dir`).
pub(crate) fn identity(model_dir: &Path, ds: &StreamsDataset, cfg: &FieldConfig) -> Result<Identity> {
    let map = crate::digest::file(&model_dir.join(crate::model::WEIGHTS_FILE))?;
    Ok(Identity::new(DataDigest::of(ds), cfg)?.with("action_map_weights", map))
}
