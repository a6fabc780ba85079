//! `actionfinder generate` and `demo` end to end, through the binary.

#[allow(dead_code)]
mod common_cli;

use common_cli::*;

use std::path::Path;

use actionfinder::dataset::StreamsDataset;
use actionfinder_integrators::potential::spec;
use actionfinder_snapshots::h5::H5File;

fn run_ok(args: &[&str]) -> String {
    let out = actionfinder(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "actionfinder {args:?} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `generate --potential SPEC --recipe RECIPE --streams S [extra...] --out OUT`.
fn generate(spec_text: &str, recipe: &str, streams: usize, extra: &[&str], out: &Path) -> String {
    let s = streams.to_string();
    let args = [
        "generate",
        "--potential",
        spec_text,
        "--recipe",
        recipe,
        "--streams",
        s.as_str(),
    ];
    run_ok(&[&args[..], extra, &["--out", out.to_str().unwrap()]].concat())
}

/// Relative energy change along each stream, from the file's own truth potential.
fn worst_energy_drift(ds: &StreamsDataset) -> f64 {
    let phi = ds.truth.potential.as_ref().expect("/truth/potential");
    let n = ds.n_stars();
    let mut worst = 0.0f64;
    for s in 0..ds.n_streams() {
        let e: Vec<f64> = (0..n)
            .map(|i| {
                let p = ds.point(s, i);
                0.5 * (p[3] * p[3] + p[4] * p[4] + p[5] * p[5]) + phi[s * n + i]
            })
            .collect();
        for v in &e {
            worst = worst.max(((v - e[0]) / e[0]).abs());
        }
    }
    worst
}

#[test]
fn halo_recipe_in_the_isochrone_writes_a_consistent_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("halo.h5");
    let spec_text = "isochrone:M=3.334e11,b=5";
    let extra = ["--stars", "8", "--duration", "0.1", "--seed", "3"];
    let stdout = generate(spec_text, "halo", 64, &extra, &out);
    assert!(stdout.contains("64 streams x 8 stars"), "{stdout}");

    let ds = StreamsDataset::read(&out).unwrap();
    assert_eq!((ds.n_streams(), ds.n_stars()), (64, 8));
    let t = ds.t.as_ref().expect("/streams/t");
    for s in 0..64 {
        let ts = &t[s * 8..(s + 1) * 8];
        assert!(ts.windows(2).all(|w| w[0] <= w[1]) && ts.iter().all(|&x| (0.0..=0.1).contains(&x)));
        let r0 = ds.point(s, 0);
        assert!(r0.iter().all(|c| c.is_finite()));
    }
    // Truth potential and acceleration are those of the named potential at each point.
    let pot = spec::parse(spec_text).unwrap();
    let (phi, acc) = (
        ds.truth.potential.as_ref().unwrap(),
        ds.truth.acceleration.as_ref().unwrap(),
    );
    for k in 0..64 * 8 {
        let p = ds.point(k / 8, k % 8);
        assert_eq!(phi[k], pot.potential(&[p[0], p[1], p[2]]));
        assert_eq!(&acc[3 * k..3 * k + 3], &pot.acceleration(&[p[0], p[1], p[2]]));
    }
    let drift = worst_energy_drift(&ds);
    assert!(drift < 1e-7, "energy drift along streams {drift:e}");
    assert_eq!(ds.attrs.seed, Some(3));
    assert!(ds.attrs.potential.starts_with("isochrone:"));
}

#[test]
fn same_seed_same_file_content() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [dir.path().join("a.h5"), dir.path().join("b.h5")];
    for p in &paths {
        generate("mw2014", "disk", 16, &[], p);
    }
    let (a, b) = (
        StreamsDataset::read(&paths[0]).unwrap(),
        StreamsDataset::read(&paths[1]).unwrap(),
    );
    assert_eq!(a.xv, b.xv);
    assert_eq!(a.t, b.t);
}

