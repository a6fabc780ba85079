//! `actionfinder field` through the binary, on a model directory with a fresh field (output
//! layer zero, so the field is exactly the toy isochrone's): on a grid against that
//! isochrone, at a catalog's, a dataset's and a `/positions` file's points, with plots; and
//! the refusals (no field, bad `--grid`, `--out` equal to `--at`, both or neither of `--at`
//! and `--grid`).

#[allow(dead_code)]
mod common_cli;

use common_cli::*;

#[allow(dead_code)]
mod common_learning;

use std::path::{Path, PathBuf};

use actionfinder::catalog::Catalog;
use actionfinder::field::{spec_for, FieldForm, FieldModel};
use actionfinder::model::Model;
use actionfinder::nn::Activation;
use actionfinder_integrators::potential::spec::parse;
use actionfinder_snapshots::h5::{H5File, H5Writer};
use candle_core::Device;
use common_learning::{model_config, offset_toy};
use serde_json::json;

const PLOTS: [&str; 4] = [
    "circular_speed.png",
    "vertical_force.png",
    "radial_acceleration.png",
    "potential_map.png",
];

/// A model directory under `dir` (an untrained action map), with a fresh potential field
/// when `with_field`.
fn model_dir(dir: &Path, with_field: bool) -> PathBuf {
    let path = dir.join("model");
    let model = Model::new(model_config(false), &Device::Cpu, 3).unwrap();
    model.save(&path, &json!({})).unwrap();
    if with_field {
        let spec = spec_for(&model, FieldForm::Potential, vec![16, 16], Activation::Silu).unwrap();
        let field = FieldModel::new(spec, &Device::Cpu, 1).unwrap();
        field.save(&path, &json!({})).unwrap();
    }
    path
}

/// The toy isochrone of [`model_config`] as a potential spec.
fn toy_spec() -> String {
    let (m, b) = offset_toy();
    format!("isochrone:M={m:e},b={b}")
}

/// `field MODEL ARGS...`, which must succeed; returns its stdout.
fn field_ok(model: &Path, args: &[&str]) -> String {
    let mut all = vec!["field", model.to_str().unwrap()];
    all.extend(args);
    let out = actionfinder(&all);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `field ARGS...`, which must fail; returns its stderr.
fn field_err(args: &[&str]) -> String {
    let mut all = vec!["field"];
    all.extend(args);
    let out = actionfinder(&all);
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn read(f: &H5File, path: &str) -> (Vec<f64>, Vec<usize>) {
    let a = f.read_f64(path).unwrap();
    (a.data, a.shape)
}

/// Largest `|a - b|` over rows of `k`, relative to each row's `|b|`.
fn max_relative(a: &[f64], b: &[f64], k: usize) -> f64 {
    assert_eq!(a.len(), b.len());
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    (a.chunks(k).zip(b.chunks(k)))
        .map(|(a, b)| norm(&a.iter().zip(b).map(|(a, b)| a - b).collect::<Vec<_>>()) / norm(b))
        .fold(0.0, f64::max)
}

/// The toy's acceleration at rows of 3.
fn toy_acceleration(x: &[f64]) -> Vec<f64> {
    let toy = parse(&toy_spec()).unwrap();
    x.chunks(3)
        .flat_map(|r| toy.acceleration(&[r[0], r[1], r[2]]))
        .collect()
}

#[test]
fn a_fresh_field_on_a_grid_is_the_toy_isochrone() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path(), true);
    let (out, plots) = (dir.path().join("field.h5"), dir.path().join("plots"));
    let spec = toy_spec();
    let args = [
        "--grid",
        "20,8",
        "--compare",
        &spec,
        "--out",
        s(&out),
        "--plots",
        s(&plots),
    ];
    let stdout = field_ok(&model, &args);
    let f = H5File::open(&out).unwrap();
    let (x, shape) = read(&f, "/field/x");
    assert_eq!(shape, [64, 3]);
    assert_eq!((x[0], x[2], x[3 * 63], x[3 * 63 + 2]), (-20.0, -20.0, 20.0, 20.0));
    assert!(x.chunks(3).all(|r| r[1] == 0.0));
    let (a, a_ref) = (
        read(&f, "/field/acceleration").0,
        read(&f, "/compare/acceleration").0,
    );
    assert!(
        max_relative(&a, &a_ref, 3) < 1e-10,
        "{}",
        max_relative(&a, &a_ref, 3)
    );
    let (phi, phi_ref) = (read(&f, "/field/potential").0, read(&f, "/compare/potential").0);
    assert!(
        max_relative(&phi, &phi_ref, 1) < 1e-10,
        "{}",
        max_relative(&phi, &phi_ref, 1)
    );
    assert_eq!(f.attr("/", "compare").unwrap().as_str(), Some(spec.as_str()));
    assert!(f.attr("/field/potential", "zero_point").is_ok());
    for name in PLOTS {
        assert!(is_png(&plots.join(name)), "{name}");
    }
    assert!(stdout.contains("v_c(R)") && stdout.contains(&spec), "{stdout}");
}

