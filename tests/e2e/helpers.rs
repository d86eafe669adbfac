//! What the e2e tests share: the bot in this process against a stand-in, and readers of what
//! it sent.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use somebot::clock::SystemClock;
use somebot::config::{Config, Overrides};
use somebot::store::Store;
use somebot::App;

use crate::support::{self, ids, StandIn, World};

pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// Interaction response flag for "only the user sees it".
pub(crate) const EPHEMERAL: u64 = 64;

/// The bot running in this process against a stand-in.
pub(crate) struct Bot {
    pub(crate) standin: StandIn,
    pub(crate) running: Option<somebot::discord::Running>,
    pub(crate) store: Store,
    _dir: tempfile::TempDir,
}

impl Bot {
    pub(crate) async fn start() -> Bot {
        support::init_logging();
        let standin = StandIn::start(World::default()).await;
        let dir = tempfile::tempdir().unwrap();
        Bot::start_on(standin, dir).await
    }

    /// Stops the bot and starts a new one on the same stand-in and database, as a restart.
    pub(crate) async fn restart(mut self) -> Bot {
        if let Some(r) = self.running.take() {
            r.shutdown().await.expect("clean shutdown");
        }
        Bot::start_on(self.standin, self._dir).await
    }

    async fn start_on(standin: StandIn, dir: tempfile::TempDir) -> Bot {
        let url = format!("sqlite://{}", dir.path().join("e2e.db").display());
        let store = Store::open(&url).await.unwrap();
        let world = standin.world();
        let env = [
            ("DISCORD_TOKEN", world.token.clone()),
            ("DATABASE_URL", url.clone()),
            ("DISCORD_GUILD_ID", world.guild_id.to_string()),
            ("DISCORD_API_URL", standin.base_url()),
            ("SOMEBOT_METRICS_ADDR", "127.0.0.1:0".to_string()),
        ];
        let cfg = Config::from_lookup(
            |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()),
            &Overrides::default(),
            somebot::config::Needs::Discord,
            "unused.db",
        )
        .unwrap();
        let mut app = App::new(store.clone(), Arc::new(SystemClock));
        // The same report key across a restart, as `somebot run` keeps it in its data directory.
        let (key, _) = somebot::threat_report::crypto::load_or_create(None, dir.path()).unwrap();
        app.report_key = Arc::new(key);
        let running = somebot::discord::start(cfg, app, 1).await.expect("the bot starts");
        standin.wait_ready(WAIT).await;
        standin.wait_commands_registered(WAIT).await;
        Bot { standin, running: Some(running), store, _dir: dir }
    }

    pub(crate) async fn stop(mut self) {
        self.standin.assert_all_requests_valid();
        if let Some(r) = self.running.take() {
            r.shutdown().await.expect("clean shutdown");
        }
    }
}

/// The callback's `data`, asserting its type.
pub(crate) fn callback_data(rec: &support::Recorded, kind: u64) -> Value {
    let body = rec.json().expect("JSON callback").clone();
    assert_eq!(body["type"], kind, "callback type: {body}");
    body["data"].clone()
}

pub(crate) fn custom_ids(data: &Value) -> Vec<String> {
    data["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_string))
        .collect()
}

pub(crate) fn embed_text(data: &Value) -> String {
    data["embeds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{}\n{}\n{}",
                e["title"].as_str().unwrap_or(""),
                e["description"].as_str().unwrap_or(""),
                e["footer"]["text"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn assert_no_pings(data: &Value) {
    let am = &data["allowed_mentions"];
    assert_eq!(am["parse"], json!([]), "allowed_mentions must disable pings: {data}");
}

/// The newest message the bot posted in a user's DM channel.
pub(crate) fn last_dm(s: &StandIn, user: u64) -> Value {
    let channel = s.dm_channel_of(user).expect("a DM channel was opened");
    let mut msgs = s.messages_in(channel);
    msgs.sort_by_key(|m| m["id"].as_str().and_then(|i| i.parse::<u64>().ok()).unwrap_or(0));
    msgs.into_iter()
        .rev()
        .find(|m| m["author"]["id"].as_str().and_then(|i| i.parse::<u64>().ok()) == Some(ids::BOT_USER))
        .expect("a message from the bot")
}

/// Sends a DM and waits for the bot's answer in the DM channel.
pub(crate) async fn dm(s: &StandIn, user: u64, text: &str) -> Value {
    let before = s.requests().len();
    let m = s.dm_message(user, text).await;
    let path = format!("/channels/{}/messages", m.channel_id);
    s.wait_for(|r| r.seq >= before && r.method == "POST" && r.path == path, WAIT).await;
    last_dm(s, user)
}

/// Starts `/new-channel` for the employee and answers the platform; returns the request's id.
pub(crate) async fn begin_request(s: &StandIn) -> String {
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let q1 = s
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.path.starts_with("/channels/")
                    && r.json().is_some_and(|b| b.to_string().contains("nc:"))
            },
            WAIT,
        )
        .await;
    let select_id = custom_ids(q1.json().unwrap()).into_iter().find(|c| c.ends_with(":choose")).unwrap();
    let ir = s.select(ids::EMPLOYEE, &select_id, vec!["instagram".into()], 3).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    select_id
}

/// How many messages in `user`'s DM with the bot contain `needle`.
pub(crate) fn copies_in_dm(s: &StandIn, user: u64, needle: &str) -> usize {
    let dm = s.dm_channel_of(user).expect("a DM channel was opened");
    s.messages_in(dm).iter().filter(|m| m.to_string().contains(needle)).count()
}
