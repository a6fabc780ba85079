//! The inverse map (paper §5, eq. 18): (theta'', J'') -> (x, v) by a supervised network trained
//! on the forward map's own output and the toy isochrone's analytic inverse, stored beside the
//! action map in its model directory (`inverse.safetensors`, `inverse.json`).
//!
//! Its angles are the catalog's of `apply` (origin at the image of the toy's), so a catalog
//! `apply` writes maps back to its points.

pub mod command;
pub mod fit;
pub mod jacobian;
pub mod net;
pub mod roundtrip;
pub mod samples;

use std::path::Path;

use actionfinder_integrators::actions::{Flag, IsochroneFinder};
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use rayon::prelude::*;

use crate::model::{invalid, ModelError, WEIGHTS_FILE};
use crate::nn::params::Params;
use crate::nn::ResMlp;
pub use net::{Closure, InverseSpec};

/// Weights of the inverse map in a model directory.
pub const INVERSE_WEIGHTS: &str = "inverse.safetensors";
/// Description of the inverse map in a model directory.
pub const INVERSE_JSON: &str = "inverse.json";
/// What `inverse.json` says it is.
pub const INVERSE_FORMAT: &str = "actionfinder-inverse";
/// The key of `inverse.json`'s training record holding the SHA-256 of the action map's weights
/// the inverse was fitted to.
pub const MAP_DIGEST_KEY: &str = "action_map_weights";

/// Rows per evaluation chunk.
const CHUNK: usize = 65536;

/// The inverse network and its variables.
pub struct InverseModel {
    pub spec: InverseSpec,
    pub varmap: VarMap,
    pub net: ResMlp,
    pub device: Device,
}

/// Points from the inverse map: `[n,6]` (x, v), NaN where there is none, and one flag per row
/// (0 ok; else why not, as the catalog's `/particles/flag`).
pub struct Inverted {
    pub xv: Vec<f64>,
    pub flags: Vec<u32>,
}

impl InverseModel {
    /// A fresh inverse network. The output layer starts at zero: the identity, the toy's own
    /// inverse.
    pub fn new(spec: InverseSpec, device: &Device, seed: u64) -> candle_core::Result<Self> {
        let varmap = VarMap::new();
        let mut rng = Pcg64::seed_from_u64(seed);
        let mut ps = Params::new(&varmap, "", device, &mut rng);
        let net = ResMlp::new(&mut ps.pp("inverse"), spec.net.clone())?;
        let model = InverseModel {
            spec,
            varmap,
            net,
            device: device.clone(),
        };
        for name in ["inverse.output.weight", "inverse.output.bias"] {
            let var = crate::model::lookup(&model.varmap, name)?;
            var.set(&var.zeros_like()?)?;
        }
        Ok(model)
    }

    /// All variables, sorted by name.
    pub fn vars(&self) -> Vec<(String, candle_core::Var)> {
        crate::model::sorted_vars(&self.varmap)
    }

    /// Toy angles (rad) and actions (kpc km/s), rows of 3, of catalog angles `theta` and
    /// actions `j` (kpc km/s), chunk by chunk.
    pub fn toy_values(&self, theta: &[f64], j: &[f64]) -> candle_core::Result<(Vec<f64>, Vec<f64>)> {
        let w = self.net.weights()?.detach();
        let scale = self.spec.action_scale();
        let (mut toy_theta, mut toy_j) = (Vec::with_capacity(theta.len()), Vec::with_capacity(j.len()));
        for (th, jj) in theta.chunks(3 * CHUNK).zip(j.chunks(3 * CHUNK)) {
            let rows = th.len() / 3;
            let th = Tensor::from_slice(th, (rows, 3), &self.device)?;
            let jn = (Tensor::from_slice(jj, (rows, 3), &self.device)? / scale)?;
            let out = w.forward(&self.spec.features(&th, &jn)?)?.output;
            let (uc, us, dj) = self.spec.split(&out)?;
            let delta = (us.flatten_all()?.to_vec1::<f64>()?.into_iter())
                .zip((uc + 1.0)?.flatten_all()?.to_vec1::<f64>()?)
                .map(|(s, c)| s.atan2(c));
            let th = th.flatten_all()?.to_vec1::<f64>()?;
            toy_theta.extend(th.iter().zip(delta).map(|(t, d)| t + d));
            toy_j.extend(((jn + dj)? * scale)?.flatten_all()?.to_vec1::<f64>()?);
        }
        Ok((toy_theta, toy_j))
    }

