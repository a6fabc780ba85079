//! The command line: argument types and dispatch. All work happens in library modules.

use std::path::PathBuf;

use actionfinder_integrators::integrate::{IntegrationOptions, Scheme, StepSize};
use actionfinder_integrators::units::gyr_to_internal;
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::dataset::checks::{MAX_POSITION_KPC, MAX_SPEED_KMS};
use crate::flags::{in_range, positive};
use crate::generate::{self, GenerateConfig, SnapshotPlan};
use crate::output::{self, Existing};
use crate::recipe::{orbits, GivenOrbit, Recipe};
use crate::times::TimeSampling;
use crate::tracks::TracksConfig;
use actionfinder_snapshots::center::Centering;
use actionfinder_snapshots::{parse_particle_type, ReadOptions, UnitOverrides};

/// actionfinder: actions, angles, frequencies and acceleration fields learned from orbits.
///
/// Units: kpc, km/s, Msun; times in Gyr on the command line and in files.
#[derive(Parser, Debug)]
#[command(name = "actionfinder", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Integrate orbits in a known potential and write a streams dataset (and snapshots).
    Generate(GenerateArgs),
    /// Classic actions, angles and frequencies in a known potential for every point of a
    /// streams dataset or catalog; writes a catalog.
    Actions(ActionsArgs),
    /// Follow particles through simulation snapshots (Gadget/AREPO/SWIFT HDF5, NEMO,
    /// Gadget-2) and write each particle's track as one stream of a streams dataset.
    Tracks(TracksArgs),
    /// The main job on built-in defaults: a Plummer validation run (paper §6.5).
    Demo(DemoArgs),
    /// Learn actions and angles from a streams dataset (no labels: points of one stream
    /// share their actions); writes a model directory.
    Train(TrainArgs),
    /// Apply a trained model to every point of a streams dataset or catalog; writes a
    /// catalog (actions, angles, per-stream action spread, trust flags).
    Apply(ApplyArgs),
    /// Learn the acceleration field (and potential) the streams live in, with the action
    /// map of a trained model directory frozen, and add it to that directory.
    FitField(FitFieldArgs),
    /// The learned field of a model directory at given positions or on a grid of the x-z
    /// plane: acceleration and potential to HDF5, profiles against a known potential or a
    /// dataset's truth, PNG plots.
    Field(FieldArgs),
    /// Learn the inverse map (J'', theta'') -> (x, v) of a trained model directory from the
    /// action map's own output on the streams and between them, and add it to that directory.
    FitInverse(FitInverseArgs),
    /// Positions and velocities from the actions and angles of a catalog, through a model
    /// directory's inverse map; writes a catalog, flagging points outside what it learned.
    Invert(InvertArgs),
    /// Points on learned tori without integrating: one torus (--actions) or every star of a
    /// catalog (--from) at fresh angles; writes a catalog.
    Sample(SampleArgs),
    /// Benchmarks of our own kernels (peers run side by side by the scripts in bench/).
    Bench(crate::bench::BenchArgs),
    /// A catalog against the truth of the streams dataset it was made from: action and
    /// angle errors (all points and trusted ones), baselines, conservation along streams,
    /// PNG plots.
    Validate(ValidateArgs),
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Catalog (HDF5) of the dataset's points, one row per point in stream-major order.
    pub catalog: PathBuf,
    /// Streams dataset (HDF5) with /truth (and /baseline) of the same points.
    #[arg(long, value_name = "DATASET")]
    pub truth: PathBuf,
    /// Print one JSON object with all the numbers instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Folder for the PNG plots [default: <catalog stem>_plots beside the catalog].
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Model directory whose model.json gives loss.png [default: the catalog's `model`
    /// attribute].
    #[arg(long, value_name = "MODEL_DIR")]
    pub model: Option<PathBuf>,
    /// Replace plots already in the plot folder.
    #[arg(long)]
    pub force: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecipeName {
    /// Isotropic equilibrium sample of the potential's own model (plummer, isochrone,
    /// hernquist, dehnen).
    Equilibrium,
    /// The paper's §6.1 halo recipe: r uniform in [rmin, rmax], isotropic velocity of
    /// magnitude |N(0, sigma)|, bound orbits only.
    Halo,
    /// Near-circular disk orbits with given radial and vertical dispersions.
    Disk,
    /// Given initial conditions (--initial, --initial-file), streams spread evenly over them.
    Orbits,
    /// Four built-in orbits in mw2014: thin disk, thick disk, halo and a GD-1-like stream
    /// orbit (docs/test-orbits.md), streams spread evenly over them.
    TestOrbits,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemeName {
    /// Second-order kick-drift-kick leapfrog.
    Leapfrog,
    /// Fourth-order Yoshida composition.
    Yoshida4,
}

impl From<SchemeName> for Scheme {
    fn from(s: SchemeName) -> Self {
        match s {
            SchemeName::Leapfrog => Scheme::Leapfrog,
            SchemeName::Yoshida4 => Scheme::Yoshida4,
        }
    }
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Potential, e.g. `isochrone:M=3.334e11,b=5`, `plummer:M=5e5,a=0.02`, `mw2014`, `A+B`
    /// (required, except with --recipe test-orbits, whose orbits are set in mw2014).
    #[arg(long)]
    pub potential: Option<String>,
    /// How initial conditions are drawn.
    #[arg(long, value_enum, default_value_t = RecipeName::Halo)]
    pub recipe: RecipeName,
    #[command(flatten)]
    pub recipe_options: RecipeOptions,
    /// orbits: one initial condition x,y,z,vx,vy,vz (kpc, km/s); repeat the flag for more
    /// orbits.
    #[arg(long, value_name = "X,Y,Z,VX,VY,VZ", allow_hyphen_values = true)]
    pub initial: Vec<String>,
    /// orbits: a text file of initial conditions, one orbit x,y,z,vx,vy,vz per line (commas
    /// or spaces; `#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub initial_file: Option<PathBuf>,
    /// Number of streams (orbits; with --recipe orbits or test-orbits, stream s follows given
    /// orbit s mod K).
    #[arg(long, default_value_t = 1024)]
    pub streams: usize,
    /// Points kept per stream, at random times in [0, duration] (see --even-times).
    #[arg(long, default_value_t = 8)]
    pub stars: usize,
    /// Keep the --stars points at equal intervals over [0, duration], both ends included,
    /// instead of at random times.
    #[arg(long, conflicts_with = "every")]
    pub even_times: bool,
    /// Keep a point every DT Gyr instead of at random times (overrides --stars).
    #[arg(long, value_name = "DT")]
    pub every: Option<f64>,
    /// Integration time in Gyr.
    #[arg(long, default_value_t = 0.1)]
    pub duration: f64,
    /// Random seed (initial conditions, times, snapshot orders).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub integration: IntegrationArgs,
    /// Also write a Gadget-4-style snapshot directory here. A folder that holds snapshots
    /// already is refused (`tracks` would mix the runs); --force removes them (only them).
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Number of snapshots, evenly spaced over [0, duration] (with --snapshots).
    #[arg(long, default_value_t = 8)]
    pub outputs: usize,
    /// Output streams dataset (HDF5).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace existing outputs: the --out file and the snapshots in --snapshots DIR.
    #[arg(long)]
    pub force: bool,
}

/// Options of the recipes (each recipe reads its own).
#[derive(Args, Debug, Clone)]
pub struct RecipeOptions {
    /// halo: smallest initial radius (kpc).
    #[arg(long, default_value_t = 6.0)]
    pub rmin: f64,
    /// halo: largest initial radius (kpc).
    #[arg(long, default_value_t = 16.0)]
    pub rmax: f64,
    /// halo: dispersion of the speed |N(0, sigma)| (km/s).
    #[arg(long, default_value_t = 150.0)]
    pub sigma: f64,
    /// disk: exponential scale length of the surface density (kpc).
    #[arg(long, default_value_t = 3.0)]
    pub scale_length: f64,
    /// disk: radial velocity dispersion (km/s).
    #[arg(long, default_value_t = 20.0)]
    pub sigma_r: f64,
    /// disk: vertical velocity dispersion (km/s).
    #[arg(long, default_value_t = 10.0)]
    pub sigma_z: f64,
    /// equilibrium: truncation radius of the sample (kpc); none by default.
    #[arg(long)]
    pub truncate: Option<f64>,
}

impl RecipeOptions {
    /// Every recipe option in its range (those of other recipes too: a nonsense value is
    /// refused rather than ignored), each refusal naming the flag.
    pub fn check(&self) -> Result<()> {
        in_range("--rmin", self.rmin, 0.0, MAX_POSITION_KPC)?;
        positive("--rmax", self.rmax, MAX_POSITION_KPC)?;
        if self.rmax < self.rmin {
            bail!(
                "--rmax {} is below --rmin {}: radii are drawn from [--rmin, --rmax]",
                self.rmax,
                self.rmin
            );
        }
        positive("--scale-length", self.scale_length, MAX_POSITION_KPC)?;
        if let Some(r) = self.truncate {
            positive("--truncate", r, MAX_POSITION_KPC)?;
        }
        for (flag, sigma) in [
            ("--sigma", self.sigma),
            ("--sigma-r", self.sigma_r),
            ("--sigma-z", self.sigma_z),
        ] {
            in_range(flag, sigma, 0.0, MAX_SPEED_KMS)?;
        }
        Ok(())
    }
}

/// How orbits are integrated.
#[derive(Args, Debug, Clone)]
pub struct IntegrationArgs {
    /// Integration scheme.
    #[arg(long, value_enum, default_value_t = SchemeName::Yoshida4)]
    pub integrator: SchemeName,
    /// Fixed step in Gyr (default: per-orbit step refined until energy is kept to
    /// --energy-tolerance).
    #[arg(long, value_name = "GYR")]
    pub dt: Option<f64>,
    /// Largest relative energy error allowed along each orbit (automatic steps).
    #[arg(long, default_value_t = 1e-10)]
    pub energy_tolerance: f64,
}

impl IntegrationArgs {
    pub fn options(&self) -> Result<IntegrationOptions> {
        let step = match self.dt {
            Some(dt) if dt > 0.0 && dt.is_finite() => StepSize::Fixed(gyr_to_internal(dt)),
            Some(dt) => bail!("--dt must be a positive number of Gyr, got {dt}"),
            None => {
                positive("--energy-tolerance", self.energy_tolerance, 1.0)?;
                StepSize::auto(self.energy_tolerance)
            }
        };
        Ok(IntegrationOptions {
            scheme: self.integrator.into(),
            step,
            ..Default::default()
        })
    }
}

#[derive(Args, Debug)]
pub struct ActionsArgs {
    /// Potential, as for `generate`.
    #[arg(long)]
    pub potential: String,
    /// auto | isochrone | spherical | staeckel | staeckel:delta=D (kpc). auto takes the exact
    /// method where one exists, else the Staeckel fudge with the focal distance estimated.
    #[arg(long, default_value = "auto")]
    pub method: String,
    /// Streams dataset or catalog (HDF5).
    pub input: PathBuf,
    /// Output catalog (HDF5).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the output if it exists (atomically, once the new one is complete).
    #[arg(long)]
    pub force: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CenterName {
    /// Coordinates as written.
    None,
    /// Mass-weighted centre of mass and mean velocity of all particles.
    Com,
    /// Power et al. (2003) shrinking sphere; velocity = mass-weighted mean inside the final
    /// sphere. Robust to satellites and debris.
    ShrinkingSphere,
}

impl From<CenterName> for Centering {
    fn from(c: CenterName) -> Self {
        match c {
            CenterName::None => Centering::None,
            CenterName::Com => Centering::CentreOfMass,
            CenterName::ShrinkingSphere => Centering::ShrinkingSphere(Default::default()),
        }
    }
}

#[derive(Args, Debug)]
pub struct TracksArgs {
    /// Snapshot files, directories (searched recursively) or quoted glob patterns; files that
    /// are not snapshots are skipped (formats are recognised by content), parts .1, .2, ...
    /// of multi-file Gadget snapshots are read with their .0 file; snapshots are ordered by
    /// the time in their headers.
    #[arg(required = true, value_name = "SNAPSHOTS")]
    pub inputs: Vec<PathBuf>,
    /// Output streams dataset (HDF5).
    #[arg(long)]
    pub out: PathBuf,
    /// Points per stream: N of the K snapshots, drawn at random for each particle (seeded)
    /// and kept in time order [default: all K].
    #[arg(long, value_name = "N")]
    pub stars: Option<usize>,
    /// Streams: S of the tracked particles, drawn at random (seeded) [default: all].
    #[arg(long, value_name = "S")]
    pub streams: Option<usize>,
    /// Particle types to read, by Gadget number (0-5) or name (gas, halo|dm, disk, bulge,
    /// stars, bndry|bh); repeat or separate by commas [default: all].
    #[arg(long = "type", value_name = "T", value_delimiter = ',')]
    pub types: Vec<String>,
    /// How each snapshot is centred (position and velocity) before tracking.
    #[arg(long, value_enum, default_value_t = CenterName::None)]
    pub center: CenterName,
    /// Cut each particle's track into streams of N consecutive snapshots (the last K mod N
    /// left out), for long tracks (paper §6: sub-groups of one size).
    #[arg(long, value_name = "N", conflicts_with = "stars")]
    pub group: Option<usize>,
    /// Random seed of the --streams and --stars draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub units: UnitArgs,
    /// Replace the output if it exists (atomically, once the new one is complete).
    #[arg(long)]
    pub force: bool,
}

/// Simulation units, overriding what the files say (NEMO files say nothing: kpc and km/s are
/// assumed). gyrfalcON runs with G = 1 often use kpc and Gyr: --velocity-unit 0.9777922
/// --mass-unit 2.222962e5 --time-unit 1; or kpc and Myr: --velocity-unit 977.7922
/// --mass-unit 2.222962e11 --time-unit 1e-3; or kpc and km/s: --mass-unit 2.325085e5
/// --time-unit 0.9777922 (from G = 4.300917270e-6 kpc (km/s)^2/Msun).
#[derive(Args, Debug, Clone, Default)]
pub struct UnitArgs {
    /// kpc per simulation length unit.
    #[arg(long, value_name = "KPC")]
    pub length_unit: Option<f64>,
    /// km/s per simulation velocity unit (G = 1 with kpc and Gyr: 0.9777922; with kpc and
    /// Myr: 977.7922).
    #[arg(long, value_name = "KM_S")]
    pub velocity_unit: Option<f64>,
    /// Msun per simulation mass unit (G = 1 with kpc and Gyr: 2.222962e5; kpc and Myr:
    /// 2.222962e11; kpc and km/s: 2.325085e5).
    #[arg(long, value_name = "MSUN")]
    pub mass_unit: Option<f64>,
    /// Gyr per simulation time unit (Gyr: 1; Myr: 1e-3; kpc/(km/s): 0.9777922).
    #[arg(long, value_name = "GYR")]
    pub time_unit: Option<f64>,
}

/// Smallest and largest unit override: from below a metre to beyond any universe, in kpc,
/// km/s, Msun or Gyr per simulation unit.
const MIN_UNIT: f64 = 1e-30;
const MAX_UNIT: f64 = 1e30;

impl UnitArgs {
    /// The overrides, each checked to lie in `[MIN_UNIT, MAX_UNIT]`.
    pub fn overrides(&self) -> Result<UnitOverrides> {
        let check = |flag: &str, v: Option<f64>| match v {
            Some(x) => in_range(flag, x, MIN_UNIT, MAX_UNIT).map(|()| v),
            None => Ok(None),
        };
        Ok(UnitOverrides {
            length_kpc: check("--length-unit", self.length_unit)?,
            velocity_kms: check("--velocity-unit", self.velocity_unit)?,
            mass_msun: check("--mass-unit", self.mass_unit)?,
            time_gyr: check("--time-unit", self.time_unit)?,
        })
    }
}

impl TracksArgs {
    /// The tracks job these arguments describe.
    pub fn config(&self) -> Result<TracksConfig> {
        let types = if self.types.is_empty() {
            None
        } else {
            let parse = |t: &String| {
                parse_particle_type(t).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--type {t:?}: expected 0-5 or gas, halo, dm, disk, bulge, stars, bndry, bh"
                    )
                })
            };
            Some(self.types.iter().map(parse).collect::<Result<Vec<u8>>>()?)
        };
        Ok(TracksConfig {
            inputs: self.inputs.clone(),
            stars: self.stars,
            streams: self.streams,
            group: self.group,
            read: ReadOptions {
                types,
                units: self.units.overrides()?,
            },
            centering: self.center.into(),
            seed: self.seed,
        })
    }
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The system: plummer (the paper's §6.5 validation run), dehnen[:gamma=G] (inner slope
    /// 0 <= G < 2, default 1.5), hernquist or isochrone; all of mass 5e5 Msun and scale radius
    /// 0.02 kpc, integrated for as many half-mass dynamical times as the Plummer run.
    #[arg(long, default_value = "plummer", value_name = "MODEL")]
    pub model: crate::demo::models::DemoModel,
    /// Output folder.
    #[arg(long, default_value = "actionfinder-output/demo")]
    pub out: PathBuf,
    /// Number of orbits.
    #[arg(long, default_value_t = 1024)]
    pub streams: usize,
    /// Random seed.
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// Training epochs.
    #[arg(long, default_value_t = 150)]
    pub epochs: usize,
    /// cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Use an output folder that holds files already, replacing what the demo writes there.
    #[arg(long)]
    pub force: bool,
}

impl GenerateArgs {
    /// The generation job these arguments describe.
    pub fn config(&self) -> Result<GenerateConfig> {
        let recipe = self.recipe()?;
        let sampling = match (self.every, self.even_times) {
            (Some(dt), _) if dt > 0.0 && dt.is_finite() => TimeSampling::Every { dt },
            (Some(dt), _) => bail!("--every must be a positive number of Gyr, got {dt}"),
            (None, true) => TimeSampling::Even { stars: self.stars },
            (None, false) => TimeSampling::Random { stars: self.stars },
        };
        let snapshots = self.snapshots.as_ref().map(|dir| SnapshotPlan {
            dir: dir.clone(),
            outputs: self.outputs,
            force: self.force,
        });
        Ok(GenerateConfig {
            potential: self.potential()?,
            recipe,
            streams: self.streams,
            sampling,
            duration: self.duration,
            seed: self.seed,
            integration: self.integration.options()?,
            snapshots,
        })
    }
}

impl GenerateArgs {
    /// The recipe and its options; --initial and --initial-file belong to --recipe orbits.
    fn recipe(&self) -> Result<Recipe> {
        let o = &self.recipe_options;
        o.check()?;
        let given = !self.initial.is_empty() || self.initial_file.is_some();
        if given && self.recipe != RecipeName::Orbits {
            bail!("--initial and --initial-file give the orbits of --recipe orbits; add --recipe orbits");
        }
        Ok(match self.recipe {
            RecipeName::Equilibrium => Recipe::Equilibrium { truncate: o.truncate },
            RecipeName::Halo => Recipe::Halo {
                rmin: o.rmin,
                rmax: o.rmax,
                sigma: o.sigma,
            },
            RecipeName::Disk => Recipe::Disk {
                scale_length: o.scale_length,
                sigma_r: o.sigma_r,
                sigma_z: o.sigma_z,
            },
            RecipeName::Orbits => Recipe::Orbits(self.given_orbits()?),
            RecipeName::TestOrbits => Recipe::TestOrbits,
        })
    }

    /// The orbits of --initial (in order), then those of --initial-file.
    fn given_orbits(&self) -> Result<Vec<GivenOrbit>> {
        let mut given = (self.initial.iter().enumerate())
            .map(|(k, text)| orbits::parse_initial(k + 1, text))
            .collect::<Result<Vec<_>>>()?;
        if let Some(path) = &self.initial_file {
            given.extend(orbits::read_initial_file(path)?);
        }
        if given.is_empty() {
            bail!("--recipe orbits needs initial conditions: --initial x,y,z,vx,vy,vz (repeat it) or --initial-file FILE");
        }
        Ok(given)
    }

    /// --potential, which only --recipe test-orbits may leave out (its orbits are set in
    /// mw2014).
    fn potential(&self) -> Result<String> {
        match (&self.potential, self.recipe) {
            (Some(p), _) => Ok(p.clone()),
            (None, RecipeName::TestOrbits) => Ok("mw2014".to_string()),
            (None, _) => bail!("--potential is required (e.g. --potential mw2014); only --recipe test-orbits has a default (mw2014)"),
        }
    }
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => {
            let inputs: Vec<&std::path::Path> = args.snapshots.iter().map(PathBuf::as_path).collect();
            output::check_file("--out", &args.out, &inputs, Existing::from_force(args.force))?;
            let summary = generate::generate(&args.config()?, &args.out)?;
            println!("{summary}");
            Ok(())
        }
        Command::Actions(args) => {
            let existing = Existing::from_force(args.force);
            output::check_file("--out", &args.out, &[&args.input], existing)?;
            let method = args.method.parse()?;
            let summary = crate::classic::actions_command(&args.potential, method, &args.input, &args.out)?;
            println!("{summary}\nwrote {}", args.out.display());
            Ok(())
        }
        Command::Tracks(args) => {
            let inputs = actionfinder_snapshots::expand(&args.inputs)?;
            let inputs: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
            output::check_file("--out", &args.out, &inputs, Existing::from_force(args.force))?;
            let summary = crate::tracks::tracks_command(&args.config()?, &args.out)?;
            println!("{summary}");
            Ok(())
        }
        Command::Demo(args) => crate::demo::run(&args).map(|_| ()),
        Command::Train(args) => {
            if let Some(form) = args.field {
                crate::field::fit::check(&args.field_options.config(form, &args.device))?;
            }
            if args.inverse {
                crate::inverse::fit::check(&args.inverse_options.config(&args.device))?;
            }
            use crate::train::output::{ModelOutput, OutputMode};
            let mode = match (args.resume, args.force) {
                (true, _) => OutputMode::Resume,
                (false, true) => OutputMode::Replace,
                (false, false) => OutputMode::New,
            };
            let output = ModelOutput::prepare(&args.out, mode)?;
            let ds = crate::dataset::StreamsDataset::read(&args.dataset)?;
            let mut summary = crate::train::train(
                &ds,
                &args.config(),
                output.dir(),
                args.resume,
                &args.dataset.display().to_string(),
            )?;
            let field = args
                .field
                .map(|form| {
                    let cfg = args.field_options.config(form, &args.device);
                    crate::field::fit::fit_field(output.dir(), &ds, &cfg, false)
                })
                .transpose()?;
            let inverse = args
                .inverse
                .then(|| {
                    let cfg = args.inverse_options.config(&args.device);
                    crate::inverse::fit::fit_inverse(output.dir(), &ds, &cfg, false)
                })
                .transpose()?;
            summary.out = output.commit()?;
            println!("{summary}");
            if let Some(field) = field {
                println!("{field}");
            }
            if let Some(inverse) = inverse {
                println!("{inverse}");
            }
            Ok(())
        }
        Command::Apply(args) => {
            let model_files: Vec<PathBuf> = std::iter::once(&args.model)
                .chain(&args.ensemble)
                .flat_map(|dir| output::files_in(dir))
                .collect();
            let mut inputs: Vec<&std::path::Path> = model_files.iter().map(PathBuf::as_path).collect();
            inputs.push(&args.input);
            output::check_file("--out", &args.out, &inputs, Existing::from_force(args.force))?;
            let device = crate::device::parse(&args.device)?;
            let ensemble = crate::ensemble::Ensemble {
                members: args.ensemble.clone(),
                scale: args.error_scale()?,
            };
            let summary = crate::apply::apply_with_ensemble(
                &args.model,
                &ensemble,
                &args.input,
                &args.out,
                args.subset,
                &device,
            )?;
            println!("{summary}");
            Ok(())
        }
        Command::FitField(args) => {
            let pass = &args.pass;
            pass.check_existing(&args.model, "a learned field", crate::field::FIELD_JSON)?;
            let ds = learnable(&args.dataset)?;
            let cfg = crate::field::fit::FieldConfig {
                checkpoint_every: pass.checkpoint_every,
                stop_after: pass.stop_after,
                ..args.field.config(args.form, &pass.device)
            };
            let summary = crate::field::fit::fit_field(&args.model, &ds, &cfg, pass.resume)?;
            println!("{summary}");
            Ok(())
        }
        Command::Field(args) => {
            println!("{}", crate::field::command::field_command(&args.config()?)?);
            Ok(())
        }
        Command::FitInverse(args) => {
            let pass = &args.pass;
            pass.check_existing(&args.model, "an inverse map", crate::inverse::INVERSE_JSON)?;
            let ds = learnable(&args.dataset)?;
            let cfg = crate::inverse::fit::InverseConfig {
                checkpoint_every: pass.checkpoint_every,
                stop_after: pass.stop_after,
                ..args.inverse.config(&pass.device)
            };
            let summary = crate::inverse::fit::fit_inverse(&args.model, &ds, &cfg, pass.resume)?;
            println!("{summary}");
            Ok(())
        }
        Command::Invert(args) => {
            println!("{}", crate::inverse::command::invert_command(&args.config())?);
            Ok(())
        }
        Command::Sample(args) => {
            println!("{}", crate::inverse::command::sample_command(&args.config()?)?);
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(&args),
        Command::Validate(args) => {
            let out = crate::validate::validate_files(&crate::validate::ValidateOptions {
                catalog: args.catalog,
                truth: args.truth,
                plots: args.plots,
                model: args.model,
                existing: Existing::from_force(args.force),
            })?;
            if args.json {
                println!("{}", serde_json::to_string(&out)?);
            } else {
                print!("{out}");
            }
            Ok(())
        }
    }
}

/// The streams dataset at `path`, checked to be one a pass can learn from.
fn learnable(path: &std::path::Path) -> Result<crate::dataset::StreamsDataset> {
    let ds = crate::dataset::StreamsDataset::read(path)?;
    crate::dataset::checks::check_learnable(&ds).with_context(|| format!("dataset {}", path.display()))?;
    Ok(ds)
}

/// Sizes of the networks G and P (shared by `train` and `bench train`).
#[derive(Args, Debug, Clone, Copy)]
pub struct NetShape {
    /// Narrowest block width (widths double up to --max-width and come back).
    #[arg(long, default_value_t = 64)]
    pub width: usize,
    #[arg(long, default_value_t = 64)]
    pub max_width: usize,
    /// ResDense blocks in G.
    #[arg(long, default_value_t = 3)]
    pub depth_g: usize,
    /// ResDense blocks in P.
    #[arg(long, default_value_t = 2)]
    pub depth_p: usize,
}

/// `actionfinder train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Streams dataset (HDF5, docs/design.md schema).
    pub dataset: PathBuf,
    /// Model directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Most epochs to run: a ceiling for --schedule plateau, the length of --schedule cosine.
    #[arg(long, default_value_t = 2000)]
    pub epochs: usize,
    /// Initial learning rate (the final one is 1e-5, or this if lower).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Learning-rate schedule: plateau (halve the rate when the validation loss stops
    /// improving, stop once it is below the final rate) or cosine (decay to the final rate
    /// over --epochs).
    #[arg(long, value_enum, default_value = "plateau")]
    pub schedule: crate::train::Schedule,
    /// Stretch of epochs over which the plateau schedule averages the validation loss: the
    /// rate halves after a stretch without a mean 0.1% below the best (at least a tenth of
    /// the epochs run so far when that is longer).
    #[arg(long, default_value_t = 10)]
    pub plateau_patience: usize,
    /// Optimizer steps in a stretch of the plateau schedule, at least (a small dataset takes
    /// one step per epoch).
    #[arg(long, default_value_t = crate::train::schedule::MIN_STEPS)]
    pub plateau_min_steps: usize,
    /// Streams per mini-batch.
    #[arg(long, default_value_t = 32)]
    pub batch_streams: usize,
    #[command(flatten)]
    pub net: NetShape,
    /// silu, tanh or relu.
    #[arg(long, default_value = "silu")]
    pub activation: crate::nn::Activation,
    /// Dropout rate in G's blocks (0 = off).
    #[arg(long, default_value_t = 0.0)]
    pub dropout: f64,
    /// Toy isochrone: auto (fitted to the streams) or M=<Msun>,b=<kpc>.
    #[arg(long, default_value = "auto")]
    pub toy: crate::train::ToyChoice,
    /// Train the toy's M and b with the networks.
    #[arg(long)]
    pub fit_toy: bool,
    /// Weight of the paper's angle zero-point term (0: simplified loss, eq. 19).
    #[arg(long, default_value_t = 0.0)]
    pub alpha1: f64,
    /// Weight of the time-linearity term (where points carry times).
    #[arg(long, default_value_t = 0.5)]
    pub time_weight: f64,
    /// Share of streams held out for early stopping.
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Stop after this many epochs without a better validation loss (0 = never).
    #[arg(long, default_value_t = 0)]
    pub patience: usize,
    /// Checkpoint every this many epochs (0 = never).
    #[arg(long, default_value_t = 10)]
    pub checkpoint_every: usize,
    /// Smallest fraction of a radial period a trusted stream spans.
    #[arg(long, default_value_t = crate::trust::MIN_COVERAGE)]
    pub min_coverage: f64,
    /// Axisymmetric system: keep theta_phi out of G and P (J_phi = L_z exactly). auto: on
    /// when L_z is conserved along the streams (median std(L_z)/mean(|L|) at most 1e-3);
    /// --axisymmetric alone means on.
    #[arg(long, value_enum, default_value = "auto", num_args = 0..=1, default_missing_value = "on")]
    pub axisymmetric: crate::train::Axisymmetry,
    /// Start from another model's G, P, scales and (unless --toy fixes one) toy; its
    /// architecture must be the one these options ask for.
    #[arg(long, value_name = "MODEL_DIR")]
    pub init: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// cpu or cuda:N (CUDA needs a build with --features cuda).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Continue from the checkpoint in --out (only --epochs, --checkpoint-every,
    /// --stop-after, --time-limit and --device may differ from the run's).
    #[arg(long)]
    pub resume: bool,
    /// Replace an existing model directory.
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Stop after this many epochs in this session (0 = never), leaving a checkpoint for
    /// --resume (for batch jobs with wall-time limits).
    #[arg(long, default_value_t = 0)]
    pub stop_after: usize,
    /// Stop at the end of the first epoch after this many seconds of this session (0 = no
    /// limit), leaving a checkpoint for --resume and the best model so far.
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    pub time_limit: f64,
    /// Also learn the field after the action map: potential (default) or vector.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "potential")]
    pub field: Option<crate::field::FieldForm>,
    #[command(flatten)]
    pub field_options: FieldOptions,
    /// Also learn the inverse map after the action map (and the field).
    #[arg(long)]
    pub inverse: bool,
    #[command(flatten)]
    pub inverse_options: InverseOptions,
}

