//! Classic action finders by name, and the `actions` command: actions, angles and
//! frequencies in a known potential for every point of a dataset or catalog.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use actionfinder_integrators::actions::{
    find_batch, ActionFinder, Batch, FocalDistance, IsochroneFinder, SphericalFinder, StaeckelFinder,
};
use actionfinder_integrators::potential::{spec, Potential, Symmetry};
use anyhow::{bail, Context, Result};

use crate::catalog::Catalog;
use crate::dataset::checks::MAX_POSITION_KPC;
use crate::dataset::StreamLayout;
use crate::points::Points;
use crate::progress;

/// Which classic method to use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// The exact method where one exists (isochrone, spherical, Staeckel for
    /// Kuzmin-Kutuzov), else the Staeckel fudge with the focal distance estimated per point.
    Auto,
    /// The exact isochrone map (the potential must be a single isochrone).
    Isochrone,
    /// Quadrature in any spherical potential.
    Spherical,
    /// The Staeckel fudge (Binney 2012), focal distance fixed (kpc) or estimated per point.
    Staeckel { delta: Option<f64> },
}

impl FromStr for Method {
    type Err = anyhow::Error;

    /// `auto`, `isochrone`, `spherical`, `staeckel` or `staeckel:delta=D` (D in kpc).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "auto" => return Ok(Method::Auto),
            "isochrone" => return Ok(Method::Isochrone),
            "spherical" => return Ok(Method::Spherical),
            "staeckel" => return Ok(Method::Staeckel { delta: None }),
            _ => {}
        }
        let delta = s
            .trim()
            .strip_prefix("staeckel:delta=")
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0 && *d <= MAX_POSITION_KPC);
        match delta {
            Some(d) => Ok(Method::Staeckel { delta: Some(d) }),
            None => bail!(
                "unknown method '{s}': expected auto, isochrone, spherical, staeckel or staeckel:delta=D \
                 (0 < D <= {MAX_POSITION_KPC:e} kpc)"
            ),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Auto => write!(f, "auto"),
            Method::Isochrone => write!(f, "isochrone"),
            Method::Spherical => write!(f, "spherical"),
            Method::Staeckel { delta: None } => write!(f, "staeckel"),
            Method::Staeckel { delta: Some(d) } => write!(f, "staeckel:delta={d}"),
        }
    }
}

/// A finder and whether its answers are exact for this potential (truth) or approximate.
pub struct Choice {
    pub finder: Box<dyn ActionFinder>,
    pub exact: bool,
}

/// The parameters of a potential that is a single term of family `name`.
fn single_term(pot: &dyn Potential, name: &str) -> Option<Vec<(&'static str, f64)>> {
    match spec::parse_terms(&pot.spec()).ok()?.as_slice() {
        [t] if t.name == name => Some(t.params.clone()),
        _ => None,
    }
}

/// The isochrone's (M, b) when the potential is a single isochrone.
fn isochrone_parameters(pot: &dyn Potential) -> Option<(f64, f64)> {
    match single_term(pot, "isochrone")?.as_slice() {
        [("M", m), ("b", b)] => Some((*m, *b)),
        _ => None,
    }
}

/// The focal distance of a single Kuzmin-Kutuzov potential, for which the fudge is exact.
fn kuzmin_kutuzov_delta(pot: &dyn Potential) -> Option<f64> {
    single_term(pot, "kuzmin-kutuzov")?
        .iter()
        .find(|(k, _)| *k == "delta")
        .map(|(_, d)| *d)
}

/// Build the finder for `method` in `pot`.
pub fn choose(pot: Arc<dyn Potential>, method: Method) -> Result<Choice> {
    let spec_text = pot.spec();
    let choice = match method {
        Method::Auto => return choose_auto(pot),
        Method::Isochrone => {
            let Some((m, b)) = isochrone_parameters(pot.as_ref()) else {
                bail!("method isochrone needs a single isochrone potential, got {spec_text}");
            };
            Choice {
                finder: Box::new(IsochroneFinder::new(m, b)?),
                exact: true,
            }
        }
        Method::Spherical => Choice {
            finder: Box::new(SphericalFinder::new(pot)?),
            exact: true,
        },
        Method::Staeckel { delta } => {
            let exact = delta.is_some() && delta == kuzmin_kutuzov_delta(pot.as_ref());
            let focal = delta.map_or(FocalDistance::Estimate, FocalDistance::Fixed);
            Choice {
                finder: Box::new(StaeckelFinder::new(pot, focal)?),
                exact,
            }
        }
    };
    Ok(choice)
}

fn choose_auto(pot: Arc<dyn Potential>) -> Result<Choice> {
    if isochrone_parameters(pot.as_ref()).is_some() {
        return choose(pot, Method::Isochrone);
    }
    if pot.symmetry() == Symmetry::Spherical {
        return choose(pot, Method::Spherical);
    }
    if let Some(delta) = kuzmin_kutuzov_delta(pot.as_ref()) {
        return choose(pot, Method::Staeckel { delta: Some(delta) });
    }
    match pot.symmetry() {
        Symmetry::Axisymmetric => choose(pot, Method::Staeckel { delta: None }),
        _ => bail!(
            "no classic action finder for the non-axisymmetric potential {}",
            pot.spec()
        ),
    }
}

/// Actions of every point with a progress bar.
pub fn run_batch(finder: &dyn ActionFinder, points: &[actionfinder_integrators::PhaseSpace]) -> Batch {
    let bar = progress::counter(points.len() as u64, "finding actions");
    let batch = find_batch(finder, points, &|| bar.inc(1));
    bar.finish_and_clear();
    batch
}

