//! The streams dataset: round trips, partial files, AGAMA files, unit handling, rejection
//! of bad input, and an external check with h5py.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actionfinder::dataset::{StreamsDataset, Truth};
use actionfinder_snapshots::h5::{Attr, H5File, H5Writer};
use common::{h5py_or_skip, python};

#[path = "../snapshots/tests/common/mod.rs"]
mod common;

const GYR_PER_TIME_UNIT: f64 = 0.977_792_221_680_789;

fn data_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A dataset with every optional part filled with distinct values.
fn full(s: usize, n: usize) -> StreamsDataset {
    let mut ds = StreamsDataset::new(s, n);
    for (k, v) in ds.xv.iter_mut().enumerate() {
        *v = ((k as f64) * 0.731).sin() * 100.0;
    }
    let field = |per: usize, scale: f64| {
        (0..s * n * per)
            .map(|k| scale * (1.0 + k as f64).ln())
            .collect::<Vec<_>>()
    };
    ds.t = Some(field(1, 0.01));
    ds.ids = Some((0..s as u64).map(|i| (i << 40) + 17).collect());
    ds.truth = Truth {
        actions: Some(field(3, 100.0)),
        angles: Some(field(3, 0.5)),
        frequencies: Some(field(3, 30.0)),
        acceleration: Some(field(3, -2000.0)),
        potential: Some(field(1, -1.0e5)),
    };
    ds.baselines.insert("staeckel".into(), field(3, 99.0));
    ds.baselines.insert("spherical".into(), field(3, 98.0));
    ds.attrs.description = "test dataset".into();
    ds.attrs.potential = "isochrone:M=3.334e11,b=5".into();
    ds.attrs.source = "tests/dataset.rs".into();
    ds.attrs.seed = Some(u64::MAX - 1);
    ds.attrs.extra.insert("n_candidates_tried".into(), Attr::I64(536));
    ds.attrs.extra.insert("note".into(), Attr::Str("kept".into()));
    ds
}

#[test]
fn full_dataset_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.h5");
    let ds = full(5, 4);
    ds.write(&path).unwrap();
    let back = StreamsDataset::read(&path).unwrap();
    assert_eq!(back, ds);
}

#[test]
fn minimal_dataset_round_trips_with_nothing_optional() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("min.h5");
    let xv: Vec<f64> = (0..2 * 3 * 6).map(f64::from).collect();
    let ds = StreamsDataset::from_xv(2, 3, xv).unwrap();
    ds.write(&path).unwrap();
    let back = StreamsDataset::read(&path).unwrap();
    assert_eq!(back, ds);
    assert!(back.t.is_none() && back.ids.is_none() && back.baselines.is_empty());
    assert_eq!(back.truth, Truth::default());
    let f = H5File::open(&path).unwrap();
    assert!(!f.exists("/truth") && !f.exists("/baseline") && !f.exists("/streams/t"));
}

#[test]
fn accessors_index_streams_and_points() {
    let ds = full(3, 4);
    assert_eq!((ds.n_streams(), ds.n_stars()), (3, 4));
    assert_eq!(ds.stream(1), &ds.xv[24..48]);
    assert_eq!(ds.point(2, 3), <[f64; 6]>::try_from(&ds.xv[66..72]).unwrap());
    let t = ds.t.as_ref().unwrap();
    assert_eq!(ds.stream_times(2).unwrap(), &t[8..12]);
    assert!(StreamsDataset::new(2, 2).stream_times(0).is_none());
    assert!(StreamsDataset::from_xv(2, 2, vec![0.0; 23]).is_err());
}

