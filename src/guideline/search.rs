//! The question search engine: finds the guideline points that answer a staff question in
//! Nynorsk, Bokmål or English, or declines when the guidelines do not cover it.
//!
//! Deterministic and offline: the vocabulary that bridges everyday words to the document lives in
//! `prompts/search/*.toml` and is embedded at build time; the index is built once, on first use.
//! See [`text`] for spelling folding, [`vocab`] for the analyser and [`index`] for the ranking.

mod index;
mod text;
mod vocab;

use once_cell::sync::Lazy;

use crate::guideline::GuidelineDoc;
use crate::i18n::Locale;
use index::{Engine, Ranked};
use vocab::Lexicon;

/// One matching point and its score (higher is better, rounded to two decimals).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub id: String,
    pub score: f64,
}

/// The answer to a question: at most three results, best first; empty exactly when declined.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchOutcome {
    pub declined: bool,
    pub results: Vec<Hit>,
}

static ENGINE: Lazy<Engine> = Lazy::new(|| {
    let lex = Lexicon::from_sources(
        include_str!("../../prompts/search/lexicon.toml"),
        include_str!("../../prompts/search/scope.toml"),
        include_str!("../../prompts/search/stopwords.toml"),
    );
    Engine::build(
        lex,
        include_str!("../../prompts/search/points.toml"),
        GuidelineDoc::official(),
        GuidelineDoc::for_locale(Locale::En),
    )
});

fn hit(engine: &Engine, (doc, score): Ranked) -> Hit {
    Hit { id: engine.id(doc).to_string(), score: (score * 100.0).round() / 100.0 }
}

/// Finds the points that answer `question`, or declines.
///
/// Declines when the best score is below the calibrated threshold, or when the question carries
/// out-of-scope signals (salary, passwords, the web site's publishing tool...) and nothing about
/// social media. Otherwise returns up to three points, dropping those far below the best.
pub fn search(question: &str) -> SearchOutcome {
    let engine = &*ENGINE;
    let r = &engine.lex.ranking;
    let q = engine.query(question);
    let damp = r.out_of_scope_factor.powf(q.out_of_scope);
    let ranked: Vec<Ranked> = engine.rank(&q).into_iter().map(|(d, s)| (d, s * damp)).collect();
    let best = ranked.first().map_or(0.0, |&(_, s)| s);
    let floor = if q.domain { r.min_score } else { r.min_score_without_domain };
    if best < floor || (q.out_of_scope > 0.0 && !q.domain) {
        return SearchOutcome { declined: true, results: Vec::new() };
    }
    let results = ranked
        .into_iter()
        .take_while(|&(_, s)| s >= best * r.relative_cut)
        .take(r.max_results)
        .map(|rk| hit(engine, rk))
        .collect();
    SearchOutcome { declined: false, results }
}

/// Suggestions while a question is being typed: the last word may be incomplete and is matched
/// as a prefix. Never declines; returns at most `limit` points, best first.
pub fn suggest(partial: &str, limit: usize) -> Vec<Hit> {
    let engine = &*ENGINE;
    let q = engine.partial_query(partial);
    engine.rank(&q).into_iter().take(limit).map(|rk| hit(engine, rk)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(q: &str) -> Vec<String> {
        search(q).results.into_iter().map(|h| h.id).collect()
    }

    #[test]
    fn vocabulary_loads_and_covers_every_point() {
        let ids: Vec<&str> = ENGINE.ids().collect();
        let doc: Vec<&str> = GuidelineDoc::official().ids().collect();
        assert_eq!(ids, doc);
    }

    /// Prints how each dev-set question is analysed and ranked (tuning aid).
    #[test]
    #[ignore]
    fn explain_dev_set() {
        let path = std::env::var("SOMEBOT_EXPLAIN")
            .unwrap_or_else(|_| format!("{}/../shared/eval/guideline-questions.dev.jsonl", env!("CARGO_MANIFEST_DIR")));
        let src = std::fs::read_to_string(path).expect("question set");
        for line in src.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let qs = v["q"].as_str().unwrap_or_default();
            let q = ENGINE.query(qs);
            let terms: Vec<String> = q.terms.iter().map(|(t, w)| format!("{}={w:.1}", ENGINE.term_name(*t))).collect();
            let ranked: Vec<String> =
                ENGINE.rank(&q).into_iter().take(4).map(|(d, s)| format!("{}:{s:.2}", ENGINE.id(d))).collect();
            println!("{qs}\n  expect {} | {}\n  {}\n", v["expect"], ranked.join(" "), terms.join(" "));
        }
    }

    #[test]
    fn declines_empty_input() {
        assert!(search("").declined);
        assert!(search("  ?! ").results.is_empty());
    }

    #[test]
    fn results_are_few_sorted_and_rounded() {
        let out = search("Kan vi slette kommentarar på Facebook-sida?");
        assert!(!out.declined);
        assert!(!out.results.is_empty() && out.results.len() <= 3);
        for pair in out.results.windows(2) {
            assert!(pair[0].score >= pair[1].score);
        }
        for h in &out.results {
            assert_eq!(h.score, (h.score * 100.0).round() / 100.0);
        }
    }

    #[test]
    fn missing_norwegian_letters() {
        assert_eq!(top("Kan eg sletta kommentarar fraa andre paa sida?")[0], "1.10");
        assert_eq!(top("treng vi skriftleg samtykkje for aa poste bilete av bebuarane")[0], "1.4");
        assert_eq!(
            top("gjeld teieplikta naar eg svarar paa vegner av kommunen"),
            top("gjeld teieplikta når eg svarar på vegner av kommunen")
        );
    }

    #[test]
    fn typo() {
        assert_eq!(top("Gjelder taushetspilkt på min private profil?")[0], "3b");
    }

    #[test]
    fn compound_word() {
        assert_eq!(top("Kan eg nytte jobbmailen på privaten?")[0], "3f");
        assert_eq!(top("noen hetser i kommentarfeltet, kan vi slette?")[0], "1.10");
    }

    #[test]
    fn english_question() {
        assert_eq!(top("Who do I tell if I get threats because of my job?")[0], "3h");
    }

    #[test]
    fn bokmaal_question() {
        assert_eq!(top("Må vi ha skriftlig samtykke før vi legger ut bilder av beboere?")[0], "1.4");
    }

    #[test]
    fn out_of_scope_hr_and_it_are_declined() {
        for q in ["Når får vi lønn?", "Korleis byter eg passord på PC-en?", "How many vacation days do I have left?"]
        {
            let out = search(q);
            assert!(out.declined && out.results.is_empty(), "{q}: {out:?}");
        }
    }

    #[test]
    fn suggest_completes_the_last_word() {
        let hits = suggest("kan eg slette komm", 3);
        assert!(!hits.is_empty() && hits.len() <= 3);
        assert!(hits.iter().any(|h| h.id == "1.10" || h.id == "1.11"), "{hits:?}");
        assert!(suggest("trugs", 5).iter().any(|h| h.id == "3h"));
        assert_eq!(suggest("kommentar", 1).len(), 1);
        assert!(suggest("", 3).is_empty());
    }

    #[test]
    fn deterministic() {
        let q = "Kan eg leggje ut bilete frå jobben på Instagram?";
        let first = search(q);
        for _ in 0..5 {
            assert_eq!(search(q), first);
        }
        assert_eq!(suggest("bilete av", 3), suggest("bilete av", 3));
    }
}

