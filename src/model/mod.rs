//! The learned action-angle model: toy isochrone + generating function G + point transform P
//! (paper §2–3), its configuration and its directory on disk (docs/design.md "Model directory":
//! `model.safetensors` with every weight, the toy's `ln M`, `ln b` and the normalisation;
//! `model.json` with the architecture, scales, toy, training history and trust settings).

pub mod fixed_point;
pub mod groups;
pub mod jet;
pub mod toy;
pub mod toy_choice;
pub mod transform;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use actionfinder_snapshots::partial::Partial;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::nn::params::Params;
use crate::nn::{MlpSpec, ResMlp};
use toy::Toy;
use transform::Nets;

/// Weights file of a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Description file of a model directory.
pub const JSON_FILE: &str = "model.json";
/// What `model.json` says it is.
pub const FORMAT: &str = "actionfinder-model";

/// The scalar variables beside the networks: toy `ln M`, `ln b` and the normalisation.
const SCALARS: [&str; 4] = [
    "toy.log_m",
    "toy.log_b",
    "norm.length_scale",
    "norm.velocity_scale",
];

/// Everything needed to rebuild the model's graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Generating function G: inputs (cos theta, sin theta, J'), one output.
    pub g: MlpSpec,
    /// Point transform P: inputs (cos theta', sin theta'), three outputs.
    pub p: MlpSpec,
    /// theta_phi kept out of G and P, so that `J_phi = L_z` exactly.
    pub axisymmetric: bool,
    /// Length scale (kpc) chosen from the data.
    pub length_scale: f64,
    /// Velocity scale (km/s) chosen from the data; actions are divided by
    /// `length_scale * velocity_scale`.
    pub velocity_scale: f64,
    /// Toy isochrone mass (Msun) and scale (kpc); trained values after training.
    pub toy_m: f64,
    pub toy_b: f64,
    /// Whether M and b are trained.
    pub toy_trained: bool,
    /// Typical size of each action component (r, z, phi) in units of the action scale, used
    /// only where the components differ by more than [`COMPONENT_SCALING_RATIO`] (disk orbits:
    /// J_r, J_z << J_phi), else ones: G sees `J'_k / s_k` and the loss weighs component k by
    /// `1 / s_k`, so that small J_r and J_z count. The map itself stays in one unit (J'' mixes
    /// components). Measured on the AGAMA disk set: 1.66 -> 1.13 kpc km/s; on halo orbits
    /// (components alike) the same scaling made errors worse (isochrone +10% toy 1.02 -> 1.37,
    /// Milky-Way halo 13.1 -> 16.8), hence the threshold.
    #[serde(default = "unit_scales")]
    pub component_scales: [f64; 3],
}

fn unit_scales() -> [f64; 3] {
    [1.0; 3]
}

/// Ratio of the largest to the smallest component scale above which components are scaled.
pub const COMPONENT_SCALING_RATIO: f64 = 10.0;

impl ModelConfig {
    /// The action scale `length_scale * velocity_scale` (kpc km/s).
    pub fn action_scale(&self) -> f64 {
        self.length_scale * self.velocity_scale
    }
}

/// Errors of the model directory.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model directory {dir}: {what}")]
    Invalid { dir: PathBuf, what: String },
    #[error("{0}")]
    Candle(#[from] candle_core::Error),
}

/// Writes `varmap` to `dir/weights` and `json` to `dir/json_name`, each under a temporary
/// name renamed into place, so a file is always whole (the weights first: the json is what
/// says the network is there).
pub(crate) fn save_files(
    dir: &Path,
    varmap: &VarMap,
    weights: &str,
    json_name: &str,
    json: &serde_json::Value,
) -> Result<(), ModelError> {
    let cannot = |name: &str, e: &dyn std::fmt::Display| invalid(dir, format!("cannot write {name}: {e}"));
    let tmp = Partial::new(&dir.join(weights));
    varmap.save(tmp.path())?;
    tmp.commit().map_err(|e| cannot(weights, &e))?;
    let text = serde_json::to_string_pretty(json).map_err(|e| invalid(dir, e.to_string()))?;
    let tmp = Partial::new(&dir.join(json_name));
    std::fs::write(tmp.path(), text).map_err(|e| cannot(json_name, &e))?;
    tmp.commit().map_err(|e| cannot(json_name, &e))
}

