//! Symplectic one-step schemes for H = v²/2 + Phi(x).
//!
//! Both are "kick-drift-kick" compositions that reuse the acceleration at the end of one step
//! as the start of the next (one force evaluation per drift).

use crate::phase::Vec3;
use crate::potential::Potential;

/// Yoshida (1990) triple-jump weights: w1 = 1/(2 - 2^(1/3)), w0 = 1 - 2 w1.
pub(super) const YOSHIDA_W1: f64 = 1.351_207_191_959_657_6;
pub(super) const YOSHIDA_W0: f64 = -1.702_414_383_919_315_3;

/// A symplectic integration scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Second-order leapfrog, kick-drift-kick (one force evaluation per step).
    Leapfrog,
    /// Fourth-order Yoshida (1990) composition of three leapfrog steps of weights
    /// w1, w0, w1 (three force evaluations per step).
    Yoshida4,
}

impl Scheme {
    /// Order of the global error in the step size.
    pub fn order(self) -> u32 {
        match self {
            Scheme::Leapfrog => 2,
            Scheme::Yoshida4 => 4,
        }
    }

    /// Force evaluations per step.
    pub fn force_evaluations(self) -> usize {
        match self {
            Scheme::Leapfrog => 1,
            Scheme::Yoshida4 => 3,
        }
    }

    /// Parse `leapfrog` or `yoshida4` (also `yoshida`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "leapfrog" => Some(Scheme::Leapfrog),
            "yoshida4" | "yoshida" => Some(Scheme::Yoshida4),
            _ => None,
        }
    }

    /// Advance (x, v) by one step dt. `a` holds a(x) on entry and on exit.
    #[inline]
    pub fn step<P: Potential + ?Sized>(self, pot: &P, x: &mut Vec3, v: &mut Vec3, a: &mut Vec3, dt: f64) {
        match self {
            Scheme::Leapfrog => kick_drift_kick(pot, x, v, a, dt),
            Scheme::Yoshida4 => {
                kick_drift_kick(pot, x, v, a, YOSHIDA_W1 * dt);
                kick_drift_kick(pot, x, v, a, YOSHIDA_W0 * dt);
                kick_drift_kick(pot, x, v, a, YOSHIDA_W1 * dt);
            }
        }
    }
}

/// One leapfrog step: v += a dt/2; x += v dt; a = a(x); v += a dt/2.
#[inline(always)]
fn kick_drift_kick<P: Potential + ?Sized>(pot: &P, x: &mut Vec3, v: &mut Vec3, a: &mut Vec3, dt: f64) {
    let h = 0.5 * dt;
    for k in 0..3 {
        v[k] += h * a[k];
        x[k] += dt * v[k];
    }
    *a = pot.acceleration(x);
    for k in 0..3 {
        v[k] += h * a[k];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yoshida_weights_sum_to_one_and_cancel_third_order() {
        assert!((2.0 * YOSHIDA_W1 + YOSHIDA_W0 - 1.0).abs() < 1e-15);
        assert!((2.0 * YOSHIDA_W1.powi(3) + YOSHIDA_W0.powi(3)).abs() < 1e-14);
    }

    #[test]
    fn parse_names() {
        assert_eq!(Scheme::parse("leapfrog"), Some(Scheme::Leapfrog));
        assert_eq!(Scheme::parse("yoshida4"), Some(Scheme::Yoshida4));
        assert_eq!(Scheme::parse("rk4"), None);
    }
}