#[test]
fn every_dataset_and_the_root_carry_units_and_component_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("units.h5");
    full(2, 2).write(&path).unwrap();
    let f = H5File::open(&path).unwrap();
    let root = |k: &str| f.attr_str("/", k).unwrap();
    assert_eq!(root("length_unit"), "kpc");
    assert_eq!(root("velocity_unit"), "km/s");
    assert_eq!(root("time_unit"), "Gyr");
    assert_eq!(root("action_unit"), "kpc km/s");
    assert_eq!(root("frequency_unit"), "km/s/kpc");
    assert_eq!(root("component_order"), "r,z,phi");
    assert_eq!(root("potential"), "isochrone:M=3.334e11,b=5");
    assert_eq!(f.attr_u64("/", "seed").unwrap(), u64::MAX - 1);
    assert_eq!(f.attr_u64("/", "n_streams").unwrap(), 2);
    assert_eq!(f.attr_f64("/", "G").unwrap(), 4.300917270e-6);
    let expect = [
        (
            "/streams/xv",
            "kpc (x,y,z), km/s (vx,vy,vz)",
            Some("x,y,z,vx,vy,vz"),
        ),
        ("/streams/t", "Gyr", None),
        ("/truth/actions", "kpc km/s", Some("r,z,phi")),
        ("/truth/angles", "rad", Some("r,z,phi")),
        ("/truth/frequencies", "km/s/kpc", Some("r,z,phi")),
        ("/truth/acceleration", "(km/s)^2/kpc", Some("x,y,z")),
        ("/truth/potential", "(km/s)^2", None),
        ("/baseline/staeckel_actions", "kpc km/s", Some("r,z,phi")),
        ("/baseline/spherical_actions", "kpc km/s", Some("r,z,phi")),
    ];
    for (path, unit, order) in expect {
        assert_eq!(f.attr_str(path, "unit").unwrap(), unit, "{path}");
        let got = f.attr_opt(path, "component_order").unwrap();
        assert_eq!(got.as_ref().and_then(Attr::as_str), order, "{path}");
    }
}

#[test]
fn reads_the_agama_milky_way_halo_file() {
    let ds = StreamsDataset::read(data_file("agama_mw_halo_256.h5")).unwrap();
    assert_eq!((ds.n_streams(), ds.n_stars()), (256, 8));
    assert!(ds.t.is_none() && ds.ids.is_none());
    for part in [
        &ds.truth.actions,
        &ds.truth.angles,
        &ds.truth.frequencies,
        &ds.truth.acceleration,
    ] {
        assert_eq!(part.as_ref().unwrap().len(), 256 * 8 * 3);
    }
    assert_eq!(ds.truth.potential.as_ref().unwrap().len(), 256 * 8);
    assert_eq!(ds.baselines.keys().collect::<Vec<_>>(), ["staeckel"]);
    assert_eq!(ds.attrs.seed, Some(5002));
    assert!(ds.attrs.description.starts_with("mw_halo (S=256)"));
    assert!(ds.attrs.potential.contains("McMillan"));
    assert!(ds.attrs.source.starts_with("agama 1.0.159"));
    assert_eq!(ds.attrs.extra.get("n_torus_failed"), Some(&Attr::I64(280)));
    // Halo orbits: radii of a few to tens of kpc, speeds of hundreds of km/s, J_r >= 0.
    let p = ds.point(0, 0);
    let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
    assert!((1.0..100.0).contains(&r), "r = {r}");
    let actions = ds.truth.actions.as_ref().unwrap();
    assert!(actions.chunks_exact(3).all(|j| j[0] >= 0.0 && j[1] >= 0.0));
}

#[test]
fn agama_file_round_trips_through_our_writer() {
    let dir = tempfile::tempdir().unwrap();
    let ds = StreamsDataset::read(data_file("agama_mw_halo_256.h5")).unwrap();
    let path = dir.path().join("again.h5");
    ds.write(&path).unwrap();
    assert_eq!(StreamsDataset::read(&path).unwrap(), ds);
}

/// The AGAMA isochrone file stores `/streams/t` in kpc/(km/s) (root `time_unit`); read in
/// Gyr its points span the 0.1 Gyr of the integration (a copy in tests/data, see its README).
#[test]
fn reads_the_agama_isochrone_file_with_times_in_gyr() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/agama_isochrone_halo_1024.h5");
    let ds = StreamsDataset::read(&path).unwrap();
    assert_eq!((ds.n_streams(), ds.n_stars()), (1024, 8));
    let t = ds.t.as_ref().unwrap();
    let max = t.iter().copied().fold(f64::MIN, f64::max);
    assert!(max < 0.1 && max > 0.0999, "max t = {max} Gyr");
    assert!(t.iter().all(|&x| (0.0..=0.1).contains(&x)));
}

