//! Particle tracking, centring and snapshot scans: shuffled orders, missing and duplicate
//! ids, files without ids, drifting and contaminated Plummer spheres, directories and globs.

use std::path::{Path, PathBuf};

use actionfinder_snapshots::center::{find_centre, recentre, Centering, ShrinkingSphere};
use actionfinder_snapshots::gadget4::{permutation, write_snapshot, SnapshotData};
use actionfinder_snapshots::scan::{expand, read_sorted, scan, snapshot_files};
use actionfinder_snapshots::track::{track, Tracker};
use actionfinder_snapshots::{H5Writer, ReadOptions, Snapshot};

/// The phase-space point of particle `id` at time `t`: distinct for every (id, t).
fn truth(id: u64, t: f64) -> [f64; 6] {
    let x = id as f64;
    [x, -2.0 * x, 0.5 * x + t, 100.0 * t, x * t, 1.0 + x]
}

/// A snapshot at `t` holding `ids` in the order given.
fn snapshot(name: &str, t: f64, ids: &[u64]) -> Snapshot {
    Snapshot {
        path: PathBuf::from(name),
        time_gyr: t,
        ids: Some(ids.to_vec()),
        xv: ids.iter().flat_map(|&id| truth(id, t)).collect(),
        masses: vec![1.0; ids.len()],
        types: vec![1; ids.len()],
        index: 0,
    }
}

/// `ids` shuffled by the writer's permutation for stream `k`.
fn shuffled(ids: &[u64], k: u64) -> Vec<u64> {
    permutation(ids.len(), 99, k).iter().map(|&j| ids[j]).collect()
}

#[test]
fn shuffled_snapshots_in_any_order_give_tracks_by_id_and_time() {
    let ids: Vec<u64> = (0..5000u64).map(|i| 1_000_003 * i + 17).collect();
    let times = [0.3, 0.0, 0.2, 0.1, 0.05];
    let snaps: Vec<Snapshot> = times
        .iter()
        .enumerate()
        .map(|(k, &t)| snapshot(&format!("s{k}"), t, &shuffled(&ids, k as u64)))
        .collect();
    let tracks = track(&snaps).unwrap();
    assert_eq!(tracks.n_particles(), 5000);
    assert_eq!(tracks.times_gyr, vec![0.0, 0.05, 0.1, 0.2, 0.3]);
    assert_eq!(tracks.ids, ids, "ids ascending");
    assert_eq!(tracks.dropped, 0);
    assert!(!tracks.matched_by_order);
    let names: Vec<&str> = tracks.sources.iter().map(|(p, _)| p.to_str().unwrap()).collect();
    assert_eq!(names, ["s1", "s4", "s3", "s2", "s0"]);
    for (p, &id) in tracks.ids.iter().enumerate() {
        for (k, &t) in tracks.times_gyr.iter().enumerate() {
            assert_eq!(
                tracks.track(p)[6 * k..6 * k + 6],
                truth(id, t),
                "id {id} at t {t}"
            );
        }
    }
}

#[test]
fn particles_missing_from_some_snapshots_are_dropped_and_counted() {
    let all: Vec<u64> = (1..=1000).collect();
    // Snapshot 0 lacks 1..=10 (formed later); snapshot 1 lacks 500..=519 (gone for good)
    // and has new ids 2000..=2004; snapshot 2 has 2000..=2009 (counted once each) and lacks
    // 500..=519 and 1000.
    let s0: Vec<u64> = all.iter().copied().filter(|&i| i > 10).collect();
    let s1: Vec<u64> = all
        .iter()
        .copied()
        .filter(|i| !(500..=519).contains(i))
        .chain(2000..=2004)
        .collect();
    let s2: Vec<u64> = all
        .iter()
        .copied()
        .filter(|&i| i != 1000 && !(500..=519).contains(&i))
        .chain(2000..=2009)
        .collect();
    let snaps = [
        snapshot("a", 0.0, &shuffled(&s0, 0)),
        snapshot("b", 1.0, &shuffled(&s1, 1)),
        snapshot("c", 2.0, &shuffled(&s2, 2)),
    ];
    let tracks = track(&snaps).unwrap();
    let kept: Vec<u64> = (11..1000).filter(|i| !(500..=519).contains(i)).collect();
    assert_eq!(tracks.ids, kept);
    assert_eq!(
        tracks.dropped,
        10 + 20 + 1 + 10,
        "later arrivals, departures for good, new ids"
    );
    for (p, &id) in tracks.ids.iter().enumerate() {
        assert_eq!(tracks.track(p)[12..18], truth(id, 2.0));
    }
}