/// Options of the inverse pass (shared by `fit-inverse` and `train --inverse`).
#[derive(Args, Debug, Clone)]
pub struct InverseOptions {
    /// Inverse network epochs.
    #[arg(long, default_value_t = 300)]
    pub inverse_epochs: usize,
    /// Inverse network initial learning rate (cosine decay to 1e-5).
    #[arg(long, default_value_t = 1e-3)]
    pub inverse_lr: f64,
    /// Inverse network width (and blocks, --inverse-depth).
    #[arg(long, default_value_t = 128)]
    pub inverse_width: usize,
    #[arg(long, default_value_t = 4)]
    pub inverse_depth: usize,
    /// Pairs per mini-batch of the inverse pass.
    #[arg(long, default_value_t = 512)]
    pub inverse_batch: usize,
    /// Points on the learned tori between the data, per training point (random toy angles).
    #[arg(long, default_value_t = 8)]
    pub inverse_samples: usize,
    /// Largest relative change of each J' of those torus points.
    #[arg(long, default_value_t = 0.1)]
    pub inverse_jitter: f64,
    /// Seed of the inverse network's weights, batches and torus points.
    #[arg(long, default_value_t = 1)]
    pub inverse_seed: u64,
}

impl InverseOptions {
    /// The inverse pass configuration on `device`.
    pub fn config(&self, device: &str) -> crate::inverse::fit::InverseConfig {
        crate::inverse::fit::InverseConfig {
            epochs: self.inverse_epochs,
            learning_rate: self.inverse_lr,
            final_learning_rate: 1e-5f64.min(self.inverse_lr),
            width: self.inverse_width,
            max_width: self.inverse_width,
            depth: self.inverse_depth,
            batch_rows: self.inverse_batch,
            sampling: crate::inverse::samples::TorusSampling {
                per_star: self.inverse_samples,
                jitter: self.inverse_jitter,
                seed: self.inverse_seed,
            },
            seed: self.inverse_seed,
            device: device.to_string(),
            ..Default::default()
        }
    }
}

