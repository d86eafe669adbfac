//! What the core answers with: plain values that the Discord responder and the terminal
//! sandbox both render. Nothing here knows serenity.
//!
//! Discord's limits are constants here, and [`Message::check_limits`] is what tests and the
//! responder use to make sure no reply breaks them.

use serde::{Deserialize, Serialize};

/// Discord's hard limits that replies must respect.
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBEDS: usize = 10;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const EMBED_FIELDS: usize = 25;
    pub const EMBED_FIELD_NAME: usize = 256;
    pub const EMBED_FIELD_VALUE: usize = 1024;
    pub const EMBED_FOOTER: usize = 2048;
    pub const EMBED_TOTAL: usize = 6000;
    pub const ACTION_ROWS: usize = 5;
    pub const BUTTONS_PER_ROW: usize = 5;
    pub const CUSTOM_ID: usize = 100;
    pub const BUTTON_LABEL: usize = 80;
    pub const SELECT_OPTIONS: usize = 25;
    pub const SELECT_OPTION_LABEL: usize = 100;
    pub const SELECT_OPTION_DESCRIPTION: usize = 100;
    pub const SELECT_PLACEHOLDER: usize = 150;
    pub const MODAL_TITLE: usize = 45;
    pub const MODAL_INPUTS: usize = 5;
    pub const TEXT_INPUT_LABEL: usize = 45;
    pub const TEXT_INPUT_VALUE: usize = 4000;
    pub const TEXT_INPUT_PLACEHOLDER: usize = 100;
    pub const CHOICES: usize = 25;
    pub const CHOICE_NAME: usize = 100;
    pub const CHOICE_VALUE: usize = 100;
    pub const ATTACHMENTS: usize = 10;
    /// What every server accepts from a bot in one message (10 MiB).
    pub const ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
}

/// Colour of embeds by purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tone {
    /// Quotations from the guideline.
    Guideline,
    /// Neutral information.
    Info,
    /// Something went well.
    Success,
    /// Something needs attention.
    Warning,
}

impl Tone {
    /// RGB colour for the embed.
    pub fn rgb(self) -> u32 {
        match self {
            Tone::Guideline => 0x1f5e8c,
            Tone::Info => 0x5865f2,
            Tone::Success => 0x2e8b57,
            Tone::Warning => 0xc0392b,
        }
    }
}

/// A rich block of text (rendered as an embed on Discord).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Embed {
    pub title: Option<String>,
    pub description: Option<String>,
    pub fields: Vec<EmbedField>,
    pub footer: Option<String>,
    pub tone: Option<Tone>,
}

/// A titled field inside an embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// Button styles the bot uses (Discord's primary, secondary, success, danger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ButtonStyle {
    Primary,
    Secondary,
    Success,
    Danger,
}

/// One entry of a string select menu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub description: Option<String>,
    pub default: bool,
}

/// An interactive component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Component {
    Button {
        custom_id: String,
        label: String,
        style: ButtonStyle,
        emoji: Option<String>,
        disabled: bool,
    },
    StringSelect {
        custom_id: String,
        placeholder: Option<String>,
        options: Vec<SelectOption>,
        min_values: u8,
        max_values: u8,
    },
    UserSelect {
        custom_id: String,
        placeholder: Option<String>,
        min_values: u8,
        max_values: u8,
    },
}

impl Component {
    /// A plain button.
    pub fn button(custom_id: impl Into<String>, label: impl Into<String>, style: ButtonStyle) -> Self {
        Component::Button { custom_id: custom_id.into(), label: label.into(), style, emoji: None, disabled: false }
    }

    /// The custom id of the component.
    pub fn custom_id(&self) -> &str {
        match self {
            Component::Button { custom_id, .. }
            | Component::StringSelect { custom_id, .. }
            | Component::UserSelect { custom_id, .. } => custom_id,
        }
    }
}

/// A row of components (at most five buttons, or one select).
pub type ActionRow = Vec<Component>;

/// A file sent with a message (an export, a copy of evidence).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAttachment {
    pub filename: String,
    /// The bytes; hex in the outbox's JSON.
    #[serde(with = "hex_bytes")]
    pub data: Vec<u8>,
}

impl std::fmt::Debug for FileAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the content: it may be a confidential report.
        write!(f, "FileAttachment({:?}, {} bytes)", self.filename, self.data.len())
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

/// A message the bot sends or shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Message {
    pub content: Option<String>,
    pub embeds: Vec<Embed>,
    pub components: Vec<ActionRow>,
    /// Only the user who triggered the interaction sees it.
    pub ephemeral: bool,
    /// Files sent with the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<FileAttachment>,
}

impl Message {
    /// A private plain-text message.
    pub fn ephemeral_text(text: impl Into<String>) -> Self {
        Message { content: Some(text.into()), ephemeral: true, ..Message::default() }
    }

