//! `validate` of the learned field: catalogs whose acceleration, potential and frequencies
//! have known errors against a small truth dataset, through the library and the binary.

#[allow(dead_code)]
mod common_cli;

use common_cli::*;

use std::path::Path;

use actionfinder::catalog::Catalog;
use actionfinder::dataset::StreamsDataset;
use actionfinder::validate::{validate, Report, FLAG_UNTRUSTED};

const S: usize = 4;
const N: usize = 4;
/// G M of the point mass whose field is the truth ((km/s)^2 kpc).
const GM: f64 = 4.3e5;

/// S streams of N points at radii 2..16 kpc off the z axis, with the Kepler field of a point
/// mass as truth: a = -GM x / |x|^3, Phi = -GM / |x|; frequencies per stream with Omega_phi
/// of both signs; actions and angles so that the dataset has the usual truth.
fn dataset() -> StreamsDataset {
    let mut xv = Vec::new();
    let (mut acc, mut pot, mut freq) = (Vec::new(), Vec::new(), Vec::new());
    let (mut actions, mut angles) = (Vec::new(), Vec::new());
    for s in 0..S {
        let radius = 2f64.powi(s as i32 + 1);
        let sense = if s % 2 == 0 { 1.0 } else { -1.0 };
        for i in 0..N {
            let phi = 0.7 * i as f64 + s as f64;
            let x = [radius * phi.cos(), radius * phi.sin(), 0.3 * (i as f64 - 1.5)];
            xv.extend(x);
            xv.extend([-sense * 150.0 * phi.sin(), sense * 150.0 * phi.cos(), 10.0]);
            let r = norm(x);
            acc.extend(x.map(|c| -GM * c / r.powi(3)));
            pot.push(-GM / r);
            freq.extend([60.0 / radius, 55.0 / radius, sense * 40.0 / radius]);
            actions.extend([10.0 * radius, radius, sense * 150.0 * radius]);
            angles.extend([0.1 * i as f64, 0.2 * i as f64, phi]);
        }
    }
    let mut ds = StreamsDataset::from_xv(S, N, xv).unwrap();
    ds.truth.acceleration = Some(acc);
    ds.truth.potential = Some(pot);
    ds.truth.frequencies = Some(freq);
    ds.truth.actions = Some(actions);
    ds.truth.angles = Some(angles);
    ds.attrs.description = "validate field test dataset".into();
    ds
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn row(v: &[f64], i: usize) -> [f64; 3] {
    [v[3 * i], v[3 * i + 1], v[3 * i + 2]]
}

/// A catalog of the dataset's points with the true actions and angles and no field columns.
fn bare_catalog(ds: &StreamsDataset) -> Catalog {
    let mut cat = Catalog::new(ds.xv.clone());
    cat.stream = Some((0..S * N).map(|r| (r / N) as u64).collect());
    cat.set_column("actions", ds.truth.actions.clone().unwrap())
        .unwrap();
    cat.set_column("angles", ds.truth.angles.clone().unwrap())
        .unwrap();
    cat
}

/// The bare catalog with the field columns `acceleration`, `potential`, `frequencies`.
fn catalog(ds: &StreamsDataset, acc: Vec<f64>, pot: Vec<f64>, freq: Vec<f64>) -> Catalog {
    let mut cat = bare_catalog(ds);
    cat.set_column("acceleration", acc).unwrap();
    cat.set_column("potential", pot).unwrap();
    cat.set_column("frequencies", freq).unwrap();
    cat
}

/// The dataset's truth part scaled by `factor`.
fn scaled(truth: &Option<Vec<f64>>, factor: f64) -> Vec<f64> {
    truth.as_ref().unwrap().iter().map(|v| v * factor).collect()
}

/// The catalog whose field is the truth, each part scaled by its factor.
fn scaled_catalog(ds: &StreamsDataset, acc: f64, pot: f64, freq: f64) -> Catalog {
    let t = &ds.truth;
    catalog(
        ds,
        scaled(&t.acceleration, acc),
        scaled(&t.potential, pot),
        scaled(&t.frequencies, freq),
    )
}

fn assert_near(found: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (found - expected).abs() <= tol,
        "{what}: found {found}, expected {expected}"
    );
}

