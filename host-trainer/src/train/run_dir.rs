//! The files of a run directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::TrainConfig;

/// Where training stands; written with every checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epoch to continue from (0-based).
    pub epoch: usize,
    /// Batch within that epoch to continue from.
    pub batch: usize,
    /// Best validation score so far: IBP-verified accuracy at full eps, or
    /// with QA-IBP the int8 model's certified accuracy.
    pub best_verified: Option<f32>,
    /// Epoch (0-based) that reached it.
    pub best_epoch: Option<usize>,
    /// The activation grid of the quantisation-aware epoch in progress
    /// (calibrated at its start), so that a resumed epoch keeps it.
    #[serde(default)]
    pub activation_max: Option<Vec<f32>>,
}

/// Paths inside a run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// A run directory at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// The model kept by selection (best validation verified accuracy).
    pub fn best_model(&self) -> PathBuf {
        self.root.join("best.bpk")
    }

    /// The latest checkpoint's model.
    pub fn checkpoint_model(&self) -> PathBuf {
        self.root.join("checkpoint-model.bpk")
    }

    /// The latest checkpoint's optimiser state.
    pub fn checkpoint_optimizer(&self) -> PathBuf {
        self.root.join("checkpoint-optimizer.bpk")
    }

    /// The latest checkpoint's progress.
    pub fn progress(&self) -> PathBuf {
        self.root.join("checkpoint.json")
    }

    /// One JSON object per epoch.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// Training curves.
    pub fn plot(&self) -> PathBuf {
        self.root.join("curves.svg")
    }

    /// Reads `config.json`.
    pub fn read_config(&self) -> Result<TrainConfig> {
        read_json(&self.config())
    }

    /// Reads the checkpoint's progress, if there is a checkpoint.
    pub fn read_progress(&self) -> Result<Option<Progress>> {
        let path = self.progress();
        if path.exists() {
            read_json(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Writes `value` as pretty JSON, atomically (write then rename).
    pub fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<()> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(value)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}