/// The json file `json_name` of a second network in the model directory `dir` (the field,
/// the inverse map), which must say it is `format`; `missing` tells how to add one.
pub(crate) fn read_network_json(
    dir: &Path,
    json_name: &str,
    format: &str,
    missing: &str,
) -> Result<serde_json::Value, ModelError> {
    let text = std::fs::read_to_string(dir.join(json_name))
        .map_err(|e| invalid(dir, format!("has no {missing} ({json_name}: {e})")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| invalid(dir, format!("{json_name} is not valid JSON: {e}")))?;
    if json["format"] != format {
        return Err(invalid(dir, format!("{json_name} has format {}", json["format"])));
    }
    Ok(json)
}

/// The tensors of the weights file `weights` in `dir`, each finite, which must hold exactly
/// `wanted` numbers (the architecture `json_name` describes): checked before anything is built.
pub(crate) fn read_weights(
    dir: &Path,
    weights: &str,
    json_name: &str,
    wanted: usize,
    device: &Device,
) -> Result<HashMap<String, Tensor>, ModelError> {
    let tensors = crate::nn::load::finite_tensors(&dir.join(weights), device)
        .map_err(|e| invalid(dir, format!("{weights}: {e}")))?;
    let stored: usize = tensors.values().map(Tensor::elem_count).sum();
    if stored != wanted {
        return Err(invalid(
            dir,
            format!("{weights} holds {stored} numbers, the network in {json_name} has {wanted}"),
        ));
    }
    Ok(tensors)
}

/// Set every variable of `vars` from `tensors` (read from `weights`), each of its shape, f64.
pub(crate) fn set_vars(
    dir: &Path,
    weights: &str,
    tensors: &HashMap<String, Tensor>,
    vars: &[(String, Var)],
) -> Result<(), ModelError> {
    for (name, var) in vars {
        let value = tensors
            .get(name)
            .ok_or_else(|| invalid(dir, format!("{weights} lacks tensor {name}")))?;
        if value.dims() != var.dims() || value.dtype() != DType::F64 {
            return Err(invalid(
                dir,
                format!("{weights}: tensor {name} has the wrong shape or type"),
            ));
        }
        var.set(value)?;
    }
    Ok(())
}

pub(crate) fn invalid(dir: &Path, what: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        dir: dir.to_path_buf(),
        what: what.into(),
    }
}

/// The model: variables and the networks built on them.
pub struct Model {
    pub config: ModelConfig,
    pub varmap: VarMap,
    pub g: ResMlp,
    pub p: ResMlp,
    pub toy: Toy,
    pub device: Device,
}

impl Model {
    /// A freshly initialised model, its weights drawn from a generator seeded with `seed`.
    pub fn new(config: ModelConfig, device: &Device, seed: u64) -> candle_core::Result<Self> {
        let varmap = VarMap::new();
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut ps = Params::new(&varmap, "", device, &mut rng);
        let g = ResMlp::new(&mut ps.pp("g"), config.g.clone())?;
        let p = ResMlp::new(&mut ps.pp("p"), config.p.clone())?;
        let mut scalar = |name: &str, value: f64| -> candle_core::Result<Var> {
            ps.constant(name, (), value)?;
            lookup(&varmap, name)
        };
        let toy = Toy {
            log_m: scalar(SCALARS[0], config.toy_m.ln())?,
            log_b: scalar(SCALARS[1], config.toy_b.ln())?,
            trained: config.toy_trained,
        };
        scalar(SCALARS[2], config.length_scale)?;
        scalar(SCALARS[3], config.velocity_scale)?;
        Ok(Self {
            config,
            varmap,
            g,
            p,
            toy,
            device: device.clone(),
        })
    }

    /// The networks' effective weights for one step (attached to the variables).
    pub fn nets(&self) -> candle_core::Result<Nets> {
        Ok(Nets {
            g: self.g.weights()?,
            p: self.p.weights()?,
            axisymmetric: self.config.axisymmetric,
            component_scales: Tensor::new(&self.config.component_scales, &self.device)?.unsqueeze(0)?,
        })
    }

