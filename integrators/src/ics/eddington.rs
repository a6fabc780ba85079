//! Isotropic distribution functions by Eddington inversion, computed numerically for any
//! finite-mass spherical profile.

use std::f64::consts::PI;

use rand_pcg::Pcg64;
use rayon::prelude::*;

use super::equilibrium::EquilibriumOptions;
use super::exact::invert_in_log_r;
use super::quad::{integrate, Pchip};
use super::spherical::{sample_isotropic, sample_speed, ErgodicDf, IsotropicModel};
use super::IcsError;
use crate::phase::PhaseSpace;
use crate::potential::SphericalProfile;

const TAG_EDDINGTON: u64 = 0x4544_4449;

/// Grid nodes per decade in radius.
const NODES_PER_DECADE: f64 = 32.0;
/// The grid spans radii whose enclosed mass fraction lies in [MASS_TAIL, 1 - MASS_TAIL].
const MASS_TAIL: f64 = 1e-10;
/// ... and stops inwards where (Psi0 - Psi)/Psi0 would fall below this (finite Psi0),
/// keeping the binding energies of neighbouring nodes distinct in f64.
const PSI_CORE: f64 = 1e-6;
/// Step in s = ln r_E of the 5-point derivative stencil.
const STENCIL: f64 = 3e-3;

/// An isotropic distribution function f(E) obtained by Eddington's (1916) inversion of a
/// spherical density–potential pair (BT08 eq. 4.46):
///
/// f(E) = 1 / (sqrt(8) pi^2) d/dE ∫_0^E (d rho / d Psi) dPsi / sqrt(E - Psi),
///
/// with Psi = -Phi the relative potential and E = Psi - v^2/2 > 0 the binding energy;
/// normalised so that ∫ f d^3x d^3v = M (Msun / (kpc km/s)^3). The density is the profile's
/// own [`SphericalProfile::density`], the potential its [`SphericalProfile::phi`], so the
/// pair need not be self-consistent (a tracer in an external potential works as long as
/// f >= 0 results). The boundary term (d rho/d Psi)|_{Psi=0} / sqrt(E) vanishes for the
/// finite-mass profiles this accepts.
///
/// # Numerics
/// * Nodes r_i are spaced logarithmically (32 per decade) between the radii that enclose a
///   mass fraction 1e-10 and 1 - 1e-10 (and Psi < 1e-8 Psi(r_half)) (inner end limited for a cored centre so that binding
///   energies stay distinct); node i has binding energy E_i = Psi(r_i).
/// * The integral is taken in radius, I(E) = ∫_{r_E}^∞ (-d rho/dr) dr / sqrt(E - Psi(r)),
///   with the substitution r = r_E exp(y^2), which removes the inverse-square-root
///   singularity at r_E (the integrand tends to 2 (-d rho/d ln r) / sqrt(r Phi') as y -> 0),
///   and adaptive Gauss–Kronrod quadrature in y up to r = 1000 r_max_grid. Near r_E the
///   difference Psi(r_E) - Psi(r) is itself integrated (Gauss–Legendre of dPhi/dr) instead of
///   subtracted, to avoid cancellation. d rho/d ln r is a 4th-order central difference.
/// * dI/dE = (dI/ds) / (dE/ds) with s = ln r_E: a 5-point stencil in s, and the exact
///   dE/ds = -r dPhi/dr.
/// * ln f is interpolated with a monotone cubic (PCHIP) in
///   eta = ln E - ln(Psi0 - E) (eta = ln E where Psi0 = Psi(0) is infinite), which resolves
///   both the outskirts (E -> 0) and a central cusp (E -> Psi0), and is continued linearly
///   (a power law) beyond the grid. Interpolating ln f keeps f > 0.
/// * A node with f < 0 beyond round-off is an error ([`IcsError::NegativeDf`]): the model has
///   no isotropic equilibrium.
///
/// The density enters through its derivative, so it should be accurate to near machine
/// precision far out in the tail (an analytic density rather than Poisson's equation applied
/// to Phi by differences, which cancels at large r).
///
/// Sampling inverts M(<r) numerically and draws v by rejection from v^2 f(Psi - v^2/2)
/// under a rigorous envelope (the running maximum of the tabulated f).
#[derive(Debug)]
pub struct EddingtonDf<'a> {
    profile: &'a dyn SphericalProfile,
    total_mass: f64,
    /// Psi(0) (infinite when the potential diverges at the centre).
    psi0: f64,
    /// ln f against eta.
    table: Pchip,
    /// Running maximum of ln f over the nodes in increasing eta.
    run_max: Vec<f64>,
    /// ln r of the grid radii, increasing, and the enclosed mass fractions there.
    ln_r: Vec<f64>,
    mass_frac: Vec<f64>,
}

