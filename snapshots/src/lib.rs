//! actionfinder-snapshots: HDF5 input/output behind one small module ([`h5`]), simulation
//! snapshot formats, particle tracks and stream assembly.

pub mod gadget4;
pub mod h5;

pub use h5::{Attr, Data, Dim, H5Error, H5File, H5Writer};
