//! How the points of a streams dataset divide into streams: S streams of N points each
//! (uniform), or streams of their own lengths given by offsets (ragged).
//!
//! Points are always stored stream-major, one row per point: stream `s` is rows
//! `offsets[s]..offsets[s+1]` of every per-point array, with `offsets[0] = 0` and
//! `offsets[S] = P`, the number of points. A uniform layout is the special case
//! `offsets[s] = s N`; a layout is only ever ragged when its streams do differ in length
//! ([`StreamLayout::from_offsets`] makes equal lengths uniform), so that a dataset of equal
//! streams is held, digested and written exactly as a uniform one.

use std::ops::Range;

use super::InvalidPart;

/// The object named in messages about the offsets.
pub const OFFSETS: &str = "dataset /streams/offsets";

/// S streams of N points, or streams of different lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamLayout {
    /// `streams` streams of `stars` points each.
    Uniform { streams: usize, stars: usize },
    /// Stream `s` is rows `offsets[s]..offsets[s+1]` (S+1 offsets, non-decreasing, from 0;
    /// not all lengths equal).
    Ragged { offsets: Vec<usize> },
}

impl StreamLayout {
    /// S streams of N points.
    pub fn uniform(streams: usize, stars: usize) -> Self {
        StreamLayout::Uniform { streams, stars }
    }

    /// The layout of `offsets` (S+1 values: 0 first, then each stream's end), uniform when
    /// every stream has the same length. An error when there is no first offset of 0 or
    /// the offsets decrease.
    pub fn from_offsets(offsets: Vec<usize>) -> Result<Self, InvalidPart> {
        let bad = |expected: &str, found: String| InvalidPart {
            object: OFFSETS.into(),
            expected: expected.into(),
            found,
        };
        match offsets.first() {
            None => return Err(bad("S+1 offsets starting at 0", "no offsets".into())),
            Some(&first) if first != 0 => return Err(bad("offsets[0] = 0", format!("offsets[0] = {first}"))),
            Some(_) => {}
        }
        if let Some(k) = offsets.windows(2).position(|w| w[1] < w[0]) {
            return Err(bad(
                "non-decreasing offsets (stream s is rows offsets[s]..offsets[s+1])",
                format!(
                    "offsets[{}] = {} > offsets[{}] = {}",
                    k,
                    offsets[k],
                    k + 1,
                    offsets[k + 1]
                ),
            ));
        }
        Ok(Self::normalised(offsets))
    }

    /// The layout of streams of `lengths` points (uniform when they are all equal).
    pub fn from_lengths(lengths: &[usize]) -> Self {
        let mut offsets = Vec::with_capacity(lengths.len() + 1);
        offsets.push(0);
        for &n in lengths {
            offsets.push(offsets[offsets.len() - 1] + n);
        }
        Self::normalised(offsets)
    }

    /// Non-decreasing offsets from 0, uniform when every length is the same.
    fn normalised(offsets: Vec<usize>) -> Self {
        let streams = offsets.len().saturating_sub(1);
        let first = offsets.get(1).copied().unwrap_or(0);
        let equal = offsets.windows(2).all(|w| w[1] - w[0] == first);
        if equal {
            StreamLayout::uniform(streams, first)
        } else {
            StreamLayout::Ragged { offsets }
        }
    }

    /// Number of streams S.
    pub fn n_streams(&self) -> usize {
        match self {
            StreamLayout::Uniform { streams, .. } => *streams,
            StreamLayout::Ragged { offsets } => offsets.len() - 1,
        }
    }

    /// Number of points P (rows of every per-point array).
    pub fn n_points(&self) -> usize {
        match self {
            StreamLayout::Uniform { streams, stars } => streams * stars,
            StreamLayout::Ragged { offsets } => offsets[offsets.len() - 1],
        }
    }

    /// Whether the streams differ in length.
    pub fn is_ragged(&self) -> bool {
        matches!(self, StreamLayout::Ragged { .. })
    }

    /// Points per stream when every stream has the same number, else `None`.
    pub fn uniform_stars(&self) -> Option<usize> {
        match self {
            StreamLayout::Uniform { stars, .. } => Some(*stars),
            StreamLayout::Ragged { .. } => None,
        }
    }

