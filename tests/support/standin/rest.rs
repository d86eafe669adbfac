//! The REST side of the stand-in: request parsing and recording, fault injection, and the
//! routes the bot uses under `/api/v10` (commands, messages, DMs, interaction callbacks and
//! webhooks, members, roles, channels), with Discord's real error codes where the bot can get
//! them wrong; plus the CDN route that serves attachments.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use serenity::model::gateway::GatewayIntents;

use super::super::payloads::{self, sf, Place};
use super::gateway::{echo_message_create, gateway_url};
use super::{Body, Inner, InteractionInfo, Part, PendingModal, Recorded, Shared};

/// What a fault does.
#[derive(Clone, Debug)]
pub(super) enum FaultKind {
    Respond {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    Delay(Duration),
    /// Drop the connection without an answer, before the request is handled.
    Reset,
    /// Handle the request (store what it creates), then drop the connection without an answer:
    /// the client cannot tell whether it worked.
    ResetAfter,
}

#[derive(Clone, Debug)]
pub(super) struct Fault {
    pub(super) method: String,
    pub(super) path_prefix: String,
    pub(super) remaining: usize,
    pub(super) kind: FaultKind,
}

/// A reply from a route: status, JSON body, extra headers.
struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, body: Some(body), headers: vec![] }
    }
    fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }
    fn no_content() -> Reply {
        Reply { status: 204, body: None, headers: vec![] }
    }
    /// A Discord JSON error.
    fn error(status: u16, code: u64, message: &str) -> Reply {
        Reply::json(status, json!({"message": message, "code": code}))
    }
    fn not_found() -> Reply {
        Reply::error(404, 0, "404: Not Found")
    }
    fn method_not_allowed() -> Reply {
        Reply::error(405, 0, "405: Method Not Allowed")
    }
    /// 400 Invalid Form Body with one field error.
    fn form_error(path: &[&str], code: &str, message: &str) -> Reply {
        let mut errors = json!({"_errors": [{"code": code, "message": message}]});
        for seg in path.iter().rev() {
            errors = json!({ *seg: errors });
        }
        Reply::json(400, json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}))
    }
}

/// A parsed request, as routes see it.
struct Req {
    method: String,
    path: String,
    query: Option<String>,
    headers: BTreeMap<String, String>,
    body: Body,
}

impl Req {
    fn json(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            Body::Multipart { payload_json, .. } => payload_json.as_ref(),
            _ => None,
        }
    }
    fn files(&self) -> Vec<&Part> {
        match &self.body {
            Body::Multipart { parts, .. } => parts.iter().filter(|p| p.filename.is_some()).collect(),
            _ => vec![],
        }
    }
    fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref().unwrap_or("").split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }
}

/// Splits a `multipart/form-data` body into parts.
fn parse_multipart(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    let boundary = content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary="))?.trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
        hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
    };
    let mut pos = find(body, &delimiter, 0)? + delimiter.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        pos += 2; // CRLF after the delimiter
        let header_end = find(body, b"\r\n\r\n", pos)?;
        let headers = String::from_utf8_lossy(&body[pos..header_end]).to_string();
        let data_start = header_end + 4;
        let next = find(body, &delimiter, data_start)?;
        let data = body[data_start..next.saturating_sub(2).max(data_start)].to_vec();
        let mut name = String::new();
        let mut filename = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for attr in line.split(';').skip(1) {
                    let attr = attr.trim();
                    if let Some(v) = attr.strip_prefix("name=") {
                        name = v.trim_matches('"').to_string();
                    } else if let Some(v) = attr.strip_prefix("filename=") {
                        filename = Some(v.trim_matches('"').to_string());
                    }
                }
            } else if lower.starts_with("content-type:") {
                content_type = Some(line["content-type:".len()..].trim().to_string());
            }
        }
        parts.push(Part { name, filename, content_type, data });
        pos = next + delimiter.len();
    }
    Some(parts)
}

fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> Body {
    if bytes.is_empty() {
        return Body::Empty;
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        return match parse_multipart(content_type, bytes) {
            Some(parts) => {
                let payload_json =
                    parts.iter().find(|p| p.name == "payload_json").and_then(|p| serde_json::from_slice(&p.data).ok());
                Body::Multipart { payload_json, parts }
            }
            None => Body::Invalid(String::from_utf8_lossy(bytes).into_owned()),
        };
    }
    match serde_json::from_slice(bytes) {
        Ok(v) => Body::Json(v),
        Err(_) => Body::Invalid(String::from_utf8_lossy(bytes).into_owned()),
    }
}

