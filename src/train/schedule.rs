//! The learning rate over a run, and why a run stops.
//!
//! `plateau` (the default) suits an open-ended run: the rate stays at `--lr` while the
//! validation loss falls, and halves after a stretch of epochs in which the mean validation
//! loss over the last stretch never fell below its best by [`MARGIN`]. The stretch is the
//! longest of `--plateau-patience` epochs, a tenth of the epochs run so far (a long run waits
//! longer) and `--plateau-min-steps` optimizer steps (a small dataset, one step per epoch,
//! waits as long in steps as a large one). Means over stretches, not single epochs, decide:
//! the validation loss jumps from epoch to epoch by more than it falls in one, so a single
//! lucky epoch would set a mark that the next stretch misses while still improving. The run
//! stops once the rate has fallen below the final rate. `cosine` decays from `--lr` to the
//! final rate over `--epochs`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::TrainConfig;

/// `--schedule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Halve the rate when the validation loss stops improving; stop at the final rate.
    Plateau,
    /// Cosine decay over `--epochs`.
    Cosine,
}

/// Relative margin by which the mean validation loss over a stretch must fall below the best
/// such mean to count as better for the plateau schedule.
pub const MARGIN: f64 = 1e-3;

/// Optimizer steps in a stretch of the plateau schedule, at least: the 10 epochs of
/// `--plateau-patience` on 1024 streams in batches of 32 (the paper's S = 1024 sets).
pub const MIN_STEPS: usize = 300;

/// Share of the epochs run so far in a stretch of the plateau schedule, at least.
pub const RELATIVE_WAIT: f64 = 0.1;

/// The plateau schedule's state (kept in checkpoints, so a resumed run continues exactly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    /// The current learning rate.
    pub lr: f64,
    /// The validation loss of every epoch so far.
    #[serde(default)]
    pub losses: Vec<f64>,
    /// The lowest mean validation loss over a stretch so far (none before the first stretch).
    #[serde(default)]
    pub best: Option<f64>,
    /// The epoch of the last better stretch or halving.
    #[serde(default)]
    pub since: usize,
    pub halvings: usize,
}

impl Plateau {
    pub fn new(cfg: &TrainConfig) -> Self {
        Plateau {
            lr: cfg.learning_rate,
            losses: Vec::new(),
            best: None,
            since: 0,
            halvings: 0,
        }
    }

    /// Take the validation loss of the next epoch, of `steps` optimizer steps. With `w` the
    /// stretch now, the mean validation loss of the last `w` epochs that is below the best
    /// such mean by [`MARGIN`] becomes the best; `w` epochs without a better one halve the
    /// rate. Means over stretches, not single epochs, decide, so the noise of the loss from
    /// epoch to epoch neither sets a lucky mark nor halves a rate that is still making progress.
    pub fn update(&mut self, cfg: &TrainConfig, val_loss: f64, steps: usize) {
        self.losses.push(val_loss);
        let n = self.losses.len();
        let w = wait(cfg, n, steps);
        if n < w {
            return;
        }
        let mean = self.losses[n - w..].iter().sum::<f64>() / w as f64;
        if self.best.is_none_or(|best| mean < best * (1.0 - MARGIN)) {
            self.best = Some(mean);
            self.since = n;
        } else if n - self.since >= w {
            self.lr *= 0.5;
            self.since = n;
            self.halvings += 1;
            log::info!(
                "no mean validation loss over {w} epochs below {:.4e} for {w} epochs: learning \
                 rate halved to {:.3e}",
                self.best.unwrap_or(f64::NAN),
                self.lr
            );
        }
    }
}

/// Epochs in a stretch of the plateau schedule at `epoch`, with `steps` optimizer steps per
/// epoch.
fn wait(cfg: &TrainConfig, epoch: usize, steps: usize) -> usize {
    cfg.plateau_patience
        .max((RELATIVE_WAIT * epoch as f64).round() as usize)
        .max(cfg.plateau_min_steps.div_ceil(steps.max(1)))
}

