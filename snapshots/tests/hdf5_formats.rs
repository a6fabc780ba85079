//! Gadget-2/4, AREPO and SWIFT HDF5 snapshots: the fixtures written by h5py
//! (tests/fixtures/make_hdf5_fixtures.py, committed with the files and expected.json) read
//! and converted to kpc, km/s, Msun and Gyr; type selection, MassTable masses, unit
//! overrides, comoving conversion, the HDF5 2.0 layout fallback, multi-file snapshots, bad
//! input, and a round trip through our own Gadget-4 writer.

use std::path::{Path, PathBuf};

use actionfinder_snapshots::formats::{self, gadget_hdf5, Format};
use actionfinder_snapshots::gadget4::{
    write_snapshot_dir, SnapshotData, UNIT_LENGTH_IN_CM, UNIT_MASS_IN_G, UNIT_VELOCITY_IN_CM_PER_S,
};
use actionfinder_snapshots::h5::H5Writer;
use actionfinder_snapshots::{ReadOptions, Snapshot, UnitOverrides};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hdf5")
        .join(name)
}

fn expected(key: &str) -> Value {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all.get(key)
        .unwrap_or_else(|| panic!("expected.json has no {key}"))
        .clone()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn nums(v: &Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn read_one(path: &Path, opts: &ReadOptions) -> Snapshot {
    let mut snaps = formats::read(path, opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(snaps.len(), 1);
    snaps.remove(0)
}

fn all_types() -> ReadOptions {
    ReadOptions::default()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-300),
        "{what}: got {got}, expected {want} (relative error {:e})",
        (got - want).abs() / want.abs()
    );
}

/// The particles of one type, in file order.
struct Part {
    xv: Vec<f64>,
    masses: Vec<f64>,
    ids: Vec<u64>,
}

fn of_type(s: &Snapshot, t: u8) -> Part {
    let rows: Vec<usize> = (0..s.len()).filter(|&i| s.types[i] == t).collect();
    let ids = s.ids.as_ref().expect("ids");
    Part {
        xv: rows
            .iter()
            .flat_map(|&i| s.xv[6 * i..6 * i + 6].to_vec())
            .collect(),
        masses: rows.iter().map(|&i| s.masses[i]).collect(),
        ids: rows.iter().map(|&i| ids[i]).collect(),
    }
}

fn column_sum(xv: &[f64], cols: std::ops::Range<usize>) -> f64 {
    xv.chunks_exact(6).flat_map(|r| r[cols.clone()].to_vec()).sum()
}

/// Checks the particles of type `t` against `expected.json[key]`: count, id sum, first id,
/// and the physical (converted) sums and first rows, to `rel`.
fn check_type(s: &Snapshot, t: u8, key: &str, rel: f64) {
    let e = expected(key);
    let p = of_type(s, t);
    let n = e["n"].as_u64().unwrap() as usize;
    assert_eq!(p.masses.len(), n, "{key}: count");
    assert_eq!(
        p.ids.iter().sum::<u64>(),
        e["ids_sum"].as_u64().unwrap(),
        "{key}: id sum"
    );
    assert_eq!(p.ids[0], e["ids_first"].as_u64().unwrap(), "{key}: first id");
    let phys = &e["physical"];
    close(
        column_sum(&p.xv, 0..3),
        num(phys, "pos_sum"),
        rel,
        &format!("{key} pos_sum"),
    );
    close(
        column_sum(&p.xv, 3..6),
        num(phys, "vel_sum"),
        rel,
        &format!("{key} vel_sum"),
    );
    close(
        p.masses.iter().sum(),
        num(phys, "mass_sum"),
        rel,
        &format!("{key} mass_sum"),
    );
    close(
        p.masses[0],
        num(phys, "mass_first"),
        rel,
        &format!("{key} mass_first"),
    );
    let first: Vec<f64> = nums(phys, "pos_first")
        .into_iter()
        .chain(nums(phys, "vel_first"))
        .collect();
    for (k, (&got, want)) in p.xv[..6].iter().zip(first).enumerate() {
        close(got, want, rel, &format!("{key} first row [{k}]"));
    }
}

/// Relative tolerance of the converted sums: both sides sum the same f64 products, in a
/// different order (numpy sums pairwise).
const REL: f64 = 1e-12;

#[test]
fn gadget4_fixtures_in_every_layout_convert_comoving_mpc_h_to_physical_kpc() {
    for name in ["g4_default.hdf5", "g4_v114.hdf5", "g4_latest.hdf5"] {
        let path = fixture(name);
        assert_eq!(formats::detect(&path).unwrap(), Format::GadgetHdf5, "{name}");
        let s = read_one(&path, &all_types());
        assert_eq!(s.len(), 500, "{name}");
        assert_eq!(s.types.iter().filter(|&&t| t == 1).count(), 300);
        assert_eq!(&s.types[298..302], &[1, 1, 2, 2], "{name}: types in file order");
        check_type(&s, 1, &format!("{name}/PartType1"), REL);
        check_type(&s, 2, &format!("{name}/PartType2"), REL);
        let header = expected(&format!("{name}/Header"));
        close(
            s.time_gyr,
            num(&header, "time_gyr"),
            1e-10,
            &format!("{name} time"),
        );
        assert_eq!(s.path, path);
    }
}

#[test]
fn hdf5_2_layout_v5_reads_the_same_values_as_v114_through_the_fallback() {
    // g4_latest.hdf5 and swift_latest.hdf5 hold chunked datasets with data-layout message
    // version 5, which hdf5-pure refuses: h5.rs retries them with hdf5-reader.
    let f = actionfinder_snapshots::H5File::open(fixture("g4_latest.hdf5")).unwrap();
    let ids = f.read_u64("/PartType1/ParticleIDs").unwrap();
    assert_eq!(ids.shape, vec![300]);
    assert_eq!(ids.data[..3], [1, 2, 3]);
    let masses = f.read_f64("/PartType1/Masses").unwrap(); // resizable: extensible array
    assert_eq!(masses.shape, vec![300]);
    for (pair, base) in [
        ("g4_latest.hdf5", "g4_v114.hdf5"),
        ("swift_latest.hdf5", "swift_small.hdf5"),
    ] {
        let latest = read_one(&fixture(pair), &all_types());
        let v114 = read_one(&fixture(base), &all_types());
        assert_eq!(latest.xv, v114.xv, "{pair}");
        assert_eq!(latest.ids, v114.ids, "{pair}");
        assert_eq!(latest.masses, v114.masses, "{pair}");
        assert_eq!(latest.time_gyr, v114.time_gyr, "{pair}");
    }
}

#[test]
fn gadget2_multi_file_without_units_uses_defaults_and_masstable_from_any_part() {
    let first = read_one(&fixture("snap_010.0.hdf5"), &all_types());
    let second = read_one(&fixture("snap_010.1.hdf5"), &all_types());
    assert_eq!(first, second, "any part reads the whole snapshot");
    assert_eq!(first.path, fixture("snap_010.0.hdf5"));
    // defaults: 1 kpc/h, 1 km/s, 1e10 Msun/h; a = 1, h = 0.7
    check_type(&first, 1, "snap_010/PartType1", REL);
    let m = 0.05 * 1e10 / 0.7;
    assert!(
        first.masses.iter().all(|&x| (x - m).abs() <= 1e-15 * m),
        "MassTable masses"
    );
    let per_file = expected("snap_010/PartType1")["per_file"].clone();
    assert_eq!(per_file, serde_json::json!([250, 150]));
    let ids = first.ids.as_ref().unwrap();
    assert_eq!((ids[249], ids[250]), (250, 251), "part 0 then part 1");
    close(
        first.time_gyr,
        num(&expected("snap_010/Header"), "time_gyr"),
        1e-10,
        "age at a = 1",
    );
    let parts = gadget_hdf5::part_files(&fixture("snap_010.1.hdf5")).unwrap();
    assert_eq!(
        parts,
        vec![fixture("snap_010.0.hdf5"), fixture("snap_010.1.hdf5")]
    );
}

#[test]
fn gadget4_snapdir_three_parts_big_endian_and_a_type_absent_from_one_part() {
    let path = fixture("snapdir_005/snapshot_005.0.hdf5");
    let s = read_one(&path, &all_types());
    assert_eq!(s.len(), 250 + 70);
    check_type(&s, 1, "snapdir_005/PartType1", REL);
    check_type(&s, 2, "snapdir_005/PartType2", REL);
    close(
        s.time_gyr,
        num(&expected("snapdir_005/Header"), "time_gyr"),
        1e-14,
        "time",
    );
    // file order: part 0 (types 1, 2), part 1 (type 1), part 2 (types 1, 2)
    let run: Vec<u8> = [(1, 100), (2, 40), (1, 90), (1, 60), (2, 30)]
        .iter()
        .flat_map(|&(t, n)| std::iter::repeat_n(t, n))
        .collect();
    assert_eq!(s.types, run);
    assert_eq!(
        gadget_hdf5::part_files(&fixture("snapdir_005/snapshot_005.2.hdf5"))
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn swift_fixtures_use_units_group_field_factors_and_scale_factor() {
    for name in ["swift_small.hdf5", "swift_latest.hdf5"] {
        let path = fixture(name);
        assert_eq!(formats::detect(&path).unwrap(), Format::Swift, "{name}");
        let s = read_one(&path, &all_types());
        assert_eq!(s.len(), 300);
        assert!(s.types.iter().all(|&t| t == 1));
        check_type(&s, 1, &format!("{name}/PartType1"), REL);
        close(
            s.time_gyr,
            num(&expected(&format!("{name}/Header")), "time_gyr"),
            1e-12,
            "time",
        );
        assert_eq!(s.ids.as_ref().unwrap()[0], 1_000_000_000_000, "signed 64-bit ids");
    }
}

#[test]
fn arepo_cosmological_run_converts_with_a_and_h_and_reports_cosmic_time() {
    let s = read_one(&fixture("arepo_cosmo.hdf5"), &all_types());
    assert_eq!(s.len(), 400);
    for t in [0, 1, 4] {
        check_type(&s, t, &format!("arepo_cosmo/PartType{t}"), REL);
    }
    // dark matter masses come from MassTable: 0.0045e10 Msun/h
    let dm = of_type(&s, 1);
    let m = 0.0045 * 1.989e43 / UNIT_MASS_IN_G / 0.6774;
    assert!(dm.masses.iter().all(|&x| (x / m - 1.0).abs() < 1e-15));
    let header = expected("arepo_cosmo/Header");
    close(
        s.time_gyr,
        num(&header, "time_gyr"),
        1e-10,
        "cosmic time at z = 3",
    );
    assert!(
        (s.time_gyr - 2.1).abs() < 0.2,
        "age at z = 3 is about 2.1 Gyr: {}",
        s.time_gyr
    );
}

#[test]
fn particle_types_are_selected_by_number() {
    let only = |types: &[u8]| ReadOptions {
        types: Some(types.to_vec()),
        ..ReadOptions::default()
    };
    let s = read_one(&fixture("g4_default.hdf5"), &only(&[2]));
    assert_eq!(s.len(), 200);
    assert!(s.types.iter().all(|&t| t == 2));
    check_type(&s, 2, "g4_default.hdf5/PartType2", REL);
    let s = read_one(&fixture("arepo_cosmo.hdf5"), &only(&[0, 4]));
    assert_eq!(s.len(), 200);
    assert_eq!(s.types.iter().filter(|&&t| t == 4).count(), 80);
    let s = read_one(&fixture("snapdir_005/snapshot_005.1.hdf5"), &only(&[2]));
    assert_eq!(s.len(), 70);
    assert!(
        s.masses.iter().all(|&m| m == 2.5e5),
        "type 2 from MassTable, code units Msun"
    );
    let none = read_one(&fixture("arepo_cosmo.hdf5"), &only(&[3]));
    assert!(none.is_empty());
    assert_eq!(none.ids, Some(vec![]));
}

#[test]
fn unit_overrides_replace_code_units_and_cosmology_still_applies() {
    let overrides = UnitOverrides {
        length_kpc: Some(2.0),
        velocity_kms: Some(3.0),
        mass_msun: Some(5.0),
        time_gyr: Some(7.0),
    };
    let opts = ReadOptions {
        units: overrides,
        ..ReadOptions::default()
    };
    // non-cosmological (snapdir: code units kpc, km/s, Msun, Time 2.5)
    let plain = read_one(&fixture("snapdir_005/snapshot_005.0.hdf5"), &all_types());
    let over = read_one(&fixture("snapdir_005/snapshot_005.0.hdf5"), &opts);
    for (i, (a, b)) in over.xv.iter().zip(&plain.xv).enumerate() {
        let f = if i % 6 < 3 { 2.0 } else { 3.0 };
        assert!(
            (a - f * b).abs() <= 1e-15 * a.abs(),
            "row {} col {}",
            i / 6,
            i % 6
        );
    }
    for (a, b) in over.masses.iter().zip(&plain.masses) {
        assert!((a - 5.0 * b).abs() <= 1e-15 * a.abs());
    }
    close(over.time_gyr, 2.5 * 7.0, 1e-15, "time with --time-unit");
    // cosmological (AREPO, a = 0.25, h = 0.6774): the overrides replace ckpc/h by 2 "ckpc/h"
    let e = expected("arepo_cosmo/PartType0");
    let s = read_one(&fixture("arepo_cosmo.hdf5"), &opts);
    let gas = of_type(&s, 0);
    let (a, h) = (0.25f64, 0.6774);
    close(
        gas.xv[0],
        nums(&e, "pos_first")[0] * 2.0 * a / h,
        1e-12,
        "x with --length-unit",
    );
    close(
        gas.xv[3],
        nums(&e["physical"], "vel_first")[0] * 3.0,
        1e-12,
        "v with --velocity-unit",
    );
    close(
        gas.masses[0],
        num(&e["physical"], "mass_first") / (1.989e43 / UNIT_MASS_IN_G) * 5.0,
        1e-12,
        "mass",
    );
    close(
        s.time_gyr,
        num(&expected("arepo_cosmo/Header"), "time_gyr"),
        1e-10,
        "cosmic time ignores --time-unit",
    );
}

/// A one-type Gadget file written with our own writer: `n` particles of type 1, header
/// and `Parameters` attributes given, datasets with optional attributes.
struct GadgetFile<'a> {
    w: H5Writer<'a>,
}

impl<'a> GadgetFile<'a> {
    fn new(this_file: u64, total: u64, num_files: i32, time: f64) -> Self {
        let mut w = H5Writer::new();
        w.attr("/Header", "NumPart_ThisFile", [0u64, this_file, 0, 0, 0, 0])
            .attr("/Header", "NumPart_Total", [0u64, total, 0, 0, 0, 0])
            .attr("/Header", "MassTable", [0.0f64; 6])
            .attr("/Header", "Time", time)
            .attr("/Header", "NumFilesPerSnapshot", num_files);
        Self { w }
    }

    fn particles(mut self, xv: &'a [f64], ids: Vec<u64>) -> Self {
        let n = ids.len();
        let (x, v): (Vec<f64>, Vec<f64>) = (
            xv.chunks_exact(6).flat_map(|r| r[..3].to_vec()).collect(),
            xv.chunks_exact(6).flat_map(|r| r[3..].to_vec()).collect(),
        );
        self.w
            .dataset("/PartType1/Coordinates", x, &[n, 3])
            .dataset("/PartType1/Velocities", v, &[n, 3])
            .dataset("/PartType1/ParticleIDs", ids, &[n])
            .dataset("/PartType1/Masses", vec![1.0; n], &[n]);
        self
    }
}

#[test]
fn per_dataset_to_cgs_and_scaling_exponents_win_over_the_file_units() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.hdf5");
    let xv = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0];
    let mut g = GadgetFile::new(1, 1, 1, 0.25).particles(&xv, vec![7]);
    // file units: Mpc, km/s, 1e10 Msun; cosmological, a = 0.25, h = 0.5
    g.w.attr("/Parameters", "UnitLength_in_cm", 1e3 * UNIT_LENGTH_IN_CM)
        .attr(
            "/Parameters",
            "UnitVelocity_in_cm_per_s",
            UNIT_VELOCITY_IN_CM_PER_S,
        )
        .attr("/Parameters", "UnitMass_in_g", 1e10 * UNIT_MASS_IN_G)
        .attr("/Parameters", "ComovingIntegrationOn", 1i32)
        .attr("/Parameters", "HubbleParam", 0.5)
        .attr("/Parameters", "Omega0", 1.0)
        .attr("/Parameters", "OmegaLambda", 0.0)
        // Coordinates stored in physical kpc (no a, no h); velocities with a^0.5 as usual
        .attr("/PartType1/Coordinates", "to_cgs", UNIT_LENGTH_IN_CM)
        .attr("/PartType1/Coordinates", "a_scaling", 0.0)
        .attr("/PartType1/Coordinates", "h_scaling", 0.0)
        // a dimensionless field says to_cgs = 0 (Gadget-4): the file unit applies
        .attr("/PartType1/Masses", "to_cgs", 0.0);
    g.w.write(&path).unwrap();
    let s = read_one(&path, &all_types());
    assert_eq!(&s.xv[..3], &[1.0, 2.0, 3.0]);
    for (k, &v) in [10.0, 20.0, 30.0].iter().enumerate() {
        close(s.xv[3 + k], v * 0.5, 1e-15, "v sqrt(a)");
    }
    close(s.masses[0], 1e10 / 0.5, 1e-15, "m / h");
    // Einstein-de Sitter: t = 2/(3 H0) a^1.5, 1/H0 = 9.7779222 Gyr / h
    close(
        s.time_gyr,
        2.0 / 3.0 * 0.125 * 9.777_922_216_807_891 / 0.5,
        1e-9,
        "EdS age",
    );
}

