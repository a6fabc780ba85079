//! NEMO and Gadget-2 binary readers: the fixtures made by unsio and by
//! `tests/fixtures/make_binary_fixtures.py` (values and units from its expected.json), unit
//! overrides, error messages, and property tests on random, truncated and damaged bytes
//! (no panic; memory bounded by a multiple of the input's size).

use std::path::{Path, PathBuf};

use actionfinder_snapshots::formats::{self, gadget2, nemo, Format};
use actionfinder_snapshots::gadget4::GYR_PER_TIME_UNIT;
use actionfinder_snapshots::{ReadOptions, Snapshot, SnapshotError, UnitOverrides};
use proptest::prelude::*;
use serde_json::Value;

// ----------------------------------------------------------------- allocation accounting

mod counting_alloc;
use counting_alloc::peak_bytes;

/// Memory a parse of `len` bytes may hold: the output is at most 8 f64 per 4-byte float
/// stored (f32 -> f64 widening, positions and velocities decoded then interleaved) plus the
/// small per-item structures.
fn allowed_bytes(len: usize) -> usize {
    16 * len + (16 << 10)
}

// ----------------------------------------------------------------- fixtures

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/binary")
        .join(name)
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    assert!((a - b).abs() <= rel * b.abs().max(1e-300), "{what}: {a} vs {b}");
}

/// Compare one snapshot with its expected.json entry (values in kpc, km/s, Msun, Gyr).
fn check_snapshot(s: &Snapshot, e: &Value, what: &str) {
    let n = e["n"].as_u64().unwrap() as usize;
    assert_eq!(
        (s.len(), s.xv.len(), s.types.len()),
        (n, 6 * n, n),
        "{what}: sizes"
    );
    close(
        s.time_gyr,
        e["time_gyr"].as_f64().unwrap(),
        1e-12,
        &format!("{what}: time"),
    );
    let (sum, abs) = (f64s(&e["xv_sum"]), f64s(&e["xv_abs_sum"]));
    for k in 0..6 {
        let got: f64 = s.xv.iter().skip(k).step_by(6).sum();
        assert!(
            (got - sum[k]).abs() <= 1e-12 * abs[k],
            "{what}: column {k} sum {got} vs {}",
            sum[k]
        );
    }
    for (i, row) in e["first_xv"].as_array().unwrap().iter().enumerate() {
        for (k, x) in f64s(row).into_iter().enumerate() {
            close(s.xv[6 * i + k], x, 1e-15, &format!("{what}: xv[{i},{k}]"));
        }
    }
    let msum: f64 = s.masses.iter().sum();
    close(
        msum,
        e["mass_msun_sum"].as_f64().unwrap(),
        1e-12,
        &format!("{what}: mass sum"),
    );
    for (i, m) in f64s(&e["first_mass_msun"]).into_iter().enumerate() {
        close(s.masses[i], m, 1e-15, &format!("{what}: mass[{i}]"));
    }
    let ids: Option<Vec<u64>> = e["ids"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_u64().unwrap()).collect());
    assert_eq!(s.ids, ids, "{what}: ids");
    for (t, c) in e["type_counts"].as_object().unwrap() {
        let t: u8 = t.parse().unwrap();
        let got = s.types.iter().filter(|&&x| x == t).count() as u64;
        assert_eq!(got, c.as_u64().unwrap(), "{what}: type {t}");
    }
}

#[test]
fn nemo_fixtures_match_expected() {
    let exp = expected();
    let files = exp["nemo"].as_object().unwrap();
    assert_eq!(files.len(), 6);
    for (name, snaps) in files {
        let path = fixture(name);
        assert_eq!(formats::detect(&path).unwrap(), Format::Nemo, "{name}");
        let got = formats::read(&path, &ReadOptions::default()).unwrap();
        let want = snaps.as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: snapshots");
        for (s, e) in got.iter().zip(want) {
            assert_eq!(s.index as u64, e["index"].as_u64().unwrap(), "{name}: index");
            assert_eq!(s.path, path);
            check_snapshot(s, e, &format!("{name}[{}]", s.index));
        }
    }
}

