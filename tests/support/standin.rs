//! The Discord stand-in: an axum server on 127.0.0.1 that plays Discord's REST API (under
//! `/api/v10`) and gateway websocket (`/gateway`) for end-to-end tests of the bot.
//!
//! Owns the test-facing API ([`World`], [`StandIn`], [`Recorded`], [`InteractionRef`]), the
//! request recorder, fault injection, the REST routes the bot uses (with Discord's real error
//! codes where the bot can get them wrong) and the gateway session (Hello, Identify → READY +
//! GUILD_CREATE, heartbeats, Resume, Reconnect, Invalid Session, member chunks). JSON shapes
//! live in `payloads.rs`; the OpenAPI check in `openapi.rs`.
//!
//! Point serenity at it with `HttpBuilder::new(token).proxy(standin.base_url())
//! .ratelimiter_disabled(true)` (serenity ignores the proxy while its rate limiter is on).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use serenity::model::gateway::GatewayIntents;
use serenity::model::Permissions;
use tokio::sync::{mpsc, Notify};

use super::openapi;
use super::payloads::{self, sf, InteractionSpec, Place};

/// The ids of [`World::default`], for assertions.
pub mod ids {
    /// The guild "Volda kommune" (also the id of its `@everyone` role).
    pub const GUILD: u64 = 1_300_000_000_000_000_100;
    /// The bot's application.
    pub const APPLICATION: u64 = 1_300_000_000_000_000_200;
    /// The bot's user.
    pub const BOT_USER: u64 = 1_300_000_000_000_000_201;
    /// The bot's managed role.
    pub const BOT_ROLE: u64 = 1_300_000_000_000_000_202;
    /// `#general`.
    pub const GENERAL: u64 = 1_300_000_000_000_000_300;
    /// `#kommunikasjon`.
    pub const KOMMUNIKASJON: u64 = 1_300_000_000_000_000_301;
    /// `@everyone` (Discord gives it the guild's id).
    pub const ROLE_EVERYONE: u64 = GUILD;
    /// Leiar (department heads).
    pub const ROLE_LEIAR: u64 = 1_300_000_000_000_000_401;
    /// Informasjonskonsulent (communications officers).
    pub const ROLE_INFORMASJONSKONSULENT: u64 = 1_300_000_000_000_000_402;
    /// Admin (has MANAGE_GUILD).
    pub const ROLE_ADMIN: u64 = 1_300_000_000_000_000_403;
    /// Kari Nordmann, employee, locale `no`.
    pub const EMPLOYEE: u64 = 1_300_000_000_000_000_501;
    /// John Smith, employee, locale `en-US`.
    pub const ENGLISH_EMPLOYEE: u64 = 1_300_000_000_000_000_502;
    /// Ola Hansen, department head (Leiar).
    pub const DEPARTMENT_HEAD: u64 = 1_300_000_000_000_000_503;
    /// Ingrid Berg, communications officer (Informasjonskonsulent).
    pub const COMMS_OFFICER: u64 = 1_300_000_000_000_000_504;
    /// Per Admin, admin (Admin role, MANAGE_GUILD); owns the guild.
    pub const ADMIN: u64 = 1_300_000_000_000_000_505;
    /// Lars Vik, an employee with no part in any flow.
    pub const UNRELATED: u64 = 1_300_000_000_000_000_506;
}

/// A guild text channel of the world.
#[derive(Clone, Debug)]
pub struct ChannelSpec {
    /// Channel id.
    pub id: u64,
    /// Name without `#`.
    pub name: String,
    /// Topic.
    pub topic: Option<String>,
    /// Sort position.
    pub position: u16,
}

/// A role of the world.
#[derive(Clone, Debug)]
pub struct RoleSpec {
    /// Role id (`@everyone` has the guild's id).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Permission bits.
    pub permissions: u64,
    /// Position in the role list (`@everyone` is 0).
    pub position: u16,
    /// RGB colour, 0 for none.
    pub color: u32,
}

/// A member of the world's guild.
#[derive(Clone, Debug)]
pub struct UserSpec {
    /// User id.
    pub id: u64,
    /// Unique username.
    pub username: String,
    /// Display name.
    pub global_name: Option<String>,
    /// Client locale, sent as an interaction's `locale` (`no`, `en-US`, ...).
    pub locale: String,
    /// Role ids besides `@everyone`.
    pub roles: Vec<u64>,
    /// Grants MANAGE_GUILD on top of the roles' permissions.
    pub manage_guild: bool,
}

/// Everything the stand-in knows about: one guild, its channels, roles and members, the bot.
#[derive(Clone, Debug)]
pub struct World {
    /// The guild's id.
    pub guild_id: u64,
    /// The guild's name.
    pub guild_name: String,
    /// The guild's preferred locale (an interaction's `guild_locale`).
    pub guild_locale: String,
    /// The guild owner's user id.
    pub owner_id: u64,
    /// The bot's application id (READY `application.id`).
    pub application_id: u64,
    /// The bot's user id.
    pub bot_user_id: u64,
    /// The bot's username.
    pub bot_username: String,
    /// The bot's managed role.
    pub bot_role_id: u64,
    /// The permissions of the bot's managed role.
    pub bot_role_permissions: u64,
    /// The bot token the stand-in accepts (REST `Authorization: Bot <token>`, gateway Identify).
    pub token: String,
    /// When everyone joined the guild.
    pub joined_at: String,
    /// Text channels.
    pub channels: Vec<ChannelSpec>,
    /// Roles, `@everyone` included.
    pub roles: Vec<RoleSpec>,
    /// Members (the bot is added by the stand-in).
    pub users: Vec<UserSpec>,
    /// Users whose DMs refuse the bot: posting into their DM channel fails with 403, code 50007.
    pub dm_blocked: HashSet<u64>,
    /// Privileged intents enabled for the application in the developer portal; identifying with
    /// another privileged intent closes the gateway with 4014, as Discord does.
    pub allowed_privileged_intents: u64,
    /// Hello's `heartbeat_interval` in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// How long an interaction accepts its initial response (Discord: 3 s); later callbacks get
    /// 404 "Unknown interaction" (10062).
    pub interaction_deadline: Duration,
}

