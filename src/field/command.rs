//! `actionfinder field`: the learned field of a model directory at given positions or on a
//! grid of the x-z plane, written to HDF5, compared with a known potential or with a
//! dataset's truth, and plotted.
//!
//! Profiles, at radii log-spaced from 0.04 to 3 times the extent (the grid's `RMAX`, or
//! the 99th percentile of `|x|` of the positions):
//! - circular speed `v_c(R) = sqrt(R <a_R>)`, `a_R = -(x a_x + y a_y) / R`, averaged over 16
//!   azimuths in the plane `z = 0`;
//! - vertical force `K_z(R) = <a_z>` at `z = h`, averaged over 16 azimuths;
//! - spherically averaged radial acceleration `<a_r>(r)`, `a_r = a . x / r`, over 64
//!   directions of a Fibonacci sphere (plotted as `-<a_r>`).
//!
//! Against a known potential each profile is compared curve to curve; against a dataset's
//! truth, point by point at the dataset's points that the profile describes (near the plane,
//! `|z| <= 0.1 R`; near `|z| = h`, `||z| - h| <= 0.1 h`; all). A relative difference is
//! `|q - q_ref| / |q_ref|`.

use std::f64::consts::{PI, TAU};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use actionfinder_integrators::potential::spec::parse as parse_potential;
use actionfinder_integrators::Potential;
use actionfinder_snapshots::h5::{Dim, H5File, H5Writer};
use anyhow::{bail, Context, Result};

use super::columns::POTENTIAL_ZERO_POINT;
use super::plots::{self, Curve, Figure, Map, Mark, FIELD_COLOUR, REFERENCE_COLOUR};
use super::{FieldModel, FieldValues};
use crate::dataset::checks::MAX_POSITION_KPC;
use crate::dataset::units;
use crate::dataset::{write_root_attrs, DatasetAttrs, StreamsDataset};
use crate::flags::positive;
use crate::output::{self, write_atomically, Existing};
use crate::points::Points;

/// Points per side of a grid when `--grid` gives none.
pub const DEFAULT_GRID_N: usize = 64;
/// Largest points per side of a grid.
pub const MAX_GRID_N: usize = 4096;
/// Radii of each profile.
const PROFILE_RADII: usize = 96;
/// Smallest profile radius, as a fraction of the extent.
const INNER_FRACTION: f64 = 0.04;
/// Azimuths of a ring, directions of a shell.
const RING: usize = 16;
const SHELL: usize = 64;
/// The potential map's file in the plot folder.
const MAP_FILE: &str = "potential_map.png";
/// Points per side of the potential map.
const MAP_N: usize = 161;

/// An `n x n` grid of the x-z plane (`y = 0`), x and z in `[-rmax, rmax]` kpc.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    pub rmax: f64,
    pub n: usize,
}

impl FromStr for GridSpec {
    type Err = String;

    /// `RMAX` or `RMAX,N`: `0 < RMAX <= 1e6` kpc, `2 <= N <= 4096`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("{why}: --grid is RMAX or RMAX,N (0 < RMAX <= {MAX_POSITION_KPC:e} kpc, 2 <= N <= {MAX_GRID_N})")
        };
        let (rmax, n) = match s.split_once(',') {
            Some((r, n)) => (r, n.trim().parse().map_err(|_| bad("N is not a whole number"))?),
            None => (s, DEFAULT_GRID_N),
        };
        let rmax: f64 = rmax.trim().parse().map_err(|_| bad("RMAX is not a number"))?;
        if !(rmax.is_finite() && rmax > 0.0 && rmax <= MAX_POSITION_KPC) {
            return Err(bad("RMAX is out of range"));
        }
        if !(2..=MAX_GRID_N).contains(&n) {
            return Err(bad("N is out of range"));
        }
        Ok(GridSpec { rmax, n })
    }
}

