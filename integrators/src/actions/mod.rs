//! Classic action finders: exact isochrone, spherical quadrature, Staeckel.
//!
//! Conventions (docs/design.md, as in AGAMA): actions (J_r, J_z, J_phi) in kpc km/s with
//! J_phi = L_z and, in spherical systems, J_z = L - |L_z|; angles (theta_r, theta_z, theta_phi)
//! in [0, 2 pi); frequencies (Omega_r, Omega_z, Omega_phi) in km/s/kpc, Omega_phi carrying the
//! sign of L_z. The tables of galpy (`tests/data/galpy_reference.h5`, `actions/*`) use the same
//! order and signs.
//!
//! Failures are data, not crashes: a point that is unbound or where a root or an integral does
//! not converge gives an [`ActionError`]; [`find_batch`] turns it into NaN plus a flag, goes
//! on, and logs the count.

// Used by the spherical and Staeckel finders; allowed until both call every helper.
#[allow(dead_code)]
pub(crate) mod quadrature;
mod spherical;

pub use spherical::SphericalFinder;

mod isochrone;
pub use isochrone::{isochrone_jacobians, IsochroneFinder, IsochroneJacobian};

pub mod staeckel;
pub use staeckel::{estimate_focal_distance, FocalDistance, StaeckelFinder};

use rayon::prelude::*;

use crate::phase::PhaseSpace;

/// Actions, angles and frequencies of one phase-space point, each ordered (r, z, phi).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActionAngle {
    /// (J_r, J_z, J_phi) in kpc km/s.
    pub actions: [f64; 3],
    /// (theta_r, theta_z, theta_phi) in rad, each in [0, 2 pi).
    pub angles: [f64; 3],
    /// (Omega_r, Omega_z, Omega_phi) in km/s/kpc.
    pub frequencies: [f64; 3],
}

impl ActionAngle {
    /// All NaN: what a failed point is written as, beside its flag.
    pub const NAN: ActionAngle = ActionAngle {
        actions: [f64::NAN; 3],
        angles: [f64::NAN; 3],
        frequencies: [f64::NAN; 3],
    };
}

/// Why no actions could be found for a point.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ActionError {
    /// E >= Phi(infinity): the orbit is not bound.
    #[error("unbound orbit: E = {energy} (km/s)^2 is not below Phi(infinity) = {limit}")]
    Unbound { energy: f64, limit: f64 },
    /// A coordinate is NaN or infinite.
    #[error("non-finite phase-space point")]
    NonFinite,
    /// A root or an integral did not converge.
    #[error("no convergence: {0}")]
    NoConvergence(String),
    /// The method does not apply to this potential or point.
    #[error("method does not apply: {0}")]
    Unsupported(String),
}

/// Why a point of a batch failed, as a small code for files (0 = ok).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Flag {
    Ok = 0,
    Unbound = 1,
    NonFinite = 2,
    NoConvergence = 3,
    Unsupported = 4,
}

impl From<&ActionError> for Flag {
    fn from(e: &ActionError) -> Self {
        match e {
            ActionError::Unbound { .. } => Flag::Unbound,
            ActionError::NonFinite => Flag::NonFinite,
            ActionError::NoConvergence(_) => Flag::NoConvergence,
            ActionError::Unsupported(_) => Flag::Unsupported,
        }
    }
}

/// A method that maps phase-space points to actions, angles and frequencies.
pub trait ActionFinder: Send + Sync {
    /// Actions, angles and frequencies of one point.
    fn action_angle(&self, w: &PhaseSpace) -> Result<ActionAngle, ActionError>;

    /// A short name for files and logs, e.g. `isochrone`, `spherical`, `staeckel(delta=3.2)`.
    fn name(&self) -> String;
}

/// The results of a batch: one entry and one flag per point; failed points are NaN.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub results: Vec<ActionAngle>,
    pub flags: Vec<Flag>,
}

impl Batch {
    /// Number of points that failed.
    pub fn failures(&self) -> usize {
        self.flags.iter().filter(|&&f| f != Flag::Ok).count()
    }
}

/// Apply `finder` to every point in parallel. Failures become NaN and a flag; the batch goes
/// on and the number of failures is logged. `on_done` is called once per point (progress).
pub fn find_batch(finder: &dyn ActionFinder, points: &[PhaseSpace], on_done: &(dyn Fn() + Sync)) -> Batch {
    let (results, flags): (Vec<ActionAngle>, Vec<Flag>) = points
        .par_iter()
        .map(|w| {
            let r = if w.is_finite() {
                finder.action_angle(w)
            } else {
                Err(ActionError::NonFinite)
            };
            on_done();
            match r {
                Ok(aa) => (aa, Flag::Ok),
                Err(e) => (ActionAngle::NAN, Flag::from(&e)),
            }
        })
        .unzip();
    let batch = Batch { results, flags };
    let failed = batch.failures();
    if failed > 0 {
        log::warn!(
            "{}: {} of {} points failed (NaN, flagged)",
            finder.name(),
            failed,
            points.len()
        );
    }
    batch
}

/// Wrap an angle into [0, 2 pi).
#[inline]
pub fn wrap_angle(a: f64) -> f64 {
    let t = a.rem_euclid(std::f64::consts::TAU);
    // rem_euclid can return exactly TAU for tiny negative inputs.
    if t >= std::f64::consts::TAU {
        0.0
    } else {
        t
    }
}
