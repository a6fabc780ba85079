//! Which times of an orbit are kept as the "stars" of its stream.

use rand::Rng;

/// How output times are chosen within [0, duration] (Gyr).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeSampling {
    /// `stars` times drawn uniformly at random in [0, duration], sorted.
    Random { stars: usize },
    /// Every `dt` Gyr from 0 up to and including the duration.
    Every { dt: f64 },
    /// `stars` times at equal intervals over [0, duration], both ends included.
    Even { stars: usize },
}

impl TimeSampling {
    /// Number of points per stream this sampling gives over `duration`.
    pub fn stars(&self, duration: f64) -> usize {
        match *self {
            TimeSampling::Random { stars } | TimeSampling::Even { stars } => stars,
            TimeSampling::Every { dt } => {
                ((duration / dt * (1.0 + 1e-12)).floor() as usize).saturating_add(1)
            }
        }
    }

    /// Draw the sorted times (Gyr) of one stream.
    pub fn draw<R: Rng>(&self, duration: f64, rng: &mut R) -> Vec<f64> {
        match *self {
            TimeSampling::Random { stars } => {
                let mut t: Vec<f64> = (0..stars).map(|_| rng.random::<f64>() * duration).collect();
                t.sort_by(f64::total_cmp);
                t
            }
            TimeSampling::Every { dt } => (0..self.stars(duration)).map(|i| i as f64 * dt).collect(),
            TimeSampling::Even { stars } => snapshot_times(duration, stars),
        }
    }
}

/// `outputs` snapshot times evenly spaced over [0, duration] (Gyr), both ends included.
pub fn snapshot_times(duration: f64, outputs: usize) -> Vec<f64> {
    match outputs {
        0 => Vec::new(),
        1 => vec![0.0],
        k => (0..k).map(|i| duration * i as f64 / (k - 1) as f64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn random_times_are_sorted_and_in_range() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        let t = TimeSampling::Random { stars: 100 }.draw(0.1, &mut rng);
        assert_eq!(t.len(), 100);
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
        assert!(t.iter().all(|&x| (0.0..=0.1).contains(&x)));
        let mean = t.iter().sum::<f64>() / 100.0;
        assert!((mean - 0.05).abs() < 0.01, "{mean}");
    }

    #[test]
    fn even_times_are_equally_spaced_over_the_duration() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        let t = TimeSampling::Even { stars: 5 }.draw(2.0, &mut rng);
        assert_eq!(t, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(TimeSampling::Even { stars: 1 }.draw(2.0, &mut rng), vec![0.0]);
    }

    #[test]
    fn every_includes_both_ends() {
        let s = TimeSampling::Every { dt: 0.01 };
        assert_eq!(s.stars(0.07), 8);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
        let t = s.draw(0.07, &mut rng);
        assert!((t[7] - 0.07).abs() < 1e-15);
        for (a, b) in snapshot_times(0.07, 8).iter().zip(&t) {
            assert!((a - b).abs() < 1e-15);
        }
    }
}
