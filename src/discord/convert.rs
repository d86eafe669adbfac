//! Events in: serenity's interaction and message models turned into the core's plain
//! [`Input`] and [`Actor`]. Nothing here decides anything.

use serenity::all::{
    CommandDataOption, CommandDataOptionValue, CommandInteraction, ComponentInteraction, ComponentInteractionDataKind,
    Member, ModalInteraction, User,
};
use serenity::model::application::ActionRowComponent;

use crate::core::{Actor, CommandInput, Input, OptionValue};
use crate::i18n::Locale;

/// The actor behind an interaction.
pub fn actor(
    user: &User,
    member: Option<&Member>,
    guild_id: Option<u64>,
    channel_id: Option<u64>,
    locale: &str,
) -> Actor {
    let display_name =
        member.and_then(|m| m.nick.clone()).or_else(|| user.global_name.clone()).unwrap_or_else(|| user.name.clone());
    Actor {
        user_id: user.id.get(),
        guild_id,
        channel_id,
        locale: Locale::from_discord(locale),
        display_name,
        can_manage_guild: member.and_then(|m| m.permissions).is_some_and(|p| p.manage_guild() || p.administrator()),
        role_ids: member.map(|m| m.roles.iter().map(|r| r.get()).collect()).unwrap_or_default(),
    }
}

/// The actor of a slash command or autocomplete.
pub fn command_actor(i: &CommandInteraction) -> Actor {
    actor(&i.user, i.member.as_deref(), i.guild_id.map(|g| g.get()), Some(i.channel_id.get()), &i.locale)
}

/// The actor of a component interaction.
pub fn component_actor(i: &ComponentInteraction) -> Actor {
    actor(&i.user, i.member.as_ref(), i.guild_id.map(|g| g.get()), Some(i.channel_id.get()), &i.locale)
}

/// The actor of a modal submit.
pub fn modal_actor(i: &ModalInteraction) -> Actor {
    actor(&i.user, i.member.as_ref(), i.guild_id.map(|g| g.get()), Some(i.channel_id.get()), &i.locale)
}

/// A slash command as the core's [`CommandInput`], subcommands flattened into a path.
pub fn command(i: &CommandInteraction) -> CommandInput {
    let mut subcommand = Vec::new();
    let mut options = Vec::new();
    flatten(i, &i.data.options, &mut subcommand, &mut options);
    CommandInput { name: i.data.name.clone(), subcommand, options }
}

fn flatten(
    i: &CommandInteraction,
    opts: &[CommandDataOption],
    path: &mut Vec<String>,
    out: &mut Vec<(String, OptionValue)>,
) {
    for o in opts {
        let value = match &o.value {
            CommandDataOptionValue::SubCommand(inner) | CommandDataOptionValue::SubCommandGroup(inner) => {
                path.push(o.name.clone());
                flatten(i, inner, path, out);
                continue;
            }
            CommandDataOptionValue::String(s) => OptionValue::String(s.clone()),
            CommandDataOptionValue::Autocomplete { value, .. } => OptionValue::String(value.clone()),
            CommandDataOptionValue::Integer(n) => OptionValue::Integer(*n),
            CommandDataOptionValue::Number(n) => OptionValue::Number(*n),
            CommandDataOptionValue::Boolean(b) => OptionValue::Bool(*b),
            CommandDataOptionValue::User(u) => OptionValue::User(u.get()),
            CommandDataOptionValue::Role(r) => OptionValue::Role(r.get()),
            CommandDataOptionValue::Channel(c) => OptionValue::Channel(c.get()),
            CommandDataOptionValue::Attachment(a) => match i.data.resolved.attachments.get(a) {
                Some(att) => OptionValue::Attachment {
                    id: att.id.get(),
                    filename: att.filename.clone(),
                    content_type: att.content_type.clone(),
                    size: u64::from(att.size),
                    url: att.url.clone(),
                    // Filled by the handler's bounded download (see `download_attachments`).
                    data: None,
                },
                None => continue,
            },
            _ => continue,
        };
        out.push((o.name.clone(), value));
    }
}

/// Copies the bytes of attachment options now, while Discord's links are valid: at most
/// [`MAX_EVIDENCE_BYTES`](crate::threat_report::MAX_EVIDENCE_BYTES), within 20 seconds. A failed
/// or oversized download leaves `data` empty; the core records the metadata and says so. Logs
/// name the attachment id only.
pub async fn download_attachments(command: &mut CommandInput) {
    use crate::threat_report::MAX_EVIDENCE_BYTES;
    for (_, value) in command.options.iter_mut() {
        let OptionValue::Attachment { id, size, url, data, .. } = value else { continue };
        if *size > MAX_EVIDENCE_BYTES {
            tracing::info!(attachment = *id, "attachment too large to copy");
            continue;
        }
        let fetch = async {
            let mut resp = reqwest::Client::new().get(url.as_str()).send().await?.error_for_status()?;
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > MAX_EVIDENCE_BYTES {
                    return Ok::<_, reqwest::Error>(None);
                }
            }
            Ok(Some(bytes))
        };
        match tokio::time::timeout(std::time::Duration::from_secs(20), fetch).await {
            Ok(Ok(Some(bytes))) => *data = Some(bytes),
            Ok(Ok(None)) => tracing::info!(attachment = *id, "attachment grew past the limit while copying"),
            Ok(Err(e)) => tracing::warn!(attachment = *id, status = ?e.status(), "copying an attachment failed"),
            Err(_) => tracing::warn!(attachment = *id, "copying an attachment timed out"),
        }
    }
}

/// An autocomplete interaction as the core's input.
pub fn autocomplete(i: &CommandInteraction) -> Input {
    let command = command(i);
    let (focused, value) = match i.data.autocomplete() {
        Some(a) => (a.name.to_string(), a.value.to_string()),
        None => (String::new(), String::new()),
    };
    Input::Autocomplete { command, focused, value }
}

/// A button press or select choice.
pub fn component(i: &ComponentInteraction) -> Input {
    let values = match &i.data.kind {
        ComponentInteractionDataKind::StringSelect { values } => values.clone(),
        ComponentInteractionDataKind::UserSelect { values } => values.iter().map(|u| u.get().to_string()).collect(),
        ComponentInteractionDataKind::RoleSelect { values } => values.iter().map(|u| u.get().to_string()).collect(),
        ComponentInteractionDataKind::ChannelSelect { values } => values.iter().map(|u| u.get().to_string()).collect(),
        _ => Vec::new(),
    };
    Input::Component { custom_id: i.data.custom_id.clone(), values }
}

/// A submitted modal.
pub fn modal(i: &ModalInteraction) -> Input {
    let fields = i
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|c| match c {
            ActionRowComponent::InputText(t) => Some((t.custom_id.clone(), t.value.clone().unwrap_or_default())),
            _ => None,
        })
        .collect();
    Input::ModalSubmit { custom_id: i.data.custom_id.clone(), fields }
}

/// A server member as the directory stores it.
pub fn member(m: &Member) -> crate::store::directory::Member {
    crate::store::directory::Member {
        guild_id: m.guild_id.get(),
        user_id: m.user.id.get(),
        username: m.user.name.clone(),
        display_name: m.nick.clone().or_else(|| m.user.global_name.clone()).unwrap_or_else(|| m.user.name.clone()),
        roles: m.roles.iter().map(|r| r.get()).collect(),
        is_bot: m.user.bot,
        present: true,
    }
}
