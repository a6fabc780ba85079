//! Outputs never destroy inputs or earlier results, through the binary: an output that is
//! an input (same path, symbolic or hard link) is refused even with `--force`; an existing
//! output is refused without `--force` and replaced with it; output folders are checked
//! before any work; requests too large for one run are refused naming the flags; temporary
//! files of killed runs are swept, and a signal removes the ones being written.

#[allow(dead_code)]
mod common_cli;

#[allow(dead_code)]
mod common_learning;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actionfinder::catalog::Catalog;
use actionfinder::model::Model;
use candle_core::Device;
use common_cli::actionfinder;
use common_learning::model_config;
use serde_json::json;

const HALO: &str = "tests/data/agama_mw_halo_256.h5";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A copy of the halo dataset in `dir`.
fn streams(dir: &Path) -> PathBuf {
    let path = dir.join("streams.h5");
    std::fs::copy(HALO, &path).unwrap();
    path
}

/// A catalog of one point in `dir`.
fn one_point_catalog(dir: &Path) -> PathBuf {
    let path = dir.join("points.h5");
    Catalog::new(vec![8.0, 0.0, 0.1, 10.0, 200.0, 20.0])
        .write(&path)
        .unwrap();
    path
}

/// An (untrained) model directory in `dir`.
fn model(dir: &Path) -> PathBuf {
    let path = dir.join("model");
    let model = Model::new(model_config(false), &Device::Cpu, 3).unwrap();
    model.save(&path, &json!({})).unwrap();
    path
}

/// Runs the command, which must fail; returns its stderr.
fn refused(args: &[&str]) -> String {
    let out = actionfinder(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{args:?} succeeded; stderr: {err}");
    err
}

/// Runs the command, which must succeed.
fn succeeds(args: &[&str]) {
    let out = actionfinder(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The output as the input: by its own name, through `.`, a symbolic link and a hard link.
fn aliases(dir: &Path, input: &Path) -> Vec<PathBuf> {
    let hard = dir.join("hard.h5");
    std::fs::hard_link(input, &hard).unwrap();
    let soft = dir.join("soft.h5");
    #[cfg(unix)]
    std::os::unix::fs::symlink(input, &soft).unwrap();
    let dotted = dir.join(".").join(input.file_name().unwrap());
    vec![input.to_path_buf(), dotted, hard, soft]
}

#[test]
fn apply_never_writes_over_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let (input, model) = (streams(dir.path()), model(dir.path()));
    let before = std::fs::read(&input).unwrap();
    for out in aliases(dir.path(), &input).iter().filter(|p| p.exists()) {
        for force in [false, true] {
            let mut args = vec!["apply", s(&model), s(&input), "--out", s(out)];
            if force {
                args.push("--force");
            }
            let err = refused(&args);
            assert!(err.contains("is the input"), "{err}");
        }
    }
    let weights = model.join("model.safetensors");
    let err = refused(&["apply", s(&model), s(&input), "--out", s(&weights), "--force"]);
    assert!(err.contains("is the input"), "{err}");
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the streams file is intact"
    );
}

#[test]
fn actions_never_writes_over_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = streams(dir.path());
    let before = std::fs::read(&input).unwrap();
    for out in aliases(dir.path(), &input).iter().filter(|p| p.exists()) {
        let err = refused(&[
            "actions",
            "--potential",
            "mw2014",
            s(&input),
            "--out",
            s(out),
            "--force",
        ]);
        assert!(err.contains("is the input"), "{err}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn an_existing_catalog_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_point_catalog(dir.path());
    let out = dir.path().join("catalog.h5");
    std::fs::write(&out, b"someone's results").unwrap();
    let args = ["actions", "--potential", "mw2014", s(&input), "--out", s(&out)];
    let err = refused(&args);
    assert!(err.contains(s(&out)) && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"someone's results");
    let model = model(dir.path());
    let err = refused(&["apply", s(&model), s(&input), "--out", s(&out)]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), b"someone's results");
    succeeds(&[&args[..], &["--force"]].concat());
    assert!(Catalog::read(&out).is_ok(), "replaced by a catalog");
}

#[test]
fn a_missing_output_folder_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let (input, model) = (streams(dir.path()), model(dir.path()));
    let out = dir.path().join("nodir").join("catalog.h5");
    let clock = Instant::now();
    let err = refused(&["apply", s(&model), s(&input), "--out", s(&out)]);
    assert!(err.contains("nodir") && err.contains("does not exist"), "{err}");
    assert!(
        clock.elapsed() < Duration::from_secs(5),
        "refused only after {:?}",
        clock.elapsed()
    );
    #[cfg(unix)]
    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        let out = locked.join("catalog.h5");
        let err = refused(&["apply", s(&model), s(&input), "--out", s(&out)]);
        assert!(err.contains("cannot write in"), "{err}");
    }
}

/// Whether this process runs as root (who may write into read-only folders).
#[cfg(unix)]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::metadata(dir.path())
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

#[test]
fn the_demo_refuses_a_folder_that_holds_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("plummer_streams.h5"), b"an earlier run").unwrap();
    let err = refused(&["demo", "--out", s(&out)]);
    assert!(err.contains("--force") && err.contains(s(&out)), "{err}");
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["plummer_streams.h5"], "nothing written");
    assert_eq!(
        std::fs::read(out.join("plummer_streams.h5")).unwrap(),
        b"an earlier run"
    );
}

