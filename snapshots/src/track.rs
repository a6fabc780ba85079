//! Particle tracks: the same particles followed through K snapshots, matched by id.
//!
//! Matching is sort-based: the first snapshot's (id, row) pairs are sorted and its ids become
//! the reference list; every later snapshot's pairs are sorted and merged with it (a
//! sorted-list intersection). The sort is a radix sort, O(n) per 11-bit digit of the ids
//! (two passes for ids below 2^22, six at most), which beats O(n log n) comparison sorts on
//! the millions of particles of a snapshot. Memory beyond the tracks themselves (\[P,K,6\]
//! f64, which the output needs anyway) is about 56 bytes per particle: the reference ids
//! (8), the sorted pairs and the sort's buffer (16 + 16), the row each reference id came
//! from (8) and which snapshots it is in (8, one bit per snapshot up to 64; 8 more per 64
//! beyond). Snapshots are added one at a time ([`Tracker::add`]), so only one snapshot needs
//! to be in memory while tracking.
//!
//! Snapshots that cannot be one run are refused, naming the files:
//!
//! * Two snapshots with the same time.
//! * A particle missing from a snapshot between two that hold it: in one run a particle
//!   that is gone (accreted, destroyed) does not come back. Only when some particle types
//!   are left out can it ([`Tracker::allow_returning_particles`]: gas turned into a wind
//!   particle and back), and such particles are then dropped.
//!
//! Otherwise:
//!
//! * A particle absent from some snapshot (accreted, destroyed, formed later, or outside
//!   the selected types) is dropped and counted ([`Tracks::dropped`], logged).
//! * An id twice in one snapshot is an error naming the file and the id.
//! * Snapshots without ids (NEMO files without `Key`) are matched by their order in the
//!   file, with a warning; their particle counts must then agree. Snapshots with and without
//!   ids cannot be mixed.
//! * Tracks come out ordered by snapshot time (the order in which snapshots are added does
//!   not matter) and by id.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::snapshot::{Snapshot, SnapshotError};

mod presence;

use presence::{in_all, mark, Presence};

/// P particles through K snapshots.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tracks {
    /// \[P\] particle ids, ascending (for snapshots without ids: the position in the file).
    pub ids: Vec<u64>,
    /// \[K\] snapshot times in Gyr, ascending.
    pub times_gyr: Vec<f64>,
    /// \[P,K,6\] x, y, z (kpc), vx, vy, vz (km/s) of particle p at time k.
    pub xv: Vec<f64>,
    /// Particles seen in some snapshots but not in all, left out.
    pub dropped: usize,
    /// \[K\] where each snapshot came from: file and position inside it.
    pub sources: Vec<(PathBuf, usize)>,
    /// True when snapshots had no ids and were matched by order.
    pub matched_by_order: bool,
}

impl Tracks {
    /// Number of particles P.
    pub fn n_particles(&self) -> usize {
        self.ids.len()
    }

    /// Number of snapshots K.
    pub fn n_snapshots(&self) -> usize {
        self.times_gyr.len()
    }

    /// The K points of particle `p`, 6 values each (panics when `p >= P`).
    pub fn track(&self, p: usize) -> &[f64] {
        let row = 6 * self.n_snapshots();
        &self.xv[p * row..(p + 1) * row]
    }
}

/// How particles are matched, fixed by the first snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matching {
    ById,
    ByOrder,
}

/// Builds [`Tracks`] from snapshots added one at a time.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Matching mode and the first snapshot's file, set by the first `add`.
    first: Option<(Matching, PathBuf)>,
    /// \[P0\] reference ids, ascending (ids of the first snapshot).
    ids: Vec<u64>,
    /// \[P0\] the snapshots (columns) each reference particle is in.
    present: Presence,
    /// \[P0, capacity, 6\] points, column k = k-th snapshot added.
    xv: Vec<f64>,
    capacity: usize,
    times: Vec<f64>,
    sources: Vec<(PathBuf, usize)>,
    /// Distinct ids of later snapshots that the first did not have, ascending, and the
    /// snapshots each is in.
    extra: Vec<u64>,
    extra_present: Presence,
    /// Whether particles may leave and come back (some particle types left out).
    returns_allowed: bool,
    /// Scratch, kept between snapshots: sorted (id, row) pairs (and the radix sort's
    /// buffer) and the row of each reference id in the current snapshot.
    pairs: Vec<(u64, usize)>,
    buffer: Vec<(u64, usize)>,
    rows: Vec<usize>,
}

