//! Fitting the [`Calibration`] from labelled questions: the fusion weights by a grid search, the
//! decline rule by logistic regression and a cost-weighted threshold, the margin rule by a
//! one-variable logistic regression. The caller hands in rows whose signals were computed with
//! each question left out of the memory (see `guideline::eval`): fitting never sees a question
//! in the memory it was scored against. Deterministic: same rows, same calibration.

use super::fusion::{
    decide, features, fuse, out_of_scope_probability, Calibration, Decline, Fusion, Signals, Uncertain, FEATURES,
};
use super::memory::ExampleMemory;

/// One labelled question with its signals.
#[derive(Debug, Clone)]
pub struct Row {
    pub signals: Signals,
    /// The expected points as bits in document order; 0 for an out-of-scope question.
    pub expect: u64,
}

impl Row {
    fn in_scope(&self) -> bool {
        self.expect != 0
    }

    fn named(&self) -> bool {
        !self.signals.concept.named.is_empty()
    }
}

/// Candidate fusion settings (every combination is tried).
const CONCEPT_WEIGHTS: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const RANK_CONSTANTS: [f64; 5] = [1.0, 2.0, 5.0, 10.0, 30.0];
const NEIGHBOURS: [usize; 5] = [3, 5, 10, 20, 40];

/// A wrong decline of an in-scope question costs this many times an answered out-of-scope
/// question: the product owner's targets allow 5 % of the one and 15 % of the other.
pub const WRONG_DECLINE_COST: f64 = 3.0;

/// The first point does not clearly stand out where a right first answer is predicted less often
/// than this.
pub const CONFIDENT: f64 = 0.8;

/// L2 penalty of the logistic regressions (on standardised features).
const RIDGE: f64 = 1.0;

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The calibration that fits `rows` best. `points` is the number of guideline points.
pub fn fit(rows: &[Row], points: usize, memory_for_topics: &ExampleMemory) -> Calibration {
    let fusion = fit_fusion(rows, points);
    let decline = fit_decline(rows, &fusion, points);
    let mut cal = Calibration { fusion, decline, uncertain: Uncertain { margin: 0.0 } };
    cal.uncertain = fit_uncertain(rows, &cal, memory_for_topics);
    cal
}

/// The grid point with the most in-scope questions answered right first plus right among the
/// first three (ties: the first in grid order).
fn fit_fusion(rows: &[Row], points: usize) -> Fusion {
    let mut best: Option<(usize, Fusion)> = None;
    for &neighbours in &NEIGHBOURS {
        for &rank_constant in &RANK_CONSTANTS {
            for &concept_weight in &CONCEPT_WEIGHTS {
                let f = Fusion { concept_weight, rank_constant, neighbours };
                let mut score = 0;
                for r in rows.iter().filter(|r| r.in_scope()) {
                    let ranked = fuse(&r.signals, &f, points);
                    let hit = |i: usize| ranked.get(i).is_some_and(|&(p, _)| r.expect & (1 << p) != 0);
                    score += usize::from(hit(0)) + usize::from((0..3).any(hit));
                }
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, f));
                }
            }
        }
    }
    best.map(|(_, f)| f).unwrap_or(Fusion { concept_weight: 0.5, rank_constant: 5.0, neighbours: 10 })
}

