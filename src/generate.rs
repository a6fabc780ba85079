//! `actionfinder generate`: integrate orbits in a known potential and write the streams
//! dataset of docs/design.md (and, optionally, what a simulation would write: snapshots).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use actionfinder_integrators::actions::ActionAngle;
use actionfinder_integrators::integrate::{integrate_many, IntegrationOptions, Orbit, StepSize};
use actionfinder_integrators::potential::{spec, Potential, Symmetry};
use actionfinder_integrators::units::{gyr_to_internal, internal_to_gyr};
use actionfinder_integrators::PhaseSpace;
use anyhow::{bail, Context, Result};
use rand::SeedableRng;
use rand_pcg::Pcg64;

use actionfinder_snapshots::gadget4::{write_snapshot_dir, SnapshotData};

use crate::budget;
use crate::classic::{self, Method};
use crate::dataset::StreamsDataset;
use crate::flags::number;
use crate::points::Points;
use crate::progress;
use crate::recipe::{self, Recipe};
use crate::times::{snapshot_times, TimeSampling};

mod snapshot_dir;

/// Where and how many snapshots to write.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotPlan {
    pub dir: PathBuf,
    pub outputs: usize,
    /// Remove the snapshots `dir` holds already (only those) instead of refusing it.
    pub force: bool,
}

/// One generation job.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateConfig {
    /// Potential in the text form of `potential::spec::parse`.
    pub potential: String,
    pub recipe: Recipe,
    pub streams: usize,
    pub sampling: TimeSampling,
    /// Integration time (Gyr).
    pub duration: f64,
    pub seed: u64,
    pub integration: IntegrationOptions,
    pub snapshots: Option<SnapshotPlan>,
}

/// What a generation job wrote and how well it kept energy.
#[derive(Clone, Debug)]
pub struct GenerateSummary {
    pub out: PathBuf,
    pub streams: usize,
    pub stars: usize,
    pub snapshot_files: Vec<PathBuf>,
    /// Largest and median relative energy error over the orbits.
    pub energy_error_max: f64,
    pub energy_error_median: f64,
    pub seconds: f64,
}

impl fmt::Display for GenerateSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wrote {}: {} streams x {} stars",
            self.out.display(),
            self.streams,
            self.stars
        )?;
        if let Some(first) = self.snapshot_files.first() {
            writeln!(
                f,
                "wrote {} snapshots in {}",
                self.snapshot_files.len(),
                first.parent().unwrap_or(Path::new(".")).display()
            )?;
        }
        write!(
            f,
            "energy conservation |dE/E|: max {:.2e}, median {:.2e}; {:.1} s",
            self.energy_error_max, self.energy_error_median, self.seconds
        )
    }
}

/// Seeds of the independent random streams derived from the user's seed.
const TIMES_SEED_OFFSET: u64 = 0x9e37_79b9_7f4a_7c15;
const SNAPSHOT_SEED_OFFSET: u64 = 0x6a09_e667_f3bc_c909;

/// Run a generation job and write the streams dataset to `out`.
pub fn generate(cfg: &GenerateConfig, out: &Path) -> Result<GenerateSummary> {
    let clock = Instant::now();
    check(cfg)?;
    let pot: Arc<dyn Potential> = Arc::from(spec::parse(&cfg.potential)?);
    let starts = recipe::sample(&cfg.recipe, pot.as_ref(), cfg.streams, cfg.seed)?;
    let plan = OutputPlan::new(cfg);
    let orbits = integrate_all(pot.as_ref(), &starts, &plan, &cfg.integration)?;
    let mut dataset = build_dataset(cfg, pot.as_ref(), &plan, &orbits);
    add_truth(&mut dataset, pot.clone())?;
    dataset
        .write(out)
        .with_context(|| format!("writing streams dataset {}", out.display()))?;
    let snapshot_files = match &cfg.snapshots {
        Some(snap) => {
            snapshot_dir::clear(snap)?;
            write_snapshots(cfg, snap, pot.as_ref(), &plan, &orbits)?
        }
        None => Vec::new(),
    };
    let (energy_error_max, energy_error_median) = energy_summary(&orbits);
    Ok(GenerateSummary {
        out: out.to_path_buf(),
        streams: cfg.streams,
        stars: plan.stars,
        snapshot_files,
        energy_error_max,
        energy_error_median,
        seconds: clock.elapsed().as_secs_f64(),
    })
}

/// Longest integration (Gyr): some seventy times the age of the universe.
const MAX_DURATION_GYR: f64 = 1e3;