#[test]
fn duplicate_ids_are_an_error_naming_the_file_and_the_id() {
    let good = snapshot("snap_000.hdf5", 0.0, &[1, 2, 3, 4]);
    let bad = snapshot("out/snap_001.hdf5", 1.0, &[4, 2, 31337, 3, 31337]);
    let err = track([&good, &bad]).unwrap_err().to_string();
    assert!(
        err.contains("out/snap_001.hdf5") && err.contains("id 31337 twice"),
        "{err}"
    );
    let err = track([&bad, &good]).unwrap_err().to_string();
    assert!(
        err.contains("out/snap_001.hdf5") && err.contains("31337"),
        "{err}"
    );
}

#[test]
fn snapshots_without_ids_are_matched_by_order_and_counts_must_agree() {
    let ids: Vec<u64> = (0..50).collect();
    let mut snaps: Vec<Snapshot> = (0..3)
        .map(|k| snapshot(&format!("run.nemo#{k}"), k as f64, &ids))
        .collect();
    for s in &mut snaps {
        s.ids = None;
    }
    let tracks = track(&snaps).unwrap();
    assert!(tracks.matched_by_order);
    assert_eq!(tracks.ids, ids, "position in the file");
    for p in 0..50 {
        assert_eq!(tracks.track(p)[6..12], truth(p as u64, 1.0));
    }

    let short = snapshot("short.nemo", 3.0, &ids[..49]);
    let mut short = short;
    short.ids = None;
    let err = track([&snaps[0], &short]).unwrap_err().to_string();
    assert!(
        err.contains("short.nemo") && err.contains("50 particles") && err.contains("49"),
        "{err}"
    );

    let with_ids = snapshot("keyed.nemo", 4.0, &ids);
    let err = track([&snaps[0], &with_ids]).unwrap_err().to_string();
    assert!(err.contains("keyed.nemo") && err.contains("without ids"), "{err}");
    let err = track([&with_ids, &snaps[0]]).unwrap_err().to_string();
    assert!(
        err.contains("run.nemo#0") && err.contains("no particle ids"),
        "{err}"
    );
}

#[test]
fn two_snapshots_with_the_same_time_are_refused_naming_both() {
    let ids = [1, 2, 3];
    let a = snapshot("run1/snap_003.hdf5", 0.5, &ids);
    let b = snapshot("run2/snap_001.hdf5", 0.5, &ids);
    let c = snapshot("run1/snap_004.hdf5", 0.7, &ids);
    let err = track([&a, &c, &b]).unwrap_err().to_string();
    assert!(
        err.contains("run2/snap_001.hdf5") && err.contains("the time of run1/snap_003.hdf5"),
        "{err}"
    );
}

