//! The checks of `train`'s options, before any work: each refusal names the flag, the value
//! and the range allowed.

use anyhow::Result;

use super::{ToyChoice, TrainConfig};
use crate::dataset::checks::MAX_POSITION_KPC;
use crate::flags::{at_least_one, fraction, in_range, positive, widths};

/// Largest learning rate: Adam moves each weight by about this much per step, and the
/// networks work on inputs and outputs of order one.
pub const MAX_LEARNING_RATE: f64 = 1.0;

/// Largest weight of a loss term: the terms are of order one, so a larger weight only
/// overflows the sum.
pub const MAX_LOSS_WEIGHT: f64 = 1e6;

/// Largest `--min-coverage`, in radial periods.
pub const MAX_COVERAGE: f64 = 1e6;

/// Largest `--time-limit`, seconds: a year.
pub const MAX_TIME_LIMIT_S: f64 = 3.2e7;

/// Largest toy mass (Msun): far above any galaxy cluster.
pub const MAX_TOY_MASS: f64 = 1e20;

impl TrainConfig {
    /// Every option in its range, each refusal naming the command-line flag.
    pub fn check(&self) -> Result<()> {
        at_least_one("--epochs", self.epochs)?;
        at_least_one("--plateau-patience", self.plateau_patience)?;
        at_least_one("--batch-streams", self.batch_streams)?;
        widths("--width", self.width, "--max-width", self.max_width)?;
        at_least_one("--depth-g", self.depth_g)?;
        at_least_one("--depth-p", self.depth_p)?;
        positive("--lr", self.learning_rate, MAX_LEARNING_RATE)?;
        positive(
            "the final learning rate",
            self.final_learning_rate,
            self.learning_rate,
        )?;
        fraction("--dropout", self.dropout)?;
        fraction("--val-fraction", self.val_fraction)?;
        in_range("--alpha1", self.alpha1, 0.0, MAX_LOSS_WEIGHT)?;
        in_range("--time-weight", self.time_weight, 0.0, MAX_LOSS_WEIGHT)?;
        in_range("--min-coverage", self.min_coverage, 0.0, MAX_COVERAGE)?;
        in_range("--time-limit", self.time_limit_s, 0.0, MAX_TIME_LIMIT_S)?;
        self.toy.check()
    }
}

impl TrainConfig {
    /// Refuses networks too large for this machine's memory, with mini-batches of streams
    /// of `stars` points; every block counted at `--max-width` (an upper bound).
    pub fn check_size(&self, stars: usize) -> Result<()> {
        let flags = "--width, --max-width, --depth-g, --depth-p, --batch-streams";
        let layers = 2 * (self.depth_g + self.depth_p);
        let rows = self.batch_streams as f64 * stars as f64;
        crate::budget::check_network(flags, 6.0, self.max_width, layers, 3.0, rows)
    }
}

impl ToyChoice {
    /// A fixed toy's M in `(0, MAX_TOY_MASS]` Msun and b in `(0, MAX_POSITION_KPC]` kpc.
    pub fn check(&self) -> Result<()> {
        if let ToyChoice::Fixed { m, b } = *self {
            positive("--toy M", m, MAX_TOY_MASS)?;
            positive("--toy b", b, MAX_POSITION_KPC)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(change: impl FnOnce(&mut TrainConfig)) -> String {
        let mut cfg = TrainConfig::default();
        change(&mut cfg);
        cfg.check().unwrap_err().to_string()
    }

    #[test]
    fn the_defaults_pass() {
        TrainConfig::default().check().unwrap();
    }

    #[test]
    fn refusals_name_the_flag_value_and_range() {
        assert_eq!(
            refusal(|c| c.epochs = 0),
            "--epochs 0 is out of range: expected at least 1"
        );
        assert_eq!(
            refusal(|c| c.time_weight = f64::NAN),
            "--time-weight NaN is out of range: expected a number in [0, 1e6]"
        );
        assert!(refusal(|c| c.alpha1 = -5.0).starts_with("--alpha1 -5 is out of range"));
        assert!(refusal(|c| c.min_coverage = -1.0).starts_with("--min-coverage -1"));
        assert!(refusal(|c| c.time_limit_s = f64::NAN).starts_with("--time-limit NaN"));
        assert!(refusal(|c| c.learning_rate = f64::INFINITY).starts_with("--lr inf"));
        assert!(refusal(|c| c.toy = ToyChoice::Fixed { m: 1e300, b: 5.0 }).starts_with("--toy M 1e300"));
        let e = refusal(|c| {
            c.width = 64;
            c.max_width = 8
        });
        assert!(e.starts_with("--max-width 8 is below --width 64"), "{e}");
    }
}
