//! What training needs from a streams dataset: scales chosen from the data, the split into
//! training and validation streams, per-stream timing, and batches gathered as flat rows.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;

use crate::dataset::StreamsDataset;

/// The streams, split and scaled.
pub struct TrainingData {
    /// Points per stream.
    pub stars: usize,
    /// \[S,N,6\] all streams.
    pub xv: Vec<f64>,
    /// \[S,N\] times in Gyr, when the dataset has them.
    pub t: Option<Vec<f64>>,
    /// Stream indices used for the gradient.
    pub train: Vec<usize>,
    /// Stream indices held out for early stopping.
    pub validation: Vec<usize>,
}

/// A batch of whole streams as flat rows.
pub struct Batch {
    /// The streams, in order.
    pub streams: Vec<usize>,
    /// \[b*N, 6\].
    pub xv: Vec<f64>,
    /// \[b*N\] times (Gyr), when known.
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
            stars: ds.n_stars(),
            xv: ds.xv.clone(),
            t: ds.t.clone(),
            train,
            validation,
        }
    }

    /// Number of streams.
    pub fn n_streams(&self) -> usize {
        self.xv.len() / (6 * self.stars)
    }

    /// Gather `streams` into a batch.
    pub fn batch(&self, streams: &[usize]) -> Batch {
        let n = self.stars;
        let xv = streams
            .iter()
            .flat_map(|&s| &self.xv[s * n * 6..(s + 1) * n * 6])
            .copied()
            .collect();
        let t = self.t.as_ref().map(|t| {
            streams
                .iter()
                .flat_map(|&s| &t[s * n..(s + 1) * n])
                .copied()
                .collect()
        });
        Batch {
            streams: streams.to_vec(),
            xv,
            t,
        }
    }

    /// The rows of the training streams (for the toy's bound check).
    pub fn train_rows(&self) -> Vec<f64> {
        self.batch(&self.train).xv
    }
}