fn message(result: Result<Vec<Snapshot>, actionfinder_snapshots::SnapshotError>) -> String {
    match result {
        Ok(s) => panic!("expected an error, read {} particles", s[0].len()),
        Err(e) => e.to_string(),
    }
}

fn assert_says(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "error message lacks {p:?}: {msg}");
    }
}

#[test]
fn truncated_copies_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "g4_default.hdf5",
        "g4_latest.hdf5",
        "swift_small.hdf5",
        "arepo_cosmo.hdf5",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        for cut in [0, 8, 100, 800, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            let path = dir.path().join(format!("cut_{cut}_{name}"));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let msg = message(formats::read(&path, &all_types()));
            assert_says(&msg, &[&path.display().to_string()]);
        }
    }
}

#[test]
fn a_missing_part_of_a_multi_file_snapshot_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2 {
        let name = format!("snap_010.{i}.hdf5");
        std::fs::copy(fixture(&name), dir.path().join(&name)).unwrap();
    }
    std::fs::remove_file(dir.path().join("snap_010.1.hdf5")).unwrap();
    let msg = message(formats::read(&dir.path().join("snap_010.0.hdf5"), &all_types()));
    assert_says(
        &msg,
        &[
            "snap_010.1.hdf5",
            "file 1 of the 2 files",
            "snap_010.0.hdf5",
            "no such file",
        ],
    );
    // a part renamed out of the NAME.N.EXT pattern cannot find its siblings
    let lone = dir.path().join("snap.hdf5");
    std::fs::copy(fixture("snap_010.0.hdf5"), &lone).unwrap();
    let msg = message(formats::read(&lone, &all_types()));
    assert_says(&msg, &["snap.hdf5", "NumFilesPerSnapshot = 2"]);
}

