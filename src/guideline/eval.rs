//! Evaluation of the question search engine.
//!
//! [`evaluate`] scores the engine as built (the built-in example memory and calibration) on a
//! JSON Lines question set: each line is `{"q": "...", "lang": "nn"|"nb"|"en", "expect": ["1.4",
//! ...], "note": "..."}`; an empty `expect` marks an out-of-scope question the engine must
//! decline. Accuracy figures are over the in-scope questions.
//!
//! [`cross_validate`] gives the honest figures: k-fold cross-validation over every labelled
//! question (the example memory, the dev set and the holdout fixture). Each fold's questions are
//! left out of the example memory and out of the fitting of the calibration for that fold,
//! which is itself fitted on signals computed by an inner cross-validation of the training
//! folds (nested), so no question is ever in the memory it is scored against.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Instant;

use serde::Deserialize;

use super::search::fit::{self, Row};
use super::search::fusion::{self, Calibration};
use super::search::{self as engine, search, Example, ExampleMemory, SearchOutcome};
use crate::guideline::GuidelineDoc;

/// The set is searched this many times for the timing figure.
const TIMING_ROUNDS: usize = 5;

#[derive(Debug, Deserialize)]
struct Case {
    q: String,
    #[serde(default)]
    lang: String,
    expect: Vec<String>,
}

/// The questions of a JSON Lines set; a bad line is an error naming its place.
fn read_cases(path: &Path) -> std::io::Result<Vec<Case>> {
    let src = std::fs::read_to_string(path)?;
    let mut cases = Vec::new();
    for (n, line) in src.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(line).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}:{}: {e}", path.display(), n + 1))
        })?;
        cases.push(case);
    }
    Ok(cases)
}

/// The figures of one evaluation run.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    pub questions: usize,
    pub in_scope: usize,
    pub out_of_scope: usize,
    /// In-scope questions whose first result is one of the expected points.
    pub top1: usize,
    /// In-scope questions with an expected point among the first three results.
    pub top3: usize,
    /// Out-of-scope questions the engine declined.
    pub declined_out_of_scope: usize,
    /// In-scope questions the engine declined.
    pub declined_in_scope: usize,
    pub micros_per_question: f64,
    /// One line per question that was not answered with an expected point first, or was
    /// wrongly declined or answered.
    pub misses: Vec<String>,
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

impl EvalReport {
    pub fn top1_pct(&self) -> f64 {
        percent(self.top1, self.in_scope)
    }
    pub fn top3_pct(&self) -> f64 {
        percent(self.top3, self.in_scope)
    }
    pub fn declined_out_of_scope_pct(&self) -> f64 {
        percent(self.declined_out_of_scope, self.out_of_scope)
    }
    pub fn declined_in_scope_pct(&self) -> f64 {
        percent(self.declined_in_scope, self.in_scope)
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "questions: {} ({} in scope, {} out of scope)", self.questions, self.in_scope, self.out_of_scope)?;
        writeln!(f, "top-1 accuracy: {:.1} % ({}/{})", self.top1_pct(), self.top1, self.in_scope)?;
        writeln!(f, "top-3 accuracy: {:.1} % ({}/{})", self.top3_pct(), self.top3, self.in_scope)?;
        writeln!(
            f,
            "out-of-scope questions declined: {:.1} % ({}/{})",
            self.declined_out_of_scope_pct(),
            self.declined_out_of_scope,
            self.out_of_scope
        )?;
        writeln!(
            f,
            "in-scope questions wrongly declined: {:.1} % ({}/{})",
            self.declined_in_scope_pct(),
            self.declined_in_scope,
            self.in_scope
        )?;
        write!(f, "time per question: {:.1} µs", self.micros_per_question)?;
        for m in &self.misses {
            write!(f, "\n  miss: {m}")?;
        }
        Ok(())
    }
}

