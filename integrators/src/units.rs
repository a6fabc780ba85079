//! Physical units and constants shared by every crate.
//!
//! Length kpc, velocity km/s, mass Msun. The internal time unit is kpc/(km/s).

/// Gravitational constant in kpc (km/s)^2 / Msun.
pub const G: f64 = 4.300917270e-6;

/// Kilometres in a kiloparsec.
pub const KM_PER_KPC: f64 = 3.085_677_581_491_367e16;

/// Seconds in a Julian year.
pub const S_PER_YEAR: f64 = 365.25 * 86400.0;

/// One internal time unit kpc/(km/s) expressed in Gyr (3.0856775814913673e16 km / s -> Gyr).
pub const GYR_PER_TIME_UNIT: f64 = KM_PER_KPC / S_PER_YEAR / 1e9;

/// Convert a time in Gyr to the internal unit kpc/(km/s).
pub fn gyr_to_internal(t_gyr: f64) -> f64 {
    t_gyr / GYR_PER_TIME_UNIT
}

/// Convert a time in the internal unit kpc/(km/s) to Gyr.
pub fn internal_to_gyr(t: f64) -> f64 {
    t * GYR_PER_TIME_UNIT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_unit_is_0_977792_gyr() {
        assert!((GYR_PER_TIME_UNIT - 0.977792).abs() < 1e-6);
        assert!((internal_to_gyr(gyr_to_internal(0.1)) - 0.1).abs() < 1e-15);
    }
}
