//! The compute device named on the command line: `cpu` (default) or `cuda:N` (needs the
//! `cuda` cargo feature).

use anyhow::{bail, Result};
use candle_core::Device;

/// Parse `cpu`, `cuda` or `cuda:N`.
pub fn parse(name: &str) -> Result<Device> {
    let name = name.trim().to_ascii_lowercase();
    if name == "cpu" {
        return Ok(Device::Cpu);
    }
    let Some(rest) = name.strip_prefix("cuda") else {
        bail!("unknown device {name:?}: expected cpu or cuda:N");
    };
    let index: usize = match rest.strip_prefix(':') {
        Some(n) => n
            .parse()
            .map_err(|_| anyhow::anyhow!("bad CUDA device index in {name:?}"))?,
        None if rest.is_empty() => 0,
        None => bail!("unknown device {name:?}: expected cpu or cuda:N"),
    };
    cuda(index)
}

#[cfg(feature = "cuda")]
fn cuda(index: usize) -> Result<Device> {
    Ok(Device::new_cuda(index)?)
}

#[cfg(not(feature = "cuda"))]
fn cuda(index: usize) -> Result<Device> {
    bail!("device cuda:{index} asked for, but this build has no CUDA: rebuild with `--features cuda`")
}

/// A short name for records (`cpu`, `cuda:0`).
pub fn describe(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(_) => match device.location() {
            candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
            other => format!("{other:?}"),
        },
        other => format!("{:?}", other.location()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(matches!(parse("cpu"), Ok(Device::Cpu)));
        assert!(parse("tpu").is_err());
        assert!(parse("cuda:x").is_err());
        #[cfg(not(feature = "cuda"))]
        assert!(parse("cuda:0")
            .unwrap_err()
            .to_string()
            .contains("--features cuda"));
    }
}
