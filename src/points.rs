//! Phase-space points to work on, from a streams dataset or a catalog (detected by content).

use std::path::Path;

use actionfinder_integrators::PhaseSpace;
use actionfinder_snapshots::h5::{H5Error, H5File};

use crate::catalog::Catalog;
use crate::dataset::{DatasetAttrs, StreamLayout, StreamsDataset};

/// Points and what is known of where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// \[n,6\] rows.
    pub xv: Vec<f64>,
    /// \[n\] particle ids, when known (a stream's id repeated over its stars).
    pub ids: Option<Vec<u64>>,
    /// \[n\] stream index of each point and how the points divide into streams, for
    /// streams datasets.
    pub stream: Option<Vec<u64>>,
    pub layout: Option<StreamLayout>,
    pub attrs: DatasetAttrs,
}

impl Points {
    /// Read `/streams/xv` of a streams dataset or `/particles/xv` of a catalog.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, H5Error> {
        let path = path.as_ref();
        let f = H5File::open(path)?;
        if f.has_dataset("/streams/xv") {
            drop(f);
            Ok(Self::from_dataset(StreamsDataset::read(path)?))
        } else if f.has_dataset("/particles/xv") {
            drop(f);
            let c = Catalog::read(path)?;
            Ok(Points {
                xv: c.xv,
                ids: c.ids,
                stream: c.stream,
                layout: None,
                attrs: c.attrs,
            })
        } else {
            Err(f.unexpected(
                "file",
                "a streams dataset (/streams/xv) or a catalog (/particles/xv)",
                "neither",
            ))
        }
    }

    /// Every point of a streams dataset, stream after stream.
    pub fn from_dataset(ds: StreamsDataset) -> Self {
        let layout = ds.layout().clone();
        let stream = layout.stream_of_rows().into_iter().map(|s| s as u64).collect();
        let ids = ds.ids.as_ref().map(|ids| layout.repeat(ids));
        Points {
            xv: ds.xv,
            ids,
            stream: Some(stream),
            layout: Some(layout),
            attrs: ds.attrs,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.xv.len() / 6
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.xv.is_empty()
    }

    /// The points as phase-space values.
    pub fn phase_space(&self) -> Vec<PhaseSpace> {
        self.xv
            .chunks_exact(6)
            .map(|r| PhaseSpace::from_row(&[r[0], r[1], r[2], r[3], r[4], r[5]]))
            .collect()
    }
}
