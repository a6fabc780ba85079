//! Small numerical helpers for the samplers: adaptive Gauss–Kronrod quadrature, a
//! safeguarded Newton root finder and a monotone (PCHIP) interpolant.

use std::collections::BinaryHeap;

/// Gauss–Kronrod 15-point abscissae on [-1, 1] (non-negative half, QUADPACK `qk15`).
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Kronrod weights for [`XGK`].
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Gauss 7-point weights for the abscissae XGK[1], XGK[3], XGK[5], XGK[7].
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// One G7–K15 panel on [a, b]: (Kronrod value, |Kronrod − Gauss|).
fn gk15<F: Fn(f64) -> f64>(f: &F, a: f64, b: f64) -> (f64, f64) {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = f(c);
    let mut k = WGK[7] * fc;
    let mut g = WG[3] * fc;
    for j in 0..7 {
        let dx = h * XGK[j];
        let s = f(c - dx) + f(c + dx);
        k += WGK[j] * s;
        if j % 2 == 1 {
            g += WG[j / 2] * s;
        }
    }
    (k * h, ((k - g) * h).abs())
}

/// Adaptive Gauss–Kronrod quadrature of `f` over [a, b].
///
/// The interval is first cut into `pieces` equal panels; the panel with the largest error
/// estimate is bisected until the summed estimate is below `max(abs_tol, rel_tol |I|)` or
/// `max_panels` is reached. Returns (integral, error estimate). A non-finite integrand value
/// makes the result non-finite, which callers check.
pub(crate) fn integrate<F: Fn(f64) -> f64>(
    f: F,
    a: f64,
    b: f64,
    pieces: usize,
    rel_tol: f64,
    abs_tol: f64,
    max_panels: usize,
) -> (f64, f64) {
    let pieces = pieces.max(1);
    let mut heap: BinaryHeap<Panel> = BinaryHeap::with_capacity(pieces * 4);
    let (mut total, mut err) = (0.0, 0.0);
    for i in 0..pieces {
        let lo = a + (b - a) * i as f64 / pieces as f64;
        let hi = a + (b - a) * (i + 1) as f64 / pieces as f64;
        let (v, e) = gk15(&f, lo, hi);
        total += v;
        err += e;
        heap.push(Panel {
            lo,
            hi,
            value: v,
            err: e,
        });
    }
    loop {
        if !total.is_finite() || !err.is_finite() {
            return (f64::NAN, f64::INFINITY);
        }
        if err <= abs_tol.max(rel_tol * total.abs()) || heap.len() >= max_panels {
            // Re-sum to shed the drift of the running updates.
            let total: f64 = heap.iter().map(|p| p.value).sum();
            let err: f64 = heap.iter().map(|p| p.err).sum();
            return (total, err);
        }
        let Some(worst) = heap.pop() else {
            return (total, err);
        };
        let mid = 0.5 * (worst.lo + worst.hi);
        if mid <= worst.lo || mid >= worst.hi {
            // Panel cannot be split further in f64: accept what we have.
            heap.push(worst);
            let total: f64 = heap.iter().map(|p| p.value).sum();
            let err: f64 = heap.iter().map(|p| p.err).sum();
            return (total, err);
        }
        let (v1, e1) = gk15(&f, worst.lo, mid);
        let (v2, e2) = gk15(&f, mid, worst.hi);
        total += v1 + v2 - worst.value;
        err += e1 + e2 - worst.err;
        heap.push(Panel {
            lo: worst.lo,
            hi: mid,
            value: v1,
            err: e1,
        });
        heap.push(Panel {
            lo: mid,
            hi: worst.hi,
            value: v2,
            err: e2,
        });
    }
}

/// A quadrature panel, ordered by its error estimate (largest first out of the heap).
struct Panel {
    lo: f64,
    hi: f64,
    value: f64,
    err: f64,
}

impl PartialEq for Panel {
    fn eq(&self, other: &Self) -> bool {
        self.err.total_cmp(&other.err).is_eq()
    }
}
impl Eq for Panel {}
impl PartialOrd for Panel {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Panel {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.err.total_cmp(&other.err)
    }
}

/// Root of a monotone increasing function `g` on the bracket [lo, hi] (g(lo) <= 0 <= g(hi)),
/// by Newton steps from `x0` (the bracket's middle if `x0` is outside it) that fall back to
/// bisection when they leave the bracket. `g` returns (value, derivative). Converges to
/// |step| < `tol` (absolute, in the variable).
pub(crate) fn newton_bisect<G: Fn(f64) -> (f64, f64)>(
    g: G,
    x0: f64,
    mut lo: f64,
    mut hi: f64,
    tol: f64,
) -> f64 {
    let mut x = if x0 > lo && x0 < hi { x0 } else { 0.5 * (lo + hi) };
    for _ in 0..200 {
        let (v, d) = g(x);
        if v == 0.0 {
            return x;
        }
        if v < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - v / d;
        let next = if d > 0.0 && newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() < tol || hi - lo < tol {
            return next;
        }
        x = next;
    }
    x
}

