//! The events a test injects as a user of the world: slash commands (checked against what
//! the bot registered, with `resolved` filled in), autocomplete, buttons, selects, modal
//! submits, DMs and the attachments a user uploads, each built as Discord would and
//! dispatched on the shard that serves it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use serenity::model::gateway::GatewayIntents;

use super::super::payloads::{self, sf, InteractionSpec, Place};
use super::{Inner, InteractionInfo, InteractionRef, MessageRef, StandIn, UserSpec, World, CONNECT_WAIT};

impl StandIn {
    /// Sends a raw dispatch (`t`, `d`) once a client is ready, on the shard of `d`'s
    /// `guild_id` (shard 0 without one).
    pub async fn dispatch(&self, t: &str, d: Value) {
        self.wait_ready(CONNECT_WAIT).await;
        let guild = d["guild_id"].as_str().and_then(|g| g.parse().ok());
        self.dispatch_to(guild, t, d);
    }

    fn user_spec(&self, user: u64) -> UserSpec {
        self.shared
            .lock()
            .world
            .user(user)
            .cloned()
            .unwrap_or_else(|| panic!("stand-in: user {user} is not in the world"))
    }

    /// The DM channel with `user`, created on first use (as `POST /users/@me/channels` does).
    fn ensure_dm_channel(&self, user: u64) -> u64 {
        let mut st = self.shared.lock();
        *st.dm_channels.entry(user).or_insert_with(payloads::snowflake)
    }

    /// Registers and sends an interaction.
    async fn inject(
        &self,
        kind: u8,
        user: u64,
        place: Place,
        data: Value,
        message: Option<Value>,
        metadata_extra: Value,
    ) -> InteractionRef {
        self.wait_ready(CONNECT_WAIT).await;
        let u = self.user_spec(user);
        let id = payloads::snowflake();
        let token = interaction_token(id);
        let world = self.world();
        let component_message_id = message.as_ref().and_then(|m| m["id"].as_str()).and_then(|s| s.parse().ok());
        let payload =
            payloads::interaction(&world, InteractionSpec { id, token: &token, kind, data, user: &u, place, message });
        let r = InteractionRef {
            id,
            token: token.clone(),
            kind,
            user_id: user,
            channel_id: place.channel_id(),
            guild_id: matches!(place, Place::Guild { .. }).then_some(world.guild_id),
        };
        let mut metadata = json!({
            "id": sf(id),
            "type": kind,
            "user": payloads::user(&u),
            "authorizing_integration_owners": payload["authorizing_integration_owners"].clone(),
        });
        if let (Some(m), Some(extra)) = (metadata.as_object_mut(), metadata_extra.as_object()) {
            m.extend(extra.clone());
        }
        self.shared.lock().interactions.insert(
            token,
            InteractionInfo {
                r: r.clone(),
                created: Instant::now(),
                acked: None,
                acked_at: None,
                original_message_id: None,
                component_message_id,
                metadata,
            },
        );
        self.dispatch_to(r.guild_id, "INTERACTION_CREATE", payload);
        r
    }

    /// Finds a registered chat-input command by name: the guild's, else a global one.
    fn find_command(&self, name: &str, in_dm: bool) -> Value {
        let st = self.shared.lock();
        let global = st.global_commands.iter().find(|c| c["name"] == name);
        let guild = st.guild_commands.iter().find(|c| c["name"] == name);
        let found = if in_dm { global } else { guild.or(global) };
        match found {
            Some(c) => c.clone(),
            None => {
                let names: Vec<String> = st
                    .guild_commands
                    .iter()
                    .map(|c| format!("{} (guild)", c["name"]))
                    .chain(st.global_commands.iter().map(|c| format!("{} (global)", c["name"])))
                    .collect();
                panic!(
                    "stand-in: no {}command /{name} is registered, so Discord could not send it; registered: [{}]",
                    if in_dm { "global " } else { "" },
                    names.join(", ")
                );
            }
        }
    }

