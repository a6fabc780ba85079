//! PNG plots of `field` (plotters' bitmap backend, text in the embedded DejaVu Sans so that
//! no system font or fontconfig is needed): radial profiles on a logarithmic radius axis
//! ([`profile_png`]) and colour maps of a scalar in the x-z plane ([`map_png`]).

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot_style::{register_font, tick, PlotResult, FAMILY};

/// The learned field's colour.
pub const FIELD_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// The reference's colour.
pub const REFERENCE_COLOUR: RGBColor = BLACK;
/// Viridis at five evenly spaced stops, for colour maps.
const VIRIDIS: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];

/// How a curve is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    Line(RGBColor),
    Dashed(RGBColor),
    /// Filled dots (values at data points).
    Dots(RGBColor),
    /// Open circles (reference values at data points).
    Circles(RGBColor),
}

/// One labelled series of (abscissa, value) pairs; pairs a panel cannot show (not finite, or
/// not positive on a log axis) are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub mark: Mark,
}

/// A profile against radius: logarithmic x axis, linear or logarithmic y axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub log_y: bool,
    pub curves: Vec<Curve>,
}

impl Figure {
    /// The points of `curve` the axes can show.
    fn shown<'a>(&self, curve: &'a Curve) -> impl Iterator<Item = (f64, f64)> + 'a {
        let log_y = self.log_y;
        let ok = move |&(x, y): &(f64, f64)| x.is_finite() && x > 0.0 && y.is_finite() && (!log_y || y > 0.0);
        curve.points.iter().copied().filter(ok)
    }

    /// The x and y ranges of everything shown (padded; y about 0 when linear).
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let all: Vec<(f64, f64)> = self.curves.iter().flat_map(|c| self.shown(c)).collect();
        let x = log_range(all.iter().map(|p| p.0));
        let y = if self.log_y {
            log_range(all.iter().map(|p| p.1))
        } else {
            linear_range(all.iter().map(|p| p.1))
        };
        (x, y)
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

/// A linear axis range holding 0 and `values`, 5% padded; (-1, 1) for none.
fn linear_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = 0.05 * (hi - lo);
    if pad > 0.0 {
        (lo - pad, hi + pad)
    } else {
        (-1.0, 1.0)
    }
}

/// Writes `figure` to `path` (900 x 600).
pub fn profile_png(path: &Path, figure: &Figure) -> PlotResult {
    register_font()?;
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let ((x0, x1), (y0, y1)) = figure.ranges();
    if figure.log_y {
        draw_profile(&root, figure, (x0..x1).log_scale(), (y0..y1).log_scale())?;
    } else {
        draw_profile(&root, figure, (x0..x1).log_scale(), y0..y1)?;
    }
    root.present()?;
    Ok(())
}

/// The axes, every curve and the legend of `figure` on `area`.
fn draw_profile<DB, X, Y>(area: &DrawingArea<DB, Shift>, figure: &Figure, x: X, y: Y) -> PlotResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(figure.title.as_str(), (FAMILY, 22))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(figure.x_desc.as_str())
        .y_desc(figure.y_desc.as_str())
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    for curve in &figure.curves {
        let points: Vec<(f64, f64)> = figure.shown(curve).collect();
        let series = match curve.mark {
            Mark::Line(c) => chart.draw_series(LineSeries::new(points, c.stroke_width(2)))?,
            Mark::Dashed(c) => chart.draw_series(DashedLineSeries::new(points, 8, 5, c.stroke_width(2)))?,
            Mark::Dots(c) => {
                chart.draw_series(points.into_iter().map(|p| Circle::new(p, 2, c.mix(0.7).filled())))?
            }
            Mark::Circles(c) => {
                chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, c.stroke_width(1))))?
            }
        };
        let mark = curve.mark;
        series
            .label(curve.label.as_str())
            .legend(move |(x, y)| legend_mark(mark, (x, y)));
    }
    chart
        .configure_series_labels()
        .position(match figure.log_y {
            true => SeriesLabelPosition::UpperRight,
            false => SeriesLabelPosition::LowerRight,
        })
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The legend's sample of a mark at `(x, y)`.
fn legend_mark<'a, DB: DrawingBackend>(mark: Mark, (x, y): (i32, i32)) -> DynElement<'a, DB, (i32, i32)> {
    match mark {
        Mark::Line(c) | Mark::Dashed(c) => {
            PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2)).into_dyn()
        }
        Mark::Dots(c) => Circle::new((x + 8, y), 3, c.filled()).into_dyn(),
        Mark::Circles(c) => Circle::new((x + 8, y), 4, c.stroke_width(1)).into_dyn(),
    }
}

