//! Which stars the data can constrain (`docs/notes/learning-prototype.md`, "the trap").
//!
//! A stream whose points span a small fraction of a radial period has nearly collinear
//! points: any smooth correction makes their actions agree, so nothing fixes their level and
//! the learned map leaves them near the toy's error. The fraction spanned is estimated from
//! the toy's radial frequency: `coverage = Omega_r (t_max - t_min) / 2 pi` (mean Omega_r
//! over the stream's points). Streams below [`MIN_COVERAGE`] are flagged, not trusted.

use actionfinder_integrators::actions::{ActionFinder, IsochroneFinder};
use actionfinder_integrators::units::gyr_to_internal;
use actionfinder_integrators::PhaseSpace;
use rayon::prelude::*;

use crate::dataset::StreamLayout;

/// Default smallest fraction of a radial period a trusted stream spans.
pub const MIN_COVERAGE: f64 = 0.1;

/// Per-stream time facts from the toy: radial coverage, and whether consecutive points (in
/// time order) are close enough in radial phase (under a quarter period apart) for angles
/// to be unwrapped along the stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamTiming {
    /// `Omega_r (t_max - t_min) / 2 pi`; NaN when the toy fails on the stream.
    pub coverage: f64,
    /// Largest gap between consecutive times, as a fraction of the radial period.
    pub max_gap: f64,
}

impl StreamTiming {
    /// Angles can be unwrapped in time order along the stream.
    pub fn unwrappable(&self) -> bool {
        self.max_gap < 0.25
    }
}

/// Timing of each of the streams (`stars` rows of 6 in `xv`, times in Gyr in `t`).
pub fn stream_timing(toy: &IsochroneFinder, xv: &[f64], t: &[f64], stars: usize) -> Vec<StreamTiming> {
    xv.par_chunks_exact(6 * stars)
        .zip(t.par_chunks_exact(stars))
        .map(|(stream, times)| timing(toy, stream, times))
        .collect()
}

/// [`stream_timing`] for streams laid out as `layout` says.
pub fn stream_timing_streams(
    toy: &IsochroneFinder,
    xv: &[f64],
    t: &[f64],
    layout: &StreamLayout,
) -> Vec<StreamTiming> {
    (0..layout.n_streams())
        .into_par_iter()
        .map(|s| {
            let rows = layout.rows(s);
            timing(toy, &xv[6 * rows.start..6 * rows.end], &t[rows])
        })
        .collect()
}

fn timing(toy: &IsochroneFinder, stream: &[f64], times: &[f64]) -> StreamTiming {
    let omegas: Vec<f64> = stream
        .chunks_exact(6)
        .filter_map(|p| {
            let w = PhaseSpace::new([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
            toy.action_angle(&w).ok().map(|aa| aa.frequencies[0])
        })
        .collect();
    if omegas.len() != times.len() || omegas.is_empty() {
        return StreamTiming {
            coverage: f64::NAN,
            max_gap: f64::NAN,
        };
    }
    let omega = omegas.iter().sum::<f64>() / omegas.len() as f64;
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let span = sorted[sorted.len() - 1] - sorted[0];
    let gap = sorted.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    let fraction = |dt: f64| omega * gyr_to_internal(dt) / std::f64::consts::TAU;
    StreamTiming {
        coverage: fraction(span),
        max_gap: fraction(gap),
    }
}

/// Whether a stream of this coverage is trusted (`None`: no times, so nothing says it
/// is poorly covered — e.g. torus samples at random angles).
pub fn trusted(coverage: Option<f64>, min_coverage: f64) -> bool {
    coverage.is_none_or(|c| c >= min_coverage)
}
