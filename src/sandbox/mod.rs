//! `somebot chat`: a terminal adapter over the same core and database as `run`. A person types
//! slash commands and answers as in Discord: numbers press the buttons of the last few messages,
//! modals are asked field by field, other text is a direct message to the bot. `:as NAME`
//! switches the person played, so one person can try a whole approval or report alone; direct
//! messages to other people wait in their inbox until you play them.

mod parse;
mod render;
mod terminal;
mod world;

pub use parse::parse_command;
pub use render::render;
pub use world::{personas, Persona, Sandbox, SandboxDeliverer, CHANNEL_ID, GUILD_ID, OFFICER_ROLE, REVIEW_CHANNEL_ID};

use parse::parse_duration;
use render::channel_name;
use world::{free_numbers, Pending, Place, Shown, PRESSABLE_MESSAGES};

use crate::clock::OffsetClock;
use crate::core::{Component, Input, Message, Modal, Reply};
use crate::i18n::Locale;
use crate::store::jobs::OutboxTarget;
use crate::App;

impl Sandbox {
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
             /guideline ask <question>, /new-channel or /report-threat. :as NAME plays another\n\
             person, :who lists them, :wait 25h moves time on, :quit ends.\n",
        );
        s.push_str(&buttons_help());
        if let Some(log) = &self.log_file {
            s.push_str(&format!("Log lines go to {}, not here.\n", log.display()));
        }
        s.push_str(&self.who());
        s
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
            return self.meta(cmd).await;
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
        let len = trimmed.chars().count();
        if len > MESSAGE_MAX_CHARS {
            return Some(format!(
                "Discord sends at most {MESSAGE_MAX_CHARS} characters in a message (2000 without Nitro); this one has {len}. Nothing was sent.\n"
            ));
        }
        Some(self.send(Input::DirectMessage { text: trimmed.to_string() }).await)
    }

    async fn meta(&mut self, cmd: &str) -> Option<String> {
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
                            for (m, place) in msgs {
                                out.push_str(&match place {
                                    Place::Dm => "── direct message from somebot ──\n".to_string(),
                                    Place::Channel(c) if c == REVIEW_CHANNEL_ID => {
                                        format!("── new in {} (the review channel) ──\n", channel_name(c))
                                    }
                                    Place::Channel(c) => format!("── new in {} ──\n", channel_name(c)),
                                });
                                out.push_str(&self.show(&m, place, None));
                            }
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
                // What came due meanwhile happens now, as the worker would have done it.
                let mut out = format!("(time moves {arg} forward)\n");
                out.push_str(&self.background().await);
                Some(out)
            }
            "lang" => {
                self.current.locale = match parts.next() {
                    Some("en") => Locale::En,
                    _ => Locale::Nn,
                };
                Some(format!("Language: {}\n", self.current.locale.code()))
            }
            _ => Some(format!(
                ":as NAME (play another person), :who, :lang nn|en, :wait 25h (move time on), :quit.\n{}",
                buttons_help()
            )),
        }
    }

    async fn press(&mut self, n: usize) -> String {
        let window = self.pressable.get(&self.current.user_id);
        let found = window
            .into_iter()
            .flatten()
            .find_map(|s| s.numbers().contains(&n).then(|| (s.id, s.place, s.components[n - s.first].clone())));
        let Some((id, place, c)) = found else {
            return format!(
                "There is no button with that number on your last {PRESSABLE_MESSAGES} messages with buttons.\n"
            );
        };
        self.origin = Some((id, place));
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

    /// Runs an input through the core and renders the outcome, labelled with what happened
    /// where: a message posted in a channel, a message edited (the one whose button was pressed).
    pub async fn send(&mut self, input: Input) -> String {
        if matches!(input, Input::DirectMessage { .. } | Input::Command(_)) {
            self.origin = None;
        }
        let (place, origin) = match &input {
            Input::DirectMessage { .. } => (Place::Dm, None),
            Input::Command(_) | Input::Autocomplete { .. } => (Place::Channel(CHANNEL_ID), None),
            Input::Component { .. } | Input::ModalSubmit { .. } => match self.origin {
                Some((id, place)) => (place, Some(id)),
                None => (Place::Channel(CHANNEL_ID), None),
            },
        };
        let actor = self.actor(place);
        let outcome = self.app.handle(&actor, input).await;
        let mut out = String::new();
        match &outcome.reply {
            Reply::Message(m) | Reply::Update(m) => {
                let edited = matches!(outcome.reply, Reply::Update(_));
                match place {
                    Place::Channel(c) if edited => out.push_str(&format!("── edited in {} ──\n", channel_name(c))),
                    Place::Channel(c) if !m.ephemeral => {
                        out.push_str(&format!("── posted in {} ──\n", channel_name(c)))
                    }
                    Place::Dm if edited => out.push_str("── edited (direct message) ──\n"),
                    Place::Channel(_) | Place::Dm => {}
                }
                out.push_str(&self.show(m, place, if edited { origin } else { None }));
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
                out.push_str(&self.show(&m, place, None));
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
                    out.push_str("── direct message from somebot ──\n");
                    out.push_str(&self.show(&message, Place::Dm, None));
                }
                OutboxTarget::User(u) => {
                    let who = personas().into_iter().find(|p| p.user_id == u);
                    let name = who.as_ref().map(|p| p.key).unwrap_or("someone");
                    out.push_str(&format!("(somebot sent {name} a direct message: `:as {name}` to read it)\n"));
                    self.inbox.entry(u).or_default().push((message, Place::Dm));
                }
                OutboxTarget::Channel(c) => {
                    out.push_str(&format!("── posted in {} ──\n", channel_name(c)));
                    // The review channel is read by the officers: its buttons are theirs.
                    let officers: Vec<Persona> =
                        personas().into_iter().filter(|p| p.roles.contains(&OFFICER_ROLE)).collect();
                    if officers.iter().any(|p| p.user_id == self.current.user_id) {
                        out.push_str(&self.show(&message, Place::Channel(c), None));
                    } else {
                        out.push_str(&render(&message, 0));
                    }
                    for p in officers.into_iter().filter(|p| p.user_id != self.current.user_id) {
                        self.inbox.entry(p.user_id).or_default().push((message.clone(), Place::Channel(c)));
                        out.push_str(&format!("(`:as {}` to act on it as an officer)\n", p.key));
                    }
                }
            }
        }
        out
    }
}

