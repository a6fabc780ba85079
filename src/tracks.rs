//! `actionfinder tracks`: simulation snapshots -> particle tracks -> streams dataset.
//!
//! Each particle's track through the K snapshots is one stream (docs/design.md, "Data
//! contracts"); its stars are N of the K snapshots (all by default, else N drawn at random
//! for each particle, in time order), and S particles are kept (all by default, else S drawn
//! at random). Snapshots are scanned and read by `actionfinder_snapshots` (formats detected
//! by content), centred one at a time, and tracked by id, so that one snapshot at a time is
//! in memory besides the tracks.
//!
//! Units: NEMO files carry none, and gyrfalcON runs often use G = 1 with kpc and Gyr or Myr;
//! [`g1_units`] gives the factors that `--velocity-unit` and `--mass-unit` then need.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use actionfinder_integrators::units::{G, GYR_PER_TIME_UNIT};
use actionfinder_snapshots::center::{recentre, Centering};
use actionfinder_snapshots::formats;
use actionfinder_snapshots::scan::{scan, SnapshotFile};
use actionfinder_snapshots::track::{Tracker, Tracks};
use actionfinder_snapshots::{ReadOptions, UnitSystem};
use anyhow::{bail, Context, Result};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_pcg::Pcg64;

use crate::dataset::StreamsDataset;
use crate::progress;

/// One `tracks` job.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TracksConfig {
    /// Snapshot files, directories or glob patterns.
    pub inputs: Vec<PathBuf>,
    /// Points per stream (N of the K snapshots); `None` keeps all K.
    pub stars: Option<usize>,
    /// Streams (particles) kept; `None` keeps all.
    pub streams: Option<usize>,
    /// Split each particle's track into streams of this many consecutive points (paper §6:
    /// sub-groups of one size N); `None` keeps one stream per particle.
    pub group: Option<usize>,
    /// What to read: particle types and unit overrides.
    pub read: ReadOptions,
    pub centering: Centering,
    pub seed: u64,
}

/// What a `tracks` job read and wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct TracksSummary {
    pub out: PathBuf,
    pub files: usize,
    pub snapshots: usize,
    /// First and last snapshot time (Gyr).
    pub times_gyr: (f64, f64),
    /// Particles present in every snapshot, and those dropped for missing from some.
    pub tracked: usize,
    pub dropped: usize,
    pub streams: usize,
    pub stars: usize,
    pub seconds: f64,
}

impl fmt::Display for TracksSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "read {} snapshots from {} files (t = {} .. {} Gyr): {} particles tracked, {} dropped",
            self.snapshots, self.files, self.times_gyr.0, self.times_gyr.1, self.tracked, self.dropped
        )?;
        write!(
            f,
            "wrote {}: {} streams x {} stars; {:.1} s",
            self.out.display(),
            self.streams,
            self.stars,
            self.seconds
        )
    }
}

/// A simulation unit system with G = 1: `length_kpc` kpc and `time_gyr` Gyr per unit, so
/// velocity unit = length/time and mass unit = length velocity^2 / G, with
/// G = 4.300917270e-6 kpc (km/s)^2/Msun. kpc and Gyr: 0.977792 km/s, 2.22296e5 Msun;
/// kpc and Myr: 977.792 km/s, 2.22296e11 Msun.
pub fn g1_units(length_kpc: f64, time_gyr: f64) -> UnitSystem {
    // 1 kpc/Gyr = GYR_PER_TIME_UNIT km/s, as the time unit kpc/(km/s) is that many Gyr.
    let velocity_kms = length_kpc / time_gyr * GYR_PER_TIME_UNIT;
    UnitSystem {
        length_kpc,
        velocity_kms,
        mass_msun: length_kpc * velocity_kms * velocity_kms / G,
        time_gyr,
    }
}