/// Runs every question of the set at `path` through [`search`] and scores the answers.
pub fn evaluate(path: &Path) -> std::io::Result<EvalReport> {
    let cases = read_cases(path)?;
    let mut r = EvalReport {
        questions: cases.len(),
        in_scope: 0,
        out_of_scope: 0,
        top1: 0,
        top3: 0,
        declined_out_of_scope: 0,
        declined_in_scope: 0,
        micros_per_question: 0.0,
        misses: Vec::new(),
    };
    // Build the engine first so its one-off start-up is not counted as question time, and
    // time a few rounds so the figure is steady.
    search("");
    let started = Instant::now();
    let outcomes: Vec<_> = cases.iter().map(|c| search(&c.q)).collect();
    for _ in 1..TIMING_ROUNDS {
        for c in &cases {
            std::hint::black_box(search(&c.q));
        }
    }
    let elapsed = started.elapsed();
    r.micros_per_question = elapsed.as_secs_f64() * 1e6 / (cases.len().max(1) * TIMING_ROUNDS) as f64;

    for (case, out) in cases.iter().zip(&outcomes) {
        let got: Vec<&str> = out.results.iter().map(|h| h.id.as_str()).collect();
        if case.expect.is_empty() {
            r.out_of_scope += 1;
            if out.declined {
                r.declined_out_of_scope += 1;
            } else {
                r.misses.push(format!("answered {got:?}, expected decline :: {}", case.q));
            }
            continue;
        }
        r.in_scope += 1;
        let hit = |id: &&str| case.expect.iter().any(|e| e == id);
        if out.declined {
            r.declined_in_scope += 1;
            r.misses.push(format!("declined, expected {:?} :: {}", case.expect, case.q));
            continue;
        }
        if got.first().is_some_and(hit) {
            r.top1 += 1;
        } else {
            r.misses.push(format!("got {got:?}, expected {:?} :: {}", case.expect, case.q));
        }
        if got.iter().take(3).any(hit) {
            r.top3 += 1;
        }
    }
    Ok(r)
}

/// Where a labelled question comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// The example memory (`prompts/search/examples/`), written for it.
    Examples,
    /// The development set (`../shared/eval/guideline-questions.dev.jsonl`).
    Dev,
    /// The holdout fixture (`tests/fixtures/guideline-questions.holdout.jsonl`).
    Holdout,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Examples => "examples",
            Source::Dev => "dev",
            Source::Holdout => "holdout",
        }
    }
}

/// A labelled question of the cross-validation pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub text: String,
    /// `nn`, `nb` or `en`.
    pub lang: String,
    /// Expected point ids; empty for out of scope.
    pub expect: Vec<String>,
    /// For out-of-scope examples: the topic of whom to ask (`None`: nobody).
    pub topic: Option<String>,
    pub source: Source,
    /// Questions of one group share a fold: translation twins among the examples (see
    /// [`labelled_pool`]), since a translation in the memory would make its twin easy. Every
    /// dev and holdout question is a group of its own.
    pub group: usize,
}

/// Out-of-scope examples are grouped in blocks of this many places per topic: those files were
/// written only loosely in parallel, so a block catches a translation one place off.
const OUT_OF_SCOPE_BLOCK: usize = 4;
/// A Nynorsk example is the twin of its most similar Bokmål example of the same point when their
/// character-gram cosine is at least this. (Of the Nynorsk examples written as translations of a
/// Bokmål one, 98 % have that one as their most similar, all above 0.2.)
const TWIN_SIMILARITY: f32 = 0.15;

/// The key an example is grouped by: its first point, or `out:<topic>`.
fn group_key(e: &Example) -> String {
    e.points.first().cloned().unwrap_or_else(|| format!("out:{}", e.topic.as_deref().unwrap_or("")))
}