/// Standardises columns: means and scales (standard deviations, 1 for a constant column).
fn standardise(xs: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let d = xs.first().map_or(0, Vec::len);
    let n = xs.len().max(1) as f64;
    let means: Vec<f64> = (0..d).map(|j| xs.iter().map(|x| x[j]).sum::<f64>() / n).collect();
    let scales: Vec<f64> = (0..d)
        .map(|j| {
            let v = xs.iter().map(|x| (x[j] - means[j]).powi(2)).sum::<f64>() / n;
            if v > 1e-12 {
                v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    (means, scales)
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting (`a` is small and
/// positive definite here; a singular pivot leaves that unknown at zero).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        if a[col][col].abs() < 1e-12 {
            continue;
        }
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        if a[i][i].abs() < 1e-12 {
            continue;
        }
        let s: f64 = (i + 1..n).map(|k| a[i][k] * x[k]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    x
}

/// Logistic regression by Newton's method with an L2 penalty on the weights (not the bias).
/// Returns the bias and the weights.
pub fn logistic(xs: &[Vec<f64>], ys: &[bool], ridge: f64) -> (f64, Vec<f64>) {
    let d = xs.first().map_or(0, Vec::len) + 1;
    let mut beta = vec![0.0; d];
    for _ in 0..50 {
        let mut g = vec![0.0; d];
        let mut h = vec![vec![0.0; d]; d];
        for (x, &y) in xs.iter().zip(ys) {
            let z = beta[0] + x.iter().zip(&beta[1..]).map(|(a, b)| a * b).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let r = p - f64::from(u8::from(y));
            let w = (p * (1.0 - p)).max(1e-9);
            let row: Vec<f64> = std::iter::once(1.0).chain(x.iter().copied()).collect();
            for i in 0..d {
                g[i] += r * row[i];
                for j in 0..d {
                    h[i][j] += w * row[i] * row[j];
                }
            }
        }
        for i in 1..d {
            g[i] += ridge * beta[i];
            h[i][i] += ridge;
        }
        let step = solve(h, g);
        for (b, s) in beta.iter_mut().zip(&step) {
            *b -= s;
        }
        if step.iter().all(|s| s.abs() < 1e-10) {
            break;
        }
    }
    (beta[0], beta[1..].to_vec())
}

/// The decline rule: logistic regression of "out of scope" on [`FEATURES`], then the threshold
/// with the lowest cost (answered out-of-scope share + [`WRONG_DECLINE_COST`] × declined
/// in-scope share; ties: the highest threshold). Questions that name a point are never
/// declined and are left out.
fn fit_decline(rows: &[Row], fusion: &Fusion, points: usize) -> Decline {
    let rows: Vec<&Row> = rows.iter().filter(|r| !r.named()).collect();
    let raw: Vec<Vec<f64>> = rows.iter().map(|r| features(&r.signals, fusion, points).to_vec()).collect();
    let (means, scales) = standardise(&raw);
    let xs: Vec<Vec<f64>> =
        raw.iter().map(|x| x.iter().zip(means.iter().zip(&scales)).map(|(v, (m, s))| (v - m) / s).collect()).collect();
    let ys: Vec<bool> = rows.iter().map(|r| !r.in_scope()).collect();
    let (bias, weights) = logistic(&xs, &ys, RIDGE);
    let mut decline = Decline {
        bias: round4(bias),
        weights: weights.into_iter().map(round4).collect(),
        means: means.into_iter().map(round4).collect(),
        scales: scales.into_iter().map(|s| round4(s).max(1e-4)).collect(),
        threshold: 1.0,
    };
    debug_assert_eq!(decline.weights.len(), FEATURES.len());
    let mut scored: Vec<(f64, bool)> =
        raw.iter().zip(&ys).map(|(x, &oos)| (out_of_scope_probability(x, &decline), oos)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let n_out = ys.iter().filter(|&&y| y).count().max(1) as f64;
    let n_in = ys.iter().filter(|&&y| !y).count().max(1) as f64;
    // Declining nothing: every out-of-scope question is answered.
    let (mut best_cost, mut best_t) = (1.0, 1.0);
    let (mut declined_out, mut declined_in) = (0.0, 0.0);
    for i in 0..scored.len() {
        if scored[i].1 {
            declined_out += 1.0;
        } else {
            declined_in += 1.0;
        }
        // Only between distinct probabilities can a threshold separate them.
        if scored.get(i + 1).is_some_and(|next| next.0 == scored[i].0) {
            continue;
        }
        let cost = (1.0 - declined_out / n_out) + WRONG_DECLINE_COST * declined_in / n_in;
        if cost < best_cost {
            best_cost = cost;
            let below = scored.get(i + 1).map_or(0.0, |next| next.0);
            best_t = (scored[i].0 + below) / 2.0;
        }
    }
    decline.threshold = round4(best_t);
    decline
}

/// The margin below which the first answer is right less than [`CONFIDENT`] of the time, by a
/// logistic regression of "first point right" on the margin over the answered in-scope rows.
fn fit_uncertain(rows: &[Row], cal: &Calibration, memory: &ExampleMemory) -> Uncertain {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for r in rows.iter().filter(|r| r.in_scope() && !r.named()) {
        let d = decide(&r.signals, memory, cal);
        if d.declined || d.ranked.len() < 2 {
            continue;
        }
        xs.push(vec![d.ranked[0].1 - d.ranked[1].1]);
        ys.push(r.expect & (1 << d.ranked[0].0) != 0);
    }
    if xs.is_empty() {
        return Uncertain { margin: 0.0 };
    }
    // No penalty: one variable, and its raw scale is the one the rule is stated in.
    let (a, w) = logistic(&xs, &ys, 0.0);
    let b = w[0];
    let logit = (CONFIDENT / (1.0 - CONFIDENT)).ln();
    let margin = if b > 1e-9 { ((logit - a) / b).clamp(0.0, 1.0) } else { 0.0 };
    Uncertain { margin: round4(margin) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_regression_separates_and_predicts() {
        // y = 1 for x > 0, with noise in the middle.
        let xs: Vec<Vec<f64>> = (-20..=20).map(|i| vec![f64::from(i) / 10.0]).collect();
        let ys: Vec<bool> = (-20i32..=20).map(|i| if i.abs() <= 2 { i % 2 == 0 } else { i > 0 }).collect();
        let (b, w) = logistic(&xs, &ys, 0.1);
        assert!(w[0] > 1.0, "{w:?}");
        assert!(b.abs() < 1.0, "{b}");
        let p = |x: f64| 1.0 / (1.0 + (-(b + w[0] * x)).exp());
        assert!(p(1.5) > 0.9 && p(-1.5) < 0.1);
    }

    #[test]
    fn solve_solves() {
        let x = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![3.0, 5.0]);
        assert!((x[0] - 0.8).abs() < 1e-9 && (x[1] - 1.4).abs() < 1e-9, "{x:?}");
    }

    #[test]
    fn standardised_columns() {
        let (m, s) = standardise(&[vec![1.0, 5.0], vec![3.0, 5.0]]);
        assert_eq!(m, [2.0, 5.0]);
        assert_eq!(s, [1.0, 1.0]);
    }
}
