//! Streams of different lengths (the ragged layout, `/streams/offsets`): exact round trips,
//! uniform files unchanged, refusals of bad offsets naming the file, the dataset and the
//! cause, and `train`, `apply`, `validate` and `fit-field` on ragged data from the binary.

#[allow(dead_code)]
mod common_cli;

use std::path::{Path, PathBuf};

use actionfinder::catalog::Catalog;
use actionfinder::dataset::{StreamLayout, StreamsDataset, Truth};
use actionfinder_snapshots::h5::{Attr, H5File, H5Writer};
use common_cli::actionfinder;

const ISOCHRONE: &str = "isochrone:M=3.334e11,b=5";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Run the binary; its stdout, or a panic with its stderr.
fn ok(args: &[&str]) -> String {
    let out = actionfinder(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed:\n{err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run the binary expecting a refusal; its stderr.
fn refused(args: &[&str]) -> String {
    let out = actionfinder(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} was accepted:\n{err}");
    err
}

/// Distinct values for `rows` rows of `per` columns.
fn values(rows: usize, per: usize, scale: f64) -> Vec<f64> {
    (0..rows * per).map(|k| scale * (1.0 + k as f64).ln()).collect()
}

/// A dataset of streams of `lengths` points with every optional part filled.
fn full(lengths: &[usize]) -> StreamsDataset {
    let layout = StreamLayout::from_lengths(lengths);
    let p = layout.n_points();
    let xv = (0..6 * p).map(|k| ((k as f64) * 0.731).sin() * 100.0).collect();
    let mut ds = StreamsDataset::from_layout(layout, xv).unwrap();
    ds.t = Some(values(p, 1, 0.01));
    ds.ids = Some((0..lengths.len() as u64).map(|i| (i << 40) + 17).collect());
    let mut actions = values(p, 3, 100.0);
    actions[4] = f64::NAN;
    ds.truth = Truth {
        actions: Some(actions),
        angles: Some(values(p, 3, 0.5)),
        frequencies: Some(values(p, 3, 30.0)),
        acceleration: Some(values(p, 3, -2000.0)),
        potential: Some(values(p, 1, -1.0e5)),
    };
    ds.baselines.insert("staeckel".into(), values(p, 3, 99.0));
    ds.attrs.description = "ragged test dataset".into();
    ds.attrs.potential = ISOCHRONE.into();
    ds.attrs.seed = Some(3);
    ds.attrs.extra.insert("note".into(), Attr::Str("kept".into()));
    ds
}

/// Every array of `a` and `b` equal bit for bit (NaN included).
fn same_bits(a: &StreamsDataset, b: &StreamsDataset) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let parts = |d: &StreamsDataset| {
        let t = &d.truth;
        let mut all = vec![Some(d.xv.clone()), d.t.clone()];
        all.extend(
            [
                &t.actions,
                &t.angles,
                &t.frequencies,
                &t.acceleration,
                &t.potential,
            ]
            .map(Clone::clone),
        );
        all.extend(d.baselines.values().map(|v| Some(v.clone())));
        all.into_iter().map(|v| v.map(|v| bits(&v))).collect::<Vec<_>>()
    };
    assert_eq!(parts(a), parts(b));
    assert_eq!(a.layout(), b.layout());
    assert_eq!((&a.ids, &a.attrs), (&b.ids, &b.attrs));
    assert_eq!(
        a.baselines.keys().collect::<Vec<_>>(),
        b.baselines.keys().collect::<Vec<_>>()
    );
}

#[test]
fn a_ragged_dataset_round_trips_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragged.h5");
    let ds = full(&[2, 5, 1, 3]);
    assert!(ds.layout().is_ragged());
    ds.write(&path).unwrap();
    let back = StreamsDataset::read(&path).unwrap();
    same_bits(&back, &ds);
    assert!(back.truth.actions.as_ref().unwrap()[4].is_nan());
    assert_eq!((back.n_streams(), back.n_points()), (4, 11));
    assert_eq!(back.stream(1), &ds.xv[12..42]);
    assert_eq!(back.stream_times(3).unwrap(), &ds.t.as_ref().unwrap()[8..11]);
    let f = H5File::open(&path).unwrap();
    let shape = |p: &str| f.shape(p).unwrap();
    assert_eq!(f.read_u64("/streams/offsets").unwrap().data, [0, 2, 7, 8, 11]);
    assert_eq!(shape("/streams/xv"), [11, 6]);
    assert_eq!(shape("/streams/t"), [11]);
    assert_eq!(shape("/streams/ids"), [4]);
    assert_eq!(shape("/truth/actions"), [11, 3]);
    assert_eq!(shape("/truth/potential"), [11]);
    assert_eq!(shape("/baseline/staeckel_actions"), [11, 3]);
}

#[test]
fn selecting_ragged_streams_keeps_their_points() {
    let ds = full(&[2, 5, 1, 3]);
    let picked = ds.select(&[3, 1]);
    assert_eq!(picked.layout(), &StreamLayout::from_lengths(&[3, 5]));
    assert_eq!(picked.stream(0), ds.stream(3));
    assert_eq!(picked.stream(1), ds.stream(1));
    assert_eq!(
        picked.truth.potential.as_ref().unwrap()[3..8],
        ds.truth.potential.as_ref().unwrap()[2..7]
    );
    assert_eq!(
        picked.ids.as_ref().unwrap(),
        &[ds.ids.as_ref().unwrap()[3], ds.ids.as_ref().unwrap()[1]]
    );
    let equal = ds.select(&[0, 0]);
    assert_eq!(
        equal.layout(),
        &StreamLayout::uniform(2, 2),
        "equal lengths are uniform again"
    );
}

/// The uniform layout of docs/design.md, built by hand dataset by dataset.
fn uniform_by_hand(ds: &StreamsDataset, path: &Path) {
    let (s, n) = (ds.n_streams(), ds.n_stars());
    let t = &ds.truth;
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", &ds.xv, &[s, n, 6]);
    w.dataset("/streams/t", ds.t.as_ref().unwrap(), &[s, n]);
    w.dataset("/streams/ids", ds.ids.as_ref().unwrap(), &[s]);
    w.attr("/streams/ids", "unit", "particle id of each stream");
    let three = [s, n, 3];
    for (name, data) in [
        ("actions", &t.actions),
        ("angles", &t.angles),
        ("frequencies", &t.frequencies),
        ("acceleration", &t.acceleration),
    ] {
        w.dataset(&format!("/truth/{name}"), data.as_ref().unwrap(), &three);
    }
    w.dataset("/truth/potential", t.potential.as_ref().unwrap(), &[s, n]);
    w.dataset("/baseline/staeckel_actions", &ds.baselines["staeckel"], &three);
    for (path, unit, order) in actionfinder::dataset::LAYOUT {
        let path = path.replace('*', "staeckel");
        let path = path.as_str();
        w.attr(path, "unit", unit);
        if let Some(order) = order {
            w.attr(path, "component_order", order);
        }
    }
    let a = &ds.attrs;
    w.attr("/", "note", Attr::Str("kept".into()))
        .attr("/", "description", a.description.as_str())
        .attr("/", "potential", a.potential.as_str())
        .attr("/", "source", a.source.as_str())
        .attr("/", "component_order", "r,z,phi")
        .attr("/", "G", 4.300917270e-6)
        .attr("/", "seed", 3u64);
    for (name, unit) in actionfinder::dataset::ROOT_UNITS {
        w.attr("/", name, unit);
    }
    w.attr("/", "n_streams", s as u64).attr("/", "n_stars", n as u64);
    w.write(path).unwrap();
}

#[test]
fn streams_of_equal_length_are_written_uniform_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let ds = full(&[3, 3, 3]);
    assert_eq!(ds.layout(), &StreamLayout::uniform(3, 3));
    let (ours, by_hand) = (dir.path().join("ours.h5"), dir.path().join("by_hand.h5"));
    ds.write(&ours).unwrap();
    uniform_by_hand(&ds, &by_hand);
    let f = H5File::open(&ours).unwrap();
    assert!(!f.exists("/streams/offsets"));
    assert_eq!(f.shape("/streams/xv").unwrap(), [3, 3, 6]);
    assert_eq!(f.shape("/truth/potential").unwrap(), [3, 3]);
    assert!(
        std::fs::read(&ours).unwrap() == std::fs::read(&by_hand).unwrap(),
        "the uniform file differs from the documented uniform layout"
    );
    same_bits(&StreamsDataset::read(&ours).unwrap(), &ds);
}

