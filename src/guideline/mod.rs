//! The guideline document, lookup by point id, and the question search engine.

pub mod doc;
pub mod eval;
pub mod search;

pub use doc::{GuidelineDoc, GuidelinePoint, Section};
