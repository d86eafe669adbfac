//! Quoting the guideline: points rendered with their ids, the section title and the source,
//! split into pages that keep within Discord's embed limits. A quotation is never cut: a page
//! ends between points.

use crate::core::reply::limits;
use crate::core::{Embed, Tone};
use crate::guideline::{GuidelineDoc, GuidelinePoint};
use crate::i18n::{t, Locale};

/// One point as a quotation block: the id in bold, then the words as a block quote.
pub fn point_block(p: &GuidelinePoint, with_before: bool) -> String {
    let mut out = String::new();
    if with_before {
        if let Some(b) = &p.before {
            out.push_str(&format!("*{}*\n\n", b));
        }
    }
    out.push_str(&format!("**{}**\n", p.id));
    let quoted: Vec<String> =
        p.text.split('\n').map(|line| if line.is_empty() { ">".to_string() } else { format!("> {line}") }).collect();
    out.push_str(&quoted.join("\n"));
    out
}

/// The source line under every quotation, marking translations as unofficial.
pub fn source_line(locale: Locale) -> String {
    let official = GuidelineDoc::official();
    let key =
        if GuidelineDoc::for_locale(locale).official { "guideline.source" } else { "guideline.source-unofficial" };
    t(locale, key, &[("title", &official.title), ("date", &official.date)])
}

/// Packs blocks into pages whose description fits one embed. A single block longer than an
/// embed (none is in the document; a test checks) gets a page of its own split at line ends.
pub fn paginate(blocks: &[String], budget: usize) -> Vec<String> {
    let mut pages = Vec::new();
    let mut current = String::new();
    for b in blocks {
        let extra = if current.is_empty() { b.chars().count() } else { b.chars().count() + 2 };
        if !current.is_empty() && current.chars().count() + extra > budget {
            pages.push(std::mem::take(&mut current));
        }
        if b.chars().count() > budget {
            // Split at line boundaries so nothing is dropped.
            for line in b.split('\n') {
                if current.chars().count() + line.chars().count() + 1 > budget && !current.is_empty() {
                    pages.push(std::mem::take(&mut current));
                }
                if !current.is_empty() {
                    current.push('\n');
                }
                current.push_str(line);
            }
            continue;
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(b);
    }
    if !current.is_empty() {
        pages.push(current);
    }
    pages
}

/// The budget for one page's description: the embed limit, and the total limit less what
/// the title and footer take.
pub fn page_budget(title: &str, footer: &str) -> usize {
    let fixed = title.chars().count() + footer.chars().count() + 16;
    limits::EMBED_DESCRIPTION.min(limits::EMBED_TOTAL.saturating_sub(fixed))
}

/// A section's title as shown: `3. Tilsette sin bruk av sosiale medium med privat profil`.
pub fn section_title(locale: Locale, section_id: &str) -> String {
    let doc = GuidelineDoc::for_locale(locale);
    match doc.section(section_id) {
        Some(s) => format!("{}. {}", s.id, s.title),
        None => doc.title.clone(),
    }
}

/// The pages (one embed each) quoting a whole section.
pub fn section_pages(locale: Locale, section_id: &str) -> Vec<Embed> {
    let doc = GuidelineDoc::for_locale(locale);
    let blocks: Vec<String> = doc.points_of(section_id).map(|p| point_block(p, true)).collect();
    embeds(locale, section_title(locale, section_id), &blocks)
}

/// The pages quoting the given points (in the order given).
pub fn points_pages(locale: Locale, title: String, ids: &[&str]) -> Vec<Embed> {
    let doc = GuidelineDoc::for_locale(locale);
    let blocks: Vec<String> = ids.iter().filter_map(|id| doc.point(id)).map(|p| point_block(p, false)).collect();
    embeds(locale, title, &blocks)
}

fn embeds(locale: Locale, title: String, blocks: &[String]) -> Vec<Embed> {
    let footer = source_line(locale);
    let budget = page_budget(&title, &footer);
    let pages = paginate(blocks, budget);
    let n = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(i, description)| Embed {
            title: Some(if n > 1 { format!("{title} ({}/{n})", i + 1) } else { title.clone() }),
            description: Some(description),
            fields: Vec::new(),
            footer: Some(footer.clone()),
            tone: Some(Tone::Guideline),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_fits_and_quotes_every_point_verbatim() {
        for locale in Locale::ALL {
            let doc = GuidelineDoc::for_locale(locale);
            for s in &doc.sections {
                let pages = section_pages(locale, &s.id);
                assert!(!pages.is_empty());
                let all: String = pages.iter().filter_map(|e| e.description.clone()).collect::<Vec<_>>().join("\n");
                for p in doc.points_of(&s.id) {
                    for line in p.text.split('\n').filter(|l| !l.is_empty()) {
                        assert!(all.contains(line), "{} missing from section {}", p.id, s.id);
                    }
                }
                let msg = crate::core::Message { embeds: pages, ..Default::default() };
                assert!(msg.check_limits().is_empty(), "{:?}", msg.check_limits());
            }
        }
    }

    #[test]
    fn paginate_never_drops_text() {
        let blocks: Vec<String> = (0..50).map(|i| format!("block {i} {}", "x".repeat(300))).collect();
        let pages = paginate(&blocks, 1000);
        assert!(pages.len() > 1);
        assert!(pages.iter().all(|p| p.chars().count() <= 1000));
        let joined = pages.join("\n\n");
        for b in &blocks {
            assert!(joined.contains(b.as_str()));
        }
        let huge = vec![format!("{}\n{}", "a".repeat(900), "b".repeat(900))];
        let pages = paginate(&huge, 1000);
        assert_eq!(pages.len(), 2);
    }

    #[test]
    fn translations_are_marked_unofficial() {
        assert!(source_line(Locale::En).to_lowercase().contains("unofficial"));
        assert!(source_line(Locale::Nn).contains("01.01.2020"));
    }
}