/// `actionfinder fit-inverse`.
#[derive(Args, Debug)]
pub struct FitInverseArgs {
    /// Model directory written by `train` (the inverse is added to it).
    pub model: PathBuf,
    /// Streams dataset (the one the model was trained on keeps its held-out streams).
    pub dataset: PathBuf,
    #[command(flatten)]
    pub inverse: InverseOptions,
    #[command(flatten)]
    pub pass: PassArgs,
}

/// `actionfinder invert`.
#[derive(Args, Debug)]
pub struct InvertArgs {
    /// Model directory with an inverse map (`fit-inverse`, `train --inverse`).
    pub model: PathBuf,
    /// Catalog with /particles/actions and /particles/angles (as `apply` writes).
    pub input: PathBuf,
    #[command(flatten)]
    pub output: InverseOutputArgs,
}

/// Where `invert` and `sample` write, and the device they run on.
#[derive(Args, Debug)]
pub struct InverseOutputArgs {
    /// Catalog to write (/particles/xv, the actions and angles, /particles/flag; `sample`:
    /// /particles/stream, the torus of each point).
    #[arg(long)]
    pub out: PathBuf,
    /// cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Replace the output if it exists (atomically, once the new one is complete).
    #[arg(long)]
    pub force: bool,
}

impl InverseOutputArgs {
    fn destination(&self) -> crate::inverse::command::Destination {
        crate::inverse::command::Destination {
            out: self.out.clone(),
            device: self.device.clone(),
            existing: Existing::from_force(self.force),
        }
    }
}