#[test]
fn scaled_acceleration_gives_its_relative_error_and_no_direction_error() {
    let ds = dataset();
    let r = validate(&scaled_catalog(&ds, 1.01, 1.0, 1.0), &ds).unwrap();
    let a = r.field.acceleration.expect("acceleration scored");
    assert_eq!(a.all.n, S * N);
    assert_eq!(a.trusted, a.all, "no flags: every point trusted");
    assert_near(a.all.relative_mean, 0.01, 1e-9, "mean relative");
    assert_near(a.all.relative_median, 0.01, 1e-9, "median relative");
    assert_near(a.all.direction_mean_deg, 0.0, 1e-9, "mean direction");
    assert_near(a.all.direction_median_deg, 0.0, 1e-9, "median direction");
    // Component k: 0.01 |a_k| / |a|, averaged over the points.
    let t = ds.truth.acceleration.as_ref().unwrap();
    for k in 0..3 {
        let expected = (0..S * N)
            .map(|i| 0.01 * t[3 * i + k].abs() / norm(row(t, i)))
            .sum::<f64>()
            / (S * N) as f64;
        assert_near(a.all.component_relative_mean[k], expected, 1e-12, "component");
    }
    assert!(r.missing.is_empty(), "{:?}", r.missing);
    println!("{r}");
}

/// `a` turned by `angle` (rad) about the axis a x z_hat, perpendicular to it.
fn rotated(a: [f64; 3], angle: f64) -> [f64; 3] {
    let axis = [a[1], -a[0], 0.0].map(|c| c / a[0].hypot(a[1]));
    let cross = [
        axis[1] * a[2] - axis[2] * a[1],
        axis[2] * a[0] - axis[0] * a[2],
        axis[0] * a[1] - axis[1] * a[0],
    ];
    std::array::from_fn(|k| a[k] * angle.cos() + cross[k] * angle.sin())
}

#[test]
fn rotated_acceleration_gives_the_angle() {
    let ds = dataset();
    let alpha = 5f64.to_radians();
    let t = ds.truth.acceleration.as_ref().unwrap();
    let acc: Vec<f64> = (0..S * N).flat_map(|i| rotated(row(t, i), alpha)).collect();
    let mut cat = scaled_catalog(&ds, 1.0, 1.0, 1.0);
    cat.set_column("acceleration", acc).unwrap();
    let a = validate(&cat, &ds).unwrap().field.acceleration.unwrap().all;
    assert_near(a.direction_mean_deg, 5.0, 1e-9, "mean direction");
    assert_near(a.direction_median_deg, 5.0, 1e-9, "median direction");
    // |R a - a| = 2 sin(alpha / 2) |a| for a rotation about an axis perpendicular to a.
    assert_near(a.relative_mean, 2.0 * (alpha / 2.0).sin(), 1e-12, "mean relative");
}

#[test]
fn untrusted_points_enter_only_the_all_numbers() {
    let ds = dataset();
    let mut acc = scaled(&ds.truth.acceleration, 1.01);
    let t = ds.truth.acceleration.as_ref().unwrap();
    let mut flag = vec![0u32; S * N];
    // Stream 1: written but not trusted, 50% off. Stream 2, point 0: no values.
    for i in N..2 * N {
        flag[i] = FLAG_UNTRUSTED;
        (0..3).for_each(|k| acc[3 * i + k] = 1.5 * t[3 * i + k]);
    }
    flag[2 * N] = 3;
    acc[6 * N..6 * N + 3].fill(f64::NAN);
    let mut cat = scaled_catalog(&ds, 1.0, 1.0, 1.0);
    cat.set_column("acceleration", acc).unwrap();
    cat.flag = Some(flag);
    let a = validate(&cat, &ds).unwrap().field.acceleration.unwrap();
    assert_eq!((a.all.n, a.trusted.n), (S * N - 1, S * N - N - 1));
    assert_near(a.trusted.relative_mean, 0.01, 1e-9, "trusted mean relative");
    let n_all = (S * N - 1) as f64;
    let expected = ((n_all - N as f64) * 0.01 + N as f64 * 0.5) / n_all;
    assert_near(a.all.relative_mean, expected, 1e-9, "all mean relative");
}