/// Writes a file the way AGAMA does (times in kpc/(km/s), root `time_unit` saying so,
/// int64 seed, extra attributes) with only some parts present.
fn agama_like(path: &Path, time_unit: &str, extra: &[(&str, &str)]) -> Vec<f64> {
    let (s, n) = (3, 2);
    let xv: Vec<f64> = (0..s * n * 6).map(|k| 1.0 + k as f64).collect();
    let t: Vec<f64> = (0..s * n).map(|k| 0.01 * k as f64).collect();
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", xv, &[s, n, 6])
        .dataset("/streams/t", t.clone(), &[s, n])
        .dataset("/truth/potential", vec![-1.0; s * n], &[s, n])
        .dataset("/diagnostics/energy", vec![0.0; s * n], &[s, n])
        .dataset("/baseline/staeckel_frequencies", vec![0.0; s * n * 3], &[s, n, 3])
        .attr("/", "time_unit", time_unit)
        .attr("/", "seed", 5001i64)
        .attr("/", "length_unit", "kpc")
        .attr("/", "integration_time", 0.102);
    for (k, v) in extra {
        w.attr("/", k, *v);
    }
    w.write(path).unwrap();
    t
}

#[test]
fn times_are_converted_to_gyr_from_the_stated_unit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agama_like.h5");
    let t = agama_like(&path, "kpc/(km/s) = 977.792222 Myr", &[]);
    let ds = StreamsDataset::read(&path).unwrap();
    for (got, raw) in ds.t.as_ref().unwrap().iter().zip(&t) {
        assert!((got - raw * GYR_PER_TIME_UNIT).abs() < 1e-15);
    }
    assert!(ds.truth.potential.is_some() && ds.truth.actions.is_none());
    assert!(ds.baselines.is_empty(), "only <method>_actions are baselines");
    assert_eq!(ds.attrs.seed, Some(5001));
    assert_eq!(ds.attrs.extra.get("integration_time"), Some(&Attr::F64(0.102)));
    assert!(!ds.attrs.extra.contains_key("time_unit"));
    // Written back, the times are in Gyr and say so.
    let again = dir.path().join("again.h5");
    ds.write(&again).unwrap();
    assert_eq!(
        H5File::open(&again).unwrap().attr_str("/", "time_unit").unwrap(),
        "Gyr"
    );
    assert_eq!(StreamsDataset::read(&again).unwrap().t, ds.t);

    agama_like(&path, "Myr", &[]);
    let ds = StreamsDataset::read(&path).unwrap();
    assert!((ds.t.as_ref().unwrap()[5] - 0.05e-3).abs() < 1e-18);
}

#[test]
fn contradicting_units_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("units.h5");
    agama_like(&path, "fortnights", &[]);
    let m = StreamsDataset::read(&path).unwrap_err().to_string();
    assert!(
        m.contains("units.h5") && m.contains("attribute time_unit of /"),
        "{m}"
    );
    assert!(
        m.contains("expected a time unit: Gyr, Myr or kpc/(km/s), found \"fortnights\""),
        "{m}"
    );
    agama_like(&path, "Gyr", &[("velocity_unit", "furlong/fortnight")]);
    let m = StreamsDataset::read(&path).unwrap_err().to_string();
    assert!(
        m.contains("attribute velocity_unit of /: expected a velocity unit: km/s"),
        "{m}"
    );
    agama_like(&path, "Gyr", &[("mass_unit", "kg")]);
    let m = StreamsDataset::read(&path).unwrap_err().to_string();
    assert!(m.contains("attribute mass_unit of /: expected \"Msun\""), "{m}");
    agama_like(&path, "Gyr", &[("component_order", "phi,r,z")]);
    let m = StreamsDataset::read(&path).unwrap_err().to_string();
    assert!(
        m.contains("attribute component_order of /: expected \"r,z,phi\""),
        "{m}"
    );
    agama_like(
        &path,
        "Gyr",
        &[("acceleration_unit", "km^2/s^2/kpc"), ("action_unit", "kpc*km/s")],
    );
    assert!(
        StreamsDataset::read(&path).is_ok(),
        "equivalent spellings are accepted"
    );
}

