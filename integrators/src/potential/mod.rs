//! Gravitational potentials in physical units (kpc, km/s, Msun; Phi in (km/s)^2).
//!
//! Every potential gives Phi, the Cartesian acceleration a = -grad Phi and the Hessian
//! d2Phi/dx_i dx_j. Spherical potentials also expose their radial profile, which the
//! equilibrium samplers and the spherical action finder use.

use crate::phase::Vec3;

#[cfg(test)]
mod checks;
mod cutoff_table;
mod dehnen;
mod gamma;
mod hernquist;
mod isochrone;
mod kuzmin_kutuzov;
mod logarithmic;
mod miyamoto_nagai;
mod mw2014;
mod nfw;
mod params;
mod plummer;
mod power_cutoff;
pub mod spec;
pub mod spherical;
mod sum;

pub use dehnen::Dehnen;
pub use hernquist::Hernquist;
pub use isochrone::Isochrone;
pub use kuzmin_kutuzov::KuzminKutuzov;
pub use logarithmic::{Logarithmic, LOG_REFERENCE_RADIUS};
pub use miyamoto_nagai::MiyamotoNagai;
pub use mw2014::{mw2014, MW2014_R0, MW2014_V0};
pub use nfw::Nfw;
pub use plummer::Plummer;
pub use power_cutoff::PowerCutoff;
pub use spec::{known_potentials, parse};
pub use spherical::RadialPotential;
pub use sum::Sum;

/// The symmetry a potential has; action finders pick their method from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Symmetry {
    /// Depends on r = |x| only.
    Spherical,
    /// Depends on R = sqrt(x² + y²) and z only (z is the symmetry axis).
    Axisymmetric,
    /// No symmetry assumed.
    None,
}

/// A static gravitational potential.
pub trait Potential: Send + Sync + std::fmt::Debug {
    /// Phi(x) in (km/s)^2.
    fn potential(&self, x: &Vec3) -> f64;

    /// a(x) = -grad Phi in (km/s)^2/kpc. The integrators' hot loop: keep it fast.
    fn acceleration(&self, x: &Vec3) -> Vec3;

    /// Accelerations of a block of points at once: `out[i] = a(xs[i])`. Blocks let the
    /// processor overlap the independent square roots and divisions of several orbits (this
    /// default is instantiated per potential type, so `acceleration` inlines into it).
    fn accelerations(&self, xs: &[Vec3], out: &mut [Vec3]) {
        for (x, a) in xs.iter().zip(out.iter_mut()) {
            *a = self.acceleration(x);
        }
    }

    /// Hessian H_ij = d2Phi/dx_i dx_j in (km/s)^2/kpc^2.
    fn hessian(&self, x: &Vec3) -> [[f64; 3]; 3];

    /// Symmetry of the potential.
    fn symmetry(&self) -> Symmetry;

    /// The radial profile when the potential is spherical.
    fn spherical(&self) -> Option<&dyn SphericalProfile> {
        None
    }

    /// Canonical text form, parseable by the spec parser (e.g. `plummer:M=1e11,a=2`).
    fn spec(&self) -> String;

    /// The limit of Phi at infinity in (km/s)^2: 0 for most potentials, +inf for the
    /// logarithmic one, and galpy's positive constant for [`PowerCutoff`] (whose zero is at
    /// the centre). A particle is bound when its energy is below this value.
    fn potential_at_infinity(&self) -> f64 {
        0.0
    }
}

/// Radial profile of a spherical potential Phi(r).
pub trait SphericalProfile: Send + Sync + std::fmt::Debug {
    /// Phi(r) in (km/s)^2.
    fn phi(&self, r: f64) -> f64;

    /// dPhi/dr in (km/s)^2/kpc.
    fn dphi_dr(&self, r: f64) -> f64;

    /// d2Phi/dr2 in (km/s)^2/kpc^2.
    fn d2phi_dr2(&self, r: f64) -> f64;

    /// Density from Poisson's equation, rho = (Phi'' + 2 Phi'/r) / (4 pi G), in Msun/kpc^3.
    fn density(&self, r: f64) -> f64 {
        (self.d2phi_dr2(r) + 2.0 * self.dphi_dr(r) / r) / (4.0 * std::f64::consts::PI * crate::units::G)
    }

    /// Enclosed mass M(r) = r^2 Phi'(r) / G in Msun.
    fn enclosed_mass(&self, r: f64) -> f64 {
        r * r * self.dphi_dr(r) / crate::units::G
    }

    /// Total mass when finite (None for NFW, logarithmic...).
    fn total_mass(&self) -> Option<f64>;
}

/// Errors from building a potential: a bad parameter or an unparseable text spec.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum PotentialError {
    /// A parameter outside its allowed range.
    #[error("potential {potential}: parameter {parameter} = {value} is invalid: {expected}")]
    BadParameter {
        potential: &'static str,
        parameter: &'static str,
        value: f64,
        expected: &'static str,
    },
    /// A text spec that could not be parsed; the message lists the known forms.
    #[error("cannot parse potential spec '{spec}': {reason}\nknown potentials:\n{known}")]
    BadSpec {
        spec: String,
        reason: String,
        known: String,
    },
}
