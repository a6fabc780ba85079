//! Fixed-order Gauss-Legendre panels in the anomaly psi, with the nodes graded towards an end
//! where needed, and partial integrals from the same node values.

use crate::actions::quadrature::gauss_legendre;

/// The N-point Gauss-Legendre rule on [-1, 1] and the Legendre polynomials at its nodes, for
/// partial integrals of the interpolant through the node values.
pub(super) struct Rule<const N: usize> {
    pub x: [f64; N],
    pub w: [f64; N],
    /// `legendre[n][j] = P_n(x_j)`.
    legendre: Box<[[f64; N]; N]>,
}

impl<const N: usize> Rule<N> {
    pub fn new() -> Self {
        let gl = gauss_legendre(N);
        let mut x = [0.0; N];
        let mut w = [0.0; N];
        x.copy_from_slice(gl.nodes());
        w.copy_from_slice(gl.weights());
        let mut legendre = Box::new([[0.0; N]; N]);
        for (j, &xj) in x.iter().enumerate() {
            for_legendre(xj, N, |n, p, _, _| legendre[n][j] = p);
        }
        Self { x, w, legendre }
    }

    /// Weights W_j(X) with `int_{-1}^{X} g dt ~ sum_j W_j g(x_j)`: the integral of the
    /// Legendre interpolant `sum_n c_n P_n`, `c_n = (2n+1)/2 sum_j w_j P_n(x_j) g_j`, using
    /// `int_{-1}^{X} P_n = (P_{n+1}(X) - P_{n-1}(X)) / (2n+1)` (A&S 22.13.7; P_{-1} = -1).
    /// Exact for polynomials of degree < N, so these partial integrals converge at about
    /// half the rate of the full rule.
    pub fn partial_weights(&self, xx: f64) -> [f64; N] {
        let mut out = [0.0; N];
        for_legendre(xx, N, |n, _, below, above| {
            let d = 0.5 * (above - below);
            for (o, &pj) in out.iter_mut().zip(self.legendre[n].iter()) {
                *o += pj * d;
            }
        });
        for (o, &wj) in out.iter_mut().zip(self.w.iter()) {
            *o *= wj;
        }
        out
    }
}

/// Call `f(n, P_n(x), P_{n-1}(x), P_{n+1}(x))` for n = 0 .. count-1 (P_{-1} = -1), by the
/// three-term recurrence `(n+1) P_{n+1} = (2n+1) x P_n - n P_{n-1}`.
fn for_legendre(x: f64, count: usize, mut f: impl FnMut(usize, f64, f64, f64)) {
    let (mut below, mut p) = (-1.0, 1.0);
    for n in 0..count {
        let nf = n as f64;
        let above = if n == 0 {
            x
        } else {
            ((2.0 * nf + 1.0) * x * p - nf * below) / (nf + 1.0)
        };
        f(n, p, below, above);
        (below, p) = (p, above);
    }
}

/// A panel of the anomaly psi, mapped from the rule's t in [-1, 1].
#[derive(Clone, Copy, Debug)]
pub(super) enum Map {
    /// `psi = lo + a sinh(s)`, `s = s_end (1 + t) / 2`: nodes graded towards `lo`.
    FromStart { lo: f64, a: f64, s_end: f64 },
    /// `psi = hi - a sinh(s)`, `s = s_end (1 - t) / 2`: nodes graded towards `hi`.
    ToEnd { hi: f64, a: f64, s_end: f64 },
    /// psi from `lo` to `hi`, linear in t.
    Linear { lo: f64, hi: f64 },
}

impl Map {
    /// The panel [lo, hi] graded towards `lo` with scale `a`.
    pub fn from_start(lo: f64, hi: f64, a: f64) -> Self {
        Map::FromStart {
            lo,
            a,
            s_end: ((hi - lo) / a).asinh(),
        }
    }

    /// The panel [lo, hi] graded towards `hi` with scale `a`.
    pub fn to_end(lo: f64, hi: f64, a: f64) -> Self {
        Map::ToEnd {
            hi,
            a,
            s_end: ((hi - lo) / a).asinh(),
        }
    }

