//! Potentials and accelerations against galpy 1.12.1 (`tests/data/galpy_reference.h5`,
//! groups `potentials/<name>`: `points` [500,3] kpc, `potential` [500] (km/s)^2,
//! `acceleration` [500,3] (km/s)^2/kpc, parameters in the group's attributes).
//!
//! Each potential is built through the spec parser from a spec assembled from the file's
//! attributes, and must agree to 1e-10 relative at every point (relative to |Phi| and to
//! |a| at that point).

use actionfinder_integrators::potential::{parse, Potential};
use hdf5_pure::{AttrValue, File};
use std::collections::HashMap;

const TOL: f64 = 1e-10;

fn reference() -> File {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/galpy_reference.h5");
    File::open(path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"))
}

fn attr(attrs: &HashMap<String, AttrValue>, group: &str, name: &str) -> f64 {
    attrs
        .get(name)
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| panic!("potentials/{group}: attribute {name} missing or not a number"))
}

/// The spec of group `group` from its attributes (parameters printed with `{:e}`, which
/// round-trips exactly and exercises exponents in the parser).
fn spec_for(group: &str, a: &HashMap<String, AttrValue>) -> String {
    let p = |n: &str| format!("{:e}", attr(a, group, n));
    match group {
        "isochrone" => format!("isochrone:M={},b={}", p("M"), p("b")),
        "plummer" => format!("plummer:M={},a={}", p("M"), p("a")),
        "hernquist" => format!("hernquist:M={},a={}", p("M"), p("a")),
        "dehnen" => format!("dehnen:M={},a={},gamma={}", p("M"), p("a"), p("gamma")),
        "nfw" => format!("nfw:Ms={},a={}", p("Ms"), p("a")),
        "miyamoto_nagai" => format!("miyamoto-nagai:M={},a={},b={}", p("M"), p("a"), p("b")),
        "logarithmic" => format!("logarithmic:v0={},rc={},q={}", p("v0"), p("rc"), p("q")),
        "kuzmin_kutuzov" => {
            format!("kuzmin-kutuzov:M={},ac={},delta={}", p("M"), p("ac"), p("Delta"))
        }
        "mwpotential2014" => "mw2014".to_string(),
        other => panic!("no spec for group {other}"),
    }
}

/// The worst point of a comparison.
struct Worst {
    /// max over points of |Phi - Phi_galpy| / |Phi_galpy|
    potential: f64,
    /// max over points of |a - a_galpy| / |a_galpy|
    acceleration: f64,
    /// where the larger of the two occurred, with both values
    at: String,
}

/// Compare `pot` with the group's table at its 500 points.
fn compare(file: &File, group: &str, pot: &dyn Potential) -> Worst {
    let ds = |n: &str| {
        let d = file
            .dataset(&format!("potentials/{group}/{n}"))
            .unwrap_or_else(|e| panic!("potentials/{group}/{n}: {e}"));
        (d.shape().unwrap(), d.read_f64().unwrap())
    };
    let (shape, points) = ds("points");
    let (_, phi) = ds("potential");
    let (ashape, acc) = ds("acceleration");
    assert_eq!(shape, vec![500, 3], "{group}/points");
    assert_eq!(ashape, vec![500, 3], "{group}/acceleration");
    assert_eq!(phi.len(), 500, "{group}/potential");
    let mut worst = Worst {
        potential: 0.0,
        acceleration: 0.0,
        at: String::new(),
    };
    for i in 0..500 {
        let x = [points[3 * i], points[3 * i + 1], points[3 * i + 2]];
        let want_a = [acc[3 * i], acc[3 * i + 1], acc[3 * i + 2]];
        let got_phi = pot.potential(&x);
        let got_a = pot.acceleration(&x);
        let ep = (got_phi - phi[i]).abs() / phi[i].abs();
        let na = want_a.iter().map(|v| v * v).sum::<f64>().sqrt();
        let da = (0..3).map(|k| (got_a[k] - want_a[k]).powi(2)).sum::<f64>().sqrt();
        let ea = da / na;
        // NaN compares false: make it the worst
        let e = if ep.is_nan() || ea.is_nan() {
            f64::INFINITY
        } else {
            ep.max(ea)
        };
        if e >= worst.potential.max(worst.acceleration) {
            worst.at = format!(
                "x = {x:?}: Phi = {got_phi} vs galpy {}, a = {got_a:?} vs galpy {want_a:?}",
                phi[i]
            );
        }
        worst.potential = worst.potential.max(if ep.is_nan() { f64::INFINITY } else { ep });
        worst.acceleration = worst
            .acceleration
            .max(if ea.is_nan() { f64::INFINITY } else { ea });
    }
    worst
}

fn check(group: &str) {
    let file = reference();
    let attrs = file
        .group(&format!("potentials/{group}"))
        .and_then(|g| g.attrs())
        .unwrap_or_else(|e| panic!("potentials/{group}: {e}"));
    let spec = spec_for(group, &attrs);
    let pot = parse(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let w = compare(&file, group, pot.as_ref());
    println!(
        "{group:16} max rel. error: potential {:.2e}, acceleration {:.2e}   [{spec}]",
        w.potential, w.acceleration
    );
    assert!(
        w.potential <= TOL && w.acceleration <= TOL,
        "{group} [{spec}]: max rel. errors {:.2e} (potential), {:.2e} (acceleration) \
         exceed {TOL:e}; worst at {}",
        w.potential,
        w.acceleration,
        w.at
    );
}

#[test]
fn isochrone() {
    check("isochrone");
}

#[test]
fn plummer() {
    check("plummer");
}

#[test]
fn hernquist() {
    check("hernquist");
}

#[test]
fn dehnen() {
    check("dehnen");
}

#[test]
fn nfw() {
    check("nfw");
}

#[test]
fn miyamoto_nagai() {
    check("miyamoto_nagai");
}

#[test]
fn logarithmic() {
    check("logarithmic");
}

#[test]
fn kuzmin_kutuzov() {
    check("kuzmin_kutuzov");
}

#[test]
fn mwpotential2014() {
    check("mwpotential2014");
}

/// The tables are sensitive to the parameters: a 1e-8 change of one of them is detected
/// (guards against a comparison that could not fail).
#[test]
fn a_perturbed_potential_fails() {
    let file = reference();
    for spec in ["plummer:M=1.00000001e11,a=2", "plummer:M=1e11,a=2.00000002"] {
        let pot = parse(spec).unwrap();
        let w = compare(&file, "plummer", pot.as_ref());
        assert!(w.potential > TOL, "{spec}: a 1e-8 change went unnoticed");
    }
}