impl<'a> EddingtonDf<'a> {
    /// Tabulate f(E) for `profile`, which must have a finite positive total mass.
    pub fn new(profile: &'a dyn SphericalProfile) -> Result<Self, IcsError> {
        let total_mass = match profile.total_mass() {
            Some(m) if m.is_finite() && m > 0.0 => m,
            other => {
                return Err(IcsError::InfiniteMass {
                    profile: format!("{profile:?}"),
                    mass: other,
                })
            }
        };
        let psi = |r: f64| -profile.phi(r);
        let psi0 = {
            let p = psi(0.0);
            if p.is_finite() && p > 0.0 {
                p
            } else {
                f64::INFINITY
            }
        };
        let frac = |r: f64| profile.enclosed_mass(r) / total_mass;

        // Half-mass radius, bracketed by decades from 1 kpc.
        let (mut lo, mut hi) = (1.0_f64, 1.0_f64);
        for _ in 0..40 {
            if frac(lo) < 0.5 {
                break;
            }
            lo /= 10.0;
        }
        for _ in 0..40 {
            if frac(hi) > 0.5 {
                break;
            }
            hi *= 10.0;
        }
        if !(frac(lo) < 0.5 && frac(hi) > 0.5) {
            return Err(IcsError::Numerical(format!(
                "cannot bracket the half-mass radius of {profile:?} (M(<r)/M = {} at {lo} kpc, {} at {hi} kpc)",
                frac(lo),
                frac(hi)
            )));
        }
        let r_half = invert_in_log_r(
            |x| {
                let r = x.exp();
                (frac(r), 4.0 * PI * r.powi(3) * profile.density(r) / total_mass)
            },
            0.5,
            f64::NAN,
            lo.ln(),
            hi.ln(),
        );

        // Grid limits.
        let mut r_lo = r_half;
        for _ in 0..(30.0 * NODES_PER_DECADE) as usize {
            let next = r_lo * 10f64.powf(-1.0 / NODES_PER_DECADE);
            let core_ok = !psi0.is_finite() || (psi0 - psi(next)) / psi0 > PSI_CORE;
            if frac(r_lo) < MASS_TAIL || !core_ok {
                break;
            }
            r_lo = next;
        }
        // Outwards until the mass tail is negligible and E -> 0 is reached well enough for the
        // power-law continuation below the table (Psi < 1e-8 Psi(r_half)).
        let mut r_hi = r_half;
        let psi_half = psi(r_half);
        for _ in 0..30 {
            if 1.0 - frac(r_hi) < MASS_TAIL && psi(r_hi) < 1e-8 * psi_half {
                break;
            }
            r_hi *= 10.0;
        }
        let psi_out = psi(r_hi);
        if psi_out.is_nan() || psi_out >= 1e-3 * psi_half {
            return Err(IcsError::Numerical(format!(
                "Eddington inversion needs Phi -> 0 at infinity; {profile:?} has Phi({r_hi:e} kpc) = {} \
                 (km/s)^2 against {} at the half-mass radius",
                -psi_out, -psi_half
            )));
        }
        let r_out = 1e3 * r_hi;
        let n_nodes = ((r_hi / r_lo).log10() * NODES_PER_DECADE).ceil() as usize + 1;
        let ln_lo = r_lo.ln();
        let dln = (r_hi / r_lo).ln() / (n_nodes - 1) as f64;
        let ln_r: Vec<f64> = (0..n_nodes).map(|i| ln_lo + dln * i as f64).collect();

        // f at the nodes (in parallel; each node is independent).
        let f_nodes: Vec<f64> = ln_r
            .par_iter()
            .map(|&s| {
                let i_of = |ds: f64| eddington_integral(profile, (s + ds).exp(), r_out);
                let d_i = (8.0 * (i_of(STENCIL) - i_of(-STENCIL))
                    - (i_of(2.0 * STENCIL) - i_of(-2.0 * STENCIL)))
                    / (12.0 * STENCIL);
                let r = s.exp();
                let de_ds = -r * profile.dphi_dr(r);
                d_i / de_ds / (8f64.sqrt() * PI * PI)
            })
            .collect();

        let f_max = f_nodes
            .iter()
            .copied()
            .filter(|f| f.is_finite())
            .fold(0.0_f64, f64::max);
        if f_max <= 0.0 {
            return Err(IcsError::Numerical(format!(
                "Eddington inversion of {profile:?} gave no positive finite f(E)"
            )));
        }
        // Nodes in increasing eta = increasing E = decreasing r.
        let mut eta = Vec::with_capacity(n_nodes);
        let mut ln_f = Vec::with_capacity(n_nodes);
        for i in (0..n_nodes).rev() {
            let r = ln_r[i].exp();
            let e = psi(r);
            let f = f_nodes[i];
            if !f.is_finite() || !e.is_finite() || e <= 0.0 {
                return Err(IcsError::Numerical(format!(
                    "Eddington inversion of {profile:?}: f = {f} at r = {r} kpc, Psi = {e} (km/s)^2"
                )));
            }
            if f <= 0.0 {
                // A relative error of 1e-8 is the quadrature's; more is a real negative f.
                if f < -1e-8 * f_max {
                    return Err(IcsError::NegativeDf { energy: e, value: f });
                }
                continue;
            }
            let x = eta_of(e, psi0);
            if eta.last().is_some_and(|&last| x <= last) || !x.is_finite() {
                continue;
            }
            eta.push(x);
            ln_f.push(f.ln());
        }
        if eta.len() < 4 {
            return Err(IcsError::Numerical(format!(
                "Eddington inversion of {profile:?}: too few usable grid nodes ({})",
                eta.len()
            )));
        }
        let table = Pchip::new(eta, ln_f);
        let n = table.xs().len();
        let slope_lo = ((table.ys()[1] - table.ys()[0]) / (table.xs()[1] - table.xs()[0])).max(0.0);
        let slope_hi = (table.ys()[n - 1] - table.ys()[n - 2]) / (table.xs()[n - 1] - table.xs()[n - 2]);
        let table = table.with_end_slopes(slope_lo, slope_hi);
        let mut run_max = Vec::with_capacity(n);
        let mut m = f64::NEG_INFINITY;
        for &y in table.ys() {
            m = m.max(y);
            run_max.push(m);
        }
        let mass_frac = ln_r.iter().map(|&s| frac(s.exp())).collect();
        Ok(Self {
            profile,
            total_mass,
            psi0,
            table,
            run_max,
            ln_r,
            mass_frac,
        })
    }

