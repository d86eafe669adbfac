//! The question search engine: finds the guideline points that answer a staff question in
//! Nynorsk, Bokmål or English, or declines when the guidelines do not cover it.
//!
//! Two retrievers are fused: the concept engine ([`index`], over the bridge vocabulary in
//! `prompts/search/*.toml`: see [`text`] and [`vocab`]) and the example memory ([`memory`], the
//! labelled questions in `prompts/search/examples/`, plus any a caller adds). [`fusion`] fuses
//! their rankings and decides (decline, "not sure", whom to ask) with the settings in
//! `prompts/search/calibration.toml`, which [`fit`] fits by cross-validation (`somebot eval
//! --folds 5 --write-calibration`). Deterministic and offline; everything is embedded at build
//! time and built once, on first use.

pub(crate) mod fit;
pub(crate) mod fusion;
mod index;
pub(crate) mod memory;
mod text;
#[cfg(test)]
mod tuning;
mod vocab;

use std::collections::BTreeMap;

use once_cell::sync::Lazy;
use serde::Deserialize;

use crate::guideline::GuidelineDoc;
use crate::i18n::Locale;
use fusion::{Calibration, ConceptSignals, Decision, Signals};
use index::{Engine, Ranked};
pub use memory::{Example, ExampleMemory};
use vocab::Lexicon;

/// One matching point and its score (higher is better, rounded to two decimals).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub id: String,
    pub score: f64,
}

/// The answer to a question.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchOutcome {
    pub declined: bool,
    /// At most three points, best first; empty exactly when declined. The first is the answer.
    pub results: Vec<Hit>,
    /// The first point does not clearly stand out: show it, and offer `alternatives`.
    pub uncertain: bool,
    /// When uncertain, the next candidates after the first, best first (at most four).
    pub alternatives: Vec<Hit>,
    /// When declined, whom to ask instead (`personnel`, `it`, `website`, `guideline`; see
    /// `prompts/search/topics.toml`), or `None` when there is nobody to name.
    pub topic: Option<String>,
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

/// The built-in examples by language (`nn`, `nb`, `en`), as in `prompts/search/examples/`.
pub fn builtin_examples() -> Vec<(&'static str, Vec<Example>)> {
    vec![
        ("nn", memory::parse_examples(include_str!("../../prompts/search/examples/nn.toml"), "nn.toml")),
        ("nb", memory::parse_examples(include_str!("../../prompts/search/examples/nb.toml"), "nb.toml")),
        ("en", memory::parse_examples(include_str!("../../prompts/search/examples/en.toml"), "en.toml")),
    ]
}

static MEMORY: Lazy<ExampleMemory> = Lazy::new(|| {
    let all = builtin_examples().into_iter().flat_map(|(_, ex)| ex).collect();
    ExampleMemory::new(all, GuidelineDoc::official())
});

static CALIBRATION: Lazy<Calibration> =
    Lazy::new(|| Calibration::parse(include_str!("../../prompts/search/calibration.toml")));

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicSpec {
    /// Out-of-scope signal groups of scope.toml (`oos:pay`) that point to this topic.
    signals: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsFile {
    topics: BTreeMap<String, TopicSpec>,
}

/// The topics of whom to ask: name, and the concept ids of its out-of-scope signals.
static TOPICS: Lazy<Vec<(String, Vec<usize>)>> = Lazy::new(|| {
    let file: TopicsFile = match toml::from_str(include_str!("../../prompts/search/topics.toml")) {
        Ok(f) => f,
        Err(e) => panic!("embedded search topics.toml is invalid: {e}"),
    };
    file.topics
        .into_iter()
        .map(|(name, spec)| {
            let ids = spec
                .signals
                .iter()
                .map(|s| match ENGINE.lex.concept_id(s) {
                    Some(id) if ENGINE.lex.concepts[id].out_of_scope => id,
                    _ => panic!("topics.toml: {s} is not an out-of-scope signal of scope.toml"),
                })
                .collect();
            (name, ids)
        })
        .collect()
});

/// The topic names of `prompts/search/topics.toml`.
pub fn topics() -> Vec<&'static str> {
    TOPICS.iter().map(|(n, _)| n.as_str()).collect()
}

/// The built-in example memory.
pub fn builtin_memory() -> &'static ExampleMemory {
    &MEMORY
}

