//! One training step on synthetic inputs, timed: the unit `bench/train.sh` puts side by side
//! with the same network and loss in PyTorch (`bench/train_step_torch.py`).
//!
//! A step on S streams x N points: `FIXED_POINT_ITERATIONS` iterations of the per-stream
//! fixed point for `J'` without a graph, the map with the graph (G's reverse pass, P's forward
//! tangents, the 3x3 solve), the loss `spread + negative actions`, one backward, one Adam update.

use std::time::Instant;

use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use super::adam::Adam;
use super::loss;
use crate::model::fixed_point::{self, FixedPoint};
use crate::model::{Model, ModelConfig};
use crate::nn::{widths, Activation, MlpSpec};

/// Fixed-point iterations per step (the peer script uses the same number).
pub const FIXED_POINT_ITERATIONS: usize = 5;

/// Sizes of the timed step.
#[derive(Clone, Copy, Debug)]
pub struct StepShape {
    pub width: usize,
    pub max_width: usize,
    pub depth_g: usize,
    pub depth_p: usize,
    pub streams: usize,
    pub points: usize,
}

/// Timing of [`time_steps`].
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct StepTiming {
    /// Median seconds per step after three warm-up steps.
    pub seconds_per_step: f64,
    /// Trainable parameters of G and P.
    pub params: usize,
    pub steps: usize,
}

fn config(shape: &StepShape) -> ModelConfig {
    let spec = |inputs, outputs, depth| MlpSpec {
        inputs,
        outputs,
        widths: widths(shape.width, shape.max_width, depth),
        activation: Activation::Silu,
    };
    ModelConfig {
        g: spec(9, 1, shape.depth_g),
        p: spec(6, 3, shape.depth_p),
        axisymmetric: false,
        length_scale: 1.0,
        velocity_scale: 1.0,
        toy_m: 1.0,
        toy_b: 1.0,
        toy_trained: false,
        component_scales: [1.0; 3],
    }
}

/// Time `steps` training steps of the shape on `device`.
pub fn time_steps(shape: &StepShape, steps: usize, device: &Device) -> Result<StepTiming> {
    let model = Model::new(config(shape), device, 1)?;
    let rows = shape.streams * shape.points;
    let mut rng = Pcg64::seed_from_u64(5);
    let theta: Vec<f64> = (0..3 * rows)
        .map(|_| rng.random_range(0.0..std::f64::consts::TAU))
        .collect();
    let j_toy: Vec<f64> = (0..3 * rows).map(|_| rng.random_range(0.1..2.0)).collect();
    let theta = Tensor::from_vec(theta, (rows, 3), device)?;
    let j_toy_t = Tensor::from_slice(&j_toy, (rows, 3), device)?;
    let init = j_toy_t
        .reshape((shape.streams, shape.points, 3))?
        .mean(1)?
        .flatten_all()?
        .to_vec1::<f64>()?;
    let trainable = model.trainable();
    let params = trainable.iter().map(|(_, v)| v.elem_count()).sum();
    let mut adam = Adam::new(trainable)?;
    let rule = FixedPoint {
        tol: 0.0,
        max_iter: FIXED_POINT_ITERATIONS,
    };
    let mut times = Vec::with_capacity(steps);
    for step in 0..steps + 3 {
        let clock = Instant::now();
        let nets = model.nets()?;
        let solved = fixed_point::solve(&nets.detach(), &theta, &j_toy_t, shape.points, &init, rule)?;
        let per_stream = Tensor::from_slice(&solved.j_prime, (shape.streams, 3), device)?;
        let j_prime = fixed_point::expand(&per_stream, shape.points)?;
        let mapped = nets.map::<Pcg64>(&theta, &j_toy_t, &j_prime, None)?;
        let w = &nets.component_scales;
        let total = (loss::spread(&mapped.j2, shape.points, w)? + loss::negative_actions(&mapped.j2, w)?)?;
        adam.step(&total.backward()?, 1e-3)?;
        if step >= 3 {
            times.push(clock.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(StepTiming {
        seconds_per_step: times.get(times.len() / 2).copied().unwrap_or(f64::NAN),
        params,
        steps,
    })
}
