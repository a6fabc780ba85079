//! Units and cosmology of the HDF5 snapshot formats (Gadget-2/3/4, AREPO, SWIFT): one place
//! that turns a dataset in code units into kpc, km/s and Msun, and a scale factor into Gyr.
//!
//! A field in a file is `value_code`; in the project's units it is
//!
//! ```text
//! value = value_code * factor * a^a_exp * h^h_exp
//! ```
//!
//! where `factor` is the project units per code unit of the quantity (from the dataset's own
//! conversion factor, else the file's unit system, else the format's documented defaults; a
//! command-line override beats all three), `a` the scale factor and `h` the Hubble parameter
//! H0 / (100 km/s/Mpc) for cosmological runs (both 1 otherwise). The exponents come from the
//! dataset's attributes (Gadget-4/AREPO `a_scaling`/`h_scaling`, SWIFT `a-scale exponent`/
//! `h-scale exponent`) or else from the format's conventions:
//!
//! * Gadget/AREPO (Springel 2005, Gadget-2 user guide §6; Gadget-4 user guide): comoving
//!   positions in units of kpc/h, so x_phys = a x / h; velocities stored as
//!   u = v_pec / sqrt(a), so v_pec = sqrt(a) u; masses in units of Msun/h, so m = m_code / h.
//! * SWIFT (Schaller et al. 2024, SWIFT snapshot documentation): comoving positions
//!   x_phys = a x; velocities stored as peculiar velocities a dx/dt (exponent 0); no little-h
//!   anywhere (h-scale exponents 0).
//!
//! Overrides ([`UnitOverrides`]) replace the code unit of a quantity (kpc, km/s, Msun or Gyr
//! per code unit); the a and h factors of cosmological runs still apply on top of them.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::gadget4::{UNIT_LENGTH_IN_CM, UNIT_MASS_IN_G, UNIT_VELOCITY_IN_CM_PER_S};
use crate::h5::{Attr, H5File};
use crate::snapshot::{SnapshotError, UnitOverrides, UnitSystem};

/// One Gyr (Julian years) in seconds.
pub const GYR_IN_S: f64 = 365.25 * 86_400.0 * 1.0e9;

/// 1 / H0 for H0 = 100 km/s/Mpc, in Gyr (9.7779 Gyr): Mpc / (100 km/s).
pub const HUBBLE_TIME_GYR: f64 = 1.0e3 * UNIT_LENGTH_IN_CM / UNIT_VELOCITY_IN_CM_PER_S / 100.0 / GYR_IN_S;

/// The physical quantities a snapshot reader converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Positions.
    Length,
    /// Velocities.
    Velocity,
    /// Masses.
    Mass,
}

impl Quantity {
    /// Project units per code unit of this quantity in `units`.
    fn factor(self, units: &UnitSystem) -> f64 {
        match self {
            Quantity::Length => units.length_kpc,
            Quantity::Velocity => units.velocity_kms,
            Quantity::Mass => units.mass_msun,
        }
    }

    /// The override for this quantity, when set.
    fn overridden(self, overrides: &UnitOverrides) -> Option<f64> {
        match self {
            Quantity::Length => overrides.length_kpc,
            Quantity::Velocity => overrides.velocity_kms,
            Quantity::Mass => overrides.mass_msun,
        }
    }

    /// cgs units per project unit (cm per kpc, cm/s per km/s, g per Msun).
    fn cgs_per_unit(self) -> f64 {
        match self {
            Quantity::Length => UNIT_LENGTH_IN_CM,
            Quantity::Velocity => UNIT_VELOCITY_IN_CM_PER_S,
            Quantity::Mass => UNIT_MASS_IN_G,
        }
    }
}

/// The expansion state of a snapshot: scale factor and Hubble parameter, both 1 for a run
/// without comoving integration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cosmology {
    /// Scale factor a = 1 / (1 + z).
    pub a: f64,
    /// h = H0 / (100 km/s/Mpc).
    pub h: f64,
}

impl Cosmology {
    /// A run without expansion: a = h = 1, nothing to convert.
    pub const STATIC: Cosmology = Cosmology { a: 1.0, h: 1.0 };
}