    fn command_data(&self, name: &str, options: &Value, in_dm: bool, autocomplete: bool) -> Value {
        let command = self.find_command(name, in_dm);
        if in_dm {
            let contexts_ok = command["contexts"].as_array().is_none_or(|c| c.iter().any(|x| x == 1));
            assert!(
                command["dm_permission"] != false && contexts_ok,
                "stand-in: /{name} is not available in DMs (dm_permission/contexts): {command}"
            );
        }
        let mut options = options.clone();
        if options.is_null() {
            options = json!([]);
        }
        let registered = command["options"].as_array().cloned().unwrap_or_default();
        if let Err(e) = check_options(&registered, options.as_array().map_or(&[][..], |v| v), autocomplete) {
            panic!("stand-in: options for /{name} do not fit its registration: {e}\nregistered: {command}");
        }
        if autocomplete && !has_focused(&options) {
            mark_last_focused(&mut options);
        }
        let world = self.world();
        let mut data = json!({
            "id": command["id"].clone(),
            "name": name,
            "type": command["type"].as_u64().unwrap_or(1),
            "options": options,
        });
        if let Some(g) = command.get("guild_id") {
            data["guild_id"] = g.clone();
        }
        let mut resolved = resolve_options(&world, &data["options"]);
        for o in data["options"].as_array().into_iter().flatten() {
            if o["type"] == 11 {
                let id = o["value"].as_str().unwrap_or_default().to_string();
                let att = self.shared.lock().uploaded.get(&id).cloned();
                if let Some(att) = att {
                    resolved["attachments"][id] = att;
                }
            }
        }
        if resolved.as_object().is_some_and(|m| !m.is_empty()) {
            data["resolved"] = resolved;
        }
        data
    }

    /// Makes the CDN take `delay` for every attachment download from now on.
    pub fn delay_attachments(&self, delay: Duration) {
        self.shared.lock().attachment_delay = delay;
    }

    /// A file a user attaches to a slash command's attachment option: stored so its URL serves
    /// the bytes (as Discord's CDN would); returns the attachment id to give as the option value.
    pub fn upload_attachment(&self, filename: &str, content_type: &str, data: &[u8]) -> String {
        let id = payloads::snowflake();
        let path = format!("/attachments/ephemeral/{id}/{filename}");
        let mut st = self.shared.lock();
        st.attachments.insert(path.clone(), data.to_vec());
        let url = format!("{}{path}", self.base_url());
        let att = json!({
            "id": id.to_string(), "filename": filename, "size": data.len(), "url": url, "proxy_url": url,
            "content_type": content_type, "ephemeral": true,
        });
        st.uploaded.insert(id.to_string(), att);
        id.to_string()
    }

    /// A chat-input command in the world's default channel. `options` is Discord's option
    /// array, subcommands included (`[{"type":1,"name":"sub","options":[...]}]`); user, channel
    /// and role options get their `resolved` entries.
    pub async fn slash_command(&self, user: u64, name: &str, options: Value) -> InteractionRef {
        let channel = self.world().default_channel();
        self.slash_command_in(channel, user, name, options).await
    }

    /// A chat-input command in a given guild channel.
    pub async fn slash_command_in(&self, channel: u64, user: u64, name: &str, options: Value) -> InteractionRef {
        let data = self.command_data(name, &options, false, false);
        let extra = json!({"name": name});
        self.inject(2, user, Place::Guild { channel_id: channel }, data, None, extra).await
    }

    /// A chat-input command in the user's DM with the bot (needs a global command).
    pub async fn slash_command_in_dm(&self, user: u64, name: &str, options: Value) -> InteractionRef {
        let data = self.command_data(name, &options, true, false);
        let channel_id = self.ensure_dm_channel(user);
        let extra = json!({"name": name});
        self.inject(2, user, Place::Dm { channel_id }, data, None, extra).await
    }

    /// An autocomplete request (type 4) in the default channel; the last leaf option is marked
    /// `focused` unless one already is.
    pub async fn autocomplete(&self, user: u64, name: &str, options: Value) -> InteractionRef {
        let data = self.command_data(name, &options, false, true);
        let channel = self.world().default_channel();
        self.inject(4, user, Place::Guild { channel_id: channel }, data, None, json!({})).await
    }

