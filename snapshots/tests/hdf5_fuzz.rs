//! Fuzzing of the HDF5 readers: random bytes, bit flips, byte overwrites and truncations of
//! HDF5 files (h5py's fixtures and files our writers and the library's builder make), read
//! through the lazy open ([`H5File::open`]: positioned reads, parallel decoding, the
//! in-memory retry) and through the library's in-memory reader ([`H5File::from_bytes`]),
//! then by the snapshot format readers ([`formats::read`]).
//!
//! Every input must give values or errors: no panic, not even one the façade's guard
//! catches inside the library (counted by a panic hook); the same answers from both opens;
//! and memory bounded by the input's size.
//!
//! Case counts: `AF_FUZZ_CASES` cases per property (default 300) and every
//! `AF_FUZZ_TRUNCATE_STEP`-th truncation of each fixture (default 199), with the random
//! inputs drawn from `AF_FUZZ_SEED` (default: a fixed seed, so the test suite draws the
//! same inputs every run; each test reports the seed it used). The full campaign (1e6 inputs) is `bench/hdf5_fuzz.sh`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use actionfinder_snapshots::formats;
use actionfinder_snapshots::gadget4::{write_snapshot, SnapshotData};
use actionfinder_snapshots::h5::{H5File, H5Writer};
use actionfinder_snapshots::ReadOptions;
use hdf5_pure as lib;
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

mod counting_alloc;
use counting_alloc::peak_bytes;

// ----------------------------------------------------------------- the inputs

/// One file to damage: its name (kept, so that the format readers find the parts of a
/// multi-file snapshot beside it) and its bytes.
struct Fixture {
    name: String,
    bytes: Vec<u8>,
}

/// The h5py fixtures damaged: Gadget-4 as h5py writes it by default (version-1 groups,
/// B-trees) and with HDF5 2.0's `libver='latest'` (layout message version 5, read by
/// hdf5-reader), AREPO, SWIFT, and one part of a chunked multi-file snapshot.
const H5PY_FIXTURES: [&str; 5] = [
    "g4_default.hdf5",
    "g4_latest.hdf5",
    "arepo_cosmo.hdf5",
    "swift_small.hdf5",
    "snap_010.0.hdf5",
];

/// Clean files that must sit beside a damaged one (the other part of `snap_010`).
const SIBLINGS: [&str; 1] = ["snap_010.1.hdf5"];

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hdf5")
        .join(name)
}

/// The fixtures, read or made once.
fn fixtures() -> &'static [Fixture] {
    static ALL: OnceLock<Vec<Fixture>> = OnceLock::new();
    ALL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut all: Vec<Fixture> = H5PY_FIXTURES
            .iter()
            .map(|name| Fixture {
                name: name.to_string(),
                bytes: std::fs::read(fixture_path(name)).unwrap(),
            })
            .collect();
        for (name, make) in [
            ("streams.h5", streams_file as fn(&Path)),
            ("snapshot_000.hdf5", gadget4_file),
            ("chunked.h5", chunked_file),
        ] {
            let path = dir.path().join(name);
            make(&path);
            let bytes = std::fs::read(&path).unwrap();
            all.push(Fixture {
                name: name.to_string(),
                bytes,
            });
        }
        all
    })
}

/// A streams file as the project writes one (H5Writer): f64 phase space, u64 ids, string
/// and numeric attributes.
fn streams_file(path: &Path) {
    let xv: Vec<f64> = (0..3 * 20 * 6).map(|i| (i as f64 * 0.37).sin() * 10.0).collect();
    let t: Vec<f64> = (0..20).map(|i| i as f64 * 0.1).collect();
    let ids: Vec<u64> = (0..3).collect();
    let mut w = H5Writer::new();
    w.dataset("/streams/xv", &xv, &[3, 20, 6])
        .dataset("/streams/t", &t, &[20])
        .dataset("/streams/ids", &ids, &[3])
        .attr("/", "length_unit", "kpc")
        .attr("/streams/xv", "component_order", "x,y,z,vx,vy,vz")
        .attr("/streams", "mass", [1.0, 2.0, 3.0])
        .attr("/streams", "count", 3u64);
    w.write(path).unwrap();
}

