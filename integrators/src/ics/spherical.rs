//! Machinery shared by the isotropic spherical samplers: the particle loop of a model
//! drawn by inverting its mass profile, the speed sampler for an ergodic distribution
//! function f(E) and the isotropic Jeans dispersion.

use rand::Rng;
use rand_pcg::Pcg64;

use super::equilibrium::EquilibriumOptions;
use super::quad::integrate;
use super::{par_generate, positive, random_unit_vector, IcsError};
use crate::phase::PhaseSpace;
use crate::potential::SphericalProfile;

/// An isotropic spherical model that [`sample_isotropic`] can draw particles from.
pub(crate) trait IsotropicModel: Sync {
    /// Enclosed mass fraction M(<r)/M.
    fn mass_fraction(&self, r: f64) -> f64;
    /// The radius enclosing mass fraction `x` in [0, 1).
    fn radius_of_mass_fraction(&self, x: f64) -> f64;
    /// A speed (km/s) at radius `r` from the isotropic conditional density
    /// p(v | r) ∝ v^2 f(Psi(r) - v^2/2) (BT08 eq. 4.43).
    fn speed(&self, r: f64, rng: &mut Pcg64) -> Result<f64, IcsError>;
}

/// Draw `n` particles of an isotropic spherical model, reproducibly from `seed` (random
/// stream `tag`, see [`crate::ics`]): the radius by inverse transform of the mass profile,
/// r = M^{-1}(X M) with X uniform on [0, M(<r_max)/M) (`options.r_max`, or the whole model),
/// the speed from [`IsotropicModel::speed`], and independent isotropic directions for the
/// position and the velocity.
pub(crate) fn sample_isotropic(
    model: &dyn IsotropicModel,
    n: usize,
    seed: u64,
    tag: u64,
    options: &EquilibriumOptions,
) -> Result<Vec<PhaseSpace>, IcsError> {
    let x_max = match options.r_max {
        None => 1.0,
        Some(r) => model.mass_fraction(positive("r_max (kpc)", r)?).min(1.0),
    };
    par_generate(n, seed, tag, |rng| {
        let r = model.radius_of_mass_fraction(rng.random::<f64>() * x_max);
        let v = model.speed(r, rng)?;
        let ux = random_unit_vector(rng);
        let uv = random_unit_vector(rng);
        Ok(PhaseSpace::new(
            [r * ux[0], r * ux[1], r * ux[2]],
            [v * uv[0], v * uv[1], v * uv[2]],
        ))
    })
}

/// An ergodic distribution function f(E) of the binding energy E = Psi - v^2/2 > 0
/// (Psi = -Phi), known up to a constant factor.
pub(crate) trait ErgodicDf: Sync {
    /// f(E) (>= 0; 0 for E <= 0).
    fn df(&self, energy: f64) -> f64;
    /// An upper bound of f on (0, E]: sup_{0 < E' <= E} f(E'). For a DF that increases
    /// with E (all the models here) this is f(E) itself.
    fn df_upper(&self, energy: f64) -> f64;
}

/// Number of equal pieces of [0, 1] in q = v/v_esc in the envelope of [`sample_speed`].
const PIECES: usize = 8;
/// Most pieces the envelope may have after splitting its first piece.
const MAX_PIECES: usize = 48;

/// Maximum number of rejection trials for one speed; the envelope makes the acceptance
/// rate high (typically > 50%), so reaching it means a broken distribution function.
const MAX_SPEED_TRIALS: usize = 100_000;

