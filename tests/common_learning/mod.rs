//! Helpers of `tests/learning.rs`: the test dataset and its well-covered streams, small
//! training options, model-directory surgery, and independent recomputations of what the
//! library reports (stream spreads, per-star fixed-point residuals, `L_z`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use actionfinder::apply::Mapped;
use actionfinder::dataset::StreamsDataset;
use actionfinder::model::fixed_point::{self, FixedPoint};
use actionfinder::model::{Model, ModelConfig, JSON_FILE, WEIGHTS_FILE};
use actionfinder::nn::{Activation, MlpSpec};
use actionfinder::train::{Axisymmetry, EpochRecord, Schedule, ToyChoice, TrainConfig};
use actionfinder::trust::stream_timing;
use actionfinder_integrators::actions::{Flag, IsochroneFinder};
use candle_core::{Device, Tensor};
use rand_pcg::Pcg64;

/// AGAMA, the paper's §6.1 halo recipe: 1024 streams of 8 points with times and truth.
pub const DATA: &str = "tests/data/agama_isochrone_halo_1024.h5";
/// The isochrone the dataset was made in.
pub const M_TRUE: f64 = 3.334e11;
pub const B_TRUE: f64 = 5.0;

/// The toy of the tests: M and b both 10% high.
pub fn offset_toy() -> (f64, f64) {
    (1.1 * M_TRUE, 1.1 * B_TRUE)
}

/// The dataset, read once.
pub fn dataset() -> &'static StreamsDataset {
    static DS: OnceLock<StreamsDataset> = OnceLock::new();
    DS.get_or_init(|| StreamsDataset::read(DATA).unwrap())
}

/// The first `count` streams whose points span at least 0.3 of a radial period of the toy
/// `(m, b)`: streams the data can constrain (`docs/notes/learning-prototype.md`, "the trap").
pub fn well_covered(m: f64, b: f64, count: usize) -> Vec<usize> {
    let ds = dataset();
    let finder = IsochroneFinder::new(m, b).unwrap();
    let timing = stream_timing(&finder, &ds.xv, ds.t.as_ref().unwrap(), ds.n_stars());
    let picks: Vec<usize> = (0..ds.n_streams())
        .filter(|&s| timing[s].coverage >= 0.3)
        .take(count)
        .collect();
    assert_eq!(picks.len(), count);
    picks
}

/// Small, fast options: G and P 32 wide, 2 blocks; Adam 1e-2 over batches of 8 streams;
/// a quarter of the streams held out; the toy fixed at `(m, b)`; no checkpoints; the cosine
/// schedule over the epochs given; the general (not axisymmetric) map.
pub fn small_config(m: f64, b: f64) -> TrainConfig {
    TrainConfig {
        learning_rate: 1e-2,
        batch_streams: 8,
        width: 32,
        max_width: 32,
        depth_g: 2,
        depth_p: 2,
        toy: ToyChoice::Fixed { m, b },
        val_fraction: 0.25,
        checkpoint_every: 0,
        schedule: Schedule::Cosine,
        axisymmetric: Axisymmetry::Off,
        seed: 1,
        ..TrainConfig::default()
    }
}

/// A model configuration of 16-wide, 2-block nets with the offset toy, built by hand.
pub fn model_config(axisymmetric: bool) -> ModelConfig {
    let a = if axisymmetric { 2 } else { 3 };
    let spec = |inputs, outputs| MlpSpec {
        inputs,
        outputs,
        widths: vec![16, 16],
        activation: Activation::Silu,
    };
    let (toy_m, toy_b) = offset_toy();
    ModelConfig {
        g: spec(2 * a + 3, 1),
        p: spec(2 * a, 3),
        axisymmetric,
        length_scale: 20.0,
        velocity_scale: 150.0,
        toy_m,
        toy_b,
        toy_trained: false,
        component_scales: [1.0; 3],
    }
}

pub fn load(dir: &Path) -> Model {
    Model::load(dir, &Device::Cpu).unwrap().0
}

