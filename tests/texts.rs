//! Every word from prompts/: every message key the code names exists in Nynorsk and English,
//! and no key is built at run time (a built key could name a text that does not exist, and no
//! test would know). Reads every source file under src/ and takes each string literal that
//! looks like a key of the catalogue (a namespace of prompts/messages, a dot, a name).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::sources;

use somebot::i18n::{catalogue, Locale};

/// The string literals of a source file (plain "..." ones; raw strings hold no keys here).
fn literals(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"', '\'') or a lifetime: skip the quoted char if it is one.
                if b.get(i + 2) == Some(&b'\'') {
                    i += 2;
                } else if b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'') {
                    i += 3;
                }
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                out.push(src[start..i.min(src.len())].to_string());
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn namespaces() -> BTreeSet<String> {
    catalogue(Locale::Nn).keys().map(|k| k.split('.').next().unwrap().to_string()).collect()
}

fn looks_like_key(lit: &str, namespaces: &BTreeSet<String>) -> bool {
    let Some((ns, name)) = lit.split_once('.') else { return false };
    namespaces.contains(ns)
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        // File names, not keys (the report key file).
        && !name.ends_with("key")
}

#[test]
fn every_key_the_code_names_exists_in_nn_and_en() {
    let ns = namespaces();
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut named = BTreeSet::new();
    let mut missing = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        for lit in literals(&src) {
            if !looks_like_key(&lit, &ns) {
                continue;
            }
            named.insert(lit.clone());
            for locale in [Locale::Nn, Locale::En] {
                if !catalogue(locale).contains_key(&lit) {
                    missing.push(format!("{}: {lit} ({})", f.display(), locale.code()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "keys the code names but prompts/ lacks:\n{}", missing.join("\n"));
    assert!(named.len() > 300, "the scan finds the keys ({} found)", named.len());
}

#[test]
fn no_key_is_built_at_run_time() {
    let ns = namespaces();
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut built = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        for lit in literals(&src) {
            // `format!("report.status-{status}")` and the like.
            let Some((first, _)) = lit.split_once('.') else { continue };
            if ns.contains(first) && lit.contains('{') {
                built.push(format!("{}: {lit}", f.display()));
            }
        }
    }
    assert!(built.is_empty(), "keys built with format!, which no test can check:\n{}", built.join("\n"));
}

#[test]
#[should_panic(expected = "no text")]
fn a_missing_key_fails_loudly_in_tests() {
    somebot::i18n::t(Locale::Nn, "common.no-such-key", &[]);
}
