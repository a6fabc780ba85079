//! One separated oscillation q in [q_min, q_max] between its turning points: the integrals of
//! `sqrt(S)` (the action) and of `w / sqrt(S)`, `1 / (w sqrt(S))`, `1 / sqrt(S)` (the
//! derivatives of the action with respect to E, L_z and I_3, which give the frequencies) over
//! the whole oscillation and from the turning point q_min to the point itself (which give
//! the angles).
//!
//! Quadrature. With the anomaly psi, `q = q_min + h (1 - cos psi)`, `h = (q_max - q_min)/2`,
//! `S = Q(q) h^2 sin^2 psi` where Q is regular at both turning points, so
//! `int sqrt(S) dq = int h^2 sin^2 psi sqrt(Q) dpsi` and `int f / sqrt(S) dq = int f /
//! sqrt(Q) dpsi` have smooth integrands (galpy's "chi anomaly"; Binney & Tremaine 2008 §3.1
//! for the radial-orbit analogue). Two near-singularities remain, and each gets a panel
//! whose nodes are graded towards it by a sinh substitution (Johnston & Elliott 2005):
//! - Near the z axis the centrifugal barrier (and a cusp of the potential at the centre)
//!   puts a singularity at q = 0, a distance q_min from the turning point, i.e. at
//!   `psi = +-i a`, `a = sqrt(2 q_min / h)`. On [0, pi/2] (u) or [0, pi/4] (v)
//!   `psi = a sinh(s)` moves it to `s = +-i pi/2` whatever a is, so one fixed-order rule
//!   stays accurate from polar to near-circular orbits. Without a barrier (L_z = 0, the
//!   orbit crosses the axis and q_min may be 0 without being a turning point) the grading
//!   is mild.
//! - A thin disc makes Phi(z) singular at z = +-i b near the midplane, which the v-motion
//!   crosses at psi = pi/2; the scale comes from the potential (`midplane_scale` in the
//!   parent module) and, when small, [pi/4, pi/2] is graded towards pi/2.
//!
//! The u-motion's other half, [pi/2, pi] to u_max, is a plain rule. Partial integrals up to
//! the point's own anomaly come from the same nodes, through the Legendre interpolant of the
//! samples, without new potential evaluations. Nearly circular (or planar) oscillations,
//! h < 1e-4, use the harmonic limit Q = -S''/2.

use super::motion::Separable;
use super::rule::{Map, Panel, Rule};
use super::turning::no_convergence;
use crate::actions::ActionError;
use std::f64::consts::{FRAC_PI_2, PI};

/// Nodes of the first panel, next to q_min: it holds the near-singularity of the centrifugal
/// barrier, whose partial integrals (angles) need the most nodes.
pub(super) const N_FIRST: usize = 24;

/// Nodes of the second panel (u: from the middle to u_max; v: graded towards the midplane).
pub(super) const N_SECOND: usize = 20;

/// The two Gauss-Legendre rules, tabulated once per finder.
pub(super) struct Rules {
    first: Rule<N_FIRST>,
    second: Rule<N_SECOND>,
}

impl Rules {
    pub fn new() -> Self {
        Self {
            first: Rule::new(),
            second: Rule::new(),
        }
    }
}

/// Below this half-width (in u or v) an oscillation is treated as harmonic: S is too small
/// against its rounding for a ratio S / (h^2 sin^2 psi) to be accurate, and the harmonic
/// model Q = -S''/2 is exact to O(h^2).
const HARMONIC: f64 = 1e-4;

/// The smallest grading scale a.
const MIN_GRADING: f64 = 1e-6;

/// The grading scale without a centrifugal barrier (L_z = 0): mild, for a cusp of the
/// potential at the centre, which the u-line reaches when the orbit crosses the focal
/// segment.
const NO_BARRIER_GRADING: f64 = 0.1;

/// How the nodes of an oscillation are placed: the distances, in the anomaly psi, of the
/// nearest singularities of the integrands beyond the turning point q_min (psi = 0) and,
/// for the v-motion, beyond the midplane (psi = pi/2).
#[derive(Clone, Copy, Debug)]
pub(super) enum Layout {
    /// u: psi in [0, pi], graded towards psi = 0 on [0, pi/2].
    Full,
    /// v: psi in [0, pi/2] (the other half of the v-loop is its mirror image), graded
    /// towards the midplane with the given scale in v when it is small.
    Half { midplane: f64 },
}

/// A midplane singularity closer than this (in psi) gets its own graded panel.
const MIDPLANE_SPLIT: f64 = 0.5;