pub(super) async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let arrived = Instant::now();
    let full_path = uri.path().to_string();
    let Some(path) = full_path.strip_prefix("/api/v10") else {
        return to_response(Reply::not_found());
    };
    let mut kept = BTreeMap::new();
    for name in ["authorization", "content-type", "user-agent", "x-audit-log-reason"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            kept.insert(name.to_string(), v.to_string());
        }
    }
    let req = Req {
        method: method.as_str().to_string(),
        path: if path.is_empty() { "/".into() } else { path.to_string() },
        query: uri.query().map(str::to_string),
        headers: kept,
        body: parse_body(&headers, &bytes),
    };

    // Fault injection: the first fault whose method and prefix match.
    let fault = {
        let mut st = shared.lock();
        let hit = st.faults.iter_mut().find(|f| {
            f.remaining > 0 && (f.method == "*" || f.method == req.method) && req.path.starts_with(&f.path_prefix)
        });
        hit.map(|f| {
            f.remaining -= 1;
            f.kind.clone()
        })
    };
    let mut injected = false;
    if matches!(fault, Some(FaultKind::Reset | FaultKind::ResetAfter)) {
        // `ResetAfter` does the work first; its answer is recorded but never sent.
        let handled = matches!(fault, Some(FaultKind::ResetAfter)).then(|| route(&shared, &req));
        {
            let mut st = shared.lock();
            let seq = st.requests.len();
            st.requests.push(Recorded {
                seq,
                method: req.method.clone(),
                path: req.path.clone(),
                query: req.query.clone(),
                headers: req.headers.clone(),
                body: req.body.clone(),
                status: 0,
                response: handled.and_then(|r| r.body),
                injected_fault: true,
                at: arrived,
            });
        }
        shared.changed.notify_waiters();
        // Unwinding out of the handler ends hyper's connection task without an answer: the
        // client sees the connection close. `resume_unwind` skips the panic hook (no noise), and
        // the server goes on accepting connections.
        std::panic::resume_unwind(Box::new("stand-in: injected connection reset"));
    }
    let reply = match fault {
        Some(FaultKind::Respond { status, body, headers }) => {
            injected = true;
            Reply { status, body: Some(body), headers }
        }
        Some(FaultKind::Delay(d)) => {
            tokio::time::sleep(d).await;
            route(&shared, &req)
        }
        Some(FaultKind::Reset | FaultKind::ResetAfter) => unreachable!("handled above"),
        None => route(&shared, &req),
    };

    {
        let mut st = shared.lock();
        let seq = st.requests.len();
        st.requests.push(Recorded {
            seq,
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            status: reply.status,
            response: reply.body.clone(),
            injected_fault: injected,
            at: arrived,
        });
    }
    shared.changed.notify_waiters();
    to_response(reply)
}

fn to_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match reply.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    };
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) =
            (axum::http::HeaderName::from_bytes(k.as_bytes()), axum::http::HeaderValue::from_str(&v))
        {
            response.headers_mut().insert(k, v);
        }
    }
    response
}

pub(super) async fn attachment(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let delay = shared.lock().attachment_delay;
    tokio::time::sleep(delay).await;
    let data = shared.lock().attachments.get(uri.path()).cloned();
    match data {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => to_response(Reply::not_found()),
    }
}

fn parse_id(s: &str) -> Option<u64> {
    s.parse().ok()
}

