//! `generate --recipe orbits` (given initial conditions), `--recipe test-orbits` (the four
//! built-in orbits) and `--even-times`, through the binary.

#[allow(dead_code)]
mod common_cli;

use common_cli::*;

use std::path::Path;

use actionfinder::dataset::StreamsDataset;
use actionfinder::recipe::orbits::TEST_ORBITS;
use actionfinder_integrators::integrate::energy;
use actionfinder_integrators::potential::spec;
use actionfinder_integrators::PhaseSpace;

/// The integrator's default energy tolerance, |dE/E|.
const TOLERANCE: f64 = 1e-10;

fn generate(args: &[&str], out: &Path) -> StreamsDataset {
    let o = actionfinder(&[&["generate"], args, &["--out", out.to_str().unwrap()]].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "generate {args:?} failed: {stderr}");
    StreamsDataset::read(out).unwrap()
}

fn generate_fails(args: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.h5");
    let o = actionfinder(&[&["generate", "--out", out.to_str().unwrap()], args].concat());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} should fail");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: error should name {needle}: {stderr}"
        );
    }
    assert!(!out.exists(), "{args:?} wrote an output");
}

fn lz(p: &[f64; 6]) -> f64 {
    p[0] * p[4] - p[1] * p[3]
}

/// Every point of stream s has the energy and L_z of initial condition s mod K.
fn assert_streams_follow(ds: &StreamsDataset, starts: &[[f64; 6]]) {
    let pot = spec::parse("mw2014").unwrap();
    let n = ds.n_stars();
    for s in 0..ds.n_streams() {
        let w0 = starts[s % starts.len()];
        let e0 = energy(pot.as_ref(), &PhaseSpace::from_row(&w0));
        for i in 0..n {
            let p = ds.point(s, i);
            let e = energy(pot.as_ref(), &PhaseSpace::from_row(&p));
            let de = ((e - e0) / e0).abs();
            assert!(de <= TOLERANCE, "stream {s} point {i}: |dE/E| = {de:e}");
            let dl = (lz(&p) - lz(&w0)).abs() / lz(&w0).abs();
            assert!(dl < 1e-9, "stream {s} point {i}: L_z off by {dl:e}");
        }
    }
}

#[test]
fn given_orbits_are_reproduced_from_flags_and_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let starts = [
        [8.0, 0.0, 0.1, 10.0, 200.0, 15.0],
        [-12.0, 3.0, -1.0, -50.0, -150.0, 60.0],
    ];
    let text = |w: &[f64; 6]| w.map(|v| v.to_string()).join(",");
    let (a, b) = (text(&starts[0]), text(&starts[1]));
    let flags = [
        "--recipe",
        "orbits",
        "--potential",
        "mw2014",
        "--initial",
        &a,
        "--initial",
        &b,
        "--streams",
        "6",
        "--stars",
        "12",
        "--duration",
        "1",
    ];
    let ds = generate(&flags, &dir.path().join("flags.h5"));
    assert_eq!((ds.n_streams(), ds.n_stars()), (6, 12));
    assert_streams_follow(&ds, &starts);

    let file = dir.path().join("orbits.txt");
    let lines = format!("# x y z vx vy vz\n\n{}\n  {}  # second\n", a.replace(',', " "), b);
    std::fs::write(&file, lines).unwrap();
    let f = file.to_str().unwrap();
    let args = [
        "--recipe",
        "orbits",
        "--potential",
        "mw2014",
        "--initial-file",
        f,
        "--streams",
        "4",
        "--duration",
        "1",
    ];
    let ds = generate(&args, &dir.path().join("file.h5"));
    assert_streams_follow(&ds, &starts);
}

/// The four built-in test orbits, `stars` points each at equal intervals over `duration` Gyr.
fn even_test_orbits(stars: usize, duration: &str, out: &Path) -> StreamsDataset {
    let stars = stars.to_string();
    let args = [
        "--recipe",
        "test-orbits",
        "--streams",
        "4",
        "--stars",
        &stars,
        "--even-times",
        "--duration",
        duration,
    ];
    generate(&args, out)
}