fn sorted_by_id(f: &H5File) -> (Vec<u64>, Vec<f64>) {
    let ids = f.read_u64("PartType1/ParticleIDs").unwrap().data;
    let x = f.read_f64("PartType1/Coordinates").unwrap().data;
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i]);
    (
        order.iter().map(|&i| ids[i]).collect(),
        order.iter().flat_map(|&i| x[3 * i..3 * i + 3].to_vec()).collect(),
    )
}

#[test]
fn snapshots_hold_every_orbit_at_evenly_spaced_times_in_new_orders() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().join("snaps");
    let out = dir.path().join("plummer.h5");
    let extra = [
        "--duration",
        "0.07",
        "--snapshots",
        snaps.to_str().unwrap(),
        "--outputs",
        "8",
    ];
    generate("plummer:M=5e5,a=0.02", "equilibrium", 50, &extra, &out);
    let mut orders = Vec::new();
    for k in 0..8 {
        let f = H5File::open(snaps.join(format!("snap_{k:03}.hdf5"))).unwrap();
        let ids = f.read_u64("PartType1/ParticleIDs").unwrap().data;
        let (sorted, _) = sorted_by_id(&f);
        assert_eq!(sorted, (1..=50).collect::<Vec<u64>>());
        let masses = f.read_f64("PartType1/Masses").unwrap().data;
        assert!(masses.iter().all(|&m| (m - 5e5 / 50.0).abs() < 1e-6));
        let time = f.attr("Header", "Time").unwrap().as_f64().unwrap();
        let gyr = time * actionfinder_integrators::units::GYR_PER_TIME_UNIT;
        assert!((gyr - 0.01 * k as f64).abs() < 1e-12, "snapshot {k} at {gyr} Gyr");
        orders.push(ids);
    }
    assert!(
        orders.windows(2).all(|w| w[0] != w[1]),
        "every snapshot has its own order"
    );
    assert!(!Path::new(&snaps.join("snap_008.hdf5")).exists());
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.h5");
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--potential", "plumer:M=1,a=1"], "known potentials"),
        (
            &["--potential", "mw2014", "--recipe", "equilibrium"],
            "equilibrium",
        ),
        (
            &["--potential", "plummer:M=1e10,a=1", "--duration=-1"],
            "--duration",
        ),
        (
            &["--potential", "plummer:M=1e10,a=1", "--streams", "0"],
            "--streams",
        ),
    ];
    for (args, needle) in cases {
        let output = actionfinder(&[&["generate", "--out", o][..], args].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(needle),
            "{args:?}: error should mention {needle}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn demo_writes_dataset_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let stdout = run_ok(&["demo", "--out", out.to_str().unwrap(), "--streams", "64"]);
    assert!(stdout.contains("energy conservation"), "{stdout}");
    let ds = StreamsDataset::read(out.join("plummer_streams.h5")).unwrap();
    assert_eq!(ds.n_streams(), 64);
    assert!(worst_energy_drift(&ds) < 1e-7);
    assert!(out.join("snapshots/snap_007.hdf5").exists());
}

/// Largest deviation of the truth actions along a stream, relative to the stream's |J|.
fn worst_truth_drift(ds: &StreamsDataset) -> f64 {
    let j = ds.truth.actions.as_ref().expect("/truth/actions");
    let n = ds.n_stars();
    let mut worst = 0.0f64;
    for stream in j.chunks_exact(3 * n) {
        let scale: f64 = stream.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
        for k in 0..3 {
            let first = stream[k];
            for i in 0..n {
                worst = worst.max((stream[3 * i + k] - first).abs() / scale);
            }
        }
    }
    worst
}

#[test]
fn generated_truth_actions_are_constant_along_each_orbit() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("isochrone:M=3.334e11,b=5", "halo"),
        ("plummer:M=5e5,a=0.02", "equilibrium"),
        ("dehnen:M=1e11,a=3,gamma=1.5", "equilibrium"),
        ("kuzmin-kutuzov:M=1e11,ac=2,delta=3", "disk"),
    ];
    for (k, (spec_text, recipe)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("{k}.h5"));
        generate(spec_text, recipe, 48, &["--duration", "0.1"], &out);
        let ds = StreamsDataset::read(&out).unwrap();
        assert!(
            ds.truth.angles.is_some() && ds.truth.frequencies.is_some(),
            "{spec_text}"
        );
        let drift = worst_truth_drift(&ds);
        assert!(
            drift < 1e-8,
            "{spec_text}: truth actions drift by {drift:e} along an orbit"
        );
        assert!(
            ds.truth.actions.as_ref().unwrap().iter().all(|v| v.is_finite()),
            "{spec_text}"
        );
    }
}