/// How a dataset in code units becomes project units: `value * factor * a^a_exp * h^h_exp`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldScale {
    /// Project units per code unit.
    pub factor: f64,
    /// Exponent of the scale factor.
    pub a_exp: f64,
    /// Exponent of the Hubble parameter.
    pub h_exp: f64,
}

impl FieldScale {
    /// The one number every value is multiplied by.
    pub fn total(&self, cosmo: &Cosmology) -> f64 {
        self.factor * cosmo.a.powf(self.a_exp) * cosmo.h.powf(self.h_exp)
    }
}

/// The names under which a code writes per-dataset unit attributes, and its conventional
/// exponents for datasets that carry none.
#[derive(Debug, Clone, Copy)]
pub struct Conventions {
    /// The code's name, for messages.
    pub code: &'static str,
    /// The conversion factor of one code unit of the dataset to cgs.
    pub to_cgs: &'static str,
    /// The exponent of a.
    pub a_exp: &'static str,
    /// The exponent of h.
    pub h_exp: &'static str,
    /// A flag saying the values are already physical (no a factor), when the code has one.
    pub physical: Option<&'static str>,
    /// (a, h) exponents of positions, velocities and masses without attributes.
    pub default_exps: fn(Quantity) -> (f64, f64),
}

/// Gadget-2/3/4 and AREPO: `to_cgs`, `a_scaling`, `h_scaling`; x ~ a/h, v ~ sqrt(a), m ~ 1/h.
pub const GADGET: Conventions = Conventions {
    code: "Gadget",
    to_cgs: "to_cgs",
    a_exp: "a_scaling",
    h_exp: "h_scaling",
    physical: None,
    default_exps: |q| match q {
        Quantity::Length => (1.0, -1.0),
        Quantity::Velocity => (0.5, 0.0),
        Quantity::Mass => (0.0, -1.0),
    },
};

/// SWIFT: per-field conversion factor and a/h-scale exponents; x ~ a, v and m unscaled.
pub const SWIFT: Conventions = Conventions {
    code: "SWIFT",
    to_cgs: "Conversion factor to CGS (not including cosmological corrections)",
    a_exp: "a-scale exponent",
    h_exp: "h-scale exponent",
    physical: Some("Value stored as physical"),
    default_exps: |q| match q {
        Quantity::Length => (1.0, 0.0),
        Quantity::Velocity | Quantity::Mass => (0.0, 0.0),
    },
};

/// What a dataset says about its own units (absent attributes are `None`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DatasetUnits {
    /// cgs per code unit of the dataset.
    pub to_cgs: Option<f64>,
    /// Exponent of a.
    pub a_exp: Option<f64>,
    /// Exponent of h.
    pub h_exp: Option<f64>,
    /// The values are physical already (no a factor).
    pub physical: bool,
}

impl DatasetUnits {
    /// The unit attributes of the dataset at `path`, under the names of `conv`. A zero or
    /// non-finite conversion factor (Gadget-4 writes 0 for dimensionless fields) counts as
    /// absent.
    pub fn read(f: &H5File, path: &str, conv: &Conventions) -> Result<Self, SnapshotError> {
        let attrs = f.attrs(path)?;
        let number = |name: &str| attrs.get(name).and_then(Attr::as_f64);
        Ok(DatasetUnits {
            to_cgs: number(conv.to_cgs).filter(|&c| c > 0.0 && c.is_finite()),
            a_exp: number(conv.a_exp),
            h_exp: number(conv.h_exp),
            physical: conv.physical.and_then(number).is_some_and(|flag| flag != 0.0),
        })
    }
}

/// The scale of quantity `q` for a dataset whose own attributes are `ds`: the override
/// where set, else the dataset's conversion factor, else `file_units`; the dataset's
/// exponents, else the code's conventions. `object` names the dataset for the error (a
/// factor or exponent that is not a positive/finite number).
pub fn field_scale(
    file: &Path,
    object: &str,
    q: Quantity,
    ds: &DatasetUnits,
    file_units: &UnitSystem,
    conv: &Conventions,
    overrides: &UnitOverrides,
) -> Result<FieldScale, SnapshotError> {
    let (a_default, h_default) = (conv.default_exps)(q);
    let factor = q
        .overridden(overrides)
        .or(ds.to_cgs.map(|c| c / q.cgs_per_unit()))
        .unwrap_or_else(|| q.factor(file_units));
    let scale = FieldScale {
        factor,
        a_exp: if ds.physical {
            0.0
        } else {
            ds.a_exp.unwrap_or(a_default)
        },
        h_exp: ds.h_exp.unwrap_or(h_default),
    };
    if scale.factor.is_finite() && scale.factor > 0.0 && scale.a_exp.is_finite() && scale.h_exp.is_finite() {
        return Ok(scale);
    }
    Err(SnapshotError::invalid(
        file,
        format!("units of {object}"),
        format!(
            "a positive conversion factor and finite exponents ({} conventions)",
            conv.code
        ),
        format!(
            "factor {}, a exponent {}, h exponent {}",
            scale.factor, scale.a_exp, scale.h_exp
        ),
    ))
}

