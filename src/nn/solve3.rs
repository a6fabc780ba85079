//! A batch of 3x3 linear systems solved by Cramer's rule in tensor ops (differentiable).
//!
//! The point transform needs `J'' = (dtheta'/dtheta'')^T J'` (paper eq. 8), i.e. the
//! solution `y` of `M y = J'` with `M_jk = dtheta''_k / dtheta'_j`: candle has no batched
//! inverse, and an explicit 3x3 rule costs a few dozen elementwise ops.

use candle_core::{Result, Tensor};

/// `det M` by cofactors along the first row.
fn det(m: &[[&Tensor; 3]; 3]) -> Result<Tensor> {
    let minor = |a: &Tensor, b: &Tensor, c: &Tensor, d: &Tensor| (a * b)? - (c * d)?;
    let c0 = minor(m[1][1], m[2][2], m[1][2], m[2][1])?;
    let c1 = minor(m[1][0], m[2][2], m[1][2], m[2][0])?;
    let c2 = minor(m[1][0], m[2][1], m[1][1], m[2][0])?;
    ((m[0][0] * c0)? - (m[0][1] * c1)?)? + (m[0][2] * c2)?
}

/// Solve `M y = v` for every row of the batch: `y_i = det(M with column i := v) / det M`.
/// `m` as nine `[B]` tensors `m[j][k]`, `v` as three `[B]` tensors; returns `y` as `[B, 3]` and `det M`.
pub fn solve(m: &[[Tensor; 3]; 3], v: &[Tensor; 3]) -> Result<(Tensor, Tensor)> {
    let refs = |col: Option<usize>| -> [[&Tensor; 3]; 3] {
        std::array::from_fn(|j| std::array::from_fn(|k| if col == Some(k) { &v[j] } else { &m[j][k] }))
    };
    let d = det(&refs(None))?;
    let y = (0..3)
        .map(|i| det(&refs(Some(i)))?.div(&d))
        .collect::<Result<Vec<_>>>()?;
    Ok((Tensor::stack(&y, 1)?, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Rows `[B, 3, 3]` as nine `[B]` tensors `m[j][k]`.
    fn entries(m: &Tensor) -> Result<[[Tensor; 3]; 3]> {
        let get = |j: usize, k: usize| m.narrow(1, j, 1)?.narrow(2, k, 1)?.flatten_all();
        Ok(std::array::from_fn(|j| {
            std::array::from_fn(|k| get(j, k).unwrap())
        }))
    }

    #[test]
    fn solves_random_systems() {
        let dev = Device::Cpu;
        let rows = 5;
        let a: Vec<f64> = (0..rows * 9)
            .map(|i| ((i * 53 % 97) as f64 / 40.0) - 1.1)
            .collect();
        let b: Vec<f64> = (0..rows * 3)
            .map(|i| ((i * 29 % 31) as f64 / 7.0) - 2.0)
            .collect();
        let m = Tensor::from_vec(a.clone(), (rows, 3, 3), &dev).unwrap();
        let v = Tensor::from_vec(b.clone(), (rows, 3), &dev).unwrap();
        let cols: [Tensor; 3] = std::array::from_fn(|k| v.narrow(1, k, 1).unwrap().flatten_all().unwrap());
        let (y, _) = solve(&entries(&m).unwrap(), &cols).unwrap();
        let y = y.to_vec2::<f64>().unwrap();
        for r in 0..rows {
            for j in 0..3 {
                let lhs: f64 = (0..3).map(|k| a[r * 9 + j * 3 + k] * y[r][k]).sum();
                assert!(
                    (lhs - b[r * 3 + j]).abs() < 1e-10,
                    "row {r} eq {j}: {lhs} vs {}",
                    b[r * 3 + j]
                );
            }
        }
    }
}
