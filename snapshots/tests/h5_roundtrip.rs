//! Round trips through our HDF5 façade, its error messages, damaged files, and an external
//! check with Python's h5py.

use std::path::{Path, PathBuf};

use actionfinder_snapshots::h5::{Attr, Dim, H5Error, H5File, H5Writer, Kind};
use common::{h5py_or_skip, json_list, python};

mod common;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// A file with every dataset type, several shapes and every attribute kind.
fn sample<'a>(xv: &'a [f64], ids: &'a [u64]) -> H5Writer<'a> {
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", xv, &[2, 3, 6])
        .dataset("/streams/ids", ids, &[2])
        .dataset("/types/f32", vec![1.5f32, -2.25, 3.0e-7], &[3])
        .dataset("/types/u32", vec![0u32, 7, u32::MAX], &[3])
        .dataset("/types/i32", vec![-3i32, 0, i32::MAX], &[3])
        .dataset("/types/i64", vec![i64::MIN, 0, 5], &[3])
        .dataset("/types/pos_i64", vec![1i64, 2, 3, 4], &[2, 2])
        .dataset("/types/scalar", vec![42.0f64], &[])
        .dataset("/types/empty", Vec::<f64>::new(), &[0, 3])
        .group("/empty_group/inner")
        .attr("/", "description", "round trip: ünïcode ok")
        .attr("/", "seed", 12345u64)
        .attr("/", "offset", -7i64)
        .attr("/", "scale", 0.1)
        .attr("/", "tags", vec!["a".to_string(), "bc".to_string()])
        .attr("/streams", "n_streams", 2i32)
        .attr("/streams/xv", "component_order", "x,y,z,vx,vy,vz")
        .attr("/streams/xv", "scales", [20.0, 200.0])
        .attr("/Header", "NumPart_ThisFile", [0u64, 5, 0, 0, 0, 0])
        .attr("/Header", "HighWord", [0u32; 6])
        .attr("/Header", "Flags", [1i32, -1])
        .attr("/Header", "Offsets", vec![-1i64, 1]);
    w
}

fn sample_values() -> (Vec<f64>, Vec<u64>) {
    let xv = (0..36)
        .map(|i| (i as f64).sin() * 1e3 + 1e-9 * i as f64)
        .collect();
    (xv, vec![u64::MAX, 1 << 53 | 1])
}

#[test]
fn datasets_round_trip_with_shapes_and_conversions() {
    let dir = tmp();
    let path = dir.path().join("a.h5");
    let (xv, ids) = sample_values();
    sample(&xv, &ids).write(&path).unwrap();
    let f = H5File::open(&path).unwrap();
    let got = f.read_f64("/streams/xv").unwrap();
    assert_eq!(got.shape, vec![2, 3, 6]);
    assert_eq!(got.data, xv);
    assert_eq!(f.read_u64("streams/ids").unwrap().data, ids);
    assert_eq!(
        f.read_f64("/types/f32").unwrap().data,
        vec![1.5, -2.25, f64::from(3.0e-7f32)]
    );
    assert_eq!(
        f.read_u64("/types/u32").unwrap().data,
        vec![0, 7, u64::from(u32::MAX)]
    );
    assert_eq!(
        f.read_f64("/types/u32").unwrap().data,
        vec![0.0, 7.0, 4294967295.0]
    );
    assert_eq!(
        f.read_f64("/types/i32").unwrap().data,
        vec![-3.0, 0.0, 2147483647.0]
    );
    let pos = f.read_u64("/types/pos_i64").unwrap();
    assert_eq!((pos.data, pos.shape), (vec![1, 2, 3, 4], vec![2, 2]));
    let scalar = f.read_f64("/types/scalar").unwrap();
    assert_eq!((scalar.data, scalar.shape), (vec![42.0], vec![]));
    let empty = f.read_f64("/types/empty").unwrap();
    assert_eq!((empty.data.len(), empty.shape), (0, vec![0, 3]));
    assert_eq!(f.type_name("/types/f32").unwrap(), "f32");
}

