//! What a request will cost, estimated before anything is allocated: a request that cannot
//! fit in the machine's memory, or that asks for an absurd amount of output, is refused with
//! the flag and the estimate instead of being killed by the kernel hours later.

use anyhow::{bail, Result};

/// The most points (rows of phase space) one command writes or evaluates.
pub const MAX_POINTS: f64 = 1e9;

/// The most integration steps one run takes (about a day on one core).
pub const MAX_STEPS: f64 = 1e12;

/// The share of the available memory one request may plan to use.
const MEMORY_SHARE: f64 = 0.8;

/// Refuses more than [`MAX_POINTS`] points; `what` says what they are, `flags` which flags
/// set their number.
pub fn check_points(flags: &str, what: &str, points: f64) -> Result<()> {
    if points.is_nan() || points > MAX_POINTS {
        bail!("{flags}: {what} would be {points:.3e} points, more than the {MAX_POINTS:.0e} one run may write; ask for fewer");
    }
    Ok(())
}

/// Refuses more than [`MAX_STEPS`] integration steps.
pub fn check_steps(flags: &str, steps: f64) -> Result<()> {
    if steps.is_nan() || steps > MAX_STEPS {
        bail!("{flags}: the integration would take {steps:.3e} steps, more than the {MAX_STEPS:.0e} one run may take; ask for fewer");
    }
    Ok(())
}

/// Refuses a request estimated at `bytes` when it exceeds the memory this machine has
/// available (where the system tells: Linux's MemAvailable).
pub fn check_memory(flags: &str, what: &str, bytes: f64) -> Result<()> {
    let Some(available) = available_memory() else {
        return Ok(());
    };
    if bytes.is_nan() || bytes > MEMORY_SHARE * available as f64 {
        bail!(
            "{flags}: {what} needs about {} of memory, and this machine has {} available; ask for less",
            human_bytes(bytes),
            human_bytes(available as f64)
        );
    }
    Ok(())
}

/// Refuses networks too large for this machine's memory: `inputs` -> `layers` hidden
/// layers of `width` -> `outputs`, trained on `rows` points at a time.
pub fn check_network(
    flags: &str,
    inputs: f64,
    width: usize,
    layers: usize,
    outputs: f64,
    rows: f64,
) -> Result<()> {
    let widths: Vec<f64> = std::iter::once(inputs)
        .chain(std::iter::repeat_n(width as f64, layers))
        .chain([outputs])
        .collect();
    check_memory(flags, "training these networks", network_bytes(&widths, rows))
}

/// Bytes a fully connected network with these layer widths takes to train: the weights,
/// their gradients and the optimiser's two moments, plus `rows` activations and their
/// gradients per layer (f64, with a factor for the derivative passes).
pub fn network_bytes(widths: &[f64], rows: f64) -> f64 {
    const COPIES_PER_WEIGHT: f64 = 4.0;
    const COPIES_PER_ACTIVATION: f64 = 8.0;
    let weights: f64 = widths.windows(2).map(|w| (w[0] + 1.0) * w[1]).sum();
    let activations: f64 = widths.iter().sum::<f64>() * rows;
    8.0 * (COPIES_PER_WEIGHT * weights + COPIES_PER_ACTIVATION * activations)
}

/// Memory available to new allocations, in bytes (Linux's /proc/meminfo; None elsewhere).
/// Read by hand: a system-information crate would pull in far more than these few lines.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

fn human_bytes(b: f64) -> String {
    match b {
        b if b >= 1e12 => format!("{:.3e} TB", b / 1e12),
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b => format!("{:.1} MB", b / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_beyond_the_bound_and_nan_are_refused() {
        check_points("--streams, --stars", "the dataset", 1e6).unwrap();
        for bad in [2e9, f64::NAN, f64::INFINITY] {
            let err = check_points("--streams, --stars", "the dataset", bad).unwrap_err();
            assert!(err.to_string().starts_with("--streams, --stars"), "{err}");
        }
    }

    #[test]
    fn memory_beyond_the_machine_is_refused() {
        if available_memory().is_none() {
            return;
        }
        check_memory("--width", "training", 1e6).unwrap();
        let err = check_memory("--width", "training", 1e18).unwrap_err();
        assert!(err.to_string().contains("TB"), "{err}");
    }

    #[test]
    fn network_bytes_count_weights_and_activations() {
        // 3 -> 4 -> 1: (3+1)*4 + (4+1)*1 = 21 weights; 8 activations per row.
        assert_eq!(
            network_bytes(&[3.0, 4.0, 1.0], 2.0),
            8.0 * (4.0 * 21.0 + 8.0 * 16.0)
        );
    }
}
