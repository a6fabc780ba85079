//! Per-particle action uncertainties from an ensemble of models, through the binary: the
//! standard deviation over members (zero for copies of one model), `--error-scale`, the
//! coverage `validate` reports, and a calibration chosen on held-out streams of the training
//! data that holds on orbits never seen (Milky-Way halo, AGAMA torus truth).

#[allow(dead_code)]
mod common_cli;

use std::path::{Path, PathBuf};

use actionfinder::catalog::Catalog;
use common_cli::actionfinder;

const TRAIN: &str = "tests/data/agama_mw_halo_1024.h5";
const UNSEEN: &str = "tests/data/agama_mw_halo_256.h5";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run(args: &[&str]) -> std::process::Output {
    let out = actionfinder(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Three small models of the halo set, seeds 1-3.
fn members(dir: &Path) -> Vec<PathBuf> {
    (1..=3)
        .map(|seed| {
            let out = dir.join(format!("m{seed}"));
            let seed = seed.to_string();
            run(&[
                "train",
                TRAIN,
                "--out",
                s(&out),
                "--epochs",
                "12",
                "--width",
                "16",
                "--max-width",
                "16",
                "--depth-g",
                "1",
                "--depth-p",
                "1",
                "--axisymmetric",
                "--seed",
                &seed,
            ]);
            out
        })
        .collect()
}

/// `apply` of `m[0]` with the others as ensemble, plus `extra` arguments; the catalog.
fn apply(m: &[PathBuf], input: &str, out: &Path, extra: &[&str]) -> Catalog {
    let mut args = vec!["apply", s(&m[0]), input, "--out", s(out), "--force"];
    for member in &m[1..] {
        args.extend(["--ensemble", s(member)]);
    }
    args.extend(extra);
    run(&args);
    Catalog::read(out).unwrap()
}

/// `validate --json` of `catalog` against `truth`: the coverage of the `all` subset.
fn coverage(catalog: &Path, truth: &str) -> serde_json::Value {
    let out = run(&["validate", s(catalog), "--truth", truth, "--json", "--force"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["action_error"]["all"].clone()
}

#[test]
fn ensembles_give_calibratable_action_errors() {
    let dir = tempfile::tempdir().unwrap();
    let m = members(dir.path());
    let out = dir.path().join("c.h5");

    let same = apply(&[m[0].clone(), m[0].clone()], UNSEEN, &out, &[]);
    let e = same.column("action_error").unwrap();
    assert!(
        e.iter().all(|&x| x == 0.0 || x.is_nan()),
        "copies of one model agree exactly"
    );

    let raw = apply(&m, UNSEEN, &out, &[]);
    let sigma = raw.column("action_error").unwrap().to_vec();
    let finite: Vec<f64> = sigma.iter().copied().filter(|x| x.is_finite()).collect();
    assert!(finite.len() > sigma.len() / 2 && finite.iter().any(|&x| x > 0.0));
    let doubled = apply(&m, UNSEEN, &out, &["--error-scale", "2"]);
    for (a, b) in sigma.iter().zip(doubled.column("action_error").unwrap()) {
        assert!(a.is_nan() && b.is_nan() || (2.0 * a - b).abs() <= 1e-12 * b.abs());
    }

    // Calibrate on the held-out streams of the training set; judge on unseen orbits.
    let held_out = dir.path().join("held_out.h5");
    apply(&m, TRAIN, &held_out, &["--subset", "validation"]);
    let scale = coverage(&held_out, TRAIN)["scale_68"].clone();
    let scale: Vec<String> = (0..3).map(|k| scale[k].as_f64().unwrap().to_string()).collect();
    apply(&m, UNSEEN, &out, &["--error-scale", &scale.join(",")]);
    let c = coverage(&out, UNSEEN);
    for k in 0..2 {
        let share = c["within_one"][k].as_f64().unwrap();
        assert!(
            (share - 0.683).abs() < 0.10,
            "component {k}: {share} within one sigma ({c})"
        );
    }
}

#[test]
fn bad_ensembles_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_model = dir.path().join("empty");
    std::fs::create_dir(&not_a_model).unwrap();
    let m = members(dir.path());
    let out = dir.path().join("c.h5");
    let refused = |extra: &[&str]| {
        let args = [&["apply", s(&m[0]), UNSEEN, "--out", s(&out)][..], extra].concat();
        let err = actionfinder(&args);
        assert!(!err.status.success(), "{args:?}");
        String::from_utf8_lossy(&err.stderr).to_string()
    };
    assert!(refused(&["--ensemble", s(&not_a_model)]).contains("--ensemble"));
    assert!(refused(&["--ensemble", s(&m[1]), "--error-scale", "0"]).contains("--error-scale"));
    assert!(!out.exists());
}
