//! Replies out: the core's plain [`Reply`] and [`Effect`] values turned into serenity builders
//! and sent. Every message goes out with mentions disabled, so no user text can ping anyone.

use serenity::all::{
    ButtonStyle as DButtonStyle, CommandInteraction, ComponentInteraction, CreateActionRow, CreateAllowedMentions,
    CreateAttachment, CreateAutocompleteResponse, CreateButton, CreateEmbed, CreateEmbedFooter, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage, CreateModal, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption, EditInteractionResponse, Http, InputTextStyle, ModalInteraction,
    ReactionType, UserId,
};

use crate::app::delivery::{Deliverer, DeliveryError};
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

/// The files of a message as serenity's upload builders. Only interaction replies reach
/// serenity with files, and no reply carries a file today (exports and evidence go by DM, and
/// the outbox uploads files itself, see [`DiscordDeliverer`]); one that did would go out with
/// serenity's integer upload ids, outside Discord's spec.
pub fn files(m: &Message) -> Vec<CreateAttachment> {
    m.attachments.iter().map(|a| CreateAttachment::bytes(a.data.clone(), a.filename.clone())).collect()
}

/// An interaction response message.
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

/// An initial response that failed in a way worth one more try is tried again only while this
/// much of Discord's 3 seconds has passed since the interaction arrived.
pub const RETRY_RESPONSE_BEFORE: std::time::Duration = std::time::Duration::from_millis(2_200);

/// Whether a failed request may succeed when sent again: Discord's 5xx, or the connection
/// (reset, timeout) rather than the request.
pub fn worth_retrying(e: &serenity::Error) -> bool {
    use serenity::all::HttpError;
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => r.status_code.is_server_error(),
        serenity::Error::Http(HttpError::Request(_)) => true,
        _ => false,
    }
}

/// Discord's answer to a second response to one interaction: the first one got through.
pub fn already_acknowledged(e: &serenity::Error) -> bool {
    matches!(e, serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(r)) if r.error.code == 40060)
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

    /// Sends the initial response; after a 5xx or a lost connection it is sent once more, if
    /// that can still arrive within Discord's 3 s (`arrived` is when the interaction came in).
    /// "Already acknowledged" on the second try means the first one got through.
    pub async fn respond_retrying(
        &self,
        http: &Http,
        r: CreateInteractionResponse,
        arrived: std::time::Instant,
    ) -> serenity::Result<()> {
        match self.respond(http, r.clone()).await {
            Err(e) if worth_retrying(&e) && arrived.elapsed() < RETRY_RESPONSE_BEFORE => {
                tracing::warn!(error = %e, "answering the interaction failed; trying once more");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                match self.respond(http, r).await {
                    Err(e) if already_acknowledged(&e) => Ok(()),
                    other => other,
                }
            }
            other => other,
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
///
/// In production serenity's rate limiter comes first: it waits out a 429 itself and retries.
/// Behind a proxy (`DISCORD_API_URL`, a rate-limiting proxy or the test stand-in) that limiter is
/// off (see shared/discord/NOTES.md), and serenity's `ErrorResponse` drops Discord's
/// `retry_after`. There the deliverer sends its two requests (open a DM, post a message) itself,
/// so that a 429 tells the outbox exactly when to try again.
///
/// A message with files is posted by the deliverer's own request on both paths: serenity 0.12.5
/// numbers a new upload with the integer id 0 where Discord's spec wants a snowflake string, and
/// its plain call names every file part `files[0]`, so no serenity call sends a conforming upload
/// (the stand-in's self-test `oracle_catches_serenitys_upload_ids` shows both). That one request
/// bypasses serenity's limiter; a 429 on it goes back to the outbox with its `retry_after`.
pub struct DiscordDeliverer {
    pub http: std::sync::Arc<Http>,
    direct: Direct,
    /// Whether every request goes the deliverer's own way (behind a proxy, serenity's limiter
    /// off), or only the posts of messages with files.
    all_direct: bool,
}

/// The deliverer's own request path: the API base and a client.
struct Direct {
    base: String,
    client: reqwest::Client,
}

impl DiscordDeliverer {
    /// A deliverer over `http`; `api_url` is `DISCORD_API_URL` when set.
    pub fn new(http: std::sync::Arc<Http>, api_url: Option<&str>) -> Self {
        let all_direct = api_url.is_some() && http.ratelimiter.is_none();
        // Where serenity sends its own requests: the proxy only while its limiter is off.
        let base = match api_url.or(http.proxy.as_deref()) {
            Some(url) if http.ratelimiter.is_none() => url,
            _ => "https://discord.com",
        };
        let direct = Direct {
            base: base.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
        };
        DiscordDeliverer { http, direct, all_direct }
    }
}

/// Discord's JSON error code for "Cannot send messages to this user".
const CANNOT_DM: isize = 50007;

/// How a failed answer from Discord is handled: 429 and 5xx are worth another try (a 429 after
/// its `retry_after`), a refused DM or a bad request is not.
fn classify_status(status: u16, code: isize, message: &str, retry_after_ms: Option<i64>) -> DeliveryError {
    let reason = format!("HTTP {status} code {code}: {message}");
    if status == 429 || status >= 500 {
        DeliveryError::Transient { retry_after_ms, reason }
    } else if code == CANNOT_DM || status == 403 || status == 404 || status == 400 {
        DeliveryError::Permanent(reason)
    } else {
        DeliveryError::Transient { retry_after_ms: None, reason }
    }
}

fn classify(err: serenity::Error) -> DeliveryError {
    use serenity::all::HttpError;
    match err {
        // Through serenity's own path its limiter already waited out any 429.
        serenity::Error::Http(HttpError::UnsuccessfulRequest(resp)) => {
            classify_status(resp.status_code.as_u16(), resp.error.code, &resp.error.message, None)
        }
        // Connection reset, timeout, DNS: the network, not the request.
        other => DeliveryError::Transient { retry_after_ms: None, reason: other.to_string() },
    }
}

/// Discord's wait after a 429, in milliseconds: the body's `retry_after` (seconds, fractional),
/// else the `Retry-After` header (whole seconds).
pub fn retry_after_ms(body: &serde_json::Value, header: Option<&str>) -> Option<i64> {
    let secs = body["retry_after"].as_f64().or_else(|| header.and_then(|h| h.trim().parse::<f64>().ok()))?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).ceil() as i64)
}

