//! PNG plots of `validate` (plotters' bitmap backend, text in the embedded DejaVu Sans so
//! that no system font or fontconfig is needed):
//! * `actions.png`: recovered against true J_r, J_z (log axes: they span decades) and
//!   J_phi (linear, symmetric about 0), the 1:1 line, trusted and flagged points in colour;
//! * `angles.png`: recovered against true theta_r, theta_z, theta_phi in degrees;
//! * `field.png`: recovered and true |a| against the radius r = |x| (log-log);
//! * `loss.png`: training and validation loss per epoch (log y), the best epoch marked.

use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot_style::{register_font, tick, PlotResult, FAMILY};

use super::history::History;
use super::{ValidateError, FLAG_UNTRUSTED};
use crate::catalog::Catalog;
use crate::dataset::StreamsDataset;

/// At most this many points per panel (every k-th point beyond it).
const MAX_POINTS: usize = 20_000;
const TRUSTED: RGBColor = RGBColor(31, 119, 180);
const FLAGGED: RGBColor = RGBColor(214, 39, 40);
const VALIDATION: RGBColor = RGBColor(255, 127, 14);
const PANEL: (u32, u32) = (620, 600);

/// The PNG files [`write_all`] may write.
pub const FILES: [&str; 4] = ["actions.png", "angles.png", "field.png", "loss.png"];

/// The PNG files written and the plots left out (with why).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

/// Writes `actions.png`, `angles.png`, `field.png` and `loss.png` into `dir` (created if
/// needed), each where its data exist. `truth` holds the catalog's rows ([`super::matched_truth`]).
pub fn write_all(
    dir: &Path,
    catalog: &Catalog,
    truth: &StreamsDataset,
    history: Option<&History>,
) -> Result<Written, ValidateError> {
    let fail = |message: String| ValidateError::Plot {
        path: dir.to_path_buf(),
        message,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create the folder: {e}")))?;
    register_font().map_err(fail)?;
    let class = point_classes(catalog);
    let mut out = Written::default();
    match catalog.column("actions").zip(truth.truth.actions.as_deref()) {
        Some((a, t)) => out.save(dir.join("actions.png"), |p| actions_png(p, a, t, &class))?,
        None => out.skip("actions.png", "no actions in the catalog or no /truth/actions"),
    }
    match catalog.column("angles").zip(truth.truth.angles.as_deref()) {
        Some((a, t)) => out.save(dir.join("angles.png"), |p| angles_png(p, a, t, &class))?,
        None => out.skip("angles.png", "no angles in the catalog or no /truth/angles"),
    }
    match catalog
        .column("acceleration")
        .zip(truth.truth.acceleration.as_deref())
    {
        Some((a, t)) => out.save(dir.join("field.png"), |p| field_png(p, &catalog.xv, a, t, &class))?,
        None if catalog.column("acceleration").is_some() => out.skip("field.png", "no /truth/acceleration"),
        None => {}
    }
    match history {
        Some(h) => out.save(dir.join("loss.png"), |p| loss_png(p, h))?,
        None => out.skip(
            "loss.png",
            "no model directory (--model, or the catalog's root attribute `model`)",
        ),
    }
    Ok(out)
}

impl Written {
    /// Draws `path` with `draw` and records it.
    fn save(&mut self, path: PathBuf, draw: impl FnOnce(&Path) -> PlotResult) -> Result<(), ValidateError> {
        crate::output::write_atomically(&path, draw).map_err(|e| ValidateError::Plot {
            path: path.clone(),
            message: e.to_string(),
        })?;
        self.files.push(path);
        Ok(())
    }

    /// Records that `name` was not written, and why.
    fn skip(&mut self, name: &str, why: &str) {
        self.notes.push(format!("{name} not written: {why}"));
    }
}

/// How a point is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Trusted,
    Flagged,
    /// No values (failed): not drawn.
    Hidden,
}

fn point_classes(catalog: &Catalog) -> Vec<Class> {
    let class = |f: u32| match f {
        0 => Class::Trusted,
        FLAG_UNTRUSTED => Class::Flagged,
        _ => Class::Hidden,
    };
    match &catalog.flag {
        Some(flags) => flags.iter().map(|&f| class(f)).collect(),
        None => vec![Class::Trusted; catalog.len()],
    }
}

/// How a panel's axes are scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scale {
    /// Logarithmic, the same range on both axes; points <= 0 are not drawn.
    Log,
    /// Linear, symmetric about 0, the same range on both axes.
    Symmetric,
    /// Linear 0..360 degrees.
    Degrees,
}

/// One scatter panel: (true, recovered) pairs by class.
struct Panel {
    title: String,
    x_desc: String,
    y_desc: String,
    scale: Scale,
    trusted: Vec<(f64, f64)>,
    flagged: Vec<(f64, f64)>,
    /// Points left out because the log axes cannot show them.
    not_shown: usize,
}

