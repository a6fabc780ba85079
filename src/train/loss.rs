//! The training loss (paper eqs. 12–13 and 19, plus the time-linearity term of docs/design.md
//! step 6), built on a batch of whole streams laid out as a [`StreamLayout`] says.
//!
//! Streams may differ in length within a batch. Each per-stream term is a mean over that
//! stream's own points, and the batch's value the mean over its streams (for streams of one
//! length this is the plain mean over all points, computed as such). Mixed lengths are
//! handled by per-stream sums over each row's stream index ([`groups`]) rather than by
//! padding with masks or by batching streams of one length together: padding wastes work
//! on rows that are thrown away, and grouping by length would make every batch hold one
//! length only (batches of a few streams where lengths are many), which changes the
//! gradient noise; with per-stream sums a batch is any set of whole streams.

use std::f64::consts::{PI, TAU};

use candle_core::{DType, Result, Tensor};

use crate::dataset::StreamLayout;
use crate::model::groups;

/// `<|J'' - <J''>_stream| / s>`: mean absolute deviation of J'' about its stream mean (eq. 12),
/// component k divided by `scales[k]` (`[1,3]`), for streams of `stars` points.
pub fn spread(j2: &Tensor, stars: usize, scales: &Tensor) -> Result<Tensor> {
    let (rows, _) = j2.dims2()?;
    spread_streams(j2, &StreamLayout::uniform(rows / stars.max(1), stars), scales)
}

/// [`spread`] for streams laid out as `layout` says: averaged over each stream's points,
/// then over the streams.
pub fn spread_streams(j2: &Tensor, layout: &StreamLayout, scales: &Tensor) -> Result<Tensor> {
    let Some(stars) = layout.uniform_stars() else {
        let scaled = j2.broadcast_div(scales)?;
        let mean = groups::expand(&groups::mean(&scaled, layout)?, layout)?;
        let deviation = (scaled - mean)?.abs()?;
        return groups::mean(&deviation, layout)?.mean_all();
    };
    let (rows, width) = j2.dims2()?;
    let per_stream = j2.broadcast_div(scales)?.reshape((rows / stars, stars, width))?;
    let mean = per_stream.mean_keepdim(1)?;
    per_stream.broadcast_sub(&mean)?.abs()?.mean_all()
}

/// `<|J_r - |J_r||> / s_r + <|J_z - |J_z||> / s_z` (eq. 13): zero unless J''_r or J''_z is
/// negative.
pub fn negative_actions(j2: &Tensor, scales: &Tensor) -> Result<Tensor> {
    let rz = j2.narrow(1, 0, 2)?.broadcast_div(&scales.narrow(1, 0, 2)?)?;
    (rz.abs()? - &rz)?.abs()?.mean(0)?.sum_all()
}

/// The paper's angle zero-point term: `<|theta''|>` (wrapped into `(-pi, pi]`) where
/// `theta = 0` is fed into the map.
pub fn zero_point(theta2_at_zero: &Tensor) -> Result<Tensor> {
    let turns: Vec<f64> = theta2_at_zero
        .flatten_all()?
        .to_vec1::<f64>()?
        .iter()
        .map(|x| -TAU * (x / TAU).round())
        .collect();
    let shift = Tensor::from_vec(turns, theta2_at_zero.shape(), theta2_at_zero.device())?;
    (theta2_at_zero + shift)?.abs()?.mean_all()
}

/// Angles must advance linearly in time along an orbit (eq. 16, one frequency per stream):
/// with theta'' unwrapped in time order, the least-squares line `theta0 + Omega t` is fitted
/// per stream and component and the mean absolute residual returned. `t` (`[B]`, any time
/// unit) and `use_stream` (one per stream: false for streams whose points are too far apart
/// in phase to unwrap) come from the data; streams of `stars` points.
pub fn time_linearity(theta2: &Tensor, t: &[f64], use_stream: &[bool], stars: usize) -> Result<Tensor> {
    let layout = StreamLayout::uniform(t.len() / stars.max(1), stars);
    time_linearity_streams(theta2, t, use_stream, &layout)
}

