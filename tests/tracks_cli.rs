//! `actionfinder tracks` end to end, through the binary: `generate --snapshots` output goes
//! through it and comes back as the generated orbits; subsets, centring, and bad input.

#[allow(dead_code)]
mod common_cli;

use common_cli::*;

use std::path::{Path, PathBuf};

use actionfinder::dataset::StreamsDataset;
use actionfinder::tracks::g1_units;

fn run_ok(args: &[&str]) -> String {
    let out = actionfinder(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "actionfinder {args:?} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command that must fail; returns its stderr.
fn run_err(args: &[&str]) -> String {
    let out = actionfinder(args);
    assert!(!out.status.success(), "actionfinder {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `generate` of equilibrium Plummer orbits with the given further arguments.
fn generate_plummer(args: &[&str]) {
    let head = [
        "generate",
        "--potential",
        "plummer:M=5e5,a=0.02",
        "--recipe",
        "equilibrium",
    ];
    run_ok(&[&head[..], args].concat());
}

/// A Plummer run of `streams` orbits with a point every 0.01 Gyr for 0.07 Gyr in the
/// dataset and 8 snapshots at the same times; returns (dataset, snapshot directory).
fn plummer_run(dir: &Path, streams: usize) -> (PathBuf, PathBuf) {
    let (out, snaps) = (dir.join("generated.h5"), dir.join("snapshots"));
    let n = streams.to_string();
    generate_plummer(&[
        "--streams",
        &n,
        "--every",
        "0.01",
        "--duration",
        "0.07",
        "--seed",
        "5",
        "--snapshots",
        s(&snaps),
        "--outputs",
        "8",
        "--out",
        s(&out),
    ]);
    (out, snaps)
}

/// The snapshot files of `dir` in name order, as a shell expands `dir/*`.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    v.sort();
    v
}

/// Index of each id of `ds`.
fn stream_of(ds: &StreamsDataset, id: u64) -> usize {
    ds.ids
        .as_ref()
        .unwrap()
        .iter()
        .position(|&i| i == id)
        .unwrap_or_else(|| panic!("id {id}"))
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{what}: {a:?} vs {b:?}");
    }
}

#[test]
fn generated_snapshots_come_back_as_the_generated_orbits() {
    let dir = tempfile::tempdir().unwrap();
    let (generated, snaps) = plummer_run(dir.path(), 200);
    let out = dir.path().join("tracks.h5");
    let mut args = vec!["tracks".to_string()];
    args.extend(files(&snaps));
    args.extend(["--out".into(), s(&out).into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stdout = run_ok(&args);
    assert!(
        stdout.contains("read 8 snapshots") && stdout.contains("200 particles tracked, 0 dropped"),
        "{stdout}"
    );
    assert!(stdout.contains("200 streams x 8 stars"), "{stdout}");

    let gen = StreamsDataset::read(&generated).unwrap();
    let tr = StreamsDataset::read(&out).unwrap();
    assert_eq!((tr.n_streams(), tr.n_stars()), (200, 8));
    assert_eq!(tr.ids, Some((1..=200).collect()), "ids 1..S, ascending");
    for (s_tr, &id) in tr.ids.as_ref().unwrap().iter().enumerate() {
        let s_gen = stream_of(&gen, id);
        assert_close(
            tr.stream_times(s_tr).unwrap(),
            gen.stream_times(s_gen).unwrap(),
            "times",
        );
        assert_close(tr.stream(s_tr), gen.stream(s_gen), &format!("track of id {id}"));
    }
    assert_eq!(tr.attrs.seed, Some(42));
    assert!(tr.attrs.source.contains("tracks"), "{:?}", tr.attrs);
    let d = &tr.attrs.description;
    assert!(
        d.contains("8 snapshots") && d.contains("snap_000.hdf5") && d.contains("centred: none"),
        "{d}"
    );
    assert!(
        tr.attrs.extra.contains_key("snapshot_files"),
        "{:?}",
        tr.attrs.extra
    );
}

#[test]
fn subsets_and_centring_through_a_directory_and_a_glob() {
    let dir = tempfile::tempdir().unwrap();
    let (generated, snaps) = plummer_run(dir.path(), 120);
    std::fs::write(snaps.join("README.txt"), "not a snapshot").unwrap();
    let gen = StreamsDataset::read(&generated).unwrap();

    // A random subset: 40 particles, 3 snapshots each, reproducible from the seed.
    let sub = dir.path().join("sub.h5");
    let sub_args = [
        "tracks",
        s(&snaps),
        "--stars",
        "3",
        "--streams",
        "40",
        "--seed",
        "9",
        "--out",
        s(&sub),
    ];
    run_ok(&sub_args);
    let a = StreamsDataset::read(&sub).unwrap();
    assert_eq!((a.n_streams(), a.n_stars()), (40, 3));
    assert_eq!(a.attrs.seed, Some(9));
    for (st, &id) in a.ids.as_ref().unwrap().iter().enumerate() {
        let sg = stream_of(&gen, id);
        let t = a.stream_times(st).unwrap();
        assert!(t.windows(2).all(|w| w[0] < w[1]), "time order {t:?}");
        for (i, &ti) in t.iter().enumerate() {
            let j = (ti / 0.01).round() as usize;
            assert_close(
                &a.point(st, i),
                &gen.point(sg, j),
                &format!("id {id} at {ti} Gyr"),
            );
        }
    }
    run_ok(&[&sub_args[..], &["--force"]].concat());
    assert_eq!(StreamsDataset::read(&sub).unwrap(), a, "same seed, same subset");

    // Shrinking-sphere centring moves each snapshot rigidly by its centre, which for an
    // equilibrium Plummer sample lies near the origin.
    let centred = dir.path().join("centred.h5");
    let pattern = snaps.join("snap_*.hdf5");
    run_ok(&[
        "tracks",
        s(&pattern),
        "--center",
        "shrinking-sphere",
        "--out",
        s(&centred),
    ]);
    let c = StreamsDataset::read(&centred).unwrap();
    assert!(
        c.attrs.description.contains("shrinking sphere"),
        "{}",
        c.attrs.description
    );
    for k in 0..8 {
        let offset = |st: usize| {
            let (p, g) = (
                c.point(st, k),
                gen.point(stream_of(&gen, c.ids.as_ref().unwrap()[st]), k),
            );
            std::array::from_fn::<f64, 6, _>(|j| g[j] - p[j])
        };
        let first = offset(0);
        for st in 1..c.n_streams() {
            assert_close(&offset(st), &first, &format!("rigid shift at snapshot {k}"));
        }
        let dx = first[..3].iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(
            dx > 0.0 && dx < 0.02,
            "snapshot {k}: centre {first:?} within a scale radius of 0"
        );
    }
}

#[test]
fn bad_input_gets_errors_that_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, snaps) = plummer_run(dir.path(), 10);
    let out = dir.path().join("x.h5");
    let out = s(&out);

    let pattern = dir.path().join("nothing_*.hdf5");
    let err = run_err(&["tracks", s(&pattern), "--out", out]);
    assert!(
        err.contains("nothing_*.hdf5") && err.contains("no match"),
        "{err}"
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let err = run_err(&["tracks", s(&text), "--out", out]);
    assert!(
        err.contains("notes.txt") && err.contains("not a snapshot"),
        "{err}"
    );

    let err = run_err(&["tracks", s(&snaps), "--streams", "11", "--out", out]);
    assert!(
        err.contains("--streams 11") && err.contains("10 particles"),
        "{err}"
    );
    let err = run_err(&["tracks", s(&snaps), "--type", "cheese", "--out", out]);
    assert!(err.contains("cheese"), "{err}");
    let err = run_err(&["tracks", s(&snaps), "--mass-unit=0", "--out", out]);
    assert!(err.contains("--mass-unit"), "{err}");
    // generate writes type 1 (halo) only: asking for stars leaves nothing to track.
    let err = run_err(&["tracks", s(&snaps), "--type", "stars", "--out", out]);
    assert!(
        err.contains("no particle") && err.contains("selected types"),
        "{err}"
    );

    // A truncated snapshot among good ones.
    let victim = snaps.join("snap_003.hdf5");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let err = run_err(&["tracks", s(&snaps), "--out", out]);
    assert!(err.contains("snap_003.hdf5"), "{err}");
}

#[test]
fn help_gives_the_g_equals_1_unit_factors() {
    let help = run_ok(&["tracks", "--help"]);
    let (gyr, myr) = (g1_units(1.0, 1.0), g1_units(1.0, 1e-3));
    let kms = g1_units(1.0, actionfinder_integrators::units::GYR_PER_TIME_UNIT);
    for number in [
        format!("{:.7}", gyr.velocity_kms),
        format!("{:.6e}", gyr.mass_msun),
        format!("{:.4}", myr.velocity_kms),
        format!("{:.6e}", myr.mass_msun),
        format!("{:.6e}", kms.mass_msun),
    ] {
        assert!(help.contains(&number), "help lacks {number}:\n{help}");
    }
    assert!((kms.velocity_kms - 1.0).abs() < 1e-12);
}

/// `generate` of `streams` Plummer orbits with `outputs` snapshots over `duration` Gyr
/// into `dir/name`; returns the snapshot folder.
fn run_into(dir: &Path, name: &str, streams: usize, duration: f64, outputs: usize, seed: u64) -> PathBuf {
    let snaps = dir.join(name);
    let out = dir.join(format!("{name}.h5"));
    let (streams, duration, outputs, seed) = (
        streams.to_string(),
        duration.to_string(),
        outputs.to_string(),
        seed.to_string(),
    );
    generate_plummer(&[
        "--streams",
        &streams,
        "--stars",
        "2",
        "--duration",
        &duration,
        "--seed",
        &seed,
        "--snapshots",
        s(&snaps),
        "--outputs",
        &outputs,
        "--out",
        s(&out),
    ]);
    snaps
}

/// Copies the snapshots `numbers` of `from` into `to`, their names prefixed with `prefix`.
fn copy_snapshots(from: &Path, numbers: &[usize], to: &Path, prefix: &str) {
    for k in numbers {
        let name = format!("snap_{k:03}.hdf5");
        std::fs::copy(from.join(&name), to.join(format!("{prefix}{name}"))).unwrap();
    }
}

#[test]
fn snapshots_of_two_runs_in_one_folder_are_refused_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_into(dir.path(), "first", 10, 0.07, 4, 1);
    let second = run_into(dir.path(), "second", 10, 0.07, 4, 2);
    copy_snapshots(&second, &[0, 1, 2, 3], &first, "run2_");
    let out = dir.path().join("mixed.h5");
    let err = run_err(&["tracks", s(&first), "--out", s(&out)]);
    for needle in [
        "run2_snap_000.hdf5",
        "snap_000.hdf5",
        "snapshot time",
        "t = 0 Gyr, the time of",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
    assert!(!out.exists());
}

#[test]
fn particle_sets_of_two_runs_are_refused_unless_types_are_selected() {
    // Run A: ids 1..=10 at t = 0, 0.01, ..., 0.07; run B: ids 1..=12 at t = 0.025, 0.05,
    // 0.075 (its t = 0 left out): ids 11 and 12 vanish at t = 0.03 and come back.
    let dir = tempfile::tempdir().unwrap();
    let a = run_into(dir.path(), "a", 10, 0.07, 8, 1);
    let b = run_into(dir.path(), "b", 12, 0.075, 4, 2);
    copy_snapshots(&b, &[1, 2, 3], &a, "b_");
    let out = dir.path().join("mixed.h5");
    let err = run_err(&["tracks", s(&a), "--out", s(&out)]);
    for needle in [
        "snap_003.hdf5: particle ids",
        "id 11, which",
        "b_snap_001.hdf5",
        "b_snap_002.hdf5",
        "as is 1 more particle",
        "mix of runs",
    ] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
    // With a type selection particles may leave it and come back: they are dropped.
    let stdout = run_ok(&["tracks", s(&a), "--type", "halo", "--out", s(&out)]);
    assert!(stdout.contains("10 particles tracked, 2 dropped"), "{stdout}");
}

#[test]
fn an_empty_folder_is_refused_naming_it_and_the_formats_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no_snapshots_here");
    std::fs::create_dir(&empty).unwrap();
    let out = dir.path().join("x.h5");
    let err = run_err(&["tracks", s(&empty), "--out", s(&out)]);
    for needle in ["no_snapshots_here", "snapshot folder", "no files", "HDF5", "NEMO"] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
}

#[test]
fn long_tracks_split_into_groups_of_consecutive_points() {
    let dir = tempfile::tempdir().unwrap();
    let (_, snaps) = plummer_run(dir.path(), 12);
    let (whole, grouped) = (dir.path().join("whole.h5"), dir.path().join("grouped.h5"));
    run_ok(&["tracks", s(&snaps), "--out", s(&whole)]);
    let w = StreamsDataset::read(&whole).unwrap();
    for n in [3usize, 4] {
        let n_text = n.to_string();
        run_ok(&[
            "tracks",
            s(&snaps),
            "--group",
            &n_text,
            "--out",
            s(&grouped),
            "--force",
        ]);
        let g = StreamsDataset::read(&grouped).unwrap();
        let per_track = 8 / n;
        assert_eq!((g.n_streams(), g.n_stars()), (12 * per_track, n));
        for st in 0..g.n_streams() {
            let (track, part) = (st / per_track, st % per_track);
            assert_eq!(g.ids.as_ref().unwrap()[st], w.ids.as_ref().unwrap()[track]);
            for i in 0..n {
                assert_eq!(
                    g.point(st, i),
                    w.point(track, part * n + i),
                    "stream {st} point {i}"
                );
                assert_eq!(
                    g.t.as_ref().unwrap()[st * n + i],
                    w.t.as_ref().unwrap()[track * 8 + part * n + i]
                );
            }
        }
    }
    for bad in ["1", "9"] {
        let err = run_err(&[
            "tracks",
            s(&snaps),
            "--group",
            bad,
            "--out",
            s(&grouped),
            "--force",
        ]);
        assert!(err.contains("--group"), "{err}");
    }
}
