//! SHA-256 digests that tie a checkpoint to its files and a checkpoint or a model to the
//! training data it was made from, so that a torn checkpoint or another dataset of the same
//! size is told apart from the real one.

use std::fmt;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dataset::StreamsDataset;

/// Hex SHA-256 of the file at `path`, read in blocks.
pub fn file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feed `values` to `hasher` as little-endian bytes, a block at a time.
fn update_f64(hasher: &mut Sha256, values: &[f64]) {
    for block in values.chunks(8192) {
        let bytes: Vec<u8> = block.iter().flat_map(|v| v.to_le_bytes()).collect();
        hasher.update(&bytes);
    }
}

/// The identity of a streams dataset as training uses it: a digest of its layout (streams,
/// points per stream, and the offsets when streams differ in length), its phase-space
/// points, its times and its particle ids, with the counts beside it for messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataDigest {
    pub digest: String,
    pub streams: usize,
    /// Points per stream (the longest stream's when they differ in length: the digest
    /// covers their offsets).
    pub stars: usize,
}

impl DataDigest {
    /// The digest of `ds`'s `xv`, `t` and `ids` and its shape (for streams of different
    /// lengths, their offsets too).
    pub fn of(ds: &StreamsDataset) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"actionfinder streams v1");
        hasher.update((ds.n_streams() as u64).to_le_bytes());
        hasher.update((ds.n_stars() as u64).to_le_bytes());
        if ds.layout().is_ragged() {
            hasher.update(b"offsets");
            let bytes: Vec<u8> = ds
                .layout()
                .offsets()
                .iter()
                .flat_map(|&o| (o as u64).to_le_bytes())
                .collect();
            hasher.update(&bytes);
        }
        hasher.update(b"xv");
        update_f64(&mut hasher, &ds.xv);
        if let Some(t) = &ds.t {
            hasher.update(b"t");
            update_f64(&mut hasher, t);
        }
        if let Some(ids) = &ds.ids {
            hasher.update(b"ids");
            let bytes: Vec<u8> = ids.iter().flat_map(|i| i.to_le_bytes()).collect();
            hasher.update(&bytes);
        }
        DataDigest {
            digest: hex(&hasher.finalize()),
            streams: ds.n_streams(),
            stars: ds.n_stars(),
        }
    }

    /// The digest a model's training record (`model.json`'s `training`) holds, if any
    /// (models written before it was recorded have none).
    pub fn recorded(training: &serde_json::Value) -> Option<DataDigest> {
        serde_json::from_value(training["data"].clone()).ok()
    }

    /// How `other` differs from `self` ("digest X vs Y, streams N vs M, ..."), or `None`
    /// when they are the same data.
    pub fn difference(&self, other: &DataDigest) -> Option<String> {
        (self != other).then(|| {
            format!(
                "digest {} vs {}, streams {} vs {}, points per stream {} vs {}",
                self.digest, other.digest, self.streams, other.streams, self.stars, other.stars
            )
        })
    }
}

impl fmt::Display for DataDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} streams of {} points, digest {}",
            self.streams, self.stars, self.digest
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(xv: Vec<f64>) -> StreamsDataset {
        let mut ds = StreamsDataset::new(2, 1);
        ds.xv = xv;
        ds
    }

    #[test]
    fn data_of_the_same_size_but_other_values_differ_by_name() {
        let a = DataDigest::of(&dataset(vec![1.0; 12]));
        let mut xv = vec![1.0; 12];
        xv[7] = 1.0 + 1e-15;
        let b = DataDigest::of(&dataset(xv));
        assert_eq!(a.difference(&a.clone()), None);
        let d = a.difference(&b).unwrap();
        assert!(
            d.contains(&a.digest) && d.contains(&b.digest) && d.contains("streams 2 vs 2"),
            "{d}"
        );
    }

    #[test]
    fn ragged_data_digest_their_offsets() {
        let xv: Vec<f64> = (0..5 * 6).map(f64::from).collect();
        let a = DataDigest::of(&StreamsDataset::from_offsets(vec![0, 2, 5], xv.clone()).unwrap());
        let b = DataDigest::of(&StreamsDataset::from_offsets(vec![0, 3, 5], xv.clone()).unwrap());
        assert_ne!(a.digest, b.digest, "same points, other streams");
        assert_eq!((a.streams, a.stars), (2, 3));
        assert!(a.difference(&b).is_some());
        let xv6: Vec<f64> = [xv, vec![0.0; 6]].concat();
        let ragged = DataDigest::of(&StreamsDataset::from_offsets(vec![0, 4, 6], xv6.clone()).unwrap());
        let uniform = DataDigest::of(&StreamsDataset::from_xv(2, 3, xv6).unwrap());
        assert_eq!((uniform.streams, uniform.stars), (2, 3));
        assert_eq!((ragged.streams, ragged.stars), (2, 4));
        assert_ne!(
            uniform.digest, ragged.digest,
            "the offsets are part of the digest"
        );
    }

    #[test]
    fn the_file_digest_is_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(
            file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
