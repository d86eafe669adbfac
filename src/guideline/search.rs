//! Placeholder search (word overlap); replaced by the real engine.

use crate::guideline::GuidelineDoc;
use crate::i18n::Locale;

/// One matching point.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub id: String,
    pub score: f64,
}

/// The answer to a question.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchOutcome {
    pub declined: bool,
    pub results: Vec<Hit>,
}

/// Searches the guideline.
pub fn search(question: &str) -> SearchOutcome {
    let mut results = suggest(question, 3);
    results.retain(|h| h.score >= 2.0);
    SearchOutcome { declined: results.is_empty(), results }
}

/// Suggestions while typing.
pub fn suggest(partial: &str, limit: usize) -> Vec<Hit> {
    let words: Vec<String> =
        partial.to_lowercase().split_whitespace().filter(|w| w.len() > 3).map(str::to_string).collect();
    let mut hits: Vec<Hit> = Vec::new();
    for locale in Locale::ALL {
        for p in &GuidelineDoc::for_locale(locale).points {
            let text = p.text.to_lowercase();
            let score = words.iter().filter(|w| text.contains(w.as_str())).count() as f64;
            if score > 0.0 && !hits.iter().any(|h| h.id == p.id) {
                hits.push(Hit { id: p.id.clone(), score });
            }
        }
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits.truncate(limit);
    hits
}