impl Panel {
    /// Panel of component `k` of `rec` against `truth` (\[n,3\]), values mapped by `map`.
    fn new(k: usize, rec: &[f64], truth: &[f64], class: &[Class], scale: Scale, map: fn(f64) -> f64) -> Self {
        let stride = class.len().div_ceil(MAX_POINTS).max(1);
        let mut p = Panel {
            title: String::new(),
            x_desc: String::new(),
            y_desc: String::new(),
            scale,
            trusted: Vec::new(),
            flagged: Vec::new(),
            not_shown: 0,
        };
        for i in (0..class.len()).step_by(stride) {
            let xy = (map(truth[3 * i + k]), map(rec[3 * i + k]));
            if !(xy.0.is_finite() && xy.1.is_finite()) {
                continue;
            }
            if scale == Scale::Log && (xy.0 <= 0.0 || xy.1 <= 0.0) {
                p.not_shown += 1;
                continue;
            }
            match class[i] {
                Class::Trusted => p.trusted.push(xy),
                Class::Flagged => p.flagged.push(xy),
                Class::Hidden => {}
            }
        }
        p
    }

    fn labelled(mut self, title: String, x_desc: String, y_desc: String) -> Self {
        (self.title, self.x_desc, self.y_desc) = (title, x_desc, y_desc);
        self
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.trusted
            .iter()
            .chain(&self.flagged)
            .flat_map(|&(x, y)| [x, y])
    }

    /// The axis range (the same on both axes).
    fn range(&self) -> (f64, f64) {
        match self.scale {
            Scale::Degrees => (0.0, 360.0),
            Scale::Symmetric => {
                let m = self.values().fold(0.0f64, |m, v| m.max(v.abs())) * 1.05;
                if m > 0.0 {
                    (-m, m)
                } else {
                    (-1.0, 1.0)
                }
            }
            Scale::Log => log_range(self.values()),
        }
    }
}

/// A log axis range about positive `values`: (min / 1.5, max * 1.5); (1, 10) for none.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi > 0.0 {
        (lo / 1.5, hi * 1.5)
    } else {
        (1.0, 10.0)
    }
}

/// Component labels (r, z, phi) for titles and axes.
const ACTION_NAMES: [&str; 3] = ["J_r", "J_z", "J_φ"];
const ANGLE_NAMES: [&str; 3] = ["θ_r", "θ_z", "θ_φ"];

/// `actions.png`: three panels of recovered against true actions.
fn actions_png(path: &Path, rec: &[f64], truth: &[f64], class: &[Class]) -> PlotResult {
    let scales = [Scale::Log, Scale::Log, Scale::Symmetric];
    let panels = (0..3).map(|k| {
        let name = ACTION_NAMES[k];
        Panel::new(k, rec, truth, class, scales[k], |v| v).labelled(
            format!("{name}: recovered vs true"),
            format!("true {name} (kpc km/s)"),
            format!("recovered {name} (kpc km/s)"),
        )
    });
    panels_png(path, panels.collect())
}

/// `angles.png`: three panels of recovered against true angles (degrees in [0, 360)).
fn angles_png(path: &Path, rec: &[f64], truth: &[f64], class: &[Class]) -> PlotResult {
    let degrees = |v: f64| v.to_degrees().rem_euclid(360.0);
    let panels = (0..3).map(|k| {
        let name = ANGLE_NAMES[k];
        Panel::new(k, rec, truth, class, Scale::Degrees, degrees).labelled(
            format!("{name}: recovered vs true"),
            format!("true {name} (deg)"),
            format!("recovered {name} (deg)"),
        )
    });
    panels_png(path, panels.collect())
}

/// (r, |a|) of the recovered and of the true acceleration (\[n,3\]) at the points `xv`
/// (\[n,6\]) that have values, every k-th beyond [`MAX_POINTS`]; pairs that a log axis
/// cannot show (r or |a| not finite and positive) are left out.
fn magnitudes(xv: &[f64], rec: &[f64], truth: &[f64], class: &[Class]) -> [Vec<(f64, f64)>; 2] {
    let stride = class.len().div_ceil(MAX_POINTS).max(1);
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let shown = |p: &(f64, f64)| p.0.is_finite() && p.0 > 0.0 && p.1.is_finite() && p.1 > 0.0;
    let rows: Vec<usize> = (0..class.len())
        .step_by(stride)
        .filter(|&i| class[i] != Class::Hidden)
        .collect();
    [rec, truth].map(|a| {
        (rows.iter())
            .map(|&i| (norm(&xv[6 * i..6 * i + 3]), norm(&a[3 * i..3 * i + 3])))
            .filter(shown)
            .collect()
    })
}

