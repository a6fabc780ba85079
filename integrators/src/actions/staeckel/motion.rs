//! The separated motions of the Staeckel fudge (Binney 2012, eqs. 8-11; galpy
//! `actionAngleStaeckel`).
//!
//! In a Staeckel potential `Phi = (U(u) - V(v)) / (sinh^2 u + sin^2 v)` the Hamiltonian
//! separates, with the third integral I_3:
//!
//! `p_u^2 / (2 Delta^2) = E sinh^2 u - I_3 - U(u) - L_z^2 / (2 Delta^2 sinh^2 u)`,
//! `p_v^2 / (2 Delta^2) = E sin^2 v + I_3 + V(v) - L_z^2 / (2 Delta^2 sin^2 v)`.
//!
//! The fudge takes U and V from the potential itself along two coordinate lines through the
//! point (u_0, v_0) = (u_x, pi/2): `U(u) = (sinh^2 u + 1) Phi(u, pi/2)` (the midplane) and
//! `V(v) = -(sinh^2 u_x + sin^2 v) Phi(u_x, v)`, each up to a constant that is absorbed into
//! the integral of its own equation (I_3 of the u-equation and I_3 + const of the v-equation
//! differ by a constant, so derivatives with respect to I_3 are the same). For a true
//! Staeckel potential with this focal distance (Kuzmin-Kutuzov) this is exact.

use super::coords::Prolate;
use crate::potential::Potential;

/// One separated degree of freedom: `S(q) = p_q^2 / (2 Delta^2)` along the orbit and the
/// weight `w(q)` with which E enters S (`dS/dE = w`, `dS/dL_z = -L_z / (Delta^2 w)`).
pub(super) trait Separable {
    /// (S(q), w(q)).
    fn eval(&self, q: f64) -> (f64, f64);

    /// S(q).
    fn s(&self, q: f64) -> f64 {
        self.eval(q).0
    }

    /// Absolute rounding noise of S: values of S below it carry no sign information.
    fn noise(&self) -> f64;

    /// Whether the centrifugal barrier `L_z^2 / (2 Delta^2 w)` is present (L_z != 0).
    fn barrier(&self) -> bool;
}

/// The centrifugal term `L_z^2 / (2 Delta^2 w)`, zero when L_z = 0 (also where w = 0).
#[inline]
fn barrier(b: f64, w: f64) -> f64 {
    if b > 0.0 {
        b / w
    } else {
        0.0
    }
}

/// Relative rounding of S, as a multiple of the largest term that cancels in it.
const NOISE: f64 = 1e-14;

/// The u-motion: `S_u(u) = E sinh^2 u - I_3 - cosh^2 u Phi(Delta sinh u, 0) - B / sinh^2 u`,
/// `B = L_z^2 / (2 Delta^2)`, w = sinh^2 u.
pub(super) struct UMotion<'a> {
    pot: &'a dyn Potential,
    delta: f64,
    e: f64,
    b: f64,
    i3: f64,
    noise: f64,
}

impl<'a> UMotion<'a> {
    /// The u-motion through the point `x` with energy `e`, `b = L_z^2 / (2 Delta^2)` and
    /// momentum `p_u`; I_3 is chosen so that `S_u(u_x) = p_u^2 / (2 Delta^2)`.
    pub fn new(pot: &'a dyn Potential, delta: f64, e: f64, b: f64, x: &Prolate, p_u: f64) -> Self {
        let sh2 = x.sinh_u * x.sinh_u;
        let u_term = (1.0 + sh2) * pot.potential(&[delta * x.sinh_u, 0.0, 0.0]);
        let kinetic = 0.5 * p_u * p_u / (delta * delta);
        let i3 = e * sh2 - kinetic - barrier(b, sh2) - u_term;
        let scale = (e * sh2).abs() + u_term.abs() + barrier(b, sh2) + kinetic;
        Self {
            pot,
            delta,
            e,
            b,
            i3,
            noise: NOISE * scale,
        }
    }
}

impl Separable for UMotion<'_> {
    #[inline]
    fn eval(&self, u: f64) -> (f64, f64) {
        let sh = u.sinh();
        let sh2 = sh * sh;
        let phi = self.pot.potential(&[self.delta * sh, 0.0, 0.0]);
        (
            self.e * sh2 - self.i3 - (1.0 + sh2) * phi - barrier(self.b, sh2),
            sh2,
        )
    }

    fn noise(&self) -> f64 {
        self.noise
    }

    fn barrier(&self) -> bool {
        self.b > 0.0
    }
}

/// The v-motion along the line u = u_x:
/// `S_v(v) = E sin^2 v + K - (sinh^2 u_x + sin^2 v) Phi(u_x, v) - B / sin^2 v`, w = sin^2 v,
/// with K = I_3 + V(pi/2) - ... collected into one constant fixed by `S_v(v_x) = p_v^2 /
/// (2 Delta^2)`.
pub(super) struct VMotion<'a> {
    pot: &'a dyn Potential,
    delta: f64,
    e: f64,
    b: f64,
    k: f64,
    sinh_u0: f64,
    cosh_u0: f64,
    noise: f64,
}

impl<'a> VMotion<'a> {
    /// The v-motion through the point `x` where the potential is `phi_x`.
    pub fn new(
        pot: &'a dyn Potential,
        delta: f64,
        (e, b): (f64, f64),
        x: &Prolate,
        phi_x: f64,
        p_v: f64,
    ) -> Self {
        let sv2 = x.sin_v * x.sin_v;
        let v_term = (x.sinh_u * x.sinh_u + sv2) * phi_x;
        let kinetic = 0.5 * p_v * p_v / (delta * delta);
        let k = -e * sv2 + kinetic + barrier(b, sv2) + v_term;
        let scale = (e * sv2).abs() + v_term.abs() + barrier(b, sv2) + kinetic;
        Self {
            pot,
            delta,
            e,
            b,
            k,
            sinh_u0: x.sinh_u,
            cosh_u0: x.cosh_u,
            noise: NOISE * scale,
        }
    }
}

impl Separable for VMotion<'_> {
    #[inline]
    fn eval(&self, v: f64) -> (f64, f64) {
        let (sv, cv) = v.sin_cos();
        let sv2 = sv * sv;
        let pos = [
            self.delta * self.sinh_u0 * sv,
            0.0,
            self.delta * self.cosh_u0 * cv,
        ];
        let phi = self.pot.potential(&pos);
        let s = self.e * sv2 + self.k - (self.sinh_u0 * self.sinh_u0 + sv2) * phi - barrier(self.b, sv2);
        (s, sv2)
    }

    fn noise(&self) -> f64 {
        self.noise
    }

    fn barrier(&self) -> bool {
        self.b > 0.0
    }
}
