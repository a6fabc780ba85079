//! Least-squares polish of the field's output layer.
//!
//! The field is linear in the output layer's weights (a sum of fixed features), so the loss
//! residual of [`super::loss::residuals`] is affine in them: `r(w) = r_0 + K w`. After Adam,
//! the exact minimiser `(K^T K + lambda I) w = -K^T r_0` (a tiny ridge `lambda` keeps it
//! well posed) replaces the last layer: the last digits Adam cannot reach.

use candle_core::{Result, Tensor};
use nalgebra::{DMatrix, DVector};

use super::loss::{residuals, FieldRows, LossWeights};
use super::FieldModel;

/// Relative ridge: `lambda = RIDGE * trace(K^T K) / columns`.
const RIDGE: f64 = 1e-12;

/// Replace the output layer of `model` by the least-squares solution on `rows`. Returns false
/// (and leaves the layer as it was) when the system cannot be solved.
pub fn polish(model: &FieldModel, rows: &FieldRows, weights: LossWeights) -> Result<bool> {
    let params = output_params(model)?;
    let before: Vec<Tensor> = params
        .iter()
        .map(|v| v.as_tensor().copy())
        .collect::<Result<_>>()?;
    let residual = |m: &FieldModel| -> Result<Vec<f64>> {
        let w = m.net.weights()?.detach();
        residuals(&m.spec, &w, rows, weights)?.to_vec1::<f64>()
    };
    for p in &params {
        p.set(&p.zeros_like()?)?;
    }
    let r0 = residual(model)?;
    let mut columns: Vec<Vec<f64>> = Vec::new();
    for p in &params {
        for k in 0..p.elem_count() {
            set_unit(p, k)?;
            let r = residual(model)?;
            columns.push(r.iter().zip(&r0).map(|(a, b)| a - b).collect());
            p.set(&p.zeros_like()?)?;
        }
    }
    match solve(&columns, &r0) {
        Some(w) => {
            let mut offset = 0;
            for p in &params {
                let n = p.elem_count();
                p.set(&Tensor::from_slice(
                    &w[offset..offset + n],
                    p.shape(),
                    p.device(),
                )?)?;
                offset += n;
            }
            Ok(true)
        }
        None => {
            for (p, t) in params.iter().zip(&before) {
                p.set(t)?;
            }
            Ok(false)
        }
    }
}

/// The output layer's weight (and, where it acts, its bias: a constant potential does not).
fn output_params(model: &FieldModel) -> Result<Vec<candle_core::Var>> {
    let mut params = vec![model.var("field.output.weight")?];
    if model.spec.form == super::FieldForm::Vector {
        params.push(model.var("field.output.bias")?);
    }
    Ok(params)
}

fn set_unit(p: &candle_core::Var, k: usize) -> Result<()> {
    let mut v = vec![0.0; p.elem_count()];
    v[k] = 1.0;
    p.set(&Tensor::from_vec(v, p.shape(), p.device())?)
}

/// `argmin |r0 + K w|^2 + lambda |w|^2` by Cholesky on the normal equations.
fn solve(columns: &[Vec<f64>], r0: &[f64]) -> Option<Vec<f64>> {
    let (rows, cols) = (r0.len(), columns.len());
    let k = DMatrix::from_fn(rows, cols, |i, j| columns[j][i]);
    let mut normal = k.tr_mul(&k);
    let lambda = RIDGE * normal.trace() / cols.max(1) as f64;
    for i in 0..cols {
        normal[(i, i)] += lambda;
    }
    let rhs = -k.tr_mul(&DVector::from_column_slice(r0));
    let w = normal.cholesky()?.solve(&rhs);
    w.iter().all(|x| x.is_finite()).then(|| w.as_slice().to_vec())
}
