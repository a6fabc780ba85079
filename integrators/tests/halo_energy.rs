//! Paper §6.1: halo orbits in the isochrone (M = 3.334e11 Msun, b = 5 kpc) integrated for
//! 0.1 Gyr keep their energy to 1 part in 1e7, with either scheme.

use actionfinder_integrators::ics::{sample_halo, HaloOptions};
use actionfinder_integrators::integrate::{energy, integrate_many, IntegrationOptions, Scheme, StepSize};
use actionfinder_integrators::potential::Isochrone;
use actionfinder_integrators::units::gyr_to_internal;

fn worst_energy_error(scheme: Scheme) -> f64 {
    let pot = Isochrone::new(3.334e11, 5.0).unwrap();
    let starts = sample_halo(&pot, 1024, 11, &HaloOptions::default()).unwrap();
    let t_end = gyr_to_internal(0.1);
    let times: Vec<Vec<f64>> = (0..starts.len())
        .map(|i| {
            (0..=8)
                .map(|k| t_end * (k as f64 + (i % 7) as f64 / 7.0) / 9.0)
                .collect()
        })
        .collect();
    let opts = IntegrationOptions {
        scheme,
        step: StepSize::auto(1e-8),
        ..Default::default()
    };
    let orbits = integrate_many(&pot, &starts, &times, &opts, &|| {});
    let mut worst = 0.0f64;
    for (start, orbit) in starts.iter().zip(orbits) {
        let orbit = orbit.unwrap();
        let e0 = energy(&pot, start);
        assert!(e0 < 0.0, "the recipe keeps bound orbits only");
        for w in &orbit.points {
            worst = worst.max(((energy(&pot, w) - e0) / e0).abs());
        }
    }
    worst
}

#[test]
fn yoshida4_keeps_energy_to_1e7_on_paper_halo_orbits() {
    let worst = worst_energy_error(Scheme::Yoshida4);
    println!("Yoshida4: worst |dE/E| = {worst:.2e}");
    assert!(worst < 1e-7, "{worst:e}");
}

#[test]
fn leapfrog_keeps_energy_to_1e7_on_paper_halo_orbits() {
    let worst = worst_energy_error(Scheme::Leapfrog);
    println!("leapfrog: worst |dE/E| = {worst:.2e}");
    assert!(worst < 1e-7, "{worst:e}");
}