#[test]
fn a_ragged_file_of_equal_streams_reads_as_uniform() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("equal.h5");
    let xv: Vec<f64> = (0..4 * 6).map(f64::from).collect();
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", &xv, &[4, 6]);
    w.dataset("/streams/offsets", &[0u64, 2, 4][..], &[3]);
    w.dataset("/streams/t", &[0.0, 0.1, 0.0, 0.2][..], &[4]);
    w.write(&path).unwrap();
    let ds = StreamsDataset::read(&path).unwrap();
    assert_eq!(ds.layout(), &StreamLayout::uniform(2, 2));
    assert_eq!(ds.stream_times(1).unwrap(), &[0.0, 0.2]);
}

/// A file of `P` points with `offsets` (and `extra` datasets): the error reading it.
fn read_error(dir: &Path, offsets: &[u64], p: usize, extra: &[(&str, Vec<f64>, Vec<usize>)]) -> String {
    let path = dir.join("bad.h5");
    let xv: Vec<f64> = (0..p * 6).map(|k| 1.0 + k as f64).collect();
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", &xv, &[p, 6]);
    w.dataset("/streams/offsets", offsets, &[offsets.len()]);
    for (name, data, shape) in extra {
        w.dataset(name, data, shape);
    }
    w.write(&path).unwrap();
    let e = StreamsDataset::read(&path).unwrap_err().to_string();
    assert!(e.contains(s(&path)), "the file is named: {e}");
    e
}