    /// The profile this was built from.
    pub fn profile(&self) -> &'a dyn SphericalProfile {
        self.profile
    }

    /// Total mass (Msun).
    pub fn total_mass(&self) -> f64 {
        self.total_mass
    }

    /// f(E), Msun / (kpc km/s)^3, of the binding energy E = -(v^2/2 + Phi) (0 for E <= 0).
    pub fn df(&self, energy: f64) -> f64 {
        if energy <= 0.0 {
            return 0.0;
        }
        self.table.eval(self.eta(energy)).exp()
    }

    /// The tabulated nodes (E_i, f(E_i)), E increasing.
    pub fn nodes(&self) -> Vec<(f64, f64)> {
        self.table
            .xs()
            .iter()
            .zip(self.table.ys())
            .map(|(&x, &y)| (energy_of(x, self.psi0), y.exp()))
            .collect()
    }

    fn eta(&self, energy: f64) -> f64 {
        let x = eta_of(energy, self.psi0);
        // E >= Psi0 can only come from round-off at r = 0: stay just above the table.
        if x.is_finite() {
            x
        } else {
            self.table.xs()[self.table.xs().len() - 1] + 1.0
        }
    }

    /// Draw `n` particles: radius by inverting M(<r)/M (uniform deviate on
    /// [0, M(<r_max)/M)), speed from v^2 f(Psi - v^2/2) by rejection, isotropic directions.
    pub fn sample(
        &self,
        n: usize,
        seed: u64,
        options: &EquilibriumOptions,
    ) -> Result<Vec<PhaseSpace>, IcsError> {
        sample_isotropic(self, n, seed, TAG_EDDINGTON, options)
    }
}

