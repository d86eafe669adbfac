//! Helpers shared by the core-level flow tests: a deliverer that collects what the bot sends,
//! and readers for the bot's messages.

#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::Mutex;

use somebot::app::delivery::{Deliverer, DeliveryError};
use somebot::core::{CommandInput, Component, Input, Message, OptionValue, Outcome, Reply};
use somebot::store::jobs::OutboxTarget;

/// Collects delivered messages; users in `blocked` do not accept DMs (Discord's 50007).
#[derive(Default)]
pub struct Collect {
    pub sent: Mutex<Vec<(OutboxTarget, Message)>>,
    pub blocked: Mutex<HashSet<u64>>,
    /// DMs to these users fail as when Discord is in trouble (HTTP 502): transient.
    pub down: Mutex<HashSet<u64>>,
}

impl Deliverer for Collect {
    async fn send(&self, _outbox_id: i64, target: OutboxTarget, message: &Message) -> Result<(), DeliveryError> {
        if let OutboxTarget::User(u) = target {
            if self.blocked.lock().unwrap().contains(&u) {
                return Err(DeliveryError::Permanent("Cannot send messages to this user".into()));
            }
            if self.down.lock().unwrap().contains(&u) {
                return Err(DeliveryError::Transient { retry_after_ms: None, reason: "HTTP 502".into() });
            }
        }
        self.sent.lock().unwrap().push((target, message.clone()));
        Ok(())
    }
}

impl Collect {
    /// The messages delivered to `user` since the last call.
    pub fn take_dms(&self, user: u64) -> Vec<Message> {
        let mut all = self.sent.lock().unwrap();
        let (mine, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|(t, _)| *t == OutboxTarget::User(user));
        *all = rest;
        mine.into_iter().map(|(_, m)| m).collect()
    }
}

/// A slash command input.
pub fn cmd(name: &str, sub: &[&str], options: Vec<(&str, OptionValue)>) -> Input {
    Input::Command(CommandInput {
        name: name.into(),
        subcommand: sub.iter().map(|s| s.to_string()).collect(),
        options: options.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    })
}

/// The message of an outcome.
pub fn message(o: &Outcome) -> &Message {
    match &o.reply {
        Reply::Message(m) | Reply::Update(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// A message's content, embed titles, descriptions and fields as one text.
pub fn text(m: &Message) -> String {
    let mut s = m.content.clone().unwrap_or_default();
    for e in &m.embeds {
        s.push_str(&format!("\n{:?}\n{:?}", e.title, e.description));
        for f in &e.fields {
            s.push_str(&format!("\n{}: {}", f.name, f.value));
        }
    }
    s
}

/// The texts of several messages.
pub fn all_text(ms: &[Message]) -> String {
    ms.iter().map(text).collect::<Vec<_>>().join("\n")
}

/// The custom id of the component ending in `suffix`.
pub fn button(m: &Message, suffix: &str) -> String {
    m.components
        .iter()
        .flatten()
        .map(Component::custom_id)
        .find(|c| c.ends_with(suffix))
        .unwrap_or_else(|| panic!("no component ending in {suffix} in {m:?}"))
        .to_string()
}

/// What a fault test compares before and after a failed step: the rows of every table a step
/// writes (state and its version, audit trails, open timers, outbox rows, counters).
pub async fn fingerprint(store: &somebot::store::Store) -> Vec<(String, i64)> {
    let queries = [
        ("channel_requests", "SELECT CAST(COUNT(*) + COALESCE(SUM(version), 0) AS BIGINT) FROM channel_requests"),
        ("channel_request_events", "SELECT COUNT(*) FROM channel_request_events"),
        ("threat_reports", "SELECT CAST(COUNT(*) + COALESCE(SUM(version), 0) AS BIGINT) FROM threat_reports"),
        ("threat_report_events", "SELECT COUNT(*) FROM threat_report_events"),
        ("threat_report_messages", "SELECT COUNT(*) FROM threat_report_messages"),
        ("open timers", "SELECT COUNT(*) FROM timers WHERE done_at IS NULL"),
        ("timers", "SELECT COUNT(*) FROM timers"),
        ("outbox", "SELECT COUNT(*) FROM outbox"),
        ("counters", "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM counters"),
        ("org_managers", "SELECT COUNT(*) FROM org_managers"),
        ("org_alternates", "SELECT COUNT(*) FROM org_alternates"),
    ];
    let mut out = Vec::new();
    for (name, q) in queries {
        let (n,): (i64,) = sqlx::query_as(q).fetch_one(store.pool()).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name.to_string(), n));
    }
    out
}

/// Runs one step again and again, making its 1st, 2nd, 3rd ... write fail, until it makes
/// fewer writes than the chosen one (and so succeeds). Each failed run must leave the database
/// exactly as it was and answer with the apology and a reference. Returns the successful
/// outcome and how many writes the step made.
pub async fn whole_or_nothing<F, Fut>(store: &somebot::store::Store, label: &str, mut run: F) -> (Outcome, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    let apology = somebot::i18n::t(somebot::i18n::Locale::Nn, "common.apology", &[("reference", "\u{1}")]);
    let apology = apology.split('\u{1}').next().unwrap().to_string();
    for k in 1..200 {
        let before = fingerprint(store).await;
        store.fail_write(k);
        let outcome = run().await;
        if store.write_failure_pending() {
            // The step made fewer than k writes: it ran whole.
            store.fail_write(0);
            assert!(k > 1, "{label}: the step wrote nothing");
            return (outcome, k - 1);
        }
        let after = fingerprint(store).await;
        assert_eq!(before, after, "{label}: failing write {k} left part of the step behind");
        let said = match &outcome.reply {
            Reply::Message(m) | Reply::Update(m) => text(m),
            other => panic!("{label}: failing write {k} answered {other:?}"),
        };
        assert!(said.starts_with(&apology), "{label}: failing write {k} answered {said:?}");
        assert!(said.len() > apology.len(), "{label}: the apology carries a reference");
        assert!(outcome.queued.is_empty(), "{label}: failing write {k} queued messages");
    }
    panic!("{label}: the step never succeeded");
}

/// Every Rust source file under `dir`, into `out` (tests that read the crate's own code).
pub fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}