impl Default for World {
    fn default() -> World {
        let everyone = Permissions::VIEW_CHANNEL
            | Permissions::SEND_MESSAGES
            | Permissions::EMBED_LINKS
            | Permissions::ATTACH_FILES
            | Permissions::READ_MESSAGE_HISTORY
            | Permissions::ADD_REACTIONS
            | Permissions::USE_EXTERNAL_EMOJIS
            | Permissions::USE_APPLICATION_COMMANDS
            | Permissions::CREATE_INSTANT_INVITE
            | Permissions::CHANGE_NICKNAME
            | Permissions::SEND_MESSAGES_IN_THREADS
            | Permissions::CREATE_PUBLIC_THREADS
            | Permissions::CONNECT
            | Permissions::SPEAK;
        let user = |id, username: &str, global: &str, locale: &str, roles: Vec<u64>, manage_guild| UserSpec {
            id,
            username: username.into(),
            global_name: Some(global.into()),
            locale: locale.into(),
            roles,
            manage_guild,
        };
        World {
            guild_id: ids::GUILD,
            guild_name: "Volda kommune".into(),
            guild_locale: "no".into(),
            owner_id: ids::ADMIN,
            application_id: ids::APPLICATION,
            bot_user_id: ids::BOT_USER,
            bot_username: "somebot".into(),
            bot_role_id: ids::BOT_ROLE,
            bot_role_permissions: (Permissions::VIEW_CHANNEL
                | Permissions::SEND_MESSAGES
                | Permissions::EMBED_LINKS
                | Permissions::ATTACH_FILES
                | Permissions::READ_MESSAGE_HISTORY
                | Permissions::ADD_REACTIONS
                | Permissions::USE_EXTERNAL_EMOJIS
                | Permissions::SEND_MESSAGES_IN_THREADS)
                .bits(),
            token: "MTMwMDAwMDAwMDAwMDAwMDIwMQ.standin.bot-token".into(),
            joined_at: "2025-01-06T08:00:00.000000+00:00".into(),
            channels: vec![
                ChannelSpec { id: ids::GENERAL, name: "general".into(), topic: Some("Allment".into()), position: 0 },
                ChannelSpec {
                    id: ids::KOMMUNIKASJON,
                    name: "kommunikasjon".into(),
                    topic: Some("Kommunikasjon og sosiale medium".into()),
                    position: 1,
                },
            ],
            roles: vec![
                RoleSpec {
                    id: ids::ROLE_EVERYONE,
                    name: "@everyone".into(),
                    permissions: everyone.bits(),
                    position: 0,
                    color: 0,
                },
                RoleSpec {
                    id: ids::ROLE_INFORMASJONSKONSULENT,
                    name: "Informasjonskonsulent".into(),
                    permissions: (Permissions::MANAGE_MESSAGES | Permissions::MENTION_EVERYONE).bits(),
                    position: 2,
                    color: 0x1F8B4C,
                },
                RoleSpec {
                    id: ids::ROLE_LEIAR,
                    name: "Leiar".into(),
                    permissions: Permissions::MENTION_EVERYONE.bits(),
                    position: 3,
                    color: 0x206694,
                },
                RoleSpec {
                    id: ids::ROLE_ADMIN,
                    name: "Admin".into(),
                    permissions: (Permissions::MANAGE_GUILD
                        | Permissions::MANAGE_ROLES
                        | Permissions::MANAGE_CHANNELS
                        | Permissions::MANAGE_MESSAGES
                        | Permissions::KICK_MEMBERS
                        | Permissions::BAN_MEMBERS
                        | Permissions::MENTION_EVERYONE)
                        .bits(),
                    position: 4,
                    color: 0xE74C3C,
                },
            ],
            users: vec![
                user(ids::EMPLOYEE, "kari.nordmann", "Kari Nordmann", "no", vec![], false),
                user(ids::ENGLISH_EMPLOYEE, "john.smith", "John Smith", "en-US", vec![], false),
                user(ids::DEPARTMENT_HEAD, "ola.hansen", "Ola Hansen", "no", vec![ids::ROLE_LEIAR], false),
                user(
                    ids::COMMS_OFFICER,
                    "ingrid.berg",
                    "Ingrid Berg",
                    "no",
                    vec![ids::ROLE_INFORMASJONSKONSULENT],
                    false,
                ),
                user(ids::ADMIN, "per.admin", "Per Admin", "no", vec![ids::ROLE_ADMIN], true),
                user(ids::UNRELATED, "lars.vik", "Lars Vik", "no", vec![], false),
            ],
            dm_blocked: HashSet::new(),
            allowed_privileged_intents: (GatewayIntents::GUILD_MEMBERS
                | GatewayIntents::GUILD_PRESENCES
                | GatewayIntents::MESSAGE_CONTENT)
                .bits(),
            heartbeat_interval_ms: 41_250,
            interaction_deadline: Duration::from_secs(3),
        }
    }
}

impl World {
    /// A user of the world by id.
    pub fn user(&self, id: u64) -> Option<&UserSpec> {
        self.users.iter().find(|u| u.id == id)
    }

    /// A role of the world by id.
    pub fn role(&self, id: u64) -> Option<&RoleSpec> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// A text channel of the world by id.
    pub fn channel(&self, id: u64) -> Option<&ChannelSpec> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// A text channel of the world by name.
    pub fn channel_named(&self, name: &str) -> Option<&ChannelSpec> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// The channel interactions happen in unless a test says otherwise: the first one.
    pub fn default_channel(&self) -> u64 {
        self.channels.first().expect("the world has a channel").id
    }
}

/// A part of a `multipart/form-data` body.
#[derive(Clone, Debug)]
pub struct Part {
    /// The form field name (`payload_json`, `files[0]`, ...).
    pub name: String,
    /// The file name, for file parts.
    pub filename: Option<String>,
    /// The part's content type.
    pub content_type: Option<String>,
    /// The raw bytes.
    pub data: Vec<u8>,
}

/// A recorded request body.
#[derive(Clone, Debug)]
pub enum Body {
    /// No body.
    Empty,
    /// A JSON body.
    Json(Value),
    /// A multipart body; `payload_json` parsed when present.
    Multipart {
        /// The parsed `payload_json` part.
        payload_json: Option<Value>,
        /// All parts, `payload_json` included.
        parts: Vec<Part>,
    },
    /// A body that could not be parsed as its content type says, as lossy text.
    Invalid(String),
}

