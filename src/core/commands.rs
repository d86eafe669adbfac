//! Slash commands as plain data: each feature declares its commands with these types, the app
//! layer puts them together (`app::commands`), the Discord adapter turns the tree into
//! registration requests and the sandbox parses typed commands with it. Descriptions come from
//! the message catalogue (`cmd.*` keys), so they are localised like every other text.

use crate::i18n::{t, Locale};

/// The kind of a command option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    SubCommand,
    String,
    Integer,
    Bool,
    User,
    Role,
    Channel,
    Attachment,
}

/// A fixed choice for a string option: the value and its label per language.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceSpec {
    pub value: String,
    pub name_nn: String,
    pub name_en: String,
}

/// One option (or subcommand) of a command.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSpec {
    pub kind: OptionKind,
    pub name: &'static str,
    /// Catalogue key of the description.
    pub description_key: String,
    pub required: bool,
    pub autocomplete: bool,
    pub choices: Vec<ChoiceSpec>,
    pub max_length: Option<u16>,
    /// Options of a subcommand.
    pub options: Vec<OptionSpec>,
}

impl OptionSpec {
    /// An optional option (or subcommand) with its description key.
    pub fn new(kind: OptionKind, name: &'static str, key: impl Into<String>) -> Self {
        OptionSpec {
            kind,
            name,
            description_key: key.into(),
            required: false,
            autocomplete: false,
            choices: Vec::new(),
            max_length: None,
            options: Vec::new(),
        }
    }

    /// Makes the option required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The description in a language.
    pub fn description(&self, locale: Locale) -> String {
        t(locale, &self.description_key, &[])
    }
}

/// A top-level slash command.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub description_key: String,
    pub options: Vec<OptionSpec>,
    /// Only members with Manage Server see and use it.
    pub admin_only: bool,
    /// Usable in a direct message with the bot.
    pub in_dms: bool,
}

impl CommandSpec {
    /// The description in a language.
    pub fn description(&self, locale: Locale) -> String {
        t(locale, &self.description_key, &[])
    }

    /// The subcommand called `name`.
    pub fn subcommand(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.kind == OptionKind::SubCommand && o.name == name)
    }
}

/// A subcommand with its options.
pub fn subcommand(name: &'static str, key: impl Into<String>, options: Vec<OptionSpec>) -> OptionSpec {
    let mut s = OptionSpec::new(OptionKind::SubCommand, name, key);
    s.options = options;
    s
}
