//! Statistical tests of the initial-condition samplers (fixed seeds).
//!
//! Every comparison is a z-score against the statistical error of the sample itself, or a
//! Kolmogorov–Smirnov distance against its critical value, so each can fail when the
//! distribution is wrong by more than the sampling noise (the resolution is quoted next to
//! each check). Equilibrium models are held to the analytic enclosed mass, to the isotropic
//! Jeans dispersion sigma_r^2(r) (quadrature of the crate's profile; Plummer's closed form is
//! a unit test of that quadrature), to isotropy, to the virial theorem and to reproducibility.

use std::f64::consts::PI;
use std::time::Instant;

use actionfinder_integrators::ics::{
    jeans_sigma_r2, sample_disk, sample_equilibrium, sample_halo, DiskOptions, EddingtonDf, EquilibriumModel,
    EquilibriumOptions, HaloOptions, HaloRedraw, IcsError, CHUNK,
};
use actionfinder_integrators::potential::{Hernquist, Isochrone, Potential, SphericalProfile, Symmetry};
use actionfinder_integrators::units::G;
use actionfinder_integrators::{PhaseSpace, Vec3};

/// |z| above this fails a test (two-sided p = 6e-6 for one normal deviate; the suite makes
/// a few hundred comparisons).
const Z_MAX: f64 = 4.5;
/// sqrt(n) D above this fails a Kolmogorov–Smirnov test (p ~ 1e-3).
const KS_MAX: f64 = 1.95;

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// (mean, standard error of the mean).
fn mean_se(x: &[f64]) -> (f64, f64) {
    let m = mean(x);
    let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0);
    (m, (var / x.len() as f64).sqrt())
}

/// sqrt(n) times the Kolmogorov–Smirnov distance of `u` from U(0, 1).
fn ks_uniform(mut u: Vec<f64>) -> f64 {
    u.sort_by(f64::total_cmp);
    let n = u.len() as f64;
    let mut d = 0.0_f64;
    for (i, &x) in u.iter().enumerate() {
        d = d.max((i as f64 + 1.0) / n - x).max(x - i as f64 / n);
    }
    d * n.sqrt()
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), enough for KS tests here.
fn erf(x: f64) -> f64 {
    let s = x.signum();
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    s * y
}

fn norm(a: &Vec3) -> f64 {
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt()
}

/// (r, v_r, v_theta, v_phi) of a point.
fn spherical(p: &PhaseSpace) -> (f64, f64, f64, f64) {
    let r = norm(&p.x);
    let vr = (p.x[0] * p.v[0] + p.x[1] * p.v[1] + p.x[2] * p.v[2]) / r;
    let big_r = (p.x[0] * p.x[0] + p.x[1] * p.x[1]).sqrt();
    let vphi = (p.x[0] * p.v[1] - p.x[1] * p.v[0]) / big_r;
    let v2 = p.v[0] * p.v[0] + p.v[1] * p.v[1] + p.v[2] * p.v[2];
    let vtheta = (v2 - vr * vr - vphi * vphi).max(0.0).sqrt();
    (r, vr, vtheta, vphi)
}