/// The pool: the built-in examples, then the questions of the sets at `dev` and `holdout`.
///
/// Translation twins share a group (and so a fold): the Bokmål and English files were written in
/// parallel, so the n-th Bokmål and the n-th English example of a point are one group (for
/// out-of-scope topics: a block of [`OUT_OF_SCOPE_BLOCK`] places); a Nynorsk example joins the
/// group of its most similar Bokmål example of the same point or topic, when they are similar
/// enough to be a translation ([`TWIN_SIMILARITY`]). Over-grouping only makes the figures harder.
pub fn labelled_pool(dev: &Path, holdout: &Path) -> std::io::Result<Vec<Labelled>> {
    let mut pool: Vec<Labelled> = Vec::new();
    let mut groups: BTreeMap<(String, usize), usize> = BTreeMap::new();
    let builtin = engine::builtin_examples();
    // Per key, the Bokmål examples and their groups, for the Nynorsk twins.
    let mut bokmaal: BTreeMap<String, (Vec<Example>, Vec<usize>)> = BTreeMap::new();
    for (lang, examples) in builtin.iter().filter(|(l, _)| *l != "nn") {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for e in examples {
            let key = group_key(e);
            let nth = seen.entry(key.clone()).or_default();
            let place = if e.points.is_empty() { *nth / OUT_OF_SCOPE_BLOCK } else { *nth };
            *nth += 1;
            let next = groups.len();
            let group = *groups.entry((key.clone(), place)).or_insert(next);
            if *lang == "nb" {
                let entry = bokmaal.entry(key).or_default();
                entry.0.push(e.clone());
                entry.1.push(group);
            }
            pool.push(Labelled {
                text: e.text.clone(),
                lang: lang.to_string(),
                expect: e.points.clone(),
                topic: e.topic.clone(),
                source: Source::Examples,
                group,
            });
        }
    }
    let memories: BTreeMap<&String, (ExampleMemory, &Vec<usize>)> =
        bokmaal.iter().map(|(k, (ex, g))| (k, (ExampleMemory::new(ex.clone(), GuidelineDoc::official()), g))).collect();
    let mut next = groups.len();
    for (lang, examples) in builtin.into_iter().filter(|(l, _)| *l == "nn") {
        for e in examples {
            let twin = memories.get(&group_key(&e)).and_then(|(m, g)| {
                m.neighbours(&e.text).first().filter(|n| n.sim >= TWIN_SIMILARITY).map(|n| g[n.example as usize])
            });
            let group = twin.unwrap_or_else(|| {
                next += 1;
                next - 1
            });
            pool.push(Labelled {
                text: e.text,
                lang: lang.to_string(),
                expect: e.points,
                topic: e.topic,
                source: Source::Examples,
                group,
            });
        }
    }
    for (path, source) in [(dev, Source::Dev), (holdout, Source::Holdout)] {
        for c in read_cases(path)? {
            pool.push(Labelled { text: c.q, lang: c.lang, expect: c.expect, topic: None, source, group: next });
            next += 1;
        }
    }
    Ok(pool)
}

/// The seed of the folds when none is given: the guideline's year.
pub const DEFAULT_SEED: u64 = 2020;
/// Folds of the inner cross-validation that computes the signals a calibration is fitted on.
const INNER_FOLDS: usize = 5;

/// SplitMix64: a small, well-mixed generator, so folds are the same on every machine.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The pool's `items` dealt into `k` folds by group after a seeded shuffle of the groups; each
/// fold in ascending order.
fn folds_of(pool: &[Labelled], items: &[usize], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut groups: Vec<usize> = items.iter().map(|&i| pool[i].group).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut rng = SplitMix(seed);
    for i in (1..groups.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        groups.swap(i, j);
    }
    let k = k.max(1);
    let fold_of: std::collections::HashMap<usize, usize> =
        groups.iter().enumerate().map(|(n, &g)| (g, n % k)).collect();
    let mut folds = vec![Vec::new(); k];
    for &i in items {
        folds[fold_of[&pool[i].group]].push(i);
    }
    folds
}

/// One inner fold: the memory's members and the questions scored against it.
pub type InnerFold = (Vec<usize>, Vec<usize>);

/// The pool with what does not depend on the folds computed once.
struct Prepared<'a> {
    pool: &'a [Labelled],
    concept: Vec<fusion::ConceptSignals>,
    expect: Vec<u64>,
    points: usize,
}