/// Marks a reference id absent from the current snapshot.
const ABSENT: usize = usize::MAX;

impl Tracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tracker that expects about `snapshots` snapshots (space is reserved for
    /// them; more are accepted).
    pub fn with_capacity(snapshots: usize) -> Self {
        Self {
            capacity: snapshots,
            ..Self::default()
        }
    }

    /// Lets particles leave and come back, as they can when only some particle types are
    /// read (gas turned into a wind particle and back): they are dropped like the others
    /// instead of refused.
    pub fn allow_returning_particles(mut self) -> Self {
        self.returns_allowed = true;
        self
    }

    /// Snapshots added so far.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True before the first snapshot.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Adds one snapshot. Errors name the file: duplicate ids, arrays of the wrong length, a
    /// time that an earlier snapshot has, a snapshot without ids among snapshots with ids (or
    /// the reverse), or, when matching by order, a particle count different from the first
    /// snapshot's.
    pub fn add(&mut self, snap: &Snapshot) -> Result<(), SnapshotError> {
        check_lengths(snap)?;
        self.check_time(snap)?;
        let mode = match &snap.ids {
            Some(_) => Matching::ById,
            None => Matching::ByOrder,
        };
        match &self.first {
            None => self.start(snap, mode)?,
            Some((first_mode, first)) => {
                check_mode(snap, mode, *first_mode, first)?;
                self.match_rows(snap)?;
            }
        }
        self.store(snap);
        Ok(())
    }

    /// Sets the reference list from the first snapshot.
    fn start(&mut self, snap: &Snapshot, mode: Matching) -> Result<(), SnapshotError> {
        let n = snap.len();
        match &snap.ids {
            Some(ids) => {
                sorted_pairs(&snap.path, ids, &mut self.pairs, &mut self.buffer)?;
                self.ids = self.pairs.iter().map(|&(id, _)| id).collect();
                self.rows = self.pairs.iter().map(|&(_, row)| row).collect();
            }
            None => {
                log::warn!(
                    "{}: no particle ids; particles are matched by their order in each snapshot",
                    snap.path.display()
                );
                self.ids = (0..n as u64).collect();
                self.rows = (0..n).collect();
            }
        }
        self.capacity = self.capacity.max(1);
        self.present = Presence::new(n, self.capacity);
        self.extra_present = self.present.empty_like();
        self.xv = vec![0.0; n * self.capacity * 6];
        self.first = Some((mode, snap.path.clone()));
        Ok(())
    }

    /// `rows[p]` = the row of reference particle p in `snap`, or [`ABSENT`].
    fn match_rows(&mut self, snap: &Snapshot) -> Result<(), SnapshotError> {
        let Some(ids) = &snap.ids else {
            let expected = self.ids.len();
            if snap.len() != expected {
                let first = self.first.as_ref().map_or(Path::new(""), |(_, f)| f.as_path());
                return Err(SnapshotError::invalid(
                    &snap.path,
                    "particle count",
                    format!(
                        "{expected} particles, as in {} (no ids: particles are matched by order)",
                        first.display()
                    ),
                    snap.len().to_string(),
                ));
            }
            return Ok(());
        };
        sorted_pairs(&snap.path, ids, &mut self.pairs, &mut self.buffer)?;
        let new = intersect(&self.ids, &self.pairs, &mut self.rows);
        if !new.is_empty() {
            self.merge_extra(&new);
        }
        Ok(())
    }

    /// Marks the ids `new` (ascending, not reference ids) present in the snapshot being
    /// added, giving ids not seen before a row.
    fn merge_extra(&mut self, new: &[u64]) {
        let k = self.times.len();
        self.extra_present.reserve(k + 1);
        let (old, old_present) = (&self.extra, &self.extra_present);
        let mut ids = Vec::with_capacity(old.len() + new.len());
        let mut present = old_present.empty_like();
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            let (x, y) = (old.get(i).copied(), new.get(j).copied());
            if y.is_none_or(|y| x.is_some_and(|x| x <= y)) {
                ids.push(old[i]);
                present.push(old_present.row(i));
                if x == y {
                    present.mark_last(k);
                    j += 1;
                }
                i += 1;
            } else {
                ids.push(new[j]);
                present.push_only(k);
                j += 1;
            }
        }
        self.extra = ids;
        self.extra_present = present;
    }

    /// A snapshot's time must be one that no snapshot added before has.
    fn check_time(&self, snap: &Snapshot) -> Result<(), SnapshotError> {
        let Some(j) = self.times.iter().position(|&t| t == snap.time_gyr) else {
            return Ok(());
        };
        let (path, index) = &self.sources[j];
        Err(SnapshotError::invalid(
            &snap.path,
            "snapshot time",
            "a time of its own (one run writes each time once: two runs, or one snapshot twice?)",
            format!(
                "t = {} Gyr, the time of {} too",
                snap.time_gyr,
                source_name(path, *index)
            ),
        ))
    }

    /// Copies the matched rows of `snap` into the next column.
    fn store(&mut self, snap: &Snapshot) {
        let k = self.times.len();
        if k == self.capacity {
            self.grow();
        }
        let stride = 6 * self.capacity;
        let (src, rows) = (&snap.xv, &self.rows);
        self.xv
            .par_chunks_mut(stride)
            .zip(self.present.rows_mut())
            .zip(rows.par_iter())
            .for_each(|((track, present), &row)| {
                if row != ABSENT {
                    track[6 * k..6 * k + 6].copy_from_slice(&src[6 * row..6 * row + 6]);
                    mark(present, k);
                }
            });
        self.times.push(snap.time_gyr);
        self.sources.push((snap.path.clone(), snap.index));
    }

    /// Doubles the number of columns (only when more snapshots come than announced).
    fn grow(&mut self) {
        let (old, new) = (self.capacity, (2 * self.capacity).max(1));
        let mut xv = vec![0.0; self.ids.len() * new * 6];
        for (dst, src) in xv.chunks_exact_mut(6 * new).zip(self.xv.chunks_exact(6 * old)) {
            dst[..6 * old].copy_from_slice(src);
        }
        self.xv = xv;
        self.capacity = new;
        self.present.reserve(new);
        self.extra_present.reserve(new);
    }

    /// The tracks of the particles present in every snapshot, ordered by time and id.
    /// Error: a particle that leaves and comes back (unless
    /// [`allowed`](Self::allow_returning_particles)), naming the snapshot it is missing from
    /// and the two around it.
    pub fn finish(mut self) -> Result<Tracks, SnapshotError> {
        let k = self.times.len();
        let order = time_order(&self.times);
        if !self.returns_allowed {
            self.check_no_returns(&order)?;
        }
        let kept = self.compact(&order);
        let dropped = (self.ids.len() - kept) + self.extra.len();
        if dropped > 0 {
            log::warn!(
                "dropped {dropped} particles that are missing from some of the {k} snapshots; {kept} tracked"
            );
        }
        let ids: Vec<u64> = (0..self.ids.len())
            .filter(|&p| in_all(self.present.row(p), k))
            .map(|p| self.ids[p])
            .collect();
        Ok(Tracks {
            ids,
            times_gyr: order.iter().map(|&j| self.times[j]).collect(),
            xv: self.xv,
            dropped,
            sources: order.iter().map(|&j| self.sources[j].clone()).collect(),
            matched_by_order: matches!(self.first, Some((Matching::ByOrder, _))),
        })
    }

    /// No particle may be missing from a snapshot between two that hold it (snapshots in
    /// time order `order`); the error names the first such particle and the three files.
    fn check_no_returns(&self, order: &[usize]) -> Result<(), SnapshotError> {
        let lists = [(&self.ids, &self.present), (&self.extra, &self.extra_present)];
        let Some((id, [before, missing, after])) = lists
            .iter()
            .find_map(|(ids, present)| present.first_gap(order).map(|(p, g)| (ids[p], g)))
        else {
            return Ok(());
        };
        let count: usize = lists.iter().map(|(_, present)| present.gaps(order)).sum();
        let name = |j: usize| {
            let (path, index) = &self.sources[j];
            format!("{} (t = {} Gyr)", source_name(path, *index), self.times[j])
        };
        let others = match count - 1 {
            0 => String::new(),
            1 => ", as is 1 more particle".to_string(),
            n => format!(", as are {n} more particles"),
        };
        Err(SnapshotError::invalid(
            &self.sources[missing].0,
            "particle ids",
            format!(
                "id {id}, which {} before it and {} after it hold (in one run a particle that is \
                 gone does not come back)",
                name(before),
                name(after)
            ),
            format!(
                "it missing at t = {} Gyr{others}: these snapshots look like a mix of runs",
                self.times[missing]
            ),
        ))
    }

    /// Moves the kept tracks to the front with stride K (columns in `order`), in place;
    /// returns how many were kept.
    fn compact(&mut self, order: &[usize]) -> usize {
        let (k, cap) = (order.len(), self.capacity);
        let in_order = order.iter().enumerate().all(|(j, &col)| j == col);
        let all_present = (0..self.ids.len()).all(|p| in_all(self.present.row(p), k));
        if k == cap && in_order && all_present {
            return self.ids.len();
        }
        let mut tmp = vec![0.0; 6 * k];
        let mut kept = 0;
        for p in 0..self.ids.len() {
            if !in_all(self.present.row(p), k) {
                continue;
            }
            for (j, &col) in order.iter().enumerate() {
                let src = 6 * (p * cap + col);
                tmp[6 * j..6 * j + 6].copy_from_slice(&self.xv[src..src + 6]);
            }
            // kept * k <= p * cap: the destination never overtakes rows still to be read.
            self.xv[6 * kept * k..6 * (kept + 1) * k].copy_from_slice(&tmp);
            kept += 1;
        }
        self.xv.truncate(6 * kept * k);
        self.xv.shrink_to_fit();
        kept
    }
}

