//! The guideline data in `prompts/guideline/nn.toml` is the seed document, point by point:
//! rebuilding the document from the data gives the seed's lines exactly, in order. The seed is
//! read from `../shared/seed/` (or `SOMEBOT_SEED`); the test fails clearly when it is absent.

use somebot::guideline::GuidelineDoc;

fn seed() -> String {
    let path = std::env::var("SOMEBOT_SEED").unwrap_or_else(|_| {
        format!("{}/../shared/seed/retningslinjer-sosiale-medium-volda.txt", env!("CARGO_MANIFEST_DIR"))
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the seed document is needed at {path} (or set SOMEBOT_SEED): {e}"))
}

#[test]
fn data_rebuilds_the_seed_document_exactly() {
    let doc = GuidelineDoc::official();
    let mut lines: Vec<String> = vec![doc.date.clone(), doc.title.clone()];
    for para in doc.point("0").expect("preamble").text.split("\n\n") {
        lines.push(para.to_string());
    }
    for s in &doc.sections {
        lines.push(format!("{}. {}", s.id, s.title));
        for p in doc.points_of(&s.id) {
            if let Some(b) = &p.before {
                lines.push(b.clone());
            }
            lines.push(match (s.id.as_str(), p.label.as_str()) {
                (_, "") => p.text.clone(),
                ("1", label) => format!("{label} {}", p.text),
                (_, label) => format!("- {label} {}", p.text),
            });
        }
    }
    let seed = seed();
    let want: Vec<String> = seed.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    for (i, (got, want)) in lines.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "line {i} differs");
    }
    assert_eq!(lines.len(), want.len(), "the data has {} lines, the seed {}", lines.len(), want.len());
}

#[test]
fn typos_of_the_official_text_are_kept() {
    let doc = GuidelineDoc::official();
    // The document writes "Kommentrar" and "mediekanelar"; a quotation keeps them.
    assert!(doc.point("1.10").unwrap().text.starts_with("Kommentrar frå andre"));
    assert!(doc.point("3g").unwrap().text.contains("sosiale mediekanelar"));
}
