//! Gadget-4-style snapshot writer: header, units, particle data, shuffled snapshot
//! directories, input checks, and an external check with h5py.

use actionfinder_snapshots::gadget4::{
    permutation, write_snapshot, write_snapshot_dir, SnapshotData, GYR_PER_TIME_UNIT, UNIT_LENGTH_IN_CM,
    UNIT_MASS_IN_G, UNIT_VELOCITY_IN_CM_PER_S,
};
use actionfinder_snapshots::h5::{Dim, H5File};
use common::{h5py_or_skip, json_list, python};

mod common;

/// Deterministic particles: ids, xv rows and masses.
fn particles(n: usize, t: f64) -> (Vec<u64>, Vec<f64>, Vec<f64>) {
    let ids = (0..n as u64).map(|i| 1_000_000_007 * i + 3).collect();
    let xv = (0..6 * n)
        .map(|k| ((k as f64) * 0.37 + t).sin() * if k % 6 < 3 { 20.0 } else { 150.0 })
        .collect();
    let masses = (0..n).map(|i| 1.0e4 * (1.0 + (i % 5) as f64)).collect();
    (ids, xv, masses)
}

#[test]
fn snapshot_has_gadget4_header_units_and_particles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap_000.hdf5");
    let (ids, xv, masses) = particles(7, 0.0);
    let snap = SnapshotData {
        time_gyr: 1.5,
        ids: &ids,
        xv: &xv,
        masses: &masses,
    };
    write_snapshot(&path, &snap).unwrap();

    let f = H5File::open(&path).unwrap();
    assert_eq!(
        f.attr_u64s("/Header", "NumPart_ThisFile").unwrap(),
        [0, 7, 0, 0, 0, 0]
    );
    assert_eq!(
        f.attr_u64s("/Header", "NumPart_Total").unwrap(),
        [0, 7, 0, 0, 0, 0]
    );
    assert_eq!(f.attr_u64s("/Header", "NumPart_Total_HighWord").unwrap(), [0; 6]);
    assert_eq!(f.attr_f64s("/Header", "MassTable").unwrap(), [0.0; 6]);
    let time = f.attr_f64("/Header", "Time").unwrap();
    assert!((time * GYR_PER_TIME_UNIT - 1.5).abs() < 1e-14, "Time {time}");
    assert!((time - 1.5 / 0.977_792_221).abs() < 1e-8);
    assert_eq!(f.attr_f64("/Header", "Redshift").unwrap(), 0.0);
    assert_eq!(f.attr_i64("/Header", "NumFilesPerSnapshot").unwrap(), 1);
    assert_eq!(f.attr_f64("/Header", "BoxSize").unwrap(), 0.0);
    assert_eq!(
        f.attr_f64("/Parameters", "UnitLength_in_cm").unwrap(),
        UNIT_LENGTH_IN_CM
    );
    assert_eq!(
        f.attr_f64("/Parameters", "UnitVelocity_in_cm_per_s").unwrap(),
        UNIT_VELOCITY_IN_CM_PER_S
    );
    assert_eq!(
        f.attr_f64("/Parameters", "UnitMass_in_g").unwrap(),
        UNIT_MASS_IN_G
    );
    assert_eq!(f.attr_i64("/Parameters", "ComovingIntegrationOn").unwrap(), 0);
    assert_eq!(f.attr_str("/", "length_unit").unwrap(), "kpc");
    assert_eq!(f.attr_str("/", "velocity_unit").unwrap(), "km/s");
    assert_eq!(f.attr_str("/", "mass_unit").unwrap(), "Msun");
    assert_eq!(f.attr_f64("/", "time_gyr").unwrap(), 1.5);

    let n3 = [Dim::Any("n"), Dim::Is(3)];
    let x = f.read_f64_shaped("/PartType1/Coordinates", &n3).unwrap();
    let v = f.read_f64_shaped("/PartType1/Velocities", &n3).unwrap();
    for (i, row) in xv.chunks_exact(6).enumerate() {
        assert_eq!(&x.data[3 * i..3 * i + 3], &row[..3]);
        assert_eq!(&v.data[3 * i..3 * i + 3], &row[3..]);
    }
    assert_eq!(f.read_u64("/PartType1/ParticleIDs").unwrap().data, ids);
    assert_eq!(f.type_name("/PartType1/ParticleIDs").unwrap(), "u64");
    assert_eq!(f.read_f64("/PartType1/Masses").unwrap().data, masses);
    assert_eq!(f.attr_str("/PartType1/Coordinates", "unit").unwrap(), "kpc");
    assert_eq!(f.attr_f64("/PartType1/Velocities", "to_cgs").unwrap(), 1.0e5);
    assert_eq!(f.attr_f64("/PartType1/Masses", "mass_scaling").unwrap(), 1.0);
}

