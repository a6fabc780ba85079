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

use actionfinder_snapshots::formats;
use actionfinder_snapshots::gadget4::{permutation, snapshot_file_name, write_snapshot_dir, SnapshotData};
use actionfinder_snapshots::track::Tracker;
use actionfinder_snapshots::{ReadOptions, Snapshot};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

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
    /// Write synthetic Gadget-4-style snapshots (our writer; particles shuffled in each).
    WriteSnapshots(WriteSnapshotsBench),
    /// Read one snapshot file (format detection included): seconds, best of several reads.
    ReadSnapshot(ReadSnapshotBench),
    /// Track particles by id through in-memory snapshots (ids shuffled in each): seconds.
    Tracking(TrackingBench),
    /// One training step (fixed point, map with input derivatives, loss, backward, Adam) on
    /// synthetic inputs: seconds per step, as one JSON line with --json.
    Train(TrainStepBench),
}

#[derive(Args, Debug)]
pub struct TrainStepBench {
    #[command(flatten)]
    pub net: crate::cli::NetShape,
    /// Streams per batch.
    #[arg(long, default_value_t = 32)]
    pub streams: usize,
    /// Points per stream.
    #[arg(long, default_value_t = 8)]
    pub points: usize,
    /// Timed steps (after three warm-up steps).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Print one JSON line.
    #[arg(long)]
    pub json: bool,
}

