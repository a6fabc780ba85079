//! actionfinder: actions, angles, frequencies and acceleration fields learned from orbits.
//!
//! The library behind the `actionfinder` command. Data flow (docs/design.md): integrators or
//! snapshots -> streams dataset -> (learning, later) -> catalog -> validation.

pub mod apply;
pub mod bench;
pub mod budget;
pub mod catalog;
pub mod checkpoints;
pub mod classic;
pub mod cli;
pub mod dataset;
pub mod demo;
pub mod device;
pub mod digest;
pub mod ensemble;
pub mod field;
pub mod flags;
pub mod generate;
pub mod inverse;
pub mod lock;
pub mod model;
pub mod nn;
pub mod output;
pub mod pass;
pub mod plot_style;
pub mod points;
pub mod progress;
pub mod recipe;
pub mod stream_frequency;
pub mod times;
pub mod tracks;
pub mod train;
pub mod trust;
pub mod validate;
