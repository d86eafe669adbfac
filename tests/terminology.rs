//! One term per concept and one voice in every Nynorsk text the bot says: the message catalogue
//! (`prompts/messages/nn/`) and the Nynorsk strings of the conversation scripts
//! (`prompts/scripts/`). The lists follow the language editor's review of the texts (issue 14,
//! «One term per concept» and «Voice»); what cannot be checked by machine (du/de within a text,
//! «kanal på serveren», «under» only above a real menu) stays with the reviewer.
//!
//! Not checked: the quoted guideline (`prompts/guideline/`, verbatim, keeps its own words) and
//! the search data (`prompts/search/`, holds users' words on purpose).

use std::collections::BTreeSet;

use somebot::channel_request::Script;
use somebot::i18n::{catalogue, Locale};

/// A concept, the term the texts use for it, and the forms a text must not use instead.
struct Term {
    chosen: &'static str,
    /// Whole words (lower case) or phrases of whole words that must not appear.
    rejected: &'static [&'static str],
}

const TERMS: &[Term] = &[
    // «avvise» is dismissing a case unexamined; every refusal is «avslå».
    Term { chosen: "avslå / avslått", rejected: &["avvis", "avvise", "avviser", "avviste", "avvist"] },
    Term {
        chosen: "samandrag",
        rejected: &["oppsummering", "oppsummeringa", "oppsummeringar", "oppsummere", "oppsummert"],
    },
    Term { chosen: "søknad", rejected: &["førespurnad", "førespurnaden", "førespurnader"] },
    Term { chosen: "vedlegg", rejected: &["prov", "provet"] },
    Term { chosen: "kryptert", rejected: &["låst"] },
    Term { chosen: "høgst", rejected: &["maks"] },
    Term { chosen: "leggje / liggje", rejected: &["legge", "ligge"] },
    Term { chosen: "merke", rejected: &["marker", "markere", "markerer", "markert"] },
    Term { chosen: "sørgje for", rejected: &["syte", "syter", "sytt"] },
    Term { chosen: "viss", rejected: &["dersom"] },
    // Point 3h's role takes no possessive: «næraste leiar», not «næraste leiar din».
    Term { chosen: "næraste leiar", rejected: &["næraste leiar din", "næraste leiaren din"] },
    // «registeret» is the register of approved channels only.
    Term {
        chosen: "oversikta over leiarar",
        rejected: &["registeret over leiarar", "register over leiarar", "leiar i registeret", "leiarar i registeret"],
    },
];

/// The bot speaks as «eg», and the user (on buttons too) as «du»: no «vi» anywhere.
const NOT_THE_VOICE: &[&str] = &["vi", "oss", "vår", "vårt", "våre"];

/// Drops placeholders and code spans; with `quotes`, also what stands in «» (example answers
/// such as «Volda bibliotek» and button names are someone else's words, not the bot's voice).
fn prose(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skip_until: Option<char> = None;
    for c in text.chars() {
        if let Some(end) = skip_until {
            if c == end {
                skip_until = None;
            }
            out.push(' ');
            continue;
        }
        match c {
            '{' => skip_until = Some('}'),
            '`' => skip_until = Some('`'),
            '«' if quotes => skip_until = Some('»'),
            _ => out.push(c),
        }
    }
    out
}

/// Lower-case words, split on everything that is not a letter or digit.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let p: Vec<&str> = phrase.split(' ').collect();
    words.windows(p.len()).any(|w| w.iter().zip(&p).all(|(a, b)| a == b))
}

/// Every Nynorsk text with where it comes from.
fn nynorsk_texts() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        catalogue(Locale::Nn).iter().map(|(k, v)| (format!("messages: {k}"), v.clone())).collect();
    for (i, t) in Script::new_channel().texts(Locale::Nn).into_iter().enumerate() {
        out.push((format!("new-channel script text {i}"), t.to_string()));
    }
    out
}

fn term_violations(texts: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (place, text) in texts {
        let w = words(&prose(text, false));
        for term in TERMS {
            for r in term.rejected {
                if contains_phrase(&w, r) {
                    bad.push(format!("{place}: «{r}» (use «{}»): {text}", term.chosen));
                }
            }
        }
    }
    bad
}

fn voice_violations(texts: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (place, text) in texts {
        let w: BTreeSet<String> = words(&prose(text, true)).into_iter().collect();
        for v in NOT_THE_VOICE {
            if w.contains(*v) {
                bad.push(format!("{place}: «{v}» (the bot says «eg», the user «du»): {text}"));
            }
        }
    }
    bad
}

/// Participles agree with their noun: «meldinga er send», «svaret er sendt»; and a count takes
/// no plural participle («No er 1 valde»). Checked where the noun is in the same sentence: a
/// definite masculine or feminine noun (ending in -en or -a), «han» or «ho» right before
/// «er/vart/blir (… og) sendt».
fn agreement_violations(texts: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (place, text) in texts {
        if text.contains("{count} valde") {
            bad.push(format!("{place}: «{{count}} valde» (a number takes «valt»): {text}"));
        }
        let w = words(&prose(text, false));
        for (i, word) in w.iter().enumerate() {
            if word != "sendt" {
                continue;
            }
            // «X er sendt» or «X er lagra og sendt».
            let verb_at = if i >= 3 && w[i - 1] == "og" { i - 3 } else { i.saturating_sub(1) };
            if verb_at == 0 || !matches!(w[verb_at].as_str(), "er" | "vart" | "blir") {
                continue;
            }
            let subject = &w[verb_at - 1];
            if subject == "han" || subject == "ho" || subject.ends_with("en") || subject.ends_with('a') {
                bad.push(format!("{place}: «{subject} … sendt» (masculine/feminine takes «send»): {text}"));
            }
        }
    }
    bad
}

