//! Exact isotropic distribution functions: Plummer and isochrone.

use std::f64::consts::PI;

use rand::Rng;
use rand_pcg::Pcg64;

use super::equilibrium::EquilibriumOptions;
use super::quad::newton_bisect;
use super::spherical::{sample_isotropic, sample_speed, ErgodicDf, IsotropicModel};
use super::{positive, IcsError};
use crate::phase::PhaseSpace;
use crate::units::G;

/// Recipe tags that separate the random streams of the samplers under one seed.
pub(crate) const TAG_PLUMMER: u64 = 0x504c_554d;
pub(crate) const TAG_ISOCHRONE: u64 = 0x4953_4f43;

/// Solve F(r) = `target` for r, where `frac(x)` returns (F(e^x), dF/dx) for a cumulative
/// mass fraction F increasing in x = ln r, bracketed by [lo, hi] in x, starting from the
/// guess `x0` (ignored when outside the bracket).
pub(crate) fn invert_in_log_r<Fm: Fn(f64) -> (f64, f64)>(
    frac: Fm,
    target: f64,
    x0: f64,
    lo: f64,
    hi: f64,
) -> f64 {
    newton_bisect(
        |x| {
            let (f, d) = frac(x);
            (f - target, d)
        },
        x0,
        lo,
        hi,
        1e-13,
    )
    .exp()
}

/// The Plummer (1911) sphere's exact isotropic distribution function,
/// Phi(r) = -GM / sqrt(r^2 + a^2), M(<r) = M r^3 / (r^2 + a^2)^{3/2}.
///
/// f(E) = 24 sqrt(2) / (7 pi^3) * a^2 / (G^5 M^4) * E^{7/2}   (BT08 eq. 4.83)
///
/// with E = -(v^2/2 + Phi) > 0 the binding energy; normalised so that ∫ f d^3x d^3v = M
/// (Msun / (kpc km/s)^3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlummerDf {
    m: f64,
    a: f64,
}

impl PlummerDf {
    /// Mass `m` (Msun) and scale radius `a` (kpc), both finite and > 0.
    pub fn new(m: f64, a: f64) -> Result<Self, IcsError> {
        Ok(Self {
            m: positive("Plummer mass M (Msun)", m)?,
            a: positive("Plummer scale radius a (kpc)", a)?,
        })
    }

    /// Mass (Msun).
    pub fn mass(&self) -> f64 {
        self.m
    }

    /// Scale radius (kpc).
    pub fn scale_radius(&self) -> f64 {
        self.a
    }

    /// Relative potential Psi(r) = -Phi(r) = GM / sqrt(r^2 + a^2), (km/s)^2.
    pub fn psi(&self, r: f64) -> f64 {
        G * self.m / (r * r + self.a * self.a).sqrt()
    }

    /// Enclosed mass fraction M(<r)/M = r^3 / (r^2 + a^2)^{3/2}.
    pub fn mass_fraction(&self, r: f64) -> f64 {
        let x = r / self.a;
        (x * x / (1.0 + x * x)).powf(1.5)
    }

    /// f(E) of binding energy E (km/s)^2 (0 for E <= 0), BT08 eq. 4.83.
    pub fn df(&self, energy: f64) -> f64 {
        if energy <= 0.0 {
            return 0.0;
        }
        24.0 * 2f64.sqrt() / (7.0 * PI.powi(3)) * self.a * self.a / (G.powi(5) * self.m.powi(4))
            * energy.powf(3.5)
    }

    /// Draw `n` particles (Aarseth, Hénon & Wielen 1974, A&A 37, 183):
    /// radius from the inverted mass profile, r = a (X^{-2/3} - 1)^{-1/2} with X uniform on
    /// [0, M(<r_max)/M); speed v = q v_esc(r), v_esc = sqrt(2 Psi(r)), with q drawn by
    /// rejection from g(q) = q^2 (1 - q^2)^{7/2} under the bound 0.1 (max g = 0.0920);
    /// isotropic directions for both.
    pub fn sample(
        &self,
        n: usize,
        seed: u64,
        options: &EquilibriumOptions,
    ) -> Result<Vec<PhaseSpace>, IcsError> {
        sample_isotropic(self, n, seed, TAG_PLUMMER, options)
    }
}

impl IsotropicModel for PlummerDf {
    fn mass_fraction(&self, r: f64) -> f64 {
        PlummerDf::mass_fraction(self, r)
    }

    /// r = a (X^{-2/3} - 1)^{-1/2}.
    fn radius_of_mass_fraction(&self, x: f64) -> f64 {
        self.a / (x.powf(-2.0 / 3.0) - 1.0).sqrt()
    }

