//! The guideline document, lookup by point id, quoting, the question search engine and the
//! `/guideline` command.

pub mod doc;
pub mod eval;
pub mod handlers;
pub mod render;
pub mod search;

pub use doc::{GuidelineDoc, GuidelinePoint, Section};
