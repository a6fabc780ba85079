//! The numbers of `validate`: errors of actions, angles and the field (acceleration,
//! potential, frequencies) against truth, and the conservation of actions along streams.
//! Pure functions of flat arrays; no I/O, no plots.
//!
//! Every per-point array is row-major \[n,3\] in (r, z, phi) order (the acceleration in
//! Cartesian (x, y, z)), the potential \[n\]; a selection is one `bool` per point (or per
//! stream for the conservation).

use std::f64::consts::PI;

use serde::Serialize;

use crate::dataset::StreamLayout;

/// Errors of recovered actions against the true ones over a set of points.
///
/// With dJ_k = J_k - J_k,true over the points compared:
/// `mean_abs[k]` = mean |dJ_k| (kpc km/s), `relative[k]` = mean |dJ_k| / mean |J_k,true|,
/// `median_abs[k]` = median |dJ_k|. The `_overall` values are the mean of the three
/// components; `relative_overall` is the mean over components of mean |dJ| divided by the
/// mean over components of mean |J_true| (the same ratio taken over all 3n values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ActionErrors {
    /// Points compared: selected, and all three components finite in both arrays.
    pub n: usize,
    /// mean |dJ_k| per component (kpc km/s).
    pub mean_abs: [f64; 3],
    /// Mean of `mean_abs` over the three components (kpc km/s).
    pub mean_abs_overall: f64,
    /// mean |dJ_k| / mean |J_k,true| per component.
    pub relative: [f64; 3],
    /// sum_k mean |dJ_k| / sum_k mean |J_k,true|.
    pub relative_overall: f64,
    /// median |dJ_k| per component (kpc km/s).
    pub median_abs: [f64; 3],
    /// Mean of `median_abs` over the three components (kpc km/s).
    pub median_abs_overall: f64,
}

/// How well a catalog's `action_error` (sigma_k per point) describes its errors: the shares
/// of points with |J_k - J_k,true| <= sigma_k and <= 2 sigma_k (0.683 and 0.954 for a
/// calibrated Gaussian error). The `_overall` values pool the three components.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coverage {
    /// Points compared: selected, and actions, errors and truth all finite.
    pub n: usize,
    pub within_one: [f64; 3],
    pub within_one_overall: f64,
    pub within_two: [f64; 3],
    pub within_two_overall: f64,
    /// Per component, the factor sigma would need to put 68.3% of the true actions within one
    /// sigma: the 68.3rd percentile of |dJ_k| / sigma_k (`apply --error-scale` on other data).
    pub scale_68: [f64; 3],
}

/// The share of a Gaussian within one standard deviation of its mean.
const ONE_SIGMA: f64 = 0.682_689_492;

/// [`Coverage`] of `errors` (\[n,3\]) for `actions` against `truth` over `select`.
pub fn coverage(actions: &[f64], errors: &[f64], truth: &[f64], select: &[bool]) -> Coverage {
    let finite = |i: usize| errors[3 * i..3 * i + 3].iter().all(|v| v.is_finite());
    let rows: Vec<usize> = compared_rows(actions, truth, select)
        .into_iter()
        .filter(|&i| finite(i))
        .collect();
    let share = |m: f64| -> [f64; 3] {
        std::array::from_fn(|k| {
            let inside = rows
                .iter()
                .filter(|&&i| (actions[3 * i + k] - truth[3 * i + k]).abs() <= m * errors[3 * i + k])
                .count();
            inside as f64 / rows.len() as f64
        })
    };
    let (one, two) = (share(1.0), share(2.0));
    let scale_68 = std::array::from_fn(|k| {
        let mut z: Vec<f64> = rows
            .iter()
            .map(|&i| (actions[3 * i + k] - truth[3 * i + k]).abs() / errors[3 * i + k])
            .collect();
        z.sort_by(f64::total_cmp);
        z.get(((ONE_SIGMA * z.len() as f64).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    });
    Coverage {
        n: rows.len(),
        within_one: one,
        within_one_overall: mean3(one),
        within_two: two,
        within_two_overall: mean3(two),
        scale_68,
    }
}

/// Errors of recovered angles against the true ones over a set of points, in degrees:
/// |wrap(theta_k - theta_k,true)| with wrap into (-pi, pi], so that 359 deg against 1 deg is
/// an error of 2 deg.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AngleErrors {
    /// Points compared: selected, and all three components finite in both arrays.
    pub n: usize,
    /// mean |wrap(d theta_k)| per component (degrees).
    pub mean_deg: [f64; 3],
    /// Mean of `mean_deg` over the three components.
    pub mean_deg_overall: f64,
    /// median |wrap(d theta_k)| per component (degrees).
    pub median_deg: [f64; 3],
    /// Mean of `median_deg` over the three components.
    pub median_deg_overall: f64,
}

/// Spread of actions along streams: for each stream s of N points,
/// D_s,k = mean_i |J_k,s,i - mean_i J_k,s,i|, then `per_component[k]` = mean_s D_s,k over
/// the streams used (kpc km/s). Zero for actions that are exactly conserved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Streams used: selected, with all 3N values finite.
    pub n_streams: usize,
    /// mean_s D_s,k per component (kpc km/s).
    pub per_component: [f64; 3],
    /// Mean of `per_component` over the three components.
    pub overall: f64,
}

