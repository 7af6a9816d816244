//! Labelled image sets in memory: pixels as `f32` in `[0, 1]`, CHW order.

mod batch;
mod cifar;
mod idx;

pub use batch::batch;
pub use cifar::read_cifar10;
pub use idx::{read_idx_images, read_idx_labels, write_idx_images, write_idx_labels};

use std::path::{Path, PathBuf};

use crate::model::ImageShape;

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

/// A labelled image set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Shape of one image.
    pub shape: ImageShape,
    /// `len() * shape.len()` pixels in `[0, 1]`.
    pub pixels: Vec<f32>,
    /// One class index per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.shape.len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Number of classes: one more than the largest label.
    pub fn classes(&self) -> usize {
        self.labels
            .iter()
            .copied()
            .max()
            .map_or(0, |m| usize::from(m) + 1)
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut pixels = Vec::with_capacity(indices.len() * self.shape.len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Dataset {
            shape: self.shape,
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The first `n` images (all when `n >= len`).
    pub fn take(&self, n: usize) -> Dataset {
        self.subset(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// Reads an IDX image file and its label file.
    pub fn from_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
        let (shape, pixels) = read_idx_images(images)?;
        let labels_vec = read_idx_labels(labels)?;
        let image_count = pixels.len() / shape.len();
        if image_count != labels_vec.len() {
            return Err(DataError::CountMismatch {
                images: images.to_path_buf(),
                image_count,
                labels: labels.to_path_buf(),
                label_count: labels_vec.len(),
            });
        }
        Ok(Dataset {
            shape,
            pixels,
            labels: labels_vec,
        })
    }
}

/// Train and test sets.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Training images.
    pub train: Dataset,
    /// Test images.
    pub test: Dataset,
}

/// The standard MNIST file names inside a directory (gzip or raw).
pub fn mnist_files(dir: &Path, split: &str) -> (PathBuf, PathBuf) {
    let pick = |stem: String| {
        let gz = dir.join(format!("{stem}.gz"));
        if gz.exists() { gz } else { dir.join(stem) }
    };
    (
        pick(format!("{split}-images-idx3-ubyte")),
        pick(format!("{split}-labels-idx1-ubyte")),
    )
}

/// Reads the MNIST-named train and test files of `dir`.
pub fn load_mnist_dir(dir: &Path) -> Result<Splits, DataError> {
    let (train_images, train_labels) = mnist_files(dir, "train");
    let (test_images, test_labels) = mnist_files(dir, "t10k");
    let (test_images, test_labels) = if test_images.exists() {
        (test_images, test_labels)
    } else {
        mnist_files(dir, "test")
    };
    Ok(Splits {
        train: Dataset::from_idx(&train_images, &train_labels)?,
        test: Dataset::from_idx(&test_images, &test_labels)?,
    })
}

/// The data set shipped in the repository (8,000 + 2,000 real MNIST digits):
/// `data/mnist-10k` when run from the repository root, else found through
/// the crate's source location.
pub fn default_data_dir() -> PathBuf {
    let relative = Path::new("data/mnist-10k");
    if relative.is_dir() {
        relative.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist-10k")
    }
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
