//! `demo --model`: every model runs the whole job (equilibrium sample -> snapshots -> tracks
//! -> train -> fit-field -> apply -> validate) end to end against its exact spherical truth,
//! on a tiny configuration (16 orbits, 20 training epochs; about 6 s a model), and bad
//! `--model` values are refused naming the flag.

mod common_cli;

use std::path::Path;

use actionfinder::cli::{Cli, Command, DemoArgs};
use actionfinder::dataset::StreamsDataset;
use actionfinder::demo::models::DemoModel;
use actionfinder::demo::{run, Dataset, DemoReport};
use clap::Parser;
use common_cli::{actionfinder, is_png};

/// Loose bounds a working pipeline meets with 32 orbits and 20 epochs (measured: largest v_c
/// error 3e-4 (isochrone) to 0.076 (Hernquist); with 16 orbits the steep Dehnen cusp's
/// ranged from 0.06 to 0.39 as the toy moved, its edges held by a handful of orbits), and a
/// broken one
/// (rows matched to the wrong truth, wrong units, an untrained map) does not: those give
/// errors of order one.
const MAX_RELATIVE_ACTION_ERROR: f64 = 0.2;
const MAX_CIRCULAR_SPEED_ERROR: f64 = 0.3;
/// Mean relative departure of the inverted points (a broken inverse is off by order one).
const MAX_RELATIVE_INVERSE_ERROR: f64 = 0.2;
/// How closely the exact actions of the tracked streams match the generator's for the same
/// orbits (both exact; they differ by the integration's and the action solver's errors).
const TRUTH_TOLERANCE: f64 = 1e-6;

/// `demo --model MODEL` on 32 orbits with 20 training epochs, writing under `out`.
fn tiny_demo(model: &str, out: &Path) -> DemoArgs {
    let argv = [
        "actionfinder",
        "demo",
        "--model",
        model,
        "--out",
        out.to_str().unwrap(),
        "--streams",
        "32",
        "--epochs",
        "20",
    ];
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Demo(args) => args,
        other => panic!("parsed as {other:?}"),
    }
}

/// Each stream's exact actions (of its first point), sorted by J_r so that two datasets of
/// the same orbits in different orders line up.
fn sorted_truth(path: &Path) -> Vec<[f64; 3]> {
    let ds = StreamsDataset::read(path).unwrap();
    let n = ds.n_stars();
    let j = ds.truth.actions.as_ref().expect("/truth/actions");
    let mut rows: Vec<[f64; 3]> = j.chunks_exact(3 * n).map(|s| [s[0], s[1], s[2]]).collect();
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    rows
}

/// The tracked streams carry the same exact actions as the generator's orbits.
fn assert_truth_consistent(model: &DemoModel, out: &Path) {
    let generated = sorted_truth(&out.join(Dataset::Generated.file(model)));
    let tracked = sorted_truth(&out.join(Dataset::Streams.file(model)));
    assert_eq!(generated.len(), tracked.len(), "{model}");
    let scale = generated.iter().flatten().map(|v| v.abs()).sum::<f64>() / generated.len() as f64;
    for (g, t) in generated.iter().zip(&tracked) {
        for k in 0..3 {
            assert!(
                (g[k] - t[k]).abs() < TRUTH_TOLERANCE * scale,
                "{model}: generated truth {g:?} vs tracked {t:?}"
            );
        }
    }
}

/// The learned actions and field are finite and within the loose bounds.
fn assert_accurate(model: &DemoModel, report: &DemoReport) {
    for (what, r) in [("held-out", &report.validation), ("unseen", &report.unseen)] {
        let actions = r.actions.expect("actions against truth").all;
        assert!(actions.n > 0, "{model} {what}: no points compared");
        assert!(
            actions.relative_overall.is_finite() && actions.relative_overall < MAX_RELATIVE_ACTION_ERROR,
            "{model} {what}: relative action error {}",
            actions.relative_overall
        );
    }
    let [dx, dv] = report.inverted_relative;
    assert!(
        dx < MAX_RELATIVE_INVERSE_ERROR && dv < MAX_RELATIVE_INVERSE_ERROR,
        "{model}: inverted points off by {dx} |x|, {dv} |v|"
    );
    let vc = report.circular_speed_error;
    assert!(
        vc.is_finite() && vc < MAX_CIRCULAR_SPEED_ERROR,
        "{model}: v_c error {vc}"
    );
}

/// Runs the tiny demo of `model` and checks its files, truth and accuracy.
fn runs_end_to_end(model: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let args = tiny_demo(model, &out);
    let report = run(&args).unwrap();
    let m = args.model;
    for file in [
        Dataset::Generated.file(&m),
        Dataset::Streams.file(&m),
        Dataset::Unseen.file(&m),
        "snapshots/snap_007.hdf5".to_string(),
        "model/model.json".to_string(),
        "field_grid.h5".to_string(),
        "catalog_validation.h5".to_string(),
        "catalog_unseen.h5".to_string(),
        "points_unseen.h5".to_string(),
        "model/inverse.json".to_string(),
    ] {
        assert!(out.join(&file).is_file(), "{model}: {file} not written");
    }
    for plot in [
        "field_plots/circular_speed.png",
        "catalog_unseen_plots/actions.png",
    ] {
        assert!(is_png(&out.join(plot)), "{model}: {plot} not written");
    }
    assert_truth_consistent(&m, &out);
    assert_accurate(&m, &report);
}

#[test]
fn plummer_runs_end_to_end() {
    runs_end_to_end("plummer");
}

#[test]
fn dehnen_steep_cusp_runs_end_to_end() {
    runs_end_to_end("dehnen:gamma=1.5");
}

#[test]
fn hernquist_runs_end_to_end() {
    runs_end_to_end("hernquist");
}

#[test]
fn isochrone_runs_end_to_end() {
    runs_end_to_end("isochrone");
}

#[test]
fn model_names_and_gamma_parse() {
    let parse = |s: &str| s.parse::<DemoModel>().unwrap();
    assert_eq!(parse("Plummer"), DemoModel::Plummer);
    assert_eq!(parse("dehnen"), DemoModel::Dehnen { gamma: 1.5 });
    assert_eq!(parse("dehnen:gamma=0"), DemoModel::Dehnen { gamma: 0.0 });
    assert_eq!(
        parse(" dehnen : gamma = 1.25 "),
        DemoModel::Dehnen { gamma: 1.25 }
    );
    assert_eq!(parse("hernquist"), DemoModel::Hernquist);
    assert_eq!(parse("isochrone"), DemoModel::Isochrone);
}

#[test]
fn bad_models_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let cases = [
        ("nfw", "not a known model"),
        ("dehnen:gamma=2", "outside 0 <= gamma < 2"),
        ("dehnen:gamma=-0.5", "outside 0 <= gamma < 2"),
        ("dehnen:gamma=NaN", "outside 0 <= gamma < 2"),
        ("dehnen:gamma=steep", "is not a number"),
        ("dehnen:alpha=1", "expected gamma=G"),
        ("plummer:a=1", "takes no parameters"),
    ];
    for (model, needle) in cases {
        let output = actionfinder(&["demo", "--model", model, "--out", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "--model {model} should fail");
        assert!(
            stderr.contains("--model") && stderr.contains(needle),
            "--model {model}: error should name the flag and say {needle}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "--model {model}: nothing should be written");
    }
}