#[test]
fn positions_from_a_catalog_a_dataset_or_a_positions_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path(), true);
    let xv: Vec<f64> = (0..42).map(|k| 0.5 + (k as f64 * 0.77) % 9.0 - 3.0).collect();
    let catalog = dir.path().join("catalog.h5");
    Catalog::new(xv.clone()).write(&catalog).unwrap();
    let positions = dir.path().join("positions.h5");
    let x: Vec<f64> = xv.chunks(6).flat_map(|r| r[..3].to_vec()).collect();
    H5Writer::new()
        .dataset("/positions", &x, &[x.len() / 3, 3])
        .write(&positions)
        .unwrap();
    for input in [&catalog, &positions] {
        let out = dir.path().join("out.h5");
        field_ok(&model, &["--at", s(input), "--out", s(&out), "--force"]);
        let f = H5File::open(&out).unwrap();
        assert_eq!(read(&f, "/field/x"), (x.clone(), vec![x.len() / 3, 3]));
        let a = read(&f, "/field/acceleration").0;
        assert!(max_relative(&a, &toy_acceleration(&x), 3) < 1e-10);
        assert!(!f.exists("/compare"));
    }
}

#[test]
fn a_dataset_with_truth_is_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path(), true);
    let (out, plots) = (dir.path().join("out.h5"), dir.path().join("plots"));
    let data = "tests/data/agama_mw_halo_256.h5";
    let stdout = field_ok(&model, &["--at", data, "--out", s(&out), "--plots", s(&plots)]);
    let ds = actionfinder::dataset::StreamsDataset::read(data).unwrap();
    let f = H5File::open(&out).unwrap();
    assert_eq!(
        read(&f, "/compare/acceleration").0,
        ds.truth.acceleration.unwrap()
    );
    assert_eq!(read(&f, "/compare/potential").0, ds.truth.potential.unwrap());
    assert!(f
        .attr("/", "compare")
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("truth of"));
    assert!(PLOTS.iter().all(|name| is_png(&plots.join(name))));
    assert!(stdout.contains("<a_r>(r)"), "{stdout}");
}

#[test]
fn a_model_without_a_field_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path(), false);
    let out = dir.path().join("out.h5");
    let err = field_err(&[s(&model), "--grid", "10", "--out", s(&out)]);
    assert!(err.contains("fit-field"), "{err}");
    assert!(!out.exists());
}

#[test]
fn bad_grids_and_position_choices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path(), true);
    let out = dir.path().join("out.h5");
    for grid in ["0", "-5", "inf", "ten", "10,1", "10,5000", "10,x"] {
        let err = field_err(&[s(&model), "--grid", grid, "--out", s(&out)]);
        assert!(err.contains("--grid"), "{grid}: {err}");
    }
    let both = field_err(&[s(&model), "--grid", "10", "--at", "x.h5", "--out", s(&out)]);
    assert!(both.contains("--grid") && both.contains("--at"), "{both}");
    let neither = field_err(&[s(&model), "--out", s(&out)]);
    assert!(
        neither.contains("--grid") || neither.contains("--at"),
        "{neither}"
    );
    assert!(!out.exists());
}

#[test]
fn the_input_is_never_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir(dir.path(), true);
    let catalog = dir.path().join("catalog.h5");
    Catalog::new(vec![1.0, 2.0, 3.0, 10.0, 20.0, 30.0])
        .write(&catalog)
        .unwrap();
    let before = std::fs::read(&catalog).unwrap();
    let same = dir.path().join(".").join("catalog.h5");
    let err = field_err(&[s(&model), "--at", s(&catalog), "--out", s(&same)]);
    assert!(err.contains("overwrite"), "{err}");
    assert_eq!(std::fs::read(&catalog).unwrap(), before);
}