    /// The rows of stream `s` (panics when `s >= S`).
    pub fn rows(&self, s: usize) -> Range<usize> {
        match self {
            StreamLayout::Uniform { stars, .. } => s * stars..(s + 1) * stars,
            StreamLayout::Ragged { offsets } => offsets[s]..offsets[s + 1],
        }
    }

    /// Number of points of stream `s`.
    pub fn len(&self, s: usize) -> usize {
        self.rows(s).len()
    }

    /// True when there are no streams.
    pub fn is_empty(&self) -> bool {
        self.n_streams() == 0
    }

    /// Points of every stream, in order.
    pub fn lengths(&self) -> Vec<usize> {
        (0..self.n_streams()).map(|s| self.len(s)).collect()
    }

    /// The fewest and the most points of a stream (`(0, 0)` without streams).
    pub fn length_range(&self) -> (usize, usize) {
        match self {
            StreamLayout::Uniform { stars, .. } => (*stars, *stars),
            StreamLayout::Ragged { .. } => {
                let lengths = self.lengths();
                let min = lengths.iter().copied().min().unwrap_or(0);
                (min, lengths.iter().copied().max().unwrap_or(0))
            }
        }
    }

    /// The S+1 offsets (`offsets[s]` = first row of stream `s`).
    pub fn offsets(&self) -> Vec<usize> {
        match self {
            StreamLayout::Uniform { streams, stars } => (0..=*streams).map(|s| s * stars).collect(),
            StreamLayout::Ragged { offsets } => offsets.clone(),
        }
    }

    /// The stream of each row, in order.
    pub fn stream_of_rows(&self) -> Vec<usize> {
        (0..self.n_streams())
            .flat_map(|s| std::iter::repeat_n(s, self.len(s)))
            .collect()
    }

    /// `(stream, star)` of row `row` (a row past the end counts on from the last stream).
    pub fn locate(&self, row: usize) -> (usize, usize) {
        match self {
            StreamLayout::Uniform { stars, .. } => {
                let n = (*stars).max(1);
                (row / n, row % n)
            }
            StreamLayout::Ragged { offsets } => {
                let s = offsets.partition_point(|&o| o <= row).saturating_sub(1);
                let s = s.min(offsets.len().saturating_sub(2));
                (s, row - offsets[s])
            }
        }
    }

    /// The layout of streams `streams` (indices below S, in the order given) taken alone.
    pub fn select(&self, streams: &[usize]) -> Self {
        match self {
            StreamLayout::Uniform { stars, .. } => StreamLayout::uniform(streams.len(), *stars),
            StreamLayout::Ragged { .. } => {
                let lengths: Vec<usize> = streams.iter().map(|&s| self.len(s)).collect();
                Self::from_lengths(&lengths)
            }
        }
    }

    /// The rows of `streams`, one after the other.
    pub fn rows_of(&self, streams: &[usize]) -> Vec<usize> {
        streams.iter().flat_map(|&s| self.rows(s)).collect()
    }

