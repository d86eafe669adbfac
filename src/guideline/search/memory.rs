//! The example memory: labelled example questions and a nearest-neighbour retriever over them.
//!
//! Each question is read as character n-grams of its folded words (see [`super::text::fold`]),
//! across word boundaries, so typos, inflections and compounds share most of their grams with
//! the intended word. Grams are weighted TF-IDF (sublinear term frequency, smoothed inverse
//! document frequency over the memory) and vectors are L2-normalised: the similarity of two
//! questions is the cosine of their vectors. An inverted index from gram to examples makes a
//! look-up cost a few microseconds for a memory of a thousand examples.
//!
//! The built-in examples are data (`prompts/search/examples/*.toml`); a caller can add more at
//! run time with [`ExampleMemory::with_extra`] (the review of confirmed questions), which builds
//! a new memory once, not per question.

use std::collections::HashMap;

use serde::Deserialize;

use super::text::words;
use crate::guideline::GuidelineDoc;

/// A labelled question: the points that answer it, or none (out of scope) and whom to ask.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Example {
    pub text: String,
    /// Ids of the points that answer it (`1.4`, `3h`); empty for an out-of-scope question.
    pub points: Vec<String>,
    /// For an out-of-scope question, the topic that says whom to ask instead (`personnel`, `it`,
    /// `website`, `guideline`; see `prompts/search/topics.toml`), if any.
    pub topic: Option<String>,
}

impl Example {
    /// A question answered by the given points.
    pub fn answered_by(text: impl Into<String>, points: &[&str]) -> Example {
        Example { text: text.into(), points: points.iter().map(|p| p.to_string()).collect(), topic: None }
    }

    /// An out-of-scope question, with the topic of whom to ask (`None`: nobody to name).
    pub fn out_of_scope(text: impl Into<String>, topic: Option<&str>) -> Example {
        Example { text: text.into(), points: Vec::new(), topic: topic.map(str::to_string) }
    }
}

/// The label of one example in compact form: a bit per point (document order), or no bits and
/// an optional topic index for an out-of-scope example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub points: u64,
    pub topic: Option<u8>,
}

impl Label {
    pub fn in_scope(&self) -> bool {
        self.points != 0
    }

    pub fn has(&self, point: usize) -> bool {
        self.points & (1 << point) != 0
    }
}

/// One neighbour of a question: its similarity and label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub example: u32,
    pub sim: f32,
    pub label: Label,
}

/// Character n-gram lengths. Four letters is about a syllable and a half: long enough to mean
/// something, short enough to survive typos and endings. (Cross-validated: see the README.)
const GRAMS: std::ops::RangeInclusive<usize> = 4..=4;

/// At most this many neighbours are returned; the vote uses the first `neighbours` of them
/// (a calibrated setting).
pub const MAX_NEIGHBOURS: usize = 40;

/// The memory: examples, their labels and the inverted index.
#[derive(Debug, Clone)]
pub struct ExampleMemory {
    examples: Vec<Example>,
    labels: Vec<Label>,
    /// Point ids in document order; a label's bit `i` is `point_ids[i]`.
    point_ids: Vec<String>,
    /// Gram hash → feature id.
    features: HashMap<u64, u32>,
    idf: Vec<f32>,
    /// The idf of a gram no example has.
    unseen_idf: f32,
    /// Feature id → (example, weight in its normalised vector).
    postings: Vec<Vec<(u32, f32)>>,
}

/// FNV-1a over the bytes of one gram.
fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The grams of a text with their counts, sorted by hash.
fn gram_counts(text: &str) -> Vec<(u64, u32)> {
    let tokens = words(text);
    if tokens.is_empty() {
        return Vec::new();
    }
    let padded = format!(" {} ", tokens.join(" "));
    let at: Vec<usize> = padded.char_indices().map(|(b, _)| b).chain(std::iter::once(padded.len())).collect();
    let n = at.len() - 1;
    let mut hashes = Vec::with_capacity(n * GRAMS.clone().count());
    for len in GRAMS {
        // A text shorter than the gram is one gram of its own.
        let len = len.min(n);
        for i in 0..=(n - len) {
            hashes.push(hash(&padded.as_bytes()[at[i]..at[i + len]]));
        }
    }
    hashes.sort_unstable();
    let mut out: Vec<(u64, u32)> = Vec::with_capacity(hashes.len());
    for h in hashes {
        match out.last_mut() {
            Some((last, c)) if *last == h => *c += 1,
            _ => out.push((h, 1)),
        }
    }
    out
}