    /// v = q v_esc(r), q by rejection from g(q) = q^2 (1 - q^2)^{7/2} under 0.1.
    fn speed(&self, r: f64, rng: &mut Pcg64) -> Result<f64, IcsError> {
        let q = loop {
            let q: f64 = rng.random();
            let y = 0.1 * rng.random::<f64>();
            if y < q * q * (1.0 - q * q).powf(3.5) {
                break q;
            }
        };
        Ok(q * (2.0 * self.psi(r)).sqrt())
    }
}

/// Hénon's (1959) isochrone's exact isotropic distribution function,
/// Phi(r) = -GM / (b + s), s = sqrt(b^2 + r^2), M(<r) = M r^3 / ((b + s)^2 s) (BT08 eq. 2.50).
///
/// With e = E b / (GM) in (0, 1/2] (E = -(v^2/2 + Phi) the binding energy), BT08 eq. 4.54
/// (Hénon 1960):
///
/// f(E) = M / (sqrt(2) (2 pi)^3 (G M b)^{3/2}) * sqrt(e) / [2 (1 - e)]^4
///        * [27 - 66 e + 320 e^2 - 240 e^3 + 64 e^4
///           + 3 (16 e^2 + 28 e - 9) arcsin(sqrt(e)) / sqrt(e (1 - e))],
///
/// normalised so that ∫ f d^3x d^3v = M (Msun / (kpc km/s)^3). The bracket cancels to
/// O(e^2) as e -> 0; below e = 0.01 its Taylor series (to e^8) is used instead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsochroneDf {
    m: f64,
    b: f64,
}

impl IsochroneDf {
    /// Mass `m` (Msun) and scale radius `b` (kpc), both finite and > 0.
    pub fn new(m: f64, b: f64) -> Result<Self, IcsError> {
        Ok(Self {
            m: positive("isochrone mass M (Msun)", m)?,
            b: positive("isochrone scale radius b (kpc)", b)?,
        })
    }

    /// Mass (Msun).
    pub fn mass(&self) -> f64 {
        self.m
    }

    /// Scale radius (kpc).
    pub fn scale_radius(&self) -> f64 {
        self.b
    }

    /// Relative potential Psi(r) = GM / (b + sqrt(b^2 + r^2)), (km/s)^2.
    pub fn psi(&self, r: f64) -> f64 {
        G * self.m / (self.b + (self.b * self.b + r * r).sqrt())
    }

    /// Enclosed mass fraction M(<r)/M = r^3 / ((b + s)^2 s), s = sqrt(b^2 + r^2).
    pub fn mass_fraction(&self, r: f64) -> f64 {
        let s = (self.b * self.b + r * r).sqrt();
        r * r * r / ((self.b + s) * (self.b + s) * s)
    }

    /// Density rho(r) (Msun/kpc^3), BT08 eq. 2.49, with its numerator
    /// 3(b + s)s^2 - r^2(b + 3s) written as b(3b^2 + 2r^2 + 3bs) (no cancellation at r >> b).
    pub fn density(&self, r: f64) -> f64 {
        let b = self.b;
        let s = (b * b + r * r).sqrt();
        self.m * b * (3.0 * b * b + 2.0 * r * r + 3.0 * s * b) / (4.0 * PI * (b + s).powi(3) * s.powi(3))
    }

    /// f(E) of binding energy E (km/s)^2 (0 for E <= 0), BT08 eq. 4.54.
    pub fn df(&self, energy: f64) -> f64 {
        if energy <= 0.0 {
            return 0.0;
        }
        let gmb = G * self.m * self.b;
        let e = (energy * self.b / (G * self.m)).min(0.5);
        let c = self.m / (2f64.sqrt() * (2.0 * PI).powi(3) * gmb.powf(1.5));
        let w = 2.0 * (1.0 - e);
        c * e.sqrt() / (w * w * w * w) * isochrone_bracket(e)
    }

    /// Draw `n` particles: radius by inverting M(<r) (safeguarded Newton in ln r), speed by
    /// rejection from v^2 f(Psi - v^2/2) under a rigorous piecewise envelope (f increases
    /// with E), isotropic directions.
    pub fn sample(
        &self,
        n: usize,
        seed: u64,
        options: &EquilibriumOptions,
    ) -> Result<Vec<PhaseSpace>, IcsError> {
        sample_isotropic(self, n, seed, TAG_ISOCHRONE, options)
    }
}

impl IsotropicModel for IsochroneDf {
    fn mass_fraction(&self, r: f64) -> f64 {
        IsochroneDf::mass_fraction(self, r)
    }