/// Radius enclosing mass fraction `p` of a finite-mass profile (bisection in ln r).
fn radius_of_fraction(prof: &dyn SphericalProfile, p: f64) -> f64 {
    let m = prof.total_mass().unwrap();
    let (mut lo, mut hi) = (-60.0_f64, 60.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if prof.enclosed_mass(mid.exp()) / m < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// sigma_r^2(r) tabulated by [`jeans_sigma_r2`] on a log grid, linear in (ln r, ln sigma^2).
struct JeansTable {
    ln_r0: f64,
    step: f64,
    ln_s2: Vec<f64>,
}

impl JeansTable {
    fn new(prof: &dyn SphericalProfile, r_min: f64, r_max: f64) -> Self {
        let n = 1200;
        let ln_r0 = r_min.ln() - 0.01;
        let step = ((r_max.ln() + 0.01) - ln_r0) / (n - 1) as f64;
        let ln_s2 = (0..n)
            .map(|i| jeans_sigma_r2(prof, (ln_r0 + step * i as f64).exp()).ln())
            .collect();
        Self { ln_r0, step, ln_s2 }
    }

    fn eval(&self, r: f64) -> f64 {
        let t = (r.ln() - self.ln_r0) / self.step;
        let i = (t.floor() as usize).min(self.ln_s2.len() - 2);
        let w = t - i as f64;
        ((1.0 - w) * self.ln_s2[i] + w * self.ln_s2[i + 1]).exp()
    }
}

/// All the statistical checks of an equilibrium sample; returns the worst |z|.
fn check_equilibrium(name: &str, model: EquilibriumModel, n: usize, seed: u64) -> f64 {
    let pot = model.potential().unwrap();
    let prof = pot.spherical().unwrap();
    let t = Instant::now();
    let pts = sample_equilibrium(&model, n, seed, &EquilibriumOptions::default()).unwrap();
    let elapsed = t.elapsed();
    assert_eq!(pts.len(), n);
    let mut worst = 0.0_f64;
    let mut z_check = |what: String, z: f64| {
        eprintln!("  {name}: {what}: z = {z:+.2}");
        assert!(z.abs() < Z_MAX, "{name}: {what}: z = {z}");
        worst = worst.max(z.abs());
    };

    let sph: Vec<(f64, f64, f64, f64)> = pts.iter().map(spherical).collect();
    for (p, s) in pts.iter().zip(&sph) {
        assert!(p.is_finite(), "{name}: non-finite point {p:?}");
        let e = 0.5 * (p.v[0] * p.v[0] + p.v[1] * p.v[1] + p.v[2] * p.v[2]) + prof.phi(s.0);
        assert!(e <= 0.0, "{name}: unbound particle E = {e} at r = {}", s.0);
    }
    eprintln!("{name}: {n} particles in {elapsed:?}");

    // 1. Enclosed mass: binomial error sqrt(p (1 - p) / n) (resolution ~ 1e-3 in M(r)/M).
    for p in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] {
        let r = radius_of_fraction(prof, p);
        let frac = sph.iter().filter(|s| s.0 < r).count() as f64 / n as f64;
        z_check(
            format!("M(<{r:.4})/M = {p}: sample {frac:.5}"),
            (frac - p) / (p * (1.0 - p) / n as f64).sqrt(),
        );
    }

    // 2. Dispersion profiles: E[v_c^2 - sigma_r^2(r) | r] = 0 for each component c in 10
    //    equal-count radial bins (resolution ~ 4% of sigma^2 per bin).
    let r_lo = sph.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let r_hi = sph.iter().map(|s| s.0).fold(0.0, f64::max);
    let jeans = JeansTable::new(prof, r_lo, r_hi);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| sph[i].0.total_cmp(&sph[j].0));
    let bins = 10;
    for b in 0..bins {
        let idx = &order[b * n / bins..(b + 1) * n / bins];
        let s2: Vec<f64> = idx.iter().map(|&i| jeans.eval(sph[i].0)).collect();
        let model_s2 = mean(&s2);
        for (c, label) in [(1, "v_r"), (2, "v_theta"), (3, "v_phi")] {
            let d: Vec<f64> = idx
                .iter()
                .zip(&s2)
                .map(|(&i, s)| {
                    let v = [sph[i].1, sph[i].2, sph[i].3][c - 1];
                    v * v - s
                })
                .collect();
            let (md, se) = mean_se(&d);
            let r_med = sph[idx[idx.len() / 2]].0;
            z_check(
                format!(
                    "bin {b} (r ~ {r_med:.3e}) <{label}^2> = {:.4e} vs Jeans {model_s2:.4e}",
                    model_s2 + md
                ),
                md / se,
            );
        }
    }

    // 3. Isotropy over the whole sample: <v_theta^2 - v_r^2> = <v_phi^2 - v_r^2> = 0.
    for (c, label) in [(2, "v_theta"), (3, "v_phi")] {
        let d: Vec<f64> = sph
            .iter()
            .map(|s| {
                let v = if c == 2 { s.2 } else { s.3 };
                v * v - s.1 * s.1
            })
            .collect();
        let (md, se) = mean_se(&d);
        z_check(format!("isotropy <{label}^2 - v_r^2> = {md:.4e}"), md / se);
    }

    // 4. Mean velocity = 0.
    for k in 0..3 {
        let v: Vec<f64> = pts.iter().map(|p| p.v[k]).collect();
        let (m, se) = mean_se(&v);
        z_check(format!("<v_{k}> = {m:.3e}"), m / se);
    }

    // 5. Virial theorem 2K = -W = sum r dPhi/dr (per unit mass); error of the ratio by
    //    linearisation (resolution ~ 0.3%).
    let v2: Vec<f64> = pts
        .iter()
        .map(|p| p.v[0] * p.v[0] + p.v[1] * p.v[1] + p.v[2] * p.v[2])
        .collect();
    let w: Vec<f64> = sph.iter().map(|s| s.0 * prof.dphi_dr(s.0)).collect();
    let ratio = v2.iter().sum::<f64>() / w.iter().sum::<f64>();
    let resid: Vec<f64> = v2.iter().zip(&w).map(|(a, b)| a - ratio * b).collect();
    let (_, se_resid) = mean_se(&resid);
    let se = se_resid / mean(&w);
    z_check(
        format!("virial 2K/|W| = {ratio:.5} (+- {se:.5})"),
        (ratio - 1.0) / se,
    );
    worst
}

