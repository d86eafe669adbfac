//! The bot's vocabulary: plain inputs in, plain replies and effects out, the two kinds of
//! error, text helpers and the command types. Every feature and the app layer speak it; it
//! imports no feature, no app, no Discord and no SQL. Both adapters (Discord and the terminal
//! sandbox) translate their events into [`Input`] and render [`Outcome`].

pub mod commands;
pub mod errors;
pub mod ids;
pub mod reply;
pub mod text;

pub use errors::{InternalError, UserError};
pub use reply::{
    ActionRow, ButtonStyle, Choice, Component, Embed, EmbedField, Message, Modal, Reply, SelectOption, TextInput, Tone,
};

use crate::i18n::Locale;

/// Who is acting: the Discord user (or the sandbox persona) behind an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: u64,
    /// The guild the input came from; `None` in a direct message.
    pub guild_id: Option<u64>,
    /// The channel the input came from (a guild channel or the DM channel).
    pub channel_id: Option<u64>,
    /// The user's language, from their Discord locale.
    pub locale: Locale,
    /// What the user is called, for messages to others.
    pub display_name: String,
    /// The user holds the Manage Server permission in this guild.
    pub can_manage_guild: bool,
    /// The user's role ids in this guild.
    pub role_ids: Vec<u64>,
}

/// A value given to a slash-command option.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    String(String),
    Integer(i64),
    Number(f64),
    Bool(bool),
    User(u64),
    Role(u64),
    Channel(u64),
    /// An attachment: id, file name, content type, size and the URL to fetch it from, plus its
    /// bytes when the adapter could download them (Discord's links expire; the sandbox has none).
    Attachment {
        id: u64,
        filename: String,
        content_type: Option<String>,
        size: u64,
        url: String,
        data: Option<Vec<u8>>,
    },
}

impl OptionValue {
    /// The value as text, for string options.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            OptionValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A slash command: `/name subcommand option:value ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandInput {
    pub name: String,
    /// Subcommand (and subcommand group) path, outermost first.
    pub subcommand: Vec<String>,
    pub options: Vec<(String, OptionValue)>,
}

impl CommandInput {
    /// The value of the option `name`.
    pub fn option(&self, name: &str) -> Option<&OptionValue> {
        self.options.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The string option `name`.
    pub fn str_option(&self, name: &str) -> Option<&str> {
        self.option(name).and_then(OptionValue::as_str)
    }

    /// The first subcommand, if any.
    pub fn sub(&self) -> Option<&str> {
        self.subcommand.first().map(String::as_str)
    }
}

/// Everything a user can do to the bot.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Command(CommandInput),
    /// The user is typing into an option with autocomplete; `focused` is that option.
    Autocomplete {
        command: CommandInput,
        focused: String,
        value: String,
    },
    /// A button press or select-menu choice on a message from the bot.
    Component {
        custom_id: String,
        values: Vec<String>,
    },
    /// A submitted modal form.
    ModalSubmit {
        custom_id: String,
        fields: Vec<(String, String)>,
    },
    /// A direct message typed to the bot.
    DirectMessage {
        text: String,
    },
}

/// Something the core wants done besides answering, performed by the adapter through the
/// outbox (stored first, then delivered and retried, so nothing is lost when Discord is down).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a direct message to a user.
    DirectMessage { user_id: u64, message: Message, on_failure: Option<String> },
    /// Post a message in a guild channel (never for private content).
    ChannelMessage { channel_id: u64, message: Message, on_failure: Option<String> },
}

impl Effect {
    /// A direct message.
    pub fn dm(user_id: u64, message: Message) -> Self {
        Effect::DirectMessage { user_id, message, on_failure: None }
    }

    /// A channel post.
    pub fn post(channel_id: u64, message: Message) -> Self {
        Effect::ChannelMessage { channel_id, message, on_failure: None }
    }

    /// Names the core hook to run when the delivery fails for good (see
    /// `App::delivery_failed`).
    pub fn on_failure(mut self, hook: impl Into<String>) -> Self {
        match &mut self {
            Effect::DirectMessage { on_failure, .. } | Effect::ChannelMessage { on_failure, .. } => {
                *on_failure = Some(hook.into())
            }
        }
        self
    }
}

/// A record the core keeps once the answer is on its way: nothing the user waits for, and
/// nothing that matters if the bot stops before writing it. The Discord adapter writes these
/// after the interaction callback (see `App::handle_answer_first`), so no database write
/// stands between a `/guideline` question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Bookkeeping {
    /// The language a user last used, for later direct messages (which carry none).
    RememberLocale { user_id: u64, locale: Locale },
    /// A `/guideline ask` question and what it was answered with; `id` is already on the
    /// answer's feedback buttons.
    RecordQuestion {
        id: i64,
        asked_at: i64,
        locale: Locale,
        question: String,
        point_ids: Vec<String>,
        declined: bool,
        /// The server it was asked in (`None` in a direct message).
        guild_id: Option<u64>,
    },
}

/// The core's answer to one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub reply: Reply,
    pub effects: Vec<Effect>,
    /// Outbox ids of the effects once `App::handle` has stored them.
    pub queued: Vec<i64>,
    /// Records to write after answering (empty once `App::handle` returns).
    pub after: Vec<Bookkeeping>,
}

impl Outcome {
    /// An answer with no side effects.
    pub fn reply(reply: Reply) -> Self {
        Outcome { reply, effects: Vec::new(), queued: Vec::new(), after: Vec::new() }
    }

    /// An answer with side effects.
    pub fn with_effects(reply: Reply, effects: Vec<Effect>) -> Self {
        Outcome { reply, effects, queued: Vec::new(), after: Vec::new() }
    }

    /// A private text answer.
    pub fn ephemeral(text: impl Into<String>) -> Self {
        Outcome::reply(Reply::Message(Message::ephemeral_text(text)))
    }
}
