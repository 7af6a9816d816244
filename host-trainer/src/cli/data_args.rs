//! Where `certnn train` reads its data: an image folder, four IDX files,
//! or two CSV files.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use host_trainer::data::{DataSource, default_data_dir};

/// Where the training and test data come from.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Folder of images: MNIST-named IDX files (train-images-idx3-ubyte[.gz],
    /// train-labels-idx1-ubyte[.gz], t10k-* or test-*), or the CIFAR-10
    /// binary version (data_batch_1.bin ... data_batch_5.bin, test_batch.bin).
    /// Default: the vendored 8,000 + 2,000 MNIST digits.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["train_images", "csv_train"])]
    pub data: Option<PathBuf>,
    /// Training images (IDX, gzip or raw); needs the three other files too.
    #[arg(long, value_name = "FILE", requires_all = ["train_labels", "test_images", "test_labels"], conflicts_with = "csv_train")]
    pub train_images: Option<PathBuf>,
    /// Training labels (IDX).
    #[arg(long, value_name = "FILE")]
    pub train_labels: Option<PathBuf>,
    /// Test images (IDX).
    #[arg(long, value_name = "FILE")]
    pub test_images: Option<PathBuf>,
    /// Test labels (IDX).
    #[arg(long, value_name = "FILE")]
    pub test_labels: Option<PathBuf>,
    /// Training rows of sensor features (CSV with a header row; every
    /// column but the label is a feature, in its own unit). Features are
    /// normalised with statistics of this file only.
    #[arg(long, value_name = "FILE", requires = "csv_test")]
    pub csv_train: Option<PathBuf>,
    /// Test rows, with the same columns.
    #[arg(long, value_name = "FILE", requires = "csv_train")]
    pub csv_test: Option<PathBuf>,
    /// The CSV column holding the class names.
    #[arg(long, value_name = "NAME", default_value = "label")]
    pub label_column: String,
}

impl DataArgs {
    /// The data source these arguments name.
    pub fn source(&self) -> Result<DataSource> {
        if let (Some(train), Some(test)) = (&self.csv_train, &self.csv_test) {
            return Ok(DataSource::Csv {
                train: train.clone(),
                test: test.clone(),
                label_column: self.label_column.clone(),
            });
        }
        if let (Some(a), Some(b), Some(c), Some(d)) = (
            &self.train_images,
            &self.train_labels,
            &self.test_images,
            &self.test_labels,
        ) {
            return Ok(DataSource::Idx {
                train_images: a.clone(),
                train_labels: b.clone(),
                test_images: c.clone(),
                test_labels: d.clone(),
            });
        }
        if self.train_labels.is_some() || self.test_images.is_some() || self.test_labels.is_some() {
            bail!("--train-images, --train-labels, --test-images and --test-labels go together");
        }
        let dir = self.data.clone().unwrap_or_else(default_data_dir);
        if !dir.is_dir() {
            bail!("data directory {} does not exist", dir.display());
        }
        Ok(DataSource::image_folder(&dir))
    }
}