fn sublinear(tf: u32) -> f32 {
    1.0 + (tf as f32).ln()
}

/// The examples file format: `[points]` id → questions, `[out_of_scope]` topic → questions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleFile {
    points: std::collections::BTreeMap<String, Vec<String>>,
    out_of_scope: std::collections::BTreeMap<String, Vec<String>>,
}

/// The topic of out-of-scope examples that have nobody to name.
pub const NO_TOPIC: &str = "other";

/// Reads one examples file (`prompts/search/examples/*.toml`). `what` names it in the panic a
/// malformed embedded file is (a build defect, caught by the tests).
pub fn parse_examples(src: &str, what: &str) -> Vec<Example> {
    let file: ExampleFile = match toml::from_str(src) {
        Ok(f) => f,
        Err(e) => panic!("embedded search examples {what} are invalid: {e}"),
    };
    let mut out = Vec::new();
    for (id, questions) in file.points {
        out.extend(questions.into_iter().map(|q| Example { text: q, points: vec![id.clone()], topic: None }));
    }
    for (topic, questions) in file.out_of_scope {
        let topic = (topic != NO_TOPIC).then_some(topic);
        out.extend(questions.into_iter().map(|q| Example { text: q, points: Vec::new(), topic: topic.clone() }));
    }
    out
}

