//! Degenerate data and nonsense options, from the command line: each is refused before any
//! work with a message naming the file, stream or flag and the cause; unit and
//! component-order attributes of inputs are honoured.

use std::path::{Path, PathBuf};

use actionfinder_snapshots::h5::{H5File, H5Writer};
use common_cli::actionfinder;

#[allow(dead_code)]
mod common_cli;

const ISOCHRONE: &str = "isochrone:M=3.334e11,b=5";

/// `S*N` halo-like points (kpc, km/s), distinct and deterministic.
fn points(s: usize, n: usize) -> Vec<f64> {
    (0..s * n * 6)
        .map(|k| {
            let scale = if k % 6 < 3 { 9.0 } else { 140.0 };
            scale * ((k as f64) * 0.731 + 0.3).sin()
        })
        .collect()
}

/// Writes `/streams/xv` \[S,N,6\] with the given attributes on it.
fn write_xv(path: &Path, s: usize, n: usize, xv: &[f64], attrs: &[(&str, &str)]) {
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", xv, &[s, n, 6]);
    for (name, value) in attrs {
        w.attr("/streams/xv", name, *value);
    }
    w.write(path).unwrap();
}

/// Runs the binary; the exit status and stderr.
fn run(args: &[&str]) -> (bool, String) {
    let out = actionfinder(args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary expecting a refusal; its message.
fn refused(args: &[&str]) -> String {
    let (ok, err) = run(args);
    assert!(!ok, "{args:?} was accepted:\n{err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small dataset of real orbits.
fn generated(dir: &Path) -> PathBuf {
    let data = dir.join("data.h5");
    let (ok, err) = run(&[
        "generate",
        "--potential",
        ISOCHRONE,
        "--streams",
        "24",
        "--stars",
        "6",
        "--duration",
        "0.3",
        "--out",
        s(&data),
    ]);
    assert!(ok, "{err}");
    data
}

/// A tiny model trained on `data`.
fn tiny_model(dir: &Path, data: &Path) -> PathBuf {
    let model = dir.join("model");
    let (ok, err) = run(&[
        "train",
        s(data),
        "--out",
        s(&model),
        "--epochs",
        "1",
        "--width",
        "8",
        "--depth-g",
        "1",
        "--depth-p",
        "1",
    ]);
    assert!(ok, "{err}");
    model
}

/// `/particles/xv` of a catalog as written.
fn catalog_xv(path: &Path) -> Vec<f64> {
    H5File::open(path)
        .unwrap()
        .read_f64("/particles/xv")
        .unwrap()
        .data
}

fn assert_close(a: &[f64], b: &[f64], rel: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= rel * y.abs().max(1e-12), "{x} vs {y}");
    }
}

#[test]
fn zero_streams_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty.h5");
    write_xv(&data, 0, 8, &[], &[]);
    let err = refused(&["train", s(&data), "--out", s(&dir.path().join("m"))]);
    assert!(
        err.contains("empty.h5") && err.contains("at least one stream"),
        "{err}"
    );
}

#[test]
fn all_zero_points_are_refused_naming_the_file_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("zeros.h5");
    write_xv(&data, 40, 8, &vec![0.0; 40 * 8 * 6], &[]);
    let err = refused(&["train", s(&data), "--out", s(&dir.path().join("m"))]);
    assert!(
        err.contains("zeros.h5") && err.contains("all 320 points are the same point"),
        "{err}"
    );
}

#[test]
fn absurd_coordinates_are_refused_naming_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    for value in [1e300, 1e100] {
        let data = dir.path().join("far.h5");
        let mut xv = points(40, 8);
        xv[3 * 8 * 6..4 * 8 * 6].fill(value);
        write_xv(&data, 40, 8, &xv, &[]);
        let err = refused(&["train", s(&data), "--out", s(&dir.path().join("m"))]);
        assert!(
            err.contains("far.h5") && err.contains("stream 3, star 0") && err.contains("|x| <= 1e6 kpc"),
            "{err}"
        );
    }
}

#[test]
fn a_single_stream_is_not_trained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("one.h5");
    write_xv(&data, 1, 8, &points(1, 8), &[]);
    let err = train_refused(dir.path(), &data);
    assert!(err.contains("one.h5") && err.contains("holds 1 stream;"), "{err}");
}

#[test]
fn streams_of_one_point_are_not_trained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("points.h5");
    write_xv(&data, 40, 1, &points(40, 1), &[]);
    let err = train_refused(dir.path(), &data);
    assert!(err.contains("points.h5") && err.contains("1 point each"), "{err}");
}

