//! The unit and component-order attributes of the datasets we read, honoured rather than
//! assumed: positions and velocities are converted to kpc and km/s from the units a file
//! states, times to Gyr, columns are put in our component order when a file stores a
//! permutation of it, and anything not understood is refused naming the file, the object,
//! the attribute and its value.
//!
//! A dataset's own `unit` beats the root's `length_unit`/`velocity_unit`/`time_unit`; with
//! neither, the project's units are assumed. `/streams/xv` and `/particles/xv` state both
//! units in one `unit` attribute, `"kpc (x,y,z), km/s (vx,vy,vz)"` (or `"kpc, km/s"`).

use actionfinder_integrators::units::{GYR_PER_TIME_UNIT, KM_PER_KPC, S_PER_YEAR};
use actionfinder_snapshots::h5::{Array, Dim, H5Error, H5File};

/// Component order of rows of six phase-space values.
pub(crate) const XV_ORDER: [&str; 6] = ["x", "y", "z", "vx", "vy", "vz"];
/// Component order of positions and of accelerations.
pub(crate) const XYZ_ORDER: [&str; 3] = ["x", "y", "z"];

/// Lengths understood, in km.
const LENGTHS_KM: [(&str, f64); 7] = [
    ("kpc", KM_PER_KPC),
    ("pc", KM_PER_KPC * 1e-3),
    ("mpc", KM_PER_KPC * 1e3),
    ("km", 1.0),
    ("m", 1e-3),
    ("cm", 1e-5),
    ("au", 1.495_978_707e8),
];

/// Times understood in velocities, in seconds.
const TIMES_S: [(&str, f64); 5] = [
    ("s", 1.0),
    ("yr", S_PER_YEAR),
    ("kyr", S_PER_YEAR * 1e3),
    ("myr", S_PER_YEAR * 1e6),
    ("gyr", S_PER_YEAR * 1e9),
];

/// What the messages list as understood.
const KNOWN_LENGTHS: &str = "kpc, pc, Mpc, km, m, cm, AU";
const KNOWN_VELOCITIES: &str =
    "km/s, m/s, cm/s, kpc/Gyr, kpc/Myr, pc/Myr, AU/yr (any length above per s, yr, kyr, Myr or Gyr)";

/// Lower-case, without spaces, `*` and `.`, for comparing unit spellings.
pub(crate) fn normalise_unit(unit: &str) -> String {
    unit.chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '.')
        .collect::<String>()
        .to_lowercase()
}

/// The unit itself, without a trailing explanation: `"kpc (x,y,z)"` and `"kpc = 3.1e16 km"`
/// give `"kpc"`; `"kpc/(km/s)"` stays whole.
fn unit_token(text: &str) -> &str {
    let end = [" (", "="]
        .iter()
        .filter_map(|cut| text.find(cut))
        .min()
        .unwrap_or(text.len());
    text[..end].trim()
}

/// kpc per `unit` for a length unit, else `None`.
pub(crate) fn kpc_per_unit(unit: &str) -> Option<f64> {
    length_km(&normalise_unit(unit_token(unit))).map(|km| km / KM_PER_KPC)
}

fn length_km(normalised: &str) -> Option<f64> {
    LENGTHS_KM
        .iter()
        .find(|(name, _)| *name == normalised)
        .map(|(_, km)| *km)
}

/// km/s per `unit` for a velocity `LENGTH/TIME`, else `None`.
pub(crate) fn kms_per_unit(unit: &str) -> Option<f64> {
    let u = normalise_unit(unit_token(unit));
    let (length, time) = u.split_once('/')?;
    let seconds = TIMES_S.iter().find(|(name, _)| *name == time)?.1;
    Some(length_km(length)? / seconds)
}

