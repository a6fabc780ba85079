//! One separated oscillation q in [q_min, q_max]: its turning points, and the integrals of
//! `sqrt(S)` (the action) and of `w / sqrt(S)`, `1 / (w sqrt(S))`, `1 / sqrt(S)` (the
//! derivatives of the action with respect to E, L_z and I_3, which give the frequencies) over
//! the whole oscillation and from the turning point q_min to the point itself (which give
//! the angles).
//!
//! Quadrature. With the anomaly psi, `q = q_min + h (1 - cos psi)`, `h = (q_max - q_min)/2`,
//! `S = Q(q) h^2 sin^2 psi` where Q is regular at both turning points, so
//! `int sqrt(S) dq = int h^2 sin^2 psi sqrt(Q) dpsi` and `int f / sqrt(S) dq = int f /
//! sqrt(Q) dpsi` have smooth integrands (galpy's "chi anomaly"; Binney & Tremaine 2008 §3.1
//! for the radial-orbit analogue). Near the z axis the centrifugal barrier (and a cusp of
//! the potential at the centre) puts a singularity of the integrand at q = 0, a distance
//! q_min from the turning point, i.e. at `psi = +-i a`, `a = sqrt(2 q_min / h)`. On the
//! half [0, pi/2] next to q_min the substitution `psi = a sinh(s)` moves it to
//! `s = +-i pi/2` whatever a is (the sinh transformation of Johnston & Elliott 2005), so one
//! fixed-order Gauss-Legendre rule stays accurate from polar to near-circular orbits; the
//! other half is a plain rule in psi. Partial integrals up to the point's own anomaly come
//! from the same nodes, through the Legendre interpolant of the samples, without new
//! potential evaluations.

use super::motion::Separable;
use crate::actions::quadrature::{brent, gauss_legendre};
use crate::actions::ActionError;
use std::f64::consts::{FRAC_PI_2, PI};

/// Gauss-Legendre nodes per panel.
pub(super) const ORDER: usize = 24;

/// Below this half-width (in u or v) an oscillation is treated as harmonic: S is too small
/// against its rounding for a ratio S / (h^2 sin^2 psi) to be accurate, and the harmonic
/// model Q = -S''/2 is exact to O(h^2).
const HARMONIC: f64 = 1e-4;

/// The smallest grading scale a (for orbits through the axis, where q_min = 0).
const MIN_GRADING: f64 = 1e-6;

/// The n-point Gauss-Legendre rule on [-1, 1] and the Legendre polynomials at its nodes,
/// for partial integrals of the interpolant through the node values.
pub(super) struct Rule {
    x: [f64; ORDER],
    w: [f64; ORDER],
    /// `legendre[n][j] = P_n(x_j)`.
    legendre: Box<[[f64; ORDER]; ORDER]>,
}

impl Rule {
    pub fn new() -> Self {
        let gl = gauss_legendre(ORDER);
        let mut x = [0.0; ORDER];
        let mut w = [0.0; ORDER];
        x.copy_from_slice(gl.nodes());
        w.copy_from_slice(gl.weights());
        let mut legendre = Box::new([[0.0; ORDER]; ORDER]);
        for (j, &xj) in x.iter().enumerate() {
            let p = legendre_values(xj);
            for (n, row) in legendre.iter_mut().enumerate() {
                row[j] = p[n];
            }
        }
        Self { x, w, legendre }
    }

    /// Weights W_j(X) with `int_{-1}^{X} g dt ~ sum_j W_j g(x_j)`: the integral of the
    /// Legendre interpolant `sum_n c_n P_n`, `c_n = (2n+1)/2 sum_j w_j P_n(x_j) g_j`, using
    /// `int_{-1}^{X} P_n = (P_{n+1}(X) - P_{n-1}(X)) / (2n+1)` (A&S 22.13.7; P_{-1} = -1).
    fn partial_weights(&self, xx: f64) -> [f64; ORDER] {
        let p = legendre_values(xx);
        let mut out = [0.0; ORDER];
        for (n, row) in self.legendre.iter().enumerate() {
            let below = if n == 0 { -1.0 } else { p[n - 1] };
            let d = 0.5 * (p[n + 1] - below);
            for (o, &pj) in out.iter_mut().zip(row.iter()) {
                *o += pj * d;
            }
        }
        for (o, &wj) in out.iter_mut().zip(self.w.iter()) {
            *o *= wj;
        }
        out
    }
}

/// P_0(x) .. P_ORDER(x) by the three-term recurrence.
fn legendre_values(x: f64) -> [f64; ORDER + 1] {
    let mut p = [0.0; ORDER + 1];
    p[0] = 1.0;
    p[1] = x;
    for n in 1..ORDER {
        let nf = n as f64;
        p[n + 1] = ((2.0 * nf + 1.0) * x * p[n] - nf * p[n - 1]) / (nf + 1.0);
    }
    p
}

