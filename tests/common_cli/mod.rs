//! What the command-line tests share: running the binary, recognising a PNG.

use std::path::Path;
use std::process::{Command, Output};

/// Run `actionfinder ARGS...` and collect its output.
pub fn actionfinder(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_actionfinder"))
        .args(args)
        .output()
        .expect("run actionfinder")
}

/// Whether `path` holds a PNG of some size.
pub fn is_png(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}
