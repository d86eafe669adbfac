//! The search index over the guideline points and the ranking.
//!
//! Each point is a bag of terms: the concepts annotated for it in `prompts/search/points.toml`,
//! plus whatever the analyser finds in its official Nynorsk text, its English translation and
//! its keyword lines (nn, nb, en), less the concepts its `not` list names. Terms are concepts
//! or, for words the vocabulary does not know, light stems; a term counts once per text.
//! A question is analysed the same way and ranked with BM25. On top of that, `points.toml`
//! holds combination boosts (a point whose defining pair of concepts both occur), section
//! contexts (a question about a private profile favours section 3) and `requires` conditions
//! (the preamble only answers questions about the guidelines themselves). The caller
//! ([`super::search`]) damps scores for out-of-scope signals and decides whether to decline.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::text::{is_typo, light_stem, words};
use super::vocab::{Lexicon, Piece, Ranking};
use crate::guideline::GuidelineDoc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointSpec {
    /// Concept name → weight (how central the concept is to the point).
    concepts: BTreeMap<String, f64>,
    /// Concepts the analyser finds in the point's text in another sense, left out of its index
    /// (3g's "ver kritisk til" is not about criticism).
    #[serde(default)]
    not: Vec<String>,
    /// When given, the point only matches questions with at least one of these concepts.
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    nn: String,
    #[serde(default)]
    nb: String,
    #[serde(default)]
    en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Combo {
    /// All of these concepts must occur in the question.
    all: Vec<String>,
    point: String,
    bonus: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextSpec {
    /// Any of these concepts in a question sets the context.
    any: Vec<String>,
    /// The guideline section that context belongs to.
    section: String,
    factor: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsFile {
    points: BTreeMap<String, PointSpec>,
    #[serde(default)]
    combos: Vec<Combo>,
    #[serde(default)]
    contexts: Vec<ContextSpec>,
}

/// A section context with resolved ids: when any concept occurs, the section's points are
/// scaled by `factor`.
#[derive(Debug)]
struct Context {
    any: Vec<usize>,
    docs: Vec<usize>,
    factor: f64,
}

/// One indexed point.
#[derive(Debug)]
struct Doc {
    id: String,
    tf: HashMap<usize, f64>,
    len: f64,
    /// Concepts of which a question needs one to match this point (empty: no condition).
    requires: Vec<usize>,
}

/// A combination boost with resolved ids.
#[derive(Debug)]
struct Boost {
    all: Vec<usize>,
    doc: usize,
    bonus: f64,
}

/// An analysed question: term → query weight, and the scope signals seen.
#[derive(Debug, Default)]
pub struct Query {
    pub terms: BTreeMap<usize, f64>,
    /// Points the question names by id (`1.4`, `3h`), in document order.
    pub named: Vec<usize>,
    pub domain: bool,
    /// The summed weight of out-of-scope signals.
    pub out_of_scope: f64,
}

/// A concept named several times in a question counts at most this many times.
const REPEAT_CAP: f64 = 1.5;

/// A ranked point: index into the document order and score.
pub type Ranked = (usize, f64);

/// The search engine: vocabulary, index and settings.
#[derive(Debug)]
pub struct Engine {
    pub lex: Lexicon,
    /// Light stem of a plain word → term id (after the concept ids).
    words: HashMap<String, usize>,
    /// The plain-word stems in sorted order (deterministic typo matching).
    word_list: Vec<String>,
    docs: Vec<Doc>,
    idf: Vec<f64>,
    avg_len: f64,
    boosts: Vec<Boost>,
    contexts: Vec<Context>,
}

impl Engine {
    /// Builds the engine from the vocabulary sources and the guideline in both languages.
    pub fn build(lex: Lexicon, points: &str, official: &GuidelineDoc, english: &GuidelineDoc) -> Engine {
        let spec: PointsFile = match toml::from_str(points) {
            Ok(p) => p,
            Err(e) => panic!("embedded search vocabulary points.toml is invalid: {e}"),
        };
        let mut engine = Engine {
            lex,
            words: HashMap::new(),
            word_list: Vec::new(),
            docs: Vec::new(),
            idf: Vec::new(),
            avg_len: 1.0,
            boosts: Vec::new(),
            contexts: Vec::new(),
        };
        let ranking = engine.lex.ranking.clone();
        for point in &official.points {
            let mut tf: HashMap<usize, f64> = HashMap::new();
            // A term counts once per text: a point that repeats a word is not more about it.
            let mut add_text = |engine: &mut Engine, text: &str, weight: f64| {
                let mut terms = engine.index_terms(text);
                terms.sort_unstable();
                terms.dedup();
                for term in terms {
                    *tf.entry(term).or_default() += weight;
                }
            };
            add_text(&mut engine, &point.text, ranking.text_weight);
            if let Some(en) = english.point(&point.id) {
                add_text(&mut engine, &en.text, ranking.text_weight);
            }
            let Some(ps) = spec.points.get(&point.id) else {
                panic!("prompts/search/points.toml has no entry for point {}", point.id);
            };
            for line in [&ps.nn, &ps.nb, &ps.en] {
                add_text(&mut engine, line, ranking.keyword_weight);
            }
            for name in &ps.not {
                tf.remove(&engine.concept_or_panic(name, "a `not` list"));
            }
            for (name, w) in &ps.concepts {
                *tf.entry(engine.concept_or_panic(name, "a point")).or_default() += w;
            }
            let requires = ps.requires.iter().map(|n| engine.concept_or_panic(n, "a `requires` list")).collect();
            let len = tf.values().sum();
            engine.docs.push(Doc { id: point.id.clone(), tf, len, requires });
        }
        if let Some(extra) = spec.points.keys().find(|id| official.point(id).is_none()) {
            panic!("points.toml annotates {extra}, which is not a point of the guideline");
        }
        for combo in &spec.combos {
            let all = combo.all.iter().map(|n| engine.concept_or_panic(n, "combo")).collect();
            let Some(doc) = engine.docs.iter().position(|d| d.id == combo.point) else {
                panic!("points.toml: combo for unknown point {}", combo.point);
            };
            engine.boosts.push(Boost { all, doc, bonus: combo.bonus });
        }
        for ctx in &spec.contexts {
            let any = ctx.any.iter().map(|n| engine.concept_or_panic(n, "context")).collect();
            let docs: Vec<usize> =
                official.points.iter().enumerate().filter(|(_, p)| p.section == ctx.section).map(|(i, _)| i).collect();
            if docs.is_empty() {
                panic!("points.toml: context for unknown section {}", ctx.section);
            }
            engine.contexts.push(Context { any, docs, factor: ctx.factor });
        }
        let n_terms = engine.lex.concepts.len() + engine.words.len();
        let n = engine.docs.len() as f64;
        let mut df = vec![0usize; n_terms];
        for d in &engine.docs {
            for &t in d.tf.keys() {
                df[t] += 1;
            }
        }
        engine.idf = df.iter().map(|&k| (1.0 + (n - k as f64 + 0.5) / (k as f64 + 0.5)).ln()).collect();
        engine.avg_len = engine.docs.iter().map(|d| d.len).sum::<f64>() / n.max(1.0);
        engine.word_list = engine.words.keys().cloned().collect();
        engine.word_list.sort();
        engine
    }

    fn concept_or_panic(&self, name: &str, what: &str) -> usize {
        match self.lex.concept_id(name) {
            Some(c) => c,
            None => panic!("points.toml: {what} names unknown concept {name}"),
        }
    }

    /// Terms of an indexed text; unknown words become plain-word terms.
    fn index_terms(&mut self, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for piece in self.lex.analyze(&words(text), &|_| false) {
            match piece {
                Piece::Concepts(cs) => out.extend(cs),
                Piece::Word(w) => {
                    let stem = light_stem(&w);
                    let next = self.lex.concepts.len() + self.words.len();
                    out.push(*self.words.entry(stem).or_insert(next));
                }
            }
        }
        out
    }

    /// The point ids in document order.
    #[cfg(test)]
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.docs.iter().map(|d| d.id.as_str())
    }

    /// The id of the point at `doc`.
    pub fn id(&self, doc: usize) -> &str {
        &self.docs[doc].id
    }

    /// Adds one analysed piece to a query with weight `scale`.
    fn add_piece(&self, q: &mut Query, piece: &Piece, scale: f64) {
        match piece {
            Piece::Concepts(cs) => {
                for &c in cs {
                    let concept = &self.lex.concepts[c];
                    q.domain |= concept.domain;
                    *q.terms.entry(c).or_default() += concept.weight * scale;
                }
            }
            Piece::Word(w) => {
                if let Some(t) = self.word_term(w) {
                    *q.terms.entry(t).or_default() += self.lex.ranking.word_weight * scale;
                }
            }
        }
    }

    /// The plain-word term for a question word: same light stem, or a typo of one.
    fn word_term(&self, word: &str) -> Option<usize> {
        let stem = light_stem(word);
        if let Some(&t) = self.words.get(&stem) {
            return Some(t);
        }
        self.word_list.iter().find(|w| is_typo(&stem, w)).map(|w| self.words[w])
    }

    /// True for words the guideline's own text uses (by light stem).
    fn is_known(&self, token: &str) -> bool {
        self.words.contains_key(&light_stem(token))
    }

    /// The points a text names by id: `1.4`, `1.10`, `2e`, `3H`, `(3h)`. Bare `0` and `1` are
    /// not read as ids (they are too often just numbers).
    fn named_points(&self, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for raw in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | '?' | '!' | '«' | '»'))
        {
            let cand = raw.trim_end_matches(['.', ')']);
            let mut chars = cand.chars();
            let shaped = match (chars.next(), chars.next()) {
                (Some(d), Some('.')) => {
                    d.is_ascii_digit() && chars.clone().count() > 0 && chars.all(|c| c.is_ascii_digit())
                }
                (Some(d), Some(l)) => d.is_ascii_digit() && l.is_ascii_alphabetic() && chars.next().is_none(),
                _ => false,
            };
            if !shaped {
                continue;
            }
            let id = cand.to_ascii_lowercase();
            if let Some(i) = self.docs.iter().position(|d| d.id == id) {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Analyses a full question.
    pub fn query(&self, question: &str) -> Query {
        let mut q = Query { named: self.named_points(question), ..Query::default() };
        for piece in self.lex.analyze(&words(question), &|t| self.is_known(t)) {
            self.add_piece(&mut q, &piece, 1.0);
        }
        self.finish(q)
    }

    /// Analyses text being typed: the last word may be incomplete and is matched as a prefix of
    /// known forms and guideline words.
    pub fn partial_query(&self, partial: &str) -> Query {
        let mut tokens = words(partial);
        let complete = partial.chars().last().is_none_or(|c| !c.is_alphanumeric());
        let last = if complete { None } else { tokens.pop() };
        let mut q = Query::default();
        for piece in self.lex.analyze(&tokens, &|t| self.is_known(t)) {
            self.add_piece(&mut q, &piece, 1.0);
        }
        if let Some(last) = last.filter(|l| l.chars().count() >= 2) {
            // The word as typed may already be complete.
            let whole = self.lex.resolve(&last, &|t| self.is_known(t));
            if let Some(p) = &whole {
                self.add_piece(&mut q, p, 1.0);
            }
            // Every distinct completion (concept or guideline word) shares the weight of one word,
            // so a short prefix with many completions cannot outweigh the words before it.
            let mut completions: Vec<usize> = Vec::new();
            for form in self.lex.forms_with_prefix(&last) {
                completions.extend(self.lex.form_concepts(form));
            }
            completions.extend(self.word_list.iter().filter(|w| w.starts_with(last.as_str())).map(|w| self.words[w]));
            if !matches!(whole, Some(Piece::Concepts(_))) {
                // A compound being typed (`jobbm…`): a known first part, and the rest as a prefix.
                let cuts: Vec<usize> = last.char_indices().map(|(b, _)| b).skip(3).collect();
                if let Some(&cut) = cuts.iter().rev().find(|&&b| self.lex.is_form(&last[..b])) {
                    completions.extend(self.lex.form_concepts(&last[..cut]));
                    let rest = last[cut..].trim_start_matches(['s', 'e']);
                    if rest.chars().count() >= 2 {
                        for form in self.lex.forms_with_prefix(rest) {
                            completions.extend(self.lex.form_concepts(form));
                        }
                    }
                }
            }
            completions.sort_unstable();
            completions.dedup();
            let share = if whole.is_some() { 0.5 } else { 1.0 } / completions.len().max(1) as f64;
            for t in completions {
                let unit = self.lex.concepts.get(t).map_or(self.lex.ranking.word_weight, |c| c.weight);
                *q.terms.entry(t).or_default() += unit * share;
            }
        }
        self.finish(q)
    }

    /// Caps repeated terms (two words for the same concept count one and a half times) and
    /// sums the out-of-scope signals.
    fn finish(&self, mut q: Query) -> Query {
        // Naming a point is as clear a sign of the guideline's subject as any word.
        q.domain |= !q.named.is_empty();
        for (&t, w) in q.terms.iter_mut() {
            let unit = match self.lex.concepts.get(t) {
                Some(c) => c.weight,
                None => self.lex.ranking.word_weight,
            };
            *w = w.min(REPEAT_CAP * unit);
        }
        q.out_of_scope = q
            .terms
            .iter()
            .filter(|(&t, _)| t < self.lex.concepts.len() && self.lex.concepts[t].out_of_scope)
            .map(|(_, w)| w)
            .sum();
        q
    }

    /// BM25 scores with combination boosts and section contexts, best first, zero scores left
    /// out.
    pub fn rank(&self, q: &Query) -> Vec<Ranked> {
        let r: &Ranking = &self.lex.ranking;
        let mut out: Vec<Ranked> = self
            .docs
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                q.named.contains(i) || d.requires.is_empty() || d.requires.iter().any(|c| q.terms.contains_key(c))
            })
            .map(|(i, d)| {
                let norm = r.k1 * (1.0 - r.b + r.b * d.len / self.avg_len);
                let mut s: f64 = q
                    .terms
                    .iter()
                    .filter_map(|(t, qw)| {
                        let tf = *d.tf.get(t)?;
                        Some(qw * self.idf[*t] * tf * (r.k1 + 1.0) / (tf + norm))
                    })
                    .sum();
                for b in self.boosts.iter().filter(|b| b.doc == i) {
                    if b.all.iter().all(|c| q.terms.contains_key(c)) {
                        s += b.bonus;
                    }
                }
                for ctx in self.contexts.iter().filter(|c| c.docs.contains(&i)) {
                    if ctx.any.iter().any(|c| q.terms.contains_key(c)) {
                        s *= ctx.factor;
                    }
                }
                if q.named.contains(&i) {
                    s += r.named_bonus;
                }
                (i, s)
            })
            .filter(|&(_, s)| s > 0.0)
            .collect();
        // Stable order: score, then document order.
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

impl Engine {
    /// A readable name for a term (concept name or `w:stem`), for tuning output.
    #[cfg(test)]
    pub fn term_name(&self, t: usize) -> String {
        if let Some(c) = self.lex.concepts.get(t) {
            return c.name.clone();
        }
        self.words.iter().find(|(_, &id)| id == t).map_or_else(|| format!("#{t}"), |(w, _)| format!("w:{w}"))
    }
}