#[test]
fn axisymmetric_potentials_get_a_staeckel_baseline_and_no_false_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mw.h5");
    generate("mw2014", "disk", 32, &[], &out);
    let ds = StreamsDataset::read(&out).unwrap();
    assert!(ds.truth.actions.is_none(), "MW2014 has no exact actions");
    let fudge = ds.baselines.get("staeckel").expect("/baseline/staeckel_actions");
    assert_eq!(fudge.len(), 32 * 8 * 3);
    // Disk orbits: J_phi = L_z exactly, J_r and J_z small and nearly conserved.
    for (i, j) in fudge.chunks_exact(3).enumerate() {
        let p = ds.point(i / 8, i % 8);
        let lz = p[0] * p[4] - p[1] * p[3];
        assert!((j[2] - lz).abs() < 1e-9 * lz.abs(), "J_phi {} vs L_z {lz}", j[2]);
        assert!(j[0] >= 0.0 && j[1] >= 0.0 && j[0] < 0.1 * lz.abs());
    }
}

#[test]
fn actions_command_reproduces_the_exact_truth_and_flags_bad_points() {
    use actionfinder::catalog::Catalog;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("iso.h5");
    let spec_text = "isochrone:M=3.334e11,b=5";
    generate(spec_text, "halo", 40, &[], &data);
    let truth = StreamsDataset::read(&data).unwrap().truth.actions.unwrap();
    for method in ["auto", "isochrone", "spherical"] {
        let cat = dir.path().join(format!("{method}.h5"));
        let out = run_ok(&[
            "actions",
            "--potential",
            spec_text,
            "--method",
            method,
            data.to_str().unwrap(),
            "--out",
            cat.to_str().unwrap(),
        ]);
        assert!(out.contains("0 failed"), "{out}");
        let c = Catalog::read(&cat).unwrap();
        let j = c.column("actions").unwrap();
        for (a, b) in j.iter().zip(&truth) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{method}: {a} vs {b}");
        }
        assert_eq!(c.flag.as_ref().unwrap().iter().sum::<u32>(), 0);
        assert_eq!(c.stream.as_ref().unwrap()[8], 1);
        assert!(c.column("action_spread").unwrap().iter().all(|&s| s < 1e-6));
    }
    // A catalog with one unbound and one NaN point: both flagged, NaN written, the rest fine.
    let mut bad = Catalog::new(vec![
        8.0,
        0.0,
        0.0,
        0.0,
        200.0,
        10.0, //
        8.0,
        0.0,
        0.0,
        0.0,
        5000.0,
        0.0, //
        f64::NAN,
        0.0,
        0.0,
        0.0,
        1.0,
        0.0,
    ]);
    bad.attrs.description = "bad points".into();
    let bad_path = dir.path().join("bad.h5");
    bad.write(&bad_path).unwrap();
    let cat = dir.path().join("bad_cat.h5");
    let out = run_ok(&[
        "actions",
        "--potential",
        spec_text,
        bad_path.to_str().unwrap(),
        "--out",
        cat.to_str().unwrap(),
    ]);
    assert!(out.contains("2 failed"), "{out}");
    let c = Catalog::read(&cat).unwrap();
    assert_eq!(c.flag.as_deref(), Some(&[0, 1, 2][..]));
    let j = c.column("actions").unwrap();
    assert!(j[..3].iter().all(|v| v.is_finite()) && j[3..].iter().all(|v| v.is_nan()));
}

