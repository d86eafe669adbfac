//! The custom ids of `/guideline` answers (`gl:` prefix), formatted and parsed here only.

use crate::core::ids::{fields, CustomId};
use crate::guideline::GuidelineDoc;
use crate::i18n::Locale;

/// A button on a guideline answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuidelineId {
    /// Page `page` of a section: `gl:page:<section>:<lang>:<page>`.
    Page { section: String, locale: Locale, page: usize },
    /// Share these points in the channel, in this language: `gl:share:<lang>:<points>`.
    Share { locale: Locale, points: Vec<String> },
    /// Show the official Nynorsk text of these points: `gl:official:<points>`.
    Official { points: Vec<String> },
    /// A vote on an answered question: `gl:vote:<question>:<up|down>`.
    Vote { question: i64, up: bool },
    /// The "did you mean" menu of an uncertain answer: `gl:pick:<question>`; the chosen point
    /// comes as the menu's value.
    Pick { question: i64 },
    /// `/guideline review`: the points of one section that answer the question under review
    /// (a menu; the points come as its values): `gl:rv-points:<question>:<section>`.
    ReviewPoints { question: i64, section: String },
    /// `/guideline review`: the question is out of scope: `gl:rv-out:<question>`.
    ReviewOutOfScope { question: i64 },
    /// `/guideline review`: on to the next question: `gl:rv-skip:<question>`.
    ReviewSkip { question: i64 },
}

fn locale(code: &str) -> Option<Locale> {
    Locale::ALL.into_iter().find(|l| l.code() == code)
}

/// The point list as it goes into a custom id. Whole sections are named by section (`s1`) so the
/// id stays short.
fn points_token(ids: &[String]) -> String {
    let doc = GuidelineDoc::official();
    for s in &doc.sections {
        let all: Vec<String> = doc.points_of(&s.id).map(|p| p.id.clone()).collect();
        if all == ids {
            return format!("s{}", s.id);
        }
    }
    ids.join(",")
}

/// Reverses [`points_token`]; unknown points are dropped, `None` when none is left.
fn parse_points(token: &str) -> Option<Vec<String>> {
    let doc = GuidelineDoc::official();
    if let Some(section) = token.strip_prefix('s') {
        if doc.section(section).is_some() {
            return Some(doc.points_of(section).map(|p| p.id.clone()).collect());
        }
    }
    let ids: Vec<String> =
        token.split(',').filter_map(|id| doc.point(id).map(|p| p.id.clone())).take(MAX_POINTS).collect();
    (!ids.is_empty()).then_some(ids)
}

/// The most points one share button names.
pub const MAX_POINTS: usize = 12;

impl CustomId for GuidelineId {
    const PREFIXES: &'static [&'static str] = &["gl"];

    fn parse(id: &str) -> Option<Self> {
        let rest = id.strip_prefix("gl:")?;
        let (kind, _) = rest.split_once(':')?;
        match kind {
            "page" => {
                let [section, lang, page] = fields::<3>(rest, "page")?;
                GuidelineDoc::official().section(&section)?;
                Some(GuidelineId::Page { section, locale: locale(&lang)?, page: page.parse().ok()? })
            }
            "share" => {
                let [lang, token] = fields::<2>(rest, "share")?;
                Some(GuidelineId::Share { locale: locale(&lang)?, points: parse_points(&token)? })
            }
            "official" => {
                let [token] = fields::<1>(rest, "official")?;
                Some(GuidelineId::Official { points: parse_points(&token)? })
            }
            "vote" => {
                let [question, dir] = fields::<2>(rest, "vote")?;
                let up = match dir.as_str() {
                    "up" => true,
                    "down" => false,
                    _ => return None,
                };
                Some(GuidelineId::Vote { question: question.parse().ok()?, up })
            }
            "pick" => {
                let [question] = fields::<1>(rest, "pick")?;
                Some(GuidelineId::Pick { question: question.parse().ok()? })
            }
            "rv-points" => {
                let [question, section] = fields::<2>(rest, "rv-points")?;
                GuidelineDoc::official().section(&section)?;
                Some(GuidelineId::ReviewPoints { question: question.parse().ok()?, section })
            }
            "rv-out" => {
                let [question] = fields::<1>(rest, "rv-out")?;
                Some(GuidelineId::ReviewOutOfScope { question: question.parse().ok()? })
            }
            "rv-skip" => {
                let [question] = fields::<1>(rest, "rv-skip")?;
                Some(GuidelineId::ReviewSkip { question: question.parse().ok()? })
            }
            _ => None,
        }
    }

    fn format(&self) -> String {
        match self {
            GuidelineId::Page { section, locale, page } => format!("gl:page:{section}:{}:{page}", locale.code()),
            GuidelineId::Share { locale, points } => format!("gl:share:{}:{}", locale.code(), points_token(points)),
            GuidelineId::Official { points } => format!("gl:official:{}", points_token(points)),
            GuidelineId::Vote { question, up } => {
                format!("gl:vote:{question}:{}", if *up { "up" } else { "down" })
            }
            GuidelineId::Pick { question } => format!("gl:pick:{question}"),
            GuidelineId::ReviewPoints { question, section } => format!("gl:rv-points:{question}:{section}"),
            GuidelineId::ReviewOutOfScope { question } => format!("gl:rv-out:{question}"),
            GuidelineId::ReviewSkip { question } => format!("gl:rv-skip:{question}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_whole_sections_briefly() {
        let doc = GuidelineDoc::official();
        for s in &doc.sections {
            let ids: Vec<String> = doc.points_of(&s.id).map(|p| p.id.clone()).collect();
            assert_eq!(points_token(&ids), format!("s{}", s.id));
            assert_eq!(parse_points(&points_token(&ids)), Some(ids));
        }
        assert_eq!(parse_points("9z,<@1>"), None);
        assert_eq!(parse_points("3h,9z"), Some(vec!["3h".to_string()]));
    }
}
