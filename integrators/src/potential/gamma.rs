//! The gamma function and incomplete gamma functions needed by the power-law-with-cutoff
//! sphere (Numerical Recipes 3rd ed. §6.1-6.2: series below y = s + 1, Lentz continued
//! fraction above; Lanczos approximation with Godfrey's g = 607/128 coefficients for
//! ln Gamma). Relative accuracy ~1e-15 for the arguments used here (0 < s <= 1.5).
//! The incomplete functions cost 0.1-1 us a call: the sphere evaluates them once per
//! table node at construction ([`super::cutoff_table`]), not per point.

use std::f64::consts::PI;

const EPS: f64 = 1e-16;
const FPMIN: f64 = 1e-300;
const MAX_ITER: usize = 10_000;

const LANCZOS_G: f64 = 607.0 / 128.0;
const LANCZOS: [f64; 15] = [
    0.999_999_999_999_997_1,
    57.156_235_665_862_92,
    -59.597_960_355_475_49,
    14.136_097_974_741_747,
    -0.491_913_816_097_620_2,
    3.399_464_998_481_189e-5,
    4.652_362_892_704_858e-5,
    -9.837_447_530_487_956e-5,
    1.580_887_032_249_125e-4,
    -2.102_644_417_241_049e-4,
    2.174_396_181_152_126_5e-4,
    -1.643_181_065_367_639e-4,
    8.441_822_398_385_275e-5,
    -2.619_083_840_158_141e-5,
    3.689_918_265_953_162_4e-6,
];

/// ln Gamma(x) for x > 0.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Gamma(x) = Gamma(x + 1) / x keeps the Lanczos sum in its accurate range.
        return ln_gamma(x + 1.0) - x.ln();
    }
    let z = x - 1.0;
    let mut sum = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (z + i as f64);
    }
    let t = z + LANCZOS_G + 0.5;
    0.5 * (2.0 * PI).ln() + (z + 0.5) * t.ln() - t + sum.ln()
}

/// Gamma(x) for x > 0.
pub(crate) fn gamma(x: f64) -> f64 {
    ln_gamma(x).exp()
}

/// Above this y, Gamma(s, y) < y^(s-1) e^-y is below 1e-25 for s <= 1.5: treated as 0.
const UPPER_NEGLIGIBLE: f64 = 60.0;

/// Upper incomplete gamma Gamma(s, y) = int_y^inf t^(s-1) e^-t dt by continued fraction
/// (converges fast for y >= s + 1); 0 above [`UPPER_NEGLIGIBLE`].
fn upper_cf(s: f64, y: f64) -> f64 {
    if y > UPPER_NEGLIGIBLE {
        return 0.0;
    }
    let mut b = y + 1.0 - s;
    let mut c = 1.0 / FPMIN;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_ITER {
        let an = -(i as f64) * (i as f64 - s);
        b += 2.0;
        d = an * d + b;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = b + an / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    (-y + s * y.ln()).exp() * h
}

/// gamma(s, y) / y^s with gamma(s, y) = int_0^y t^(s-1) e^-t dt (lower, unregularised);
/// finite at y = 0, where it is 1/s. `gamma_s` must be Gamma(s) (callers cache it).
pub(crate) fn lower_gamma_scaled(s: f64, gamma_s: f64, y: f64) -> f64 {
    if y < s + 1.0 {
        // e^-y sum_n y^n / (s (s+1) ... (s+n))
        let mut term = 1.0 / s;
        let mut sum = term;
        let mut ap = s;
        for _ in 0..MAX_ITER {
            ap += 1.0;
            term *= y / ap;
            sum += term;
            if term.abs() < sum.abs() * EPS {
                break;
            }
        }
        sum * (-y).exp()
    } else {
        (gamma_s - upper_cf(s, y)) * y.powf(-s)
    }
}

/// Lower incomplete gamma gamma(s, y) (unregularised); `gamma_s` must be Gamma(s). The
/// reference the tables are tested against.
#[cfg(test)]
pub(crate) fn lower_gamma(s: f64, gamma_s: f64, y: f64) -> f64 {
    if y <= 0.0 {
        return 0.0;
    }
    if y < s + 1.0 {
        lower_gamma_scaled(s, gamma_s, y) * y.powf(s)
    } else {
        gamma_s - upper_cf(s, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn gamma_values() {
        close(gamma(0.5), PI.sqrt(), 1e-15);
        close(gamma(1.0), 1.0, 1e-15);
        close(gamma(1.5), 0.5 * PI.sqrt(), 1e-15);
        close(gamma(5.0), 24.0, 1e-14);
        close(gamma(0.1), 9.513_507_698_668_732, 1e-15);
        close(gamma(0.6), 1.489_192_248_812_817, 1e-15);
    }

    #[test]
    fn incomplete_gamma_values() {
        // gamma(1, y) = 1 - e^-y; gamma(1/2, y) = sqrt(pi) erf(sqrt(y)) (erf from tables)
        for y in [1e-6, 0.3, 1.0, 1.9, 2.1, 7.0, 40.0] {
            close(lower_gamma(1.0, 1.0, y), -(-y).exp_m1(), 1e-14);
        }
        close(
            lower_gamma(0.5, PI.sqrt(), 1.0),
            PI.sqrt() * 0.842_700_792_949_714_9,
            1e-14,
        );
        close(
            lower_gamma(0.5, PI.sqrt(), 4.0),
            PI.sqrt() * 0.995_322_265_018_952_7,
            1e-14,
        );
        // gamma(3/2, y) = gamma(1/2, y)/2 - sqrt(y) e^-y
        let y: f64 = 4.0;
        close(
            lower_gamma(1.5, 0.5 * PI.sqrt(), y),
            0.5 * PI.sqrt() * 0.995_322_265_018_952_7 - y.sqrt() * (-y).exp(),
            1e-14,
        );
        close(lower_gamma_scaled(0.6, gamma(0.6), 0.0), 1.0 / 0.6, 1e-15);
        // both branches agree at the switch
        for s in [0.1, 0.6, 1.5] {
            let y = s + 1.0;
            let g = gamma(s);
            close(lower_gamma(s, g, y * (1.0 - 1e-13)), lower_gamma(s, g, y), 1e-13);
            // and the negligible upper part is negligible
            let big = UPPER_NEGLIGIBLE;
            close(lower_gamma(s, g, big), g, 1e-16);
            assert!(upper_cf(s, big * (1.0 - 1e-15)) < 1e-24 * g);
        }
    }
}