/// A Gadget-4 snapshot as our writer makes one.
fn gadget4_file(path: &Path) {
    let n = 40;
    let ids: Vec<u64> = (0..n as u64).collect();
    let xv: Vec<f64> = (0..6 * n).map(|i| (i as f64 * 0.61).cos() * 5.0).collect();
    let masses = vec![1.0e5; n];
    let snap = SnapshotData {
        time_gyr: 1.5,
        ids: &ids,
        xv: &xv,
        masses: &masses,
    };
    write_snapshot(path, &snap).unwrap();
}

/// Chunked storage in every way the readers take it apart: shuffle and deflate (decoded
/// by our own parallel reader), fletcher32 and rank 3 (read by the library in windows),
/// and a contiguous dataset of 16-bit integers beside them.
fn chunked_file(path: &Path) {
    let x: Vec<f32> = (0..3000).map(|i| (i as f32 * 0.618).sin() * 100.0).collect();
    let ids: Vec<u64> = (0..1000).collect();
    // Compressible, so that a rank-3 dataset of over a window (1 MiB decoded) stays small.
    let cube: Vec<f32> = (0..100_000 * 3).map(|i| (i % 7) as f32).collect();
    let mut b = lib::FileBuilder::new();
    b.create_dataset("rows")
        .with_f32_data(&x)
        .with_shape(&[1000, 3])
        .with_chunks(&[100, 3])
        .with_shuffle()
        .with_deflate(4);
    b.create_dataset("ids")
        .with_u64_data(&ids)
        .with_chunks(&[256])
        .with_deflate(1);
    b.create_dataset("fletcher")
        .with_f32_data(&x)
        .with_shape(&[1000, 3])
        .with_chunks(&[250, 3])
        .with_fletcher32();
    b.create_dataset("cube")
        .with_f32_data(&cube)
        .with_shape(&[100_000, 1, 3])
        .with_chunks(&[10_000, 1, 3])
        .with_deflate(9);
    let small: Vec<u16> = (0..500).collect();
    b.create_dataset("u16").with_u16_data(&small);
    b.write(path).unwrap();
}

/// Deterministic filler bytes from `seed` (splitmix64), for long random runs that proptest
/// need not shrink byte by byte.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

// ----------------------------------------------------------------- what is checked

/// Panics seen anywhere in the process (including those the façade's guard catches inside
/// the HDF5 libraries), with the first message.
static PANICS: AtomicUsize = AtomicUsize::new(0);
static FIRST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            FIRST_PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(|| info.to_string());
            default(info);
        }));
    });
}

/// Groups below the root that are walked (damage can make a group its own descendant),
/// and children taken per group.
const MAX_DEPTH: usize = 4;
const MAX_CHILDREN: usize = 64;

fn child(group: &str, name: &str) -> String {
    format!("{}/{name}", group.trim_end_matches('/'))
}