/// The REST routes. Every branch mirrors Discord's answer, including its error codes.
fn route(shared: &Shared, req: &Req) -> Reply {
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let m = req.method.as_str();

    if matches!(&segs[..], ["interactions", ..] | ["webhooks", ..] | ["gateway"]) {
        // Interaction and webhook routes authenticate by their token; `/gateway` needs none.
    } else {
        let expected = format!("Bot {}", shared.lock().world.token);
        if req.headers.get("authorization") != Some(&expected) {
            return Reply::error(401, 0, "401: Unauthorized");
        }
    }
    if matches!(req.body, Body::Invalid(_)) {
        return Reply::error(400, 50109, "The request body contains invalid JSON.");
    }

    match (m, &segs[..]) {
        ("GET", ["gateway"]) => Reply::ok(json!({"url": gateway_url(&shared.base_url)})),
        ("GET", ["gateway", "bot"]) => Reply::ok(json!({
            "url": gateway_url(&shared.base_url),
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        })),
        (_, ["gateway"] | ["gateway", "bot"]) => Reply::method_not_allowed(),

        ("GET", ["users", "@me"]) => Reply::ok(payloads::bot_user(&shared.lock().world)),
        ("POST", ["users", "@me", "channels"]) => create_dm(shared, req),
        ("GET", ["users", id]) => {
            let st = shared.lock();
            match parse_id(id).and_then(|id| st.world.user(id)) {
                Some(u) => Reply::ok(payloads::user(u)),
                None => Reply::error(404, 10013, "Unknown User"),
            }
        }
        (_, ["users", "@me"] | ["users", "@me", "channels"]) => Reply::method_not_allowed(),

        ("GET", ["applications", app, "commands"]) => {
            with_app(shared, app, |st| Reply::ok(Value::Array(st.global_commands.clone())))
        }
        ("PUT", ["applications", app, "commands"]) => with_app(shared, app, |st| overwrite_commands(st, req, None)),
        ("POST", ["applications", app, "commands"]) => with_app(shared, app, |st| upsert_command(st, req, None)),
        ("GET", ["applications", app, "guilds", g, "commands"]) => {
            with_app(shared, app, |st| with_guild(st, g, |st| Reply::ok(Value::Array(st.guild_commands.clone()))))
        }
        ("PUT", ["applications", app, "guilds", g, "commands"]) => {
            with_app(shared, app, |st| with_guild(st, g, |st| overwrite_commands(st, req, Some(st.world.guild_id))))
        }
        ("POST", ["applications", app, "guilds", g, "commands"]) => {
            with_app(shared, app, |st| with_guild(st, g, |st| upsert_command(st, req, Some(st.world.guild_id))))
        }
        (_, ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"]) => {
            Reply::method_not_allowed()
        }
        ("GET" | "DELETE", ["applications", app, "commands", cmd]) => {
            with_app(shared, app, |st| single_command(&mut st.global_commands, m, cmd))
        }
        ("GET" | "DELETE", ["applications", app, "guilds", g, "commands", cmd]) => {
            with_app(shared, app, |st| with_guild(st, g, |st| single_command(&mut st.guild_commands, m, cmd)))
        }

        ("POST", ["interactions", id, token, "callback"]) => interaction_callback(shared, req, id, token),
        (_, ["interactions", _, _, "callback"]) => Reply::method_not_allowed(),

        ("POST", ["webhooks", app, token]) => followup(shared, req, app, token),
        (_, ["webhooks", app, token, "messages", which]) => webhook_message(shared, req, app, token, which),

        ("POST", ["channels", c, "messages"]) => create_channel_message(shared, req, c),
        (_, ["channels", _, "messages"]) => Reply::method_not_allowed(),
        ("GET" | "PATCH" | "DELETE", ["channels", c, "messages", mid]) => channel_message(shared, req, c, mid),
        ("POST", ["channels", c, "typing"]) => {
            let st = shared.lock();
            match parse_id(c).filter(|c| channel_exists(&st, *c)) {
                Some(_) => Reply::no_content(),
                None => Reply::error(404, 10003, "Unknown Channel"),
            }
        }
        ("GET", ["channels", c]) => {
            let st = shared.lock();
            let id = parse_id(c).unwrap_or(0);
            if let Some(ch) = st.world.channel(id) {
                Reply::ok(payloads::channel(&st.world, ch))
            } else if let Some((user, _)) = st.dm_channels.iter().find(|(_, ch)| **ch == id) {
                Reply::ok(payloads::dm_channel(id, st.world.user(*user).expect("DM with a world user")))
            } else {
                Reply::error(404, 10003, "Unknown Channel")
            }
        }

        ("GET", ["guilds", g, "members", u]) => with_guild(&mut shared.lock(), g, |st| {
            let id = parse_id(u).unwrap_or(0);
            if id == st.world.bot_user_id {
                Reply::ok(payloads::bot_member(&st.world))
            } else {
                match st.world.user(id) {
                    Some(user) => Reply::ok(payloads::member(&st.world, user)),
                    None => Reply::error(404, 10007, "Unknown Member"),
                }
            }
        }),
        ("GET", ["guilds", g, "members"]) => with_guild(&mut shared.lock(), g, |st| list_members(st, req)),
        ("GET", ["guilds", g, "roles"]) => with_guild(&mut shared.lock(), g, |st| {
            let mut roles: Vec<Value> = st.world.roles.iter().map(payloads::role).collect();
            roles.push(payloads::bot_role(&st.world));
            Reply::ok(Value::Array(roles))
        }),
        ("GET", ["guilds", g, "channels"]) => with_guild(&mut shared.lock(), g, |st| {
            Reply::ok(Value::Array(st.world.channels.iter().map(|c| payloads::channel(&st.world, c)).collect()))
        }),

        _ => Reply::not_found(),
    }
}

