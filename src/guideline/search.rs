//! The question search engine: finds the guideline points that answer a staff question in
//! Nynorsk, Bokmål or English, or declines when the guidelines do not cover it.
//!
//! Deterministic and offline: the vocabulary that bridges everyday words to the document lives in
//! `prompts/search/*.toml` and is embedded at build time; the index is built once, on first use.
//! See [`text`] for spelling folding, [`vocab`] for the analyser and [`index`] for the ranking.

mod index;
mod text;
#[cfg(test)]
mod tuning;
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

/// Only the start of a very long question is read (a question is a sentence or two; this keeps
/// a pasted essay from costing more than a few milliseconds).
const MAX_QUESTION_CHARS: usize = 2000;

/// `text` cut to at most [`MAX_QUESTION_CHARS`] characters.
fn capped(text: &str) -> &str {
    text.char_indices().nth(MAX_QUESTION_CHARS).map_or(text, |(i, _)| &text[..i])
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
    let q = engine.query(capped(question));
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
    let q = engine.partial_query(capped(partial));
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
        // A compound being typed: a known first part and the rest as a prefix.
        assert_eq!(suggest("kan eg bruke jobbmai", 1).first().map(|h| h.id.as_str()), Some("3f"));
        assert_eq!(suggest("kommentar", 1).len(), 1);
        assert!(suggest("", 3).is_empty());
    }

    #[test]
    fn long_and_odd_input_is_safe() {
        let long = "Kan eg slette kommentarar? ".repeat(2000);
        let t = std::time::Instant::now();
        let out = search(&long);
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(out.results.first().map(|h| h.id.as_str()), Some("1.10"));
        for q in ["🙂🙂🙂", "ÆØÅ æøå", "---", "e-", "@@@", "x", "1.10", "ﬁ ß İ", "\u{0}"] {
            let _ = search(q);
            let _ = suggest(q, 3);
        }
    }

    #[test]
    fn a_named_point_comes_first() {
        assert_eq!(top("Kva seier punkt 2e?")[0], "2e");
        assert_eq!(top("what does 3H say about threats")[0], "3h");
        assert_eq!(top("(1.10) kommentarar")[0], "1.10");
        // The autocomplete sends a chosen point back as "<id> <text>", clipped to 100 characters.
        for locale in Locale::ALL {
            for p in &GuidelineDoc::for_locale(locale).points {
                let value: String = format!("{} {}", p.id, p.text.replace('\n', " ")).chars().take(100).collect();
                assert_eq!(top(&value).first(), Some(&p.id), "{value}");
            }
        }
        // Numbers that are not point ids are just numbers.
        assert!(search("17. mai 2.5 4b").declined);
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
