//! Orbit integration.
