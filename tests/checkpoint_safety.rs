//! Model directories and checkpoints through the binary: a torn checkpoint (older state beside
//! newer weights) falls back to the previous one and resumes exactly; resuming on other data
//! of the same size, or with other options, is refused naming the difference (for the action
//! map and the field pass); `apply --subset` refuses other data of the training data's size; a
//! locked directory is refused naming the holder, a stale lock is taken over; an existing
//! model is replaced only with `--force`, and only once the new one is complete.
//!
//! Data: two sets of 16 well-covered streams of `tests/data/agama_isochrone_halo_1024.h5`;
//! networks 16 wide, 2 blocks, a few epochs, so that each training takes about a second.

#[allow(dead_code)]
mod common_cli;
#[allow(dead_code)]
mod common_learning;

use std::path::{Path, PathBuf};
use std::process::Output;

use common_cli::actionfinder;
use common_learning::{dataset, offset_toy, weights, well_covered};

/// Two datasets of 16 streams of 8 points each, the same layout, other streams: `a.h5`
/// and `b.h5` in `dir`.
fn two_datasets(dir: &Path) -> (PathBuf, PathBuf) {
    let (m, b) = offset_toy();
    let picks = well_covered(m, b, 32);
    let paths = (dir.join("a.h5"), dir.join("b.h5"));
    dataset().select(&picks[..16]).write(&paths.0).unwrap();
    dataset().select(&picks[16..]).write(&paths.1).unwrap();
    (paths.0, paths.1)
}

/// `COMMAND ARGS... OPTIONS... EXTRA...`, where an option given in `extra` replaces the
/// one of `options`.
fn run(command: &[&str], options: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut args: Vec<&str> = command.to_vec();
    for (flag, value) in options {
        if !extra.contains(flag) {
            args.extend([*flag, *value]);
        }
    }
    args.extend_from_slice(extra);
    actionfinder(&args)
}

/// `train DATA --out OUT` with small, fast options, changed or added to by `extra`.
fn train(data: &Path, out: &Path, extra: &[&str]) -> Output {
    let (m, b) = offset_toy();
    let toy = format!("M={m},b={b}");
    let options = [
        ("--epochs", "4"),
        ("--lr", "0.01"),
        ("--batch-streams", "8"),
        ("--width", "16"),
        ("--max-width", "16"),
        ("--depth-g", "2"),
        ("--depth-p", "2"),
        ("--val-fraction", "0.25"),
        ("--checkpoint-every", "1"),
        ("--toy", &toy),
    ];
    let command = ["train", data.to_str().unwrap(), "--out", out.to_str().unwrap()];
    run(&command, &options, extra)
}

/// `fit-field MODEL DATA` with a small, fast network, changed or added to by `extra`.
fn fit_field(model: &Path, data: &Path, extra: &[&str]) -> Output {
    let options = [
        ("--field-epochs", "4"),
        ("--field-width", "16"),
        ("--field-depth", "2"),
        ("--checkpoint-every", "1"),
    ];
    let command = ["fit-field", model.to_str().unwrap(), data.to_str().unwrap()];
    run(&command, &options, extra)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// The error of a run that must fail.
#[track_caller]
fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr(&out)
}

/// The distinct 64-hex-digit words of `text` (SHA-256 digests).
fn digests(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 64)
        .map(str::to_string)
        .collect();
    found.dedup();
    found
}

/// This machine's name as the lock file records it.
#[cfg(target_os = "linux")]
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// Resumed after its latest checkpoint was torn (the previous epoch's `state.json` beside
/// the latest weights), a run falls back to the previous checkpoint, says why, and ends
/// bit for bit where a straight run does.
#[test]
fn a_torn_checkpoint_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = two_datasets(dir.path());
    let straight = dir.path().join("straight");
    ok(train(&a, &straight, &[]));
    let resumed = dir.path().join("resumed");
    ok(train(&a, &resumed, &["--stop-after", "1"]));
    let state = resumed.join("checkpoint").join("state.json");
    let older = std::fs::read(&state).unwrap();
    ok(train(&a, &resumed, &["--resume", "--stop-after", "1"]));
    std::fs::write(&state, older).unwrap();
    let err = stderr(&ok(train(&a, &resumed, &["--resume"])));
    assert!(
        err.contains("state.json does not match its digest") && err.contains("checkpoint.previous"),
        "{err}"
    );
    assert_eq!(weights(&straight), weights(&resumed));
}

