//! The toy's inverse linearised at each pair's target: `D = d(x / L, v / V) / d(J / A, theta)`
//! (A = L V), by differences of the isochrone's exact inverse, so that the inverse's loss can
//! weigh toy-action and toy-angle errors by the `(x, v)` errors they make (`D delta`).
//!
//! Each column is a central difference of step [`STEP`] (units of `A` or rad), one-sided where
//! a central step would take an action across zero (`J_r`, `J_z` stay non-negative; a `J_phi`
//! changing sign turns the orbit over).

use actionfinder_integrators::actions::IsochroneFinder;
use rayon::prelude::*;

/// Difference step in normalised actions and in radians.
pub const STEP: f64 = 1e-6;

/// `[n,6,6]` row-major `D` of each row of toy actions `j` (units of `action_scale`) and angles
/// `theta` (rad); zero where the toy cannot invert a displaced point (the loss then has no
/// `(x, v)` term for the row).
pub fn inverse_jacobians(finder: &IsochroneFinder, j: &[f64], theta: &[f64], scales: [f64; 2]) -> Vec<f64> {
    let mut out = vec![0.0; 12 * j.len()];
    out.par_chunks_exact_mut(36)
        .zip(j.par_chunks_exact(3).zip(theta.par_chunks_exact(3)))
        .for_each(|(d, (j, th))| {
            let u: [f64; 6] = [j[0], j[1], j[2], th[0], th[1], th[2]];
            if let Some(columns) = columns(finder, &u, scales) {
                for (c, column) in columns.iter().enumerate() {
                    for (r, value) in column.iter().enumerate() {
                        d[6 * r + c] = *value;
                    }
                }
            }
        });
    out
}

/// The six columns `d(x / L, v / V) / du_c` at `u = (J / A, theta)`, or `None` where a
/// displaced point cannot be inverted or a value is not finite.
fn columns(finder: &IsochroneFinder, u: &[f64; 6], [l, v]: [f64; 2]) -> Option<[[f64; 6]; 6]> {
    let a = l * v;
    let at = |u: &[f64; 6]| -> Option<[f64; 6]> {
        let w = finder
            .phase_space([u[0] * a, u[1] * a, u[2] * a], [u[3], u[4], u[5]])
            .ok()?;
        Some([
            w.x[0] / l,
            w.x[1] / l,
            w.x[2] / l,
            w.v[0] / v,
            w.v[1] / v,
            w.v[2] / v,
        ])
    };
    let mut out = [[0.0; 6]; 6];
    for (c, column) in out.iter_mut().enumerate() {
        let (back, ahead) = steps(c, u[c]);
        let (mut lo, mut hi) = (*u, *u);
        lo[c] -= back;
        hi[c] += ahead;
        let (p, q) = (at(&lo)?, at(&hi)?);
        for r in 0..6 {
            column[r] = (q[r] - p[r]) / (back + ahead);
        }
    }
    out.iter().flatten().all(|x| x.is_finite()).then_some(out)
}

/// Steps back and ahead of component `c` at `value`: [`STEP`] each, but none across zero for
/// an action.
fn steps(c: usize, value: f64) -> (f64, f64) {
    match c < 3 {
        true if (0.0..STEP).contains(&value) => (0.0, STEP),
        true if (-STEP..0.0).contains(&value) => (STEP, 0.0),
        _ => (STEP, STEP),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The linearised inverse is the inverse of the forward map's Jacobian.
    #[test]
    fn the_differences_invert_the_forward_jacobian() {
        let finder = IsochroneFinder::new(3.334e11, 5.0).unwrap();
        let (l, v) = (10.0, 200.0);
        let j = [300.0 / (l * v), 150.0 / (l * v), -900.0 / (l * v)];
        let theta = [1.0, 2.5, 4.0];
        let d = inverse_jacobians(&finder, &j, &theta, [l, v]);
        let w = finder.phase_space(j.map(|x| x * l * v), theta).unwrap();
        let (_, jac) = finder.with_jacobian(&w).unwrap();
        // forward: d(J, theta)/d(x, v); in our units d(J/A, theta)/d(x/L, v/V).
        for r in 0..6 {
            for c in 0..6 {
                let product: f64 = (0..6)
                    .map(|k| {
                        let out_scale = if r < 3 { 1.0 / (l * v) } else { 1.0 };
                        let in_scale = if k < 3 { l } else { v };
                        jac.0[r][k] * out_scale * in_scale * d[6 * k + c]
                    })
                    .sum();
                let want = if r == c { 1.0 } else { 0.0 };
                assert!((product - want).abs() < 1e-5, "({r},{c}): {product}");
            }
        }
    }
}
