//! The field the orbits live in, learned from the streams (paper §4): acceleration, potential
//! and frequencies, stored beside the action map in its model directory (`field.safetensors`,
//! `field.json`).

pub mod columns;
pub mod command;
pub mod fit;
pub mod loss;
pub mod net;
pub mod plots;
pub mod polish;
pub mod run;

use std::path::Path;

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_pcg::Pcg64;

use crate::model::{Model, ModelError};
use crate::nn::params::Params;
use crate::nn::ResMlp;
pub use net::{FieldForm, FieldSpec};

/// Weights of the field in a model directory.
pub const FIELD_WEIGHTS: &str = "field.safetensors";
/// Description of the field in a model directory.
pub const FIELD_JSON: &str = "field.json";
/// What `field.json` says it is.
pub const FIELD_FORMAT: &str = "actionfinder-field";

/// The field network and its variables.
pub struct FieldModel {
    pub spec: FieldSpec,
    pub varmap: VarMap,
    pub net: ResMlp,
    pub device: Device,
}

/// What `apply` and `field` read back: acceleration `[n,3]` ((km/s)^2/kpc) and, for the
/// potential form, the potential `[n]` ((km/s)^2).
pub struct FieldValues {
    pub acceleration: Vec<f64>,
    pub potential: Option<Vec<f64>>,
}

/// Rows per evaluation chunk.
const CHUNK: usize = 65536;

impl FieldModel {
    /// A fresh field network. The output layer starts at zero, so the field starts as the
    /// toy's.
    pub fn new(spec: FieldSpec, device: &Device, seed: u64) -> candle_core::Result<Self> {
        let varmap = VarMap::new();
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut ps = Params::new(&varmap, "", device, &mut rng);
        let net = ResMlp::new(&mut ps.pp("field"), spec.net.clone())?;
        let model = FieldModel {
            spec,
            varmap,
            net,
            device: device.clone(),
        };
        for name in ["field.output.weight", "field.output.bias"] {
            let var = model.var(name)?;
            var.set(&var.zeros_like()?)?;
        }
        Ok(model)
    }

    /// A variable by name.
    pub fn var(&self, name: &str) -> candle_core::Result<candle_core::Var> {
        crate::model::lookup(&self.varmap, name)
    }

    /// All variables, sorted by name.
    pub fn vars(&self) -> Vec<(String, candle_core::Var)> {
        crate::model::sorted_vars(&self.varmap)
    }

    /// Acceleration and potential at positions `x` (rows of 3, kpc), chunk by chunk.
    pub fn evaluate(&self, x: &[f64]) -> candle_core::Result<FieldValues> {
        let w = self.net.weights()?.detach();
        let mut acceleration = Vec::with_capacity(x.len());
        let mut potential = Vec::with_capacity(x.len() / 3);
        for chunk in x.chunks(3 * CHUNK) {
            let t = Tensor::from_slice(chunk, (chunk.len() / 3, 3), &self.device)?;
            let (a, phi) = self.spec.evaluate(&w, &t)?;
            acceleration.extend(a.flatten_all()?.to_vec1::<f64>()?);
            if let Some(phi) = phi {
                potential.extend(phi.to_vec1::<f64>()?);
            }
        }
        let has_potential = self.spec.form == FieldForm::Potential;
        Ok(FieldValues {
            acceleration,
            potential: has_potential.then_some(potential),
        })
    }

    /// Write `field.safetensors` and `field.json` (with `extra`: history, options) into the
    /// model directory `dir`.
    pub fn save(&self, dir: &Path, extra: &serde_json::Value) -> Result<(), ModelError> {
        std::fs::create_dir_all(dir).map_err(|e| invalid(dir, format!("cannot create: {e}")))?;
        let json = serde_json::json!({
            "format": FIELD_FORMAT,
            "version": env!("CARGO_PKG_VERSION"),
            "spec": self.spec,
            "training": extra,
        });
        crate::model::save_files(dir, &self.varmap, FIELD_WEIGHTS, FIELD_JSON, &json)
    }

    /// Whether the model directory `dir` holds a field.
    pub fn exists(dir: &Path) -> bool {
        dir.join(FIELD_JSON).exists()
    }

    /// Read the field of the model directory `dir`: the json's architecture, then exactly the
    /// variables of that architecture (sizes checked before anything is built), each finite.
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, serde_json::Value), ModelError> {
        let json = crate::model::read_network_json(
            dir,
            FIELD_JSON,
            FIELD_FORMAT,
            "learned field; add one with `actionfinder fit-field`",
        )?;
        let spec: FieldSpec = serde_json::from_value(json["spec"].clone())
            .map_err(|e| invalid(dir, format!("{FIELD_JSON}: spec: {e}")))?;
        let wanted = spec.net.parameter_count();
        let tensors = crate::model::read_weights(dir, FIELD_WEIGHTS, FIELD_JSON, wanted, device)?;
        let model =
            FieldModel::new(spec, device, 0).map_err(|e| invalid(dir, format!("{FIELD_JSON}: {e}")))?;
        crate::model::set_vars(dir, FIELD_WEIGHTS, &tensors, &model.vars())?;
        Ok((model, json["training"].clone()))
    }
}

/// The spec of a field for `model` (its scales, toy and symmetry), without an outer radius.
pub fn spec_for(
    model: &Model,
    form: FieldForm,
    widths: Vec<usize>,
    activation: crate::nn::Activation,
) -> candle_core::Result<FieldSpec> {
    let axisymmetric = model.config.axisymmetric && form == FieldForm::Potential;
    Ok(FieldSpec {
        form,
        net: crate::nn::MlpSpec {
            inputs: FieldSpec::inputs(form, axisymmetric),
            outputs: FieldSpec::outputs(form),
            widths,
            activation,
        },
        axisymmetric,
        length_scale: model.config.length_scale,
        velocity_scale: model.config.velocity_scale,
        toy_m: model.toy.m()?,
        toy_b: model.toy.b()?,
        outer_radius: None,
    })
}

fn invalid(dir: &Path, what: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        dir: dir.to_path_buf(),
        what: what.into(),
    }
}