#[test]
fn gadget2_fixtures_match_expected() {
    let exp = expected();
    let files = exp["gadget2"].as_object().unwrap();
    assert_eq!(files.len(), 5);
    for (name, e) in files {
        let path = fixture(name);
        assert_eq!(formats::detect(&path).unwrap(), Format::Gadget2, "{name}");
        let got = formats::read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(got.len(), 1, "{name}");
        assert_eq!((got[0].index, &got[0].path), (0, &path));
        check_snapshot(&got[0], e, name);
    }
}

#[test]
fn the_three_nemo_snapshots_hold_the_same_keys() {
    let snaps = nemo::read(&fixture("nemo_three.nemo"), &ReadOptions::default()).unwrap();
    let times: Vec<f64> = snaps.iter().map(|s| s.time_gyr).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    let mut keys: Vec<Vec<u64>> = snaps.iter().map(|s| s.ids.clone().unwrap()).collect();
    assert_ne!(keys[0], keys[1], "the fixture shuffles the order");
    keys.iter_mut().for_each(|k| k.sort_unstable());
    assert_eq!(keys[0], (1..=120).collect::<Vec<u64>>());
    assert!(keys.iter().all(|k| *k == keys[0]));
}

#[test]
fn snapformat_1_and_2_of_one_snapshot_read_the_same() {
    let opts = ReadOptions::default();
    let f1 = gadget2::read(&fixture("gadget2_f1_float.g2"), &opts).unwrap();
    let f2 = gadget2::read(&fixture("gadget2_f2_float.g2"), &opts).unwrap();
    assert_eq!(
        (&f1[0].xv, &f1[0].ids, &f1[0].masses),
        (&f2[0].xv, &f2[0].ids, &f2[0].masses)
    );
}

#[test]
fn gadget2_type_selection_keeps_the_wanted_types() {
    let opts = ReadOptions {
        types: Some(vec![4]),
        ..Default::default()
    };
    let s = &gadget2::read(&fixture("gadget2_f2_float.g2"), &opts).unwrap()[0];
    assert_eq!(s.len(), 50);
    assert!(s.types.iter().all(|&t| t == 4));
    assert_eq!(s.ids.as_ref().unwrap().first(), Some(&301));
    // Stars have masses of their own (MASS block), 1e-4 x (0.5..1.5) x 1e10 Msun.
    assert!(
        s.masses.iter().all(|&m| (0.5e6..1.5e6).contains(&m)),
        "{:?}",
        &s.masses[..3]
    );
}