    /// `(x, v)` of rows of actions (kpc km/s) and catalog angles (rad): the network, then the
    /// toy's exact inverse. A toy `J_r` or `J_z` the network puts below zero (the toy's actions
    /// never are; near-circular or planar orbits) is taken as zero; rows the toy cannot invert
    /// (non-finite input) are NaN with the toy's flag.
    pub fn invert(&self, actions: &[f64], angles: &[f64]) -> anyhow::Result<Inverted> {
        let (toy_theta, toy_j) = self.toy_values(angles, actions)?;
        let finder = IsochroneFinder::new(self.spec.toy_m, self.spec.toy_b)?;
        let mut xv = vec![f64::NAN; 2 * actions.len()];
        let flags = (xv.par_chunks_exact_mut(6))
            .zip(toy_j.par_chunks_exact(3).zip(toy_theta.par_chunks_exact(3)))
            .map(|(out, (j, th))| {
                match finder.phase_space(
                    [non_negative(j[0]), non_negative(j[1]), j[2]],
                    [th[0], th[1], th[2]],
                ) {
                    Ok(w) => {
                        out[..3].copy_from_slice(&w.x);
                        out[3..].copy_from_slice(&w.v);
                        Flag::Ok as u32
                    }
                    Err(e) => Flag::from(&e) as u32,
                }
            })
            .collect();
        Ok(Inverted { xv, flags })
    }

    /// Write `inverse.safetensors` and `inverse.json` (with `extra`: history, options, the
    /// digest of the action map it belongs to) into the model directory `dir`.
    pub fn save(&self, dir: &Path, extra: &serde_json::Value) -> Result<(), ModelError> {
        let json = serde_json::json!({
            "format": INVERSE_FORMAT,
            "version": env!("CARGO_PKG_VERSION"),
            "spec": self.spec,
            "training": extra,
        });
        crate::model::save_files(dir, &self.varmap, INVERSE_WEIGHTS, INVERSE_JSON, &json)
    }

    /// Whether the model directory `dir` holds an inverse map.
    pub fn exists(dir: &Path) -> bool {
        dir.join(INVERSE_JSON).exists()
    }

    /// Read the inverse of the model directory `dir`: the json's architecture, then exactly
    /// the variables of that architecture (sizes checked before anything is built), each
    /// finite. It must belong to the action map beside it (the digest of `model.safetensors`
    /// it was fitted to).
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, serde_json::Value), ModelError> {
        let missing = "inverse map; add one with `actionfinder fit-inverse`";
        let json = crate::model::read_network_json(dir, INVERSE_JSON, INVERSE_FORMAT, missing)?;
        let spec: InverseSpec = serde_json::from_value(json["spec"].clone())
            .map_err(|e| invalid(dir, format!("{INVERSE_JSON}: spec: {e}")))?;
        check_map(dir, &json["training"])?;
        let wanted = spec.net.parameter_count();
        let tensors = crate::model::read_weights(dir, INVERSE_WEIGHTS, INVERSE_JSON, wanted, device)?;
        let model =
            InverseModel::new(spec, device, 0).map_err(|e| invalid(dir, format!("{INVERSE_JSON}: {e}")))?;
        crate::model::set_vars(dir, INVERSE_WEIGHTS, &tensors, &model.vars())?;
        Ok((model, json["training"].clone()))
    }
}

/// `x`, or zero where it is below zero (NaN stays NaN).
fn non_negative(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

/// The SHA-256 of the action map's weights in `dir`.
pub fn map_digest(dir: &Path) -> Result<String, ModelError> {
    crate::digest::file(&dir.join(WEIGHTS_FILE)).map_err(|e| invalid(dir, format!("{e:#}")))
}

/// The inverse's training record must name the action map beside it.
fn check_map(dir: &Path, training: &serde_json::Value) -> Result<(), ModelError> {
    let fitted = training[MAP_DIGEST_KEY].as_str().unwrap_or("");
    if fitted != map_digest(dir)? {
        return Err(invalid(
            dir,
            format!("{INVERSE_JSON} was fitted to another action map than its {WEIGHTS_FILE}: refit it with `actionfinder fit-inverse`"),
        ));
    }
    Ok(())
}
