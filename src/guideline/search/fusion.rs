//! Fusing the two retrievers and deciding: the concept engine's ranking ([`super::index`]) and
//! the example memory's neighbour votes ([`super::memory`]) are fused by weighted reciprocal
//! rank; a logistic rule over a few signals of both decides whether to decline; a margin rule
//! says whether the first point clearly stands out; and a declined question gets the topic
//! that names whom to ask. Every number here comes from [`Calibration`], which is fitted by
//! cross-validation (see [`super::fit`]) and stored in `prompts/search/calibration.toml`.
//! Everything is a pure function of its inputs.

use serde::{Deserialize, Serialize};

use super::index::Ranked;
use super::memory::{ExampleMemory, Neighbour};

/// What the concept engine made of a question.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptSignals {
    /// Points and scores (damped for out-of-scope signals), best first.
    pub ranked: Vec<Ranked>,
    /// The concept engine's own decision: below its floor, or out-of-scope words and nothing
    /// about social media.
    pub declined: bool,
    /// The best damped score.
    pub best: f64,
    /// The question names something of the guideline's subject (social media, pages, ...).
    pub domain: bool,
    /// The summed weight of out-of-scope words.
    pub out_of_scope: f64,
    /// Points the question names by id, in document order.
    pub named: Vec<usize>,
    /// The topic its out-of-scope words point to (`personnel`, `it`, `website`), if any.
    pub topic: Option<String>,
}

/// Everything the decision needs about one question, from both retrievers.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    pub concept: ConceptSignals,
    pub neighbours: Vec<Neighbour>,
}

/// How the two rankings are fused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fusion {
    /// Weight of the concept engine's ranking; the example memory's gets `1 - concept_weight`.
    pub concept_weight: f64,
    /// The reciprocal-rank constant: a point ranked `r` counts `1 / (rank_constant + r)`.
    pub rank_constant: f64,
    /// How many nearest examples vote.
    pub neighbours: usize,
}

/// The logistic decline rule: the probability that a question is out of scope is
/// `1 / (1 + exp(-(bias + Σ weights[i] · (x[i] - means[i]) / scales[i])))` over [`FEATURES`];
/// the engine declines at `threshold` or above.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    pub bias: f64,
    pub weights: Vec<f64>,
    pub means: Vec<f64>,
    pub scales: Vec<f64>,
    pub threshold: f64,
}

/// The first point does not clearly stand out when its fused score leads the second's by less
/// than `margin` (scores are scaled so that first place in both rankings is 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertain {
    pub margin: f64,
}

/// All fitted settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub fusion: Fusion,
    pub decline: Decline,
    pub uncertain: Uncertain,
}

impl Calibration {
    pub fn parse(src: &str) -> Calibration {
        match toml::from_str::<Calibration>(src) {
            Ok(c)
                if c.decline.weights.len() == FEATURES.len()
                    && c.decline.means.len() == FEATURES.len()
                    && c.decline.scales.len() == FEATURES.len() =>
            {
                c
            }
            Ok(_) => panic!("embedded search calibration.toml does not have one weight per feature"),
            Err(e) => panic!("embedded search calibration.toml is invalid: {e}"),
        }
    }
}

/// The signals of the decline rule, in the order of [`Decline::weights`].
pub const FEATURES: [&str; 8] = [
    "concept_declined",
    "concept_best",
    "domain",
    "out_of_scope_words",
    "neighbours_out_of_scope",
    "nearest_in_scope",
    "nearest_out_of_scope",
    "engines_agree",
];

/// Votes of the first `k` neighbours: per point, and for out of scope.
pub fn votes(neighbours: &[Neighbour], k: usize, points: usize) -> (Vec<f64>, f64) {
    let mut per_point = vec![0.0; points];
    let mut out = 0.0;
    for n in neighbours.iter().take(k) {
        let sim = f64::from(n.sim);
        if n.label.in_scope() {
            for (p, v) in per_point.iter_mut().enumerate() {
                if n.label.has(p) {
                    *v += sim;
                }
            }
        } else {
            out += sim;
        }
    }
    (per_point, out)
}

/// Points with a vote, best first (ties in document order).
pub fn vote_ranking(per_point: &[f64]) -> Vec<usize> {
    let mut ranked: Vec<usize> = (0..per_point.len()).filter(|&p| per_point[p] > 0.0).collect();
    ranked.sort_by(|&a, &b| per_point[b].total_cmp(&per_point[a]).then(a.cmp(&b)));
    ranked
}

