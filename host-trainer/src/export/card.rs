//! The model card written beside every exported model, and the int8
//! measurements it reports, made with `cert-runtime` itself.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use cert_runtime::{Budget, Buffers, Model, Trail, Verdict};
use serde::{Deserialize, Serialize};

use crate::data::{DataSource, Dataset};
use crate::eps::Eps;

/// Accuracy of the int8 model as the device computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedAccuracy {
    /// Inputs.
    pub samples: usize,
    /// The budget of the certificates.
    pub eps: Eps,
    /// Fraction predicted correctly.
    pub clean_accuracy: f32,
    /// Fraction predicted correctly AND certified by the interval pass.
    pub certified_accuracy: f32,
    /// What refinement added, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refinement: Option<RefinedAccuracy>,
}

/// Certification with refinement over a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefinedAccuracy {
    /// Boxes refinement could bound per input.
    pub max_boxes: u32,
    /// Fraction predicted correctly AND certified (by the interval pass or
    /// by refinement).
    pub certified_accuracy: f32,
    /// Fraction for which refinement found a counterexample.
    pub refuted_fraction: f32,
    /// Fraction left unknown when the boxes ran out.
    pub unknown_fraction: f32,
    /// Mean boxes bounded per input.
    pub mean_boxes: f32,
}

/// What refinement concluded about one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRefinement {
    /// What refinement concluded (`"certified"`, `"refuted"` or
    /// `"unknown"` in JSON).
    pub verdict: Verdict,
    /// Boxes bounded.
    pub boxes: u32,
    /// A real input within the budget that gets another class (refuted only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Vec<f32>>,
}

/// Per-input result of `certify_set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Index in the set.
    pub index: usize,
    /// True class.
    pub label: u8,
    /// Predicted class.
    pub predicted: usize,
    /// Whether the interval pass certified the prediction.
    pub certified: bool,
    /// Lower bound of the smallest margin, in logit units.
    pub min_margin: i32,
    /// Refinement's verdict, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refined: Option<SampleRefinement>,
}

/// Trail levels of the host tools: every refinement of an input of up to
/// 4,096 values fits (at most 8 splits per value), so the host never
/// refuses a box budget; verdicts do not depend on the depth.
const HOST_REFINE_DEPTH: usize = 1 << 15;

/// The budget `budget` as the host writes it, for `channels` channels.
fn eps_of(budget: Budget<'_>, channels: usize) -> Eps {
    let values: Vec<f32> = (0..channels).filter_map(|c| budget.eps(c)).collect();
    match values.first() {
        Some(&first) if values.iter().all(|&e| e == first) => Eps::Uniform(first),
        _ => Eps::PerChannel(values),
    }
}

/// Certifies every input of `set` within `budget` with the runtime, and
/// refines the uncertified ones with `refine` boxes each when given;
/// returns the summary and the per-input results.
pub fn certify_set(
    model: &Model<'_>,
    set: &Dataset,
    budget: Budget<'_>,
    refine: Option<u32>,
) -> Result<(QuantizedAccuracy, Vec<SampleResult>)> {
    let mut scratch = vec![0i16; model.refine_scratch_len()];
    let mut trail = Box::new(Trail::<HOST_REFINE_DEPTH>::new());
    let mut counterexample = vec![0f32; model.input_len()];
    let mut buffers = Buffers {
        scratch: &mut scratch,
        trail: &mut trail,
        counterexample: &mut counterexample,
    };
    let mut results = Vec::with_capacity(set.len());
    let mut boxes = 0u64;
    for i in 0..set.len() {
        let max_boxes = refine.unwrap_or(0);
        let decision = model
            .decide_within(set.image(i), budget, max_boxes, &mut buffers)
            .map_err(|e| anyhow!("input {i}: {e}"))?;
        boxes += u64::from(decision.boxes);
        let refined = refine.map(|_| SampleRefinement {
            verdict: decision.verdict,
            boxes: decision.boxes,
            counterexample: (decision.verdict == Verdict::Refuted)
                .then(|| buffers.counterexample.to_vec()),
        });
        let cert = decision.certificate;
        results.push(SampleResult {
            index: i,
            label: set.labels[i],
            predicted: cert.class,
            certified: cert.certified,
            min_margin: cert.min_margin(),
            refined,
        });
    }
    let n = set.len().max(1) as f32;
    let fraction = |keep: &dyn Fn(&SampleResult) -> bool| {
        results.iter().filter(|r| keep(r)).count() as f32 / n
    };
    let correct = |r: &SampleResult| r.predicted == usize::from(r.label);
    let verdict = |r: &SampleResult, v| r.refined.as_ref().is_some_and(|s| s.verdict == v);
    let refinement = refine.map(|max_boxes| RefinedAccuracy {
        max_boxes,
        certified_accuracy: fraction(&|r| correct(r) && verdict(r, Verdict::Certified)),
        refuted_fraction: fraction(&|r| verdict(r, Verdict::Refuted)),
        unknown_fraction: fraction(&|r| verdict(r, Verdict::Unknown)),
        mean_boxes: boxes as f32 / n,
    });
    let summary = QuantizedAccuracy {
        samples: set.len(),
        eps: eps_of(budget, model.input_channels()),
        clean_accuracy: fraction(&correct),
        certified_accuracy: fraction(&|r| r.certified && correct(r)),
        refinement,
    };
    Ok((summary, results))
}

