//! Labelled inputs in memory, in real units, CHW order: images (pixels in
//! `[0, 1]`) from IDX or CIFAR-10 files, or vectors of sensor features
//! from CSV files. Every reader names the file (and for CSV the line and
//! column) of whatever is wrong with it.

mod batch;
mod cifar;
mod csv;
mod idx;
mod source;
mod space;

pub use batch::{Resident, batch};
pub use cifar::{CIFAR10_CLASSES, read_cifar10};
pub use csv::{CsvTable, read_csv};
pub use idx::{read_idx_images, read_idx_labels, write_idx_images, write_idx_labels};
pub use source::{DataSource, default_data_dir, mnist_files};
pub use space::{ChannelSpace, InputSpace};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Shape of one input: channels, height, width (a feature vector is
/// `features x 1 x 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    /// Channels (colour planes, or features).
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

impl InputShape {
    /// Values per input.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True for a shape with no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A vector of `n` features.
    pub fn features(n: usize) -> Self {
        InputShape {
            channels: n,
            height: 1,
            width: 1,
        }
    }
}

/// Why a data set could not be read; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's contents are not what its format requires.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// One cell (or row) of a CSV file is wrong.
    #[error("{path}:{line}: {what}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Line number, 1-based (the header is line 1).
        line: u64,
        /// What is wrong, naming the column.
        what: String,
    },
    /// Images and labels disagree.
    #[error("{images} has {image_count} images but {labels} has {label_count} labels")]
    CountMismatch {
        /// Image file.
        images: PathBuf,
        /// Images in it.
        image_count: usize,
        /// Label file.
        labels: PathBuf,
        /// Labels in it.
        label_count: usize,
    },
}

/// A labelled set of inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Shape of one input.
    pub shape: InputShape,
    /// `len() * shape.len()` values, in real units.
    pub values: Vec<f32>,
    /// One class index per input.
    pub labels: Vec<u8>,
    /// The name of every class, index order.
    pub class_names: Vec<String>,
    /// The name of every channel (the features of a CSV), or none.
    pub channel_names: Vec<String>,
}

impl Dataset {
    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no inputs.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The values of input `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.shape.len();
        &self.values[i * n..(i + 1) * n]
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// The inputs at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut values = Vec::with_capacity(indices.len() * self.shape.len());
        for &i in indices {
            values.extend_from_slice(self.image(i));
        }
        Dataset {
            values,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ..self.clone_empty()
        }
    }

    /// The first `n` inputs (all when `n >= len`).
    pub fn take(&self, n: usize) -> Dataset {
        self.subset(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// The same kind of set with no inputs.
    fn clone_empty(&self) -> Dataset {
        Dataset {
            shape: self.shape,
            values: Vec::new(),
            labels: Vec::new(),
            class_names: self.class_names.clone(),
            channel_names: self.channel_names.clone(),
        }
    }

    /// Reads an IDX image file and its label file; classes are named by
    /// their index.
    pub fn from_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
        let (shape, values) = read_idx_images(images)?;
        let labels_vec = read_idx_labels(labels)?;
        let image_count = values.len() / shape.len();
        if image_count != labels_vec.len() {
            return Err(DataError::CountMismatch {
                images: images.to_path_buf(),
                image_count,
                labels: labels.to_path_buf(),
                label_count: labels_vec.len(),
            });
        }
        let classes = labels_vec.iter().max().map_or(0, |&m| usize::from(m) + 1);
        Ok(Dataset {
            shape,
            values,
            labels: labels_vec,
            class_names: (0..classes).map(|c| c.to_string()).collect(),
            channel_names: Vec::new(),
        })
    }
}

/// Train and test sets.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Training inputs.
    pub train: Dataset,
    /// Test inputs.
    pub test: Dataset,
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out).map_err(
            |e| DataError::Format {
                path: path.to_path_buf(),
                reason: format!("bad gzip stream: {e}"),
            },
        )?;
        Ok(out)
    } else {
        Ok(raw)
    }
}