#[test]
fn multi_file_totals_that_do_not_add_up_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let xv = vec![1.0; 6 * 3];
    for (i, ids) in [vec![1, 2, 3], vec![4, 5, 6]].into_iter().enumerate() {
        // NumPart_Total says 7, the parts hold 3 + 3
        let g = GadgetFile::new(3, 7, 2, 1.0).particles(&xv, ids);
        g.w.write(dir.path().join(format!("snap_001.{i}.hdf5"))).unwrap();
    }
    let msg = message(formats::read(&dir.path().join("snap_001.1.hdf5"), &all_types()));
    assert_says(
        &msg,
        &[
            "snap_001.0.hdf5",
            "NumPart_Total",
            "[0, 6, 0, 0, 0, 0]",
            "[0, 7, 0, 0, 0, 0]",
        ],
    );
    // a part of another snapshot (different Time) mixed in
    let g = GadgetFile::new(3, 6, 2, 2.0).particles(&xv, vec![4, 5, 6]);
    g.w.write(dir.path().join("snap_001.1.hdf5")).unwrap();
    let g = GadgetFile::new(3, 6, 2, 1.0).particles(&xv, vec![1, 2, 3]);
    g.w.write(dir.path().join("snap_001.0.hdf5")).unwrap();
    let msg = message(formats::read(&dir.path().join("snap_001.0.hdf5"), &all_types()));
    assert_says(&msg, &["snap_001.1.hdf5", "attribute Time of /Header", "2"]);
}