pub fn read_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(JSON_FILE)).unwrap()).unwrap()
}

/// The training history of a model.json's `training` part, wall times zeroed.
pub fn history(training: &serde_json::Value) -> Vec<EpochRecord> {
    let mut h: Vec<EpochRecord> = serde_json::from_value(training["history"].clone()).unwrap();
    h.iter_mut().for_each(|r| r.wall_s = 0.0);
    h
}

/// Every tensor of a model directory's weights file, by name, as bit patterns.
pub fn weights(dir: &Path) -> Vec<(String, Vec<u64>)> {
    let map = candle_core::safetensors::load(dir.join(WEIGHTS_FILE), &Device::Cpu).unwrap();
    let mut all: Vec<(String, Vec<u64>)> = map
        .into_iter()
        .map(|(k, t)| (k, bits(&t.flatten_all().unwrap().to_vec1::<f64>().unwrap())))
        .collect();
    all.sort();
    all
}

pub fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Mean absolute deviation of the first three values of each row (`width` values a row)
/// about their stream mean, over streams of `stars` rows, stars and components: the J''
/// spread of the training history (kpc km/s).
pub fn stream_spread(values: &[f64], width: usize, stars: usize) -> f64 {
    let (mut total, mut count) = (0.0, 0.0);
    for stream in values.chunks_exact(width * stars) {
        for k in 0..3 {
            let mean = stream.chunks_exact(width).map(|p| p[k]).sum::<f64>() / stars as f64;
            total += stream
                .chunks_exact(width)
                .map(|p| (p[k] - mean).abs())
                .sum::<f64>();
            count += stars as f64;
        }
    }
    total / count
}

/// Mean over `rows` and the three components of `|diff(row, k)|`.
pub fn mean_error(rows: &[usize], diff: impl Fn(usize, usize) -> f64) -> f64 {
    let sum: f64 = rows
        .iter()
        .map(|&i| (0..3).map(|k| diff(i, k).abs()).sum::<f64>())
        .sum();
    sum / (3 * rows.len()) as f64
}

/// Toy actions (normalised) and angles of `xv` under `model`'s toy; every point must map.
fn toy_tensors(model: &Model, xv: &[f64]) -> (Vec<f64>, actionfinder::model::toy::ToyTensors) {
    let pts = model.toy.evaluate(xv).unwrap();
    assert!(pts.flags.iter().all(|f| *f == Flag::Ok));
    let t = model
        .toy
        .tensors(&pts, model.config.action_scale(), &model.device)
        .unwrap();
    (pts.values, t)
}

/// The J'' spread along streams (kpc km/s) of `model` on `xv` (streams of `stars` rows),
/// with J' per stream solved to 1e-13 from the stream mean of the toy actions.
pub fn stream_j2_spread(model: &Model, xv: &[f64], stars: usize) -> f64 {
    let scale = model.config.action_scale();
    let (values, t) = toy_tensors(model, xv);
    let init: Vec<f64> = values
        .chunks_exact(6 * stars)
        .flat_map(|s| {
            (0..3).map(move |k| s.chunks_exact(6).map(|p| p[k]).sum::<f64>() / (stars as f64 * scale))
        })
        .collect();
    let nets = model.nets().unwrap().detach();
    let rule = FixedPoint {
        tol: 1e-13,
        max_iter: 1000,
    };
    let solved = fixed_point::solve(&nets, &t.angles, &t.actions, stars, &init, rule).unwrap();
    assert!(solved.converged.iter().all(|&c| c), "{:?}", solved.residual);
    let groups = init.len() / 3;
    let j1 = Tensor::from_slice(&solved.j_prime, (groups, 3), &model.device).unwrap();
    let j1 = fixed_point::expand(&j1, stars).unwrap();
    let mapped = nets.map::<Pcg64>(&t.angles, &t.actions, &j1, None).unwrap();
    stream_spread(&flat_actions(&mapped.j2, scale), 3, stars)
}

