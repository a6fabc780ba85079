//! Benchmark helper: how long opening a snapshot and reading its particle datasets takes.
//!
//! `cargo run --release -p actionfinder-snapshots --example read_speed -- FILE [REPEATS]`
//!
//! Prints, best of REPEATS (default 5): the façade's open, each dataset read
//! (`PartType*/{Coordinates,Velocities,ParticleIDs,Masses}`, as f64 or u64), the façade
//! total (open + all reads, as h5py + numpy's `f[...][:]` would do), and the full
//! `formats::read` (detection, header, units, the Snapshot).

use std::path::Path;
use std::time::Instant;

use actionfinder_snapshots::formats;
use actionfinder_snapshots::h5::{H5Error, H5File};
use actionfinder_snapshots::ReadOptions;

const FIELDS: [&str; 4] = ["Coordinates", "Velocities", "ParticleIDs", "Masses"];

/// The datasets h5py's side reads.
fn particle_datasets(f: &H5File) -> Result<Vec<String>, H5Error> {
    let mut out = Vec::new();
    for group in f.groups("/")?.into_iter().filter(|g| g.starts_with("PartType")) {
        for name in FIELDS {
            let path = format!("/{group}/{name}");
            if f.has_dataset(&path) {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// Reads one dataset as the snapshot readers do; returns the number of elements.
fn read_one(f: &H5File, path: &str) -> Result<usize, H5Error> {
    Ok(if path.ends_with("ParticleIDs") {
        f.read_u64(path)?.data.len()
    } else {
        f.read_f64(path)?.data.len()
    })
}

fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let clock = Instant::now();
    let mut out = f();
    let mut best = clock.elapsed().as_secs_f64();
    for _ in 1..repeats {
        let clock = Instant::now();
        out = f();
        best = best.min(clock.elapsed().as_secs_f64());
    }
    (best, out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = Path::new(args.get(1).ok_or("usage: read_speed FILE [REPEATS]")?);
    let repeats: usize = args.get(2).map_or(Ok(5), |s| s.parse())?;
    let (t_open, f) = best(repeats, || H5File::open(file));
    let f = f?;
    println!("open            {:8.2} ms", t_open * 1e3);
    let paths = particle_datasets(&f)?;
    for path in &paths {
        let (t, n) = best(repeats, || read_one(&f, path));
        println!("{path:<28} {:8.2} ms  ({} elements)", t * 1e3, n?);
    }
    let (t_all, n) = best(repeats, || -> Result<usize, H5Error> {
        let f = H5File::open(file)?;
        paths.iter().map(|p| read_one(&f, p)).sum()
    });
    println!("open + all reads {:8.2} ms  ({} elements)", t_all * 1e3, n?);
    let opts = ReadOptions::default();
    let (t_read, snaps) = best(repeats, || formats::read(file, &opts));
    let particles: usize = snaps?.iter().map(|s| s.len()).sum();
    println!(
        "formats::read    {:8.2} ms  ({particles} particles)",
        t_read * 1e3
    );
    Ok(())
}