    /// The variables the optimiser updates: all network weights, plus `ln M`, `ln b` when
    /// the toy is trained (never the normalisation).
    pub fn trainable(&self) -> Vec<(String, Var)> {
        let data = self.varmap.data().lock().map(|d| d.clone()).unwrap_or_default();
        let mut vars: Vec<(String, Var)> = data
            .into_iter()
            .filter(|(name, _)| {
                name.starts_with("g.")
                    || name.starts_with("p.")
                    || (self.toy.trained && name.starts_with("toy."))
            })
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    /// All variables by name, as plain tensors (a snapshot of the current values).
    pub fn snapshot(&self) -> Vec<(String, Tensor)> {
        let data = self.varmap.data().lock().map(|d| d.clone()).unwrap_or_default();
        let mut all: Vec<(String, Tensor)> = data
            .into_iter()
            .map(|(k, v)| (k, v.as_tensor().copy().unwrap_or_else(|_| v.as_tensor().clone())))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Set every variable from a [`Self::snapshot`].
    pub fn restore(&self, snapshot: &[(String, Tensor)]) -> candle_core::Result<()> {
        for (name, value) in snapshot {
            lookup(&self.varmap, name)?.set(value)?;
        }
        Ok(())
    }

    /// Write `model.safetensors` and `model.json` (the config with the current toy, plus
    /// `extra`: training history and trust settings) into `dir`.
    pub fn save(&self, dir: &Path, extra: &serde_json::Value) -> Result<(), ModelError> {
        std::fs::create_dir_all(dir).map_err(|e| invalid(dir, format!("cannot create: {e}")))?;
        let mut config = self.config.clone();
        config.toy_m = self.toy.m()?;
        config.toy_b = self.toy.b()?;
        let json = serde_json::json!({
            "format": FORMAT,
            "version": env!("CARGO_PKG_VERSION"),
            "config": config,
            "training": extra,
        });
        save_files(dir, &self.varmap, WEIGHTS_FILE, JSON_FILE, &json)
    }

    /// Read a model directory: the json's architecture, then every weight (each finite) from
    /// the safetensors file, which must hold exactly the variables of that architecture (checked
    /// by size before anything is built, so a damaged json cannot ask for terabytes), and
    /// scales that agree with the json's.
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, serde_json::Value), ModelError> {
        let json = read_json(dir)?;
        let config: ModelConfig = serde_json::from_value(json["config"].clone())
            .map_err(|e| invalid(dir, format!("{JSON_FILE}: config: {e}")))?;
        let tensors = crate::nn::load::finite_tensors(&dir.join(WEIGHTS_FILE), device)
            .map_err(|e| invalid(dir, format!("{WEIGHTS_FILE}: {e}")))?;
        let stored: usize = tensors.values().map(Tensor::elem_count).sum();
        let wanted = config.g.parameter_count() + config.p.parameter_count() + SCALARS.len();
        if stored != wanted {
            return Err(invalid(
                dir,
                format!(
                    "{WEIGHTS_FILE} holds {stored} numbers, the architecture in {JSON_FILE} has {wanted}"
                ),
            ));
        }
        let model = Model::new(config, device, 0).map_err(|e| invalid(dir, format!("{JSON_FILE}: {e}")))?;
        for (name, current) in &model.snapshot() {
            let value = tensors
                .get(name)
                .ok_or_else(|| invalid(dir, format!("{WEIGHTS_FILE} lacks tensor {name}")))?;
            if value.dims() != current.dims() || value.dtype() != DType::F64 {
                return Err(invalid(
                    dir,
                    format!(
                        "tensor {name} is {:?} {:?}, the architecture wants f64 {:?}",
                        value.dtype(),
                        value.dims(),
                        current.dims()
                    ),
                ));
            }
            lookup(&model.varmap, name)?.set(value)?;
        }
        model.check_scales(dir)?;
        Ok((model, json["training"].clone()))
    }

    /// The stored normalisation must be the json's (the outputs use the json's values).
    fn check_scales(&self, dir: &Path) -> Result<(), ModelError> {
        for (name, json_value) in [
            ("norm.length_scale", self.config.length_scale),
            ("norm.velocity_scale", self.config.velocity_scale),
        ] {
            let stored = lookup(&self.varmap, name)?.as_tensor().to_scalar::<f64>()?;
            if (stored - json_value).abs() > 1e-12 * stored.abs().max(json_value.abs()) {
                return Err(invalid(
                    dir,
                    format!("{name} is {stored} in {WEIGHTS_FILE} but {json_value} in {JSON_FILE}"),
                ));
            }
        }
        Ok(())
    }
}

/// Parse `model.json` and check that it is ours.
fn read_json(dir: &Path) -> Result<serde_json::Value, ModelError> {
    let path = dir.join(JSON_FILE);
    let text =
        std::fs::read_to_string(&path).map_err(|e| invalid(dir, format!("cannot read {JSON_FILE}: {e}")))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| invalid(dir, format!("{JSON_FILE} is not valid JSON: {e}")))?;
    if json["format"] != FORMAT {
        return Err(invalid(
            dir,
            format!("{JSON_FILE} has format {}, expected {FORMAT:?}", json["format"]),
        ));
    }
    Ok(json)
}

/// Every variable of `varmap`, sorted by name.
pub(crate) fn sorted_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = varmap.data().lock().map(|d| d.clone()).unwrap_or_default();
    let mut vars: Vec<_> = data.into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// A variable of `varmap` by name.
pub(crate) fn lookup(varmap: &VarMap, name: &str) -> candle_core::Result<Var> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?;
    data.get(name)
        .cloned()
        .ok_or_else(|| candle_core::Error::Msg(format!("no variable {name}")))
}
