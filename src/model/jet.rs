//! Phase-space derivatives of the learned map: `d(J'', theta'')/d(x, v)` at every point
//! (paper §4, the ingredient of eqs. 15–16).
//!
//! The chain, per star, with six dual directions for `(x, v)`:
//! - the toy: `(J, theta)` and their exact Jacobian from the isochrone (num-dual);
//! - the fixed point `J' = J - dG/dtheta(theta, J')`, differentiated by the implicit function
//!   theorem: `(I + d2G/dtheta dJ') dJ' = dJ - d(dG/dtheta)|_{J'}`, never through iterations;
//! - `theta' = theta + dG/dJ'(theta, J')` (eq. 6);
//! - `theta'' = theta' + p(theta')` and `M J'' = J'` with `M_jk = dtheta''_k/dtheta'_j`
//!   (eqs. 7–8), where `M` itself carries phase-space derivatives (second derivatives of P by
//!   nested dual numbers).
//!
//! G and P run in [`NativeMlp`], the networks' point-by-point evaluator.

use num_dual::{DualNum, DualSVec, DualSVec64};
use rayon::prelude::*;

use actionfinder_integrators::actions::Flag;

use crate::apply::CHUNK_ROWS;
use crate::model::transform::angle_inputs;
use crate::model::{fixed_point, toy, Model};
use crate::nn::native::{NativeMlp, Scalar};

/// One star's toy values, its toy Jacobian and its converged `J'` (normalised actions).
pub struct StarInput<'a> {
    /// `J_r, J_z, J_phi` (kpc km/s) and `theta_r, theta_z, theta_phi` of the toy.
    pub toy: &'a [f64],
    /// `[6][6]` row-major `d(J, theta)/d(x, v)` of the toy.
    pub toy_jacobian: &'a [f64],
    /// Converged `J'`, in units of the action scale.
    pub j_prime: &'a [f64],
}

/// The map and its phase-space derivatives at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapJet {
    /// `J''` (kpc km/s).
    pub actions: [f64; 3],
    /// `theta''` (rad, not wrapped, no origin shift).
    pub angles: [f64; 3],
    /// `dJ''_i / d(x, v)_j` ((kpc km/s) per kpc and per km/s).
    pub d_actions: [[f64; 6]; 3],
    /// `dtheta''_i / d(x, v)_j`.
    pub d_angles: [[f64; 6]; 3],
}

type D6 = DualSVec64<6>;

/// The networks and settings the jets need.
pub struct JetMap {
    pub g: NativeMlp,
    pub p: NativeMlp,
    pub axisymmetric: bool,
    pub component_scales: [f64; 3],
    /// Actions are divided by this (kpc km/s).
    pub action_scale: f64,
}