impl ExampleMemory {
    /// Builds the memory over `examples` for the points of `doc`. Point ids the document does not
    /// have are dropped from a label, and an example left with none of its points is skipped
    /// (a confirmed question may name a point a later edition removed).
    pub fn new(examples: Vec<Example>, doc: &GuidelineDoc) -> ExampleMemory {
        let point_ids: Vec<String> = doc.ids().map(str::to_string).collect();
        assert!(point_ids.len() <= 64, "a label holds at most 64 points");
        let topics = super::topics();
        let mut kept = Vec::with_capacity(examples.len());
        let mut labels = Vec::with_capacity(examples.len());
        for ex in examples {
            let mut bits = 0u64;
            for id in &ex.points {
                if let Some(i) = point_ids.iter().position(|p| p == &crate::guideline::doc::normalize_id(id)) {
                    bits |= 1 << i;
                }
            }
            if bits == 0 && !ex.points.is_empty() {
                continue;
            }
            // A topic topics.toml does not know names nobody, like `other`.
            let topic = match (&ex.topic, bits) {
                (Some(t), 0) => topics.iter().position(|x| x == t).map(|i| i as u8),
                _ => None,
            };
            labels.push(Label { points: bits, topic });
            kept.push(ex);
        }
        let counts: Vec<Vec<(u64, u32)>> = kept.iter().map(|e| gram_counts(&e.text)).collect();
        let mut features: HashMap<u64, u32> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        for grams in &counts {
            for &(h, _) in grams {
                let next = features.len() as u32;
                let f = *features.entry(h).or_insert(next);
                if f as usize == df.len() {
                    df.push(0);
                }
                df[f as usize] += 1;
            }
        }
        let n = kept.len() as f32;
        let idf: Vec<f32> = df.iter().map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0).collect();
        let unseen_idf = (1.0 + n).ln() + 1.0;
        let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); features.len()];
        for (e, grams) in counts.iter().enumerate() {
            let weighted: Vec<(u32, f32)> = grams
                .iter()
                .map(|&(h, tf)| {
                    let f = features[&h];
                    (f, sublinear(tf) * idf[f as usize])
                })
                .collect();
            let norm = weighted.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm == 0.0 {
                continue;
            }
            for (f, w) in weighted {
                postings[f as usize].push((e as u32, w / norm));
            }
        }
        ExampleMemory { examples: kept, labels, point_ids, features, idf, unseen_idf, postings }
    }

    /// The built-in memory plus `extra` examples (confirmed questions of one server), as a new
    /// memory. Build it once when the extra examples change and search with it many times.
    pub fn with_extra(&self, extra: &[Example]) -> ExampleMemory {
        let mut all = self.examples.clone();
        all.extend(extra.iter().cloned());
        ExampleMemory::new(all, GuidelineDoc::official())
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    pub fn examples(&self) -> &[Example] {
        &self.examples
    }

    /// The name of a topic index of a [`Label`] (the topics of `prompts/search/topics.toml`).
    pub fn topic_name(&self, topic: u8) -> &'static str {
        super::topics()[usize::from(topic)]
    }

    /// The point ids in the order of a [`Label`]'s bits.
    pub fn point_ids(&self) -> &[String] {
        &self.point_ids
    }

    /// The examples most similar to `question`, most similar first (at most
    /// [`MAX_NEIGHBOURS`], none with similarity zero). Ties keep the examples' order.
    pub fn neighbours(&self, question: &str) -> Vec<Neighbour> {
        let grams = gram_counts(question);
        let mut acc = vec![0f32; self.examples.len()];
        let mut norm = 0f32;
        for (h, tf) in grams {
            let (idf, f) = match self.features.get(&h) {
                Some(&f) => (self.idf[f as usize], Some(f)),
                None => (self.unseen_idf, None),
            };
            let w = sublinear(tf) * idf;
            norm += w * w;
            if let Some(f) = f {
                for &(e, ew) in &self.postings[f as usize] {
                    acc[e as usize] += w * ew;
                }
            }
        }
        if norm == 0.0 {
            return Vec::new();
        }
        let norm = norm.sqrt();
        let mut hits: Vec<(u32, f32)> =
            acc.iter().enumerate().filter(|(_, &s)| s > 0.0).map(|(e, &s)| (e as u32, s / norm)).collect();
        let by_sim = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if hits.len() > MAX_NEIGHBOURS {
            hits.select_nth_unstable_by(MAX_NEIGHBOURS - 1, by_sim);
            hits.truncate(MAX_NEIGHBOURS);
        }
        hits.sort_unstable_by(by_sim);
        hits.into_iter().map(|(e, sim)| Neighbour { example: e, sim, label: self.labels[e as usize] }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> ExampleMemory {
        ExampleMemory::new(
            vec![
                Example::answered_by("Kan eg slette kommentarar frå andre?", &["1.10"]),
                Example::answered_by("Må vi ha samtykke før vi legg ut bilete?", &["1.4"]),
                Example::answered_by("Can I use my work email privately?", &["3f"]),
                Example::out_of_scope("Når kjem lønna?", Some("personnel")),
                Example::out_of_scope("Kva er vêret i morgon?", None),
                Example::answered_by("An example for a point that does not exist", &["9z"]),
            ],
            GuidelineDoc::official(),
        )
    }

    #[test]
    fn nearest_example_comes_first_despite_typos() {
        let m = memory();
        assert_eq!(m.len(), 5, "the example for an unknown point is skipped");
        let n = m.neighbours("kan eg slete komentarane til andre");
        assert_eq!(m.examples()[n[0].example as usize].points, ["1.10"]);
        assert!(n.windows(2).all(|w| w[0].sim >= w[1].sim));
        let n = m.neighbours("work e-mail for private things?");
        assert!(n[0].label.has(m.point_ids().iter().position(|p| p == "3f").unwrap()));
    }

    #[test]
    fn similarity_is_a_cosine() {
        let m = memory();
        let n = m.neighbours("Når kjem lønna?");
        assert!((n[0].sim - 1.0).abs() < 1e-5, "{n:?}");
        assert!(n.iter().all(|x| x.sim > 0.0 && x.sim <= 1.0 + 1e-5));
        assert!(!n[0].label.in_scope());
        assert_eq!(n[0].label.topic.map(|t| m.topic_name(t)), Some("personnel"));
        assert!(m.neighbours("").is_empty());
        assert!(m.neighbours("qqqqxxxx").is_empty());
    }

    #[test]
    fn extra_examples_join_the_memory() {
        let m = memory();
        let q = "Kan vi bruke musikk frå radioen i ein video?";
        assert!(m.neighbours(q).first().is_none_or(|n| n.sim < 0.5));
        let more = m.with_extra(&[Example::answered_by("Kan vi bruke musikk frå radioen i videoen?", &["2h"])]);
        assert_eq!(more.len(), m.len() + 1);
        let top = more.neighbours(q)[0];
        assert!(top.sim > 0.8 && top.label.has(more.point_ids().iter().position(|p| p == "2h").unwrap()));
    }

    #[test]
    fn example_files_parse_with_topics() {
        let ex = parse_examples(
            "[points]\n\"1.4\" = [\"a\", \"b\"]\n[out_of_scope]\npersonnel = [\"c\"]\nother = [\"d\"]\n",
            "test",
        );
        assert_eq!(ex.len(), 4);
        assert_eq!(ex[0], Example::answered_by("a", &["1.4"]));
        // Topics come in name order.
        assert_eq!(ex[2], Example::out_of_scope("d", None));
        assert_eq!(ex[3], Example::out_of_scope("c", Some("personnel")));
    }
}