#[test]
fn streams_that_repeat_one_point_are_not_trained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("repeat.h5");
    let xv: Vec<f64> = points(40, 1).chunks(6).flat_map(|p| p.repeat(8)).collect();
    write_xv(&data, 40, 8, &xv, &[]);
    let err = train_refused(dir.path(), &data);
    assert!(
        err.contains("repeat.h5") && err.contains("only 0 of 40 streams") && err.contains("streams 0, 1, 2"),
        "{err}"
    );
}

#[test]
fn fit_field_refuses_a_single_stream_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), &generated(dir.path()));
    let one = dir.path().join("one.h5");
    write_xv(&one, 1, 8, &points(1, 8), &[]);
    let err = refused(&["fit-field", s(&model), s(&one), "--field-epochs", "1"]);
    assert!(err.contains("one.h5") && err.contains("holds 1 stream;"), "{err}");
}

#[test]
fn train_options_are_refused_naming_the_flag_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.h5");
    write_xv(&data, 40, 8, &points(40, 8), &[]);
    let out = dir.path().join("m");
    let cases: [(&[&str], &str); 6] = [
        (
            &["--time-weight", "nan"],
            "--time-weight NaN is out of range: expected a number in [0, 1e6]",
        ),
        (&["--min-coverage=-1"], "--min-coverage -1 is out of range"),
        (&["--alpha1=-5"], "--alpha1 -5 is out of range"),
        (
            &["--max-width", "8", "--width", "64"],
            "--max-width 8 is below --width 64",
        ),
        (
            &["--epochs", "0"],
            "--epochs 0 is out of range: expected at least 1",
        ),
        (&["--toy", "M=1e300,b=5"], "--toy M 1e300 is out of range"),
    ];
    for (flags, message) in cases {
        let mut args = vec!["train", s(&data), "--out", s(&out)];
        args.extend_from_slice(flags);
        let err = refused(&args);
        assert!(
            err.contains(message) && !err.contains("TrainConfig"),
            "{flags:?}: {err}"
        );
        assert!(!out.exists(), "{flags:?} wrote a model");
    }
}

#[test]
fn field_options_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.h5");
    write_xv(&data, 40, 8, &points(40, 8), &[]);
    let out = dir.path().join("m");
    for (flag, message) in [
        ("--symmetry-weight=nan", "--symmetry-weight NaN is out of range"),
        ("--energy-weight=1e300", "--energy-weight 1e300 is out of range"),
    ] {
        let err = refused(&[
            "train",
            s(&data),
            "--out",
            s(&out),
            "--epochs",
            "1",
            "--field",
            flag,
        ]);
        assert!(err.contains(message), "{flag}: {err}");
        assert!(!out.exists(), "{flag}: the action map was trained first");
    }
}

#[test]
fn generate_options_out_of_range_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.h5");
    for (flags, message) in [
        (["--truncate", "nan"], "--truncate NaN is out of range"),
        (
            ["--every", "1e300"],
            "--every 1e300 Gyr is longer than --duration",
        ),
        (
            ["--energy-tolerance", "inf"],
            "--energy-tolerance inf is out of range",
        ),
        (
            ["--scale-length", "1e300"],
            "--scale-length 1e300 is out of range",
        ),
    ] {
        let mut args = vec![
            "generate",
            "--potential",
            ISOCHRONE,
            "--streams",
            "2",
            "--out",
            s(&out),
        ];
        args.extend_from_slice(&flags);
        let err = refused(&args);
        assert!(err.contains(message), "{flags:?}: {err}");
    }
}

