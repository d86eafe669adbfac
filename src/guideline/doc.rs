//! The guideline document as data: sections and numbered points, loaded from
//! `prompts/guideline/*.toml` (embedded at build time so the binary is self-contained).
//!
//! Nynorsk (`nn.toml`) is the official text and is quoted verbatim; English (`en.toml`) is an
//! unofficial translation with the same ids and is always marked as such where it is shown.

use once_cell::sync::Lazy;
use serde::Deserialize;

use crate::i18n::Locale;

/// A section of the document (`1`, `2`, `3`); `slug` is the `/guideline` subcommand name.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Section {
    pub id: String,
    pub slug: String,
    pub title: String,
}

/// One numbered point (`1.4`, `2e`, `3h`), the preamble (`0`) or section 1's opening (`1`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct GuidelinePoint {
    /// Stable id used in commands, search results and stored feedback.
    pub id: String,
    /// The section id this point belongs to (`0` for the preamble).
    pub section: String,
    /// The label as printed in the document (`4.`, `h)`), empty for unnumbered paragraphs.
    pub label: String,
    /// An unnumbered paragraph that stands right before this point in the document.
    #[serde(default)]
    pub before: Option<String>,
    /// The wording, verbatim.
    pub text: String,
}

/// The whole document in one language.
#[derive(Debug, Clone, Deserialize)]
pub struct GuidelineDoc {
    pub title: String,
    pub date: String,
    pub language: String,
    /// True for the official Nynorsk text, false for translations.
    pub official: bool,
    pub sections: Vec<Section>,
    pub points: Vec<GuidelinePoint>,
}

impl GuidelineDoc {
    fn parse(src: &str, what: &str) -> Self {
        match toml::from_str(src) {
            Ok(doc) => doc,
            // The files are embedded and checked by tests; a parse failure is a build defect.
            Err(e) => panic!("embedded guideline {what} is invalid: {e}"),
        }
    }

    /// The official Nynorsk document.
    pub fn official() -> &'static GuidelineDoc {
        &NN
    }

    /// The document in `locale` (English falls back to nothing: the translation is complete,
    /// which a test checks).
    pub fn for_locale(locale: Locale) -> &'static GuidelineDoc {
        match locale {
            Locale::Nn => &NN,
            Locale::En => &EN,
        }
    }

    /// Looks a point up by id, tolerating case and spaces (`3H`, ` 1.4 `).
    pub fn point(&self, id: &str) -> Option<&GuidelinePoint> {
        let wanted = normalize_id(id);
        self.points.iter().find(|p| p.id == wanted)
    }

    /// The point a user means by `typed` in the section `section_id`: the document's own
    /// numbering within the section first (`7` in section 1 is 1.7, `a` in section 2 is 2a),
    /// then a full id anywhere in the document (`1.7`, `3h`), which may be of another section.
    pub fn point_in_section(&self, section_id: &str, typed: &str) -> Option<&GuidelinePoint> {
        let wanted = normalize_id(typed);
        if wanted.is_empty() {
            return None;
        }
        self.points
            .iter()
            .find(|p| p.section == section_id && !p.label.is_empty() && normalize_id(&p.label) == wanted)
            .or_else(|| self.point(&wanted))
    }

    /// The section with this id or slug.
    pub fn section(&self, id_or_slug: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id_or_slug || s.slug == id_or_slug)
    }

    /// The points of a section in document order.
    pub fn points_of<'a>(&'a self, section_id: &'a str) -> impl Iterator<Item = &'a GuidelinePoint> {
        self.points.iter().filter(move |p| p.section == section_id)
    }

    /// All point ids in document order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.points.iter().map(|p| p.id.as_str())
    }
}

/// Normalises a user-typed point id: trims, lowercases, drops inner spaces and a trailing dot.
pub fn normalize_id(id: &str) -> String {
    let mut s: String = id.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    while s.ends_with('.') || s.ends_with(')') {
        s.pop();
    }
    s
}

static NN: Lazy<GuidelineDoc> =
    Lazy::new(|| GuidelineDoc::parse(include_str!("../../prompts/guideline/nn.toml"), "nn"));
static EN: Lazy<GuidelineDoc> =
    Lazy::new(|| GuidelineDoc::parse(include_str!("../../prompts/guideline/en.toml"), "en"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_complete_and_in_order() {
        let ids: Vec<&str> = GuidelineDoc::official().ids().collect();
        let mut want = vec!["0".to_string(), "1".to_string()];
        want.extend((1..=11).map(|n| format!("1.{n}")));
        want.extend(('a'..='j').map(|c| format!("2{c}")));
        want.extend(('a'..='h').map(|c| format!("3{c}")));
        assert_eq!(ids, want);
    }

    #[test]
    fn translation_has_the_same_structure() {
        let nn = GuidelineDoc::official();
        let en = GuidelineDoc::for_locale(Locale::En);
        assert!(nn.official && !en.official);
        assert_eq!(nn.ids().collect::<Vec<_>>(), en.ids().collect::<Vec<_>>());
        for (a, b) in nn.points.iter().zip(&en.points) {
            assert_eq!(a.section, b.section, "{}", a.id);
            assert_eq!(a.label, b.label, "{}", a.id);
            assert_eq!(a.before.is_some(), b.before.is_some(), "{}", a.id);
            assert!(!b.text.trim().is_empty(), "{} has no translation", a.id);
        }
        let slugs = |d: &GuidelineDoc| d.sections.iter().map(|s| s.slug.clone()).collect::<Vec<_>>();
        assert_eq!(slugs(nn), slugs(en));
    }

    #[test]
    fn the_documents_own_numbering_finds_points_in_a_section() {
        let doc = GuidelineDoc::official();
        let id = |section: &str, typed: &str| doc.point_in_section(section, typed).map(|p| p.id.as_str());
        assert_eq!(id("1", "7"), Some("1.7"));
        assert_eq!(id("1", "7."), Some("1.7"));
        assert_eq!(id("1", "11"), Some("1.11"));
        assert_eq!(id("1", "1"), Some("1.1"), "the document's point 1. of section 1");
        assert_eq!(id("2", "a"), Some("2a"));
        assert_eq!(id("2", "A)"), Some("2a"));
        assert_eq!(id("3", "h"), Some("3h"));
        // Full ids work everywhere, also for a point of another section.
        assert_eq!(id("1", "1.7"), Some("1.7"));
        assert_eq!(id("2", "1.7"), Some("1.7"));
        assert_eq!(id("1", "2a"), Some("2a"));
        // A letter is no point of section 1, and section 2 has no `k`.
        assert_eq!(id("1", "a"), None);
        assert_eq!(id("2", "k"), None);
        assert_eq!(id("2", ""), None);
    }

    #[test]
    fn point_lookup_tolerates_typing() {
        let doc = GuidelineDoc::official();
        assert_eq!(doc.point(" 3H ").map(|p| p.id.as_str()), Some("3h"));
        assert_eq!(doc.point("1.4.").map(|p| p.id.as_str()), Some("1.4"));
        assert_eq!(doc.point("2 a)").map(|p| p.id.as_str()), Some("2a"));
        assert!(doc.point("4a").is_none());
    }
}