/// Which turning point to look for, seen from the point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Side {
    /// Below the point, with q >= 0 (u_min, v_min).
    Below,
    /// Above the point (u_max).
    Above,
}

/// The largest u searched for an outer turning point (R = Delta sinh u).
const U_CAP: f64 = 60.0;

/// The turning point next to q0 on `side`, where `S(q0) = s0 >= 0`: a point where S is
/// clearly positive, then steps outwards (doubling, or halving towards 0) until S < 0, then
/// Brent's method on the bracket. `axis` says that S stays finite at q = 0 (L_z = 0); if
/// S(0) >= 0 there, the orbit passes through the axis and 0 is returned.
pub(super) fn turning_point<M: Separable>(
    m: &M,
    q0: f64,
    s0: f64,
    side: Side,
    axis: bool,
) -> Result<f64, ActionError> {
    let (qi, si) = match inside_point(m, q0, s0, side)? {
        Inner::Point(q, s) => (q, s),
        Inner::Root(q) => return Ok(q),
    };
    let axis_value = match (side, axis) {
        (Side::Below, true) => {
            let s = m.s(0.0);
            if s >= 0.0 {
                return Ok(0.0);
            }
            Some(s)
        }
        _ => None,
    };
    let (mut qa, mut sa) = (qi, si);
    let mut step = 0.25 * qi.max(0.5);
    for _ in 0..200 {
        let q = match side {
            Side::Below => 0.5 * qa,
            Side::Above => qa + step,
        };
        if side == Side::Above && q > U_CAP {
            break;
        }
        if side == Side::Below && q < 1e-300 {
            return match axis_value {
                Some(s) => root(m, (0.0, s), (qa, sa)),
                None => Err(no_convergence("no inner turning point")),
            };
        }
        let s = m.s(q);
        if s < 0.0 {
            return root(m, (q, s), (qa, sa));
        }
        if s.is_nan() {
            return Err(no_convergence("potential is NaN on the orbit"));
        }
        (qa, sa) = (q, s);
        step *= 2.0;
    }
    Err(no_convergence("no outer turning point"))
}

enum Inner {
    Point(f64, f64),
    Root(f64),
}

/// A point on `side` of q0 (or q0 itself) where S is well above its rounding noise; or the
/// turning point itself when it lies within a tiny distance of q0 (the point is at it).
fn inside_point<M: Separable>(m: &M, q0: f64, s0: f64, side: Side) -> Result<Inner, ActionError> {
    let noise = m.noise();
    if s0 > noise {
        return Ok(Inner::Point(q0, s0));
    }
    let sign = if side == Side::Below { -1.0 } else { 1.0 };
    let mut d = 1e-9 * q0.max(1e-3);
    for _ in 0..16 {
        let q = (q0 + sign * d).max(0.0);
        let s = m.s(q);
        if s > noise {
            return Ok(Inner::Point(q, s));
        }
        if s < 0.0 || q == 0.0 {
            return root(m, (q, s), (q0, s0)).map(Inner::Root);
        }
        d *= 8.0;
    }
    Err(no_convergence("cannot leave a flat turning point"))
}

/// The root of S between `out` (S < 0) and `inn` (S >= 0), to machine precision.
fn root<M: Separable>(m: &M, out: (f64, f64), inn: (f64, f64)) -> Result<f64, ActionError> {
    if out.1 >= 0.0 {
        return Ok(out.0);
    }
    brent(|q| m.s(q), out.0, inn.0, out.1, inn.1, f64::MIN_POSITIVE)
        .ok_or_else(|| no_convergence("turning point root"))
}

fn no_convergence(what: &str) -> ActionError {
    ActionError::NoConvergence(format!("Staeckel: {what}"))
}

/// A panel of the anomaly psi, mapped from the rule's t in [-1, 1].
#[derive(Clone, Copy, Debug)]
enum Map {
    /// `psi = lo + a sinh(s)`, `s = s_end (1 + t) / 2`: nodes graded towards `lo`.
    FromStart { lo: f64, a: f64, s_end: f64 },
    /// `psi = hi - a sinh(s)`, `s = s_end (1 - t) / 2`: nodes graded towards `hi`.
    ToEnd { hi: f64, a: f64, s_end: f64 },
    /// psi from `lo` to `hi`, linear in t.
    Linear { lo: f64, hi: f64 },
}

impl Map {
    /// The panel [lo, hi] graded towards `lo` with scale `a`.
    fn from_start(lo: f64, hi: f64, a: f64) -> Self {
        Map::FromStart {
            lo,
            a,
            s_end: ((hi - lo) / a).asinh(),
        }
    }

