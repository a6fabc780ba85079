//! Bovy (2015) MWPotential2014 in physical units.

use super::{MiyamotoNagai, Nfw, Potential, PotentialError, PowerCutoff, Sum};

/// galpy's length unit ro (kpc) at which MWPotential2014 is normalised.
pub const MW2014_R0: f64 = 8.0;
/// galpy's velocity unit vo (km/s): the circular speed at `MW2014_R0`.
pub const MW2014_V0: f64 = 220.0;

/// `R dPhi/dR` at (R0, 0, 0) for a potential: its share of vc^2 there.
fn vc2_at_r0(p: &dyn Potential) -> f64 {
    -MW2014_R0 * p.acceleration(&[MW2014_R0, 0.0, 0.0])[0]
}

/// Scale the mass of a unit-mass component so that its `R dPhi/dR` at R0 is `f V0^2`.
fn normalised<P: Potential>(
    f: f64,
    make: impl Fn(f64) -> Result<P, PotentialError>,
) -> Result<P, PotentialError> {
    let unit = make(1.0)?;
    make(f * MW2014_V0 * MW2014_V0 / vc2_at_r0(&unit))
}

fn build() -> Result<Sum, PotentialError> {
    let bulge = normalised(0.05, |m| PowerCutoff::new(m, 1.8, 1.9))?;
    let disk = normalised(0.6, |m| MiyamotoNagai::new(m, 3.0, 0.28))?;
    let halo = normalised(0.35, |m| Nfw::new(m, 16.0))?;
    Sum::new(vec![Box::new(bulge), Box::new(disk), Box::new(halo)])
}

/// MWPotential2014 (Bovy 2015, ApJS 216, 29; galpy `MWPotential2014`) with galpy's
/// ro = 8 kpc, vo = 220 km/s:
///
/// - bulge: [`PowerCutoff`] alpha = 1.8, rc = 1.9 kpc, 5% of vc^2(8 kpc);
/// - disc: [`MiyamotoNagai`] a = 3 kpc, b = 0.28 kpc, 60%;
/// - halo: [`Nfw`] a = 16 kpc, 35%;
///
/// each mass fixed by `R dPhi/dR (R = 8 kpc, z = 0) = f (220 km/s)^2`, so vc(8 kpc) =
/// 220 km/s. The bulge carries galpy's zero point (Phi -> +G M Gamma(0.1)/(rc Gamma(0.6))
/// at infinity, about 6.5e4 (km/s)^2; see [`Potential::potential_at_infinity`]), so the
/// potential agrees with galpy's values. Its spec lists the three parts with their masses:
/// bulge M = 4.501e9 Msun, disc M = 6.819e10 Msun, halo Ms = 4.368e11 Msun.
pub fn mw2014() -> Sum {
    // Constant, valid parameters: construction cannot fail (checked by the tests).
    build().expect("MWPotential2014 parameters are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Symmetry};

    #[test]
    fn normalisation() {
        let p = mw2014();
        assert_eq!(p.symmetry(), Symmetry::Axisymmetric);
        let vc2 = vc2_at_r0(&p);
        assert!((vc2 - 220.0 * 220.0).abs() < 1e-9 * vc2);
        let parts = p.parts();
        for (part, f) in parts.iter().zip([0.05, 0.6, 0.35]) {
            let share = vc2_at_r0(part.as_ref()) / (220.0 * 220.0);
            assert!((share - f).abs() < 1e-14, "{share} {f}");
        }
        let inf = p.potential_at_infinity();
        assert!((inf - 6.5e4).abs() < 1e3, "{inf}");
        checks::spec_round_trips(&p);
        for x in checks::positions(3.0) {
            checks::hessian_matches_acceleration(&p, &x, 3.0, 1e-7);
            checks::acceleration_matches_potential(&p, &x, 3.0, 1e-8);
        }
    }
}
