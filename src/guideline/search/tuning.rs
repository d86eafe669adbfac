//! Tuning aids for the search engine, run by hand:
//! `cargo test --lib search::tuning -- --ignored --nocapture`. They print how questions are
//! analysed and ranked, the score distribution used to calibrate `min_score`, word and compound
//! analyses, and the start-up time. They assert nothing and are not part of the normal test run.
//! `SOMEBOT_EXPLAIN` picks the question set to explain, `SOMEBOT_WORDS` the words to trace.

use super::*;

fn dev_set() -> String {
    format!("{}/../shared/eval/guideline-questions.dev.jsonl", env!("CARGO_MANIFEST_DIR"))
}

fn holdout_set() -> String {
    format!("{}/tests/fixtures/guideline-questions.holdout.jsonl", env!("CARGO_MANIFEST_DIR"))
}

/// The questions of a JSON Lines set with their expected ids.
fn questions(path: &str) -> Vec<(String, serde_json::Value)> {
    let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    src.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            (v["q"].as_str().unwrap_or_default().to_string(), v["expect"].clone())
        })
        .collect()
}

/// Prints each question's terms and its four best points.
#[test]
#[ignore]
fn explain_questions() {
    let path = std::env::var("SOMEBOT_EXPLAIN").unwrap_or_else(|_| dev_set());
    for (qs, expect) in questions(&path) {
        let q = ENGINE.query(&qs);
        let terms: Vec<String> = q.terms.iter().map(|(t, w)| format!("{}={w:.1}", ENGINE.term_name(*t))).collect();
        let ranked: Vec<String> =
            ENGINE.rank(&q).into_iter().take(4).map(|(d, s)| format!("{}:{s:.2}", ENGINE.id(d))).collect();
        println!("{qs}\n  expect {expect} | {}\n  {}\n", ranked.join(" "), terms.join(" "));
    }
}

/// Prints the lowest best scores of in-scope questions and the best scores of out-of-scope ones
/// (after damping), over the dev and holdout sets: `min_score` belongs in the gap.
#[test]
#[ignore]
fn best_scores() {
    let r = &ENGINE.lex.ranking;
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for (qs, expect) in questions(&dev_set()).into_iter().chain(questions(&holdout_set())) {
        let q = ENGINE.query(&qs);
        let damp = r.out_of_scope_factor.powf(q.out_of_scope);
        let best = ENGINE.rank(&q).first().map_or(0.0, |&(_, s)| s * damp);
        let row = (best, q.domain, qs);
        if expect.as_array().is_some_and(|a| a.is_empty()) {
            outside.push(row);
        } else {
            inside.push(row);
        }
    }
    inside.sort_by(|a, b| a.0.total_cmp(&b.0));
    outside.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (s, domain, q) in inside.iter().take(12) {
        println!("in  {s:6.2} domain={domain} {q}");
    }
    for (s, domain, q) in &outside {
        println!("out {s:6.2} domain={domain} {q}");
    }
}

/// Prints how each word of `SOMEBOT_WORDS` is analysed on its own.
#[test]
#[ignore]
fn trace_words() {
    let text = std::env::var("SOMEBOT_WORDS").unwrap_or_default();
    for w in text::words(&text) {
        let piece = ENGINE.lex.resolve(&w, &|_| false);
        println!("{w:>20} -> {piece:?}");
    }
}

/// Prints every word of the guideline and the question sets that is read as a compound.
#[test]
#[ignore]
fn trace_compounds() {
    let mut text = String::new();
    for d in [GuidelineDoc::official(), GuidelineDoc::for_locale(Locale::En)] {
        for p in &d.points {
            text.push_str(&p.text);
            text.push(' ');
        }
    }
    for (q, _) in questions(&dev_set()).into_iter().chain(questions(&holdout_set())) {
        text.push_str(&q);
        text.push(' ');
    }
    let lex = &ENGINE.lex;
    let mut seen = std::collections::BTreeSet::new();
    for w in text::words(&text) {
        let plain = lex.is_form(&w) || lex.inflected(&w).is_some() || lex.resolve(&w, &|_| true).is_none();
        if plain || !seen.insert(w.clone()) {
            continue;
        }
        if let Some(cs) = lex.compound(&w) {
            let names: Vec<&str> = cs.iter().map(|&c| lex.concepts[c].name.as_str()).collect();
            println!("{w:>24} -> {names:?}");
        }
    }
}

/// Prints how long building the engine takes (run with --release for real figures).
#[test]
#[ignore]
fn build_time() {
    let t = std::time::Instant::now();
    let _ = search("x");
    println!("engine built and first question answered in {:?}", t.elapsed());
}

/// Prints the concepts each point gets from its own text (nn and en) and keyword lines, to
/// spot words read in the wrong sense.
#[test]
#[ignore]
fn text_concepts() {
    let en = GuidelineDoc::for_locale(Locale::En);
    for p in &GuidelineDoc::official().points {
        let mut text = p.text.clone();
        if let Some(e) = en.point(&p.id) {
            text.push(' ');
            text.push_str(&e.text);
        }
        let mut names = std::collections::BTreeSet::new();
        for piece in ENGINE.lex.analyze(&text::words(&text), &|_| true) {
            if let vocab::Piece::Concepts(cs) = piece {
                names.extend(cs.iter().map(|&c| ENGINE.lex.concepts[c].name.clone()));
            }
        }
        println!("{:>4}: {names:?}", p.id);
    }
}

/// Prints the bare stems the imperative rule adds (`slett` for `slette`), to spot collisions.
#[test]
#[ignore]
fn bare_stems() {
    let lex = &ENGINE.lex;
    let mut out = Vec::new();
    for f in lex.forms_with_prefix("") {
        if let Some(stem) = f.strip_suffix('e') {
            if stem.chars().count() >= text::BARE_STEM_MIN_LEN && !lex.is_form(stem) {
                let names: Vec<&str> = lex.form_concepts(f).iter().map(|&c| lex.concepts[c].name.as_str()).collect();
                out.push(format!("{stem}({})", names.join(",")));
            }
        }
    }
    println!("{}", out.join(" "));
}

/// Prints the words of the question sets that resolve to no concept (most frequent first): the
/// candidates for new vocabulary or stopwords.
#[test]
#[ignore]
fn unresolved_words() {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (q, _) in questions(&dev_set()).into_iter().chain(questions(&holdout_set())) {
        for piece in ENGINE.lex.analyze(&text::words(&q), &|_| false) {
            if let vocab::Piece::Word(w) = piece {
                *counts.entry(w).or_default() += 1;
            }
        }
    }
    let mut rows: Vec<(usize, String)> = counts.into_iter().map(|(w, n)| (n, w)).collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let line: Vec<String> = rows.iter().map(|(n, w)| format!("{w}:{n}")).collect();
    println!("{}", line.join(" "));
}

/// Prints suggestions for a few half-typed questions.
#[test]
#[ignore]
fn suggestions() {
    for p in [
        "kan eg sle",
        "samty",
        "who approv",
        "bilete av elev",
        "trus",
        "jobbm",
        "kan vi bruke musik",
        "ordf",
        "lønn",
        "jobbmai",
        "kommentarfel",
        "instakon",
    ] {
        println!("{p:>22} -> {:?}", suggest(p, 5).iter().map(|h| format!("{}:{}", h.id, h.score)).collect::<Vec<_>>());
    }
}