/// What the concept engine makes of a question (independent of any memory).
pub(crate) fn concept_signals(question: &str) -> ConceptSignals {
    let engine = &*ENGINE;
    let r = &engine.lex.ranking;
    let q = engine.query(capped(question));
    let damp = r.out_of_scope_factor.powf(q.out_of_scope);
    let ranked: Vec<Ranked> = engine.rank(&q).into_iter().map(|(d, s)| (d, s * damp)).collect();
    let best = ranked.first().map_or(0.0, |&(_, s)| s);
    let floor = if q.domain { r.min_score } else { r.min_score_without_domain };
    let declined = best < floor || (q.out_of_scope > 0.0 && !q.domain);
    let mut by_topic: Vec<(f64, &str)> = TOPICS
        .iter()
        .map(|(name, ids)| (ids.iter().filter_map(|c| q.terms.get(c)).sum::<f64>(), name.as_str()))
        .filter(|&(w, _)| w > 0.0)
        .collect();
    by_topic.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    ConceptSignals {
        ranked,
        declined,
        best,
        domain: q.domain,
        out_of_scope: q.out_of_scope,
        named: q.named,
        topic: by_topic.first().map(|(_, t)| t.to_string()),
    }
}

/// Both retrievers' signals for a question.
pub(crate) fn signals(concept: ConceptSignals, question: &str, memory: &ExampleMemory) -> Signals {
    Signals { concept, neighbours: memory.neighbours(capped(question)) }
}

fn hit(p: usize, score: f64) -> Hit {
    Hit { id: ENGINE.id(p).to_string(), score: (score * 100.0).round() / 100.0 }
}

/// The outcome of a decision.
pub(crate) fn outcome(d: &Decision) -> SearchOutcome {
    let hits = |v: &[(usize, f64)]| v.iter().map(|&(p, s)| hit(p, s)).collect();
    SearchOutcome {
        declined: d.declined,
        results: hits(&d.results),
        uncertain: d.uncertain,
        alternatives: hits(&d.alternatives),
        topic: d.topic.clone(),
    }
}

/// Decides with a given calibration (cross-validation fits one per fold).
pub(crate) fn search_calibrated(question: &str, memory: &ExampleMemory, cal: &Calibration) -> SearchOutcome {
    let sig = signals(concept_signals(question), question, memory);
    outcome(&fusion::decide(&sig, memory, cal))
}

/// Finds the points that answer `question`, or declines, with the built-in example memory.
pub fn search(question: &str) -> SearchOutcome {
    search_with(question, &MEMORY)
}

/// Finds the points that answer `question` with `memory` as the example memory (the built-in
/// one extended with a server's confirmed questions: [`ExampleMemory::with_extra`]).
///
/// Declines when the calibrated decline rule finds the question out of scope; otherwise returns
/// up to three points, the points the question names by id first. When the first point does
/// not clearly stand out, `uncertain` is set and the next candidates are in `alternatives`.
pub fn search_with(question: &str, memory: &ExampleMemory) -> SearchOutcome {
    search_calibrated(question, memory, &CALIBRATION)
}

/// A server's memory: the built-in one with its confirmed examples, and those examples by
/// their words (see [`search_with_examples`]).
#[derive(Debug)]
struct ServerMemory {
    memory: ExampleMemory,
    /// The words of a confirmed question, joined by spaces → its points (the last confirmed
    /// wins; empty: out of scope).
    exact: std::collections::HashMap<String, Vec<String>>,
}

/// The words of a question as one key (case, accents and punctuation folded away).
fn exact_key(question: &str) -> String {
    text::words(capped(question)).join(" ")
}

/// Built memories of servers' confirmed examples, by a fingerprint of those examples; the few
/// most recently built are kept.
static SERVER_MEMORIES: Lazy<std::sync::Mutex<Vec<KeptMemory>>> = Lazy::new(|| std::sync::Mutex::new(Vec::new()));

/// A built server memory and the fingerprint of its extra examples.
type KeptMemory = (u64, std::sync::Arc<ServerMemory>);

/// How many server memories are kept built.
const KEPT_MEMORIES: usize = 8;