    /// The panel [lo, hi] graded towards `hi` with scale `a`.
    fn to_end(lo: f64, hi: f64, a: f64) -> Self {
        Map::ToEnd {
            hi,
            a,
            s_end: ((hi - lo) / a).asinh(),
        }
    }

    /// (psi, dpsi/dt) at t.
    #[inline]
    fn at(&self, t: f64) -> (f64, f64) {
        match *self {
            Map::FromStart { lo, a, s_end } => {
                let s = 0.5 * s_end * (1.0 + t);
                (lo + a * s.sinh(), 0.5 * s_end * a * s.cosh())
            }
            Map::ToEnd { hi, a, s_end } => {
                let s = 0.5 * s_end * (1.0 - t);
                (hi - a * s.sinh(), 0.5 * s_end * a * s.cosh())
            }
            Map::Linear { lo, hi } => (lo + 0.5 * (hi - lo) * (1.0 + t), 0.5 * (hi - lo)),
        }
    }

    /// t at psi.
    fn t_of(&self, psi: f64) -> f64 {
        match *self {
            Map::FromStart { lo, a, s_end } => 2.0 * ((psi - lo) / a).asinh() / s_end - 1.0,
            Map::ToEnd { hi, a, s_end } => 1.0 - 2.0 * ((hi - psi) / a).asinh() / s_end,
            Map::Linear { lo, hi } => 2.0 * (psi - lo) / (hi - lo) - 1.0,
        }
    }

    /// The end of the panel in psi.
    fn hi(&self) -> f64 {
        self.at(1.0).0
    }
}

/// The integrands at the nodes of one panel (rule weights not applied), in the order
/// `sqrt(S)`, `w / sqrt(S)`, `1 / (w sqrt(S))`, `1 / sqrt(S)`, each times dq/dt.
struct Panel {
    map: Map,
    g: [[f64; ORDER]; 4],
}

impl Panel {
    fn full(&self, rule: &Rule) -> [f64; 4] {
        std::array::from_fn(|k| dot(&rule.w, &self.g[k]))
    }

    /// The integrals of the last three integrands from the panel's start to psi.
    fn partial(&self, rule: &Rule, psi: f64) -> [f64; 3] {
        let weights = rule.partial_weights(self.map.t_of(psi).clamp(-1.0, 1.0));
        std::array::from_fn(|k| dot(&weights, &self.g[k + 1]))
    }
}