/// [`time_linearity`] for streams laid out as `layout` says: the residual averaged over each
/// stream's points, then over the streams used.
pub fn time_linearity_streams(
    theta2: &Tensor,
    t: &[f64],
    use_stream: &[bool],
    layout: &StreamLayout,
) -> Result<Tensor> {
    let Some(stars) = layout.uniform_stars() else {
        return ragged_time_linearity(theta2, t, use_stream, layout);
    };
    let dev = theta2.device();
    let rows = t.len();
    let streams = rows / stars;
    let values = theta2.to_vec2::<f64>()?;
    let shift = unwrap_shifts(&values, t, layout);
    let shift = Tensor::from_vec(shift, (rows, 3), dev)?;
    let unwrapped = (theta2 + shift)?.reshape((streams, stars, 3))?;
    let tc: Vec<f64> = t
        .chunks_exact(stars)
        .flat_map(|ts| {
            let mean = ts.iter().sum::<f64>() / stars as f64;
            ts.iter().map(move |x| x - mean)
        })
        .collect();
    let tc = Tensor::from_vec(tc, (streams, stars, 1), dev)?;
    let centred = unwrapped.broadcast_sub(&unwrapped.mean_keepdim(1)?)?;
    let slope = centred
        .broadcast_mul(&tc)?
        .sum_keepdim(1)?
        .broadcast_div(&(tc.sqr()?.sum_keepdim(1)? + 1e-300)?)?;
    let residual = (centred - slope.broadcast_mul(&tc)?)?.abs()?;
    let mask: Vec<f64> = use_stream.iter().map(|&u| f64::from(u8::from(u))).collect();
    let used = mask.iter().sum::<f64>();
    if used == 0.0 {
        return Tensor::zeros((), DType::F64, dev);
    }
    let mask = Tensor::from_vec(mask, (streams, 1, 1), dev)?;
    residual.broadcast_mul(&mask)?.sum_all()? / (used * stars as f64 * 3.0)
}

/// [`time_linearity`] for streams of different lengths.
fn ragged_time_linearity(
    theta2: &Tensor,
    t: &[f64],
    use_stream: &[bool],
    layout: &StreamLayout,
) -> Result<Tensor> {
    let dev = theta2.device();
    let values = theta2.to_vec2::<f64>()?;
    let shift = Tensor::from_vec(unwrap_shifts(&values, t, layout), (t.len(), 3), dev)?;
    let unwrapped = (theta2 + shift)?;
    let tc: Vec<f64> = layout
        .split(t, 1)
        .flat_map(|ts| {
            let mean = ts.iter().sum::<f64>() / ts.len() as f64;
            ts.iter().map(move |x| x - mean)
        })
        .collect();
    let tc = Tensor::from_vec(tc, (t.len(), 1), dev)?;
    let centred = (&unwrapped - groups::expand(&groups::mean(&unwrapped, layout)?, layout)?)?;
    let slope = groups::sum(&centred.broadcast_mul(&tc)?, layout)?
        .broadcast_div(&(groups::sum(&tc.sqr()?, layout)? + 1e-300)?)?;
    let fitted = groups::expand(&slope, layout)?.broadcast_mul(&tc)?;
    let residual = groups::mean(&(centred - fitted)?.abs()?, layout)?;
    let mask: Vec<f64> = use_stream.iter().map(|&u| f64::from(u8::from(u))).collect();
    let used = mask.iter().sum::<f64>();
    if used == 0.0 {
        return Tensor::zeros((), DType::F64, dev);
    }
    let mask = Tensor::from_vec(mask, (use_stream.len(), 1), dev)?;
    residual.broadcast_mul(&mask)?.sum_all()? / (used * 3.0)
}

