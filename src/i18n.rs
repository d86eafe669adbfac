//! Locales and user-facing messages. Every string a user reads lives in `prompts/messages/`
//! (Nynorsk first, English too) and is embedded at build time; this module picks the language
//! from the user's Discord locale and fills `{placeholders}`.

use std::collections::BTreeMap;

use once_cell::sync::Lazy;

/// The two languages the bot speaks. Nynorsk is the official language and the fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Nn,
    En,
}

impl Locale {
    /// Maps a Discord locale (`no`, `en-US`, `en-GB`, `sv-SE`, ...) to the bot's language:
    /// Norwegian gets Nynorsk, English gets English, everyone else the official Nynorsk.
    pub fn from_discord(locale: &str) -> Locale {
        let l = locale.trim().to_ascii_lowercase();
        if l.starts_with("en") {
            Locale::En
        } else {
            Locale::Nn
        }
    }

    /// The short code used in files and the database (`nn`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Locale::Nn => "nn",
            Locale::En => "en",
        }
    }

    /// Both locales, official first.
    pub const ALL: [Locale; 2] = [Locale::Nn, Locale::En];
}

/// A message catalogue: key to template.
pub type Catalogue = BTreeMap<String, String>;

/// The message files of one language, one per feature, embedded at build time. A feature
/// adds its file here in both languages.
macro_rules! message_files {
    ($lang:literal) => {
        [
            include_str!(concat!("../prompts/messages/", $lang, "/common.toml")),
            include_str!(concat!("../prompts/messages/", $lang, "/guideline.toml")),
            include_str!(concat!("../prompts/messages/", $lang, "/setup.toml")),
            include_str!(concat!("../prompts/messages/", $lang, "/channel.toml")),
            include_str!(concat!("../prompts/messages/", $lang, "/channel-flow.toml")),
            include_str!(concat!("../prompts/messages/", $lang, "/report.toml")),
        ]
    };
}

fn parse_catalogue(sources: &[&str], what: &str) -> Catalogue {
    let mut out = Catalogue::new();
    for (i, src) in sources.iter().enumerate() {
        let table: toml::Table = match toml::from_str(src) {
            Ok(t) => t,
            Err(e) => panic!("embedded message file {i} of {what} is invalid: {e}"),
        };
        let before = out.len();
        let mut part = Catalogue::new();
        flatten("", &table, &mut part);
        let n = part.len();
        out.extend(part);
        assert_eq!(out.len(), before + n, "message file {i} of {what} repeats a key of another file");
    }
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out),
            other => panic!("message {key} must be a string, found {other}"),
        }
    }
}

static NN: Lazy<Catalogue> = Lazy::new(|| parse_catalogue(&message_files!("nn"), "nn"));
static EN: Lazy<Catalogue> = Lazy::new(|| parse_catalogue(&message_files!("en"), "en"));

/// The catalogue of a locale.
pub fn catalogue(locale: Locale) -> &'static Catalogue {
    match locale {
        Locale::Nn => &NN,
        Locale::En => &EN,
    }
}

/// The message `key` in `locale` with `{name}` placeholders filled from `args`.
/// A key missing in English falls back to Nynorsk.
///
/// A key that prompts/messages lacks never shows as the key: a debug build (every test) panics
/// naming it, a release build logs an error and says "unknown".
pub fn t(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    match catalogue(locale).get(key).or_else(|| NN.get(key)) {
        Some(template) => fill(template, args),
        None => {
            if cfg!(debug_assertions) {
                panic!("no text for the message key {key:?} in prompts/messages");
            }
            tracing::error!(key, "no text for a message key");
            catalogue(locale).get("common.unknown").cloned().unwrap_or_default()
        }
    }
}

/// Fills `{name}` placeholders; unknown placeholders are left visible so tests catch them.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholder names a template uses, for the catalogue tests.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        names.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_locales_map_to_languages() {
        assert_eq!(Locale::from_discord("no"), Locale::Nn);
        assert_eq!(Locale::from_discord("en-US"), Locale::En);
        assert_eq!(Locale::from_discord("en-GB"), Locale::En);
        assert_eq!(Locale::from_discord("sv-SE"), Locale::Nn);
        assert_eq!(Locale::from_discord(""), Locale::Nn);
    }

    #[test]
    fn every_key_exists_in_every_language_with_the_same_placeholders() {
        for (key, nn) in catalogue(Locale::Nn) {
            let en = catalogue(Locale::En).get(key).unwrap_or_else(|| panic!("{key} is missing in en"));
            assert_eq!(placeholders(nn), placeholders(en), "placeholders differ for {key}");
            assert!(!nn.trim().is_empty() && !en.trim().is_empty(), "{key} is empty");
        }
        for key in catalogue(Locale::En).keys() {
            assert!(catalogue(Locale::Nn).contains_key(key), "{key} is missing in nn");
        }
    }

    #[test]
    fn fill_replaces_known_and_keeps_unknown() {
        assert_eq!(fill("Hei {name}, {x}", &[("name", "Kari")]), "Hei Kari, {x}");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("open { only", &[]), "open { only");
    }
}
