//! Replies out: the core's plain [`Reply`] and [`Effect`] values turned into serenity builders
//! and sent. Every message goes out with mentions disabled, so no user text can ping anyone.

use serenity::all::{
    ButtonStyle as DButtonStyle, CommandInteraction, ComponentInteraction, CreateActionRow, CreateAllowedMentions,
    CreateAttachment, CreateAutocompleteResponse, CreateButton, CreateEmbed, CreateEmbedFooter, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage, CreateModal, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption, EditInteractionResponse, Http, InputTextStyle, ModalInteraction,
    ReactionType, UserId,
};

use crate::core::delivery::{Deliverer, DeliveryError};
use crate::core::{ActionRow, ButtonStyle, Component, Embed, Message, Modal, Reply};
use crate::store::jobs::OutboxTarget;

/// No pings, ever: not `@everyone`, not users, not roles, not the replied-to user.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().empty_users().empty_roles().replied_user(false)
}

/// An embed builder.
pub fn embed(e: &Embed) -> CreateEmbed {
    let mut b = CreateEmbed::new();
    if let Some(t) = &e.title {
        b = b.title(t);
    }
    if let Some(d) = &e.description {
        b = b.description(d);
    }
    for f in &e.fields {
        b = b.field(&f.name, &f.value, f.inline);
    }
    if let Some(f) = &e.footer {
        b = b.footer(CreateEmbedFooter::new(f));
    }
    if let Some(t) = e.tone {
        b = b.colour(t.rgb());
    }
    b
}

fn style(s: ButtonStyle) -> DButtonStyle {
    match s {
        ButtonStyle::Primary => DButtonStyle::Primary,
        ButtonStyle::Secondary => DButtonStyle::Secondary,
        ButtonStyle::Success => DButtonStyle::Success,
        ButtonStyle::Danger => DButtonStyle::Danger,
    }
}

/// Action rows.
pub fn rows(rows: &[ActionRow]) -> Vec<CreateActionRow> {
    rows.iter()
        .filter_map(|row| {
            let buttons: Vec<CreateButton> = row
                .iter()
                .filter_map(|c| match c {
                    Component::Button { custom_id, label, style: s, emoji, disabled } => {
                        let mut b = CreateButton::new(custom_id).label(label).style(style(*s)).disabled(*disabled);
                        if let Some(e) = emoji {
                            b = b.emoji(ReactionType::Unicode(e.clone()));
                        }
                        Some(b)
                    }
                    _ => None,
                })
                .collect();
            if !buttons.is_empty() {
                return Some(CreateActionRow::Buttons(buttons));
            }
            row.first().and_then(|c| match c {
                Component::StringSelect { custom_id, placeholder, options, min_values, max_values } => {
                    let opts = options
                        .iter()
                        .map(|o| {
                            let mut x = CreateSelectMenuOption::new(&o.label, &o.value).default_selection(o.default);
                            if let Some(d) = &o.description {
                                x = x.description(d);
                            }
                            x
                        })
                        .collect();
                    let mut m = CreateSelectMenu::new(custom_id, CreateSelectMenuKind::String { options: opts })
                        .min_values(*min_values)
                        .max_values(*max_values);
                    if let Some(p) = placeholder {
                        m = m.placeholder(p);
                    }
                    Some(CreateActionRow::SelectMenu(m))
                }
                Component::UserSelect { custom_id, placeholder, min_values, max_values } => {
                    let mut m = CreateSelectMenu::new(custom_id, CreateSelectMenuKind::User { default_users: None })
                        .min_values(*min_values)
                        .max_values(*max_values);
                    if let Some(p) = placeholder {
                        m = m.placeholder(p);
                    }
                    Some(CreateActionRow::SelectMenu(m))
                }
                Component::Button { .. } => None,
            })
        })
        .collect()
}

/// An interaction response message.
/// The files of a message as upload builders.
pub fn files(m: &Message) -> Vec<CreateAttachment> {
    m.attachments.iter().map(|a| CreateAttachment::bytes(a.data.clone(), a.filename.clone())).collect()
}

pub fn response_message(m: &Message) -> CreateInteractionResponseMessage {
    let mut b = CreateInteractionResponseMessage::new()
        .embeds(m.embeds.iter().map(embed).collect())
        .components(rows(&m.components))
        .ephemeral(m.ephemeral)
        .allowed_mentions(no_mentions())
        .add_files(files(m));
    if let Some(c) = &m.content {
        b = b.content(c);
    }
    b
}

/// An edit of the original (deferred) response.
pub fn edit_message(m: &Message) -> EditInteractionResponse {
    let mut b = EditInteractionResponse::new()
        .embeds(m.embeds.iter().map(embed).collect())
        .components(rows(&m.components))
        .allowed_mentions(no_mentions());
    for f in files(m) {
        b = b.new_attachment(f);
    }
    if let Some(c) = &m.content {
        b = b.content(c);
    }
    b
}

/// A channel or DM message.
pub fn create_message(m: &Message) -> CreateMessage {
    let mut b = CreateMessage::new()
        .embeds(m.embeds.iter().map(embed).collect())
        .components(rows(&m.components))
        .allowed_mentions(no_mentions())
        .add_files(files(m));
    if let Some(c) = &m.content {
        b = b.content(c);
    }
    b
}

