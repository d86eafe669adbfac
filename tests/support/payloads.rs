//! Dispatch and object builders: the JSON shapes the Discord stand-in sends.
//!
//! Owns how users, members, roles, channels, the guild (GUILD_CREATE), READY, messages, DM
//! channels, commands and interactions look on the wire, built from a [`World`]. Every shape
//! carries the fields serenity 0.12.5 requires (a payload missing one is dropped silently by
//! serenity's dispatcher), as checked by `tests/standin_selftest.rs`, which parses each one with
//! serenity's own model types.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use serenity::model::Permissions;

use super::standin::{ChannelSpec, RoleSpec, UserSpec, World};

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// What Discord reports as the upload limit of a guild without boosts (10 MiB).
pub const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// Message flag EPHEMERAL.
pub const FLAG_EPHEMERAL: u64 = 1 << 6;
/// Message flag LOADING ("Bot is thinking..."), set on a deferred response until it is edited.
pub const FLAG_LOADING: u64 = 1 << 7;

/// A fresh snowflake: the current time in its top bits and a process-wide counter below, so ids
/// increase and decode to a plausible creation time.
pub fn snowflake() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let candidate = (ms.saturating_sub(DISCORD_EPOCH_MS)) << 22;
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = candidate.max(last + 1);
        match LAST.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// The current time as Discord writes timestamps (ISO 8601 with offset).
pub fn now_iso() -> String {
    serenity::model::Timestamp::now().to_string()
}

/// A snowflake as Discord writes it: a decimal string.
pub fn sf(id: u64) -> Value {
    Value::String(id.to_string())
}

/// The permission bits a world user has in the guild: `@everyone`, their roles, and
/// MANAGE_GUILD when `manage_guild` is set; ADMINISTRATOR implies everything.
pub fn member_permissions(world: &World, user: &UserSpec) -> u64 {
    let mut bits = world.role(world.guild_id).map_or(0, |r| r.permissions);
    for role in &user.roles {
        bits |= world.role(*role).map_or(0, |r| r.permissions);
    }
    if user.manage_guild {
        bits |= Permissions::MANAGE_GUILD.bits();
    }
    if bits & Permissions::ADMINISTRATOR.bits() != 0 {
        bits = Permissions::all().bits();
    }
    bits
}

/// The bot's permissions in the guild (`@everyone` plus its managed role).
pub fn bot_permissions(world: &World) -> u64 {
    let everyone = world.role(world.guild_id).map_or(0, |r| r.permissions);
    everyone | world.bot_role_permissions
}

/// What Discord reports as `app_permissions` in a DM with the bot.
pub fn dm_app_permissions() -> u64 {
    (Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::EMBED_LINKS
        | Permissions::ATTACH_FILES
        | Permissions::READ_MESSAGE_HISTORY
        | Permissions::ADD_REACTIONS
        | Permissions::USE_EXTERNAL_EMOJIS
        | Permissions::USE_APPLICATION_COMMANDS)
        .bits()
}

/// A user object as the API and gateway send it.
pub fn user(u: &UserSpec) -> Value {
    json!({
        "id": sf(u.id),
        "username": u.username,
        "global_name": u.global_name,
        "discriminator": "0",
        "avatar": null,
        "avatar_decoration_data": null,
        "banner": null,
        "accent_color": null,
        "public_flags": 0,
        "flags": 0,
        "collectibles": null,
        "primary_guild": null,
    })
}

/// The bot's own user object (READY `user`, `GET /users/@me`, message authors).
pub fn bot_user(world: &World) -> Value {
    json!({
        "id": sf(world.bot_user_id),
        "username": world.bot_username,
        "global_name": null,
        "discriminator": "0",
        "avatar": null,
        "avatar_decoration_data": null,
        "banner": null,
        "accent_color": null,
        "bot": true,
        "verified": true,
        "mfa_enabled": false,
        "email": null,
        "public_flags": 0,
        "flags": 0,
        "collectibles": null,
        "primary_guild": null,
    })
}

