//! Test helpers: finite-difference checks every potential's unit tests share.
#![allow(clippy::needless_range_loop)]

use super::{Potential, SphericalProfile};
use crate::phase::Vec3;

/// Largest absolute entry of a 3x3 matrix.
fn max_abs(h: &[[f64; 3]; 3]) -> f64 {
    h.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()))
}

/// Finite-difference step for position `x`: 3e-5 max(|x|, `scale`), `scale` being a length
/// of the model (large enough that a flat core does not drown the difference in rounding).
fn step(x: &Vec3, scale: f64) -> f64 {
    3e-5 * crate::phase::norm(x).max(scale)
}

/// Fourth-order central difference of `f` along axis `i` at `x` with step `h`.
fn diff<T: Fn(&Vec3) -> f64>(f: T, x: &Vec3, i: usize, h: f64) -> f64 {
    let at = |k: f64| {
        let mut y = *x;
        y[i] += k * h;
        f(&y)
    };
    (8.0 * (at(1.0) - at(-1.0)) - (at(2.0) - at(-2.0))) / (12.0 * h)
}

/// Acceleration equals minus the central-difference gradient of the potential.
pub fn acceleration_matches_potential(p: &dyn Potential, x: &Vec3, scale: f64, tol: f64) {
    let h = step(x, scale);
    let a = p.acceleration(x);
    let an = crate::phase::norm(&a);
    for i in 0..3 {
        let fd = -diff(|y| p.potential(y), x, i, h);
        assert!(
            (fd - a[i]).abs() <= tol * an,
            "{}: a[{i}] = {} but -dPhi/dx = {fd} at {x:?}",
            p.spec(),
            a[i]
        );
    }
}

/// The Hessian is symmetric and equals minus the central-difference Jacobian of a.
pub fn hessian_matches_acceleration(p: &dyn Potential, x: &Vec3, scale: f64, tol: f64) {
    let h = step(x, scale);
    let hess = p.hessian(x);
    let norm = max_abs(&hess);
    for i in 0..3 {
        for j in 0..3 {
            assert!(
                (hess[i][j] - hess[j][i]).abs() <= 1e-13 * norm,
                "{}: Hessian not symmetric at {x:?}: {hess:?}",
                p.spec()
            );
        }
    }
    for j in 0..3 {
        for i in 0..3 {
            let fd = -diff(|y| p.acceleration(y)[i], x, j, h);
            assert!(
                (fd - hess[i][j]).abs() <= tol * norm,
                "{}: H[{i}][{j}] = {} but -da_i/dx_j = {fd} at {x:?}",
                p.spec(),
                hess[i][j]
            );
        }
    }
}

/// 4 pi G rho(r) equals the trace of the Hessian (Poisson's equation) and the profile's
/// derivatives agree with the Cartesian ones.
pub fn poisson_holds(p: &dyn Potential, x: &Vec3, tol: f64) {
    let prof: &dyn SphericalProfile = p.spherical().expect("spherical potential");
    let r = crate::phase::norm(x);
    let h = p.hessian(x);
    let trace = h[0][0] + h[1][1] + h[2][2];
    let lhs = 4.0 * std::f64::consts::PI * crate::units::G * prof.density(r);
    assert!(
        (lhs - trace).abs() <= tol * (lhs.abs() + max_abs(&h)),
        "{}: 4 pi G rho = {lhs} but trace H = {trace} at r = {r}",
        p.spec()
    );
    assert!((prof.phi(r) - p.potential(x)).abs() <= 1e-14 * prof.phi(r).abs());
}

/// The spec round trip gives back the same parameters.
pub fn spec_round_trips(p: &dyn Potential) {
    let s = p.spec();
    let q = super::spec::parse(&s).unwrap_or_else(|e| panic!("{s} does not parse: {e}"));
    assert_eq!(q.spec(), s);
    for x in [[0.3, -1.2, 2.5], [7.0, 0.5, -0.1], [20.0, 3.0, 40.0]] {
        assert_eq!(q.potential(&x).to_bits(), p.potential(&x).to_bits(), "{s}");
        assert_eq!(q.acceleration(&x), p.acceleration(&x), "{s}");
    }
}

/// A spread of test positions, from deep inside the scale radius to far outside, with
/// points on the axes and in the plane.
pub fn positions(scale: f64) -> Vec<Vec3> {
    let base: [Vec3; 10] = [
        [0.01, 0.02, -0.015],
        [0.3, -0.1, 0.2],
        [1.0, 0.0, 0.0],
        [0.0, 0.0, 1.3],
        [0.7, 0.9, 0.0],
        [-1.5, 2.0, 0.8],
        [3.0, -4.0, 5.0],
        [10.0, 2.0, -7.0],
        [0.0, 25.0, 1.0],
        [60.0, -30.0, 45.0],
    ];
    base.iter()
        .map(|x| [x[0] * scale, x[1] * scale, x[2] * scale])
        .collect()
}
