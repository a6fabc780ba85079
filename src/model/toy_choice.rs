//! The toy isochrone chosen from the data (`--toy auto`): the `(M, b)` whose toy actions vary
//! least along the streams, the quantity the learned map then has to correct (paper §3: the
//! closer the toy, the less the networks carry).
//!
//! The score of a toy is the median over streams of `sum_k mean|J_k - <J_k>| / sum_k |<J_k>|`.
//! It has several basins in `(ln M, ln b)`, so a coarse grid (steps of sqrt 2 in both, `b`
//! around the median radius, `M` from the mass that binds every point up) finds the
//! candidates, and a pattern search from the best few refines each down to [`MIN_STEP`]. `M`
//! never goes below [`BOUND_MARGIN`] times the binding mass at that `b`.

use std::f64::consts::LN_2;

use super::toy::{evaluate, min_mass, BOUND_MARGIN};
use crate::dataset::StreamLayout;

/// Grid points that start a refinement.
const CANDIDATES: usize = 3;

/// Smallest step of the refinement in `ln M` and `ln b`.
const MIN_STEP: f64 = 1e-6;

/// Most streams the search scores (evenly spaced through the data): the score is a median,
/// which a thousand streams already fix, and the search evaluates the toy a few hundred times.
const SEARCH_STREAMS: usize = 1024;

/// The toy `(M [Msun], b [kpc])` for streams of `stars` rows of 6 in `xv`.
pub fn auto_toy(xv: &[f64], stars: usize) -> (f64, f64) {
    auto_toy_streams(
        xv,
        &StreamLayout::uniform(xv.len() / (6 * stars.max(1)), stars.max(1)),
    )
}

/// [`auto_toy`] for streams laid out as `layout` says (`xv` `[P, 6]`).
pub fn auto_toy_streams(xv: &[f64], layout: &StreamLayout) -> (f64, f64) {
    let search = Search::new(xv, layout);
    let mut grid = search.grid();
    grid.sort_by(|a, b| a.0.total_cmp(&b.0));
    let best = grid
        .iter()
        .take(CANDIDATES)
        .map(|&start| search.refine(start))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((f64::INFINITY, 0.0, 0.0));
    (best.1.exp(), best.2.exp())
}

/// The streams scored and every point (which the mass floor must keep bound).
struct Search<'a> {
    all: &'a [f64],
    xv: Vec<f64>,
    layout: StreamLayout,
}

/// `(score, ln M, ln b)`.
type Point = (f64, f64, f64);

impl<'a> Search<'a> {
    fn new(all: &'a [f64], layout: &StreamLayout) -> Self {
        let n = layout.n_streams();
        let every = n.div_ceil(SEARCH_STREAMS).max(1);
        let streams: Vec<usize> = (0..n).step_by(every).collect();
        Search {
            all,
            xv: layout.gather(all, 6, &streams),
            layout: layout.select(&streams),
        }
    }

    /// The score at `(ln M, ln b)`, `M` raised to the binding floor; returns the point used.
    fn score(&self, log_m: f64, log_b: f64) -> Point {
        let b = log_b.exp();
        let m = log_m.exp().max(BOUND_MARGIN * min_mass(self.all, b));
        let values = evaluate(m, b, &self.xv, false).values;
        (stream_spread(&values, &self.layout), m.ln(), log_b)
    }

    /// The coarse grid: `b` from 1/8 to 8 times the median radius, `M` from the binding mass
    /// to 45 times it, steps of sqrt 2.
    fn grid(&self) -> Vec<Point> {
        let mut radii: Vec<f64> = self
            .xv
            .chunks_exact(6)
            .map(|p| (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt())
            .collect();
        radii.sort_by(f64::total_cmp);
        let r_med = radii.get(radii.len() / 2).copied().unwrap_or(1.0).max(1e-12);
        let mut points = Vec::new();
        for i in 0..13 {
            let b = r_med * 2f64.powf(-3.0 + 0.5 * i as f64);
            let m0 = BOUND_MARGIN * min_mass(self.all, b);
            for k in 0..12 {
                points.push(self.score(m0.ln() + 0.5 * LN_2 * k as f64, b.ln()));
            }
        }
        points
    }

    /// Pattern search from `start`: move to the best of the eight neighbours at the current
    /// step and double the step while one is better (so the search follows the narrow
    /// valley along which `M` and `b` trade off), else halve it, down to [`MIN_STEP`].
    fn refine(&self, start: Point) -> Point {
        let mut best = start;
        let mut step = 0.5 * LN_2;
        while step >= MIN_STEP && best.0.is_finite() {
            let neighbours = [
                (-1.0, -1.0),
                (-1.0, 0.0),
                (-1.0, 1.0),
                (0.0, -1.0),
                (0.0, 1.0),
                (1.0, -1.0),
                (1.0, 0.0),
                (1.0, 1.0),
            ];
            let next = neighbours
                .iter()
                .map(|(dm, db)| self.score(best.1 + dm * step, best.2 + db * step))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or(best);
            if next.0 < best.0 {
                best = next;
                step = (2.0 * step).min(0.5 * LN_2);
            } else {
                step *= 0.5;
            }
        }
        best
    }
}

/// Median over streams of `sum_k mean|J_k - <J_k>| / sum_k |<J_k>|` (toy actions).
fn stream_spread(values: &[f64], layout: &StreamLayout) -> f64 {
    let mut spreads: Vec<f64> = layout
        .split(values, 6)
        .map(|stream| {
            let stars = stream.len() / 6;
            let mean: [f64; 3] =
                std::array::from_fn(|k| stream.chunks_exact(6).map(|p| p[k]).sum::<f64>() / stars as f64);
            let dev: f64 = stream
                .chunks_exact(6)
                .map(|p| (0..3).map(|k| (p[k] - mean[k]).abs()).sum::<f64>())
                .sum::<f64>()
                / stars as f64;
            dev / mean.iter().map(|m| m.abs()).sum::<f64>().max(1e-300)
        })
        .map(|s| if s.is_finite() { s } else { f64::INFINITY })
        .collect();
    spreads.sort_by(f64::total_cmp);
    spreads.get(spreads.len() / 2).copied().unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::StreamsDataset;

    /// Streams integrated in the isochrone M = 3.334e11 Msun, b = 5 kpc (AGAMA), those the
    /// truth binds with the margin: the toy family holds the potential, whose toy actions
    /// are conserved to the integrator's accuracy, so the search must find it.
    #[test]
    fn the_isochrone_finds_itself() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/agama_isochrone_halo_1024.h5"
        );
        let ds = StreamsDataset::read(path).unwrap();
        let (m_true, b_true) = (3.334e11, 5.0);
        let bound: Vec<usize> = (0..ds.n_streams())
            .filter(|&s| BOUND_MARGIN * min_mass(ds.stream(s), b_true) < 0.99 * m_true)
            .collect();
        assert!(bound.len() > 900, "{} streams", bound.len());
        let ds = ds.select(&bound);
        let (m, b) = auto_toy_streams(&ds.xv, ds.layout());
        assert!((m / m_true - 1.0).abs() < 1e-3, "M = {m:e}");
        assert!((b / b_true - 1.0).abs() < 1e-3, "b = {b}");
    }
}
