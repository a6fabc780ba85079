//! The catalog file: round trip, partial contents, clear errors.

use actionfinder::catalog::Catalog;
use actionfinder::points::Points;
use actionfinder_snapshots::h5::H5Writer;

fn sample(n: usize) -> Catalog {
    let xv: Vec<f64> = (0..6 * n).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
    let mut c = Catalog::new(xv);
    c.ids = Some((100..100 + n as u64).collect());
    c.stream = Some((0..n as u64).map(|i| i / 2).collect());
    c.set_column("actions", (0..3 * n).map(|i| i as f64).collect())
        .unwrap();
    c.set_column("action_spread", vec![0.5; n]).unwrap();
    c.flag = Some((0..n as u32).map(|i| i % 2).collect());
    c.attrs.description = "test catalog".into();
    c.attrs.potential = "plummer:M=1e10,a=1".into();
    c.attrs.extra.insert("method".into(), "spherical".into());
    c
}

#[test]
fn round_trip_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cat.h5");
    let c = sample(7);
    c.write(&path).unwrap();
    let back = Catalog::read(&path).unwrap();
    assert_eq!(back, c);
    let points = Points::read(&path).unwrap();
    assert_eq!(points.len(), 7);
    assert_eq!(points.ids, c.ids);
}

#[test]
fn wrong_lengths_are_refused() {
    let mut c = sample(3);
    assert!(c.set_column("actions", vec![1.0; 8]).is_err());
    assert!(c.set_column("nonsense", vec![1.0; 3]).is_err());
    c.ids = Some(vec![1, 2]);
    let dir = tempfile::tempdir().unwrap();
    let err = c.write(dir.path().join("x.h5")).unwrap_err().to_string();
    assert!(err.contains("/particles/ids"), "{err}");
}

#[test]
fn a_file_that_is_neither_dataset_nor_catalog_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.h5");
    let mut w = H5Writer::new();
    w.dataset("/something/else", vec![1.0f64, 2.0], &[2]);
    w.write(&path).unwrap();
    let err = Points::read(&path).unwrap_err().to_string();
    assert!(err.contains("other.h5") && err.contains("/particles/xv"), "{err}");
    let err = Points::read(dir.path().join("missing.h5"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.h5"), "{err}");
}