impl InvertArgs {
    /// The `invert` job these arguments describe.
    pub fn config(&self) -> crate::inverse::command::InvertConfig {
        crate::inverse::command::InvertConfig {
            model: self.model.clone(),
            input: self.input.clone(),
            output: self.output.destination(),
        }
    }
}

/// `actionfinder sample`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("tori").required(true).args(["actions", "from"])))]
pub struct SampleArgs {
    /// Model directory with an inverse map.
    pub model: PathBuf,
    /// One torus: J_r,J_z,J_phi (kpc km/s).
    #[arg(
        long,
        value_name = "J_R,J_Z,J_PHI",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub actions: Option<Vec<f64>>,
    /// Every star of a catalog with /particles/actions (and angles), each at fresh angles.
    #[arg(long, value_name = "CATALOG")]
    pub from: Option<PathBuf>,
    /// N random angles per torus, uniform in [0, 2 pi)^3 [default: 1 with --from, 64 with
    /// --actions].
    #[arg(long, value_name = "N", conflicts_with = "grid")]
    pub angles: Option<usize>,
    /// N^3 angles per torus on a grid, 2 pi k / N per component.
    #[arg(long, value_name = "N")]
    pub grid: Option<usize>,
    /// Seed of the random angles.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub output: InverseOutputArgs,
}

