//! The readable table of a validation (`Display` of [`Report`] and [`ValidateOutput`]).

use std::fmt::{self, Display, Formatter, Result};

use super::{
    AccelerationErrors, ActionErrors, AngleErrors, Coverage, FieldErrors, FlagCounts, FrequencyErrors, Named,
    PotentialErrors, Report, Spread, Subsets, ValidateOutput,
};
use crate::inverse::roundtrip::RoundTrip;

const HEADER: [&str; 4] = ["r", "z", "phi", "overall"];
/// Columns of the acceleration table: Cartesian components and the vector's value.
const CARTESIAN: [&str; 4] = ["x", "y", "z", "vector"];
/// Columns of the potential table: one value.
const SCALAR: [&str; 4] = ["", "", "", "value"];
/// Components a line does not have.
const NONE: [f64; 3] = [f64::NAN; 3];

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
    header_with(f, title, count, HEADER)
}

fn header_with(f: &mut Formatter<'_>, title: &str, count: &str, columns: [&str; 4]) -> Result {
    writeln!(f, "\n{title}")?;
    write!(f, "{:<39}{count:>8}", "")?;
    for h in columns {
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

fn coverage(f: &mut Formatter<'_>, e: &Subsets<Coverage>) -> Result {
    for (subset, c) in [("all", &e.all), ("trusted", &e.trusted)] {
        line(
            f,
            ["catalog", subset, "within 1 sigma"],
            c.n,
            c.within_one,
            c.within_one_overall,
        )?;
        line(
            f,
            ["", "", "within 2 sigma"],
            c.n,
            c.within_two,
            c.within_two_overall,
        )?;
        line(f, ["", "", "scale for 68%"], c.n, c.scale_68, f64::NAN)?;
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

fn roundtrip(f: &mut Formatter<'_>, e: &Subsets<RoundTrip>) -> Result {
    each_subset(e, |subset, r| {
        let mean = [r.mean_dx, r.mean_dv, f64::NAN];
        line(f, ["catalog", subset, "mean"], r.points, mean, f64::NAN)?;
        let median = [r.median_dx, r.median_dv, f64::NAN];
        line(f, ["", "", "median"], r.points, median, f64::NAN)
    })
}

/// Each subset of `e` as `rows(subset name, value)`.
fn each_subset<T>(e: &Subsets<T>, mut rows: impl FnMut(&str, &T) -> Result) -> Result {
    rows("all", &e.all)?;
    rows("trusted", &e.trusted)
}

fn acceleration(f: &mut Formatter<'_>, e: &Subsets<AccelerationErrors>) -> Result {
    header_with(
        f,
        "Field: acceleration against truth ((km/s)^2/kpc; relative = |a - a_true| / |a_true|, component k: \
         |a_k - a_true_k| / |a_true|; angle between a and a_true)",
        "n",
        CARTESIAN,
    )?;
    each_subset(e, |subset, a| {
        let mean = a.component_relative_mean;
        line(
            f,
            ["catalog", subset, "mean relative"],
            a.n,
            mean,
            a.relative_mean,
        )?;
        line(f, ["", "", "median relative"], a.n, NONE, a.relative_median)?;
        line(f, ["", "", "mean angle (deg)"], a.n, NONE, a.direction_mean_deg)?;
        line(
            f,
            ["", "", "median angle (deg)"],
            a.n,
            NONE,
            a.direction_median_deg,
        )
    })
}

fn potential(f: &mut Formatter<'_>, e: &Subsets<PotentialErrors>) -> Result {
    header_with(
        f,
        "Field: potential against truth (offset = median(Phi - Phi_true) in (km/s)^2, removed; \
         relative = |Phi - offset - Phi_true| / |Phi_true|)",
        "n",
        SCALAR,
    )?;
    each_subset(e, |subset, p| {
        line(f, ["catalog", subset, "offset"], p.n, NONE, p.offset)?;
        line(f, ["", "", "mean relative"], p.n, NONE, p.relative_mean)?;
        line(f, ["", "", "median relative"], p.n, NONE, p.relative_median)
    })
}

fn frequencies(f: &mut Formatter<'_>, e: &Subsets<FrequencyErrors>, what: &str) -> Result {
    let title = format!(
        "Field: {what} against truth (km/s/kpc; relative = |Omega_k - Omega_k,true| / |Omega_k,true|, \
         Omega_phi with the truth's sign)"
    );
    header(f, &title, "n")?;
    each_subset(e, |subset, q| {
        let (mean, median) = (q.relative_mean, q.relative_median);
        line(
            f,
            ["catalog", subset, "mean relative"],
            q.n,
            mean,
            q.relative_mean_overall,
        )?;
        line(
            f,
            ["", "", "median relative"],
            q.n,
            median,
            q.relative_median_overall,
        )
    })
}

/// The field section: each part the report has.
fn field(f: &mut Formatter<'_>, e: &FieldErrors) -> Result {
    if let Some(a) = &e.acceleration {
        acceleration(f, a)?;
    }
    if let Some(p) = &e.potential {
        potential(f, p)?;
    }
    if let Some(q) = &e.frequencies {
        frequencies(f, q, "frequencies")?;
    }
    if let Some(q) = &e.stream_frequencies {
        frequencies(f, q, "per-stream frequencies (time slope of the angles)")?;
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
        match self.stream_lengths {
            None => writeln!(
                f,
                "{} points ({} streams x {} points){method}",
                self.points, self.n_streams, self.n_stars
            )?,
            Some([min, max]) => writeln!(
                f,
                "{} points ({} streams of {min} to {max} points){method}",
                self.points, self.n_streams
            )?,
        }
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
        if let Some(c) = &self.action_error {
            header(
                f,
                "Action uncertainties: share of true actions within 1 and 2 sigma (0.683 and 0.954 when calibrated)",
                "n",
            )?;
            coverage(f, c)?;
        }
        if let Some(r) = &self.roundtrip {
            let title = "Round trip through the inverse map, (x, v) -> (J, theta) -> (x', v')";
            header_with(f, title, "n", ["|dx| kpc", "|dv| km/s", "", ""])?;
            roundtrip(f, r)?;
        }
        field(f, &self.field)?;
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