/// Per stream: the mean absolute deviation of the actions about the stream's mean, averaged
/// over the three components (kpc km/s), repeated for every star of the stream. NaN where a
/// star of the stream has no actions.
pub fn action_spread(actions: &[f64], stars: usize) -> Vec<f64> {
    actions
        .chunks_exact(3 * stars)
        .flat_map(|stream| std::iter::repeat_n(stream_spread(stream), stars))
        .collect()
}

/// [`action_spread`] for streams laid out as `layout` says.
pub fn action_spread_streams(actions: &[f64], layout: &StreamLayout) -> Vec<f64> {
    let per_stream: Vec<f64> = layout.split(actions, 3).map(stream_spread).collect();
    layout.repeat(&per_stream)
}

fn stream_spread(stream: &[f64]) -> f64 {
    let stars = stream.len() / 3;
    let mut total = 0.0;
    for k in 0..3 {
        let mean = (0..stars).map(|i| stream[3 * i + k]).sum::<f64>() / stars as f64;
        total += (0..stars).map(|i| (stream[3 * i + k] - mean).abs()).sum::<f64>() / stars as f64;
    }
    total / 3.0
}

/// What `actions` did.
#[derive(Debug, Clone)]
pub struct ActionsSummary {
    pub points: usize,
    pub failures: usize,
    pub method: String,
    pub seconds: f64,
}

impl fmt::Display for ActionsSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} points with {}: {} failed (NaN, flagged); {:.2} s ({:.2} us per point)",
            self.points,
            self.method,
            self.failures,
            self.seconds,
            1e6 * self.seconds / self.points.max(1) as f64
        )
    }
}

/// `actionfinder actions`: classic actions for every point of `input`, written to `out`.
pub fn actions_command(potential: &str, method: Method, input: &Path, out: &Path) -> Result<ActionsSummary> {
    let pot: Arc<dyn Potential> = Arc::from(spec::parse(potential)?);
    let choice = choose(pot.clone(), method)?;
    let points = Points::read(input).with_context(|| format!("reading points from {}", input.display()))?;
    let w = points.phase_space();
    let clock = std::time::Instant::now();
    let batch = run_batch(choice.finder.as_ref(), &w);
    let seconds = clock.elapsed().as_secs_f64();
    let catalog = catalog_of(&points, &batch, pot.as_ref(), choice.finder.name())?;
    catalog
        .write(out)
        .with_context(|| format!("writing catalog {}", out.display()))?;
    Ok(ActionsSummary {
        points: w.len(),
        failures: batch.failures(),
        method: choice.finder.name(),
        seconds,
    })
}

fn catalog_of(points: &Points, batch: &Batch, pot: &dyn Potential, method: String) -> Result<Catalog> {
    let mut cat = Catalog::new(points.xv.clone());
    cat.ids = points.ids.clone();
    cat.stream = points.stream.clone();
    let field = |f: fn(&actionfinder_integrators::actions::ActionAngle) -> [f64; 3]| {
        batch.results.iter().flat_map(f).collect::<Vec<f64>>()
    };
    let actions = field(|r| r.actions);
    if let Some(layout) = &points.layout {
        cat.set_column("action_spread", action_spread_streams(&actions, layout))
            .map_err(anyhow::Error::msg)?;
    }
    cat.set_column("actions", actions).map_err(anyhow::Error::msg)?;
    cat.set_column("angles", field(|r| r.angles))
        .map_err(anyhow::Error::msg)?;
    cat.set_column("frequencies", field(|r| r.frequencies))
        .map_err(anyhow::Error::msg)?;
    let xs: Vec<[f64; 3]> = points.xv.chunks_exact(6).map(|r| [r[0], r[1], r[2]]).collect();
    cat.set_column(
        "acceleration",
        xs.iter().flat_map(|x| pot.acceleration(x)).collect(),
    )
    .map_err(anyhow::Error::msg)?;
    cat.set_column("potential", xs.iter().map(|x| pot.potential(x)).collect())
        .map_err(anyhow::Error::msg)?;
    cat.flag = Some(batch.flags.iter().map(|&f| f as u32).collect());
    cat.attrs = points.attrs.clone();
    cat.attrs.potential = pot.spec();
    cat.attrs.source = format!("actionfinder {} actions", env!("CARGO_PKG_VERSION"));
    cat.attrs.description = format!("classic actions ({method}) of {}", points.attrs.description);
    cat.attrs.extra.insert("method".into(), method.into());
    Ok(cat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_and_print() {
        for s in ["auto", "isochrone", "spherical", "staeckel", "staeckel:delta=3.2"] {
            assert_eq!(s.parse::<Method>().unwrap().to_string(), s);
        }
        for bad in ["fudge", "staeckel:delta=-1", "staeckel:delta=x"] {
            let err = bad.parse::<Method>().unwrap_err().to_string();
            assert!(err.contains("expected auto"), "{err}");
        }
    }

    #[test]
    fn spread_of_a_conserved_stream_is_zero() {
        let same = [1.0, 2.0, 3.0].repeat(4);
        assert_eq!(action_spread(&same, 4), vec![0.0; 4]);
        let varied = [0.0, 0.0, 0.0, 2.0, 0.0, 0.0];
        assert_eq!(action_spread(&varied, 2), vec![1.0 / 3.0; 2]);
    }
}
