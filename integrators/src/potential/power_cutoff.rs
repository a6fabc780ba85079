//! Power-law density with an exponential cut-off (galpy `PowerSphericalPotentialwCutoff`,
//! the bulge of Bovy 2015's MWPotential2014).

use super::cutoff_table::{FixedPower, PanelTable, Y_MAX};
use super::gamma::{gamma, lower_gamma_scaled};
use super::params::{fmt_num, in_range, positive};
use super::spherical::RadialPotential;
use super::{PotentialError, SphericalProfile};
use crate::units::G;
use std::f64::consts::PI;

/// Sphere of total mass `M` (Msun) with `rho(r) = rho_c (rc/r)^alpha exp(-(r/rc)^2)`,
/// `0 <= alpha < 2`, cut-off radius `rc` (kpc) and `rho_c = M / (2 pi rc^3 Gamma(s))`,
/// `s = 3/2 - alpha/2`, `t = 1 - alpha/2`, `x = r/rc`:
///
/// `M(r) = M P(s, x^2)` (P the regularised lower incomplete gamma function),
/// `Phi'(r) = G M(r) / r^2`, `Phi''(r) = 4 pi G rho(r) - 2 Phi'(r)/r`,
/// `Phi(r) = G M [gamma(t, x^2) / (rc Gamma(s)) - P(s, x^2) / r]` (gamma the lower
/// incomplete gamma function).
///
/// With `y = x^2` and `g_a(y) = gamma(a, y) / y^a = int_0^1 u^(a-1) e^(-y u) du` (smooth,
/// `1/a` at 0) these are `Phi'(r)/r = G M g_s(y) y^(-alpha/2) / (rc^3 Gamma(s))` and
/// `Phi(r) = G M y^t [g_t(y) - g_s(y)] / (rc Gamma(s))`: the cusp is the explicit power and
/// `g_s`, `g_t - g_s` come from piecewise Chebyshev tables built once at construction
/// (a fraction of a millisecond; relative error ~1e-15). Beyond `y = 40` the lower gamma
/// functions equal `Gamma(a)` to 3e-17, so `Phi'(r)/r = G M / r^3` and
/// `Phi = Phi(inf) - G M / r` there.
///
/// The potential is galpy's, including its zero point: `Phi(0) = 0` and
/// `Phi(inf) = G M Gamma(t) / (rc Gamma(s)) > 0` (see
/// [`crate::potential::Potential::potential_at_infinity`]), so energies agree with galpy's,
/// but `E < 0` does not mean bound. galpy's `amp` (a G times density at `r1`) maps to
/// `M = 2 pi amp r1^alpha rc^(3 - alpha) Gamma(s) / G`.
///
/// Text form: `power-cutoff:M=5e9,alpha=1.8,rc=1.9`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerCutoff {
    m: f64,
    alpha: f64,
    rc: f64,
    gm: f64,
    gamma_s: f64,
    gamma_t: f64,
    /// `1 / rc^2`.
    inv_rc2: f64,
    /// `rho_c = M / (2 pi rc^3 Gamma(s))`.
    rho_c: f64,
    /// `G M / (rc^3 Gamma(s))`, the scale of `Phi'(r)/r`.
    force_scale: f64,
    /// `G M / (rc Gamma(s))`, the scale of `Phi`.
    phi_scale: f64,
    /// `g_s(y) = gamma(s, y) / y^s` on `[0, Y_MAX)`.
    g_s: PanelTable,
    /// `g_t(y) - g_s(y)` (positive) on `[0, Y_MAX)`.
    g_t_minus_g_s: PanelTable,
    /// `y^(-alpha/2)`.
    cusp_power: FixedPower,
}

impl PowerCutoff {
    /// Sphere of total mass `m` > 0 (Msun), inner slope `alpha` in [0, 2) and cut-off
    /// radius `rc` > 0 (kpc).
    pub fn new(m: f64, alpha: f64, rc: f64) -> Result<Self, PotentialError> {
        let m = positive("power-cutoff", "M", m)?;
        let alpha = in_range("power-cutoff", "alpha", alpha, 0.0, 2.0, "0 <= alpha < 2")?;
        let rc = positive("power-cutoff", "rc", rc)?;
        let (s, t) = (1.5 - 0.5 * alpha, 1.0 - 0.5 * alpha);
        let (gamma_s, gamma_t) = (gamma(s), gamma(t));
        let [g_s, g_t_minus_g_s] = PanelTable::fit(|y| {
            let g_s = lower_gamma_scaled(s, gamma_s, y);
            [g_s, lower_gamma_scaled(t, gamma_t, y) - g_s]
        });
        let gm = G * m;
        Ok(Self {
            m,
            alpha,
            rc,
            gm,
            gamma_s,
            gamma_t,
            inv_rc2: 1.0 / (rc * rc),
            rho_c: m / (2.0 * PI * rc * rc * rc * gamma_s),
            force_scale: gm / (rc * rc * rc * gamma_s),
            phi_scale: gm / (rc * gamma_s),
            g_s,
            g_t_minus_g_s,
            cusp_power: FixedPower::new(-0.5 * alpha),
        })
    }

