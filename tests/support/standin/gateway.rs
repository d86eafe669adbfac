//! The gateway side of the stand-in: the websocket endpoint, a session per shard (Hello,
//! Identify → READY + GUILD_CREATE, heartbeats, Resume, Reconnect, Invalid Session, member
//! chunks), zlib compression of large dispatches, and the dispatches REST calls cause.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{json, Value};
use serenity::model::gateway::GatewayIntents;
use tokio::sync::mpsc;

use super::super::payloads::{self, sf};
use super::{Direction, GatewayFrame, Inner, Shared, World};

/// Gateway controls sent to the live connection.
#[derive(Debug)]
pub(super) enum Ctl {
    Dispatch(String, Value),
    Reconnect,
    InvalidSession(bool),
    Drop,
    Close(u16, String),
}

/// One shard's gateway session.
#[derive(Default)]
pub(super) struct Session {
    /// The live connection serving this shard.
    pub(super) current: Option<(u32, mpsc::UnboundedSender<Ctl>)>,
    session_id: Option<String>,
    seq: u64,
    pub(super) intents: u64,
    compress: bool,
    /// READY (and GUILD_CREATE with the GUILDS intent) or RESUMED went out on the live connection.
    ready: bool,
}

/// The gateway: a session per shard, as Discord keeps them. A connection is bound to a shard
/// by its Identify (`shard: [id, count]`) or Resume; guild events go to the shard
/// `(guild_id >> 22) % count`, DMs to shard 0.
#[derive(Default)]
pub(super) struct Gateway {
    pub(super) shards: BTreeMap<u64, Session>,
    /// Live connections and the shard each is bound to.
    conns: HashMap<u32, (Option<u64>, mpsc::UnboundedSender<Ctl>)>,
    /// The shard count of the latest Identify (1 before any).
    shard_count: u64,
    pub(super) identify: Option<Value>,
    pub(super) identifies: u32,
    pub(super) resumes: u32,
}

impl Gateway {
    fn count(&self) -> u64 {
        self.shard_count.max(1)
    }

    /// The shard a guild's events go to.
    pub(super) fn shard_of_guild(&self, guild_id: u64) -> u64 {
        (guild_id >> 22) % self.count()
    }

    fn shard_of_conn(&self, conn: u32) -> Option<u64> {
        self.conns.get(&conn).and_then(|(shard, _)| *shard)
    }

    pub(super) fn session(&self, shard: u64) -> Option<&Session> {
        self.shards.get(&shard)
    }

    pub(super) fn shard_ready(&self, shard: u64) -> bool {
        self.session(shard).is_some_and(|s| s.ready && s.current.is_some())
    }

    /// Every shard of the current count is connected and ready.
    pub(super) fn all_ready(&self) -> bool {
        (0..self.count()).all(|s| self.shard_ready(s))
    }

    /// The connection serving `shard`, if any.
    pub(super) fn sender(&self, shard: u64) -> Option<&mpsc::UnboundedSender<Ctl>> {
        self.session(shard).and_then(|s| s.current.as_ref()).map(|(_, tx)| tx)
    }
}

/// Dispatch payloads larger than this go out zlib-compressed when Identify asked for `compress`.
const COMPRESS_OVER: usize = 1024;

/// The websocket address `GET /gateway` reports for a stand-in at `base_url`.
pub(super) fn gateway_url(base_url: &str) -> String {
    format!("{}/gateway", base_url.replacen("http://", "ws://", 1))
}

/// Sends MESSAGE_CREATE for a message the bot posted, as Discord does when the client has the
/// intent for that kind of channel.
pub(super) fn echo_message_create(st: &mut Inner, message: &Value, guild: bool) {
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

pub(super) async fn gateway_upgrade(
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
