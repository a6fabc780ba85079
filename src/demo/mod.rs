//! `actionfinder demo`: the main job on built-in defaults.
//!
//! By default the paper's §6.5 Plummer validation system (scale radius 0.02 kpc, 5e5 Msun)
//! sampled from its exact distribution function and integrated for 0.07 Gyr; `--model`
//! picks another spherical system of the same mass and scale radius ([`models`]: Dehnen of any
//! inner slope, Hernquist, isochrone), integrated for as many half-mass dynamical times. The
//! sample goes through the pipeline a user's simulation takes: `generate` writes a
//! Gadget-4-style snapshot directory (8 snapshots over the run, particles shuffled in each),
//! and the streams dataset the demo reports is the one `tracks` builds from those snapshots
//! (each particle's 8 positions one stream), with the truth of the known potential added
//! (potential, acceleration, exact actions, angles and frequencies). The generated dataset
//! (8 points per orbit at random times, with truth) is kept beside it.
//!
//! Then the learning job: `train` on the tracked streams (toy isochrone fitted to the data
//! and trained; spherical, so theta_phi is kept out of the networks), `apply` to the held-out
//! streams and to orbits the model never saw (a second sample, another seed), and `validate`
//! both against the exact spherical actions, with PNG plots. Between training and applying,
//! `fit-field` learns the acceleration field and potential from the same streams, so the
//! catalogs carry acceleration, potential and frequencies, scored against the exact ones; and
//! `fit-inverse` learns the inverse map, so the catalogs carry each point's round trip
//! `(x, v) -> (J, theta) -> (x', v')`, and the unseen orbits' catalog is inverted back to
//! points (`invert`), their departures from the points reported relative to `|x|` and `|v|`.
//! The paper (§6.5, 8 snapshots of a gyrfalcON run) reports mean action errors of about 5e-4
//! kpc km/s for the Plummer system.

pub mod models;

use std::path::Path;
use std::sync::Arc;

use actionfinder_integrators::integrate::IntegrationOptions;
use actionfinder_integrators::potential::{spec, Potential};
use actionfinder_snapshots::center::Centering;
use anyhow::{Context, Result};

use crate::apply::{apply, Subset};
use crate::catalog::Catalog;
use crate::cli::DemoArgs;
use crate::dataset::StreamsDataset;
use crate::field::command::{field_command, FieldCommandConfig, GridSpec, Positions};
use crate::field::fit::{fit_field, FieldConfig};
use crate::field::FieldModel;
use crate::generate::{add_truth, generate, GenerateConfig, SnapshotPlan};
use crate::inverse::command::{invert_command, Destination, InvertConfig};
use crate::inverse::fit::{fit_inverse, InverseConfig};
use crate::inverse::samples::TorusSampling;
use crate::output::{self, Existing};
use crate::recipe::Recipe;
use crate::times::TimeSampling;
use crate::tracks::{tracks_dataset, TracksConfig};
use crate::train::{train, Axisymmetry, Schedule, TrainConfig};
use crate::validate::{validate_files, Report, ValidateOptions};
use models::{DemoModel, MASS, SCALE};

/// Files and folders the demo writes under its output folder (besides [`Dataset`]'s).
pub const SNAPSHOT_DIR: &str = "snapshots";
pub const MODEL_DIR: &str = "model";
pub const FIELD_FILE: &str = "field_grid.h5";
pub const FIELD_PLOTS: &str = "field_plots";
/// Torus points per training point of the demo's inverse pass (fewer than the default, to keep
/// the demo short).
const DEMO_TORUS_SAMPLES: usize = 2;
/// The unseen orbits' catalog inverted back to points.
pub const INVERTED_FILE: &str = "points_unseen.h5";

/// The demo's streams datasets, each in `<model>_<role>.h5` (e.g. `plummer_streams.h5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// The generator's own dataset (8 points per orbit at random times, with truth).
    Generated,
    /// The streams `tracks` builds from the snapshots, with the truth added.
    Streams,
    /// Orbits the model never saw (another seed), with truth.
    Unseen,
}

