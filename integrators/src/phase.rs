//! Phase-space points.

/// A Cartesian 3-vector (kpc, km/s or (km/s)^2/kpc depending on context).
pub type Vec3 = [f64; 3];

/// One phase-space point: position in kpc, velocity in km/s, Galactocentric Cartesian frame.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct PhaseSpace {
    pub x: Vec3,
    pub v: Vec3,
}

impl PhaseSpace {
    pub fn new(x: Vec3, v: Vec3) -> Self {
        Self { x, v }
    }

    /// From a row `[x, y, z, vx, vy, vz]`.
    pub fn from_row(row: &[f64; 6]) -> Self {
        Self {
            x: [row[0], row[1], row[2]],
            v: [row[3], row[4], row[5]],
        }
    }

    /// As a row `[x, y, z, vx, vy, vz]`.
    pub fn to_row(&self) -> [f64; 6] {
        [self.x[0], self.x[1], self.x[2], self.v[0], self.v[1], self.v[2]]
    }

    /// Spherical radius |x|.
    pub fn radius(&self) -> f64 {
        norm(&self.x)
    }

    /// Angular momentum x × v (kpc km/s).
    pub fn angular_momentum(&self) -> Vec3 {
        cross(&self.x, &self.v)
    }

    /// Specific kinetic energy v²/2.
    pub fn kinetic_energy(&self) -> f64 {
        0.5 * dot(&self.v, &self.v)
    }

    /// True when every coordinate is finite.
    pub fn is_finite(&self) -> bool {
        self.x.iter().chain(self.v.iter()).all(|c| c.is_finite())
    }
}

/// Dot product.
#[inline]
pub fn dot(a: &Vec3, b: &Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Euclidean norm.
#[inline]
pub fn norm(a: &Vec3) -> f64 {
    dot(a, a).sqrt()
}

/// Cross product a × b.
#[inline]
pub fn cross(a: &Vec3, b: &Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