impl IsotropicModel for EddingtonDf<'_> {
    fn mass_fraction(&self, r: f64) -> f64 {
        self.profile.enclosed_mass(r) / self.total_mass
    }

    /// The radius enclosing mass fraction `x` in [0, 1).
    fn radius_of_mass_fraction(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let n = self.ln_r.len();
        let j = self.mass_frac.partition_point(|&m| m <= x);
        let (lo, hi, guess) = if j == 0 {
            (self.ln_r[0] - 60.0, self.ln_r[0], f64::NAN)
        } else if j >= n {
            (self.ln_r[n - 1], self.ln_r[n - 1] + 60.0, f64::NAN)
        } else {
            // Linear in (M, ln r) between the bracketing nodes.
            let (m0, m1) = (self.mass_frac[j - 1], self.mass_frac[j]);
            let w = (x - m0) / (m1 - m0);
            let (l0, l1) = (self.ln_r[j - 1], self.ln_r[j]);
            (l0, l1, l0 + w * (l1 - l0))
        };
        invert_in_log_r(
            |s| {
                let r = s.exp();
                (
                    self.profile.enclosed_mass(r) / self.total_mass,
                    4.0 * PI * r.powi(3) * self.profile.density(r) / self.total_mass,
                )
            },
            x,
            guess,
            lo,
            hi,
        )
    }

    fn speed(&self, r: f64, rng: &mut Pcg64) -> Result<f64, IcsError> {
        sample_speed(self, -self.profile.phi(r), rng)
    }
}

impl ErgodicDf for EddingtonDf<'_> {
    fn df(&self, energy: f64) -> f64 {
        EddingtonDf::df(self, energy)
    }

    /// sup over (0, E] of the interpolant: it is monotone on every interval (PCHIP) and
    /// beyond the ends (linear, rising slope at the low end), so the sup is the larger of
    /// the running node maximum and the value at E.
    fn df_upper(&self, energy: f64) -> f64 {
        if energy <= 0.0 {
            return 0.0;
        }
        let x = self.eta(energy);
        let v = self.table.eval(x);
        let xs = self.table.xs();
        if x < xs[0] {
            return v.exp();
        }
        let i = xs.partition_point(|&t| t <= x) - 1;
        v.max(self.run_max[i]).exp()
    }
}

/// eta = ln E - ln(Psi0 - E), or ln E when Psi0 is infinite.
fn eta_of(energy: f64, psi0: f64) -> f64 {
    if psi0.is_finite() {
        energy.ln() - (psi0 - energy).ln()
    } else {
        energy.ln()
    }
}

/// Inverse of [`eta_of`].
fn energy_of(eta: f64, psi0: f64) -> f64 {
    if psi0.is_finite() {
        psi0 / (1.0 + (-eta).exp())
    } else {
        eta.exp()
    }
}

/// 8-point Gauss–Legendre abscissae and weights on [-1, 1] (positive half).
const GL8_X: [f64; 4] = [
    0.183_434_642_495_649_8,
    0.525_532_409_916_329,
    0.796_666_477_413_626_7,
    0.960_289_856_497_536_3,
];
const GL8_W: [f64; 4] = [
    0.362_683_783_378_362,
    0.313_706_645_877_887_3,
    0.222_381_034_453_374_5,
    0.101_228_536_290_376_3,
];

/// Psi(r_e) - Psi(r) = Phi(r) - Phi(r_e) for r >= r_e, without cancellation when r is close
/// to r_e: for ln(r/r_e) <= 1/2 it is ∫ dPhi/dr r' d ln r' by 8-point Gauss–Legendre.
fn delta_psi(profile: &dyn SphericalProfile, r_e: f64, r: f64) -> f64 {
    let l = (r / r_e).ln();
    if l > 0.5 {
        return profile.phi(r) - profile.phi(r_e);
    }
    let (c, half) = (0.5 * l, 0.5 * l);
    let mut sum = 0.0;
    for k in 0..4 {
        for sign in [-1.0, 1.0] {
            let rr = r_e * (c + sign * half * GL8_X[k]).exp();
            sum += GL8_W[k] * profile.dphi_dr(rr) * rr;
        }
    }
    sum * half
}