/// The learning rate of `epoch` (counted from 0).
pub fn learning_rate(cfg: &TrainConfig, plateau: &Plateau, epoch: usize) -> f64 {
    match cfg.schedule {
        Schedule::Plateau => plateau.lr,
        Schedule::Cosine => {
            let x = epoch as f64 / (cfg.epochs.max(2) - 1) as f64;
            cfg.final_learning_rate
                + 0.5
                    * (cfg.learning_rate - cfg.final_learning_rate)
                    * (1.0 + (std::f64::consts::PI * x).cos())
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum StopReason {
    /// `--epochs` reached.
    Ceiling { epochs: usize },
    /// `--patience` epochs without a better validation loss.
    NoImprovement { epochs: usize, best_epoch: usize },
    /// The plateau schedule's rate fell below the final rate.
    LearningRateFloor {
        halvings: usize,
        final_learning_rate: f64,
        best_epoch: usize,
    },
    /// `--stop-after` epochs run in this session.
    StopAfter { epochs: usize },
    /// `--time-limit` seconds spent in this session.
    TimeLimit { seconds: f64 },
}

/// Where this session of a run stands: its first epoch (counted from 0) and the seconds spent.
#[derive(Clone, Copy, Debug)]
pub struct Session {
    pub first_epoch: usize,
    pub seconds: f64,
}

/// Why the run should stop before `epoch` (counted from 0), if it should; `best_epoch` is
/// that of the best validation loss.
pub fn stop_reason(
    cfg: &TrainConfig,
    plateau: &Plateau,
    epoch: usize,
    session: Session,
    best_epoch: Option<usize>,
) -> Option<StopReason> {
    if epoch >= cfg.epochs {
        return Some(StopReason::Ceiling { epochs: cfg.epochs });
    }
    if let Some(best_epoch) = best_epoch {
        if cfg.patience > 0 && epoch >= best_epoch + cfg.patience {
            return Some(StopReason::NoImprovement {
                epochs: cfg.patience,
                best_epoch,
            });
        }
        if cfg.schedule == Schedule::Plateau && plateau.lr < cfg.final_learning_rate {
            return Some(StopReason::LearningRateFloor {
                halvings: plateau.halvings,
                final_learning_rate: cfg.final_learning_rate,
                best_epoch,
            });
        }
    }
    if cfg.stop_after > 0 && epoch >= session.first_epoch + cfg.stop_after {
        return Some(StopReason::StopAfter {
            epochs: cfg.stop_after,
        });
    }
    (cfg.time_limit_s > 0.0 && epoch > session.first_epoch && session.seconds >= cfg.time_limit_s).then_some(
        StopReason::TimeLimit {
            seconds: cfg.time_limit_s,
        },
    )
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StopReason::Ceiling { epochs } => write!(
                f,
                "the epoch ceiling (--epochs {epochs}) was reached; the loss may still improve"
            ),
            StopReason::NoImprovement { epochs, best_epoch } => write!(
                f,
                "no better validation loss for {epochs} epochs (--patience) after epoch {best_epoch}"
            ),
            StopReason::LearningRateFloor {
                halvings,
                final_learning_rate,
                best_epoch,
            } => write!(
                f,
                "the validation loss stopped improving: the learning rate was halved {halvings} times \
                 to below {final_learning_rate:.0e} (best epoch {best_epoch})"
            ),
            StopReason::StopAfter { epochs } => {
                write!(f, "--stop-after {epochs} epochs; continue with --resume")
            }
            StopReason::TimeLimit { seconds } => {
                write!(f, "--time-limit {seconds} s; continue with --resume")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `losses` to a plateau schedule of one step per epoch with stretches of 10
    /// epochs; returns the epochs (counted from 1) at which the rate halved.
    fn halvings(losses: impl Iterator<Item = f64>) -> Vec<usize> {
        let cfg = TrainConfig {
            plateau_patience: 10,
            plateau_min_steps: 0,
            ..TrainConfig::default()
        };
        let mut plateau = Plateau::new(&cfg);
        let mut at = Vec::new();
        for (i, loss) in losses.enumerate() {
            let before = plateau.halvings;
            plateau.update(&cfg, loss, 1);
            if plateau.halvings > before {
                at.push(i + 1);
            }
        }
        at
    }

    /// Epoch-to-epoch noise of +-20% around a loss that falls 2% per epoch never halves the
    /// rate, although most epochs are worse than the best one before them.
    #[test]
    fn noisy_but_falling_loss_keeps_the_rate() {
        let noise = |i: usize| if i.is_multiple_of(3) { 0.8 } else { 1.2 };
        let falling = (0..90).map(|i| 0.98f64.powi(i as i32) * noise(i));
        assert_eq!(halvings(falling), Vec::<usize>::new());
    }

    /// A flat noisy loss halves the rate once two stretches have passed (one to fill the
    /// first mean, one without a better), and again after each stretch.
    #[test]
    fn flat_loss_halves_the_rate_once_a_stretch() {
        let flat = (0..45usize).map(|i| if i.is_multiple_of(2) { 1.1 } else { 0.9 });
        assert_eq!(halvings(flat), vec![20, 30, 40]);
    }

    /// A loss that rises (a network fitting its training streams ever closer) halves the
    /// rate as a flat one does.
    #[test]
    fn rising_loss_halves_the_rate() {
        let rising = (0..45usize).map(|i| 1.0 + 0.01 * i as f64);
        assert_eq!(halvings(rising), vec![20, 30, 40]);
    }

    /// A loss that falls again after a halving keeps the new rate.
    #[test]
    fn a_loss_that_falls_after_a_halving_keeps_the_rate() {
        let losses = (0..60usize).map(|i| if i < 20 { 1.0 } else { 0.9f64.powi(i as i32 - 19) });
        assert_eq!(halvings(losses), vec![20]);
    }
}
