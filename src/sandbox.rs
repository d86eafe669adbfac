//! `somebot chat`: a terminal adapter over the same core and database as `run`. A person types
//! slash commands and answers as in Discord: numbers press the buttons of the last message,
//! modals are asked field by field, other text is a direct message to the bot. `:as NAME`
//! switches the person played, so one person can try a whole approval or report alone; direct
//! messages to other people wait in their inbox until you play them.

use std::collections::HashMap;

use crate::app::commands;
use crate::app::delivery::{Deliverer, DeliveryError};
use crate::clock::OffsetClock;
use crate::core::commands::{CommandSpec, OptionKind};
use crate::core::{Actor, CommandInput, Component, Input, Message, Modal, OptionValue, Reply};
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
enum Pending {
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
    fn take(&self) -> Vec<(OutboxTarget, Message)> {
        self.sent.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default()
    }
}

/// One terminal session.
pub struct Sandbox {
    app: App,
    clock: Option<OffsetClock>,
    deliverer: SandboxDeliverer,
    current: Persona,
    /// Components of the last message each persona saw, numbered from 1.
    last_components: HashMap<u64, Vec<Component>>,
    /// Whether the last message a persona saw (and so its buttons) is in their DMs.
    last_in_dm: HashMap<u64, bool>,
    /// Direct messages waiting for a persona who is not being played.
    inbox: HashMap<u64, Vec<(Message, bool)>>,
    pending: Pending,
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
            last_components: HashMap::new(),
            last_in_dm: HashMap::new(),
            inbox: HashMap::new(),
            pending: Pending::Nothing,
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

    /// The prompt to show.
    pub fn prompt(&self) -> String {
        match &self.pending {
            Pending::Modal { modal, index, .. } => {
                let f = &modal.inputs[*index];
                let req = if f.required { "" } else { " (optional)" };
                format!("  {}{req}: ", f.label)
            }
            Pending::Select { max, .. } => {
                if *max > 1 {
                    "  choose (numbers separated by commas): ".into()
                } else {
                    "  choose a number: ".into()
                }
            }
            Pending::Nothing => format!("{}> ", self.current.key),
        }
    }

    /// The greeting shown at start.
    pub fn banner(&self) -> String {
        let mut s = String::from(
            "somebot sandbox: the real bot without Discord. Type /help, /guideline private-profile,\n\
             /guideline ask <question>, /new-channel or /report-threat. Numbers press buttons,\n\
             :as NAME plays another person, :who lists them, :quit ends.\n",
        );
        s.push_str(&self.who());
        s
    }

    fn who(&self) -> String {
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
    /// roles, and neither does the sandbox.
    fn actor(&self, in_dm: bool) -> Actor {
        if in_dm {
            return Actor {
                user_id: self.current.user_id,
                guild_id: None,
                channel_id: None,
                locale: self.current.locale,
                display_name: self.current.name.to_string(),
                can_manage_guild: false,
                role_ids: Vec::new(),
            };
        }
        Actor {
            user_id: self.current.user_id,
            guild_id: Some(GUILD_ID),
            channel_id: Some(CHANNEL_ID),
            locale: self.current.locale,
            display_name: self.current.name.to_string(),
            can_manage_guild: self.current.admin,
            role_ids: self.current.roles.clone(),
        }
    }

    /// Handles one typed line and returns what to print. `None` means quit.
    pub async fn line(&mut self, line: &str) -> Option<String> {
        let line = line.trim_end_matches(['\r', '\n']);
        match std::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Modal { modal, index, values } => return Some(self.modal_field(modal, index, values, line).await),
            Pending::Select { custom_id, options, max } => {
                return Some(self.select(custom_id, options, max, line).await);
            }
            Pending::Nothing => {}
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Some(String::new());
        }
        if let Some(cmd) = trimmed.strip_prefix(':') {
            return self.meta(cmd);
        }
        if trimmed.starts_with('/') {
            return Some(match parse_command(trimmed) {
                Ok(cmd) => self.send(Input::Command(cmd)).await,
                Err(e) => format!("{e}\n"),
            });
        }
        if let Ok(n) = trimmed.parse::<usize>() {
            return Some(self.press(n).await);
        }
        Some(self.send(Input::DirectMessage { text: trimmed.to_string() }).await)
    }