    /// (psi, dpsi/dt) at t.
    #[inline]
    pub fn at(&self, t: f64) -> (f64, f64) {
        match *self {
            Map::FromStart { lo, a, s_end } => {
                let (sh, ch) = sinh_cosh(0.5 * s_end * (1.0 + t));
                (lo + a * sh, 0.5 * s_end * a * ch)
            }
            Map::ToEnd { hi, a, s_end } => {
                let (sh, ch) = sinh_cosh(0.5 * s_end * (1.0 - t));
                (hi - a * sh, 0.5 * s_end * a * ch)
            }
            Map::Linear { lo, hi } => (lo + 0.5 * (hi - lo) * (1.0 + t), 0.5 * (hi - lo)),
        }
    }

    /// t at psi.
    pub fn t_of(&self, psi: f64) -> f64 {
        match *self {
            Map::FromStart { lo, a, s_end } => 2.0 * ((psi - lo) / a).asinh() / s_end - 1.0,
            Map::ToEnd { hi, a, s_end } => 1.0 - 2.0 * ((hi - psi) / a).asinh() / s_end,
            Map::Linear { lo, hi } => 2.0 * (psi - lo) / (hi - lo) - 1.0,
        }
    }

    /// The end of the panel in psi.
    pub fn hi(&self) -> f64 {
        self.at(1.0).0
    }
}

/// (sinh s, cosh s) for s >= 0 from one exponential.
#[inline]
fn sinh_cosh(s: f64) -> (f64, f64) {
    let em = s.exp_m1();
    let inv = 1.0 / (1.0 + em);
    let sh = 0.5 * em * (1.0 + inv);
    (sh, sh + inv)
}

/// The integrands at the nodes of one panel (rule weights not applied), in the order
/// `sqrt(S)`, `w / sqrt(S)`, `1 / (w sqrt(S))`, `1 / sqrt(S)`, each times dq/dt.
pub(super) struct Panel<const N: usize> {
    pub map: Map,
    pub g: [[f64; N]; 4],
}

impl<const N: usize> Panel<N> {
    /// The four integrals over the panel.
    pub fn full(&self, rule: &Rule<N>) -> [f64; 4] {
        std::array::from_fn(|k| dot(&rule.w, &self.g[k]))
    }

    /// The integrals of the last three integrands from the panel's start to psi.
    pub fn partial(&self, rule: &Rule<N>, psi: f64) -> [f64; 3] {
        let weights = rule.partial_weights(self.map.t_of(psi).clamp(-1.0, 1.0));
        std::array::from_fn(|k| dot(&weights, &self.g[k + 1]))
    }
}

#[inline]
fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::FRAC_PI_2;

    fn exact_partials<const N: usize>() {
        let rule = Rule::<N>::new();
        for &xx in &[-1.0, -0.7, 0.0, 0.3, 0.99, 1.0] {
            let w = rule.partial_weights(xx);
            for k in 0..N {
                let g: [f64; N] = std::array::from_fn(|j| rule.x[j].powi(k as i32));
                let num = dot(&w, &g);
                let exact = (xx.powi(k as i32 + 1) - (-1f64).powi(k as i32 + 1)) / (k as f64 + 1.0);
                assert!(
                    (num - exact).abs() < 1e-13,
                    "N={N} X={xx} k={k}: {num} vs {exact}"
                );
            }
        }
        for (a, b) in rule.partial_weights(1.0).iter().zip(rule.w.iter()) {
            assert!((a - b).abs() < 1e-14);
        }
    }

    #[test]
    fn partial_weights_integrate_polynomials_exactly() {
        exact_partials::<24>();
        exact_partials::<12>();
        exact_partials::<1>();
    }

    #[test]
    fn maps_round_trip() {
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
        for s in [0.0, 1e-9, 1e-3, 0.5, 3.0, 30.0] {
            let (sh, ch) = sinh_cosh(s);
            assert!(
                (sh - s.sinh()).abs() <= 1e-15 * s.sinh().max(1e-300) + 1e-300,
                "{s}"
            );
            assert!((ch - s.cosh()).abs() <= 2e-16 * s.cosh(), "{s}");
        }
    }
}