#[test]
fn bad_offsets_are_refused_naming_the_file_the_dataset_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&[u64], &str); 5] = [
        (&[1, 3, 5], "offsets[0] = 0"),
        (&[0, 4, 2, 5], "offsets[1] = 4 > offsets[2] = 2"),
        (&[0, 2, 4], "a last offset equal to P = 5"),
        (&[0, 2, 2, 5], "stream 1 has no points"),
        (&[], "S+1 offsets"),
    ];
    for (offsets, cause) in cases {
        let e = read_error(d, offsets, 5, &[]);
        assert!(
            e.contains("/streams/offsets") && e.contains(cause),
            "{offsets:?}: {e}"
        );
    }
    let t = ("/streams/t", vec![0.0; 4], vec![4]);
    let e = read_error(d, &[0, 2, 5], 5, &[t]);
    assert!(e.contains("/streams/t") && e.contains("[P=5]"), "{e}");
    let actions = ("/truth/actions", vec![0.0; 18], vec![6, 3]);
    let e = read_error(d, &[0, 2, 5], 5, &[actions]);
    assert!(e.contains("/truth/actions") && e.contains("P=5"), "{e}");
    let uniform_shaped = ("/baseline/x_actions", vec![0.0; 15], vec![1, 5, 3]);
    let e = read_error(d, &[0, 2, 5], 5, &[uniform_shaped]);
    assert!(e.contains("/baseline/x_actions"), "{e}");
    let path = d.join("rows.h5");
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", &[1.0; 12][..], &[2, 6]);
    w.write(&path).unwrap();
    let e = StreamsDataset::read(&path).unwrap_err().to_string();
    assert!(e.contains(s(&path)) && e.contains("no /streams/offsets"), "{e}");
}

