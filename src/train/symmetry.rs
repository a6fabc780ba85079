//! Whether to train the axisymmetric map (theta_phi kept out of G and P, `J_phi = L_z`):
//! asked for, refused, or decided from the data. The data decide by how well
//! `L_z = x v_y - y v_x` is conserved along the streams: in an axisymmetric (or spherical)
//! potential it is constant along every orbit, up to the integrator's error; in a triaxial or
//! barred one it changes by a sizeable share of the angular momentum.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dataset::StreamLayout;

/// `--axisymmetric`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Axisymmetry {
    /// On when `L_z` is conserved along the streams (see [`LZ_TOLERANCE`]).
    Auto,
    On,
    Off,
}

/// Largest median, over streams, of `std(L_z) / mean(|L|)` along a stream for which `auto`
/// turns the axisymmetric map on. Orbits integrated in axisymmetric potentials give 1e-9 to
/// 1e-6 (integration error), triaxial ones 1e-2 and more (docs/design.md, "Symmetry").
pub const LZ_TOLERANCE: f64 = 1e-3;

/// What was decided, and on what measurement.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SymmetryDecision {
    pub asked: Axisymmetry,
    pub axisymmetric: bool,
    /// The median over streams of `std(L_z) / mean(|L|)` (NaN when no stream has angular
    /// momentum).
    pub lz_variation: f64,
}

/// The decision for `asked` on the streams `xv` (`[S*stars, 6]`, row-major).
pub fn decide(asked: Axisymmetry, xv: &[f64], stars: usize) -> SymmetryDecision {
    decision(asked, lz_variation(xv, stars))
}

/// [`decide`] for streams laid out as `layout` says (`xv` `[P, 6]`).
pub fn decide_streams(asked: Axisymmetry, xv: &[f64], layout: &StreamLayout) -> SymmetryDecision {
    decision(asked, lz_variation_streams(xv, layout))
}

fn decision(asked: Axisymmetry, lz_variation: f64) -> SymmetryDecision {
    let axisymmetric = match asked {
        Axisymmetry::On => true,
        Axisymmetry::Off => false,
        Axisymmetry::Auto => lz_variation <= LZ_TOLERANCE,
    };
    SymmetryDecision {
        asked,
        axisymmetric,
        lz_variation,
    }
}

/// The median over streams of `std(L_z) / mean(|L|)` along each stream, streams without
/// angular momentum (or with non-finite points) left out; NaN when none is left.
pub fn lz_variation(xv: &[f64], stars: usize) -> f64 {
    lz_variation_streams(
        xv,
        &StreamLayout::uniform(xv.len() / (6 * stars.max(1)), stars.max(1)),
    )
}

/// [`lz_variation`] for streams laid out as `layout` says.
pub fn lz_variation_streams(xv: &[f64], layout: &StreamLayout) -> f64 {
    let mut ratios: Vec<f64> = layout
        .split(xv, 6)
        .filter(|stream| !stream.is_empty())
        .filter_map(stream_variation)
        .collect();
    if ratios.is_empty() {
        return f64::NAN;
    }
    ratios.sort_by(f64::total_cmp);
    let mid = ratios.len() / 2;
    if ratios.len() % 2 == 1 {
        ratios[mid]
    } else {
        0.5 * (ratios[mid - 1] + ratios[mid])
    }
}

/// `std(L_z) / mean(|L|)` along one stream's points.
fn stream_variation(stream: &[f64]) -> Option<f64> {
    let (lz, l): (Vec<f64>, Vec<f64>) = stream
        .chunks_exact(6)
        .map(|p| {
            let (x, v) = ([p[0], p[1], p[2]], [p[3], p[4], p[5]]);
            let lx = x[1] * v[2] - x[2] * v[1];
            let ly = x[2] * v[0] - x[0] * v[2];
            let lz = x[0] * v[1] - x[1] * v[0];
            (lz, (lx * lx + ly * ly + lz * lz).sqrt())
        })
        .unzip();
    let n = lz.len() as f64;
    let mean_l = l.iter().sum::<f64>() / n;
    let mean_lz = lz.iter().sum::<f64>() / n;
    let std_lz = (lz.iter().map(|v| (v - mean_lz).powi(2)).sum::<f64>() / n).sqrt();
    let ratio = std_lz / mean_l;
    (ratio.is_finite() && mean_l > 0.0).then_some(ratio)
}

impl fmt::Display for SymmetryDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.axisymmetric { "on" } else { "off" };
        let measured = format!(
            "median std(L_z)/mean(|L|) along the streams {:.2e}",
            self.lz_variation
        );
        match self.asked {
            Axisymmetry::Auto => write!(
                f,
                "axisymmetric map {state} (auto: {measured}, threshold {LZ_TOLERANCE:.0e})"
            ),
            _ => write!(f, "axisymmetric map {state} (as asked; {measured})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points of circles about the z axis (L_z constant) and of an ellipse in a tilted plane
    /// whose L_z swings: the statistic tells them apart.
    #[test]
    fn conserved_l_z_turns_auto_on_and_a_changing_one_off() {
        let stars = 8;
        let circle: Vec<f64> = (0..stars)
            .flat_map(|i| {
                let a = i as f64 * 0.3;
                [
                    8.0 * a.cos(),
                    8.0 * a.sin(),
                    1.0,
                    -200.0 * a.sin(),
                    200.0 * a.cos(),
                    0.0,
                ]
            })
            .collect();
        let on = decide(Axisymmetry::Auto, &circle, stars);
        assert!(on.axisymmetric && on.lz_variation < 1e-12, "{on}");
        let tumbling: Vec<f64> = (0..stars)
            .flat_map(|i| {
                let a = i as f64 * 0.3;
                [
                    8.0 * a.cos(),
                    0.0,
                    3.0 * a.sin(),
                    0.0,
                    150.0 + 30.0 * a.cos(),
                    100.0 * a.sin(),
                ]
            })
            .collect();
        let off = decide(Axisymmetry::Auto, &tumbling, stars);
        assert!(!off.axisymmetric && off.lz_variation > 1e-2, "{off}");
        assert!(decide(Axisymmetry::On, &tumbling, stars).axisymmetric);
        assert!(decide(Axisymmetry::Off, &[0.0; 48], stars).lz_variation.is_nan());
    }
}
