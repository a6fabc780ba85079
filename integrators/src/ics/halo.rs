//! The halo-orbit recipe of Ibata, Diakogiannis, Famaey & Monari (2021, ApJ 915, 5, §6.1).

use rand::Rng;
use rand_distr::StandardNormal;

use super::{at_least_one_try, non_negative, par_generate, positive, random_unit_vector, require, IcsError};
use crate::phase::PhaseSpace;
use crate::potential::Potential;

const TAG_HALO: u64 = 0x4841_4c4f;

/// What is drawn again when a draw is unbound (E >= 0) in [`sample_halo`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HaloRedraw {
    /// Keep the position and draw the speed again (the default). Radii stay exactly uniform
    /// in [r_min, r_max]; at each position the speed follows |N(0, sigma)| truncated at the
    /// local escape speed sqrt(-2 Phi(x)).
    #[default]
    Velocity,
    /// Draw position and velocity again. The kept points then follow the uniform-radius,
    /// |N(0, sigma)|-speed distribution conditioned on E < 0, which favours radii where
    /// more speeds are bound.
    Point,
}

/// Options of [`sample_halo`]; `Default` gives the paper's recipe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HaloOptions {
    /// Smallest Galactocentric radius (kpc), default 6.
    pub r_min: f64,
    /// Largest Galactocentric radius (kpc), default 16.
    pub r_max: f64,
    /// Dispersion of the Gaussian the speed is drawn from, |v| = |N(0, sigma)| (km/s),
    /// default 150.
    pub sigma: f64,
    /// Keep only bound points, E = v^2/2 + Phi(x) < Phi(infinity)
    /// ([`Potential::potential_at_infinity`]: 0 for most potentials, +inf for the logarithmic
    /// one, where every orbit is bound; default true).
    pub bound_only: bool,
    /// What an unbound draw redraws (default [`HaloRedraw::Velocity`]).
    pub redraw: HaloRedraw,
    /// Draws allowed for one point before giving up with [`IcsError::HopelessBound`]
    /// (default 10000).
    pub max_tries: usize,
}

impl Default for HaloOptions {
    fn default() -> Self {
        Self {
            r_min: 6.0,
            r_max: 16.0,
            sigma: 150.0,
            bound_only: true,
            redraw: HaloRedraw::Velocity,
            max_tries: 10_000,
        }
    }
}

/// The paper's halo recipe (Ibata et al. 2021, §6.1): a radius drawn uniformly in
/// [r_min, r_max] (uniform in r, not in volume), an isotropic position direction, an
/// isotropic velocity direction and a speed |N(0, sigma)|; only bound points are kept
/// (E = v^2/2 + Phi(x) < 0; see [`HaloRedraw`] for what is redrawn). Works for any
/// potential. Positions in kpc, velocities in km/s.
///
/// Errors: bad options ([`IcsError::BadParameter`]); Phi(x) >= 0 at a drawn position with
/// `bound_only` ([`IcsError::NoBoundVelocity`] with [`HaloRedraw::Velocity`]); no bound draw
/// within `max_tries` ([`IcsError::HopelessBound`]).
pub fn sample_halo(
    potential: &dyn Potential,
    n: usize,
    seed: u64,
    options: &HaloOptions,
) -> Result<Vec<PhaseSpace>, IcsError> {
    let o = *options;
    non_negative("halo r_min (kpc)", o.r_min)?;
    positive("halo r_max (kpc)", o.r_max)?;
    require("halo r_max (kpc)", o.r_max, o.r_max >= o.r_min, "r_max >= r_min")?;
    non_negative("halo sigma (km/s)", o.sigma)?;
    at_least_one_try("halo max_tries", o.max_tries)?;
    par_generate(n, seed, TAG_HALO, |rng| {
        let draw_position = |rng: &mut rand_pcg::Pcg64| {
            let r = o.r_min + (o.r_max - o.r_min) * rng.random::<f64>();
            let u = random_unit_vector(rng);
            let x = [r * u[0], r * u[1], r * u[2]];
            (x, potential.potential(&x))
        };
        let draw_speed = |rng: &mut rand_pcg::Pcg64| (o.sigma * rng.sample::<f64, _>(StandardNormal)).abs();
        let (mut x, mut phi) = draw_position(rng);
        let mut speed = draw_speed(rng);
        let mut tries = 1;
        if o.bound_only {
            loop {
                if !phi.is_finite() {
                    return Err(IcsError::Numerical(format!(
                        "potential {} is {phi} at x = {x:?} kpc",
                        potential.spec()
                    )));
                }
                // Bound means E below the potential's value at infinity (not 0 for every
                // potential: galpy's power-law bulge is zero at the centre).
                let depth = phi - potential.potential_at_infinity();
                if depth >= 0.0 && o.redraw == HaloRedraw::Velocity {
                    return Err(IcsError::NoBoundVelocity { x, phi });
                }
                if 0.5 * speed * speed + depth < 0.0 {
                    break;
                }
                if tries >= o.max_tries {
                    return Err(IcsError::HopelessBound {
                        x,
                        v_esc: (-2.0 * depth).max(0.0).sqrt(),
                        sigma: o.sigma,
                        tries,
                    });
                }
                tries += 1;
                if o.redraw == HaloRedraw::Point {
                    (x, phi) = draw_position(rng);
                }
                speed = draw_speed(rng);
            }
        }
        let u = random_unit_vector(rng);
        Ok(PhaseSpace::new(x, [speed * u[0], speed * u[1], speed * u[2]]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::Isochrone;

    #[test]
    fn hopeless_and_bad_options_are_errors() {
        let iso = Isochrone::new(3.334e11, 5.0).unwrap();
        // v_esc at 16 kpc is ~ 300 km/s; sigma = 1e6 km/s leaves a bound fraction ~ 3e-4.
        let o = HaloOptions {
            sigma: 1e6,
            max_tries: 100,
            ..Default::default()
        };
        assert!(matches!(
            sample_halo(&iso, 100, 1, &o),
            Err(IcsError::HopelessBound { .. })
        ));
        let o = HaloOptions {
            r_min: 10.0,
            r_max: 5.0,
            ..Default::default()
        };
        assert!(matches!(
            sample_halo(&iso, 10, 1, &o),
            Err(IcsError::BadParameter { .. })
        ));
        assert!(sample_halo(&iso, 0, 1, &HaloOptions::default())
            .unwrap()
            .is_empty());
    }
}