/// A guild member object (GUILD_CREATE, `GET /guilds/{g}/members/{u}`), user included.
pub fn member(world: &World, u: &UserSpec) -> Value {
    json!({
        "user": user(u),
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": u.roles.iter().map(|r| sf(*r)).collect::<Vec<_>>(),
        "joined_at": world.joined_at,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "unusual_dm_activity_until": null,
        "avatar_decoration_data": null,
    })
}

/// The member object of an interaction: a member with `permissions` (a string).
pub fn interaction_member(world: &World, u: &UserSpec) -> Value {
    let mut m = member(world, u);
    m["permissions"] = Value::String(member_permissions(world, u).to_string());
    m
}

/// The bot's own member object, holding its managed role.
pub fn bot_member(world: &World) -> Value {
    json!({
        "user": bot_user(world),
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": [sf(world.bot_role_id)],
        "joined_at": world.joined_at,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "unusual_dm_activity_until": null,
        "avatar_decoration_data": null,
    })
}

/// A role object.
pub fn role(r: &RoleSpec) -> Value {
    json!({
        "id": sf(r.id),
        "name": r.name,
        "description": null,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": r.position,
        "permissions": r.permissions.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

/// The bot's managed role (Discord creates one when a bot joins a guild).
pub fn bot_role(world: &World) -> Value {
    json!({
        "id": sf(world.bot_role_id),
        "name": world.bot_username,
        "description": null,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": 1,
        "permissions": world.bot_role_permissions.to_string(),
        "managed": true,
        "mentionable": false,
        "flags": 0,
        "tags": {"bot_id": sf(world.bot_user_id)},
    })
}

/// A guild text channel object.
pub fn channel(world: &World, c: &ChannelSpec) -> Value {
    json!({
        "id": sf(c.id),
        "type": 0,
        "guild_id": sf(world.guild_id),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": [],
        "topic": c.topic,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "flags": 0,
    })
}

/// The partial channel an interaction in a guild channel carries.
pub fn interaction_channel(world: &World, c: &ChannelSpec, permissions: u64) -> Value {
    let mut ch = channel(world, c);
    ch["permissions"] = Value::String(permissions.to_string());
    ch
}

/// A DM channel between the bot and `u` (type 1).
pub fn dm_channel(channel_id: u64, u: &UserSpec) -> Value {
    json!({
        "id": sf(channel_id),
        "type": 1,
        "last_message_id": null,
        "flags": 0,
        "recipients": [user(u)],
    })
}

/// The GUILD_CREATE payload: the guild with its channels, roles and the given members.
pub fn guild_create(world: &World, members: Vec<Value>) -> Value {
    let mut roles: Vec<Value> = world.roles.iter().map(role).collect();
    roles.push(bot_role(world));
    let mut guild = json!({
        "id": sf(world.guild_id),
        "name": world.guild_name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": sf(world.owner_id),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": world.channels.first().map(|c| sf(c.id)),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": world.guild_locale,
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
    });
    // The GUILD_CREATE extras (split off to keep `json!` within the recursion limit).
    let extra = json!({
        "safety_alerts_channel_id": null,
        "incidents_data": null,
        "joined_at": world.joined_at,
        "large": false,
        "unavailable": false,
        "member_count": world.users.len() + 1,
        "voice_states": [],
        "members": members,
        "channels": world.channels.iter().map(|c| channel(world, c)).collect::<Vec<_>>(),
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "lazy": true,
    });
    if let (Some(g), Value::Object(e)) = (guild.as_object_mut(), extra) {
        g.extend(e);
    }
    guild
}

/// The READY payload.
pub fn ready(world: &World, session_id: &str, resume_url: &str, shard: [u64; 2], app_flags: u64) -> Value {
    json!({
        "v": 10,
        "user": bot_user(world),
        "guilds": [{"id": sf(world.guild_id), "unavailable": true}],
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "shard": shard,
        "application": {"id": sf(world.application_id), "flags": app_flags},
        "user_settings": {},
        "private_channels": [],
        "presences": [],
        "relationships": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["stand-in"],
        "session_type": "normal",
        "auth": {},
        "_trace": ["[\"somebot-standin\",{\"micros\":0}]"],
    })
}

/// A message with every field serenity's `Message` requires, empty content.
pub fn message_base(id: u64, channel_id: u64, author: Value) -> Value {
    json!({
        "id": sf(id),
        "channel_id": sf(channel_id),
        "author": author,
        "content": "",
        "timestamp": now_iso(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "components": [],
    })
}

/// The users and roles `<@id>`, `<@!id>` and `<@&id>` in `content` mention.
pub fn mentions_in(world: &World, content: &str) -> (Vec<Value>, Vec<Value>) {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let (is_role, body) = match rest.strip_prefix('&') {
            Some(b) => (true, b),
            None => (false, rest.strip_prefix('!').unwrap_or(rest)),
        };
        let Some(end) = body.find('>') else { break };
        if let Ok(id) = body[..end].parse::<u64>() {
            if is_role {
                if world.role(id).is_some() && !roles.contains(&sf(id)) {
                    roles.push(sf(id));
                }
            } else if let Some(u) = world.user(id) {
                let value = user(u);
                if !users.contains(&value) {
                    users.push(value);
                }
            }
        }
    }
    (users, roles)
}

/// Applies a message-shaped request body (create or edit) to a stored message: content,
/// embeds (Discord adds `type: "rich"`), components, flags, mentions, a reply reference.
pub fn apply_message_body(world: &World, message: &mut Value, body: &Value) {
    let Some(obj) = body.as_object() else { return };
    if let Some(content) = obj.get("content") {
        let content = content.as_str().unwrap_or("").to_string();
        let (users, roles) = mentions_in(world, &content);
        message["content"] = Value::String(content.clone());
        message["mentions"] = Value::Array(users);
        message["mention_roles"] = Value::Array(roles);
        message["mention_everyone"] = Value::Bool(
            (content.contains("@everyone") || content.contains("@here"))
                && obj
                    .get("allowed_mentions")
                    .and_then(|a| a.get("parse"))
                    .and_then(Value::as_array)
                    .is_none_or(|p| p.iter().any(|x| x == "everyone")),
        );
    }
    if let Some(embeds) = obj.get("embeds") {
        let embeds: Vec<Value> = embeds
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let mut e = e.clone();
                if let Some(m) = e.as_object_mut() {
                    m.entry("type").or_insert_with(|| json!("rich"));
                    m.retain(|_, v| !v.is_null());
                }
                e
            })
            .collect();
        message["embeds"] = Value::Array(embeds);
    }
    if let Some(components) = obj.get("components") {
        message["components"] = if components.is_null() { json!([]) } else { components.clone() };
    }
    if let Some(flags) = obj.get("flags").and_then(Value::as_u64) {
        // Only EPHEMERAL, SUPPRESS_EMBEDS and SUPPRESS_NOTIFICATIONS can be set by a bot.
        let settable = FLAG_EPHEMERAL | (1 << 2) | (1 << 12);
        let kept = message["flags"].as_u64().unwrap_or(0) & !settable;
        message["flags"] = json!(kept | (flags & settable));
    }
    if let Some(tts) = obj.get("tts").and_then(Value::as_bool) {
        message["tts"] = json!(tts);
    }
    if let Some(reference) = obj.get("message_reference").filter(|r| !r.is_null()) {
        message["message_reference"] = reference.clone();
        message["type"] = json!(19);
    }
}

/// Removes `null` members of objects, recursively (Discord omits absent optional fields).
pub fn strip_nulls(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// A registered application command as Discord returns it.
pub fn command(world: &World, id: u64, guild_id: Option<u64>, body: &Value) -> Value {
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(1);
    let mut out = Map::new();
    out.insert("id".into(), sf(id));
    out.insert("application_id".into(), sf(world.application_id));
    out.insert("version".into(), sf(snowflake()));
    out.insert("type".into(), json!(kind));
    out.insert("name".into(), body["name"].clone());
    out.insert("name_localizations".into(), body.get("name_localizations").cloned().unwrap_or(Value::Null));
    out.insert("description".into(), body.get("description").cloned().filter(|d| !d.is_null()).unwrap_or(json!("")));
    out.insert(
        "description_localizations".into(),
        body.get("description_localizations").cloned().unwrap_or(Value::Null),
    );
    let permissions = match body.get("default_member_permissions") {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => Value::Null,
    };
    out.insert("default_member_permissions".into(), permissions);
    out.insert("nsfw".into(), body.get("nsfw").cloned().filter(|v| !v.is_null()).unwrap_or(json!(false)));
    if let Some(options) = body.get("options").filter(|o| !o.is_null()) {
        out.insert("options".into(), strip_nulls(options));
    }
    match guild_id {
        Some(g) => {
            out.insert("guild_id".into(), sf(g));
        }
        None => {
            let dm = body.get("dm_permission").and_then(Value::as_bool).unwrap_or(true);
            out.insert("dm_permission".into(), json!(dm));
            out.insert(
                "contexts".into(),
                body.get("contexts").cloned().filter(|v| !v.is_null()).unwrap_or(Value::Null),
            );
            out.insert(
                "integration_types".into(),
                body.get("integration_types").cloned().filter(|v| !v.is_null()).unwrap_or(json!([0])),
            );
        }
    }
    Value::Object(out)
}

/// Where an interaction happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In a guild text channel.
    Guild {
        /// The channel.
        channel_id: u64,
    },
    /// In the user's DM with the bot.
    Dm {
        /// The DM channel.
        channel_id: u64,
    },
}

impl Place {
    /// The channel id either way.
    pub fn channel_id(self) -> u64 {
        match self {
            Place::Guild { channel_id } | Place::Dm { channel_id } => channel_id,
        }
    }
}

/// Everything an INTERACTION_CREATE needs beyond the world.
pub struct InteractionSpec<'a> {
    /// Interaction id.
    pub id: u64,
    /// Interaction token.
    pub token: &'a str,
    /// 2 application command, 3 message component, 4 autocomplete, 5 modal submit.
    pub kind: u8,
    /// The `data` object.
    pub data: Value,
    /// Who acted.
    pub user: &'a UserSpec,
    /// Where.
    pub place: Place,
    /// The message a component sits on (required for type 3, optional for type 5).
    pub message: Option<Value>,
}

