//! The Discord stand-in: an axum server on 127.0.0.1 that plays Discord's REST API (under
//! `/api/v10`) and gateway websocket (`/gateway`) for end-to-end tests of the bot.
//!
//! This module owns the test-facing handle, [`StandIn`]: starting it, waiting for what the bot
//! does, queries, fault injection and gateway controls; `inject.rs` adds the events a test
//! injects as a user (commands, buttons, modals, DMs). The rest is split by what it holds:
//! `world.rs` the world ([`World`], specs, [`ids`]), `record.rs` what was recorded
//! ([`Recorded`], [`GatewayFrame`], [`InteractionRef`]), `rest.rs` the REST routes (with
//! Discord's real error codes where the bot can get them wrong) and `gateway.rs` the gateway
//! sessions. JSON shapes live in `payloads.rs`; the OpenAPI check in `openapi.rs`.
//!
//! Point serenity at it with `HttpBuilder::new(token).proxy(standin.base_url())
//! .ratelimiter_disabled(true)` (serenity ignores the proxy while its rate limiter is on).

mod gateway;
mod inject;
mod record;
mod rest;
mod world;

pub use record::{Body, Direction, GatewayFrame, InteractionRef, MessageRef, Part, Recorded};
pub use world::{ids, ChannelSpec, RoleSpec, UserSpec, World};

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::openapi;
use super::payloads::{sf, Place};
use gateway::{gateway_upgrade, gateway_url, Ctl, Gateway};
use rest::{attachment, rest, Fault, FaultKind};

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
                body: r.body.view(),
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
}