    /// The message a component interaction sits on: the given one (completed with required
    /// fields), else the newest stored message holding a component with `custom_id`.
    fn component_message(&self, custom_id: &str, message: Option<Value>) -> Value {
        let st = self.shared.lock();
        match message {
            Some(given) => {
                let channel = given["channel_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| st.world.default_channel());
                let id = given["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(payloads::snowflake);
                let mut base = payloads::message_base(id, channel, payloads::bot_user(&st.world));
                if let (Some(b), Some(g)) = (base.as_object_mut(), given.as_object()) {
                    b.extend(g.clone());
                }
                base
            }
            None => st
                .messages
                .values()
                .rev()
                .find(|m| contains_custom_id(&m["components"], custom_id))
                .cloned()
                .unwrap_or_else(|| {
                    panic!(
                        "stand-in: no message with a component `{custom_id}` was sent, so nobody can click it \
                         (pass the message explicitly)\n{}",
                        drop_and_report(st)
                    )
                }),
        }
    }

    /// Where a component on `message` is used by `user`: its guild channel or the user's DM.
    fn place_of(&self, message: &Value, user: u64) -> Place {
        let channel: u64 = message["channel_id"].as_str().and_then(|s| s.parse().ok()).expect("message channel_id");
        let st = self.shared.lock();
        if st.world.channel(channel).is_some() {
            return Place::Guild { channel_id: channel };
        }
        match st.dm_channels.iter().find(|(_, c)| **c == channel) {
            Some((owner, _)) if *owner == user => Place::Dm { channel_id: channel },
            Some((owner, _)) => {
                panic!("stand-in: user {user} cannot click in the DM of user {owner}")
            }
            None => {
                panic!("stand-in: message channel {channel} is neither a world channel nor a DM")
            }
        }
    }

    async fn component(&self, user: u64, custom_id: &str, message: Option<Value>, data: Value) -> InteractionRef {
        self.wait_ready(CONNECT_WAIT).await;
        let message = self.component_message(custom_id, message);
        let place = self.place_of(&message, user);
        let extra = json!({"interacted_message_id": message["id"].clone()});
        // Keep the message so that an update (type 7) can edit it.
        if let Some(id) = message["id"].as_str().and_then(|s| s.parse::<u64>().ok()) {
            self.shared.lock().messages.entry(id).or_insert_with(|| message.clone());
        }
        self.inject(3, user, place, data, Some(message), extra).await
    }

    /// A button click (component type 2) on `message`, or on the newest message holding a
    /// button with `custom_id`.
    pub async fn button(&self, user: u64, custom_id: &str, message: Option<Value>) -> InteractionRef {
        let data = json!({"custom_id": custom_id, "component_type": 2});
        self.component(user, custom_id, message, data).await
    }

    /// A select menu choice: `component_type` 3 string, 5 user, 6 role, 7 mentionable, 8
    /// channel; `values` are the chosen values (ids for the entity selects, which get
    /// `resolved`).
    pub async fn select(&self, user: u64, custom_id: &str, values: Vec<String>, component_type: u8) -> InteractionRef {
        let world = self.world();
        let mut data = json!({"custom_id": custom_id, "component_type": component_type, "values": values});
        let resolved = resolve_select(&world, component_type, &values);
        if resolved.as_object().is_some_and(|m| !m.is_empty()) {
            data["resolved"] = resolved;
        }
        self.component(user, custom_id, None, data).await
    }

    /// A select on an explicit message.
    pub async fn select_on(
        &self,
        user: u64,
        custom_id: &str,
        values: Vec<String>,
        component_type: u8,
        message: Value,
    ) -> InteractionRef {
        let world = self.world();
        let mut data = json!({"custom_id": custom_id, "component_type": component_type, "values": values});
        let resolved = resolve_select(&world, component_type, &values);
        if resolved.as_object().is_some_and(|m| !m.is_empty()) {
            data["resolved"] = resolved;
        }
        self.component(user, custom_id, Some(message), data).await
    }

    /// A modal submit: `fields` are (text input custom_id, value), each in its own action row.
    /// When the bot opened a modal with this `custom_id` for `user`, the submit comes from the
    /// same place and names the triggering interaction; otherwise from the default channel.
    pub async fn modal_submit(&self, user: u64, custom_id: &str, fields: &[(&str, &str)]) -> InteractionRef {
        self.wait_ready(CONNECT_WAIT).await;
        let components: Vec<Value> = fields
            .iter()
            .enumerate()
            .map(|(i, (id, value))| {
                json!({
                    "type": 1,
                    "id": 2 * i + 1,
                    "components": [{"type": 4, "id": 2 * i + 2, "custom_id": id, "value": value}],
                })
            })
            .collect();
        let data = json!({"custom_id": custom_id, "components": components});
        let pending = {
            let mut st = self.shared.lock();
            let idx = st.pending_modals.iter().rposition(|p| p.user_id == user && p.custom_id == custom_id);
            match idx {
                Some(i) => Some(st.pending_modals.remove(i)),
                None => {
                    st.notes
                        .push(format!("modal_submit `{custom_id}` by {user} without the bot having opened that modal"));
                    None
                }
            }
        };
        let (place, trigger, message) = match pending {
            Some(p) => {
                let message = p.message_id.and_then(|id| self.message(id));
                (p.place, p.trigger_metadata, message)
            }
            None => {
                let u = self.user_spec(user);
                let channel = self.world().default_channel();
                let trigger = json!({
                    "id": sf(payloads::snowflake()),
                    "type": 2,
                    "user": payloads::user(&u),
                    "authorizing_integration_owners": {"0": sf(self.world().guild_id)},
                });
                (Place::Guild { channel_id: channel }, trigger, None)
            }
        };
        let extra = json!({"triggering_interaction_metadata": trigger});
        self.inject(5, user, place, data, message, extra).await
    }

    /// A message `user` writes in their DM with the bot (MESSAGE_CREATE without guild_id).
    /// Delivered only if the client identified with DIRECT_MESSAGES, as on Discord.
    pub async fn dm_message(&self, user: u64, content: &str) -> MessageRef {
        self.wait_ready(CONNECT_WAIT).await;
        let u = self.user_spec(user);
        let channel_id = self.ensure_dm_channel(user);
        let id = payloads::snowflake();
        let payload = payloads::dm_message_create(id, channel_id, &u, content);
        let deliver = {
            let mut st = self.shared.lock();
            st.messages.insert(id, payload.clone());
            let ok = st.gw.session(0).is_some_and(|s| s.intents & GatewayIntents::DIRECT_MESSAGES.bits() != 0);
            if !ok {
                st.notes.push(format!(
                    "MESSAGE_CREATE {id} (DM from {user}) not delivered: the client did not identify with DIRECT_MESSAGES"
                ));
            }
            ok
        };
        if deliver {
            self.dispatch_to(None, "MESSAGE_CREATE", payload);
        }
        MessageRef { id, channel_id }
    }
}

fn drop_and_report(st: std::sync::MutexGuard<'_, Inner>) -> String {
    let lines: Vec<String> = st.requests.iter().map(|r| format!("  {r}")).collect();
    drop(st);
    lines.join("\n")
}

/// A token shaped like Discord's (long, URL-safe), unique per interaction.
fn interaction_token(id: u64) -> String {
    format!("aW50ZXJhY3Rpb246{id}OnN0YW5kaW4tdG9rZW4tZm9yLXRlc3Rz")
}

fn contains_custom_id(components: &Value, custom_id: &str) -> bool {
    match components {
        Value::Array(a) => a.iter().any(|c| contains_custom_id(c, custom_id)),
        Value::Object(m) => {
            m.get("custom_id").and_then(Value::as_str) == Some(custom_id)
                || m.get("components").is_some_and(|c| contains_custom_id(c, custom_id))
                || m.get("accessory").is_some_and(|c| contains_custom_id(c, custom_id))
        }
        _ => false,
    }
}

fn has_focused(options: &Value) -> bool {
    options.as_array().into_iter().flatten().any(|o| o["focused"] == true || has_focused(&o["options"]))
}

fn mark_last_focused(options: &mut Value) {
    if let Some(last) = options.as_array_mut().and_then(|a| a.last_mut()) {
        if matches!(last["type"].as_u64(), Some(1 | 2)) {
            mark_last_focused(&mut last["options"]);
        } else {
            last["focused"] = json!(true);
        }
    }
}

/// Checks injected options against the registered ones: names exist, types match, required
/// leaf options are present (not for autocomplete, where the user is still typing).
fn check_options(registered: &[Value], given: &[Value], autocomplete: bool) -> Result<(), String> {
    for option in given {
        let name = option["name"].as_str().ok_or_else(|| format!("option without a name: {option}"))?;
        let reg = registered
            .iter()
            .find(|r| r["name"] == name)
            .ok_or_else(|| format!("option `{name}` is not registered"))?;
        if reg["type"] != option["type"] {
            return Err(format!("option `{name}` has type {} but is registered as {}", option["type"], reg["type"]));
        }
        if matches!(option["type"].as_u64(), Some(1 | 2)) {
            let sub_reg = reg["options"].as_array().cloned().unwrap_or_default();
            let sub = option["options"].as_array().cloned().unwrap_or_default();
            check_options(&sub_reg, &sub, autocomplete).map_err(|e| format!("{name} → {e}"))?;
        }
    }
    let is_leaf_level = !given.iter().any(|o| matches!(o["type"].as_u64(), Some(1 | 2)));
    if !autocomplete && is_leaf_level {
        for reg in registered {
            if reg["required"] == true && !given.iter().any(|o| o["name"] == reg["name"]) {
                return Err(format!("required option `{}` is missing", reg["name"]));
            }
        }
    }
    Ok(())
}

/// `resolved` for user (6), channel (7), role (8) and mentionable (9) option values.
fn resolve_options(world: &World, options: &Value) -> Value {
    let mut resolved = json!({});
    fn walk(world: &World, options: &Value, resolved: &mut Value) {
        for o in options.as_array().into_iter().flatten() {
            let id = o["value"].as_str().and_then(|s| s.parse::<u64>().ok());
            match (o["type"].as_u64(), id) {
                (Some(1 | 2), _) => walk(world, &o["options"], resolved),
                (Some(6 | 9), Some(id)) if world.user(id).is_some() => add_user(world, id, resolved),
                (Some(7), Some(id)) => add_channel(world, id, resolved),
                (Some(8 | 9), Some(id)) if world.role(id).is_some() => add_role(world, id, resolved),
                _ => {}
            }
        }
    }
    walk(world, options, &mut resolved);
    resolved
}

fn resolve_select(world: &World, component_type: u8, values: &[String]) -> Value {
    let mut resolved = json!({});
    for v in values {
        let Ok(id) = v.parse::<u64>() else { continue };
        match component_type {
            5 => add_user(world, id, &mut resolved),
            6 => add_role(world, id, &mut resolved),
            7 if world.user(id).is_some() => add_user(world, id, &mut resolved),
            7 => add_role(world, id, &mut resolved),
            8 => add_channel(world, id, &mut resolved),
            _ => {}
        }
    }
    resolved
}

fn add_user(world: &World, id: u64, resolved: &mut Value) {
    let Some(u) = world.user(id) else { return };
    resolved["users"][id.to_string()] = payloads::user(u);
    let mut m = payloads::interaction_member(world, u);
    if let Some(obj) = m.as_object_mut() {
        obj.remove("user");
    }
    resolved["members"][id.to_string()] = m;
}

fn add_role(world: &World, id: u64, resolved: &mut Value) {
    if let Some(r) = world.role(id) {
        resolved["roles"][id.to_string()] = payloads::role(r);
    }
}

fn add_channel(world: &World, id: u64, resolved: &mut Value) {
    if let Some(c) = world.channel(id) {
        let everyone = world.role(world.guild_id).map_or(0, |r| r.permissions);
        resolved["channels"][id.to_string()] = payloads::interaction_channel(world, c, everyone);
    }
}
