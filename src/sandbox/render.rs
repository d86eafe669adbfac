//! Turning replies into terminal text: a message's content, embeds and attachments, its
//! components numbered, and mentions of the sandbox's people shown as names.

use super::world::{personas, CHANNEL_ID, OFFICER_ROLE, REVIEW_CHANNEL_ID};
use crate::core::{Component, Message};

/// Renders a message as terminal text, its components numbered from `first`; with `first` 0
/// they are shown as `[·]`, not pressable here.
pub fn render(m: &Message, first: usize) -> String {
    let mut out = String::new();
    if let Some(c) = &m.content {
        out.push_str(&c.replace("**", ""));
        out.push('\n');
    }
    for e in &m.embeds {
        if let Some(t) = &e.title {
            out.push_str(&format!("┌ {t}\n"));
        }
        if let Some(d) = &e.description {
            for line in d.lines() {
                let line = line.strip_prefix("> ").map(|l| format!("│   {l}")).unwrap_or_else(|| format!("│ {line}"));
                out.push_str(&line.replace("**", ""));
                out.push('\n');
            }
        }
        for f in &e.fields {
            out.push_str(&format!("│ {}: {}\n", f.name, f.value));
        }
        if let Some(f) = &e.footer {
            out.push_str(&format!("└ {f}\n"));
        }
    }
    for a in &m.attachments {
        out.push_str(&format!("📎 {} ({} bytes)\n", a.filename, a.data.len()));
    }
    let mut line = String::new();
    let mut n = first;
    for row in &m.components {
        for c in row {
            let label = match c {
                Component::Button { label, emoji, disabled, .. } => {
                    let e = emoji.as_ref().map(|e| format!("{e} ")).unwrap_or_default();
                    let d = if *disabled { " (disabled)" } else { "" };
                    format!("{e}{label}{d}")
                }
                Component::StringSelect { placeholder, .. } | Component::UserSelect { placeholder, .. } => {
                    format!("{} …", placeholder.clone().unwrap_or_else(|| "Choose".into()))
                }
            };
            if first == 0 {
                line.push_str(&format!("[·] {label}  "));
            } else {
                line.push_str(&format!("[{n}] {label}  "));
                n += 1;
            }
        }
        line.push('\n');
    }
    out.push_str(&line);
    names(&out)
}

/// A channel of the sandbox server by its name, as Discord shows it.
pub(super) fn channel_name(id: u64) -> String {
    match id {
        CHANNEL_ID => "#general".into(),
        REVIEW_CHANNEL_ID => "#godkjenning".into(),
        other => format!("#{other}"),
    }
}

/// Shows Discord mentions of the sandbox's people, role and channels as names.
fn names(text: &str) -> String {
    let mut out = text.to_string();
    for p in personas() {
        out = out.replace(&format!("<@{}>", p.user_id), &format!("@{}", p.name));
    }
    out.replace(&format!("<@&{OFFICER_ROLE}>"), "@informasjonskonsulent")
        .replace(&format!("<#{CHANNEL_ID}>"), "#general")
        .replace(&format!("<#{REVIEW_CHANNEL_ID}>"), "#godkjenning")
}