#[test]
fn plummer_equilibrium_statistics() {
    // The paper's §6.5 cluster.
    check_equilibrium(
        "plummer",
        EquilibriumModel::Plummer { m: 5e5, a: 0.02 },
        200_000,
        11,
    );
}

#[test]
fn isochrone_equilibrium_statistics() {
    check_equilibrium(
        "isochrone",
        EquilibriumModel::Isochrone { m: 3.334e11, b: 5.0 },
        200_000,
        12,
    );
}

#[test]
fn hernquist_equilibrium_statistics() {
    check_equilibrium(
        "hernquist",
        EquilibriumModel::Hernquist { m: 1e12, a: 20.0 },
        200_000,
        13,
    );
}

#[test]
fn dehnen_equilibrium_statistics() {
    for (k, gamma) in [0.0, 1.5, 1.9].into_iter().enumerate() {
        check_equilibrium(
            &format!("dehnen gamma={gamma}"),
            EquilibriumModel::Dehnen {
                m: 1e10,
                a: 1.5,
                gamma,
            },
            200_000,
            14 + k as u64,
        );
    }
}

#[test]
fn eddington_on_the_crate_hernquist_matches_its_closed_form() {
    // Hernquist (1990) eq. 17, compared where its own cancellation (3e-16/q^4) is negligible.
    let (m, a) = (1e12, 20.0);
    let h = Hernquist::new(m, a).unwrap();
    let df = EddingtonDf::new(&h).unwrap();
    let vg = (G * m / a).sqrt();
    let mut worst = 0.0_f64;
    for k in 1..1000 {
        let q2 = 1e-4 + (1.0 - 2e-4) * k as f64 / 1000.0;
        let q = q2.sqrt();
        let exact = m / (8.0 * 2f64.sqrt() * PI.powi(3) * a.powi(3) * vg.powi(3)) / (1.0 - q2).powf(2.5)
            * (3.0 * q.asin() + q * (1.0 - q2).sqrt() * (1.0 - 2.0 * q2) * (8.0 * q2 * q2 - 8.0 * q2 - 3.0));
        let e = q2 * G * m / a;
        worst = worst.max((df.df(e) / exact - 1.0).abs());
    }
    eprintln!("Eddington vs Hernquist closed form: max relative error {worst:.2e}");
    assert!(worst < 1e-5, "{worst}");
}

#[test]
fn truncated_sample_follows_the_truncated_mass_profile() {
    let model = EquilibriumModel::Hernquist { m: 1e12, a: 20.0 };
    let pot = model.potential().unwrap();
    let prof = pot.spherical().unwrap();
    let r_max = 100.0;
    let n = 100_000;
    let pts = sample_equilibrium(&model, n, 3, &EquilibriumOptions { r_max: Some(r_max) }).unwrap();
    assert!(pts.iter().all(|p| p.radius() < r_max));
    // u = M(<r)/M(<r_max) must be uniform.
    let m_max = prof.enclosed_mass(r_max);
    let u: Vec<f64> = pts
        .iter()
        .map(|p| prof.enclosed_mass(p.radius()) / m_max)
        .collect();
    let ks = ks_uniform(u);
    eprintln!("truncated Hernquist: sqrt(n) D = {ks:.3}");
    assert!(ks < KS_MAX);
}

