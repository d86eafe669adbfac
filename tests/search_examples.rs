//! The example memory's data (`prompts/search/examples/{nn,nb,en}.toml`): at least 25 example
//! questions per guideline point in each language, and none copied from an evaluation set
//! (`../shared/eval/*.jsonl`, `tests/fixtures/*.jsonl`), which would make the cross-validated
//! figures flatter the engine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use somebot::guideline::search::builtin_examples;
use somebot::guideline::GuidelineDoc;

/// The floor per point and language.
const MIN_PER_POINT: usize = 25;

#[test]
fn every_point_has_enough_examples_in_every_language() {
    let examples = builtin_examples();
    let langs: Vec<&str> = examples.iter().map(|(l, _)| *l).collect();
    assert_eq!(langs, ["nn", "nb", "en"]);
    let ids: Vec<&str> = GuidelineDoc::official().ids().collect();
    assert!(ids.len() >= 30, "{ids:?}");
    let mut short = Vec::new();
    for (lang, list) in &examples {
        let mut per_point: BTreeMap<&str, usize> = BTreeMap::new();
        for e in list {
            for p in &e.points {
                assert!(ids.contains(&p.as_str()), "{lang}: an example names the unknown point {p}: {}", e.text);
                *per_point.entry(p.as_str()).or_default() += 1;
            }
        }
        for id in &ids {
            let n = per_point.get(id).copied().unwrap_or(0);
            if n < MIN_PER_POINT {
                short.push(format!("{lang} {id}: {n}"));
            }
        }
        assert!(list.iter().any(|e| e.points.is_empty()), "{lang} has no out-of-scope examples");
    }
    assert!(short.is_empty(), "points with fewer than {MIN_PER_POINT} examples: {short:?}");
}

/// Case and whitespace folded.
fn normalised(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is needed: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    out.sort();
    out
}

#[test]
fn no_example_is_an_evaluation_question() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<PathBuf> = jsonl_files(&root.join("../shared/eval"))
        .into_iter()
        .chain(jsonl_files(&root.join("tests/fixtures")))
        .collect();
    assert!(files.len() >= 2, "the dev set and the holdout fixture are expected: {files:?}");
    let mut questions = BTreeSet::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("readable");
        for line in src.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            questions.insert(normalised(v["q"].as_str().expect("a q field")));
        }
    }
    assert!(questions.len() >= 300, "{}", questions.len());
    let copies: Vec<String> = builtin_examples()
        .into_iter()
        .flat_map(|(lang, list)| list.into_iter().map(move |e| (lang, e.text)))
        .filter(|(_, text)| questions.contains(&normalised(text)))
        .map(|(lang, text)| format!("{lang}: {text}"))
        .collect();
    assert!(copies.is_empty(), "examples copied from an evaluation set: {copies:?}");
}

#[test]
fn no_example_is_written_twice() {
    for (lang, list) in builtin_examples() {
        let mut seen = BTreeSet::new();
        let twice: Vec<String> =
            list.iter().filter(|e| !seen.insert(normalised(&e.text))).map(|e| e.text.clone()).collect();
        assert!(twice.is_empty(), "{lang}: examples written twice: {twice:?}");
    }
}