#[test]
fn defective_files_are_errors_naming_file_dataset_and_expectation() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "bad_numpart.hdf5",
            &[
                "bad_numpart.hdf5",
                "/PartType1/Coordinates",
                "NumPart_ThisFile=60",
                "[50,3]",
            ],
        ),
        (
            "missing_velocities.hdf5",
            &[
                "missing_velocities.hdf5",
                "/PartType1/Velocities",
                "no such dataset",
            ],
        ),
        (
            "nan_coordinates.hdf5",
            &[
                "nan_coordinates.hdf5",
                "/PartType1/Coordinates",
                "finite",
                "NaN at particle 7",
            ],
        ),
        (
            "inf_velocities.hdf5",
            &[
                "inf_velocities.hdf5",
                "/PartType1/Velocities",
                "finite",
                "inf at particle 3",
            ],
        ),
    ];
    for (name, says) in cases {
        let msg = message(formats::read(&fixture(name), &all_types()));
        assert_says(&msg, says);
    }
    // the same defects are not reached when their type is not read
    let none = ReadOptions {
        types: Some(vec![0]),
        ..ReadOptions::default()
    };
    assert!(formats::read(&fixture("nan_coordinates.hdf5"), &none).unwrap()[0].is_empty());
}

#[test]
fn masses_must_come_from_somewhere_and_groups_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.hdf5");
    let mut g = GadgetFile::new(2, 2, 1, 0.0);
    g.w.dataset("/PartType1/Coordinates", vec![0.0; 6], &[2, 3])
        .dataset("/PartType1/Velocities", vec![0.0; 6], &[2, 3]);
    g.w.write(&path).unwrap();
    let msg = message(formats::read(&path, &all_types()));
    assert_says(
        &msg,
        &["/PartType1/Masses", "MassTable[1] is 0", "no such dataset"],
    );
    let g = GadgetFile::new(2, 2, 1, 0.0);
    g.w.write(&path).unwrap();
    let msg = message(formats::read(&path, &all_types()));
    assert_says(
        &msg,
        &["group /PartType1", "NumPart_ThisFile[1] = 2", "no such group"],
    );
}

