//! The learned field: with the toy at the truth it is the toy's; with the toy 10% off, a short
//! field pass cuts the acceleration error well below the toy's own; the potential form is a
//! true gradient (symmetric Hessian); field directories save and load bit for bit and damaged
//! ones are refused by name; a model without a field says so.

#[allow(dead_code)]
mod common_learning;

use std::path::Path;

use actionfinder::apply::{self, Subset};
use actionfinder::catalog::Catalog;
use actionfinder::field::fit::{fit_field, relative_error, FieldConfig};
use actionfinder::field::{spec_for, FieldForm, FieldModel, FIELD_JSON, FIELD_WEIGHTS};
use actionfinder::nn::Activation;
use actionfinder::train::{train, TrainConfig};
use candle_core::{Device, Tensor};
use common_learning::*;
use num_dual::{DualSVec, DualSVec64};

/// An action map trained briefly on 96 well-covered streams with the toy `(m, b)`.
fn trained(m: f64, b: f64, dir: &Path) -> actionfinder::dataset::StreamsDataset {
    let ds = dataset().select(&well_covered(m, b, 96));
    let cfg = TrainConfig {
        epochs: 10,
        ..small_config(m, b)
    };
    train(&ds, &cfg, dir, false, DATA).unwrap();
    ds
}

fn quick_field() -> FieldConfig {
    FieldConfig {
        epochs: 200,
        width: 32,
        max_width: 32,
        depth: 2,
        batch_streams: 16,
        learning_rate: 3e-3,
        ..FieldConfig::default()
    }
}

/// Mean relative error of the field of `dir` against the dataset's true acceleration, and of
/// the toy isochrone `(m, b)`'s own field.
fn errors(dir: &Path, ds: &actionfinder::dataset::StreamsDataset) -> (f64, f64) {
    let (field, _) = FieldModel::load(dir, &Device::Cpu).unwrap();
    let x: Vec<f64> = ds.xv.chunks_exact(6).flat_map(|p| p[..3].to_vec()).collect();
    let a = field.evaluate(&x).unwrap().acceleration;
    let dev = Device::Cpu;
    let (_, toy) = field
        .spec
        .toy_field(&Tensor::from_slice(&x, (x.len() / 3, 3), &dev).unwrap())
        .unwrap();
    let toy = toy.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let truth = ds.truth.acceleration.as_ref().unwrap();
    let mean = |v: &[f64]| -> f64 {
        let e: Vec<f64> = (0..x.len() / 3)
            .map(|i| relative_error(&v[3 * i..3 * i + 3], &truth[3 * i..3 * i + 3]).unwrap())
            .collect();
        e.iter().sum::<f64>() / e.len() as f64
    };
    (mean(&a), mean(&toy))
}

#[test]
fn with_the_toy_at_the_truth_the_field_is_the_toys() {
    let dir = tempfile::tempdir().unwrap();
    let ds = trained(M_TRUE, B_TRUE, dir.path());
    let summary = fit_field(dir.path(), &ds, &quick_field(), false).unwrap();
    println!("{summary}");
    let (learned, toy) = errors(dir.path(), &ds);
    println!("mean relative acceleration error: learned {learned:.3e}, toy {toy:.3e}");
    assert!(toy < 1e-9, "the toy is the truth here, error {toy}");
    assert!(learned < 1e-6, "learned field off the toy's by {learned}");
}

#[test]
fn a_short_field_pass_cuts_the_error_of_an_offset_toy() {
    let (m, b) = offset_toy();
    let dir = tempfile::tempdir().unwrap();
    let ds = trained(m, b, dir.path());
    let summary = fit_field(dir.path(), &ds, &quick_field(), false).unwrap();
    println!("{summary}");
    let (learned, toy) = errors(dir.path(), &ds);
    println!(
        "mean relative acceleration error: learned {learned:.3e}, toy {toy:.3e} ({:.1}x)",
        toy / learned
    );
    assert!(
        learned * 5.0 <= toy,
        "learned {learned} not 5x below the toy's {toy}"
    );
}