impl GridSpec {
    /// Rows of 3 (kpc): `(x_i, 0, z_j)`, `x_i = -rmax + 2 rmax i / (n - 1)`, z outer, x inner.
    pub fn positions(&self) -> Vec<f64> {
        let at = |i: usize| -self.rmax + 2.0 * self.rmax * i as f64 / (self.n - 1) as f64;
        (0..self.n * self.n)
            .flat_map(|k| [at(k % self.n), 0.0, at(k / self.n)])
            .collect()
    }
}

/// Where the field is evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum Positions {
    /// A catalog, a streams dataset or a file with `/positions` `[n,3]`.
    At(PathBuf),
    Grid(GridSpec),
}

/// The `field` job.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCommandConfig {
    /// Model directory with a learned field.
    pub model: PathBuf,
    pub positions: Positions,
    /// Output HDF5 file.
    pub out: PathBuf,
    /// Folder for the PNG plots.
    pub plots: Option<PathBuf>,
    /// Known potential to compare with (a `potential::spec` text).
    pub compare: Option<String>,
    /// Height `h` (kpc) of the vertical force profile.
    pub z_height: f64,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Whether an existing output file and plots may be replaced.
    pub existing: Existing,
}

/// The field against the reference at the output positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// Largest and mean `|a - a_ref| / |a_ref|`.
    pub acceleration_max: f64,
    pub acceleration_mean: f64,
    /// The mean `Phi - Phi_ref` and the largest `|Phi - Phi_ref - mean|` ((km/s)^2), where
    /// both potentials exist.
    pub potential: Option<(f64, f64)>,
}

/// Relative differences of one profile from the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileStats {
    pub name: String,
    pub max: f64,
    pub mean: f64,
    /// Radii (curve against curve) or points (against a dataset's truth) compared.
    pub samples: usize,
}

/// What `field` did.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCommandSummary {
    pub model: PathBuf,
    /// Where the positions came from.
    pub positions: String,
    pub points: usize,
    pub out: PathBuf,
    /// Whether the field has a potential.
    pub potential: bool,
    /// What the field was compared with.
    pub reference: Option<String>,
    pub agreement: Option<Agreement>,
    pub profiles: Vec<ProfileStats>,
    pub plots: Vec<PathBuf>,
}

/// The positions and what came with them.
struct Input {
    /// Rows of 3 (kpc).
    x: Vec<f64>,
    describe: String,
    grid: Option<GridSpec>,
    /// A streams dataset's `/truth/acceleration` (and `/truth/potential`).
    truth: Option<FieldValues>,
    /// The grid's `RMAX`, or the 99th percentile of `|x|` (kpc).
    extent: f64,
}

/// What the field is compared with: a known potential (anywhere) or a dataset's truth (at
/// its points), and its values at the output positions.
struct Reference {
    name: String,
    known: Option<Box<dyn Potential>>,
    values: FieldValues,
}

/// Run `field`: evaluate, write, compare, plot.
pub fn field_command(cfg: &FieldCommandConfig) -> Result<FieldCommandSummary> {
    check(cfg)?;
    let known = cfg.compare.as_deref().map(known_potential).transpose()?;
    let device = crate::device::parse(&cfg.device)?;
    let (field, _) = FieldModel::load(&cfg.model, &device)?;
    let mut input = read_input(&cfg.positions)?;
    let values = field.evaluate(&input.x)?;
    let reference = reference(known, &mut input);
    write_field(cfg, &input, &values, reference.as_ref())?;
    let profiles = if cfg.plots.is_some() || reference.is_some() {
        Profiles::new(&field, &input, &values, reference.as_ref(), cfg.z_height)?
    } else {
        Profiles::default()
    };
    let plots = match &cfg.plots {
        Some(dir) => write_plots(dir, &field, &input, reference.as_ref(), &profiles)?,
        None => Vec::new(),
    };
    Ok(FieldCommandSummary {
        model: cfg.model.clone(),
        positions: input.describe.clone(),
        points: input.x.len() / 3,
        out: cfg.out.clone(),
        potential: values.potential.is_some(),
        agreement: reference.as_ref().map(|r| agreement(&values, &r.values)),
        reference: reference.map(|r| r.name),
        profiles: profiles.stats(),
        plots,
    })
}