/// Run a `tracks` job: scan, read, centre, track, select and write the streams dataset.
pub fn tracks_command(cfg: &TracksConfig, out: &Path) -> Result<TracksSummary> {
    let clock = Instant::now();
    let (ds, mut summary) = tracks_dataset(cfg)?;
    ds.write(out)
        .with_context(|| format!("writing streams dataset {}", out.display()))?;
    summary.out = out.to_path_buf();
    summary.seconds = clock.elapsed().as_secs_f64();
    Ok(summary)
}

/// The streams dataset of a `tracks` job, not yet written (`out` of the summary empty).
pub fn tracks_dataset(cfg: &TracksConfig) -> Result<(StreamsDataset, TracksSummary)> {
    let clock = Instant::now();
    let files = scan(&cfg.inputs)?;
    let tracks = read_tracks(&files, cfg)?;
    let (snapshots, tracked, dropped) = (tracks.n_snapshots(), tracks.n_particles(), tracks.dropped);
    if tracked == 0 {
        let types = if cfg.read.types.is_some() {
            ", or no particle of the selected types"
        } else {
            ""
        };
        let inputs = describe_inputs(&cfg.inputs);
        bail!(
            "no particle is present in all {snapshots} snapshots of {inputs} (particle sets differ{types})"
        );
    }
    let times_gyr = (tracks.times_gyr[0], tracks.times_gyr[snapshots - 1]);
    let mut ds = to_dataset(tracks, cfg.stars, cfg.streams, cfg.seed)?;
    if let Some(n) = cfg.group {
        ds = split_into_groups(&ds, n)?;
    }
    ds.attrs.description = format!(
        "particle tracks from {snapshots} snapshots in {} files ({}), t = {} .. {} Gyr, centred: {}; {} of \
         {tracked} tracked particles, {} of {snapshots} snapshots per stream{}",
        files.len(),
        describe_inputs(&cfg.inputs),
        times_gyr.0,
        times_gyr.1,
        cfg.centering,
        ds.n_streams(),
        ds.n_stars(),
        match cfg.group {
            Some(_) => " (consecutive groups of each track)",
            None => "",
        },
    );
    let summary = TracksSummary {
        out: PathBuf::new(),
        files: files.len(),
        snapshots,
        times_gyr,
        tracked,
        dropped,
        streams: ds.n_streams(),
        stars: ds.n_stars(),
        seconds: clock.elapsed().as_secs_f64(),
    };
    Ok((ds, summary))
}

