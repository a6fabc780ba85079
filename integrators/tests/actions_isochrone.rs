//! The exact isochrone action finder, both directions, and its Jacobian.
//!
//! * against galpy 1.12.1 (`tests/data/galpy_reference.h5`): `actions/isochrone` (2000 points,
//!   `xv` -> `actions`, `angles`, `frequencies`) and `actions/isochrone_inverse` (500 points,
//!   `actions` + `angles` -> `xv`), M and b in each group's attributes;
//! * round trip (x, v) -> (J, theta) -> (x, v) to 1e-10 relative to |x| and |v| (proptest);
//! * the Jacobian d(J, theta)/d(x, v, M, b) against central finite differences;
//! * degenerate orbits (L_z = 0, L = 0, z axis, circular, equatorial, the centre) without NaN;
//!   unbound and non-finite points as errors, NaN plus flag in batches;
//! * per-point times, printed (`cargo test --release --test actions_isochrone -- --nocapture`).

use actionfinder_integrators::actions::{
    find_batch, isochrone_jacobians, ActionAngle, ActionError, ActionFinder, Flag, IsochroneFinder,
    IsochroneJacobian,
};
use actionfinder_integrators::potential::{Isochrone, SphericalProfile};
use actionfinder_integrators::units::G;
use actionfinder_integrators::PhaseSpace;
use hdf5_pure::File;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use std::f64::consts::{PI, TAU};
use std::hint::black_box;
use std::time::Instant;

/// Tolerance against galpy: relative for actions, frequencies and (inverse) x, v; rad for angles.
const TOL_GALPY: f64 = 1e-9;
/// Round-trip tolerance, relative to |x| and |v|.
const TOL_ROUND_TRIP: f64 = 1e-10;
/// Jacobian vs central differences, relative to the entry plus the row's natural size.
const TOL_JACOBIAN: f64 = 1e-6;

