//! Training converged by default and warm starts: `train` without schedule flags stops by
//! itself once the validation loss stops improving and says why; `--axisymmetric auto` turns
//! on for streams of axisymmetric potentials and off for a triaxial one; `--init` starts from
//! the given model's weights and refuses another architecture.
//!
//! Data: `tests/data/agama_isochrone_halo_1024.h5` (16–32 well-covered streams), the AGAMA
//! Milky-Way sets, and orbits integrated here in a triaxial logarithmic potential. Networks
//! are 16–32 wide, 2 blocks, so each test runs in seconds in release.

#[allow(dead_code)]
mod common_cli;
#[allow(dead_code)]
mod common_learning;

use actionfinder::dataset::StreamsDataset;
use actionfinder::train::symmetry::{self, Axisymmetry, LZ_TOLERANCE};
use actionfinder::train::{train, TrainConfig};
use common_cli::actionfinder;
use common_learning::*;

/// `train` with only small-network flags and a toy 10% off (so the networks have something to
/// learn; with the automatic toy, which finds this isochrone itself, the loss falls towards
/// zero for as long as it runs), on 16 streams in batches of 4 (three steps an epoch, so the
/// network fits its 12 training streams and the validation loss levels off within a few
/// hundred epochs): it stops long before the 2000-epoch ceiling because the validation loss
/// stopped improving, and the summary and model.json say so.
#[test]
fn default_training_stops_by_itself_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (m, b) = offset_toy();
    let data = dir.path().join("a.h5");
    dataset().select(&well_covered(m, b, 16)).write(&data).unwrap();
    let out = dir.path().join("model");
    let toy = format!("M={m},b={b}");
    let args = [
        "train",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--toy",
        &toy,
        "--width",
        "16",
        "--max-width",
        "16",
        "--depth-g",
        "2",
        "--depth-p",
        "2",
        "--batch-streams",
        "4",
        "--val-fraction",
        "0.25",
        "--checkpoint-every",
        "0",
    ];
    let run = actionfinder(&args);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    println!("{stdout}");
    assert!(
        stdout.contains("stopped: the validation loss stopped improving"),
        "{stdout}"
    );
    let training = &read_json(&out)["training"];
    let epochs = history(training).len();
    assert!(epochs < 2000, "ran to the ceiling: {epochs} epochs");
    assert_eq!(training["stop"]["reason"], "learning_rate_floor");
    // The isochrone is spherical: auto turns the axisymmetric map on and says so.
    assert!(stdout.contains("axisymmetric map on (auto"), "{stdout}");
    assert_eq!(read_json(&out)["config"]["axisymmetric"], true);
}

/// Streams of `count` orbits of the triaxial logarithmic
/// potential `Phi = v0^2/2 ln(rc^2 + x^2 + y^2/p^2 + z^2/q^2)` (v0 = 200 km/s, rc = 1 kpc),
/// 8 points each over about 4 Gyr, integrated by leapfrog; `p = 1` makes it axisymmetric.
fn logarithmic_streams(p: f64, count: usize) -> Vec<f64> {
    let (v0, rc, q) = (200.0f64, 1.0f64, 0.8f64);
    let accel = |x: &[f64; 3]| {
        let s = rc * rc + x[0] * x[0] + x[1] * x[1] / (p * p) + x[2] * x[2] / (q * q);
        let k = -v0 * v0 / s;
        [k * x[0], k * x[1] / (p * p), k * x[2] / (q * q)]
    };
    let dt = 1e-3;
    let mut xv = Vec::new();
    for i in 0..count {
        let phase = i as f64;
        let mut x = [4.0 + phase, 0.5 * phase.sin(), 1.0 + 0.3 * phase.cos()];
        let mut v = [20.0 * phase.cos(), 150.0 + 5.0 * phase, 40.0];
        for step in 0..4000 {
            let a = accel(&x);
            (0..3).for_each(|k| v[k] += 0.5 * dt * a[k]);
            (0..3).for_each(|k| x[k] += dt * v[k]);
            let a = accel(&x);
            (0..3).for_each(|k| v[k] += 0.5 * dt * a[k]);
            if step % 500 == 499 {
                xv.extend(x.iter().chain(&v));
            }
        }
    }
    xv
}

/// The L_z statistic of `auto`: far below the threshold on the AGAMA halo and disk sets
/// (Milky-Way, axisymmetric) and on orbits of an axisymmetric logarithmic potential, far
/// above it on orbits of a triaxial one (axis ratio 0.8 in the plane).
#[test]
fn auto_symmetry_is_on_for_axisymmetric_streams_and_off_for_triaxial_ones() {
    for path in [
        "tests/data/agama_mw_halo_1024.h5",
        "tests/data/agama_mw_disk_512.h5",
    ] {
        let ds = StreamsDataset::read(path).unwrap();
        let d = symmetry::decide(Axisymmetry::Auto, &ds.xv, ds.n_stars());
        println!("{path}: {d}");
        assert!(
            d.axisymmetric && d.lz_variation < LZ_TOLERANCE / 10.0,
            "{path}: {d}"
        );
    }
    let round = symmetry::decide(Axisymmetry::Auto, &logarithmic_streams(1.0, 32), 8);
    println!("axisymmetric logarithmic: {round}");
    assert!(round.axisymmetric, "{round}");
    let triaxial = symmetry::decide(Axisymmetry::Auto, &logarithmic_streams(0.8, 32), 8);
    println!("triaxial logarithmic: {triaxial}");
    assert!(
        !triaxial.axisymmetric && triaxial.lz_variation > 10.0 * LZ_TOLERANCE,
        "{triaxial}"
    );
}