/// Reads every snapshot of `files`, centres it, and tracks its particles (progress on stderr).
/// With a type selection, particles may leave it and come back (they are dropped then).
pub fn read_tracks(files: &[SnapshotFile], cfg: &TracksConfig) -> Result<Tracks> {
    let bar = progress::counter(files.len() as u64, "reading snapshots");
    let mut tracker = Tracker::with_capacity(files.len());
    if cfg.read.types.is_some() {
        tracker = tracker.allow_returning_particles();
    }
    for file in files {
        for mut snap in formats::read(&file.path, &cfg.read)? {
            if let Some(c) = recentre(&mut snap, cfg.centering)? {
                log::debug!(
                    "{} #{}: centre x = {:?} kpc, v = {:?} km/s ({} particles within {} kpc)",
                    snap.path.display(),
                    snap.index,
                    c.x,
                    c.v,
                    c.particles,
                    c.radius
                );
            }
            tracker.add(&snap)?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(tracker.finish()?)
}

/// The streams dataset of `tracks`: `streams` particles (all when `None`) drawn with `seed`,
/// each with `stars` of its K snapshots (all when `None`) drawn per particle, in time order.
/// Sets `/streams/ids`, `/streams/t` and the root attributes source, seed and provenance.
pub fn to_dataset(
    tracks: Tracks,
    stars: Option<usize>,
    streams: Option<usize>,
    seed: u64,
) -> Result<StreamsDataset> {
    let (p, k) = (tracks.n_particles(), tracks.n_snapshots());
    let s = count_option("--streams", streams, p, "particles tracked")?;
    let n = count_option("--stars", stars, k, "snapshots")?;
    let mut rng = Pcg64::seed_from_u64(seed);
    let chosen = if s == p {
        (0..p).collect()
    } else {
        sorted_sample(&mut rng, p, s)
    };
    let mut xv = Vec::new();
    let mut t = Vec::with_capacity(s * n);
    let mut star_rng = Pcg64::seed_from_u64(seed.wrapping_add(STARS_SEED_OFFSET));
    for &i in &chosen {
        let cols = if n == k {
            (0..k).collect()
        } else {
            sorted_sample(&mut star_rng, k, n)
        };
        t.extend(cols.iter().map(|&j| tracks.times_gyr[j]));
        if !(s == p && n == k) {
            let track = tracks.track(i);
            xv.extend(cols.iter().flat_map(|&j| track[6 * j..6 * j + 6].iter().copied()));
        }
    }
    let ids: Vec<u64> = chosen.iter().map(|&i| tracks.ids[i]).collect();
    let attrs = provenance(&tracks, seed);
    if s == p && n == k {
        xv = tracks.xv;
    }
    let mut ds = StreamsDataset::from_xv(s, n, xv).map_err(|e| anyhow::anyhow!("{e}"))?;
    ds.t = Some(t);
    ds.ids = Some(ids);
    ds.attrs = attrs;
    Ok(ds)
}

/// Each stream of `ds` cut into streams of `n` consecutive points, in order; a remainder of
/// fewer than `n` points at a stream's end is left out. Streams cut from one track keep its
/// particle id, so a dataset may hold one id several times.
pub fn split_into_groups(ds: &StreamsDataset, n: usize) -> Result<StreamsDataset> {
    let k = ds.n_stars();
    if n < 2 || n > k {
        bail!("--group {n} must be between 2 and the {k} points of each track");
    }
    let per_track = k / n;
    let rows = |s: usize, g: usize| s * k + g * n..s * k + (g + 1) * n;
    let groups: Vec<(usize, usize)> = (0..ds.n_streams())
        .flat_map(|s| (0..per_track).map(move |g| (s, g)))
        .collect();
    let xv = groups
        .iter()
        .flat_map(|&(s, g)| ds.xv[6 * rows(s, g).start..6 * rows(s, g).end].iter().copied())
        .collect();
    let mut out = StreamsDataset::from_xv(groups.len(), n, xv).map_err(|e| anyhow::anyhow!("{e}"))?;
    out.t =
        ds.t.as_ref()
            .map(|t| groups.iter().flat_map(|&(s, g)| t[rows(s, g)].to_vec()).collect());
    out.ids = ds
        .ids
        .as_ref()
        .map(|ids| groups.iter().map(|&(s, _)| ids[s]).collect());
    out.attrs = ds.attrs.clone();
    if !k.is_multiple_of(n) {
        log::info!(
            "--group {n}: the last {} of each track's {k} points are left out",
            k % n
        );
    }
    Ok(out)
}

/// Separates the stars' random stream from the particles'.
const STARS_SEED_OFFSET: u64 = 0x3c6e_f372_fe94_f82b;

/// `requested` (1..=available) or `available` when `None`.
fn count_option(flag: &str, requested: Option<usize>, available: usize, what: &str) -> Result<usize> {
    match requested {
        None => Ok(available),
        Some(0) => bail!("{flag} must be at least 1"),
        Some(r) if r > available => bail!("{flag} {r} asks for more than the {available} {what}"),
        Some(r) => Ok(r),
    }
}

/// `amount` distinct indices of `0..length`, ascending.
fn sorted_sample(rng: &mut Pcg64, length: usize, amount: usize) -> Vec<usize> {
    let mut v = sample(rng, length, amount).into_vec();
    v.sort_unstable();
    v
}

fn provenance(tracks: &Tracks, seed: u64) -> crate::dataset::DatasetAttrs {
    let files: BTreeSet<String> = tracks
        .sources
        .iter()
        .map(|(f, _)| f.display().to_string())
        .collect();
    let mut attrs = crate::dataset::DatasetAttrs {
        source: format!("actionfinder {} tracks", env!("CARGO_PKG_VERSION")),
        seed: Some(seed),
        ..Default::default()
    };
    let extra = &mut attrs.extra;
    extra.insert(
        "snapshot_files".into(),
        files.into_iter().collect::<Vec<_>>().into(),
    );
    extra.insert("snapshot_times_gyr".into(), tracks.times_gyr.clone().into());
    extra.insert("tracked_particles".into(), (tracks.n_particles() as u64).into());
    extra.insert("dropped_particles".into(), (tracks.dropped as u64).into());
    extra.insert(
        "matched_by".into(),
        if tracks.matched_by_order {
            "order (no ids)"
        } else {
            "id"
        }
        .into(),
    );
    attrs
}

/// The inputs as given, shortened when many.
fn describe_inputs(inputs: &[PathBuf]) -> String {
    let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    match names.len() {
        0..=3 => names.join(", "),
        n => format!("{}, ..., {} ({n} arguments)", names[0], names[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracks(p: usize, k: usize) -> Tracks {
        Tracks {
            ids: (0..p as u64).map(|i| 10 * i).collect(),
            times_gyr: (0..k).map(|j| j as f64 * 0.5).collect(),
            xv: (0..p * k * 6).map(|v| v as f64).collect(),
            sources: (0..k).map(|j| (PathBuf::from(format!("s{j}")), 0)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn g1_units_match_the_numbers_in_the_help() {
        let gyr = g1_units(1.0, 1.0);
        assert!((gyr.velocity_kms - 0.977_792_2).abs() < 1e-7, "{gyr:?}");
        assert!((gyr.mass_msun / 2.222_962e5 - 1.0).abs() < 1e-6, "{gyr:?}");
        let myr = g1_units(1.0, 1e-3);
        assert!(
            (myr.velocity_kms - 977.792_2).abs() < 1e-4 && (myr.mass_msun / 2.222_962e11 - 1.0).abs() < 1e-6
        );
        // G = 1 in these units: G_ours * M / (L V^2) = 1.
        assert!((G * gyr.mass_msun / (gyr.length_kpc * gyr.velocity_kms.powi(2)) - 1.0).abs() < 1e-14);
    }

    #[test]
    fn all_streams_and_stars_by_default_without_copying_order() {
        let tr = tracks(4, 3);
        let xv = tr.xv.clone();
        let ds = to_dataset(tr, None, None, 1).unwrap();
        assert_eq!((ds.n_streams(), ds.n_stars()), (4, 3));
        assert_eq!(ds.xv, xv);
        assert_eq!(ds.ids, Some(vec![0, 10, 20, 30]));
        assert_eq!(ds.stream_times(2), Some(&[0.0, 0.5, 1.0][..]));
    }

    #[test]
    fn subsets_are_seeded_sorted_and_consistent() {
        let tr = tracks(50, 8);
        let ds = to_dataset(tr.clone(), Some(3), Some(10), 9).unwrap();
        assert_eq!((ds.n_streams(), ds.n_stars()), (10, 3));
        let ids = ds.ids.clone().unwrap();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let mut distinct_times = BTreeSet::new();
        for (s, id) in ids.iter().enumerate() {
            let p = (id / 10) as usize;
            let t = ds.stream_times(s).unwrap();
            assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
            distinct_times.insert(format!("{t:?}"));
            for (i, &ti) in t.iter().enumerate() {
                let j = (ti / 0.5) as usize;
                assert_eq!(ds.point(s, i)[..], tr.track(p)[6 * j..6 * j + 6]);
            }
        }
        assert!(distinct_times.len() > 1, "each stream draws its own snapshots");
        assert_eq!(to_dataset(tr.clone(), Some(3), Some(10), 9).unwrap(), ds);
        assert_ne!(to_dataset(tr.clone(), Some(3), Some(10), 10).unwrap().ids, ds.ids);
        let err = to_dataset(tr.clone(), Some(9), None, 1).unwrap_err().to_string();
        assert!(err.contains("--stars 9") && err.contains("8 snapshots"), "{err}");
        let err = to_dataset(tr, None, Some(0), 1).unwrap_err().to_string();
        assert!(err.contains("--streams must be at least 1"), "{err}");
    }
}
