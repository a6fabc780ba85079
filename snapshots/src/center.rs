//! Centring a snapshot on its galaxy: simulated galaxies drift through the box, so each
//! snapshot is moved to the frame of its own centre before particles are tracked.
//!
//! Three choices ([`Centering`]):
//! * none: coordinates as written;
//! * centre of mass: x_c = sum m_i x_i / sum m_i, v_c = sum m_i v_i / sum m_i over all
//!   particles (biased by anything far away: satellites, streams, unbound debris);
//! * shrinking sphere (Power et al. 2003, MNRAS 338, 14, §2.4; as pynbody's
//!   `shrink_sphere_center`): start from the centre of mass and the sphere about it that holds
//!   every particle, then repeatedly shrink the radius by a factor (0.975) and recompute the
//!   centre of mass of the particles still inside, until fewer than min(1000, N/100) (at
//!   least 32, or N) would remain. The velocity is the mass-weighted mean velocity inside
//!   the final sphere.
//!
//! Particles with zero total mass (test particles, as `generate`'s halo and disk recipes
//! write) are weighted equally.

use std::fmt;
use std::str::FromStr;

use crate::snapshot::{Snapshot, SnapshotError};

/// How each snapshot is centred.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Centering {
    /// Coordinates as written.
    #[default]
    None,
    /// Mass-weighted mean position and velocity of all particles.
    CentreOfMass,
    /// Power et al. (2003) shrinking sphere.
    ShrinkingSphere(ShrinkingSphere),
}

/// Parameters of the shrinking-sphere iteration (Power et al. 2003, §2.4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShrinkingSphere {
    /// Factor applied to the radius at each step (Power et al.: 0.975).
    pub shrink: f64,
    /// Stop before fewer than this many particles remain; `None` gives
    /// min(1000, N/100), at least min(32, N).
    pub min_particles: Option<usize>,
}

impl Default for ShrinkingSphere {
    fn default() -> Self {
        Self {
            shrink: 0.975,
            min_particles: None,
        }
    }
}

/// Most shrinking steps (0.975^2000 ~ 1e-22: only reached when particles coincide).
const MAX_STEPS: usize = 2000;

impl FromStr for Centering {
    type Err = String;

    /// `none`, `com` (or `centre-of-mass`, `center-of-mass`), `shrinking-sphere`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Centering::None),
            "com" | "centre-of-mass" | "center-of-mass" => Ok(Centering::CentreOfMass),
            "shrinking-sphere" | "shrinking_sphere" => Ok(Centering::ShrinkingSphere(Default::default())),
            other => Err(format!(
                "unknown centring {other:?}: expected none, com or shrinking-sphere"
            )),
        }
    }
}

impl fmt::Display for Centering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Centering::None => write!(f, "none"),
            Centering::CentreOfMass => write!(f, "centre of mass"),
            Centering::ShrinkingSphere(s) => {
                write!(f, "shrinking sphere (Power et al. 2003, factor {})", s.shrink)
            }
        }
    }
}

/// A centre found in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Centre {
    /// Position (kpc).
    pub x: [f64; 3],
    /// Velocity (km/s): mass-weighted mean inside the final sphere.
    pub v: [f64; 3],
    /// Radius of the final sphere (kpc); infinite for the centre of mass of everything.
    pub radius: f64,
    /// Particles inside the final sphere.
    pub particles: usize,
}

/// Particle weights: the masses, or equal weights when the masses sum to zero.
#[derive(Clone, Copy)]
enum Weights<'a> {
    Masses(&'a [f64]),
    Equal,
}

impl Weights<'_> {
    fn of(&self, i: usize) -> f64 {
        match self {
            Weights::Masses(m) => m[i],
            Weights::Equal => 1.0,
        }
    }
}

/// Finds the centre of `xv` (\[n,6\]) with weights `masses` (\[n\]) by `how`; `None` for
/// [`Centering::None`] or no particles. Lengths must agree (see [`recentre`] for checked
/// input).
pub fn find_centre(xv: &[f64], masses: &[f64], how: Centering) -> Option<Centre> {
    let n = masses.len().min(xv.len() / 6);
    if n == 0 {
        return None;
    }
    let w = if masses[..n].iter().sum::<f64>() > 0.0 {
        Weights::Masses(masses)
    } else {
        Weights::Equal
    };
    match how {
        Centering::None => None,
        Centering::CentreOfMass => {
            let all: Vec<usize> = (0..n).collect();
            let x = mean(xv, w, &all, 0);
            let v = mean(xv, w, &all, 3);
            Some(Centre {
                x,
                v,
                radius: f64::INFINITY,
                particles: n,
            })
        }
        Centering::ShrinkingSphere(s) => Some(shrinking_sphere(xv, w, n, s)),
    }
}

/// Moves `snap` to the frame of its centre (positions and velocities), found by `how`;
/// returns the centre (`None` for [`Centering::None`] or an empty snapshot). Errors name the
/// file when the arrays disagree or a mass is negative or not finite.
pub fn recentre(snap: &mut Snapshot, how: Centering) -> Result<Option<Centre>, SnapshotError> {
    check(snap)?;
    let centre = find_centre(&snap.xv, &snap.masses, how);
    if let Some(c) = &centre {
        shift(&mut snap.xv, c);
    }
    Ok(centre)
}

/// Subtracts the centre's position and velocity from every row of `xv` (\[n,6\]).
pub fn shift(xv: &mut [f64], c: &Centre) {
    let origin = [c.x[0], c.x[1], c.x[2], c.v[0], c.v[1], c.v[2]];
    for row in xv.chunks_exact_mut(6) {
        for (value, o) in row.iter_mut().zip(origin) {
            *value -= o;
        }
    }
}