/// A ragged streams dataset of real orbits: `generate` (times, truth, a Staeckel baseline)
/// with streams cut to their first `lengths[s]` points.
fn ragged_orbits(dir: &Path, streams: usize, lengths: impl Fn(usize) -> usize) -> PathBuf {
    let uniform = dir.join("uniform.h5");
    let n = "8";
    let count = streams.to_string();
    ok(&[
        "generate",
        "--potential",
        ISOCHRONE,
        "--streams",
        &count,
        "--stars",
        n,
        "--seed",
        "5",
        "--out",
        s(&uniform),
    ]);
    let ds = StreamsDataset::read(&uniform).unwrap();
    let cut = cut_streams(&ds, &(0..streams).map(lengths).collect::<Vec<_>>());
    let path = dir.join("ragged.h5");
    cut.write(&path).unwrap();
    path
}

/// The first `lengths[s]` points of every stream `s` of the uniform `ds`.
fn cut_streams(ds: &StreamsDataset, lengths: &[usize]) -> StreamsDataset {
    let layout = StreamLayout::from_lengths(lengths);
    let rows: Vec<usize> = (0..ds.n_streams())
        .flat_map(|s| ds.layout().rows(s).take(lengths[s]))
        .collect();
    let take = |v: &[f64], per: usize| -> Vec<f64> {
        rows.iter()
            .flat_map(|&r| v[per * r..per * (r + 1)].to_vec())
            .collect()
    };
    let mut out = StreamsDataset::from_layout(layout, take(&ds.xv, 6)).unwrap();
    out.t = ds.t.as_deref().map(|t| take(t, 1));
    let t = &ds.truth;
    out.truth = Truth {
        actions: t.actions.as_deref().map(|v| take(v, 3)),
        angles: t.angles.as_deref().map(|v| take(v, 3)),
        frequencies: t.frequencies.as_deref().map(|v| take(v, 3)),
        acceleration: t.acceleration.as_deref().map(|v| take(v, 3)),
        potential: t.potential.as_deref().map(|v| take(v, 1)),
    };
    out.baselines = ds
        .baselines
        .iter()
        .map(|(k, v)| (k.clone(), take(v, 3)))
        .collect();
    out.ids = ds.ids.clone();
    out.attrs = ds.attrs.clone();
    out
}

const SMALL_NET: [&str; 10] = [
    "--epochs",
    "6",
    "--width",
    "16",
    "--max-width",
    "16",
    "--batch-streams",
    "8",
    "--lr",
    "3e-3",
];