#[test]
fn attributes_round_trip() {
    let dir = tmp();
    let path = dir.path().join("a.h5");
    let (xv, ids) = sample_values();
    sample(&xv, &ids).write(&path).unwrap();
    let f = H5File::open(&path).unwrap();
    assert_eq!(f.attr_str("/", "description").unwrap(), "round trip: ünïcode ok");
    assert_eq!(f.attr_u64("/", "seed").unwrap(), 12345);
    assert_eq!(f.attr_i64("/", "offset").unwrap(), -7);
    assert_eq!(f.attr_f64("/", "scale").unwrap(), 0.1);
    assert_eq!(
        f.attr("/", "tags").unwrap(),
        Attr::Strs(vec!["a".into(), "bc".into()])
    );
    assert_eq!(f.attr_i64("/streams", "n_streams").unwrap(), 2);
    assert_eq!(
        f.attr_str("/streams/xv", "component_order").unwrap(),
        "x,y,z,vx,vy,vz"
    );
    assert_eq!(f.attr_f64s("/streams/xv", "scales").unwrap(), vec![20.0, 200.0]);
    assert_eq!(
        f.attr_u64s("/Header", "NumPart_ThisFile").unwrap(),
        vec![0, 5, 0, 0, 0, 0]
    );
    assert_eq!(f.attr_u64s("/Header", "HighWord").unwrap(), vec![0; 6]);
    assert_eq!(f.attr_i64s("/Header", "Flags").unwrap(), vec![1, -1]);
    assert_eq!(f.attr_i64s("/Header", "Offsets").unwrap(), vec![-1, 1]);
    // An integer reads as f64 too; a scalar reads as a one-element array.
    assert_eq!(f.attr_f64("/", "seed").unwrap(), 12345.0);
    assert_eq!(f.attr_f64s("/", "scale").unwrap(), vec![0.1]);
    assert_eq!(f.attr_opt("/", "absent").unwrap(), None);
    let names = f.attr_names("/Header").unwrap();
    assert_eq!(names, ["Flags", "HighWord", "NumPart_ThisFile", "Offsets"]);
}

#[test]
fn listing_and_existence() {
    let dir = tmp();
    let path = dir.path().join("a.h5");
    let (xv, ids) = sample_values();
    sample(&xv, &ids).write(&path).unwrap();
    let f = H5File::open(&path).unwrap();
    assert_eq!(
        f.groups("/").unwrap(),
        ["Header", "empty_group", "streams", "types"]
    );
    assert_eq!(f.datasets("/streams").unwrap(), ["ids", "xv"]);
    assert!(f.datasets("/").unwrap().is_empty());
    assert_eq!(f.groups("/empty_group").unwrap(), ["inner"]);
    assert_eq!(f.kind("/streams/xv"), Some(Kind::Dataset));
    assert_eq!(f.kind("/streams"), Some(Kind::Group));
    assert_eq!(f.kind("/"), Some(Kind::Group));
    assert!(f.exists("/empty_group/inner") && !f.exists("/nope") && !f.exists("/streams/xv/deeper"));
    assert!(f.has_dataset("/streams/ids") && !f.has_dataset("/streams"));
    assert!(f.has_group("/Header") && !f.has_group("/streams/xv"));
    assert_eq!(f.path(), path.as_path());
}

#[test]
fn rewriting_replaces_the_file_and_leaves_no_temporary() {
    let dir = tmp();
    let path = dir.path().join("a.h5");
    let mut w = H5Writer::new();
    w.dataset("/x", vec![1.0], &[1]);
    w.write(&path).unwrap();
    let mut w = H5Writer::new();
    w.dataset("/y", vec![2.0, 3.0], &[2]);
    w.write(&path).unwrap();
    let f = H5File::open(&path).unwrap();
    assert!(!f.exists("/x"));
    assert_eq!(f.read_f64("/y").unwrap().data, vec![2.0, 3.0]);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "only the file itself remains");
}

// ----- errors -------------------------------------------------------------------------------

fn message(e: H5Error) -> String {
    e.to_string()
}

/// Assert that the error's message contains every one of `parts` (shown when it does not).
fn assert_says(e: H5Error, parts: &[&str]) {
    let m = message(e);
    assert!(parts.iter().all(|p| m.contains(p)), "{m}\nwanted: {parts:?}");
}

