//! The learning core end to end (issue 5, item 8): training cuts the action spread and the
//! action error of a toy isochrone 10% off; the toy's linearisation in (ln M, ln b) against
//! finite differences; model directories round-trip bit for bit and damaged ones are refused
//! with clear errors; resumed training equals straight training; the per-star fixed point of
//! `apply` converges and flags what it cannot map; the axisymmetric option keeps
//! `J''_phi = L_z`; training is reproducible from its seed.
//!
//! Data: `tests/data/agama_isochrone_halo_1024.h5` (AGAMA, the paper's §6.1 halo recipe in
//! the isochrone M = 3.334e11 Msun, b = 5 kpc; see tests/data/README.md). Networks are small
//! (width 16–32, depth 2) so that each test runs in seconds in release.

mod common_learning;

use std::path::Path;

use actionfinder::apply::{self, map_points, Subset};
use actionfinder::catalog::Catalog;
use actionfinder::model::toy::{self, Toy};
use actionfinder::model::{Model, JSON_FILE, WEIGHTS_FILE};
use actionfinder::train::{train, TrainConfig};
use actionfinder_integrators::actions::Flag;
use candle_core::{Device, Tensor, Var};

use common_learning::*;

/// Training on well-covered streams with the toy 10% high in M and b: the validation J''
/// spread falls far below the toy's own spread of actions along the same streams, and the
/// applied actions are far closer to the truth than the toy's.
#[test]
fn training_cuts_action_spread_and_error_of_an_offset_toy() {
    let (m, b) = offset_toy();
    let streams = well_covered(m, b, 64);
    let ds = dataset().select(&streams);
    let dir = tempfile::tempdir().unwrap();
    // 200 epochs (about 10 s on 2 cores): 30 cut the spread only 2.4x, 100 about 5x; 200 cut
    // it 6.6x and the action error 8.3x (7.1-9.2x with seeds 2-4).
    let cfg = TrainConfig {
        epochs: 200,
        ..small_config(m, b)
    };
    let summary = train(&ds, &cfg, dir.path(), false, DATA).unwrap();
    println!("{summary}");

    let json = read_json(dir.path());
    let validation: Vec<usize> =
        serde_json::from_value(json["training"]["split"]["validation"].clone()).unwrap();
    let toy_val = toy::evaluate(m, b, &ds.select(&validation).xv, false);
    let toy_spread = stream_spread(&toy_val.values, 6, ds.n_stars());
    let ratio = toy_spread / summary.best_val_spread;
    println!(
        "validation spread along streams (kpc km/s): toy {toy_spread:.4}, learned {:.4} (best epoch {}): {ratio:.2}x",
        summary.best_val_spread, summary.best_epoch
    );
    assert!(ratio >= 5.0, "spread cut only {ratio:.2}x");

    // The saved weights are those of the best epoch: their validation spread, with J' per
    // stream solved tightly, is the one recorded for that epoch.
    let model = load(dir.path());
    let recomputed = stream_j2_spread(&model, &ds.select(&validation).xv, ds.n_stars());
    let last = history(&json["training"])
        .last()
        .map_or(f64::NAN, |r| r.val_spread);
    println!("validation spread recomputed from the saved model: {recomputed:.9} (last epoch: {last:.9})");
    assert!(
        (recomputed - summary.best_val_spread).abs() <= 1e-6 * summary.best_val_spread,
        "saved model gives spread {recomputed}, history says {} at best epoch {}",
        summary.best_val_spread,
        summary.best_epoch
    );

    let input = dir.path().join("input.h5");
    let output = dir.path().join("catalog.h5");
    ds.write(&input).unwrap();
    apply::apply(dir.path(), &input, &output, Subset::All, &Device::Cpu).unwrap();
    let cat = Catalog::read(&output).unwrap();
    let flags = cat.flag.as_ref().unwrap();
    let actions = cat.column("actions").unwrap();
    let truth = ds.truth.actions.as_ref().unwrap();
    let toy_all = toy::evaluate(m, b, &ds.xv, false);
    let trusted: Vec<usize> = (0..flags.len()).filter(|&i| flags[i] == 0).collect();
    let learned_error = mean_error(&trusted, |i, k| actions[3 * i + k] - truth[3 * i + k]);
    let toy_error = mean_error(&trusted, |i, k| toy_all.values[6 * i + k] - truth[3 * i + k]);
    let share = trusted.len() as f64 / flags.len() as f64;
    println!(
        "mean |J - J_true| on {} trusted points ({:.1}%): toy {toy_error:.3}, learned {learned_error:.3} kpc km/s ({:.2}x)",
        trusted.len(),
        100.0 * share,
        toy_error / learned_error
    );
    assert!(share >= 0.9, "only {:.1}% of the points trusted", 100.0 * share);
    assert!(
        learned_error * 5.0 <= toy_error,
        "error {learned_error} not well below the toy's {toy_error}"
    );
}

