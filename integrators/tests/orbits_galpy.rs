//! The 4th-order integrator against the 20 orbits galpy integrated with DOP853 in
//! MWPotential2014 over 2 Gyr (`tests/data/galpy_reference.h5`, group orbits/mwpotential2014).

use actionfinder_integrators::integrate::{integrate, IntegrationOptions, Scheme, StepSize};
use actionfinder_integrators::potential::spec;
use actionfinder_integrators::units::gyr_to_internal;
use actionfinder_integrators::PhaseSpace;

fn reference() -> (Vec<f64>, Vec<f64>, usize, usize) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/galpy_reference.h5");
    let file = hdf5_pure::File::open(path).expect("open galpy_reference.h5");
    let t = file
        .dataset("orbits/mwpotential2014/t_gyr")
        .unwrap()
        .read_f64()
        .unwrap();
    let xv_ds = file.dataset("orbits/mwpotential2014/xv").unwrap();
    let shape = xv_ds.shape().unwrap();
    let xv = xv_ds.read_f64().unwrap();
    assert_eq!(shape[1] as usize, t.len());
    (t, xv, shape[0] as usize, shape[1] as usize)
}

#[test]
fn yoshida4_reproduces_galpy_dop853_orbits_in_mwpotential2014() {
    let (t_gyr, xv, n_orbits, n_times) = reference();
    let pot = spec::parse("mw2014").unwrap();
    let times: Vec<f64> = t_gyr.iter().map(|&t| gyr_to_internal(t)).collect();
    let opts = IntegrationOptions {
        scheme: Scheme::Yoshida4,
        step: StepSize::Fixed(gyr_to_internal(2e-5)),
        max_steps: 1 << 32,
    };
    let mut worst = 0.0f64;
    for o in 0..n_orbits {
        let row = |k: usize| -> &[f64] { &xv[(o * n_times + k) * 6..(o * n_times + k + 1) * 6] };
        let start = PhaseSpace::from_row(row(0).try_into().unwrap());
        let orbit = integrate(pot.as_ref(), &start, &times, &opts).unwrap();
        for (k, w) in orbit.points.iter().enumerate() {
            let r = row(k);
            let dx = (0..3).map(|i| (w.x[i] - r[i]).powi(2)).sum::<f64>().sqrt();
            let rel = dx / (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
            worst = worst.max(rel);
        }
    }
    println!("largest relative position difference from galpy DOP853: {worst:.3e}");
    assert!(
        worst < 1e-6,
        "largest relative position difference {worst:e} (need < 1e-6)"
    );
}