#[test]
fn shape_errors_name_file_dataset_and_expectation() {
    let dir = tmp();
    let path = dir.path().join("snap_003.hdf5");
    let mut w = H5Writer::new();
    w.dataset("/PartType1/Coordinates", vec![0.0; 5], &[5]);
    w.write(&path).unwrap();
    let f = H5File::open(&path).unwrap();
    let e = f
        .read_f64_shaped("/PartType1/Coordinates", &[Dim::Any("n"), Dim::Is(3)])
        .unwrap_err();
    assert_says(
        e,
        &[
            "snap_003.hdf5",
            "dataset /PartType1/Coordinates: expected shape [n,3], found shape [5]",
        ],
    );
    let e = f
        .expect_shape("/PartType1/Coordinates", &[Dim::Named("S", 4)])
        .unwrap_err();
    assert!(message(e).contains("expected shape [S=4], found shape [5]"));
    assert_eq!(
        f.expect_shape("/PartType1/Coordinates", &[Dim::Named("S", 5)])
            .unwrap(),
        vec![5]
    );
}

#[test]
fn missing_objects_and_wrong_types_are_named() {
    let dir = tmp();
    let path = dir.path().join("a.h5");
    let (xv, ids) = sample_values();
    sample(&xv, &ids).write(&path).unwrap();
    let f = H5File::open(&path).unwrap();
    assert_says(
        f.read_f64("/streams/t").unwrap_err(),
        &["a.h5", "dataset /streams/t: not found"],
    );
    assert_says(
        f.read_f64("/streams").unwrap_err(),
        &["dataset /streams: expected a dataset, found a group"],
    );
    assert_says(
        f.datasets("/streams/xv").unwrap_err(),
        &["group /streams/xv: expected a group, found a dataset"],
    );
    assert_says(f.groups("/nothing").unwrap_err(), &["group /nothing: not found"]);
    assert_says(
        f.attr_str("/Header", "Time").unwrap_err(),
        &["attribute Time of /Header: not found"],
    );
    assert_says(
        f.attr_str("/", "seed").unwrap_err(),
        &["attribute seed of /: expected a string, found u64 12345"],
    );
    assert_says(
        f.attr_u64s("/Header", "Flags").unwrap_err(),
        &["expected non-negative integers"],
    );
    assert_says(
        f.read_u64("/types/f32").unwrap_err(),
        &["dataset /types/f32: expected integer elements, found element type f32"],
    );
    assert_says(
        f.read_u64("/types/i64").unwrap_err(),
        &["expected non-negative integers, found -9223372036854775808 at index 0"],
    );
    assert_says(f.attrs("/nope").unwrap_err(), &["object /nope: not found"]);
}

#[test]
fn writer_rejects_inconsistent_contents_naming_the_file() {
    let dir = tmp();
    let path = dir.path().join("bad.h5");
    let mut w = H5Writer::new();
    w.dataset("/a/x", vec![1.0, 2.0, 3.0], &[2, 2]);
    assert_says(
        w.write(&path).unwrap_err(),
        &[
            "bad.h5",
            "dataset /a/x: shape [2,2] holds 4 elements, but 3 were given",
        ],
    );
    assert!(!path.exists(), "nothing written on error");

    let mut w = H5Writer::new();
    w.dataset("/a", vec![1.0], &[1]).dataset("/a/x", vec![1.0], &[1]);
    assert_says(
        w.write(&path).unwrap_err(),
        &["/a is a dataset and cannot also be a group"],
    );

    let mut w = H5Writer::new();
    w.dataset("/a", vec![1.0], &[1]).group("/a");
    assert_says(
        w.write(&path).unwrap_err(),
        &["/a is a group and cannot also be a dataset"],
    );

    let mut w = H5Writer::new();
    w.dataset("/", vec![1.0], &[1]);
    assert!(w.write(&path).is_err());

    let mut w = H5Writer::new();
    w.dataset("/x", vec![1.0], &[1]);
    assert_says(
        w.write(dir.path().join("no/such/dir/x.h5")).unwrap_err(),
        &["no/such/dir/x.h5", "cannot write"],
    );
}

#[test]
fn missing_file_is_a_clean_error() {
    let e = H5File::open("/definitely/not/here.h5").unwrap_err();
    assert!(matches!(e, H5Error::Io { .. }));
    assert_says(e, &["/definitely/not/here.h5", "cannot open"]);
}