    /// A plain-text message (ephemeral-ness decided by where it is sent).
    pub fn text(text: impl Into<String>) -> Self {
        Message { content: Some(text.into()), ..Message::default() }
    }

    /// Every violation of Discord's limits in this message, as readable lines.
    pub fn check_limits(&self) -> Vec<String> {
        use limits::*;
        let mut errs = Vec::new();
        let len = |s: &str| s.chars().count();
        if let Some(c) = &self.content {
            if len(c) > CONTENT {
                errs.push(format!("content has {} characters (max {CONTENT})", len(c)));
            }
        }
        if self.content.as_deref().is_none_or(str::is_empty) && self.embeds.is_empty() && self.attachments.is_empty() {
            errs.push("message has neither content nor embeds".into());
        }
        if self.attachments.len() > ATTACHMENTS {
            errs.push(format!("{} files (max {ATTACHMENTS})", self.attachments.len()));
        }
        let bytes: usize = self.attachments.iter().map(|a| a.data.len()).sum();
        if bytes > ATTACHMENT_BYTES {
            errs.push(format!("files of {bytes} bytes in all (max {ATTACHMENT_BYTES})"));
        }
        if self.embeds.len() > EMBEDS {
            errs.push(format!("{} embeds (max {EMBEDS})", self.embeds.len()));
        }
        let mut total = 0;
        for (i, e) in self.embeds.iter().enumerate() {
            let mut check = |what: &str, s: &str, max: usize| {
                total += len(s);
                if len(s) > max {
                    errs.push(format!("embed {i} {what} has {} characters (max {max})", len(s)));
                }
            };
            if let Some(t) = &e.title {
                check("title", t, EMBED_TITLE);
            }
            if let Some(d) = &e.description {
                check("description", d, EMBED_DESCRIPTION);
            }
            if let Some(f) = &e.footer {
                check("footer", f, EMBED_FOOTER);
            }
            for f in &e.fields {
                check("field name", &f.name, EMBED_FIELD_NAME);
                check("field value", &f.value, EMBED_FIELD_VALUE);
            }
            if e.fields.iter().any(|f| f.name.trim().is_empty() || f.value.trim().is_empty()) {
                errs.push(format!("embed {i} has an empty field"));
            }
            if e.fields.len() > EMBED_FIELDS {
                errs.push(format!("embed {i} has {} fields (max {EMBED_FIELDS})", e.fields.len()));
            }
        }
        if total > EMBED_TOTAL {
            errs.push(format!("embeds have {total} characters in all (max {EMBED_TOTAL})"));
        }
        errs.extend(check_components(&self.components));
        errs
    }
}

fn check_components(rows: &[ActionRow]) -> Vec<String> {
    use limits::*;
    let mut errs = Vec::new();
    if rows.len() > ACTION_ROWS {
        errs.push(format!("{} action rows (max {ACTION_ROWS})", rows.len()));
    }
    let mut ids = std::collections::HashSet::new();
    for (r, row) in rows.iter().enumerate() {
        if row.is_empty() {
            errs.push(format!("row {r} is empty"));
        }
        let selects = row.iter().filter(|c| !matches!(c, Component::Button { .. })).count();
        if selects > 0 && row.len() > 1 {
            errs.push(format!("row {r} mixes a select with other components"));
        }
        if row.len() > BUTTONS_PER_ROW {
            errs.push(format!("row {r} has {} buttons (max {BUTTONS_PER_ROW})", row.len()));
        }
        for c in row {
            let id = c.custom_id();
            if id.is_empty() || id.len() > CUSTOM_ID {
                errs.push(format!("custom_id {id:?} is empty or longer than {CUSTOM_ID}"));
            }
            if !ids.insert(id.to_string()) {
                errs.push(format!("custom_id {id:?} is used twice"));
            }
            match c {
                Component::Button { label, .. } => {
                    if label.chars().count() > BUTTON_LABEL {
                        errs.push(format!("button label {label:?} is too long"));
                    }
                }
                Component::StringSelect { options, placeholder, min_values, max_values, .. } => {
                    if options.is_empty() || options.len() > SELECT_OPTIONS {
                        errs.push(format!("select {id} has {} options (1..={SELECT_OPTIONS})", options.len()));
                    }
                    if usize::from(*max_values) > options.len() || min_values > max_values {
                        errs.push(format!("select {id} has bad min/max values"));
                    }
                    if placeholder.as_ref().is_some_and(|p| p.chars().count() > SELECT_PLACEHOLDER) {
                        errs.push(format!("select {id} placeholder is too long"));
                    }
                    for o in options {
                        if o.label.chars().count() > SELECT_OPTION_LABEL || o.value.chars().count() > 100 {
                            errs.push(format!("select {id} option {:?} is too long", o.value));
                        }
                        if o.description.as_ref().is_some_and(|d| d.chars().count() > SELECT_OPTION_DESCRIPTION) {
                            errs.push(format!("select {id} option {:?} description is too long", o.value));
                        }
                    }
                }
                Component::UserSelect { min_values, max_values, .. } => {
                    if min_values > max_values || *max_values > 25 {
                        errs.push(format!("user select {id} has bad min/max values"));
                    }
                }
            }
        }
    }
    errs
}

