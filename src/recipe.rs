//! Initial-condition recipes by name, as the command line and datasets describe them.

use std::fmt;

use actionfinder_integrators::ics::{self, DiskOptions, EquilibriumOptions, HaloOptions};
use actionfinder_integrators::potential::Potential;
use actionfinder_integrators::PhaseSpace;
use anyhow::{bail, Result};

pub mod orbits;

pub use orbits::GivenOrbit;

/// How the initial conditions of generated orbits are drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Recipe {
    /// Isotropic equilibrium sample of the potential's own model (plummer, isochrone,
    /// hernquist, dehnen), optionally truncated at a radius (kpc).
    Equilibrium { truncate: Option<f64> },
    /// Paper §6.1: r uniform in [rmin, rmax] kpc, isotropic velocity of magnitude
    /// |N(0, sigma)| km/s, bound orbits only.
    Halo { rmin: f64, rmax: f64, sigma: f64 },
    /// Near-circular orbits of an exponential disk (scale length kpc) with radial and
    /// vertical velocity dispersions (km/s).
    Disk {
        scale_length: f64,
        sigma_r: f64,
        sigma_z: f64,
    },
    /// Given initial conditions: stream s follows orbit s mod K.
    Orbits(Vec<GivenOrbit>),
    /// The four built-in test orbits ([`orbits::TEST_ORBITS`]: thin disk, thick disk, halo,
    /// GD-1-like stream), stream s following orbit s mod 4.
    TestOrbits,
}

impl Recipe {
    /// The paper's halo recipe: r in [6, 16] kpc, sigma = 150 km/s.
    pub const PAPER_HALO: Recipe = Recipe::Halo {
        rmin: 6.0,
        rmax: 16.0,
        sigma: 150.0,
    };
    /// A thin disk: scale length 3 kpc, dispersions 20 and 10 km/s.
    pub const THIN_DISK: Recipe = Recipe::Disk {
        scale_length: 3.0,
        sigma_r: 20.0,
        sigma_z: 10.0,
    };

    /// A recipe by name with its default options.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "equilibrium" => Ok(Recipe::Equilibrium { truncate: None }),
            "halo" => Ok(Recipe::PAPER_HALO),
            "disk" => Ok(Recipe::THIN_DISK),
            "test-orbits" => Ok(Recipe::TestOrbits),
            other => bail!("unknown recipe '{other}': expected equilibrium, halo, disk or test-orbits"),
        }
    }
}

impl fmt::Display for Recipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipe::Equilibrium { truncate: None } => write!(f, "equilibrium"),
            Recipe::Equilibrium { truncate: Some(r) } => write!(f, "equilibrium(truncate={r} kpc)"),
            Recipe::Halo { rmin, rmax, sigma } => {
                write!(f, "halo(rmin={rmin} kpc, rmax={rmax} kpc, sigma={sigma} km/s)")
            }
            Recipe::Disk {
                scale_length,
                sigma_r,
                sigma_z,
            } => write!(
                f,
                "disk(scale_length={scale_length} kpc, sigma_r={sigma_r} km/s, sigma_z={sigma_z} km/s)"
            ),
            Recipe::Orbits(given) => write!(f, "orbits({} given)", given.len()),
            Recipe::TestOrbits => {
                let names: Vec<&str> = orbits::TEST_ORBITS.iter().map(|(name, _)| *name).collect();
                write!(f, "test-orbits({})", names.join(", "))
            }
        }
    }
}

/// Draw `n` initial conditions in `pot` by `recipe`, reproducibly from `seed`.
pub fn sample(recipe: &Recipe, pot: &dyn Potential, n: usize, seed: u64) -> Result<Vec<PhaseSpace>> {
    let starts = match *recipe {
        Recipe::Orbits(ref given) => orbits::spread(given, pot, n)?,
        Recipe::TestOrbits => orbits::spread(&orbits::test_orbits(), pot, n)?,
        Recipe::Equilibrium { truncate } => {
            let options = EquilibriumOptions { r_max: truncate };
            ics::sample_equilibrium_from_potential(pot, n, seed, &options)?
        }
        Recipe::Halo { rmin, rmax, sigma } => {
            let options = HaloOptions {
                r_min: rmin,
                r_max: rmax,
                sigma,
                ..Default::default()
            };
            ics::sample_halo(pot, n, seed, &options)?
        }
        Recipe::Disk {
            scale_length,
            sigma_r,
            sigma_z,
        } => {
            let options = DiskOptions {
                scale_length,
                sigma_r,
                sigma_z,
                ..Default::default()
            };
            ics::sample_disk(pot, n, seed, &options)?
        }
    };
    Ok(starts)
}