/// A short fingerprint of a dataset's values.
fn digest(words: impl Iterator<Item = u64>) -> u64 {
    words.fold(0, |h, w| h.rotate_left(5) ^ w.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Everything a reader can ask of a file, asked: the listing of every group, every
/// object's attributes, every dataset's shape, type and elements as f64 and as u64; the
/// answers (values or errors) in one string.
fn describe(opened: Result<H5File, impl std::fmt::Display>) -> String {
    let f = match opened {
        Ok(f) => f,
        Err(e) => return format!("open: {e}"),
    };
    let mut out = String::new();
    let mut stack = vec![("/".to_string(), 0)];
    while let Some((group, depth)) = stack.pop() {
        out += &format!("{group}: {:?}\n", f.attrs(&group).map_err(|e| e.to_string()));
        let datasets = f.datasets(&group).unwrap_or_else(|e| vec![format!("! {e}")]);
        for name in datasets.iter().take(MAX_CHILDREN) {
            let p = child(&group, name);
            out += &format!("{p}: {:?}\n", f.attrs(&p).map_err(|e| e.to_string()));
            out += &format!("{p}: {:?}\n", f.type_name(&p).map_err(|e| e.to_string()));
            let floats = f
                .read_f64(&p)
                .map(|a| (a.shape, digest(a.data.iter().map(|x| x.to_bits()))));
            out += &format!("{p}: {:?}\n", floats.map_err(|e| e.to_string()));
            let ints = f.read_u64(&p).map(|a| (a.shape, digest(a.data.into_iter())));
            out += &format!("{p}: {:?}\n", ints.map_err(|e| e.to_string()));
        }
        let groups = f.groups(&group).unwrap_or_else(|e| vec![format!("! {e}")]);
        for name in groups.iter().take(MAX_CHILDREN) {
            out += &format!("{group} has group {name}\n");
            if depth < MAX_DEPTH {
                stack.push((child(&group, name), depth + 1));
            }
        }
    }
    out
}

/// Memory one input may take on the reading thread: the file's bytes held twice (the
/// in-memory open and the lazy open's retry) plus their decoded values (8 bytes of f64 per
/// stored byte at most, without compression), and a fixed allowance for the fixtures'
/// compressed datasets (the largest decodes to 2.4 MB), the fill values a chunked dataset
/// may read as (1 Mi elements, 8 MiB as f64, with the library's copy in the stored type)
/// and the libraries' tables.
fn allowed_bytes(len: usize) -> usize {
    16 * len + (32 << 20)
}

/// What reading one input cost.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    peak: usize,
    time: Duration,
    /// Whether the lazy open succeeded.
    opened: bool,
    /// Dataset reads that gave values.
    values: usize,
}

thread_local! {
    /// A folder per test thread for the damaged file, holding clean copies of `SIBLINGS`.
    static WORK: tempfile::TempDir = {
        let dir = tempfile::tempdir().unwrap();
        for name in SIBLINGS {
            std::fs::copy(fixture_path(name), dir.path().join(name)).unwrap();
        }
        dir
    };
}

/// Reads `bytes` as the file `name` every way there is, and checks the outcome (see the
/// module documentation).
fn check(name: &str, bytes: &[u8]) -> Cost {
    count_panics();
    let before = PANICS.load(Ordering::SeqCst);
    let path = WORK.with(|dir| dir.path().join(name));
    std::fs::write(&path, bytes).unwrap();
    let start = Instant::now();
    let ((lazy, memory), peak) = peak_bytes(|| {
        let lazy = describe(H5File::open(&path));
        let memory = describe(H5File::from_bytes(&path, bytes.to_vec()));
        let _ = formats::read(&path, &ReadOptions::default());
        (lazy, memory)
    });
    let time = start.elapsed();
    let panics = PANICS.load(Ordering::SeqCst) - before;
    assert_eq!(
        panics,
        0,
        "{name}: {panics} panic(s), the first: {:?}",
        FIRST_PANIC.lock().unwrap()
    );
    assert_eq!(lazy, memory, "{name}: the lazy and in-memory opens disagree");
    let allowed = allowed_bytes(bytes.len());
    assert!(peak <= allowed, "{name}: {peak} bytes held, {allowed} allowed");
    Cost {
        peak,
        time,
        opened: !lazy.starts_with("open:"),
        values: lazy.matches("Ok(([").count(),
    }
}

// ----------------------------------------------------------------- case counts and report

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// `AF_FUZZ_CASES` cases per property (default 300).
fn fuzz_config() -> ProptestConfig {
    ProptestConfig {
        cases: env_or("AF_FUZZ_CASES", 300) as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The seed of the properties' random inputs: `AF_FUZZ_SEED`, else [`DEFAULT_SEED`]
/// (reported with the results, so that a failure can be replayed).
fn fuzz_seed() -> u64 {
    std::env::var("AF_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

/// The seed of the test suite's inputs (a campaign passes others).
const DEFAULT_SEED: u64 = 20_261_203;

/// ChaCha's 32-byte seed from one number.
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes
}

/// Totals over all inputs of this process.
#[derive(Debug, Clone, Copy)]
struct Totals {
    inputs: usize,
    opened: usize,
    values: usize,
    peak: usize,
    slowest: Duration,
}

static TOTALS: Mutex<Totals> = Mutex::new(Totals {
    inputs: 0,
    opened: 0,
    values: 0,
    peak: 0,
    slowest: Duration::ZERO,
});

/// Inputs between two progress lines.
const REPORT_EVERY: usize = 20_000;

fn tally(cost: Cost) {
    let mut t = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    t.inputs += 1;
    t.opened += usize::from(cost.opened);
    t.values += cost.values;
    t.peak = t.peak.max(cost.peak);
    t.slowest = t.slowest.max(cost.time);
    let every = t.inputs.is_multiple_of(REPORT_EVERY);
    drop(t);
    if every {
        report("progress");
    }
}

/// The process's peak resident memory (`VmHWM`), where /proc says it.
fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_string))
        .unwrap_or_else(|| "VmHWM unknown".into())
}

fn report(test: &str) {
    let t = *TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    // Straight to stderr: the harness captures eprintln! of passing tests.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "{test}: {} inputs so far in this process ({} opened lazily, {} dataset reads with \
         values), panics {}, largest peak on the reading thread {} bytes, slowest input \
         {:?}, {}",
        t.inputs,
        t.opened,
        t.values,
        PANICS.load(Ordering::SeqCst),
        t.peak,
        t.slowest,
        vm_hwm()
    );
}

