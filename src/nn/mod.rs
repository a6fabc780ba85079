//! Neural building blocks in candle, f64: activations with their derivatives, the residual
//! MLP of the paper's fig. 2 with explicit input jets, and a batched 3x3 solve.
//!
//! candle's backward does not build a graph of the gradient, so input derivatives (dG/dtheta,
//! dG/dJ', dtheta''/dtheta') are written as ordinary tensor ops (`docs/notes/candle-on-cpu.md`):
//! one ordinary backward then gives the weight gradients of a loss built on them.

pub mod activation;
pub mod load;
pub mod mlp;
pub mod native;
pub mod params;
pub mod solve3;

pub use activation::Activation;
pub use mlp::{widths, MlpSpec, ResMlp, Trace, Weights};