/// An INTERACTION_CREATE payload, shaped as Discord's docs show it.
pub fn interaction(world: &World, spec: InteractionSpec<'_>) -> Value {
    let mut out = json!({
        "id": sf(spec.id),
        "application_id": sf(world.application_id),
        "type": spec.kind,
        "data": spec.data,
        "channel_id": sf(spec.place.channel_id()),
        "token": spec.token,
        "version": 1,
        "locale": spec.user.locale,
        "entitlements": [],
        // Required by serenity 0.12.5's interaction models (not optional there).
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    });
    match spec.place {
        Place::Guild { channel_id } => {
            let c = world.channel(channel_id).expect("interaction in a channel of the world");
            let perms = member_permissions(world, spec.user);
            out["guild_id"] = sf(world.guild_id);
            out["guild"] = json!({"id": sf(world.guild_id), "locale": world.guild_locale, "features": []});
            out["guild_locale"] = json!(world.guild_locale);
            out["channel"] = interaction_channel(world, c, perms);
            out["member"] = interaction_member(world, spec.user);
            out["app_permissions"] = Value::String(bot_permissions(world).to_string());
            out["authorizing_integration_owners"] = json!({"0": sf(world.guild_id)});
            out["context"] = json!(0);
        }
        Place::Dm { channel_id } => {
            out["channel"] = dm_channel(channel_id, spec.user);
            out["user"] = user(spec.user);
            out["app_permissions"] = Value::String(dm_app_permissions().to_string());
            // Guild-installed app used in the DM with its bot: Discord sends "0".
            out["authorizing_integration_owners"] = json!({"0": "0"});
            out["context"] = json!(1);
        }
    }
    if let Some(message) = spec.message {
        out["message"] = message;
    }
    out
}

/// A MESSAGE_CREATE payload for a message a user wrote in their DM with the bot (no guild_id).
pub fn dm_message_create(id: u64, channel_id: u64, u: &UserSpec, content: &str) -> Value {
    let mut m = message_base(id, channel_id, user(u));
    m["content"] = json!(content);
    m["nonce"] = json!(snowflake().to_string());
    m["channel_type"] = json!(1);
    m
}