impl Dataset {
    /// The file name for `model`'s run.
    pub fn file(self, model: &DemoModel) -> String {
        let role = match self {
            Self::Generated => "generated",
            Self::Streams => "streams",
            Self::Unseen => "unseen",
        };
        format!("{}_{role}.h5", model.name())
    }
}

/// What the demo measured: `validate`'s reports on the held-out streams and on the unseen
/// orbits, and the learned circular speed's largest relative error.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoReport {
    /// The catalog of the streams held out of training against their truth.
    pub validation: Report,
    /// The catalog of the orbits the model never saw against their truth.
    pub unseen: Report,
    /// Largest `|v_c / v_c,exact - 1|` in the plane from 0.2 to 5 scale radii.
    pub circular_speed_error: f64,
    /// Mean `|x - x'| / |x|` and `|v - v'| / |v|` of the unseen orbits' points inverted from
    /// their catalog, over the points `invert` does not flag.
    pub inverted_relative: [f64; 2],
}

/// The demo's generation job writing under `args.out`.
pub fn config(args: &DemoArgs) -> GenerateConfig {
    GenerateConfig {
        potential: args.model.spec(),
        recipe: Recipe::Equilibrium { truncate: None },
        streams: args.streams,
        sampling: TimeSampling::Random { stars: 8 },
        duration: args.model.duration(),
        seed: args.seed,
        integration: IntegrationOptions::default(),
        snapshots: Some(SnapshotPlan {
            dir: args.out.join(SNAPSHOT_DIR),
            outputs: 8,
            force: true,
        }),
    }
}

/// The demo's `tracks` job: every particle of every snapshot, not recentred (the
/// potential is fixed at the origin, so the simulation frame is the potential's).
pub fn tracks_config(args: &DemoArgs) -> TracksConfig {
    TracksConfig {
        inputs: vec![args.out.join(SNAPSHOT_DIR)],
        centering: Centering::None,
        seed: args.seed,
        ..Default::default()
    }
}

/// Run the demo, print what was written and measured, and return the measurements.
pub fn run(args: &DemoArgs) -> Result<DemoReport> {
    check(args)?;
    output::check_folder("--out", &args.out, &[], existing(args))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating output folder {}", args.out.display()))?;
    let cfg = config(args);
    println!("actionfinder demo: {}", banner(&args.model));
    let summary = generate(&cfg, &args.out.join(Dataset::Generated.file(&args.model)))?;
    println!("{summary}");
    println!("tracks: following every particle through the snapshots, as for a simulation");
    let (mut ds, mut tracked) = tracks_dataset(&tracks_config(args))?;
    let pot: Arc<dyn Potential> = Arc::from(spec::parse(&args.model.spec())?);
    add_truth(&mut ds, pot.clone())?;
    ds.attrs.potential = pot.spec();
    ds.attrs.description.push_str("; truth from the known potential");
    let out = args.out.join(Dataset::Streams.file(&args.model));
    write(&ds, &out)?;
    tracked.out = out;
    println!("{tracked}");
    learn(args, &ds, &tracked.out, &pot)
}

/// What the run is: the paper's Plummer system, or another model run as long.
fn banner(model: &DemoModel) -> String {
    let system = format!("a = {SCALE} kpc, M = {MASS:e} Msun");
    match model {
        DemoModel::Plummer => format!("Plummer validation run (paper §6.5: {system})"),
        other => format!(
            "{other} validation run ({system}; {:.3} Gyr, as many half-mass dynamical times as the paper's §6.5 Plummer run)",
            other.duration()
        ),
    }
}

/// The options, checked before anything is written.
fn check(args: &DemoArgs) -> Result<()> {
    if args.streams < 2 {
        anyhow::bail!(
            "--streams {} is too few: training needs at least 2 streams",
            args.streams
        );
    }
    crate::device::parse(&args.device)?;
    train_config(args).check()
}

/// Whether the demo replaces its own earlier outputs (`--force`).
fn existing(args: &DemoArgs) -> Existing {
    Existing::from_force(args.force)
}