/// Errors of a recovered acceleration field against the true one over a set of points.
///
/// Per point, with da = a - a_true: the relative error |da| / |a_true|, the direction error
/// angle(a, a_true) = atan2(|a x a_true|, a . a_true) in degrees, and per Cartesian
/// component |da_k| / |a_true|.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AccelerationErrors {
    /// Points compared: selected, all six values finite, and a_true != 0.
    pub n: usize,
    /// mean |da| / |a_true|.
    pub relative_mean: f64,
    /// median |da| / |a_true|.
    pub relative_median: f64,
    /// mean angle between a and a_true (degrees).
    pub direction_mean_deg: f64,
    /// median angle between a and a_true (degrees).
    pub direction_median_deg: f64,
    /// mean |da_k| / |a_true| per component (x, y, z).
    pub component_relative_mean: [f64; 3],
}

/// Errors of a recovered potential against the true one over a set of points, after
/// removing the constant the zero point of a potential leaves free:
/// offset = median (Phi - Phi_true), then the relative error |Phi - offset - Phi_true| /
/// |Phi_true| per point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PotentialErrors {
    /// Points compared: selected, both values finite, and Phi_true != 0.
    pub n: usize,
    /// median (Phi - Phi_true) ((km/s)^2), removed before the errors.
    pub offset: f64,
    /// mean |Phi - offset - Phi_true| / |Phi_true|.
    pub relative_mean: f64,
    /// median |Phi - offset - Phi_true| / |Phi_true|.
    pub relative_median: f64,
}

/// Relative errors of recovered frequencies against the true ones over a set of points:
/// |Omega_k - Omega_k,true| / |Omega_k,true| per point and component (r, z, phi). Omega_phi
/// is compared with its sign, so the catalog must follow the truth's sign convention (the
/// sense of rotation); a flipped sign reads as an error of 2.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrequencyErrors {
    /// Points compared: selected, all six values finite, and no true component 0.
    pub n: usize,
    /// mean relative error per component.
    pub relative_mean: [f64; 3],
    /// Mean of `relative_mean` over the three components.
    pub relative_mean_overall: f64,
    /// median relative error per component.
    pub relative_median: [f64; 3],
    /// Mean of `relative_median` over the three components.
    pub relative_median_overall: f64,
}

/// `x` wrapped into (-pi, pi].
pub fn wrap_angle(x: f64) -> f64 {
    let r = x.rem_euclid(2.0 * PI);
    if r > PI {
        r - 2.0 * PI
    } else {
        r
    }
}

/// Mean of `v`; NaN when empty.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Median of `v` (mean of the two middle values for an even count); NaN when empty.
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        0.5 * (s[m - 1] + s[m])
    }
}

/// Mean of three values.
fn mean3(v: [f64; 3]) -> f64 {
    (v[0] + v[1] + v[2]) / 3.0
}