#[test]
fn a_particle_that_leaves_and_comes_back_is_refused_unless_types_are_selected() {
    // Ids 1..=4 in every snapshot; id 5 (in the first snapshot added) and id 9 (not in
    // it) are missing at t = 1 between t = 0 and t = 2: two runs' files mixed.
    let snaps = [
        snapshot("a", 2.0, &[1, 2, 3, 4, 5, 9]),
        snapshot("b", 0.0, &[4, 3, 2, 1, 5, 9]),
        snapshot("c", 1.0, &[1, 2, 3, 4]),
    ];
    let err = track(&snaps).unwrap_err().to_string();
    for needle in [
        "file c: particle ids",
        "id 5, which b (t = 0 Gyr) before it and a (t = 2 Gyr) after it",
        "as is 1 more particle",
        "mix of runs",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
    let c5 = snapshot("c", 1.0, &[1, 2, 3, 4, 5]);
    let err = track([&snaps[0], &snaps[1], &c5]).unwrap_err().to_string();
    assert!(err.contains("id 9,") && err.contains("file c"), "{err}");

    let mut tracker = Tracker::new().allow_returning_particles();
    for s in &snaps {
        tracker.add(s).unwrap();
    }
    let tracks = tracker.finish().unwrap();
    assert_eq!((tracks.ids, tracks.dropped), (vec![1, 2, 3, 4], 2));
}

/// Writes an HDF5 file with a Gadget `/Header` and `UnitLength_in_cm` = `length_cm` in
/// `/Parameters`: recognised as a snapshot, with that unit system.
fn write_with_length_unit(path: &Path, length_cm: f64) {
    let mut w = H5Writer::new();
    w.attr("/Header", "Time", 0.5)
        .attr("/Parameters", "UnitLength_in_cm", length_cm)
        .attr("/Parameters", "UnitVelocity_in_cm_per_s", 1e5)
        .attr("/Parameters", "UnitMass_in_g", 1.989e43);
    w.write(path).unwrap();
}

#[test]
fn snapshots_of_different_unit_systems_or_formats_are_refused_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    write_with_length_unit(&dir.path().join("a_kpc.hdf5"), 3.085_677_581e21);
    write_with_length_unit(&dir.path().join("b_kpc.hdf5"), 3.085_677_581e21);
    assert_eq!(scan(&[dir.path()]).unwrap().len(), 2, "one unit system");
    write_with_length_unit(&dir.path().join("c_mpc.hdf5"), 3.085_677_581e24);
    let err = scan(&[dir.path()]).unwrap_err().to_string();
    for needle in ["c_mpc.hdf5", "unit system of", "a_kpc.hdf5", "UnitLength_in_cm"] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }

    let mixed = tempfile::tempdir().unwrap();
    write(&mixed.path().join("snap_000.hdf5"), 0.0, &[1, 2]);
    let nemo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/binary/nemo_double.nemo");
    std::fs::copy(nemo, mixed.path().join("snap_001.nemo")).unwrap();
    let err = scan(&[mixed.path()]).unwrap_err().to_string();
    for needle in [
        "snap_001.nemo",
        "snapshot format",
        "Gadget/AREPO HDF5 like",
        "found NEMO",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
}

#[test]
fn an_empty_folder_is_an_error_naming_it_and_what_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty_run");
    std::fs::create_dir(&empty).unwrap();
    let err = scan(&[&empty]).unwrap_err().to_string();
    for needle in [
        "empty_run",
        "snapshot folder",
        "no files",
        "HDF5",
        "NEMO",
        "Gadget-2",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
}

#[test]
fn tracker_rejects_arrays_of_the_wrong_length_naming_the_file() {
    let mut s = snapshot("broken.hdf5", 0.0, &[1, 2, 3]);
    s.xv.pop();
    let err = Tracker::new().add(&s).unwrap_err().to_string();
    assert!(err.contains("broken.hdf5") && err.contains("positions"), "{err}");
    let mut s = snapshot("broken.hdf5", 0.0, &[1, 2, 3]);
    s.ids = Some(vec![1, 2]);
    let err = Tracker::new().add(&s).unwrap_err().to_string();
    assert!(err.contains("broken.hdf5") && err.contains("ids"), "{err}");
}

// ---- centring ----------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea & Flood 2014): uniform doubles in [0, 1).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn direction(&mut self, length: f64) -> [f64; 3] {
        let cos_t = 2.0 * self.uniform() - 1.0;
        let phi = 2.0 * std::f64::consts::PI * self.uniform();
        let sin_t = (1.0 - cos_t * cos_t).sqrt();
        [
            length * sin_t * phi.cos(),
            length * sin_t * phi.sin(),
            length * cos_t,
        ]
    }
}

