//! Which snapshots each particle is in: one bit per particle and snapshot column, a row of
//! `words` u64 per particle (8 bytes per particle up to 64 snapshots). It tells the
//! particles in every snapshot (tracked) from those missing from some (dropped), and a
//! particle that leaves for good from one that leaves and comes back, which one run never
//! shows when every particle type is read.

use rayon::prelude::*;

/// Presence bits of a list of particles.
#[derive(Debug, Clone, Default)]
pub(super) struct Presence {
    /// u64 words per particle (at least 1).
    words: usize,
    bits: Vec<u64>,
}

impl Presence {
    /// `rows` particles, room for `columns` snapshots, none present.
    pub fn new(rows: usize, columns: usize) -> Self {
        let words = words_for(columns);
        Self {
            words,
            bits: vec![0; rows * words],
        }
    }

    /// An empty list with rows as wide as `self`'s.
    pub fn empty_like(&self) -> Self {
        Self::new(0, 64 * self.words)
    }

    /// Number of particles.
    pub fn rows(&self) -> usize {
        self.bits.len() / self.words.max(1)
    }

    /// The bits of particle `p`.
    pub fn row(&self, p: usize) -> &[u64] {
        &self.bits[p * self.words..(p + 1) * self.words]
    }

    /// The rows, to be marked in parallel.
    pub fn rows_mut(&mut self) -> rayon::slice::ChunksMut<'_, u64> {
        self.bits.par_chunks_mut(self.words.max(1))
    }

    /// Appends a particle with the bits of `row` (as wide as `self`'s rows).
    pub fn push(&mut self, row: &[u64]) {
        self.bits.extend_from_slice(row);
    }

    /// Appends a particle present only in column `k`.
    pub fn push_only(&mut self, k: usize) {
        self.bits.resize(self.bits.len() + self.words, 0);
        self.mark_last(k);
    }

    /// Marks the last particle present in column `k`.
    pub fn mark_last(&mut self, k: usize) {
        let start = self.bits.len() - self.words;
        mark(&mut self.bits[start..], k);
    }

    /// Makes room for `columns` snapshots.
    pub fn reserve(&mut self, columns: usize) {
        let words = words_for(columns);
        if words <= self.words {
            return;
        }
        let mut bits = vec![0; self.rows() * words];
        for (dst, src) in bits
            .chunks_exact_mut(words)
            .zip(self.bits.chunks_exact(self.words))
        {
            dst[..self.words].copy_from_slice(src);
        }
        *self = Self { words, bits };
    }

    /// The first particle (by row) that is missing from a snapshot between two it is in,
    /// with the columns of the three snapshots ([`gap`]); snapshots in time order `order`.
    pub fn first_gap(&self, order: &[usize]) -> Option<(usize, [usize; 3])> {
        (0..self.rows())
            .into_par_iter()
            .filter_map(|p| gap(self.row(p), order).map(|g| (p, g)))
            .find_first(|_| true)
    }

    /// How many particles are missing from a snapshot between two they are in.
    pub fn gaps(&self, order: &[usize]) -> usize {
        (0..self.rows())
            .into_par_iter()
            .filter(|&p| gap(self.row(p), order).is_some())
            .count()
    }
}

fn words_for(columns: usize) -> usize {
    columns.div_ceil(64).max(1)
}

/// Marks column `k` of `row` present.
pub(super) fn mark(row: &mut [u64], k: usize) {
    row[k / 64] |= 1 << (k % 64);
}

fn is_set(row: &[u64], k: usize) -> bool {
    row[k / 64] >> (k % 64) & 1 == 1
}

/// Whether `row` is present in all of the first `k` columns.
pub(super) fn in_all(row: &[u64], k: usize) -> bool {
    row.iter().map(|w| w.count_ones() as usize).sum::<usize>() == k
}

/// For snapshots in time order (`order`: columns by time), the first absence between two
/// presences: the columns of the last snapshot before it that holds the particle, of the
/// one that lacks it and of the next that holds it again.
pub(super) fn gap(row: &[u64], order: &[usize]) -> Option<[usize; 3]> {
    if in_all(row, order.len()) {
        return None;
    }
    let first = order.iter().position(|&k| is_set(row, k))?;
    let missing = first + order[first..].iter().position(|&k| !is_set(row, k))?;
    let back = missing + order[missing..].iter().position(|&k| is_set(row, k))?;
    Some([order[missing - 1], order[missing], order[back]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(columns: &[usize]) -> Vec<u64> {
        let mut r = vec![0; 2];
        for &k in columns {
            mark(&mut r, k);
        }
        r
    }

    #[test]
    fn gaps_are_found_in_time_order_only() {
        let order = [2, 0, 1, 3];
        assert_eq!(gap(&row(&[0, 1, 2, 3]), &order), None);
        assert_eq!(gap(&row(&[0, 1]), &order), None, "arrives late");
        assert_eq!(gap(&row(&[2, 0]), &order), None, "leaves for good");
        assert_eq!(gap(&row(&[2, 1]), &order), Some([2, 0, 1]));
        assert_eq!(gap(&row(&[2, 3]), &order), Some([2, 0, 3]));
        let wide: Vec<usize> = (0..100).collect();
        assert_eq!(gap(&row(&[3, 70]), &wide), Some([3, 4, 70]));
    }

    #[test]
    fn reserve_keeps_the_bits() {
        let mut p = Presence::new(3, 10);
        p.rows_mut().enumerate().for_each(|(i, r)| mark(r, i * 4));
        p.reserve(200);
        assert_eq!(p.rows(), 3);
        assert!((0..3).all(|i| is_set(p.row(i), i * 4) && in_all(p.row(i), 1)));
        p.push_only(150);
        assert!(is_set(p.row(3), 150) && in_all(p.row(3), 1));
    }
}