/// Options of the warm-start tests: small nets, cosine schedule, the general map.
fn warm_config(epochs: usize) -> TrainConfig {
    let (m, b) = offset_toy();
    TrainConfig {
        epochs,
        learning_rate: 1e-3,
        ..small_config(m, b)
    }
}

/// A model trained 100 epochs, then trained again from it with `--init`: the new run's first
/// validation loss is about the first model's best (well below a fresh start's first), and
/// model.json records where it started and on what data.
#[test]
fn init_starts_from_the_given_weights() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 32));
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let first = train(
        &ds,
        &TrainConfig {
            learning_rate: 1e-2,
            ..warm_config(100)
        },
        dirs[0].path(),
        false,
        DATA,
    )
    .unwrap();
    let fresh = train(&ds, &warm_config(1), dirs[1].path(), false, DATA).unwrap();
    let warm_cfg = TrainConfig {
        init: Some(dirs[0].path().to_path_buf()),
        ..warm_config(1)
    };
    let warm = train(&ds, &warm_cfg, dirs[2].path(), false, DATA).unwrap();
    println!(
        "validation loss: first model's best {:.4e}; after one epoch fresh {:.4e}, warm {:.4e}",
        first.best_val_loss, fresh.best_val_loss, warm.best_val_loss
    );
    assert!(warm.best_val_loss < 1.1 * first.best_val_loss);
    assert!(warm.best_val_loss < 0.5 * fresh.best_val_loss);
    let training = &read_json(dirs[2].path())["training"];
    assert_eq!(training["init"]["model"], dirs[0].path().display().to_string());
    assert_eq!(
        training["init"]["data"],
        read_json(dirs[0].path())["training"]["data"]
    );
}

/// `--init` from a model of other widths, or of the other symmetry, is refused naming the
/// difference, and nothing is trained.
#[test]
fn init_of_another_architecture_is_refused() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 16));
    let source = tempfile::tempdir().unwrap();
    train(&ds, &warm_config(1), source.path(), false, DATA).unwrap();
    let attempt = |cfg: TrainConfig| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TrainConfig {
            init: Some(source.path().to_path_buf()),
            ..cfg
        };
        let err = format!("{:#}", train(&ds, &cfg, dir.path(), false, DATA).unwrap_err());
        assert!(
            err.contains("--init") && err.contains("architecture differs"),
            "{err}"
        );
        assert!(!dir.path().join(actionfinder::model::JSON_FILE).exists());
        err
    };
    let wider = attempt(TrainConfig {
        width: 64,
        max_width: 64,
        ..warm_config(1)
    });
    assert!(
        wider.contains("[32, 32]") && wider.contains("[64, 64]"),
        "{wider}"
    );
    let symmetric = attempt(TrainConfig {
        axisymmetric: Axisymmetry::On,
        ..warm_config(1)
    });
    assert!(symmetric.contains("--axisymmetric off"), "{symmetric}");
}

/// Under the plateau schedule, halving often (patience 1), a run stopped after 5 epochs and
/// resumed ends bit for bit where a straight run does: the schedule's state (rate, reference
/// loss, epochs since) comes back from the checkpoint.
#[test]
fn resumed_plateau_training_equals_straight_training() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 16));
    let cfg = TrainConfig {
        epochs: 12,
        learning_rate: 1e-2,
        schedule: actionfinder::train::Schedule::Plateau,
        plateau_patience: 1,
        plateau_min_steps: 0,
        checkpoint_every: 1,
        ..small_config(m, b)
    };
    let straight = tempfile::tempdir().unwrap();
    train(&ds, &cfg, straight.path(), false, DATA).unwrap();
    let resumed = tempfile::tempdir().unwrap();
    let stopping = TrainConfig {
        stop_after: 5,
        ..cfg.clone()
    };
    let first = train(&ds, &stopping, resumed.path(), false, DATA).unwrap();
    assert_eq!(first.epochs_run, 5);
    train(&ds, &stopping, resumed.path(), true, DATA).unwrap();
    train(&ds, &stopping, resumed.path(), true, DATA).unwrap();
    let (a, b) = (read_json(straight.path()), read_json(resumed.path()));
    let (ha, hb) = (history(&a["training"]), history(&b["training"]));
    let rates: Vec<f64> = ha.iter().map(|r| r.learning_rate).collect();
    println!("learning rates {rates:?}");
    assert!(
        rates[5..].iter().any(|&r| r < rates[0]),
        "no halving after the stop: the test cannot fail"
    );
    assert_eq!(ha, hb);
    assert_eq!(a["training"]["stop"], b["training"]["stop"]);
    assert_eq!(weights(straight.path()), weights(resumed.path()));
}

/// `time_limit_s` ends a session at the end of the first epoch past the limit, says so, and
/// leaves a checkpoint that `--resume` continues from.
#[test]
fn a_time_limit_stops_each_session_after_an_epoch_and_resumes() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 16));
    let cfg = TrainConfig {
        epochs: 12,
        checkpoint_every: 0,
        time_limit_s: 1e-9,
        ..small_config(m, b)
    };
    let out = tempfile::tempdir().unwrap();
    let first = train(&ds, &cfg, out.path(), false, DATA).unwrap();
    assert_eq!(first.epochs_run, 1);
    assert_eq!(
        first.stop,
        actionfinder::train::schedule::StopReason::TimeLimit { seconds: 1e-9 }
    );
    assert!(first.to_string().contains("--time-limit"), "{first}");
    let second = train(&ds, &cfg, out.path(), true, DATA).unwrap();
    assert_eq!(second.epochs_run, 2);
}
