//! `validate`: catalogs with known errors against small truth datasets, through the library
//! and the binary; the AGAMA Milky-Way halo file with its own Staeckel baseline as catalog.

#[allow(dead_code)]
mod common_cli;

use common_cli::*;

use std::f64::consts::TAU;
use std::path::Path;

use actionfinder::catalog::Catalog;
use actionfinder::dataset::StreamsDataset;
use actionfinder::validate::{validate, Report, ValidateError, FLAG_UNTRUSTED};
use actionfinder_snapshots::h5::Attr;

const S: usize = 4;
const N: usize = 4;
/// Offsets of the catalog's actions (kpc km/s) and angles (rad) from the truth, with
/// alternating sign along each stream.
const DJ: [f64; 3] = [1.0, 2.0, 3.0];
const DTHETA: [f64; 3] = [0.1, 0.2, 0.3];
/// Offsets of the baseline `fudge` (constant sign).
const DJ_BASELINE: [f64; 3] = [0.5, 4.0, 0.25];

/// S streams of N points; truth actions constant per stream (J_r, J_z over decades, J_phi of
/// both signs); truth angles next to 0 and 2 pi, so that offsets cross the wrap.
fn dataset() -> StreamsDataset {
    let xv = (0..S * N * 6).map(|k| 1.0 + k as f64 * 0.37).collect();
    let mut ds = StreamsDataset::from_xv(S, N, xv).unwrap();
    let mut actions = Vec::new();
    let mut angles = Vec::new();
    for s in 0..S {
        let j = [
            10f64.powi(s as i32),
            0.3 * 10f64.powi(s as i32),
            500.0 * (s as f64 - 1.5),
        ];
        for i in 0..N {
            actions.extend(j);
            let near = if i.is_multiple_of(2) { TAU - 0.05 } else { 0.05 };
            angles.extend([near, near, 1.0 + i as f64]);
        }
    }
    let baseline = actions
        .iter()
        .enumerate()
        .map(|(k, j)| j + DJ_BASELINE[k % 3])
        .collect();
    ds.baselines.insert("fudge".into(), baseline);
    ds.truth.actions = Some(actions);
    ds.truth.angles = Some(angles);
    ds.attrs.description = "validate test dataset".into();
    ds
}

/// A catalog of the dataset's points: truth +- DJ, truth +- DTHETA (wrapped into [0, 2 pi)).
fn catalog(ds: &StreamsDataset) -> Catalog {
    let mut cat = Catalog::new(ds.xv.clone());
    cat.stream = Some((0..S * N).map(|r| (r / N) as u64).collect());
    let sign = |k: usize| if (k / 3).is_multiple_of(2) { 1.0 } else { -1.0 };
    let shift = |truth: &[f64], off: [f64; 3]| -> Vec<f64> {
        truth
            .iter()
            .enumerate()
            .map(|(k, t)| t + sign(k) * off[k % 3])
            .collect()
    };
    let actions = shift(ds.truth.actions.as_ref().unwrap(), DJ);
    let angles = shift(ds.truth.angles.as_ref().unwrap(), DTHETA);
    cat.set_column("actions", actions).unwrap();
    cat.set_column("angles", angles.iter().map(|a| a.rem_euclid(TAU)).collect())
        .unwrap();
    cat
}

fn assert_close(found: [f64; 3], expected: [f64; 3], what: &str) {
    for k in 0..3 {
        assert!(
            (found[k] - expected[k]).abs() <= 1e-9 * (1.0 + expected[k].abs()),
            "{what}: found {found:?}, expected {expected:?}"
        );
    }
}

/// mean |J_true| per component of the test dataset.
fn mean_abs_truth(ds: &StreamsDataset) -> [f64; 3] {
    let t = ds.truth.actions.as_ref().unwrap();
    std::array::from_fn(|k| t.iter().skip(k).step_by(3).map(|v| v.abs()).sum::<f64>() / (S * N) as f64)
}

#[test]
fn known_offsets_are_reported() {
    let ds = dataset();
    let r = validate(&catalog(&ds), &ds).unwrap();
    let a = r.actions.unwrap();
    assert_eq!(a.all.n, S * N);
    assert_close(a.all.mean_abs, DJ, "mean |dJ|");
    assert_close(a.all.median_abs, DJ, "median |dJ|");
    assert!((a.all.mean_abs_overall - 2.0).abs() < 1e-9);
    let scale = mean_abs_truth(&ds);
    assert_close(
        a.all.relative,
        std::array::from_fn(|k| DJ[k] / scale[k]),
        "relative",
    );
    assert_eq!(a.trusted, a.all, "no flags: every point trusted");
    // Angle offsets cross 0 / 2 pi on theta_r and theta_z; the error must not see the wrap.
    let g = r.angles.unwrap();
    assert_close(g.all.mean_deg, DTHETA.map(f64::to_degrees), "mean |d theta|");
    assert_close(g.all.median_deg, DTHETA.map(f64::to_degrees), "median |d theta|");
    let fudge = &r.baselines[0];
    assert_eq!(fudge.name, "fudge");
    assert_close(fudge.value.all.mean_abs, DJ_BASELINE, "baseline mean |dJ|");
    // Alternating offsets about the stream's truth: spread = DJ; constant offsets: 0.
    let spread = |name: &str| r.conservation.iter().find(|c| c.name == name).unwrap().value.all;
    assert_close(spread("catalog").per_component, DJ, "catalog spread");
    assert_close(spread("fudge").per_component, [0.0; 3], "baseline spread");
    assert_close(spread("truth").per_component, [0.0; 3], "truth spread");
    assert_eq!(spread("truth").n_streams, S);
    assert!(r.missing.is_empty(), "{:?}", r.missing);
    println!("{r}");
}