#[test]
fn existing_plots_are_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let input = streams(dir.path());
    let catalog = dir.path().join("catalog.h5");
    succeeds(&[
        "actions",
        "--potential",
        "mw2014",
        s(&input),
        "--out",
        s(&catalog),
    ]);
    let plots = dir.path().join("plots");
    std::fs::create_dir(&plots).unwrap();
    std::fs::write(plots.join("actions.png"), b"kept").unwrap();
    let args = [
        "validate",
        s(&catalog),
        "--truth",
        s(&input),
        "--plots",
        s(&plots),
    ];
    let err = refused(&args);
    assert!(err.contains("actions.png") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(plots.join("actions.png")).unwrap(), b"kept");
    succeeds(&[&args[..], &["--force"]].concat());
    assert!(common_cli::is_png(&plots.join("actions.png")));
    let partials = std::fs::read_dir(&plots)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .count();
    assert_eq!(partials, 0, "plots are renamed into place");
}

#[test]
fn stale_partial_files_of_killed_runs_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_point_catalog(dir.path());
    let out = dir.path().join("catalog.h5");
    // Left by a process that no longer runs (above Linux's largest pid, 2^22).
    let stale = dir.path().join("catalog.h5.4194321.partial");
    std::fs::write(&stale, b"half a file").unwrap();
    succeeds(&["actions", "--potential", "mw2014", s(&input), "--out", s(&out)]);
    assert!(out.exists());
    if Path::new("/proc/self").exists() {
        assert!(!stale.exists(), "the stale partial file is removed");
    }
}

#[cfg(unix)]
#[test]
fn a_signal_ends_a_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("streams.h5");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_actionfinder"))
        .args([
            "generate",
            "--potential",
            "mw2014",
            "--streams",
            "100000",
            "--duration",
            "10",
        ])
        .args(["--out", s(&out)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id().to_string();
    // The shell's own `kill` (no procps needed).
    let killed = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .unwrap();
    assert!(killed.success());
    let result = child.wait_with_output().unwrap();
    assert_eq!(
        result.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stderr).contains("interrupted"));
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(left, 0, "no output, no partial file");
}

#[test]
fn a_learned_field_is_replaced_only_with_force_or_resumed() {
    use actionfinder::field::{spec_for, FieldForm, FieldModel};
    let dir = tempfile::tempdir().unwrap();
    let (input, model_dir) = (streams(dir.path()), model(dir.path()));
    let model = Model::load(&model_dir, &Device::Cpu).unwrap().0;
    let spec = spec_for(
        &model,
        FieldForm::Potential,
        vec![8],
        actionfinder::nn::Activation::Silu,
    )
    .unwrap();
    FieldModel::new(spec, &Device::Cpu, 1)
        .unwrap()
        .save(&model_dir, &json!({}))
        .unwrap();
    let before = std::fs::read(model_dir.join("field.safetensors")).unwrap();
    let err = refused(&["fit-field", s(&model_dir), s(&input)]);
    assert!(
        err.contains("holds a learned field") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(model_dir.join("field.safetensors")).unwrap(),
        before
    );
}

/// Runs the command, which must be refused within a few seconds; returns its stderr.
fn refused_at_once(args: &[&str]) -> String {
    let clock = Instant::now();
    let err = refused(args);
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "{args:?} took {:?}",
        clock.elapsed()
    );
    err
}

#[test]
fn requests_too_large_for_one_run_are_refused_naming_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.h5");
    let generate = ["generate", "--potential", "mw2014", "--out", s(&out)];
    let err = refused_at_once(&[&generate[..], &["--stars", "100000000000"]].concat());
    assert!(err.contains("--stars") && err.contains("points"), "{err}");
    let err = refused_at_once(&[&generate[..], &["--every", "1e-9"]].concat());
    assert!(err.contains("--every") && err.contains("points"), "{err}");
    let err = refused_at_once(&[&generate[..], &["--streams", "10", "--dt", "1e-12"]].concat());
    assert!(err.contains("--dt") && err.contains("steps"), "{err}");
    assert!(!out.exists());
    let input = streams(dir.path());
    let model = dir.path().join("big");
    let train = ["train", s(&input), "--out", s(&model), "--epochs", "1"];
    let err = refused_at_once(&[&train[..], &["--width", "100000000", "--max-width", "100000000"]].concat());
    assert!(err.contains("--max-width") && err.contains("memory"), "{err}");
}

#[test]
fn the_demo_refuses_bad_options_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let err = refused_at_once(&["demo", "--out", s(&out), "--epochs", "0"]);
    assert!(err.contains("--epochs"), "{err}");
    let err = refused_at_once(&["demo", "--out", s(&out), "--streams", "1"]);
    assert!(err.contains("--streams"), "{err}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn generate_and_tracks_refuse_existing_outputs_and_their_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (out, snaps) = (dir.path().join("gen.h5"), dir.path().join("snaps"));
    let generate = [
        "generate",
        "--potential",
        "mw2014",
        "--streams",
        "4",
        "--out",
        s(&out),
    ];
    succeeds(&[&generate[..], &["--snapshots", s(&snaps), "--outputs", "3"]].concat());
    let before = std::fs::read(&out).unwrap();
    let err = refused(&generate);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    succeeds(&[&generate[..], &["--force"]].concat());
    let snapshot = std::fs::read_dir(&snaps)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let snap_before = std::fs::read(&snapshot).unwrap();
    let err = refused(&["tracks", s(&snaps), "--out", s(&snapshot), "--force"]);
    assert!(err.contains("is the input"), "{err}");
    assert_eq!(std::fs::read(&snapshot).unwrap(), snap_before);
    let tracked = dir.path().join("tracked.h5");
    std::fs::write(&tracked, b"earlier").unwrap();
    let err = refused(&["tracks", s(&snaps), "--out", s(&tracked)]);
    assert!(err.contains("--force"), "{err}");
    succeeds(&["tracks", s(&snaps), "--out", s(&tracked), "--force"]);
}
