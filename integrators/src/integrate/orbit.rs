//! Integrating orbits and recording them at requested times.
//!
//! The main trajectory advances on a fixed grid of step dt. An output time between two grid
//! points is reached by one extra step of the same scheme from the grid point before it, taken
//! on a copy, so outputs never perturb the trajectory and carry the scheme's own accuracy.

use rayon::prelude::*;

use super::schemes::Scheme;
use crate::phase::{dot, norm, PhaseSpace, Vec3};
use crate::potential::Potential;

/// How the step size is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepSize {
    /// A fixed step in the internal time unit kpc/(km/s).
    Fixed(f64),
    /// Per orbit: start at `eta` times the orbit's initial dynamical time
    /// min(r/|v|, sqrt(r/|a|)) and refine until the largest relative energy error
    /// |E(t) - E(0)| / |E(0)| along the orbit is below `tolerance`.
    Auto { eta: f64, tolerance: f64 },
}

impl StepSize {
    /// Energy-controlled steps: per-orbit step refined until |dE/E| <= `tolerance`.
    pub fn auto(tolerance: f64) -> Self {
        StepSize::Auto { eta: 0.02, tolerance }
    }
}

/// Options of an orbit integration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IntegrationOptions {
    pub scheme: Scheme,
    pub step: StepSize,
    /// Largest number of steps one orbit may take (guards against absurd step sizes).
    pub max_steps: u64,
}

impl Default for IntegrationOptions {
    fn default() -> Self {
        Self {
            scheme: Scheme::Yoshida4,
            step: StepSize::auto(1e-10),
            max_steps: 200_000_000,
        }
    }
}

/// Why an orbit could not be integrated.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum IntegrationError {
    #[error("initial condition {0:?} is not finite")]
    NonFiniteStart(PhaseSpace),
    #[error("output times must be finite, >= 0 and non-decreasing (time {index} = {value})")]
    BadTimes { index: usize, value: f64 },
    #[error("step size {0} must be finite and > 0")]
    BadStep(f64),
    #[error("orbit would need {needed} steps, more than the limit {limit}")]
    TooManySteps { needed: u64, limit: u64 },
    #[error("orbit became non-finite at t = {t} (unbound to infinity, or through a singular centre)")]
    NonFinite { t: f64 },
    #[error("energy error {achieved:e} above tolerance {tolerance:e} after {tries} step refinements (dt = {dt:e})")]
    EnergyTolerance {
        achieved: f64,
        tolerance: f64,
        tries: u32,
        dt: f64,
    },
}

/// An integrated orbit: the points at the requested times and how well energy was kept.
#[derive(Clone, Debug, PartialEq)]
pub struct Orbit {
    pub points: Vec<PhaseSpace>,
    /// Largest |E(t) - E(0)| / |E(0)| seen along the trajectory.
    pub energy_error: f64,
    /// Step size used (internal time unit).
    pub dt: f64,
    /// Number of steps taken on the main trajectory.
    pub steps: u64,
}

/// Specific energy v²/2 + Phi(x).
pub fn energy<P: Potential + ?Sized>(pot: &P, w: &PhaseSpace) -> f64 {
    0.5 * dot(&w.v, &w.v) + pot.potential(&w.x)
}

/// Integrate one orbit from `start` (at t = 0) and record it at `times` (internal unit,
/// non-decreasing, >= 0).
pub fn integrate<P: Potential + ?Sized>(
    pot: &P,
    start: &PhaseSpace,
    times: &[f64],
    opts: &IntegrationOptions,
) -> Result<Orbit, IntegrationError> {
    check_inputs(start, times)?;
    match opts.step {
        StepSize::Fixed(dt) => run(pot, start, times, opts, dt),
        StepSize::Auto { eta, tolerance } => integrate_auto(pot, start, times, opts, eta, tolerance),
    }
}