/// Draw a speed v at a point of relative potential `psi` = -Phi > 0 from the isotropic
/// conditional density p(v) ∝ v^2 f(psi - v^2/2) on [0, sqrt(2 psi)] (BT08 eq. 4.43 with
/// isotropy).
///
/// Rejection from a piecewise-constant envelope in q = v/v_esc: on [q_k, q_{k+1}],
/// q^2 f(psi(1 - q^2)) <= q_{k+1}^2 sup_{E <= psi(1 - q_k^2)} f(E), which is a rigorous bound
/// because the sup is taken through [`ErgodicDf::df_upper`]; the result is exact whatever
/// the pieces. The pieces are [`PIECES`] equal ones, and the first, [0, 1/PIECES], is split
/// geometrically (at q/sqrt 2) while it carries more than 2% of the envelope, which keeps
/// the envelope tight where f diverges at the centre of a cusp.
pub(crate) fn sample_speed<R: Rng + ?Sized>(
    df: &dyn ErgodicDf,
    psi: f64,
    rng: &mut R,
) -> Result<f64, IcsError> {
    if !(psi.is_finite() && psi > 0.0) {
        return Err(IcsError::Numerical(format!(
            "relative potential Psi = {psi} (km/s)^2 where a bound point was expected"
        )));
    }
    // Pieces [lo, hi] with envelope height `bound` and cumulative weight `cum`.
    let mut lo = [0.0_f64; MAX_PIECES];
    let mut hi = [0.0_f64; MAX_PIECES];
    let mut bound = [0.0_f64; MAX_PIECES];
    let mut m = 0;
    let step = 1.0 / PIECES as f64;
    let mut total = 0.0;
    let mut push = |q0: f64, q1: f64, b: f64, m: &mut usize| {
        lo[*m] = q0;
        hi[*m] = q1;
        bound[*m] = b;
        *m += 1;
        b * (q1 - q0)
    };
    for k in 1..PIECES {
        let (q0, q1) = (k as f64 * step, (k + 1) as f64 * step);
        total += push(q0, q1, q1 * q1 * df.df_upper(psi * (1.0 - q0 * q0)), &mut m);
    }
    let f_top = df.df_upper(psi);
    let mut q1 = step;
    loop {
        let w_first = q1 * q1 * q1 * f_top;
        if m + 2 >= MAX_PIECES || w_first <= 0.02 * (total + w_first) {
            total += push(0.0, q1, q1 * q1 * f_top, &mut m);
            break;
        }
        let qm = q1 * std::f64::consts::FRAC_1_SQRT_2;
        total += push(qm, q1, q1 * q1 * df.df_upper(psi * (1.0 - qm * qm)), &mut m);
        q1 = qm;
    }
    if !(total.is_finite() && total > 0.0) {
        return Err(IcsError::Numerical(format!(
            "the distribution function is zero or not finite for all speeds at Psi = {psi} (km/s)^2"
        )));
    }
    let mut cum = [0.0_f64; MAX_PIECES];
    let mut acc = 0.0;
    for k in 0..m {
        acc += bound[k] * (hi[k] - lo[k]);
        cum[k] = acc;
    }
    let v_esc = (2.0 * psi).sqrt();
    for _ in 0..MAX_SPEED_TRIALS {
        let t = rng.random::<f64>() * acc;
        let k = cum[..m].partition_point(|&c| c <= t).min(m - 1);
        let q = lo[k] + (hi[k] - lo[k]) * rng.random::<f64>();
        let g = q * q * df.df(psi * (1.0 - q * q));
        if rng.random::<f64>() * bound[k] < g {
            return Ok(q * v_esc);
        }
    }
    Err(IcsError::Numerical(format!(
        "speed rejection sampling failed {MAX_SPEED_TRIALS} times at Psi = {psi} (km/s)^2"
    )))
}

/// Isotropic Jeans radial velocity dispersion squared of a spherical profile,
/// in (km/s)^2 (BT08 eq. 4.216 with beta = 0):
///
/// sigma_r^2(r) = (1 / rho(r)) ∫_r^∞ rho(r') dPhi/dr'(r') dr'.
///
/// Computed by adaptive Gauss–Kronrod quadrature in t = ln(r'/r) up to r' = 1e15 r.
/// For a model sampled from its isotropic distribution function,
/// <v_r^2> = <v_theta^2> = <v_phi^2> = sigma_r^2(r). Returns NaN where rho(r) is not > 0.
pub fn jeans_sigma_r2(profile: &dyn SphericalProfile, r: f64) -> f64 {
    let rho = profile.density(r);
    if !(rho > 0.0 && r > 0.0 && r.is_finite()) {
        return f64::NAN;
    }
    let integrand = |t: f64| {
        let rr = r * t.exp();
        profile.density(rr) * profile.dphi_dr(rr) * rr
    };
    let (p, _) = integrate(
        integrand,
        0.0,
        15.0 * std::f64::consts::LN_10,
        24,
        1e-12,
        0.0,
        4000,
    );
    p / rho
}

#[cfg(test)]
pub(crate) mod test_profiles {
    //! Analytic profiles for unit tests (independent of the crate's potentials).
    use crate::potential::SphericalProfile;
    use crate::units::G;
    use std::f64::consts::PI;

    /// Dehnen (1993) profile, gamma in [0, 2): Phi = -GM/((2-g) a) [1 - (r/(r+a))^(2-g)].
    /// (The test Isochrone and Plummer below are well conditioned as written.)
    #[derive(Debug)]
    pub struct Dehnen {
        pub m: f64,
        pub a: f64,
        pub gamma: f64,
    }