const G: f64 = 4.300917270e-6;

/// Plummer sphere of mass `m`, scale `a`, centred at `x0` moving with `v0`: radii from the
/// inverse cumulative mass, speeds by rejection from q^2 (1 - q^2)^(7/2) (Aarseth, Henon &
/// Wielen 1974). Returns (xv, masses).
fn plummer(n: usize, m: f64, a: f64, x0: [f64; 3], v0: [f64; 3], rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let mut xv = Vec::with_capacity(6 * n);
    for _ in 0..n {
        let u = rng.uniform().max(1e-12);
        let r = a / (u.powf(-2.0 / 3.0) - 1.0).sqrt();
        let q = loop {
            let (q, y) = (rng.uniform(), 0.1 * rng.uniform());
            if y < q * q * (1.0 - q * q).powf(3.5) {
                break q;
            }
        };
        let v = q * (2.0 * G * m / (r * r + a * a).sqrt()).sqrt();
        let (x, w) = (rng.direction(r), rng.direction(v));
        xv.extend((0..3).map(|i| x[i] + x0[i]));
        xv.extend((0..3).map(|i| w[i] + v0[i]));
    }
    (xv, vec![m / n as f64; n])
}

/// Scatter (rms over components and `trials` independent samples) of the shrinking-sphere
/// centre of Plummer spheres of `n` particles centred at rest at the origin: the estimator's
/// statistical error in position and velocity. (In a cored profile this is several times
/// the naive sqrt(<x^2>/n) of the final sphere: a flat core barely pins the sphere down.)
fn shrinking_sphere_scatter(n: usize, m: f64, a: f64, trials: usize, rng: &mut Rng) -> (f64, f64) {
    let (mut sx, mut sv) = (0.0, 0.0);
    for _ in 0..trials {
        let (xv, masses) = plummer(n, m, a, [0.0; 3], [0.0; 3], rng);
        let c = find_centre(
            &xv,
            &masses,
            Centering::ShrinkingSphere(ShrinkingSphere::default()),
        )
        .unwrap();
        sx += c.x.iter().map(|x| x * x).sum::<f64>();
        sv += c.v.iter().map(|v| v * v).sum::<f64>();
    }
    let count = 3.0 * trials as f64;
    ((sx / count).sqrt(), (sv / count).sqrt())
}

#[test]
fn a_drifting_plummer_sphere_is_recentred_within_its_statistical_error() {
    let (n, a, m) = (20_000, 0.5, 1e10);
    let mut rng = Rng(7);
    let (ex, ev) = shrinking_sphere_scatter(n, m, a, 24, &mut rng);
    // The errors themselves are small next to the scale radius and the central dispersion.
    let sigma0 = (G * m / (6.0 * a)).sqrt();
    assert!(
        ex < 0.1 * a && ev < 0.1 * sigma0,
        "scatter {ex} kpc, {ev} km/s (sigma {sigma0})"
    );
    let (start, drift) = ([120.0, -80.0, 35.0], [250.0, -40.0, 90.0]);
    for (k, t) in [0.0, 0.05, 0.1].into_iter().enumerate() {
        let kpc_per_kms_gyr = 1.022_712_165;
        let x0: [f64; 3] = std::array::from_fn(|i| start[i] + drift[i] * t * kpc_per_kms_gyr);
        let (xv, masses) = plummer(n, m, a, x0, drift, &mut rng);
        let before = xv.clone();
        let mut snap = Snapshot {
            path: format!("drift{k}").into(),
            xv,
            masses,
            ..Default::default()
        };
        let c = recentre(&mut snap, Centering::ShrinkingSphere(ShrinkingSphere::default()))
            .unwrap()
            .unwrap();
        assert!(c.particles >= 200 && c.particles < 400, "{c:?}");
        for i in 0..3 {
            let (dx, dv) = (c.x[i] - x0[i], c.v[i] - drift[i]);
            assert!(
                dx.abs() < 5.0 * ex,
                "snapshot {k}: x{i} off by {dx} kpc (scatter {ex})"
            );
            assert!(
                dv.abs() < 5.0 * ev,
                "snapshot {k}: v{i} off by {dv} km/s (scatter {ev})"
            );
        }
        let shifted: Vec<f64> = before
            .chunks_exact(6)
            .flat_map(|r| {
                let o = [c.x[0], c.x[1], c.x[2], c.v[0], c.v[1], c.v[2]];
                std::array::from_fn::<f64, 6, _>(|j| r[j] - o[j])
            })
            .collect();
        assert_eq!(snap.xv, shifted, "every particle moved by the centre");
    }
}

