//! Prolate spheroidal coordinates (u, v) with focal distance Delta (Binney 2012, §2;
//! galpy `coords.Rz_to_uv`):
//!
//! `R = Delta sinh u sin v`, `z = Delta cosh u cos v`, u >= 0, 0 <= v <= pi,
//!
//! with the foci at (R, z) = (0, +-Delta), and their conjugate momenta
//! `p_u = Delta (v_R cosh u sin v + v_z sinh u cos v)`,
//! `p_v = Delta (v_R sinh u cos v - v_z cosh u sin v)`.

use crate::phase::PhaseSpace;

/// A phase-space point in cylindrical form: position (R, z, phi), velocity (v_R, v_z) and
/// the angular momentum L_z = x v_y - y v_x (kpc, km/s).
#[derive(Clone, Copy, Debug)]
pub(super) struct Cylindrical {
    pub r: f64,
    pub z: f64,
    pub phi: f64,
    pub v_r: f64,
    pub v_z: f64,
    pub lz: f64,
}

impl Cylindrical {
    pub fn new(w: &PhaseSpace) -> Self {
        let [x, y, z] = w.x;
        let [vx, vy, vz] = w.v;
        let r = x.hypot(y);
        let v_r = if r > 0.0 {
            (x * vx + y * vy) / r
        } else {
            vx.hypot(vy)
        };
        Self {
            r,
            z,
            phi: y.atan2(x),
            v_r,
            v_z: vz,
            lz: x * vy - y * vx,
        }
    }
}

/// A position in prolate spheroidal coordinates, with the hyperbolic and circular functions
/// of u and v computed without cancellation.
#[derive(Clone, Copy, Debug)]
pub(super) struct Prolate {
    pub u: f64,
    pub v: f64,
    pub sinh_u: f64,
    pub cosh_u: f64,
    pub sin_v: f64,
    pub cos_v: f64,
}

impl Prolate {
    /// (u, v) of the position (R, z). With `A = sinh^2 u`, `B = sin^2 v`:
    /// `A B = R^2 / Delta^2` and `A - B = (R^2 + z^2 - Delta^2) / Delta^2`, so A and -B are
    /// the roots of a quadratic, taken in the form without cancellation; then
    /// `cos v = z / (Delta cosh u)` keeps its sign and precision near the midplane.
    pub fn new(r: f64, z: f64, delta: f64) -> Self {
        let d2 = delta * delta;
        let s = (r * r + z * z - d2) / d2;
        let p = r * r / d2;
        let disc = s.hypot(2.0 * p.sqrt());
        let (sh2, sv2) = if s >= 0.0 {
            let a = 0.5 * (s + disc);
            (a, if a > 0.0 { p / a } else { 0.0 })
        } else {
            let b = 0.5 * (disc - s);
            (p / b, b)
        };
        let sinh_u = sh2.sqrt();
        let cosh_u = (1.0 + sh2).sqrt();
        let sin_v = sv2.sqrt().min(1.0);
        let cos_v = (z / (delta * cosh_u)).clamp(-1.0, 1.0);
        Self {
            u: sinh_u.asinh(),
            v: sin_v.atan2(cos_v),
            sinh_u,
            cosh_u,
            sin_v,
            cos_v,
        }
    }

    /// (p_u, p_v) of the velocity (v_R, v_z) at this position, in kpc km/s.
    pub fn momenta(&self, v_r: f64, v_z: f64, delta: f64) -> (f64, f64) {
        let p_u = delta * (v_r * self.cosh_u * self.sin_v + v_z * self.sinh_u * self.cos_v);
        let p_v = delta * (v_r * self.sinh_u * self.cos_v - v_z * self.cosh_u * self.sin_v);
        (p_u, p_v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_momenta() {
        let delta = 3.0;
        for &(r, z) in &[
            (8.0, 0.0),
            (8.0, 1.0),
            (0.5, -7.0),
            (1e-9, 2.0),
            (0.0, 5.0),
            (0.0, -1.0),
            (3.0, 3.0),
            (20.0, -15.0),
            (1e-3, 1e-3),
        ] {
            let c = Prolate::new(r, z, delta);
            let r2 = delta * c.u.sinh() * c.v.sin();
            let z2 = delta * c.u.cosh() * c.v.cos();
            assert!((r2 - r).abs() < 1e-13 * (1.0 + r), "R {r} {z}: {r2}");
            assert!((z2 - z).abs() < 1e-13 * (1.0 + z.abs()), "z {r} {z}: {z2}");
            // p_u = h^2 du/dt, p_v = h^2 dv/dt with h^2 = Delta^2 (sinh^2 u + sin^2 v):
            // check against a finite-difference time step of a straight-line motion.
            let (vr, vz) = (13.0, -7.0);
            let dt = 1e-7;
            let c2 = Prolate::new(r + vr * dt, z + vz * dt, delta);
            let c1 = Prolate::new(r - vr * dt, z - vz * dt, delta);
            let h2 = delta * delta * (c.sinh_u * c.sinh_u + c.sin_v * c.sin_v);
            let (pu, pv) = c.momenta(vr, vz, delta);
            if r > 1e-2 {
                let du = (c2.u - c1.u) / (2.0 * dt);
                let dv = (c2.v - c1.v) / (2.0 * dt);
                assert!((pu - h2 * du).abs() < 1e-5 * (1.0 + pu.abs()), "{pu} {}", h2 * du);
                assert!((pv - h2 * dv).abs() < 1e-5 * (1.0 + pv.abs()), "{pv} {}", h2 * dv);
            }
        }
    }
}
