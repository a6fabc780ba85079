//! Text specs of potentials: `plummer:M=1e11,a=2`, sums `A+B+...`, and the help text.
//!
//! Grammar: `spec = term ("+" term)*`, `term = name [":" param ("," param)*]`,
//! `param = key "=" number`. Names and keys are case-insensitive and `_` may stand for `-`
//! in names. A `+` separates terms only when the text after it starts with a letter (or is
//! empty or another `+`, which is reported as an empty term), so exponents such as `1e+11`
//! are read as numbers. Every parameter is required; unknown,
//! duplicate or missing parameters and bad numbers give [`PotentialError::BadSpec`], whose
//! message lists every known potential with its parameters and units.

use super::{
    mw2014, Dehnen, Hernquist, Isochrone, KuzminKutuzov, Logarithmic, MiyamotoNagai, Nfw, Plummer, Potential,
    PotentialError, PowerCutoff, Sum,
};

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
    Family {
        name: "nfw",
        aliases: &[],
        params: &[
            ("Ms", "mass parameter 4 pi rho0 a^3 [Msun]"),
            ("a", "scale radius [kpc]"),
        ],
        formula: "Phi = -G Ms ln(1 + r/a) / r",
        build: |v| boxed(Nfw::new(v[0], v[1])),
    },
    Family {
        name: "miyamoto-nagai",
        aliases: &["miyamotonagai", "mn"],
        params: &[
            ("M", "mass [Msun]"),
            ("a", "radial scale length >= 0 [kpc]"),
            ("b", "vertical scale height [kpc]"),
        ],
        formula: "Phi = -G M / sqrt(R^2 + (a + sqrt(z^2 + b^2))^2)",
        build: |v| boxed(MiyamotoNagai::new(v[0], v[1], v[2])),
    },
    Family {
        name: "logarithmic",
        aliases: &["log", "logarithmic-halo"],
        params: &[
            ("v0", "asymptotic circular speed [km/s]"),
            ("rc", "core radius >= 0 [kpc]"),
            ("q", "flattening of the equipotentials"),
        ],
        formula: "Phi = 0.5 v0^2 ln((rc^2 + R^2 + z^2/q^2) / (8 kpc)^2)",
        build: |v| boxed(Logarithmic::new(v[0], v[1], v[2])),
    },
    Family {
        name: "kuzmin-kutuzov",
        aliases: &["kuzminkutuzov", "kuzmin-kutuzov-staeckel"],
        params: &[
            ("M", "mass [Msun]"),
            ("ac", "axis ratio a/c > 1 of the coordinate surfaces"),
            ("delta", "focal distance sqrt(a^2 - c^2) [kpc]"),
        ],
        formula: "Phi = -G M / (sqrt(lambda) + sqrt(nu)), prolate spheroidal (lambda, nu)",
        build: |v| boxed(KuzminKutuzov::new(v[0], v[1], v[2])),
    },
    Family {
        name: "power-cutoff",
        aliases: &["powerspherical-cutoff", "power-spherical-cutoff", "powersphericalpotentialwcutoff"],
        params: &[
            ("M", "total mass [Msun]"),
            ("alpha", "inner density slope, 0 <= alpha < 2"),
            ("rc", "cut-off radius [kpc]"),
        ],
        formula: "rho ~ (rc/r)^alpha exp(-(r/rc)^2); galpy's zero point Phi(0) = 0",
        build: |v| boxed(PowerCutoff::new(v[0], v[1], v[2])),
    },
    Family {
        name: "mw2014",
        aliases: &["mwpotential2014"],
        params: &[],
        formula: "Bovy (2015) MWPotential2014: power-cutoff bulge + Miyamoto-Nagai disc + NFW halo, vc(8 kpc) = 220 km/s",
        build: |_| Ok(Box::new(mw2014())),
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

/// Split a sum at each `+` that is followed (after blanks) by a letter, another `+` or the
/// end (so that empty terms are reported), never inside a number such as `1e+11`.
fn split_terms(spec: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = 0;
    for (i, c) in spec.char_indices() {
        if c == '+' {
            let next = spec[i + 1..].trim_start().chars().next();
            if next.is_none_or(|n| n.is_ascii_alphabetic() || n == '+') {
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

/// One term of a spec as parsed, before its potential is built: the family's canonical
/// name and every parameter as (canonical key, value), in the family's order (the order of
/// [`known_potentials`] and of the canonical [`Potential::spec`] text).
#[derive(Clone, Debug)]
pub struct Term {
    /// Canonical family name, e.g. `plummer`, `miyamoto-nagai`, `mw2014`.
    pub name: &'static str,
    /// (key, value) of every parameter of the family, in the family's order.
    pub params: Vec<(&'static str, f64)>,
    build: Builder,
}

impl Term {
    /// Build this term's potential; its constructor checks the values (ranges, finiteness).
    pub fn potential(&self) -> Result<Box<dyn Potential>, PotentialError> {
        let values: Vec<f64> = self.params.iter().map(|&(_, v)| v).collect();
        (self.build)(&values)
    }
}

/// The family called `name` (case-insensitive, `_` for `-`, aliases allowed).
fn find_family(whole: &str, name: &str) -> Result<&'static Family, PotentialError> {
    let key = normalise_name(name);
    FAMILIES
        .iter()
        .find(|f| f.name == key || f.aliases.contains(&key.as_str()))
        .ok_or_else(|| bad(whole, format!("unknown potential '{}'", name.trim())))
}

/// Store one `key=value` item of `family`'s parameter list into `values` (family order).
fn parse_param(
    whole: &str,
    family: &Family,
    item: &str,
    values: &mut [Option<f64>],
) -> Result<(), PotentialError> {
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
    Ok(())
}

/// Parse one term `name[:k=v,...]`.
fn parse_term(whole: &str, term: &str) -> Result<Term, PotentialError> {
    let term = term.trim();
    if term.is_empty() {
        return Err(bad(whole, "empty term".into()));
    }
    let (name, args) = match term.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (term, None),
    };
    let family = find_family(whole, name)?;
    let mut values: Vec<Option<f64>> = vec![None; family.params.len()];
    if let Some(args) = args.filter(|a| !a.trim().is_empty()) {
        for item in args.split(',') {
            parse_param(whole, family, item, &mut values)?;
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
    Ok(Term {
        name: family.name,
        params: family
            .params
            .iter()
            .map(|&(k, _)| k)
            .zip(values.into_iter().flatten())
            .collect(),
        build: family.build,
    })
}

fn expected_params(f: &Family) -> String {
    f.params.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

/// The terms of a spec such as `isochrone:M=3.334e11,b=5` or `A+B` (see module docs), in
/// order, without building their potentials: names, keys and numbers are checked (the same
/// [`PotentialError::BadSpec`] errors as [`parse`]), parameter ranges are not (that is
/// [`Term::potential`]'s job).
pub fn parse_terms(spec: &str) -> Result<Vec<Term>, PotentialError> {
    split_terms(spec)
        .into_iter()
        .map(|t| parse_term(spec, t))
        .collect()
}

/// Parse a potential spec such as `isochrone:M=3.334e11,b=5` or `A+B` (see module docs):
/// [`parse_terms`], then each term's [`Term::potential`], summed when there are several.
pub fn parse(spec: &str) -> Result<Box<dyn Potential>, PotentialError> {
    let mut parts = parse_terms(spec)?
        .iter()
        .map(|t| t.potential().map_err(|e| bad(spec, e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if parts.len() == 1 {
        return Ok(parts.remove(0));
    }
    Sum::new(parts)
        .map(|s| Box::new(s) as Box<dyn Potential>)
        .map_err(|e| bad(spec, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::{checks, Symmetry};

    fn err(spec: &str) -> String {
        match parse(spec) {
            Ok(p) => panic!("'{spec}' parsed as {}", p.spec()),
            Err(e) => {
                assert!(matches!(e, PotentialError::BadSpec { .. }), "{e:?}");
                e.to_string()
            }
        }
    }

    #[test]
    fn every_family_round_trips() {
        for s in [
            "isochrone:M=3.334e11,b=5",
            "plummer:M=1e11,a=2",
            "hernquist:M=1e12,a=20",
            "dehnen:M=1e11,a=3,gamma=1.5",
            "nfw:Ms=8e11,a=16",
            "miyamoto-nagai:M=6.8e10,a=3,b=0.28",
            "logarithmic:v0=220,rc=1,q=0.9",
            "kuzmin-kutuzov:M=1e11,ac=2,delta=3",
            "power-cutoff:M=4.5e9,alpha=1.8,rc=1.9",
        ] {
            let p = parse(s).unwrap();
            assert_eq!(p.spec(), s, "canonical form");
            checks::spec_round_trips(p.as_ref());
        }
        let mw = parse("mw2014").unwrap();
        checks::spec_round_trips(mw.as_ref());
        assert_eq!(mw.spec(), mw2014().spec());
        assert_eq!(mw.symmetry(), Symmetry::Axisymmetric);
    }

    #[test]
    fn exponents_with_plus_and_sums() {
        let p = parse("plummer:M=1e+11,a=2").unwrap();
        assert_eq!(p.spec(), "plummer:M=1e11,a=2");
        let s = parse(" Plummer : M = 1E+10 , a = 1 + NFW:ms=8.0e+11,A=16+hernquist:M=2e+9,a=0.5").unwrap();
        assert_eq!(
            s.spec(),
            "plummer:M=1e10,a=1+nfw:Ms=8e11,a=16+hernquist:M=2e9,a=0.5"
        );
        checks::spec_round_trips(s.as_ref());
        // galpy-style names with underscores, parameters in any order, tiny and huge values
        let k = parse("kuzmin_kutuzov:Delta=3,ac=2,M=1e11").unwrap();
        assert_eq!(k.spec(), "kuzmin-kutuzov:M=1e11,ac=2,delta=3");
        let t = parse("plummer:M=1.2345678901234567e-7,a=3.0e-5").unwrap();
        checks::spec_round_trips(t.as_ref());
        let sum_with_mw = parse("mw2014+plummer:M=1e+8,a=0.01").unwrap();
        checks::spec_round_trips(sum_with_mw.as_ref());
    }

    #[test]
    fn errors_name_the_problem_and_list_known_potentials() {
        let m = err("plummer:M=1e11");
        assert!(m.contains("missing") && m.contains(" a "), "{m}");
        let m = err("plummer:M=1e11,a=2,b=3");
        assert!(m.contains("unknown parameter 'b'"), "{m}");
        let m = err("plummer:M=1e11,a=2,m=3");
        assert!(m.contains("M given twice"), "{m}");
        let m = err("plummer:M=1e11,a=two");
        assert!(m.contains("parameter a = 'two' is not a number"), "{m}");
        let m = err("plummer:M=1e11,a");
        assert!(m.contains("key=value"), "{m}");
        let m = err("plumber:M=1e11,a=2");
        assert!(m.contains("unknown potential 'plumber'"), "{m}");
        let m = err("plummer:M=-1e11,a=2");
        assert!(m.contains("M = -100000000000") && m.contains("> 0"), "{m}");
        let m = err("plummer:M=inf,a=2");
        assert!(m.contains("parameter M"), "{m}");
        let m = err("dehnen:M=1e11,a=2,gamma=2.5");
        assert!(m.contains("gamma") && m.contains("0 <= gamma < 2"), "{m}");
        for s in [
            "plummer:M=1e11,a=2+",
            "plummer:M=1e11,a=2++nfw:Ms=1e12,a=3",
            "+plummer:M=1,a=2",
        ] {
            let m = err(s);
            assert!(m.contains("empty term"), "{m}");
        }
        err("");
        err("mw2014:M=1");
        // every message lists every family with its parameters and units
        for m in [err("nope"), err("nfw:Ms=1e12")] {
            for f in FAMILIES {
                assert!(m.contains(f.name), "{m}");
                for (k, meaning) in f.params {
                    assert!(m.contains(&format!("{k}: {meaning}")), "{m}");
                }
            }
            assert!(m.contains("[kpc]") && m.contains("[Msun]") && m.contains("[km/s]"));
        }
    }

    #[test]
    fn terms_carry_canonical_names_and_keys_in_family_order() {
        let t = parse_terms("Plummer:a=2,m=1e+11 + mw2014+MN:b=0.28,M=6.8e10,A=3").unwrap();
        let seen: Vec<_> = t.iter().map(|t| (t.name, t.params.clone())).collect();
        assert_eq!(
            seen,
            vec![
                ("plummer", vec![("M", 1e11), ("a", 2.0)]),
                ("mw2014", vec![]),
                ("miyamoto-nagai", vec![("M", 6.8e10), ("a", 3.0), ("b", 0.28)]),
            ]
        );
        assert_eq!(t[0].potential().unwrap().spec(), "plummer:M=1e11,a=2");
        // Ranges are the constructors' business, not the parser's.
        let neg = parse_terms("plummer:M=-1,a=2").unwrap();
        assert!(matches!(
            neg[0].potential(),
            Err(PotentialError::BadParameter { .. })
        ));
    }

    #[test]
    fn known_potentials_lists_the_forms() {
        let k = known_potentials();
        for form in [
            "isochrone:M=..,b=..",
            "plummer:M=..,a=..",
            "hernquist:M=..,a=..",
            "dehnen:M=..,a=..,gamma=..",
            "nfw:Ms=..,a=..",
            "miyamoto-nagai:M=..,a=..,b=..",
            "logarithmic:v0=..,rc=..,q=..",
            "kuzmin-kutuzov:M=..,ac=..,delta=..",
            "power-cutoff:M=..,alpha=..,rc=..",
            "mw2014",
        ] {
            assert!(k.contains(form), "{form} missing from\n{k}");
        }
    }
}
