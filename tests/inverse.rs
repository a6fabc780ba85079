//! The inverse map: with the toy at the truth (no generating function, no point transform) the
//! round trip closes to rounding; with the toy 10% off, a short inverse pass cuts the round-trip
//! error of the toy's own inverse at least 5x; `invert` refuses input without actions or angles,
//! naming the file and the cause, and flags actions outside the trained range; `sample` puts
//! points on the torus asked for; `apply` writes each point's round trip (not through an
//! inverse of an earlier map) and `validate` summarises it; inverse directories save and load bit for bit and an inverse
//! of another action map is refused; the command line trains, refits only with `--force`, and
//! refuses bad `sample` actions; a resumed inverse pass is a straight one.

#[allow(dead_code)]
mod common_cli;
#[allow(dead_code)]
mod common_learning;

use std::path::Path;

use actionfinder::apply::{apply, map_points, Subset};
use actionfinder::catalog::{Catalog, FLAG_OUT_OF_RANGE};
use actionfinder::dataset::StreamsDataset;
use actionfinder::inverse::command::{
    invert_command, sample_command, AngleSampling, Destination, InvertConfig, SampleConfig, Tori,
};
use actionfinder::inverse::fit::{fit_inverse, InverseConfig};
use actionfinder::inverse::roundtrip::{angle_difference, errors};
use actionfinder::inverse::samples::TorusSampling;
use actionfinder::inverse::{InverseModel, INVERSE_JSON};
use actionfinder::model::Model;
use actionfinder::output::Existing;
use actionfinder::train::{train, Axisymmetry, TrainConfig};
use actionfinder::validate::validate;
use candle_core::{Device, Tensor};
use common_cli::actionfinder;
use common_learning::*;

/// A small, short inverse pass.
fn quick(epochs: usize) -> InverseConfig {
    InverseConfig {
        epochs,
        width: 32,
        max_width: 32,
        depth: 2,
        batch_rows: 256,
        learning_rate: 3e-3,
        checkpoint_every: 0,
        sampling: TorusSampling {
            per_star: 8,
            jitter: 0.1,
            seed: 1,
        },
        ..InverseConfig::default()
    }
}

/// The exact toy model in `dir`: the isochrone the data were made in, G and P zero.
fn exact_toy_model(dir: &Path) -> StreamsDataset {
    let mut config = model_config(false);
    (config.toy_m, config.toy_b) = (M_TRUE, B_TRUE);
    let model = Model::new(config, &Device::Cpu, 3).unwrap();
    for (name, var) in model.trainable() {
        if name.contains("output") {
            var.set(&var.zeros_like().unwrap()).unwrap();
        }
    }
    model.save(dir, &serde_json::json!({})).unwrap();
    dataset().select(&(0..48).collect::<Vec<_>>())
}

/// Largest `|a - b| / (1 + |b|)` over rows of 3 starting at `offset` in rows of 6.
fn worst(a: &[f64], b: &[f64], offset: usize) -> f64 {
    (a.chunks_exact(6).zip(b.chunks_exact(6)))
        .flat_map(|(p, q)| (offset..offset + 3).map(move |k| (p[k] - q[k]).abs() / (1.0 + q[k].abs())))
        .fold(0.0, f64::max)
}

#[test]
fn with_the_toy_at_the_truth_the_round_trip_closes() {
    let dir = tempfile::tempdir().unwrap();
    let ds = exact_toy_model(dir.path());
    let summary = fit_inverse(dir.path(), &ds, &quick(2), false).unwrap();
    println!("{summary}");
    let (model, _) = Model::load(dir.path(), &Device::Cpu).unwrap();
    let (inverse, _) = InverseModel::load(dir.path(), &Device::Cpu).unwrap();
    let e = errors(&model, &inverse, &ds.xv).unwrap();
    assert!(e.iter().all(|x| x.is_finite()), "a point did not come back");
    let (dx, dv) = e
        .chunks_exact(2)
        .fold((0.0f64, 0.0f64), |(x, v), r| (x.max(r[0]), v.max(r[1])));
    println!("largest |x - x'| {dx:.3e} kpc, |v - v'| {dv:.3e} km/s");
    assert!(dx < 1e-8 && dv < 1e-8, "round trip off by {dx} kpc, {dv} km/s");
}

