//! `--data DIR` or the four explicit IDX files.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use host_trainer::data::{default_data_dir, mnist_files};
use host_trainer::train::DataFiles;

/// Where the images come from.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Directory with MNIST-named IDX files (train-images-idx3-ubyte[.gz],
    /// train-labels-idx1-ubyte[.gz], t10k-* or test-*). Default: the
    /// vendored 8,000 + 2,000 MNIST digits.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Training images (IDX, gzip or raw); needs the three other files too.
    #[arg(long, value_name = "FILE", requires_all = ["train_labels", "test_images", "test_labels"], conflicts_with = "data")]
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
}

impl DataArgs {
    /// The four files these arguments name.
    pub fn files(&self) -> Result<DataFiles> {
        if let (Some(a), Some(b), Some(c), Some(d)) = (
            &self.train_images,
            &self.train_labels,
            &self.test_images,
            &self.test_labels,
        ) {
            return Ok(DataFiles {
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
        let (train_images, train_labels) = mnist_files(&dir, "train");
        let (mut test_images, mut test_labels) = mnist_files(&dir, "t10k");
        if !test_images.exists() {
            (test_images, test_labels) = mnist_files(&dir, "test");
        }
        Ok(DataFiles {
            train_images,
            train_labels,
            test_images,
            test_labels,
        })
    }
}
