//! actionfinder-snapshots: HDF5 input/output behind one small module ([`h5`]), simulation
//! snapshot formats, particle tracks and stream assembly.
