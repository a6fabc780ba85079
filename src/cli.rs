//! The command line: argument types and dispatch. All work happens in library modules.

use std::path::PathBuf;

use actionfinder_integrators::integrate::{IntegrationOptions, Scheme, StepSize};
use actionfinder_integrators::units::gyr_to_internal;
use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::generate::{self, GenerateConfig, SnapshotPlan};
use crate::recipe::Recipe;
use crate::times::TimeSampling;

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
    /// The main job on built-in defaults: a Plummer validation run (paper §6.5).
    Demo(DemoArgs),
    /// Benchmarks of our own kernels (peers run side by side by the scripts in bench/).
    Bench(crate::bench::BenchArgs),
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
    /// Potential, e.g. `isochrone:M=3.334e11,b=5`, `plummer:M=5e5,a=0.02`, `mw2014`, `A+B`.
    #[arg(long)]
    pub potential: String,
    /// How initial conditions are drawn.
    #[arg(long, value_enum, default_value_t = RecipeName::Halo)]
    pub recipe: RecipeName,
    #[command(flatten)]
    pub recipe_options: RecipeOptions,
    /// Number of orbits (streams).
    #[arg(long, default_value_t = 1024)]
    pub streams: usize,
    /// Points kept per orbit, at random times in [0, duration].
    #[arg(long, default_value_t = 8)]
    pub stars: usize,
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
    /// Also write a Gadget-4-style snapshot directory here.
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Number of snapshots, evenly spaced over [0, duration] (with --snapshots).
    #[arg(long, default_value_t = 8)]
    pub outputs: usize,
    /// Output streams dataset (HDF5).
    #[arg(long)]
    pub out: PathBuf,
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
            None if self.energy_tolerance > 0.0 => StepSize::auto(self.energy_tolerance),
            None => bail!("--energy-tolerance must be > 0, got {}", self.energy_tolerance),
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
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "actionfinder-output/demo")]
    pub out: PathBuf,
    /// Number of orbits.
    #[arg(long, default_value_t = 1024)]
    pub streams: usize,
    /// Random seed.
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
}

impl GenerateArgs {
    /// The generation job these arguments describe.
    pub fn config(&self) -> Result<GenerateConfig> {
        let o = &self.recipe_options;
        let recipe = match self.recipe {
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
        };
        let sampling = match self.every {
            Some(dt) if dt > 0.0 && dt.is_finite() => TimeSampling::Every { dt },
            Some(dt) => bail!("--every must be a positive number of Gyr, got {dt}"),
            None => TimeSampling::Random { stars: self.stars },
        };
        let snapshots = self.snapshots.as_ref().map(|dir| SnapshotPlan {
            dir: dir.clone(),
            outputs: self.outputs,
        });
        Ok(GenerateConfig {
            potential: self.potential.clone(),
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

/// Run one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => {
            let summary = generate::generate(&args.config()?, &args.out)?;
            println!("{summary}");
            Ok(())
        }
        Command::Actions(args) => {
            let method = args.method.parse()?;
            let summary = crate::classic::actions_command(&args.potential, method, &args.input, &args.out)?;
            println!("{summary}\nwrote {}", args.out.display());
            Ok(())
        }
        Command::Demo(args) => crate::demo::run(&args),
        Command::Bench(args) => crate::bench::run(&args),
    }
}
