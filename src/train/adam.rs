//! Adam (Kingma & Ba 2015) over named candle variables, with its moments exposed so that a
//! checkpoint can restore them exactly (candle-nn's `AdamW` keeps them private).
//!
//! `m <- b1 m + (1 - b1) g`, `v <- b2 v + (1 - b2) g^2`,
//! `p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`.

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// The optimiser state.
pub struct Adam {
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: u64,
}

impl Adam {
    /// Fresh state for `vars`.
    pub fn new(vars: Vec<(String, Var)>) -> Result<Self> {
        let zeros = |vars: &[(String, Var)]| -> Result<Vec<Tensor>> {
            vars.iter().map(|(_, v)| v.zeros_like()).collect()
        };
        Ok(Adam {
            m: zeros(&vars)?,
            v: zeros(&vars)?,
            vars,
            step: 0,
        })
    }

    /// One update with learning rate `lr`; variables without a gradient are left alone.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.step += 1;
        let c1 = 1.0 - BETA1.powi(self.step as i32);
        let c2 = 1.0 - BETA2.powi(self.step as i32);
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            // Gradients may still hold the step's graph: detach, or the moments would chain
            // every step's graph together (memory grows without bound).
            let g = g.detach();
            self.m[i] = ((&self.m[i] * BETA1)? + (&g * (1.0 - BETA1))?)?.detach();
            self.v[i] = ((&self.v[i] * BETA2)? + (g.sqr()? * (1.0 - BETA2))?)?.detach();
            let denom = ((&self.v[i] / c2)?.sqrt()? + EPS)?;
            let delta = ((&self.m[i] / c1)?.div(&denom)? * lr)?;
            var.set(&var.as_tensor().sub(&delta)?)?;
        }
        Ok(())
    }

    /// The moments by name (`m.<var>`, `v.<var>`) and the step count, for a checkpoint.
    pub fn state(&self) -> (Vec<(String, Tensor)>, u64) {
        let mut out = Vec::with_capacity(2 * self.vars.len());
        for (i, (name, _)) in self.vars.iter().enumerate() {
            out.push((format!("m.{name}"), self.m[i].clone()));
            out.push((format!("v.{name}"), self.v[i].clone()));
        }
        (out, self.step)
    }

    /// Restore a [`Self::state`]; every moment must be present with the right shape.
    pub fn restore(&mut self, state: &std::collections::HashMap<String, Tensor>, step: u64) -> Result<()> {
        for (i, (name, var)) in self.vars.iter().enumerate() {
            for (key, slot) in [
                (format!("m.{name}"), &mut self.m[i]),
                (format!("v.{name}"), &mut self.v[i]),
            ] {
                let t = state
                    .get(&key)
                    .ok_or_else(|| candle_core::Error::Msg(format!("optimiser state lacks {key}")))?;
                if t.dims() != var.dims() {
                    candle_core::bail!(
                        "optimiser state {key} has shape {:?}, want {:?}",
                        t.dims(),
                        var.dims()
                    );
                }
                *slot = t.clone();
            }
        }
        self.step = step;
        Ok(())
    }
}
