//! `actionfinder bench`: timings of our own kernels, in a form the peer scripts in `bench/`
//! can put side by side with galpy or gala on the very same orbits.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use actionfinder_integrators::integrate::{advance_many, Scheme};
use std::sync::Arc;

use actionfinder_integrators::actions::find_batch;
use actionfinder_integrators::potential::{spec, Potential};
use actionfinder_integrators::units::gyr_to_internal;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::classic;
use crate::recipe::{self, Recipe};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchCommand,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Fixed-step leapfrog: particle-steps per second per core.
    Leapfrog(LeapfrogBench),
    /// Classic actions, frequencies and angles: microseconds per point.
    Actions(ActionsBench),
}

#[derive(Args, Debug)]
pub struct ActionsBench {
    /// Potential spec.
    #[arg(long, default_value = "mw2014")]
    pub potential: String,
    /// Recipe of the points: `equilibrium`, `halo` or `disk` with their defaults.
    #[arg(long, default_value = "disk")]
    pub recipe: String,
    /// Method, as for `actions --method`.
    #[arg(long, default_value = "staeckel:delta=3.2")]
    pub method: String,
    /// Number of points.
    #[arg(long, default_value_t = 10_000)]
    pub points: usize,
    /// Threads (1 gives the per-core figure).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Write the points (x y z vx vy vz per line) here for the peer.
    #[arg(long)]
    pub points_out: Option<PathBuf>,
    /// Write our actions (J_r J_z J_phi per line) here, to compare with the peer's.
    #[arg(long)]
    pub actions_out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LeapfrogBench {
    /// Potential spec.
    #[arg(long, default_value = "plummer:M=5e5,a=0.02")]
    pub potential: String,
    /// `equilibrium` (spherical models) or `halo` / `disk` recipes with their defaults.
    #[arg(long, default_value = "equilibrium")]
    pub recipe: String,
    /// Number of orbits.
    #[arg(long, default_value_t = 1000)]
    pub orbits: usize,
    /// Steps per orbit.
    #[arg(long, default_value_t = 10_000)]
    pub steps: u64,
    /// Step in Gyr.
    #[arg(long, default_value_t = 1e-5)]
    pub dt: f64,
    /// Threads (1 gives the per-core figure).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Write the initial conditions (x y z vx vy vz per line) here for the peer.
    #[arg(long)]
    pub ics_out: Option<PathBuf>,
    /// Write the final states here, to compare with the peer's.
    #[arg(long)]
    pub final_out: Option<PathBuf>,
}

/// Run a benchmark subcommand; prints one JSON line.
pub fn run(args: &BenchArgs) -> Result<()> {
    match &args.what {
        BenchCommand::Leapfrog(b) => leapfrog(b),
        BenchCommand::Actions(b) => actions(b),
    }
}

fn leapfrog(b: &LeapfrogBench) -> Result<()> {
    let pot = spec::parse(&b.potential)?;
    let recipe = Recipe::from_name(&b.recipe)?;
    let starts = recipe::sample(&recipe, pot.as_ref(), b.orbits, b.seed)?;
    if let Some(path) = &b.ics_out {
        write_rows(path, starts.iter().map(|w| w.to_row()))?;
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(b.threads).build()?;
    let dt = gyr_to_internal(b.dt);
    let clock = Instant::now();
    let mut finals = starts.clone();
    pool.install(|| advance_many(pot.as_ref(), &mut finals, dt, b.steps, Scheme::Leapfrog));
    let seconds = clock.elapsed().as_secs_f64();
    if let Some(path) = &b.final_out {
        write_rows(path, finals.iter().map(|w| w.to_row()))?;
    }
    let particle_steps = b.orbits as f64 * b.steps as f64;
    println!(
        "{{\"potential\": \"{}\", \"orbits\": {}, \"steps\": {}, \"threads\": {}, \"seconds\": {:.6}, \
         \"particle_steps_per_second_per_core\": {:.6e}}}",
        pot.spec(),
        b.orbits,
        b.steps,
        b.threads,
        seconds,
        particle_steps / seconds / b.threads as f64
    );
    Ok(())
}

fn actions(b: &ActionsBench) -> Result<()> {
    let pot: Arc<dyn Potential> = Arc::from(spec::parse(&b.potential)?);
    let recipe = Recipe::from_name(&b.recipe)?;
    let points = recipe::sample(&recipe, pot.as_ref(), b.points, b.seed)?;
    if let Some(path) = &b.points_out {
        write_rows(path, points.iter().map(|w| w.to_row()))?;
    }
    let choice = classic::choose(pot.clone(), b.method.parse()?)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(b.threads).build()?;
    let clock = Instant::now();
    let batch = pool.install(|| find_batch(choice.finder.as_ref(), &points, &|| {}));
    let seconds = clock.elapsed().as_secs_f64();
    if let Some(path) = &b.actions_out {
        write_rows(path, batch.results.iter().map(|r| r.actions))?;
    }
    println!(
        "{{\"potential\": \"{}\", \"method\": \"{}\", \"points\": {}, \"failures\": {}, \"threads\": {}, \
         \"seconds\": {:.6}, \"microseconds_per_point\": {:.4}}}",
        pot.spec(),
        choice.finder.name(),
        b.points,
        batch.failures(),
        b.threads,
        seconds,
        1e6 * seconds * b.threads as f64 / b.points as f64
    );
    Ok(())
}

fn write_rows<const K: usize>(path: &PathBuf, rows: impl Iterator<Item = [f64; K]>) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for row in rows {
        let line: Vec<String> = row.iter().map(|v| format!("{v:.17e}")).collect();
        writeln!(out, "{}", line.join(" "))?;
    }
    out.flush()?;
    Ok(())
}
