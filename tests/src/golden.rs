//! Golden device logs, as defmt and RTIC keep theirs: the QEMU board's
//! decoded log for each model pair is kept in `boards/mps2-an386/golden/`,
//! with the fields that change with every code change masked (instruction
//! counts, stack depth). A test compares every run with its golden file;
//! `UPDATE_SNAPSHOTS=1` rewrites them.

use std::path::PathBuf;

use crate::boards_dir;

/// The per-case fields that hold costs.
const COSTS: &[&str] = &["predict", "certify", "refine"];

/// The golden file of a model pair.
pub fn path(name: &str) -> PathBuf {
    boards_dir()
        .join("mps2-an386/golden")
        .join(format!("{name}.log"))
}

/// `log` with the values of the cost fields replaced by `*`: the per-case
/// costs, and every field of the lines of means (`instructions:`) and of
/// stack depth (`stack:`). What the device computed stays.
pub fn mask(log: &[String]) -> String {
    let mut out = String::new();
    for line in log {
        let all_costs = line.contains(" instructions:") || line.contains(" stack:");
        let tokens: Vec<String> = line
            .split(' ')
            .map(|token| match token.split_once('=') {
                Some((key, _)) if all_costs || COSTS.contains(&key) => format!("{key}=*"),
                _ => token.to_owned(),
            })
            .collect();
        out += &tokens.join(" ");
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn costs_are_masked_and_results_kept() {
        let log = [
            "INFO case 0: label=Some(1) class=1 certified=true min_margin=5 refined=- boxes=1 predict=100 certify=200 refine=0 match",
            "INFO instructions: predict=100 certify=200 certified=200 ratio=2.0 (means per case)",
            "INFO stack: peak=6308 bytes",
        ]
        .map(String::from);
        assert_eq!(
            mask(&log),
            "INFO case 0: label=Some(1) class=1 certified=true min_margin=5 refined=- boxes=1 predict=* certify=* refine=* match\n\
             INFO instructions: predict=* certify=* certified=* ratio=* (means per case)\n\
             INFO stack: peak=* bytes\n"
        );
    }
}