#[test]
fn even_times_are_equally_spaced_from_the_initial_condition() {
    let dir = tempfile::tempdir().unwrap();
    let ds = even_test_orbits(101, "2", &dir.path().join("even.h5"));
    assert!(
        ds.attrs.potential.starts_with("power-cutoff"),
        "{}",
        ds.attrs.potential
    );
    let starts: Vec<[f64; 6]> = TEST_ORBITS.iter().map(|(_, w)| *w).collect();
    assert_streams_follow(&ds, &starts);
    for (s, w0) in starts.iter().enumerate() {
        assert_eq!(ds.point(s, 0), *w0, "stream {s} starts at its initial condition");
        let t = ds.stream_times(s).unwrap();
        for (i, ti) in t.iter().enumerate() {
            assert!((ti - 0.02 * i as f64).abs() < 1e-12, "stream {s}: t[{i}] = {ti}");
        }
    }
}

/// Radius range, largest |z|, and the Staeckel fudge's mean (J_r, J_z) of stream s.
fn shape(ds: &StreamsDataset, s: usize) -> [f64; 5] {
    let (mut rmin, mut rmax, mut zmax) = (f64::INFINITY, 0.0f64, 0.0f64);
    let fudge = ds.baselines.get("staeckel").expect("/baseline/staeckel_actions");
    let n = ds.n_stars();
    let (mut jr, mut jz) = (0.0, 0.0);
    for i in 0..n {
        let p = ds.point(s, i);
        let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
        (rmin, rmax, zmax) = (rmin.min(r), rmax.max(r), zmax.max(p[2].abs()));
        jr += fudge[3 * (s * n + i)] / n as f64;
        jz += fudge[3 * (s * n + i) + 1] / n as f64;
    }
    [rmin, rmax, zmax, jr, jz]
}

#[test]
fn test_orbits_have_the_documented_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let ds = even_test_orbits(4000, "9.7769", &dir.path().join("test_orbits.h5"));
    // Pericentre, apocentre, z_max (kpc) as docs/test-orbits.md states them, and Sanders &
    // Binney (2016)'s J_r, J_z (kpc km/s) that the initial conditions were set to give.
    let documented = [
        [6.27, 8.70, 0.32, 29.38, 2.92],
        [5.18, 8.98, 1.26, 75.96, 29.25],
        [2.67, 9.88, 4.18, 299.79, 163.02],
        [12.46, 26.04, 13.87, 317.20, 558.09],
    ];
    for (s, doc) in documented.iter().enumerate() {
        let got = shape(&ds, s);
        for k in 0..3 {
            assert!((got[k] - doc[k]).abs() < 0.03, "orbit {s}: {got:?} vs {doc:?}");
        }
        for k in 3..5 {
            assert!(
                (got[k] / doc[k] - 1.0).abs() < 0.01,
                "orbit {s}: {got:?} vs {doc:?}"
            );
        }
    }
}

#[test]
fn bad_orbits_are_refused_naming_the_flag_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing here\n\n").unwrap();
    let short = dir.path().join("short.txt");
    std::fs::write(&short, "8,0,0,0,200,0\n8,0,0,0,200\n").unwrap();
    let (e, s) = (empty.to_str().unwrap(), short.to_str().unwrap());
    let mw = ["--potential", "mw2014", "--recipe", "orbits"];
    let good = "8,0,0,0,200,0";
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--initial", good, "--initial", "1,2,3"],
            vec!["--initial 2", "6 numbers", "got 3"],
        ),
        (vec!["--initial", "8,0,0,0,900,0"], vec!["--initial 1", "unbound"]),
        (vec!["--initial", "8,0,0,0,inf,0"], vec!["--initial 1", "value 5"]),
        (vec!["--initial-file", e], vec!["--initial-file", e, "no orbits"]),
        (vec!["--initial-file", s], vec![s, "line 2", "got 5"]),
        (
            vec!["--initial-file", "/nonexistent/orbits.txt"],
            vec!["/nonexistent/orbits.txt"],
        ),
        (vec![], vec!["--recipe orbits", "--initial"]),
        (
            vec!["--initial", good, "--initial", good, "--streams", "1"],
            vec!["--streams 1"],
        ),
        (
            vec!["--initial", good, "--even-times", "--every", "0.01"],
            vec!["--even-times"],
        ),
    ];
    for (extra, needles) in cases {
        generate_fails(&[&mw[..], &extra].concat(), &needles);
    }
    generate_fails(
        &["--potential", "mw2014", "--recipe", "halo", "--initial", good],
        &["--initial", "--recipe orbits"],
    );
    generate_fails(&["--recipe", "halo"], &["--potential"]);
}
