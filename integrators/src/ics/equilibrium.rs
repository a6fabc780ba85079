//! The single entry point to the equilibrium samplers.

use super::eddington::EddingtonDf;
use super::exact::{IsochroneDf, PlummerDf};
use super::IcsError;
use crate::phase::PhaseSpace;
use crate::potential::spec::parse_terms;
use crate::potential::{Dehnen, Hernquist, Isochrone, Plummer, Potential, PotentialError};

/// The models [`EquilibriumModel::from_spec`] knows, for its error messages.
const KNOWN_MODELS: &str = "equilibrium sampling knows plummer:M=..,a=.. and isochrone:M=..,b=.. (exact \
                            distribution functions) and hernquist:M=..,a=.. and dehnen:M=..,a=..,gamma=.. \
                            (Eddington inversion)";

/// Options of the equilibrium samplers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EquilibriumOptions {
    /// Optional truncation radius (kpc). `None` (the default) samples the whole, untruncated
    /// model, so a few particles land far out in the r^-4 (Hernquist, Dehnen, isochrone) or
    /// r^-5 (Plummer) tails. `Some(r_max)` draws radii from the model's mass profile
    /// restricted to r < r_max (the enclosed-mass deviate is uniform on [0, M(<r_max)/M));
    /// velocities still come from the untruncated distribution function, so the sample is
    /// the model's particles that are inside r_max at that instant, not an equilibrium of its
    /// own (a few particles then leave r_max on their orbits).
    pub r_max: Option<f64>,
}

/// An isotropic spherical model with a known equilibrium distribution function.
/// Masses in Msun, lengths in kpc.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EquilibriumModel {
    /// Plummer sphere (exact DF, [`PlummerDf`]).
    Plummer { m: f64, a: f64 },
    /// Isochrone (exact DF, [`IsochroneDf`]).
    Isochrone { m: f64, b: f64 },
    /// Hernquist (1990) sphere (Eddington inversion, [`EddingtonDf`]).
    Hernquist { m: f64, a: f64 },
    /// Dehnen (1993) sphere, 0 <= gamma < 2 (Eddington inversion, [`EddingtonDf`]).
    Dehnen { m: f64, a: f64, gamma: f64 },
}

impl EquilibriumModel {
    /// The model of a potential, recognised from its canonical text form
    /// ([`Potential::spec`]): `plummer:M=..,a=..`, `isochrone:M=..,b=..`,
    /// `hernquist:M=..,a=..` or `dehnen:M=..,a=..,gamma=..`. Any other potential (sums,
    /// NFW, disks, ...) is [`IcsError::Unsupported`].
    pub fn from_potential(potential: &dyn Potential) -> Result<Self, IcsError> {
        Self::from_spec(&potential.spec())
    }

    /// The model of a text spec (the same forms as [`Self::from_potential`]), read by the
    /// potential parser's [`parse_terms`]: its syntax errors, sums and other families are
    /// [`IcsError::Unsupported`]; parameter values out of range are [`IcsError::Potential`].
    pub fn from_spec(spec: &str) -> Result<Self, IcsError> {
        let unsupported = |reason: String| IcsError::Unsupported {
            spec: spec.to_string(),
            reason,
        };
        let terms = parse_terms(spec).map_err(|e| match e {
            PotentialError::BadSpec { reason, .. } => unsupported(format!("{reason}; {KNOWN_MODELS}")),
            other => IcsError::Potential(other),
        })?;
        let [term] = terms.as_slice() else {
            return Err(unsupported(format!(
                "a sum of potentials has no single equilibrium DF; {KNOWN_MODELS}"
            )));
        };
        let model = match (term.name, term.params.as_slice()) {
            ("plummer", &[("M", m), ("a", a)]) => Self::Plummer { m, a },
            ("isochrone", &[("M", m), ("b", b)]) => Self::Isochrone { m, b },
            ("hernquist", &[("M", m), ("a", a)]) => Self::Hernquist { m, a },
            ("dehnen", &[("M", m), ("a", a), ("gamma", gamma)]) => Self::Dehnen { m, a, gamma },
            (other, _) => {
                return Err(unsupported(format!(
                    "'{other}' is not an equilibrium model; {KNOWN_MODELS}"
                )))
            }
        };
        model.potential()?;
        Ok(model)
    }