impl JetMap {
    /// Jets of many stars in parallel.
    pub fn jets(&self, stars: &[StarInput<'_>]) -> Vec<MapJet> {
        stars.par_iter().map(|s| self.jet(s)).collect()
    }

    /// The jet of one star.
    pub fn jet(&self, star: &StarInput<'_>) -> MapJet {
        let a = angle_inputs(self.axisymmetric);
        let dual = |value: f64, row: usize, scale: f64| -> D6 {
            let eps = std::array::from_fn(|j| star.toy_jacobian[6 * row + j] / scale);
            with_eps(value / scale, &eps)
        };
        let s = self.action_scale;
        let theta: [D6; 3] = std::array::from_fn(|k| dual(star.toy[3 + k], 3 + k, 1.0));
        let j_toy: [D6; 3] = std::array::from_fn(|k| dual(star.toy[k], k, s));
        let j0: [f64; 3] = std::array::from_fn(|k| star.j_prime[k]);
        // dG/dtheta and dG/dJ' at (theta(x, v), J' held fixed).
        let (g_theta, g_j) = self.g_derivatives(&theta, &j0.map(D6::from), a);
        // Mixed second derivatives with respect to J' at the point.
        let (h_theta, h_j) = self.g_hessian_in_j(&theta.map(|t| t.re), &j0, a);
        let df: [D6; 3] = std::array::from_fn(|k| j_toy[k] - g_theta[k]);
        let a_mat: [[f64; 3]; 3] =
            std::array::from_fn(|i| std::array::from_fn(|k| f64::from(u8::from(i == k)) + h_theta[i][k]));
        let d_jp = solve_tangents(&a_mat, &df);
        let j_prime: [D6; 3] = std::array::from_fn(|k| with_eps(j0[k], &d_jp[k]));
        let theta1: [D6; 3] = std::array::from_fn(|m| {
            let mut t = theta[m] + g_j[m];
            for k in 0..3 {
                t += with_eps(0.0, &d_jp[k]) * h_j[m][k];
            }
            t
        });
        let (theta2, mm) = self.point_transform(&theta1, a);
        let j2 = solve3(&mm, &j_prime);
        MapJet {
            actions: j2.map(|x| x.re * s),
            angles: theta2.map(|x| x.re),
            d_actions: j2.map(|x| eps6(&x).map(|e| e * s)),
            d_angles: theta2.map(|x| eps6(&x)),
        }
    }

    /// G's inputs `(cos theta_i, sin theta_i, J'_k / s_k)` for the `a` seen angles.
    fn g_input<D: Scalar>(&self, theta: &[D; 3], j: &[D; 3], a: usize) -> Vec<D> {
        let mut x: Vec<D> = theta[..a].iter().map(|t| t.cos()).collect();
        x.extend(theta[..a].iter().map(|t| t.sin()));
        x.extend((0..3).map(|k| j[k] / self.component_scales[k]));
        x
    }

    /// `(dG/dtheta, dG/dJ')` for any scalar (zero for a masked theta_phi).
    fn g_derivatives<D: Scalar>(&self, theta: &[D; 3], j: &[D; 3], a: usize) -> ([D; 3], [D; 3]) {
        let (_, grad) = self.g.gradient(&self.g_input(theta, j, a));
        let d_theta = std::array::from_fn(|i| {
            if i < a {
                theta[i].cos() * grad[a + i] - theta[i].sin() * grad[i]
            } else {
                D::zero()
            }
        });
        let d_j = std::array::from_fn(|k| grad[2 * a + k] / self.component_scales[k]);
        (d_theta, d_j)
    }

    /// `d(dG/dtheta_i)/dJ'_k` and `d(dG/dJ'_m)/dJ'_k` at fixed angles.
    fn g_hessian_in_j(&self, theta: &[f64; 3], j: &[f64; 3], a: usize) -> ([[f64; 3]; 3], [[f64; 3]; 3]) {
        type D3 = DualSVec64<3>;
        let jd: [D3; 3] = std::array::from_fn(|k| D3::from_re(j[k]).derivative(k));
        let (g_theta, g_j) = self.g_derivatives(&theta.map(D3::from), &jd, a);
        let rows = |v: [D3; 3]| v.map(|x| eps_n::<f64, 3>(&x));
        (rows(g_theta), rows(g_j))
    }

    /// `theta'' = theta' + p(theta')` and `M_jk = dtheta''_k/dtheta'_j` (rows past the seen
    /// angles are unit rows), both carrying phase-space derivatives.
    fn point_transform(&self, theta1: &[D6; 3], a: usize) -> ([D6; 3], [[D6; 3]; 3]) {
        type S = DualSVec<D6, 3>;
        let th: Vec<S> = (0..a).map(|i| S::from_re(theta1[i]).derivative(i)).collect();
        let mut x: Vec<S> = th.iter().map(|t| t.cos()).collect();
        x.extend(th.iter().map(|t| t.sin()));
        let p = self.p.forward(&x);
        let theta2 = std::array::from_fn(|k| theta1[k] + p[k].re);
        let m = std::array::from_fn(|j| {
            std::array::from_fn(|k| {
                let unit = D6::from(f64::from(u8::from(j == k)));
                if j < a {
                    unit + eps_n::<D6, 3>(&p[k])[j]
                } else {
                    unit
                }
            })
        });
        (theta2, m)
    }
}

/// A dual number with real part `re` and the given six derivatives.
fn with_eps(re: f64, eps: &[f64; 6]) -> D6 {
    let mut d = D6::from_re(re);
    for (j, &e) in eps.iter().enumerate() {
        d += D6::from_re(0.0).derivative(j) * e;
    }
    d
}

/// The six derivatives of a phase-space dual number (zeros where none were carried).
fn eps6(x: &D6) -> [f64; 6] {
    eps_n::<f64, 6>(x)
}

/// The `N` derivatives of a vector dual number over `T`.
fn eps_n<T: Scalar, const N: usize>(x: &DualSVec<T, N>) -> [T; N] {
    match &x.eps.0 {
        Some(v) => std::array::from_fn(|k| v[k]),
        None => [T::zero(); N],
    }
}

/// `A^{-1} b` for each of the six derivative columns of `b`.
fn solve_tangents(a: &[[f64; 3]; 3], b: &[D6; 3]) -> [[f64; 6]; 3] {
    let cols: Vec<[f64; 3]> = (0..6).map(|j| solve3(a, &b.map(|x| eps6(&x)[j]))).collect();
    std::array::from_fn(|k| std::array::from_fn(|j| cols[j][k]))
}

/// `x` with `sum_k m_jk x_k = v_j` by Cramer's rule, for any scalar.
pub fn solve3<D: Scalar>(m: &[[D; 3]; 3], v: &[D; 3]) -> [D; 3] {
    let det3 = |c: &[[D; 3]; 3]| {
        c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1]) - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
            + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0])
    };
    let det = det3(m);
    std::array::from_fn(|k| {
        let mut c = *m;
        for j in 0..3 {
            c[j][k] = v[j];
        }
        det3(&c) / det
    })
}

