//! The sandbox's world: the people you can play, the sandbox server's ids, and the state of one
//! terminal session (who is played, which buttons are pressable, what waits in whose inbox).

use std::collections::{HashMap, VecDeque};

use crate::app::delivery::{Deliverer, DeliveryError};
use crate::clock::OffsetClock;
use crate::core::{Actor, Component, Message, Modal};
use crate::i18n::Locale;
use crate::store::jobs::OutboxTarget;
use crate::App;

/// A person in the sandbox world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    pub key: &'static str,
    pub user_id: u64,
    pub name: &'static str,
    pub role: &'static str,
    pub locale: Locale,
    pub admin: bool,
    pub roles: Vec<u64>,
}

/// The sandbox's guild and channel ids.
pub const GUILD_ID: u64 = 900_000_000_000_000_001;
pub const CHANNEL_ID: u64 = 900_000_000_000_000_010;
/// The channel where the communications officers review requests.
pub const REVIEW_CHANNEL_ID: u64 = 900_000_000_000_000_011;
/// The role of the communications officers in the sandbox server.
pub const OFFICER_ROLE: u64 = 900_000_000_000_000_100;

/// The people you can play.
pub fn personas() -> Vec<Persona> {
    vec![
        Persona {
            key: "kari",
            user_id: 900_000_000_000_001_001,
            name: "Kari Nordmann",
            role: "employee",
            locale: Locale::Nn,
            roles: vec![],
            admin: false,
        },
        Persona {
            key: "ola",
            user_id: 900_000_000_000_001_002,
            name: "Ola Leiar",
            role: "manager",
            locale: Locale::Nn,
            roles: vec![],
            admin: false,
        },
        Persona {
            key: "ingrid",
            user_id: 900_000_000_000_001_003,
            name: "Ingrid Informasjon",
            role: "officer",
            locale: Locale::Nn,
            roles: vec![OFFICER_ROLE],
            admin: false,
        },
        Persona {
            key: "admin",
            user_id: 900_000_000_000_001_004,
            name: "Arne Admin",
            role: "admin",
            locale: Locale::Nn,
            roles: vec![],
            admin: true,
        },
        Persona {
            key: "emma",
            user_id: 900_000_000_000_001_005,
            name: "Emma English",
            role: "employee (English)",
            locale: Locale::En,
            roles: vec![],
            admin: false,
        },
    ]
}

/// What the sandbox is waiting for.
#[derive(Debug, Clone)]
pub(super) enum Pending {
    Nothing,
    /// Filling in a modal, field by field.
    Modal {
        modal: Modal,
        index: usize,
        values: Vec<(String, String)>,
    },
    /// Choosing from a select menu.
    Select {
        custom_id: String,
        options: Vec<(String, String)>,
        max: u8,
    },
}

/// Where a message is: in the person's direct messages or in a channel of the sandbox server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Dm,
    Channel(u64),
}

/// How many of a person's latest messages with buttons keep their buttons pressable.
pub const PRESSABLE_MESSAGES: usize = 3;

/// A message shown with buttons that can still be pressed; they are numbered from `first`.
#[derive(Debug, Clone)]
pub(super) struct Shown {
    pub id: u64,
    pub place: Place,
    pub first: usize,
    pub components: Vec<Component>,
}

impl Shown {
    pub fn numbers(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.components.len()
    }
}

/// The first of `count` consecutive numbers, from 1 up, that no message in `window` uses.
pub(super) fn free_numbers(window: &VecDeque<Shown>, count: usize) -> usize {
    let mut starts: Vec<usize> = std::iter::once(1).chain(window.iter().map(|s| s.numbers().end)).collect();
    starts.sort_unstable();
    starts
        .into_iter()
        .find(|&start| window.iter().all(|s| start + count <= s.first || start >= s.numbers().end))
        .unwrap_or(1)
}

/// Collects delivered messages so the sandbox can show them to the right person.
#[derive(Debug, Default)]
pub struct SandboxDeliverer {
    sent: std::sync::Mutex<Vec<(OutboxTarget, Message)>>,
    /// Users whose DMs are closed, to try the failure paths.
    pub closed_dms: std::sync::Mutex<Vec<u64>>,
}

impl Deliverer for SandboxDeliverer {
    async fn send(&self, _outbox_id: i64, target: OutboxTarget, message: &Message) -> Result<(), DeliveryError> {
        if let OutboxTarget::User(u) = target {
            if self.closed_dms.lock().map(|c| c.contains(&u)).unwrap_or(false) {
                return Err(DeliveryError::Permanent("Cannot send messages to this user".into()));
            }
        }
        if let Ok(mut sent) = self.sent.lock() {
            sent.push((target, message.clone()));
        }
        Ok(())
    }
}

