//! Per-stream sums and means of rows grouped by a [`StreamLayout`] (each stream's rows one
//! after the other), and per-stream values spread back over their rows, as tensor ops that
//! carry gradients.
//!
//! Streams of one length are reshaped to `[G,N,k]` (so that uniform data give the numbers of a
//! plain reshape, to the last bit); streams of different lengths are
//! summed with `index_add` over each row's stream index and spread back with
//! `index_select`, so no stream is padded and none sees another's values.

use candle_core::{Result, Tensor};

use crate::dataset::StreamLayout;

/// The stream index of every row, as `[B]` u32 on the device of `like`.
fn row_streams(layout: &StreamLayout, like: &Tensor) -> Result<Tensor> {
    let index: Vec<u32> = layout.stream_of_rows().into_iter().map(|s| s as u32).collect();
    let rows = index.len();
    Tensor::from_vec(index, rows, like.device())
}

/// `[G,k]` sums over each stream's rows of `values` (`[B,k]`).
pub fn sum(values: &Tensor, layout: &StreamLayout) -> Result<Tensor> {
    let (_, k) = values.dims2()?;
    let g = layout.n_streams();
    if let Some(n) = layout.uniform_stars() {
        return values.reshape((g, n, k))?.sum(1);
    }
    let index = row_streams(layout, values)?;
    Tensor::zeros((g, k), values.dtype(), values.device())?.index_add(&index, &values.contiguous()?, 0)
}

/// `[G,k]` means over each stream's rows of `values` (`[B,k]`).
pub fn mean(values: &Tensor, layout: &StreamLayout) -> Result<Tensor> {
    let (_, k) = values.dims2()?;
    let g = layout.n_streams();
    if let Some(n) = layout.uniform_stars() {
        return values.reshape((g, n, k))?.mean(1);
    }
    let inverse: Vec<f64> = layout.lengths().iter().map(|&n| 1.0 / n as f64).collect();
    let inverse = Tensor::from_vec(inverse, (g, 1), values.device())?.to_dtype(values.dtype())?;
    sum(values, layout)?.broadcast_mul(&inverse)
}

/// `[B,k]`: each stream's row of `per_stream` (`[G,k]`) repeated over its rows.
pub fn expand(per_stream: &Tensor, layout: &StreamLayout) -> Result<Tensor> {
    let (groups, width) = per_stream.dims2()?;
    if let Some(n) = layout.uniform_stars() {
        return per_stream
            .unsqueeze(1)?
            .broadcast_as((groups, n, width))?
            .reshape((groups * n, width));
    }
    per_stream
        .contiguous()?
        .index_select(&row_streams(layout, per_stream)?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn ragged_means_and_expansion_follow_the_streams() {
        let layout = StreamLayout::from_lengths(&[1, 3]);
        let v = Tensor::new(&[[1.0, 2.0], [3.0, 0.0], [5.0, 0.0], [7.0, 3.0]], &Device::Cpu).unwrap();
        let m = mean(&v, &layout).unwrap().to_vec2::<f64>().unwrap();
        assert_eq!(m, [[1.0, 2.0], [5.0, 1.0]]);
        let e = expand(&Tensor::new(&[[1.0], [2.0]], &Device::Cpu).unwrap(), &layout).unwrap();
        assert_eq!(
            e.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            [1.0, 2.0, 2.0, 2.0]
        );
    }

    #[test]
    fn ragged_means_carry_gradients() {
        let layout = StreamLayout::from_lengths(&[2, 3]);
        let x = Var::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], (5, 1), &Device::Cpu).unwrap();
        let loss = expand(&mean(x.as_tensor(), &layout).unwrap(), &layout)
            .unwrap()
            .sum_all()
            .unwrap();
        let g = loss.backward().unwrap();
        let g = g.get(x.as_tensor()).unwrap().flatten_all().unwrap();
        // Each stream's mean is counted once per row: d/dx = 1 for every row.
        let g = g.to_vec1::<f64>().unwrap();
        assert!(g.iter().all(|&d| (d - 1.0).abs() < 1e-15), "{g:?}");
    }

    #[test]
    fn uniform_layouts_reshape() {
        let layout = StreamLayout::uniform(2, 2);
        let v = Tensor::new(&[[1.0], [3.0], [5.0], [9.0]], &Device::Cpu).unwrap();
        let m = mean(&v, &layout).unwrap().to_vec2::<f64>().unwrap();
        assert_eq!(m, [[2.0], [7.0]]);
        assert_eq!(
            sum(&v, &layout).unwrap().to_vec2::<f64>().unwrap(),
            [[4.0], [14.0]]
        );
    }
}