#[test]
fn shifted_potential_reports_the_offset_and_no_error() {
    let ds = dataset();
    let shift = 1234.5;
    let t = ds.truth.potential.clone().unwrap();
    let mut pot: Vec<f64> = t.iter().map(|p| p + shift).collect();
    let mut cat = scaled_catalog(&ds, 1.0, 1.0, 1.0);
    cat.set_column("potential", pot.clone()).unwrap();
    let p = validate(&cat, &ds).unwrap().field.potential.unwrap().all;
    assert_eq!(p.n, S * N);
    assert_near(p.offset, shift, 1e-9, "offset");
    assert_near(p.relative_mean, 0.0, 1e-12, "mean relative");
    assert_near(p.relative_median, 0.0, 1e-12, "median relative");
    // One point 10% off: the median offset stays, the mean error is that point's share.
    pot[5] += 0.1 * t[5].abs();
    cat.set_column("potential", pot).unwrap();
    let p = validate(&cat, &ds).unwrap().field.potential.unwrap().all;
    assert_near(p.offset, shift, 1e-9, "offset with an outlier");
    assert_near(p.relative_mean, 0.1 / (S * N) as f64, 1e-12, "mean relative");
    assert_near(p.relative_median, 0.0, 1e-12, "median relative");
}

#[test]
fn frequencies_off_by_two_percent() {
    let ds = dataset();
    let r = validate(&scaled_catalog(&ds, 1.0, 1.0, 1.02), &ds).unwrap();
    let q = r.field.frequencies.unwrap().all;
    assert_eq!(q.n, S * N);
    for k in 0..3 {
        assert_near(q.relative_mean[k], 0.02, 1e-9, "mean relative");
        assert_near(q.relative_median[k], 0.02, 1e-9, "median relative");
    }
    assert_near(q.relative_mean_overall, 0.02, 1e-9, "overall");
    // Omega_phi is compared with the truth's sign: a flipped sign is an error of 2.
    let mut freq = ds.truth.frequencies.clone().unwrap();
    freq.iter_mut().skip(2).step_by(3).for_each(|w| *w = -*w);
    let mut cat = scaled_catalog(&ds, 1.0, 1.0, 1.0);
    cat.set_column("frequencies", freq).unwrap();
    let q = validate(&cat, &ds).unwrap().field.frequencies.unwrap().all;
    assert_near(q.relative_mean[2], 2.0, 1e-12, "flipped Omega_phi");
    assert_near(q.relative_mean[0], 0.0, 1e-12, "Omega_r");
}

/// A catalog of streams 3 and 1 (as `apply --subset validation` writes) is scored against
/// those streams' truth.
#[test]
fn a_subset_catalog_is_scored_against_its_own_streams() {
    let ds = dataset();
    let full = scaled_catalog(&ds, 1.01, 1.0, 1.02);
    let rows: Vec<usize> = [3, 1].iter().flat_map(|&s| s * N..(s + 1) * N).collect();
    let pick = |v: &[f64], w: usize| -> Vec<f64> {
        rows.iter()
            .flat_map(|&i| v[w * i..w * (i + 1)].to_vec())
            .collect()
    };
    let mut cat = Catalog::new(pick(&full.xv, 6));
    cat.stream = Some(rows.iter().map(|&i| (i / N) as u64).collect());
    for (name, w) in [
        ("actions", 3),
        ("acceleration", 3),
        ("potential", 1),
        ("frequencies", 3),
    ] {
        cat.set_column(name, pick(full.column(name).unwrap(), w)).unwrap();
    }
    let f = validate(&cat, &ds).unwrap().field;
    let a = f.acceleration.unwrap().all;
    assert_eq!(a.n, 2 * N);
    assert_near(a.relative_mean, 0.01, 1e-9, "subset acceleration");
    assert_near(
        f.frequencies.unwrap().all.relative_mean_overall,
        0.02,
        1e-9,
        "subset frequencies",
    );
    assert_near(
        f.potential.unwrap().all.relative_mean,
        0.0,
        1e-12,
        "subset potential",
    );
}

#[test]
fn a_catalog_without_field_columns_is_validated_as_before() {
    let ds = dataset();
    let r = validate(&bare_catalog(&ds), &ds).unwrap();
    let f = r.field;
    assert!(f.acceleration.is_none() && f.potential.is_none() && f.frequencies.is_none());
    assert!(r.actions.is_some());
    assert!(r.missing.is_empty(), "{:?}", r.missing);
    let table = r.to_string();
    assert!(!table.contains("Field"), "{table}");
}

