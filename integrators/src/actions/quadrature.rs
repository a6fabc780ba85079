//! Numerical building blocks shared by the action finders: fixed-order Gauss–Legendre rules
//! and Brent's bracketed root finder.
//!
//! The action finders evaluate the same kind of integral millions of times; after a
//! substitution that removes the endpoint singularities the integrands are smooth, and a
//! fixed-order Gauss–Legendre rule (tabulated once, when a finder is built) is both the most
//! accurate and the cheapest choice. (The adaptive Gauss–Kronrod integrator of the samplers,
//! `crate::ics::quad`, allocates a heap per call and is not meant for this hot path.)

/// An n-point Gauss–Legendre rule on [-1, 1]: nodes in increasing order and their weights.
///
/// Exact for polynomials of degree up to 2n - 1 (Abramowitz & Stegun 25.4.29).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GaussLegendre {
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

/// The n-point Gauss–Legendre rule (n >= 1).
///
/// The nodes are the roots of the Legendre polynomial P_n, found by Newton's method from
/// Tricomi's estimate x_k ~ cos(pi (k - 1/4) / (n + 1/2)); P_n and P_n' come from the
/// three-term recurrence (k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1}. The weights are
/// w_k = 2 / ((1 - x_k^2) P_n'(x_k)^2) (Abramowitz & Stegun 25.4.29; Press et al.,
/// Numerical Recipes §4.6). Nodes are computed on one half and mirrored, so the rule is
/// exactly symmetric; nodes and weights are accurate to a few ulp for n up to several
/// hundred.
pub(crate) fn gauss_legendre(n: usize) -> GaussLegendre {
    let n = n.max(1);
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    let nf = n as f64;
    for k in 0..n.div_ceil(2) {
        let mut x = (std::f64::consts::PI * (k as f64 + 0.75) / (nf + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (p, d) = legendre_and_derivative(n, x);
            dp = d;
            let dx = p / d;
            x -= dx;
            if dx.abs() <= 1e-16 * x.abs().max(1e-3) {
                dp = legendre_and_derivative(n, x).1;
                break;
            }
        }
        let w = 2.0 / ((1.0 - x * x) * dp * dp);
        // x is the k-th largest root; store both it and its mirror image.
        nodes[n - 1 - k] = x;
        nodes[k] = -x;
        weights[n - 1 - k] = w;
        weights[k] = w;
    }
    if n % 2 == 1 {
        nodes[n / 2] = 0.0;
    }
    GaussLegendre { nodes, weights }
}

/// P_n(x) and P_n'(x) by the three-term recurrence (n >= 1, |x| < 1).
fn legendre_and_derivative(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    for k in 1..n {
        let kf = k as f64;
        let p2 = ((2.0 * kf + 1.0) * x * p1 - kf * p0) / (kf + 1.0);
        p0 = p1;
        p1 = p2;
    }
    let d = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

impl GaussLegendre {
    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Nodes on [-1, 1], increasing.
    pub(crate) fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// Weights (they sum to 2).
    pub(crate) fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// (node, weight) pairs on [-1, 1].
    pub(crate) fn iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.nodes.iter().copied().zip(self.weights.iter().copied())
    }

    /// The rule applied to `f` on [a, b]: (b - a)/2 sum_k w_k f((a + b)/2 + (b - a)/2 x_k).
    pub(crate) fn integrate<F: FnMut(f64) -> f64>(&self, a: f64, b: f64, mut f: F) -> f64 {
        let c = 0.5 * (a + b);
        let h = 0.5 * (b - a);
        let s: f64 = self.iter().map(|(x, w)| w * f(c + h * x)).sum();
        s * h
    }

    /// The (node, weight) pairs with node > 0: for an integrand that is even about 0,
    /// ∫_0^1 f = sum over these of w_k f(x_k), exact for even polynomials of degree up to
    /// 2n - 2 with n nodes in all. Unlike a rule on [0, 1], its nodes keep a distance of
    /// about pi/(2n) from 0, which matters where f is computed as a ratio of two quantities
    /// that both vanish at 0 (a turning point).
    pub(crate) fn positive_half(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.iter().filter(|&(x, _)| x > 0.0)
    }
}

/// A root of `f` in the bracket [a, b] by Brent's method (Brent 1973, ch. 4; the `zeroin`
/// algorithm): inverse quadratic interpolation or secant steps, safeguarded by bisection,
/// so that convergence is superlinear for smooth `f` and never slower than bisection.
///
/// `fa = f(a)` and `fb = f(b)` are passed in because callers usually have them from
/// bracketing. Converges when the bracket is narrower than `2 (xtol + 2 eps |x|)`; returns
/// `None` if the values do not bracket a root (same sign, or NaN) or after 200 iterations.
pub(crate) fn brent<F: FnMut(f64) -> f64>(
    mut f: F,
    a: f64,
    b: f64,
    fa: f64,
    fb: f64,
    xtol: f64,
) -> Option<f64> {
    if fa == 0.0 {
        return Some(a);
    }
    if fb == 0.0 {
        return Some(b);
    }
    if !(fa.is_finite() && fb.is_finite()) || fa.signum() == fb.signum() {
        return None;
    }
    let mut s = BrentState::new(a, b, fa, fb);
    for _ in 0..200 {
        let tol = 2.0 * f64::EPSILON * s.b.abs() + 0.5 * xtol;
        let m = 0.5 * (s.c - s.b);
        if m.abs() <= tol || s.fb == 0.0 {
            return Some(s.b);
        }
        s.step(m, tol);
        let fb = f(s.b);
        if fb.is_nan() {
            return None;
        }
        s.update(fb);
    }
    None
}

/// Brent's iterate: `b` the best estimate, `c` the other end of the bracket, `a` the
/// previous `b`; `d` the last step, `e` the step before it.
struct BrentState {
    a: f64,
    b: f64,
    c: f64,
    fa: f64,
    fb: f64,
    fc: f64,
    d: f64,
    e: f64,
}

impl BrentState {
    fn new(a: f64, b: f64, fa: f64, fb: f64) -> Self {
        let mut s = BrentState {
            a,
            b,
            c: a,
            fa,
            fb,
            fc: fa,
            d: b - a,
            e: b - a,
        };
        s.keep_best();
        s
    }

    /// Make `b` the end with the smaller |f| (the best estimate), `c` the other end.
    fn keep_best(&mut self) {
        if self.fc.abs() < self.fb.abs() {
            self.a = self.b;
            self.fa = self.fb;
            self.b = self.c;
            self.fb = self.fc;
            self.c = self.a;
            self.fc = self.fa;
        }
    }

    /// Move `b` by interpolation when that is safe, else by bisection (`m` = half bracket).
    fn step(&mut self, m: f64, tol: f64) {
        if self.e.abs() >= tol && self.fa.abs() > self.fb.abs() {
            let s = self.fb / self.fa;
            let (mut p, mut q) = if self.a == self.c {
                (2.0 * m * s, 1.0 - s)
            } else {
                let q = self.fa / self.fc;
                let r = self.fb / self.fc;
                (
                    s * (2.0 * m * q * (q - r) - (self.b - self.a) * (r - 1.0)),
                    (q - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((self.e * q).abs()) {
                self.e = self.d;
                self.d = p / q;
            } else {
                self.d = m;
                self.e = m;
            }
        } else {
            self.d = m;
            self.e = m;
        }
        self.a = self.b;
        self.fa = self.fb;
        self.b += if self.d.abs() > tol {
            self.d
        } else {
            tol.copysign(m)
        };
    }

    /// Take the new value f(b) and restore the bracket [b, c].
    fn update(&mut self, fb: f64) {
        self.fb = fb;
        if (self.fb > 0.0) == (self.fc > 0.0) {
            self.c = self.a;
            self.fc = self.fa;
            self.d = self.b - self.a;
            self.e = self.d;
        }
        self.keep_best();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_is_exact_for_polynomials_and_accurate_for_smooth_functions() {
        for n in [1usize, 2, 5, 10, 24, 64, 200] {
            let gl = gauss_legendre(n);
            assert_eq!(gl.len(), n);
            let wsum: f64 = gl.weights().iter().sum();
            assert!((wsum - 2.0).abs() < 1e-14, "n={n} weights sum {wsum}");
            assert!(
                gl.nodes().windows(2).all(|w| w[0] < w[1]),
                "n={n} nodes not increasing"
            );
            // x^(2n-2) integrates exactly to 2/(2n-1) on [-1, 1].
            let k = 2 * n - 2;
            let v = gl.integrate(-1.0, 1.0, |x| x.powi(k as i32));
            let exact = 2.0 / (k as f64 + 1.0);
            assert!((v - exact).abs() < 1e-14 * (n as f64), "n={n}: {v} vs {exact}");
        }
        let gl = gauss_legendre(20);
        let v = gl.integrate(0.0, std::f64::consts::PI, f64::sin);
        assert!((v - 2.0).abs() < 1e-15, "{v}");
        let v = gl.integrate(0.0, 1.0, f64::exp);
        assert!((v - (1f64.exp() - 1.0)).abs() < 1e-15, "{v}");
    }

    #[test]
    fn positive_half_integrates_even_functions_on_the_unit_interval() {
        let gl = gauss_legendre(16);
        assert_eq!(gl.positive_half().count(), 8);
        let v: f64 = gl.positive_half().map(|(x, w)| w * x.powi(14)).sum();
        assert!((v - 1.0 / 15.0).abs() < 1e-15, "{v}");
        let v: f64 = gl.positive_half().map(|(x, w)| w * x.cosh()).sum();
        assert!((v - 1f64.sinh()).abs() < 1e-15, "{v}");
    }

    #[test]
    fn gauss_legendre_matches_tabulated_five_point_rule() {
        let gl = gauss_legendre(5);
        let x2 = (5.0 - 2.0 * (10.0f64 / 7.0).sqrt()).sqrt() / 3.0;
        let w2 = (322.0 + 13.0 * 70f64.sqrt()) / 900.0;
        assert!((gl.nodes()[3] - x2).abs() < 1e-16);
        assert!((gl.weights()[3] - w2).abs() < 1e-15);
        assert!((gl.weights()[2] - 128.0 / 225.0).abs() < 1e-15);
    }

    #[test]
    fn brent_finds_roots_and_rejects_non_brackets() {
        let r = brent(|x| x * x * x - 2.0, 0.0, 5.0, -2.0, 123.0, 1e-15).unwrap();
        assert!((r - 2f64.cbrt()).abs() < 1e-14, "{r}");
        // A root at the flat end of a steep function.
        let f = |x: f64| (x - 1e-3).powi(3) * 1e6;
        let r = brent(f, 0.0, 1.0, f(0.0), f(1.0), 1e-15).unwrap();
        assert!((r - 1e-3).abs() < 1e-6, "{r}");
        let g = |x: f64| (10.0 * x).tanh() - 0.3;
        let r = brent(g, -1.0, 1.0, g(-1.0), g(1.0), 1e-15).unwrap();
        assert!((r - 0.3f64.atanh() / 10.0).abs() < 1e-15, "{r}");
        assert!(brent(|x| x * x + 1.0, -1.0, 1.0, 2.0, 2.0, 1e-12).is_none());
        assert!(brent(|x| x, -1.0, 1.0, f64::NAN, 1.0, 1e-12).is_none());
    }
}
