//! Piecewise polynomial tables of smooth functions of `y = (r/rc)^2` on `[0, Y_MAX)`, built
//! once per potential and evaluated in a few nanoseconds: the power-law-with-cut-off sphere
//! keeps `gamma(a, y) / y^a` in them instead of summing the incomplete gamma series or
//! continued fraction at every call.
//!
//! Each unit panel `[k, k + 1)` holds the Chebyshev interpolant of degree [`DEGREE`] at the
//! first-kind nodes (Trefethen 2013, *Approximation Theory and Approximation Practice*,
//! ch. 3-4), rewritten as monomials in `v = y - k - 1/2` and summed by Estrin's scheme.
//! `gamma(a, y) / y^a = int_0^1 u^(a-1) e^(-y u) du` is entire in `y`; on a unit panel its
//! Chebyshev coefficients fall below 1e-16 of its value by degree 11 for every
//! `1/2 <= a <= 3/2` (checked with 40-digit arithmetic), and the interpolant's error is
//! bounded by the sum of the dropped coefficients.
//!
//! [`FixedPower`] gives the cusp factor `y^p` for one fixed `p` from two small tables and a
//! short binomial series, several times faster than `powf`.

use std::f64::consts::PI;

/// Upper end of the tables in `y`; beyond it `Gamma(a, y) / Gamma(a) < 3e-17` for `a <= 3/2`.
pub(super) const Y_MAX: f64 = 40.0;
/// Number of unit panels covering `[0, Y_MAX)`.
const PANELS: usize = 40;
/// Polynomial degree on each panel.
const DEGREE: usize = 11;
/// Coefficients per panel.
const N: usize = DEGREE + 1;

/// A function of `y` on `[0, Y_MAX)` as [`PANELS`] polynomials of degree [`DEGREE`].
#[derive(Clone, Copy, PartialEq)]
pub(super) struct PanelTable {
    /// `coef[k][n]`: coefficient of `v^n`, `v = y - k - 1/2`, on panel `[k, k + 1)`.
    coef: [[f64; N]; PANELS],
}

impl PanelTable {
    /// Interpolates on every panel the `K` functions (smooth on `[0, Y_MAX]`) that `f`
    /// returns together, calling `f` once per node.
    pub(super) fn fit<const K: usize>(f: impl Fn(f64) -> [f64; K]) -> [Self; K] {
        let basis = ChebyshevBasis::new();
        let mut tables = [Self {
            coef: [[0.0; N]; PANELS],
        }; K];
        for k in 0..PANELS {
            let centre = k as f64 + 0.5;
            let values: [[f64; K]; N] = std::array::from_fn(|j| f(centre + basis.nodes[j]));
            for (q, table) in tables.iter_mut().enumerate() {
                table.coef[k] = basis.monomials(&values.map(|v| v[q]));
            }
        }
        tables
    }

    /// The interpolant at `0 <= y < Y_MAX` (callers branch to the asymptotic form above);
    /// a `y` outside the range is clamped to the last panel, NaN gives NaN.
    #[inline]
    pub(super) fn eval(&self, y: f64) -> f64 {
        // `as` saturates (NaN -> 0), `min` keeps the index in range.
        let k = (y as usize).min(PANELS - 1);
        let v = y - (k as f64 + 0.5);
        estrin(&self.coef[k], v)
    }
}

impl std::fmt::Debug for PanelTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PanelTable {{ panels: {PANELS} on [0, {Y_MAX}), degree: {DEGREE} }}"
        )
    }
}

/// Binary exponents `e` of `y = 2^e m` (`1 <= m < 2`) that [`FixedPower`] tabulates:
/// `2^-64 <= y < 2^10`, i.e. `2.3e-10 <= r/rc < 32` (the rest goes to `powf`).
const EXP_MIN: i64 = -64;
const EXP_COUNT: usize = 74;
/// Mantissa bits that pick the sub-interval of `[1, 2)`.
const SUB_BITS: u32 = 8;
const SUBS: usize = 1 << SUB_BITS;
/// Degree of the binomial series of `(1 + z)^p`, `|z| <= 2^-(SUB_BITS+1)`: the first
/// dropped term is below `|binom(p, 7)| 2^-63 < 1e-19` for `|p| <= 3/2`.
const SERIES: usize = 7;