// ----------------------------------------------------------------- the properties

/// Every `AF_FUZZ_TRUNCATE_STEP`-th strict prefix of every fixture (the last 16 always),
/// and the same cut with the rest of the file zeroed instead of removed (the length the
/// superblock promises is there, so the readers go on to the damage).
#[test]
fn truncated_and_zero_tailed_fixtures_are_errors_or_values() {
    let step = env_or("AF_FUZZ_TRUNCATE_STEP", 199).max(1);
    for fixture in fixtures() {
        let len = fixture.bytes.len();
        let cuts = (0..len).step_by(step).chain(len.saturating_sub(16)..len);
        for cut in cuts {
            tally(check(&fixture.name, &fixture.bytes[..cut]));
            let mut zeroed = fixture.bytes.clone();
            zeroed[cut..].fill(0);
            tally(check(&fixture.name, &zeroed));
        }
    }
    report("truncations");
}

/// Runs `AF_FUZZ_CASES` inputs built by `make` from values of `strategy` (the fixture
/// name and the bytes) through [`check`], then reports the totals.
fn fuzz<S: Strategy>(test: &str, strategy: S, make: impl Fn(S::Value) -> (&'static str, Vec<u8>)) {
    let seed = fuzz_seed();
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed));
    let mut runner = TestRunner::new_with_rng(fuzz_config(), rng);
    let outcome = runner.run(&strategy, |value| {
        let (name, bytes) = make(value);
        tally(check(name, &bytes));
        Ok(())
    });
    report(&format!("{test} (AF_FUZZ_SEED={seed})"));
    if let Err(e) = outcome {
        panic!("{test} (AF_FUZZ_SEED={seed}): {e}");
    }
}

/// Random bytes, half of them behind the HDF5 signature and a superblock version.
#[test]
fn random_bytes_are_errors() {
    let strategy = (any::<bool>(), 0u8..4, any::<u64>(), 0usize..4096);
    fuzz("random bytes", strategy, |(signed, version, seed, len)| {
        let mut bytes = Vec::new();
        if signed {
            bytes.extend_from_slice(b"\x89HDF\r\n\x1a\n");
            bytes.push(version);
        }
        bytes.extend(noise(seed, len));
        ("random.h5", bytes)
    });
}

/// A fixture's first bytes (a valid superblock and more) followed by random bytes to its
/// full length.
#[test]
fn random_tails_after_a_valid_start() {
    let strategy = (
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<u64>(),
    );
    fuzz("random tails", strategy, |(which, cut, seed)| {
        let fixture = which.get(fixtures());
        let len = fixture.bytes.len();
        let cut = cut.index(len);
        let mut bytes = fixture.bytes[..cut].to_vec();
        bytes.extend(noise(seed, len - cut));
        (&fixture.name, bytes)
    });
}

/// 1 to 8 bits flipped anywhere in a fixture.
#[test]
fn bit_flips() {
    let flips = prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..=8);
    fuzz(
        "bit flips",
        (any::<prop::sample::Index>(), flips),
        |(which, flips)| {
            let fixture = which.get(fixtures());
            let mut bytes = fixture.bytes.clone();
            for (at, bit) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
            (&fixture.name, bytes)
        },
    );
}