/// -d rho / d ln r by a 4th-order central difference (relative step 1e-3).
fn minus_drho_dlnr(profile: &dyn SphericalProfile, r: f64) -> f64 {
    let h: f64 = 1e-3;
    let (p1, m1) = (profile.density(r * h.exp()), profile.density(r * (-h).exp()));
    let (p2, m2) = (
        profile.density(r * (2.0 * h).exp()),
        profile.density(r * (-2.0 * h).exp()),
    );
    -(8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * h)
}

/// I(E) = ∫_0^E (d rho/d Psi) dPsi / sqrt(E - Psi) for E = Psi(r_e), as
/// ∫_0^Y 2 y (-d rho/d ln r) / sqrt(Psi(r_e) - Psi(r)) dy with r = r_e exp(y^2),
/// Y = sqrt(ln(r_out / r_e)).
fn eddington_integral(profile: &dyn SphericalProfile, r_e: f64, r_out: f64) -> f64 {
    let y_max = (r_out / r_e).ln().max(1e-6).sqrt();
    let integrand = |y: f64| {
        if y <= 0.0 {
            return 0.0;
        }
        let r = r_e * (y * y).exp();
        let d = delta_psi(profile, r_e, r);
        if d <= 0.0 {
            return 0.0;
        }
        2.0 * y * minus_drho_dlnr(profile, r) / d.sqrt()
    };
    integrate(integrand, 0.0, y_max, 16, 1e-11, 0.0, 1000).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ics::exact::{IsochroneDf, PlummerDf};
    use crate::ics::spherical::test_profiles;
    use crate::units::G;

    /// Hernquist (1990) eq. 17: the exact isotropic DF.
    fn hernquist_df(m: f64, a: f64, e: f64) -> f64 {
        let vg = (G * m / a).sqrt();
        let q = (e * a / (G * m)).sqrt();
        let q2 = q * q;
        m / (8.0 * 2f64.sqrt() * PI.powi(3) * a.powi(3) * vg.powi(3)) / (1.0 - q2).powf(2.5)
            * (3.0 * q.asin() + q * (1.0 - q2).sqrt() * (1.0 - 2.0 * q2) * (8.0 * q2 * q2 - 8.0 * q2 - 3.0))
    }

    /// Largest relative error over eta = ln(E/(Psi0 - E)) in [eta_lo, 12].
    fn max_rel_err(df: &EddingtonDf, exact: impl Fn(f64) -> f64, psi0: f64, eta_lo: f64) -> f64 {
        let mut worst = 0.0_f64;
        for k in 0..2000 {
            let eta = eta_lo + (12.0 - eta_lo) * k as f64 / 2000.0;
            let e = psi0 / (1.0 + (-eta).exp());
            if e >= psi0 {
                continue;
            }
            let (a, b) = (df.df(e), exact(e));
            if b > 0.0 && b.is_finite() {
                worst = worst.max((a / b - 1.0).abs());
            }
        }
        worst
    }

    /// [`max_rel_err`] of `df` against `exact`, reported and held below `tol`.
    fn assert_df_close(
        name: &str,
        df: &EddingtonDf,
        exact: impl Fn(f64) -> f64,
        psi0: f64,
        eta_lo: f64,
        tol: f64,
    ) {
        let err = max_rel_err(df, exact, psi0, eta_lo);
        eprintln!("{name} max rel err {err:e}");
        assert!(err < tol, "{name}: {err}");
    }

    #[test]
    fn eddington_reproduces_the_exact_dfs() {
        let h = test_profiles::Dehnen {
            m: 1e11,
            a: 2.0,
            gamma: 1.0,
        };
        let t = std::time::Instant::now();
        let df = EddingtonDf::new(&h).unwrap();
        eprintln!("hernquist table: {} nodes in {:?}", df.nodes().len(), t.elapsed());
        let psi0 = G * h.m / h.a;
        // The closed form cancels as q^5 at small q: its own error is 3e-16/q^4, so it is
        // compared only where E/Psi0 > 5e-5.
        assert_df_close("Hernquist", &df, |e| hernquist_df(h.m, h.a, e), psi0, -10.0, 1e-5);

        let p = test_profiles::Plummer { m: 5e5, a: 0.02 };
        let df = EddingtonDf::new(&p).unwrap();
        let exact = PlummerDf::new(p.m, p.a).unwrap();
        assert_df_close("Plummer", &df, |e| exact.df(e), exact.psi(0.0), -20.0, 5e-5);

        let i = test_profiles::Isochrone { m: 3.334e11, b: 5.0 };
        let df = EddingtonDf::new(&i).unwrap();
        let exact = IsochroneDf::new(i.m, i.b).unwrap();
        assert_df_close("isochrone", &df, |e| exact.df(e), exact.psi(0.0), -20.0, 5e-5);
    }

    #[test]
    fn eddington_dehnen_reproduces_its_density() {
        for gamma in [0.0, 0.5, 1.5, 1.9] {
            let d = test_profiles::Dehnen {
                m: 1e10,
                a: 1.0,
                gamma,
            };
            let t = std::time::Instant::now();
            let df = EddingtonDf::new(&d).unwrap();
            eprintln!("gamma {gamma}: {} nodes in {:?}", df.nodes().len(), t.elapsed());
            for r in [1e-3, 0.05, 1.0, 20.0, 1e3] {
                let psi = -d.phi(r);
                let v_esc = (2.0 * psi).sqrt();
                let (i, _) = integrate(
                    |v| v * v * df.df(psi - 0.5 * v * v),
                    0.0,
                    v_esc,
                    16,
                    1e-10,
                    0.0,
                    4000,
                );
                let rho = 4.0 * PI * i;
                let exact = d.density(r);
                eprintln!("  r={r}: rho rel err {:e}", rho / exact - 1.0);
                assert!(
                    (rho / exact - 1.0).abs() < 1e-4,
                    "gamma {gamma}, r {r}: {rho} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn infinite_mass_is_an_error() {
        #[derive(Debug)]
        struct Sis;
        impl SphericalProfile for Sis {
            fn phi(&self, r: f64) -> f64 {
                100.0 * r.ln()
            }
            fn dphi_dr(&self, r: f64) -> f64 {
                100.0 / r
            }
            fn d2phi_dr2(&self, r: f64) -> f64 {
                -100.0 / (r * r)
            }
            fn total_mass(&self) -> Option<f64> {
                None
            }
        }
        assert!(matches!(
            EddingtonDf::new(&Sis),
            Err(IcsError::InfiniteMass { .. })
        ));
    }

    #[test]
    fn a_density_with_a_central_hole_has_no_isotropic_df() {
        // A shell, rho ∝ r^4 / (1 + r^2)^5, traced in a Plummer potential: d rho/d Psi < 0
        // near the centre, so f(E) < 0 at large binding energies.
        #[derive(Debug)]
        struct Shell(test_profiles::Plummer);
        impl SphericalProfile for Shell {
            fn phi(&self, r: f64) -> f64 {
                self.0.phi(r)
            }
            fn dphi_dr(&self, r: f64) -> f64 {
                self.0.dphi_dr(r)
            }
            fn d2phi_dr2(&self, r: f64) -> f64 {
                self.0.d2phi_dr2(r)
            }
            fn density(&self, r: f64) -> f64 {
                1e10 * r.powi(4) / (1.0 + r * r).powi(5)
            }
            fn total_mass(&self) -> Option<f64> {
                self.0.total_mass()
            }
        }
        let shell = Shell(test_profiles::Plummer { m: 1e10, a: 1.0 });
        let e = EddingtonDf::new(&shell).unwrap_err();
        assert!(matches!(e, IcsError::NegativeDf { .. }), "{e}");
    }

    #[test]
    fn upper_bound_dominates_the_df() {
        let d = test_profiles::Dehnen {
            m: 1e10,
            a: 1.0,
            gamma: 1.5,
        };
        let df = EddingtonDf::new(&d).unwrap();
        let psi0 = -d.phi(0.0);
        let mut last = 0.0;
        for k in 1..5000 {
            let e = psi0 * k as f64 / 5000.0;
            let u = df.df_upper(e);
            assert!(u >= df.df(e) && u >= last);
            last = u;
        }
    }
}
