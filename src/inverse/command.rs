//! `actionfinder invert` and `actionfinder sample`: points `(x, v)` from actions and angles
//! through a model directory's inverse map, written as a catalog (docs/design.md "Catalog":
//! `/particles/xv`, with the actions and angles asked for), each point flagged where the input
//! lies outside what the inverse learned: actions outside the range it was trained on
//! ([`FLAG_OUT_OF_RANGE`]), or a round trip through the forward map that does not close to the
//! tolerances fixed when it was fitted ([`FLAG_NO_CLOSURE`]).

use std::f64::consts::TAU;
use std::fmt;
use std::path::{Path, PathBuf};

use actionfinder_snapshots::h5::{Dim, H5File};
use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use super::roundtrip::closure;
use super::InverseModel;
use crate::catalog::{Catalog, FLAG_NO_CLOSURE, FLAG_OUT_OF_RANGE};
use crate::dataset::units::read_labelled;
use crate::model::Model;
use crate::output::{self, Existing};

/// Largest number of points one `sample` writes.
pub const MAX_SAMPLE_POINTS: usize = 50_000_000;

/// Actions and angles to invert, rows of 3, with the ids and streams that go with them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    pub actions: Vec<f64>,
    pub angles: Vec<f64>,
    pub ids: Option<Vec<u64>>,
    pub stream: Option<Vec<u64>>,
}

/// Where `invert` and `sample` write their catalog, and the device they run on.
#[derive(Clone, Debug, PartialEq)]
pub struct Destination {
    pub out: PathBuf,
    /// `cpu` or `cuda:N`.
    pub device: String,
    pub existing: Existing,
}

/// The `invert` job.
#[derive(Clone, Debug, PartialEq)]
pub struct InvertConfig {
    pub model: PathBuf,
    /// Catalog with `/particles/actions` and `/particles/angles`.
    pub input: PathBuf,
    pub output: Destination,
}

/// Where `sample`'s actions come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Tori {
    /// One torus, `(J_r, J_z, J_phi)` in kpc km/s.
    One([f64; 3]),
    /// Every star of a catalog with actions.
    Catalog(PathBuf),
}

/// `sample`'s angles on each torus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AngleSampling {
    /// `n` angles uniform in `[0, 2 pi)^3`.
    Random(usize),
    /// `n^3` angles on a grid, `2 pi k / n` per component.
    Grid(usize),
}

/// The `sample` job.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleConfig {
    pub model: PathBuf,
    pub tori: Tori,
    pub angles: AngleSampling,
    pub seed: u64,
    pub output: Destination,
}

/// What `invert` or `sample` did.
#[derive(Clone, Debug, PartialEq)]
pub struct InvertSummary {
    pub points: usize,
    /// Points without `(x, v)` (non-finite input).
    pub failed: usize,
    pub out_of_range: usize,
    pub not_closing: usize,
    pub out: PathBuf,
}

impl fmt::Display for InvertSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} points: {} without (x, v), {} with actions outside the range the inverse learned (flag {FLAG_OUT_OF_RANGE}), {} whose round trip through the forward map does not close (flag {FLAG_NO_CLOSURE})",
            self.points, self.failed, self.out_of_range, self.not_closing
        )?;
        write!(f, "wrote {}", self.out.display())
    }
}

/// Run `invert`.
pub fn invert_command(cfg: &InvertConfig) -> Result<InvertSummary> {
    check_out(&cfg.model, &cfg.output, Some(&cfg.input))?;
    let request = read_request(&cfg.input).with_context(|| format!("{}", cfg.input.display()))?;
    let source = format!("invert {}", cfg.input.display());
    run(&cfg.model, request, &cfg.output, &source)
}

/// Run `sample`.
pub fn sample_command(cfg: &SampleConfig) -> Result<InvertSummary> {
    let input = match &cfg.tori {
        Tori::Catalog(path) => Some(path.as_path()),
        Tori::One(_) => None,
    };
    check_out(&cfg.model, &cfg.output, input)?;
    let tori = match &cfg.tori {
        Tori::One(j) => Request {
            actions: j.to_vec(),
            ..Default::default()
        },
        Tori::Catalog(path) => read_request(path).with_context(|| format!("--from {}", path.display()))?,
    };
    let request = on_tori(&tori, cfg.angles, cfg.seed)?;
    run(&cfg.model, request, &cfg.output, "sample")
}

/// The output is not an input (nor a file of the model directory) and does not exist unless
/// replacing.
fn check_out(model: &Path, to: &Destination, input: Option<&Path>) -> Result<()> {
    let files = output::files_in(model);
    let mut inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    inputs.extend(input);
    output::check_file("--out", &to.out, &inputs, to.existing)
}

/// `/particles/actions` and `/particles/angles` (`[n,3]` each, in the project's units and
/// order), with `/particles/ids` and `/particles/stream` when present.
pub fn read_request(path: &Path) -> Result<Request> {
    let f = H5File::open(path)?;
    for (name, what) in [("actions", "kpc km/s"), ("angles", "rad")] {
        if !f.exists(&format!("/particles/{name}")) {
            bail!("no /particles/{name} ({what}, [n,3], order r,z,phi): inverting needs a catalog with actions and angles, as `apply` writes");
        }
    }
    let order = ["r", "z", "phi"];
    let actions = read_labelled(
        &f,
        "/particles/actions",
        &[Dim::Any("n"), Dim::Is(3)],
        "kpc km/s",
        Some(&order),
    )?
    .data;
    let n = actions.len() / 3;
    let dims = [Dim::Named("n", n), Dim::Is(3)];
    let angles = read_labelled(&f, "/particles/angles", &dims, "rad", Some(&order))?.data;
    let column = |name: &str| -> Result<Option<Vec<u64>>> {
        let p = format!("/particles/{name}");
        Ok(match f.exists(&p) {
            true => Some(f.read_u64_shaped(&p, &[Dim::Named("n", n)])?.data),
            false => None,
        })
    };
    Ok(Request {
        actions,
        angles,
        ids: column("ids")?,
        stream: column("stream")?,
    })
}