/// `Toy::tensors` with a trained toy: values exact, and candle's gradient of (weighted)
/// sums of the actions and of the angles with respect to `ln M`, `ln b` equal to central
/// differences of `toy::evaluate` in `ln M`, `ln b`.
#[test]
fn toy_linearisation_matches_finite_differences_in_ln_m_and_ln_b() {
    let (m, b) = offset_toy();
    let xv = dataset().select(&well_covered(m, b, 8)).xv;
    let dev = Device::Cpu;
    let toy = Toy {
        log_m: Var::new(m.ln(), &dev).unwrap(),
        log_b: Var::new(b.ln(), &dev).unwrap(),
        trained: true,
    };
    let scale = 1234.5;
    let pts = toy.evaluate(&xv).unwrap();
    assert!(pts.flags.iter().all(|f| *f == Flag::Ok));
    let t = toy.tensors(&pts, scale, &dev).unwrap();
    let rows = xv.len() / 6;
    let actions = t.actions.to_vec2::<f64>().unwrap();
    let angles = t.angles.to_vec2::<f64>().unwrap();
    for i in 0..rows {
        for k in 0..3 {
            // Exact up to the rounding of the division by the action scale.
            let j = pts.values[6 * i + k];
            assert!(
                (actions[i][k] * scale - j).abs() <= 1e-15 * j.abs(),
                "value of J_{k}, row {i}"
            );
            assert_eq!(
                angles[i][k],
                pts.values[6 * i + 3 + k],
                "value of theta_{k}, row {i}"
            );
        }
    }
    // Distinct weights per row, so that errors of single rows cannot cancel in the sum.
    let weights: Vec<f64> = (0..rows).map(|i| 1.0 + (i % 7) as f64 / 7.0).collect();
    let w = Tensor::from_slice(&weights, (rows, 1), &dev).unwrap();
    let h = 1e-4;
    for (which, param) in [("ln M", 0), ("ln b", 1)] {
        let shifted = |s: f64| {
            let (mm, bb) = if param == 0 {
                (m * s.exp(), b)
            } else {
                (m, b * s.exp())
            };
            toy::evaluate(mm, bb, &xv, false).values
        };
        let (plus, minus) = (shifted(h), shifted(-h));
        for column in 0..6 {
            let (tensor, k, unit) = if column < 3 {
                (&t.actions, column, scale)
            } else {
                (&t.angles, column - 3, 1.0)
            };
            let sum = tensor
                .narrow(1, k, 1)
                .unwrap()
                .broadcast_mul(&w)
                .unwrap()
                .sum_all()
                .unwrap();
            let grads = sum.backward().unwrap();
            let var = if param == 0 { &toy.log_m } else { &toy.log_b };
            let got = grads.get(var.as_tensor()).unwrap().to_scalar::<f64>().unwrap();
            let terms: Vec<f64> = (0..rows)
                .map(|i| {
                    let mut d = plus[6 * i + column] - minus[6 * i + column];
                    if column >= 3 {
                        d -= std::f64::consts::TAU * (d / std::f64::consts::TAU).round();
                    }
                    weights[i] * d / (2.0 * h * unit)
                })
                .collect();
            let fd: f64 = terms.iter().sum();
            let size: f64 = terms.iter().map(|x| x.abs()).sum();
            println!("d/d{which} of column {column}: candle {got:.12e}, finite differences {fd:.12e}");
            assert!(
                (got - fd).abs() <= 1e-6 * size.max(1e-300) || (got == 0.0 && size == 0.0),
                "d/d{which} of column {column}: candle {got}, finite differences {fd}"
            );
        }
    }
}

