//! What training needs from a streams dataset: scales chosen from the data, the split into
//! training and validation streams, per-stream timing, and batches gathered as flat rows.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;

use crate::dataset::{StreamLayout, StreamsDataset};

/// The streams, split and scaled.
pub struct TrainingData {
    /// How the points divide into streams.
    pub layout: StreamLayout,
    /// \[P,6\] all streams.
    pub xv: Vec<f64>,
    /// \[P\] times in Gyr, when the dataset has them.
    pub t: Option<Vec<f64>>,
    /// Stream indices used for the gradient.
    pub train: Vec<usize>,
    /// Stream indices held out for early stopping.
    pub validation: Vec<usize>,
}

/// A batch of whole streams as flat rows. Streams may differ in length: `layout` says
/// which rows are whose, and the loss ([`super::loss`]) averages each stream over its own.
pub struct Batch {
    /// The streams, in order.
    pub streams: Vec<usize>,
    /// The streams' rows in the batch.
    pub layout: StreamLayout,
    /// \[B, 6\] (B = b*N for streams of N points).
    pub xv: Vec<f64>,
    /// \[B\] times (Gyr), when known.
    pub t: Option<Vec<f64>>,
}

/// Median of `|x|` (positions) and of `|v|` (velocities) over all points: the length and
/// velocity scales (docs/design.md step 1: chosen from the data, so a 0.02 kpc Plummer sphere and
/// a Milky-Way halo train alike).
pub fn scales(xv: &[f64]) -> (f64, f64) {
    let median_norm = |offset: usize| {
        let mut v: Vec<f64> = xv
            .chunks_exact(6)
            .map(|p| (p[offset].powi(2) + p[offset + 1].powi(2) + p[offset + 2].powi(2)).sqrt())
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(1.0)
    };
    (median_norm(0), median_norm(3))
}

impl TrainingData {
    /// Split `ds` with `val_fraction` of its streams (at least one when there are two or
    /// more and the fraction is positive) held out, chosen by `seed`.
    pub fn new(ds: &StreamsDataset, val_fraction: f64, seed: u64) -> Self {
        let s = ds.n_streams();
        let mut order: Vec<usize> = (0..s).collect();
        order.shuffle(&mut Pcg64::seed_from_u64(seed ^ 0x5eed_5eed));
        let mut n_val = (val_fraction.clamp(0.0, 1.0) * s as f64).round() as usize;
        if val_fraction > 0.0 && s >= 2 {
            n_val = n_val.clamp(1, s - 1);
        }
        let mut validation = order[..n_val].to_vec();
        let mut train = order[n_val..].to_vec();
        validation.sort_unstable();
        train.sort_unstable();
        TrainingData {
            layout: ds.layout().clone(),
            xv: ds.xv.clone(),
            t: ds.t.clone(),
            train,
            validation,
        }
    }

    /// Number of streams.
    pub fn n_streams(&self) -> usize {
        self.layout.n_streams()
    }

    /// Gather `streams` into a batch.
    pub fn batch(&self, streams: &[usize]) -> Batch {
        let xv = self.layout.gather(&self.xv, 6, streams);
        let t = self.t.as_ref().map(|t| self.layout.gather(t, 1, streams));
        Batch {
            streams: streams.to_vec(),
            layout: self.layout.select(streams),
            xv,
            t,
        }
    }

    /// The layout of the training streams' rows ([`train_rows`](Self::train_rows)).
    pub fn train_layout(&self) -> StreamLayout {
        self.layout.select(&self.train)
    }

    /// The rows of the training streams (for the toy's bound check).
    pub fn train_rows(&self) -> Vec<f64> {
        self.batch(&self.train).xv
    }
}