#[test]
fn field_actions_and_tracks_values_out_of_range_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.h5");
    let data = generated(dir.path());
    let cases: [(Vec<&str>, &str); 3] = [
        (
            vec![
                "field",
                s(dir.path()),
                "--grid",
                "10",
                "--z-height",
                "1e300",
                "--out",
                s(&out),
            ],
            "--z-height 1e300 is out of range",
        ),
        (
            vec![
                "actions",
                "--potential",
                ISOCHRONE,
                "--method",
                "staeckel:delta=1e300",
                s(&data),
                "--out",
                s(&out),
            ],
            "staeckel:delta=D (0 < D <= 1e6 kpc)",
        ),
        (
            vec![
                "tracks",
                s(dir.path()),
                "--length-unit",
                "1e300",
                "--out",
                s(&out),
            ],
            "--length-unit 1e300 is out of range",
        ),
    ];
    for (args, message) in cases {
        let err = refused(&args);
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

#[test]
fn a_model_with_non_finite_weights_is_refused_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let data = generated(dir.path());
    let model = tiny_model(dir.path(), &data);
    let weights = model.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let start = 8 + header_len + header["g.block0.wn1.g"]["data_offsets"][0].as_u64().unwrap() as usize;
    bytes[start..start + 8].copy_from_slice(&f64::NAN.to_le_bytes());
    std::fs::write(&weights, bytes).unwrap();
    let err = refused(&["apply", s(&model), s(&data), "--out", s(&dir.path().join("c.h5"))]);
    assert!(
        err.contains("model.safetensors") && err.contains("tensor g.block0.wn1.g holds a non-finite value"),
        "{err}"
    );
}

#[test]
fn an_xv_unit_that_is_not_understood_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("metres.h5");
    write_xv(&data, 4, 3, &points(4, 3), &[("unit", "m")]);
    let err = refused(&[
        "actions",
        "--potential",
        ISOCHRONE,
        s(&data),
        "--out",
        s(&dir.path().join("c.h5")),
    ]);
    assert!(
        err.contains("metres.h5")
            && err.contains("attribute unit of /streams/xv")
            && err.contains("found \"m\""),
        "{err}"
    );
}

#[test]
fn xv_units_are_converted_to_kpc_and_km_per_s() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pc.h5");
    let xv = points(4, 3);
    let stored: Vec<f64> = xv
        .iter()
        .enumerate()
        .map(|(k, v)| if k % 6 < 3 { v * 1e3 } else { v * 1e5 })
        .collect();
    write_xv(&data, 4, 3, &stored, &[("unit", "pc (x,y,z), cm/s (vx,vy,vz)")]);
    let out = dir.path().join("c.h5");
    let (ok, err) = run(&["actions", "--potential", ISOCHRONE, s(&data), "--out", s(&out)]);
    assert!(ok, "{err}");
    assert_close(&catalog_xv(&out), &xv, 1e-12);
}

#[test]
fn a_permuted_component_order_is_put_in_ours() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("swapped.h5");
    let xv = points(4, 3);
    let stored: Vec<f64> = xv
        .chunks(6)
        .flat_map(|p| [p[3], p[4], p[5], p[1], p[0], p[2]])
        .collect();
    write_xv(&data, 4, 3, &stored, &[("component_order", "vx,vy,vz,y,x,z")]);
    let out = dir.path().join("c.h5");
    let (ok, err) = run(&["actions", "--potential", ISOCHRONE, s(&data), "--out", s(&out)]);
    assert!(ok, "{err}");
    assert_eq!(catalog_xv(&out), xv);
}

#[test]
fn an_unknown_component_order_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("order.h5");
    write_xv(
        &data,
        4,
        3,
        &points(4, 3),
        &[("component_order", "r,z,phi,vr,vz,vphi")],
    );
    let err = refused(&[
        "actions",
        "--potential",
        ISOCHRONE,
        s(&data),
        "--out",
        s(&dir.path().join("c.h5")),
    ]);
    assert!(
        err.contains("order.h5") && err.contains("attribute component_order of /streams/xv"),
        "{err}"
    );
}

#[test]
fn catalog_inputs_have_their_units_converted() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("catalog.h5");
    let xv = points(5, 1);
    let gyr_per_time_unit = 0.977_792_221_680_789;
    let stored: Vec<f64> = xv
        .iter()
        .enumerate()
        .map(|(k, v)| if k % 6 < 3 { *v } else { v / gyr_per_time_unit })
        .collect();
    let mut w = H5Writer::new();
    w.dataset("/particles/xv", &stored, &[5, 6]);
    w.attr("/particles/xv", "unit", "kpc (x,y,z), kpc/Gyr (vx,vy,vz)");
    w.write(&input).unwrap();
    let out = dir.path().join("c.h5");
    let (ok, err) = run(&["actions", "--potential", ISOCHRONE, s(&input), "--out", s(&out)]);
    assert!(ok, "{err}");
    assert_close(&catalog_xv(&out), &xv, 1e-12);
}

/// `train DATA` into `dir/m` for one epoch, which must be refused; returns stderr.
fn train_refused(dir: &Path, data: &Path) -> String {
    refused(&["train", s(data), "--out", s(&dir.join("m")), "--epochs", "1"])
}