/// A model saved by training and loaded again maps points bit for bit like a second load and
/// like a copy saved and loaded once more; model.json records the history and best epoch.
#[test]
fn saved_model_loads_to_bit_identical_outputs() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 16));
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        epochs: 2,
        ..small_config(m, b)
    };
    let summary = train(&ds, &cfg, dir.path(), false, DATA).unwrap();
    let xv = &dataset().xv[..6 * 1000];

    let (first, training) = Model::load(dir.path(), &Device::Cpu).unwrap();
    let out_first = map_points(&first, xv).unwrap();
    let out_second = map_points(&load(dir.path()), xv).unwrap();
    let copy = tempfile::tempdir().unwrap();
    first.save(copy.path(), &training).unwrap();
    let out_copy = map_points(&load(copy.path()), xv).unwrap();
    for (name, other) in [("second load", &out_second), ("saved copy", &out_copy)] {
        assert_eq!(bits(&out_first.actions), bits(&other.actions), "actions, {name}");
        assert_eq!(bits(&out_first.angles), bits(&other.angles), "angles, {name}");
        assert_eq!(out_first.flags, other.flags, "flags, {name}");
    }
    assert!(out_first.flags.iter().filter(|&&f| f == 0).count() > 900);
    assert_eq!(weights(dir.path()), weights(copy.path()));

    let json = read_json(dir.path());
    assert_eq!(json["format"], "actionfinder-model");
    let history = history(&json["training"]);
    assert_eq!(history.len(), 2);
    assert_eq!(history.len(), summary.epochs_run);
    assert_eq!(json["training"]["best_epoch"], summary.best_epoch);
    let best = history.iter().find(|r| r.epoch == summary.best_epoch).unwrap();
    assert_eq!(best.val_loss, summary.best_val_loss);
    assert!(history.iter().all(|r| r.val_loss >= summary.best_val_loss));
    assert_eq!(json["config"]["toy_m"], summary.toy_m);
    let options: TrainConfig = serde_json::from_value(json["training"]["options"].clone()).unwrap();
    assert_eq!(options, cfg);
}