#[inline]
fn dot(a: &[f64; ORDER], b: &[f64; ORDER]) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

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
    panels: [Panel; 2],
    /// Number of panels in use.
    n_panels: usize,
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
        rule: &Rule,
        (q_min, q_max): (f64, f64),
        layout: Layout,
    ) -> Result<Self, ActionError> {
        let h = 0.5 * (q_max - q_min);
        let harmonic = if h < HARMONIC {
            Some(harmonic_q(m, q_min + h)?)
        } else {
            None
        };
        let a = (2.0 * q_min / h).sqrt().max(MIN_GRADING);
        let grid = Grid {
            q_min,
            q_max,
            h,
            harmonic,
        };
        let (first, second, mirror) = match layout {
            Layout::Full => (
                Map::from_start(0.0, FRAC_PI_2, a),
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
                    let second = Map::to_end(split, FRAC_PI_2, a_mid);
                    (Map::from_start(0.0, split, a), Some(second), true)
                } else {
                    (Map::from_start(0.0, FRAC_PI_2, a), None, true)
                }
            }
        };
        let (second, n_panels) = match second {
            Some(map) => (grid.panel(m, rule, map)?, 2),
            None => (
                Panel {
                    map: first,
                    g: [[0.0; ORDER]; 4],
                },
                1,
            ),
        };
        let first = grid.panel(m, rule, first)?;
        Ok(Self {
            q_min,
            h,
            panels: [first, second],
            n_panels,
            mirror,
        })
    }

    /// Integrals over psi in [0, pi] (u) or [0, pi/2] (v).
    pub fn integrals(&self, rule: &Rule) -> Integrals {
        let mut out = [0.0; 4];
        for p in &self.panels[..self.n_panels] {
            for (o, v) in out.iter_mut().zip(p.full(rule)) {
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
    fn partial(&self, rule: &Rule, psi: f64) -> [f64; 3] {
        let mut out = [0.0; 3];
        for p in &self.panels[..self.n_panels] {
            let end = p.map.hi();
            let part = if psi >= end {
                let f = p.full(rule);
                [f[1], f[2], f[3]]
            } else {
                p.partial(rule, psi)
            };
            for (o, v) in out.iter_mut().zip(part) {
                *o += v;
            }
            if psi < end {
                break;
            }
        }
        out
    }

    /// The last three integrals of [`Integrals`] along the orbit from q_min (psi = 0) to the
    /// anomaly `psi` in [0, 2 pi), each passage counted positively; `full` is
    /// [`Self::integrals`].
    pub fn path(&self, rule: &Rule, full: &Integrals, psi: f64) -> [f64; 3] {
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
        let part = self.partial(rule, p);
        std::array::from_fn(|k| base * f[k] + sign * part[k])
    }
}

/// `Q = -S''(c)/2` at the centre of a (nearly) harmonic oscillation, by central differences.
fn harmonic_q<M: Separable>(m: &M, c: f64) -> Result<f64, ActionError> {
    let d = 1e-3f64.min(0.5 * c.max(1e-12));
    let s2 = (m.s(c + d) - 2.0 * m.s(c) + m.s(c - d)) / (d * d);
    if s2 < 0.0 {
        Ok(-0.5 * s2)
    } else {
        Err(no_convergence(
            "no stable oscillation (S'' >= 0 at a circular orbit)",
        ))
    }
}

/// Where the nodes lie: the oscillation's q_min and h, and Q when harmonic.
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
    fn panel<M: Separable>(&self, m: &M, rule: &Rule, map: Map) -> Result<Panel, ActionError> {
        let mut qs = [0.0; ORDER];
        let mut ws = [0.0; ORDER];
        let mut ds = [0.0; ORDER];
        let mut jac = [0.0; ORDER];
        for j in 0..ORDER {
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
        let mut g = [[0.0; ORDER]; 4];
        for j in 0..ORDER {
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
fn repair(qs: &mut [f64; ORDER]) -> Result<(), ActionError> {
    let valid = |q: f64| q > 0.0 && q.is_finite();
    if qs.iter().all(|&q| valid(q)) {
        return Ok(());
    }
    let snapshot = *qs;
    for j in 0..ORDER {
        if valid(snapshot[j]) {
            continue;
        }
        let nearest = (1..ORDER)
            .flat_map(|k| [j.checked_sub(k), Some(j + k)])
            .flatten()
            .filter(|&i| i < ORDER)
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
    fn partial_weights_integrate_polynomials_exactly() {
        let rule = Rule::new();
        for &xx in &[-1.0, -0.7, 0.0, 0.3, 0.99, 1.0] {
            let w = rule.partial_weights(xx);
            for k in 0..ORDER {
                let g: [f64; ORDER] = std::array::from_fn(|j| rule.x[j].powi(k as i32));
                let num = dot(&w, &g);
                let exact = (xx.powi(k as i32 + 1) - (-1f64).powi(k as i32 + 1)) / (k as f64 + 1.0);
                assert!((num - exact).abs() < 1e-13, "X={xx} k={k}: {num} vs {exact}");
            }
        }
        let w1 = rule.partial_weights(1.0);
        for (a, b) in w1.iter().zip(rule.w.iter()) {
            assert!((a - b).abs() < 1e-14);
        }
    }

    #[test]
    fn graded_maps_round_trip() {
        for m in [
            Map::from_start(0.0, FRAC_PI_2, 1e-3),
            Map::to_end(0.3, FRAC_PI_2, 1e-2),
            Map::Linear { lo: 1.0, hi: 2.0 },
        ] {
            for &t in &[-1.0, -0.5, 0.0, 0.7, 1.0] {
                let (psi, dpsi) = m.at(t);
                assert!((m.t_of(psi) - t).abs() < 1e-12, "{m:?} {t}");
                let e = 1e-6;
                let fd = (m.at(t + e).0 - m.at(t - e).0) / (2.0 * e);
                assert!((fd - dpsi).abs() < 1e-6 * dpsi.abs().max(1.0), "{m:?} {t}");
            }
        }
        assert!((Map::from_start(0.0, FRAC_PI_2, 1e-3).hi() - FRAC_PI_2).abs() < 1e-13);
        assert!((Map::to_end(0.3, FRAC_PI_2, 1e-2).at(-1.0).0 - 0.3).abs() < 1e-13);
    }

    #[test]
    fn repair_fills_from_neighbours() {
        let mut q = [1.0; ORDER];
        q[0] = -1e-20;
        q[1] = f64::NAN;
        q[ORDER - 1] = 0.0;
        q[2] = 2.0;
        repair(&mut q).unwrap();
        assert_eq!(q[0], 2.0);
        assert_eq!(q[1], 2.0);
        assert_eq!(q[ORDER - 1], 1.0);
        let mut bad = [-1.0; ORDER];
        assert!(repair(&mut bad).is_err());
    }
}