impl SampleArgs {
    /// The `sample` job these arguments describe.
    pub fn config(&self) -> Result<crate::inverse::command::SampleConfig> {
        use crate::inverse::command::{AngleSampling, Tori};
        let tori = match (&self.actions, &self.from) {
            (Some(j), None) => match j[..] {
                [jr, jz, jphi] if j.iter().all(|x| x.is_finite()) => Tori::One([jr, jz, jphi]),
                _ => bail!("--actions takes three finite numbers J_r,J_z,J_phi (kpc km/s), got {j:?}"),
            },
            (None, Some(path)) => Tori::Catalog(path.clone()),
            _ => bail!("give exactly one of --actions J_r,J_z,J_phi or --from CATALOG"),
        };
        let angles = match (self.angles, self.grid) {
            (_, Some(n)) => AngleSampling::Grid(n),
            (Some(n), None) => AngleSampling::Random(n),
            (None, None) => AngleSampling::Random(if self.from.is_some() { 1 } else { 64 }),
        };
        Ok(crate::inverse::command::SampleConfig {
            model: self.model.clone(),
            tori,
            angles,
            seed: self.seed,
            output: self.output.destination(),
        })
    }
}

/// Options of the field pass (shared by `fit-field` and `train --field`).
#[derive(Args, Debug, Clone)]
pub struct FieldOptions {
    /// Field network epochs.
    #[arg(long, default_value_t = 600)]
    pub field_epochs: usize,
    /// Field network initial learning rate (cosine decay to 1e-5).
    #[arg(long, default_value_t = 3e-3)]
    pub field_lr: f64,
    /// Field network width (and blocks, --field-depth).
    #[arg(long, default_value_t = 64)]
    pub field_width: usize,
    #[arg(long, default_value_t = 3)]
    pub field_depth: usize,
    /// Weight of dJ''/dt = 0 along the points (paper eq. 15) [default: 0 for the potential
    /// form, whose energy conservation measured better; 1 for the vector form].
    #[arg(long)]
    pub action_weight: Option<f64>,
    /// Weight of energy conservation along each stream (potential form).
    #[arg(long, default_value_t = 1.0)]
    pub energy_weight: f64,
    /// Weight of the frequency spread along each stream (paper eq. 16, alpha3).
    #[arg(long, default_value_t = 0.0)]
    pub frequency_weight: f64,
    /// Weight of the paper's symmetry term (alpha2): the cylindrical acceleration points
    /// inwards.
    #[arg(long, default_value_t = 0.0)]
    pub symmetry_weight: f64,
    /// Penalty of the field loss: l1 (mean of absolute values, robust) or l2 (mean of
    /// squares, finished by the least-squares polish).
    #[arg(long, value_enum, default_value = "l1")]
    pub field_penalty: crate::field::loss::Penalty,
    /// Skip the least-squares polish of the output layer (l2 only).
    #[arg(long)]
    pub no_polish: bool,
    /// Streams per mini-batch of the field pass.
    #[arg(long, default_value_t = 16)]
    pub field_batch_streams: usize,
    /// Seed of the field network's weights and batches.
    #[arg(long, default_value_t = 1)]
    pub field_seed: u64,
}