/// The options in range, each refusal naming the flag.
fn check(cfg: &GenerateConfig) -> Result<()> {
    if cfg.streams == 0 {
        bail!("--streams must be at least 1");
    }
    if !(cfg.duration.is_finite() && cfg.duration > 0.0) {
        bail!(
            "--duration must be a positive number of Gyr, got {}",
            cfg.duration
        );
    }
    if cfg.duration > MAX_DURATION_GYR {
        bail!(
            "--duration {} Gyr is out of range: expected at most {MAX_DURATION_GYR} Gyr (far beyond the age of the universe)",
            number(cfg.duration)
        );
    }
    if let TimeSampling::Every { dt } = cfg.sampling {
        if dt > cfg.duration {
            bail!(
                "--every {} Gyr is longer than --duration {} Gyr",
                number(dt),
                cfg.duration
            );
        }
    }
    if let StepSize::Fixed(dt) = cfg.integration.step {
        if dt > gyr_to_internal(cfg.duration) {
            bail!(
                "--dt {} Gyr is longer than --duration {} Gyr",
                number(internal_to_gyr(dt)),
                cfg.duration
            );
        }
    }
    if cfg.sampling.stars(cfg.duration) == 0 {
        bail!("--stars must be at least 1");
    }
    if let Some(snap) = &cfg.snapshots {
        if snap.outputs == 0 {
            bail!("--outputs must be at least 1 when --snapshots is given");
        }
        snapshot_dir::check(snap)?;
    }
    check_size(cfg)
}

/// Memory one point costs while generating: the orbit's record, the dataset's row with its
/// truth, and the output plan (bytes).
const BYTES_PER_POINT: f64 = 320.0;

/// Refuses a dataset or integration too large for one run, before anything is allocated.
fn check_size(cfg: &GenerateConfig) -> Result<()> {
    let outputs = cfg.snapshots.as_ref().map_or(0, |s| s.outputs) as f64;
    let points = cfg.streams as f64 * (cfg.sampling.stars(cfg.duration) as f64 + outputs);
    let flags = "--streams, --stars (or --duration / --every), --outputs";
    budget::check_points(flags, "the dataset and snapshots", points)?;
    budget::check_memory(flags, "generating them", points * BYTES_PER_POINT)?;
    if let StepSize::Fixed(dt) = cfg.integration.step {
        let per_orbit = gyr_to_internal(cfg.duration) / dt;
        let limit = cfg.integration.max_steps as f64;
        if per_orbit > limit {
            bail!("--duration / --dt: each orbit would take {per_orbit:.3e} steps, more than the integrator's limit of {limit:.0e}; give a larger --dt");
        }
        budget::check_steps("--streams, --duration / --dt", cfg.streams as f64 * per_orbit)?;
    }
    Ok(())
}

/// Which times each orbit is recorded at, and which record is which output.
struct OutputPlan {
    stars: usize,
    /// Per orbit: the sorted times (internal unit) to integrate to.
    requests: Vec<Vec<f64>>,
    /// Per orbit: the index into `requests[s]` of each star, then of each snapshot.
    star_index: Vec<Vec<usize>>,
    snapshot_index: Vec<Vec<usize>>,
    /// Star times (Gyr) per orbit and snapshot times (Gyr).
    star_times: Vec<Vec<f64>>,
    snapshot_times: Vec<f64>,
}

impl OutputPlan {
    fn new(cfg: &GenerateConfig) -> Self {
        let mut rng = Pcg64::seed_from_u64(cfg.seed.wrapping_add(TIMES_SEED_OFFSET));
        let star_times: Vec<Vec<f64>> = (0..cfg.streams)
            .map(|_| cfg.sampling.draw(cfg.duration, &mut rng))
            .collect();
        let snaps = cfg
            .snapshots
            .as_ref()
            .map(|s| snapshot_times(cfg.duration, s.outputs))
            .unwrap_or_default();
        let mut plan = OutputPlan {
            stars: cfg.sampling.stars(cfg.duration),
            requests: Vec::with_capacity(cfg.streams),
            star_index: Vec::with_capacity(cfg.streams),
            snapshot_index: Vec::with_capacity(cfg.streams),
            star_times,
            snapshot_times: snaps,
        };
        for s in 0..cfg.streams {
            plan.add_orbit(s);
        }
        plan
    }

    /// Merge the star and snapshot times of orbit `s` into one sorted request.
    fn add_orbit(&mut self, s: usize) {
        let n_star = self.star_times[s].len();
        let all: Vec<f64> = self.star_times[s]
            .iter()
            .chain(&self.snapshot_times)
            .copied()
            .collect();
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_by(|&i, &j| all[i].total_cmp(&all[j]));
        let mut position = vec![0; all.len()];
        for (rank, &i) in order.iter().enumerate() {
            position[i] = rank;
        }
        self.requests
            .push(order.iter().map(|&i| gyr_to_internal(all[i])).collect());
        self.star_index.push(position[..n_star].to_vec());
        self.snapshot_index.push(position[n_star..].to_vec());
    }
}

fn integrate_all(
    pot: &dyn Potential,
    starts: &[PhaseSpace],
    plan: &OutputPlan,
    opts: &IntegrationOptions,
) -> Result<Vec<Orbit>> {
    let bar = progress::counter(starts.len() as u64, "integrating orbits");
    let results = integrate_many(pot, starts, &plan.requests, opts, &|| bar.inc(1));
    bar.finish_and_clear();
    let mut orbits = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for (s, r) in results.into_iter().enumerate() {
        match r {
            Ok(o) => orbits.push(o),
            Err(e) => failures.push(format!("orbit {s} from {:?}: {e}", starts[s])),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} orbits failed to integrate; first: {}",
            failures.len(),
            starts.len(),
            failures[..failures.len().min(3)].join("; ")
        );
    }
    Ok(orbits)
}

