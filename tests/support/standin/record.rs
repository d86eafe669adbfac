//! What the stand-in recorded and how tests query it: requests ([`Recorded`], with their
//! [`Body`] and multipart [`Part`]s), gateway frames ([`GatewayFrame`]) and references to the
//! interactions and messages a test injected ([`InteractionRef`], [`MessageRef`]).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use serde_json::Value;

use super::super::openapi::{BodyView, FormPart};

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

impl Body {
    /// The body as the OpenAPI oracle reads it.
    pub fn view(&self) -> BodyView<'_> {
        match self {
            Body::Empty => BodyView::None,
            Body::Json(v) => BodyView::Json(v),
            Body::Multipart { payload_json, parts } => BodyView::Multipart {
                payload_json: payload_json.as_ref(),
                parts: parts
                    .iter()
                    .map(|p| FormPart { name: &p.name, is_file: p.filename.is_some(), data: &p.data })
                    .collect(),
            },
            Body::Invalid(_) => BodyView::Invalid,
        }
    }
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
