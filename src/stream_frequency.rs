//! Per-stream frequencies from the time slope of the learned angles: along one orbit
//! `theta''(t) = theta''_0 + Omega t` (paper eq. 16), so the least-squares slope of the
//! unwrapped angles of a stream's points against their times is its frequency vector. An
//! independent check of the per-point `Omega = dtheta''/dx . v + dtheta''/dv . a`.

use std::f64::consts::TAU;

use actionfinder_integrators::units::gyr_to_internal;

use crate::dataset::StreamLayout;

/// `[S*N,3]` frequencies (km/s/kpc), each stream's slope repeated on its points; NaN for a
/// stream that `usable` rejects (points too far apart in phase to unwrap) or with a NaN angle.
pub fn stream_frequencies(angles: &[f64], t_gyr: &[f64], stars: usize, usable: &[bool]) -> Vec<f64> {
    let layout = StreamLayout::uniform(usable.len(), stars);
    stream_frequencies_streams(angles, t_gyr, &layout, usable)
}

/// [`stream_frequencies`] for streams laid out as `layout` says (`[P,3]` angles, `[P]`
/// times); NaN also for streams of fewer than two points.
pub fn stream_frequencies_streams(
    angles: &[f64],
    t_gyr: &[f64],
    layout: &StreamLayout,
    usable: &[bool],
) -> Vec<f64> {
    let mut out = vec![f64::NAN; angles.len()];
    for (s, ok) in usable.iter().enumerate() {
        let rows = layout.rows(s);
        let stars = rows.len();
        if !ok || stars < 2 {
            continue;
        }
        let t: Vec<f64> = t_gyr[rows.clone()].iter().map(|&x| gyr_to_internal(x)).collect();
        let mut order: Vec<usize> = (0..stars).collect();
        order.sort_by(|&a, &b| t[a].total_cmp(&t[b]));
        for k in 0..3 {
            let theta: Vec<f64> = order.iter().map(|&i| angles[3 * (rows.start + i) + k]).collect();
            let times: Vec<f64> = order.iter().map(|&i| t[i]).collect();
            let slope = slope(&times, &unwrap(&theta));
            for r in rows.clone() {
                out[3 * r + k] = slope;
            }
        }
    }
    out
}

/// Angles in time order, shifted by turns so that consecutive ones differ by at most pi.
fn unwrap(theta: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(theta.len());
    let mut turns = 0.0;
    for (i, &x) in theta.iter().enumerate() {
        if i > 0 {
            let prev: f64 = out[i - 1];
            turns -= TAU * ((x + turns - prev) / TAU).round();
        }
        out.push(x + turns);
    }
    out
}

/// Least-squares slope of `y` against `x`.
fn slope(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    sxy / sxx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_linear_angles_give_their_frequencies() {
        let stars = 8;
        let omega = [30.0, -12.0, 55.0];
        let t: Vec<f64> = (0..stars).map(|i| 0.002 * ((i * 3) % stars) as f64).collect();
        let angles: Vec<f64> = t
            .iter()
            .flat_map(|&ti| omega.map(|w| (1.0 + w * gyr_to_internal(ti)).rem_euclid(TAU)))
            .collect();
        let f = stream_frequencies(&angles, &t, stars, &[true]);
        for k in 0..3 {
            assert!((f[k] - omega[k]).abs() < 1e-9 * omega[k].abs(), "{k}: {}", f[k]);
        }
        assert!(stream_frequencies(&angles, &t, stars, &[false])[0].is_nan());
    }
}