fn bench_train(b: &TrainStepBench) -> Result<()> {
    use crate::train::step_bench::{time_steps, StepShape};
    let shape = StepShape {
        width: b.net.width,
        max_width: b.net.max_width,
        depth_g: b.net.depth_g,
        depth_p: b.net.depth_p,
        streams: b.streams,
        points: b.points,
    };
    let timing = time_steps(&shape, b.steps.max(1), &crate::device::parse(&b.device)?)?;
    if b.json {
        println!("{}", serde_json::to_string(&timing)?);
    } else {
        println!(
            "training step ({} parameters, {} x {} points): {:.3} ms",
            timing.params,
            b.streams,
            b.points,
            1e3 * timing.seconds_per_step
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct WriteSnapshotsBench {
    /// Particles per snapshot.
    #[arg(long, default_value_t = 1_000_000)]
    pub particles: usize,
    /// Number of snapshots (snap_000.hdf5, ...).
    #[arg(long, default_value_t = 1)]
    pub snapshots: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output directory.
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct ReadSnapshotBench {
    /// Snapshot file.
    pub file: PathBuf,
    /// Number of reads (the best and the median are reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
}

#[derive(Args, Debug)]
pub struct TrackingBench {
    /// Particles per snapshot.
    #[arg(long, default_value_t = 1_000_000)]
    pub particles: usize,
    /// Number of snapshots.
    #[arg(long, default_value_t = 8)]
    pub snapshots: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
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
        BenchCommand::WriteSnapshots(b) => write_snapshots(b),
        BenchCommand::ReadSnapshot(b) => read_snapshot(b),
        BenchCommand::Tracking(b) => tracking(b),
        BenchCommand::Train(b) => bench_train(b),
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

/// Snapshot `k` of a synthetic run: particles 1..=n, each at a point that depends on its id
/// and on k, masses 1, time 0.01 k Gyr.
struct Synthetic {
    ids: Vec<u64>,
    xv: Vec<f64>,
    masses: Vec<f64>,
    time_gyr: f64,
}

impl Synthetic {
    fn new(n: usize, k: usize, rng: &mut Pcg64) -> Self {
        let ids: Vec<u64> = (1..=n as u64).collect();
        let xv = (0..6 * n).map(|_| rng.random::<f64>() * 100.0 - 50.0).collect();
        Self {
            ids,
            xv,
            masses: vec![1.0; n],
            time_gyr: 0.01 * k as f64,
        }
    }

    fn data(&self) -> SnapshotData<'_> {
        SnapshotData {
            time_gyr: self.time_gyr,
            ids: &self.ids,
            xv: &self.xv,
            masses: &self.masses,
        }
    }

    /// As read back from a file: rows in the order of `permutation(n, seed, k)`.
    fn shuffled(self, seed: u64, k: usize) -> Snapshot {
        let perm = permutation(self.ids.len(), seed, k as u64);
        let xv = perm
            .iter()
            .flat_map(|&j| self.xv[6 * j..6 * j + 6].iter().copied())
            .collect();
        Snapshot {
            path: PathBuf::from(snapshot_file_name(k)),
            time_gyr: self.time_gyr,
            ids: Some(perm.iter().map(|&j| self.ids[j]).collect()),
            xv,
            masses: self.masses,
            types: vec![1; perm.len()],
            index: 0,
        }
    }
}

fn write_snapshots(b: &WriteSnapshotsBench) -> Result<()> {
    let mut rng = Pcg64::seed_from_u64(b.seed);
    let snaps: Vec<Synthetic> = (0..b.snapshots)
        .map(|k| Synthetic::new(b.particles, k, &mut rng))
        .collect();
    let data: Vec<SnapshotData<'_>> = snaps.iter().map(Synthetic::data).collect();
    let clock = Instant::now();
    let paths = write_snapshot_dir(&b.dir, &data, b.seed)?;
    println!(
        "{{\"files\": {}, \"particles\": {}, \"seconds\": {:.6}}}",
        paths.len(),
        b.particles,
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read_snapshot(b: &ReadSnapshotBench) -> Result<()> {
    let opts = ReadOptions::default();
    let mut times = Vec::with_capacity(b.repeats.max(1));
    let mut particles = 0;
    for _ in 0..b.repeats.max(1) {
        let clock = Instant::now();
        let snaps = formats::read(&b.file, &opts)?;
        times.push(clock.elapsed().as_secs_f64());
        particles = snaps.iter().map(Snapshot::len).sum();
    }
    let clock = Instant::now();
    formats::detect(&b.file)?;
    let detect = clock.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let bytes = std::fs::metadata(&b.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "{{\"file\": \"{}\", \"bytes\": {bytes}, \"particles\": {particles}, \"threads\": {}, \"seconds_best\": {:.6}, \
         \"seconds_median\": {:.6}, \"detect_seconds\": {detect:.6}}}",
        b.file.display(),
        rayon::current_num_threads(),
        times[0],
        times[times.len() / 2],
    );
    Ok(())
}

fn tracking(b: &TrackingBench) -> Result<()> {
    let mut rng = Pcg64::seed_from_u64(b.seed);
    let mut tracker = Tracker::with_capacity(b.snapshots);
    let mut seconds = 0.0;
    for k in 0..b.snapshots {
        let snap = Synthetic::new(b.particles, k, &mut rng).shuffled(b.seed, k);
        let clock = Instant::now();
        tracker.add(&snap)?;
        seconds += clock.elapsed().as_secs_f64();
    }
    let clock = Instant::now();
    let tracks = tracker.finish()?;
    seconds += clock.elapsed().as_secs_f64();
    println!(
        "{{\"particles\": {}, \"snapshots\": {}, \"tracked\": {}, \"threads\": {}, \"seconds\": {seconds:.6}, \
         \"tracks_bytes\": {}}}",
        b.particles,
        b.snapshots,
        tracks.n_particles(),
        rayon::current_num_threads(),
        8 * tracks.xv.len()
    );
    Ok(())
}

/// Writes the rows as text (replacing the file: these are the bench scripts' scratch files),
/// under a temporary name renamed into place.
fn write_rows<const K: usize>(path: &std::path::Path, rows: impl Iterator<Item = [f64; K]>) -> Result<()> {
    let tmp = actionfinder_snapshots::partial::Partial::new(path);
    let file = std::fs::File::create(tmp.path()).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for row in rows {
        let line: Vec<String> = row.iter().map(|v| format!("{v:.17e}")).collect();
        writeln!(out, "{}", line.join(" "))?;
    }
    out.flush()?;
    drop(out);
    tmp.commit()
        .with_context(|| format!("writing {}", path.display()))
}