/// Gyr per unit of a time-unit string (Gyr, Myr or kpc/(km/s), with any explanation after
/// it), or `None` when not understood.
pub(crate) fn gyr_per_unit(unit: &str) -> Option<f64> {
    let u = normalise_unit(unit);
    if u.starts_with("gyr") {
        Some(1.0)
    } else if u.starts_with("myr") {
        Some(1e-3)
    } else if ["kpc/(km/s)", "kpc/km/s", "kpcs/km"]
        .iter()
        .any(|p| u.starts_with(p))
    {
        Some(GYR_PER_TIME_UNIT)
    } else {
        None
    }
}

/// Equivalent spellings of the units we write for derived quantities.
pub(crate) fn unit_matches(found: &str, ours: &str) -> bool {
    let f = normalise_unit(found);
    let alternatives: &[&str] = match ours {
        "(km/s)^2/kpc" => &["(km/s)^2/kpc", "km^2/s^2/kpc", "(km/s)**2/kpc"],
        "(km/s)^2" => &["(km/s)^2", "km^2/s^2", "(km/s)**2"],
        "km/s/kpc" => &["km/s/kpc", "km/(s*kpc)", "km/(skpc)"],
        "kpc km/s" => &["kpc km/s", "kpc*km/s", "km/s kpc"],
        "Msun" => &["msun", "msol", "solar mass"],
        "rad" => &["rad", "radian", "radians"],
        other => &[other],
    };
    alternatives.iter().any(|a| f.starts_with(&normalise_unit(a)))
}

/// A text attribute of `path`, or `None` when absent; refused when it is not text.
fn text_attr(f: &H5File, path: &str, name: &str) -> Result<Option<String>, H5Error> {
    match f.attr_opt(path, name)? {
        None => Ok(None),
        Some(a) => match a.as_str() {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(f.unexpected(attr_object(path, name), "text", a.to_string())),
        },
    }
}

fn attr_object(path: &str, name: &str) -> String {
    format!("attribute {name} of {path}")
}

/// The conversion a unit attribute states, looked up by `parse`: `Ok(None)` when absent,
/// refused naming the attribute when not understood.
fn stated_factor(
    f: &H5File,
    path: &str,
    name: &str,
    parse: fn(&str) -> Option<f64>,
    known: &str,
) -> Result<Option<f64>, H5Error> {
    let Some(text) = text_attr(f, path, name)? else {
        return Ok(None);
    };
    parse(&text)
        .map(Some)
        .ok_or_else(|| f.unexpected(attr_object(path, name), known, format!("{text:?}")))
}

/// kpc per stored length unit and km/s per stored velocity unit of the rows of six at
/// `path`: from its `unit` attribute, else the root's `length_unit`/`velocity_unit`.
pub(crate) fn xv_factors(f: &H5File, path: &str) -> Result<(f64, f64), H5Error> {
    let lengths = format!("a length unit: {KNOWN_LENGTHS}");
    let velocities = format!("a velocity unit: {KNOWN_VELOCITIES}");
    let root_length = stated_factor(f, "/", "length_unit", kpc_per_unit, &lengths)?;
    let root_velocity = stated_factor(f, "/", "velocity_unit", kms_per_unit, &velocities)?;
    if let Some(text) = text_attr(f, path, "unit")? {
        return parse_xv_unit(&text).ok_or_else(|| {
            f.unexpected(
                attr_object(path, "unit"),
                format!("\"LENGTH (x,y,z), VELOCITY (vx,vy,vz)\" with LENGTH one of {KNOWN_LENGTHS} and VELOCITY one of {KNOWN_VELOCITIES}"),
                format!("{text:?}"),
            )
        });
    }
    Ok((root_length.unwrap_or(1.0), root_velocity.unwrap_or(1.0)))
}

/// `"LENGTH (labels), VELOCITY (labels)"` (in either order, labels optional) as kpc and
/// km/s per unit.
fn parse_xv_unit(text: &str) -> Option<(f64, f64)> {
    let parts = split_outside_parentheses(text);
    let [a, b] = parts.as_slice() else {
        return None;
    };
    match (kpc_per_unit(a), kms_per_unit(b), kms_per_unit(a), kpc_per_unit(b)) {
        (Some(length), Some(velocity), _, _) | (_, _, Some(velocity), Some(length)) => {
            Some((length, velocity))
        }
        _ => None,
    }
}