#[test]
fn directory_holds_every_snapshot_in_a_different_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snaps");
    let n = 50;
    let frames: Vec<_> = (0..3).map(|k| particles(n, k as f64)).collect();
    let snaps: Vec<_> = frames
        .iter()
        .enumerate()
        .map(|(k, (ids, xv, m))| SnapshotData {
            time_gyr: 0.1 * k as f64,
            ids,
            xv,
            masses: m,
        })
        .collect();
    let paths = write_snapshot_dir(&out, &snaps, 2024).unwrap();
    let names: Vec<_> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["snap_000.hdf5", "snap_001.hdf5", "snap_002.hdf5"]);

    let mut orders = Vec::new();
    for (k, path) in paths.iter().enumerate() {
        let f = H5File::open(path).unwrap();
        let ids = f.read_u64("/PartType1/ParticleIDs").unwrap().data;
        let x = f.read_f64("/PartType1/Coordinates").unwrap().data;
        let v = f.read_f64("/PartType1/Velocities").unwrap().data;
        let m = f.read_f64("/PartType1/Masses").unwrap().data;
        let (ids0, xv0, m0) = &frames[k];
        // Row i of the file is particle perm[i] of the input.
        let perm = permutation(n, 2024, k as u64);
        for (i, &j) in perm.iter().enumerate() {
            assert_eq!(ids[i], ids0[j]);
            assert_eq!(&x[3 * i..3 * i + 3], &xv0[6 * j..6 * j + 3]);
            assert_eq!(&v[3 * i..3 * i + 3], &xv0[6 * j + 3..6 * j + 6]);
            assert_eq!(m[i], m0[j]);
        }
        assert_ne!(&ids, ids0, "snapshot {k} must be shuffled");
        let t = f.attr_f64("/Header", "Time").unwrap() * GYR_PER_TIME_UNIT;
        assert!((t - 0.1 * k as f64).abs() < 1e-15);
        orders.push(ids);
    }
    assert_ne!(orders[0], orders[1]);
    assert_ne!(orders[1], orders[2]);
}

#[test]
fn inconsistent_input_is_refused_naming_file_and_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap_003.hdf5");
    let (ids, xv, masses) = particles(4, 0.0);
    let short = SnapshotData {
        time_gyr: 0.0,
        ids: &ids,
        xv: &xv[..23],
        masses: &masses,
    };
    let m = write_snapshot(&path, &short).unwrap_err().to_string();
    assert!(
        m.contains("snap_003.hdf5") && m.contains("dataset /PartType1/Coordinates"),
        "{m}"
    );
    assert!(
        m.contains("expected 24 values (6 per particle, 4 ids), found 23 values"),
        "{m}"
    );
    let few = SnapshotData {
        time_gyr: 0.0,
        ids: &ids,
        xv: &xv,
        masses: &masses[..3],
    };
    let m = write_snapshot(&path, &few).unwrap_err().to_string();
    assert!(
        m.contains("dataset /PartType1/Masses: expected 4 masses (one per id), found 3"),
        "{m}"
    );
    let mut bad = xv.clone();
    bad[9] = f64::NAN;
    let nan = SnapshotData {
        time_gyr: 0.0,
        ids: &ids,
        xv: &bad,
        masses: &masses,
    };
    let m = write_snapshot(&path, &nan).unwrap_err().to_string();
    assert!(
        m.contains("expected finite x, v, found NaN for particle 1"),
        "{m}"
    );
    assert!(!path.exists());
    let snaps = [
        SnapshotData {
            time_gyr: 0.0,
            ids: &ids,
            xv: &xv,
            masses: &masses,
        },
        nan,
    ];
    let m = write_snapshot_dir(dir.path().join("d"), &snaps, 1)
        .unwrap_err()
        .to_string();
    assert!(m.contains("snap_001.hdf5"), "{m}");
}