    impl SphericalProfile for Dehnen {
        fn phi(&self, r: f64) -> f64 {
            // -(GM/(p a)) (1 - (r/(r+a))^p) without cancellation at large r.
            let p = 2.0 - self.gamma;
            G * self.m / (p * self.a) * (-p * (self.a / r).ln_1p()).exp_m1()
        }
        fn dphi_dr(&self, r: f64) -> f64 {
            G * self.m * r.powf(1.0 - self.gamma) / (r + self.a).powf(3.0 - self.gamma)
        }
        fn d2phi_dr2(&self, r: f64) -> f64 {
            let g = self.gamma;
            G * self.m * r.powf(-g) * (r + self.a).powf(g - 4.0) * ((1.0 - g) * (r + self.a) - (3.0 - g) * r)
        }
        fn density(&self, r: f64) -> f64 {
            (3.0 - self.gamma) * self.m / (4.0 * PI) * self.a
                / (r.powf(self.gamma) * (r + self.a).powf(4.0 - self.gamma))
        }
        fn enclosed_mass(&self, r: f64) -> f64 {
            self.m * (r / (r + self.a)).powf(3.0 - self.gamma)
        }
        fn total_mass(&self) -> Option<f64> {
            Some(self.m)
        }
    }

    /// Plummer profile Phi = -GM / sqrt(r^2 + a^2).
    #[derive(Debug)]
    pub struct Plummer {
        pub m: f64,
        pub a: f64,
    }

    impl SphericalProfile for Plummer {
        fn phi(&self, r: f64) -> f64 {
            -G * self.m / (r * r + self.a * self.a).sqrt()
        }
        fn dphi_dr(&self, r: f64) -> f64 {
            G * self.m * r / (r * r + self.a * self.a).powf(1.5)
        }
        fn d2phi_dr2(&self, r: f64) -> f64 {
            let s2 = r * r + self.a * self.a;
            G * self.m * (self.a * self.a - 2.0 * r * r) / s2.powf(2.5)
        }
        fn density(&self, r: f64) -> f64 {
            3.0 * self.m / (4.0 * PI * self.a.powi(3)) * (1.0 + r * r / (self.a * self.a)).powf(-2.5)
        }
        fn total_mass(&self) -> Option<f64> {
            Some(self.m)
        }
    }

    /// Isochrone profile Phi = -GM / (b + sqrt(b^2 + r^2)).
    #[derive(Debug)]
    pub struct Isochrone {
        pub m: f64,
        pub b: f64,
    }

    impl SphericalProfile for Isochrone {
        fn phi(&self, r: f64) -> f64 {
            -G * self.m / (self.b + (self.b * self.b + r * r).sqrt())
        }
        fn dphi_dr(&self, r: f64) -> f64 {
            let s = (self.b * self.b + r * r).sqrt();
            G * self.m * r / (s * (self.b + s).powi(2))
        }
        fn d2phi_dr2(&self, r: f64) -> f64 {
            let h = 1e-5 * (r + self.b);
            (self.dphi_dr(r + h) - self.dphi_dr(r - h)) / (2.0 * h)
        }
        fn density(&self, r: f64) -> f64 {
            let b = self.b;
            let s = (b * b + r * r).sqrt();
            self.m * b * (3.0 * b * b + 2.0 * r * r + 3.0 * s * b) / (4.0 * PI * (b + s).powi(3) * s.powi(3))
        }
        fn total_mass(&self) -> Option<f64> {
            Some(self.m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_profiles::*;
    use super::*;
    use crate::units::G;

    #[test]
    fn jeans_matches_plummer_closed_form() {
        let p = Plummer { m: 5e5, a: 0.02 };
        for r in [1e-4, 0.005, 0.02, 0.1, 1.0, 30.0] {
            let exact = G * p.m / (6.0 * (r * r + p.a * p.a).sqrt());
            let s2 = jeans_sigma_r2(&p, r);
            assert!((s2 / exact - 1.0).abs() < 1e-9, "r={r}: {s2} vs {exact}");
        }
    }

    #[test]
    fn jeans_matches_hernquist_closed_form() {
        // Hernquist (1990) eq. 10.
        let (m, a) = (1e11, 2.0);
        let p = Dehnen { m, a, gamma: 1.0 };
        for r in [0.01, 0.5, 2.0, 10.0, 200.0] {
            let x = r / a;
            let exact = G * m / (12.0 * a)
                * (12.0 * x * (1.0 + x).powi(3) * ((1.0 + x) / x).ln()
                    - x / (1.0 + x) * (25.0 + 52.0 * x + 42.0 * x * x + 12.0 * x.powi(3)));
            let s2 = jeans_sigma_r2(&p, r);
            // The closed form cancels badly at large x; 1e-6 is its own precision there.
            assert!((s2 / exact - 1.0).abs() < 1e-6, "r={r}: {s2} vs {exact}");
        }
    }
}