#[test]
fn nemo_refuses_a_type_selection_without_type_1() {
    let opts = ReadOptions {
        types: Some(vec![4]),
        ..Default::default()
    };
    let err = nemo::read(&fixture("nemo_double.nemo"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nemo_double.nemo") && err.contains("type 1"),
        "{err}"
    );
}

#[test]
fn nemo_units_follow_g_equal_one_from_the_given_ones() {
    // kpc and Gyr: velocity unit 1 kpc/Gyr = 0.977792 km/s, so time unit 1 Gyr and mass
    // unit V^2 L / G.
    let v = GYR_PER_TIME_UNIT;
    let units = UnitOverrides {
        velocity_kms: Some(v),
        ..Default::default()
    };
    let path = fixture("nemo_phasespace_be.nemo");
    let plain = nemo::read(&path, &ReadOptions::default()).unwrap();
    let gyr = nemo::read(
        &path,
        &ReadOptions {
            units,
            ..Default::default()
        },
    )
    .unwrap();
    close(gyr[1].time_gyr, 3.0, 1e-12, "time");
    close(gyr[0].masses[0], plain[0].masses[0] * v * v, 1e-14, "mass");
    close(gyr[0].xv[3], plain[0].xv[3] * v, 1e-14, "vx");
    close(gyr[0].xv[0], plain[0].xv[0], 0.0, "x");
}

#[test]
fn gadget2_overrides_replace_the_whole_factor_but_keep_a() {
    let exp = expected();
    let e = &exp["gadget2"]["gadget2_f1_be_double_cosmo.g2"];
    let (a, h) = (0.5, 0.7);
    let units = UnitOverrides {
        length_kpc: Some(2.0),
        velocity_kms: Some(3.0),
        mass_msun: Some(5.0),
        time_gyr: Some(7.0),
    };
    let path = fixture("gadget2_f1_be_double_cosmo.g2");
    let s = &gadget2::read(
        &path,
        &ReadOptions {
            units,
            ..Default::default()
        },
    )
    .unwrap()[0];
    let raw = f64s(&e["first_xv"][0]);
    close(s.xv[0], raw[0] / (a / h) * a * 2.0, 1e-14, "x");
    close(s.xv[3], raw[3] / a.sqrt() * a.sqrt() * 3.0, 1e-14, "vx");
    close(s.masses[0], 0.002 * 5.0, 1e-14, "mass (table)");
    close(
        s.time_gyr,
        a * 7.0,
        1e-15,
        "an explicit time unit makes Time a time",
    );
}

#[test]
fn a_later_part_is_refused_and_read_bytes_wants_one_file() {
    let part1 = fixture("gadget2_multi.1");
    assert_eq!(formats::detect(&part1).unwrap(), Format::Gadget2);
    let err = gadget2::read(&part1, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("gadget2_multi.1") && err.contains(".0"), "{err}");
    let first = fixture("gadget2_multi.0");
    let bytes = std::fs::read(&first).unwrap();
    let err = gadget2::read_bytes(&first, &bytes, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("num_files"), "{err}");
}

#[test]
fn a_missing_part_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("snap_007.0");
    std::fs::copy(fixture("gadget2_multi.0"), &zero).unwrap();
    let err = gadget2::read(&zero, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("snap_007.1"), "{err}");
}

#[test]
fn inconsistent_parts_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (zero, one) = (dir.path().join("s.0"), dir.path().join("s.1"));
    std::fs::copy(fixture("gadget2_multi.0"), &zero).unwrap();
    // Part 1 replaced by part 0: the counts no longer add up to the totals.
    std::fs::copy(fixture("gadget2_multi.0"), &one).unwrap();
    let err = gadget2::read(&zero, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("s.0") && err.contains("npartTotal"), "{err}");
}

fn read_any(name: &Path, bytes: &[u8]) -> Result<Vec<Snapshot>, SnapshotError> {
    let opts = ReadOptions::default();
    if nemo::sniff(bytes) {
        nemo::read_bytes(name, bytes, &opts)
    } else {
        gadget2::read_bytes(name, bytes, &opts)
    }
}

#[test]
fn truncated_files_get_errors_that_name_file_and_item() {
    let dir = tempfile::tempdir().unwrap();
    for (name, item) in [
        ("nemo_float_key.nemo", "NEMO item"),
        ("gadget2_f2_float.g2", "Gadget-2 block"),
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let cut = dir.path().join(format!("cut_{name}"));
        std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
        let err = formats::read(&cut, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("cut_{name}")) && err.contains(item),
            "{err}"
        );
        assert!(err.contains("truncated"), "{err}");
    }
}