#[cfg(test)]
mod calibration {
    use super::*;

    /// Prints the best (damped) score of every question in both sets, to calibrate `min_score`.
    #[test]
    #[ignore]
    fn best_scores() {
        let dev = format!("{}/../shared/eval/guideline-questions.dev.jsonl", env!("CARGO_MANIFEST_DIR"));
        let hold = format!("{}/tests/fixtures/guideline-questions.holdout.jsonl", env!("CARGO_MANIFEST_DIR"));
        let r = &ENGINE.lex.ranking;
        let (mut inside, mut outside) = (Vec::new(), Vec::new());
        for path in [dev, hold] {
            let src = std::fs::read_to_string(path).expect("question set");
            for line in src.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).expect("json");
                let qs = v["q"].as_str().unwrap_or_default().to_string();
                let q = ENGINE.query(&qs);
                let damp = r.out_of_scope_factor.powf(q.out_of_scope);
                let best = ENGINE.rank(&q).first().map_or(0.0, |&(_, s)| s * damp);
                let oos = v["expect"].as_array().is_some_and(|a| a.is_empty());
                let row = (best, q.domain, qs);
                if oos {
                    outside.push(row);
                } else {
                    inside.push(row);
                }
            }
        }
        inside.sort_by(|a, b| a.0.total_cmp(&b.0));
        outside.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (s, d, q) in inside.iter().take(12) {
            println!("in  {s:6.2} {d} {q}");
        }
        for (s, d, q) in &outside {
            println!("out {s:6.2} {d} {q}");
        }
    }
}

#[cfg(test)]
mod word_trace {
    use super::*;

    /// Prints how each word of `SOMEBOT_WORDS` is analysed (tuning aid).
    #[test]
    #[ignore]
    fn trace_words() {
        let text = std::env::var("SOMEBOT_WORDS").unwrap_or_default();
        for w in text::words(&text) {
            let piece = ENGINE.lex.resolve(&w, &|_| false);
            println!("{w:>20} -> {piece:?}");
        }
    }
}

#[cfg(test)]
mod compound_trace {
    use super::*;

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
        for f in [
            format!("{}/../shared/eval/guideline-questions.dev.jsonl", env!("CARGO_MANIFEST_DIR")),
            format!("{}/tests/fixtures/guideline-questions.holdout.jsonl", env!("CARGO_MANIFEST_DIR")),
        ] {
            text.push_str(&std::fs::read_to_string(f).unwrap_or_default());
        }
        let mut seen = std::collections::BTreeSet::new();
        for w in text::words(&text) {
            let lex = &ENGINE.lex;
            let plain = lex.is_form(&w) || lex.inflected(&w).is_some();
            if !plain && lex.resolve(&w, &|_| true).is_some() && lex.compound(&w).is_some() && seen.insert(w.clone()) {
                let names: Vec<String> = ENGINE
                    .lex
                    .compound(&w)
                    .unwrap_or_default()
                    .iter()
                    .map(|&c| ENGINE.lex.concepts[c].name.clone())
                    .collect();
                println!("{w:>24} -> {names:?}");
            }
        }
    }
}

#[cfg(test)]
mod startup {
    /// Prints how long building the engine takes (run with --release for real figures).
    #[test]
    #[ignore]
    fn build_time() {
        let t = std::time::Instant::now();
        let _ = super::search("x");
        println!("engine built and first question answered in {:?}", t.elapsed());
    }
}