/// Rows `i` with `select[i]` and the three components of row i finite in `a` and `b`.
fn compared_rows(a: &[f64], b: &[f64], select: &[bool]) -> Vec<usize> {
    let finite = |x: &[f64], i: usize| x[3 * i..3 * i + 3].iter().all(|v| v.is_finite());
    (0..select.len())
        .filter(|&i| select[i] && finite(a, i) && finite(b, i))
        .collect()
}

/// Per component k, `f(a[i,k], b[i,k])` over `rows`.
fn columns(a: &[f64], b: &[f64], rows: &[usize], f: impl Fn(f64, f64) -> f64) -> [Vec<f64>; 3] {
    std::array::from_fn(|k| rows.iter().map(|&i| f(a[3 * i + k], b[3 * i + k])).collect())
}

/// [`ActionErrors`] of `actions` against `truth` (both \[n,3\]) over the points in `select`.
pub fn action_errors(actions: &[f64], truth: &[f64], select: &[bool]) -> ActionErrors {
    let rows = compared_rows(actions, truth, select);
    let dev = columns(actions, truth, &rows, |a, t| (a - t).abs());
    let scale = columns(actions, truth, &rows, |_, t| t.abs());
    let mean_abs = dev.each_ref().map(|d| mean(d));
    let mean_true = scale.each_ref().map(|s| mean(s));
    let median_abs = dev.each_ref().map(|d| median(d));
    ActionErrors {
        n: rows.len(),
        mean_abs,
        mean_abs_overall: mean3(mean_abs),
        relative: std::array::from_fn(|k| mean_abs[k] / mean_true[k]),
        relative_overall: mean3(mean_abs) / mean3(mean_true),
        median_abs,
        median_abs_overall: mean3(median_abs),
    }
}

/// [`AngleErrors`] of `angles` against `truth` (both \[n,3\], rad) over the points in `select`.
pub fn angle_errors(angles: &[f64], truth: &[f64], select: &[bool]) -> AngleErrors {
    let rows = compared_rows(angles, truth, select);
    let dev = columns(angles, truth, &rows, |a, t| wrap_angle(a - t).abs().to_degrees());
    let mean_deg = dev.each_ref().map(|d| mean(d));
    let median_deg = dev.each_ref().map(|d| median(d));
    AngleErrors {
        n: rows.len(),
        mean_deg,
        mean_deg_overall: mean3(mean_deg),
        median_deg,
        median_deg_overall: mean3(median_deg),
    }
}

/// Row `i` of a row-major \[n,3\] array.
fn row3(v: &[f64], i: usize) -> [f64; 3] {
    [v[3 * i], v[3 * i + 1], v[3 * i + 2]]
}

/// |v|.
fn norm(v: [f64; 3]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Angle between `a` and `b` in degrees: atan2(|a x b|, a . b), accurate also near 0 and
/// 180 degrees.
pub fn angle_between_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
    let cross = [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ];
    let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    norm(cross).atan2(dot).to_degrees()
}

/// [`AccelerationErrors`] of `acc` against `truth` (both \[n,3\], x, y, z) over the points
/// in `select`.
pub fn acceleration_errors(acc: &[f64], truth: &[f64], select: &[bool]) -> AccelerationErrors {
    let rows: Vec<usize> = compared_rows(acc, truth, select)
        .into_iter()
        .filter(|&i| norm(row3(truth, i)) > 0.0)
        .collect();
    let per_row = |f: &dyn Fn([f64; 3], [f64; 3]) -> f64| -> Vec<f64> {
        rows.iter().map(|&i| f(row3(acc, i), row3(truth, i))).collect()
    };
    let relative = per_row(&|a, t| norm([a[0] - t[0], a[1] - t[1], a[2] - t[2]]) / norm(t));
    let direction = per_row(&angle_between_deg);
    let component_relative_mean =
        std::array::from_fn(|k| mean(&per_row(&|a, t| (a[k] - t[k]).abs() / norm(t))));
    AccelerationErrors {
        n: rows.len(),
        relative_mean: mean(&relative),
        relative_median: median(&relative),
        direction_mean_deg: mean(&direction),
        direction_median_deg: median(&direction),
        component_relative_mean,
    }
}