/// Each torus of `tori` at fresh angles: rows in torus order, `/particles/stream` the index of
/// the torus (its star's stream where the catalog has streams).
fn on_tori(tori: &Request, sampling: AngleSampling, seed: u64) -> Result<Request> {
    let per_torus = match sampling {
        AngleSampling::Random(n) => n,
        AngleSampling::Grid(n) => n.saturating_pow(3),
    };
    let count = tori.actions.len() / 3;
    if per_torus == 0 || per_torus.saturating_mul(count) > MAX_SAMPLE_POINTS {
        bail!("{count} tori x {per_torus} angles: sample writes 1 to {MAX_SAMPLE_POINTS} points (--angles N or --grid N)");
    }
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut angles = Vec::with_capacity(3 * per_torus * count);
    for _ in 0..count {
        angles.extend((0..per_torus).flat_map(|k| match sampling {
            AngleSampling::Random(_) => [0; 3].map(|_| rng.random_range(0.0..TAU)),
            AngleSampling::Grid(n) => [k / (n * n), (k / n) % n, k % n].map(|i| TAU * i as f64 / n as f64),
        }));
    }
    let repeat = |v: &[u64]| -> Vec<u64> {
        v.iter()
            .flat_map(|&x| std::iter::repeat_n(x, per_torus))
            .collect()
    };
    let index: Vec<u64> = (0..count as u64).collect();
    Ok(Request {
        actions: repeat_rows(&tori.actions, per_torus),
        angles,
        ids: tori.ids.as_deref().map(repeat),
        stream: Some(repeat(tori.stream.as_ref().unwrap_or(&index))),
    })
}

/// Each row of 3 of `v` repeated `times` times.
fn repeat_rows(v: &[f64], times: usize) -> Vec<f64> {
    v.chunks_exact(3)
        .flat_map(|r| std::iter::repeat_n(r.to_vec(), times).flatten())
        .collect()
}

/// Invert `request` with the model directory `model_dir`, flag, and write the catalog.
fn run(model_dir: &Path, request: Request, to: &Destination, source: &str) -> Result<InvertSummary> {
    let (device, out) = (crate::device::parse(&to.device)?, &to.out);
    let (model, _) = Model::load(model_dir, &device)?;
    let (inverse, _) = InverseModel::load(model_dir, &device)?;
    let (xv, flags) = invert_flagged(&model, &inverse, &request.actions, &request.angles)?;
    let count = |flag: u32| flags.iter().filter(|&&f| f == flag).count();
    let summary = InvertSummary {
        points: flags.len(),
        failed: flags.iter().filter(|&&f| f != 0 && f < FLAG_OUT_OF_RANGE).count(),
        out_of_range: count(FLAG_OUT_OF_RANGE),
        not_closing: count(FLAG_NO_CLOSURE),
        out: out.to_path_buf(),
    };
    let mut cat = Catalog::new(xv);
    cat.ids = request.ids;
    cat.stream = request.stream;
    cat.set_column("actions", request.actions)
        .map_err(anyhow::Error::msg)?;
    cat.set_column("angles", request.angles)
        .map_err(anyhow::Error::msg)?;
    cat.flag = Some(flags);
    cat.attrs.source = format!("actionfinder {source} (model {})", model_dir.display());
    cat.attrs
        .extra
        .insert("method".into(), "actionfinder inverse".to_string().into());
    cat.attrs
        .extra
        .insert("model".into(), model_dir.display().to_string().into());
    cat.write(out)
        .with_context(|| format!("--out {}", out.display()))?;
    Ok(summary)
}

/// `(x, v)` of each row of `actions`, `angles` and its flag: the toy's where it cannot invert,
/// else [`FLAG_OUT_OF_RANGE`] where an action lies outside the inverse's training range, else
/// [`FLAG_NO_CLOSURE`] where the forward map at the point departs from the input by more than
/// the inverse's closure tolerances.
pub fn invert_flagged(
    model: &Model,
    inverse: &InverseModel,
    actions: &[f64],
    angles: &[f64],
) -> Result<(Vec<f64>, Vec<u32>)> {
    let back = inverse.invert(actions, angles)?;
    let departures = closure(model, actions, angles, &back.xv)?;
    let spec = &inverse.spec;
    let flags = (back.flags.iter().enumerate())
        .map(|(i, &f)| {
            let j = &actions[3 * i..3 * i + 3];
            let outside =
                (0..3).any(|k| !(spec.action_range[k][0]..=spec.action_range[k][1]).contains(&j[k]));
            let [dj, dth] = departures[i];
            let open = !(dj <= spec.closure.actions && dth <= spec.closure.angles);
            match f {
                0 if outside => FLAG_OUT_OF_RANGE,
                0 if open => FLAG_NO_CLOSURE,
                f => f,
            }
        })
        .collect();
    Ok((back.xv, flags))
}