/// A separated oscillation between its turning points, with its quadrature panels.
pub(super) struct Oscillation {
    q_min: f64,
    h: f64,
    first: Panel<N_FIRST>,
    second: Option<Panel<N_SECOND>>,
    /// The v-motion: psi in [0, pi/2] sampled, the v-loop being symmetric about pi/2.
    mirror: bool,
}

/// Integrals over half a period (psi in [0, pi], or [0, pi/2] for v): `[int sqrt(S) dq,
/// int w / sqrt(S) dq, int 1/(w sqrt(S)) dq, int 1/sqrt(S) dq]`.
pub(super) type Integrals = [f64; 4];

impl Oscillation {
    /// Sample the oscillation between `q_min` and `q_max` with the panels of `layout`.
    pub fn new<M: Separable>(
        m: &M,
        rules: &Rules,
        (q_min, q_max): (f64, f64),
        layout: Layout,
    ) -> Result<Self, ActionError> {
        let h = 0.5 * (q_max - q_min);
        let harmonic = if h < HARMONIC {
            Some(harmonic_q(m, q_min + h)?)
        } else {
            None
        };
        let a = if m.barrier() {
            (2.0 * q_min / h).sqrt().max(MIN_GRADING)
        } else {
            NO_BARRIER_GRADING
        };
        // Harmonic: Q is constant, plain panels; otherwise graded towards q_min.
        let start = |hi: f64| match harmonic {
            Some(_) => Map::Linear { lo: 0.0, hi },
            None => Map::from_start(0.0, hi, a),
        };
        let grid = Grid {
            q_min,
            q_max,
            h,
            harmonic,
        };
        let (first, second, mirror) = match layout {
            Layout::Full => (
                start(FRAC_PI_2),
                Some(Map::Linear {
                    lo: FRAC_PI_2,
                    hi: PI,
                }),
                false,
            ),
            Layout::Half { midplane } => {
                let a_mid = (midplane / h).max(MIN_GRADING);
                if a_mid < MIDPLANE_SPLIT && harmonic.is_none() {
                    let split = 0.5 * FRAC_PI_2;
                    (start(split), Some(Map::to_end(split, FRAC_PI_2, a_mid)), true)
                } else {
                    (start(FRAC_PI_2), None, true)
                }
            }
        };
        Ok(Self {
            q_min,
            h,
            first: grid.panel(m, &rules.first, first)?,
            second: second.map(|map| grid.panel(m, &rules.second, map)).transpose()?,
            mirror,
        })
    }

    /// Integrals over psi in [0, pi] (u) or [0, pi/2] (v).
    pub fn integrals(&self, rules: &Rules) -> Integrals {
        let mut out = self.first.full(&rules.first);
        if let Some(p) = &self.second {
            for (o, v) in out.iter_mut().zip(p.full(&rules.second)) {
                *o += v;
            }
        }
        out
    }

    /// The anomaly psi in [0, 2 pi) of the coordinate q, moving up (p_q >= 0) or down.
    pub fn anomaly(&self, q: f64, up: bool) -> f64 {
        if self.h <= 0.0 {
            return 0.0;
        }
        let y_lo = ((q - self.q_min) / (2.0 * self.h)).clamp(0.0, 1.0);
        let y_hi = ((self.q_min + 2.0 * self.h - q) / (2.0 * self.h)).clamp(0.0, 1.0);
        let psi = if y_lo < 0.5 {
            2.0 * y_lo.sqrt().asin()
        } else {
            PI - 2.0 * y_hi.sqrt().asin()
        };
        if up {
            psi
        } else {
            2.0 * PI - psi
        }
    }

    /// The last three integrals of [`Integrals`] from psi = 0 to `psi` within the sampled
    /// range.
    fn partial(&self, rules: &Rules, psi: f64) -> [f64; 3] {
        let end = self.first.map.hi();
        match &self.second {
            Some(second) if psi > end => {
                let f = self.first.full(&rules.first);
                let p = second.partial(&rules.second, psi);
                [f[1] + p[0], f[2] + p[1], f[3] + p[2]]
            }
            _ => self.first.partial(&rules.first, psi),
        }
    }