/// The potential form's acceleration is minus the gradient of its potential: the Hessian of
/// the network part (nested dual numbers through the same formula, taper included) is
/// symmetric to round-off, and its gradient is the candle acceleration's.
#[test]
fn the_potential_form_is_curl_free() {
    type D = DualSVec<DualSVec64<3>, 3>;
    for axisymmetric in [false, true] {
        let model = actionfinder::model::Model::new(model_config(axisymmetric), &Device::Cpu, 3).unwrap();
        let mut spec = spec_for(&model, FieldForm::Potential, vec![16, 16], Activation::Silu).unwrap();
        spec.outer_radius = Some(6.0);
        let field = FieldModel::new(spec, &Device::Cpu, 5).unwrap();
        randomise_output(&field);
        let native = field.net.weights().unwrap().to_native().unwrap();
        for x in [
            [3.0, -4.0, 2.0],
            [10.0, 1.0, -7.0],
            [-0.5, 0.2, 0.1],
            [40.0, -30.0, 5.0],
        ] {
            let xd: [D; 3] = std::array::from_fn(|k| {
                D::from_re(DualSVec64::<3>::from_re(x[k]).derivative(k)).derivative(k)
            });
            let phi = network_potential(&native, &field.spec, xd);
            let eps = phi.eps.0.unwrap();
            let grad: [f64; 3] = std::array::from_fn(|j| eps[j].re);
            let hess: [[f64; 3]; 3] =
                std::array::from_fn(|j| std::array::from_fn(|i| eps[j].eps.0.unwrap()[i]));
            let scale = hess.iter().flatten().fold(1e-300f64, |m, h| m.max(h.abs()));
            for (i, j) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))) {
                let (hij, hji) = (hess[i][j], hess[j][i]);
                assert!(
                    (hij - hji).abs() <= 1e-12 * scale,
                    "axisymmetric {axisymmetric}: H[{i}][{j}] {hij} vs H[{j}][{i}] {hji}"
                );
            }
            let values = field.evaluate(&x).unwrap();
            let (_, toy) = field
                .spec
                .toy_field(&Tensor::new(&[x], &Device::Cpu).unwrap())
                .unwrap();
            let toy = toy.flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let size = grad.iter().fold(1e-300f64, |m, g| m.max(g.abs()));
            for k in 0..3 {
                let net_part = toy[k] - values.acceleration[k];
                assert!(
                    (net_part - grad[k]).abs() <= 1e-10 * size,
                    "{k}: {net_part} vs {}",
                    grad[k]
                );
            }
        }
    }
}

/// `V^2 t f(u(t x))` with `t = (1 + r^2/r_o^2)^(-1/2)`: the network part of the potential
/// written out independently, for any scalar.
fn network_potential<S: actionfinder::nn::native::Scalar>(
    native: &actionfinder::nn::native::NativeMlp,
    spec: &actionfinder::field::FieldSpec,
    x: [S; 3],
) -> S {
    let (l, v2, ro) = (
        spec.length_scale,
        spec.velocity_scale.powi(2),
        spec.outer_radius.unwrap(),
    );
    let r2 = x[0] * x[0] + x[1] * x[1] + x[2] * x[2];
    let t = (r2 / (ro * ro) + 1.0).sqrt().recip();
    let c = x.map(|xk| xk * t);
    let u: Vec<S> = if spec.axisymmetric {
        vec![(c[0] * c[0] + c[1] * c[1]) / (l * l), c[2] * c[2] / (l * l)]
    } else {
        c.iter().map(|&ck| ck / l).collect()
    };
    native.forward(&u)[0] * t * v2
}

fn randomise_output(field: &FieldModel) {
    let var = field.var("field.output.weight").unwrap();
    let n = var.elem_count();
    let v: Vec<f64> = (0..n)
        .map(|i| 0.3 * ((i * 7919 % 13) as f64 / 6.0 - 1.0))
        .collect();
    var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap())
        .unwrap();
}

/// A model directory with a (random) field, written by hand.
fn model_with_field(dir: &Path) -> FieldModel {
    let model = actionfinder::model::Model::new(model_config(false), &Device::Cpu, 3).unwrap();
    model.save(dir, &serde_json::json!({})).unwrap();
    let spec = spec_for(&model, FieldForm::Potential, vec![16, 16], Activation::Silu).unwrap();
    let field = FieldModel::new(spec, &Device::Cpu, 5).unwrap();
    randomise_output(&field);
    field.save(dir, &serde_json::json!({})).unwrap();
    field
}