impl FieldOptions {
    /// The field pass configuration for `form` on `device`.
    pub fn config(&self, form: crate::field::FieldForm, device: &str) -> crate::field::fit::FieldConfig {
        let vector = form == crate::field::FieldForm::Vector;
        crate::field::fit::FieldConfig {
            form,
            epochs: self.field_epochs,
            learning_rate: self.field_lr,
            final_learning_rate: 1e-5f64.min(self.field_lr),
            width: self.field_width,
            max_width: self.field_width,
            depth: self.field_depth,
            weights: crate::field::loss::LossWeights {
                actions: self.action_weight.unwrap_or(if vector { 1.0 } else { 0.0 }),
                energy: self.energy_weight,
                frequencies: self.frequency_weight,
                symmetry: self.symmetry_weight,
            },
            penalty: self.field_penalty,
            batch_streams: self.field_batch_streams,
            polish: !self.no_polish,
            seed: self.field_seed,
            device: device.to_string(),
            ..Default::default()
        }
    }
}

/// `actionfinder fit-field`.
#[derive(Args, Debug)]
pub struct FitFieldArgs {
    /// Model directory written by `train` (the field is added to it).
    pub model: PathBuf,
    /// Streams dataset (the one the model was trained on keeps its held-out streams).
    pub dataset: PathBuf,
    /// potential (curl-free, with energies) or vector (the paper's form).
    #[arg(long, value_enum, default_value = "potential")]
    pub form: crate::field::FieldForm,
    #[command(flatten)]
    pub field: FieldOptions,
    #[command(flatten)]
    pub pass: PassArgs,
}