/// A checkpoint made on one set of 16 streams does not resume on another set of 16, and the
/// message names both digests; the field pass's checkpoint likewise.
#[test]
fn resuming_on_other_data_of_the_same_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_datasets(dir.path());
    let model = dir.path().join("model");
    ok(train(&a, &model, &["--stop-after", "1"]));
    let err = refused(train(&b, &model, &["--resume"]));
    assert!(
        err.contains("training data differ") && err.contains("streams 16 vs 16"),
        "{err}"
    );
    assert_eq!(digests(&err).len(), 2, "{err}");
    ok(train(&a, &model, &["--resume"]));
    ok(fit_field(&model, &a, &["--stop-after", "2"]));
    let err = refused(fit_field(&model, &b, &["--resume"]));
    assert!(err.contains("training data differ"), "{err}");
    assert_eq!(digests(&err).len(), 2, "{err}");
}

/// Resuming with another learning rate is refused naming the option and both values;
/// another number of epochs and checkpoint interval are accepted.
#[test]
fn resuming_with_other_options_names_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = two_datasets(dir.path());
    let model = dir.path().join("model");
    ok(train(&a, &model, &["--stop-after", "1"]));
    let err = refused(train(&a, &model, &["--resume", "--lr", "0.02"]));
    assert!(
        err.contains("learning_rate: 0.01 in the checkpoint, 0.02 now"),
        "{err}"
    );
    ok(train(
        &a,
        &model,
        &["--resume", "--epochs", "5", "--checkpoint-every", "2"],
    ));
}

/// `apply --subset validation` on a file of the training data's size but other streams is
/// refused, naming the digests of both.
#[test]
fn apply_subset_refuses_other_data_of_the_same_size() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_datasets(dir.path());
    let model = dir.path().join("model");
    ok(train(&a, &model, &["--epochs", "1"]));
    let catalog = dir.path().join("catalog.h5");
    let apply = |data: &Path| {
        actionfinder(&[
            "apply",
            model.to_str().unwrap(),
            data.to_str().unwrap(),
            "--out",
            catalog.to_str().unwrap(),
            "--subset",
            "validation",
        ])
    };
    let err = refused(apply(&b));
    assert!(err.contains("differ from the model's training data"), "{err}");
    assert_eq!(digests(&err).len(), 2, "{err}");
    assert!(!catalog.exists());
    ok(apply(&a));
}

/// A directory whose lock a live process holds (this test) is refused by `train --resume`
/// and `fit-field`, naming the process; the lock stays.
#[cfg(target_os = "linux")]
#[test]
fn a_locked_directory_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = two_datasets(dir.path());
    let model = dir.path().join("model");
    ok(train(&a, &model, &["--epochs", "1"]));
    let lock = model.join(".lock");
    let text = format!(r#"{{"pid": {}, "host": "{}"}}"#, std::process::id(), host());
    std::fs::write(&lock, &text).unwrap();
    let holder = format!("process {}", std::process::id());
    let err = refused(train(&a, &model, &["--resume", "--epochs", "2"]));
    assert!(err.contains("in use") && err.contains(&holder), "{err}");
    let err = refused(fit_field(&model, &a, &[]));
    assert!(err.contains("in use") && err.contains(&holder), "{err}");
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), text);
}

/// The lock of a process that is gone is taken over with a warning and released at the end.
#[cfg(target_os = "linux")]
#[test]
fn a_stale_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = two_datasets(dir.path());
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let lock = model.join(".lock");
    std::fs::write(
        &lock,
        format!(r#"{{"pid": {}, "host": "{}"}}"#, child.id(), host()),
    )
    .unwrap();
    let err = stderr(&ok(train(&a, &model, &["--epochs", "1"])));
    assert!(
        err.contains("stale lock") && err.contains(&format!("process {}", child.id())),
        "{err}"
    );
    assert!(!lock.exists());
}

/// `train --out` on a model is refused naming it, the model untouched; a failed `--force`
/// run leaves it too; a finished `--force` run replaces it and leaves nothing beside it. A
/// missing parent is refused before any work, an empty directory is used.
#[test]
fn an_existing_model_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = two_datasets(dir.path());
    let model = dir.path().join("model");
    ok(train(&a, &model, &["--epochs", "1"]));
    let first = weights(&model);
    let err = refused(train(&a, &model, &["--epochs", "1", "--seed", "2"]));
    assert!(
        err.contains(model.to_str().unwrap()) && err.contains("--force"),
        "{err}"
    );
    assert_eq!(weights(&model), first);
    refused(train(&a, &model, &["--epochs", "0", "--force"]));
    assert_eq!(weights(&model), first);
    ok(train(&a, &model, &["--epochs", "1", "--seed", "2", "--force"]));
    assert_ne!(weights(&model), first);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.h5", "b.h5", "model"]);

    let err = refused(train(&a, &dir.path().join("nodir").join("m"), &[]));
    assert!(err.contains("nodir") && err.contains("does not exist"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ok(train(&a, &empty, &["--epochs", "1"]));
}
