//! actionfinder-integrators: gravitational potentials, orbit integrators, initial conditions
//! and (in later modules) the classic action finders.
//!
//! Units everywhere (see docs/design.md): kpc, km/s, Msun, `G` = [`units::G`]; time in the
//! internal unit kpc/(km/s) unless a name says Gyr. No HDF5, no machine learning here.

pub mod actions;
pub mod ics;
pub mod integrate;
pub mod phase;
pub mod potential;
pub mod units;

pub use phase::{PhaseSpace, Vec3};
pub use potential::{Potential, SphericalProfile, Symmetry};