/// Per row and component, the multiple of 2 pi to add so that consecutive points of each
/// stream (in time order) differ by at most pi.
fn unwrap_shifts(values: &[Vec<f64>], t: &[f64], layout: &StreamLayout) -> Vec<f64> {
    let mut shift = vec![0.0; values.len() * 3];
    for s in 0..layout.n_streams() {
        let first = layout.rows(s).start;
        let ts = &t[layout.rows(s)];
        let mut order: Vec<usize> = (0..ts.len()).collect();
        order.sort_by(|&a, &b| ts[a].total_cmp(&ts[b]));
        for k in 0..3 {
            let Some(&start) = order.first() else {
                continue;
            };
            let mut prev = values[first + start][k];
            let mut turns = 0.0;
            for &i in &order[1..] {
                let row = first + i;
                let cur = values[row][k] + turns;
                let jump = ((cur - prev) / TAU).round();
                turns -= TAU * jump;
                let cur = cur - TAU * jump;
                debug_assert!((cur - prev).abs() <= PI + 1e-9);
                shift[row * 3 + k] = turns;
                prev = cur;
            }
        }
    }
    shift
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn linear_angles_wrapped_into_two_pi_have_no_residual() {
        let stars = 8;
        let t: Vec<f64> = (0..stars).map(|i| 0.1 * ((i * 5) % stars) as f64).collect();
        let omega = [3.0, -7.0, 11.0];
        let values: Vec<f64> = t
            .iter()
            .flat_map(|&ti| omega.map(|w| (0.5 + w * ti).rem_euclid(TAU)))
            .collect();
        let theta = Tensor::from_vec(values, (stars, 3), &Device::Cpu).unwrap();
        let r = time_linearity(&theta, &t, &[true], stars)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!(r < 1e-12, "residual {r}");
        let bent = (theta + 0.3).unwrap().sin().unwrap();
        let r = time_linearity(&bent, &t, &[true], stars)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!(r > 1e-3, "a curved track must leave a residual, got {r}");
    }

    /// The value of a per-stream term for `values` (`[B,3]`) of streams of `lengths`, and
    /// the mean of its values on each stream alone.
    fn ragged_and_alone(
        values: &[f64],
        lengths: &[usize],
        term: impl Fn(&Tensor, &StreamLayout) -> Result<Tensor>,
    ) -> (f64, f64) {
        let layout = StreamLayout::from_lengths(lengths);
        assert!(layout.is_ragged());
        let all = Tensor::from_slice(values, (values.len() / 3, 3), &Device::Cpu).unwrap();
        let ragged = term(&all, &layout).unwrap().to_scalar::<f64>().unwrap();
        let alone: f64 = (0..lengths.len())
            .map(|s| {
                let rows = layout.rows(s);
                let part = Tensor::from_slice(
                    &values[3 * rows.start..3 * rows.end],
                    (rows.len(), 3),
                    &Device::Cpu,
                )
                .unwrap();
                let one = StreamLayout::uniform(1, rows.len());
                term(&part, &one).unwrap().to_scalar::<f64>().unwrap()
            })
            .sum();
        (ragged, alone / lengths.len() as f64)
    }

    #[test]
    fn ragged_spread_is_the_mean_over_streams_of_their_own_spread() {
        let values: Vec<f64> = (0..3 * 9).map(|k| ((k * 7) % 11) as f64 - 3.0).collect();
        let scales = Tensor::new(&[[1.0, 2.0, 0.5]], &Device::Cpu).unwrap();
        let (ragged, alone) = ragged_and_alone(&values, &[2, 4, 3], |j, l| spread_streams(j, l, &scales));
        assert!(
            (ragged - alone).abs() < 1e-14 && ragged > 0.1,
            "{ragged} vs {alone}"
        );
    }

    #[test]
    fn ragged_time_linearity_is_the_mean_over_streams_of_their_own_residual() {
        let lengths = [3, 6, 4];
        let t: Vec<f64> = (0..13).map(|i| 0.1 * ((i * 5) % 13) as f64).collect();
        let bent: Vec<f64> = t
            .iter()
            .flat_map(|&x| [(3.0 * x).sin(), x * x, 2.0 * x])
            .collect();
        let layout = StreamLayout::from_lengths(&lengths);
        let theta = Tensor::from_slice(&bent, (13, 3), &Device::Cpu).unwrap();
        let used = [true, false, true];
        let r = time_linearity_streams(&theta, &t, &used, &layout)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        let alone = [0, 2]
            .iter()
            .map(|&s| {
                let rows = layout.rows(s);
                let part = theta.narrow(0, rows.start, rows.len()).unwrap();
                time_linearity(&part, &t[rows.clone()], &[true], rows.len())
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap()
            })
            .sum::<f64>()
            / 2.0;
        assert!((r - alone).abs() < 1e-14 && r > 1e-3, "{r} vs {alone}");
        let linear: Vec<f64> = t
            .iter()
            .flat_map(|&x| [(0.5 + 3.0 * x).rem_euclid(TAU), -x, 0.2])
            .collect();
        let theta = Tensor::from_slice(&linear, (13, 3), &Device::Cpu).unwrap();
        let r = time_linearity_streams(&theta, &t, &[true; 3], &layout)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!(r < 1e-12, "linear angles leave no residual: {r}");
    }

    #[test]
    fn spread_and_penalty() {
        let j = Tensor::from_vec(vec![1.0, -2.0, 3.0, 3.0, 2.0, 3.0], (2, 3), &Device::Cpu).unwrap();
        let ones = Tensor::ones((1, 3), DType::F64, &Device::Cpu).unwrap();
        let s = spread(&j, 2, &ones).unwrap().to_scalar::<f64>().unwrap();
        assert!((s - (1.0 + 2.0 + 0.0) / 3.0).abs() < 1e-15);
        let halves = Tensor::new(&[[1.0, 2.0, 1.0]], &Device::Cpu).unwrap();
        let h = spread(&j, 2, &halves).unwrap().to_scalar::<f64>().unwrap();
        assert!(
            (h - (1.0 + 1.0 + 0.0) / 3.0).abs() < 1e-15,
            "J_z deviations halved: {h}"
        );
        let p = negative_actions(&j, &ones).unwrap().to_scalar::<f64>().unwrap();
        assert!(
            (p - 2.0).abs() < 1e-15,
            "one J_z of -2 in two rows: mean |J - |J|| = 2, got {p}"
        );
    }
}