impl<'a> Prepared<'a> {
    fn new(pool: &'a [Labelled]) -> Prepared<'a> {
        let ids: Vec<&str> = GuidelineDoc::official().ids().collect();
        let expect = pool
            .iter()
            .map(|l| {
                l.expect.iter().filter_map(|e| ids.iter().position(|i| *i == e.as_str())).fold(0u64, |b, i| b | 1 << i)
            })
            .collect();
        Prepared {
            pool,
            concept: pool.iter().map(|l| engine::concept_signals(&l.text)).collect(),
            expect,
            points: ids.len(),
        }
    }

    /// The example memory of the examples among `members`.
    fn memory(&self, members: &[usize]) -> ExampleMemory {
        let examples = members
            .iter()
            .map(|&i| &self.pool[i])
            .filter(|l| l.source == Source::Examples)
            .map(|l| Example { text: l.text.clone(), points: l.expect.clone(), topic: l.topic.clone() })
            .collect();
        ExampleMemory::new(examples, GuidelineDoc::official())
    }

    fn row(&self, i: usize, memory: &ExampleMemory) -> Row {
        Row { signals: engine::signals(self.concept[i].clone(), &self.pool[i].text, memory), expect: self.expect[i] }
    }

    /// Fits a calibration on the examples among `train` only: their signals come from an inner
    /// cross-validation (each scored against a memory of the other inner folds). Returns the
    /// calibration and, per inner fold, the memory's members and the questions scored against
    /// it.
    ///
    /// The dev and holdout questions are scored but never fitted on: the concept vocabulary
    /// was tuned on them, so they would flatter the concept engine and pull the fusion its way.
    fn calibrate(&self, train: &[usize], seed: u64) -> (Calibration, Vec<InnerFold>) {
        let train: Vec<usize> = train.iter().copied().filter(|&i| self.pool[i].source == Source::Examples).collect();
        let train = train.as_slice();
        let inner = folds_of(self.pool, train, INNER_FOLDS, seed);
        let mut rows = Vec::with_capacity(train.len());
        let mut audit = Vec::new();
        for (g, scored) in inner.iter().enumerate() {
            let members: Vec<usize> =
                inner.iter().enumerate().filter(|&(h, _)| h != g).flat_map(|(_, f)| f.iter().copied()).collect();
            let memory = self.memory(&members);
            rows.extend(scored.iter().map(|&i| self.row(i, &memory)));
            audit.push((members, scored.clone()));
        }
        (fit::fit(&rows, self.points, &self.memory(train)), audit)
    }
}

/// The calibration fitted on the whole pool: what `prompts/search/calibration.toml` holds.
pub fn calibrate(pool: &[Labelled], seed: u64) -> Calibration {
    let prep = Prepared::new(pool);
    let all: Vec<usize> = (0..pool.len()).collect();
    prep.calibrate(&all, seed).0
}

/// `calibrate`'s result as the text of `prompts/search/calibration.toml`.
pub fn calibration_file(cal: &Calibration, seed: u64) -> String {
    let body = toml::to_string(cal).unwrap_or_default();
    format!(
        "# The search engine's fitted settings (src/guideline/search/fusion.rs). Written by\n\
         # `somebot eval --folds 5 --write-calibration prompts/search/calibration.toml` from every\n\
         # labelled question (seed {seed}); never edited by hand: a test checks that this is the fit.\n\
         # decline.weights follow the features {:?}.\n\n{body}",
        fusion::FEATURES
    )
}

/// One question scored in its fold.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Index into the pool.
    pub item: usize,
    pub fold: usize,
    /// The fused engine's answer (memory and calibration of the fold).
    pub outcome: SearchOutcome,
    /// The concept engine alone: its decision and first three points.
    pub concept_declined: bool,
    pub concept: Vec<usize>,
    /// The example memory alone: its first three points by neighbour votes.
    pub memory: Vec<usize>,
}