#[test]
fn non_hdf5_files_are_clean_errors() {
    let dir = tmp();
    for (name, bytes) in [
        ("empty.h5", Vec::new()),
        ("text.h5", b"x,y,z\n1,2,3\n".to_vec()),
        ("zeros.h5", vec![0u8; 4096]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = H5File::open(&path).unwrap_err();
        assert!(matches!(e, H5Error::NotHdf5 { .. }), "{name}: {e}");
        assert!(message(e).contains(name));
    }
    let e = H5File::open(dir.path()).unwrap_err();
    assert!(matches!(e, H5Error::Io { .. }), "a directory: {e}");
}

/// Opens `path` and reads everything in it; returns the first error.
fn read_everything(path: &Path) -> Result<(), H5Error> {
    let f = H5File::open(path)?;
    let mut stack = vec!["/".to_string()];
    while let Some(group) = stack.pop() {
        f.attrs(&group)?;
        for ds in f.datasets(&group)? {
            let p = format!("{}/{ds}", group.trim_end_matches('/'));
            f.attrs(&p)?;
            f.read_f64(&p)?;
        }
        for g in f.groups(&group)? {
            stack.push(format!("{}/{g}", group.trim_end_matches('/')));
        }
    }
    Ok(())
}

fn sample_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("whole.h5");
    let (xv, ids) = sample_values();
    sample(&xv, &ids).write(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn truncated_files_give_errors_not_panics() {
    let dir = tmp();
    let (whole, bytes) = sample_file(dir.path());
    read_everything(&whole).unwrap();
    let cut = dir.path().join("cut.h5");
    let step = (bytes.len() / 97).max(1);
    for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let e = H5File::open(&cut).unwrap_err();
        let m = message(e);
        assert!(m.contains("cut.h5"), "error must name the file: {m}");
        if len >= 8 {
            assert!(m.contains("truncated"), "{len} bytes: {m}");
        }
    }
}

#[test]
fn damaged_files_give_errors_not_panics() {
    let dir = tmp();
    let (_, bytes) = sample_file(dir.path());
    let bad = dir.path().join("bad.h5");
    // Overwrite 8-byte windows throughout the file with garbage: any outcome but a panic.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for start in (0..bytes.len().saturating_sub(8)).step_by(13) {
        let mut damaged = bytes.clone();
        for b in &mut damaged[start..start + 8] {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            *b = (state >> 56) as u8;
        }
        std::fs::write(&bad, &damaged).unwrap();
        let _ = read_everything(&bad);
    }
}

// ----- external check with h5py --------------------------------------------------------------

const H5PY_CHECK: &str = r#"
import sys, json, h5py, numpy as np
path, spec = sys.argv[1], json.load(open(sys.argv[2]))
f = h5py.File(path, "r")
bad = []
for d in spec["datasets"]:
    ds = f[d["path"]]
    a = ds[()]
    want = np.array(d["data"], dtype=d["dtype"]).reshape(d["shape"])
    if str(ds.dtype) != d["dtype"] or list(ds.shape) != d["shape"] or not np.array_equal(a, want):
        bad.append(("dataset", d["path"], str(ds.dtype), list(ds.shape)))
for a in spec["attrs"]:
    v = f[a["path"]].attrs[a["name"]]
    if a["dtype"] == "str":
        ok = isinstance(v, str) and v == a["value"]
    elif a["dtype"] == "str[]":
        ok = [str(x) for x in v] == a["value"]
    else:
        arr = np.asarray(v)
        want = np.array(a["value"], dtype=a["dtype"])
        ok = str(arr.dtype) == a["dtype"] and arr.shape == want.shape and np.array_equal(arr, want)
    if not ok:
        bad.append(("attr", a["path"], a["name"], repr(v)))
print(json.dumps(bad) if bad else "OK %d" % (len(spec["datasets"]) + len(spec["attrs"])))
sys.exit(1 if bad else 0)
"#;

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn ds_spec(path: &str, dtype: &str, shape: &[usize], data: String) -> String {
    format!(
        r#"{{"path":{},"dtype":"{dtype}","shape":{},"data":{data}}}"#,
        json_str(path),
        json_list(shape)
    )
}

fn attr_spec(path: &str, name: &str, dtype: &str, value: String) -> String {
    format!(
        r#"{{"path":{},"name":{},"dtype":"{dtype}","value":{value}}}"#,
        json_str(path),
        json_str(name)
    )
}