impl Direct {
    /// POSTs `body` (with `files` as multipart) to `path` under the API and returns the JSON
    /// answer, or how the failure is to be handled.
    async fn post(
        &self,
        token: &str,
        path: &str,
        mut body: serde_json::Value,
        files: &[crate::core::reply::FileAttachment],
    ) -> Result<serde_json::Value, DeliveryError> {
        let url = format!("{}/api/v10{path}", self.base);
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::AUTHORIZATION, token)
            .header(reqwest::header::USER_AGENT, "DiscordBot (https://github.com/volda-kommune/somebot, 0.1)");
        if files.is_empty() {
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        } else {
            body["attachments"] = uploads(files);
            let mut form = reqwest::multipart::Form::new().text("payload_json", body.to_string());
            for (i, f) in files.iter().enumerate() {
                let part = reqwest::multipart::Part::bytes(f.data.clone()).file_name(f.filename.clone());
                form = form.part(format!("files[{i}]"), part);
            }
            req = req.multipart(form);
        }
        let network = |e: reqwest::Error| DeliveryError::Transient { retry_after_ms: None, reason: e.to_string() };
        let resp = req.send().await.map_err(network)?;
        let status = resp.status().as_u16();
        let header = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
        let text = resp.text().await.map_err(network)?;
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(json);
        }
        let code = json["code"].as_i64().unwrap_or(0) as isize;
        let message = json["message"].as_str().unwrap_or("");
        let wait = if status == 429 { retry_after_ms(&json, header.as_deref()) } else { None };
        Err(classify_status(status, code, message, wait))
    }
}

/// The nonce of an outbox row's message. Sent with `enforce_nonce`, Discord answers a repeat
/// within a few minutes with the message already posted instead of posting it twice: a retry
/// after a lost answer (a reset connection, a timeout) cannot duplicate a DM. At most 25
/// characters; ids are unique across processes sharing a database.
pub fn outbox_nonce(outbox_id: i64) -> String {
    format!("sb{outbox_id}")
}

