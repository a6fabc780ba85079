//! Initial conditions: equilibrium samplers of isotropic spherical models, the paper's halo
//! recipe and a disk recipe.
//!
//! Units as everywhere (docs/design.md): positions in kpc, velocities in km/s, masses in Msun,
//! G = [`crate::units::G`], potentials in (km/s)^2.
//!
//! * [`sample_equilibrium`] draws an equilibrium N-body realisation of an isotropic spherical
//!   model ([`EquilibriumModel`]): Plummer and isochrone from their exact distribution
//!   functions ([`PlummerDf`], [`IsochroneDf`]), Hernquist and Dehnen from a distribution
//!   function obtained by Eddington inversion ([`EddingtonDf`], which works for any
//!   finite-mass [`SphericalProfile`](crate::potential::SphericalProfile)).
//! * [`sample_halo`] is the recipe of Ibata et al. (2021, §6.1): radius uniform in
//!   [r_min, r_max], isotropic directions, |v| from |N(0, sigma)|, bound orbits only.
//! * [`sample_disk`] draws near-circular orbits in an axisymmetric (or spherical) potential.
//! * [`jeans_sigma_r2`] is the isotropic Jeans dispersion of a spherical profile, the
//!   yardstick the statistical tests hold the samplers to.
//!
//! # Reproducibility
//! Every sampler takes a `seed`. Points are generated in fixed chunks of [`CHUNK`] points,
//! each with its own `Pcg64` seeded from (seed, recipe, chunk index), and the chunks run in
//! parallel with rayon. The output therefore depends only on the seed and the arguments —
//! never on the number of threads — and the first k points of a sample of n >= k points are
//! the same as a sample of k points.

mod disk;
mod eddington;
mod equilibrium;
mod exact;
mod halo;
mod quad;
mod spherical;

pub use disk::{sample_disk, DiskOptions};
pub use eddington::EddingtonDf;
pub use equilibrium::{
    sample_equilibrium, sample_equilibrium_from_potential, EquilibriumModel, EquilibriumOptions,
};
pub use exact::{IsochroneDf, PlummerDf};
pub use halo::{sample_halo, HaloOptions, HaloRedraw};
pub use spherical::jeans_sigma_r2;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use rayon::prelude::*;

use crate::phase::Vec3;
use crate::potential::PotentialError;

/// Number of points generated from one seeded random stream (see the module docs).
pub const CHUNK: usize = 2048;

/// Errors from the initial-condition samplers.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum IcsError {
    /// An option or model parameter outside its allowed range.
    #[error("initial conditions: {what} = {value} is invalid: {expected}")]
    BadParameter {
        what: &'static str,
        value: f64,
        expected: &'static str,
    },
    /// The potential could not be built.
    #[error(transparent)]
    Potential(#[from] PotentialError),
    /// The model or potential is not one this sampler handles.
    #[error("initial conditions: cannot sample '{spec}': {reason}")]
    Unsupported { spec: String, reason: String },
    /// Eddington inversion needs a spherical profile with a finite, positive total mass.
    #[error("Eddington inversion needs a finite positive total mass; the profile {profile} has {mass:?}")]
    InfiniteMass { profile: String, mass: Option<f64> },
    /// Eddington inversion gave f(E) < 0: the model has no isotropic distribution function.
    #[error(
        "Eddington inversion gives a negative distribution function f = {value:e} at binding \
         energy {energy:e} (km/s)^2: this density/potential pair has no isotropic equilibrium"
    )]
    NegativeDf { energy: f64, value: f64 },
    /// A numerical step failed (a non-finite value where a number was expected).
    #[error("initial conditions: numerical failure: {0}")]
    Numerical(String),
    /// The potential is >= 0 at a point, so no velocity gives a bound orbit (E < 0).
    #[error(
        "the potential is {phi} (km/s)^2 >= 0 at x = {x:?} kpc, so no velocity gives a bound \
         orbit (E = v^2/2 + Phi < 0); if this potential's zero point is not at infinity \
         (e.g. logarithmic), switch the bound-only requirement off"
    )]
    NoBoundVelocity { x: Vec3, phi: f64 },
    /// Drawing a bound velocity failed too often: the bound fraction is hopeless.
    #[error(
        "no bound velocity after {tries} draws at x = {x:?} kpc: escape speed {v_esc} km/s is \
         small against the velocity scale {sigma} km/s; lower the dispersion or move the points \
         deeper into the potential"
    )]
    HopelessBound {
        x: Vec3,
        v_esc: f64,
        sigma: f64,
        tries: usize,
    },
    /// The disk recipe needs an axisymmetric or spherical potential.
    #[error("the disk recipe needs an axisymmetric or spherical potential; '{spec}' is {symmetry}")]
    NotAxisymmetric { spec: String, symmetry: String },
    /// The radial force is outward (or not finite) where a circular orbit was asked for.
    #[error("no circular orbit at R = {radius} kpc in '{spec}': v_c^2 = R dPhi/dR = {vc2} (km/s)^2")]
    NoCircularOrbit { spec: String, radius: f64, vc2: f64 },
}

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective mixer of 64-bit words.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476C_E5E9_B619);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random stream of chunk `chunk` of recipe `tag` under `seed`.
pub(crate) fn chunk_rng(seed: u64, tag: u64, chunk: u64) -> Pcg64 {
    let s = splitmix64(splitmix64(seed ^ splitmix64(tag)) ^ chunk.wrapping_mul(0xD1B5_4A32_D192_ED03));
    Pcg64::seed_from_u64(s)
}