/// The demo's training options: defaults, with the toy fitted and trained, and theta_phi
/// kept out of the networks (the system is spherical).
pub fn train_config(args: &DemoArgs) -> TrainConfig {
    TrainConfig {
        epochs: args.epochs,
        schedule: Schedule::Cosine,
        fit_toy: true,
        axisymmetric: Axisymmetry::On,
        seed: args.seed,
        device: args.device.clone(),
        ..TrainConfig::default()
    }
}

/// Train on the tracked streams, then apply and validate on held-out streams and on orbits
/// never seen.
fn learn(
    args: &DemoArgs,
    ds: &StreamsDataset,
    streams: &Path,
    pot: &Arc<dyn Potential>,
) -> Result<DemoReport> {
    let model = args.out.join(MODEL_DIR);
    println!(
        "train: learning actions from the {} tracked streams",
        ds.n_streams()
    );
    println!(
        "{}",
        train(
            ds,
            &train_config(args),
            &model,
            false,
            &streams.display().to_string()
        )?
    );
    println!("fit-field: learning the acceleration field and potential from the same streams");
    let field_cfg = FieldConfig {
        device: args.device.clone(),
        seed: args.seed,
        ..FieldConfig::default()
    };
    println!("{}", fit_field(&model, ds, &field_cfg, false)?);
    println!("fit-inverse: learning the inverse map (J, theta) -> (x, v) from the action map");
    let defaults = InverseConfig::default();
    let inverse_cfg = InverseConfig {
        epochs: args.epochs,
        sampling: TorusSampling {
            per_star: DEMO_TORUS_SAMPLES,
            seed: args.seed,
            ..defaults.sampling
        },
        device: args.device.clone(),
        seed: args.seed,
        ..defaults
    };
    println!("{}", fit_inverse(&model, ds, &inverse_cfg, false)?);
    let circular_speed_error = field_against_exact(args, &model, pot.as_ref())?;
    let unseen = args.out.join(Dataset::Unseen.file(&args.model));
    let unseen_cfg = GenerateConfig {
        seed: args.seed + 1,
        snapshots: None,
        ..config(args)
    };
    generate(&unseen_cfg, &unseen)?;
    let validation = apply_and_validate(
        args,
        &model,
        "held-out streams (the validation share)",
        streams,
        Subset::Validation,
        "catalog_validation.h5",
    )?;
    let unseen = apply_and_validate(
        args,
        &model,
        "orbits the model never saw",
        &unseen,
        Subset::All,
        "catalog_unseen.h5",
    )?;
    let inverted_relative = invert_unseen(args, &model)?;
    Ok(DemoReport {
        validation,
        unseen,
        circular_speed_error,
        inverted_relative,
    })
}

/// `invert` the unseen orbits' catalog back to points; prints and returns the mean relative
/// departures `|x - x'| / |x|`, `|v - v'| / |v|` over the points it does not flag.
fn invert_unseen(args: &DemoArgs, model: &Path) -> Result<[f64; 2]> {
    let catalog = args.out.join("catalog_unseen.h5");
    let out = args.out.join(INVERTED_FILE);
    println!(
        "
invert: the unseen orbits' actions and angles back to positions and velocities"
    );
    println!(
        "{}",
        invert_command(&InvertConfig {
            model: model.to_path_buf(),
            input: catalog.clone(),
            output: Destination {
                out: out.clone(),
                device: args.device.clone(),
                existing: existing(args),
            },
        })?
    );
    let (points, inverted) = (Catalog::read(&catalog)?, Catalog::read(&out)?);
    let flags = inverted.flag.unwrap_or_default();
    let rows: Vec<(&[f64], &[f64])> = (points.xv.chunks_exact(6).zip(inverted.xv.chunks_exact(6)))
        .zip(&flags)
        .filter(|(_, &f)| f == 0)
        .map(|(pair, _)| pair)
        .collect();
    let relative = |range: std::ops::Range<usize>| {
        let norm = |v: &[f64]| v.iter().map(|c| c * c).sum::<f64>().sqrt();
        let sum: f64 = rows
            .iter()
            .map(|(a, b)| {
                let d: Vec<f64> = range.clone().map(|k| a[k] - b[k]).collect();
                norm(&d) / norm(&a[range.clone()])
            })
            .sum();
        sum / rows.len() as f64
    };
    let rel = [relative(0..3), relative(3..6)];
    println!(
        "inverted points against the originals ({} unflagged): mean |x - x'| / |x| {:.2e}, |v - v'| / |v| {:.2e}",
        rows.len(),
        rel[0],
        rel[1]
    );
    Ok(rel)
}