/// One request the bot made, in arrival order.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Position in arrival order, from 0.
    pub seq: usize,
    /// Upper-case method.
    pub method: String,
    /// Path without the `/api/v10` prefix.
    pub path: String,
    /// Raw query string without `?` (serenity starts it with `&`).
    pub query: Option<String>,
    /// Headers of interest, lower-case names: authorization, content-type, user-agent,
    /// x-audit-log-reason.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Body,
    /// The status the stand-in answered.
    pub status: u16,
    /// The JSON the stand-in answered, if any.
    pub response: Option<Value>,
    /// Whether the answer came from `fail_next` (or the connection was reset by `reset_next`:
    /// status 0).
    pub injected_fault: bool,
    /// When the request arrived.
    pub at: Instant,
}

impl Recorded {
    /// The JSON body, or the multipart `payload_json`.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            Body::Multipart { payload_json, .. } => payload_json.as_ref(),
            _ => None,
        }
    }

    /// The file parts of a multipart body.
    pub fn files(&self) -> Vec<&Part> {
        match &self.body {
            Body::Multipart { parts, .. } => parts.iter().filter(|p| p.filename.is_some()).collect(),
            _ => vec![],
        }
    }

    /// Whether this is `method` on exactly `path`.
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}", self.seq, self.method, self.path)?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        write!(f, " -> {}", self.status)?;
        if self.injected_fault {
            write!(f, " (injected)")?;
        }
        if let Some(body) = self.json() {
            let mut text = body.to_string();
            if text.len() > 300 {
                let mut cut = 300;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push('…');
            }
            write!(f, " {text}")?;
        }
        Ok(())
    }
}

/// Direction of a gateway frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Client → stand-in.
    In,
    /// Stand-in → client.
    Out,
}

/// One gateway frame, either way.
#[derive(Clone, Debug)]
pub struct GatewayFrame {
    /// Connection number, from 1.
    pub conn: u32,
    /// Which way.
    pub dir: Direction,
    /// Opcode (`None` for a close, whose code is in `close`).
    pub op: Option<u64>,
    /// Dispatch name.
    pub t: Option<String>,
    /// Sequence number of a dispatch.
    pub s: Option<u64>,
    /// Payload.
    pub d: Value,
    /// Close code, for a close frame or a dropped connection (`Some(0)`).
    pub close: Option<u16>,
    /// Whether it went out as a zlib-compressed binary frame.
    pub compressed: bool,
}

/// The interaction a test injected: what the bot must answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionRef {
    /// Interaction id.
    pub id: u64,
    /// Interaction token.
    pub token: String,
    /// Interaction type (2 command, 3 component, 4 autocomplete, 5 modal submit).
    pub kind: u8,
    /// Who acted.
    pub user_id: u64,
    /// Where.
    pub channel_id: u64,
    /// The guild, `None` in a DM.
    pub guild_id: Option<u64>,
}

impl InteractionRef {
    /// `/interactions/{id}/{token}/callback`.
    pub fn callback_path(&self) -> String {
        format!("/interactions/{}/{}/callback", self.id, self.token)
    }

    /// `/webhooks/{application}/{token}`: follow-ups and the original response live below.
    pub fn webhook_path(&self, application_id: u64) -> String {
        format!("/webhooks/{application_id}/{}", self.token)
    }
}

/// A message a test injected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRef {
    /// Message id.
    pub id: u64,
    /// Channel id.
    pub channel_id: u64,
}

/// What a fault does.
#[derive(Clone, Debug)]
enum FaultKind {
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
struct Fault {
    method: String,
    path_prefix: String,
    remaining: usize,
    kind: FaultKind,
}

/// Gateway controls sent to the live connection.
#[derive(Debug)]
enum Ctl {
    Dispatch(String, Value),
    Reconnect,
    InvalidSession(bool),
    Drop,
    Close(u16, String),
}

/// What the stand-in remembers about an interaction.
#[derive(Clone, Debug)]
struct InteractionInfo {
    r: InteractionRef,
    created: Instant,
    /// The callback type that acknowledged it.
    acked: Option<u64>,
    /// When the acknowledging callback arrived.
    acked_at: Option<Instant>,
    original_message_id: Option<u64>,
    /// For components: the message the component sits on.
    component_message_id: Option<u64>,
    /// `interaction_metadata` of messages answering it (without the original's id).
    metadata: Value,
}

/// A modal the bot opened (callback type 9), awaiting its submit.
#[derive(Clone, Debug)]
struct PendingModal {
    user_id: u64,
    custom_id: String,
    place: Place,
    trigger_metadata: Value,
    message_id: Option<u64>,
}

/// One shard's gateway session.
#[derive(Default)]
struct Session {
    /// The live connection serving this shard.
    current: Option<(u32, mpsc::UnboundedSender<Ctl>)>,
    session_id: Option<String>,
    seq: u64,
    intents: u64,
    compress: bool,
    /// READY (and GUILD_CREATE with the GUILDS intent) or RESUMED went out on the live connection.
    ready: bool,
}

/// The gateway: a session per shard, as Discord keeps them. A connection is bound to a shard
/// by its Identify (`shard: [id, count]`) or Resume; guild events go to the shard
/// `(guild_id >> 22) % count`, DMs to shard 0.
#[derive(Default)]
struct Gateway {
    shards: BTreeMap<u64, Session>,
    /// Live connections and the shard each is bound to.
    conns: HashMap<u32, (Option<u64>, mpsc::UnboundedSender<Ctl>)>,
    /// The shard count of the latest Identify (1 before any).
    shard_count: u64,
    identify: Option<Value>,
    identifies: u32,
    resumes: u32,
}

impl Gateway {
    fn count(&self) -> u64 {
        self.shard_count.max(1)
    }

    /// The shard a guild's events go to.
    fn shard_of_guild(&self, guild_id: u64) -> u64 {
        (guild_id >> 22) % self.count()
    }

    fn shard_of_conn(&self, conn: u32) -> Option<u64> {
        self.conns.get(&conn).and_then(|(shard, _)| *shard)
    }

    fn session(&self, shard: u64) -> Option<&Session> {
        self.shards.get(&shard)
    }