fn with_app(shared: &Shared, app: &str, f: impl FnOnce(&mut Inner) -> Reply) -> Reply {
    let mut st = shared.lock();
    if parse_id(app) != Some(st.world.application_id) {
        return Reply::error(403, 50001, "Missing Access");
    }
    f(&mut st)
}

fn with_guild(st: &mut Inner, g: &str, f: impl FnOnce(&mut Inner) -> Reply) -> Reply {
    if parse_id(g) != Some(st.world.guild_id) {
        return Reply::error(403, 50001, "Missing Access");
    }
    f(st)
}

fn channel_exists(st: &Inner, id: u64) -> bool {
    st.world.channel(id).is_some() || st.dm_channels.values().any(|c| *c == id)
}

fn list_members(st: &mut Inner, req: &Req) -> Reply {
    // Listing members needs the GUILD_MEMBERS privileged intent enabled for the application.
    if st.world.allowed_privileged_intents & GatewayIntents::GUILD_MEMBERS.bits() == 0 {
        return Reply::error(403, 50001, "Missing Access");
    }
    let limit = req.query_param("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(1);
    if !(1..=1000).contains(&limit) {
        return Reply::form_error(&["limit"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 1000.");
    }
    let after = req.query_param("after").and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
    let mut members: Vec<(u64, Value)> =
        st.world.users.iter().map(|u| (u.id, payloads::member(&st.world, u))).collect();
    members.push((st.world.bot_user_id, payloads::bot_member(&st.world)));
    members.sort_by_key(|(id, _)| *id);
    Reply::ok(Value::Array(members.into_iter().filter(|(id, _)| *id > after).take(limit).map(|(_, m)| m).collect()))
}

fn create_dm(shared: &Shared, req: &Req) -> Reply {
    let recipient = req
        .json()
        .and_then(|b| b.get("recipient_id"))
        .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())))
        .and_then(|s| s.parse::<u64>().ok());
    let mut st = shared.lock();
    let Some(user) = recipient.and_then(|id| st.world.user(id).cloned()) else {
        return Reply::error(400, 50033, "Invalid Recipient(s)");
    };
    let channel = *st.dm_channels.entry(user.id).or_insert_with(payloads::snowflake);
    Reply::ok(payloads::dm_channel(channel, &user))
}