#[test]
fn root_length_and_velocity_units_are_converted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("units.h5");
    agama_like(&path, "Gyr", &[("velocity_unit", "m/s")]);
    let ds = StreamsDataset::read(&path).unwrap();
    assert_eq!(ds.point(0, 0), [1.0, 2.0, 3.0, 4e-3, 5e-3, 6e-3]);
}

/// Writes a file with our writer, bypassing the dataset's own checks.
fn raw_file(path: &Path, parts: &[(&str, Vec<f64>, Vec<usize>)]) {
    let mut w = H5Writer::new();
    for (p, data, shape) in parts {
        w.dataset(p, data.clone(), shape);
    }
    w.write(path).unwrap();
}

fn read_error(path: &Path) -> String {
    StreamsDataset::read(path).unwrap_err().to_string()
}

#[test]
fn bad_files_are_rejected_naming_file_and_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.h5");
    let good = || (0..2 * 3 * 6).map(f64::from).collect::<Vec<_>>();

    raw_file(&path, &[("/streams/other", vec![1.0], vec![1])]);
    let m = read_error(&path);
    assert!(
        m.contains("bad.h5") && m.contains("dataset /streams/xv: not found"),
        "{m}"
    );

    raw_file(&path, &[("/streams/xv", vec![0.0; 30], vec![2, 3, 5])]);
    let m = read_error(&path);
    assert!(
        m.contains("dataset /streams/xv: expected shape [S,N,6], found shape [2,3,5]"),
        "{m}"
    );

    raw_file(&path, &[("/streams/xv", vec![0.0; 36], vec![6, 6])]);
    assert!(read_error(&path).contains("found shape [6,6]"));

    let mut nan = good();
    nan[6 * 4 + 3] = f64::NAN;
    raw_file(&path, &[("/streams/xv", nan, vec![2, 3, 6])]);
    let m = read_error(&path);
    assert!(
        m.contains(
            "dataset /streams/xv: expected finite values, found NaN at stream 1, star 1, component vx"
        ),
        "{m}"
    );

    let mut inf = good();
    inf[0] = f64::INFINITY;
    raw_file(&path, &[("/streams/xv", inf, vec![2, 3, 6])]);
    assert!(read_error(&path).contains("found inf at stream 0, star 0, component x"));

    raw_file(
        &path,
        &[
            ("/streams/xv", good(), vec![2, 3, 6]),
            ("/truth/actions", vec![0.0; 24], vec![2, 4, 3]),
        ],
    );
    let m = read_error(&path);
    assert!(
        m.contains("dataset /truth/actions: expected shape [S=2,N=3,3], found shape [2,4,3]"),
        "{m}"
    );

    raw_file(
        &path,
        &[
            ("/streams/xv", good(), vec![2, 3, 6]),
            ("/truth/potential", vec![0.0; 18], vec![2, 3, 3]),
        ],
    );
    assert!(read_error(&path).contains("dataset /truth/potential: expected shape [S=2,N=3]"));

    raw_file(
        &path,
        &[
            ("/streams/xv", good(), vec![2, 3, 6]),
            ("/streams/t", vec![f64::NAN; 6], vec![2, 3]),
        ],
    );
    assert!(read_error(&path)
        .contains("dataset /streams/t: expected finite values, found NaN at stream 0, star 0"));

    raw_file(
        &path,
        &[
            ("/streams/xv", good(), vec![2, 3, 6]),
            ("/streams/ids", vec![1.0, 2.0, 3.0], vec![3]),
        ],
    );
    assert!(read_error(&path).contains("dataset /streams/ids: expected shape [S=2], found shape [3]"));

    raw_file(
        &path,
        &[
            ("/streams/xv", good(), vec![2, 3, 6]),
            ("/baseline/fudge_actions", vec![0.0; 6], vec![2, 3]),
        ],
    );
    assert!(read_error(&path).contains("dataset /baseline/fudge_actions: expected shape [S=2,N=3,3]"));

    std::fs::write(&path, b"not hdf5").unwrap();
    assert!(read_error(&path).contains("not an HDF5 file"));
    assert!(StreamsDataset::read(dir.path().join("absent.h5"))
        .unwrap_err()
        .to_string()
        .contains("absent.h5"));
}

