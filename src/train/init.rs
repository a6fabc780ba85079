//! Warm starts (`--init MODEL_DIR`): a training that begins from another model's G and P,
//! its scales, and its toy unless `--toy` gives one. The architecture the options ask for
//! must be the other model's; a mismatch is refused naming what differs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};

use super::{ToyChoice, TrainConfig};
use crate::model::{Model, ModelConfig};
use crate::nn::MlpSpec;

/// The model a training starts from.
pub struct InitModel {
    pub path: PathBuf,
    pub model: Model,
    /// Its training record (`model.json`'s `training`).
    pub training: serde_json::Value,
}

impl InitModel {
    /// Read the model directory `path`.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let (model, training) =
            Model::load(path, device).with_context(|| format!("--init {}", path.display()))?;
        Ok(InitModel {
            path: path.to_path_buf(),
            model,
            training,
        })
    }

    /// The new model's configuration: this model's, with the toy of `cfg` when it fixes one
    /// and the toy trained as `cfg` says. `g`, `p` and `axisymmetric` are those the options
    /// ask for; any difference from this model's is refused.
    pub fn config(
        &self,
        cfg: &TrainConfig,
        g: &MlpSpec,
        p: &MlpSpec,
        axisymmetric: bool,
    ) -> Result<ModelConfig> {
        let own = &self.model.config;
        let flags = "--width, --max-width, --activation";
        let mismatches: Vec<String> = [
            net_mismatch("G", &own.g, g, &format!("{flags}, --depth-g")),
            net_mismatch("P", &own.p, p, &format!("{flags}, --depth-p")),
            (own.axisymmetric != axisymmetric).then(|| {
                format!(
                    "it is {}axisymmetric, this training {}: set --axisymmetric {}",
                    if own.axisymmetric { "" } else { "not " },
                    if axisymmetric { "is" } else { "is not" },
                    if own.axisymmetric { "on" } else { "off" }
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !mismatches.is_empty() {
            bail!(
                "--init {}: its architecture differs from this training's: {}",
                self.path.display(),
                mismatches.join("; ")
            );
        }
        let (toy_m, toy_b) = match cfg.toy {
            ToyChoice::Fixed { m, b } => (m, b),
            ToyChoice::Auto => (self.model.toy.m()?, self.model.toy.b()?),
        };
        Ok(ModelConfig {
            toy_m,
            toy_b,
            toy_trained: cfg.fit_toy,
            ..own.clone()
        })
    }

    /// G's and P's weights, to restore into the new model.
    pub fn network_weights(&self) -> Vec<(String, Tensor)> {
        self.model
            .snapshot()
            .into_iter()
            .filter(|(name, _)| name.starts_with("g.") || name.starts_with("p."))
            .collect()
    }

    /// What `model.json` records of the warm start.
    pub fn record(&self) -> serde_json::Value {
        serde_json::json!({"model": self.path.display().to_string(), "data": self.training["data"]})
    }
}

/// "G: widths [..] and silu there, [..] and silu here (FLAGS)" when the nets differ.
fn net_mismatch(name: &str, own: &MlpSpec, wanted: &MlpSpec, flags: &str) -> Option<String> {
    (own.widths != wanted.widths || own.activation != wanted.activation).then(|| {
        format!(
            "{name} has block widths {:?} with {:?}, this training asks for {:?} with {:?} ({flags})",
            own.widths, own.activation, wanted.widths, wanted.activation
        )
    })
}
