//! Spelling of every user-facing text outside quotations: the Nynorsk and English message
//! catalogues, the conversation scripts in `prompts/scripts/` and the English translation of
//! the guideline, checked with hunspell (nn_NO,
//! en_US) against a short allowlist in `prompts/spelling-allowlist.txt`. The official Nynorsk
//! guideline is a quotation and keeps its typos, and the search vocabulary holds misspellings on
//! purpose; both are skipped.
//!
//! hunspell is a system tool (Debian: hunspell hunspell-no hunspell-en-us). Without it the test
//! says so and stops; under CI (`CI` set) a missing hunspell fails the test.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use somebot::channel_request::Script;
use somebot::guideline::GuidelineDoc;
use somebot::i18n::{catalogue, Locale};

fn hunspell_available() -> bool {
    Command::new("hunspell").arg("-D").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Strips what is not prose: placeholders, code spans, commands, ids, URLs, numbers.
fn prose(text: &str) -> String {
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
            _ => out.push(c),
        }
    }
    out.split_whitespace()
        .filter(|w| !w.starts_with('/') && !w.starts_with("http") && !w.chars().any(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn misspelled(dict: &str, text: &str) -> BTreeSet<String> {
    let mut child = Command::new("hunspell")
        .args(["-d", dict, "-l"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("hunspell runs");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "hunspell -d {dict} failed; is the dictionary installed?");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

fn allowlist() -> BTreeSet<String> {
    include_str!("../prompts/spelling-allowlist.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn user_facing_text_is_spelled_right() {
    if !hunspell_available() {
        let msg = "hunspell is not installed (Debian: apt-get install hunspell hunspell-no hunspell-en-us)";
        assert!(std::env::var_os("CI").is_none(), "{msg}: CI must check spelling");
        eprintln!("SKIPPED spelling check: {msg}");
        return;
    }
    let allow = allowlist();
    let mut nn = String::new();
    for v in catalogue(Locale::Nn).values() {
        nn.push_str(&prose(v));
        nn.push('\n');
    }
    let mut en = String::new();
    for v in catalogue(Locale::En).values() {
        en.push_str(&prose(v));
        en.push('\n');
    }
    for (locale, text) in [(Locale::Nn, &mut nn), (Locale::En, &mut en)] {
        for v in Script::new_channel().texts(locale) {
            text.push_str(&prose(v));
            text.push('\n');
        }
    }
    let translation = GuidelineDoc::for_locale(Locale::En);
    for p in &translation.points {
        en.push_str(&prose(&p.text));
        en.push('\n');
        if let Some(b) = &p.before {
            en.push_str(&prose(b));
            en.push('\n');
        }
    }
    for s in &translation.sections {
        en.push_str(&prose(&s.title));
        en.push('\n');
    }
    let bad_nn: Vec<_> = misspelled("nn_NO", &nn).into_iter().filter(|w| !allow.contains(w)).collect();
    let bad_en: Vec<_> = misspelled("en_US", &en).into_iter().filter(|w| !allow.contains(w)).collect();
    assert!(bad_nn.is_empty() && bad_en.is_empty(), "misspelled (nn): {bad_nn:?}; (en): {bad_en:?}");
}

#[test]
fn prose_drops_placeholders_code_and_commands() {
    assert_eq!(prose("Hei {name}, skriv `/help` eller /guideline ask 3h!"), "Hei , skriv eller ask");
}