#[test]
fn a_short_inverse_pass_cuts_the_round_trip_error_of_an_offset_toy() {
    let (m, b) = offset_toy();
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset().select(&well_covered(m, b, 96));
    let cfg = TrainConfig {
        epochs: 10,
        axisymmetric: Axisymmetry::On,
        ..small_config(m, b)
    };
    train(&ds, &cfg, dir.path(), false, DATA).unwrap();
    let summary = fit_inverse(dir.path(), &ds, &quick(100), false).unwrap();
    println!("{summary}");
    assert!(
        summary.held_out,
        "the model's held-out streams measure the round trip"
    );
    let (before, after) = (summary.before, summary.after);
    assert!(after.points * 10 >= before.points * 9, "{after:?} {before:?}");
    assert!(after.mean_dx * 5.0 <= before.mean_dx, "{after} against {before}");
    assert!(after.mean_dv * 5.0 <= before.mean_dv, "{after} against {before}");
}

/// An exact toy model with an inverse in `dir`, and a catalog of its points' actions and
/// angles in `work` (`catalog.h5`).
fn exact_with_catalog(dir: &Path, work: &Path) -> (StreamsDataset, std::path::PathBuf) {
    let ds = exact_toy_model(dir);
    fit_inverse(dir, &ds, &quick(1), false).unwrap();
    let (model, _) = Model::load(dir, &Device::Cpu).unwrap();
    let mapped = map_points(&model, &ds.xv).unwrap();
    let mut cat = Catalog::new(ds.xv.clone());
    cat.set_column("actions", mapped.actions).unwrap();
    cat.set_column("angles", mapped.angles).unwrap();
    let path = work.join("catalog.h5");
    cat.write(&path).unwrap();
    (ds, path)
}

/// `invert` with the model in `dir` on `input`, its output beside `input`.
fn invert(dir: &Path, input: &Path) -> anyhow::Result<Catalog> {
    let out = input.with_file_name("points.h5");
    invert_command(&InvertConfig {
        model: dir.to_path_buf(),
        input: input.to_path_buf(),
        output: Destination {
            out: out.clone(),
            device: "cpu".into(),
            existing: Existing::Replace,
        },
    })?;
    Ok(Catalog::read(&out).unwrap())
}

#[test]
fn invert_refuses_input_without_actions_or_angles_and_flags_out_of_range_actions() {
    let (dir, work) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ds, path) = exact_with_catalog(dir.path(), work.path());
    let points = invert(dir.path(), &path).unwrap();
    assert!(worst(&points.xv, &ds.xv, 0) < 1e-9 && worst(&points.xv, &ds.xv, 3) < 1e-9);
    assert!(points.flag.as_ref().unwrap().iter().all(|&f| f == 0));
    let mut cat = Catalog::read(&path).unwrap();
    let actions = cat.columns["actions"].clone();
    let far: Vec<f64> = actions
        .iter()
        .enumerate()
        .map(|(i, j)| if i == 0 { 50.0 * j } else { *j })
        .collect();
    cat.set_column("actions", far).unwrap();
    cat.write(&path).unwrap();
    let flags = invert(dir.path(), &path).unwrap().flag.unwrap();
    assert_eq!(flags[0], FLAG_OUT_OF_RANGE);
    assert!(flags[1..].iter().all(|&f| f == 0));
    for (name, dropped) in [("angles", "actions"), ("actions", "angles")] {
        let mut partial = Catalog::new(ds.xv.clone());
        partial.set_column(name, actions.clone()).unwrap();
        let lacking = work.path().join(format!("no_{dropped}.h5"));
        partial.write(&lacking).unwrap();
        let err = format!("{:#}", invert(dir.path(), &lacking).unwrap_err());
        println!("{err}");
        assert!(err.contains(&lacking.display().to_string()), "{err}");
        assert!(err.contains(&format!("no /particles/{dropped}")), "{err}");
    }
    let dataset_file = work.path().join("streams.h5");
    ds.write(&dataset_file).unwrap();
    let err = format!("{:#}", invert(dir.path(), &dataset_file).unwrap_err());
    assert!(
        err.contains("streams.h5") && err.contains("no /particles/actions"),
        "{err}"
    );
}