    fn meta(&mut self, cmd: &str) -> Option<String> {
        let mut parts = cmd.split_whitespace();
        match parts.next().unwrap_or_default() {
            "q" | "quit" | "exit" => None,
            "who" => Some(self.who()),
            "as" => {
                // Playing someone new also shows what the worker delivered meanwhile.
                let wanted = parts.next().unwrap_or_default().to_lowercase();
                let found = personas().into_iter().find(|p| {
                    p.key == wanted || p.role.starts_with(&wanted) || (wanted == "head" && p.role == "manager")
                });
                Some(match found {
                    Some(p) => {
                        self.current = p;
                        let mut out = format!("Now playing {} ({}).\n", self.current.name, self.current.role);
                        if let Some(msgs) = self.inbox.remove(&self.current.user_id) {
                            let mut comps = Vec::new();
                            let mut in_dm = true;
                            for (m, dm) in msgs {
                                out.push_str(if dm {
                                    "── direct message from somebot ──\n"
                                } else {
                                    "── new in #godkjenning (the review channel) ──\n"
                                });
                                out.push_str(&render(&m, &mut comps));
                                in_dm = dm;
                            }
                            self.last_components.insert(self.current.user_id, comps);
                            self.last_in_dm.insert(self.current.user_id, in_dm);
                        }
                        out
                    }
                    None => format!("No such person. {}", self.who()),
                })
            }
            "wait" => {
                let Some(clock) = &self.clock else {
                    return Some("This sandbox runs on a fixed clock.\n".into());
                };
                let arg = parts.next().unwrap_or("1h");
                let Some(ms) = parse_duration(arg) else {
                    return Some("Say how long, for example :wait 25h or :wait 3d.\n".into());
                };
                clock.advance(ms);
                Some(format!("(time moves {arg} forward)\n"))
            }
            "lang" => {
                self.current.locale = match parts.next() {
                    Some("en") => Locale::En,
                    _ => Locale::Nn,
                };
                Some(format!("Language: {}\n", self.current.locale.code()))
            }
            _ => Some(":as NAME (play another person), :who, :lang nn|en, :wait 25h (move time on), :quit. Numbers press buttons.\n".into()),
        }
    }

    async fn press(&mut self, n: usize) -> String {
        let comps = self.last_components.get(&self.current.user_id).cloned().unwrap_or_default();
        let Some(c) = n.checked_sub(1).and_then(|i| comps.get(i)).cloned() else {
            return "There is no button with that number on the last message.\n".into();
        };
        match c {
            Component::Button { custom_id, disabled, .. } => {
                if disabled {
                    return "That button is disabled.\n".into();
                }
                self.send(Input::Component { custom_id, values: Vec::new() }).await
            }
            Component::StringSelect { custom_id, options, max_values, .. } => {
                let mut out = String::new();
                for (i, o) in options.iter().enumerate() {
                    out.push_str(&format!("  ({}) {}\n", i + 1, o.label));
                }
                self.pending = Pending::Select {
                    custom_id,
                    options: options.into_iter().map(|o| (o.value, o.label)).collect(),
                    max: max_values,
                };
                out
            }
            Component::UserSelect { custom_id, max_values, .. } => {
                let mut out = String::new();
                let people = personas();
                for (i, p) in people.iter().enumerate() {
                    out.push_str(&format!("  ({}) {} – {}\n", i + 1, p.name, p.role));
                }
                self.pending = Pending::Select {
                    custom_id,
                    options: people.into_iter().map(|p| (p.user_id.to_string(), p.name.to_string())).collect(),
                    max: max_values,
                };
                out
            }
        }
    }