/// Generate `n` values, chunk by chunk (each chunk its own seeded stream, chunks in
/// parallel), in order. The first error in point order is returned.
pub(crate) fn par_generate<T, F>(n: usize, seed: u64, tag: u64, point: F) -> Result<Vec<T>, IcsError>
where
    T: Send,
    F: Fn(&mut Pcg64) -> Result<T, IcsError> + Sync,
{
    let n_chunks = n.div_ceil(CHUNK);
    let chunks: Vec<Result<Vec<T>, IcsError>> = (0..n_chunks)
        .into_par_iter()
        .map(|c| {
            let len = CHUNK.min(n - c * CHUNK);
            let mut rng = chunk_rng(seed, tag, c as u64);
            (0..len).map(|_| point(&mut rng)).collect()
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for chunk in chunks {
        out.extend(chunk?);
    }
    Ok(out)
}

/// A unit vector uniformly distributed on the sphere (cos theta uniform in [-1, 1],
/// phi uniform in [0, 2 pi)).
pub(crate) fn random_unit_vector<R: rand::Rng + ?Sized>(rng: &mut R) -> Vec3 {
    let cos_t = 2.0 * rng.random::<f64>() - 1.0;
    let sin_t = (1.0 - cos_t * cos_t).max(0.0).sqrt();
    let phi = std::f64::consts::TAU * rng.random::<f64>();
    [sin_t * phi.cos(), sin_t * phi.sin(), cos_t]
}

/// `value` when `ok`, else [`IcsError::BadParameter`] naming `what` and what was `expected`.
pub(crate) fn require(
    what: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<f64, IcsError> {
    if ok {
        Ok(value)
    } else {
        Err(IcsError::BadParameter {
            what,
            value,
            expected,
        })
    }
}

/// Check that a parameter is finite and strictly positive.
pub(crate) fn positive(what: &'static str, value: f64) -> Result<f64, IcsError> {
    require(
        what,
        value,
        value.is_finite() && value > 0.0,
        "a finite number > 0",
    )
}

/// Check that a parameter is finite and >= 0.
pub(crate) fn non_negative(what: &'static str, value: f64) -> Result<f64, IcsError> {
    require(
        what,
        value,
        value.is_finite() && value >= 0.0,
        "a finite number >= 0",
    )
}

/// Check that a draw limit allows at least one draw.
pub(crate) fn at_least_one_try(what: &'static str, max_tries: usize) -> Result<usize, IcsError> {
    require(what, max_tries as f64, max_tries > 0, "at least 1").map(|_| max_tries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn chunk_streams_differ_and_repeat() {
        let a: f64 = chunk_rng(1, 2, 3).random();
        let b: f64 = chunk_rng(1, 2, 3).random();
        let c: f64 = chunk_rng(1, 2, 4).random();
        let d: f64 = chunk_rng(2, 2, 3).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn par_generate_is_prefix_stable_and_ordered() {
        let f = |r: &mut Pcg64| Ok::<f64, IcsError>(r.random::<f64>());
        let long = par_generate(3 * CHUNK + 17, 9, 1, f).unwrap();
        let short = par_generate(CHUNK + 5, 9, 1, f).unwrap();
        assert_eq!(long.len(), 3 * CHUNK + 17);
        assert_eq!(&long[..short.len()], &short[..]);
    }

    #[test]
    fn unit_vectors_are_isotropic() {
        let mut rng = chunk_rng(5, 0, 0);
        let n = 200_000;
        let mut m = [0.0; 3];
        let mut zz = 0.0;
        for _ in 0..n {
            let u = random_unit_vector(&mut rng);
            assert!((u[0] * u[0] + u[1] * u[1] + u[2] * u[2] - 1.0).abs() < 1e-12);
            for k in 0..3 {
                m[k] += u[k] / n as f64;
            }
            zz += u[2] * u[2] / n as f64;
        }
        // sd of a mean of a component: sqrt(1/3 / n) = 1.3e-3
        for mk in m {
            assert!(mk.abs() < 5.0 * 1.3e-3, "{m:?}");
        }
        // var(z^2) = 1/5 - 1/9 = 4/45 -> sd of mean 6.7e-4
        assert!((zz - 1.0 / 3.0).abs() < 5.0 * 6.7e-4, "{zz}");
    }
}