#[test]
fn huge_declared_sizes_fail_before_allocating() {
    // A NEMO Mass item claiming 2^30 x 2^30 doubles, in 40 bytes.
    let mut b = vec![0x92, 0x0b, b'd', 0];
    b.extend(b"Mass\0");
    for d in [1i32 << 30, 1 << 30, 0] {
        b.extend(d.to_le_bytes());
    }
    b.extend([0u8; 16]);
    let name = Path::new("huge.nemo");
    let (r, peak) = peak_bytes(|| nemo::read_bytes(name, &b, &ReadOptions::default()));
    let err = r.unwrap_err().to_string();
    assert!(
        err.contains("huge.nemo") && err.contains("Mass") && err.contains("dimensions"),
        "{err}"
    );
    assert!(peak < 4096, "{peak} bytes");
    // A Gadget-2 header claiming 2^31 - 1 particles of each type, masses in the table.
    let mut head = vec![0u8; 256];
    for t in 0..6 {
        head[4 * t..4 * t + 4].copy_from_slice(&i32::MAX.to_le_bytes());
        head[24 + 8 * t..32 + 8 * t].copy_from_slice(&1.0f64.to_le_bytes());
    }
    let mut g = Vec::new();
    for block in [&head[..], &[0u8; 24][..], &[0u8; 24][..], &[0u8; 8][..]] {
        g.extend((block.len() as u32).to_le_bytes());
        g.extend(block);
        g.extend((block.len() as u32).to_le_bytes());
    }
    let name = Path::new("huge.g2");
    let (r, peak) = peak_bytes(|| gadget2::read_bytes(name, &g, &ReadOptions::default()));
    let err = r.unwrap_err().to_string();
    assert!(err.contains("huge.g2") && err.contains("POS"), "{err}");
    assert!(peak < 4096, "{peak} bytes");
}

/// A little-endian NEMO item: magic, type, tag, dimensions (plural when any), data.
fn nemo_item(ty: &str, tag: &str, dims: &[i32], data: &[u8]) -> Vec<u8> {
    let magic: u16 = if dims.is_empty() { 0x0992 } else { 0x0b92 };
    let mut b = magic.to_le_bytes().to_vec();
    b.extend(ty.as_bytes());
    b.push(0);
    if ty != ")" {
        b.extend(tag.as_bytes());
        b.push(0);
    }
    if !dims.is_empty() {
        dims.iter().chain([&0]).for_each(|d| b.extend(d.to_le_bytes()));
    }
    b.extend(data);
    b
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A one-snapshot NEMO file of 2 particles; `particles` are the items of its Particles set.
fn nemo_file(nobj: i32, particles: &[Vec<u8>]) -> Vec<u8> {
    let mut b = nemo_item("(", "SnapShot", &[], &[]);
    b.extend(nemo_item("(", "Parameters", &[], &[]));
    b.extend(nemo_item("i", "Nobj", &[], &nobj.to_le_bytes()));
    b.extend(nemo_item("d", "Time", &[], &0.5f64.to_le_bytes()));
    b.extend(nemo_item(")", "", &[], &[]));
    b.extend(nemo_item("(", "Particles", &[], &[]));
    particles.iter().for_each(|p| b.extend(p));
    b.extend(nemo_item(")", "", &[], &[]));
    b.extend(nemo_item(")", "", &[], &[]));
    b
}

/// Particles items, Nobj, and what the error must say.
type NemoCase = (Vec<Vec<u8>>, i32, &'static [&'static str]);

