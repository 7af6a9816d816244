//! Where a run's data comes from: IDX files (MNIST), a CIFAR-10 folder, or
//! CSV files of sensor features. Saved in the run's config, so that eval
//! and export read the same data.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{DataError, Dataset, Splits, read_cifar10, read_csv};

/// The files of a train and a test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "kebab-case")]
pub enum DataSource {
    /// IDX image and label files (MNIST's format, gzip or raw).
    Idx {
        /// Training images.
        train_images: PathBuf,
        /// Training labels.
        train_labels: PathBuf,
        /// Test images.
        test_images: PathBuf,
        /// Test labels.
        test_labels: PathBuf,
    },
    /// The CIFAR-10 binary version: `data_batch_1.bin` to
    /// `data_batch_5.bin` and `test_batch.bin` in one folder.
    Cifar10 {
        /// The folder.
        dir: PathBuf,
    },
    /// CSV files with a header row and a label column.
    Csv {
        /// Training rows.
        train: PathBuf,
        /// Test rows.
        test: PathBuf,
        /// Name of the label column.
        label_column: String,
    },
}

/// The CIFAR-10 training batches of a folder.
const CIFAR_TRAIN: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];

impl DataSource {
    /// The images of a folder: CIFAR-10 when it holds `data_batch_1.bin`,
    /// otherwise MNIST-named IDX files (`train-images-idx3-ubyte[.gz]`,
    /// `train-labels-idx1-ubyte[.gz]`, and `t10k-*` or `test-*`).
    pub fn image_folder(dir: &Path) -> DataSource {
        if dir.join(CIFAR_TRAIN[0]).exists() {
            return DataSource::Cifar10 {
                dir: dir.to_path_buf(),
            };
        }
        let (train_images, train_labels) = mnist_files(dir, "train");
        let (mut test_images, mut test_labels) = mnist_files(dir, "t10k");
        if !test_images.exists() {
            (test_images, test_labels) = mnist_files(dir, "test");
        }
        DataSource::Idx {
            train_images,
            train_labels,
            test_images,
            test_labels,
        }
    }

    /// True for feature vectors (CSV), whose channels are features in
    /// their own units; false for images.
    pub fn is_tabular(&self) -> bool {
        matches!(self, DataSource::Csv { .. })
    }

    /// The same files, with every relative path taken from `dir` (a card's
    /// paths are relative to the repository it was made in).
    pub fn relative_to(&self, dir: &Path) -> DataSource {
        let at = |p: &PathBuf| dir.join(p);
        match self {
            DataSource::Idx {
                train_images,
                train_labels,
                test_images,
                test_labels,
            } => DataSource::Idx {
                train_images: at(train_images),
                train_labels: at(train_labels),
                test_images: at(test_images),
                test_labels: at(test_labels),
            },
            DataSource::Cifar10 { dir: d } => DataSource::Cifar10 { dir: at(d) },
            DataSource::Csv {
                train,
                test,
                label_column,
            } => DataSource::Csv {
                train: at(train),
                test: at(test),
                label_column: label_column.clone(),
            },
        }
    }

    /// Reads both splits. The training split defines the classes; a test
    /// label outside them is an error.
    pub fn load(&self) -> Result<Splits, DataError> {
        match self {
            DataSource::Idx {
                train_images,
                train_labels,
                test_images,
                test_labels,
            } => {
                let train = Dataset::from_idx(train_images, train_labels)?;
                let mut test = Dataset::from_idx(test_images, test_labels)?;
                if test.classes() > train.classes() {
                    return Err(DataError::Format {
                        path: test_labels.clone(),
                        reason: format!(
                            "label {} does not occur in the training labels (0..{})",
                            test.classes() - 1,
                            train.classes()
                        ),
                    });
                }
                test.class_names = train.class_names.clone();
                Ok(Splits { train, test })
            }
            DataSource::Cifar10 { dir } => {
                let train: Vec<PathBuf> = CIFAR_TRAIN.iter().map(|f| dir.join(f)).collect();
                let train: Vec<&Path> = train.iter().map(PathBuf::as_path).collect();
                Ok(Splits {
                    train: read_cifar10(&train)?,
                    test: read_cifar10(&[&dir.join("test_batch.bin")])?,
                })
            }
            DataSource::Csv {
                train,
                test,
                label_column,
            } => {
                let train_table = read_csv(train, label_column, true)?;
                let classes = train_table.class_names();
                let test_table = read_csv(test, label_column, true)?;
                if test_table.features != train_table.features {
                    return Err(DataError::Format {
                        path: test.clone(),
                        reason: format!(
                            "its feature columns ({}) are not the training file's ({})",
                            test_table.features.join(", "),
                            train_table.features.join(", ")
                        ),
                    });
                }
                Ok(Splits {
                    train: train_table.into_dataset(train, label_column, &classes)?,
                    test: test_table.into_dataset(test, label_column, &classes)?,
                })
            }
        }
    }

    /// A one-line description for model cards.
    pub fn describe(&self) -> String {
        match self {
            DataSource::Idx { test_images, .. } => test_images
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            DataSource::Cifar10 { dir } => format!("CIFAR-10 in {}", dir.display()),
            DataSource::Csv { train, test, .. } => {
                format!("{} / {}", train.display(), test.display())
            }
        }
    }
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