/// «avdelingsleiaren» (point 1.7) is always definite; the bare title only stands before a name
/// («Avdelingsleiar {by} har avklart»), after «som» («ført opp som avdelingsleiar») or alone as
/// a label. «Avdelingsleiar har avklart» reads as officialese.
fn bare_title_violations(texts: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (place, text) in texts {
        if text.trim().eq_ignore_ascii_case("avdelingsleiar") {
            continue;
        }
        // Placeholders stay as words here: «{by}» after the title is a name.
        let w: Vec<String> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '{' || c == '}'))
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        for (i, word) in w.iter().enumerate() {
            if word != "avdelingsleiar" {
                continue;
            }
            let before_name = w.get(i + 1).is_some_and(|n| n.starts_with('{'));
            let as_role = i > 0 && w[i - 1] == "som";
            if !before_name && !as_role {
                bad.push(format!("{place}: bare «avdelingsleiar» (use «avdelingsleiaren»): {text}"));
            }
        }
    }
    bad
}

#[test]
fn nynorsk_texts_use_one_term_per_concept() {
    let texts = nynorsk_texts();
    let mut bad = term_violations(&texts);
    bad.extend(bare_title_violations(&texts));
    assert!(bad.is_empty(), "rejected terms in Nynorsk texts:\n{}", bad.join("\n"));
}

#[test]
fn the_bot_speaks_as_eg_and_nobody_as_vi() {
    let bad = voice_violations(&nynorsk_texts());
    assert!(bad.is_empty(), "«vi» in Nynorsk texts:\n{}", bad.join("\n"));
}

#[test]
fn participles_agree() {
    let texts = nynorsk_texts();
    let mut bad = agreement_violations(&texts);
    // «Meldinga {reference} er {status}»: a report's status is said of «meldinga» (feminine).
    let status = catalogue(Locale::Nn).get("report.status-sent").expect("report.status-sent exists");
    if words(status).last().map(String::as_str) == Some("sendt") {
        bad.push(format!("messages: report.status-sent: «{status}» follows «Meldinga … er» (use «send»)"));
    }
    assert!(bad.is_empty(), "participles that do not agree:\n{}", bad.join("\n"));
}

/// The head *avklarer* (point 1.7), the communications officer *godkjenner*: none of the head's
/// own texts, the head's button included, says «godkjenne».
#[test]
fn the_head_clears_and_the_officer_approves() {
    let nn = catalogue(Locale::Nn);
    let head_keys = [
        "channel-flow.head-approve",
        "channel-flow.you-approved",
        "channel-flow.told-head-approved",
        "registry.event-head-approved",
    ];
    for key in head_keys {
        let text = nn.get(key).unwrap_or_else(|| panic!("{key} is missing; was it renamed?"));
        let w = words(&prose(text, false));
        assert!(w.iter().any(|x| x.starts_with("avklar")), "{key} should say «avklare»: {text}");
        assert!(!w.iter().any(|x| x.starts_with("godkjen")), "{key} must not say «godkjenne»: {text}");
    }
}

// The checks themselves, on texts made up for the purpose.

#[test]
fn the_checks_catch_what_they_should_and_only_that() {
    let t = |s: &str| vec![("t".to_string(), s.to_string())];
    assert_eq!(term_violations(&t("Søknaden er avvist.")).len(), 1);
    assert_eq!(term_violations(&t("Gå gjennom oppsummeringa.")).len(), 1);
    assert_eq!(term_violations(&t("Vel næraste leiar din.")).len(), 1);
    assert!(term_violations(&t("Søknaden er avslått. Vel næraste leiar. {avvist} `maks`")).is_empty());
    // «provet» is rejected, «prøv» is not the same word.
    assert!(term_violations(&t("Prøv igjen.")).is_empty());
    assert_eq!(voice_violations(&t("Vi finn ikkje leiaren din.")).len(), 1);
    assert_eq!(voice_violations(&t("Valet ditt hjelper oss.")).len(), 1);
    assert!(voice_violations(&t("Skriv til dømes «Vi svarar innan ein dag».")).is_empty());
    assert!(voice_violations(&t("Eg fann ingen, og vil ikkje gjette.")).is_empty());
    assert_eq!(bare_title_violations(&t("Avdelingsleiar har avklart søknaden.")).len(), 1);
    assert_eq!(bare_title_violations(&t("Søknaden ligg hjå avdelingsleiar.")).len(), 1);
    assert!(bare_title_violations(&t("Avdelingsleiar {by} har avklart. Du er ført opp som avdelingsleiar.")).is_empty());
    assert!(bare_title_violations(&t("Avdelingsleiar")).is_empty());
    assert_eq!(agreement_violations(&t("No er {count} valde.")).len(), 1);
    assert_eq!(agreement_violations(&t("Meldinga er lagra og sendt til {x}.")).len(), 1);
    assert_eq!(agreement_violations(&t("Eksporten er sendt.")).len(), 1);
    assert!(agreement_violations(&t("Svaret er sendt. Ingenting vart sendt. Meldinga er send.")).is_empty());
}