/// Colour maps of scalars on one square grid of the x-z plane, side by side with a shared
/// colour scale and a colour bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    /// The grid spans x, z in `[-extent, extent]` (kpc).
    pub extent: f64,
    /// Points per side; each panel's values are `[n_z, n_x]`, row-major, z rising.
    pub n: usize,
    /// Title and values of each panel.
    pub panels: Vec<(String, Vec<f64>)>,
    /// What the colours mean (for the bar).
    pub value_desc: String,
}

/// Viridis at `t` in [0, 1] (linear between the stops).
fn viridis(t: f64) -> RGBColor {
    let s = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let k = (s.floor() as usize).min(VIRIDIS.len() - 2);
    let (a, b, f) = (VIRIDIS[k], VIRIDIS[k + 1], s - k as f64);
    let mix = |p: f64, q: f64| (p + f * (q - p)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Writes `map` to `path`: one 600 x 600 panel per scalar and a colour bar.
pub fn map_png(path: &Path, map: &Map) -> PlotResult {
    register_font()?;
    let width = 600 * map.panels.len() as u32 + 140;
    let root = BitMapBackend::new(path, (width, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let finite = map
        .panels
        .iter()
        .flat_map(|p| &p.1)
        .copied()
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
    let (panels, bar) = root.split_horizontally(600 * map.panels.len() as u32);
    for (area, (title, values)) in panels.split_evenly((1, map.panels.len())).iter().zip(&map.panels) {
        map_panel(area, map, title, values, (lo, hi))?;
    }
    colour_bar(&bar, &map.value_desc, (lo, hi))?;
    root.present()?;
    Ok(())
}

/// One panel: a filled cell per grid point, coloured by its value in `[lo, hi]`.
fn map_panel<DB>(
    area: &DrawingArea<DB, Shift>,
    map: &Map,
    title: &str,
    values: &[f64],
    (lo, hi): (f64, f64),
) -> PlotResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let e = map.extent;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(60)
        .build_cartesian_2d(-e..e, -e..e)?;
    let step = 2.0 * e / (map.n - 1) as f64;
    let cell = |k: usize| {
        let (x, z) = (-e + (k % map.n) as f64 * step, -e + (k / map.n) as f64 * step);
        [(x - step / 2.0, z - step / 2.0), (x + step / 2.0, z + step / 2.0)]
    };
    let cells = (values.iter().enumerate()).filter(|(_, v)| v.is_finite());
    chart.draw_series(cells.map(|(k, v)| Rectangle::new(cell(k), viridis((v - lo) / (hi - lo)).filled())))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x (kpc)")
        .y_desc("z (kpc)")
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    Ok(())
}

/// The colour scale from `lo` to `hi`, labelled `desc`.
fn colour_bar<DB>(area: &DrawingArea<DB, Shift>, desc: &str, (lo, hi): (f64, f64)) -> PlotResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin_top(44)
        .margin_bottom(60)
        .margin_right(12)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    let steps = 128;
    let band = |k: usize| lo + (hi - lo) * k as f64 / steps as f64;
    chart.draw_series((0..steps).map(|k| {
        let t = (k as f64 + 0.5) / steps as f64;
        Rectangle::new([(0.0, band(k)), (1.0, band(k + 1))], viridis(t).filled())
    }))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(desc)
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 14))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
    }

    #[test]
    fn ranges_skip_what_the_axes_cannot_show() {
        let figure = Figure {
            title: String::new(),
            x_desc: String::new(),
            y_desc: String::new(),
            log_y: true,
            curves: vec![Curve {
                label: String::new(),
                points: vec![(1.0, 2.0), (0.0, 5.0), (4.0, -1.0), (f64::NAN, 3.0), (2.0, 8.0)],
                mark: Mark::Dots(BLACK),
            }],
        };
        assert_eq!(figure.ranges(), ((1.0 / 1.5, 3.0), (2.0 / 1.5, 12.0)));
    }
}