/// 1 to 4 runs of 1 to 8 bytes overwritten with 0x00, 0xff, random bytes or a power of two
/// (little-endian): damaged lengths, sizes, addresses and counts.
#[test]
fn byte_overwrites() {
    let runs = prop::collection::vec(
        (any::<prop::sample::Index>(), 1usize..=8, 0u8..4, any::<u64>()),
        1..=4,
    );
    fuzz(
        "byte overwrites",
        (any::<prop::sample::Index>(), runs),
        |(which, runs)| {
            let fixture = which.get(fixtures());
            let mut bytes = fixture.bytes.clone();
            for (at, len, fill, seed) in &runs {
                let start = at.index(bytes.len());
                let end = (start + len).min(bytes.len());
                let values = match fill {
                    0 => vec![0; end - start],
                    1 => vec![0xff; end - start],
                    2 => noise(*seed, end - start),
                    _ => (1u64 << (seed % 64)).to_le_bytes()[..end - start].to_vec(),
                };
                bytes[start..end].copy_from_slice(&values);
            }
            (&fixture.name, bytes)
        },
    );
}

/// The fixtures themselves read without error through both opens (so the damage above
/// starts from files every path reads).
#[test]
fn the_undamaged_fixtures_read() {
    for fixture in fixtures() {
        let cost = check(&fixture.name, &fixture.bytes);
        let path = WORK.with(|dir| dir.path().join(&fixture.name));
        let f = H5File::open(&path).unwrap();
        let text = describe(Ok::<_, String>(f));
        // Errors only where a float dataset is asked for as integers.
        let errors = text.matches("Err(").count();
        let floats_as_integers = text.matches("expected integer elements").count();
        assert_eq!(errors, floats_as_integers, "{}: {text}", fixture.name);
        tally(cost);
    }
}

/// `bytes` with the first run of `dims` (u64, little-endian: a dataspace's dimensions)
/// replaced by `with`.
fn damage_dims(bytes: &[u8], dims: &[u64], with: &[u64]) -> Vec<u8> {
    let find: Vec<u8> = dims.iter().flat_map(|d| d.to_le_bytes()).collect();
    let at = bytes
        .windows(find.len())
        .position(|w| w == find)
        .expect("the dimensions are in the file");
    let mut out = bytes.to_vec();
    let put: Vec<u8> = with.iter().flat_map(|d| d.to_le_bytes()).collect();
    out[at..at + put.len()].copy_from_slice(&put);
    out
}

/// A dimension damaged to millions in a file of kilobytes (h5py's, whose object headers
/// carry no checksum) is refused before anything of that size is allocated: contiguous
/// storage (`g4_default`) and chunked (`snap_010.0`, whose missing chunks would read as
/// fill values).
#[test]
fn a_damaged_dimension_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["g4_default.hdf5", "snap_010.0.hdf5"] {
        let clean = std::fs::read(fixture_path(name)).unwrap();
        let path = dir.path().join(name);
        let dims: Vec<u64> = H5File::from_bytes(name, clean.clone())
            .unwrap()
            .shape("/PartType1/Coordinates")
            .unwrap()
            .iter()
            .map(|&d| d as u64)
            .collect();
        let bytes = damage_dims(&clean, &dims, &[dims[0] << 16]);
        std::fs::write(&path, &bytes).unwrap();
        let lazy = H5File::open(&path).unwrap();
        let memory = H5File::from_bytes(&path, bytes).unwrap();
        let mut refused = 0;
        for f in [lazy, memory] {
            for ds in f.datasets("/PartType1").unwrap() {
                let (read, peak) = peak_bytes(|| f.read_f64(&format!("/PartType1/{ds}")));
                assert!(peak < 4 << 20, "{name} {ds}: {peak} bytes");
                if let Err(e) = read {
                    let e = e.to_string();
                    assert!(
                        e.contains("expected a shape its storage can hold, found shape ["),
                        "{e}"
                    );
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, 2, "{name}: one dataset refused by each open");
    }
}