#[test]
fn h5py_reads_what_we_write_exactly() {
    if !h5py_or_skip() {
        return;
    }
    let dir = tmp();
    let path = dir.path().join("for_h5py.h5");
    let (xv, ids) = sample_values();
    sample(&xv, &ids).write(&path).unwrap();
    let datasets = [
        ds_spec("/streams/xv", "float64", &[2, 3, 6], json_list(&xv)),
        ds_spec("/streams/ids", "uint64", &[2], json_list(&ids)),
        ds_spec("/types/f32", "float32", &[3], json_list(&[1.5f32, -2.25, 3.0e-7])),
        ds_spec("/types/u32", "uint32", &[3], json_list(&[0u32, 7, u32::MAX])),
        ds_spec("/types/i32", "int32", &[3], json_list(&[-3i32, 0, i32::MAX])),
        ds_spec("/types/i64", "int64", &[3], json_list(&[i64::MIN, 0, 5])),
        ds_spec("/types/scalar", "float64", &[], "42.0".into()),
        ds_spec("/types/empty", "float64", &[0, 3], "[]".into()),
    ];
    let attrs = [
        attr_spec("/", "description", "str", json_str("round trip: ünïcode ok")),
        attr_spec("/", "seed", "uint64", "12345".into()),
        attr_spec("/", "offset", "int64", "-7".into()),
        attr_spec("/", "scale", "float64", "0.1".into()),
        attr_spec("/", "tags", "str[]", r#"["a","bc"]"#.into()),
        attr_spec("/streams", "n_streams", "int32", "2".into()),
        attr_spec(
            "/streams/xv",
            "component_order",
            "str",
            json_str("x,y,z,vx,vy,vz"),
        ),
        attr_spec("/streams/xv", "scales", "float64", "[20.0,200.0]".into()),
        attr_spec("/Header", "NumPart_ThisFile", "uint64", "[0,5,0,0,0,0]".into()),
        attr_spec("/Header", "HighWord", "uint32", "[0,0,0,0,0,0]".into()),
        attr_spec("/Header", "Flags", "int32", "[1,-1]".into()),
    ];
    let spec = format!(
        r#"{{"datasets":[{}],"attrs":[{}]}}"#,
        datasets.join(","),
        attrs.join(",")
    );
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, spec).unwrap();
    let stdout = python(H5PY_CHECK, &[&path, &spec_path]);
    assert_eq!(stdout.trim(), "OK 19");
}

#[test]
fn we_read_what_h5py_writes() {
    if !h5py_or_skip() {
        return;
    }
    let dir = tmp();
    let path = dir.path().join("from_h5py.h5");
    let script = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    g = f.create_group("PartType1")
    g.create_dataset("Coordinates", data=np.arange(12, dtype=np.float32).reshape(4, 3) / 8,
                     chunks=(2, 3), compression="gzip", shuffle=True)
    g.create_dataset("ParticleIDs", data=np.array([5, 1, 2**40, 3], dtype=np.uint64))
    g.create_dataset("Small", data=np.array([1, 2], dtype=np.uint32))
    h = f.create_group("Header")
    h.attrs["NumPart_ThisFile"] = np.array([0, 4, 0, 0, 0, 0], dtype=np.int32)
    h.attrs["Time"] = np.float64(0.25)
    h.attrs["Git_commit"] = np.bytes_(b"abc123")
    f.attrs["vlen"] = "variable length"
"#;
    python(script, &[&path]);
    let f = H5File::open(&path).unwrap();
    let x = f
        .read_f64_shaped("/PartType1/Coordinates", &[Dim::Any("n"), Dim::Is(3)])
        .unwrap();
    assert_eq!(x.data, (0..12).map(|i| i as f64 / 8.0).collect::<Vec<_>>());
    assert_eq!(
        f.read_u64("/PartType1/ParticleIDs").unwrap().data,
        vec![5, 1, 1 << 40, 3]
    );
    assert_eq!(f.read_u64("/PartType1/Small").unwrap().data, vec![1, 2]);
    assert_eq!(
        f.attr_u64s("/Header", "NumPart_ThisFile").unwrap(),
        vec![0, 4, 0, 0, 0, 0]
    );
    assert_eq!(f.attr_f64("/Header", "Time").unwrap(), 0.25);
    assert_eq!(f.attr_str("/Header", "Git_commit").unwrap(), "abc123");
    assert_eq!(f.attr_str("/", "vlen").unwrap(), "variable length");
}