/// [`PotentialErrors`] of `phi` against `truth` (both \[n\]) over the points in `select`.
pub fn potential_errors(phi: &[f64], truth: &[f64], select: &[bool]) -> PotentialErrors {
    let rows: Vec<usize> = (0..select.len())
        .filter(|&i| select[i] && phi[i].is_finite() && truth[i].is_finite() && truth[i] != 0.0)
        .collect();
    let offset = median(&rows.iter().map(|&i| phi[i] - truth[i]).collect::<Vec<_>>());
    let relative: Vec<f64> = (rows.iter())
        .map(|&i| (phi[i] - offset - truth[i]).abs() / truth[i].abs())
        .collect();
    PotentialErrors {
        n: rows.len(),
        offset,
        relative_mean: mean(&relative),
        relative_median: median(&relative),
    }
}

/// [`FrequencyErrors`] of `freq` against `truth` (both \[n,3\], r, z, phi) over the points
/// in `select`.
pub fn frequency_errors(freq: &[f64], truth: &[f64], select: &[bool]) -> FrequencyErrors {
    let rows: Vec<usize> = compared_rows(freq, truth, select)
        .into_iter()
        .filter(|&i| row3(truth, i).iter().all(|&t| t != 0.0))
        .collect();
    let relative = columns(freq, truth, &rows, |f, t| (f - t).abs() / t.abs());
    let relative_mean = relative.each_ref().map(|r| mean(r));
    let relative_median = relative.each_ref().map(|r| median(r));
    FrequencyErrors {
        n: rows.len(),
        relative_mean,
        relative_mean_overall: mean3(relative_mean),
        relative_median,
        relative_median_overall: mean3(relative_median),
    }
}

/// D_s,k of one stream (N rows of 3): mean |J_k - mean J_k| per component.
fn stream_deviation(stream: &[f64]) -> [f64; 3] {
    let n = (stream.len() / 3) as f64;
    std::array::from_fn(|k| {
        let c = stream.iter().skip(k).step_by(3);
        let m = c.clone().sum::<f64>() / n;
        c.map(|v| (v - m).abs()).sum::<f64>() / n
    })
}

/// [`Spread`] of `actions` (\[S,N,3\]) over the streams in `select` (one per stream).
pub fn stream_spread(actions: &[f64], n_stars: usize, select: &[bool]) -> Spread {
    let layout = StreamLayout::uniform(select.len(), n_stars);
    stream_spread_streams(actions, &layout, select)
}