#[test]
fn damaged_nemo_content_gets_errors_that_say_what_was_expected() {
    let mass = nemo_item("d", "Mass", &[2], &f64_bytes(&[1.0, 2.0]));
    let pos = nemo_item(
        "d",
        "Position",
        &[2, 3],
        &f64_bytes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
    );
    let nan = nemo_item(
        "d",
        "Position",
        &[2, 3],
        &f64_bytes(&[0.0, 1.0, f64::NAN, 3.0, 4.0, 5.0]),
    );
    let vel = nemo_item(
        "d",
        "Velocity",
        &[2, 3],
        &f64_bytes(&[6.0, 7.0, 8.0, 9.0, 10.0, 11.0]),
    );
    let key = |k: i32| nemo_item("i", "Key", &[2], &[k.to_le_bytes(), 7i32.to_le_bytes()].concat());
    let int_pos = nemo_item("i", "Position", &[2, 3], &[0u8; 24]);
    let polar = nemo_item(
        "i",
        "CoordSystem",
        &[],
        &((2 << 16) | (3 << 8) | 2i32).to_le_bytes(),
    );
    let name = Path::new("made.nemo");
    let opts = ReadOptions::default();
    let good = nemo::read_bytes(
        name,
        &nemo_file(2, &[mass.clone(), pos.clone(), vel.clone(), key(3)]),
        &opts,
    );
    let good = good.unwrap();
    assert_eq!(
        good[0].xv,
        vec![0.0, 1.0, 2.0, 6.0, 7.0, 8.0, 3.0, 4.0, 5.0, 9.0, 10.0, 11.0]
    );
    assert_eq!(good[0].ids, Some(vec![3, 7]));
    let cases: [NemoCase; 7] = [
        (
            vec![mass.clone(), nan, vel.clone()],
            2,
            &["Particles/Position", "finite", "NaN"],
        ),
        (
            vec![mass.clone(), pos.clone(), vel.clone()],
            3,
            &["Particles/Mass", "dimensions [3]", "[2]"],
        ),
        (
            vec![pos.clone(), vel.clone()],
            2,
            &["Particles/Mass", "expected this item"],
        ),
        (
            vec![mass.clone(), pos.clone()],
            2,
            &["PhaseSpace, or Position and Velocity"],
        ),
        (
            vec![polar, mass.clone(), pos.clone(), vel.clone()],
            2,
            &["CoordSystem", "Cartesian"],
        ),
        (
            vec![mass.clone(), pos.clone(), vel.clone(), key(-1)],
            2,
            &["Particles/Key", "non-negative"],
        ),
        (
            vec![mass, int_pos, vel],
            2,
            &["SnapShot[0]/Particles/Position", "float or double"],
        ),
    ];
    for (items, nobj, says) in cases {
        let err = nemo::read_bytes(name, &nemo_file(nobj, &items), &opts)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("made.nemo") && says.iter().all(|s| err.contains(s)),
            "{err}\nwants {says:?}"
        );
    }
    let mut open_set = nemo_file(2, &[]);
    open_set.truncate(open_set.len() - 4);
    let err = nemo::read_bytes(name, &open_set, &opts).unwrap_err().to_string();
    assert!(err.contains("SnapShot") && err.contains("end-of-set"), "{err}");
}

#[test]
fn a_nan_position_in_a_gadget2_file_is_an_error() {
    let mut bytes = std::fs::read(fixture("gadget2_f1_float.g2")).unwrap();
    // POS data start after the header record (4 + 256 + 4) and the POS marker (4).
    bytes[272..276].copy_from_slice(&f32::NAN.to_le_bytes());
    let err = gadget2::read_bytes(Path::new("nan.g2"), &bytes, &ReadOptions::default()).unwrap_err();
    let err = err.to_string();
    assert!(
        err.contains("nan.g2") && err.contains("POS") && err.contains("particle 0, component 1"),
        "{err}"
    );
}

/// The worst case for memory per input byte: a snapshot set holding as many of the
/// smallest items as fit (6 bytes each), or sets nested as deep as allowed.
#[test]
fn many_tiny_items_stay_within_the_memory_bound() {
    let tiny = nemo_item("b", "", &[], &[7]);
    assert_eq!(tiny.len(), 6);
    let mut b = nemo_item("(", "SnapShot", &[], &[]);
    (0..20_000).for_each(|_| b.extend(&tiny));
    b.extend(nemo_item(")", "", &[], &[]));
    let (r, peak) = peak_bytes(|| nemo::read_bytes(Path::new("tiny.nemo"), &b, &ReadOptions::default()));
    assert!(r.unwrap_err().to_string().contains("Parameters"));
    eprintln!("20000 tiny items: {peak} bytes held for {} input bytes", b.len());
    assert!(peak <= allowed_bytes(b.len()), "{peak} bytes for {}", b.len());
    let mut deep = Vec::new();
    (0..40).for_each(|_| deep.extend(nemo_item("(", "S", &[], &[])));
    let err = nemo::read_bytes(Path::new("deep.nemo"), &deep, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("nested at most 16 deep"), "{err}");
}