/// Damaged or mismatched model directories: an error that names the directory and the
/// problem, from `Model::load` and from `apply`; never a panic.
#[test]
fn damaged_model_directories_are_refused_with_clear_errors() {
    let root = tempfile::tempdir().unwrap();
    let good = root.path().join("good");
    let model = Model::new(model_config(false), &Device::Cpu, 7).unwrap();
    model.save(&good, &serde_json::json!({"history": []})).unwrap();
    load(&good);
    let points = root.path().join("points.h5");
    dataset().select(&[0]).write(&points).unwrap();

    type Damage = fn(&Path);
    let cases: [(&str, Damage, &[&str]); 13] = [
        ("no json", |d| rm(d, JSON_FILE), &["cannot read model.json"]),
        (
            "json not json",
            |d| write(d, JSON_FILE, b"{\"format\": "),
            &["model.json is not valid JSON"],
        ),
        (
            "wrong format",
            |d| edit_json(d, |j| j["format"] = "other-model".into()),
            &["format", "other-model"],
        ),
        (
            "no config",
            |d| edit_json(d, |j| j["config"] = serde_json::Value::Null),
            &["model.json", "config"],
        ),
        (
            "unknown activation",
            |d| edit_json(d, |j| j["config"]["g"]["activation"] = "gelu".into()),
            &["model.json", "config", "gelu"],
        ),
        ("no weights", |d| rm(d, WEIGHTS_FILE), &["model.safetensors"]),
        (
            "truncated weights",
            |d| truncate(d, WEIGHTS_FILE),
            &["model.safetensors"],
        ),
        (
            "weights not safetensors",
            |d| write(d, WEIGHTS_FILE, b"garbage"),
            &["model.safetensors"],
        ),
        (
            "width changed",
            |d| edit_json(d, |j| j["config"]["g"]["widths"] = serde_json::json!([16, 32])),
            &["model.safetensors holds", "numbers", "architecture in model.json"],
        ),
        (
            "depth changed",
            |d| {
                edit_json(d, |j| {
                    j["config"]["p"]["widths"] = serde_json::json!([16, 16, 16])
                })
            },
            &["model.safetensors holds", "numbers"],
        ),
        (
            "tensor removed",
            |d| edit_tensors(d, |t| t.retain(|(n, _)| n != "p.output.bias")),
            &["model.safetensors holds", "numbers"],
        ),
        (
            "tensor renamed",
            |d| {
                edit_tensors(d, |t| {
                    t.iter_mut()
                        .filter(|(n, _)| n == "p.output.bias")
                        .for_each(|e| e.0 = "p.output.b".into())
                })
            },
            &["lacks tensor p.output.bias"],
        ),
        (
            "tensor in f32",
            |d| {
                edit_tensors(d, |t| {
                    t.iter_mut()
                        .filter(|(n, _)| n == "g.output.weight")
                        .for_each(|e| e.1 = e.1.to_dtype(candle_core::DType::F32).unwrap())
                })
            },
            &["tensor g.output.weight is F32", "wants f64"],
        ),
    ];
    for (i, (name, damage, words)) in cases.iter().enumerate() {
        let dir = root.path().join(format!("case{i}"));
        copy_dir(&good, &dir);
        damage(&dir);
        let err = match Model::load(&dir, &Device::Cpu) {
            Ok(_) => panic!("{name}: damaged model loaded"),
            Err(e) => e.to_string(),
        };
        println!("{name}: {err}");
        assert!(
            err.contains(&dir.display().to_string()),
            "{name}: {err:?} does not name the directory"
        );
        for w in *words {
            assert!(err.contains(w), "{name}: {err:?} does not say {w:?}");
        }
        let out = root.path().join(format!("case{i}.h5"));
        let err = apply::apply(&dir, &points, &out, Subset::All, &Device::Cpu).unwrap_err();
        assert!(
            format!("{err:#}").contains(&dir.display().to_string()),
            "{name}, apply: {err:#}"
        );
        assert!(!out.exists(), "{name}: apply wrote a catalog");
    }
}

/// A model.json whose architecture cannot be built (no blocks) is a damaged directory too.
#[test]
fn unbuildable_architecture_names_the_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("model");
    Model::new(model_config(false), &Device::Cpu, 7)
        .unwrap()
        .save(&dir, &serde_json::json!({}))
        .unwrap();
    edit_json(&dir, |j| j["config"]["g"]["widths"] = serde_json::json!([]));
    let err = Model::load(&dir, &Device::Cpu)
        .err()
        .expect("an MLP without blocks loaded")
        .to_string();
    println!("{err}");
    assert!(
        err.contains(&dir.display().to_string()),
        "{err:?} does not name the directory"
    );
}

/// The normalisation is stored twice (model.json's scales and the `norm.*` tensors): a
/// directory where they disagree is mismatched and must not load as if nothing were wrong.
#[test]
fn scales_disagreeing_with_the_weights_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("model");
    Model::new(model_config(false), &Device::Cpu, 7)
        .unwrap()
        .save(&dir, &serde_json::json!({}))
        .unwrap();
    edit_json(&dir, |j| j["config"]["length_scale"] = 2.5.into());
    match Model::load(&dir, &Device::Cpu) {
        Ok((model, _)) => panic!(
            "loaded with action scale {} while the weights file says {}",
            model.config.action_scale(),
            model_config(false).action_scale()
        ),
        Err(e) => assert!(e.to_string().contains("scale"), "{e}"),
    }
}