#[test]
fn truth_and_baselines_may_hold_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan_truth.h5");
    let mut ds = full(2, 2);
    ds.truth.actions.as_mut().unwrap()[4] = f64::NAN;
    ds.write(&path).unwrap();
    let back = StreamsDataset::read(&path).unwrap();
    assert!(back.truth.actions.as_ref().unwrap()[4].is_nan());
}

#[test]
fn inconsistent_datasets_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.h5");
    type Spoil = fn(&mut StreamsDataset);
    let cases: [(Spoil, &str); 6] = [
        (
            |d| d.t = Some(vec![0.0; 3]),
            "dataset /streams/t: expected 4 values (shape [S=2,N=2]), found 3 values",
        ),
        (
            |d| d.ids = Some(vec![1]),
            "dataset /streams/ids: expected 2 ids (one per stream), found 1",
        ),
        (
            |d| d.truth.frequencies = Some(vec![0.0; 11]),
            "dataset /truth/frequencies: expected 12 values (shape [S=2,N=2,3])",
        ),
        (
            |d| d.xv[9] = f64::NAN,
            "dataset /streams/xv: expected finite values, found NaN at stream 0, star 1, component vx",
        ),
        (
            |d| {
                d.xv.pop();
            },
            "dataset /streams/xv: expected 24 values",
        ),
        (
            |d| {
                d.baselines.insert("a/b".into(), vec![0.0; 12]);
            },
            "baseline method name",
        ),
    ];
    for (spoil, want) in cases {
        let mut ds = full(2, 2);
        spoil(&mut ds);
        let m = ds.write(&path).unwrap_err().to_string();
        assert!(m.contains("out.h5") && m.contains(want), "{m}\nwanted: {want}");
        assert!(!path.exists());
    }
}

// ----- external check with h5py --------------------------------------------------------------

const CHECK_WRITTEN: &str = r#"
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
spec = json.load(open(sys.argv[2]))
for path, d in spec["datasets"].items():
    a = f[path]
    assert str(a.dtype) == d["dtype"], (path, a.dtype)
    assert list(a.shape) == d["shape"], (path, a.shape)
    want = np.array(d["data"], dtype=d["dtype"]).reshape(d["shape"])
    assert np.array_equal(a[()], want), path
    assert a.attrs["unit"] == d["unit"], (path, a.attrs["unit"])
for k, v in spec["attrs"].items():
    assert f.attrs[k] == v, (k, f.attrs[k], v)
print("OK", len(spec["datasets"]), len(spec["attrs"]))
"#;

#[test]
fn h5py_reads_the_dataset_we_write_exactly() {
    if !h5py_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("for_h5py.h5");
    let ds = full(4, 3);
    ds.write(&path).unwrap();
    let entry = |data: serde_json::Value, dtype: &str, shape: &[usize], unit: &str| serde_json::json!({"data": data, "dtype": dtype, "shape": shape, "unit": unit});
    let mut datasets = BTreeMap::new();
    datasets.insert(
        "/streams/xv",
        entry(
            serde_json::json!(ds.xv),
            "float64",
            &[4, 3, 6],
            "kpc (x,y,z), km/s (vx,vy,vz)",
        ),
    );
    datasets.insert(
        "/streams/t",
        entry(serde_json::json!(ds.t), "float64", &[4, 3], "Gyr"),
    );
    datasets.insert(
        "/streams/ids",
        entry(
            serde_json::json!(ds.ids),
            "uint64",
            &[4],
            "particle id of each stream",
        ),
    );
    datasets.insert(
        "/truth/actions",
        entry(
            serde_json::json!(ds.truth.actions),
            "float64",
            &[4, 3, 3],
            "kpc km/s",
        ),
    );
    datasets.insert(
        "/truth/potential",
        entry(
            serde_json::json!(ds.truth.potential),
            "float64",
            &[4, 3],
            "(km/s)^2",
        ),
    );
    datasets.insert(
        "/baseline/staeckel_actions",
        entry(
            serde_json::json!(ds.baselines["staeckel"]),
            "float64",
            &[4, 3, 3],
            "kpc km/s",
        ),
    );
    let attrs = serde_json::json!({
        "length_unit": "kpc", "velocity_unit": "km/s", "time_unit": "Gyr",
        "component_order": "r,z,phi", "potential": "isochrone:M=3.334e11,b=5",
        "description": "test dataset", "seed": u64::MAX - 1, "n_candidates_tried": 536, "note": "kept",
    });
    let spec = serde_json::json!({"datasets": datasets, "attrs": attrs});
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    assert_eq!(python(CHECK_WRITTEN, &[&path, &spec_path]).trim(), "OK 6 9");
}