/// A modal.
pub fn modal(m: &Modal) -> CreateModal {
    let inputs = m
        .inputs
        .iter()
        .map(|i| {
            let style = if i.paragraph { InputTextStyle::Paragraph } else { InputTextStyle::Short };
            let mut b = CreateInputText::new(style, &i.label, &i.custom_id).required(i.required);
            if let Some(n) = i.min_length {
                b = b.min_length(n);
            }
            if let Some(n) = i.max_length {
                b = b.max_length(n);
            }
            if let Some(p) = &i.placeholder {
                b = b.placeholder(p);
            }
            if let Some(v) = &i.value {
                b = b.value(v);
            }
            CreateActionRow::InputText(b)
        })
        .collect();
    CreateModal::new(&m.custom_id, &m.title).components(inputs)
}

/// The initial response to an interaction.
pub fn initial_response(reply: &Reply) -> Option<CreateInteractionResponse> {
    Some(match reply {
        Reply::Message(m) => CreateInteractionResponse::Message(response_message(m)),
        Reply::Update(m) => CreateInteractionResponse::UpdateMessage(response_message(m)),
        Reply::Modal(m) => CreateInteractionResponse::Modal(modal(m)),
        Reply::Choices(choices) => {
            let mut b = CreateAutocompleteResponse::new();
            for c in choices {
                b = b.add_string_choice(&c.name, &c.value);
            }
            CreateInteractionResponse::Autocomplete(b)
        }
        Reply::Nothing => return None,
    })
}

/// Any interaction the responder can answer.
pub enum Target<'a> {
    Command(&'a CommandInteraction),
    Component(&'a ComponentInteraction),
    Modal(&'a ModalInteraction),
}

impl Target<'_> {
    /// Sends the initial response.
    pub async fn respond(&self, http: &Http, r: CreateInteractionResponse) -> serenity::Result<()> {
        match self {
            Target::Command(i) => i.create_response(http, r).await,
            Target::Component(i) => i.create_response(http, r).await,
            Target::Modal(i) => i.create_response(http, r).await,
        }
    }

    /// Edits the original response (after a deferral).
    pub async fn edit(&self, http: &Http, e: EditInteractionResponse) -> serenity::Result<()> {
        match self {
            Target::Command(i) => i.edit_response(http, e).await.map(|_| ()),
            Target::Component(i) => i.edit_response(http, e).await.map(|_| ()),
            Target::Modal(i) => i.edit_response(http, e).await.map(|_| ()),
        }
    }

    /// Sends a follow-up message (used when a deferred reply is a new message after an update).
    pub async fn followup(&self, http: &Http, m: &Message) -> serenity::Result<()> {
        use serenity::all::CreateInteractionResponseFollowup as F;
        let mut b = F::new()
            .embeds(m.embeds.iter().map(embed).collect())
            .components(rows(&m.components))
            .ephemeral(m.ephemeral)
            .allowed_mentions(no_mentions())
            .add_files(files(m));
        if let Some(c) = &m.content {
            b = b.content(c);
        }
        match self {
            Target::Command(i) => i.create_followup(http, b).await.map(|_| ()),
            Target::Component(i) => i.create_followup(http, b).await.map(|_| ()),
            Target::Modal(i) => i.create_followup(http, b).await.map(|_| ()),
        }
    }
}

/// Delivers stored messages through Discord's REST API.
pub struct DiscordDeliverer {
    pub http: std::sync::Arc<Http>,
}

/// Discord's JSON error code for "Cannot send messages to this user".
const CANNOT_DM: isize = 50007;

fn classify(err: serenity::Error) -> DeliveryError {
    use serenity::all::HttpError;
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(resp)) => {
            let status = resp.status_code.as_u16();
            let reason = format!("HTTP {status} code {}: {}", resp.error.code, resp.error.message);
            if status == 429 || status >= 500 {
                // serenity 0.12's ErrorResponse keeps no headers and drops `retry_after` from the
                // body, so the outbox's own backoff (5 s doubling) applies; it is longer than the
                // per-route waits Discord asks of DMs.
                DeliveryError::Transient { retry_after_ms: None, reason }
            } else if resp.error.code == CANNOT_DM || status == 403 || status == 404 || status == 400 {
                DeliveryError::Permanent(reason)
            } else {
                DeliveryError::Transient { retry_after_ms: None, reason }
            }
        }
        // Connection reset, timeout, DNS: the network, not the request.
        other => DeliveryError::Transient { retry_after_ms: None, reason: other.to_string() },
    }
}

impl Deliverer for DiscordDeliverer {
    async fn send(&self, target: OutboxTarget, message: &Message) -> Result<(), DeliveryError> {
        let http = &*self.http;
        let channel = match target {
            OutboxTarget::User(u) => UserId::new(u).create_dm_channel(http).await.map_err(classify)?.id,
            OutboxTarget::Channel(c) => serenity::all::ChannelId::new(c),
        };
        channel.send_message(http, create_message(message)).await.map(|_| ()).map_err(classify)
    }
}
