//! Sums of potentials.

use super::{Potential, PotentialError, SphericalProfile, Symmetry};
use crate::phase::Vec3;

/// The sum of several potentials: Phi, a and H are the sums of the parts'.
///
/// Its symmetry is the weakest of its parts' (spherical > axisymmetric > none).
/// [`Potential::spherical`] gives the summed profile when every part is spherical and
/// `None` otherwise; the [`SphericalProfile`] methods called directly on a sum with a
/// non-spherical part return NaN. Its total mass is the sum of the parts' when all are
/// finite. Its spec is the parts' specs joined by `+`.
#[derive(Debug)]
pub struct Sum {
    parts: Vec<Box<dyn Potential>>,
    symmetry: Symmetry,
    all_spherical: bool,
}

fn rank(s: Symmetry) -> u8 {
    match s {
        Symmetry::None => 0,
        Symmetry::Axisymmetric => 1,
        Symmetry::Spherical => 2,
    }
}

impl Sum {
    /// Sum of `parts` (at least one).
    pub fn new(parts: Vec<Box<dyn Potential>>) -> Result<Self, PotentialError> {
        if parts.is_empty() {
            return Err(PotentialError::BadParameter {
                potential: "sum",
                parameter: "parts",
                value: 0.0,
                expected: "at least one potential",
            });
        }
        let symmetry = parts
            .iter()
            .map(|p| p.symmetry())
            .min_by_key(|s| rank(*s))
            .unwrap_or(Symmetry::None);
        let all_spherical = parts.iter().all(|p| p.spherical().is_some());
        Ok(Self {
            parts,
            symmetry,
            all_spherical,
        })
    }

    /// The summed potentials.
    pub fn parts(&self) -> &[Box<dyn Potential>] {
        &self.parts
    }

    fn profile_sum(&self, f: impl Fn(&dyn SphericalProfile) -> f64) -> f64 {
        self.parts
            .iter()
            .map(|p| p.spherical().map_or(f64::NAN, &f))
            .sum()
    }
}

/// Points per block in [`Sum::accelerations`] (a stack buffer of this size).
const SUM_BLOCK: usize = 16;

impl Potential for Sum {
    fn potential(&self, x: &Vec3) -> f64 {
        self.parts.iter().map(|p| p.potential(x)).sum()
    }

    #[inline]
    fn acceleration(&self, x: &Vec3) -> Vec3 {
        let mut a = [0.0; 3];
        for p in &self.parts {
            let ap = p.acceleration(x);
            a[0] += ap[0];
            a[1] += ap[1];
            a[2] += ap[2];
        }
        a
    }

    fn accelerations(&self, xs: &[Vec3], out: &mut [Vec3]) {
        let mut part = [[0.0; 3]; SUM_BLOCK];
        for (xs, out) in xs.chunks(SUM_BLOCK).zip(out.chunks_mut(SUM_BLOCK)) {
            out.fill([0.0; 3]);
            for p in &self.parts {
                p.accelerations(xs, &mut part[..xs.len()]);
                for (o, a) in out.iter_mut().zip(&part) {
                    o[0] += a[0];
                    o[1] += a[1];
                    o[2] += a[2];
                }
            }
        }
    }

    fn hessian(&self, x: &Vec3) -> [[f64; 3]; 3] {
        let mut h = [[0.0; 3]; 3];
        for p in &self.parts {
            let hp = p.hessian(x);
            for (row, prow) in h.iter_mut().zip(hp.iter()) {
                for (v, pv) in row.iter_mut().zip(prow.iter()) {
                    *v += pv;
                }
            }
        }
        h
    }

    fn symmetry(&self) -> Symmetry {
        self.symmetry
    }

    fn spherical(&self) -> Option<&dyn SphericalProfile> {
        if self.all_spherical {
            Some(self)
        } else {
            None
        }
    }

    fn potential_at_infinity(&self) -> f64 {
        self.parts.iter().map(|p| p.potential_at_infinity()).sum()
    }

    fn spec(&self) -> String {
        self.parts.iter().map(|p| p.spec()).collect::<Vec<_>>().join("+")
    }
}

impl SphericalProfile for Sum {
    fn phi(&self, r: f64) -> f64 {
        self.profile_sum(|p| p.phi(r))
    }

    fn dphi_dr(&self, r: f64) -> f64 {
        self.profile_sum(|p| p.dphi_dr(r))
    }

    fn d2phi_dr2(&self, r: f64) -> f64 {
        self.profile_sum(|p| p.d2phi_dr2(r))
    }

    fn density(&self, r: f64) -> f64 {
        self.profile_sum(|p| p.density(r))
    }

    fn enclosed_mass(&self, r: f64) -> f64 {
        self.profile_sum(|p| p.enclosed_mass(r))
    }

    fn total_mass(&self) -> Option<f64> {
        self.parts
            .iter()
            .map(|p| p.spherical().and_then(|s| s.total_mass()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Hernquist, MiyamotoNagai, Nfw, Plummer};

    #[test]
    fn spherical_sum() {
        let s = Sum::new(vec![
            Box::new(Plummer::new(1e10, 1.0).unwrap()),
            Box::new(Hernquist::new(1e12, 20.0).unwrap()),
        ])
        .unwrap();
        assert_eq!(s.symmetry(), Symmetry::Spherical);
        let prof = s.spherical().unwrap();
        assert_eq!(prof.total_mass(), Some(1e10 + 1e12));
        for x in checks::positions(1.0) {
            checks::hessian_matches_acceleration(&s, &x, 1.0, 1e-7);
            checks::acceleration_matches_potential(&s, &x, 1.0, 1e-8);
            checks::poisson_holds(&s, &x, 1e-12);
        }
        checks::spec_round_trips(&s);
        let with_nfw = Sum::new(vec![
            Box::new(Plummer::new(1e10, 1.0).unwrap()),
            Box::new(Nfw::new(1e12, 20.0).unwrap()),
        ])
        .unwrap();
        assert_eq!(with_nfw.spherical().map(|p| p.total_mass()), Some(None));
    }

    #[test]
    fn mixed_sum_is_axisymmetric_and_not_spherical() {
        let s = Sum::new(vec![
            Box::new(Plummer::new(1e10, 1.0).unwrap()),
            Box::new(MiyamotoNagai::new(1e10, 3.0, 0.3).unwrap()),
        ])
        .unwrap();
        assert_eq!(s.symmetry(), Symmetry::Axisymmetric);
        assert!(s.spherical().is_none());
        assert!(SphericalProfile::phi(&s, 1.0).is_nan());
        let x = [1.0, 2.0, 0.5];
        let want = Plummer::new(1e10, 1.0).unwrap().potential(&x)
            + MiyamotoNagai::new(1e10, 3.0, 0.3).unwrap().potential(&x);
        assert_eq!(s.potential(&x), want);
        checks::spec_round_trips(&s);
        assert!(Sum::new(Vec::new()).is_err());
    }
}