/// A positive height, and outputs that are not inputs and do not exist (unless replacing).
fn check(cfg: &FieldCommandConfig) -> Result<()> {
    positive("--z-height", cfg.z_height, MAX_POSITION_KPC)?;
    let model_files = output::files_in(&cfg.model);
    let mut inputs: Vec<&Path> = model_files.iter().map(PathBuf::as_path).collect();
    if let Positions::At(input) = &cfg.positions {
        inputs.push(input);
    }
    output::check_file("--out", &cfg.out, &inputs, cfg.existing)?;
    if let Some(dir) = &cfg.plots {
        let names: Vec<&str> = PROFILES.iter().map(|p| p.file()).chain([MAP_FILE]).collect();
        output::check_files_in("--plots", dir, &names, &inputs, cfg.existing)?;
    }
    Ok(())
}

/// The positions of a grid or a file.
fn read_input(positions: &Positions) -> Result<Input> {
    let (x, describe, grid, truth) = match positions {
        Positions::Grid(g) => (
            g.positions(),
            format!(
                "{0} x {0} grid of the x-z plane, |x|, |z| <= {1} kpc",
                g.n, g.rmax
            ),
            Some(*g),
            None,
        ),
        Positions::At(path) => {
            let (x, truth) = read_positions(path).with_context(|| format!("--at {}", path.display()))?;
            (x, path.display().to_string(), None, truth)
        }
    };
    if x.is_empty() {
        bail!("no positions in {describe}");
    }
    let extent = grid.map_or_else(|| percentile_radius(&x, 0.99), |g| g.rmax);
    Ok(Input {
        x,
        describe,
        grid,
        truth,
        extent,
    })
}

/// Positions (rows of 3, kpc) of a streams dataset (with its truth), a catalog or
/// `/positions` (converted from its stated length unit, columns in its stated order).
fn read_positions(path: &Path) -> Result<(Vec<f64>, Option<FieldValues>)> {
    let f = H5File::open(path)?;
    if f.has_dataset("/streams/xv") {
        drop(f);
        let ds = StreamsDataset::read(path)?;
        let truth = ds.truth.acceleration.map(|acceleration| FieldValues {
            acceleration,
            potential: ds.truth.potential,
        });
        return Ok((first_three(&ds.xv), truth));
    }
    if f.has_dataset("/particles/xv") {
        drop(f);
        return Ok((first_three(&Points::read(path)?.xv), None));
    }
    if f.has_dataset("/positions") {
        return Ok((
            units::read_positions(&f, "/positions", &[Dim::Any("n"), Dim::Is(3)])?.data,
            None,
        ));
    }
    bail!("neither a streams dataset (/streams/xv), a catalog (/particles/xv) nor /positions [n,3]")
}

/// x, y, z of rows of 6.
fn first_three(xv: &[f64]) -> Vec<f64> {
    xv.chunks_exact(6).flat_map(|r| [r[0], r[1], r[2]]).collect()
}

/// The `q`-quantile of the finite `|x|` of rows of 3 (at least 0.1 kpc).
fn percentile_radius(x: &[f64], q: f64) -> f64 {
    let mut r: Vec<f64> = x.chunks_exact(3).map(norm).filter(|r| r.is_finite()).collect();
    r.sort_by(f64::total_cmp);
    let k = ((r.len() as f64 - 1.0) * q).round() as usize;
    r.get(k).copied().unwrap_or(0.0).max(0.1)
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|c| c * c).sum::<f64>().sqrt()
}

/// The potential `spec` of `--compare`, with its name.
fn known_potential(spec: &str) -> Result<(String, Box<dyn Potential>)> {
    let known = parse_potential(spec).map_err(|e| anyhow::anyhow!("--compare {spec:?}: {e}"))?;
    Ok((spec.to_string(), known))
}

/// The known potential, else the input's truth, with its values at the positions.
fn reference(known: Option<(String, Box<dyn Potential>)>, input: &mut Input) -> Option<Reference> {
    if let Some((name, known)) = known {
        return Some(Reference {
            name,
            values: known_values(known.as_ref(), &input.x),
            known: Some(known),
        });
    }
    input.truth.take().map(|values| Reference {
        name: format!("truth of {}", input.describe),
        known: None,
        values,
    })
}