impl SandboxDeliverer {
    pub(super) fn take(&self) -> Vec<(OutboxTarget, Message)> {
        self.sent.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default()
    }
}

/// One terminal session.
pub struct Sandbox {
    pub(super) app: App,
    pub(super) clock: Option<OffsetClock>,
    pub(super) deliverer: SandboxDeliverer,
    pub(super) current: Persona,
    /// Each persona's last few messages with buttons ([`PRESSABLE_MESSAGES`]), oldest first,
    /// their buttons numbered across them.
    pub(super) pressable: HashMap<u64, VecDeque<Shown>>,
    /// The number the next shown message gets.
    pub(super) next_message: u64,
    /// The message whose button was pressed last, while its interaction goes on (a menu, a
    /// modal): the reply edits it, and it says where the interaction happens.
    pub(super) origin: Option<(u64, Place)>,
    /// Messages waiting for a persona who is not being played, with where they are.
    pub(super) inbox: HashMap<u64, Vec<(Message, Place)>>,
    pub(super) pending: Pending,
    /// Where the log lines go, for the greeting to say.
    pub log_file: Option<std::path::PathBuf>,
}

impl Sandbox {
    /// A sandbox playing the first persona.
    pub fn new(app: App) -> Self {
        Sandbox::build(app, None)
    }

    /// A sandbox whose `:wait` moves `clock` (the clock `app` runs on) forward.
    pub fn with_clock(app: App, clock: OffsetClock) -> Self {
        Sandbox::build(app, Some(clock))
    }

    fn build(app: App, clock: Option<OffsetClock>) -> Self {
        Sandbox {
            app,
            clock,
            deliverer: SandboxDeliverer::default(),
            current: personas()[0].clone(),
            pressable: HashMap::new(),
            next_message: 0,
            origin: None,
            inbox: HashMap::new(),
            pending: Pending::Nothing,
            log_file: None,
        }
    }

    /// Puts the sandbox's people into the member directory and, on a fresh database, sets the
    /// server up as an admin would (the officers' role and the review channel).
    pub async fn seed(&self) -> anyhow::Result<()> {
        let members: Vec<_> = personas()
            .into_iter()
            .map(|p| crate::store::directory::Member {
                guild_id: GUILD_ID,
                user_id: p.user_id,
                username: p.key.to_string(),
                display_name: p.name.to_string(),
                roles: p.roles.clone(),
                is_bot: false,
                present: true,
            })
            .collect();
        self.app.members_seen(&members).await;
        let store = &self.app.store;
        let now = self.app.clock.now_ms();
        let admin = personas()[3].user_id;
        if store.setting(GUILD_ID, crate::org::COMMUNICATIONS_ROLE).await?.is_none() {
            store.set_setting(GUILD_ID, crate::org::COMMUNICATIONS_ROLE, &OFFICER_ROLE.to_string(), admin, now).await?;
        }
        if store.setting(GUILD_ID, crate::org::REVIEW_CHANNEL).await?.is_none() {
            store.set_setting(GUILD_ID, crate::org::REVIEW_CHANNEL, &REVIEW_CHANNEL_ID.to_string(), admin, now).await?;
        }
        Ok(())
    }

    pub(super) fn who(&self) -> String {
        let mut s = String::from("People:\n");
        for p in personas() {
            let mark = if p.key == self.current.key { "*" } else { " " };
            let waiting = self.inbox.get(&p.user_id).map(Vec::len).unwrap_or(0);
            let waiting = if waiting > 0 { format!(" ({waiting} new DM)") } else { String::new() };
            s.push_str(&format!(" {mark} {:<7} {} – {}{waiting}\n", p.key, p.name, p.role));
        }
        s
    }

    /// The actor; in a DM (typed text, or a button on a DM) Discord sends no server and no
    /// roles, and neither does the sandbox. In a channel, the channel is where the command was
    /// typed or the pressed message is.
    pub(super) fn actor(&self, place: Place) -> Actor {
        let Place::Channel(channel) = place else {
            return Actor {
                user_id: self.current.user_id,
                guild_id: None,
                channel_id: None,
                locale: self.current.locale,
                display_name: self.current.name.to_string(),
                can_manage_guild: false,
                role_ids: Vec::new(),
            };
        };
        Actor {
            user_id: self.current.user_id,
            guild_id: Some(GUILD_ID),
            channel_id: Some(channel),
            locale: self.current.locale,
            display_name: self.current.name.to_string(),
            can_manage_guild: self.current.admin,
            role_ids: self.current.roles.clone(),
        }
    }
}

/// A persona key or a numeric id.
pub(super) fn resolve_person(s: &str) -> Option<u64> {
    let s = s.trim().trim_start_matches('@');
    personas().into_iter().find(|p| p.key == s).map(|p| p.user_id).or_else(|| s.parse().ok())
}
