//! The implicit equation for `J'` (paper eq. 5 and listing 1): per group of points that share
//! their actions (a stream in training, a single star when applying),
//! `J' = mean_group(J_toy - dG/dtheta(theta, J'))`, solved without a graph.
//!
//! Plain iteration fails for a few stars where G bends strongly (`docs/notes/learning-prototype.md`);
//! each group therefore carries its own step `beta`, halved whenever its residual grows:
//! `J' <- J' + beta (F(J') - J')`.

use candle_core::{Result, Tensor};

use actionfinder_integrators::actions::Flag;

use crate::dataset::StreamLayout;

use super::groups;
use super::toy::{ToyPoints, ToyTensors};
use super::transform::Nets;
use super::Model;

/// Stopping rule of the iteration.
#[derive(Clone, Copy, Debug)]
pub struct FixedPoint {
    /// Converged when `max_k |F_k - J'_k| <= tol (1 + max_k |J'_k|)` (normalised actions).
    pub tol: f64,
    /// Iteration cap.
    pub max_iter: usize,
}

/// The solution per group: `[G,3]` values, whether each converged, and the last residuals.
pub struct Solved {
    pub j_prime: Vec<f64>,
    pub converged: Vec<bool>,
    pub residual: Vec<f64>,
}

/// The per-star fixed point of `apply`: converged to 1e-10 of the action scale, at most 200
/// damped iterations.
pub const STAR_FIXED_POINT: FixedPoint = FixedPoint {
    tol: 1e-10,
    max_iter: 200,
};

/// `J'` of single stars from their toy `values` (rows of 6: actions in kpc km/s, angles),
/// starting at the toy actions; also the toy tensors the map is evaluated on.
pub fn solve_stars(model: &Model, nets: &Nets, values: &[f64]) -> Result<(ToyTensors, Solved)> {
    let scale = model.config.action_scale();
    let rows = values.len() / 6;
    let toy_values = ToyPoints {
        values: values.to_vec(),
        d_m: None,
        d_b: None,
        flags: vec![Flag::Ok; rows],
    };
    let t = model.toy.tensors(&toy_values, scale, &model.device)?;
    let init: Vec<f64> = values
        .chunks_exact(6)
        .flat_map(|p| [p[0] / scale, p[1] / scale, p[2] / scale])
        .collect();
    let solved = solve(nets, &t.angles, &t.actions, 1, &init, STAR_FIXED_POINT)?;
    Ok((t, solved))
}

/// Solve for `J'` per group of `group` consecutive rows of `theta`, `j_toy` (`[B,3]`,
/// normalised), starting from `init` (`[G,3]`). `nets` should be detached.
pub fn solve(
    nets: &Nets,
    theta: &Tensor,
    j_toy: &Tensor,
    group: usize,
    init: &[f64],
    rule: FixedPoint,
) -> Result<Solved> {
    let layout = StreamLayout::uniform(init.len() / 3, group);
    solve_streams(nets, theta, j_toy, &layout, init, rule)
}

/// [`solve`] with groups of rows as `layout` says (streams of any lengths).
pub fn solve_streams(
    nets: &Nets,
    theta: &Tensor,
    j_toy: &Tensor,
    layout: &StreamLayout,
    init: &[f64],
    rule: FixedPoint,
) -> Result<Solved> {
    let groups = init.len() / 3;
    let mut j = init.to_vec();
    let mut beta = vec![1.0; groups];
    let mut residual = vec![f64::INFINITY; groups];
    let mut converged = vec![false; groups];
    // Only the groups still iterating are evaluated: a few slow stars must not keep the
    // whole chunk in the loop.
    let mut active: Vec<usize> = (0..groups).collect();
    for _ in 0..rule.max_iter {
        if active.is_empty() {
            break;
        }
        let (th, jt) = rows_of(theta, j_toy, &active, layout)?;
        let current: Vec<f64> = active
            .iter()
            .flat_map(|&g| j[3 * g..3 * g + 3].to_vec())
            .collect();
        let target = update(nets, &th, &jt, &layout.select(&active), &current)?;
        for (a, &g) in active.iter().enumerate() {
            let (jg, tg) = (&mut j[3 * g..3 * g + 3], &target[3 * a..3 * a + 3]);
            let r = (0..3).map(|k| (tg[k] - jg[k]).abs()).fold(0.0, f64::max);
            let scale = 1.0 + jg.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            if r <= rule.tol * scale {
                converged[g] = true;
            } else if r.is_nan() || r >= residual[g] {
                beta[g] *= 0.5;
            }
            residual[g] = r;
            if !converged[g] {
                for k in 0..3 {
                    jg[k] += beta[g] * (tg[k] - jg[k]);
                }
            }
        }
        active.retain(|&g| !converged[g]);
    }
    Ok(Solved {
        j_prime: j,
        converged,
        residual,
    })
}

/// The rows of `theta` and `j_toy` that belong to the `active` groups (all of them when
/// every group is active).
fn rows_of(
    theta: &Tensor,
    j_toy: &Tensor,
    active: &[usize],
    layout: &StreamLayout,
) -> Result<(Tensor, Tensor)> {
    if active.len() == layout.n_streams() {
        return Ok((theta.clone(), j_toy.clone()));
    }
    let rows: Vec<u32> = layout.rows_of(active).into_iter().map(|r| r as u32).collect();
    let count = rows.len();
    let index = Tensor::from_vec(rows, count, theta.device())?;
    Ok((
        theta.contiguous()?.index_select(&index, 0)?,
        j_toy.contiguous()?.index_select(&index, 0)?,
    ))
}

/// `F(J') = mean_group(J_toy - dG/dtheta(theta, J'))` as `[G,3]` on the host.
fn update(nets: &Nets, theta: &Tensor, j_toy: &Tensor, layout: &StreamLayout, j: &[f64]) -> Result<Vec<f64>> {
    let groups = j.len() / 3;
    let rows = groups::expand(&Tensor::from_slice(j, (groups, 3), theta.device())?, layout)?;
    let (dg_dtheta, _) = nets.g_derivatives::<rand_pcg::Pcg64>(theta, &rows, None)?;
    let f = (j_toy - dg_dtheta)?;
    groups::mean(&f, layout)?.flatten_all()?.to_vec1()
}

/// `[G,3]` per-group values repeated for each of the `group` rows: `[G*group, 3]`.
pub fn expand(per_group: &Tensor, group: usize) -> Result<Tensor> {
    let (groups, _) = per_group.dims2()?;
    groups::expand(per_group, &StreamLayout::uniform(groups, group))
}