/// `field.png`: recovered and true |a| against r = |x|, log-log.
fn field_png(path: &Path, xv: &[f64], rec: &[f64], truth: &[f64], class: &[Class]) -> PlotResult {
    let [recovered, exact] = magnitudes(xv, rec, truth, class);
    let all = || recovered.iter().chain(&exact);
    let (x, y) = (log_range(all().map(|p| p.0)), log_range(all().map(|p| p.1)));
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "acceleration: recovered and true |a| against radius",
            (FAMILY, 22),
        )
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((x.0..x.1).log_scale(), (y.0..y.1).log_scale())?;
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .x_desc("r = |x| (kpc)")
        .y_desc("|a| ((km/s)²/kpc)")
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    chart
        .draw_series(exact.iter().map(|&p| Circle::new(p, 4, BLACK.stroke_width(1))))?
        .label(format!("true |a| ({})", exact.len()))
        .legend(|(x, y)| Circle::new((x + 8, y), 4, BLACK.stroke_width(1)));
    chart
        .draw_series(
            recovered
                .iter()
                .map(|&p| Circle::new(p, 2, TRUSTED.mix(0.8).filled())),
        )?
        .label(format!("recovered |a| ({})", recovered.len()))
        .legend(|(x, y)| Circle::new((x + 8, y), 4, TRUSTED.filled()));
    legend_at(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present()?;
    Ok(())
}

/// The panels side by side in one PNG.
fn panels_png(path: &Path, panels: Vec<Panel>) -> PlotResult {
    let size = (PANEL.0 * panels.len() as u32, PANEL.1);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(&panels) {
        let (lo, hi) = panel.range();
        match panel.scale {
            Scale::Log => scatter(area, panel, (lo..hi).log_scale(), (lo..hi).log_scale())?,
            _ => scatter(area, panel, lo..hi, lo..hi)?,
        }
    }
    root.present()?;
    Ok(())
}

/// One scatter panel with the 1:1 line and a legend.
fn scatter<DB, X, Y>(area: &DrawingArea<DB, Shift>, panel: &Panel, x: X, y: Y) -> PlotResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut title = panel.title.clone();
    if panel.not_shown > 0 {
        title = format!("{title} ({} ≤ 0 not shown)", panel.not_shown);
    }
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(panel.x_desc.as_str())
        .y_desc(panel.y_desc.as_str())
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    let (lo, hi) = panel.range();
    chart
        .draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK.stroke_width(1)))?
        .label("1:1")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
    for (points, color, name) in [
        (&panel.trusted, TRUSTED, "trusted"),
        (&panel.flagged, FLAGGED, "flagged, not trusted"),
    ] {
        if points.is_empty() {
            continue;
        }
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 2, color.mix(0.6).filled())))?
            .label(format!("{name} ({})", points.len()))
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    legend(&mut chart)
}

fn legend<'a, DB, X, Y>(chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>) -> PlotResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged,
    Y: Ranged,
{
    legend_at(chart, SeriesLabelPosition::UpperLeft)
}

/// The series labels in a framed box at `position`.
fn legend_at<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> PlotResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// `loss.png`: training and validation loss against epoch, log y, best epoch marked.
fn loss_png(path: &Path, history: &History) -> PlotResult {
    let keep = |v: f64| (v.is_finite() && v > 0.0).then_some(v);
    let train: Vec<(f64, f64)> = (history.history.iter())
        .filter_map(|e| keep(e.train_loss).map(|l| (e.epoch as f64, l)))
        .collect();
    let val: Vec<(f64, f64)> = (history.history.iter())
        .filter_map(|e| e.val_loss.and_then(keep).map(|l| (e.epoch as f64, l)))
        .collect();
    let all = || train.iter().chain(&val);
    let last = all().fold(1.0f64, |m, p| m.max(p.0));
    let (lo, hi) = all().fold((f64::INFINITY, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let (lo, hi) = if hi > 0.0 {
        (lo / 1.5, hi * 1.5)
    } else {
        (0.1, 10.0)
    };
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("training history", (FAMILY, 22))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..last + 1.0, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    for (points, color, name) in [(&train, TRUSTED, "training"), (&val, VALIDATION, "validation")] {
        if !points.is_empty() {
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        }
    }
    if let Some(best) = history.best_epoch {
        best_epoch_marker(&mut chart, best as f64, (lo, hi))?;
    }
    legend(&mut chart)?;
    root.present()?;
    Ok(())
}

/// A dashed vertical line at the best epoch.
fn best_epoch_marker<'a, DB>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, LogCoord<f64>>>,
    best: f64,
    (lo, hi): (f64, f64),
) -> PlotResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
{
    let style = BLACK.stroke_width(1);
    chart
        .draw_series(DashedLineSeries::new([(best, lo), (best, hi)], 6, 4, style))?
        .label(format!("best epoch {best}"))
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
    Ok(())
}