    async fn select(&mut self, custom_id: String, options: Vec<(String, String)>, max: u8, line: &str) -> String {
        let picked: Result<Vec<String>, ()> = line
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| options.get(i))
                    .map(|o| o.0.clone())
                    .ok_or(())
            })
            .collect();
        match picked {
            Ok(values) if !values.is_empty() && values.len() <= usize::from(max) => {
                self.send(Input::Component { custom_id, values }).await
            }
            _ => {
                self.pending = Pending::Select { custom_id, options, max };
                format!("Please type 1 to {} ({} at most).\n", self_len(max), max)
            }
        }
    }

    async fn modal_field(
        &mut self,
        modal: Modal,
        index: usize,
        mut values: Vec<(String, String)>,
        line: &str,
    ) -> String {
        let field = &modal.inputs[index];
        // `\n` typed in the terminal stands for a line break in a paragraph field.
        let value = line.replace("\\n", "\n");
        let len = value.chars().count();
        if field.required && value.trim().is_empty() {
            self.pending = Pending::Modal { modal, index, values };
            return "  This field is required.\n".into();
        }
        if field.max_length.is_some_and(|m| len > usize::from(m))
            || field.min_length.is_some_and(|m| len < usize::from(m) && len > 0)
        {
            let msg = format!(
                "  Between {} and {} characters, please.\n",
                field.min_length.unwrap_or(0),
                field.max_length.unwrap_or(4000)
            );
            self.pending = Pending::Modal { modal, index, values };
            return msg;
        }
        values.push((field.custom_id.clone(), value));
        if index + 1 < modal.inputs.len() {
            self.pending = Pending::Modal { modal, index: index + 1, values };
            return String::new();
        }
        self.send(Input::ModalSubmit { custom_id: modal.custom_id.clone(), fields: values }).await
    }

    /// Runs an input through the core and renders the outcome.
    pub async fn send(&mut self, input: Input) -> String {
        let in_dm = match &input {
            Input::DirectMessage { .. } => true,
            Input::Command(_) | Input::Autocomplete { .. } => false,
            Input::Component { .. } | Input::ModalSubmit { .. } => {
                self.last_in_dm.get(&self.current.user_id).copied().unwrap_or(false)
            }
        };
        let actor = self.actor(in_dm);
        let outcome = self.app.handle(&actor, input).await;
        let mut out = String::new();
        match &outcome.reply {
            Reply::Message(m) | Reply::Update(m) => {
                let mut comps = Vec::new();
                if !m.ephemeral && !in_dm {
                    out.push_str("── posted in #general ──\n");
                }
                out.push_str(&render(m, &mut comps));
                self.last_components.insert(self.current.user_id, comps);
                self.last_in_dm.insert(self.current.user_id, in_dm);
            }
            Reply::Modal(m) => {
                out.push_str(&format!("── {} ──\n", m.title));
                self.pending = Pending::Modal { modal: m.clone(), index: 0, values: Vec::new() };
            }
            Reply::Choices(c) => {
                for ch in c {
                    out.push_str(&format!("  · {}\n", ch.name));
                }
            }
            Reply::Nothing => {}
        }
        let delivered = self.app.deliver_ids(&self.deliverer, &outcome.queued).await;
        for d in delivered {
            if let Some(Reply::Message(m)) = d.hook_outcome.map(|o| o.reply) {
                out.push_str(&render(&m, &mut Vec::new()));
            }
        }
        out.push_str(&self.background().await);
        out
    }
}

impl Sandbox {
    /// Runs what the background worker would: due timers and due deliveries, then shows what
    /// was sent.
    async fn background(&mut self) -> String {
        self.app.run_due_timers().await;
        self.app.deliver_due(&self.deliverer).await;
        let mut out = String::new();
        for (target, message) in self.deliverer.take() {
            match target {
                OutboxTarget::User(u) if u == self.current.user_id => {
                    let mut comps = Vec::new();
                    out.push_str("── direct message from somebot ──\n");
                    out.push_str(&render(&message, &mut comps));
                    self.last_components.insert(self.current.user_id, comps);
                    self.last_in_dm.insert(self.current.user_id, true);
                }
                OutboxTarget::User(u) => {
                    let who = personas().into_iter().find(|p| p.user_id == u);
                    let name = who.as_ref().map(|p| p.key).unwrap_or("someone");
                    out.push_str(&format!("(somebot sent {name} a direct message: `:as {name}` to read it)\n"));
                    self.inbox.entry(u).or_default().push((message, true));
                }
                OutboxTarget::Channel(_) => {
                    out.push_str("── posted in a channel ──\n");
                    let mut comps = Vec::new();
                    out.push_str(&render(&message, &mut comps));
                    // The review channel is read by the officers: its buttons are theirs.
                    for p in personas().into_iter().filter(|p| p.roles.contains(&OFFICER_ROLE)) {
                        if p.user_id == self.current.user_id {
                            self.last_components.insert(p.user_id, comps.clone());
                            self.last_in_dm.insert(p.user_id, false);
                        } else {
                            self.inbox.entry(p.user_id).or_default().push((message.clone(), false));
                            out.push_str(&format!("(`:as {}` to act on it as an officer)\n", p.key));
                        }
                    }
                }
            }
        }
        out
    }
}

