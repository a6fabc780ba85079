//! Helpers shared by the tests that check our HDF5 files with Python's h5py (the snapshots
//! crate's tests, and the root crate's `tests/dataset.rs` through `#[path]`).
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// True when python3 can import h5py and numpy. Without them the calling test fails under
/// CI (`CI` set) and is skipped, loudly, elsewhere.
pub fn h5py_or_skip() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import h5py, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let ci = std::env::var("CI").map(|v| !v.is_empty() && v != "false" && v != "0");
    match (ok, ci) {
        (true, _) => true,
        (false, Ok(true)) => panic!("h5py not available but CI is set: install python3 h5py"),
        (false, _) => {
            // Straight to stderr: the test harness captures eprintln! of passing tests.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "skipped: h5py not available");
            false
        }
    }
}

/// Run `python3 -c script args...`, assert that it succeeded (showing its stdout and
/// stderr otherwise) and return its stdout.
pub fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A JSON list of integers or finite floats (their `Debug` form is valid JSON and the
/// shortest text that reads back exactly).
pub fn json_list<T: std::fmt::Debug>(v: &[T]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    format!("[{}]", items.join(","))
}