    /// The matching potential of [`crate::potential`] (also validates the parameters).
    pub fn potential(&self) -> Result<Box<dyn Potential>, IcsError> {
        Ok(match *self {
            Self::Plummer { m, a } => Box::new(Plummer::new(m, a)?),
            Self::Isochrone { m, b } => Box::new(Isochrone::new(m, b)?),
            Self::Hernquist { m, a } => Box::new(Hernquist::new(m, a)?),
            Self::Dehnen { m, a, gamma } => Box::new(Dehnen::new(m, a, gamma)?),
        })
    }

    /// Total mass (Msun).
    pub fn mass(&self) -> f64 {
        match *self {
            Self::Plummer { m, .. }
            | Self::Isochrone { m, .. }
            | Self::Hernquist { m, .. }
            | Self::Dehnen { m, .. } => m,
        }
    }
}

/// Draw `n` particles of an isotropic spherical model in equilibrium, reproducibly from
/// `seed` (independent of the number of rayon threads; see [`crate::ics`]).
///
/// Plummer and isochrone use their exact distribution functions ([`PlummerDf`],
/// [`IsochroneDf`]); Hernquist and Dehnen a distribution function from numerical Eddington
/// inversion of the crate's potential ([`EddingtonDf`], tabulated once per call, a few tens
/// of milliseconds). Positions in kpc, velocities in km/s, centred on the origin (the
/// sample's own centre of mass and mean velocity are not subtracted).
pub fn sample_equilibrium(
    model: &EquilibriumModel,
    n: usize,
    seed: u64,
    options: &EquilibriumOptions,
) -> Result<Vec<PhaseSpace>, IcsError> {
    match *model {
        EquilibriumModel::Plummer { m, a } => {
            Plummer::new(m, a)?;
            PlummerDf::new(m, a)?.sample(n, seed, options)
        }
        EquilibriumModel::Isochrone { m, b } => {
            Isochrone::new(m, b)?;
            IsochroneDf::new(m, b)?.sample(n, seed, options)
        }
        EquilibriumModel::Hernquist { m, a } => {
            let p = Hernquist::new(m, a)?;
            EddingtonDf::new(&p)?.sample(n, seed, options)
        }
        EquilibriumModel::Dehnen { m, a, gamma } => {
            let p = Dehnen::new(m, a, gamma)?;
            EddingtonDf::new(&p)?.sample(n, seed, options)
        }
    }
}

/// [`sample_equilibrium`] for the model a potential is (see
/// [`EquilibriumModel::from_potential`]); other potentials are [`IcsError::Unsupported`].
pub fn sample_equilibrium_from_potential(
    potential: &dyn Potential,
    n: usize,
    seed: u64,
    options: &EquilibriumOptions,
) -> Result<Vec<PhaseSpace>, IcsError> {
    sample_equilibrium(&EquilibriumModel::from_potential(potential)?, n, seed, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_round_trip_through_their_potentials() {
        let models = [
            EquilibriumModel::Plummer { m: 5e5, a: 0.02 },
            EquilibriumModel::Isochrone { m: 3.334e11, b: 5.0 },
            EquilibriumModel::Hernquist { m: 1e12, a: 20.0 },
            EquilibriumModel::Dehnen {
                m: 1e10,
                a: 1.5,
                gamma: 1.5,
            },
        ];
        for m in models {
            let p = m.potential().unwrap();
            assert_eq!(EquilibriumModel::from_potential(p.as_ref()).unwrap(), m);
        }
    }

    #[test]
    fn other_specs_are_clear_errors() {
        for spec in [
            "nfw:Ms=1e11,a=16",
            "plummer:M=1e5,a=1+isochrone:M=1e11,b=5",
            "mw2014",
            "plummer:M=1e5",
        ] {
            let e = EquilibriumModel::from_spec(spec).unwrap_err();
            assert!(matches!(e, IcsError::Unsupported { .. }), "{spec}: {e}");
        }
        assert!(matches!(
            EquilibriumModel::from_spec("dehnen:M=1e10,a=1,gamma=2.5"),
            Err(IcsError::Potential(_))
        ));
        assert!(EquilibriumModel::from_spec("plummer:M=1e+05,a=2").is_ok());
    }
}