    /// Total mass M in Msun.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// Inner logarithmic density slope alpha.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Cut-off radius rc in kpc.
    pub fn rc(&self) -> f64 {
        self.rc
    }

    /// `(r/rc)^-alpha` written as a function of `y = (r/rc)^2`; exactly 1 for alpha = 0.
    #[inline]
    fn cusp(&self, y: f64) -> f64 {
        if self.alpha == 0.0 {
            1.0
        } else {
            self.cusp_power.eval(y)
        }
    }

    /// `y^t = y^(1 - alpha/2)`, 0 at `y = 0`.
    #[inline]
    fn y_to_t(&self, y: f64) -> f64 {
        if y == 0.0 {
            0.0
        } else {
            y * self.cusp(y)
        }
    }

    /// `Phi'(r)/r` at `r2 = r^2`, `y = r2 / rc^2`; `cusp` gives `y^(-alpha/2)`, needed (and
    /// called) only inside the table.
    #[inline]
    fn force_over_r(&self, r2: f64, y: f64, cusp: impl FnOnce() -> f64) -> f64 {
        if y >= Y_MAX {
            self.gm / (r2 * r2.sqrt())
        } else {
            self.force_scale * self.g_s.eval(y) * cusp()
        }
    }
}

impl SphericalProfile for PowerCutoff {
    fn phi(&self, r: f64) -> f64 {
        let y = r * r * self.inv_rc2;
        if y >= Y_MAX {
            return self.phi_infinity() - self.gm / r;
        }
        self.phi_scale * self.y_to_t(y) * self.g_t_minus_g_s.eval(y)
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        r * self.dphi_dr_over_r(r * r)
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        let r2 = r * r;
        let y = r2 * self.inv_rc2;
        let cusp = self.cusp(y);
        let density = self.rho_c * cusp * (-y).exp();
        4.0 * PI * G * density - 2.0 * self.force_over_r(r2, y, || cusp)
    }

    fn density(&self, r: f64) -> f64 {
        let y = r * r * self.inv_rc2;
        self.rho_c * self.cusp(y) * (-y).exp()
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        let y = r * r * self.inv_rc2;
        if y >= Y_MAX {
            return self.m;
        }
        self.m / self.gamma_s * self.g_s.eval(y) * self.y_to_t(y) * y.sqrt()
    }

    fn total_mass(&self) -> Option<f64> {
        Some(self.m)
    }
}

impl RadialPotential for PowerCutoff {
    /// `G M g_s(y) y^(-alpha/2) / (rc^3 Gamma(s))`, `y = r^2/rc^2`; `G M / r^3` beyond
    /// the table.
    #[inline]
    fn dphi_dr_over_r(&self, r2: f64) -> f64 {
        let y = r2 * self.inv_rc2;
        self.force_over_r(r2, y, || self.cusp(y))
    }

    fn phi_infinity(&self) -> f64 {
        self.phi_scale * self.gamma_t
    }