#[test]
fn our_gadget4_writer_round_trips_ids_xv_masses_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let n = 37;
    let ids: Vec<u64> = (0..n as u64).map(|i| 1_000_000_007 * i + 3).collect();
    let masses: Vec<f64> = (0..n).map(|i| 1e4 * (1.0 + (i % 5) as f64)).collect();
    let xvs: Vec<Vec<f64>> = (0..3)
        .map(|k| {
            (0..6 * n)
                .map(|j| ((j as f64) * 0.37 + k as f64).sin() * 100.0)
                .collect()
        })
        .collect();
    let times = [0.0, 0.5, 1.25];
    let snaps: Vec<SnapshotData<'_>> = (0..3)
        .map(|k| SnapshotData {
            time_gyr: times[k],
            ids: &ids,
            xv: &xvs[k],
            masses: &masses,
        })
        .collect();
    let paths = write_snapshot_dir(dir.path(), &snaps, 11).unwrap();
    for (k, path) in paths.iter().enumerate() {
        let s = read_one(path, &all_types());
        assert!(
            (s.time_gyr - times[k]).abs() <= 1e-15 * times[k].max(1.0),
            "time {}",
            s.time_gyr
        );
        assert!(s.types.iter().all(|&t| t == 1));
        let got_ids = s.ids.as_ref().unwrap();
        for (row, id) in got_ids.iter().enumerate() {
            let i = ids.iter().position(|x| x == id).unwrap();
            assert_eq!(s.masses[row], masses[i]);
            assert_eq!(
                s.xv[6 * row..6 * row + 6],
                xvs[k][6 * i..6 * i + 6],
                "particle {id}"
            );
        }
        let mut sorted = got_ids.clone();
        sorted.sort_unstable();
        let mut want = ids.clone();
        want.sort_unstable();
        assert_eq!(sorted, want);
    }
}

#[test]
fn swift_with_a_variable_length_code_and_no_units_group_takes_swift_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("swift_vlen.hdf5");
    let xv = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0];
    let mut g = GadgetFile::new(1, 1, 1, 0.5).particles(&xv, vec![9]);
    g.w.attr("/Header", "Code", "SWIFT"); // our writer: a variable-length UTF-8 string
    g.w.write(&path).unwrap();
    assert_eq!(formats::detect(&path).unwrap(), Format::Swift);
    let s = read_one(&path, &all_types());
    // 1 Mpc, 1 km/s, 1e10 Msun; no Cosmology group: a = 1; time unit Mpc/(km/s)
    for (k, &want) in [1e3, 2e3, 3e3, 10.0, 20.0, 30.0].iter().enumerate() {
        close(s.xv[k], want, 1e-15, "SWIFT default units");
    }
    close(s.masses[0], 1e10, 1e-15, "mass");
    close(
        s.time_gyr,
        0.5 * 977.792_221_680_789_1,
        1e-12,
        "time in Mpc/(km/s)",
    );
}