    fn shard_ready(&self, shard: u64) -> bool {
        self.session(shard).is_some_and(|s| s.ready && s.current.is_some())
    }

    /// Every shard of the current count is connected and ready.
    fn all_ready(&self) -> bool {
        (0..self.count()).all(|s| self.shard_ready(s))
    }

    /// The connection serving `shard`, if any.
    fn sender(&self, shard: u64) -> Option<&mpsc::UnboundedSender<Ctl>> {
        self.session(shard).and_then(|s| s.current.as_ref()).map(|(_, tx)| tx)
    }
}

struct Inner {
    world: World,
    requests: Vec<Recorded>,
    gateway_log: Vec<GatewayFrame>,
    faults: Vec<Fault>,
    global_commands: Vec<Value>,
    guild_commands: Vec<Value>,
    command_writes: usize,
    messages: BTreeMap<u64, Value>,
    attachments: HashMap<String, Vec<u8>>,
    /// How long the CDN takes to serve an attachment (to test slow downloads).
    attachment_delay: Duration,
    /// Files a user attached to a slash command (attachment options), by attachment id.
    uploaded: HashMap<String, Value>,
    interactions: HashMap<String, InteractionInfo>,
    pending_modals: Vec<PendingModal>,
    dm_channels: HashMap<u64, u64>,
    /// Messages posted with `enforce_nonce`, by nonce: Discord returns the first one again for
    /// the same nonce within a few minutes instead of posting a copy.
    nonces: HashMap<String, (u64, Instant)>,
    gw: Gateway,
    notes: Vec<String>,
    next_conn: u32,
}

struct Shared {
    state: Mutex<Inner>,
    changed: Notify,
    base_url: String,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running stand-in. Dropping it stops the server.
pub struct StandIn {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The default wait for the client to be connected before injecting an event.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Dispatch payloads larger than this go out zlib-compressed when Identify asked for `compress`.
const COMPRESS_OVER: usize = 1024;

impl StandIn {
    /// Starts the stand-in on a free port of 127.0.0.1.
    pub async fn start(world: World) -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            state: Mutex::new(Inner {
                world,
                requests: Vec::new(),
                gateway_log: Vec::new(),
                faults: Vec::new(),
                global_commands: Vec::new(),
                guild_commands: Vec::new(),
                command_writes: 0,
                messages: BTreeMap::new(),
                nonces: HashMap::new(),
                attachments: HashMap::new(),
                attachment_delay: Duration::ZERO,
                uploaded: HashMap::new(),
                interactions: HashMap::new(),
                pending_modals: Vec::new(),
                dm_channels: HashMap::new(),
                gw: Gateway::default(),
                notes: Vec::new(),
                next_conn: 0,
            }),
            changed: Notify::new(),
            base_url: format!("http://127.0.0.1:{port}"),
        });
        let app = Router::new()
            .route("/gateway", get(gateway_upgrade))
            .route("/attachments/{*rest}", get(attachment))
            .fallback(rest)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("stand-in server");
        });
        StandIn { shared, server }
    }

    /// `http://127.0.0.1:PORT`: what the bot's Discord API base (serenity's proxy) is set to.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `ws://127.0.0.1:PORT/gateway`, as `GET /gateway` reports it.
    pub fn gateway_url(&self) -> String {
        gateway_url(&self.shared.base_url)
    }

    /// A copy of the world.
    pub fn world(&self) -> World {
        self.shared.lock().world.clone()
    }

    /// Blocks or unblocks a user's DMs from now on.
    pub fn set_dm_blocked(&self, user: u64, blocked: bool) {
        let mut st = self.shared.lock();
        if blocked {
            st.world.dm_blocked.insert(user);
        } else {
            st.world.dm_blocked.remove(&user);
        }
    }

    /// Waits until `check` returns `Some`, re-checking on every change; panics on timeout with
    /// `what`, the requests seen and the stand-in's notes.
    async fn wait_until<T>(&self, what: &str, timeout: Duration, check: impl Fn(&Inner) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = check(&self.shared.lock()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let found = check(&self.shared.lock());
                if let Some(found) = found {
                    return found;
                }
                panic!("stand-in: timed out after {timeout:?} waiting for {what}\n{}", self.report());
            }
        }
    }

    /// The requests and notes, for failure messages.
    pub fn report(&self) -> String {
        let st = self.shared.lock();
        let mut out = format!("requests seen ({}):\n", st.requests.len());
        for r in &st.requests {
            out.push_str(&format!("  {r}\n"));
        }
        let frames: Vec<String> = st
            .gateway_log
            .iter()
            .map(|f| match (&f.t, f.close) {
                (_, Some(code)) => format!("{:?}{}:close {code}", f.dir, f.conn),
                (Some(t), _) => format!("{:?}{}:{t}", f.dir, f.conn),
                (None, _) => format!("{:?}{}:op{}", f.dir, f.conn, f.op.unwrap_or(99)),
            })
            .filter(|s| !s.ends_with(":op1") && !s.ends_with(":op11"))
            .collect();
        out.push_str(&format!("gateway: {}\n", frames.join(" ")));
        if !st.notes.is_empty() {
            out.push_str("notes:\n");
            for n in &st.notes {
                out.push_str(&format!("  {n}\n"));
            }
        }
        out
    }

    /// Waits until a client identified and READY (plus GUILD_CREATE when it asked for GUILDS)
    /// went out, or a resumed session is live again.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.wait_until("READY", timeout, |st| st.gw.all_ready().then_some(())).await;
    }

    /// Waits until one shard is connected and ready (a process serving only some shards).
    pub async fn wait_shard_ready(&self, shard: u64, timeout: Duration) {
        self.wait_until(&format!("READY on shard {shard}"), timeout, |st| st.gw.shard_ready(shard).then_some(())).await;
    }

    /// Waits until the bot registered commands (bulk overwrite or create) and returns all
    /// registered commands, guild ones first, as the stand-in answered them.
    pub async fn wait_commands_registered(&self, timeout: Duration) -> Vec<Value> {
        self.wait_until("command registration", timeout, |st| {
            (st.command_writes > 0).then(|| st.guild_commands.iter().chain(&st.global_commands).cloned().collect())
        })
        .await
    }

    /// The registered commands (guild ones first).
    pub fn registered_commands(&self) -> Vec<Value> {
        let st = self.shared.lock();
        st.guild_commands.iter().chain(&st.global_commands).cloned().collect()
    }

    /// The live connection serving `shard` (to match [`GatewayFrame::conn`]).
    pub fn shard_connection(&self, shard: u64) -> Option<u32> {
        self.shared.lock().gw.session(shard).and_then(|s| s.current.as_ref()).map(|(conn, _)| *conn)
    }

    /// The Identify payload of the current session, if any.
    pub fn identify(&self) -> Option<Value> {
        self.shared.lock().gw.identify.clone()
    }

    /// How many Identify and Resume payloads the stand-in accepted.
    pub fn session_counts(&self) -> (u32, u32) {
        let st = self.shared.lock();
        (st.gw.identifies, st.gw.resumes)
    }

    /// Every gateway frame so far, both ways.
    pub fn gateway_log(&self) -> Vec<GatewayFrame> {
        self.shared.lock().gateway_log.clone()
    }

    /// Waits for a gateway frame matching `pred` (past frames count).
    pub async fn wait_gateway(&self, pred: impl Fn(&GatewayFrame) -> bool, timeout: Duration) -> GatewayFrame {
        self.wait_until("a gateway frame", timeout, |st| st.gateway_log.iter().find(|f| pred(f)).cloned()).await
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// Things the stand-in noticed that real Discord would do silently (events not delivered
    /// for lack of an intent, ...).
    pub fn notes(&self) -> Vec<String> {
        self.shared.lock().notes.clone()
    }

    /// Waits for a request matching `pred` (past requests count); panics with the list of
    /// requests seen on timeout.
    pub async fn wait_for(&self, pred: impl Fn(&Recorded) -> bool, timeout: Duration) -> Recorded {
        self.wait_until("a matching request", timeout, |st| st.requests.iter().find(|r| pred(r)).cloned()).await
    }

    /// The `POST /interactions/{id}/{token}/callback` answering `ir`.
    pub async fn callback_for(&self, ir: &InteractionRef, timeout: Duration) -> Recorded {
        let path = ir.callback_path();
        self.wait_until(&format!("the callback POST {path}"), timeout, |st| {
            st.requests.iter().find(|r| r.method == "POST" && r.path == path).cloned()
        })
        .await
    }

    /// Waits (without panicking) until `ir` is acknowledged; returns the callback type and the
    /// time from the dispatch to the callback, or `None` when no valid callback came in time (a
    /// callback after the interaction deadline is refused, as Discord does).
    pub async fn wait_acked(&self, ir: &InteractionRef, timeout: Duration) -> Option<(u64, Duration)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(info) = self.shared.lock().interactions.get(&ir.token) {
                if let (Some(kind), Some(at)) = (info.acked, info.acked_at) {
                    return Some((kind, at.duration_since(info.created)));
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// How many requests the stand-in has seen: a mark for [`StandIn::wait_for_after`].
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Waits (without panicking) for a request from `mark` on matching `pred`; each wake-up
    /// looks only at the requests that arrived since the last one, so many concurrent waiters
    /// stay cheap.
    pub async fn wait_for_after(
        &self,
        mark: usize,
        pred: impl Fn(&Recorded) -> bool,
        timeout: Duration,
    ) -> Option<Recorded> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut cursor = mark;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let st = self.shared.lock();
                if let Some(found) = st.requests.get(cursor..).and_then(|new| new.iter().find(|r| pred(r))) {
                    return Some(found.clone());
                }
                cursor = st.requests.len().max(cursor);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Every request concerning `ir`: its callback and its webhook (follow-up, original) calls.
    pub fn requests_for(&self, ir: &InteractionRef) -> Vec<Recorded> {
        let callback = ir.callback_path();
        let hook = format!("/webhooks/{}/{}", self.shared.lock().world.application_id, ir.token);
        self.requests().into_iter().filter(|r| r.path == callback || r.path.starts_with(&hook)).collect()
    }

    /// The original response message of `ir`, as it stands now.
    pub fn original_response(&self, ir: &InteractionRef) -> Option<Value> {
        let st = self.shared.lock();
        let id = st.interactions.get(&ir.token)?.original_message_id?;
        st.messages.get(&id).cloned()
    }

    /// The messages in a channel (the bot's and injected ones), oldest first.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        let st = self.shared.lock();
        st.messages.values().filter(|m| m["channel_id"] == sf(channel_id)).cloned().collect()
    }

    /// A stored message by id.
    pub fn message(&self, id: u64) -> Option<Value> {
        self.shared.lock().messages.get(&id).cloned()
    }

    /// The DM channel between the bot and `user`, once one exists.
    pub fn dm_channel_of(&self, user: u64) -> Option<u64> {
        self.shared.lock().dm_channels.get(&user).copied()
    }

    /// Runs the OpenAPI oracle over every recorded request; panics listing each failure
    /// (request, JSON pointer, rule).
    pub fn assert_all_requests_valid(&self) {
        let failures = self.check_requests();
        if !failures.is_empty() {
            let lines: Vec<String> = failures.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "{} request(s) break Discord's OpenAPI spec:\n{}\n{}",
                failures.len(),
                lines.join("\n"),
                self.report()
            );
        }
    }

    /// The OpenAPI violations of every recorded request (empty when all conform).
    pub fn check_requests(&self) -> Vec<openapi::Violation> {
        let requests = self.requests();
        let mut out = Vec::new();
        for r in &requests {
            let label = format!("#{} {} {}", r.seq, r.method, r.path);
            out.extend(openapi::check(&openapi::RequestView {
                label,
                method: &r.method,
                path: &r.path,
                query: r.query.as_deref(),
                body: r.json(),
            }));
        }
        out
    }

    // ----- fault injection -----

    /// The next `times` requests with `method` (or `*`) whose path (without `/api/v10`) starts
    /// with `path_prefix` get `status` and `body` instead of being served.
    pub fn fail_next(&self, method: &str, path_prefix: &str, times: usize, status: u16, body: Value) {
        self.push_fault(method, path_prefix, times, FaultKind::Respond { status, body, headers: vec![] });
    }

    /// Like `fail_next` with Discord's 429: the JSON body and the `Retry-After` and
    /// `X-RateLimit-*` headers (`retry_after` in seconds).
    pub fn rate_limit_next(&self, method: &str, path_prefix: &str, times: usize, retry_after: f64, global: bool) {
        let body = json!({
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global,
        });
        let mut headers = vec![
            ("retry-after".to_string(), format!("{}", retry_after.ceil() as u64)),
            ("x-ratelimit-scope".to_string(), if global { "global" } else { "user" }.to_string()),
        ];
        if global {
            headers.push(("x-ratelimit-global".into(), "true".into()));
        } else {
            headers.extend([
                ("x-ratelimit-limit".to_string(), "5".to_string()),
                ("x-ratelimit-remaining".to_string(), "0".to_string()),
                ("x-ratelimit-reset-after".to_string(), format!("{retry_after:.3}")),
                ("x-ratelimit-bucket".to_string(), "standin-bucket".to_string()),
            ]);
        }
        self.push_fault(method, path_prefix, times, FaultKind::Respond { status: 429, body, headers });
    }

    /// The next `times` matching requests get no answer at all: the connection is dropped before
    /// the request is handled (the client sees a connection error, nothing was stored).
    pub fn reset_next(&self, method: &str, path_prefix: &str, times: usize) {
        self.push_fault(method, path_prefix, times, FaultKind::Reset);
    }

    /// The next `times` matching requests are handled (a message is posted, say), but the
    /// connection drops before the answer: the client sees a connection error although it
    /// worked.
    pub fn reset_after_next(&self, method: &str, path_prefix: &str, times: usize) {
        self.push_fault(method, path_prefix, times, FaultKind::ResetAfter);
    }

    /// The next `times` matching requests are answered only after `delay`.
    pub fn delay_next(&self, method: &str, path_prefix: &str, times: usize, delay: Duration) {
        self.push_fault(method, path_prefix, times, FaultKind::Delay(delay));
    }

    fn push_fault(&self, method: &str, path_prefix: &str, times: usize, kind: FaultKind) {
        self.shared.lock().faults.push(Fault {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            remaining: times,
            kind,
        });
    }

    // ----- gateway controls -----

    /// Sends a control to the live connection.
    ///
    /// # Panics
    /// When no client is connected (e.g. right after a reconnect, before the new connection).
    fn control(&self, ctl: impl Fn() -> Ctl) {
        let st = self.shared.lock();
        let live: Vec<_> = st.gw.shards.values().filter_map(|s| s.current.as_ref()).collect();
        assert!(!live.is_empty(), "stand-in: no gateway client is connected");
        for (_, tx) in live {
            tx.send(ctl()).expect("stand-in: the gateway connection is gone");
        }
    }

    /// Sends a dispatch on the shard that serves `guild` (shard 0 for DMs).
    fn dispatch_to(&self, guild: Option<u64>, t: &str, d: Value) {
        let st = self.shared.lock();
        let shard = guild.map_or(0, |g| st.gw.shard_of_guild(g));
        let tx = st.gw.sender(shard).unwrap_or_else(|| panic!("stand-in: no gateway client serves shard {shard}"));
        tx.send(Ctl::Dispatch(t.to_string(), d)).expect("stand-in: the gateway connection is gone");
    }

    /// Sends op 7 Reconnect: the client should reconnect and resume.
    pub fn send_reconnect(&self) {
        self.control(|| Ctl::Reconnect);
    }

    /// Sends op 9 Invalid Session; when not `resumable` the session is forgotten too.
    pub fn invalid_session(&self, resumable: bool) {
        self.control(|| Ctl::InvalidSession(resumable));
    }

    /// Drops the TCP connection without a close frame.
    pub fn drop_connection(&self) {
        self.control(|| Ctl::Drop);
    }

    /// Closes the websocket with a close code (4000 unknown error, 4004 auth failed, ...).
    pub fn close_gateway(&self, code: u16, reason: &str) {
        self.control(|| Ctl::Close(code, reason.to_string()));
    }

    // ----- injected events -----

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

fn gateway_url(base_url: &str) -> String {
    format!("{}/gateway", base_url.replacen("http://", "ws://", 1))
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

// ===================================================================================== REST ==

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

async fn rest(
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

async fn attachment(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
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

/// Sends MESSAGE_CREATE for a message the bot posted, as Discord does when the client has the
/// intent for that kind of channel.
fn echo_message_create(st: &mut Inner, message: &Value, guild: bool) {
    if message["flags"].as_u64().unwrap_or(0) & payloads::FLAG_EPHEMERAL != 0 {
        return;
    }
    let needed = if guild { GatewayIntents::GUILD_MESSAGES } else { GatewayIntents::DIRECT_MESSAGES };
    let shard = if guild { st.gw.shard_of_guild(st.world.guild_id) } else { 0 };
    let Some(session) = st.gw.session(shard) else { return };
    if session.intents & needed.bits() == 0 || !session.ready {
        return;
    }
    let mut event = message.clone();
    if guild {
        event["guild_id"] = sf(st.world.guild_id);
        let mut member = payloads::bot_member(&st.world);
        if let Some(m) = member.as_object_mut() {
            m.remove("user");
        }
        event["member"] = member;
    }
    if let Some(tx) = st.gw.sender(shard) {
        let _ = tx.send(Ctl::Dispatch("MESSAGE_CREATE".into(), event));
    }
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

// ================================================================================== gateway ==

async fn gateway_upgrade(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| gateway_conn(shared, socket, params))
}

fn log_frame(shared: &Shared, frame: GatewayFrame) {
    shared.lock().gateway_log.push(frame);
    shared.changed.notify_waiters();
}

/// Sends one payload, zlib-compressing large dispatches when the client asked for it.
async fn send_payload(shared: &Shared, socket: &mut WebSocket, conn: u32, payload: Value) -> bool {
    let text = payload.to_string();
    let compress = {
        let st = shared.lock();
        let session = st.gw.shard_of_conn(conn).and_then(|s| st.gw.session(s));
        session.is_some_and(|s| s.compress) && payload["op"] == 0 && text.len() > COMPRESS_OVER
    };
    log_frame(
        shared,
        GatewayFrame {
            conn,
            dir: Direction::Out,
            op: payload["op"].as_u64(),
            t: payload["t"].as_str().map(str::to_string),
            s: payload["s"].as_u64(),
            d: payload["d"].clone(),
            close: None,
            compressed: compress,
        },
    );
    let message = if compress {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).expect("zlib into memory");
        Message::Binary(Bytes::from(enc.finish().expect("zlib into memory")))
    } else {
        Message::Text(text.into())
    };
    socket.send(message).await.is_ok()
}

async fn close(shared: &Shared, socket: &mut WebSocket, conn: u32, code: u16, reason: &str) {
    log_frame(
        shared,
        GatewayFrame {
            conn,
            dir: Direction::Out,
            op: None,
            t: None,
            s: None,
            d: json!(reason),
            close: Some(code),
            compressed: false,
        },
    );
    let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.to_string().into() }))).await;
}