#[test]
fn field_columns_without_truth_are_named_missing() {
    let mut ds = dataset();
    let cat = scaled_catalog(&ds, 1.01, 1.0, 1.0);
    ds.truth.acceleration = None;
    ds.truth.frequencies = None;
    let r: Report = validate(&cat, &ds).unwrap();
    assert!(r.field.acceleration.is_none() && r.field.frequencies.is_none());
    assert!(r.field.potential.is_some());
    for part in ["/truth/acceleration", "/truth/frequencies"] {
        assert!(
            r.missing.iter().any(|m| m.contains(part)),
            "{part}: {:?}",
            r.missing
        );
    }
    assert!(!r.missing.iter().any(|m| m.contains("/truth/potential")));
    assert!(r.to_string().contains("/truth/acceleration"));
}

/// Writes `ds` and `cat` under `dir`, runs `validate` with `extra` arguments and plots into
/// `dir/plots` (replacing earlier plots); returns stdout (asserting success).
fn run_cli(dir: &Path, ds: &StreamsDataset, cat: &Catalog, extra: &[&str]) -> String {
    let (c, t, p) = (dir.join("catalog.h5"), dir.join("truth.h5"), dir.join("plots"));
    ds.write(&t).unwrap();
    cat.write(&c).unwrap();
    let s = |p: &Path| p.display().to_string();
    let (c, t, p) = (s(&c), s(&t), s(&p));
    let mut args = vec!["validate", &c, "--truth", &t, "--plots", &p, "--force"];
    args.extend(extra);
    let out = actionfinder(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_json_and_table_carry_the_field_and_field_png_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset();
    let cat = scaled_catalog(&ds, 1.01, 1.0, 1.02);
    let json: serde_json::Value = serde_json::from_str(&run_cli(dir.path(), &ds, &cat, &["--json"])).unwrap();
    let field = &json["field"];
    let number = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let acc = &field["acceleration"]["trusted"];
    assert_near(number(&acc["relative_mean"]), 0.01, 1e-9, "json acceleration");
    assert_eq!(acc["component_relative_mean"].as_array().map(Vec::len), Some(3));
    assert_near(
        number(&field["potential"]["all"]["relative_mean"]),
        0.0,
        1e-12,
        "json potential",
    );
    assert_near(
        number(&field["potential"]["all"]["offset"]),
        0.0,
        1e-9,
        "json offset",
    );
    let freq = &field["frequencies"]["all"]["relative_mean_overall"];
    assert_near(number(freq), 0.02, 1e-9, "json frequencies");
    assert!(
        is_png(&dir.path().join("plots/field.png")),
        "field.png is not a PNG"
    );
    assert!(json["plots"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p.as_str().unwrap().ends_with("field.png")));
    let table = run_cli(dir.path(), &ds, &cat, &[]);
    for title in [
        "Field: acceleration against truth",
        "Field: potential against truth",
        "Field: frequencies against truth",
    ] {
        assert!(table.contains(title), "{title} not in: {table}");
    }
}

#[test]
fn cli_without_field_columns_has_null_field_parts_and_no_field_png() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset();
    let json: serde_json::Value =
        serde_json::from_str(&run_cli(dir.path(), &ds, &bare_catalog(&ds), &["--json"])).unwrap();
    for part in ["acceleration", "potential", "frequencies"] {
        assert!(json["field"][part].is_null(), "{part}: {}", json["field"]);
    }
    assert!(json["field"].is_object());
    assert_eq!(json["missing"], serde_json::json!([]));
    assert!(!dir.path().join("plots/field.png").exists());
    let notes = json["plot_notes"].to_string();
    assert!(!notes.contains("field.png"), "{notes}");
}

#[test]
fn cli_with_acceleration_but_no_truth_of_it_names_it_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut ds = dataset();
    let cat = scaled_catalog(&ds, 1.01, 1.0, 1.0);
    ds.truth.acceleration = None;
    let json: serde_json::Value = serde_json::from_str(&run_cli(dir.path(), &ds, &cat, &["--json"])).unwrap();
    assert!(json["field"]["acceleration"].is_null());
    assert!(json["field"]["potential"].is_object());
    let missing = json["missing"].to_string();
    assert!(missing.contains("/truth/acceleration"), "{missing}");
    assert!(json["plot_notes"].to_string().contains("field.png"));
    assert!(!dir.path().join("plots/field.png").exists());
}
