//! `/help` and the honest "not available yet" answers.

use crate::core::commands::CommandSpec;
use crate::core::{Embed, Message, Outcome, Reply, Tone};
use crate::i18n::{t, Locale};

/// The `/help` command.
pub fn command() -> CommandSpec {
    CommandSpec {
        name: "help",
        description_key: "cmd.help.description".into(),
        options: Vec::new(),
        admin_only: false,
        in_dms: true,
    }
}

/// `/help`: what the bot does and which command serves which need.
pub fn help(locale: Locale) -> Outcome {
    Outcome::reply(Reply::Message(Message {
        content: None,
        embeds: vec![Embed {
            title: Some(t(locale, "help.title", &[])),
            description: Some(t(locale, "help.body", &[])),
            tone: Some(Tone::Info),
            ..Embed::default()
        }],
        components: Vec::new(),
        ephemeral: true,
        attachments: Vec::new(),
    }))
}

/// A command whose feature has not landed yet says so plainly.
pub fn not_yet(locale: Locale, command: &str) -> Outcome {
    Outcome::ephemeral(t(locale, "common.not-yet", &[("command", command)]))
}

/// What the bot answers to a direct message that no conversation is waiting for.
pub fn dm_hint(locale: Locale) -> Outcome {
    Outcome::reply(Reply::Message(Message::text(t(locale, "help.dm-hint", &[]))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_every_command_in_both_languages() {
        for l in Locale::ALL {
            let Reply::Message(m) = help(l).reply else { panic!("help is a message") };
            let body = m.embeds[0].description.clone().unwrap();
            for c in crate::app::commands::all() {
                assert!(body.contains(&format!("/{}", c.name)), "{l:?} help lacks /{}", c.name);
            }
            assert!(m.check_limits().is_empty());
        }
    }
}