/// [`stream_spread`] for streams laid out as `layout` says (`[P,3]` actions), each over its
/// own points; streams of fewer than two points are left out (they conserve trivially).
pub fn stream_spread_streams(actions: &[f64], layout: &StreamLayout, select: &[bool]) -> Spread {
    let ragged = layout.is_ragged();
    let used: Vec<[f64; 3]> = select
        .iter()
        .enumerate()
        .filter(|&(s, &keep)| keep && layout.len(s) > 0 && !(ragged && layout.len(s) < 2))
        .map(|(s, _)| {
            let rows = layout.rows(s);
            &actions[3 * rows.start..3 * rows.end]
        })
        .filter(|stream| stream.iter().all(|v| v.is_finite()))
        .map(stream_deviation)
        .collect();
    let per_component = std::array::from_fn(|k| mean(&used.iter().map(|d| d[k]).collect::<Vec<_>>()));
    Spread {
        n_streams: used.len(),
        per_component,
        overall: mean3(per_component),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_takes_the_short_way_round() {
        let deg = |d: f64| d.to_radians();
        assert!((wrap_angle(deg(359.0) - deg(1.0)) - deg(-2.0)).abs() < 1e-12);
        assert!((wrap_angle(deg(1.0) - deg(359.0)) - deg(2.0)).abs() < 1e-12);
        assert_eq!(wrap_angle(PI), PI);
        assert_eq!(wrap_angle(-PI), PI);
        assert!((wrap_angle(7.0 * PI / 2.0) + PI / 2.0).abs() < 1e-12);
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn action_errors_of_known_offsets() {
        // Two points, truth (10, 20, -30) and (30, 40, 50); offsets (1, -2, 3) and (3, 2, -1).
        let truth = [10.0, 20.0, -30.0, 30.0, 40.0, 50.0];
        let off = [1.0, -2.0, 3.0, 3.0, 2.0, -1.0];
        let rec: Vec<f64> = truth.iter().zip(off).map(|(t, o)| t + o).collect();
        let e = action_errors(&rec, &truth, &[true, true]);
        assert_eq!(e.n, 2);
        assert_eq!(e.mean_abs, [2.0, 2.0, 2.0]);
        assert_eq!(e.mean_abs_overall, 2.0);
        assert_eq!(e.relative, [2.0 / 20.0, 2.0 / 30.0, 2.0 / 40.0]);
        assert_eq!(e.relative_overall, 2.0 / 30.0);
        assert_eq!(e.median_abs, [2.0, 2.0, 2.0]);
    }

    #[test]
    fn unselected_and_nonfinite_points_are_left_out() {
        let truth = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let rec = [2.0, 2.0, 2.0, 9.0, 9.0, 9.0, f64::NAN, 1.0, 1.0];
        let e = action_errors(&rec, &truth, &[true, false, true]);
        assert_eq!(e.n, 1);
        assert_eq!(e.mean_abs, [1.0; 3]);
        let none = action_errors(&rec, &truth, &[false; 3]);
        assert_eq!(none.n, 0);
        assert!(none.mean_abs_overall.is_nan());
    }

    #[test]
    fn angle_errors_across_zero() {
        let truth = [0.01, 6.27, 3.0];
        let rec = [6.27, 0.01, 3.0 + 0.5];
        let e = angle_errors(&rec, &truth, &[true]);
        let gap = (2.0 * PI - 6.26f64).to_degrees();
        assert!((e.mean_deg[0] - gap).abs() < 1e-9, "{:?}", e.mean_deg);
        assert!((e.mean_deg[1] - gap).abs() < 1e-9);
        assert!((e.mean_deg[2] - 0.5f64.to_degrees()).abs() < 1e-9);
    }

    #[test]
    fn angle_between_vectors() {
        assert_eq!(angle_between_deg([1.0, 0.0, 0.0], [2.0, 0.0, 0.0]), 0.0);
        assert!((angle_between_deg([1.0, 0.0, 0.0], [0.0, 0.0, 3.0]) - 90.0).abs() < 1e-12);
        assert!((angle_between_deg([1.0, 1.0, 0.0], [-1.0, -1.0, 0.0]) - 180.0).abs() < 1e-12);
        let small = 1e-7f64;
        let tilted = [small.cos(), small.sin(), 0.0];
        assert!((angle_between_deg([1.0, 0.0, 0.0], tilted) - small.to_degrees()).abs() < 1e-15);
    }

    #[test]
    fn potential_offset_is_the_median_shift() {
        // Shift 7 everywhere; one point 10 further off; one point with Phi_true = 0 left out.
        let truth = [-100.0, -200.0, -50.0, -400.0, 0.0];
        let phi = [-93.0, -193.0, -43.0, -383.0, 1.0];
        let e = potential_errors(&phi, &truth, &[true; 5]);
        assert_eq!(e.n, 4);
        assert_eq!(e.offset, 7.0);
        assert!((e.relative_mean - 10.0 / 400.0 / 4.0).abs() < 1e-15);
        assert_eq!(e.relative_median, 0.0);
    }

    #[test]
    fn spread_of_streams() {
        // Stream 0: J_r in {1, 3} -> D = 1; J_z constant; J_phi in {-1, 1} -> D = 1.
        // Stream 1: J_r in {0, 4} -> D = 2; stream 2 has a NaN and is skipped.
        let j = [
            1.0,
            5.0,
            -1.0,
            3.0,
            5.0,
            1.0, //
            0.0,
            5.0,
            2.0,
            4.0,
            5.0,
            2.0, //
            f64::NAN,
            0.0,
            0.0,
            1.0,
            1.0,
            1.0,
        ];
        let s = stream_spread(&j, 2, &[true, true, true]);
        assert_eq!(s.n_streams, 2);
        assert_eq!(s.per_component, [1.5, 0.0, 0.5]);
        assert_eq!(
            stream_spread(&j, 2, &[false, true, false]).per_component,
            [2.0, 0.0, 0.0]
        );
    }
}