/// Training 2 epochs, stopping, and resuming to 4 gives exactly the history and weights of
/// 4 epochs straight (toy trained, dropout on, so every piece of state must come back).
#[test]
fn resumed_training_equals_straight_training() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 16));
    let cfg = TrainConfig {
        epochs: 4,
        checkpoint_every: 1,
        fit_toy: true,
        dropout: 0.1,
        ..small_config(m, b)
    };
    let straight = tempfile::tempdir().unwrap();
    train(&ds, &cfg, straight.path(), false, DATA).unwrap();
    let resumed = tempfile::tempdir().unwrap();
    let stopping = TrainConfig {
        stop_after: 2,
        ..cfg.clone()
    };
    let first = train(&ds, &stopping, resumed.path(), false, DATA).unwrap();
    assert_eq!(first.epochs_run, 2);
    let other = TrainConfig {
        learning_rate: 2e-2,
        ..stopping.clone()
    };
    let err = train(&ds, &other, resumed.path(), true, DATA)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("checkpoint") && err.contains("other options"),
        "{err}"
    );
    let second = train(&ds, &stopping, resumed.path(), true, DATA).unwrap();
    assert_eq!(second.epochs_run, 4);

    let (a, b) = (read_json(straight.path()), read_json(resumed.path()));
    let (ha, hb) = (history(&a["training"]), history(&b["training"]));
    assert_eq!(ha.len(), 4);
    assert_eq!(ha, hb);
    assert_eq!(a["training"]["best_epoch"], b["training"]["best_epoch"]);
    assert_eq!(a["config"], b["config"]);
    assert_eq!(weights(straight.path()), weights(resumed.path()));
    let xv = &ds.xv;
    let (oa, ob) = (
        map_points(&load(straight.path()), xv).unwrap(),
        map_points(&load(resumed.path()), xv).unwrap(),
    );
    assert_eq!(bits(&oa.actions), bits(&ob.actions));
    assert_eq!(bits(&oa.angles), bits(&ob.angles));
}

/// After a short training, the per-star fixed point of `map_points` converges for each of
/// 2000 points of the dataset (flag 0, finite values), its J'' is the one at a J' that
/// solves `J' = J_toy - dG/dtheta(theta, J')` to 1e-10 of the action scale, and NaN,
/// infinite or unbound points come back flagged with NaN values; degenerate points (the
/// centre, radial and polar orbits) come back either mapped or flagged, never both.
#[test]
fn per_star_fixed_point_converges_and_bad_points_are_flagged() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 32));
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        epochs: 30,
        ..small_config(m, b)
    };
    train(&ds, &cfg, dir.path(), false, DATA).unwrap();
    let model = load(dir.path());
    // The first 2000 points, nearly unbound streams included: all bound in the toy.
    let mut xv = dataset().xv[..6 * 2000].to_vec();
    let toy_flags = toy::evaluate(m, b, &xv, false).flags;
    assert!(
        toy_flags.iter().all(|f| *f == Flag::Ok),
        "a point is unbound in the toy"
    );
    let out = map_points(&model, &xv).unwrap();
    for i in 0..2000 {
        assert_eq!(out.flags[i], 0, "point {i}: {:?}", &xv[6 * i..6 * i + 6]);
        let finite = (0..3).all(|k| out.actions[3 * i + k].is_finite() && out.angles[3 * i + k].is_finite());
        assert!(finite, "point {i}");
    }
    let (residual, actions) = star_residual(&model, &xv);
    println!("largest per-star J' residual: {residual:.3e} (normalised actions)");
    assert!(residual <= 1e-10, "residual {residual}");
    for (k, (a, b)) in out.actions.iter().zip(&actions).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs(),
            "row {}: J'' {a} from map_points, {b} at the fixed point",
            k / 3
        );
    }

    let bad: [(&str, [f64; 6], u32); 4] = [
        (
            "NaN",
            [f64::NAN, 1.0, 2.0, 100.0, 50.0, 0.0],
            Flag::NonFinite as u32,
        ),
        (
            "infinite",
            [8.0, 0.0, 0.0, f64::INFINITY, 0.0, 0.0],
            Flag::NonFinite as u32,
        ),
        ("unbound", [8.0, 0.0, 0.0, 5000.0, 0.0, 0.0], Flag::Unbound as u32),
        (
            "unbound far out",
            [1e7, 0.0, 0.0, 0.0, 10.0, 0.0],
            Flag::Unbound as u32,
        ),
    ];
    let edge: [[f64; 6]; 3] = [
        [0.0; 6],
        [10.0, 0.0, 0.0, 100.0, 0.0, 0.0],
        [0.0, 0.0, 10.0, 0.0, 100.0, 0.0],
    ];
    xv.clear();
    bad.iter().for_each(|(_, p, _)| xv.extend(p));
    edge.iter().for_each(|p| xv.extend(p));
    let out = map_points(&model, &xv).unwrap();
    for (i, (name, _, flag)) in bad.iter().enumerate() {
        assert_eq!(out.flags[i], *flag, "{name}");
        assert!(out.actions[3 * i..3 * i + 3].iter().all(|x| x.is_nan()), "{name}");
        assert!(out.angles[3 * i..3 * i + 3].iter().all(|x| x.is_nan()), "{name}");
    }
    for i in bad.len()..out.flags.len() {
        let finite = out.actions[3 * i..3 * i + 3].iter().all(|x| x.is_finite());
        println!("edge point {:?}: flag {}", &xv[6 * i..6 * i + 6], out.flags[i]);
        assert_eq!(
            out.flags[i] == 0,
            finite,
            "edge point {i}: flag {} but finite {finite}",
            out.flags[i]
        );
    }
}