/// `90m`, `25h`, `3d` in milliseconds.
fn parse_duration(s: &str) -> Option<i64> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms)
}

fn self_len(max: u8) -> u8 {
    max.max(1)
}

/// Renders a message as terminal text, numbering its components into `comps`.
pub fn render(m: &Message, comps: &mut Vec<Component>) -> String {
    let mut out = String::new();
    if let Some(c) = &m.content {
        out.push_str(&c.replace("**", ""));
        out.push('\n');
    }
    for e in &m.embeds {
        if let Some(t) = &e.title {
            out.push_str(&format!("┌ {t}\n"));
        }
        if let Some(d) = &e.description {
            for line in d.lines() {
                let line = line.strip_prefix("> ").map(|l| format!("│   {l}")).unwrap_or_else(|| format!("│ {line}"));
                out.push_str(&line.replace("**", ""));
                out.push('\n');
            }
        }
        for f in &e.fields {
            out.push_str(&format!("│ {}: {}\n", f.name, f.value));
        }
        if let Some(f) = &e.footer {
            out.push_str(&format!("└ {f}\n"));
        }
    }
    for a in &m.attachments {
        out.push_str(&format!("📎 {} ({} bytes)\n", a.filename, a.data.len()));
    }
    let mut line = String::new();
    for row in &m.components {
        for c in row {
            comps.push(c.clone());
            let n = comps.len();
            let label = match c {
                Component::Button { label, emoji, disabled, .. } => {
                    let e = emoji.as_ref().map(|e| format!("{e} ")).unwrap_or_default();
                    let d = if *disabled { " (disabled)" } else { "" };
                    format!("{e}{label}{d}")
                }
                Component::StringSelect { placeholder, .. } | Component::UserSelect { placeholder, .. } => {
                    format!("{} …", placeholder.clone().unwrap_or_else(|| "Choose".into()))
                }
            };
            line.push_str(&format!("[{n}] {label}  "));
        }
        line.push('\n');
    }
    out.push_str(&line);
    names(&out)
}

/// Shows Discord mentions of the sandbox's people, role and channels as names.
fn names(text: &str) -> String {
    let mut out = text.to_string();
    for p in personas() {
        out = out.replace(&format!("<@{}>", p.user_id), &format!("@{}", p.name));
    }
    out.replace(&format!("<@&{OFFICER_ROLE}>"), "@informasjonskonsulent")
        .replace(&format!("<#{CHANNEL_ID}>"), "#general")
        .replace(&format!("<#{REVIEW_CHANNEL_ID}>"), "#godkjenning")
}

