//! The bridge vocabulary from `prompts/search/` and the analyser that turns words into terms.
//!
//! `lexicon.toml` maps everyday surface forms (Nynorsk, Bokmål, English, dialect, slang) to
//! canonical concepts; `scope.toml` adds out-of-scope signals (HR, IT, the web site's tools) and
//! the ranking settings; `stopwords.toml` lists words that carry no meaning for the search.
//! The analyser resolves each word of a text, in this order: multi-word phrase, exact form,
//! stopword, inflected form, compound of known forms, one-edit typo of a known form. Words it
//! cannot resolve are handed back for the index's plain-word matching.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::text::{fold, inflects, is_typo, splits, words, BARE_STEM_MIN_LEN, SUFFIXES, TYPO_MIN_LEN};

/// Compound splitting is tried on words at least this long.
const COMPOUND_MIN_LEN: usize = 6;
/// Longer tokens are not decompounded (they are garbage or URLs).
const COMPOUND_MAX_LEN: usize = 40;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConceptSpec {
    #[serde(default)]
    domain: bool,
    #[serde(default = "one")]
    weight: f64,
    forms: Vec<String>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    concept: BTreeMap<String, ConceptSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutOfScopeSpec {
    forms: Vec<String>,
}

/// Ranking and decline settings, calibrated on the development set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ranking {
    /// BM25 term-frequency saturation.
    pub k1: f64,
    /// BM25 length normalisation.
    pub b: f64,
    /// How much one occurrence in the guideline's own wording counts next to an annotation.
    pub text_weight: f64,
    /// How much one occurrence in a point's keyword lines counts.
    pub keyword_weight: f64,
    /// Query weight of a plain word (not in the vocabulary) that occurs in the guideline.
    pub word_weight: f64,
    /// Below this best score the engine declines.
    pub min_score: f64,
    /// The same for questions with no social-media concept at all: without that context the
    /// engine needs stronger evidence before it answers.
    pub min_score_without_domain: f64,
    /// Scores are multiplied by this once per out-of-scope signal in the question.
    pub out_of_scope_factor: f64,
    /// Added to a point the question names by id (`1.4`, `3h`): the autocomplete sends the
    /// chosen point as `<id> <text>`, and staff ask "what does 2e say?".
    pub named_bonus: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeFile {
    ranking: Ranking,
    out_of_scope: BTreeMap<String, OutOfScopeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StopwordFile {
    nn: Vec<String>,
    nb: Vec<String>,
    en: Vec<String>,
}

/// A canonical concept: an in-domain idea (`comment`, `delete`), or an out-of-scope signal.
#[derive(Debug, Clone)]
pub struct Concept {
    /// The name in the TOML files; read by the tuning traces in tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub name: String,
    /// Marks the question as being about social media (page, post, comment, account...).
    pub domain: bool,
    /// An out-of-scope signal (`oos:salary`).
    pub out_of_scope: bool,
    /// Query-side weight: vague concepts (`own`, `why`) count less.
    pub weight: f64,
}

/// What the analyser made of one word or phrase.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Concepts (indices into [`Lexicon::concepts`]).
    Concepts(Vec<usize>),
    /// A content word the vocabulary does not know (folded).
    Word(String),
}

#[derive(Debug)]
struct Phrase {
    words: Vec<String>,
    concepts: Vec<usize>,
}

/// The loaded vocabulary.
#[derive(Debug)]
pub struct Lexicon {
    pub concepts: Vec<Concept>,
    by_name: HashMap<String, usize>,
    /// Folded one-word form → concepts.
    forms: HashMap<String, Vec<usize>>,
    /// The one-word forms, sorted (deterministic typo and prefix matching).
    form_list: Vec<String>,
    /// Multi-word forms, longest first.
    phrases: Vec<Phrase>,
    /// First word of a phrase → indices into `phrases` (ascending, so longest first).
    phrase_index: HashMap<String, Vec<usize>>,
    /// Typo index (symmetric deletion): a form and each of its one-letter deletions → indices
    /// into `form_list`, with `true` when the key comes from the form without its final `e`
    /// (which then needs an ending, as in [`inflects`]).
    typo_index: HashMap<String, Vec<(usize, bool)>>,
    stop: HashSet<String>,
    pub ranking: Ranking,
}

fn parse<T: serde::de::DeserializeOwned>(src: &str, what: &str) -> T {
    match toml::from_str(src) {
        Ok(v) => v,
        // The files are embedded and checked by tests; a parse failure is a build defect.
        Err(e) => panic!("embedded search vocabulary {what} is invalid: {e}"),
    }
}

impl Lexicon {
    /// Builds the lexicon from the three TOML sources.
    pub fn from_sources(lexicon: &str, scope: &str, stopwords: &str) -> Lexicon {
        let lexicon: LexiconFile = parse(lexicon, "lexicon.toml");
        let scope: ScopeFile = parse(scope, "scope.toml");
        let stopwords: StopwordFile = parse(stopwords, "stopwords.toml");

        let mut lex = Lexicon {
            concepts: Vec::new(),
            by_name: HashMap::new(),
            forms: HashMap::new(),
            form_list: Vec::new(),
            phrases: Vec::new(),
            phrase_index: HashMap::new(),
            typo_index: HashMap::new(),
            stop: HashSet::new(),
            ranking: scope.ranking,
        };
        let groups =
            lexicon.concept.into_iter().map(|(name, c)| (name, c.domain, false, c.weight, c.forms)).chain(
                scope.out_of_scope.into_iter().map(|(name, s)| (format!("oos:{name}"), false, true, 1.0, s.forms)),
            );
        for (name, domain, out_of_scope, weight, forms) in groups {
            let id = lex.concepts.len();
            lex.by_name.insert(name.clone(), id);
            lex.concepts.push(Concept { name, domain, out_of_scope, weight });
            for form in forms {
                let ws = words(&form);
                match ws.len() {
                    0 => {}
                    1 => push_unique(lex.forms.entry(ws[0].clone()).or_default(), id),
                    _ => match lex.phrases.iter_mut().find(|p| p.words == ws) {
                        Some(p) => push_unique(&mut p.concepts, id),
                        None => lex.phrases.push(Phrase { words: ws, concepts: vec![id] }),
                    },
                }
            }
        }
        lex.phrases.sort_by(|a, b| b.words.len().cmp(&a.words.len()).then(a.words.cmp(&b.words)));
        for (i, p) in lex.phrases.iter().enumerate() {
            lex.phrase_index.entry(p.words[0].clone()).or_default().push(i);
        }
        lex.form_list = lex.forms.keys().cloned().collect();
        lex.form_list.sort();
        for (i, form) in lex.form_list.iter().enumerate() {
            let targets = std::iter::once((form.as_str(), false)).chain(form.strip_suffix('e').map(|f| (f, true)));
            for (target, needs_ending) in targets {
                if target.chars().count() < TYPO_MIN_LEN {
                    continue;
                }
                for key in std::iter::once(target.to_string()).chain(deletions(target)) {
                    let slot = lex.typo_index.entry(key).or_default();
                    if !slot.contains(&(i, needs_ending)) {
                        slot.push((i, needs_ending));
                    }
                }
            }
        }
        for w in stopwords.nn.iter().chain(&stopwords.nb).chain(&stopwords.en) {
            lex.stop.insert(fold(w));
        }
        lex
    }

    /// The concept with this name (`comment`, `oos:salary`).
    pub fn concept_id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The one-word forms that start with `prefix`, in sorted order.
    pub fn forms_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        let start = self.form_list.partition_point(|f| f.as_str() < prefix);
        self.form_list[start..].iter().take_while(move |f| f.starts_with(prefix)).map(String::as_str)
    }

    /// True when `token` is a one-word form as it stands.
    pub fn is_form(&self, token: &str) -> bool {
        self.forms.contains_key(token)
    }

    /// The concepts of a one-word form.
    pub fn form_concepts(&self, form: &str) -> &[usize] {
        self.forms.get(form).map_or(&[], Vec::as_slice)
    }

    /// Analyses folded tokens: phrases first, then each remaining word. `known` tells which
    /// words the guideline itself uses: those are never read as typos of other words.
    pub fn analyze(&self, tokens: &[String], known: &dyn Fn(&str) -> bool) -> Vec<Piece> {
        let at: Vec<Option<(&Phrase, usize)>> = (0..tokens.len()).map(|i| self.phrase_at(tokens, i)).collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            if let Some((p, used)) = at[i] {
                // A longer phrase that starts inside this one and reaches past it wins
                // (`som [kommunen si meining]`, not `[som kommunen] si meining`).
                let overtaken = (i + 1..i + used)
                    .any(|j| at[j].is_some_and(|(q, n)| q.words.len() > p.words.len() && j + n > i + used));
                if !overtaken {
                    out.push(Piece::Concepts(p.concepts.clone()));
                    i += used;
                    continue;
                }
            }
            if let Some(piece) = self.resolve(&tokens[i], known) {
                out.push(piece);
            }
            i += 1;
        }
        out
    }

    /// The longest phrase starting at token `i`, and how many tokens it spans. One stopword may
    /// stand between two words of a phrase (`hengt meg ut`, `ta det bort`).
    fn phrase_at(&self, tokens: &[String], i: usize) -> Option<(&Phrase, usize)> {
        let first = &tokens[i];
        // The phrases whose first word `first` can be an inflection of.
        let mut candidates: Vec<usize> = Vec::new();
        let mut add = |key: &str| {
            if let Some(ids) = self.phrase_index.get(key) {
                candidates.extend(ids);
            }
        };
        add(first);
        for (base, _) in splits(first).filter(|(_, s)| !s.is_empty()) {
            add(base);
            add(&format!("{base}e"));
        }
        for (k, _) in first.char_indices().skip(1).take(2) {
            if SUFFIXES.contains(&&first[k..]) {
                add(&first[..k]);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter().find_map(|c| {
            let p = &self.phrases[c];
            let mut at = i;
            for (k, w) in p.words.iter().enumerate() {
                let t = tokens.get(at)?;
                if inflects(t, w) {
                    at += 1;
                    continue;
                }
                let next = tokens.get(at + 1)?;
                if k == 0 || !self.stop.contains(t.as_str()) || !inflects(next, w) {
                    return None;
                }
                at += 2;
            }
            Some((p, at - i))
        })
    }

    /// Resolves one word; `None` for stopwords and words too short to mean anything.
    pub fn resolve(&self, token: &str, known: &dyn Fn(&str) -> bool) -> Option<Piece> {
        if let Some(c) = self.forms.get(token) {
            return Some(Piece::Concepts(c.clone()));
        }
        if self.stop.contains(token) || !token.chars().any(char::is_alphabetic) {
            return None;
        }
        if let Some(c) = self.inflected(token) {
            return Some(Piece::Concepts(c));
        }
        if let Some(c) = self.compound(token) {
            return Some(Piece::Concepts(c));
        }
        if !known(token) {
            if let Some(c) = self.typo(token) {
                return Some(Piece::Concepts(c));
            }
        }
        (token.chars().count() >= 3).then(|| Piece::Word(token.to_string()))
    }

    /// The concepts of `token` read as a form plus an inflection ending (`kommentarane`,
    /// `sletta`), or as the bare stem of a form in -e (`slett`).
    pub fn inflected(&self, token: &str) -> Option<Vec<usize>> {
        if token.chars().count() >= BARE_STEM_MIN_LEN {
            if let Some(c) = self.forms.get(&format!("{token}e")) {
                return Some(c.clone());
            }
        }
        for (base, _) in splits(token).filter(|(_, s)| !s.is_empty()) {
            if let Some(c) = self.forms.get(base) {
                return Some(c.clone());
            }
            if let Some(c) = self.forms.get(&format!("{base}e")) {
                return Some(c.clone());
            }
        }
        None
    }

    /// A typo of a known form (see [`is_typo`]), tried on the word and on its base without an
    /// inflection ending. Out-of-scope signals are never guessed from typos.
    fn typo(&self, token: &str) -> Option<Vec<usize>> {
        if token.chars().count() < TYPO_MIN_LEN {
            return None;
        }
        for (base, suf) in splits(token) {
            let n = base.chars().count();
            if n < TYPO_MIN_LEN {
                continue;
            }
            let mut candidates: Vec<(usize, bool)> = Vec::new();
            for key in std::iter::once(base.to_string()).chain(deletions(base)) {
                if let Some(hits) = self.typo_index.get(&key) {
                    candidates.extend(hits);
                }
            }
            // Sorted form order keeps the choice deterministic.
            candidates.sort_unstable();
            candidates.dedup();
            for (i, needs_ending) in candidates {
                if needs_ending && suf.is_empty() {
                    continue;
                }
                let form = &self.form_list[i];
                let target = if needs_ending { &form[..form.len() - 1] } else { form.as_str() };
                if !is_typo(base, target) {
                    continue;
                }
                let concepts: Vec<usize> =
                    self.forms[form].iter().copied().filter(|&c| !self.concepts[c].out_of_scope).collect();
                if !concepts.is_empty() {
                    return Some(concepts);
                }
            }
        }
        None
    }

    /// Splits a compound into known forms (`kommentarfeltet` → `kommentar` + `felt`,
    /// `jobbmailen` → `jobb` + `mail`), allowing the linking letters `s` and `e`, an unknown
    /// first part before a known head of five letters or more, and an unknown tail of four
    /// letters or more after a known first part of six or more (`kommentarfunksjonen`).
    pub fn compound(&self, token: &str) -> Option<Vec<usize>> {
        let at: Vec<usize> = token.char_indices().map(|(b, _)| b).chain(std::iter::once(token.len())).collect();
        let n = at.len() - 1;
        if !(COMPOUND_MIN_LEN..=COMPOUND_MAX_LEN).contains(&n) {
            return None;
        }
        let mut memo: Vec<Option<Option<Seg>>> = vec![None; n + 1];
        let mut best = self.segment(token, &at, 0, &mut memo);
        for k in 3..n.saturating_sub(3) {
            if let Some(s) = self.segment(token, &at, k, &mut memo) {
                if s.head_len >= 5 && best.as_ref().is_none_or(|b| s.better_than(b)) {
                    best = Some(s);
                }
            }
        }
        let best = best?;
        let mut out = Vec::new();
        for f in &best.forms {
            for &c in &self.forms[f] {
                push_unique(&mut out, c);
            }
        }
        // Out-of-scope words are short everyday words (`heime`, `pause`); found inside a longer
        // word with unknown letters around them they are more often chance than meaning.
        let partial = best.covered < n;
        if partial && out.iter().all(|&c| self.concepts[c].out_of_scope) {
            return None;
        }
        Some(out)
    }

    /// The best segmentation of the token from its `i`-th letter on; `at` holds the byte
    /// offset of every letter (and the end).
    fn segment(&self, token: &str, at: &[usize], i: usize, memo: &mut Vec<Option<Option<Seg>>>) -> Option<Seg> {
        if let Some(done) = &memo[i] {
            return done.clone();
        }
        let n = at.len() - 1;
        let mut best: Option<Seg> = None;
        let mut consider = |cand: Seg| {
            if best.as_ref().is_none_or(|b| cand.better_than(b)) {
                best = Some(cand);
            }
        };
        // A part after the first needs four letters: three-letter words hide inside too many
        // others (`gymsalen` is not `gym` + `s` + `alle`).
        let min_part = if i == 0 { 3 } else { 4 };
        for j in (i + min_part)..=n {
            let sub = &token[at[i]..at[j]];
            let rest = &token[at[j]..];
            let len = j - i;
            let rest_is_ending = SUFFIXES.contains(&rest);
            if self.forms.contains_key(sub) {
                if rest_is_ending {
                    consider(Seg::single(sub.to_string(), len));
                }
                if j < n {
                    if let Some(s) = self.segment(token, at, j, memo) {
                        consider(s.after(sub.to_string(), len));
                    }
                    if matches!(rest.as_bytes()[0], b's' | b'e') && j + 1 < n {
                        if let Some(s) = self.segment(token, at, j + 1, memo) {
                            consider(s.after(sub.to_string(), len));
                        }
                    }
                    if len >= 6 && n - j >= 4 {
                        consider(Seg::single(sub.to_string(), len));
                    }
                }
            }
            if rest_is_ending && !rest.is_empty() {
                let with_e = format!("{sub}e");
                if self.forms.contains_key(&with_e) {
                    consider(Seg::single(with_e, len));
                }
            }
        }
        memo[i] = Some(best.clone());
        best
    }
}

/// A compound segmentation: the forms found, the letters they cover, the first form's length.
#[derive(Debug, Clone)]
struct Seg {
    forms: Vec<String>,
    covered: usize,
    head_len: usize,
}

impl Seg {
    fn single(form: String, len: usize) -> Seg {
        Seg { forms: vec![form], covered: len, head_len: len }
    }

    fn after(&self, form: String, len: usize) -> Seg {
        let mut forms = vec![form];
        forms.extend(self.forms.iter().cloned());
        Seg { forms, covered: self.covered + len, head_len: len }
    }

    /// More letters covered wins; then fewer parts.
    fn better_than(&self, other: &Seg) -> bool {
        (self.covered, std::cmp::Reverse(self.forms.len())) > (other.covered, std::cmp::Reverse(other.forms.len()))
    }
}

/// Every string made by deleting one letter of `s`.
fn deletions(s: &str) -> impl Iterator<Item = String> + '_ {
    s.char_indices().map(move |(i, c)| format!("{}{}", &s[..i], &s[i + c.len_utf8()..]))
}

fn push_unique(v: &mut Vec<usize>, x: usize) {
    if !v.contains(&x) {
        v.push(x);
    }
}