/// Integrate many orbits in parallel; `times[i]` are the output times of orbit i.
/// `on_done` is called once per finished orbit (for progress bars).
pub fn integrate_many<P: Potential + ?Sized>(
    pot: &P,
    starts: &[PhaseSpace],
    times: &[Vec<f64>],
    opts: &IntegrationOptions,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Result<Orbit, IntegrationError>> {
    starts
        .par_iter()
        .zip(times.par_iter())
        .map(|(w, t)| {
            let orbit = integrate(pot, w, t, opts);
            on_done();
            orbit
        })
        .collect()
}

fn check_inputs(start: &PhaseSpace, times: &[f64]) -> Result<(), IntegrationError> {
    if !start.is_finite() {
        return Err(IntegrationError::NonFiniteStart(*start));
    }
    let mut last = 0.0;
    for (index, &value) in times.iter().enumerate() {
        if !value.is_finite() || value < last {
            return Err(IntegrationError::BadTimes { index, value });
        }
        last = value;
    }
    Ok(())
}

/// The orbit's initial dynamical time min(r/|v|, sqrt(r/|a|)).
fn dynamical_time<P: Potential + ?Sized>(pot: &P, w: &PhaseSpace) -> f64 {
    let r = w.radius();
    let a = norm(&pot.acceleration(&w.x));
    let v = norm(&w.v);
    let mut tau = f64::INFINITY;
    if v > 0.0 {
        tau = tau.min(r / v);
    }
    if a > 0.0 {
        tau = tau.min((r / a).sqrt());
    }
    if tau.is_finite() && tau > 0.0 {
        tau
    } else {
        1e-3
    }
}

/// Refine the step until energy is kept to `tolerance` (at most 12 refinements).
fn integrate_auto<P: Potential + ?Sized>(
    pot: &P,
    start: &PhaseSpace,
    times: &[f64],
    opts: &IntegrationOptions,
    eta: f64,
    tolerance: f64,
) -> Result<Orbit, IntegrationError> {
    let mut dt = eta * dynamical_time(pot, start);
    let order = opts.scheme.order() as i32;
    let mut tries = 0;
    loop {
        let orbit = run(pot, start, times, opts, dt);
        let achieved = match &orbit {
            Ok(o) if o.energy_error <= tolerance => return orbit,
            Ok(o) => o.energy_error,
            Err(IntegrationError::NonFinite { .. }) => f64::INFINITY,
            Err(_) => return orbit,
        };
        tries += 1;
        if tries > 12 {
            return Err(IntegrationError::EnergyTolerance {
                achieved,
                tolerance,
                tries,
                dt,
            });
        }
        // Error ~ dt^order: aim 30% below the tolerance, shrink by at least 2 and at most 10.
        let factor = (0.7 * tolerance / achieved).powf(1.0 / order as f64);
        dt *= factor.clamp(0.1, 0.5);
    }
}

/// Integrate with a fixed step `dt`, recording at `times`.
fn run<P: Potential + ?Sized>(
    pot: &P,
    start: &PhaseSpace,
    times: &[f64],
    opts: &IntegrationOptions,
    dt: f64,
) -> Result<Orbit, IntegrationError> {
    if !(dt.is_finite() && dt > 0.0) {
        return Err(IntegrationError::BadStep(dt));
    }
    let t_end = times.last().copied().unwrap_or(0.0);
    let needed = (t_end / dt).ceil() as u64;
    if needed > opts.max_steps {
        return Err(IntegrationError::TooManySteps {
            needed,
            limit: opts.max_steps,
        });
    }
    let mut track = Tracker::new(pot, start, opts.scheme);
    let mut points = Vec::with_capacity(times.len());
    for &t_out in times {
        let grid_steps = ((t_out / dt).floor() as u64).max(track.steps);
        track.advance_to(grid_steps, dt)?;
        points.push(track.at(t_out - track.steps as f64 * dt));
    }
    let energy_error = track.energy_error.max(
        points
            .iter()
            .map(|w| track.relative_energy_error(w))
            .fold(0.0, f64::max),
    );
    if !energy_error.is_finite() {
        return Err(IntegrationError::NonFinite { t: t_end });
    }
    Ok(Orbit {
        points,
        energy_error,
        dt,
        steps: track.steps,
    })
}

/// State of one trajectory on its step grid.
struct Tracker<'p, P: Potential + ?Sized> {
    pot: &'p P,
    scheme: Scheme,
    x: Vec3,
    v: Vec3,
    a: Vec3,
    steps: u64,
    e0: f64,
    energy_error: f64,
}