    /// The last three integrals of [`Integrals`] along the orbit from q_min (psi = 0) to the
    /// anomaly `psi` in [0, 2 pi), each passage counted positively; `full` is
    /// [`Self::integrals`].
    pub fn path(&self, rules: &Rules, full: &Integrals, psi: f64) -> [f64; 3] {
        let f = [full[1], full[2], full[3]];
        let (base, sign, p) = if self.mirror {
            // v: period pi in psi, symmetric about pi/2 within it; full = [0, pi/2].
            let (base, r) = if psi >= PI { (2.0, psi - PI) } else { (0.0, psi) };
            if r <= FRAC_PI_2 {
                (base, 1.0, r)
            } else {
                (base + 2.0, -1.0, PI - r)
            }
        } else if psi <= PI {
            // u: the way back (psi > pi) mirrors the way out; full = [0, pi].
            (0.0, 1.0, psi)
        } else {
            (2.0, -1.0, 2.0 * PI - psi)
        };
        let part = self.partial(rules, p);
        std::array::from_fn(|k| base * f[k] + sign * part[k])
    }
}

/// `Q = -S''(c)/2` at the centre of a (nearly) harmonic oscillation: central second
/// differences with steps d and d/2, Richardson-extrapolated (error O(d^4)).
fn harmonic_q<M: Separable>(m: &M, c: f64) -> Result<f64, ActionError> {
    let d = 1e-3f64.min(0.5 * c.max(1e-12));
    let s0 = m.s(c);
    let second = |d: f64| (m.s(c + d) - 2.0 * s0 + m.s(c - d)) / (d * d);
    let s2 = (4.0 * second(0.5 * d) - second(d)) / 3.0;
    if s2 < 0.0 {
        Ok(-0.5 * s2)
    } else {
        Err(no_convergence(
            "no stable oscillation (S'' >= 0 at a circular orbit)",
        ))
    }
}

/// Where the nodes lie: the oscillation's q_min, q_max and h, and Q when harmonic.
struct Grid {
    q_min: f64,
    q_max: f64,
    h: f64,
    harmonic: Option<f64>,
}

impl Grid {
    /// The integrands at the nodes of one panel. Q at a node so close to a turning point
    /// that rounding makes it non-positive is replaced by its neighbour's (such nodes carry
    /// negligible weight).
    fn panel<M: Separable, const N: usize>(
        &self,
        m: &M,
        rule: &Rule<N>,
        map: Map,
    ) -> Result<Panel<N>, ActionError> {
        let mut qs = [0.0; N];
        let mut ws = [0.0; N];
        let mut ds = [0.0; N];
        let mut jac = [0.0; N];
        for j in 0..N {
            let (psi, dpsi) = map.at(rule.x[j]);
            let (sh, ch) = (0.5 * psi).sin_cos();
            let q = if psi <= FRAC_PI_2 {
                self.q_min + 2.0 * self.h * sh * sh
            } else {
                self.q_max - 2.0 * self.h * ch * ch
            };
            let d = 2.0 * self.h * sh * ch;
            let (s, w) = m.eval(q);
            qs[j] = self.harmonic.unwrap_or(s / (d * d));
            ws[j] = w;
            ds[j] = d;
            jac[j] = dpsi;
        }
        repair(&mut qs)?;
        let mut g = [[0.0; N]; 4];
        for j in 0..N {
            let sq = qs[j].sqrt();
            let inv = jac[j] / sq;
            g[0][j] = ds[j] * ds[j] * sq * jac[j];
            g[1][j] = ws[j] * inv;
            g[2][j] = inv / ws[j];
            g[3][j] = inv;
        }
        Ok(Panel { map, g })
    }
}

/// Replace non-positive or non-finite values by the nearest valid one.
fn repair<const N: usize>(qs: &mut [f64; N]) -> Result<(), ActionError> {
    let valid = |q: f64| q > 0.0 && q.is_finite();
    if qs.iter().all(|&q| valid(q)) {
        return Ok(());
    }
    let snapshot = *qs;
    for j in 0..N {
        if valid(snapshot[j]) {
            continue;
        }
        let nearest = (1..N)
            .flat_map(|k| [j.checked_sub(k), Some(j + k)])
            .flatten()
            .filter(|&i| i < N)
            .find(|&i| valid(snapshot[i]));
        qs[j] = match nearest {
            Some(i) => snapshot[i],
            None => return Err(no_convergence("no allowed region between the turning points")),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repair_fills_from_neighbours() {
        let mut q = [1.0; 8];
        q[0] = -1e-20;
        q[1] = f64::NAN;
        q[7] = 0.0;
        q[2] = 2.0;
        repair(&mut q).unwrap();
        assert_eq!(q[0], 2.0);
        assert_eq!(q[1], 2.0);
        assert_eq!(q[7], 1.0);
        let mut bad = [-1.0; 8];
        assert!(repair(&mut bad).is_err());
    }
}