/// `y^p` for a fixed exponent `p`: with `y = 2^e m`, `m` in the sub-interval of `[1, 2)`
/// with centre `c` (`2^8` of them),
/// `y^p = (2^e)^p c^p (1 + z)^p`, `z = (m - c) / c`, the first two factors tabulated
/// (`powf` at construction) and the last a binomial series. Relative error a few 1e-16;
/// `powf` itself outside `2^-64 <= y < 2^10` and for zero, subnormal or non-finite `y`.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct FixedPower {
    p: f64,
    /// `(2^e)^p` for `e = EXP_MIN + k`.
    binade: [f64; EXP_COUNT],
    /// `c_i^p`, `c_i = 1 + (i + 1/2) / 2^SUB_BITS`.
    centre: [f64; SUBS],
    /// `binom(p, n)`, the coefficients of `(1 + z)^p`.
    series: [f64; SERIES],
}

impl FixedPower {
    pub(super) fn new(p: f64) -> Self {
        let binade = std::array::from_fn(|k| (2f64).powi(EXP_MIN as i32 + k as i32).powf(p));
        let centre = std::array::from_fn(|i| sub_centre(i).powf(p));
        let mut series = [1.0; SERIES];
        for n in 1..SERIES {
            series[n] = series[n - 1] * (p - (n - 1) as f64) / n as f64;
        }
        Self {
            p,
            binade,
            centre,
            series,
        }
    }

    /// `y^p` for `y >= 0`.
    #[inline]
    pub(super) fn eval(&self, y: f64) -> f64 {
        let bits = y.to_bits();
        // biased exponent minus that of 2^EXP_MIN: wraps far out of range for y < 2^EXP_MIN
        // (zero and subnormals included) and is too large for y >= 2^(EXP_MIN + EXP_COUNT),
        // infinities, NaN and negative y.
        let k = ((bits >> 52) as i64 - (1023 + EXP_MIN)) as usize;
        match self.binade.get(k) {
            Some(b) => {
                let i = ((bits >> (52 - SUB_BITS)) as usize) & (SUBS - 1);
                let m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
                let c = sub_centre(i);
                let z = (m - c) / c;
                // Horner here: its last step 1 + z (...) rounds once
                let series = self.series.iter().rev().fold(0.0, |acc, &a| acc * z + a);
                b * self.centre[i] * series
            }
            _ => y.powf(self.p),
        }
    }
}

/// `sum_n c_n v^n` by Estrin's scheme (Knuth, TAOCP vol. 2, §4.6.4): pairs `c_2i + c_2i+1 v`
/// are combined as a polynomial in `v^2`, then `v^4`, ...; a dependency chain of
/// `log2(M)` multiply-adds instead of Horner's `M - 1`.
#[inline]
fn estrin<const M: usize>(c: &[f64; M], v: f64) -> f64 {
    let mut buf = *c;
    let (mut len, mut x) = (M, v);
    while len > 1 {
        let half = len.div_ceil(2);
        for i in 0..half {
            let high = if 2 * i + 1 < len { buf[2 * i + 1] } else { 0.0 };
            buf[i] = buf[2 * i] + high * x;
        }
        len = half;
        x *= x;
    }
    buf[0]
}

/// Centre of the `i`-th of the `2^SUB_BITS` equal sub-intervals of `[1, 2)` (exact in f64).
#[inline]
fn sub_centre(i: usize) -> f64 {
    1.0 + (i as f64 + 0.5) / SUBS as f64
}

impl std::fmt::Debug for FixedPower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FixedPower {{ p: {} }}", self.p)
    }
}

/// Chebyshev interpolation on `[-1/2, 1/2]` at the `N` first-kind nodes
/// `v_j = cos(theta_j) / 2`, `theta_j = pi (j + 1/2) / N`.
struct ChebyshevBasis {
    /// `v_j`.
    nodes: [f64; N],
    /// `(2 - delta_m0) / N cos(m theta_j)`, indexed `[m][j]`.
    weights: [[f64; N]; N],
}

impl ChebyshevBasis {
    fn new() -> Self {
        let theta = |j: usize| PI * (j as f64 + 0.5) / N as f64;
        Self {
            nodes: std::array::from_fn(|j| 0.5 * theta(j).cos()),
            weights: std::array::from_fn(|m| {
                let w = if m == 0 { 1.0 } else { 2.0 } / N as f64;
                std::array::from_fn(|j| w * (m as f64 * theta(j)).cos())
            }),
        }
    }