/// Energy is checked every this many steps (and at every output).
const ENERGY_CHECK_EVERY: u64 = 16;

impl<'p, P: Potential + ?Sized> Tracker<'p, P> {
    fn new(pot: &'p P, start: &PhaseSpace, scheme: Scheme) -> Self {
        Self {
            pot,
            scheme,
            x: start.x,
            v: start.v,
            a: pot.acceleration(&start.x),
            steps: 0,
            e0: energy(pot, start),
            energy_error: 0.0,
        }
    }

    fn relative_energy_error(&self, w: &PhaseSpace) -> f64 {
        ((energy(self.pot, w) - self.e0) / self.e0).abs()
    }

    /// Take steps until `self.steps == target`.
    fn advance_to(&mut self, target: u64, dt: f64) -> Result<(), IntegrationError> {
        while self.steps < target {
            self.scheme
                .step(self.pot, &mut self.x, &mut self.v, &mut self.a, dt);
            self.steps += 1;
            if self.steps.is_multiple_of(ENERGY_CHECK_EVERY) {
                let err = self.relative_energy_error(&PhaseSpace::new(self.x, self.v));
                if !err.is_finite() {
                    return Err(IntegrationError::NonFinite {
                        t: self.steps as f64 * dt,
                    });
                }
                self.energy_error = self.energy_error.max(err);
            }
        }
        Ok(())
    }

    /// The state `h` after the current grid point, by one extra step on a copy.
    fn at(&self, h: f64) -> PhaseSpace {
        let (mut x, mut v, mut a) = (self.x, self.v, self.a);
        if h > 0.0 {
            self.scheme.step(self.pot, &mut x, &mut v, &mut a, h);
        }
        PhaseSpace::new(x, v)
    }
}