/// Tracks from snapshots in any order (see [`Tracker`]).
pub fn track<'a>(snaps: impl IntoIterator<Item = &'a Snapshot>) -> Result<Tracks, SnapshotError> {
    let snaps: Vec<&Snapshot> = snaps.into_iter().collect();
    let mut tracker = Tracker::with_capacity(snaps.len());
    for snap in snaps {
        tracker.add(snap)?;
    }
    tracker.finish()
}

fn check_lengths(snap: &Snapshot) -> Result<(), SnapshotError> {
    let n = snap.masses.len();
    if snap.xv.len() != 6 * n {
        let found = format!("{} values", snap.xv.len());
        let expected = format!("{} values (6 per particle, {n} masses)", 6 * n);
        return Err(SnapshotError::invalid(
            &snap.path,
            "positions and velocities",
            expected,
            found,
        ));
    }
    match &snap.ids {
        Some(ids) if ids.len() != n => Err(SnapshotError::invalid(
            &snap.path,
            "particle ids",
            format!("{n} ids (one per particle)"),
            ids.len().to_string(),
        )),
        _ => Ok(()),
    }
}

/// Snapshots with and without ids cannot be matched with each other.
fn check_mode(
    snap: &Snapshot,
    mode: Matching,
    first_mode: Matching,
    first: &Path,
) -> Result<(), SnapshotError> {
    if mode == first_mode {
        return Ok(());
    }
    let has = |m: Matching| {
        if m == Matching::ById {
            "particle ids"
        } else {
            "no particle ids"
        }
    };
    Err(SnapshotError::invalid(
        &snap.path,
        "particle ids",
        format!(
            "{} like {} (snapshots with and without ids cannot be matched)",
            has(first_mode),
            first.display()
        ),
        has(mode),
    ))
}

