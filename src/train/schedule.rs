//! The learning rate over a run, and why a run stops.
//!
//! `plateau` (the default) suits an open-ended run: the rate stays at `--lr` while the
//! validation loss improves, halves after a stretch of epochs without a better one by
//! [`MARGIN`] (the stretch is the longest of `--plateau-patience` epochs, a tenth of the
//! epochs run so far, so a long run waits longer, and `--plateau-min-steps` optimizer steps,
//! so a small dataset, one step per epoch, waits as long in steps as a large one), and the
//! run stops once the rate has fallen below the final rate. `cosine` decays from `--lr` to the final rate over `--epochs`.

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

/// Relative margin by which a validation loss must beat the reference to count as better
/// for the plateau schedule. Measured on the AGAMA Milky-Way halo set of 256 streams: 1%
/// stopped after 263 epochs with a held-out mean action error of 19.8 kpc km/s; 0.1% ran
/// to the 2000-epoch ceiling and reached 7.6.
pub const MARGIN: f64 = 1e-3;

/// Optimizer steps the plateau schedule waits, at least: the 10 epochs of
/// `--plateau-patience` on 1024 streams in batches of 32 (the paper's S = 1024 sets).
pub const MIN_STEPS: usize = 300;

/// Share of the epochs run so far that the plateau schedule waits, at least.
pub const RELATIVE_WAIT: f64 = 0.1;

/// The plateau schedule's state (kept in checkpoints, so a resumed run continues exactly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    /// The current learning rate.
    pub lr: f64,
    /// The validation loss to beat by [`MARGIN`].
    pub reference: f64,
    /// The epoch of the last improvement or halving.
    pub since: usize,
    pub halvings: usize,
}

impl Plateau {
    pub fn new(cfg: &TrainConfig) -> Self {
        Plateau {
            lr: cfg.learning_rate,
            reference: f64::INFINITY,
            since: 0,
            halvings: 0,
        }
    }

    /// Take the validation loss of `epoch` (counted from 1) of `steps` optimizer steps: a
    /// better one becomes the reference, a long enough stretch without one halves the rate.
    pub fn update(&mut self, cfg: &TrainConfig, epoch: usize, val_loss: f64, steps: usize) {
        if val_loss < self.reference * (1.0 - MARGIN) {
            self.reference = val_loss;
            self.since = epoch;
        } else if epoch - self.since >= wait(cfg, epoch, steps) {
            self.lr *= 0.5;
            self.since = epoch;
            self.halvings += 1;
            log::info!(
                "no better validation loss for {} epochs: learning rate halved to {:.3e}",
                wait(cfg, epoch, steps),
                self.lr
            );
        }
    }
}

/// Epochs without improvement before the plateau schedule halves the rate at `epoch`, with
/// `steps` optimizer steps per epoch.
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