/// Finds the points that answer `question` with the built-in memory plus `extra` examples (a
/// server's questions its officers confirmed in `/guideline review`). The extended memory is
/// built once per set of examples and kept, keyed by their content: a confirmation changes the
/// key, so the next question searches a memory that includes it, and no write needs to tell
/// this cache. Without extra examples this is [`search`].
///
/// The officers' word on a confirmed question itself is final: asked again (the same words,
/// whatever the case, accents or punctuation), it gets the points they confirmed first, or is
/// declined when they marked it out of scope. Other questions are only swayed by the new
/// examples, in the fused vote: one example among thousands need not carry it.
pub fn search_with_examples(question: &str, extra: &[Example]) -> SearchOutcome {
    if extra.is_empty() {
        return search(question);
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    extra.hash(&mut h);
    let key = h.finish();
    let found = {
        let kept = SERVER_MEMORIES.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().find(|(k, _)| *k == key).map(|(_, m)| m.clone())
    };
    let server = match found {
        Some(m) => m,
        None => {
            let exact = extra.iter().map(|e| (exact_key(&e.text), e.points.clone())).filter(|(k, _)| !k.is_empty());
            let m = std::sync::Arc::new(ServerMemory { memory: MEMORY.with_extra(extra), exact: exact.collect() });
            let mut kept = SERVER_MEMORIES.lock().unwrap_or_else(|e| e.into_inner());
            kept.retain(|(k, _)| *k != key);
            if kept.len() >= KEPT_MEMORIES {
                kept.remove(0);
            }
            kept.push((key, m.clone()));
            m
        }
    };
    let out = search_with(question, &server.memory);
    let Some(points) = server.exact.get(&exact_key(question)) else {
        return out;
    };
    if points.is_empty() {
        return SearchOutcome {
            declined: true,
            results: Vec::new(),
            uncertain: false,
            alternatives: Vec::new(),
            ..out
        };
    }
    let score = out.results.first().map_or(1.0, |h| h.score);
    let mut results: Vec<Hit> = points.iter().map(|p| Hit { id: p.clone(), score }).collect();
    results.extend(out.results.into_iter().filter(|h| !points.contains(&h.id)));
    results.truncate(3.max(points.len()));
    SearchOutcome { declined: false, results, uncertain: false, alternatives: Vec::new(), topic: None }
}

/// Suggestions while a question is being typed: the last word may be incomplete and is matched
/// as a prefix. Never declines; returns at most `limit` points, best first (concept engine
/// only: a half-typed question has too few letters for the example memory).
pub fn suggest(partial: &str, limit: usize) -> Vec<Hit> {
    let engine = &*ENGINE;
    let q = engine.partial_query(capped(partial));
    engine.rank(&q).into_iter().take(limit).map(|(d, s)| hit(d, s)).collect()
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
    fn a_servers_examples_join_its_memory_and_a_change_is_seen_at_once() {
        let q = "Kan eg bruke namnet til ein brukar i eit innlegg?";
        assert_eq!(search_with_examples(q, &[]), search(q));
        let first = |extra: &[Example]| search_with_examples(q, extra).results.first().map(|h| h.id.clone());
        let before = first(&[]).expect("answered");
        let taught = if before == "1.4" { "2i" } else { "1.4" };
        let mut extra = vec![Example::answered_by(q, &[taught])];
        assert_eq!(first(&extra).as_deref(), Some(taught));
        // The same set again is served from the kept memory, with the same answer.
        assert_eq!(first(&extra).as_deref(), Some(taught));
        // The officers change their mind: the new set is a new memory, not the kept one.
        let other = if taught == "2i" { "1.4" } else { "2i" };
        extra[0] = Example::answered_by(q, &[other]);
        assert_eq!(first(&extra).as_deref(), Some(other));
        // Marked out of scope, it is declined.
        extra[0] = Example::out_of_scope(q, None);
        assert!(search_with_examples(q, &extra).declined);
        // Another server's set does not leak into the built-in search.
        assert_eq!(first(&[]), Some(before));
        // A question like the taught one, in other words, is swayed by it through the memory.
        let like = "Kan eg skrive namnet til ein brukar i eit innlegg på Facebook?";
        let top = |extra: &[Example]| search_with_examples(like, extra).results[0].id.clone();
        assert_ne!(top(&[]), "1.4");
        assert_eq!(top(&[Example::answered_by(q, &["1.4"])]), "1.4");
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
