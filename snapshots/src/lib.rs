//! actionfinder-snapshots: HDF5 input/output behind one small module ([`h5`]), simulation
//! snapshot formats, particle tracks and stream assembly.

pub mod center;
pub mod formats;
pub mod gadget4;
pub mod h5;
pub mod partial;
pub mod scan;
pub mod snapshot;
pub mod track;

pub use center::{find_centre, recentre, Centering, Centre, ShrinkingSphere};
pub use h5::{Attr, Data, Dim, H5Error, H5File, H5Writer};
pub use scan::{expand, for_each_snapshot, read_sorted, scan, snapshot_files, SnapshotFile};
pub use snapshot::{parse_particle_type, ReadOptions, Snapshot, SnapshotError, UnitOverrides, UnitSystem};
pub use track::{track, Tracker, Tracks};
