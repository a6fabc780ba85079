//! actionfinder: actions, angles, frequencies and acceleration fields learned from orbits.

pub mod dataset;