/// What a user should know about a shipped model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// File name of the model.
    pub model: String,
    /// Architecture preset.
    pub arch: String,
    /// Weights and biases.
    pub parameters: usize,
    /// Size of the model file (flash for the weights).
    pub flash_bytes: usize,
    /// Scratch RAM `certify` needs, in bytes.
    pub scratch_ram_bytes: usize,
    /// The budget the network was trained at.
    pub eps_train: Eps,
    /// The budget it is certified at (the model file's own).
    pub eps: Eps,
    /// Float model on the test set: clean accuracy.
    pub float_clean_accuracy: f32,
    /// Float model on the test set: PGD accuracy.
    pub float_pgd_accuracy: Option<f32>,
    /// Float model on the test set: IBP-verified accuracy.
    pub float_verified_accuracy: f32,
    /// int8 model on the test set, with the device's arithmetic.
    pub int8: QuantizedAccuracy,
    /// Data the model was trained and tested on, in words.
    pub data: String,
    /// The same data as files: what `certnn certify` and the tests read
    /// to reproduce the card.
    pub source: DataSource,
    /// The names of the input features, for feature vectors (empty for
    /// images).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feature_names: Vec<String>,
    /// Seed of the run.
    pub seed: u64,
    /// The command that made the run.
    pub train_command: String,
    /// The command that exported it.
    pub export_command: String,
    /// The command that upgraded the file to today's format, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_command: Option<String>,
}

impl ModelCard {
    /// Writes `NAME.json` and `NAME.md` beside `model_path`.
    pub fn write(&self, model_path: &Path) -> Result<()> {
        let json = model_path.with_extension("json");
        std::fs::write(&json, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", json.display()))?;
        let md = model_path.with_extension("md");
        std::fs::write(&md, self.markdown()).with_context(|| format!("writing {}", md.display()))
    }

    fn markdown(&self) -> String {
        let pct = |x: f32| format!("{:.2}%", 100.0 * x);
        let refined = self.int8.refinement.as_ref().map_or(String::new(), |r| {
            format!(
                "| int8, refined ({} boxes) | - | - | {} (refuted {}, unknown {}) |\n",
                r.max_boxes,
                pct(r.certified_accuracy),
                pct(r.refuted_fraction),
                pct(r.unknown_fraction)
            )
        });
        let features = self.feature_table();
        let scratch_use = if self.int8.refinement.is_some() {
            "refine"
        } else {
            "certify"
        };
        let mut commands = vec![self.train_command.clone(), self.export_command.clone()];
        commands.extend(self.upgrade_command.clone());
        format!(
            "# {model}\n\n\
             `{arch}` trained with fast IBP at eps {eps_train}, certified at eps {eps} \
             (L-infinity, per input channel in its own units).\n\n\
             | | clean | PGD | certified |\n|---|---|---|---|\n\
             | float (IBP) | {fc} | {fp} | {fv} |\n\
             | int8 (device arithmetic) | {qc} | - | {qv} |\n\
             {refined}\n\
             {n} test inputs of {data}.\n\n\
             {features}\
             - parameters: {params}\n- flash (model file): {flash} bytes\n- scratch RAM for `{scratch_use}`: {ram} bytes\n- seed: {seed}\n\n\
             Reproduce:\n\n```sh\n{commands}\n```\n",
            model = self.model,
            arch = self.arch,
            eps_train = self.eps_train,
            eps = self.eps,
            fc = pct(self.float_clean_accuracy),
            fp = self.float_pgd_accuracy.map_or("-".into(), pct),
            fv = pct(self.float_verified_accuracy),
            qc = pct(self.int8.clean_accuracy),
            qv = pct(self.int8.certified_accuracy),
            n = self.int8.samples,
            data = self.data,
            params = self.parameters,
            flash = self.flash_bytes,
            ram = self.scratch_ram_bytes,
            seed = self.seed,
            commands = commands.join("\n"),
        )
    }

    /// The budget of every feature, as a Markdown table (empty for images).
    fn feature_table(&self) -> String {
        if self.feature_names.is_empty() {
            return String::new();
        }
        let eps = self.eps.values(self.feature_names.len());
        let mut table = String::from("| feature | eps (its own unit) |\n|---|---:|\n");
        for (name, e) in self.feature_names.iter().zip(&eps) {
            table.push_str(&format!("| {name} | {e} |\n"));
        }
        table + "\n"
    }
}
