//! The learned field (paper §4, eq. 14): a network beside the toy isochrone's own field.
//!
//! - `potential` form: `Phi(x) = Phi_toy(x) + V^2 f(u)`, `a = -grad Phi` by the network's
//!   input reverse pass, so the field is curl-free by construction and `Phi` itself (up to a
//!   constant) is known. `u = x / L`, or `u = (R^2, z^2) / L^2` for an axisymmetric system
//!   (smooth on the axis and in the plane, mirror-symmetric in z).
//! - `vector` form (the paper's): `a = a_toy + A f(x / L, a_toy / A)` with `A = V^2 / L`;
//!   no potential.
//!
//! The toy: `Phi_toy = -G M / (b + s)`, `a_toy = -G M x / (s (b + s)^2)`, `s = sqrt(b^2 + r^2)`.
//!
//! Beyond the data the network must not extrapolate (a SiLU network grows linearly, while a
//! true field falls off): with the outer radius `r_o` of the training points, the network
//! sees the compressed position `x_c = t x`, `t = (1 + r^2/r_o^2)^(-1/2)` (inside `r_o` nearly
//! `x`, never beyond `r_o` in size), and its potential is multiplied by `t`, so that far out
//! the correction falls off like a monopole's: `Phi = Phi_toy + V^2 t f(u(x_c))`,
//! `grad(t f) = t grad f + f grad t`, `grad t = -t^3 x / r_o^2`,
//! `grad_x f = t grad_c f + grad t (x . grad_c f)`. The vector form's correction is
//! multiplied by `t^2`.

use actionfinder_integrators::units::G;
use candle_core::{DType, Result, Tensor, D};
use serde::{Deserialize, Serialize};

use crate::nn::{MlpSpec, Weights};

/// Which field network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FieldForm {
    /// A potential: curl-free acceleration, energies available.
    Potential,
    /// An acceleration vector (the paper's form).
    Vector,
}

/// Everything needed to rebuild the field's graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub form: FieldForm,
    pub net: MlpSpec,
    /// Potential form: `Phi(R, z)` (inputs `R^2`, `z^2`).
    pub axisymmetric: bool,
    /// Length scale `L` (kpc) and velocity scale `V` (km/s).
    pub length_scale: f64,
    pub velocity_scale: f64,
    /// The toy isochrone the field is added to (Msun, kpc).
    pub toy_m: f64,
    pub toy_b: f64,
    /// Radius (kpc) beyond which the network's correction falls off (`None`: no taper).
    pub outer_radius: Option<f64>,
}

impl FieldSpec {
    /// Network inputs for the form.
    pub fn inputs(form: FieldForm, axisymmetric: bool) -> usize {
        match (form, axisymmetric) {
            (FieldForm::Potential, true) => 2,
            (FieldForm::Potential, false) => 3,
            (FieldForm::Vector, _) => 6,
        }
    }

    /// Network outputs for the form.
    pub fn outputs(form: FieldForm) -> usize {
        match form {
            FieldForm::Potential => 1,
            FieldForm::Vector => 3,
        }
    }

    /// The acceleration scale `V^2 / L` ((km/s)^2/kpc).
    pub fn acceleration_scale(&self) -> f64 {
        self.velocity_scale.powi(2) / self.length_scale
    }

    /// The toy's potential `[B]` and acceleration `[B,3]` at `x` `[B,3]`.
    pub fn toy_field(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let gm = G * self.toy_m;
        let b = self.toy_b;
        let s = (x.sqr()?.sum_keepdim(1)? + b * b)?.sqrt()?;
        let bs = (&s + b)?;
        let phi = (bs.recip()? * (-gm))?.squeeze(1)?;
        let denom = (s * bs.sqr()?)?;
        let a = x.broadcast_div(&denom)?.affine(-gm, 0.0)?;
        Ok((phi, a))
    }

    /// Acceleration `[B,3]` and, for the potential form, the potential `[B]` at `x` `[B,3]`
    /// with the network weights `w`.
    pub fn evaluate(&self, w: &Weights, x: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let (phi_toy, a_toy) = self.toy_field(x)?;
        let (l, v2) = (self.length_scale, self.velocity_scale.powi(2));
        let (t, grad_t) = self.taper(x)?;
        let xc = x.broadcast_mul(&t)?;
        match self.form {
            FieldForm::Vector => {
                let big_a = self.acceleration_scale();
                let input = Tensor::cat(&[&(xc / l)?, &(&a_toy / big_a)?], 1)?;
                let out = w.forward(&input)?.output.broadcast_mul(&t.sqr()?)?;
                Ok(((a_toy + (out * big_a)?)?, None))
            }
            FieldForm::Potential => {
                let (input, du_dx) = self.potential_inputs(&xc)?;
                let trace = w.forward(&input)?;
                let seed = Tensor::ones((x.dim(0)?, 1), DType::F64, x.device())?;
                let g = w.input_cotangent(&trace, &seed)?;
                let grad_c = if self.axisymmetric {
                    let g_r = g.narrow(1, 0, 1)?;
                    let g_z = g.narrow(1, 1, 1)?;
                    Tensor::cat(&[&g_r, &g_r, &g_z], 1)?.mul(&du_dx)?
                } else {
                    (g * du_dx)?
                };
                let f = &trace.output;
                let x_dot = (x * &grad_c)?.sum_keepdim(1)?;
                let grad_f = (grad_c.broadcast_mul(&t)? + grad_t.broadcast_mul(&x_dot)?)?;
                let grad = (grad_f.broadcast_mul(&t)? + grad_t.broadcast_mul(f)?)?;
                let a = (a_toy - (grad * v2)?)?;
                let phi = (phi_toy + (f.mul(&t)?.squeeze(D::Minus1)? * v2)?)?;
                Ok((a, Some(phi)))
            }
        }
    }

    /// `t = (1 + r^2/r_o^2)^(-1/2)` `[B,1]` and its gradient `-t^3 x / r_o^2` `[B,3]` (1 and
    /// 0 without an outer radius).
    fn taper(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let Some(ro) = self.outer_radius else {
            return Ok((
                Tensor::ones((x.dim(0)?, 1), DType::F64, x.device())?,
                x.zeros_like()?,
            ));
        };
        let t = ((x.sqr()?.sum_keepdim(1)? / (ro * ro))? + 1.0)?.sqrt()?.recip()?;
        let grad = x.broadcast_mul(&t.powf(3.0)?)?.affine(-1.0 / (ro * ro), 0.0)?;
        Ok((t, grad))
    }

    /// The potential network's inputs `u` and `du/dx` per Cartesian component (`[B,3]`:
    /// `1/L` each, or `2x/L^2, 2y/L^2, 2z/L^2` for `u = (R^2, z^2)/L^2`).
    fn potential_inputs(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let l = self.length_scale;
        if !self.axisymmetric {
            return Ok(((x / l)?, (x.ones_like()? / l)?));
        }
        let xy = x.narrow(1, 0, 2)?;
        let z = x.narrow(1, 2, 1)?;
        let u = Tensor::cat(&[&xy.sqr()?.sum_keepdim(1)?, &z.sqr()?], 1)?;
        Ok(((u / (l * l))?, (x * (2.0 / (l * l)))?))
    }
}