#[test]
fn flagged_points_are_left_out_of_the_trusted_numbers() {
    let ds = dataset();
    let mut cat = catalog(&ds);
    let mut flag = vec![0u32; S * N];
    let mut actions = cat.column("actions").unwrap().to_vec();
    // Stream 1: values written but not trusted, and far off.
    for i in N..2 * N {
        flag[i] = FLAG_UNTRUSTED;
        actions[3 * i] += 100.0;
    }
    // Stream 2, point 0: no convergence, no values.
    flag[2 * N] = 3;
    actions[6 * N..6 * N + 3].fill(f64::NAN);
    cat.set_column("actions", actions).unwrap();
    cat.flag = Some(flag);
    let r = validate(&cat, &ds).unwrap();
    assert_eq!(
        (r.flags.ok, r.flags.untrusted, r.flags.failed),
        (S * N - N - 1, N, 1)
    );
    assert!((r.flags.flagged_share - (N + 1) as f64 / (S * N) as f64).abs() < 1e-15);
    let a = r.actions.unwrap();
    assert_eq!(a.trusted.n, S * N - N - 1);
    assert_close(a.trusted.mean_abs, DJ, "trusted mean |dJ|");
    assert_eq!(a.all.n, S * N - 1);
    let n_all = (S * N - 1) as f64;
    // The flagged points are 100 +- DJ[0] off: 100 on average.
    let expected_r = (DJ[0] * (n_all - N as f64) + N as f64 * 100.0) / n_all;
    assert!(
        (a.all.mean_abs[0] - expected_r).abs() < 1e-9,
        "{:?}",
        a.all.mean_abs
    );
    // The baselines' trusted rows use the catalog's trusted points.
    assert_eq!(r.baselines[0].value.trusted.n, S * N - N - 1);
    let catalog_spread = r.conservation.iter().find(|c| c.name == "catalog").unwrap();
    assert_eq!(catalog_spread.value.trusted.n_streams, 2, "streams 0 and 3");
    assert_eq!(
        catalog_spread.value.all.n_streams, 3,
        "stream 2 has a point without values"
    );
}

#[test]
fn rows_that_are_not_the_datasets_points_are_refused() {
    let ds = dataset();
    let mut cat = catalog(&ds);
    cat.stream.as_mut().unwrap()[5] = 0;
    let err = validate(&cat, &ds).unwrap_err().to_string();
    assert!(err.contains("row 5") && err.contains("stream"), "{err}");
    let mut cat = catalog(&ds);
    cat.xv[6 * 7 + 2] += 1.0;
    let err = validate(&cat, &ds).unwrap_err().to_string();
    assert!(err.contains("row 7") && err.contains("xv"), "{err}");
}

#[test]
fn missing_truth_parts_are_named_and_no_truth_is_an_error() {
    let mut ds = dataset();
    let cat = catalog(&ds);
    ds.truth.angles = None;
    let r = validate(&cat, &ds).unwrap();
    assert!(r.actions.is_some() && r.angles.is_none());
    assert!(
        r.missing.iter().any(|m| m.contains("/truth/angles")),
        "{:?}",
        r.missing
    );
    ds.truth.actions = None;
    assert!(matches!(validate(&cat, &ds), Err(ValidateError::NoTruth)));
    let mut ds = dataset();
    ds.truth.actions = None;
    let r = validate(&cat, &ds).unwrap();
    assert!(r.actions.is_none() && r.angles.is_some() && r.baselines.is_empty());
    assert!(
        r.missing.iter().any(|m| m.contains("/truth/actions")),
        "{:?}",
        r.missing
    );
    let mut bare = Catalog::new(cat.xv.clone());
    bare.stream = cat.stream.clone();
    let err = validate(&bare, &ds).unwrap_err().to_string();
    assert!(err.contains("nothing to compare"), "{err}");
}

const MODEL_JSON: &str = r#"{"version": "test", "training": {"best_epoch": 3, "history": [
  {"epoch": 1, "train_loss": 0.1, "val_loss": 0.12, "learning_rate": 1e-3, "wall_s": 2.5},
  {"epoch": 2, "train_loss": 0.03, "val_loss": 0.05, "learning_rate": 1e-3, "wall_s": 5.0},
  {"epoch": 3, "train_loss": 0.01, "val_loss": 0.02, "learning_rate": 1e-3, "wall_s": 7.5},
  {"epoch": 4, "train_loss": 0.008, "val_loss": 0.025, "learning_rate": 1e-3, "wall_s": 10.0}]}}"#;