#[test]
fn actions_command_refuses_methods_that_do_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mw.h5");
    generate("mw2014", "disk", 4, &[], &data);
    let out = dir.path().join("cat.h5");
    for (method, needle) in [
        ("isochrone", "single isochrone"),
        ("spherical", "spherical"),
        ("fudge", "expected auto"),
    ] {
        let o = actionfinder(&[
            "actions",
            "--potential",
            "mw2014",
            "--method",
            method,
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && stderr.contains(needle),
            "{method}: {stderr}"
        );
    }
    let o = actionfinder(&[
        "actions",
        "--potential",
        "mw2014",
        "/nonexistent/x.h5",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && stderr.contains("/nonexistent/x.h5"),
        "{stderr}"
    );
}

/// `generate` of 6 Plummer orbits with `outputs` snapshots into `snaps` (and `extra`).
fn generate_snapshots(snaps: &Path, outputs: usize, extra: &[&str]) -> std::process::Output {
    let dir = snaps.parent().unwrap();
    let n = outputs.to_string();
    let out = dir.join(format!("run{}.h5", dir.read_dir().unwrap().count()));
    let args = [
        "generate",
        "--potential",
        "plummer:M=5e5,a=0.02",
        "--recipe",
        "equilibrium",
        "--streams",
        "6",
        "--stars",
        "2",
        "--duration",
        "0.07",
        "--snapshots",
        snaps.to_str().unwrap(),
        "--outputs",
        n.as_str(),
        "--out",
        out.to_str().unwrap(),
    ];
    actionfinder(&[&args[..], extra].concat())
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = dir
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_snapshot_folder_that_holds_snapshots_is_refused_and_force_removes_only_them() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().join("snaps");
    assert!(generate_snapshots(&snaps, 4, &[]).status.success());
    std::fs::write(snaps.join("notes.txt"), "my notes").unwrap();
    std::fs::create_dir(snaps.join("plots")).unwrap();
    std::fs::write(snaps.join("plots/a.txt"), "keep").unwrap();
    let before = std::fs::read(snaps.join("snap_003.hdf5")).unwrap();

    let refused = generate_snapshots(&snaps, 2, &["--seed", "7"]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "a second run into the folder must be refused"
    );
    for needle in ["snaps", "snap_000.hdf5", "snap_001.hdf5", "and 2 more", "--force"] {
        assert!(err.contains(needle), "{needle:?} in {err}");
    }
    assert_eq!(std::fs::read(snaps.join("snap_003.hdf5")).unwrap(), before);

    // --force: the old snapshots go (snap_002 and snap_003 too), the other files stay.
    let forced = generate_snapshots(&snaps, 2, &["--seed", "7", "--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(
        names(&snaps),
        ["notes.txt", "plots", "snap_000.hdf5", "snap_001.hdf5"]
    );
    assert_eq!(std::fs::read(snaps.join("plots/a.txt")).unwrap(), b"keep");

    // Snapshots in a subfolder would be read by `tracks snaps` too: refused even with --force.
    std::fs::copy(snaps.join("snap_000.hdf5"), snaps.join("plots/old.hdf5")).unwrap();
    let nested = generate_snapshots(&snaps, 2, &["--force"]);
    let err = String::from_utf8_lossy(&nested.stderr);
    assert!(!nested.status.success());
    assert!(
        err.contains("plots/old.hdf5") && err.contains("subfolders"),
        "{err}"
    );
    assert!(snaps.join("snap_000.hdf5").exists());
}