/// A text field in a modal.
#[derive(Debug, Clone, PartialEq)]
pub struct TextInput {
    pub custom_id: String,
    pub label: String,
    pub paragraph: bool,
    pub required: bool,
    pub min_length: Option<u16>,
    pub max_length: Option<u16>,
    pub placeholder: Option<String>,
    /// Pre-filled value, e.g. what the user typed before a validation error.
    pub value: Option<String>,
}

/// A pop-up form.
#[derive(Debug, Clone, PartialEq)]
pub struct Modal {
    pub custom_id: String,
    pub title: String,
    pub inputs: Vec<TextInput>,
}

impl Modal {
    /// Every violation of Discord's modal limits.
    pub fn check_limits(&self) -> Vec<String> {
        use limits::*;
        let mut errs = Vec::new();
        if self.title.chars().count() > MODAL_TITLE {
            errs.push(format!("modal title {:?} is too long", self.title));
        }
        if self.custom_id.len() > CUSTOM_ID {
            errs.push("modal custom_id is too long".into());
        }
        if self.inputs.is_empty() || self.inputs.len() > MODAL_INPUTS {
            errs.push(format!("modal has {} inputs (1..={MODAL_INPUTS})", self.inputs.len()));
        }
        for i in &self.inputs {
            if i.label.chars().count() > TEXT_INPUT_LABEL {
                errs.push(format!("text input label {:?} is too long", i.label));
            }
            if i.max_length.is_some_and(|m| usize::from(m) > TEXT_INPUT_VALUE) {
                errs.push(format!("text input {} max_length is over {TEXT_INPUT_VALUE}", i.custom_id));
            }
            if i.value.as_ref().is_some_and(|v| v.chars().count() > TEXT_INPUT_VALUE) {
                errs.push(format!("text input {} value is too long", i.custom_id));
            }
            if i.placeholder.as_ref().is_some_and(|p| p.chars().count() > TEXT_INPUT_PLACEHOLDER) {
                errs.push(format!("text input {} placeholder is too long", i.custom_id));
            }
        }
        errs
    }
}

/// An autocomplete suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub name: String,
    pub value: String,
}

/// The immediate answer to an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A new message answering the interaction (or, for a DM, a message in the DM).
    Message(Message),
    /// Replace the message that carried the clicked component.
    Update(Message),
    /// Open a form.
    Modal(Modal),
    /// Autocomplete suggestions (at most 25).
    Choices(Vec<Choice>),
    /// Nothing to say (e.g. an ignored DM).
    Nothing,
}

impl Reply {
    /// Every violation of Discord's limits in this reply.
    pub fn check_limits(&self) -> Vec<String> {
        match self {
            Reply::Message(m) | Reply::Update(m) => m.check_limits(),
            Reply::Modal(m) => m.check_limits(),
            Reply::Choices(c) => {
                let mut errs = Vec::new();
                if c.len() > limits::CHOICES {
                    errs.push(format!("{} choices (max {})", c.len(), limits::CHOICES));
                }
                for ch in c {
                    if ch.name.is_empty() || ch.name.chars().count() > limits::CHOICE_NAME {
                        errs.push(format!("choice name {:?} is empty or too long", ch.name));
                    }
                    if ch.value.chars().count() > limits::CHOICE_VALUE {
                        errs.push(format!("choice value {:?} is too long", ch.value));
                    }
                }
                errs
            }
            Reply::Nothing => Vec::new(),
        }
    }
}

/// Cuts `s` to at most `max` characters on a character boundary, ending with an ellipsis when
/// cut. Only for labels and previews, never for quotations of the guideline.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked() {
        let mut m = Message::ephemeral_text("x".repeat(2001));
        assert_eq!(m.check_limits().len(), 1);
        m.content = Some("ok".into());
        assert!(m.check_limits().is_empty());
        m.components = vec![vec![
            Component::button("a", "A", ButtonStyle::Primary),
            Component::button("a", "B", ButtonStyle::Primary),
        ]];
        assert!(m.check_limits().iter().any(|e| e.contains("used twice")));
        assert!(Message::default().check_limits().iter().any(|e| e.contains("neither")));
    }

    #[test]
    fn clip_respects_characters() {
        assert_eq!(clip("æøå", 5), "æøå");
        assert_eq!(clip("æøåæøå", 4), "æøå…");
    }
}