/// Acceleration and potential of a known potential at rows of 3.
fn known_values(p: &dyn Potential, x: &[f64]) -> FieldValues {
    let rows = || x.chunks_exact(3).map(|r| [r[0], r[1], r[2]]);
    FieldValues {
        acceleration: rows().flat_map(|r| p.acceleration(&r)).collect(),
        potential: Some(rows().map(|r| p.potential(&r)).collect()),
    }
}

/// Writes `/field` (and `/compare`) to `cfg.out`.
fn write_field(
    cfg: &FieldCommandConfig,
    input: &Input,
    values: &FieldValues,
    reference: Option<&Reference>,
) -> Result<()> {
    let n = input.x.len() / 3;
    let mut w = H5Writer::new();
    w.dataset("/field/x", &input.x, &[n, 3]);
    w.attr("/field/x", "unit", "kpc")
        .attr("/field/x", "component_order", "x,y,z");
    write_values(&mut w, "/field", values, n, Some(POTENTIAL_ZERO_POINT));
    if let Some(r) = reference {
        write_values(&mut w, "/compare", &r.values, n, None);
        w.attr("/", "compare", r.name.as_str());
    }
    let attrs = DatasetAttrs {
        description: "the learned field of a model directory at positions".into(),
        source: format!("actionfinder {} field", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    write_root_attrs(&mut w, &attrs);
    w.attr("/", "model", cfg.model.display().to_string());
    w.attr("/", "positions", input.describe.as_str());
    if let Some(g) = input.grid {
        w.attr("/", "grid_rmax", g.rmax).attr("/", "grid_n", g.n as u64);
    }
    w.write(&cfg.out)
        .with_context(|| format!("--out {}", cfg.out.display()))
}

/// `{group}/acceleration` `[n,3]` and, where there is one, `{group}/potential` `[n]` (with
/// its `zero_point`, when stated).
fn write_values<'a>(
    w: &mut H5Writer<'a>,
    group: &str,
    values: &'a FieldValues,
    n: usize,
    zero_point: Option<&str>,
) {
    let path = format!("{group}/acceleration");
    w.dataset(&path, &values.acceleration, &[n, 3]);
    w.attr(&path, "unit", "(km/s)^2/kpc")
        .attr(&path, "component_order", "x,y,z");
    let Some(phi) = &values.potential else { return };
    let path = format!("{group}/potential");
    w.dataset(&path, phi, &[n]);
    w.attr(&path, "unit", "(km/s)^2");
    if let Some(z) = zero_point {
        w.attr(&path, "zero_point", z);
    }
}

/// The field against the reference at the positions.
fn agreement(field: &FieldValues, reference: &FieldValues) -> Agreement {
    let rel = (field
        .acceleration
        .chunks_exact(3)
        .zip(reference.acceleration.chunks_exact(3)))
    .map(|(a, b)| norm(&[a[0] - b[0], a[1] - b[1], a[2] - b[2]]) / norm(b));
    let (acceleration_max, acceleration_mean, _) = max_mean(rel);
    let potential = field
        .potential
        .as_ref()
        .zip(reference.potential.as_ref())
        .map(|(p, q)| {
            let diff: Vec<f64> = p.iter().zip(q).map(|(p, q)| p - q).collect();
            let offset = max_mean(diff.iter().copied()).1;
            (offset, max_mean(diff.iter().map(|d| (d - offset).abs())).0)
        });
    Agreement {
        acceleration_max,
        acceleration_mean,
        potential,
    }
}

/// Largest and mean of the finite `values`, and how many (NaN, NaN, 0 for none).
fn max_mean(values: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let (max, sum, n) = values
        .filter(|v| v.is_finite())
        .fold((f64::NEG_INFINITY, 0.0, 0), |(m, s, n), v| {
            (m.max(v), s + v, n + 1)
        });
    match n {
        0 => (f64::NAN, f64::NAN, 0),
        _ => (max, sum / n as f64, n),
    }
}

/// One profile of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    CircularSpeed,
    VerticalForce,
    RadialAcceleration,
}