/// `pairs` = (id, row) sorted by id (`buffer`: scratch); an error naming `file` and the id
/// when one repeats.
fn sorted_pairs(
    file: &Path,
    ids: &[u64],
    pairs: &mut Vec<(u64, usize)>,
    buffer: &mut Vec<(u64, usize)>,
) -> Result<(), SnapshotError> {
    pairs.clear();
    pairs.extend(ids.iter().enumerate().map(|(row, &id)| (id, row)));
    if !ids.is_sorted() {
        radix_sort(pairs, buffer);
    }
    if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(SnapshotError::invalid(
            file,
            "particle ids",
            "unique ids",
            format!(
                "id {} twice (rows {} and {})",
                w[0].0,
                w[0].1.min(w[1].1),
                w[0].1.max(w[1].1)
            ),
        ));
    }
    Ok(())
}

/// Bits per digit of [`radix_sort`]: 2048 buckets, whose counters stay in L1 cache.
const DIGIT_BITS: u32 = 11;
const DIGITS: usize = 64_usize.div_ceil(DIGIT_BITS as usize);

/// Sorts `pairs` by id, stably: least-significant-digit radix sort on 11-bit digits (Knuth,
/// TAOCP vol. 3, §5.2.5), one counting pass for all digits, then one scatter pass per digit
/// that the ids do not all share (ids below 2^22, say, need two). O(n) per digit.
fn radix_sort(pairs: &mut Vec<(u64, usize)>, buffer: &mut Vec<(u64, usize)>) {
    const BUCKETS: usize = 1 << DIGIT_BITS;
    let digit = |id: u64, d: usize| ((id >> (d as u32 * DIGIT_BITS)) as usize) & (BUCKETS - 1);
    let mut counts = vec![[0usize; BUCKETS]; DIGITS];
    for &(id, _) in pairs.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[digit(id, d)] += 1;
        }
    }
    buffer.clear();
    buffer.resize(pairs.len(), (0, 0));
    for (d, c) in counts.iter().enumerate() {
        if c.contains(&pairs.len()) {
            continue;
        }
        let mut next = [0usize; BUCKETS];
        let mut sum = 0;
        for (start, &count) in next.iter_mut().zip(c) {
            *start = sum;
            sum += count;
        }
        for &pair in pairs.iter() {
            let b = digit(pair.0, d);
            buffer[next[b]] = pair;
            next[b] += 1;
        }
        std::mem::swap(pairs, buffer);
    }
}

