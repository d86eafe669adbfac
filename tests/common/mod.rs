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
}

impl Deliverer for Collect {
    async fn send(&self, _outbox_id: i64, target: OutboxTarget, message: &Message) -> Result<(), DeliveryError> {
        if let OutboxTarget::User(u) = target {
            if self.blocked.lock().unwrap().contains(&u) {
                return Err(DeliveryError::Permanent("Cannot send messages to this user".into()));
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