#[test]
fn fields_save_and_load_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let field = model_with_field(dir.path());
    let x = [5.0, -2.0, 1.0, 0.5, 8.0, -3.0];
    let before = field.evaluate(&x).unwrap();
    let (loaded, _) = FieldModel::load(dir.path(), &Device::Cpu).unwrap();
    let after = loaded.evaluate(&x).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&before.acceleration), bits(&after.acceleration));
    assert_eq!(bits(&before.potential.unwrap()), bits(&after.potential.unwrap()));
}

#[test]
fn damaged_fields_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let field = model_with_field(dir.path());
    let weights = dir.path().join(FIELD_WEIGHTS);
    let good = std::fs::read(&weights).unwrap();
    let refused = |what: &str| {
        let err = FieldModel::load(dir.path(), &Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        println!("{what}: {err}");
        assert!(err.contains(&dir.path().display().to_string()), "{what}: {err}");
        err
    };
    std::fs::write(&weights, &good[..good.len() / 2]).unwrap();
    assert!(refused("truncated").contains(FIELD_WEIGHTS));
    let var = field.var("field.output.weight").unwrap();
    var.set(&(var.as_tensor() * f64::NAN).unwrap()).unwrap();
    field.varmap.save(&weights).unwrap();
    assert!(refused("NaN weights").contains("non-finite"));
    std::fs::write(&weights, &good).unwrap();
    let json = dir.path().join(FIELD_JSON);
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    value["spec"]["net"]["widths"][0] = 17.into();
    std::fs::write(&json, value.to_string()).unwrap();
    assert!(refused("architecture changed").contains("numbers"));
    std::fs::remove_file(&json).unwrap();
    assert!(refused("no field").contains("fit-field"));
}

#[test]
fn apply_without_a_field_writes_actions_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let model = actionfinder::model::Model::new(model_config(false), &Device::Cpu, 3).unwrap();
    model.save(dir.path(), &serde_json::json!({})).unwrap();
    let input = dir.path().join("input.h5");
    dataset().select(&[0, 1]).write(&input).unwrap();
    let out = dir.path().join("catalog.h5");
    let summary = apply::apply(dir.path(), &input, &out, Subset::All, &Device::Cpu).unwrap();
    assert!(summary.to_string().contains("no learned field"), "{summary}");
    let cat = Catalog::read(&out).unwrap();
    assert!(cat.column("actions").is_some());
    assert!(cat.column("acceleration").is_none());
    model_with_field(dir.path());
    apply::apply(dir.path(), &input, &out, Subset::All, &Device::Cpu).unwrap();
    let cat = Catalog::read(&out).unwrap();
    for name in ["acceleration", "potential", "frequencies"] {
        let column = cat.column(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(column.iter().any(|x| x.is_finite()), "{name} all NaN");
    }
}

/// A field pass stopped after 10 epochs and resumed to 20 ends where a straight run of 20 does.
#[test]
fn resumed_field_pass_equals_a_straight_one() {
    let (m, b) = offset_toy();
    let straight = tempfile::tempdir().unwrap();
    let ds = trained(m, b, straight.path());
    let resumed = tempfile::tempdir().unwrap();
    for f in [actionfinder::model::JSON_FILE, actionfinder::model::WEIGHTS_FILE] {
        std::fs::copy(straight.path().join(f), resumed.path().join(f)).unwrap();
    }
    let cfg = FieldConfig {
        epochs: 20,
        checkpoint_every: 5,
        ..quick_field()
    };
    fit_field(straight.path(), &ds, &cfg, false).unwrap();
    let first = FieldConfig {
        stop_after: 10,
        ..cfg.clone()
    };
    let stopped = fit_field(resumed.path(), &ds, &first, false).unwrap();
    assert_eq!(stopped.epochs_run, 10);
    let summary = fit_field(resumed.path(), &ds, &cfg, true).unwrap();
    assert_eq!(summary.epochs_run, 20);
    let x: Vec<f64> = ds
        .xv
        .chunks_exact(6)
        .take(50)
        .flat_map(|p| p[..3].to_vec())
        .collect();
    let eval = |dir: &Path| {
        let (f, _) = FieldModel::load(dir, &Device::Cpu).unwrap();
        f.evaluate(&x)
            .unwrap()
            .acceleration
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(eval(straight.path()), eval(resumed.path()));
    let other = FieldConfig { width: 16, ..cfg };
    let err = fit_field(resumed.path(), &ds, &other, true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("other options"), "{err}");
}