/// Merges the sorted `reference` ids with the sorted `pairs`: `rows[p]` = row of
/// `reference[p]` or [`ABSENT`]; returns the ids of `pairs` not in `reference`, ascending.
fn intersect(reference: &[u64], pairs: &[(u64, usize)], rows: &mut Vec<usize>) -> Vec<u64> {
    rows.clear();
    rows.resize(reference.len(), ABSENT);
    let mut new = Vec::new();
    let mut p = 0;
    for &(id, row) in pairs {
        while p < reference.len() && reference[p] < id {
            p += 1;
        }
        if p < reference.len() && reference[p] == id {
            rows[p] = row;
        } else {
            new.push(id);
        }
    }
    new
}

/// Column order by time (stable: equal times keep the order they were added in).
fn time_order(times: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
    order
}

/// A snapshot's file, and its position there when the file holds many.
fn source_name(path: &Path, index: usize) -> String {
    match index {
        0 => path.display().to_string(),
        i => format!("{} #{i}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_rows_and_new_ids() {
        let mut rows = Vec::new();
        let new = intersect(&[2, 4, 6, 8], &[(1, 0), (4, 3), (5, 1), (8, 2)], &mut rows);
        assert_eq!(rows, vec![ABSENT, 3, ABSENT, 2]);
        assert_eq!(new, vec![1, 5]);
    }

    #[test]
    fn radix_sort_agrees_with_a_comparison_sort() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for shift in [0, 20, 44, 63] {
            let ids: Vec<u64> = (0..5000).map(|_| next() >> shift).collect();
            let mut pairs: Vec<(u64, usize)> = ids.iter().copied().zip(0..).collect();
            let mut want = pairs.clone();
            want.sort();
            radix_sort(&mut pairs, &mut Vec::new());
            assert_eq!(pairs, want, "ids >> {shift}");
        }
    }

    #[test]
    fn grows_past_the_announced_number_of_snapshots() {
        let snap = |t: f64, ids: Vec<u64>| Snapshot {
            time_gyr: t,
            xv: ids
                .iter()
                .flat_map(|&i| [i as f64, t, 0.0, 0.0, 0.0, 0.0])
                .collect(),
            masses: vec![1.0; ids.len()],
            ids: Some(ids),
            ..Default::default()
        };
        let mut tracker = Tracker::with_capacity(1);
        for (k, ids) in [vec![3, 1, 2], vec![2, 3, 1], vec![1, 2, 3]]
            .into_iter()
            .enumerate()
        {
            tracker.add(&snap(3.0 - k as f64, ids)).unwrap();
        }
        let t = tracker.finish().unwrap();
        assert_eq!(t.ids, vec![1, 2, 3]);
        assert_eq!(t.times_gyr, vec![1.0, 2.0, 3.0]);
        for (p, id) in t.ids.iter().enumerate() {
            for (k, time) in t.times_gyr.iter().enumerate() {
                assert_eq!(&t.track(p)[6 * k..6 * k + 2], &[*id as f64, *time]);
            }
        }
    }
}