fn check(snap: &Snapshot) -> Result<(), SnapshotError> {
    let n = snap.masses.len();
    if snap.xv.len() != 6 * n {
        let found = format!("{} values", snap.xv.len());
        return Err(SnapshotError::invalid(
            &snap.path,
            "positions and velocities",
            format!("{} values (6 per mass)", 6 * n),
            found,
        ));
    }
    if let Some(i) = snap.masses.iter().position(|m| !(m.is_finite() && *m >= 0.0)) {
        let found = format!("{} for particle {i}", snap.masses[i]);
        return Err(SnapshotError::invalid(
            &snap.path,
            "masses",
            "finite, non-negative masses",
            found,
        ));
    }
    Ok(())
}

/// Weighted mean of columns `col..col+3` of the rows `idx`.
fn mean(xv: &[f64], w: Weights<'_>, idx: &[usize], col: usize) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let mut total = 0.0;
    for &i in idx {
        let wi = w.of(i);
        let row = &xv[6 * i + col..6 * i + col + 3];
        for (s, x) in sum.iter_mut().zip(row) {
            *s += wi * x;
        }
        total += wi;
    }
    if total > 0.0 {
        sum.map(|s| s / total)
    } else {
        // Massless particles inside a sphere of massive ones: their plain mean.
        mean(xv, Weights::Equal, idx, col)
    }
}

fn dist2(xv: &[f64], i: usize, c: &[f64; 3]) -> f64 {
    let row = &xv[6 * i..6 * i + 3];
    row.iter().zip(c).map(|(x, c)| (x - c) * (x - c)).sum()
}

/// Power et al. (2003) iteration; see the module documentation.
fn shrinking_sphere(xv: &[f64], w: Weights<'_>, n: usize, s: ShrinkingSphere) -> Centre {
    let stop = s
        .min_particles
        .unwrap_or_else(|| (n / 100).clamp(32, 1000))
        .clamp(1, n);
    let shrink = if s.shrink > 0.0 && s.shrink < 1.0 {
        s.shrink
    } else {
        0.975
    };
    let mut inside: Vec<usize> = (0..n).collect();
    let mut c = mean(xv, w, &inside, 0);
    let mut r2 = inside.iter().map(|&i| dist2(xv, i, &c)).fold(0.0, f64::max);
    for _ in 0..MAX_STEPS {
        let next = r2 * shrink * shrink;
        let count = inside.iter().filter(|&&i| dist2(xv, i, &c) <= next).count();
        if count < stop || next <= 0.0 {
            break;
        }
        inside.retain(|&i| dist2(xv, i, &c) <= next);
        r2 = next;
        c = mean(xv, w, &inside, 0);
    }
    Centre {
        x: c,
        v: mean(xv, w, &inside, 3),
        radius: r2.sqrt(),
        particles: inside.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        assert_eq!("none".parse::<Centering>(), Ok(Centering::None));
        assert_eq!("COM".parse::<Centering>(), Ok(Centering::CentreOfMass));
        assert!(matches!(
            "shrinking-sphere".parse::<Centering>(),
            Ok(Centering::ShrinkingSphere(_))
        ));
        let err = "middle".parse::<Centering>().unwrap_err();
        assert!(
            err.contains("middle") && err.contains("shrinking-sphere"),
            "{err}"
        );
        assert!(Centering::ShrinkingSphere(Default::default())
            .to_string()
            .contains("Power"));
    }

    #[test]
    fn centre_of_mass_weights_by_mass_and_falls_back_to_equal_weights() {
        let xv = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 4.0, 0.0, 0.0, 5.0, 0.0, 0.0];
        let c = find_centre(&xv, &[3.0, 1.0], Centering::CentreOfMass).unwrap();
        assert_eq!((c.x[0], c.v[0]), (1.0, 2.0));
        let c = find_centre(&xv, &[0.0, 0.0], Centering::CentreOfMass).unwrap();
        assert_eq!((c.x[0], c.v[0]), (2.0, 3.0));
        assert!(find_centre(&xv, &[1.0, 1.0], Centering::None).is_none());
        assert!(find_centre(&[], &[], Centering::CentreOfMass).is_none());
    }

    #[test]
    fn recentre_rejects_bad_masses_naming_the_file() {
        let mut snap = Snapshot {
            path: "snap_007.hdf5".into(),
            xv: vec![0.0; 12],
            masses: vec![1.0, f64::NAN],
            ..Default::default()
        };
        let err = recentre(&mut snap, Centering::CentreOfMass)
            .unwrap_err()
            .to_string();
        assert!(err.contains("snap_007.hdf5") && err.contains("masses"), "{err}");
        snap.masses = vec![1.0];
        let err = recentre(&mut snap, Centering::CentreOfMass)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("snap_007.hdf5") && err.contains("6 per mass"),
            "{err}"
        );
    }

    #[test]
    fn shrinking_sphere_stops_on_coincident_particles() {
        let xv: Vec<f64> = (0..100)
            .flat_map(|i| [1.0, 2.0, 3.0, i as f64, 0.0, 0.0])
            .collect();
        let c = find_centre(&xv, &[1.0; 100], Centering::ShrinkingSphere(Default::default())).unwrap();
        assert_eq!(c.x, [1.0, 2.0, 3.0]);
        assert_eq!(c.particles, 100);
        assert!((c.v[0] - 49.5).abs() < 1e-12);
    }
}
