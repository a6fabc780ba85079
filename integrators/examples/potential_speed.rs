//! Nanoseconds per evaluation of the power-law-with-cut-off sphere (the bulge of
//! MWPotential2014) and of the whole MWPotential2014, for radii log-uniform in 0.01-100 kpc.
//! A timing check kept out of the test suite:
//!
//! `cargo run --release -p actionfinder-integrators --example potential_speed`

use actionfinder_integrators::potential::{mw2014, Plummer, Potential, PowerCutoff};
use actionfinder_integrators::Vec3;
use std::hint::black_box;
use std::time::Instant;

/// Points at radii log-uniform in [r_lo, r_hi] kpc on a fixed spiral of directions.
fn points(n: usize, r_lo: f64, r_hi: f64) -> Vec<Vec3> {
    (0..n)
        .map(|i| {
            let f = (i as f64 + 0.5) / n as f64;
            let r = r_lo * (r_hi / r_lo).powf(f);
            let (ct, ph) = (1.0 - 2.0 * f, 2.399_963 * i as f64);
            let st = (1.0 - ct * ct).sqrt();
            [r * st * ph.cos(), r * st * ph.sin(), r * ct]
        })
        .collect()
}

/// Best of a few passes over the points: nanoseconds per call of `f`.
fn ns_per_call(xs: &[Vec3], f: impl Fn(&Vec3) -> f64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let start = Instant::now();
        let mut acc = 0.0;
        for x in xs {
            acc += f(black_box(x));
        }
        black_box(acc);
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / xs.len() as f64);
    }
    best
}

fn report(name: &str, p: &dyn Potential, xs: &[Vec3]) {
    let phi = ns_per_call(xs, |x| p.potential(x));
    let acc = ns_per_call(xs, |x| p.acceleration(x)[0]);
    let hes = ns_per_call(xs, |x| p.hessian(x)[0][1]);
    println!("{name:<28} {phi:10.1} {acc:14.1} {hes:10.1}");
}

fn main() {
    let xs = points(200_000, 0.01, 100.0);
    println!(
        "{:<28} {:>10} {:>14} {:>10}",
        "ns per evaluation", "potential", "acceleration", "hessian"
    );
    match PowerCutoff::new(4.501e9, 1.8, 1.9) {
        Ok(bulge) => {
            report("power-cutoff alpha=1.8", &bulge, &xs);
            for (lo, hi) in [(0.01, 0.1), (0.1, 1.0), (1.0, 10.0), (10.0, 100.0)] {
                report(
                    &format!("  r in [{lo}, {hi}] kpc"),
                    &bulge,
                    &points(50_000, lo, hi),
                );
            }
        }
        Err(e) => eprintln!("{e}"),
    }
    match PowerCutoff::new(1e10, 0.0, 1.0) {
        Ok(core) => report("power-cutoff alpha=0", &core, &xs),
        Err(e) => eprintln!("{e}"),
    }
    report("mw2014", &mw2014(), &xs);
    // the floor of the shared spherical Cartesian code, for comparison
    match Plummer::new(1e10, 1.0) {
        Ok(plummer) => report("plummer", &plummer, &xs),
        Err(e) => eprintln!("{e}"),
    }
    let start = Instant::now();
    let n = 200;
    for _ in 0..n {
        black_box(PowerCutoff::new(black_box(4.501e9), 1.8, 1.9).ok());
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("construction: {us:.1} us");
}
