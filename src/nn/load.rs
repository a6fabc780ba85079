//! Weights read from a safetensors file, every value required finite: a network holding NaN
//! or infinity gives NaN (or nonsense) for every point it is applied to, so such a file is
//! refused where it is read, naming the tensor.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

/// The tensors of the safetensors file `path` on `device`; an error (without the file name,
/// for the caller to add) when the file cannot be read or a tensor holds a non-finite value.
pub fn finite_tensors(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>, String> {
    let tensors = candle_core::safetensors::load(path, device).map_err(|e| e.to_string())?;
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    for name in names {
        if let Some((k, value)) = first_non_finite(&tensors[name]).map_err(|e| e.to_string())? {
            return Err(format!(
                "tensor {name} holds a non-finite value ({value} at element {k}): the weights are damaged"
            ));
        }
    }
    Ok(tensors)
}

/// The first non-finite element of `t` (in row-major order) and its value.
fn first_non_finite(t: &Tensor) -> candle_core::Result<Option<(usize, f64)>> {
    let values = t.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
    Ok(values.into_iter().enumerate().find(|(_, v)| !v.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_weight_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let good = Tensor::new(&[1.0f64, 2.0], &Device::Cpu).unwrap();
        let bad = Tensor::new(&[[0.5f64, f64::NAN]], &Device::Cpu).unwrap();
        let map: HashMap<String, Tensor> = [("a.w".to_string(), good), ("b.w".to_string(), bad)].into();
        candle_core::safetensors::save(&map, &path).unwrap();
        let e = finite_tensors(&path, &Device::Cpu).unwrap_err();
        assert!(e.contains("tensor b.w") && e.contains("NaN at element 1"), "{e}");
    }
}