/// Discord's checks on a command: names lower-case 1–32 of letters, digits, `-`, `_`;
/// descriptions 1–100 for chat-input commands and options; required options first.
fn validate_command(cmd: &Value) -> Result<(), (Vec<String>, &'static str, String)> {
    fn name_ok(name: &str) -> bool {
        let len = name.chars().count();
        (1..=32).contains(&len)
            && name.chars().all(|c| c == '-' || c == '_' || c.is_numeric() || (c.is_alphabetic() && !c.is_uppercase()))
    }
    fn check_level(
        obj: &Value,
        path: Vec<String>,
        chat_input: bool,
    ) -> Result<(), (Vec<String>, &'static str, String)> {
        let name = obj["name"].as_str().unwrap_or("");
        if !name_ok(name) {
            let mut p = path.clone();
            p.push("name".into());
            return Err((p, "APPLICATION_COMMAND_INVALID_NAME", format!("Command name is invalid: {name:?}")));
        }
        if chat_input {
            let len = obj["description"].as_str().map_or(0, |d| d.chars().count());
            if !(1..=100).contains(&len) {
                let mut p = path.clone();
                p.push("description".into());
                return Err((p, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.".into()));
            }
        }
        let options = obj["options"].as_array().cloned().unwrap_or_default();
        if options.len() > 25 {
            let mut p = path.clone();
            p.push("options".into());
            return Err((p, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.".into()));
        }
        let mut seen_optional = false;
        let mut names = HashSet::new();
        for (i, o) in options.iter().enumerate() {
            let mut p = path.clone();
            p.extend(["options".to_string(), i.to_string()]);
            if !names.insert(o["name"].as_str().unwrap_or("").to_string()) {
                return Err((
                    p,
                    "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                    "Option names must be unique".into(),
                ));
            }
            let required = o["required"] == true;
            if required && seen_optional {
                return Err((
                    p,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options".into(),
                ));
            }
            seen_optional |= !required;
            check_level(o, p, chat_input)?;
        }
        Ok(())
    }
    let chat_input = cmd["type"].as_u64().unwrap_or(1) == 1;
    check_level(cmd, vec![], chat_input)
}

fn overwrite_commands(st: &mut Inner, req: &Req, guild: Option<u64>) -> Reply {
    let Some(list) = req.json().and_then(Value::as_array).cloned() else {
        return Reply::form_error(&[], "BASE_TYPE_ARRAY", "Must be an array.");
    };
    for (i, cmd) in list.iter().enumerate() {
        if let Err((path, code, message)) = validate_command(cmd) {
            let mut full = vec![i.to_string()];
            full.extend(path);
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            return Reply::form_error(&refs, code, &message);
        }
    }
    let world = st.world.clone();
    let existing = if guild.is_some() { &st.guild_commands } else { &st.global_commands };
    let new: Vec<Value> = list
        .iter()
        .map(|cmd| {
            let kind = cmd["type"].as_u64().unwrap_or(1);
            let id = existing
                .iter()
                .find(|c| c["name"] == cmd["name"] && c["type"].as_u64() == Some(kind))
                .and_then(|c| c["id"].as_str().and_then(|s| s.parse().ok()))
                .unwrap_or_else(payloads::snowflake);
            payloads::command(&world, id, guild, cmd)
        })
        .collect();
    if guild.is_some() {
        st.guild_commands = new.clone();
    } else {
        st.global_commands = new.clone();
    }
    st.command_writes += 1;
    Reply::ok(Value::Array(new))
}

fn upsert_command(st: &mut Inner, req: &Req, guild: Option<u64>) -> Reply {
    let Some(cmd) = req.json().filter(|v| v.is_object()).cloned() else {
        return Reply::form_error(&[], "BASE_TYPE_REQUIRED", "This field is required");
    };
    if let Err((path, code, message)) = validate_command(&cmd) {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        return Reply::form_error(&refs, code, &message);
    }
    let world = st.world.clone();
    let list = if guild.is_some() { &mut st.guild_commands } else { &mut st.global_commands };
    let kind = cmd["type"].as_u64().unwrap_or(1);
    let pos = list.iter().position(|c| c["name"] == cmd["name"] && c["type"].as_u64() == Some(kind));
    let (status, id) = match pos {
        Some(i) => (200, list[i]["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(payloads::snowflake)),
        None => (201, payloads::snowflake()),
    };
    let out = payloads::command(&world, id, guild, &cmd);
    match pos {
        Some(i) => list[i] = out.clone(),
        None => list.push(out.clone()),
    }
    st.command_writes += 1;
    Reply::json(status, out)
}

fn single_command(list: &mut Vec<Value>, method: &str, id: &str) -> Reply {
    let Some(pos) = list.iter().position(|c| c["id"] == id) else {
        return Reply::error(404, 10063, "Unknown application command");
    };
    if method == "DELETE" {
        list.remove(pos);
        Reply::no_content()
    } else {
        Reply::ok(list[pos].clone())
    }
}

/// Checks and builds a new message from a message-shaped body plus uploaded files.
fn build_message(st: &mut Inner, req: &Req, channel_id: u64, author: Value, body: &Value) -> Result<Value, Reply> {
    let content = body["content"].as_str().unwrap_or("");
    if content.chars().count() > 2000 {
        return Err(Reply::form_error(&["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length."));
    }
    let files = req.files();
    let empty = content.is_empty()
        && body["embeds"].as_array().is_none_or(Vec::is_empty)
        && body["components"].as_array().is_none_or(Vec::is_empty)
        && body["sticker_ids"].as_array().is_none_or(Vec::is_empty)
        && body["poll"].is_null()
        && files.is_empty();
    if empty {
        return Err(Reply::error(400, 50006, "Cannot send an empty message"));
    }
    let id = payloads::snowflake();
    let mut message = payloads::message_base(id, channel_id, author);
    payloads::apply_message_body(&st.world, &mut message, body);
    message["attachments"] = Value::Array(store_files(st, channel_id, &files, body));
    Ok(message)
}

/// Stores uploaded files and returns their attachment objects (URLs on the stand-in).
fn store_files(st: &mut Inner, channel_id: u64, files: &[&Part], body: &Value) -> Vec<Value> {
    let described = body["attachments"].as_array().cloned().unwrap_or_default();
    files
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let id = payloads::snowflake();
            let filename = part.filename.clone().unwrap_or_else(|| format!("file{i}"));
            let path = format!("/attachments/{channel_id}/{id}/{filename}");
            st.attachments.insert(path.clone(), part.data.clone());
            let description = described
                .iter()
                .find(|a| a["id"].as_u64() == Some(i as u64) || a["id"].as_str() == Some(&i.to_string()))
                .and_then(|a| a.get("description").cloned())
                .unwrap_or(Value::Null);
            json!({
                "id": sf(id),
                "filename": filename,
                "description": description,
                "size": part.data.len(),
                "url": format!("{{BASE}}{path}"),
                "proxy_url": format!("{{BASE}}{path}"),
                "content_type": part.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
            })
        })
        .collect()
}

/// Fills the `{BASE}` placeholder of attachment URLs.
fn with_base(shared: &Shared, mut v: Value) -> Value {
    if let Some(atts) = v.get_mut("attachments").and_then(Value::as_array_mut) {
        for a in atts {
            for key in ["url", "proxy_url"] {
                if let Some(s) = a[key].as_str() {
                    a[key] = Value::String(s.replace("{BASE}", &shared.base_url));
                }
            }
        }
    }
    v
}

/// How long Discord remembers an enforced nonce ("the past few minutes").
const NONCE_WINDOW: Duration = Duration::from_secs(300);

fn create_channel_message(shared: &Shared, req: &Req, c: &str) -> Reply {
    let mut st = shared.lock();
    let Some(channel_id) = parse_id(c).filter(|id| channel_exists(&st, *id)) else {
        return Reply::error(404, 10003, "Unknown Channel");
    };
    let dm_user = st.dm_channels.iter().find(|(_, ch)| **ch == channel_id).map(|(u, _)| *u);
    if let Some(user) = dm_user {
        if st.world.dm_blocked.contains(&user) {
            return Reply::error(403, 50007, "Cannot send messages to this user");
        }
    }
    let body = req.json().cloned().unwrap_or(json!({}));
    // `enforce_nonce`: the same nonce within a few minutes returns the message already posted.
    let nonce = match &body["nonce"] {
        Value::String(n) => Some(n.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|_| body["enforce_nonce"].as_bool() == Some(true));
    if let Some(n) = &nonce {
        let earlier = st.nonces.get(n).filter(|(_, at)| at.elapsed() < NONCE_WINDOW).map(|(id, _)| *id);
        if let Some(message) = earlier.and_then(|id| st.messages.get(&id).cloned()) {
            return Reply::ok(message);
        }
    }
    let author = payloads::bot_user(&st.world);
    match build_message(&mut st, req, channel_id, author, &body) {
        Ok(message) => {
            let message = with_base(shared, message);
            let id = parse_id(message["id"].as_str().unwrap_or("")).unwrap_or(0);
            if let Some(n) = nonce {
                st.nonces.insert(n, (id, Instant::now()));
            }
            st.messages.insert(id, message.clone());
            echo_message_create(&mut st, &message, dm_user.is_none());
            drop(st);
            shared.changed.notify_waiters();
            Reply::ok(message)
        }
        Err(reply) => reply,
    }
}

fn channel_message(shared: &Shared, req: &Req, c: &str, mid: &str) -> Reply {
    let mut st = shared.lock();
    let Some(channel_id) = parse_id(c).filter(|id| channel_exists(&st, *id)) else {
        return Reply::error(404, 10003, "Unknown Channel");
    };
    let id = parse_id(mid).unwrap_or(0);
    let Some(message) = st.messages.get(&id).filter(|m| m["channel_id"] == sf(channel_id)).cloned() else {
        return Reply::error(404, 10008, "Unknown Message");
    };
    match req.method.as_str() {
        "GET" => Reply::ok(message),
        "DELETE" => {
            st.messages.remove(&id);
            Reply::no_content()
        }
        _ => {
            if message["author"]["id"] != sf(st.world.bot_user_id) {
                return Reply::error(403, 50005, "Cannot edit a message authored by another user");
            }
            let body = req.json().cloned().unwrap_or(json!({}));
            let edited = edit_message(&mut st, req, message, &body);
            let edited = with_base(shared, edited);
            st.messages.insert(id, edited.clone());
            Reply::ok(edited)
        }
    }
}

/// Applies an edit body to a stored message.
fn edit_message(st: &mut Inner, req: &Req, mut message: Value, body: &Value) -> Value {
    let world = st.world.clone();
    payloads::apply_message_body(&world, &mut message, body);
    let channel_id = parse_id(message["channel_id"].as_str().unwrap_or("")).unwrap_or(0);
    if let Some(keep) = body.get("attachments").and_then(Value::as_array) {
        let kept: Vec<Value> = message["attachments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|a| keep.iter().any(|k| k["id"] == a["id"]))
            .collect();
        let mut all = kept;
        all.extend(store_files(st, channel_id, &req.files(), body));
        message["attachments"] = Value::Array(all);
    } else if !req.files().is_empty() {
        let mut all = message["attachments"].as_array().cloned().unwrap_or_default();
        all.extend(store_files(st, channel_id, &req.files(), body));
        message["attachments"] = Value::Array(all);
    }
    message["edited_timestamp"] = json!(payloads::now_iso());
    message
}

/// A message answering an interaction: webhook author, application id, interaction metadata.
fn interaction_message(st: &mut Inner, req: &Req, info: &InteractionInfo, body: &Value) -> Result<Value, Reply> {
    let author = payloads::bot_user(&st.world);
    let mut message = build_message(st, req, info.r.channel_id, author, body)?;
    decorate_interaction_message(st, &mut message, info);
    Ok(message)
}

fn decorate_interaction_message(st: &Inner, message: &mut Value, info: &InteractionInfo) {
    message["webhook_id"] = sf(st.world.application_id);
    message["application_id"] = sf(st.world.application_id);
    let mut metadata = info.metadata.clone();
    if let Some(original) = info.original_message_id {
        if message["id"] != sf(original) {
            metadata["original_response_message_id"] = sf(original);
        }
    }
    message["interaction_metadata"] = metadata;
    if info.r.kind == 2 && message["type"] == 0 {
        message["type"] = json!(20);
    }
}

fn interaction_callback(shared: &Shared, req: &Req, id: &str, token: &str) -> Reply {
    let mut st = shared.lock();
    let Some(mut info) = st.interactions.get(token).filter(|i| i.r.id.to_string() == id).cloned() else {
        return Reply::error(404, 10062, "Unknown interaction");
    };
    if info.acked.is_some() {
        return Reply::error(400, 40060, "Interaction has already been acknowledged.");
    }
    let (elapsed, deadline) = (info.created.elapsed(), st.world.interaction_deadline);
    if elapsed > deadline {
        st.notes.push(format!("callback for interaction {} came after {elapsed:?} (deadline {deadline:?})", info.r.id));
        return Reply::error(404, 10062, "Unknown interaction");
    }
    let body = req.json().cloned().unwrap_or(json!({}));
    let kind = body["type"].as_u64().unwrap_or(0);
    let data = body.get("data").cloned().filter(|d| !d.is_null()).unwrap_or(json!({}));
    let allowed: &[u64] = match info.r.kind {
        4 => &[8],
        3 => &[4, 5, 6, 7, 9],
        5 if info.component_message_id.is_some() => &[4, 5, 6, 7],
        5 => &[4, 5],
        _ => &[4, 5, 9],
    };
    if !allowed.contains(&kind) {
        return Reply::form_error(
            &["type"],
            "INTERACTION_RESPONSE_TYPE_INVALID",
            &format!("Interaction response type {kind} is not valid for interaction type {}", info.r.kind),
        );
    }
    match kind {
        4 => match interaction_message(&mut st, req, &info, &data) {
            Ok(message) => {
                let message = with_base(shared, message);
                let mid = parse_id(message["id"].as_str().unwrap_or("")).unwrap_or(0);
                info.original_message_id = Some(mid);
                st.messages.insert(mid, message.clone());
                let guild = info.r.guild_id.is_some();
                echo_message_create(&mut st, &message, guild);
            }
            Err(reply) => return reply,
        },
        5 => {
            let mid = payloads::snowflake();
            let mut message = payloads::message_base(mid, info.r.channel_id, payloads::bot_user(&st.world));
            let flags = data["flags"].as_u64().unwrap_or(0) & payloads::FLAG_EPHEMERAL;
            message["flags"] = json!(flags | payloads::FLAG_LOADING);
            decorate_interaction_message(&st, &mut message, &info);
            info.original_message_id = Some(mid);
            st.messages.insert(mid, message);
        }
        6 => info.original_message_id = info.component_message_id,
        7 => {
            let Some(mid) = info.component_message_id else {
                return Reply::error(400, 50035, "Invalid Form Body");
            };
            let Some(message) = st.messages.get(&mid).cloned() else {
                return Reply::error(404, 10008, "Unknown Message");
            };
            let edited = edit_message(&mut st, req, message, &data);
            let edited = with_base(shared, edited);
            st.messages.insert(mid, edited);
            info.original_message_id = Some(mid);
        }
        8 => {}
        9 => {
            let custom_id = data["custom_id"].as_str().unwrap_or("").to_string();
            let place = match info.r.guild_id {
                Some(_) => Place::Guild { channel_id: info.r.channel_id },
                None => Place::Dm { channel_id: info.r.channel_id },
            };
            st.pending_modals.push(PendingModal {
                user_id: info.r.user_id,
                custom_id,
                place,
                trigger_metadata: info.metadata.clone(),
                message_id: info.component_message_id,
            });
        }
        _ => unreachable!("checked above"),
    }
    info.acked = Some(kind);
    info.acked_at = Some(Instant::now());
    st.interactions.insert(token.to_string(), info);
    drop(st);
    shared.changed.notify_waiters();
    Reply::no_content()
}

/// The acknowledged interaction a webhook call refers to, or Discord's error.
fn webhook_interaction(st: &Inner, app: &str, token: &str) -> Result<InteractionInfo, Reply> {
    if parse_id(app) != Some(st.world.application_id) {
        return Err(Reply::error(404, 10015, "Unknown Webhook"));
    }
    match st.interactions.get(token) {
        Some(info) if info.acked.is_some() => Ok(info.clone()),
        _ => Err(Reply::error(404, 10015, "Unknown Webhook")),
    }
}

fn followup(shared: &Shared, req: &Req, app: &str, token: &str) -> Reply {
    let mut st = shared.lock();
    let info = match webhook_interaction(&st, app, token) {
        Ok(info) => info,
        Err(reply) => return reply,
    };
    let body = req.json().cloned().unwrap_or(json!({}));
    match interaction_message(&mut st, req, &info, &body) {
        Ok(mut message) => {
            // Follow-ups are not the interaction's own response type.
            if message["type"] == 20 && info.original_message_id.is_some() {
                message["type"] = json!(0);
            }
            let message = with_base(shared, message);
            let mid = parse_id(message["id"].as_str().unwrap_or("")).unwrap_or(0);
            st.messages.insert(mid, message.clone());
            if info.original_message_id.is_none() {
                if let Some(i) = st.interactions.get_mut(token) {
                    i.original_message_id = Some(mid);
                }
            }
            echo_message_create(&mut st, &message, info.r.guild_id.is_some());
            drop(st);
            shared.changed.notify_waiters();
            Reply::ok(message)
        }
        Err(reply) => reply,
    }
}

fn webhook_message(shared: &Shared, req: &Req, app: &str, token: &str, which: &str) -> Reply {
    if !matches!(req.method.as_str(), "GET" | "PATCH" | "DELETE") {
        return Reply::method_not_allowed();
    }
    let mut st = shared.lock();
    let info = match webhook_interaction(&st, app, token) {
        Ok(info) => info,
        Err(reply) => return reply,
    };
    let id = if which == "@original" {
        match info.original_message_id {
            Some(id) => id,
            None => return Reply::error(404, 10008, "Unknown Message"),
        }
    } else {
        match parse_id(which) {
            Some(id) => id,
            None => return Reply::error(404, 10008, "Unknown Message"),
        }
    };
    let belongs = |m: &Value| m["interaction_metadata"]["id"] == sf(info.r.id) || Some(id) == info.original_message_id;
    let Some(message) = st.messages.get(&id).filter(|m| belongs(m)).cloned() else {
        return Reply::error(404, 10008, "Unknown Message");
    };
    match req.method.as_str() {
        "GET" => Reply::ok(message),
        "DELETE" => {
            st.messages.remove(&id);
            Reply::no_content()
        }
        _ => {
            let body = req.json().cloned().unwrap_or(json!({}));
            if body["content"].as_str().is_some_and(|c| c.chars().count() > 2000) {
                return Reply::form_error(&["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
            }
            let mut edited = edit_message(&mut st, req, message, &body);
            // Editing a deferred response ends its "thinking" state.
            let flags = edited["flags"].as_u64().unwrap_or(0) & !payloads::FLAG_LOADING;
            edited["flags"] = json!(flags);
            let edited = with_base(shared, edited);
            st.messages.insert(id, edited.clone());
            drop(st);
            shared.changed.notify_waiters();
            Reply::ok(edited)
        }
    }
}