/// Writes the test dataset, its catalog (with `model` naming a model directory) and the
/// model directory under `dir`; returns (catalog, truth, model dir) paths as strings.
fn write_files(dir: &Path, flagged: bool) -> (String, String, String) {
    let ds = dataset();
    let mut cat = catalog(&ds);
    if flagged {
        let mut flag = vec![0; S * N];
        flag[N..2 * N].fill(FLAG_UNTRUSTED);
        cat.flag = Some(flag);
    }
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("model.json"), MODEL_JSON).unwrap();
    cat.attrs
        .extra
        .insert("model".into(), Attr::Str(model.display().to_string()));
    let (c, t) = (dir.join("catalog.h5"), dir.join("truth.h5"));
    ds.write(&t).unwrap();
    cat.write(&c).unwrap();
    let s = |p: &Path| p.display().to_string();
    (s(&c), s(&t), s(&model))
}

#[test]
fn cli_prints_json_and_writes_three_pngs() {
    let dir = tempfile::tempdir().unwrap();
    let (cat, truth, model) = write_files(dir.path(), true);
    let plots = dir.path().join("figures");
    let p = plots.display().to_string();
    let out = actionfinder(&[
        "validate", &cat, "--truth", &truth, "--json", "--plots", &p, "--model", &model,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    let trusted = &json["actions"]["trusted"]["mean_abs"];
    assert_eq!(trusted, &serde_json::json!(DJ), "{json}");
    assert_eq!(json["flags"]["untrusted"], N);
    assert_eq!(json["baselines"][0]["name"], "fudge");
    assert_eq!(json["plots"].as_array().unwrap().len(), 3, "{json}");
    for name in ["actions.png", "angles.png", "loss.png"] {
        assert!(is_png(&plots.join(name)), "{name} is not a PNG");
    }
}

#[test]
fn cli_table_and_default_plot_folder_with_the_catalogs_model() {
    let dir = tempfile::tempdir().unwrap();
    let (cat, truth, _) = write_files(dir.path(), false);
    let out = actionfinder(&["validate", &cat, "--truth", &truth]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("Actions against truth") && stdout.contains("fudge"),
        "{stdout}"
    );
    assert!(stdout.contains("Conservation along streams"), "{stdout}");
    let plots = dir.path().join("catalog_plots");
    for name in ["actions.png", "angles.png", "loss.png"] {
        assert!(
            is_png(&plots.join(name)),
            "{name} is not a PNG in {}",
            plots.display()
        );
    }
}

#[test]
fn cli_names_both_files_when_rows_do_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset();
    let full = catalog(&ds);
    let short = Catalog::new(full.xv[..6 * (S * N - 1)].to_vec());
    let (c, t) = (dir.path().join("short.h5"), dir.path().join("truth.h5"));
    ds.write(&t).unwrap();
    short.write(&c).unwrap();
    let out = actionfinder(&["validate", c.to_str().unwrap(), "--truth", t.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "short.h5",
        "truth.h5",
        &format!("{} rows", S * N - 1),
        &format!("{}", S * N),
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
}

/// The AGAMA Milky-Way halo file (tests/data/README.md) with its own Staeckel-fudge
/// baseline as the catalog's actions: the catalog's errors are the baseline's row.
#[test]
fn agama_halo_with_its_staeckel_baseline_as_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/agama_mw_halo_256.h5");
    let ds = StreamsDataset::read(&path).unwrap();
    let mut cat = Catalog::new(ds.xv.clone());
    cat.stream = Some(
        (0..ds.n_streams() * ds.n_stars())
            .map(|r| (r / ds.n_stars()) as u64)
            .collect(),
    );
    cat.set_column("actions", ds.baselines["staeckel"].clone())
        .unwrap();
    let r: Report = validate(&cat, &ds).unwrap();
    let learned = r.actions.unwrap();
    let staeckel = &r.baselines.iter().find(|b| b.name == "staeckel").unwrap().value;
    assert_eq!(&learned, staeckel);
    assert_eq!(learned.all.n, 256 * 8);
    let e = learned.all;
    println!(
        "AGAMA MW halo 256x8, Staeckel fudge vs torus truth: mean |dJ| (r, z, phi) = {:?}, \
         overall {:.3} kpc km/s, relative {:.4}, median {:.3}",
        e.mean_abs, e.mean_abs_overall, e.relative_overall, e.median_abs_overall
    );
    assert!(
        r.missing.iter().any(|m| m.contains("/particles/angles")),
        "{:?}",
        r.missing
    );
    let spread = |name: &str| {
        r.conservation
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .value
            .all
            .overall
    };
    println!(
        "spread along streams: staeckel {:.3}, truth {:.3e} kpc km/s",
        spread("staeckel"),
        spread("truth")
    );
    assert_eq!(spread("catalog"), spread("staeckel"));
}
