//! What every PNG of ours shares: the embedded font and tick labels.

use std::error::Error;
use std::sync::OnceLock;

use plotters::style::FontStyle;

/// DejaVu Sans (see assets/README.md for its origin and license).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// Font family name the charts ask for (plotters' default for labels).
pub const FAMILY: &str = "sans-serif";

/// What a drawing function returns.
pub type PlotResult = Result<(), Box<dyn Error>>;

/// Registers the embedded font with plotters (once per process).
pub fn register_font() -> Result<(), String> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(())
        .ok_or_else(|| "the embedded DejaVu Sans font could not be loaded".to_string())
}

/// Tick label: plain for moderate magnitudes, else scientific with up to three significant
/// digits (`-1.25e5`).
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || (1e-2..1e5).contains(&a) {
        return format!("{}", (v * 1e3).round() / 1e3);
    }
    let text = format!("{v:.2e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    format!("{mantissa}e{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_keep_three_significant_digits() {
        assert_eq!(tick(12.3456), "12.346");
        assert_eq!(tick(-125000.0), "-1.25e5");
        assert_eq!(tick(-100000.0), "-1e5");
        assert_eq!(tick(1.5e-3), "1.5e-3");
        assert_eq!(tick(0.0), "0");
    }
}