/// With `axisymmetric`, `J''_phi` is the toy's `J_phi = L_z = x v_y - y v_x` for every point;
/// without it (the same map with theta_phi seen) it is not.
#[test]
fn axisymmetric_option_keeps_j_phi_equal_to_l_z() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 16));
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        epochs: 3,
        axisymmetric: actionfinder::train::Axisymmetry::On,
        ..small_config(m, b)
    };
    train(&ds, &cfg, dir.path(), false, DATA).unwrap();
    let model = load(dir.path());
    assert!(model.config.axisymmetric);
    let xv = &dataset().xv[..6 * 2000];
    let out = map_points(&model, xv).unwrap();
    let worst = worst_l_z_deviation(xv, &out);
    println!("axisymmetric: largest |J''_phi - L_z| / |L_z| = {worst:.3e}");
    assert!(worst <= 1e-10, "J''_phi differs from L_z by {worst:e} (relative)");

    let seeing = Model::new(model_config(false), &Device::Cpu, 3).unwrap();
    let other = worst_l_z_deviation(xv, &map_points(&seeing, xv).unwrap());
    println!("not axisymmetric: largest relative deviation {other:.3e}");
    assert!(
        other > 1e-6,
        "J''_phi = L_z even with theta_phi seen: the check cannot fail"
    );
}

/// Two trainings with the same seed give identical histories and weights; another seed
/// gives another history.
#[test]
fn training_is_reproducible_from_the_seed() {
    let (m, b) = offset_toy();
    let ds = dataset().select(&well_covered(m, b, 16));
    let cfg = TrainConfig {
        epochs: 3,
        dropout: 0.1,
        width: 16,
        max_width: 16,
        ..small_config(m, b)
    };
    let run = |cfg: &TrainConfig| {
        let dir = tempfile::tempdir().unwrap();
        train(&ds, cfg, dir.path(), false, DATA).unwrap();
        let json = read_json(dir.path());
        (history(&json["training"]), weights(dir.path()))
    };
    let (h1, w1) = run(&cfg);
    let (h2, w2) = run(&cfg);
    assert_eq!(h1, h2);
    assert_eq!(w1, w2);
    let (h3, w3) = run(&TrainConfig { seed: 2, ..cfg });
    assert_eq!(h1.len(), h3.len());
    for (a, c) in h1.iter().zip(&h3) {
        assert_ne!(a.train_loss, c.train_loss, "epoch {}", a.epoch);
        assert_ne!(a.val_loss, c.val_loss, "epoch {}", a.epoch);
    }
    assert_ne!(w1, w3);
}