#[test]
fn shrinking_sphere_ignores_a_distant_clump_that_pulls_the_centre_of_mass() {
    let mut rng = Rng(11);
    let (ex, ev) = shrinking_sphere_scatter(20_000, 1e10, 1.0, 24, &mut rng);
    let x0 = [-40.0, 10.0, 5.0];
    let v0 = [30.0, 0.0, -20.0];
    let (mut xv, mut masses) = plummer(20_000, 1e10, 1.0, x0, v0, &mut rng);
    let clump_x = [x0[0] + 30.0, x0[1], x0[2]];
    let (cx, cm) = plummer(4000, 2.5e9, 0.3, clump_x, [v0[0] + 300.0, v0[1], v0[2]], &mut rng);
    xv.extend(cx);
    masses.extend(cm);
    let com = find_centre(&xv, &masses, Centering::CentreOfMass).unwrap();
    assert!(
        (com.x[0] - x0[0]).abs() > 4.0,
        "the clump pulls the centre of mass: {com:?}"
    );
    assert!((com.v[0] - v0[0]).abs() > 40.0, "and its velocity: {com:?}");
    let c = find_centre(
        &xv,
        &masses,
        Centering::ShrinkingSphere(ShrinkingSphere::default()),
    )
    .unwrap();
    for i in 0..3 {
        assert!(
            (c.x[i] - x0[i]).abs() < 5.0 * ex,
            "x{i}: {c:?} vs {x0:?} (scatter {ex})"
        );
        assert!(
            (c.v[i] - v0[i]).abs() < 5.0 * ev,
            "v{i}: {c:?} vs {v0:?} (scatter {ev})"
        );
    }
}

// ---- scans -------------------------------------------------------------------------------

/// Writes a Gadget-4-style snapshot of particles `ids` at `t` to `path`.
fn write(path: &Path, t: f64, ids: &[u64]) {
    let xv: Vec<f64> = ids.iter().flat_map(|&id| truth(id, t)).collect();
    let masses = vec![1.0; ids.len()];
    write_snapshot(
        path,
        &SnapshotData {
            time_gyr: t,
            ids,
            xv: &xv,
            masses: &masses,
        },
    )
    .unwrap();
}

#[test]
fn a_directory_scan_skips_files_that_are_not_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("snap_000.hdf5"), 0.0, &[1, 2]);
    write(&dir.path().join("snap_001.hdf5"), 0.1, &[1, 2]);
    std::fs::write(dir.path().join("notes.txt"), "run log\n").unwrap();
    std::fs::write(dir.path().join("snap_002.hdf5"), "not hdf5 despite the name").unwrap();
    H5Writer::new()
        .dataset("/data", &[1.0, 2.0][..], &[2])
        .write(dir.path().join("other.h5"))
        .unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    write(&dir.path().join("sub/snap_003.hdf5"), 0.3, &[1, 2]);
    std::fs::write(dir.path().join(".hidden.hdf5"), "x").unwrap();

    let files = scan(&[dir.path()]).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.path.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["snap_000.hdf5", "snap_001.hdf5", "sub/snap_003.hdf5"]);
}

