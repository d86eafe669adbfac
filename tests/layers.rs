//! The layers point one way. Reads every source file and checks which modules of the crate it
//! names (`crate::x`): the core knows no feature, no app, no SQL and no Discord; features know
//! the core, the store and the context, never the app or an adapter; features depend on each
//! other only downwards (guideline and org below channel_request and threat_report).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::sources;

/// The layer of a source file, by its path under `src/`.
fn layer(path: &Path) -> &'static str {
    let rel = path.strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src")).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_str().unwrap();
    match first.trim_end_matches(".rs") {
        "core" => "core",
        "i18n" | "clock" | "crypto" => "leaf",
        "store" => "store",
        "ctx" | "feature" | "metrics" | "config" => "context",
        "guideline" => "guideline",
        "org" => "org",
        "channel_request" => "channel_request",
        "threat_report" => "threat_report",
        "app" => "app",
        "discord" | "sandbox" => "adapter",
        "lib" | "main" => "top",
        other => panic!("{other}: a new top-level module needs a layer in tests/layers.rs"),
    }
}

/// What each layer may name of the crate.
fn allowed(layer: &str) -> &'static [&'static str] {
    const LOW: [&str; 5] = ["core", "i18n", "clock", "crypto", "text"];
    match layer {
        "core" => &["core", "i18n"],
        "leaf" => &["core", "i18n", "clock", "crypto"],
        "store" => &LOW_STORE,
        "context" => &CONTEXT,
        "guideline" => &GUIDELINE,
        "org" => &ORG,
        "channel_request" => &CHANNEL_REQUEST,
        "threat_report" => &THREAT_REPORT,
        "app" => &APP,
        "adapter" | "top" => &ALL,
        _ => &LOW,
    }
}

const LOW_STORE: [&str; 5] = ["core", "i18n", "clock", "crypto", "store"];
const CONTEXT: [&str; 9] = ["core", "i18n", "clock", "crypto", "store", "ctx", "feature", "metrics", "config"];
const GUIDELINE: [&str; 8] = ["core", "i18n", "clock", "store", "ctx", "feature", "metrics", "guideline"];
const ORG: [&str; 8] = ["core", "i18n", "clock", "store", "ctx", "feature", "metrics", "org"];
const CHANNEL_REQUEST: [&str; 10] =
    ["core", "i18n", "clock", "store", "ctx", "feature", "metrics", "guideline", "org", "channel_request"];
const THREAT_REPORT: [&str; 11] =
    ["core", "i18n", "clock", "crypto", "store", "ctx", "feature", "metrics", "guideline", "org", "threat_report"];
const APP: [&str; 14] = [
    "core",
    "i18n",
    "clock",
    "crypto",
    "store",
    "ctx",
    "feature",
    "metrics",
    "config",
    "guideline",
    "org",
    "channel_request",
    "threat_report",
    "app",
];
const ALL: [&str; 0] = [];

/// The crate modules a file names (`crate::x` and `crate::{x, y}`), outside comments.
fn named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                for part in group.split('}').next().unwrap_or_default().split(',') {
                    let name: String = part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
            } else {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn every_layer_names_only_the_layers_below_it() {
    let mut files = Vec::new();
    sources(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut files);
    assert!(files.len() > 20, "the sources were found");
    let mut problems = Vec::new();
    for f in &files {
        let layer = layer(f);
        let allowed = allowed(layer);
        if allowed.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let code: String =
            text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
        for m in named(&text) {
            let app = m == "App" && layer != "app";
            if app || (m != "App" && !allowed.contains(&m.as_str())) {
                problems.push(format!("{} ({layer}) names crate::{m}", f.display()));
            }
        }
        let below_adapters = !matches!(layer, "adapter" | "top");
        if below_adapters && code.contains("serenity") {
            problems.push(format!("{} ({layer}) names serenity", f.display()));
        }
        let may_query = matches!(layer, "store" | "context" | "app");
        if !may_query && code.contains("sqlx::") {
            problems.push(format!("{} ({layer}) uses sqlx: SQL belongs in store/", f.display()));
        }
    }
    assert!(problems.is_empty(), "imports against the layers:\n{}", problems.join("\n"));
}

#[test]
fn the_scanner_sees_plain_and_grouped_imports() {
    let found = named("use crate::core::Actor;\nuse crate::{app, store::Store};\n// crate::discord in a comment\n");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["app", "core", "store"]);
}