const PROFILES: [Profile; 3] = [
    Profile::CircularSpeed,
    Profile::VerticalForce,
    Profile::RadialAcceleration,
];

impl Profile {
    fn file(self) -> &'static str {
        match self {
            Profile::CircularSpeed => "circular_speed.png",
            Profile::VerticalForce => "vertical_force.png",
            Profile::RadialAcceleration => "radial_acceleration.png",
        }
    }

    /// Name in the table and the plot's title.
    fn name(self, h: f64) -> String {
        match self {
            Profile::CircularSpeed => "v_c(R)".into(),
            Profile::VerticalForce => format!("K_z(R) at |z| = {h} kpc"),
            Profile::RadialAcceleration => "<a_r>(r)".into(),
        }
    }

    /// Offsets of the samples at radius 1: a ring of 16 azimuths or a Fibonacci sphere of
    /// 64 directions, `z_k = 1 - (2k + 1)/64`, `phi_k = k pi (3 - sqrt 5)`.
    fn directions(self) -> Vec<[f64; 3]> {
        if self == Profile::RadialAcceleration {
            let dir = |k: usize| {
                let z = 1.0 - (2 * k + 1) as f64 / SHELL as f64;
                let (s, c) = (k as f64 * PI * (3.0 - 5f64.sqrt())).sin_cos();
                let rho = (1.0 - z * z).sqrt();
                [rho * c, rho * s, z]
            };
            return (0..SHELL).map(dir).collect();
        }
        let ring = |k: usize| (k as f64 * TAU / RING as f64).sin_cos();
        (0..RING).map(ring).map(|(s, c)| [c, s, 0.0]).collect()
    }

    /// The sample in direction `d` at radius `s`: `s d`, lifted to `z = h` for `K_z`.
    fn sample(self, s: f64, d: &[f64; 3], h: f64) -> [f64; 3] {
        let lift = if self == Profile::VerticalForce { h } else { 0.0 };
        [s * d[0], s * d[1], s * d[2] + lift]
    }

    /// The radius the profile runs along: cylindrical `R`, or spherical `r`.
    fn abscissa(self, x: &[f64]) -> f64 {
        match self {
            Profile::RadialAcceleration => norm(x),
            _ => x[0].hypot(x[1]),
        }
    }

    /// What is averaged at one position: `a_R`, `a_z sign(z)` or `a_r`.
    fn raw(self, x: &[f64], a: &[f64]) -> f64 {
        let s = self.abscissa(x);
        match self {
            Profile::CircularSpeed => -(x[0] * a[0] + x[1] * a[1]) / s,
            Profile::VerticalForce => a[2] * x[2].signum(),
            Profile::RadialAcceleration => (x[0] * a[0] + x[1] * a[1] + x[2] * a[2]) / s,
        }
    }

    /// The plotted value from the mean raw value at radius `s`: `sqrt(s a_R)` (NaN where
    /// `a_R < 0`), `K_z`, `-<a_r>`.
    fn value(self, s: f64, raw: f64) -> f64 {
        match self {
            Profile::CircularSpeed => (s * raw).sqrt(),
            Profile::VerticalForce => raw,
            Profile::RadialAcceleration => -raw,
        }
    }

    /// Whether a data point at `x` belongs to the profile.
    fn selects(self, x: &[f64], h: f64) -> bool {
        match self {
            Profile::CircularSpeed => x[2].abs() <= 0.1 * self.abscissa(x),
            Profile::VerticalForce => (x[2].abs() - h).abs() <= 0.1 * h,
            Profile::RadialAcceleration => norm(x) > 0.0,
        }
    }

    /// The averaged profile of the accelerations `eval` gives, at `radii`.
    fn curve(
        self,
        radii: &[f64],
        h: f64,
        eval: impl Fn(&[f64]) -> Result<Vec<f64>>,
    ) -> Result<Vec<(f64, f64)>> {
        let dirs = self.directions();
        let x: Vec<f64> = (radii.iter())
            .flat_map(|&s| dirs.iter().flat_map(move |d| self.sample(s, d, h)))
            .collect();
        let a = eval(&x)?;
        let raws: Vec<f64> = (0..x.len() / 3)
            .map(|j| self.raw(&x[3 * j..3 * j + 3], &a[3 * j..3 * j + 3]))
            .collect();
        let mean = |c: &[f64]| c.iter().sum::<f64>() / c.len() as f64;
        Ok((radii.iter().zip(raws.chunks(dirs.len())))
            .map(|(&s, c)| (s, self.value(s, mean(c))))
            .collect())
    }

    /// The profile's value at each data point it selects, from accelerations `a`.
    fn at_points(self, x: &[f64], a: &[f64], h: f64) -> Vec<(f64, f64)> {
        (x.chunks_exact(3).zip(a.chunks_exact(3)))
            .filter(|(x, _)| self.selects(x, h))
            .map(|(x, a)| (self.abscissa(x), self.value(self.abscissa(x), self.raw(x, a))))
            .collect()
    }

    /// Axis labels: (x, y, log y).
    fn axes(self) -> (&'static str, &'static str, bool) {
        match self {
            Profile::CircularSpeed => ("R (kpc)", "v_c = sqrt(R a_R) (km/s)", false),
            Profile::VerticalForce => ("R (kpc)", "K_z = a_z ((km/s)²/kpc)", false),
            Profile::RadialAcceleration => ("r (kpc)", "-<a_r> ((km/s)²/kpc)", true),
        }
    }
}