impl JetMap {
    /// The jet evaluator of a model's current networks.
    pub fn of(model: &Model) -> candle_core::Result<Self> {
        let nets = model.nets()?;
        Ok(JetMap {
            g: nets.g.to_native()?,
            p: nets.p.to_native()?,
            axisymmetric: model.config.axisymmetric,
            component_scales: model.config.component_scales,
            action_scale: model.config.action_scale(),
        })
    }
}

/// Jets of every row of `xv` (rows of 6): `None` where the toy cannot map the point or the
/// fixed point for `J'` does not converge. Chunks of [`CHUNK_ROWS`] bound the memory.
pub fn model_jets(model: &Model, xv: &[f64]) -> candle_core::Result<Vec<Option<MapJet>>> {
    let nets = model.nets()?.detach();
    let mut j_prime = vec![f64::NAN; xv.len() / 2];
    for (c, chunk) in xv.chunks(6 * CHUNK_ROWS).enumerate() {
        let pts = model.toy.evaluate(chunk)?;
        let ok: Vec<usize> = (0..pts.flags.len())
            .filter(|&i| pts.flags[i] == Flag::Ok)
            .collect();
        let rows: Vec<f64> = ok
            .iter()
            .flat_map(|&i| pts.values[6 * i..6 * i + 6].to_vec())
            .collect();
        let (_, solved) = fixed_point::solve_stars(model, &nets, &rows)?;
        for (k, &i) in ok.iter().enumerate().filter(|(k, _)| solved.converged[*k]) {
            let row = c * CHUNK_ROWS + i;
            j_prime[3 * row..3 * row + 3].copy_from_slice(&solved.j_prime[3 * k..3 * k + 3]);
        }
    }
    jets_at(model, xv, &j_prime)
}

