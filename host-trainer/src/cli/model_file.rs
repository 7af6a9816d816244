//! Reading model files and input files given on the command line.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use cert_runtime::{Bounds, Model};
use clap::{Args, ValueEnum};
use host_trainer::data::{
    DataSource, Dataset, InputShape, default_data_dir, read_csv, read_idx_images,
};
use host_trainer::eps::EpsSpec;

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

/// `--eps`: a budget other than the model's own.
#[derive(Args, Debug, Clone)]
pub struct EpsArg {
    /// The perturbation budget, in each input channel's real units: E,
    /// E1,E2,... (one per channel) or @FILE. Default: the budget the model
    /// file was certified for.
    #[arg(long, value_name = "EPS", visible_alias = "eps-per-feature")]
    pub eps: Option<EpsSpec>,
}

impl EpsArg {
    /// One eps per input channel of `model`: `--eps`, or the model's own
    /// budget. (`Budget::per_channel` of them is what the runtime takes.)
    pub fn values(&self, model: &Model<'_>) -> Result<Vec<f32>> {
        let channels = model.input_channels();
        match &self.eps {
            Some(spec) => spec.values(channels, None),
            None => Ok((0..channels)
                .map(|c| model.budget().eps(c).unwrap_or(0.0))
                .collect()),
        }
    }
}

/// The inputs a model command runs on: images or a CSV file, with or
/// without labels.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Folder of images (MNIST-named IDX files or CIFAR-10); the test split
    /// is used. Default: the vendored MNIST digits.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["images", "csv"])]
    pub data: Option<PathBuf>,
    /// Images (IDX, gzip or raw).
    #[arg(long, value_name = "FILE", conflicts_with = "csv")]
    pub images: Option<PathBuf>,
    /// Labels (IDX) for --images.
    #[arg(long, value_name = "FILE", requires = "images")]
    pub labels: Option<PathBuf>,
    /// Rows of features (CSV, with the header of the training file; the
    /// label column may be left out where labels are not needed).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// The CSV column holding the class names.
    #[arg(long, value_name = "NAME", default_value = "label")]
    pub label_column: String,
    /// Use only the first N inputs.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

impl InputArgs {
    /// The inputs for `model`, checked against its shape (and for a CSV,
    /// its feature names and class names). With `labels_required`, a set
    /// without labels is an error; otherwise missing labels are 0.
    pub fn read(&self, model: &Model<'_>, labels_required: bool) -> Result<Dataset> {
        let set = match (&self.csv, &self.images, &self.labels) {
            (Some(csv), _, _) => self.read_csv(csv, model, labels_required)?,
            (None, Some(images), Some(labels)) => Dataset::from_idx(images, labels)?,
            (None, Some(images), None) => {
                if labels_required {
                    bail!("--labels is needed with --images here");
                }
                let (shape, values) = read_idx_images(images)?;
                let labels = vec![0; values.len() / shape.len()];
                Dataset {
                    shape,
                    values,
                    labels,
                    class_names: Vec::new(),
                    channel_names: Vec::new(),
                }
            }
            (None, None, _) => {
                let dir = self.data.clone().unwrap_or_else(default_data_dir);
                DataSource::image_folder(&dir).load()?.test
            }
        };
        check_shape(model, &set)?;
        Ok(match self.limit {
            Some(n) => set.take(n),
            None => set,
        })
    }

    fn read_csv(&self, path: &Path, model: &Model<'_>, labels_required: bool) -> Result<Dataset> {
        let table = read_csv(path, &self.label_column, labels_required)?;
        let names: Vec<&str> = (0..model.input_channels())
            .filter_map(|c| model.channel_name(c))
            .collect();
        if !names.is_empty() && table.features != names {
            bail!(
                "{}: its feature columns ({}) are not the model's ({})",
                path.display(),
                table.features.join(", "),
                names.join(", ")
            );
        }
        let classes: Vec<String> = (0..model.classes())
            .map(|c| model.class_name(c).map_or(c.to_string(), str::to_string))
            .collect();
        Ok(table.into_dataset(path, &self.label_column, &classes)?)
    }
}

/// Checks that the inputs fit the model's input shape and domain.
pub fn check_shape(model: &Model<'_>, set: &Dataset) -> Result<()> {
    let spec = model.header().input;
    let expected = InputShape {
        channels: usize::from(spec.channels),
        height: usize::from(spec.height),
        width: usize::from(spec.width),
    };
    if set.shape != expected {
        bail!(
            "the inputs are {}x{}x{} (CxHxW) but the model expects {}x{}x{}",
            set.shape.channels,
            set.shape.height,
            set.shape.width,
            expected.channels,
            expected.height,
            expected.width
        );
    }
    let per_channel = expected.height * expected.width;
    for i in 0..set.len() {
        for (k, &x) in set.image(i).iter().enumerate() {
            let c = k / per_channel;
            let q = model.quantizer(c).expect("a loaded model's channel");
            if !q.contains(x) {
                let name = model
                    .channel_name(c)
                    .map_or(String::new(), |n| format!(" (`{n}`)"));
                bail!(
                    "input {i}, value {k}{name}: {x} lies outside the model's domain [{}, {}]",
                    q.domain_min,
                    q.domain_max
                );
            }
        }
    }
    Ok(())
}

/// `--bounds`: how margins the interval pass leaves open are bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BoundsArg {
    /// Integer intervals only.
    Interval,
    /// Intervals, then linear bounds back-substituted through the last
    /// hidden layer (exact integer arithmetic; never weaker).
    Linear,
}

impl From<BoundsArg> for Bounds {
    fn from(b: BoundsArg) -> Bounds {
        match b {
            BoundsArg::Interval => Bounds::Interval,
            BoundsArg::Linear => Bounds::Linear,
        }
    }
}