/// Advance one state by `n` fixed steps (the benchmark's inner loop). Returns the final state.
pub fn advance<P: Potential + ?Sized>(
    pot: &P,
    start: &PhaseSpace,
    dt: f64,
    n: u64,
    scheme: Scheme,
) -> PhaseSpace {
    let (mut x, mut v) = (start.x, start.v);
    let mut a = pot.acceleration(&x);
    for _ in 0..n {
        scheme.step(pot, &mut x, &mut v, &mut a, dt);
    }
    PhaseSpace::new(x, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::Symmetry;

    /// Isotropic harmonic oscillator Phi = w² r² / 2 + Phi0: exact solution known.
    #[derive(Debug)]
    struct Harmonic {
        w: f64,
    }

    impl Potential for Harmonic {
        fn potential(&self, x: &Vec3) -> f64 {
            0.5 * self.w * self.w * dot(x, x) - 1e4
        }
        fn acceleration(&self, x: &Vec3) -> Vec3 {
            let w2 = self.w * self.w;
            [-w2 * x[0], -w2 * x[1], -w2 * x[2]]
        }
        fn hessian(&self, _x: &Vec3) -> [[f64; 3]; 3] {
            let w2 = self.w * self.w;
            [[w2, 0.0, 0.0], [0.0, w2, 0.0], [0.0, 0.0, w2]]
        }
        fn symmetry(&self) -> Symmetry {
            Symmetry::Spherical
        }
        fn spec(&self) -> String {
            "harmonic".into()
        }
    }

    fn exact(w: f64, s: &PhaseSpace, t: f64) -> PhaseSpace {
        let (c, sn) = ((w * t).cos(), (w * t).sin());
        let mut out = PhaseSpace::default();
        for k in 0..3 {
            out.x[k] = s.x[k] * c + s.v[k] / w * sn;
            out.v[k] = -s.x[k] * w * sn + s.v[k] * c;
        }
        out
    }

    fn position_error(scheme: Scheme, dt: f64) -> f64 {
        let pot = Harmonic { w: 10.0 };
        let start = PhaseSpace::new([1.0, 0.5, -0.2], [3.0, -2.0, 7.0]);
        let times = [0.0, 0.1234, 0.5, 0.77777, 1.0];
        let opts = IntegrationOptions {
            scheme,
            step: StepSize::Fixed(dt),
            max_steps: 1 << 30,
        };
        let orbit = integrate(&pot, &start, &times, &opts).unwrap();
        times
            .iter()
            .zip(&orbit.points)
            .map(|(&t, w)| {
                let e = exact(10.0, &start, t);
                (0..3).map(|k| (w.x[k] - e.x[k]).abs()).fold(0.0, f64::max)
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn schemes_converge_at_their_order() {
        for scheme in [Scheme::Leapfrog, Scheme::Yoshida4] {
            let e1 = position_error(scheme, 1e-3);
            let e2 = position_error(scheme, 5e-4);
            let order = (e1 / e2).log2();
            assert!(
                (order - scheme.order() as f64).abs() < 0.3,
                "{scheme:?}: measured order {order} (errors {e1:e}, {e2:e})"
            );
        }
        assert!(position_error(Scheme::Yoshida4, 1e-3) < 1e-8);
    }

    #[test]
    fn auto_step_meets_energy_tolerance() {
        let pot = Harmonic { w: 10.0 };
        let start = PhaseSpace::new([1.0, 0.0, 0.0], [0.0, 5.0, 0.0]);
        let opts = IntegrationOptions {
            step: StepSize::auto(1e-10),
            ..Default::default()
        };
        let orbit = integrate(&pot, &start, &[0.3, 2.0], &opts).unwrap();
        assert!(orbit.energy_error <= 1e-10, "{}", orbit.energy_error);
        let e = exact(10.0, &start, 2.0);
        assert!((orbit.points[1].x[0] - e.x[0]).abs() < 1e-5);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let pot = Harmonic { w: 1.0 };
        let start = PhaseSpace::new([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]);
        let opts = IntegrationOptions::default();
        assert!(matches!(
            integrate(&pot, &start, &[1.0, 0.5], &opts),
            Err(IntegrationError::BadTimes { index: 1, .. })
        ));
        let nan = PhaseSpace::new([f64::NAN, 0.0, 0.0], [0.0, 1.0, 0.0]);
        assert!(matches!(
            integrate(&pot, &nan, &[1.0], &opts),
            Err(IntegrationError::NonFiniteStart(_))
        ));
        let fixed = IntegrationOptions {
            step: StepSize::Fixed(0.0),
            ..opts
        };
        assert!(matches!(
            integrate(&pot, &start, &[1.0], &fixed),
            Err(IntegrationError::BadStep(_))
        ));
        let tiny = IntegrationOptions {
            step: StepSize::Fixed(1e-9),
            max_steps: 1000,
            ..opts
        };
        assert!(matches!(
            integrate(&pot, &start, &[1.0], &tiny),
            Err(IntegrationError::TooManySteps { .. })
        ));
    }

    #[test]
    fn parallel_matches_serial() {
        let pot = Harmonic { w: 3.0 };
        let starts: Vec<_> = (0..16)
            .map(|i| PhaseSpace::new([1.0 + i as f64, 0.0, 0.1], [0.0, 2.0, 0.0]))
            .collect();
        let times: Vec<Vec<f64>> = (0..16).map(|i| vec![0.1 * i as f64, 2.0]).collect();
        let opts = IntegrationOptions::default();
        let many = integrate_many(&pot, &starts, &times, &opts, &|| {});
        for ((s, t), o) in starts.iter().zip(&times).zip(many) {
            assert_eq!(o.unwrap(), integrate(&pot, s, t, &opts).unwrap());
        }
    }
}
