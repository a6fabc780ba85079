//! The systems `demo --model` runs on: isotropic spherical models with an equilibrium
//! sampler (exact or Eddington-inverted distribution function) and exact spherical actions.
//!
//! Every model has the mass and scale radius of the paper's §6.5 Plummer system
//! ([`MASS`] = 5e5 Msun, [`SCALE`] = 0.02 kpc), so that the actions and their errors come in
//! the same units as the paper's Plummer numbers and the field grid (out to 5 scale radii),
//! its z-height (one scale radius) and the circular-speed range (0.2 to 5 scale radii) are the
//! same for all. The models differ in how that mass is spread: the half-mass radius r_h is
//! 1.30 a (Plummer), 3.85 a (Dehnen gamma = 0), 2.41 a (Hernquist, Dehnen gamma = 1), 1.70 a
//! (Dehnen gamma = 1.5) and 3.06 b (isochrone). Each run lasts as many half-mass dynamical
//! times `sqrt(r_h^3 / (G M))` as the paper's 0.07 Gyr Plummer run, so that the orbits go as
//! far round in every model: 0.07, 0.35, 0.18, 0.10 and 0.25 Gyr.

use std::fmt;
use std::str::FromStr;

/// Mass of every demo model (Msun), the paper's §6.5 Plummer mass.
pub const MASS: f64 = 5e5;
/// Scale radius of every demo model (kpc): Plummer's, Hernquist's and Dehnen's a and the
/// isochrone's b.
pub const SCALE: f64 = 0.02;
/// The paper's §6.5 run length for the Plummer model (Gyr).
const PLUMMER_DURATION: f64 = 0.07;
/// Dehnen's inner slope when `--model dehnen` gives none: 3/2, the cusp Dehnen (1993) finds
/// closest to de Vaucouleurs' law (and the hard case for the isochrone toy).
const DEFAULT_GAMMA: f64 = 1.5;
/// The choices, for error messages.
const CHOICES: &str = "plummer, dehnen[:gamma=G] (0 <= G < 2, default 1.5), hernquist or isochrone";

/// A system the demo runs on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DemoModel {
    /// The paper's §6.5 Plummer sphere (exact distribution function).
    Plummer,
    /// Dehnen (1993) sphere with inner density slope 0 <= gamma < 2 (Eddington inversion).
    Dehnen { gamma: f64 },
    /// Hernquist (1990) sphere (Eddington inversion).
    Hernquist,
    /// Hénon's isochrone (exact distribution function).
    Isochrone,
}

impl DemoModel {
    /// The potential's text spec (`integrators::potential::spec` syntax).
    pub fn spec(&self) -> String {
        match *self {
            Self::Plummer => format!("plummer:M={MASS:e},a={SCALE}"),
            Self::Dehnen { gamma } => format!("dehnen:M={MASS:e},a={SCALE},gamma={gamma}"),
            Self::Hernquist => format!("hernquist:M={MASS:e},a={SCALE}"),
            Self::Isochrone => format!("isochrone:M={MASS:e},b={SCALE}"),
        }
    }

    /// The family name, which starts the demo's file names (`plummer_streams.h5`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Plummer => "plummer",
            Self::Dehnen { .. } => "dehnen",
            Self::Hernquist => "hernquist",
            Self::Isochrone => "isochrone",
        }
    }

    /// How long the orbits are integrated (Gyr): the Plummer run's 0.07 Gyr scaled by
    /// `(r_h / r_h,Plummer)^(3/2)`, the same number of half-mass dynamical times (mass and
    /// scale radius are shared, so `G M` cancels).
    pub fn duration(&self) -> f64 {
        let ratio = self.half_mass_radius() / Self::Plummer.half_mass_radius();
        PLUMMER_DURATION * ratio.powf(1.5)
    }

    /// The radius holding half the mass (kpc), by bisection of the enclosed-mass fraction in
    /// log r between 0.01 and 100 scale radii.
    fn half_mass_radius(&self) -> f64 {
        let (mut lo, mut hi) = (0.01f64.ln(), 100f64.ln());
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if self.enclosed_fraction(mid.exp()) < 0.5 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        SCALE * (0.5 * (lo + hi)).exp()
    }

    /// M(< x a) / M for `x` in scale radii.
    fn enclosed_fraction(&self, x: f64) -> f64 {
        match *self {
            Self::Plummer => (x * x / (1.0 + x * x)).powf(1.5),
            Self::Dehnen { gamma } => (x / (1.0 + x)).powf(3.0 - gamma),
            Self::Hernquist => (x / (1.0 + x)).powi(2),
            Self::Isochrone => {
                let s = (1.0 + x * x).sqrt();
                x.powi(3) / ((1.0 + s).powi(2) * s)
            }
        }
    }
}

