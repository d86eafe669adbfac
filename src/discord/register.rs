//! The command tree from [`crate::app::commands`] as Discord registration builders, with
//! Nynorsk as the default text and English for English-speaking clients.

use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption, InteractionContext, Permissions};

use crate::core::commands::{CommandSpec, OptionKind, OptionSpec};
use crate::i18n::Locale;

/// Discord locales that get the English texts; every other locale sees Nynorsk.
const ENGLISH: [&str; 2] = ["en-US", "en-GB"];

fn kind(k: OptionKind) -> CommandOptionType {
    match k {
        OptionKind::SubCommand => CommandOptionType::SubCommand,
        OptionKind::String => CommandOptionType::String,
        OptionKind::Integer => CommandOptionType::Integer,
        OptionKind::Bool => CommandOptionType::Boolean,
        OptionKind::User => CommandOptionType::User,
        OptionKind::Role => CommandOptionType::Role,
        OptionKind::Channel => CommandOptionType::Channel,
        OptionKind::Attachment => CommandOptionType::Attachment,
    }
}

fn option(o: &OptionSpec) -> CreateCommandOption {
    let en = o.description(Locale::En);
    let mut b = CreateCommandOption::new(kind(o.kind), o.name, o.description(Locale::Nn)).required(o.required);
    for l in ENGLISH {
        b = b.description_localized(l, &en);
    }
    if o.autocomplete {
        b = b.set_autocomplete(true);
    }
    if let Some(n) = o.max_length {
        b = b.max_length(n);
    }
    for c in &o.choices {
        b = b.add_string_choice_localized(&c.name_nn, &c.value, ENGLISH.map(|l| (l, c.name_en.as_str())));
    }
    for sub in &o.options {
        b = b.add_sub_option(option(sub));
    }
    b
}

/// One command's registration.
pub fn command(spec: &CommandSpec) -> CreateCommand {
    let en = spec.description(Locale::En);
    let mut b = CreateCommand::new(spec.name).description(spec.description(Locale::Nn));
    for l in ENGLISH {
        b = b.description_localized(l, &en);
    }
    if spec.admin_only {
        b = b.default_member_permissions(Permissions::MANAGE_GUILD);
    }
    let contexts = if spec.in_dms {
        vec![InteractionContext::Guild, InteractionContext::BotDm]
    } else {
        vec![InteractionContext::Guild]
    };
    b = b.contexts(contexts);
    for o in &spec.options {
        b = b.add_option(option(o));
    }
    b
}

/// Every command's registration.
pub fn all() -> Vec<CreateCommand> {
    crate::app::commands::all().iter().map(command).collect()
}