fn reference() -> File {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/galpy_reference.h5");
    File::open(path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"))
}

/// Dataset `actions/{group}/{name}` with `cols` columns: its rows.
fn table(file: &File, group: &str, name: &str, cols: usize) -> Vec<Vec<f64>> {
    let path = format!("actions/{group}/{name}");
    let d = file.dataset(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let shape = d.shape().unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(shape.len(), 2, "{path}: shape {shape:?}");
    assert_eq!(shape[1], cols as u64, "{path}: shape {shape:?}");
    let data = d.read_f64().unwrap_or_else(|e| panic!("{path}: {e}"));
    data.chunks_exact(cols).map(|r| r.to_vec()).collect()
}

/// The finder for the group's attributes M and b.
fn finder_for(file: &File, group: &str) -> IsochroneFinder {
    let attrs = file
        .group(&format!("actions/{group}"))
        .and_then(|g| g.attrs())
        .unwrap_or_else(|e| panic!("actions/{group}: {e}"));
    let get = |n: &str| {
        attrs
            .get(n)
            .and_then(|v| v.as_f64())
            .unwrap_or_else(|| panic!("actions/{group}: attribute {n} missing"))
    };
    IsochroneFinder::new(get("M"), get("b")).unwrap_or_else(|e| panic!("{e}"))
}

fn point(row: &[f64]) -> PhaseSpace {
    PhaseSpace::new([row[0], row[1], row[2]], [row[3], row[4], row[5]])
}

/// |a - b| for angles, modulo 2 pi, in [0, pi].
fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(TAU);
    d.min(TAU - d)
}

/// Signed difference a - b of angles, in (-pi, pi].
fn angle_delta(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(TAU);
    if d > PI {
        d - TAU
    } else {
        d
    }
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

fn norm(a: &[f64; 3]) -> f64 {
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt()
}

fn dist(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    norm(&[a[0] - b[0], a[1] - b[1], a[2] - b[2]])
}

/// Largest value and where it occurred.
#[derive(Default)]
struct Worst {
    value: f64,
    at: usize,
}

impl Worst {
    fn update(&mut self, value: f64, at: usize) {
        if value > self.value || value.is_nan() {
            self.value = if value.is_nan() { f64::INFINITY } else { value };
            self.at = at;
        }
    }
}

#[test]
fn forward_matches_galpy_table() {
    let file = reference();
    let finder = finder_for(&file, "isochrone");
    let xv = table(&file, "isochrone", "xv", 6);
    let want_j = table(&file, "isochrone", "actions", 3);
    let want_a = table(&file, "isochrone", "angles", 3);
    let want_f = table(&file, "isochrone", "frequencies", 3);
    assert_eq!(xv.len(), 2000);
    let (mut wj, mut wa, mut wf) = (Worst::default(), Worst::default(), Worst::default());
    for (i, row) in xv.iter().enumerate() {
        let aa = finder
            .action_angle(&point(row))
            .unwrap_or_else(|e| panic!("point {i}: {e}"));
        for k in 0..3 {
            wj.update(rel(aa.actions[k], want_j[i][k]), i);
            wa.update(angle_diff(aa.angles[k], want_a[i][k]), i);
            wf.update(rel(aa.frequencies[k], want_f[i][k]), i);
            assert!(
                (0.0..TAU).contains(&aa.angles[k]),
                "point {i}: angle {k} = {}",
                aa.angles[k]
            );
        }
    }
    println!(
        "isochrone vs galpy (2000 points): actions max rel {:.2e} (point {}), angles max abs {:.2e} rad \
         (point {}), frequencies max rel {:.2e} (point {})",
        wj.value, wj.at, wa.value, wa.at, wf.value, wf.at
    );
    assert!(
        wj.value <= TOL_GALPY,
        "actions: max rel. error {:.3e} at point {}",
        wj.value,
        wj.at
    );
    assert!(
        wa.value <= TOL_GALPY,
        "angles: max error {:.3e} rad at point {}",
        wa.value,
        wa.at
    );
    assert!(
        wf.value <= TOL_GALPY,
        "frequencies: max rel. error {:.3e} at point {}",
        wf.value,
        wf.at
    );
}

#[test]
fn inverse_matches_galpy_table() {
    let file = reference();
    let finder = finder_for(&file, "isochrone_inverse");
    let actions = table(&file, "isochrone_inverse", "actions", 3);
    let angles = table(&file, "isochrone_inverse", "angles", 3);
    let want = table(&file, "isochrone_inverse", "xv", 6);
    assert_eq!(want.len(), 500);
    let (mut wx, mut wv) = (Worst::default(), Worst::default());
    for i in 0..want.len() {
        let j = [actions[i][0], actions[i][1], actions[i][2]];
        let th = [angles[i][0], angles[i][1], angles[i][2]];
        let w = finder
            .phase_space(j, th)
            .unwrap_or_else(|e| panic!("point {i}: {e}"));
        let r = point(&want[i]);
        wx.update(dist(&w.x, &r.x) / norm(&r.x), i);
        wv.update(dist(&w.v, &r.v) / norm(&r.v), i);
    }
    println!(
        "isochrone inverse vs galpy (500 points): x max rel {:.2e} (point {}), v max rel {:.2e} (point {})",
        wx.value, wx.at, wv.value, wv.at
    );
    assert!(
        wx.value <= TOL_GALPY,
        "x: max rel. error {:.3e} at point {}",
        wx.value,
        wx.at
    );
    assert!(
        wv.value <= TOL_GALPY,
        "v: max rel. error {:.3e} at point {}",
        wv.value,
        wv.at
    );
}

/// A bound point of the isochrone (M, b) = (3.334e11, 5): radius `r`, unit directions from
/// `dx`, `dv` (not normalised), speed `f` times the local escape speed.
fn bound_point(r: f64, dx: [f64; 3], dv: [f64; 3], f: f64) -> PhaseSpace {
    let pot = Isochrone::new(3.334e11, 5.0).unwrap();
    let vesc = (-2.0 * pot.phi(r)).sqrt();
    let (nx, nv) = (norm(&dx), norm(&dv));
    PhaseSpace::new(dx.map(|c| r * c / nx), dv.map(|c| f * vesc * c / nv))
}

/// Round trip of one point: (relative x error, relative v error, the actions).
fn round_trip(finder: &IsochroneFinder, w: &PhaseSpace) -> (f64, f64, ActionAngle) {
    let aa = finder.action_angle(w).unwrap_or_else(|e| panic!("{w:?}: {e}"));
    let back = finder
        .phase_space(aa.actions, aa.angles)
        .unwrap_or_else(|e| panic!("{w:?}: {e}"));
    (
        dist(&back.x, &w.x) / norm(&w.x),
        dist(&back.v, &w.v) / norm(&w.v),
        aa,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    #[test]
    fn round_trip_random_bound_points(
        dx in prop::array::uniform3(-1.0..1.0f64),
        dv in prop::array::uniform3(-1.0..1.0f64),
        r in 0.05..60.0f64,
        f in 0.01..0.99f64,
    ) {
        prop_assume!(norm(&dx) > 1e-3 && norm(&dv) > 1e-3);
        let finder = IsochroneFinder::new(3.334e11, 5.0).unwrap();
        let w = bound_point(r, dx, dv, f);
        let (ex, ev, aa) = round_trip(&finder, &w);
        prop_assert!(ex <= TOL_ROUND_TRIP && ev <= TOL_ROUND_TRIP,
            "x rel {ex:.3e}, v rel {ev:.3e} at {w:?} (J = {:?}, theta = {:?})", aa.actions, aa.angles);
    }
}

/// Central differences of (J, theta) with respect to input `j` (x, y, z, vx, vy, vz, M, b),
/// with step `h`; angle differences taken modulo 2 pi.
fn central_difference(m: f64, b: f64, w: &PhaseSpace, j: usize, h: f64) -> [f64; 6] {
    let eval = |sign: f64| {
        let (mut row, mut mb) = (w.to_row(), [m, b]);
        if j < 6 {
            row[j] += sign * h;
        } else {
            mb[j - 6] += sign * h;
        }
        let finder = IsochroneFinder::new(mb[0], mb[1]).unwrap();
        finder.action_angle(&PhaseSpace::from_row(&row)).unwrap()
    };
    let (p, n) = (eval(1.0), eval(-1.0));
    let mut out = [0.0; 6];
    for k in 0..3 {
        out[k] = (p.actions[k] - n.actions[k]) / (2.0 * h);
        out[k + 3] = angle_delta(p.angles[k], n.angles[k]) / (2.0 * h);
    }
    out
}

/// Max over entries of |AD - FD| / (|AD| + row size / input scale), the row size being
/// max_j |AD_ij| scale_j: the change of that output under a relative change of the inputs.
fn jacobian_error(m: f64, b: f64, w: &PhaseSpace) -> f64 {
    let finder = IsochroneFinder::new(m, b).unwrap();
    let (aa, IsochroneJacobian(jac)) = finder.with_jacobian(w).unwrap();
    // Same code as the f64 path; num-dual's arithmetic may round differently in the last bit.
    let plain = finder.action_angle(w).unwrap();
    for k in 0..3 {
        assert!(
            rel(aa.actions[k], plain.actions[k]) < 1e-13,
            "{aa:?} vs {plain:?}"
        );
        assert!(
            angle_diff(aa.angles[k], plain.angles[k]) < 1e-13,
            "{aa:?} vs {plain:?}"
        );
    }
    let scales = [
        norm(&w.x),
        norm(&w.x),
        norm(&w.x),
        norm(&w.v),
        norm(&w.v),
        norm(&w.v),
        m,
        b,
    ];
    let fd: Vec<[f64; 6]> = (0..8)
        .map(|j| central_difference(m, b, w, j, 1e-6 * scales[j]))
        .collect();
    let mut worst: f64 = 0.0;
    for (i, row) in jac.iter().enumerate() {
        let size = row
            .iter()
            .zip(&scales)
            .map(|(d, s)| (d * s).abs())
            .fold(0.0, f64::max);
        for j in 0..8 {
            let err = (row[j] - fd[j][i]).abs() / (row[j].abs() + size / scales[j]);
            assert!(
                err <= TOL_JACOBIAN,
                "d out{i}/d in{j}: AD {:e}, FD {:e} (rel {err:.2e}) at {w:?}",
                row[j],
                fd[j][i]
            );
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn jacobian_matches_finite_differences() {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(20261127);
    let mut worst: f64 = 0.0;
    let mut tested = 0;
    while tested < 40 {
        let d = |rng: &mut rand_pcg::Pcg64| [0, 1, 2].map(|_| rng.random_range(-1.0..1.0));
        let (dx, dv) = (d(&mut rng), d(&mut rng));
        let w = bound_point(rng.random_range(0.3..40.0), dx, dv, rng.random_range(0.1..0.9));
        let (m, b) = (rng.random_range(1e11..1e12), rng.random_range(1.0..10.0));
        let finder = IsochroneFinder::new(m, b).unwrap();
        // Away from circular, radial and equatorial orbits, where angles are not differentiable.
        let Ok(aa) = finder.action_angle(&w) else { continue };
        let l = aa.actions[1] + aa.actions[2].abs();
        if aa.actions[0] < 0.05 * l || aa.actions[1] < 0.05 * l || aa.actions[2].abs() < 0.05 * l {
            continue;
        }
        worst = worst.max(jacobian_error(m, b, &w));
        tested += 1;
    }
    println!("Jacobian vs central differences, 40 points: max scaled error {worst:.2e}");
}

#[test]
fn jacobian_batch_matches_single_points() {
    let file = reference();
    let finder = finder_for(&file, "isochrone");
    let mut xv: Vec<f64> = table(&file, "isochrone", "xv", 6)
        .into_iter()
        .take(100)
        .flatten()
        .collect();
    xv[6 * 7 + 3] = 1e4; // unbound
    xv[6 * 9] = f64::NAN;
    let (mut values, mut jac) = (vec![0.0; xv.len()], vec![0.0; 8 * xv.len()]);
    let flags = isochrone_jacobians(finder.m(), finder.b(), &xv, &mut values, &mut jac);
    assert_eq!(flags.len(), 100);
    for (i, row) in xv.chunks_exact(6).enumerate() {
        let w = PhaseSpace::from_row(&[row[0], row[1], row[2], row[3], row[4], row[5]]);
        match finder.with_jacobian(&w) {
            Ok((aa, IsochroneJacobian(d))) => {
                assert_eq!(flags[i], Flag::Ok);
                assert_eq!(&values[6 * i..6 * i + 3], &aa.actions);
                assert_eq!(&values[6 * i + 3..6 * i + 6], &aa.angles);
                let flat: Vec<f64> = d.iter().flatten().copied().collect();
                assert_eq!(&jac[48 * i..48 * (i + 1)], &flat[..]);
            }
            Err(e) => {
                assert_eq!(flags[i], Flag::from(&e), "row {i}");
                assert!(values[6 * i..6 * i + 6].iter().all(|v| v.is_nan()));
                assert!(jac[48 * i..48 * (i + 1)].iter().all(|v| v.is_nan()));
            }
        }
    }
    assert_eq!(flags[7], Flag::Unbound);
    assert_eq!(flags[9], Flag::NonFinite);
    // Lengths that do not fit and invalid parameters: every row flagged, NaN, no panic.
    let flags = isochrone_jacobians(finder.m(), finder.b(), &xv, &mut values[..6], &mut jac);
    assert!(flags.iter().all(|&f| f == Flag::Unsupported) && flags.len() == 100);
    assert!(values[..6].iter().all(|v| v.is_nan()));
    let flags = isochrone_jacobians(-1.0, 5.0, &xv[..12], &mut values[..12], &mut jac[..96]);
    assert_eq!(flags, vec![Flag::Unsupported; 2]);
}

/// The finite, consistent answer expected at a degenerate point, and its round trip.
fn check_degenerate(name: &str, w: PhaseSpace) -> ActionAngle {
    let finder = IsochroneFinder::new(3.334e11, 5.0).unwrap();
    let aa = finder.action_angle(&w).unwrap_or_else(|e| panic!("{name}: {e}"));
    let all = aa.actions.iter().chain(&aa.angles).chain(&aa.frequencies);
    assert!(all.clone().all(|v| v.is_finite()), "{name}: {aa:?}");
    assert!(aa.angles.iter().all(|a| (0.0..TAU).contains(a)), "{name}: {aa:?}");
    let back = finder
        .phase_space(aa.actions, aa.angles)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let scale_x = norm(&w.x).max(1e-300);
    let scale_v = norm(&w.v).max(1e-300);
    let (ex, ev) = (dist(&back.x, &w.x) / scale_x, dist(&back.v, &w.v) / scale_v);
    println!("{name:28} round trip: x rel {ex:.1e}, v rel {ev:.1e}");
    assert!(
        ex <= TOL_ROUND_TRIP || norm(&w.x) == 0.0,
        "{name}: x {:?} -> {:?}",
        w.x,
        back.x
    );
    assert!(
        ev <= TOL_ROUND_TRIP || norm(&w.v) == 0.0,
        "{name}: v {:?} -> {:?}",
        w.v,
        back.v
    );
    aa
}

#[test]
fn degenerate_orbits_are_finite_and_round_trip() {
    let gm = G * 3.334e11;
    let polar = check_degenerate(
        "L_z = 0 (polar)",
        PhaseSpace::new([6.0, 0.0, 2.0], [30.0, 0.0, 150.0]),
    );
    assert_eq!(polar.actions[2], 0.0);
    assert_eq!(polar.frequencies[2], polar.frequencies[1]);
    let radial = check_degenerate(
        "L = 0 (radial)",
        PhaseSpace::new([3.0, -4.0, 5.0], [-30.0, 40.0, -50.0]),
    );
    let sgb = (gm * 5.0).sqrt();
    let lambda = radial.actions[0] + sgb;
    assert_eq!(&radial.actions[1..], &[0.0, 0.0]);
    assert!(rel(radial.frequencies[0], gm * gm / lambda.powi(3)) < 1e-14);
    assert!(rel(radial.frequencies[1], 0.5 * radial.frequencies[0]) < 1e-14);
    check_degenerate(
        "on the z axis",
        PhaseSpace::new([0.0, 0.0, 5.0], [100.0, 50.0, 20.0]),
    );
    check_degenerate(
        "radial along the z axis",
        PhaseSpace::new([0.0, 0.0, -5.0], [0.0, 0.0, 80.0]),
    );
    check_degenerate(
        "through the centre",
        PhaseSpace::new([0.0; 3], [120.0, -50.0, 30.0]),
    );
    check_degenerate(
        "equatorial prograde",
        PhaseSpace::new([8.0, 1.0, 0.0], [50.0, 150.0, 0.0]),
    );
    check_degenerate(
        "equatorial retrograde",
        PhaseSpace::new([8.0, 1.0, 0.0], [50.0, -150.0, 0.0]),
    );
    let finder = IsochroneFinder::new(3.334e11, 5.0).unwrap();
    let rest = finder.action_angle(&PhaseSpace::new([0.0; 3], [0.0; 3])).unwrap();
    assert!(rest.actions.iter().all(|&j| j.abs() < 1e-12 * sgb), "{rest:?}");
    assert!(
        rest.angles.iter().chain(&rest.frequencies).all(|v| v.is_finite()),
        "{rest:?}"
    );
}

/// Circular orbits: J_r = 0 and the frequencies are the circular and epicyclic ones,
/// Omega_z = Omega_phi = v_c / r, Omega_r = kappa = sqrt(Phi'' + 3 Phi'/r).
#[test]
fn circular_orbits_have_epicyclic_frequencies() {
    let pot = Isochrone::new(3.334e11, 5.0).unwrap();
    for r in [0.1, 1.0, 5.0, 8.0, 30.0, 200.0] {
        let vc = (r * pot.dphi_dr(r)).sqrt();
        for (name, v) in [("in plane", [0.0, vc, 0.0]), ("polar", [0.0, 0.0, vc])] {
            let aa = check_degenerate(
                &format!("circular r = {r} {name}"),
                PhaseSpace::new([r, 0.0, 0.0], v),
            );
            let kappa = (pot.d2phi_dr2(r) + 3.0 * pot.dphi_dr(r) / r).sqrt();
            assert!(
                aa.actions[0].abs() < 1e-9 * r * vc,
                "r = {r}: J_r = {}",
                aa.actions[0]
            );
            assert!(
                rel(aa.frequencies[0], kappa) < 1e-12,
                "r = {r}: {} vs {kappa}",
                aa.frequencies[0]
            );
            assert!(
                rel(aa.frequencies[1], vc / r) < 1e-12,
                "r = {r}: {} vs {}",
                aa.frequencies[1],
                vc / r
            );
        }
    }
}

#[test]
fn bad_input_gives_errors_and_flags() {
    let finder = IsochroneFinder::new(3.334e11, 5.0).unwrap();
    assert!(IsochroneFinder::new(0.0, 5.0).is_err());
    assert!(IsochroneFinder::new(1e11, f64::NAN).is_err());
    let unbound = bound_point(8.0, [1.0, 0.0, 0.0], [0.0, 1.0, 0.2], 1.01);
    let nan = PhaseSpace::new([f64::NAN, 0.0, 1.0], [0.0, 100.0, 0.0]);
    let inf = PhaseSpace::new([1.0, 0.0, 1.0], [f64::INFINITY, 100.0, 0.0]);
    let good = bound_point(8.0, [1.0, 0.0, 0.0], [0.0, 1.0, 0.2], 0.5);
    assert!(matches!(
        finder.action_angle(&unbound),
        Err(ActionError::Unbound { .. })
    ));
    assert!(matches!(
        finder.with_jacobian(&unbound),
        Err(ActionError::Unbound { .. })
    ));
    assert_eq!(finder.action_angle(&nan), Err(ActionError::NonFinite));
    assert_eq!(finder.action_angle(&inf), Err(ActionError::NonFinite));
    assert!(matches!(finder.with_jacobian(&nan), Err(ActionError::NonFinite)));
    let batch = find_batch(&finder, &[good, unbound, nan, inf], &|| {});
    assert_eq!(
        batch.flags,
        vec![Flag::Ok, Flag::Unbound, Flag::NonFinite, Flag::NonFinite]
    );
    assert_eq!(batch.failures(), 3);
    assert!(batch.results[1..]
        .iter()
        .all(|r| r.actions.iter().all(|v| v.is_nan())));
    assert!(batch.results[0].actions.iter().all(|v| v.is_finite()));
    // The inverse refuses negative J_r, J_z and non-finite input.
    let th = [1.0, 2.0, 3.0];
    assert!(matches!(
        finder.phase_space([-1.0, 10.0, 100.0], th),
        Err(ActionError::Unsupported(_))
    ));
    assert!(matches!(
        finder.phase_space([1.0, -10.0, 100.0], th),
        Err(ActionError::Unsupported(_))
    ));
    assert_eq!(
        finder.phase_space([1.0, 10.0, f64::NAN], th),
        Err(ActionError::NonFinite)
    );
    assert_eq!(
        finder.phase_space([1.0, 10.0, 100.0], [0.0, f64::INFINITY, 0.0]),
        Err(ActionError::NonFinite)
    );
}

/// Angles outside [0, 2 pi) and actions at the edges of the inverse's domain.
#[test]
fn inverse_accepts_any_angle_and_zero_actions() {
    let finder = IsochroneFinder::new(3.334e11, 5.0).unwrap();
    let j = [300.0, 200.0, -900.0];
    let a = finder.phase_space(j, [1.0, 2.0, 3.0]).unwrap();
    let b = finder
        .phase_space(j, [1.0 + TAU, 2.0 - 3.0 * TAU, 3.0 + 5.0 * TAU])
        .unwrap();
    assert!(dist(&a.x, &b.x) <= 1e-12 * norm(&a.x) && dist(&a.v, &b.v) <= 1e-12 * norm(&a.v));
    for (j, th) in [
        ([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]),
        ([0.0, 0.0, 500.0], [1.0, 2.0, 3.0]),
        ([400.0, 0.0, 0.0], [0.0, 2.0, 3.0]),
    ] {
        let w = finder.phase_space(j, th).unwrap_or_else(|e| panic!("{j:?}: {e}"));
        assert!(w.is_finite(), "{j:?} {th:?}: {w:?}");
        let aa = finder.action_angle(&w).unwrap();
        for k in 0..3 {
            assert!(
                (aa.actions[k] - j[k]).abs() <= 1e-9 * (1.0 + j.iter().map(|v| v.abs()).sum::<f64>()),
                "{j:?}: {aa:?}"
            );
        }
    }
}

/// Times per point, one thread (release build for meaningful numbers); no assertion on time.
#[test]
fn time_per_point() {
    let file = reference();
    let finder = finder_for(&file, "isochrone");
    let points: Vec<PhaseSpace> = table(&file, "isochrone", "xv", 6)
        .iter()
        .map(|r| point(r))
        .collect();
    let reps = 20;
    let n = (reps * points.len()) as f64;
    let t = Instant::now();
    let mut aas = Vec::with_capacity(points.len());
    for _ in 0..reps {
        aas.clear();
        aas.extend(
            points
                .iter()
                .map(|w| black_box(finder.action_angle(black_box(w)).unwrap())),
        );
    }
    let forward = t.elapsed().as_secs_f64() / n;
    let t = Instant::now();
    for _ in 0..reps {
        for w in &points {
            black_box(finder.with_jacobian(black_box(w)).unwrap());
        }
    }
    let jacobian = t.elapsed().as_secs_f64() / n;
    let t = Instant::now();
    for _ in 0..reps {
        for aa in &aas {
            black_box(
                finder
                    .phase_space(black_box(aa.actions), black_box(aa.angles))
                    .unwrap(),
            );
        }
    }
    let inverse = t.elapsed().as_secs_f64() / n;
    println!(
        "isochrone per point, one thread: forward {:.3} us, forward + Jacobian {:.3} us, inverse {:.3} us",
        forward * 1e6,
        jacobian * 1e6,
        inverse * 1e6
    );
    assert_eq!(aas.len(), points.len());
}