impl Sandbox {
    /// Shows `m` at `place` to the person played: its buttons take the first free numbers
    /// after those of the person's other pressable messages, and the oldest of those stops
    /// being pressable when there are more than [`PRESSABLE_MESSAGES`]. An edit (`replaces`)
    /// takes the place of the message it edits.
    fn show(&mut self, m: &Message, place: Place, replaces: Option<u64>) -> String {
        let window = self.pressable.entry(self.current.user_id).or_default();
        if let Some(id) = replaces {
            window.retain(|s| s.id != id);
        }
        let components: Vec<Component> = m.components.iter().flatten().cloned().collect();
        if components.is_empty() {
            return render(m, 1);
        }
        if window.len() >= PRESSABLE_MESSAGES {
            window.pop_front();
        }
        let first = free_numbers(window, components.len());
        self.next_message += 1;
        window.push_back(Shown { id: self.next_message, place, first, components });
        render(m, first)
    }
}

/// How buttons are pressed, for the greeting and `:help`.
fn buttons_help() -> String {
    format!(
        "Numbers press buttons: any [n] on your last {PRESSABLE_MESSAGES} messages with buttons, numbered\n\
         across them (a new message takes numbers the other two do not use).\n"
    )
}

fn self_len(max: u8) -> u8 {
    max.max(1)
}

/// The longest message a person can send in Discord (with Nitro; 2000 characters without).
/// The sandbox keeps typed text whole up to it and, like Discord, sends nothing longer.
pub const MESSAGE_MAX_CHARS: usize = 4000;

/// The file in the data directory that `somebot chat` writes its log lines to.
pub const LOG_FILE: &str = "somebot-sandbox.log";

/// Runs the interactive loop on stdin/stdout until `:quit` or end of input; `log` is where the
/// log lines go, for the greeting to say.
pub async fn run(app: App, clock: OffsetClock, log: Option<std::path::PathBuf>) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut sandbox = Sandbox::with_clock(app, clock);
    sandbox.log_file = log;
    if let Err(e) = sandbox.seed().await {
        return Err(std::io::Error::other(format!("setting up the sandbox failed: {e:#}")));
    }
    let mut stdout = tokio::io::stdout();
    let mut lines = terminal::Lines::open();
    stdout.write_all(sandbox.banner().as_bytes()).await?;
    loop {
        let Some(line) = lines.next(&sandbox.prompt(), &mut stdout).await? else { break };
        match sandbox.line(&line).await {
            Some(out) => stdout.write_all(out.as_bytes()).await?,
            None => break,
        }
    }
    stdout.write_all(b"\n").await?;
    Ok(())
}