/// Monotone piecewise-cubic Hermite interpolant (Fritsch & Carlson 1980, with the
/// Fritsch & Butland 1984 harmonic-mean slopes): on each interval the interpolant is monotone
/// and stays between the two node values, so it never overshoots. Outside the nodes it
/// continues linearly with the end slopes given at construction.
#[derive(Clone, Debug)]
pub(crate) struct Pchip {
    x: Vec<f64>,
    y: Vec<f64>,
    d: Vec<f64>,
    slope_lo: f64,
    slope_hi: f64,
}

impl Pchip {
    /// Nodes must be strictly increasing in `x` and number at least 2.
    pub(crate) fn new(x: Vec<f64>, y: Vec<f64>) -> Self {
        let n = x.len();
        let h: Vec<f64> = (0..n - 1).map(|i| x[i + 1] - x[i]).collect();
        let s: Vec<f64> = (0..n - 1).map(|i| (y[i + 1] - y[i]) / h[i]).collect();
        let mut d = vec![0.0; n];
        d[0] = s[0];
        d[n - 1] = s[n - 2];
        for i in 1..n - 1 {
            if s[i - 1] * s[i] > 0.0 {
                let w1 = 2.0 * h[i] + h[i - 1];
                let w2 = h[i] + 2.0 * h[i - 1];
                d[i] = (w1 + w2) / (w1 / s[i - 1] + w2 / s[i]);
            }
        }
        let slope_lo = s[0];
        let slope_hi = s[n - 2];
        Self {
            x,
            y,
            d,
            slope_lo,
            slope_hi,
        }
    }

    /// Replace the slopes used to extrapolate below the first and above the last node.
    pub(crate) fn with_end_slopes(mut self, lo: f64, hi: f64) -> Self {
        self.slope_lo = lo;
        self.slope_hi = hi;
        self
    }

    /// Index i of the interval [x_i, x_{i+1}] that holds `t` (clamped to the table).
    pub(crate) fn interval(&self, t: f64) -> usize {
        let n = self.x.len();
        match self.x.partition_point(|&xi| xi <= t) {
            0 => 0,
            p if p >= n => n - 2,
            p => p - 1,
        }
    }

    /// The interpolant at `t`.
    pub(crate) fn eval(&self, t: f64) -> f64 {
        let n = self.x.len();
        if t <= self.x[0] {
            return self.y[0] + self.slope_lo * (t - self.x[0]);
        }
        if t >= self.x[n - 1] {
            return self.y[n - 1] + self.slope_hi * (t - self.x[n - 1]);
        }
        let i = self.interval(t);
        let h = self.x[i + 1] - self.x[i];
        let u = (t - self.x[i]) / h;
        let u2 = u * u;
        let u3 = u2 * u;
        let h00 = 2.0 * u3 - 3.0 * u2 + 1.0;
        let h10 = u3 - 2.0 * u2 + u;
        let h01 = -2.0 * u3 + 3.0 * u2;
        let h11 = u3 - u2;
        h00 * self.y[i] + h10 * h * self.d[i] + h01 * self.y[i + 1] + h11 * h * self.d[i + 1]
    }

    pub(crate) fn xs(&self) -> &[f64] {
        &self.x
    }

    pub(crate) fn ys(&self) -> &[f64] {
        &self.y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_kronrod_integrates_smooth_and_peaked_functions() {
        let (v, _) = integrate(|x: f64| x.sin(), 0.0, std::f64::consts::PI, 1, 1e-13, 0.0, 100);
        assert!((v - 2.0).abs() < 1e-13, "{v}");
        // Lorentzian peak of width 1e-4 at the left end.
        let w = 1e-4;
        let (v, _) = integrate(|x: f64| w / (x * x + w * w), 0.0, 1.0, 4, 1e-12, 0.0, 2000);
        let exact = (1.0 / w).atan();
        assert!((v - exact).abs() < 1e-10, "{v} vs {exact}");
    }

    #[test]
    fn newton_bisect_finds_roots() {
        let r = newton_bisect(|x| (x.powi(3) - 2.0, 3.0 * x * x), 4.0, 0.0, 5.0, 1e-15);
        assert!((r - 2f64.cbrt()).abs() < 1e-14);
        // A derivative that lies (zero) forces bisection, which still converges.
        let r = newton_bisect(|x| (x - 0.3, 0.0), f64::NAN, 0.0, 1.0, 1e-14);
        assert!((r - 0.3).abs() < 1e-13);
    }

    #[test]
    fn pchip_is_monotone_and_exact_on_nodes() {
        let x: Vec<f64> = (0..10).map(|i| (i as f64).powf(1.3)).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|&t| if t < 4.0 { t * t } else { 16.0 + (t - 4.0) * 0.01 })
            .collect();
        let p = Pchip::new(x.clone(), y.clone());
        for (xi, yi) in x.iter().zip(&y) {
            assert!((p.eval(*xi) - yi).abs() < 1e-12);
        }
        let mut last = f64::NEG_INFINITY;
        for k in 0..=1000 {
            let t = x[9] * k as f64 / 1000.0;
            let v = p.eval(t);
            assert!(v >= last - 1e-12, "not monotone at {t}");
            last = v;
        }
    }
}