#[test]
fn parts_of_multi_file_snapshots_go_with_their_first_file() {
    let dir = tempfile::tempdir().unwrap();
    let snapdir = dir.path().join("snapdir_005");
    std::fs::create_dir(&snapdir).unwrap();
    for part in 0..3 {
        let mut w = H5Writer::new();
        w.attr("/Header", "NumFilesPerSnapshot", 3i32)
            .attr("/Header", "Time", 0.5);
        w.write(snapdir.join(format!("snapshot_005.{part}.hdf5")))
            .unwrap();
    }
    // A single-file snapshot whose name merely ends in .1 stays.
    let mut w = H5Writer::new();
    w.attr("/Header", "NumFilesPerSnapshot", 1i32);
    w.write(dir.path().join("run.1.hdf5")).unwrap();
    w.write(dir.path().join("run.0.hdf5")).unwrap();
    let files = scan(&[dir.path()]).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["run.0.hdf5", "run.1.hdf5", "snapshot_005.0.hdf5"]);
}

#[test]
fn globs_expand_and_an_empty_glob_or_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for k in 0..3 {
        write(&dir.path().join(format!("snap_{k:03}.hdf5")), k as f64, &[1]);
    }
    let pattern = dir.path().join("snap_*.hdf5");
    assert_eq!(expand(&[&pattern]).unwrap().len(), 3);
    let twice = expand(&[pattern.clone(), dir.path().join("snap_001.hdf5")]).unwrap();
    assert_eq!(twice.len(), 3, "repeats are dropped");

    let none = dir.path().join("snapshot_*.hdf5");
    let err = scan(&[&none]).unwrap_err().to_string();
    assert!(
        err.contains("snapshot_*.hdf5") && err.contains("no match"),
        "{err}"
    );
    let missing = dir.path().join("snap_999.hdf5");
    let err = scan(&[&missing]).unwrap_err().to_string();
    assert!(
        err.contains("snap_999.hdf5") && err.contains("no such file"),
        "{err}"
    );
    let text = dir.path().join("log.txt");
    std::fs::write(&text, "hello").unwrap();
    let err = scan(&[&text]).unwrap_err().to_string();
    assert!(
        err.contains("log.txt") && err.contains("none of them a snapshot"),
        "{err}"
    );
}

#[test]
fn a_damaged_snapshot_in_a_scan_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap_000.hdf5");
    write(&path, 0.0, &(1..=1000).collect::<Vec<_>>());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = snapshot_files(&[path]).unwrap_err().to_string();
    assert!(err.contains("snap_000.hdf5"), "{err}");
}

#[test]
fn snapshots_are_ordered_by_header_time_not_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<u64> = (1..=20).collect();
    // Names sort a, b, c; times say c, a, b.
    for (name, t) in [("a.hdf5", 0.2), ("b.hdf5", 0.3), ("c.hdf5", 0.1)] {
        write(&dir.path().join(name), t, &shuffled(&ids, (10.0 * t) as u64));
    }
    let files = scan(&[dir.path()]).unwrap();
    let snaps = read_sorted(&files, &ReadOptions::default()).unwrap();
    let names: Vec<String> = snaps
        .iter()
        .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["c.hdf5", "a.hdf5", "b.hdf5"]);
    let tracks = track(&snaps).unwrap();
    for (k, t) in [0.1, 0.2, 0.3].into_iter().enumerate() {
        assert!((tracks.times_gyr[k] - t).abs() < 1e-12, "{:?}", tracks.times_gyr);
        for (p, &id) in tracks.ids.iter().enumerate() {
            let got = &tracks.track(p)[6 * k..6 * k + 6];
            let want = truth(id, tracks.times_gyr[k]);
            assert!(
                got.iter()
                    .zip(want)
                    .all(|(g, w)| (g - w).abs() <= 1e-12 * (1.0 + w.abs())),
                "{got:?} {want:?}"
            );
        }
    }
}
