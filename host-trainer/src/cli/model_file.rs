//! Reading model files and image files given on the command line.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use cert_runtime::Model;
use clap::Args;
use host_trainer::data::{Dataset, read_idx_images};

/// `--model FILE`: a model file written by `certnn export`.
#[derive(Args, Debug, Clone)]
pub struct ModelArg {
    /// Model file written by `certnn export`.
    #[arg(long = "model", value_name = "FILE")]
    pub path: PathBuf,
}

impl ModelArg {
    /// The file's bytes; load them with [`ModelArg::load`].
    pub fn read(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.path)
            .with_context(|| format!("reading model file {}", self.path.display()))
    }

    /// Loads the model with the runtime (its typed error, with the path, on a bad file).
    pub fn load<'a>(&self, bytes: &'a [u8]) -> Result<Model<'a>> {
        parse(&self.path, bytes)
    }
}

/// Loads a model with the runtime; a corrupt file gives the runtime's typed error.
pub fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<Model<'a>> {
    Model::from_bytes(bytes).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Images, with or without labels.
#[derive(Args, Debug, Clone)]
pub struct ImageArgs {
    /// Directory with MNIST-named IDX files; the test split is used.
    /// Default: the vendored MNIST digits.
    #[arg(long, value_name = "DIR", conflicts_with = "images")]
    pub data: Option<PathBuf>,
    /// Images (IDX, gzip or raw).
    #[arg(long, value_name = "FILE")]
    pub images: Option<PathBuf>,
    /// Labels (IDX) for --images.
    #[arg(long, value_name = "FILE", requires = "images")]
    pub labels: Option<PathBuf>,
    /// Use only the first N images.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

impl ImageArgs {
    /// The labelled set these arguments name (labels are required).
    pub fn labelled(&self) -> Result<Dataset> {
        let set = match (&self.images, &self.labels) {
            (Some(images), Some(labels)) => Dataset::from_idx(images, labels)?,
            (Some(_), None) => anyhow::bail!("--labels is needed with --images here"),
            _ => {
                let dir = self
                    .data
                    .clone()
                    .unwrap_or_else(host_trainer::data::default_data_dir);
                host_trainer::data::load_mnist_dir(&dir)?.test
            }
        };
        Ok(self.limited(set))
    }

    /// The images these arguments name, with labels when available
    /// (otherwise all labels are 0).
    pub fn images(&self) -> Result<Dataset> {
        match (&self.images, &self.labels) {
            (Some(images), None) => {
                let (shape, pixels) = read_idx_images(images)?;
                let labels = vec![0; pixels.len() / shape.len()];
                Ok(self.limited(Dataset {
                    shape,
                    pixels,
                    labels,
                }))
            }
            _ => self.labelled(),
        }
    }

    fn limited(&self, set: Dataset) -> Dataset {
        match self.limit {
            Some(n) => set.take(n),
            None => set,
        }
    }
}

/// Checks that the images fit the model's input.
pub fn check_shape(model: &Model<'_>, set: &Dataset) -> Result<()> {
    let spec = model.header().input;
    let (c, h, w) = (
        usize::from(spec.channels),
        usize::from(spec.height),
        usize::from(spec.width),
    );
    if (set.shape.channels, set.shape.height, set.shape.width) != (c, h, w) {
        anyhow::bail!(
            "the images are {}x{}x{} (CxHxW) but the model expects {c}x{h}x{w}",
            set.shape.channels,
            set.shape.height,
            set.shape.width
        );
    }
    Ok(())
}