#[test]
fn equilibrium_samples_are_reproducible_and_thread_count_independent() {
    let models = [
        EquilibriumModel::Plummer { m: 5e5, a: 0.02 },
        EquilibriumModel::Isochrone { m: 3.334e11, b: 5.0 },
        EquilibriumModel::Hernquist { m: 1e12, a: 20.0 },
        EquilibriumModel::Dehnen {
            m: 1e10,
            a: 1.5,
            gamma: 0.5,
        },
    ];
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let n = 3 * CHUNK + 11;
    let opts = EquilibriumOptions::default();
    for model in models {
        let a = one.install(|| sample_equilibrium(&model, n, 99, &opts)).unwrap();
        let b = three
            .install(|| sample_equilibrium(&model, n, 99, &opts))
            .unwrap();
        let c = sample_equilibrium(&model, n, 100, &opts).unwrap();
        let prefix = sample_equilibrium(&model, CHUNK + 1, 99, &opts).unwrap();
        assert_eq!(a, b, "{model:?}: depends on the thread count");
        assert_ne!(a, c, "{model:?}: seed ignored");
        assert_eq!(&a[..CHUNK + 1], &prefix[..], "{model:?}: not prefix-stable");
        let mean_v: f64 = a.iter().map(|p| p.v[0]).sum::<f64>() / n as f64;
        let mean_v_b: f64 = b.iter().map(|p| p.v[0]).sum::<f64>() / n as f64;
        assert_eq!(mean_v.to_bits(), mean_v_b.to_bits());
    }
}

