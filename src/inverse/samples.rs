//! Training pairs of the inverse map, from the forward map itself (paper §5): at the data
//! points, as `apply` maps them, and on the learned tori between them, where the map runs
//! forward without any fixed point.
//!
//! On a torus: for `J'` and toy angles `theta`, `J_toy = J' + dG/dtheta(theta, J')` (eq. 5),
//! `theta' = theta + dG/dJ'` (eq. 6), then `theta''`, `J''` (eqs. 7-8); the catalog angle is
//! `theta''` less its value at `theta = 0` (the origin `apply` uses). Each star's `J'` is
//! drawn `per_star` times, each component scaled by a factor uniform in
//! `[1 - jitter, 1 + jitter]`, with toy angles uniform in `[0, 2 pi)`; pairs whose toy actions
//! the isochrone cannot invert (`J_r` or `J_z` below zero) or that are not finite are dropped.

use actionfinder_integrators::actions::Flag;
use anyhow::Result;
use candle_core::Tensor;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use super::net::Pairs;
use crate::apply::map_points;
use crate::model::transform::Nets;
use crate::model::Model;

/// Rows per chunk of the torus samples.
const CHUNK: usize = 16384;

/// How many pairs between the data points, and how far from them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TorusSampling {
    /// Torus points per data point.
    pub per_star: usize,
    /// Largest relative change of each `J'` component.
    pub jitter: f64,
    pub seed: u64,
}

/// Pairs at the points `xv` (rows of 6) that the forward map maps, and their `J'` (units of
/// the action scale, rows of 3).
pub fn at_points(model: &Model, xv: &[f64]) -> Result<(Pairs, Vec<f64>)> {
    let scale = model.config.action_scale();
    let mapped = map_points(model, xv)?;
    let toy = model.toy.evaluate(xv)?;
    let ok: Vec<usize> = (0..xv.len() / 6)
        .filter(|&i| mapped.flags[i] == 0 && toy.flags[i] == Flag::Ok)
        .collect();
    let rows = |v: &[f64], stride: usize, offset: usize, factor: f64| -> Vec<f64> {
        (ok.iter())
            .flat_map(|&i| {
                v[stride * i + offset..stride * i + offset + 3]
                    .iter()
                    .map(move |x| x * factor)
            })
            .collect()
    };
    let pairs = Pairs {
        theta: rows(&mapped.angles, 3, 0, 1.0),
        j: rows(&mapped.actions, 3, 0, 1.0 / scale),
        toy_theta: rows(&toy.values, 6, 3, 1.0),
        toy_j: rows(&toy.values, 6, 0, 1.0 / scale),
    };
    Ok((pairs, rows(&mapped.j_prime, 3, 0, 1.0)))
}

/// Pairs on the tori of `j_prime` (rows of 3, units of the action scale), as the module doc
/// says.
pub fn on_tori(model: &Model, j_prime: &[f64], sampling: &TorusSampling) -> Result<Pairs> {
    let mut rng = Pcg64::seed_from_u64(sampling.seed);
    let mut jp = Vec::with_capacity(3 * sampling.per_star * j_prime.len() / 3);
    for star in j_prime.chunks_exact(3) {
        for _ in 0..sampling.per_star {
            jp.extend(
                star.iter()
                    .map(|j| j * (1.0 + sampling.jitter * rng.random_range(-1.0..=1.0))),
            );
        }
    }
    let theta: Vec<f64> = (0..jp.len())
        .map(|_| rng.random_range(0.0..std::f64::consts::TAU))
        .collect();
    let nets = model.nets()?.detach();
    let mut pairs = Pairs::default();
    for (th, j) in theta.chunks(3 * CHUNK).zip(jp.chunks(3 * CHUNK)) {
        pairs.extend(torus_chunk(&nets, th, j, &model.device)?);
    }
    Ok(pairs)
}

/// The pairs of one chunk of toy angles `theta` and `J'` (rows of 3).
fn torus_chunk(nets: &Nets, theta: &[f64], jp: &[f64], dev: &candle_core::Device) -> Result<Pairs> {
    let rows = theta.len() / 3;
    let th = Tensor::from_slice(theta, (rows, 3), dev)?;
    let jp_t = Tensor::from_slice(jp, (rows, 3), dev)?;
    let (dg_dtheta, dg_dj) = nets.g_derivatives::<Pcg64>(&th, &jp_t, None)?;
    let toy_j = (&jp_t + dg_dtheta)?;
    let (theta2, j2, _) = nets.point_transform(&(&th + dg_dj)?, &jp_t)?;
    let (_, origin_dj) = nets.g_derivatives::<Pcg64>(&th.zeros_like()?, &jp_t, None)?;
    let (origin, _, _) = nets.point_transform(&origin_dj, &jp_t)?;
    let all = Pairs {
        theta: (theta2 - origin)?.flatten_all()?.to_vec1()?,
        j: j2.flatten_all()?.to_vec1()?,
        toy_theta: theta.to_vec(),
        toy_j: toy_j.flatten_all()?.to_vec1()?,
    };
    let keep: Vec<usize> = (0..rows).filter(|&i| invertible(&all, i)).collect();
    Ok(all.pick(&keep))
}

/// Whether pair `i` is finite and its toy actions are the isochrone's (`J_r, J_z >= 0`).
fn invertible(p: &Pairs, i: usize) -> bool {
    let r = 3 * i..3 * i + 3;
    let finite = [&p.theta, &p.j, &p.toy_theta, &p.toy_j]
        .iter()
        .all(|v| v[r.clone()].iter().all(|x| x.is_finite()));
    finite && p.toy_j[3 * i] >= 0.0 && p.toy_j[3 * i + 1] >= 0.0
}