/// Radii log-spaced from [`INNER_FRACTION`] of `extent` to 3 `extent`.
fn log_radii(extent: f64) -> Vec<f64> {
    let (lo, hi) = ((INNER_FRACTION * extent).ln(), (3.0 * extent).ln());
    (0..PROFILE_RADII)
        .map(|k| (lo + (hi - lo) * k as f64 / (PROFILE_RADII - 1) as f64).exp())
        .collect()
}

/// (radius, value) pairs of a profile.
type Pairs = Vec<(f64, f64)>;

/// One profile of the field and of the reference.
struct ProfileData {
    profile: Profile,
    name: String,
    field: Pairs,
    /// The known potential's curve.
    reference: Option<Pairs>,
    /// The field and the truth at the dataset's points (against a dataset's truth).
    points: Option<(Pairs, Pairs)>,
}

/// Every profile.
#[derive(Default)]
struct Profiles(Vec<ProfileData>);

impl Profiles {
    fn new(
        field: &FieldModel,
        input: &Input,
        values: &FieldValues,
        reference: Option<&Reference>,
        h: f64,
    ) -> Result<Self> {
        let radii = log_radii(input.extent);
        let field_eval = |x: &[f64]| Ok(field.evaluate(x)?.acceleration);
        let known = reference.and_then(|r| r.known.as_deref());
        let truth = reference.filter(|r| r.known.is_none());
        let data = |p: Profile| -> Result<ProfileData> {
            Ok(ProfileData {
                profile: p,
                name: p.name(h),
                field: p.curve(&radii, h, field_eval)?,
                reference: match known {
                    Some(k) => Some(p.curve(&radii, h, |x| Ok(known_values(k, x).acceleration))?),
                    None => None,
                },
                points: truth.map(|t| {
                    let at = |a: &[f64]| p.at_points(&input.x, a, h);
                    (at(&values.acceleration), at(&t.values.acceleration))
                }),
            })
        };
        Ok(Profiles(
            PROFILES.iter().map(|&p| data(p)).collect::<Result<_>>()?,
        ))
    }

    /// Relative differences from the reference, per profile that has one.
    fn stats(&self) -> Vec<ProfileStats> {
        let stats = |d: &ProfileData| {
            let (f, r) = d.compared()?;
            let rel = f.iter().zip(r).map(|(f, r)| (f.1 - r.1).abs() / r.1.abs());
            let (max, mean, samples) = max_mean(rel);
            Some(ProfileStats {
                name: d.name.clone(),
                max,
                mean,
                samples,
            })
        };
        self.0.iter().filter_map(stats).collect()
    }
}