const FIXTURES: [&str; 11] = [
    "nemo_float_key.nemo",
    "nemo_double.nemo",
    "nemo_three.nemo",
    "nemo_phasespace_be.nemo",
    "nemo_diagnostics.nemo",
    "nemo_phasespace_float.nemo",
    "gadget2_f2_float.g2",
    "gadget2_f1_float.g2",
    "gadget2_f2_double.g2",
    "gadget2_f1_be_double_cosmo.g2",
    "gadget2_multi.1",
];

/// Every strict prefix of every fixture is an error (a truncated file never reads as a
/// valid shorter one, except NEMO files cut between snapshots), with memory bounded.
#[test]
fn every_prefix_of_every_fixture_is_handled() {
    let mut worst = 0.0f64;
    let mut worst_large = 0.0f64;
    for name in &FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let full = read_any(Path::new(name), &bytes);
        assert!(full.is_ok() || name.ends_with(".1"), "{name}: {full:?}");
        for len in 0..bytes.len() {
            let (r, peak) = peak_bytes(|| read_any(Path::new(name), &bytes[..len]));
            assert!(peak <= allowed_bytes(len), "{name}[..{len}]: {peak} bytes");
            worst = worst.max(peak as f64 / len.max(1) as f64);
            if len >= 2048 {
                worst_large = worst_large.max(peak as f64 / len as f64);
            }
            if let Ok(snaps) = r {
                // Only a NEMO file cut exactly at the end of a top-level item reads.
                let whole = full.as_ref().map(|v| v.len()).unwrap_or(0);
                assert!(
                    name.ends_with(".nemo") && snaps.len() < whole.max(1),
                    "{name}[..{len}]"
                );
            }
        }
    }
    eprintln!("largest peak / input bytes: {worst:.1} (all prefixes), {worst_large:.1} (>= 2048 bytes)");
}

fn fixture_bytes() -> Vec<Vec<u8>> {
    FIXTURES
        .iter()
        .map(|n| std::fs::read(fixture(n)).unwrap())
        .collect()
}

/// 512 cases each unless PROPTEST_CASES says otherwise.
fn fuzz_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let name = Path::new("random");
        let opts = ReadOptions::default();
        let (_, peak) = peak_bytes(|| {
            let _ = nemo::read_bytes(name, &bytes, &opts);
            let _ = gadget2::read_bytes(name, &bytes, &opts);
        });
        prop_assert!(peak <= allowed_bytes(bytes.len()));
    }

    /// Random bytes after a valid start (a NEMO magic and type, or a Gadget-2 first
    /// record marker) reach deeper into the parsers.
    #[test]
    fn random_bytes_after_a_valid_start_never_panic(
        start in 0usize..4,
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let heads: [&[u8]; 4] = [b"\x92\x09(\0SnapShot\0", b"\x0b\x92d\0", &[0, 1, 0, 0], b"\x08\0\0\0HEAD"];
        let mut bytes = heads[start].to_vec();
        bytes.extend(&tail);
        let (_, peak) = peak_bytes(|| read_any(Path::new("start"), &bytes));
        prop_assert!(peak <= allowed_bytes(bytes.len()));
    }

    #[test]
    fn damaged_fixtures_never_panic(
        which in 0usize..11,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
    ) {
        let mut bytes = fixture_bytes().swap_remove(which);
        for (at, x) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        let (_, peak) = peak_bytes(|| read_any(Path::new(FIXTURES[which]), &bytes));
        prop_assert!(peak <= allowed_bytes(bytes.len()));
    }
}
