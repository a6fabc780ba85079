//! The focal distance of the locally best-fitting Staeckel potential (Sanders 2012, MNRAS
//! 426, 128, eq. 9, with the sign of galpy's `estimateDeltaStaeckel`).

use crate::potential::Potential;

/// Fallback focal distance, relative to the point's radius, where the estimate is undefined
/// or not positive (spherical potentials, for which Delta -> 0 is the right answer; the
/// centre; regions better fitted by oblate coordinates).
const FALLBACK: f64 = 1e-5;

/// Below this |z| / R (or R / |z|) the estimate is evaluated at |z| = NEAR_PLANE R (or
/// R = NEAR_PLANE |z|): in the midplane and on the axis it is 0/0, but it is an even,
/// smooth function of z (of R), so the offset changes it by O(NEAR_PLANE^2).
const NEAR_PLANE: f64 = 1e-3;

/// Sanders' (2012) estimate of the focal distance Delta (kpc) at (R, z): a Staeckel
/// potential in prolate spheroidal coordinates with foci at z = +-Delta satisfies
///
/// `Delta^2 = z^2 - R^2 + [3 z dPhi/dR - 3 R dPhi/dz + R z (d2Phi/dR2 - d2Phi/dz2)]
///            / (d2Phi/dR dz)`
///
/// identically, so for a Kuzmin-Kutuzov potential this returns its own focal distance at
/// every point; for any other axisymmetric potential it gives the best local fit. The
/// derivatives come from the potential's Cartesian acceleration and Hessian at (R, 0, z).
/// Near the midplane or the axis the point is moved off it by a relative 1e-3 (see
/// `NEAR_PLANE`). Where the result is undefined (e.g. a spherical potential, where
/// the numerator vanishes) or Delta^2 <= 0, it falls back to a small positive
/// `1e-5 max(r, 1e-3 kpc)`, the spherical limit of the prolate coordinates.
pub fn estimate_focal_distance(pot: &dyn Potential, r_cyl: f64, z: f64) -> f64 {
    let r_cyl = r_cyl.abs();
    let radius = r_cyl.hypot(z);
    let fallback = FALLBACK * radius.max(1e-3);
    let (r, z) = off_symmetry_planes(r_cyl, z);
    if !(r > 0.0 && z != 0.0) {
        return fallback;
    }
    let x = [r, 0.0, z];
    let a = pot.acceleration(&x);
    let h = pot.hessian(&x);
    let (phi_r, phi_z) = (-a[0], -a[2]);
    let (phi_rr, phi_zz, phi_rz) = (h[0][0], h[2][2], h[0][2]);
    let numerator = 3.0 * z * phi_r - 3.0 * r * phi_z + r * z * (phi_rr - phi_zz);
    let delta2 = z * z - r * r + numerator / phi_rz;
    if delta2.is_finite() && delta2 > fallback * fallback {
        delta2.sqrt()
    } else {
        fallback
    }
}

/// (R, z) moved off the midplane and the axis by a relative `NEAR_PLANE`.
fn off_symmetry_planes(r: f64, z: f64) -> (f64, f64) {
    let sign = if z < 0.0 { -1.0 } else { 1.0 };
    let z = if z.abs() < NEAR_PLANE * r {
        sign * NEAR_PLANE * r
    } else {
        z
    };
    let r = if r < NEAR_PLANE * z.abs() {
        NEAR_PLANE * z.abs()
    } else {
        r
    };
    (r, z)
}
