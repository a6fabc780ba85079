//! `actionfinder demo`: the main job on built-in defaults.
//!
//! At this stage: the paper's §6.5 Plummer validation system (scale radius 0.02 kpc,
//! 5e5 Msun) sampled from its exact distribution function, integrated for 0.07 Gyr, and
//! written as a streams dataset (8 points per orbit at random times) and as a Gadget-4-style
//! snapshot directory (8 snapshots, 0.01 Gyr apart), as a simulation would.

use actionfinder_integrators::integrate::IntegrationOptions;
use anyhow::{Context, Result};

use crate::cli::DemoArgs;
use crate::generate::{generate, GenerateConfig, SnapshotPlan};
use crate::recipe::Recipe;
use crate::times::TimeSampling;

/// The paper's §6.5 Plummer system.
pub const PLUMMER_SPEC: &str = "plummer:M=5e5,a=0.02";

/// The demo's generation job writing under `args.out`.
pub fn config(args: &DemoArgs) -> GenerateConfig {
    GenerateConfig {
        potential: PLUMMER_SPEC.to_string(),
        recipe: Recipe::Equilibrium { truncate: None },
        streams: args.streams,
        sampling: TimeSampling::Random { stars: 8 },
        duration: 0.07,
        seed: args.seed,
        integration: IntegrationOptions::default(),
        snapshots: Some(SnapshotPlan {
            dir: args.out.join("snapshots"),
            outputs: 8,
        }),
    }
}

/// Run the demo and print what was written.
pub fn run(args: &DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output folder {}", args.out.display()))?;
    let cfg = config(args);
    println!("actionfinder demo: Plummer validation run (paper §6.5: a = 0.02 kpc, M = 5e5 Msun)");
    let summary = generate(&cfg, &args.out.join("plummer_streams.h5"))?;
    println!("{summary}");
    Ok(())
}