    /// Each stream's part of `data` (`per_row` values per point), in order.
    pub fn split<'a, T>(&'a self, data: &'a [T], per_row: usize) -> impl Iterator<Item = &'a [T]> + 'a {
        (0..self.n_streams()).map(move |s| {
            let r = self.rows(s);
            &data[per_row * r.start..per_row * r.end]
        })
    }

    /// `data` (`per_row` values per point) of `streams`, one stream after the other.
    pub fn gather<T: Copy>(&self, data: &[T], per_row: usize, streams: &[usize]) -> Vec<T> {
        streams
            .iter()
            .flat_map(|&s| {
                let r = self.rows(s);
                data[per_row * r.start..per_row * r.end].iter().copied()
            })
            .collect()
    }

    /// Each stream's value repeated over its points.
    pub fn repeat<T: Copy>(&self, per_stream: &[T]) -> Vec<T> {
        per_stream
            .iter()
            .enumerate()
            .flat_map(|(s, &v)| std::iter::repeat_n(v, self.len(s)))
            .collect()
    }

    /// At least one stream, and no stream without points.
    pub fn check_not_empty(&self) -> Result<(), InvalidPart> {
        let empty = (0..self.n_streams()).find(|&s| self.len(s) == 0);
        match (self, empty) {
            (StreamLayout::Uniform { streams, stars }, _) => super::checks::check_not_empty(*streams, *stars),
            (StreamLayout::Ragged { .. }, None) if !self.is_empty() => Ok(()),
            (StreamLayout::Ragged { .. }, empty) => Err(InvalidPart {
                object: OFFSETS.into(),
                expected: "at least one stream, each of at least one point".into(),
                found: match empty {
                    Some(s) => format!("stream {s} has no points (offsets[{s}] = offsets[{}])", s + 1),
                    None => "no streams".into(),
                },
            }),
        }
    }

    /// The shape of a per-point array with `per_row` values per point, as messages show it.
    pub fn shape_text(&self, per_row: usize) -> String {
        let tail = if per_row == 1 {
            String::new()
        } else {
            format!(",{per_row}")
        };
        match self {
            StreamLayout::Uniform { streams, stars } => format!("[S={streams},N={stars}{tail}]"),
            StreamLayout::Ragged { .. } => format!("[P={}{tail}]", self.n_points()),
        }
    }

    /// "S streams of N points" or "S streams of 2 to 16 points (P in all)".
    pub fn describe(&self) -> String {
        let s = self.n_streams();
        match self {
            StreamLayout::Uniform { stars, .. } => format!("{s} streams of {stars} points"),
            StreamLayout::Ragged { .. } => {
                let (min, max) = self.length_range();
                format!(
                    "{s} streams of {min} to {max} points ({} in all)",
                    self.n_points()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_lengths_are_uniform() {
        assert_eq!(
            StreamLayout::from_offsets(vec![0, 3, 6, 9]).unwrap(),
            StreamLayout::uniform(3, 3)
        );
        assert_eq!(StreamLayout::from_lengths(&[4, 4]), StreamLayout::uniform(2, 4));
        assert!(StreamLayout::from_lengths(&[4, 2]).is_ragged());
    }

    #[test]
    fn rows_and_locations_follow_the_offsets() {
        let l = StreamLayout::from_offsets(vec![0, 2, 7, 10]).unwrap();
        assert_eq!((l.n_streams(), l.n_points()), (3, 10));
        assert_eq!(l.rows(1), 2..7);
        assert_eq!(l.locate(6), (1, 4));
        assert_eq!(l.locate(7), (2, 0));
        assert_eq!(l.locate(0), (0, 0));
        assert_eq!(l.length_range(), (2, 5));
        assert_eq!(l.stream_of_rows(), [0, 0, 1, 1, 1, 1, 1, 2, 2, 2]);
        assert_eq!(l.select(&[2, 0]), StreamLayout::from_lengths(&[3, 2]));
        assert_eq!(l.select(&[0]), StreamLayout::uniform(1, 2));
        assert_eq!(l.rows_of(&[2, 0]), [7, 8, 9, 0, 1]);
        let data: Vec<usize> = (0..20).collect();
        assert_eq!(l.gather(&data, 2, &[0]), [0, 1, 2, 3]);
        assert_eq!(l.split(&data, 2).nth(2).unwrap(), &data[14..20]);
        assert_eq!(l.repeat(&[1, 2, 3]), [1, 1, 2, 2, 2, 2, 2, 3, 3, 3]);
    }

    #[test]
    fn bad_offsets_say_what_is_wrong() {
        let e = StreamLayout::from_offsets(vec![1, 3]).unwrap_err();
        assert!(e.to_string().contains("offsets[0] = 1"), "{e}");
        let e = StreamLayout::from_offsets(vec![0, 5, 3]).unwrap_err();
        assert!(e.to_string().contains("offsets[1] = 5 > offsets[2] = 3"), "{e}");
        assert!(StreamLayout::from_offsets(Vec::new()).is_err());
        let e = StreamLayout::from_offsets(vec![0, 2, 2, 4])
            .unwrap()
            .check_not_empty()
            .unwrap_err();
        assert!(e.to_string().contains("stream 1 has no points"), "{e}");
    }
}
