//! The learning rate over a run, and why a run stops.
//!
//! `plateau` (the default) suits an open-ended run: the rate stays at `--lr` while the
//! validation loss falls, and halves once the median validation loss over a stretch of
//! epochs is not below the median over the stretch before it by [`MARGIN`]. The stretch is
//! the longest of `--plateau-patience` epochs, a twentieth of the epochs run so far (a long
//! run waits longer) and `--plateau-min-steps` optimizer steps (a small dataset, one step per
//! epoch, waits as long in steps as a large one). Stretches, not the best single epoch,
//! decide: the validation loss jumps from epoch to epoch by more than it falls in one, so a
//! single lucky epoch would set a mark that the next stretch misses while still improving.
//! The run stops once the rate has fallen below the final rate. `cosine` decays from `--lr`
//! to the final rate over `--epochs`.

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

/// Relative margin by which the median validation loss of a stretch must fall below that of
/// the stretch before it for the plateau schedule to keep the rate.
pub const MARGIN: f64 = 1e-3;

/// Optimizer steps in a stretch of the plateau schedule, at least: two stretches, compared,
/// span 300 steps, the 10 epochs of `--plateau-patience` on 1024 streams in batches of 32
/// (the paper's S = 1024 sets).
pub const MIN_STEPS: usize = 150;

/// Share of the epochs run so far in a stretch of the plateau schedule, at least: two
/// stretches, compared, span a tenth of the run.
pub const RELATIVE_WAIT: f64 = 0.05;

/// The plateau schedule's state (kept in checkpoints, so a resumed run continues exactly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    /// The current learning rate.
    pub lr: f64,
    /// The validation losses since the last halving, one per epoch.
    #[serde(default)]
    pub recent: Vec<f64>,
    pub halvings: usize,
}

impl Plateau {
    pub fn new(cfg: &TrainConfig) -> Self {
        Plateau {
            lr: cfg.learning_rate,
            recent: Vec::new(),
            halvings: 0,
        }
    }

    /// Take the validation loss of `epoch` (counted from 1) of `steps` optimizer steps. With
    /// `w` the stretch at `epoch`, the rate halves once the median validation loss of the last
    /// `w` epochs is not below that of the `w` before them by [`MARGIN`]: a trend, not a single
    /// lucky epoch, decides, so the noise of the loss from epoch to epoch does not halve a rate
    /// that is still making progress.
    pub fn update(&mut self, cfg: &TrainConfig, epoch: usize, val_loss: f64, steps: usize) {
        self.recent.push(val_loss);
        let w = wait(cfg, epoch, steps);
        let n = self.recent.len();
        if n < 2 * w {
            return;
        }
        let (before, last) = (
            median(&self.recent[n - 2 * w..n - w]),
            median(&self.recent[n - w..]),
        );
        if last < before * (1.0 - MARGIN) {
            return;
        }
        self.lr *= 0.5;
        self.recent.clear();
        self.halvings += 1;
        log::info!(
            "median validation loss of the last {w} epochs {last:.4e}, of the {w} before {before:.4e}: \
             learning rate halved to {:.3e}",
            self.lr
        );
    }
}

/// The median of `values` (not empty): a stretch's level, which the odd epoch where the loss
/// jumps up does not move.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    0.5 * (sorted[(n - 1) / 2] + sorted[n / 2])
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

    /// Feeds `losses` to a plateau schedule of one step per epoch with a wait of 10 epochs;
    /// returns the epochs (counted from 1) at which the rate halved.
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
            plateau.update(&cfg, i + 1, loss, 1);
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

    /// A flat noisy loss halves the rate once two stretches have passed, and again two
    /// stretches after that.
    #[test]
    fn flat_loss_halves_the_rate_after_two_stretches() {
        let flat = (0..45usize).map(|i| if i.is_multiple_of(2) { 1.1 } else { 0.9 });
        assert_eq!(halvings(flat), vec![20, 40]);
    }

    /// One epoch where the loss jumps fiftyfold in the earlier stretch of a flat loss does
    /// not pass for progress: the rate halves as without it.
    #[test]
    fn a_jump_in_the_loss_does_not_pass_for_progress() {
        let flat = (0..45usize).map(|i| {
            if i == 12 {
                50.0
            } else if i % 2 == 0 {
                1.1
            } else {
                0.9
            }
        });
        assert_eq!(halvings(flat), vec![20, 40]);
    }
}
