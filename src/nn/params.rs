//! Creating named variables in a `VarMap` from a seeded generator.
//!
//! candle cannot seed its CPU generator (`set_seed` fails there), so reproducible training
//! draws initial weights itself; the names follow candle-nn's `VarBuilder` paths
//! (`prefix.name`), so `VarMap::save`/`load` and safetensors see the usual layout.

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::VarMap;
use rand::Rng;

/// A place to create variables: the map, a name prefix, the device and the generator.
pub struct Params<'a, R: Rng> {
    map: &'a VarMap,
    prefix: String,
    device: &'a Device,
    rng: &'a mut R,
}

impl<'a, R: Rng> Params<'a, R> {
    /// Variables under `prefix` (empty for none).
    pub fn new(map: &'a VarMap, prefix: &str, device: &'a Device, rng: &'a mut R) -> Self {
        Params {
            map,
            prefix: prefix.to_string(),
            device,
            rng,
        }
    }

    /// The same map and generator under `prefix.name`.
    pub fn pp(&mut self, name: &str) -> Params<'_, R> {
        Params {
            map: self.map,
            prefix: self.path(name),
            device: self.device,
            rng: self.rng,
        }
    }

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    fn insert(&mut self, name: &str, value: Tensor) -> Result<Tensor> {
        let var = Var::from_tensor(&value)?;
        let tensor = var.as_tensor().clone();
        self.map
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))?
            .insert(self.path(name), var);
        Ok(tensor)
    }

    /// A variable drawn uniform in `[-bound, bound]`.
    pub fn uniform(&mut self, name: &str, shape: impl Into<Shape>, bound: f64) -> Result<Tensor> {
        let shape = shape.into();
        let values: Vec<f64> = (0..shape.elem_count())
            .map(|_| bound * (2.0 * self.rng.random::<f64>() - 1.0))
            .collect();
        let t = Tensor::from_vec(values, shape, self.device)?;
        self.insert(name, t)
    }

    /// A variable filled with `value`.
    pub fn constant(&mut self, name: &str, shape: impl Into<Shape>, value: f64) -> Result<Tensor> {
        let t = (Tensor::ones(shape, DType::F64, self.device)? * value)?;
        self.insert(name, t)
    }
}
