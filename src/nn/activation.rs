//! Activations and their first derivatives as tensor ops (differentiable by candle).

use std::fmt;
use std::str::FromStr;

use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};

/// The nonlinearity of every ResDense block.
///
/// SiLU is the default: smooth, so the second derivatives the acceleration and frequency
/// equations need (docs/design.md step 7) exist; ReLU reproduces the paper (piecewise linear G).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `z sigma(z)`, derivative `sigma(z) (1 + z (1 - sigma(z)))`.
    #[default]
    Silu,
    /// `tanh z`, derivative `1 - tanh^2 z`.
    Tanh,
    /// `max(0, z)`, derivative the step function (zero second derivative).
    Relu,
}

impl Activation {
    /// The activation of `z`.
    pub fn value(self, z: &Tensor) -> Result<Tensor> {
        let (value, _) = self.value_and_aux(z)?;
        Ok(value)
    }

    /// The activation of `z` and what its derivative reuses: `sigma(z)` for SiLU, `tanh z`
    /// for tanh, nothing for ReLU (one exponential per element for both passes).
    pub fn value_and_aux(self, z: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        match self {
            Activation::Silu => {
                let s = candle_nn::ops::sigmoid(z)?;
                Ok((z.mul(&s)?, Some(s)))
            }
            Activation::Tanh => {
                let t = z.tanh()?;
                Ok((t.clone(), Some(t)))
            }
            Activation::Relu => Ok((z.relu()?, None)),
        }
    }

    /// Its derivative at `z`, element by element.
    pub fn derivative(self, z: &Tensor) -> Result<Tensor> {
        let (_, aux) = self.value_and_aux(z)?;
        self.derivative_from(z, aux.as_ref())
    }

    /// The derivative at `z` from [`Self::value_and_aux`]'s `aux`.
    pub fn derivative_from(self, z: &Tensor, aux: Option<&Tensor>) -> Result<Tensor> {
        match (self, aux) {
            (Activation::Silu, Some(s)) => s.mul(&((z * s.affine(-1.0, 1.0)?)? + 1.0)?),
            (Activation::Tanh, Some(t)) => t.sqr()?.affine(-1.0, 1.0),
            (Activation::Relu, _) => z.gt(0.0)?.to_dtype(z.dtype()),
            (_, None) => self.derivative(z),
        }
    }
}

impl FromStr for Activation {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "silu" => Ok(Activation::Silu),
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            _ => Err(format!("unknown activation {s:?}: expected silu, tanh or relu")),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Activation::Silu => "silu",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn derivatives_match_central_differences() {
        let zs: Vec<f64> = (0..41).map(|i| -4.0 + 0.2 * i as f64 + 0.013).collect();
        let z = Tensor::new(zs.as_slice(), &Device::Cpu).unwrap();
        let h = 1e-6;
        for act in [Activation::Silu, Activation::Tanh, Activation::Relu] {
            let d = act.derivative(&z).unwrap().to_vec1::<f64>().unwrap();
            let up = act.value(&(&z + h).unwrap()).unwrap().to_vec1::<f64>().unwrap();
            let down = act.value(&(&z - h).unwrap()).unwrap().to_vec1::<f64>().unwrap();
            for i in 0..zs.len() {
                let fd = (up[i] - down[i]) / (2.0 * h);
                assert!((fd - d[i]).abs() < 1e-8, "{act} at {}: {} vs {fd}", zs[i], d[i]);
            }
        }
    }
}
