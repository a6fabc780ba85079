//! Text specs of potentials: `plummer:M=1e11,a=2`, sums `A+B+...`, and the help text.
//!
//! Grammar: `spec = term ("+" term)*`, `term = name [":" param ("," param)*]`,
//! `param = key "=" number`. Names and keys are case-insensitive and `_` may stand for `-`
//! in names. A `+` separates terms only when the text after it starts with a letter, so
//! exponents such as `1e+11` are read as numbers. Every parameter is required; unknown,
//! duplicate or missing parameters and bad numbers give [`PotentialError::BadSpec`], whose
//! message lists every known potential with its parameters and units.

use super::{Dehnen, Hernquist, Isochrone, Plummer, Potential, PotentialError};

/// Builds a potential from its parameter values, in the order of `Family::params`.
type Builder = fn(&[f64]) -> Result<Box<dyn Potential>, PotentialError>;

/// One potential family known to the parser.
struct Family {
    name: &'static str,
    aliases: &'static [&'static str],
    /// (key, meaning with unit)
    params: &'static [(&'static str, &'static str)],
    formula: &'static str,
    build: Builder,
}

fn boxed<P: Potential + 'static>(p: Result<P, PotentialError>) -> Result<Box<dyn Potential>, PotentialError> {
    p.map(|p| Box::new(p) as Box<dyn Potential>)
}

const FAMILIES: &[Family] = &[
    Family {
        name: "isochrone",
        aliases: &[],
        params: &[("M", "mass [Msun]"), ("b", "scale length [kpc]")],
        formula: "Phi = -G M / (b + sqrt(b^2 + r^2))",
        build: |v| boxed(Isochrone::new(v[0], v[1])),
    },
    Family {
        name: "plummer",
        aliases: &[],
        params: &[("M", "mass [Msun]"), ("a", "scale length [kpc]")],
        formula: "Phi = -G M / sqrt(r^2 + a^2)",
        build: |v| boxed(Plummer::new(v[0], v[1])),
    },
    Family {
        name: "hernquist",
        aliases: &[],
        params: &[("M", "mass [Msun]"), ("a", "scale length [kpc]")],
        formula: "Phi = -G M / (r + a)",
        build: |v| boxed(Hernquist::new(v[0], v[1])),
    },
    Family {
        name: "dehnen",
        aliases: &[],
        params: &[
            ("M", "mass [Msun]"),
            ("a", "scale length [kpc]"),
            ("gamma", "inner density slope, 0 <= gamma < 2"),
        ],
        formula: "Phi = -(G M / a) (1 - (r/(r+a))^(2-gamma)) / (2 - gamma)",
        build: |v| boxed(Dehnen::new(v[0], v[1], v[2])),
    },
];

/// Every known potential with its parameters, units and formula, one per line (for help
/// texts and error messages).
pub fn known_potentials() -> String {
    let mut out = String::new();
    for f in FAMILIES {
        let params: Vec<String> = f.params.iter().map(|(k, _)| format!("{k}=..")).collect();
        if params.is_empty() {
            out.push_str(&format!("  {}\n", f.name));
        } else {
            out.push_str(&format!("  {}:{}\n", f.name, params.join(",")));
        }
        for (k, meaning) in f.params {
            out.push_str(&format!("      {k}: {meaning}\n"));
        }
        out.push_str(&format!("      {}\n", f.formula));
    }
    out.push_str("  sums: A+B+... (e.g. plummer:M=1e10,a=1+nfw:Ms=8e11,a=16)\n");
    out.push_str("  units: kpc, km/s, Msun; G = 4.300917270e-6 kpc (km/s)^2/Msun\n");
    out
}

fn bad(spec: &str, reason: String) -> PotentialError {
    PotentialError::BadSpec {
        spec: spec.to_string(),
        reason,
        known: known_potentials(),
    }
}

/// Split a sum at each `+` that is followed (after blanks) by a letter.
fn split_terms(spec: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = 0;
    for (i, c) in spec.char_indices() {
        if c == '+' {
            let next = spec[i + 1..].trim_start().chars().next();
            if next.is_some_and(|n| n.is_ascii_alphabetic()) {
                terms.push(&spec[start..i]);
                start = i + 1;
            }
        }
    }
    terms.push(&spec[start..]);
    terms
}

fn normalise_name(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('_', "-")
}

/// Parse one term `name[:k=v,...]`.
fn parse_term(whole: &str, term: &str) -> Result<Box<dyn Potential>, PotentialError> {
    let term = term.trim();
    if term.is_empty() {
        return Err(bad(whole, "empty term".into()));
    }
    let (name, args) = match term.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (term, None),
    };
    let key = normalise_name(name);
    let family = FAMILIES
        .iter()
        .find(|f| f.name == key || f.aliases.contains(&key.as_str()))
        .ok_or_else(|| bad(whole, format!("unknown potential '{}'", name.trim())))?;
    let mut values: Vec<Option<f64>> = vec![None; family.params.len()];
    if let Some(args) = args.filter(|a| !a.trim().is_empty()) {
        for item in args.split(',') {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                bad(
                    whole,
                    format!("{}: expected key=value, got '{}'", family.name, item.trim()),
                )
            })?;
            let k = k.trim();
            let idx = family
                .params
                .iter()
                .position(|(p, _)| p.eq_ignore_ascii_case(k))
                .ok_or_else(|| {
                    bad(
                        whole,
                        format!(
                            "{}: unknown parameter '{k}' (expected {})",
                            family.name,
                            expected_params(family)
                        ),
                    )
                })?;
            let pname = family.params[idx].0;
            if values[idx].is_some() {
                return Err(bad(
                    whole,
                    format!("{}: parameter {pname} given twice", family.name),
                ));
            }
            let x: f64 = v.trim().parse().map_err(|_| {
                bad(
                    whole,
                    format!(
                        "{}: parameter {pname} = '{}' is not a number",
                        family.name,
                        v.trim()
                    ),
                )
            })?;
            values[idx] = Some(x);
        }
    }
    let missing: Vec<&str> = family
        .params
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|((k, _), _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(bad(
            whole,
            format!(
                "{}: missing parameter(s) {} (expected {})",
                family.name,
                missing.join(", "),
                expected_params(family)
            ),
        ));
    }
    let values: Vec<f64> = values.into_iter().flatten().collect();
    (family.build)(&values).map_err(|e| bad(whole, e.to_string()))
}

fn expected_params(f: &Family) -> String {
    f.params.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

/// Parse a potential spec such as `isochrone:M=3.334e11,b=5` or `A+B` (see module docs).
pub fn parse(spec: &str) -> Result<Box<dyn Potential>, PotentialError> {
    let terms = split_terms(spec);
    let mut parts = Vec::with_capacity(terms.len());
    for t in &terms {
        parts.push(parse_term(spec, t)?);
    }
    if parts.len() == 1 {
        return Ok(parts.remove(0));
    }
    Err(bad(spec, "sums are not supported yet".into()))
}