/// How a pass fitted after the action map runs (`fit-field`, `fit-inverse`).
#[derive(Args, Debug)]
pub struct PassArgs {
    /// cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Continue from the pass's checkpoint in MODEL_DIR (only its epochs,
    /// --checkpoint-every, --stop-after and --device may differ from the pass's).
    #[arg(long)]
    pub resume: bool,
    /// Checkpoint every this many epochs of the pass (0 = never).
    #[arg(long, default_value_t = 10)]
    pub checkpoint_every: usize,
    /// Stop after this many epochs of the pass in this session (0 = never), leaving a
    /// checkpoint for --resume.
    #[arg(long, default_value_t = 0)]
    pub stop_after: usize,
    /// Replace what the pass adds to the model directory when it holds it already.
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
}

impl PassArgs {
    /// Refuses to replace the network `what` (its description file `json`) that `model`
    /// holds already, unless `--force` (or `--resume` to continue its pass).
    fn check_existing(&self, model: &std::path::Path, what: &str, json: &str) -> Result<()> {
        if model.join(json).exists() && !(self.force || self.resume) {
            bail!(
                "{} holds {what} already ({json}); pass --force to replace it or --resume to continue its pass",
                model.display()
            );
        }
        Ok(())
    }
}

impl ApplyArgs {
    /// `--error-scale` as three factors (one given: for all components; none: 1).
    fn error_scale(&self) -> Result<[f64; 3]> {
        match self.error_scale[..] {
            [] => Ok([1.0; 3]),
            [s] => Ok([s; 3]),
            [r, z, phi] => Ok([r, z, phi]),
            _ => bail!(
                "--error-scale takes one factor or three (r,z,phi), got {}",
                self.error_scale.len()
            ),
        }
    }
}