/// The comma-separated parts of `text`, commas inside parentheses kept.
fn split_outside_parentheses(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

/// kpc per stored length unit of the positions at `path`: its `unit`, else the root's
/// `length_unit`.
pub(crate) fn length_factor(f: &H5File, path: &str) -> Result<f64, H5Error> {
    let known = format!("a length unit: {KNOWN_LENGTHS}");
    let root = stated_factor(f, "/", "length_unit", kpc_per_unit, &known)?;
    let own = stated_factor(f, path, "unit", kpc_per_unit, &known)?;
    Ok(own.or(root).unwrap_or(1.0))
}

/// Which stored column holds each of `ours`, from the `component_order` attribute of `path`:
/// `None` when absent or already ours; refused unless it is a permutation of ours.
pub(crate) fn column_order(f: &H5File, path: &str, ours: &[&str]) -> Result<Option<Vec<usize>>, H5Error> {
    let Some(text) = text_attr(f, path, "component_order")? else {
        return Ok(None);
    };
    let normalised = normalise_unit(&text);
    let found: Vec<&str> = normalised.split(',').collect();
    let position = |name: &&str| found.iter().position(|f| f == name);
    let columns: Option<Vec<usize>> = ours.iter().map(position).collect();
    match columns {
        Some(c) if found.len() == ours.len() => Ok((c.iter().enumerate().any(|(k, &j)| k != j)).then_some(c)),
        _ => Err(f.unexpected(
            attr_object(path, "component_order"),
            format!("{:?} or a permutation of it", ours.join(",")),
            format!("{text:?}"),
        )),
    }
}

/// Rows of `columns.len()` values with stored column `columns[k]` moved to column `k`.
pub(crate) fn permute_columns(data: &mut [f64], columns: &[usize]) {
    let mut row = vec![0.0; columns.len()];
    for chunk in data.chunks_exact_mut(columns.len()) {
        for (k, &j) in columns.iter().enumerate() {
            row[k] = chunk[j];
        }
        chunk.copy_from_slice(&row);
    }
}

/// Rows of six phase-space values at `path` in kpc and km/s, in our component order.
pub(crate) fn read_xv(f: &H5File, path: &str, dims: &[Dim]) -> Result<Array<f64>, H5Error> {
    let mut xv = f.read_f64_shaped(path, dims)?;
    let (length, velocity) = xv_factors(f, path)?;
    let order = column_order(f, path, &XV_ORDER)?;
    if let Some(columns) = order {
        permute_columns(&mut xv.data, &columns);
    }
    scale_rows(
        &mut xv.data,
        &[length, length, length, velocity, velocity, velocity],
    );
    Ok(xv)
}

/// Rows of three positions at `path` in kpc, in the order x, y, z.
pub(crate) fn read_positions(f: &H5File, path: &str, dims: &[Dim]) -> Result<Array<f64>, H5Error> {
    let mut x = f.read_f64_shaped(path, dims)?;
    let length = length_factor(f, path)?;
    let order = column_order(f, path, &XYZ_ORDER)?;
    if let Some(columns) = order {
        permute_columns(&mut x.data, &columns);
    }
    scale_rows(&mut x.data, &[length; 3]);
    Ok(x)
}

/// A derived quantity at `path` stored in our unit `ours` (a `unit` attribute saying
/// otherwise is refused: these are not converted) with components `order` (permuted into
/// ours when stored in another order).
pub(crate) fn read_labelled(
    f: &H5File,
    path: &str,
    dims: &[Dim],
    ours: &str,
    order: Option<&[&str]>,
) -> Result<Array<f64>, H5Error> {
    let mut a = f.read_f64_shaped(path, dims)?;
    if let Some(unit) = text_attr(f, path, "unit")? {
        if !unit_matches(&unit, ours) {
            return Err(f.unexpected(
                attr_object(path, "unit"),
                format!("{ours:?} (the project's unit)"),
                format!("{unit:?}"),
            ));
        }
    }
    let columns = match order {
        Some(ours) => column_order(f, path, ours)?,
        None => None,
    };
    if let Some(columns) = columns {
        permute_columns(&mut a.data, &columns);
    }
    Ok(a)
}

/// Multiplies column `k` of every row by `factors[k]`, leaving all-ones untouched.
fn scale_rows(data: &mut [f64], factors: &[f64]) {
    if factors.iter().all(|&s| s == 1.0) {
        return;
    }
    for row in data.chunks_exact_mut(factors.len()) {
        for (x, s) in row.iter_mut().zip(factors) {
            *x *= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    #[test]
    fn lengths_convert_to_kpc() {
        assert_eq!(kpc_per_unit("kpc"), Some(1.0));
        assert!(close(kpc_per_unit("pc").unwrap(), 1e-3));
        assert!(close(kpc_per_unit("Mpc").unwrap(), 1e3));
        assert!(close(kpc_per_unit("m").unwrap(), 1.0 / 3.085_677_581_491_367e19));
        assert!(close(kpc_per_unit("AU").unwrap(), 4.848_136_811_095_36e-9));
        assert_eq!(kpc_per_unit("furlong"), None);
        assert_eq!(kpc_per_unit("km/s"), None);
    }

    #[test]
    fn velocities_convert_to_km_per_s() {
        assert_eq!(kms_per_unit("km/s"), Some(1.0));
        assert!(close(kms_per_unit("m/s").unwrap(), 1e-3));
        assert!(close(kms_per_unit("kpc/Gyr").unwrap(), GYR_PER_TIME_UNIT));
        assert!(close(kms_per_unit("pc/Myr").unwrap(), GYR_PER_TIME_UNIT));
        assert_eq!(kms_per_unit("kpc"), None);
        assert_eq!(kms_per_unit("km/fortnight"), None);
    }

    #[test]
    fn the_xv_unit_names_both_units_in_either_order() {
        assert_eq!(parse_xv_unit("kpc (x,y,z), km/s (vx,vy,vz)"), Some((1.0, 1.0)));
        let (l, v) = parse_xv_unit("m/s (vx,vy,vz), pc (x,y,z)").unwrap();
        assert!(close(l, 1e-3) && close(v, 1e-3));
        assert_eq!(parse_xv_unit("kpc, km/s"), Some((1.0, 1.0)));
        assert_eq!(parse_xv_unit("m"), None);
        assert_eq!(parse_xv_unit("kpc, kpc"), None);
    }

    #[test]
    fn positions_honour_their_unit_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("positions.h5");
        let mut w = actionfinder_snapshots::h5::H5Writer::new();
        w.dataset("/positions", vec![3.0, 2.0, 1.0], &[1, 3])
            .attr("/positions", "unit", "pc")
            .attr("/positions", "component_order", "z,y,x")
            .attr("/", "length_unit", "Mpc");
        w.write(&path).unwrap();
        let f = H5File::open(&path).unwrap();
        let x = read_positions(&f, "/positions", &[Dim::Any("n"), Dim::Is(3)]).unwrap();
        assert!(
            x.data.iter().zip([1e-3, 2e-3, 3e-3]).all(|(a, b)| close(*a, b)),
            "{:?}",
            x.data
        );
    }

    #[test]
    fn a_derived_quantity_in_another_unit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("actions.h5");
        let mut w = actionfinder_snapshots::h5::H5Writer::new();
        w.dataset("/a", vec![1.0, 2.0, 3.0], &[1, 3])
            .attr("/a", "unit", "kpc m/s");
        w.write(&path).unwrap();
        let f = H5File::open(&path).unwrap();
        let e = read_labelled(&f, "/a", &[Dim::Any("n"), Dim::Is(3)], "kpc km/s", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("attribute unit of /a") && e.contains("\"kpc m/s\""),
            "{e}"
        );
    }

    #[test]
    fn columns_are_permuted_into_our_order() {
        let mut rows = vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0];
        permute_columns(&mut rows, &[3, 4, 5, 0, 1, 2]);
        assert_eq!(rows, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }
}