#[test]
fn equilibrium_from_potential_and_errors() {
    let iso = Isochrone::new(3.334e11, 5.0).unwrap();
    let a =
        actionfinder_integrators::ics::sample_equilibrium_from_potential(&iso, 100, 5, &Default::default())
            .unwrap();
    let b = sample_equilibrium(
        &EquilibriumModel::Isochrone { m: 3.334e11, b: 5.0 },
        100,
        5,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(a, b);
    let e = sample_equilibrium(
        &EquilibriumModel::Plummer { m: -1.0, a: 1.0 },
        10,
        1,
        &Default::default(),
    )
    .unwrap_err();
    eprintln!("{e}");
    let e = actionfinder_integrators::ics::sample_equilibrium_from_potential(
        &POSITIVE,
        10,
        1,
        &Default::default(),
    )
    .unwrap_err();
    assert!(matches!(e, IcsError::Unsupported { .. }), "{e}");
}

// ---------------------------------------------------------------------------------------
// Halo recipe

#[test]
fn halo_recipe_statistics() {
    let iso = Isochrone::new(3.334e11, 5.0).unwrap();
    let o = HaloOptions::default();
    let n = 100_000;
    let pts = sample_halo(&iso, n, 21, &o).unwrap();
    assert_eq!(pts.len(), n);
    let sigma = o.sigma;
    let mut u_speed = Vec::with_capacity(n);
    let mut u_radius = Vec::with_capacity(n);
    let mut mean_dir = [[0.0; 3]; 2];
    for p in &pts {
        let r = p.radius();
        let phi = iso.potential(&p.x);
        let v = norm(&p.v);
        assert!(0.5 * v * v + phi < 0.0, "unbound {p:?}");
        assert!((o.r_min..=o.r_max).contains(&r), "radius {r}");
        u_radius.push((r - o.r_min) / (o.r_max - o.r_min));
        // Conditional CDF of |N(0, sigma)| truncated at v_esc(x).
        let v_esc = (-2.0 * phi).sqrt();
        let s = sigma * 2f64.sqrt();
        u_speed.push(erf(v / s) / erf(v_esc / s));
        for (k, (x, vk)) in p.x.iter().zip(&p.v).enumerate() {
            mean_dir[0][k] += x / r / n as f64;
            mean_dir[1][k] += vk / v / n as f64;
        }
    }
    let ks_r = ks_uniform(u_radius);
    let ks_v = ks_uniform(u_speed);
    eprintln!(
        "halo: radii uniform sqrt(n) D = {ks_r:.3}; speeds |N| truncated at v_esc sqrt(n) D = {ks_v:.3}"
    );
    assert!(ks_r < KS_MAX && ks_v < KS_MAX);
    // Direction means: each component has sd sqrt(1/(3n)).
    let sd = (1.0 / (3.0 * n as f64)).sqrt();
    for d in mean_dir {
        for c in d {
            assert!((c / sd).abs() < Z_MAX, "direction mean {d:?}");
        }
    }
    eprintln!(
        "halo: mean position direction {:?}, velocity direction {:?} (sd {sd:.1e})",
        mean_dir[0], mean_dir[1]
    );
}

#[test]
fn halo_point_redraw_conditions_on_boundness() {
    // Redrawing whole points weights radius r by P(bound | r) = erf(v_esc(r)/(sqrt 2 sigma)).
    let iso = Isochrone::new(3.334e11, 5.0).unwrap();
    let o = HaloOptions {
        redraw: HaloRedraw::Point,
        sigma: 400.0,
        ..Default::default()
    };
    let n = 50_000;
    let pts = sample_halo(&iso, n, 22, &o).unwrap();
    let weight = |r: f64| erf((-2.0 * iso.potential(&[r, 0.0, 0.0])).sqrt() / (2f64.sqrt() * o.sigma));
    // CDF on a fine grid (trapezoid).
    let m = 4000;
    let h = (o.r_max - o.r_min) / m as f64;
    let mut cdf = vec![0.0; m + 1];
    for i in 1..=m {
        let (a, b) = (o.r_min + h * (i - 1) as f64, o.r_min + h * i as f64);
        cdf[i] = cdf[i - 1] + 0.5 * h * (weight(a) + weight(b));
    }
    let total = cdf[m];
    let u: Vec<f64> = pts
        .iter()
        .map(|p| {
            assert!(p.kinetic_energy() + iso.potential(&p.x) < 0.0);
            let t = (p.radius() - o.r_min) / h;
            let i = (t.floor() as usize).min(m - 1);
            let w = t - i as f64;
            ((1.0 - w) * cdf[i] + w * cdf[i + 1]) / total
        })
        .collect();
    let ks = ks_uniform(u);
    // Uniform radii would be rejected: the bias must be visible.
    let ks_uniform_r = ks_uniform(
        pts.iter()
            .map(|p| (p.radius() - o.r_min) / (o.r_max - o.r_min))
            .collect(),
    );
    eprintln!("halo Point redraw: sqrt(n) D vs bound-weighted = {ks:.3}, vs uniform = {ks_uniform_r:.3}");
    assert!(ks < KS_MAX);
    assert!(ks_uniform_r > 2.0 * KS_MAX);
}

#[test]
fn halo_errors_are_clear() {
    let e = sample_halo(&POSITIVE, 10, 1, &HaloOptions::default()).unwrap_err();
    assert!(matches!(e, IcsError::NoBoundVelocity { .. }), "{e}");
    eprintln!("{e}");
    let o = HaloOptions {
        bound_only: false,
        ..Default::default()
    };
    assert_eq!(sample_halo(&POSITIVE, 10, 1, &o).unwrap().len(), 10);
}

#[test]
fn halo_is_thread_count_independent() {
    let iso = Isochrone::new(3.334e11, 5.0).unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let n = 2 * CHUNK + 3;
    let a = one
        .install(|| sample_halo(&iso, n, 7, &HaloOptions::default()))
        .unwrap();
    let b = sample_halo(&iso, n, 7, &HaloOptions::default()).unwrap();
    assert_eq!(a, b);
}

// ---------------------------------------------------------------------------------------
// Disk recipe

/// Miyamoto & Nagai (1975) disk, written here so the test does not rely on the crate's
/// version: Phi = -GM / sqrt(R^2 + (a + sqrt(z^2 + b^2))^2). Hessian by central differences.
#[derive(Debug)]
struct TestMiyamotoNagai {
    m: f64,
    a: f64,
    b: f64,
}

impl Potential for TestMiyamotoNagai {
    fn potential(&self, x: &Vec3) -> f64 {
        let zb = (x[2] * x[2] + self.b * self.b).sqrt();
        -G * self.m / (x[0] * x[0] + x[1] * x[1] + (self.a + zb).powi(2)).sqrt()
    }
    fn acceleration(&self, x: &Vec3) -> Vec3 {
        let zb = (x[2] * x[2] + self.b * self.b).sqrt();
        let d2 = x[0] * x[0] + x[1] * x[1] + (self.a + zb).powi(2);
        let f = -G * self.m / (d2 * d2.sqrt());
        [f * x[0], f * x[1], f * x[2] * (self.a + zb) / zb]
    }
    fn hessian(&self, x: &Vec3) -> [[f64; 3]; 3] {
        let mut h = [[0.0; 3]; 3];
        for j in 0..3 {
            let d = 1e-5 * (1.0 + norm(x));
            let (mut xp, mut xm) = (*x, *x);
            xp[j] += d;
            xm[j] -= d;
            let (ap, am) = (self.acceleration(&xp), self.acceleration(&xm));
            for i in 0..3 {
                h[i][j] = -(ap[i] - am[i]) / (2.0 * d);
            }
        }
        h
    }
    fn symmetry(&self) -> Symmetry {
        Symmetry::Axisymmetric
    }
    fn spec(&self) -> String {
        format!("test-miyamoto-nagai:M={},a={},b={}", self.m, self.a, self.b)
    }
}

/// A test potential given by plain functions, with a zero Hessian (the samplers tested
/// with these never need it).
#[derive(Debug)]
struct FnPotential {
    phi: fn(&Vec3) -> f64,
    acceleration: fn(&Vec3) -> Vec3,
    symmetry: Symmetry,
    spec: &'static str,
}

impl Potential for FnPotential {
    fn potential(&self, x: &Vec3) -> f64 {
        (self.phi)(x)
    }
    fn acceleration(&self, x: &Vec3) -> Vec3 {
        (self.acceleration)(x)
    }
    fn hessian(&self, _x: &Vec3) -> [[f64; 3]; 3] {
        [[0.0; 3]; 3]
    }
    fn symmetry(&self) -> Symmetry {
        self.symmetry
    }
    fn spec(&self) -> String {
        self.spec.into()
    }
}

/// A potential that is positive everywhere (its zero point is not at infinity).
const POSITIVE: FnPotential = FnPotential {
    phi: |x| 1e4 * (1.0 + x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).ln() + 1.0,
    acceleration: |x| {
        let f = -2e4 / (1.0 + x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
        [f * x[0], f * x[1], f * x[2]]
    },
    symmetry: Symmetry::Spherical,
    spec: "test-positive",
};

/// A triaxial potential (no symmetry).
const TRIAXIAL: FnPotential = FnPotential {
    phi: |x| -1e5 / (1.0 + x[0] * x[0] + 2.0 * x[1] * x[1] + 3.0 * x[2] * x[2]).sqrt(),
    acceleration: |_| [0.0; 3],
    symmetry: Symmetry::None,
    spec: "test-triaxial",
};

/// A repulsive point mass (outward force): no circular orbits.
const REPULSIVE: FnPotential = FnPotential {
    phi: |x| 1e5 / norm(x) - 1e6,
    acceleration: |x| {
        let r = norm(x);
        let f = 1e5 / (r * r * r);
        [f * x[0], f * x[1], f * x[2]]
    },
    symmetry: Symmetry::Spherical,
    spec: "test-repulsive",
};

#[test]
fn disk_recipe_statistics() {
    let mn = TestMiyamotoNagai {
        m: 1e11,
        a: 3.0,
        b: 0.28,
    };
    let o = DiskOptions::default();
    let n = 100_000;
    let pts = sample_disk(&mn, n, 31, &o).unwrap();
    assert_eq!(pts.len(), n);
    // Analytic midplane quantities of the Miyamoto–Nagai disk: D^2 = R^2 + (a + b)^2,
    // dPhi/dR = GM R / D^3, d2Phi/dR2 = GM (1/D^3 - 3 R^2 / D^5).
    let ab = mn.a + mn.b;
    let midplane = |r: f64| {
        let d = (r * r + ab * ab).sqrt();
        let phi_r = G * mn.m * r / d.powi(3);
        let phi_rr = G * mn.m * (1.0 / d.powi(3) - 3.0 * r * r / d.powi(5));
        let omega2 = phi_r / r;
        ((r * phi_r).sqrt(), (phi_rr + 3.0 * omega2) / (4.0 * omega2))
    };
    let (mut d_phi, mut d_phi2_excess, mut vr, mut vz, mut zs, mut u_r) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let surv = |r: f64| (1.0 + r / o.scale_length) * (-r / o.scale_length).exp();
    let (s_lo, s_hi) = (surv(o.r_min), surv(o.r_max));
    let mut lz = 0.0;
    for p in &pts {
        assert!(p.kinetic_energy() + mn.potential(&p.x) < 0.0);
        let big_r = (p.x[0] * p.x[0] + p.x[1] * p.x[1]).sqrt();
        assert!((o.r_min..=o.r_max).contains(&big_r), "R = {big_r}");
        let (c, s) = (p.x[0] / big_r, p.x[1] / big_r);
        let v_r = p.v[0] * c + p.v[1] * s;
        let v_phi = -p.v[0] * s + p.v[1] * c;
        let (vc, ratio2) = midplane(big_r);
        d_phi.push(v_phi - vc);
        d_phi2_excess.push((v_phi - vc).powi(2) - o.sigma_r * o.sigma_r * ratio2);
        vr.push(v_r);
        vz.push(p.v[2]);
        zs.push(p.x[2]);
        u_r.push((s_lo - surv(big_r)) / (s_lo - s_hi));
        lz += big_r * v_phi / n as f64;
    }
    let report = |what: &str, z: f64| {
        eprintln!("disk: {what}: z = {z:+.2}");
        assert!(z.abs() < Z_MAX, "disk: {what}: z = {z}");
    };
    let (m, se) = mean_se(&d_phi);
    report(&format!("<v_phi - v_c> = {m:.3} km/s"), m / se);
    let (m, se) = mean_se(&d_phi2_excess);
    report(
        &format!("<(v_phi - v_c)^2> - sigma_R^2 kappa^2/(4 Omega^2) = {m:.3}"),
        m / se,
    );
    for (label, x, sd) in [
        ("v_R", &vr, o.sigma_r),
        ("v_z", &vz, o.sigma_z),
        ("z", &zs, o.scale_height),
    ] {
        let (m, se) = mean_se(x);
        report(&format!("<{label}> = {m:.4}"), m / se);
        let sq: Vec<f64> = x.iter().map(|v| v * v - sd * sd).collect();
        let (m, se) = mean_se(&sq);
        report(
            &format!("<{label}^2> = {:.4} vs {:.4}", m + sd * sd, sd * sd),
            m / se,
        );
    }
    let ks = ks_uniform(u_r);
    eprintln!("disk: R vs truncated exponential disk sqrt(n) D = {ks:.3}; <L_z> = {lz:.1} kpc km/s");
    assert!(ks < KS_MAX);
    assert!(lz > 0.0);
}

#[test]
fn disk_with_given_sigma_phi_in_a_spherical_potential() {
    let iso = Isochrone::new(3.334e11, 5.0).unwrap();
    let o = DiskOptions {
        sigma_phi: Some(15.0),
        sigma_r: 30.0,
        sigma_z: 5.0,
        ..Default::default()
    };
    let n = 50_000;
    let pts = sample_disk(&iso, n, 32, &o).unwrap();
    let prof = iso.spherical().unwrap();
    let dv: Vec<f64> = pts
        .iter()
        .map(|p| {
            let big_r = (p.x[0] * p.x[0] + p.x[1] * p.x[1]).sqrt();
            let v_phi = (p.x[0] * p.v[1] - p.x[1] * p.v[0]) / big_r;
            v_phi - (big_r * prof.dphi_dr(big_r)).sqrt()
        })
        .collect();
    let (m, se) = mean_se(&dv);
    let var: Vec<f64> = dv.iter().map(|d| d * d - 225.0).collect();
    let (mv, sev) = mean_se(&var);
    eprintln!(
        "isochrone disk: <v_phi - v_c> = {m:.3} (z {:.2}), var excess z {:.2}",
        m / se,
        mv / sev
    );
    assert!((m / se).abs() < Z_MAX && (mv / sev).abs() < Z_MAX);
}

#[test]
fn disk_errors_are_clear() {
    let e = sample_disk(&TRIAXIAL, 10, 1, &DiskOptions::default()).unwrap_err();
    assert!(matches!(e, IcsError::NotAxisymmetric { .. }), "{e}");
    eprintln!("{e}");
    let e = sample_disk(&REPULSIVE, 10, 1, &DiskOptions::default()).unwrap_err();
    assert!(matches!(e, IcsError::NoCircularOrbit { .. }), "{e}");
    eprintln!("{e}");
    let bad = DiskOptions {
        r_min: 10.0,
        r_max: 5.0,
        ..Default::default()
    };
    let iso = Isochrone::new(3.334e11, 5.0).unwrap();
    assert!(matches!(
        sample_disk(&iso, 10, 1, &bad),
        Err(IcsError::BadParameter { .. })
    ));
}