/// What one outer fold used: the questions it scored, its memory's members, and the inner
/// folds its calibration was fitted on (memory members, scored questions).
#[derive(Debug, Clone)]
pub struct FoldAudit {
    pub test: Vec<usize>,
    pub memory: Vec<usize>,
    pub inner: Vec<InnerFold>,
}

/// The result of a cross-validation.
#[derive(Debug, Clone)]
pub struct CvReport {
    pub folds: usize,
    pub seed: u64,
    pub pool: Vec<Labelled>,
    pub scored: Vec<Scored>,
    pub audits: Vec<FoldAudit>,
    /// Time of one search with the built-in memory, over the pool's questions.
    pub micros_per_question: f64,
}

/// k-fold cross-validation over `pool` (see the module documentation).
pub fn cross_validate(pool: &[Labelled], folds: usize, seed: u64) -> CvReport {
    let prep = Prepared::new(pool);
    let all: Vec<usize> = (0..pool.len()).collect();
    let outer = folds_of(pool, &all, folds, seed);
    let ids: Vec<&str> = GuidelineDoc::official().ids().collect();
    let mut scored = Vec::with_capacity(pool.len());
    let mut audits = Vec::new();
    for (f, test) in outer.iter().enumerate() {
        let train: Vec<usize> =
            outer.iter().enumerate().filter(|&(g, _)| g != f).flat_map(|(_, x)| x.iter().copied()).collect();
        let (cal, inner) = prep.calibrate(&train, seed ^ (f as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let memory = prep.memory(&train);
        for &i in test {
            let row = prep.row(i, &memory);
            let decision = fusion::decide(&row.signals, &memory, &cal);
            let (per_point, _) = fusion::votes(&row.signals.neighbours, cal.fusion.neighbours, ids.len());
            scored.push(Scored {
                item: i,
                fold: f,
                outcome: engine::outcome(&decision),
                concept_declined: prep.concept[i].declined,
                concept: prep.concept[i].ranked.iter().take(3).map(|r| r.0).collect(),
                memory: fusion::vote_ranking(&per_point).into_iter().take(3).collect(),
            });
        }
        audits.push(FoldAudit { test: test.clone(), memory: train, inner });
    }
    scored.sort_by_key(|s| s.item);
    // The timing is of the engine as built, like `somebot eval --set`.
    search("");
    let started = Instant::now();
    for _ in 0..TIMING_ROUNDS {
        for l in pool {
            std::hint::black_box(search(&l.text));
        }
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / (pool.len().max(1) * TIMING_ROUNDS) as f64;
    CvReport { folds, seed, pool: pool.to_vec(), scored, audits, micros_per_question: micros }
}

/// Counts over a group of scored questions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub questions: usize,
    pub in_scope: usize,
    pub out_of_scope: usize,
    pub top1: usize,
    pub top3: usize,
    pub declined_out_of_scope: usize,
    pub declined_in_scope: usize,
    /// Answered in-scope questions marked "not sure", and of those: first point right, and an
    /// expected point among the first and the alternatives.
    pub uncertain: usize,
    pub uncertain_first_right: usize,
    pub uncertain_covered: usize,
    /// Answered in-scope questions not marked, and of those: first point right.
    pub certain: usize,
    pub certain_first_right: usize,
    /// Declined out-of-scope examples with a known topic, and of those: topic right.
    pub topics: usize,
    pub topics_right: usize,
}

impl Tally {
    fn add(&mut self, item: &Labelled, out: &SearchOutcome) {
        self.questions += 1;
        if item.expect.is_empty() {
            self.out_of_scope += 1;
            if out.declined {
                self.declined_out_of_scope += 1;
                if item.source == Source::Examples {
                    self.topics += 1;
                    self.topics_right += usize::from(out.topic == item.topic);
                }
            }
            return;
        }
        self.in_scope += 1;
        if out.declined {
            self.declined_in_scope += 1;
            return;
        }
        let hit = |id: &String| item.expect.contains(id);
        let first = out.results.first().is_some_and(|h| hit(&h.id));
        self.top1 += usize::from(first);
        self.top3 += usize::from(out.results.iter().take(3).any(|h| hit(&h.id)));
        if out.uncertain {
            self.uncertain += 1;
            self.uncertain_first_right += usize::from(first);
            self.uncertain_covered += usize::from(first || out.alternatives.iter().any(|h| hit(&h.id)));
        } else {
            self.certain += 1;
            self.certain_first_right += usize::from(first);
        }
    }

    pub fn top1_pct(&self) -> f64 {
        percent(self.top1, self.in_scope)
    }
    pub fn top3_pct(&self) -> f64 {
        percent(self.top3, self.in_scope)
    }
    pub fn declined_out_of_scope_pct(&self) -> f64 {
        percent(self.declined_out_of_scope, self.out_of_scope)
    }
    pub fn declined_in_scope_pct(&self) -> f64 {
        percent(self.declined_in_scope, self.in_scope)
    }
}

impl CvReport {
    /// The fused engine's tally over the scored questions that `keep` selects.
    pub fn tally(&self, keep: impl Fn(&Labelled) -> bool) -> Tally {
        let mut t = Tally::default();
        for s in self.scored.iter().filter(|s| keep(&self.pool[s.item])) {
            t.add(&self.pool[s.item], &s.outcome);
        }
        t
    }

    /// The same for one retriever alone: the concept engine (its own decline rule) or the
    /// example memory (ranking only: it never declines).
    pub fn tally_alone(&self, concept: bool, keep: impl Fn(&Labelled) -> bool) -> Tally {
        let ids: Vec<&str> = GuidelineDoc::official().ids().collect();
        let mut t = Tally::default();
        for s in self.scored.iter().filter(|s| keep(&self.pool[s.item])) {
            let (declined, top) = if concept { (s.concept_declined, &s.concept) } else { (false, &s.memory) };
            let results = if declined {
                Vec::new()
            } else {
                top.iter().map(|&p| engine::Hit { id: ids[p].to_string(), score: 0.0 }).collect()
            };
            let out = SearchOutcome { declined, results, uncertain: false, alternatives: Vec::new(), topic: None };
            t.add(&self.pool[s.item], &out);
        }
        t
    }
}

fn row_line(name: &str, t: &Tally) -> String {
    format!(
        "{name:<34}{:>6}{:>8.1}{:>8.1}{:>10.1}{:>10.1}",
        t.questions,
        t.top1_pct(),
        t.top3_pct(),
        t.declined_out_of_scope_pct(),
        t.declined_in_scope_pct()
    )
}

impl fmt::Display for CvReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sizes: BTreeMap<Source, usize> = BTreeMap::new();
        for l in &self.pool {
            *sizes.entry(l.source).or_default() += 1;
        }
        let sizes: Vec<String> = sizes.iter().map(|(s, n)| format!("{} {n}", s.name())).collect();
        writeln!(
            f,
            "cross-validation: {} folds (seed {}), {} questions ({})",
            self.folds,
            self.seed,
            self.pool.len(),
            sizes.join(", ")
        )?;
        writeln!(
            f,
            "each fold left out of the example memory and of the fitting; figures in %: top-1, top-3 (in-scope),\n\
             out-of-scope declined, in-scope wrongly declined\n"
        )?;
        writeln!(f, "{:<34}{:>6}{:>8}{:>8}{:>10}{:>10}", "", "n", "top-1", "top-3", "oos-decl", "in-decl")?;
        let independent = |l: &Labelled| l.source != Source::Examples;
        let langs = ["nn", "nb", "en"];
        writeln!(f, "{}", row_line("independent questions (dev+holdout)", &self.tally(independent)))?;
        for lang in langs {
            writeln!(f, "{}", row_line(&format!("  {lang}"), &self.tally(|l| independent(l) && l.lang == lang)))?;
        }
        for source in [Source::Dev, Source::Holdout] {
            writeln!(f, "{}", row_line(&format!("  {}", source.name()), &self.tally(|l| l.source == source)))?;
        }
        writeln!(f, "{}", row_line("all questions", &self.tally(|_| true)))?;
        for lang in langs {
            writeln!(f, "{}", row_line(&format!("  {lang}"), &self.tally(|l| l.lang == lang)))?;
        }
        writeln!(f, "{}", row_line("  examples", &self.tally(|l| l.source == Source::Examples)))?;
        writeln!(f, "\neach retriever alone, same folds:")?;
        for (name, concept) in [("concept engine", true), ("example memory (never declines)", false)] {
            writeln!(f, "{}", row_line(&format!("{name}, independent"), &self.tally_alone(concept, independent)))?;
            writeln!(
                f,
                "{}",
                row_line(&format!("{name}, examples"), &self.tally_alone(concept, |l| l.source == Source::Examples))
            )?;
        }
        let t = self.tally(independent);
        let all = self.tally(|_| true);
        writeln!(
            f,
            "\nnot sure (independent): {:.1} % of answered in-scope questions; first point right in {:.1} % of them \
             ({:.1} % when sure); an expected point among the first and the alternatives in {:.1} %",
            percent(t.uncertain, t.uncertain + t.certain),
            percent(t.uncertain_first_right, t.uncertain),
            percent(t.certain_first_right, t.certain),
            percent(t.uncertain_covered, t.uncertain)
        )?;
        writeln!(
            f,
            "whom to ask: the right topic for {:.1} % of the declined out-of-scope examples ({}/{})",
            percent(all.topics_right, all.topics),
            all.topics_right,
            all.topics
        )?;
        write!(f, "time per question (built-in memory): {:.1} µs", self.micros_per_question)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn dev_set() -> PathBuf {
        let path = std::env::var_os("SOMEBOT_EVAL_SET").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/guideline-questions.dev.jsonl"),
            PathBuf::from,
        );
        assert!(
            path.is_file(),
            "the development question set is missing at {}: set SOMEBOT_EVAL_SET to its path",
            path.display()
        );
        path
    }

    #[test]
    fn dev_set_meets_targets() {
        let r = evaluate(&dev_set()).expect("dev set readable");
        println!("dev set:\n{r}");
        assert!(r.top1_pct() >= 90.0, "top-1 below 90 %:\n{r}");
        assert!(r.top3_pct() >= 97.0, "top-3 below 97 %:\n{r}");
        assert!(r.declined_out_of_scope_pct() >= 80.0, "too few declines:\n{r}");
        assert!(r.declined_in_scope_pct() <= 5.0, "too many wrong declines:\n{r}");
    }

    #[test]
    fn holdout_set_meets_looser_targets() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/guideline-questions.holdout.jsonl");
        let r = evaluate(&path).expect("holdout fixture readable");
        println!("holdout set:\n{r}");
        assert!(r.questions >= 40);
        assert!(r.top1_pct() >= 85.0, "top-1 below 85 %:\n{r}");
        assert!(r.top3_pct() >= 92.0, "top-3 below 92 %:\n{r}");
        assert!(r.declined_out_of_scope_pct() >= 75.0, "too few declines:\n{r}");
        assert!(r.declined_in_scope_pct() <= 8.0, "too many wrong declines:\n{r}");
    }

    fn holdout() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/guideline-questions.holdout.jsonl")
    }

    #[test]
    fn translation_twins_share_a_group() {
        let pool = labelled_pool(&dev_set(), &holdout()).expect("sets readable");
        let find = |text: &str| pool.iter().find(|l| l.text == text).unwrap_or_else(|| panic!("{text}"));
        // Written in parallel: the same place in the Bokmål and English files.
        let nb = find("Kan jeg legge ut bilder av beboerne på sykehjemmet?");
        let en = find("Can I post pictures of residents at the nursing home?");
        let nn = find("Kan eg leggje ut bilete av bebuarane på sjukeheimen?");
        assert_eq!((nb.group, nn.group), (en.group, en.group));
        // A Nynorsk example one place off its Bokmål twin still joins it.
        let nn = find("Nokon sende meg ei truande melding etter eit vedtak eg gjorde");
        let nb = find("Jeg fikk en truende melding etter et vedtak");
        assert_eq!(nn.group, nb.group);
        // Every dev and holdout question is a group of its own.
        let mut independent: Vec<usize> =
            pool.iter().filter(|l| l.source != Source::Examples).map(|l| l.group).collect();
        let n = independent.len();
        assert!(n >= 300);
        independent.sort_unstable();
        independent.dedup();
        assert_eq!(independent.len(), n);
        assert!(pool.iter().filter(|l| l.source == Source::Examples).all(|l| l.group < pool.len()));
    }

    #[test]
    fn folds_never_see_their_own_questions() {
        // A small pool (every seventh question) keeps the debug build quick; the rules are the
        // same for the whole pool.
        let full = labelled_pool(&dev_set(), &holdout()).expect("sets readable");
        let pool: Vec<Labelled> = full.into_iter().step_by(7).collect();
        let cv = cross_validate(&pool, 3, DEFAULT_SEED);
        assert_eq!(cv.scored.len(), pool.len(), "every question is scored once");
        assert!(cv.scored.iter().enumerate().all(|(i, s)| s.item == i));
        let group_set =
            |items: &[usize]| items.iter().map(|&i| pool[i].group).collect::<std::collections::BTreeSet<_>>();
        for a in &cv.audits {
            let test_groups = group_set(&a.test);
            assert!(group_set(&a.memory).is_disjoint(&test_groups), "a fold's memory holds one of its groups");
            assert_eq!(a.test.len() + a.memory.len(), pool.len());
            for (members, scored) in &a.inner {
                // Inner folds fit only on the outer training questions, never on the test fold.
                assert!(group_set(members).is_disjoint(&test_groups));
                assert!(group_set(scored).is_disjoint(&test_groups));
                assert!(group_set(members).is_disjoint(&group_set(scored)));
                assert!(scored.iter().chain(members).all(|i| pool[*i].source == Source::Examples));
            }
        }
        let t = cv.tally(|_| true);
        assert_eq!(t.questions, pool.len());
        assert_eq!(t.in_scope + t.out_of_scope, t.questions);
        assert!(t.top1 <= t.top3 && t.top3 + t.declined_in_scope <= t.in_scope);
        // With a third of the memory left out, the engine still finds most points.
        assert!(t.top3_pct() > 60.0, "{}", cv);
    }

    #[test]
    fn the_calibration_in_use_is_the_fit() {
        // prompts/search/calibration.toml must be what `somebot eval --folds 5
        // --write-calibration` writes from today's data, never numbers edited by hand.
        let pool = labelled_pool(&dev_set(), &holdout()).expect("sets readable");
        let cal = calibrate(&pool, DEFAULT_SEED);
        let fitted = calibration_file(&cal, DEFAULT_SEED);
        let committed = include_str!("../../prompts/search/calibration.toml");
        assert_eq!(
            committed, fitted,
            "prompts/search/calibration.toml is not the fit of the data: run `somebot eval --folds 5 \
             --write-calibration prompts/search/calibration.toml`"
        );
        assert_eq!(Calibration::parse(committed), cal);
    }

    #[test]
    fn bad_lines_are_reported_with_their_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("bad.jsonl");
        std::fs::write(&p, "{\"q\": \"x\", \"expect\": []}\nnot json\n").expect("write");
        let e = evaluate(&p).expect_err("invalid line");
        assert!(e.to_string().contains("bad.jsonl:2"), "{e}");
    }
}

#[cfg(test)]
mod adhoc {
    /// Evaluates the set at `SOMEBOT_ADHOC_SET` and prints the report.
    #[test]
    #[ignore]
    fn evaluate_adhoc_set() {
        let path = std::env::var("SOMEBOT_ADHOC_SET").expect("SOMEBOT_ADHOC_SET");
        println!("{}", super::evaluate(std::path::Path::new(&path)).expect("readable"));
    }
}