fn build_dataset(
    cfg: &GenerateConfig,
    pot: &dyn Potential,
    plan: &OutputPlan,
    orbits: &[Orbit],
) -> StreamsDataset {
    let (s_count, n) = (orbits.len(), plan.stars);
    let mut ds = StreamsDataset::new(s_count, n);
    let mut t = Vec::with_capacity(s_count * n);
    for (s, orbit) in orbits.iter().enumerate() {
        for (i, &k) in plan.star_index[s].iter().enumerate() {
            let w = orbit.points[k];
            ds.xv[(s * n + i) * 6..(s * n + i + 1) * 6].copy_from_slice(&w.to_row());
            t.push(internal_to_gyr(plan.requests[s][k]));
        }
    }
    ds.t = Some(t);
    ds.ids = Some((1..=s_count as u64).collect());
    ds.attrs.description = format!(
        "{} orbits x {} points, recipe {}, integrated {} Gyr with {:?}",
        s_count, n, cfg.recipe, cfg.duration, cfg.integration.scheme
    );
    ds.attrs.potential = pot.spec();
    ds.attrs.source = format!("actionfinder {} generate", env!("CARGO_PKG_VERSION"));
    ds.attrs.seed = Some(cfg.seed);
    ds
}

/// What the known potential says at every point of `ds`: `/truth/potential` and
/// `/truth/acceleration`; truth actions, angles and frequencies where an exact method exists
/// (isochrone, any spherical model, Kuzmin-Kutuzov; NaN where it fails); and the Staeckel
/// fudge as `/baseline/staeckel_actions` in axisymmetric potentials.
pub fn add_truth(ds: &mut StreamsDataset, pot: Arc<dyn Potential>) -> Result<()> {
    let points = Points::from_dataset(ds.clone()).phase_space();
    ds.truth.potential = Some(points.iter().map(|w| pot.potential(&w.x)).collect());
    ds.truth.acceleration = Some(points.iter().flat_map(|w| pot.acceleration(&w.x)).collect());
    let field = |batch: &actionfinder_integrators::actions::Batch, f: fn(&ActionAngle) -> [f64; 3]| {
        Some(batch.results.iter().flat_map(f).collect::<Vec<f64>>())
    };
    if let Ok(choice) = classic::choose(pot.clone(), Method::Auto) {
        if choice.exact {
            let batch = classic::run_batch(choice.finder.as_ref(), &points);
            ds.truth.actions = field(&batch, |r| r.actions);
            ds.truth.angles = field(&batch, |r| r.angles);
            ds.truth.frequencies = field(&batch, |r| r.frequencies);
        }
    }
    if pot.symmetry() == Symmetry::Axisymmetric {
        let fudge = classic::choose(pot, Method::Staeckel { delta: None })?;
        let batch = classic::run_batch(fudge.finder.as_ref(), &points);
        ds.baselines.insert(
            "staeckel".into(),
            field(&batch, |r| r.actions).unwrap_or_default(),
        );
    }
    Ok(())
}

fn write_snapshots(
    cfg: &GenerateConfig,
    snap: &SnapshotPlan,
    pot: &dyn Potential,
    plan: &OutputPlan,
    orbits: &[Orbit],
) -> Result<Vec<PathBuf>> {
    let count = orbits.len();
    let masses = vec![particle_mass(&cfg.recipe, pot, count); count];
    let ids: Vec<u64> = (1..=count as u64).collect();
    let frames: Vec<Vec<f64>> = (0..plan.snapshot_times.len())
        .map(|k| {
            (0..count)
                .flat_map(|s| orbits[s].points[plan.snapshot_index[s][k]].to_row())
                .collect()
        })
        .collect();
    let snaps: Vec<SnapshotData> = frames
        .iter()
        .zip(&plan.snapshot_times)
        .map(|(xv, &time_gyr)| SnapshotData {
            time_gyr,
            ids: &ids,
            xv,
            masses: &masses,
        })
        .collect();
    let seed = cfg.seed.wrapping_add(SNAPSHOT_SEED_OFFSET);
    write_snapshot_dir(&snap.dir, &snaps, seed)
        .with_context(|| format!("writing snapshots to {}", snap.dir.display()))
}

/// Mass of one particle: the model's mass shared equally for equilibrium samples; zero
/// (test particles) for the halo and disk recipes.
fn particle_mass(recipe: &Recipe, pot: &dyn Potential, count: usize) -> f64 {
    match (recipe, pot.spherical().and_then(|p| p.total_mass())) {
        (Recipe::Equilibrium { .. }, Some(m)) => m / count as f64,
        _ => 0.0,
    }
}

fn energy_summary(orbits: &[Orbit]) -> (f64, f64) {
    let mut e: Vec<f64> = orbits.iter().map(|o| o.energy_error).collect();
    e.sort_by(f64::total_cmp);
    let max = e.last().copied().unwrap_or(0.0);
    let median = if e.is_empty() { 0.0 } else { e[e.len() / 2] };
    (max, median)
}
