//! The readable table of a validation (`Display` of [`Report`] and [`ValidateOutput`]).

use std::fmt::{self, Display, Formatter, Result};

use super::{ActionErrors, AngleErrors, FlagCounts, Named, Report, Spread, Subsets, ValidateOutput};

const HEADER: [&str; 4] = ["r", "z", "phi", "overall"];

/// A number in 11 columns: fixed for moderate magnitudes, scientific otherwise, `-` for NaN.
fn num(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        format!("{:>11}", "-")
    } else if a == 0.0 || (1e-2..1e5).contains(&a) {
        format!("{x:>11.4}")
    } else {
        format!("{x:>11.3e}")
    }
}

/// One table line: source, subset, metric, count, three components and the overall value.
fn line(f: &mut Formatter<'_>, label: [&str; 3], n: usize, v: [f64; 3], overall: f64) -> Result {
    write!(f, "{:<12}{:<9}{:<18}{n:>8}", label[0], label[1], label[2])?;
    for x in v.into_iter().chain([overall]) {
        f.write_str(&num(x))?;
    }
    writeln!(f)
}

fn header(f: &mut Formatter<'_>, title: &str, count: &str) -> Result {
    writeln!(f, "\n{title}")?;
    write!(f, "{:<39}{count:>8}", "")?;
    for h in HEADER {
        write!(f, "{h:>11}")?;
    }
    writeln!(f)
}

fn actions(f: &mut Formatter<'_>, name: &str, e: &Subsets<ActionErrors>) -> Result {
    for (subset, a) in [("all", &e.all), ("trusted", &e.trusted)] {
        line(
            f,
            [name, subset, "mean |dJ|"],
            a.n,
            a.mean_abs,
            a.mean_abs_overall,
        )?;
        line(f, ["", "", "relative"], a.n, a.relative, a.relative_overall)?;
        line(
            f,
            ["", "", "median |dJ|"],
            a.n,
            a.median_abs,
            a.median_abs_overall,
        )?;
    }
    Ok(())
}

fn angles(f: &mut Formatter<'_>, e: &Subsets<AngleErrors>) -> Result {
    for (subset, a) in [("all", &e.all), ("trusted", &e.trusted)] {
        line(
            f,
            ["catalog", subset, "mean |dθ|"],
            a.n,
            a.mean_deg,
            a.mean_deg_overall,
        )?;
        line(
            f,
            ["", "", "median |dθ|"],
            a.n,
            a.median_deg,
            a.median_deg_overall,
        )?;
    }
    Ok(())
}

fn conservation(f: &mut Formatter<'_>, rows: &[Named<Spread>]) -> Result {
    for row in rows {
        for (subset, s) in [("all", &row.value.all), ("trusted", &row.value.trusted)] {
            line(
                f,
                [&row.name, subset, "spread"],
                s.n_streams,
                s.per_component,
                s.overall,
            )?;
        }
    }
    Ok(())
}

impl Display for FlagCounts {
    fn fmt(&self, f: &mut Formatter<'_>) -> Result {
        if !self.present {
            return write!(f, "no flags in the catalog: every point trusted");
        }
        write!(
            f,
            "{} ok, {} written but not trusted (flag {}), {} without values; {:.2}% flagged",
            self.ok,
            self.untrusted,
            super::FLAG_UNTRUSTED,
            self.failed,
            100.0 * self.flagged_share
        )
    }
}

impl Display for Report {
    fn fmt(&self, f: &mut Formatter<'_>) -> Result {
        let method = self
            .method
            .as_deref()
            .map_or(String::new(), |m| format!(", method {m}"));
        writeln!(
            f,
            "{} points ({} streams x {} points){method}",
            self.points, self.n_streams, self.n_stars
        )?;
        writeln!(f, "flags: {}", self.flags)?;
        if self.actions.is_some() || !self.baselines.is_empty() {
            header(
                f,
                "Actions against truth (kpc km/s; relative = mean |dJ| / mean |J_true|)",
                "n",
            )?;
            if let Some(a) = &self.actions {
                actions(f, "catalog", a)?;
            }
            for b in &self.baselines {
                actions(f, &b.name, &b.value)?;
            }
        }
        if let Some(a) = &self.angles {
            header(
                f,
                "Angles against truth (degrees, difference wrapped into (-180, 180])",
                "n",
            )?;
            angles(f, a)?;
        }
        if !self.conservation.is_empty() {
            let title = "Conservation along streams: mean over streams of mean |J - stream mean| (kpc km/s)";
            header(f, title, "streams")?;
            conservation(f, &self.conservation)?;
        }
        if !self.missing.is_empty() {
            writeln!(f, "\nNot validated:")?;
            for m in &self.missing {
                writeln!(f, "  - {m}")?;
            }
        }
        Ok(())
    }
}

impl Display for ValidateOutput {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "validate: catalog {} against truth {}",
            self.catalog, self.truth
        )?;
        write!(f, "{}", self.report)?;
        writeln!(f)?;
        for p in &self.plots {
            writeln!(f, "wrote {p}")?;
        }
        for n in &self.plot_notes {
            writeln!(f, "{n}")?;
        }
        Ok(())
    }
}
