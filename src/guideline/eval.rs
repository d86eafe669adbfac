//! Placeholder evaluation; replaced by the real one.

use std::path::Path;

/// Evaluation figures.
#[derive(Debug)]
pub struct EvalReport;

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not implemented")
    }
}

/// Scores the search engine.
pub fn evaluate(_path: &Path) -> std::io::Result<EvalReport> {
    Ok(EvalReport)
}