#[test]
fn a_ragged_dataset_trains_applies_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let data = ragged_orbits(dir.path(), 40, |s| 2 + s % 7);
    let ds = StreamsDataset::read(&data).unwrap();
    assert!(ds.layout().is_ragged() && ds.layout().length_range() == (2, 8));
    let p = ds.n_points();
    let model = dir.path().join("model");
    let mut args = vec!["train", s(&data), "--out", s(&model)];
    args.extend(SMALL_NET);
    let summary = ok(&args);
    assert!(summary.contains("trained 6 epochs"), "{summary}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    let data_record = &json["training"]["data"];
    assert_eq!(data_record["stars"], 8, "the longest stream: {data_record}");
    let catalog = dir.path().join("catalog.h5");
    ok(&["apply", s(&model), s(&data), "--out", s(&catalog)]);
    let cat = Catalog::read(&catalog).unwrap();
    assert_eq!(cat.len(), p);
    assert_eq!(
        cat.stream.as_ref().unwrap(),
        &ds.layout()
            .stream_of_rows()
            .iter()
            .map(|&s| s as u64)
            .collect::<Vec<_>>()
    );
    let actions = cat.column("actions").unwrap();
    let finite = actions
        .chunks_exact(3)
        .filter(|j| j.iter().all(|x| x.is_finite()))
        .count();
    assert!(finite >= p * 9 / 10, "{finite} of {p} points have actions");
    let spread = cat.column("action_spread").unwrap();
    assert!(
        spread[0] == spread[1] && spread[1] != spread[2],
        "per stream: {:?}",
        &spread[..4]
    );
    let report = validate_json(&catalog, &data);
    assert_eq!(report["points"], p);
    assert_eq!(report["stream_lengths"], serde_json::json!([2, 8]));
    let error = report["actions"]["all"]["mean_abs_overall"].as_f64().unwrap();
    assert!(
        error.is_finite() && error > 0.0 && error < 500.0,
        "mean |dJ| {error}"
    );
    let truth_row = report["conservation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "truth")
        .unwrap();
    assert!(
        truth_row["all"]["overall"].as_f64().unwrap() < 1e-6,
        "{truth_row}"
    );
    assert_eq!(truth_row["all"]["n_streams"], 40);
    let held_out = dir.path().join("held_out.h5");
    ok(&[
        "apply",
        s(&model),
        s(&data),
        "--out",
        s(&held_out),
        "--subset",
        "validation",
    ]);
    let report = validate_json(&held_out, &data);
    let split: Vec<u64> = serde_json::from_value(json["training"]["split"]["validation"].clone()).unwrap();
    let held: usize = split.iter().map(|&s| ds.layout().len(s as usize)).sum();
    assert_eq!(report["points"], held, "the held-out streams' own points");
}

/// `validate --json` of `catalog` against `truth`.
fn validate_json(catalog: &Path, truth: &Path) -> serde_json::Value {
    let plots = catalog.with_extension("plots");
    let out = ok(&[
        "validate",
        s(catalog),
        "--truth",
        s(truth),
        "--json",
        "--plots",
        s(&plots),
    ]);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_field_pass_learns_from_ragged_streams() {
    let dir = tempfile::tempdir().unwrap();
    let data = ragged_orbits(dir.path(), 24, |s| 3 + s % 6);
    let model = dir.path().join("model");
    let mut args = vec!["train", s(&data), "--out", s(&model), "--field"];
    args.extend(SMALL_NET);
    args.extend([
        "--field-epochs",
        "3",
        "--field-width",
        "16",
        "--frequency-weight",
        "0.1",
    ]);
    let out = ok(&args);
    assert!(out.contains("trained 6 epochs"), "{out}");
    let catalog = dir.path().join("catalog.h5");
    ok(&["apply", s(&model), s(&data), "--out", s(&catalog)]);
    let cat = Catalog::read(&catalog).unwrap();
    let a = cat.column("acceleration").unwrap();
    assert_eq!(a.len(), 3 * StreamsDataset::read(&data).unwrap().n_points());
    assert!(a.iter().filter(|x| x.is_finite()).count() > a.len() / 2);
}

#[test]
fn training_refuses_streams_of_one_point_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = ragged_orbits(dir.path(), 12, |s| if s % 5 == 1 { 1 } else { 4 });
    let err = refused(&["train", s(&data), "--out", s(&dir.path().join("m"))]);
    assert!(
        err.contains(s(&data)) && err.contains("/streams/offsets") && err.contains("streams 1, 6, 11"),
        "{err}"
    );
    assert!(err.contains("fewer than 2 points"), "{err}");
}

#[test]
fn the_fixed_point_of_ragged_streams_is_each_streams_own() {
    use actionfinder::model::fixed_point::{self, FixedPoint};
    use actionfinder::model::{Model, ModelConfig};
    use actionfinder::nn::{Activation, MlpSpec};
    use candle_core::Device;
    let dir = tempfile::tempdir().unwrap();
    let ds = StreamsDataset::read(ragged_orbits(dir.path(), 6, |s| 2 + s)).unwrap();
    let spec = |inputs, outputs| MlpSpec {
        inputs,
        outputs,
        widths: vec![16, 16],
        activation: Activation::Silu,
    };
    let config = ModelConfig {
        g: spec(9, 1),
        p: spec(6, 3),
        axisymmetric: false,
        length_scale: 10.0,
        velocity_scale: 200.0,
        toy_m: 3.0e11,
        toy_b: 4.0,
        toy_trained: false,
        component_scales: [1.0; 3],
    };
    let model = Model::new(config, &Device::Cpu, 5).unwrap();
    let nets = model.nets().unwrap().detach();
    let scale = model.config.action_scale();
    let rule = FixedPoint {
        tol: 1e-13,
        max_iter: 400,
    };
    let solve = |xv: &[f64], layout: &StreamLayout| {
        let pts = model.toy.evaluate(xv).unwrap();
        let t = model.toy.tensors(&pts, scale, &Device::Cpu).unwrap();
        let init = vec![0.5; 3 * layout.n_streams()];
        fixed_point::solve_streams(&nets, &t.angles, &t.actions, layout, &init, rule).unwrap()
    };
    let all = solve(&ds.xv, ds.layout());
    assert!(all.converged.iter().all(|&c| c), "{:?}", all.residual);
    for s in 0..ds.n_streams() {
        let alone = solve(ds.stream(s), &StreamLayout::uniform(1, ds.layout().len(s)));
        for k in 0..3 {
            let (a, b) = (all.j_prime[3 * s + k], alone.j_prime[k]);
            assert!(
                (a - b).abs() <= 1e-10 * (1.0 + b.abs()),
                "stream {s}, J'_{k}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn validate_judges_ragged_catalogs_row_by_row() {
    use actionfinder::validate::validate;
    let mut ds = full(&[2, 5, 1, 3]);
    ds.truth.actions = Some(values(11, 3, 100.0));
    let catalog = |rows: &[usize]| {
        let mut cat = Catalog::new(
            rows.iter()
                .flat_map(|&r| ds.xv[6 * r..6 * r + 6].to_vec())
                .collect(),
        );
        let stream_of = ds.layout().stream_of_rows();
        cat.stream = Some(rows.iter().map(|&r| stream_of[r] as u64).collect());
        let truth = ds.truth.actions.as_ref().unwrap();
        let actions = rows
            .iter()
            .flat_map(|&r| truth[3 * r..3 * r + 3].iter().map(|j| j + 1.0))
            .collect();
        cat.set_column("actions", actions).unwrap();
        cat
    };
    let report = validate(&catalog(&(0..11).collect::<Vec<_>>()), &ds).unwrap();
    assert_eq!((report.points, report.stream_lengths), (11, Some([1, 5])));
    let errors = report.actions.unwrap().all;
    assert!((errors.mean_abs_overall - 1.0).abs() < 1e-9, "{errors:?}");
    let truth_row = report.conservation.iter().find(|r| r.name == "truth").unwrap();
    assert_eq!(
        truth_row.value.all.n_streams, 3,
        "the one-point stream is left out"
    );
    assert!(
        report.missing.iter().any(|m| m.contains("one point")),
        "{:?}",
        report.missing
    );
    let subset = validate(&catalog(&[8, 9, 10, 0, 1]), &ds).unwrap();
    assert_eq!((subset.points, subset.n_streams), (5, 2));
    let e = validate(&catalog(&(0..10).collect::<Vec<_>>()), &ds)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("10 rows") && e.contains("4 streams of 1 to 5 points (11 in all)"),
        "{e}"
    );
    let mut shuffled = catalog(&(0..11).collect::<Vec<_>>());
    shuffled.stream.as_mut().unwrap()[2] = 0;
    let e = validate(&shuffled, &ds).unwrap_err().to_string();
    assert!(e.contains("row 2 is 0, expected 1"), "{e}");
}