/// A dispatch with the next sequence number of `shard`'s session.
fn dispatch_payload(st: &mut Inner, shard: u64, t: &str, d: Value) -> Value {
    let session = st.gw.shards.entry(shard).or_default();
    session.seq += 1;
    json!({"op": 0, "t": t, "s": session.seq, "d": d})
}

/// What the connection loop should do after handling a client frame.
enum Next {
    Continue,
    Send(Vec<Value>),
    Close(u16, &'static str),
}

fn token_ok(world: &World, token: &str) -> bool {
    token.strip_prefix("Bot ").unwrap_or(token) == world.token
}

fn on_client_frame(shared: &Shared, conn: u32, frame: &Value) -> Next {
    let mut st = shared.lock();
    match frame["op"].as_u64() {
        Some(1) => Next::Send(vec![json!({"op": 11, "d": null})]),
        Some(2) => {
            let d = &frame["d"];
            if st.gw.shard_of_conn(conn).is_some_and(|s| st.gw.shard_ready(s)) {
                return Next::Close(4005, "Already authenticated.");
            }
            if !token_ok(&st.world, d["token"].as_str().unwrap_or("")) {
                return Next::Close(4004, "Authentication failed.");
            }
            let intents = d["intents"].as_u64().unwrap_or(0);
            let privileged =
                (GatewayIntents::GUILD_MEMBERS | GatewayIntents::GUILD_PRESENCES | GatewayIntents::MESSAGE_CONTENT)
                    .bits();
            if intents & privileged & !st.world.allowed_privileged_intents != 0 {
                return Next::Close(4014, "Disallowed intent(s).");
            }
            let shard = d["shard"].as_array().map(|a| [a[0].as_u64().unwrap_or(0), a[1].as_u64().unwrap_or(1)]);
            let shard = shard.unwrap_or([0, 1]);
            if shard[0] >= shard[1] {
                return Next::Close(4010, "Invalid shard.");
            }
            let Some(tx) = st.gw.conns.get(&conn).map(|(_, tx)| tx.clone()) else {
                return Next::Close(4000, "Unknown error.");
            };
            let session_id = format!("{:032x}", u128::from(payloads::snowflake()) * 0x9E37_79B9_7F4A_7C15);
            st.gw.shard_count = shard[1];
            st.gw.identify = Some(d.clone());
            st.gw.identifies += 1;
            st.gw.conns.insert(conn, (Some(shard[0]), tx.clone()));
            st.gw.shards.insert(
                shard[0],
                Session {
                    current: Some((conn, tx)),
                    session_id: Some(session_id.clone()),
                    seq: 0,
                    intents,
                    compress: d["compress"] == true,
                    ready: false,
                },
            );
            let allowed = st.world.allowed_privileged_intents;
            let mut app_flags = 0u64;
            if allowed & GatewayIntents::GUILD_PRESENCES.bits() != 0 {
                app_flags |= 1 << 13;
            }
            if allowed & GatewayIntents::GUILD_MEMBERS.bits() != 0 {
                app_flags |= 1 << 15;
            }
            if allowed & GatewayIntents::MESSAGE_CONTENT.bits() != 0 {
                app_flags |= 1 << 19;
            }
            let world = st.world.clone();
            let ready = payloads::ready(&world, &session_id, &gateway_url(&shared.base_url), shard, app_flags);
            let mut out = vec![dispatch_payload(&mut st, shard[0], "READY", ready)];
            if st.gw.shard_of_guild(world.guild_id) != shard[0] {
                st.notes.push(format!("no GUILD_CREATE on shard {shard:?}: the guild belongs to another shard"));
            } else if intents & GatewayIntents::GUILDS.bits() != 0 {
                // Without GUILD_PRESENCES Discord sends only the bot's own member (and members in
                // voice) in GUILD_CREATE; the rest come from Request Guild Members.
                let mut members = vec![payloads::bot_member(&world)];
                if intents & GatewayIntents::GUILD_PRESENCES.bits() != 0 {
                    members.extend(world.users.iter().map(|u| payloads::member(&world, u)));
                } else {
                    st.notes.push(
                        "GUILD_CREATE carries only the bot's member: the client did not identify with GUILD_PRESENCES"
                            .into(),
                    );
                }
                out.push(dispatch_payload(&mut st, shard[0], "GUILD_CREATE", payloads::guild_create(&world, members)));
            } else {
                st.notes.push("no GUILD_CREATE: the client did not identify with GUILDS".into());
            }
            if let Some(session) = st.gw.shards.get_mut(&shard[0]) {
                session.ready = true;
            }
            Next::Send(out)
        }
        Some(6) => {
            let d = &frame["d"];
            if !token_ok(&st.world, d["token"].as_str().unwrap_or("")) {
                return Next::Close(4004, "Authentication failed.");
            }
            let wanted = d["session_id"].as_str();
            let shard = st.gw.shards.iter().find(|(_, s)| s.session_id.is_some() && s.session_id.as_deref() == wanted);
            let Some(shard) = shard.map(|(id, _)| *id) else {
                return Next::Send(vec![json!({"op": 9, "d": false})]);
            };
            let Some(tx) = st.gw.conns.get(&conn).map(|(_, tx)| tx.clone()) else {
                return Next::Close(4000, "Unknown error.");
            };
            st.gw.conns.insert(conn, (Some(shard), tx.clone()));
            st.gw.resumes += 1;
            if let Some(session) = st.gw.shards.get_mut(&shard) {
                session.current = Some((conn, tx));
                session.ready = true;
            }
            // Nothing was missed while disconnected: replay nothing.
            Next::Send(vec![dispatch_payload(&mut st, shard, "RESUMED", json!({"_trace": ["somebot-standin"]}))])
        }
        Some(8) => {
            let d = &frame["d"];
            let Some(shard) = st.gw.shard_of_conn(conn) else {
                return Next::Close(4003, "Not authenticated.");
            };
            let intents = st.gw.session(shard).map_or(0, |s| s.intents);
            if intents & GatewayIntents::GUILD_MEMBERS.bits() == 0 {
                st.notes.push("Request Guild Members ignored: the client did not identify with GUILD_MEMBERS".into());
                return Next::Continue;
            }
            let world = st.world.clone();
            let query = d["query"].as_str().unwrap_or("").to_lowercase();
            let ids: Option<Vec<u64>> = match &d["user_ids"] {
                Value::Array(a) => Some(a.iter().filter_map(|v| v.as_str().and_then(|s| s.parse().ok())).collect()),
                Value::String(s) => s.parse().ok().map(|id| vec![id]),
                _ => None,
            };
            let limit = d["limit"].as_u64().filter(|l| *l > 0).unwrap_or(u64::MAX) as usize;
            let mut members = Vec::new();
            let mut not_found = Vec::new();
            match &ids {
                Some(ids) => {
                    for id in ids {
                        match world.user(*id) {
                            Some(u) => members.push(payloads::member(&world, u)),
                            None if *id == world.bot_user_id => members.push(payloads::bot_member(&world)),
                            None => not_found.push(sf(*id)),
                        }
                    }
                }
                None => {
                    members = world
                        .users
                        .iter()
                        .filter(|u| u.username.to_lowercase().starts_with(&query))
                        .take(limit)
                        .map(|u| payloads::member(&world, u))
                        .collect();
                }
            }
            let mut chunk = json!({
                "guild_id": sf(world.guild_id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": not_found,
            });
            if let Some(nonce) = d.get("nonce").filter(|n| n.is_string()) {
                chunk["nonce"] = nonce.clone();
            }
            Next::Send(vec![dispatch_payload(&mut st, shard, "GUILD_MEMBERS_CHUNK", chunk)])
        }
        Some(3 | 4 | 31) => Next::Continue,
        _ => Next::Close(4001, "Unknown opcode."),
    }
}

async fn gateway_conn(shared: Arc<Shared>, mut socket: WebSocket, params: HashMap<String, String>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (conn, heartbeat) = {
        let mut st = shared.lock();
        st.next_conn += 1;
        let conn = st.next_conn;
        st.gw.conns.insert(conn, (None, tx));
        (st.next_conn, st.world.heartbeat_interval_ms)
    };
    shared.changed.notify_waiters();
    if params.get("v").map(String::as_str) != Some("10") {
        close(&shared, &mut socket, conn, 4012, "Invalid API version").await;
    } else if send_payload(
        &shared,
        &mut socket,
        conn,
        json!({"op": 10, "d": {"heartbeat_interval": heartbeat, "_trace": ["somebot-standin"]}}),
    )
    .await
    {
        connection_loop(&shared, &mut socket, conn, &mut rx).await;
    }
    let mut st = shared.lock();
    st.gw.conns.remove(&conn);
    for session in st.gw.shards.values_mut() {
        if session.current.as_ref().is_some_and(|(c, _)| *c == conn) {
            session.current = None;
            session.ready = false;
        }
    }
    drop(st);
    shared.changed.notify_waiters();
}

async fn connection_loop(shared: &Shared, socket: &mut WebSocket, conn: u32, rx: &mut mpsc::UnboundedReceiver<Ctl>) {
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Binary(_))) => {
                        close(shared, socket, conn, 4002, "Error while decoding payload.").await;
                        return;
                    },
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.map_or(1005, |f| f.code);
                        log_frame(shared, GatewayFrame {
                            conn, dir: Direction::In, op: None, t: None, s: None, d: Value::Null, close: Some(code), compressed: false });
                        return;
                    },
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => {
                        log_frame(shared, GatewayFrame {
                            conn, dir: Direction::In, op: None, t: None, s: None, d: Value::Null, close: Some(0), compressed: false });
                        return;
                    },
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    close(shared, socket, conn, 4002, "Error while decoding payload.").await;
                    return;
                };
                log_frame(shared, GatewayFrame {
                    conn,
                    dir: Direction::In,
                    op: frame["op"].as_u64(),
                    t: None,
                    s: None,
                    d: frame["d"].clone(),
                    close: None, compressed: false });
                match on_client_frame(shared, conn, &frame) {
                    Next::Continue => {},
                    Next::Send(payloads) => {
                        for p in payloads {
                            if !send_payload(shared, socket, conn, p).await {
                                return;
                            }
                        }
                        shared.changed.notify_waiters();
                    },
                    Next::Close(code, reason) => {
                        close(shared, socket, conn, code, reason).await;
                        return;
                    },
                }
            },
            ctl = rx.recv() => {
                let Some(ctl) = ctl else { return };
                let payload = match ctl {
                    Ctl::Dispatch(t, d) => {
                        let mut st = shared.lock();
                        let shard = st.gw.shard_of_conn(conn).unwrap_or(0);
                        dispatch_payload(&mut st, shard, &t, d)
                    },
                    Ctl::Reconnect => json!({"op": 7, "d": null}),
                    Ctl::InvalidSession(resumable) => {
                        let mut st = shared.lock();
                        let shard = st.gw.shard_of_conn(conn);
                        if let Some(session) = shard.and_then(|s| st.gw.shards.get_mut(&s)) {
                            if !resumable {
                                session.session_id = None;
                            }
                            session.ready = false;
                        }
                        json!({"op": 9, "d": resumable})
                    },
                    Ctl::Drop => {
                        log_frame(shared, GatewayFrame {
                            conn, dir: Direction::Out, op: None, t: None, s: None, d: json!("dropped"), close: Some(0), compressed: false });
                        return;
                    },
                    Ctl::Close(code, reason) => {
                        close(shared, socket, conn, code, &reason).await;
                        return;
                    },
                };
                if !send_payload(shared, socket, conn, payload).await {
                    return;
                }
            },
        }
    }
}