impl ProfileData {
    /// The field's values and the reference's, pair by pair: curve against curve, or at the
    /// dataset's points.
    fn compared(&self) -> Option<(&Pairs, &Pairs)> {
        match (&self.reference, &self.points) {
            (Some(r), _) => Some((&self.field, r)),
            (None, Some((f, t))) => Some((f, t)),
            _ => None,
        }
    }

    /// The profile's figure: the field's curve, the reference's, the values at the points.
    fn figure(&self, reference: Option<&str>) -> Figure {
        let curve = |label: String, points: &[(f64, f64)], mark| Curve {
            label,
            points: points.to_vec(),
            mark,
        };
        let mut curves = vec![curve(
            "learned field".into(),
            &self.field,
            Mark::Line(FIELD_COLOUR),
        )];
        if let (Some(r), Some(name)) = (&self.reference, reference) {
            curves.push(curve(name.to_string(), r, Mark::Dashed(REFERENCE_COLOUR)));
        }
        if let Some((f, t)) = &self.points {
            curves.push(curve(
                format!("learned field at the points ({})", f.len()),
                f,
                Mark::Dots(FIELD_COLOUR),
            ));
            curves.push(curve(
                format!("truth at the points ({})", t.len()),
                t,
                Mark::Circles(REFERENCE_COLOUR),
            ));
        }
        let (x_desc, y_desc, log_y) = self.profile.axes();
        Figure {
            title: self.name.clone(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            log_y,
            curves,
        }
    }
}

/// Writes the profile plots and, for a potential, `potential_map.png` into `dir`.
fn write_plots(
    dir: &Path,
    field: &FieldModel,
    input: &Input,
    reference: Option<&Reference>,
    profiles: &Profiles,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--plots {}: cannot create the folder", dir.display()))?;
    let name = reference.map(|r| r.name.as_str());
    let mut written = Vec::new();
    for data in &profiles.0 {
        let path = dir.join(data.profile.file());
        write_atomically(&path, |p| plots::profile_png(p, &data.figure(name)))
            .map_err(|e| plot_error(&path, e))?;
        written.push(path);
    }
    if let Some(map) = potential_map(field, input.extent, reference)? {
        let path = dir.join(MAP_FILE);
        write_atomically(&path, |p| plots::map_png(p, &map)).map_err(|e| plot_error(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

fn plot_error(path: &Path, e: Box<dyn std::error::Error>) -> anyhow::Error {
    anyhow::anyhow!("plot {}: {e}", path.display())
}

/// The field's potential on a grid of the x-z plane, beside a known reference's shifted by
/// the mean difference (potentials agree up to a constant); `None` without a potential.
fn potential_map(field: &FieldModel, extent: f64, reference: Option<&Reference>) -> Result<Option<Map>> {
    let grid = GridSpec {
        rmax: extent,
        n: MAP_N,
    };
    let x = grid.positions();
    let Some(phi) = field.evaluate(&x)?.potential else {
        return Ok(None);
    };
    let mut panels = vec![("learned Φ".to_string(), phi.clone())];
    if let Some(r) = reference {
        if let Some(known) = &r.known {
            let reference = known_values(known.as_ref(), &x).potential.unwrap_or_default();
            let diff = phi.iter().zip(&reference).map(|(p, q)| p - q);
            let offset = max_mean(diff).1;
            let shifted = reference.iter().map(|q| q + offset).collect();
            panels.push((format!("{} shifted by {offset:.3e}", r.name), shifted));
        }
    }
    Ok(Some(Map {
        extent,
        n: MAP_N,
        panels,
        value_desc: "Φ ((km/s)²)".into(),
    }))
}

impl fmt::Display for FieldCommandSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.potential {
            "acceleration and potential"
        } else {
            "acceleration"
        };
        writeln!(
            f,
            "field of {}: {what} at {} points ({})",
            self.model.display(),
            self.points,
            self.positions
        )?;
        if let (Some(name), Some(a)) = (&self.reference, &self.agreement) {
            writeln!(f, "compared with {name}:")?;
            writeln!(
                f,
                "  |a - a_ref| / |a_ref| at the points: max {:.3e}, mean {:.3e}",
                a.acceleration_max, a.acceleration_mean
            )?;
            if let Some((offset, max)) = a.potential {
                writeln!(f, "  Phi - Phi_ref: mean {offset:.4e} (km/s)^2, largest departure from it {max:.3e} (km/s)^2")?;
            }
        }
        if !self.profiles.is_empty() {
            writeln!(
                f,
                "  {:<24} {:>12} {:>12} {:>8}",
                "relative difference", "max", "mean", "samples"
            )?;
            for p in &self.profiles {
                writeln!(
                    f,
                    "  {:<24} {:>12.3e} {:>12.3e} {:>8}",
                    p.name, p.max, p.mean, p.samples
                )?;
            }
        }
        for path in &self.plots {
            writeln!(f, "wrote {}", path.display())?;
        }
        write!(f, "wrote {}", self.out.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_spec_parses_and_refuses() {
        assert_eq!(
            "20".parse(),
            Ok(GridSpec {
                rmax: 20.0,
                n: DEFAULT_GRID_N
            })
        );
        assert_eq!(" 2.5 , 8".parse(), Ok(GridSpec { rmax: 2.5, n: 8 }));
        for bad in ["", "0", "-3", "inf", "nan", "x", "5,1", "5,4097", "5,2.5", "5,"] {
            let err = bad.parse::<GridSpec>().unwrap_err();
            assert!(err.contains("--grid"), "{bad}: {err}");
        }
    }

    #[test]
    fn grid_positions_span_the_plane() {
        let x = GridSpec { rmax: 2.0, n: 3 }.positions();
        assert_eq!(x.len(), 27);
        assert_eq!(&x[..6], &[-2.0, 0.0, -2.0, 0.0, 0.0, -2.0]);
        assert_eq!(&x[24..], &[2.0, 0.0, 2.0]);
        assert!(x.chunks(3).all(|r| r[1] == 0.0));
    }

    #[test]
    fn profile_directions_are_unit_and_balanced() {
        for p in PROFILES {
            let d = p.directions();
            assert!(d.iter().all(|d| (norm(d) - 1.0).abs() < 1e-12));
            let mean: Vec<f64> = (0..3)
                .map(|k| d.iter().map(|d| d[k]).sum::<f64>() / d.len() as f64)
                .collect();
            assert!(norm(&mean) < 0.05, "{p:?}: {mean:?}");
        }
    }

    #[test]
    fn a_point_mass_has_keplerian_profiles() {
        let gm = 1e6;
        let accel = |x: &[f64]| -> Result<Vec<f64>> {
            Ok(x.chunks(3)
                .flat_map(|r| r.iter().map(|c| -gm * c / norm(r).powi(3)).collect::<Vec<_>>())
                .collect())
        };
        let radii = [1.0, 4.0];
        let vc = Profile::CircularSpeed.curve(&radii, 1.1, accel).unwrap();
        let ar = Profile::RadialAcceleration.curve(&radii, 1.1, accel).unwrap();
        for k in 0..2 {
            let r = radii[k];
            assert!((vc[k].1 - (gm / r).sqrt()).abs() < 1e-9 * (gm / r).sqrt());
            assert!((ar[k].1 - gm / (r * r)).abs() < 1e-9 * gm / (r * r));
        }
        let kz = Profile::VerticalForce.curve(&[3.0], 1.1, accel).unwrap()[0].1;
        assert!((kz + gm * 1.1 / (9.0f64 + 1.21).powf(1.5)).abs() < 1e-9 * gm);
    }

    #[test]
    fn percentile_radius_ignores_non_finite_rows() {
        let mut x: Vec<f64> = (1..=100).flat_map(|k| [k as f64, 0.0, 0.0]).collect();
        x.extend([f64::NAN, 0.0, 0.0]);
        assert_eq!(percentile_radius(&x, 0.99), 99.0);
        assert_eq!(percentile_radius(&[0.0; 3], 0.99), 0.1);
    }
}
