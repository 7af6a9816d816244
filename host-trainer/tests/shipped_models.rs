//! Every shipped model reproduces the int8 figures of its card, with the
//! runtime's own certification over the vendored test data the card
//! names, and the README's table quotes those figures.

use std::path::Path;

use cert_runtime::Model;
use host_trainer::export::{ModelCard, certify_set};

#[test]
fn shipped_models_match_their_cards_and_the_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("models")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "cert") {
            continue;
        }
        let card: ModelCard =
            serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        assert_eq!(card.flash_bytes, bytes.len(), "{}", path.display());
        // The card's budget is the model file's own.
        let eps = card.eps.values(model.input_channels());
        assert!(
            (0..eps.len()).all(|c| model.budget().eps(c) == Some(eps[c])),
            "{}: the card's eps is not the file's",
            path.display()
        );
        let test = card.source.relative_to(&root).load().unwrap().test;
        let refine = card.int8.refinement.as_ref().map(|r| r.max_boxes);
        let (int8, _) = certify_set(
            &model,
            &test.take(card.int8.samples),
            model.budget(),
            refine,
        )
        .unwrap();
        assert_eq!(
            int8,
            card.int8,
            "{}: certify disagrees with the card",
            path.display()
        );
        let row = format!(
            "| {:.2}% | {:.2}% |",
            100.0 * card.int8.clean_accuracy,
            100.0 * card.int8.certified_accuracy
        );
        let refined = card.int8.refinement.as_ref().map_or(String::new(), |r| {
            format!("{:.2}%", 100.0 * r.certified_accuracy)
        });
        assert!(
            readme
                .lines()
                .any(|l| l.contains(&format!("`{}`", card.model))
                    && l.contains(&row)
                    && l.contains(&refined)),
            "README has no row for {} with int8 figures {row} {refined}",
            card.model
        );
        checked += 1;
    }
    assert!(checked >= 1, "no shipped models found");
}
