//! Checks of the points of a streams dataset: those every file must pass (at least one
//! stream of one point, finite values, coordinates within [`MAX_POSITION_KPC`] and
//! [`MAX_SPEED_KMS`], times within [`MAX_TIME_GYR`]) and those learning adds ([`check_learnable`]: streams to split into
//! training and validation, two or more distinct points per stream).

use anyhow::{bail, Result};

use super::{InvalidPart, StreamLayout, StreamsDataset};

/// Largest `|x|` (kpc) a point may have: a Gpc, far beyond any galaxy or cluster, so that
/// a larger value is a unit mistake or garbage rather than data.
pub const MAX_POSITION_KPC: f64 = 1e6;

/// Largest `|v|` (km/s) a point may have: over three times the speed of light.
pub const MAX_SPEED_KMS: f64 = 1e6;

/// Largest `|t|` (Gyr) a point may have: far beyond the age of the universe.
pub const MAX_TIME_GYR: f64 = 1e6;

/// Streams learning needs at least: one to train on and one held out.
pub const MIN_LEARNING_STREAMS: usize = 2;

/// Points per stream learning needs at least: actions are learned from their agreement.
pub const MIN_LEARNING_STARS: usize = 2;

/// Indices listed in full in a message before the rest are counted.
const LISTED: usize = 10;

const XV: [&str; 6] = ["x", "y", "z", "vx", "vy", "vz"];

/// At least one stream of at least one point.
pub(crate) fn check_not_empty(n_streams: usize, n_stars: usize) -> Result<(), InvalidPart> {
    if n_streams > 0 && n_stars > 0 {
        return Ok(());
    }
    Err(InvalidPart {
        object: "dataset /streams/xv".into(),
        expected: "at least one stream of at least one point".into(),
        found: format!("{n_streams} streams of {n_stars} points: no data"),
    })
}

/// Every value finite, else the first offender by stream, star and component.
pub(crate) fn check_finite(
    object: &str,
    data: &[f64],
    layout: &StreamLayout,
    per_star: usize,
) -> Result<(), InvalidPart> {
    let Some(k) = data.iter().position(|v| !v.is_finite()) else {
        return Ok(());
    };
    let mut at = star_at(k / per_star, layout);
    if per_star == 6 {
        at.push_str(&format!(", component {}", XV[k % 6]));
    }
    Err(InvalidPart {
        object: object.to_string(),
        expected: "finite values".into(),
        found: format!("{} at {at}", data[k]),
    })
}

/// [`check_bounds_in`] for streams of `n_stars` points.
#[cfg(test)]
fn check_bounds(object: &str, xv: &[f64], n_stars: usize) -> Result<(), InvalidPart> {
    let layout = StreamLayout::uniform(xv.len() / 6 / n_stars.max(1), n_stars);
    check_bounds_in(object, xv, &layout)
}

/// Every point of `xv` (rows of six) within [`MAX_POSITION_KPC`] and [`MAX_SPEED_KMS`],
/// else the first one outside by stream and star.
pub(crate) fn check_bounds_in(object: &str, xv: &[f64], layout: &StreamLayout) -> Result<(), InvalidPart> {
    let norm = |p: &[f64]| {
        // Scaled by the largest component, so that 1e300 is not reported as infinite.
        let big = p.iter().fold(0.0f64, |m, c| m.max(c.abs()));
        if big == 0.0 {
            return 0.0;
        }
        big * p.iter().map(|c| (c / big).powi(2)).sum::<f64>().sqrt()
    };
    let outside = xv
        .chunks_exact(6)
        .map(|p| (norm(&p[..3]), norm(&p[3..])))
        .position(|(r, v)| !(r <= MAX_POSITION_KPC && v <= MAX_SPEED_KMS));
    let Some(k) = outside else {
        return Ok(());
    };
    let p = &xv[6 * k..6 * k + 6];
    Err(InvalidPart {
        object: object.to_string(),
        expected: format!(
            "|x| <= {MAX_POSITION_KPC:e} kpc and |v| <= {MAX_SPEED_KMS:e} km/s (a larger value is a unit mistake or garbage)"
        ),
        found: format!(
            "|x| = {:.4e} kpc, |v| = {:.4e} km/s at {}",
            norm(&p[..3]),
            norm(&p[3..]),
            star_at(k, layout)
        ),
    })
}

/// Times (Gyr, one per point) finite and within [`MAX_TIME_GYR`], else the first offender.
pub(crate) fn check_times(t: &[f64], layout: &StreamLayout) -> Result<(), InvalidPart> {
    const OBJECT: &str = "dataset /streams/t";
    check_finite(OBJECT, t, layout, 1)?;
    let Some(k) = t.iter().position(|x| x.abs() > MAX_TIME_GYR) else {
        return Ok(());
    };
    Err(InvalidPart {
        object: OBJECT.into(),
        expected: format!("|t| <= {MAX_TIME_GYR:e} Gyr"),
        found: format!("{:e} Gyr at {}", t[k], star_at(k, layout)),
    })
}

fn star_at(row: usize, layout: &StreamLayout) -> String {
    let (stream, star) = layout.locate(row);
    format!("stream {stream}, star {star}")
}