impl fmt::Display for DemoModel {
    /// The name as a title: `Plummer`, `Dehnen gamma = 1.5`, `Hernquist`, `isochrone`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plummer => write!(f, "Plummer"),
            Self::Dehnen { gamma } => write!(f, "Dehnen gamma = {gamma}"),
            Self::Hernquist => write!(f, "Hernquist"),
            Self::Isochrone => write!(f, "isochrone"),
        }
    }
}

impl FromStr for DemoModel {
    type Err = String;

    /// `plummer`, `dehnen`, `dehnen:gamma=G` (0 <= G < 2), `hernquist` or `isochrone`,
    /// case-insensitive.
    fn from_str(s: &str) -> Result<Self, String> {
        let text = s.trim().to_ascii_lowercase();
        let (name, params) = match text.split_once(':') {
            Some((name, params)) => (name.trim(), Some(params)),
            None => (text.as_str(), None),
        };
        let unknown = || format!("--model '{s}' is not a known model: choose {CHOICES}");
        match (name, params) {
            ("plummer", None) => Ok(Self::Plummer),
            ("hernquist", None) => Ok(Self::Hernquist),
            ("isochrone", None) => Ok(Self::Isochrone),
            ("dehnen", None) => Ok(Self::Dehnen {
                gamma: DEFAULT_GAMMA,
            }),
            ("dehnen", Some(params)) => parse_gamma(s, params).map(|gamma| Self::Dehnen { gamma }),
            ("plummer" | "hernquist" | "isochrone", Some(_)) => Err(format!(
                "--model '{s}': {name} takes no parameters (mass and scale radius are fixed); choose {CHOICES}"
            )),
            _ => Err(unknown()),
        }
    }
}

/// The `gamma=G` of `--model dehnen:gamma=G`, with 0 <= G < 2.
fn parse_gamma(whole: &str, params: &str) -> Result<f64, String> {
    let bad = |why: String| format!("--model '{whole}': {why}; choose {CHOICES}");
    let value = match params.split_once('=') {
        Some((key, value)) if key.trim() == "gamma" => value.trim(),
        _ => return Err(bad(format!("expected gamma=G after 'dehnen:', got '{params}'"))),
    };
    let gamma: f64 = value
        .parse()
        .map_err(|_| bad(format!("gamma '{value}' is not a number")))?;
    if !(0.0..2.0).contains(&gamma) {
        return Err(bad(format!("gamma = {gamma} is outside 0 <= gamma < 2")));
    }
    Ok(gamma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plummer_keeps_the_papers_system_and_duration() {
        assert_eq!(DemoModel::Plummer.spec(), "plummer:M=5e5,a=0.02");
        assert_eq!(DemoModel::Plummer.duration(), PLUMMER_DURATION);
    }

    #[test]
    fn durations_follow_the_half_mass_radius() {
        // r_h / a: Dehnen 1 / (2^(1/(3 - gamma)) - 1), Plummer 1 / sqrt(2^(2/3) - 1).
        let plummer = 1.0 / (2f64.powf(2.0 / 3.0) - 1.0).sqrt();
        for gamma in [0.0, 1.0, 1.5] {
            let rh = 1.0 / (2f64.powf(1.0 / (3.0 - gamma)) - 1.0);
            let expected = PLUMMER_DURATION * (rh / plummer).powf(1.5);
            let got = DemoModel::Dehnen { gamma }.duration();
            assert!(
                (got / expected - 1.0).abs() < 1e-12,
                "gamma {gamma}: {got} vs {expected}"
            );
        }
        let hernquist = DemoModel::Hernquist.duration();
        assert!((hernquist / DemoModel::Dehnen { gamma: 1.0 }.duration() - 1.0).abs() < 1e-12);
        assert!((DemoModel::Isochrone.duration() - 0.25).abs() < 0.01);
    }
}