    /// The interpolant of the values `f(v_j)` as monomial coefficients in `v`:
    /// `c_m = (2 - delta_m0) / N sum_j f(v_j) cos(m theta_j)` (Trefethen 2013, ch. 3-4,
    /// for the first-kind nodes), then `sum_m c_m T_m(2 v)` expanded.
    fn monomials(&self, values: &[f64; N]) -> [f64; N] {
        // Transform the differences from one node value and add it back to the constant
        // term: the rounding errors of the sums then scale with the variation over the
        // panel, not with the function's size.
        let base = values[N / 2];
        let cheb = self
            .weights
            .map(|w| w.iter().zip(values).map(|(a, b)| a * (b - base)).sum());
        let mut mono = chebyshev_to_monomial(&cheb);
        mono[0] += base;
        // u = 2 v: the coefficient of v^n is 2^n times that of u^n.
        let mut scale = 1.0;
        for a in mono.iter_mut() {
            *a *= scale;
            scale *= 2.0;
        }
        mono
    }
}

/// Monomial coefficients of `sum_m c_m T_m(u)`, with `T_0 = 1`, `T_1 = u`,
/// `T_(m+1) = 2 u T_m - T_(m-1)` (whose integer coefficients are exact in f64 at this degree).
fn chebyshev_to_monomial(c: &[f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    let (mut prev, mut cur) = ([0.0; N], [0.0; N]);
    prev[0] = 1.0;
    cur[1] = 1.0;
    out[0] = c[0];
    out[1] = c[1];
    for cm in c.iter().skip(2) {
        let next: [f64; N] = std::array::from_fn(|n| if n == 0 { 0.0 } else { 2.0 * cur[n - 1] } - prev[n]);
        for (o, t) in out.iter_mut().zip(next.iter()) {
            *o += cm * t;
        }
        prev = cur;
        cur = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomials_of_the_degree_are_reproduced() {
        // exact for any polynomial of degree <= DEGREE, up to rounding
        let p = |y: f64| (0..=DEGREE).fold(0.0, |acc, n| acc * (y / Y_MAX) + (n as f64 + 1.0));
        let [table] = PanelTable::fit(|y| [p(y)]);
        for i in 0..=4000 {
            let y = Y_MAX * i as f64 / 4000.0 * (1.0 - 1e-16);
            let (a, b) = (table.eval(y), p(y));
            assert!((a - b).abs() < 1e-14 * b.abs(), "{y}: {a} vs {b}");
        }
    }

    #[test]
    fn chebyshev_basis_expands_exactly() {
        // T_5(u) = 16 u^5 - 20 u^3 + 5 u
        let mut c = [0.0; N];
        c[5] = 1.0;
        let m = chebyshev_to_monomial(&c);
        let mut want = [0.0; N];
        (want[1], want[3], want[5]) = (5.0, -20.0, 16.0);
        assert_eq!(m, want);
    }

    #[test]
    fn fixed_power_matches_powf() {
        for p in [-0.995, -0.9, -0.5, -0.15, 0.1, 0.6, 1.5] {
            let power = FixedPower::new(p);
            let mut worst = 0.0_f64;
            // log-uniform over the tabulated range and beyond it on both sides
            for i in 0..=200_000 {
                let y = 10f64.powf(-22.0 + 25.0 * i as f64 / 200_000.0);
                let exact = y.powf(p);
                worst = worst.max(((power.eval(y) - exact) / exact).abs());
            }
            println!("p = {p}: max relative difference from powf {worst:.2e}");
            assert!(worst <= 1e-15, "p = {p}: {worst:e}");
            for y in [
                0.0,
                f64::MIN_POSITIVE / 4.0,
                f64::INFINITY,
                2f64.powi(-64),
                1024.0,
            ] {
                let (a, b) = (power.eval(y), y.powf(p));
                assert!(a == b || ((a - b) / b).abs() < 1e-15, "{y}: {a} vs {b}");
            }
            assert!(power.eval(f64::NAN).is_nan());
        }
    }

    #[test]
    fn out_of_range_arguments_stay_in_the_table() {
        let [table] = PanelTable::fit(|y| [y]);
        assert!(table.eval(f64::NAN).is_nan());
        // extrapolated by the last panel's polynomial: finite, roughly right
        assert!((table.eval(Y_MAX + 0.25) / (Y_MAX + 0.25) - 1.0).abs() < 1e-8);
        assert!(format!("{table:?}").contains("degree: 11"));
    }
}