    /// The radius enclosing mass fraction `x` in [0, 1).
    fn radius_of_mass_fraction(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let b = self.b;
        // M/M <= r^3 / (4 b^3): r = b x^{1/3} encloses less than x. Asymptotically
        // 1 - M/M = 2b/r, so r = 4b/(1 - x) + b encloses more (checked, and widened if not).
        let lo = (b * x.cbrt()).ln();
        let mut hi = (4.0 * b / (1.0 - x) + b).ln();
        while self.mass_fraction(hi.exp()) < x && hi < 700.0 {
            hi += 1.0;
        }
        invert_in_log_r(
            |lr| {
                let r = lr.exp();
                (
                    self.mass_fraction(r),
                    4.0 * PI * r * r * r * self.density(r) / self.m,
                )
            },
            x,
            // Asymptotes r ~ 2b x^{1/3} (centre) and 2b/(1 - x) (outskirts); 3% off at x = 1/2.
            (2.0 * b * x.cbrt() / (1.0 - x)).ln(),
            lo,
            hi,
        )
    }

    fn speed(&self, r: f64, rng: &mut Pcg64) -> Result<f64, IcsError> {
        sample_speed(self, self.psi(r), rng)
    }
}

impl ErgodicDf for IsochroneDf {
    fn df(&self, energy: f64) -> f64 {
        IsochroneDf::df(self, energy)
    }
    fn df_upper(&self, energy: f64) -> f64 {
        // f increases monotonically with E (checked in the tests).
        IsochroneDf::df(self, energy)
    }
}

/// The bracket of BT08 eq. 4.54 as a function of e in (0, 1).
fn isochrone_bracket(e: f64) -> f64 {
    if e < 0.01 {
        // Taylor series; the e^9 term is below 1e-15 relative here.
        const C: [f64; 7] = [
            2048.0 / 5.0,
            -6144.0 / 35.0,
            4096.0 / 35.0,
            53248.0 / 1155.0,
            206848.0 / 5005.0,
            567296.0 / 15015.0,
            8937472.0 / 255255.0,
        ];
        let mut s = 0.0;
        for c in C.iter().rev() {
            s = s * e + c;
        }
        return s * e * e;
    }
    let sq = e.sqrt();
    27.0 - 66.0 * e + 320.0 * e * e - 240.0 * e.powi(3)
        + 64.0 * e.powi(4)
        + 3.0 * (16.0 * e * e + 28.0 * e - 9.0) * sq.asin() / (e * (1.0 - e)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ics::quad::integrate;

    /// rho(r) = 4 pi ∫_0^{v_esc} v^2 f(Psi - v^2/2) dv.
    fn density_from_df(df: impl Fn(f64) -> f64, psi: f64) -> f64 {
        let v_esc = (2.0 * psi).sqrt();
        let (i, _) = integrate(|v| v * v * df(psi - 0.5 * v * v), 0.0, v_esc, 8, 1e-12, 0.0, 2000);
        4.0 * PI * i
    }

    #[test]
    fn plummer_df_reproduces_the_density() {
        let p = PlummerDf::new(5e5, 0.02).unwrap();
        for r in [0.0, 0.003, 0.02, 0.1, 2.0] {
            let rho = 3.0 * p.m / (4.0 * PI * p.a.powi(3)) * (1.0 + (r / p.a).powi(2)).powf(-2.5);
            let rho_df = density_from_df(|e| p.df(e), p.psi(r));
            assert!((rho_df / rho - 1.0).abs() < 1e-9, "r={r}: {rho_df} vs {rho}");
        }
    }

    #[test]
    fn isochrone_df_reproduces_the_density_and_increases() {
        let iso = IsochroneDf::new(3.334e11, 5.0).unwrap();
        for r in [0.0, 0.5, 5.0, 40.0, 1e3, 1e5] {
            let rho_df = density_from_df(|e| iso.df(e), iso.psi(r));
            let rho = iso.density(r);
            assert!((rho_df / rho - 1.0).abs() < 1e-9, "r={r}: {rho_df} vs {rho}");
        }
        let psi0 = iso.psi(0.0);
        let mut last = 0.0;
        for k in 1..=10_000 {
            let f = iso.df(psi0 * k as f64 / 10_000.0);
            assert!(f > last, "not increasing at k = {k}");
            last = f;
        }
        // The series and the closed form agree where they meet.
        let (a, b) = (isochrone_bracket(0.01 - 1e-12), isochrone_bracket(0.01));
        assert!((a / b - 1.0).abs() < 1e-9, "{a} {b}");
    }

    #[test]
    fn isochrone_mass_inversion_round_trips() {
        let iso = IsochroneDf::new(1e10, 0.7).unwrap();
        for x in [1e-12, 1e-5, 0.1, 0.5, 0.9, 0.999_999, 1.0 - 1e-12] {
            let r = iso.radius_of_mass_fraction(x);
            assert!((iso.mass_fraction(r) / x - 1.0).abs() < 1e-10, "{x}: r={r}");
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(PlummerDf::new(-1.0, 1.0).is_err());
        assert!(IsochroneDf::new(1.0, f64::NAN).is_err());
        let p = PlummerDf::new(1.0, 1.0).unwrap();
        let bad = EquilibriumOptions { r_max: Some(0.0) };
        assert!(p.sample(10, 1, &bad).is_err());
    }
}