    fn canonical_spec(&self) -> String {
        format!(
            "power-cutoff:M={},alpha={},rc={}",
            fmt_num(self.m),
            fmt_num(self.alpha),
            fmt_num(self.rc)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::gamma::lower_gamma;
    use crate::potential::{checks, Potential};

    /// `y = (r/rc)^2` on a dense grid: uniform in [0, 48] (every panel, both sides of the
    /// switch to the asymptotic form) and log-uniform in [1e-14, 1] (the cusp).
    fn dense_y() -> impl Iterator<Item = f64> {
        let uniform = (0..=48_000).map(|i| i as f64 * 1e-3);
        let log = (0..=14_000).map(|i| 10f64.powf(-14.0 + i as f64 * 1e-3));
        uniform.chain(log)
    }

    /// `(s, t) = (3/2 - alpha/2, 1 - alpha/2)`.
    fn s_t(p: &PowerCutoff) -> (f64, f64) {
        (1.5 - 0.5 * p.alpha, 1.0 - 0.5 * p.alpha)
    }

    /// The formulas of the class documentation with the series / continued-fraction
    /// incomplete gamma functions: (Phi, Phi'(r)/r, M(r)) at `y`.
    fn exact(p: &PowerCutoff, y: f64) -> [f64; 3] {
        let r = p.rc * y.sqrt();
        let (s, t) = s_t(p);
        let (ls, lt) = (lower_gamma(s, p.gamma_s, y), lower_gamma(t, p.gamma_t, y));
        let phi = p.gm * (lt / (p.rc * p.gamma_s) - ls / (p.gamma_s * r));
        [phi, p.gm * ls / (p.gamma_s * r * r * r), p.m * ls / p.gamma_s]
    }

    /// Largest relative difference of `f` and `g` over the dense grid (y > 0) and where.
    fn worst(f: impl Fn(f64) -> f64, g: impl Fn(f64) -> f64) -> (f64, f64) {
        dense_y()
            .filter(|&y| y > 0.0 && y < Y_MAX)
            .map(|y| (((f(y) - g(y)) / g(y)).abs(), y))
            .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
    }

    #[test]
    fn tables_interpolate_the_scaled_lower_gamma_functions() {
        for alpha in [0.0, 0.3, 1.0, 1.8, 1.99] {
            let p = PowerCutoff::new(5e9, alpha, 1.9).unwrap();
            let (s, t) = s_t(&p);
            let g_s = |y| lower_gamma_scaled(s, p.gamma_s, y);
            let diff = |y| lower_gamma_scaled(t, p.gamma_t, y) - g_s(y);
            let (e_s, y_s) = worst(|y| p.g_s.eval(y), g_s);
            let (e_d, y_d) = worst(|y| p.g_t_minus_g_s.eval(y), diff);
            println!("alpha = {alpha}: g_s {e_s:.2e} at y = {y_s:.3e}, g_t - g_s {e_d:.2e} at y = {y_d:.3e}");
            assert!(e_s <= 1e-13 && e_d <= 1e-13, "alpha = {alpha}: {e_s:e} {e_d:e}");
        }
    }

    #[test]
    fn tables_match_the_incomplete_gamma_functions() {
        for alpha in [0.0, 0.3, 1.0, 1.8, 1.99] {
            let p = PowerCutoff::new(5e9, alpha, 1.9).unwrap();
            let mut worst = [0.0_f64; 3];
            for y in dense_y().filter(|&y| y > 0.0) {
                let r = p.rc * y.sqrt();
                let got = [p.phi(r), p.dphi_dr_over_r(r * r), p.enclosed_mass(r)];
                for ((w, g), e) in worst.iter_mut().zip(got).zip(exact(&p, y)) {
                    *w = w.max(((g - e) / e).abs());
                }
            }
            println!(
                "alpha = {alpha}: max relative error of Phi, Phi'/r, M(r): {:.2e} {:.2e} {:.2e}",
                worst[0], worst[1], worst[2]
            );
            assert!(worst.iter().all(|&w| w <= 1e-13), "alpha = {alpha}: {worst:?}");
        }
    }

    #[test]
    fn derivatives_and_poisson() {
        for alpha in [0.0, 1.0, 1.8] {
            let p = PowerCutoff::new(5e9, alpha, 1.9).unwrap();
            for x in checks::positions(1.9) {
                checks::acceleration_matches_potential(&p, &x, 1.9, 1e-8);
                checks::hessian_matches_acceleration(&p, &x, 1.9, 1e-7);
                checks::poisson_holds(&p, &x, 1e-12);
            }
            checks::spec_round_trips(&p);
        }
    }

    #[test]
    fn zero_point_and_mass() {
        let p = PowerCutoff::new(5e9, 1.8, 1.9).unwrap();
        assert_eq!(p.potential(&[0.0; 3]), 0.0);
        assert_eq!(p.acceleration(&[0.0; 3]), [0.0; 3]);
        // far out it is a point mass plus the constant
        for r in [30.0, 1e3, 1e6] {
            let kepler = p.potential_at_infinity() - G * 5e9 / r;
            let phi = p.potential(&[0.0, 0.0, r]);
            assert!((phi - kepler).abs() < 1e-13 * kepler.abs(), "{phi} {kepler}");
        }
        assert!((p.enclosed_mass(100.0) / 5e9 - 1.0).abs() < 1e-14);
        // the profile's enclosed mass agrees with the force
        let r = 1.3;
        let m = r * r * p.dphi_dr(r) / G;
        assert!((p.enclosed_mass(r) - m).abs() < 1e-13 * m);
    }

    #[test]
    fn cored_case_is_finite_at_the_centre() {
        let p = PowerCutoff::new(1e9, 0.0, 1.0).unwrap();
        let h = p.hessian(&[0.0; 3]);
        let h2 = p.hessian(&[1e-6, 0.0, 0.0]);
        assert!((h[0][0] - h2[0][0]).abs() < 1e-9 * h[0][0]);
        assert!((h[0][0] - 4.0 * PI * G * p.density(0.0) / 3.0).abs() < 1e-13 * h[0][0]);
    }
}