#[test]
fn empty_snapshot_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap_000.hdf5");
    let snap = SnapshotData {
        time_gyr: 0.0,
        ids: &[],
        xv: &[],
        masses: &[],
    };
    write_snapshot(&path, &snap).unwrap();
    let f = H5File::open(&path).unwrap();
    assert_eq!(f.shape("/PartType1/Coordinates").unwrap(), vec![0, 3]);
    assert_eq!(f.attr_u64s("/Header", "NumPart_Total").unwrap(), [0; 6]);
}

// ----- external check with h5py --------------------------------------------------------------

/// Reads a snapshot directory the way a user's analysis script would, sorts each snapshot
/// by ParticleIDs and compares with the expected particles exactly.
const H5PY_SNAPSHOTS: &str = r#"
import sys, glob, json, h5py, numpy as np
spec = json.load(open(sys.argv[2]))
files = sorted(glob.glob(sys.argv[1] + "/snap_*.hdf5"))
assert len(files) == len(spec), files
for path, s in zip(files, spec):
    with h5py.File(path, "r") as f:
        h = f["Header"].attrs
        n = len(s["ids"])
        assert h["NumPart_ThisFile"].dtype == np.uint64, h["NumPart_ThisFile"].dtype
        assert list(h["NumPart_ThisFile"]) == [0, n, 0, 0, 0, 0]
        assert list(h["NumPart_Total"]) == [0, n, 0, 0, 0, 0]
        assert list(h["NumPart_Total_HighWord"]) == [0] * 6
        assert list(h["MassTable"]) == [0.0] * 6
        assert h["Time"] == s["time_internal"], (h["Time"], s["time_internal"])
        assert h["Redshift"] == 0.0 and h["BoxSize"] == 0.0 and h["NumFilesPerSnapshot"] == 1
        p = f["Parameters"].attrs
        assert p["UnitLength_in_cm"] == 3.085677581491367e21 and p["UnitVelocity_in_cm_per_s"] == 1e5
        assert p["UnitMass_in_g"] == 1.988409870698051e33
        assert f.attrs["length_unit"] == "kpc" and f.attrs["velocity_unit"] == "km/s"
        g = f["PartType1"]
        ids = g["ParticleIDs"][:]
        assert ids.dtype == np.uint64 and g["Coordinates"].dtype == np.float64
        order = np.argsort(ids)
        want = np.argsort(np.array(s["ids"], dtype=np.uint64))
        assert np.array_equal(ids[order], np.array(s["ids"], dtype=np.uint64)[want])
        xv = np.array(s["xv"], dtype=np.float64).reshape(n, 6)[want]
        assert np.array_equal(g["Coordinates"][:][order], xv[:, :3])
        assert np.array_equal(g["Velocities"][:][order], xv[:, 3:])
        assert np.array_equal(g["Masses"][:][order], np.array(s["masses"])[want])
        assert not np.array_equal(ids, np.array(s["ids"], dtype=np.uint64)), "not shuffled"
print("OK", len(files))
"#;

#[test]
fn h5py_reads_the_snapshot_directory_exactly() {
    if !h5py_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snaps");
    let frames: Vec<_> = (0..3).map(|k| particles(40, 0.5 * k as f64)).collect();
    let times = [0.0, 0.05, 1.0 / 3.0];
    let snaps: Vec<_> = frames
        .iter()
        .zip(times)
        .map(|((ids, xv, m), t)| SnapshotData {
            time_gyr: t,
            ids,
            xv,
            masses: m,
        })
        .collect();
    write_snapshot_dir(&out, &snaps, 99).unwrap();
    let spec: Vec<String> = snaps
        .iter()
        .map(|s| {
            // The Time attribute we wrote, read back by our reader, as the exact expectation.
            let time_internal = s.time_gyr / GYR_PER_TIME_UNIT;
            format!(
                r#"{{"ids":{},"xv":{},"masses":{},"time_internal":{:?}}}"#,
                json_list(s.ids),
                json_list(s.xv),
                json_list(s.masses),
                time_internal
            )
        })
        .collect();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, format!("[{}]", spec.join(","))).unwrap();
    let stdout = python(H5PY_SNAPSHOTS, &[&out, &spec_path]);
    assert_eq!(stdout.trim(), "OK 3");
}