#[test]
fn sampled_points_lie_on_the_torus_asked_for() {
    let (dir, work) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, path) = exact_with_catalog(dir.path(), work.path());
    let j = Catalog::read(&path).unwrap().columns["actions"][..3].to_vec();
    let out = work.path().join("torus.h5");
    let cfg = SampleConfig {
        model: dir.path().to_path_buf(),
        tori: Tori::One([j[0], j[1], j[2]]),
        angles: AngleSampling::Grid(3),
        seed: 1,
        output: Destination {
            out: out.clone(),
            device: "cpu".into(),
            existing: Existing::Refuse,
        },
    };
    println!("{}", sample_command(&cfg).unwrap());
    let torus = Catalog::read(&out).unwrap();
    assert_eq!(torus.len(), 27);
    let (model, _) = Model::load(dir.path(), &Device::Cpu).unwrap();
    let back = map_points(&model, &torus.xv).unwrap();
    for (i, row) in back.actions.chunks_exact(3).enumerate() {
        for k in 0..3 {
            assert!(
                (row[k] - j[k]).abs() < 1e-8 * (1.0 + j[k].abs()),
                "point {i}: {row:?} vs {j:?}"
            );
            let asked = torus.columns["angles"][3 * i + k];
            assert!(
                angle_difference(back.angles[3 * i + k], asked) < 1e-8,
                "point {i}"
            );
        }
    }
    let again = sample_command(&cfg).unwrap_err().to_string();
    assert!(again.contains("--force"), "{again}");
    let from = SampleConfig {
        tori: Tori::Catalog(path.clone()),
        angles: AngleSampling::Random(2),
        output: Destination {
            out: work.path().join("resampled.h5"),
            ..cfg.output.clone()
        },
        ..cfg
    };
    sample_command(&from).unwrap();
    let resampled = Catalog::read(work.path().join("resampled.h5")).unwrap();
    assert_eq!(resampled.len(), 2 * Catalog::read(&path).unwrap().len());
    assert_eq!(resampled.stream.as_ref().unwrap()[..4], [0, 0, 1, 1]);
}

#[test]
fn inverses_save_and_load_bit_for_bit_and_belong_to_their_map() {
    let dir = tempfile::tempdir().unwrap();
    let ds = exact_toy_model(dir.path());
    fit_inverse(dir.path(), &ds, &quick(1), false).unwrap();
    let (inverse, training) = InverseModel::load(dir.path(), &Device::Cpu).unwrap();
    let var = inverse
        .vars()
        .into_iter()
        .find(|(n, _)| n == "inverse.output.weight")
        .unwrap()
        .1;
    let n = var.elem_count();
    let noise: Vec<f64> = (0..n)
        .map(|i| 0.05 * ((i * 7919 % 13) as f64 / 6.0 - 1.0))
        .collect();
    var.set(&Tensor::from_vec(noise, var.shape(), &Device::Cpu).unwrap())
        .unwrap();
    inverse.save(dir.path(), &training).unwrap();
    let actions: Vec<f64> = [300.0, 200.0, 1500.0, 800.0, 50.0, -900.0].to_vec();
    let angles: Vec<f64> = [0.5, 2.0, 4.0, 6.0, 1.0, 3.0].to_vec();
    let before = inverse.invert(&actions, &angles).unwrap().xv;
    let (loaded, _) = InverseModel::load(dir.path(), &Device::Cpu).unwrap();
    let after = loaded.invert(&actions, &angles).unwrap().xv;
    assert_eq!(bits(&before), bits(&after));
    assert!(before.iter().all(|x| x.is_finite()));
    let model = Model::new(model_config(false), &Device::Cpu, 4).unwrap();
    model.save(dir.path(), &serde_json::json!({})).unwrap();
    let err = InverseModel::load(dir.path(), &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(INVERSE_JSON) && err.contains("fit-inverse"), "{err}");
}