const DUMP_AGAMA: &str = r#"
import sys, json, h5py
f = h5py.File(sys.argv[1], "r")
# repr() is the shortest exact decimal; serde_json's own float parsing is not exact.
exact = lambda a: [repr(float(x)) for x in a]
out = {
    "xv_first": exact(f["streams/xv"][0, 0]),
    "xv_last": exact(f["streams/xv"][-1, -1]),
    "actions": exact(f["truth/actions"][17, 5]),
    "potential": exact([f["truth/potential"][200, 3]]),
    "baseline": exact(f["baseline/staeckel_actions"][255, 7]),
    "xv_sum": exact([f["streams/xv"][()].sum(dtype="float64")]),
}
print(json.dumps(out))
"#;

#[test]
fn our_reading_of_the_agama_file_matches_h5py() {
    if !h5py_or_skip() {
        return;
    }
    let path = data_file("agama_mw_halo_256.h5");
    let dump: serde_json::Value = serde_json::from_str(&python(DUMP_AGAMA, &[&path])).unwrap();
    let ds = StreamsDataset::read(&path).unwrap();
    let vec = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().parse().unwrap())
            .collect()
    };
    assert_eq!(ds.point(0, 0).to_vec(), vec(&dump["xv_first"]));
    assert_eq!(ds.point(255, 7).to_vec(), vec(&dump["xv_last"]));
    let k = 3 * (17 * 8 + 5);
    assert_eq!(
        ds.truth.actions.as_ref().unwrap()[k..k + 3].to_vec(),
        vec(&dump["actions"])
    );
    assert_eq!(
        ds.truth.potential.as_ref().unwrap()[200 * 8 + 3],
        vec(&dump["potential"])[0]
    );
    let k = 3 * (255 * 8 + 7);
    assert_eq!(
        ds.baselines["staeckel"][k..k + 3].to_vec(),
        vec(&dump["baseline"])
    );
    // numpy sums pairwise; agreement to rounding is all a sum can show.
    let sum: f64 = ds.xv.iter().sum();
    assert!((sum - vec(&dump["xv_sum"])[0]).abs() < 1e-9 * ds.xv.iter().map(|x| x.abs()).sum::<f64>());
}

const WRITE_GALPY_LIKE: &str = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("streams/xv", data=np.arange(2 * 3 * 6, dtype=np.float32).reshape(2, 3, 6) / 4)
    f.create_dataset("streams/ids", data=np.array([7, 9], dtype=np.int64))
    f.create_dataset("truth/frequencies", data=np.ones((2, 3, 3)), chunks=(1, 3, 3), compression="gzip")
    f.attrs["description"] = np.bytes_(b"galpy-made, fixed-length strings")
    f.attrs["length_unit"] = np.bytes_(b"kpc")
    f.attrs["seed"] = np.int32(3)
"#;

#[test]
fn reads_a_partial_h5py_file_with_other_types() {
    if !h5py_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("galpy_like.h5");
    python(WRITE_GALPY_LIKE, &[&path]);
    let ds = StreamsDataset::read(&path).unwrap();
    assert_eq!((ds.n_streams(), ds.n_stars()), (2, 3));
    assert_eq!(ds.xv, (0..36).map(|k| k as f64 / 4.0).collect::<Vec<_>>());
    assert_eq!(ds.ids, Some(vec![7, 9]));
    assert_eq!(ds.truth.frequencies, Some(vec![1.0; 18]));
    assert!(ds.t.is_none() && ds.truth.actions.is_none());
    assert_eq!(ds.attrs.description, "galpy-made, fixed-length strings");
    assert_eq!(ds.attrs.seed, Some(3));
}