/// A unit system from the cgs size of the code units; the time unit is `time_s` when the
/// file gives one, else length / velocity.
pub fn unit_system_from_cgs(
    length_cm: f64,
    velocity_cm_s: f64,
    mass_g: f64,
    time_s: Option<f64>,
) -> UnitSystem {
    UnitSystem {
        length_kpc: length_cm / UNIT_LENGTH_IN_CM,
        velocity_kms: velocity_cm_s / UNIT_VELOCITY_IN_CM_PER_S,
        mass_msun: mass_g / UNIT_MASS_IN_G,
        time_gyr: time_s.unwrap_or(length_cm / velocity_cm_s) / GYR_IN_S,
    }
}

/// Gadget's documented default units (Gadget-2 user guide, parameter file example): length
/// 1 kpc/h, velocity 1 km/s, mass 1e10 Msun/h (the 1/h is applied by the exponents), time
/// length / velocity.
pub fn gadget_default_units() -> UnitSystem {
    unit_system_from_cgs(
        UNIT_LENGTH_IN_CM,
        UNIT_VELOCITY_IN_CM_PER_S,
        1.0e10 * UNIT_MASS_IN_G,
        None,
    )
}

static WARNED_NO_UNITS: AtomicBool = AtomicBool::new(false);

/// Warns, once per process, that `file` carries no units and the defaults are assumed.
pub fn warn_no_units(file: &Path, code: &str, defaults: &str) {
    if !WARNED_NO_UNITS.swap(true, Ordering::Relaxed) {
        log::warn!(
            "{}: no unit information in the file; assuming {code}'s defaults ({defaults}); \
             set --length-unit, --velocity-unit, --mass-unit, --time-unit to override \
             (warned once)",
            file.display()
        );
    }
}

/// Multiplies every element of `values` by `scale`, checking that the results are finite;
/// `columns` is the row length, for the error message (row index = particle).
pub fn scaled(
    file: &Path,
    dataset: &str,
    values: Vec<f64>,
    scale: f64,
    columns: usize,
) -> Result<Vec<f64>, SnapshotError> {
    let mut values = values;
    for (i, v) in values.iter_mut().enumerate() {
        if !v.is_finite() {
            let found = format!("{v} at particle {}, component {}", i / columns, i % columns);
            return Err(SnapshotError::invalid(
                file,
                format!("dataset {dataset}"),
                "finite values",
                found,
            ));
        }
        *v *= scale;
    }
    Ok(values)
}

/// Cosmic time in Gyr at scale factor `a` for a Friedmann–Lemaître model without radiation:
///
/// ```text
/// t(a) = (1/H0) ∫_0^a da' / (a' E(a')),  E(a)^2 = Ωm a^-3 + Ωk a^-2 + ΩΛ,  Ωk = 1 - Ωm - ΩΛ
/// ```
///
/// (Hogg 1999, astro-ph/9905116, eq. 30), by Gauss–Legendre quadrature after the
/// substitution a' = a x², which turns the integrand into the smooth
/// 2 a x² / sqrt(Ωm/a + Ωk x² + ΩΛ a² x⁶) on x in [0, 1] (also for Ωm = 0). For flat ΛCDM
/// this equals 2/(3 H0 sqrt(ΩΛ)) asinh(sqrt(ΩΛ/Ωm) a^(3/2)) to 1e-13. `None` where E² is not
/// positive on (0, a] (a model that never reached a) or an input is not finite or a, h ≤ 0.
pub fn cosmic_time_gyr(a: f64, omega_m: f64, omega_l: f64, h: f64) -> Option<f64> {
    let ok = [a, omega_m, omega_l, h].iter().all(|x| x.is_finite()) && a > 0.0 && h > 0.0;
    if !ok {
        return None;
    }
    let omega_k = 1.0 - omega_m - omega_l;
    // (a' E(a'))^2 x^2 at a' = a x^2
    let denominator2 = |x: f64| omega_m / a + omega_k * x * x + omega_l * a * a * x.powi(6);
    const PANELS: usize = 8;
    let width = 1.0 / PANELS as f64;
    let mut sum = 0.0;
    for p in 0..PANELS {
        let mid = (p as f64 + 0.5) * width;
        for (node, weight) in GL_NODES.iter().zip(GL_WEIGHTS) {
            for x in [mid - 0.5 * width * node, mid + 0.5 * width * node] {
                let d2 = denominator2(x);
                if d2.is_nan() || d2 <= 0.0 {
                    return None;
                }
                sum += weight * 0.5 * width * 2.0 * a * x * x / d2.sqrt();
            }
        }
    }
    Some(sum * HUBBLE_TIME_GYR / h)
}