/// Jets of every row of `xv` at its already solved `J'` (`[n,3]`, in units of the action
/// scale; NaN rows, and points the toy cannot map, give `None`).
pub fn jets_at(model: &Model, xv: &[f64], j_prime: &[f64]) -> candle_core::Result<Vec<Option<MapJet>>> {
    let jm = JetMap::of(model)?;
    let (m, b) = (model.toy.m()?, model.toy.b()?);
    let mut out = Vec::with_capacity(xv.len() / 6);
    for (c, chunk) in xv.chunks(6 * CHUNK_ROWS).enumerate() {
        let (values, jac, flags) = toy::phase_space_jacobian(m, b, chunk);
        let jp = &j_prime[3 * c * CHUNK_ROWS..3 * c * CHUNK_ROWS + chunk.len() / 2];
        let ok: Vec<usize> = (0..flags.len())
            .filter(|&i| flags[i] == Flag::Ok && jp[3 * i..3 * i + 3].iter().all(|x| x.is_finite()))
            .collect();
        let stars: Vec<StarInput<'_>> = ok
            .iter()
            .map(|&i| StarInput {
                toy: &values[6 * i..6 * i + 6],
                toy_jacobian: &jac[36 * i..36 * i + 36],
                j_prime: &jp[3 * i..3 * i + 3],
            })
            .collect();
        let mut mapped = vec![None; flags.len()];
        for (&i, jet) in ok.iter().zip(jm.jets(&stars)) {
            mapped[i] = Some(jet);
        }
        out.extend(mapped);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixed_point::FixedPoint;
    use crate::model::ModelConfig;
    use crate::nn::{widths, Activation, MlpSpec};
    use candle_core::{Device, Tensor};

    fn model(axisymmetric: bool) -> Model {
        let a = angle_inputs(axisymmetric);
        let spec = |inputs, outputs| MlpSpec {
            inputs,
            outputs,
            widths: widths(16, 32, 3),
            activation: Activation::Silu,
        };
        let config = ModelConfig {
            g: spec(2 * a + 3, 1),
            p: spec(2 * a, 3),
            axisymmetric,
            length_scale: 10.0,
            velocity_scale: 150.0,
            toy_m: 3.0e11,
            toy_b: 4.0,
            toy_trained: false,
            component_scales: [0.3, 0.2, 1.0],
        };
        Model::new(config, &Device::Cpu, 7).unwrap()
    }

    /// `(J'', theta'')` of one point by the candle path, `J'` converged to round-off.
    fn map(model: &Model, xv: &[f64]) -> [f64; 6] {
        let nets = model.nets().unwrap().detach();
        let scale = model.config.action_scale();
        let pts = toy::evaluate(model.toy.m().unwrap(), model.toy.b().unwrap(), xv, false);
        let t = model.toy.tensors(&pts, scale, &Device::Cpu).unwrap();
        let init: Vec<f64> = pts.values[..3].iter().map(|x| x / scale).collect();
        let rule = FixedPoint {
            tol: 1e-15,
            max_iter: 2000,
        };
        let solved = fixed_point::solve(&nets, &t.angles, &t.actions, 1, &init, rule).unwrap();
        let jp = Tensor::from_slice(&solved.j_prime, (1, 3), &Device::Cpu).unwrap();
        let m = nets
            .map::<rand_pcg::Pcg64>(&t.angles, &t.actions, &jp, None)
            .unwrap();
        let j2 = (m.j2 * scale).unwrap().to_vec2::<f64>().unwrap();
        let th = m.theta2.to_vec2::<f64>().unwrap();
        std::array::from_fn(|k| if k < 3 { j2[0][k] } else { th[0][k - 3] })
    }

    #[test]
    fn jets_match_central_differences_of_the_whole_map() {
        let points = [
            [8.0, 1.0, 2.5, 30.0, 160.0, 40.0],
            [-3.0, 6.0, -4.0, -120.0, -20.0, 90.0],
            [12.0, -2.0, 0.5, 10.0, 90.0, -60.0],
        ];
        for axisymmetric in [false, true] {
            let model = model(axisymmetric);
            let jets = model_jets(&model, points.as_flattened()).unwrap();
            for (p, jet) in points.iter().zip(&jets) {
                let jet = jet.expect("point maps");
                let value = map(&model, p);
                for k in 0..3 {
                    assert!((jet.actions[k] - value[k]).abs() < 1e-9 * value[k].abs().max(1.0));
                    assert!((jet.angles[k] - value[3 + k]).abs() < 1e-9);
                }
                for j in 0..6 {
                    let h = if j < 3 { 1e-3 } else { 1e-2 };
                    let (mut up, mut down) = (*p, *p);
                    up[j] += h;
                    down[j] -= h;
                    let (fu, fd) = (map(&model, &up), map(&model, &down));
                    for i in 0..6 {
                        let fd_ij = (fu[i] - fd[i]) / (2.0 * h);
                        let (d, row) = if i < 3 {
                            (jet.d_actions[i][j], jet.d_actions[i])
                        } else {
                            (jet.d_angles[i - 3][j], jet.d_angles[i - 3])
                        };
                        let size = row.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                        assert!(
                            (d - fd_ij).abs() <= 1e-6 * size,
                            "axisymmetric {axisymmetric}: d out{i}/d in{j}: jet {d}, differences {fd_ij}"
                        );
                    }
                }
            }
        }
    }
}