/// Parses `/name sub opt:value ...`. A subcommand's only required string option may be given
/// without its name (`/guideline ask Kan eg ...`). An option's value runs to the next
/// `known-option:`.
pub fn parse_command(line: &str) -> Result<CommandInput, String> {
    let line = line.trim().trim_start_matches('/');
    let mut words = line.splitn(2, char::is_whitespace);
    let name = words.next().unwrap_or_default().to_string();
    let rest = words.next().unwrap_or_default().trim();
    let spec: CommandSpec = commands::find(&name).ok_or_else(|| format!("Unknown command /{name}. Try /help."))?;
    let mut subcommand = Vec::new();
    let mut rest = rest.to_string();
    let mut option_specs = spec.options.clone();
    if option_specs.iter().any(|o| o.kind == OptionKind::SubCommand) {
        let (sub, tail) = rest
            .split_once(char::is_whitespace)
            .map(|(a, b)| (a.to_string(), b.trim().to_string()))
            .unwrap_or((rest.clone(), String::new()));
        let Some(s) = spec.subcommand(&sub) else {
            let names: Vec<&str> = spec.options.iter().map(|o| o.name).collect();
            return Err(format!("/{name} needs one of: {}", names.join(", ")));
        };
        subcommand.push(sub);
        option_specs = s.options.clone();
        rest = tail;
    }
    let names: Vec<&str> = option_specs.iter().map(|o| o.name).collect();
    let mut options = Vec::new();
    // Find `name:` markers of known options.
    let mut marks: Vec<(usize, &str)> = Vec::new();
    for n in &names {
        let pat = format!("{n}:");
        let mut from = 0;
        while let Some(i) = rest[from..].find(&pat) {
            let at = from + i;
            if at == 0 || rest[..at].ends_with(char::is_whitespace) {
                marks.push((at, n));
            }
            from = at + pat.len();
        }
    }
    marks.sort();
    if marks.is_empty() && !rest.is_empty() {
        let free: Vec<_> = option_specs.iter().filter(|o| o.kind == OptionKind::String).collect();
        match free.as_slice() {
            [only] => options.push((only.name.to_string(), OptionValue::String(rest.clone()))),
            _ => return Err(format!("Give options as name:value ({}).", names.join(", "))),
        }
    }
    for (i, (at, n)) in marks.iter().enumerate() {
        let start = at + n.len() + 1;
        let end = marks.get(i + 1).map(|m| m.0).unwrap_or(rest.len());
        let value = rest[start..end].trim().trim_matches('"').to_string();
        let o = option_specs.iter().find(|o| o.name == *n).expect("marks come from specs");
        let v = match o.kind {
            OptionKind::String => OptionValue::String(value),
            OptionKind::Integer => {
                OptionValue::Integer(value.parse().map_err(|_| format!("{n} must be a whole number"))?)
            }
            OptionKind::Bool => OptionValue::Bool(matches!(value.as_str(), "true" | "yes" | "ja")),
            OptionKind::User => {
                OptionValue::User(resolve_person(&value).ok_or_else(|| format!("{n}: no such person or id {value:?}"))?)
            }
            OptionKind::Role => OptionValue::Role(match value.trim_start_matches('@') {
                "officer" | "officers" | "informasjonskonsulent" => OFFICER_ROLE,
                v => v.parse().map_err(|_| format!("{n}: say officers or a role id"))?,
            }),
            OptionKind::Channel => OptionValue::Channel(match value.trim_start_matches('#') {
                "general" => CHANNEL_ID,
                "review" | "godkjenning" => REVIEW_CHANNEL_ID,
                v => v.parse().map_err(|_| format!("{n}: say #general, #review or a channel id"))?,
            }),
            OptionKind::Attachment => {
                return Err("Attachments cannot be given in the sandbox; leave the option out.".into());
            }
            OptionKind::SubCommand => continue,
        };
        options.push((n.to_string(), v));
    }
    for o in option_specs.iter().filter(|o| o.required) {
        if !options.iter().any(|(n, _)| n == o.name) {
            return Err(format!("/{name} {} needs {}:…", subcommand.join(" "), o.name));
        }
    }
    Ok(CommandInput { name, subcommand, options })
}

/// A persona key or a numeric id.
fn resolve_person(s: &str) -> Option<u64> {
    let s = s.trim().trim_start_matches('@');
    personas().into_iter().find(|p| p.key == s).map(|p| p.user_id).or_else(|| s.parse().ok())
}

/// Runs the interactive loop on stdin/stdout until `:quit` or end of input.
pub async fn run(app: App, clock: OffsetClock) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut sandbox = Sandbox::with_clock(app, clock);
    if let Err(e) = sandbox.seed().await {
        return Err(std::io::Error::other(format!("setting up the sandbox failed: {e:#}")));
    }
    let mut stdout = tokio::io::stdout();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    stdout.write_all(sandbox.banner().as_bytes()).await?;
    loop {
        stdout.write_all(sandbox.prompt().as_bytes()).await?;
        stdout.flush().await?;
        let Some(line) = lines.next_line().await? else { break };
        match sandbox.line(&line).await {
            Some(out) => stdout.write_all(out.as_bytes()).await?,
            None => break,
        }
    }
    stdout.write_all(b"\n").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_and_without_option_names() {
        let c = parse_command("/guideline private-profile point:3h").unwrap();
        assert_eq!(c.subcommand, ["private-profile"]);
        assert_eq!(c.str_option("point"), Some("3h"));
        let c = parse_command("/guideline ask Kan eg bruke jobbmailen privat?").unwrap();
        assert_eq!(c.str_option("question"), Some("Kan eg bruke jobbmailen privat?"));
        let c = parse_command("/guideline ask question: kva med point: x").unwrap();
        assert_eq!(c.str_option("question"), Some("kva med point: x"));
        assert!(parse_command("/guideline").is_err());
        assert!(parse_command("/nope").is_err());
        assert!(parse_command("/guideline ask").is_err());
        let c = parse_command("/help").unwrap();
        assert!(c.subcommand.is_empty() && c.options.is_empty());
    }
}
