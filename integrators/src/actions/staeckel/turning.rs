//! Turning points of a separated motion: the roots of `S(q) = p_q^2 / (2 Delta^2)` on either
//! side of the point, bracketed by stepping outwards and refined by Brent's method (galpy
//! `calcUminUmax`, `calcVmin` do the same with GSL's Brent solver).

use super::motion::Separable;
use crate::actions::quadrature::brent;
use crate::actions::ActionError;

/// Which turning point to look for, seen from the point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Side {
    /// Below the point, with q >= 0 (u_min, v_min).
    Below,
    /// Above the point (u_max).
    Above,
}

/// The largest u searched for an outer turning point (R = Delta sinh u).
const U_CAP: f64 = 60.0;

/// The turning point next to q0 on `side`, where `S(q0) = s0 >= 0`: a point where S is
/// clearly positive, then steps outwards (doubling, or halving towards 0) until S < 0, then
/// Brent's method on the bracket. `axis` says that S stays finite at q = 0 (L_z = 0); if
/// S(0) >= 0 there, the orbit passes through the axis and 0 is returned.
pub(super) fn turning_point<M: Separable>(
    m: &M,
    q0: f64,
    s0: f64,
    side: Side,
    axis: bool,
) -> Result<f64, ActionError> {
    let (qi, si) = match inside_point(m, q0, s0, side)? {
        Inner::Point(q, s) => (q, s),
        Inner::Root(q) => return Ok(q),
    };
    let axis_value = match (side, axis) {
        (Side::Below, true) => {
            let s = m.s(0.0);
            if s >= 0.0 {
                return Ok(0.0);
            }
            Some(s)
        }
        _ => None,
    };
    let (mut qa, mut sa) = (qi, si);
    let mut step = 0.25 * qi.max(0.5);
    for _ in 0..200 {
        let q = match side {
            Side::Below => 0.5 * qa,
            Side::Above => qa + step,
        };
        if side == Side::Above && q > U_CAP {
            break;
        }
        if side == Side::Below && q < 1e-300 {
            return match axis_value {
                Some(s) => root(m, (0.0, s), (qa, sa)),
                None => Err(no_convergence("no inner turning point")),
            };
        }
        let s = m.s(q);
        if s < 0.0 {
            return root(m, (q, s), (qa, sa));
        }
        if s.is_nan() {
            return Err(no_convergence("potential is NaN on the orbit"));
        }
        (qa, sa) = (q, s);
        step *= 2.0;
    }
    Err(no_convergence("no outer turning point"))
}

enum Inner {
    Point(f64, f64),
    Root(f64),
}

/// A point on `side` of q0 (or q0 itself) where S is well above its rounding noise; or the
/// turning point itself when it lies within a tiny distance of q0 (the point is at it).
fn inside_point<M: Separable>(m: &M, q0: f64, s0: f64, side: Side) -> Result<Inner, ActionError> {
    let noise = m.noise();
    if s0 > noise {
        return Ok(Inner::Point(q0, s0));
    }
    let sign = if side == Side::Below { -1.0 } else { 1.0 };
    let mut d = 1e-9 * q0.max(1e-3);
    for _ in 0..16 {
        let q = (q0 + sign * d).max(0.0);
        let s = m.s(q);
        if s > noise {
            return Ok(Inner::Point(q, s));
        }
        if s < 0.0 || q == 0.0 {
            return root(m, (q, s), (q0, s0)).map(Inner::Root);
        }
        d *= 8.0;
    }
    Err(no_convergence("cannot leave a flat turning point"))
}

/// The root of S between `out` (S < 0) and `inn` (S >= 0), to machine precision.
fn root<M: Separable>(m: &M, out: (f64, f64), inn: (f64, f64)) -> Result<f64, ActionError> {
    if out.1 >= 0.0 {
        return Ok(out.0);
    }
    brent(|q| m.s(q), out.0, inn.0, out.1, inn.1, f64::MIN_POSITIVE)
        .ok_or_else(|| no_convergence("turning point root"))
}

pub(super) fn no_convergence(what: &str) -> ActionError {
    ActionError::NoConvergence(format!("Staeckel: {what}"))
}