/// `apply` the model to `input`'s `subset` into the catalog `name`, then `validate` it
/// against `input`'s truth (plots beside the catalog); prints both and returns the report.
fn apply_and_validate(
    args: &DemoArgs,
    model: &Path,
    what: &str,
    input: &Path,
    subset: Subset,
    name: &str,
) -> Result<Report> {
    let catalog = args.out.join(name);
    println!("\napply + validate on {what}:");
    let device = crate::device::parse(&args.device)?;
    println!("{}", apply(model, input, &catalog, subset, &device)?);
    let out = validate_files(&ValidateOptions {
        catalog,
        truth: input.to_path_buf(),
        plots: None,
        model: Some(model.to_path_buf()),
        existing: existing(args),
    })?;
    print!("{out}");
    Ok(out.report)
}

/// The learned field on a grid out to 5 scale radii, written with plots against the model's
/// exact field (`field_plots/`), and the circular speed `v_c = sqrt(R a_R)` in the plane
/// against the exact one from 0.2 to 5 scale radii (its largest relative error returned).
fn field_against_exact(args: &DemoArgs, model: &Path, pot: &dyn Potential) -> Result<f64> {
    let summary = field_command(&FieldCommandConfig {
        model: model.to_path_buf(),
        positions: Positions::Grid(GridSpec {
            rmax: 5.0 * SCALE,
            n: 64,
        }),
        out: args.out.join(FIELD_FILE),
        plots: Some(args.out.join(FIELD_PLOTS)),
        compare: Some(args.model.spec()),
        z_height: SCALE,
        device: args.device.clone(),
        existing: existing(args),
    })?;
    println!("{summary}");
    let (field, _) = FieldModel::load(model, &crate::device::parse(&args.device)?)?;
    let worst = circular_speed_error(&field, pot)?;
    println!(
        "circular speed v_c(R) in the plane, 0.2 to 5 scale radii: largest relative difference from the exact {} {worst:.2e}",
        args.model
    );
    Ok(worst)
}

/// Largest `|v_c / v_c,exact - 1|` over 40 radii from 0.2 to 5 scale radii, `v_c^2 = R <a_R>`
/// averaged over 16 azimuths in the plane.
fn circular_speed_error(field: &FieldModel, pot: &dyn Potential) -> Result<f64> {
    let radii: Vec<f64> = (0..40)
        .map(|k| 0.2 * SCALE * 25f64.powf(k as f64 / 39.0))
        .collect();
    let x: Vec<f64> = radii
        .iter()
        .flat_map(|&r| {
            (0..16).flat_map(move |j| {
                let phi = std::f64::consts::TAU * j as f64 / 16.0;
                [r * phi.cos(), r * phi.sin(), 0.0]
            })
        })
        .collect();
    let a = field.evaluate(&x)?.acceleration;
    let worst = radii
        .iter()
        .enumerate()
        .map(|(k, &r)| {
            let rows = 16 * k..16 * (k + 1);
            let learned: f64 = rows
                .clone()
                .map(|i| -(x[3 * i] * a[3 * i] + x[3 * i + 1] * a[3 * i + 1]) / r)
                .sum::<f64>()
                / 16.0;
            let exact: f64 = rows
                .map(|i| {
                    let e = pot.acceleration(&[x[3 * i], x[3 * i + 1], 0.0]);
                    -(x[3 * i] * e[0] + x[3 * i + 1] * e[1]) / r
                })
                .sum::<f64>()
                / 16.0;
            ((r * learned).sqrt() / (r * exact).sqrt() - 1.0).abs()
        })
        .fold(0.0, f64::max);
    Ok(worst)
}

fn write(ds: &StreamsDataset, out: &Path) -> Result<()> {
    ds.write(out)
        .with_context(|| format!("writing streams dataset {}", out.display()))
}
