//! Given orbits: initial conditions typed on the command line (`--initial`), read from a
//! text file (`--initial-file`), or the four built-in test orbits (`--recipe test-orbits`),
//! and how streams are spread over them.

use std::path::Path;

use actionfinder_integrators::integrate::energy;
use actionfinder_integrators::phase::norm;
use actionfinder_integrators::potential::Potential;
use actionfinder_integrators::PhaseSpace;
use anyhow::{bail, Context, Result};

use crate::dataset::checks::{MAX_POSITION_KPC, MAX_SPEED_KMS};

/// One initial condition and where it came from (for error messages).
#[derive(Clone, Debug, PartialEq)]
pub struct GivenOrbit {
    pub start: PhaseSpace,
    /// "--initial 2", "orbits.txt line 5", "test orbit 'halo'".
    pub origin: String,
}

/// The four test orbits of `--recipe test-orbits` in MWPotential2014 (`mw2014`): name and
/// x, y, z (kpc), vx, vy, vz (km/s). Each starts at Sanders & Binney (2016)'s position with
/// their v_x; v_y and v_z are set so that the Staeckel fudge's mean (J_r, J_z) along the
/// orbit in mw2014 is theirs in the potential they used (thin disk 29.38, 2.92; thick disk
/// 75.96, 29.25; halo 299.79, 163.02; GD-1-like stream 317.20, 558.09 kpc km/s).
/// Pericentres, apocentres and heights are in docs/test-orbits.md.
pub const TEST_ORBITS: [(&str, [f64; 6]); 4] = [
    ("thin disk", [8.29, 0.1, 0.1, 30.22, 195.30, 18.60]),
    ("thick disk", [8.29, 0.1, 0.1, 50.22, 173.75, 53.52]),
    ("halo", [8.29, 0.1, 0.1, 100.22, 99.66, 100.28]),
    ("GD-1-like stream", [26.0, 0.1, 0.1, 0.10, 108.83, 77.22]),
];

/// The built-in test orbits as given orbits.
pub fn test_orbits() -> Vec<GivenOrbit> {
    TEST_ORBITS
        .iter()
        .map(|(name, row)| GivenOrbit {
            start: PhaseSpace::from_row(row),
            origin: format!("test orbit '{name}'"),
        })
        .collect()
}

/// Six numbers x, y, z, vx, vy, vz separated by commas and/or white space.
fn parse_row(text: &str, origin: &str) -> Result<[f64; 6]> {
    let fields: Vec<&str> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() != 6 {
        bail!(
            "{origin}: expected 6 numbers x,y,z,vx,vy,vz (kpc, km/s), got {} in {text:?}",
            fields.len()
        );
    }
    let mut row = [0.0; 6];
    for (k, f) in fields.iter().enumerate() {
        row[k] = f
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .with_context(|| format!("{origin}: value {} ({f:?}) is not a finite number", k + 1))?;
    }
    Ok(row)
}

/// The value of the `index`-th `--initial` flag (1-based).
pub fn parse_initial(index: usize, text: &str) -> Result<GivenOrbit> {
    let origin = format!("--initial {index}");
    let row = parse_row(text, &origin)?;
    Ok(GivenOrbit {
        start: PhaseSpace::from_row(&row),
        origin,
    })
}

/// The orbits of a text file: one orbit per line (x,y,z,vx,vy,vz, separated by commas or
/// white space); blank lines and `#` comments are skipped. An empty file is refused.
pub fn read_initial_file(path: &Path) -> Result<Vec<GivenOrbit>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--initial-file {}: cannot read it", path.display()))?;
    let mut orbits = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let origin = format!("--initial-file {} line {}", path.display(), k + 1);
        let row = parse_row(content, &origin)?;
        orbits.push(GivenOrbit {
            start: PhaseSpace::from_row(&row),
            origin,
        });
    }
    if orbits.is_empty() {
        bail!(
            "--initial-file {}: no orbits in it (expected one line x,y,z,vx,vy,vz per orbit)",
            path.display()
        );
    }
    Ok(orbits)
}

/// An initial condition within the dataset's ranges and bound in `pot`, else an error
/// naming where it came from.
fn check_orbit(orbit: &GivenOrbit, pot: &dyn Potential) -> Result<()> {
    let w = &orbit.start;
    let origin = &orbit.origin;
    if !(w.radius() <= MAX_POSITION_KPC && norm(&w.v) <= MAX_SPEED_KMS) {
        bail!(
            "{origin}: |x| <= {MAX_POSITION_KPC:e} kpc and |v| <= {MAX_SPEED_KMS:e} km/s expected, got x = {:?}, v = {:?}",
            w.x,
            w.v
        );
    }
    let e = energy(pot, w);
    let e_inf = pot.potential_at_infinity();
    if !e.is_finite() {
        bail!(
            "{origin}: the potential {} is not finite at x = {:?} kpc",
            pot.spec(),
            w.x
        );
    }
    if e >= e_inf {
        bail!(
            "{origin}: unbound orbit in {}: energy {e:.6e} (km/s)^2 is not below the potential at infinity {e_inf:.6e} (x = {:?} kpc, v = {:?} km/s)",
            pot.spec(),
            w.x,
            w.v
        );
    }
    Ok(())
}

/// `n` starts spread evenly over the given orbits: stream s follows orbit s mod K. Every
/// orbit must be bound in `pot` and have a stream.
pub fn spread(given: &[GivenOrbit], pot: &dyn Potential, n: usize) -> Result<Vec<PhaseSpace>> {
    if given.is_empty() {
        bail!("no initial conditions given: --initial x,y,z,vx,vy,vz (repeat it) or --initial-file FILE");
    }
    for orbit in given {
        check_orbit(orbit, pot)?;
    }
    if n < given.len() {
        bail!(
            "--streams {n} is fewer than the {} orbits given: stream s follows orbit s mod {}, so every orbit needs at least one stream",
            given.len(),
            given.len()
        );
    }
    Ok((0..n).map(|s| given[s % given.len()].start).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actionfinder_integrators::potential::mw2014;

    #[test]
    fn rows_take_commas_or_spaces_and_name_the_origin() {
        let row = parse_row("1, 2 3,-4 5e1 -6", "x").unwrap();
        assert_eq!(row, [1.0, 2.0, 3.0, -4.0, 50.0, -6.0]);
        let err = parse_row("1,2,3", "--initial 2").unwrap_err().to_string();
        assert!(err.contains("--initial 2") && err.contains("got 3"), "{err}");
        let err = format!("{:#}", parse_row("1,2,3,4,5,nan", "f line 3").unwrap_err());
        assert!(err.contains("f line 3") && err.contains("value 6"), "{err}");
    }

    #[test]
    fn streams_cycle_over_the_orbits() {
        let pot = mw2014();
        let given = test_orbits();
        let starts = spread(&given, &pot, 10).unwrap();
        assert_eq!(starts[0], given[0].start);
        assert_eq!(starts[5], given[1].start);
        assert_eq!(starts[7], given[3].start);
        let err = spread(&given, &pot, 3).unwrap_err().to_string();
        assert!(err.contains("--streams 3"), "{err}");
    }
}