/// `actionfinder field`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("where").required(true).args(["at", "grid"])))]
pub struct FieldArgs {
    /// Model directory with a learned field (`fit-field`).
    pub model: PathBuf,
    /// Positions: x, y, z of a catalog or streams dataset (a dataset's /truth/acceleration
    /// and /truth/potential become the reference), or /positions [n,3] (kpc).
    #[arg(long, value_name = "POSITIONS")]
    pub at: Option<PathBuf>,
    /// RMAX or RMAX,N: an N x N grid (N = 64 by default) of the x-z plane (y = 0), x and z
    /// in [-RMAX, RMAX] kpc.
    #[arg(long, value_name = "SPEC")]
    pub grid: Option<crate::field::command::GridSpec>,
    /// Output HDF5 file (/field/x, /field/acceleration, /field/potential, /compare/...).
    #[arg(long)]
    pub out: PathBuf,
    /// Folder for circular_speed.png, vertical_force.png, radial_acceleration.png and
    /// potential_map.png.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Known potential to compare with, as for `generate --potential`.
    #[arg(long, value_name = "POTENTIAL_SPEC")]
    pub compare: Option<String>,
    /// Height |z| (kpc) of the vertical force profile K_z(R).
    #[arg(long, value_name = "KPC", default_value_t = 1.1)]
    pub z_height: f64,
    /// cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Replace the output file and plots if they exist.
    #[arg(long)]
    pub force: bool,
}

impl FieldArgs {
    /// The `field` job these arguments describe.
    pub fn config(&self) -> Result<crate::field::command::FieldCommandConfig> {
        use crate::field::command::Positions;
        let positions = match (&self.at, self.grid) {
            (Some(path), None) => Positions::At(path.clone()),
            (None, Some(grid)) => Positions::Grid(grid),
            _ => bail!("give exactly one of --at FILE or --grid RMAX[,N]"),
        };
        Ok(crate::field::command::FieldCommandConfig {
            model: self.model.clone(),
            positions,
            out: self.out.clone(),
            plots: self.plots.clone(),
            compare: self.compare.clone(),
            z_height: self.z_height,
            device: self.device.clone(),
            existing: Existing::from_force(self.force),
        })
    }
}

impl TrainArgs {
    /// The training configuration.
    pub fn config(&self) -> crate::train::TrainConfig {
        crate::train::TrainConfig {
            epochs: self.epochs,
            learning_rate: self.lr,
            final_learning_rate: 1e-5f64.min(self.lr),
            schedule: self.schedule,
            plateau_patience: self.plateau_patience,
            plateau_min_steps: self.plateau_min_steps,
            batch_streams: self.batch_streams,
            width: self.net.width,
            max_width: self.net.max_width,
            depth_g: self.net.depth_g,
            depth_p: self.net.depth_p,
            activation: self.activation,
            dropout: self.dropout,
            toy: self.toy,
            fit_toy: self.fit_toy,
            alpha1: self.alpha1,
            time_weight: self.time_weight,
            val_fraction: self.val_fraction,
            patience: self.patience,
            checkpoint_every: self.checkpoint_every,
            min_coverage: self.min_coverage,
            axisymmetric: self.axisymmetric,
            init: self.init.clone(),
            seed: self.seed,
            device: self.device.clone(),
            stop_after: self.stop_after,
            time_limit_s: self.time_limit,
        }
    }
}

/// `actionfinder apply`.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// Model directory written by `train`.
    pub model: PathBuf,
    /// Streams dataset or catalog (with /particles/xv).
    pub input: PathBuf,
    /// Catalog to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Streams of the training dataset to use: all, or the training or validation share
    /// of the split the model was trained with.
    #[arg(long, value_enum, default_value = "all")]
    pub subset: crate::apply::Subset,
    /// Further model directories (repeat the flag; models trained with other seeds): writes
    /// /particles/action_error, each action's standard deviation over MODEL and these.
    #[arg(long, value_name = "MODEL_DIR")]
    pub ensemble: Vec<PathBuf>,
    /// SR,SZ,SPHI (or one S for all): multiply action_error's components by these (the
    /// "scale for 68%" that `validate` reports on data with truth).
    #[arg(long, value_name = "S", value_delimiter = ',', requires = "ensemble")]
    pub error_scale: Vec<f64>,
    /// cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Replace the output if it exists (atomically, once the new one is complete).
    #[arg(long)]
    pub force: bool,
}