/// The weighted reciprocal-rank fusion of the concept ranking and the neighbour votes: points
/// and scores, best first, scaled so that first place in both rankings scores 1.
pub fn fuse(sig: &Signals, fusion: &Fusion, points: usize) -> Vec<(usize, f64)> {
    let (per_point, _) = votes(&sig.neighbours, fusion.neighbours, points);
    let memory_rank = vote_ranking(&per_point);
    let w = fusion.concept_weight;
    let k = fusion.rank_constant;
    let mut score = vec![0.0; points];
    for (r, &(p, _)) in sig.concept.ranked.iter().enumerate() {
        score[p] += w / (k + 1.0 + r as f64);
    }
    for (r, &p) in memory_rank.iter().enumerate() {
        score[p] += (1.0 - w) / (k + 1.0 + r as f64);
    }
    let top = 1.0 / (k + 1.0);
    let mut out: Vec<(usize, f64)> = (0..points).filter(|&p| score[p] > 0.0).map(|p| (p, score[p] / top)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The decline rule's inputs for one question.
pub fn features(sig: &Signals, fusion: &Fusion, points: usize) -> [f64; FEATURES.len()] {
    let c = &sig.concept;
    let (per_point, out) = votes(&sig.neighbours, fusion.neighbours, points);
    let total: f64 = per_point.iter().sum::<f64>() + out;
    let nearest = |in_scope: bool| {
        sig.neighbours.iter().find(|n| n.label.in_scope() == in_scope).map_or(0.0, |n| f64::from(n.sim))
    };
    let agree = match (c.ranked.first(), vote_ranking(&per_point).first()) {
        (Some(&(a, _)), Some(&b)) => a == b,
        _ => false,
    };
    [
        f64::from(u8::from(c.declined)),
        c.best.max(0.0).ln_1p(),
        f64::from(u8::from(c.domain)),
        c.out_of_scope.min(3.0),
        if total > 0.0 { out / total } else { 1.0 },
        nearest(true),
        nearest(false),
        f64::from(u8::from(agree)),
    ]
}

/// The probability that the question is out of scope, by the logistic rule.
pub fn out_of_scope_probability(x: &[f64], d: &Decline) -> f64 {
    let z = d.bias
        + x.iter()
            .zip(&d.weights)
            .zip(d.means.iter().zip(&d.scales))
            .map(|((x, w), (m, s))| w * (x - m) / s)
            .sum::<f64>();
    1.0 / (1.0 + (-z).exp())
}

/// The decision for one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub declined: bool,
    /// Fused points and scores, best first (empty when declined).
    pub ranked: Vec<(usize, f64)>,
    /// The points to quote: the points the question names, else the first three.
    pub results: Vec<(usize, f64)>,
    pub uncertain: bool,
    /// When uncertain, the next candidates after the first (at most [`MAX_ALTERNATIVES`]).
    pub alternatives: Vec<(usize, f64)>,
    /// When declined, whom to ask: a topic name, if any.
    pub topic: Option<String>,
}

/// At most this many points are quoted.
pub const MAX_RESULTS: usize = 3;
/// At most this many other candidates are offered when the first does not stand out.
pub const MAX_ALTERNATIVES: usize = 4;
/// The topic of a declined question about social media that no point answers: the
/// guideline's owner is the one to ask.
pub const GUIDELINE_TOPIC: &str = "guideline";

/// Decides about one question. `memory` is the memory the neighbours came from (it names their
/// topics).
pub fn decide(sig: &Signals, memory: &ExampleMemory, cal: &Calibration) -> Decision {
    let points = memory.point_ids().len();
    let ranked = fuse(sig, &cal.fusion, points);
    if !sig.concept.named.is_empty() {
        // A question that names a point by id (or an autocomplete choice) gets that point.
        let results: Vec<(usize, f64)> = sig
            .concept
            .named
            .iter()
            .take(MAX_RESULTS)
            .map(|&p| (p, ranked.iter().find(|r| r.0 == p).map_or(0.0, |r| r.1)))
            .collect();
        return Decision { declined: false, ranked, results, uncertain: false, alternatives: Vec::new(), topic: None };
    }
    let x = features(sig, &cal.fusion, points);
    if ranked.is_empty() || out_of_scope_probability(&x, &cal.decline) >= cal.decline.threshold {
        return Decision {
            declined: true,
            ranked: Vec::new(),
            results: Vec::new(),
            uncertain: false,
            alternatives: Vec::new(),
            topic: topic(sig, memory, cal),
        };
    }
    let margin = ranked[0].1 - ranked.get(1).map_or(0.0, |r| r.1);
    let uncertain = ranked.len() > 1 && margin < cal.uncertain.margin;
    let alternatives =
        if uncertain { ranked.iter().skip(1).take(MAX_ALTERNATIVES).copied().collect() } else { Vec::new() };
    let results = ranked.iter().take(MAX_RESULTS).copied().collect();
    Decision { declined: false, ranked, results, uncertain, alternatives, topic: None }
}

/// Whom to ask about a declined question: the topic of its out-of-scope words; else the topic
/// most of its out-of-scope neighbours share (when more of them have one than have none); else
/// the guideline's owner when it is about social media; else nobody.
pub fn topic(sig: &Signals, memory: &ExampleMemory, cal: &Calibration) -> Option<String> {
    if let Some(t) = &sig.concept.topic {
        return Some(t.clone());
    }
    let mut by_topic: Vec<(u8, f64)> = Vec::new();
    let mut none = 0.0;
    for n in sig.neighbours.iter().take(cal.fusion.neighbours).filter(|n| !n.label.in_scope()) {
        match n.label.topic {
            Some(t) => match by_topic.iter_mut().find(|(x, _)| *x == t) {
                Some((_, v)) => *v += f64::from(n.sim),
                None => by_topic.push((t, f64::from(n.sim))),
            },
            None => none += f64::from(n.sim),
        }
    }
    by_topic.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    match by_topic.first() {
        Some(&(t, v)) if v > none => Some(memory.topic_name(t).to_string()),
        _ => sig.concept.domain.then(|| GUIDELINE_TOPIC.to_string()),
    }
}