#[test]
fn apply_writes_the_round_trip_and_validate_summarises_it() {
    let (dir, work) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ds = exact_toy_model(dir.path());
    let input = work.path().join("streams.h5");
    ds.write(&input).unwrap();
    let out = work.path().join("catalog.h5");
    apply(dir.path(), &input, &out, Subset::All, &Device::Cpu).unwrap();
    assert!(Catalog::read(&out).unwrap().column("roundtrip_error").is_none());
    fit_inverse(dir.path(), &ds, &quick(1), false).unwrap();
    apply(dir.path(), &input, &out, Subset::All, &Device::Cpu).unwrap();
    let cat = Catalog::read(&out).unwrap();
    let e = cat.column("roundtrip_error").unwrap();
    assert_eq!(e.len(), 2 * ds.n_points());
    assert!(e.iter().all(|x| x.is_finite() && *x < 1e-8), "{e:?}");
    let report = validate(&cat, &ds).unwrap();
    let r = report.roundtrip.unwrap().all;
    assert_eq!(r.points, ds.n_points());
    assert!(r.mean_dx < 1e-8 && r.mean_dv < 1e-8, "{r:?}");
    assert!(report.to_string().contains("Round trip through the inverse map"));
    let retrained = Model::new(model_config(false), &Device::Cpu, 4).unwrap();
    retrained.save(dir.path(), &serde_json::json!({})).unwrap();
    apply(dir.path(), &input, &out, Subset::All, &Device::Cpu).unwrap();
    let stale = Catalog::read(&out).unwrap();
    assert!(stale.column("actions").is_some() && stale.column("roundtrip_error").is_none());
}

/// `train --inverse` adds the inverse to the model directory; `fit-inverse` then refuses to
/// replace it without `--force`; `sample` refuses actions that are not three numbers.
#[test]
fn the_command_line_trains_refits_and_refuses() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("streams.h5");
    dataset()
        .select(&(0..16).collect::<Vec<_>>())
        .write(&data)
        .unwrap();
    let model = work.path().join("model");
    let (d, m) = (data.to_str().unwrap(), model.to_str().unwrap());
    let small = [
        "--inverse-epochs",
        "2",
        "--inverse-width",
        "16",
        "--inverse-depth",
        "1",
    ];
    let train = [
        &["train", d, "--out", m, "--epochs", "2", "--inverse"][..],
        &small,
    ]
    .concat();
    let out = actionfinder(&train);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("learned inverse"));
    assert!(model.join(INVERSE_JSON).is_file());
    let again = actionfinder(&[&["fit-inverse", m, d][..], &small].concat());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.contains("--force") && err.contains(INVERSE_JSON),
        "{err}"
    );
    let forced = actionfinder(&[&["fit-inverse", m, d, "--force"][..], &small].concat());
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let torus = work.path().join("torus.h5");
    let bad = actionfinder(&["sample", m, "--actions", "1,2", "--out", torus.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && err.contains("--actions"), "{err}");
}

/// An inverse pass stopped after 3 epochs and resumed to 6 ends where a straight run of 6
/// does, bit for bit.
#[test]
fn a_resumed_inverse_pass_equals_a_straight_one() {
    let (straight, resumed) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let model = Model::new(model_config(true), &Device::Cpu, 7).unwrap();
    model.save(straight.path(), &serde_json::json!({})).unwrap();
    model.save(resumed.path(), &serde_json::json!({})).unwrap();
    let ds = dataset().select(&(0..32).collect::<Vec<_>>());
    let cfg = InverseConfig {
        checkpoint_every: 1,
        ..quick(6)
    };
    fit_inverse(straight.path(), &ds, &cfg, false).unwrap();
    let first = InverseConfig {
        stop_after: 3,
        ..cfg.clone()
    };
    assert_eq!(
        fit_inverse(resumed.path(), &ds, &first, false)
            .unwrap()
            .epochs_run,
        3
    );
    assert_eq!(
        fit_inverse(resumed.path(), &ds, &cfg, true).unwrap().epochs_run,
        6
    );
    let weights = |dir: &Path| {
        let (inverse, _) = InverseModel::load(dir, &Device::Cpu).unwrap();
        (inverse.vars().iter())
            .flat_map(|(_, v)| bits(&v.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(weights(straight.path()), weights(resumed.path()));
}