/// The message of outbox row `outbox_id`, with its enforced nonce.
pub fn outbox_message(m: &Message, outbox_id: i64) -> CreateMessage {
    create_message(m).nonce(serenity::all::Nonce::String(outbox_nonce(outbox_id))).enforce_nonce(true)
}

/// The `attachments` of a `payload_json` for new uploads: one per file, its placeholder id a
/// snowflake string ("0", "1", ...) naming the part `files[n]` that carries it.
fn uploads(files: &[crate::core::reply::FileAttachment]) -> serde_json::Value {
    files.iter().enumerate().map(|(i, f)| serde_json::json!({"id": i.to_string(), "filename": f.filename})).collect()
}

impl Deliverer for DiscordDeliverer {
    async fn send(&self, outbox_id: i64, target: OutboxTarget, message: &Message) -> Result<(), DeliveryError> {
        let http = &*self.http;
        let token = http.token();
        let direct = &self.direct;
        let channel = match target {
            OutboxTarget::User(u) if self.all_direct => {
                let dm = direct
                    .post(token, "/users/@me/channels", serde_json::json!({"recipient_id": u.to_string()}), &[])
                    .await?;
                dm["id"].as_str().and_then(|id| id.parse::<u64>().ok()).ok_or_else(|| DeliveryError::Transient {
                    retry_after_ms: None,
                    reason: "a DM channel without an id".into(),
                })?
            }
            OutboxTarget::User(u) => UserId::new(u).create_dm_channel(http).await.map_err(classify)?.id.get(),
            OutboxTarget::Channel(c) => c,
        };
        if !self.all_direct && message.attachments.is_empty() {
            let channel = serenity::all::ChannelId::new(channel);
            return channel.send_message(http, outbox_message(message, outbox_id)).await.map(|_| ()).map_err(classify);
        }
        // The same builder as serenity's path, without the files (they go as multipart parts).
        let bare = Message { attachments: Vec::new(), ..message.clone() };
        let body = serde_json::to_value(outbox_message(&bare, outbox_id))
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        direct.post(token, &format!("/channels/{channel}/messages"), body, &message.attachments).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_after_comes_from_the_body_else_the_header() {
        assert_eq!(retry_after_ms(&json!({"retry_after": 2.5, "global": false}), Some("3")), Some(2_500));
        assert_eq!(retry_after_ms(&json!({"retry_after": 0.0011}), None), Some(2));
        assert_eq!(retry_after_ms(&json!({"message": "slow down"}), Some("7")), Some(7_000));
        assert_eq!(retry_after_ms(&json!({}), None), None);
        assert_eq!(retry_after_ms(&json!({"retry_after": -1.0}), Some("x")), None);
    }

    #[test]
    fn outbox_messages_carry_an_enforced_nonce_within_discords_limit() {
        assert!(outbox_nonce(i64::MAX).len() <= 25);
        let m = Message::text("hei");
        let body = serde_json::to_value(outbox_message(&m, 42)).unwrap();
        assert_eq!(body["nonce"], json!("sb42"));
        assert_eq!(body["enforce_nonce"], json!(true));
        assert_eq!(body["allowed_mentions"]["parse"], json!([]), "{body}");
    }

    #[test]
    fn uploads_are_numbered_with_snowflake_strings() {
        use crate::core::reply::FileAttachment;
        let file = |name: &str| FileAttachment { filename: name.into(), data: b"x".to_vec() };
        assert_eq!(
            uploads(&[file("a.txt"), file("b.png")]),
            json!([{"id": "0", "filename": "a.txt"}, {"id": "1", "filename": "b.png"}])
        );
        assert_eq!(uploads(&[]), json!([]));
    }

    #[test]
    fn statuses_are_sorted_into_retry_and_give_up() {
        let rate = classify_status(429, 0, "You are being rate limited.", Some(2_500));
        assert!(matches!(rate, DeliveryError::Transient { retry_after_ms: Some(2_500), .. }));
        assert!(matches!(classify_status(502, 0, "Bad Gateway", None), DeliveryError::Transient { .. }));
        assert!(matches!(classify_status(403, CANNOT_DM, "Cannot send messages", None), DeliveryError::Permanent(_)));
        assert!(matches!(classify_status(400, 50035, "Invalid Form Body", None), DeliveryError::Permanent(_)));
    }
}