/// Positive nodes of the 10-point Gauss–Legendre rule on [-1, 1] (Abramowitz & Stegun
/// table 25.4).
const GL_NODES: [f64; 5] = [
    0.148_874_338_981_631_2,
    0.433_395_394_129_247_2,
    0.679_409_568_299_024_4,
    0.865_063_366_688_984_5,
    0.973_906_528_517_171_7,
];

/// The weights of [`GL_NODES`].
const GL_WEIGHTS: [f64; 5] = [
    0.295_524_224_714_752_9,
    0.269_266_719_309_996_4,
    0.219_086_362_515_982,
    0.149_451_349_150_580_6,
    0.066_671_344_308_688_1,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_lcdm_age_matches_closed_form() {
        for &(a, om, h) in &[
            (1.0f64, 0.3f64, 0.7),
            (0.25, 0.3089, 0.6774),
            (0.01, 0.3, 0.7),
            (0.5, 0.05, 1.0),
        ] {
            let ol = 1.0 - om;
            let closed =
                2.0 / (3.0 * ol.sqrt()) * ((ol / om).sqrt() * a.powf(1.5)).asinh() * HUBBLE_TIME_GYR / h;
            let t = cosmic_time_gyr(a, om, ol, h).unwrap();
            assert!((t / closed - 1.0).abs() < 1e-13, "a={a}: {t} vs {closed}");
        }
    }

    #[test]
    fn einstein_de_sitter_and_open_models() {
        // EdS: t = 2/(3 H0) a^1.5; Milne (empty, Ωk = 1): t = a / H0.
        let eds = cosmic_time_gyr(0.5, 1.0, 0.0, 0.7).unwrap();
        assert!((eds / (2.0 / 3.0 * 0.5f64.powf(1.5) * HUBBLE_TIME_GYR / 0.7) - 1.0).abs() < 1e-12);
        let milne = cosmic_time_gyr(0.8, 0.0, 0.0, 1.0).unwrap();
        assert!((milne / (0.8 * HUBBLE_TIME_GYR) - 1.0).abs() < 1e-13, "{milne}");
        // open matter-only model (Ωm = 0.3, Ωk = 0.7), its parametric solution:
        // H0 t = Ωm/(2 Ωk^1.5) (sinh η - η) at cosh η = 1 + 2 Ωk a / Ωm
        let (om, ok, a) = (0.3f64, 0.7f64, 0.6f64);
        let eta = (1.0 + 2.0 * ok * a / om).acosh();
        let open = om / (2.0 * ok.powf(1.5)) * (eta.sinh() - eta) * HUBBLE_TIME_GYR;
        let t = cosmic_time_gyr(a, om, 0.0, 1.0).unwrap();
        assert!((t / open - 1.0).abs() < 1e-12, "{t} vs {open}");
        assert!(cosmic_time_gyr(-1.0, 0.3, 0.7, 0.7).is_none());
        assert!(cosmic_time_gyr(1.0, -0.5, 0.0, 0.7).is_none());
    }

    #[test]
    fn hubble_time_is_9_78_gyr() {
        assert!(
            (HUBBLE_TIME_GYR - 9.777_922_216).abs() < 1e-8,
            "{HUBBLE_TIME_GYR}"
        );
    }
}
