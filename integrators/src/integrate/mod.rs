//! Orbit integration: symplectic schemes ([`Scheme`]) and orbits recorded at requested
//! times, in parallel over orbits ([`integrate_many`]).

mod block;
mod orbit;
mod schemes;

pub use block::{advance_many, BLOCK};
pub use orbit::{
    advance, energy, integrate, integrate_many, IntegrationError, IntegrationOptions, Orbit, StepSize,
};
pub use schemes::Scheme;