/// The per-star J' that the apply step's rule (tolerance 1e-10, 200 damped iterations)
/// reaches on every row of `xv` (all must map in the toy): its largest residual
/// `max_k |F_k(J') - J'_k| / (1 + max_k |J'_k|)`, with `F(J') = J_toy - dG/dtheta(theta, J')`
/// (normalised actions), and the J'' (kpc km/s, `[n,3]` flat) at that J'.
pub fn star_residual(model: &Model, xv: &[f64]) -> (f64, Vec<f64>) {
    let (_, t) = toy_tensors(model, xv);
    let init = t.actions.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let nets = model.nets().unwrap().detach();
    let rule = FixedPoint {
        tol: 1e-10,
        max_iter: 200,
    };
    let solved = fixed_point::solve(&nets, &t.angles, &t.actions, 1, &init, rule).unwrap();
    let rows = init.len() / 3;
    let j1 = Tensor::from_slice(&solved.j_prime, (rows, 3), &model.device).unwrap();
    let (dg_dtheta, _) = nets.g_derivatives::<Pcg64>(&t.angles, &j1, None).unwrap();
    let f = (&t.actions - dg_dtheta).unwrap().to_vec2::<f64>().unwrap();
    let residual = (0..rows)
        .map(|i| {
            let j = &solved.j_prime[3 * i..3 * i + 3];
            let size = 1.0 + j.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            (0..3).map(|k| (f[i][k] - j[k]).abs()).fold(0.0, f64::max) / size
        })
        .fold(0.0, f64::max);
    let mapped = nets.map::<Pcg64>(&t.angles, &t.actions, &j1, None).unwrap();
    (residual, flat_actions(&mapped.j2, model.config.action_scale()))
}

/// `[n,3]` normalised actions as a flat vector in kpc km/s.
fn flat_actions(j2: &Tensor, scale: f64) -> Vec<f64> {
    let flat = j2.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    flat.iter().map(|x| x * scale).collect()
}

/// Largest `|J''_phi - L_z| / |L_z|` over the mapped points (flag 0), `L_z = x v_y - y v_x`.
pub fn worst_l_z_deviation(xv: &[f64], out: &Mapped) -> f64 {
    let ok: Vec<usize> = (0..out.flags.len()).filter(|&i| out.flags[i] == 0).collect();
    assert!(
        ok.len() * 10 >= out.flags.len() * 9,
        "{} of {} mapped",
        ok.len(),
        out.flags.len()
    );
    ok.iter()
        .map(|&i| {
            let p = &xv[6 * i..6 * i + 6];
            let lz = p[0] * p[4] - p[1] * p[3];
            (out.actions[3 * i + 2] - lz).abs() / lz.abs()
        })
        .fold(0.0, f64::max)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

pub fn rm(dir: &Path, file: &str) {
    std::fs::remove_file(dir.join(file)).unwrap();
}

pub fn write(dir: &Path, file: &str, bytes: &[u8]) {
    std::fs::write(dir.join(file), bytes).unwrap();
}

/// Cut a file to half its length.
pub fn truncate(dir: &Path, file: &str) {
    let bytes = std::fs::read(dir.join(file)).unwrap();
    write(dir, file, &bytes[..bytes.len() / 2]);
}

pub fn edit_json(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut json = read_json(dir);
    edit(&mut json);
    write(dir, JSON_FILE, serde_json::to_string(&json).unwrap().as_bytes());
}

/// Rewrite the weights file after `edit` changed its list of named tensors.
pub fn edit_tensors(dir: &Path, edit: impl FnOnce(&mut Vec<(String, Tensor)>)) {
    let path = dir.join(WEIGHTS_FILE);
    let mut list: Vec<(String, Tensor)> = candle_core::safetensors::load(&path, &Device::Cpu)
        .unwrap()
        .into_iter()
        .collect();
    edit(&mut list);
    let map: HashMap<String, Tensor> = list.into_iter().collect();
    candle_core::safetensors::save(&map, &path).unwrap();
}