/// What learning (`train`, `fit-field`) needs of a dataset: [`MIN_LEARNING_STREAMS`]
/// streams of [`MIN_LEARNING_STARS`] points, not all points the same, and at least
/// [`MIN_LEARNING_STREAMS`] streams whose points are not one point repeated (the others
/// are named in a warning: they carry nothing to learn from).
pub fn check_learnable(ds: &StreamsDataset) -> Result<()> {
    let (s, n) = (ds.n_streams(), ds.n_stars());
    if s < MIN_LEARNING_STREAMS {
        bail!(
            "it holds {}; learning needs at least {MIN_LEARNING_STREAMS} (streams are split into training and held-out ones)",
            count(s, "stream")
        );
    }
    if n < MIN_LEARNING_STARS {
        bail!(
            "its streams have {} each; learning needs at least {MIN_LEARNING_STARS} points of one orbit per stream (the points of a stream share their actions)",
            count(n, "point")
        );
    }
    check_short_streams(ds.layout())?;
    let first = ds.point(0, 0);
    if ds.xv.chunks_exact(6).all(|p| p == first) {
        bail!(
            "all {} points are the same point {first:?}: nothing to learn from",
            ds.n_points()
        );
    }
    let repeated: Vec<usize> = (0..s).filter(|&k| is_one_point(ds.stream(k))).collect();
    let usable = s - repeated.len();
    if usable < MIN_LEARNING_STREAMS {
        bail!(
            "only {usable} of {s} streams have two or more distinct points; learning needs at least {MIN_LEARNING_STREAMS} (streams {} are one point repeated)",
            list(&repeated)
        );
    }
    if !repeated.is_empty() {
        log::warn!(
            "{} of {s} streams are one point repeated and carry nothing to learn from: streams {}",
            repeated.len(),
            list(&repeated)
        );
    }
    Ok(())
}

/// Streams of different lengths: each of at least [`MIN_LEARNING_STARS`] points, else the
/// short ones are named.
fn check_short_streams(layout: &StreamLayout) -> Result<()> {
    let short: Vec<usize> = (0..layout.n_streams())
        .filter(|&s| layout.len(s) < MIN_LEARNING_STARS)
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    bail!(
        "{} of its {} streams have fewer than {MIN_LEARNING_STARS} points by {} (streams {}); learning needs at \
         least {MIN_LEARNING_STARS} points of one orbit per stream (the points of a stream share their actions)",
        short.len(),
        layout.n_streams(),
        super::layout::OFFSETS,
        list(&short)
    )
}

/// Whether every point of a stream (rows of six) is its first.
fn is_one_point(stream: &[f64]) -> bool {
    stream.chunks_exact(6).all(|p| p == &stream[..6])
}

/// `1 stream`, `0 streams`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Indices as `0, 3, 7` or `0, 1, ..., 9 and 30 more`.
fn list(indices: &[usize]) -> String {
    let shown: Vec<String> = indices.iter().take(LISTED).map(usize::to_string).collect();
    match indices.len().saturating_sub(LISTED) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(s: usize, n: usize) -> StreamsDataset {
        let xv = (0..s * n * 6).map(|k| 1.0 + k as f64).collect();
        StreamsDataset::from_xv(s, n, xv).unwrap()
    }

    #[test]
    fn bounds_name_the_stream_and_star() {
        let mut xv = vec![1.0; 12];
        xv[7] = 2e6;
        let e = check_bounds("dataset /streams/xv", &xv, 1).unwrap_err();
        assert!(e.found.contains("stream 1, star 0"), "{e}");
        assert!(check_bounds("d", &[1.0; 12], 2).is_ok());
    }

    #[test]
    fn bounds_in_ragged_streams_name_the_stream_and_star() {
        let ragged = StreamLayout::from_lengths(&[1, 3]);
        let mut xv = vec![1.0; 24];
        xv[19] = 2e6;
        let e = check_bounds_in("d", &xv, &ragged).unwrap_err();
        assert!(e.found.contains("stream 1, star 2"), "{e}");
    }

    #[test]
    fn learning_refuses_too_few_streams_or_points() {
        let e = check_learnable(&dataset(1, 8)).unwrap_err().to_string();
        assert!(e.contains("holds 1 stream;") && e.contains("at least 2"), "{e}");
        let e = check_learnable(&dataset(4, 1)).unwrap_err().to_string();
        assert!(e.contains("1 point each"), "{e}");
        assert!(check_learnable(&dataset(2, 2)).is_ok());
    }

    #[test]
    fn learning_refuses_repeated_points_naming_the_streams() {
        let e = check_learnable(&StreamsDataset::new(3, 4))
            .unwrap_err()
            .to_string();
        assert!(e.contains("all 12 points are the same point"), "{e}");
        let mut ds = dataset(3, 4);
        for s in [0, 2] {
            let p = ds.point(s, 0);
            for i in 0..4 {
                ds.xv[6 * (s * 4 + i)..6 * (s * 4 + i + 1)].copy_from_slice(&p);
            }
        }
        let e = check_learnable(&ds).unwrap_err().to_string();
        assert!(
            e.contains("only 1 of 3 streams") && e.contains("streams 0, 2 are"),
            "{e}"
        );
    }

    #[test]
    fn learning_names_streams_too_short() {
        let xv = (0..9 * 6).map(|k| 1.0 + k as f64).collect();
        let ds = StreamsDataset::from_offsets(vec![0, 3, 4, 8, 9], xv).unwrap();
        let e = check_learnable(&ds).unwrap_err().to_string();
        assert!(
            e.contains("2 of its 4 streams") && e.contains("streams 1, 3") && e.contains("/streams/offsets"),
            "{e}"
        );
        let xv = (0..7 * 6).map(|k| 1.0 + k as f64).collect();
        assert!(check_learnable(&StreamsDataset::from_offsets(vec![0, 3, 7], xv).unwrap()).is_ok());
    }

    #[test]
    fn long_index_lists_are_cut() {
        let indices: Vec<usize> = (0..25).collect();
        assert_eq!(list(&indices), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 15 more");
    }
}
