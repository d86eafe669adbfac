//! Every button and menu routes somewhere. Runs the three features through the core (answers,
//! the whole `/new-channel` conversation with reminders, approvals and the review, a threat
//! report from the form to the recipient and back), keeps every message the bot produced (replies
//! and messages delivered by DM or in the review channel), and presses every component of each,
//! as the person it was shown to, on a copy of the database as it stood then: each reaches a
//! handler (no "expired", no apology). The 3h "report it" button starts `/report-threat`.

mod common;
mod dbs;

use std::sync::Arc;

use common::{button, cmd, message, text, Collect};
use somebot::clock::{ManualClock, DAY, HOUR};
use somebot::core::{Actor, Component, Input, Message, OptionValue, Outcome, Reply};
use somebot::i18n::{t, Locale};
use somebot::store::directory::Member;
use somebot::store::jobs::OutboxTarget;
use somebot::store::Store;
use somebot::App;

const G: u64 = 8_000;
const KARI: u64 = 8_001;
const OLA: u64 = 8_002;
const INGRID: u64 = 8_003;
const PER: u64 = 8_004;
const ADMIN: u64 = 8_005;
const OFFICERS: u64 = 8_100;
const REVIEW: u64 = 8_200;
/// Monday 23 November 2026, 09:00 UTC.
const START: i64 = 1_795_392_000_000 + 9 * HOUR;

fn actor(user: u64, in_guild: bool) -> Actor {
    Actor {
        user_id: user,
        guild_id: in_guild.then_some(G),
        channel_id: Some(if in_guild { REVIEW } else { user }),
        locale: Locale::Nn,
        display_name: format!("user {user}"),
        can_manage_guild: user == ADMIN,
        role_ids: if user == INGRID && in_guild { vec![OFFICERS] } else { vec![] },
    }
}

/// A message the bot produced, with who it was shown to.
struct Seen {
    to: Actor,
    message: Message,
    /// What produced it, for failure messages.
    origin: String,
    /// The database as it stood right after, for pressing its buttons.
    snapshot: String,
}

struct World {
    app: App,
    clock: ManualClock,
    out: Collect,
    seen: Vec<Seen>,
    dir: tempfile::TempDir,
}

impl World {
    async fn new(store: Store) -> World {
        let clock = ManualClock::at(START);
        let app = App::new(store, Arc::new(clock.clone()));
        let people =
            [(KARI, "Kari Nordmann"), (OLA, "Ola Hansen"), (INGRID, "Ingrid Berg"), (PER, "Per Vik"), (ADMIN, "Arne")];
        let members: Vec<Member> = people
            .iter()
            .map(|(id, name)| Member {
                guild_id: G,
                user_id: *id,
                username: name.to_lowercase().replace(' ', "."),
                display_name: name.to_string(),
                roles: if *id == INGRID { vec![OFFICERS] } else { vec![] },
                is_bot: false,
                present: true,
            })
            .collect();
        app.members_seen(&members).await;
        let mut w = World { app, clock, out: Collect::default(), seen: Vec::new(), dir: tempfile::tempdir().unwrap() };
        for (sub, opt, value) in [
            ("communications-role", "role", OptionValue::Role(OFFICERS)),
            ("review-channel", "channel", OptionValue::Channel(REVIEW)),
        ] {
            w.act(ADMIN, true, cmd("setup", &[sub], vec![(opt, value)])).await;
        }
        w.act(
            ADMIN,
            true,
            cmd(
                "setup",
                &["manager"],
                vec![("employee", OptionValue::User(KARI)), ("manager", OptionValue::User(OLA))],
            ),
        )
        .await;
        w.act(ADMIN, true, cmd("setup", &["alternate"], vec![("user", OptionValue::User(PER))])).await;
        w
    }

    /// A copy of the database as it stands now.
    async fn snapshot(&self) -> String {
        let path = self.dir.path().join(format!("snap-{}.db", self.seen.len()));
        sqlx::query(&format!("VACUUM INTO '{}'", path.display())).execute(self.app.store.pool()).await.unwrap();
        format!("sqlite://{}", path.display())
    }

    /// Runs an input as `who`, delivers what it queued, and keeps every message produced.
    async fn act(&mut self, who: u64, in_guild: bool, input: Input) -> Outcome {
        let origin = format!("{who} {input:?}").chars().take(120).collect::<String>();
        let o = self.app.handle(&actor(who, in_guild), input).await;
        self.app.deliver_ids(&self.out, &o.queued).await;
        self.keep(actor(who, in_guild), &o.reply, &origin).await;
        self.keep_delivered(&origin).await;
        o
    }

    async fn keep(&mut self, to: Actor, reply: &Reply, origin: &str) {
        if let Reply::Message(m) | Reply::Update(m) = reply {
            if !m.components.is_empty() {
                let snapshot = self.snapshot().await;
                self.seen.push(Seen { to, message: m.clone(), origin: origin.into(), snapshot });
            }
        }
    }

    async fn keep_delivered(&mut self, origin: &str) {
        let sent: Vec<(OutboxTarget, Message)> = self.out.sent.lock().unwrap().drain(..).collect();
        for (target, m) in sent {
            let to = match target {
                OutboxTarget::User(u) => actor(u, false),
                // The review channel: its buttons are for the officers.
                OutboxTarget::Channel(_) => actor(INGRID, true),
            };
            self.keep(to, &Reply::Message(m), &format!("{origin} (delivered)")).await;
        }
    }

    async fn dm(&mut self, who: u64, text: &str) -> Outcome {
        self.act(who, false, Input::DirectMessage { text: text.into() }).await
    }

    async fn press(&mut self, who: u64, in_guild: bool, custom_id: &str, values: &[&str]) -> Outcome {
        let values = values.iter().map(|v| v.to_string()).collect();
        self.act(who, in_guild, Input::Component { custom_id: custom_id.into(), values }).await
    }

    async fn submit(&mut self, who: u64, custom_id: &str, fields: &[(&str, &str)]) -> Outcome {
        let fields = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.act(who, false, Input::ModalSubmit { custom_id: custom_id.into(), fields }).await
    }

    async fn tick(&mut self, ms: i64) {
        self.clock.advance(ms);
        self.app.run_due_timers().await;
        self.app.deliver_due(&self.out).await;
        self.keep_delivered(&format!("timers after {ms} ms")).await;
    }

    /// The last message kept that was shown to `user`.
    fn last_to(&self, user: u64) -> Message {
        self.seen.iter().rev().find(|s| s.to.user_id == user).map(|s| s.message.clone()).expect("a message")
    }
}

fn modal_id(o: &Outcome) -> String {
    match &o.reply {
        Reply::Modal(m) => m.custom_id.clone(),
        other => panic!("expected a form, got {other:?}"),
    }
}

async fn guideline(w: &mut World) {
    for slug in ["creating-channels", "on-behalf", "private-profile"] {
        w.act(KARI, true, cmd("guideline", &[slug], vec![])).await;
    }
    for (slug, point) in [("private-profile", "3h"), ("creating-channels", "1.7"), ("on-behalf", "2c")] {
        w.act(KARI, true, cmd("guideline", &[slug], vec![("point", OptionValue::String(point.into()))])).await;
    }
    let ask = |q: &str| cmd("guideline", &["ask"], vec![("question", OptionValue::String(q.into()))]);
    let o = w.act(KARI, true, ask("Kan eg bruke jobbmailen privat?")).await;
    w.act(KARI, false, ask("Eg får truslar på Facebook på grunn av jobben min")).await;
    // A vote down puts the question in the officers' review, whose menus and buttons are pressed
    // too (by the officer, on a copy of the database as it stood).
    let down = button(message(&o), ":down");
    w.press(KARI, true, &down, &[]).await;
    let review = w.act(INGRID, true, cmd("guideline", &["review"], vec![])).await;
    assert!(message(&review).components.iter().flatten().any(|c| c.custom_id().starts_with("gl:rv-points:")));
    // A page button of a long section.
    let first =
        w.seen.iter().find(|s| s.message.components.iter().flatten().any(|c| c.custom_id().starts_with("gl:page")));
    if let Some(page) = first.map(|s| button(&s.message, "")).filter(|id| id.starts_with("gl:page")) {
        w.press(KARI, true, &page, &[]).await;
    }
}

async fn new_channel(w: &mut World) {
    w.act(KARI, true, cmd("new-channel", &[], vec![])).await;
    let first = w.last_to(KARI);
    let id: i64 =
        first.components.iter().flatten().next().unwrap().custom_id().split(':').nth(1).unwrap().parse().unwrap();
    w.press(KARI, false, &format!("nc:{id}:choose"), &["facebook"]).await;
    for answer in [
        "Volda bibliotek på Facebook",
        "Volda bibliotek",
        "Nå fleire lånarar",
        "Vaksne lånarar i Volda",
        "Vi svarar på kommentarar kvar dag",
    ] {
        w.dm(KARI, answer).await;
    }
    // An idle day: the reminder, with its resume button.
    w.tick(25 * HOUR).await;
    for _ in 0..2 {
        w.press(KARI, false, &format!("nc:{id}:yes"), &[]).await;
        w.dm(KARI, "Vi har rutinar for dette og spør alltid skriftleg").await;
    }
    w.dm(KARI, "To timar i veka").await;
    w.dm(KARI, "Kari Nordmann, Per Vik").await;
    w.press(KARI, false, &format!("nc:{id}:confirm"), &[]).await;
    w.press(KARI, false, &format!("nc:{id}:confirm"), &[]).await;
    w.dm(KARI, "Ola Hansen").await;
    // Asking again offers to carry on.
    w.act(KARI, true, cmd("new-channel", &[], vec![])).await;
    w.press(KARI, false, &format!("nc:{id}:submit"), &[]).await;
    // The head is reminded, then approves; the officers ask for changes; it comes back.
    w.tick(4 * DAY).await;
    w.press(OLA, false, &format!("nca:{id}:head-approve"), &[]).await;
    let o = w.press(INGRID, true, &format!("nca:{id}:off-changes"), &[]).await;
    w.submit(INGRID, &modal_id(&o), &[("reason", "Skriv meir om kven som svarar")]).await;
    w.press(KARI, false, &format!("nc:{id}:submit"), &[]).await;
    w.press(OLA, false, &format!("nca:{id}:head-approve"), &[]).await;
    w.press(INGRID, true, &format!("nca:{id}:off-approve"), &[]).await;
    // Half a year on, the responsible people are asked whether the channel is alive.
    w.tick(183 * DAY).await;
}

async fn threat_report(w: &mut World) {
    let o = w.act(KARI, true, cmd("report-threat", &[], vec![])).await;
    let write = button(message(&o), ":write");
    let o = w.press(KARI, true, &write, &[]).await;
    let form = modal_id(&o);
    w.submit(KARI, &form, &[("what", "Ein mann skreiv at han veit kvar eg bur"), ("where", "Facebook")]).await;
    let preview = w.last_to(KARI);
    w.press(KARI, true, &button(&preview, ":send"), &[]).await;
    w.act(KARI, false, cmd("reports", &[], vec![])).await;
    let list = w.last_to(KARI);
    let id = button(&list, "rtl:0:show");
    let report = match list.components.iter().flatten().find(|c| c.custom_id() == id) {
        Some(Component::StringSelect { options, .. }) => options[0].value.clone(),
        _ => panic!("the list has a select"),
    };
    w.press(KARI, false, &id, &[&report]).await;
    let to_manager = w.last_to(OLA);
    let o = w.press(OLA, false, &button(&to_manager, ":reply"), &[]).await;
    w.submit(OLA, &modal_id(&o), &[("text", "Takk, eg ringjer deg i dag")]).await;
    w.press(OLA, false, &button(&to_manager, ":ack"), &[]).await;
    w.press(KARI, false, &format!("rt:{report}:delete"), &[]).await;
}

/// What pressing a component sends: a select gets its first option (or a member).
fn press_input(c: &Component) -> Input {
    let values = match c {
        Component::StringSelect { options, .. } => vec![options[0].value.clone()],
        Component::UserSelect { .. } => vec![PER.to_string()],
        _ => Vec::new(),
    };
    Input::Component { custom_id: c.custom_id().to_string(), values }
}

#[tokio::test]
async fn every_button_and_menu_the_flows_show_reaches_a_handler() {
    let db = dbs::sqlite().await;
    let mut w = World::new(db.store.clone()).await;
    guideline(&mut w).await;
    new_channel(&mut w).await;
    threat_report(&mut w).await;

    let expired = t(Locale::Nn, "common.expired", &[]);
    let apology = t(Locale::Nn, "common.apology", &[("reference", "")]);
    let mut pressed = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for s in &w.seen {
        let copy = Store::open(&s.snapshot).await.unwrap();
        let app = App { store: copy.clone(), ..w.app.clone() };
        for c in s.message.components.iter().flatten() {
            let id = c.custom_id();
            if matches!(c, Component::Button { disabled: true, .. }) {
                continue;
            }
            let handler = App::handler_of(id);
            assert!(handler.is_some(), "{id} (from {}) routes nowhere", s.origin);
            kinds.insert(id.split(':').next().unwrap().to_string());
            let o = app.handle(&s.to, press_input(c)).await;
            let said = match &o.reply {
                Reply::Message(m) | Reply::Update(m) => text(m),
                _ => String::new(),
            };
            assert!(!said.contains(&expired), "{id} (from {}) answered expired", s.origin);
            assert!(!said.starts_with(apology.trim_end()), "{id} (from {}) failed: {said}", s.origin);
            pressed += 1;
        }
        copy.close().await;
    }
    // Every feature's kinds of buttons were pressed: answers, conversation, approvals, the
    // review, reports, the report list and the start buttons.
    for kind in ["gl", "nc", "nca", "ncr", "rt", "rtl", "go"] {
        assert!(kinds.contains(kind), "no {kind} button was shown: {kinds:?}");
    }
    assert!(pressed > 60, "only {pressed} components were pressed");
    db.cleanup().await;
}

#[tokio::test]
async fn the_report_it_button_under_3h_starts_report_threat() {
    let db = dbs::sqlite().await;
    let mut w = World::new(db.store.clone()).await;
    let o = w
        .act(KARI, true, cmd("guideline", &["private-profile"], vec![("point", OptionValue::String("3h".into()))]))
        .await;
    let start = message(&o)
        .components
        .iter()
        .flatten()
        .find(|c| App::handler_of(c.custom_id()) == Some("start"))
        .map(|c| c.custom_id().to_string())
        .expect("3h offers a button to /report-threat");
    let o = w.press(KARI, true, &start, &[]).await;
    let m = message(&o);
    assert!(m.ephemeral, "the report starts privately");
    assert!(text(m).contains(&t(Locale::Nn, "report.police", &[])), "{}", text(m));
    assert!(m.components.iter().flatten().any(|c| c.custom_id().ends_with(":write")), "the form is offered");
    db.cleanup().await;
}

#[tokio::test]
async fn an_uncertain_answer_offers_the_next_points_and_keeps_the_choice_as_a_candidate() {
    // A short, vague question: the engine answers with its best point and is not sure of it.
    let question = "Eg vil skrive om jobben";
    let outcome = somebot::guideline::search::search(question);
    assert!(outcome.uncertain && !outcome.declined, "{outcome:?}");
    // The world's database copies are SQLite's; tests/storage.rs runs the store on both.
    {
        let db = dbs::sqlite().await;
        let mut w = World::new(db.store.clone()).await;
        let o = w
            .act(KARI, true, cmd("guideline", &["ask"], vec![("question", OptionValue::String(question.into()))]))
            .await;
        let m = message(&o).clone();
        assert!(m.ephemeral);
        let menu = m
            .components
            .iter()
            .flatten()
            .find(|c| matches!(c, Component::StringSelect { .. }))
            .cloned()
            .unwrap_or_else(|| panic!("{}: a 'did you mean' menu under the answer", db.label));
        let Component::StringSelect { custom_id, placeholder, options, .. } = menu else { unreachable!() };
        assert_eq!(placeholder.as_deref(), Some(t(Locale::Nn, "guideline.did-you-mean", &[]).as_str()));
        let offered: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
        let alternatives: Vec<&str> = outcome.alternatives.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(offered, alternatives, "the next candidates, best first");
        assert!(options
            .iter()
            .all(|o| o.label.starts_with(&format!("{} – ", o.value)) && o.label.chars().count() <= 100));
        assert_eq!(App::handler_of(&custom_id), Some("guideline"));

        // Choosing the second candidate shows that point and records the choice.
        let chosen = options[1].value.clone();
        let o = w.press(KARI, true, &custom_id, &[chosen.as_str()]).await;
        let shown = message(&o);
        assert!(shown.ephemeral);
        let said = text(shown);
        assert!(said.contains(&t(Locale::Nn, "guideline.picked", &[])), "{said}");
        let quoted = &somebot::guideline::GuidelineDoc::official().point(&chosen).unwrap().text;
        assert!(said.contains(&quoted[..20]), "{said}");
        let candidates = w.app.store.candidate_examples(10).await.unwrap();
        assert_eq!(candidates.len(), 1, "{}", db.label);
        assert_eq!((candidates[0].question.as_str(), candidates[0].point_id.as_str()), (question, chosen.as_str()));
        assert_eq!(candidates[0].locale, "nn");
        // Choosing again records nothing new; a forged point is refused as expired.
        w.press(KARI, true, &custom_id, &[chosen.as_str()]).await;
        assert_eq!(w.app.store.candidate_examples(10).await.unwrap().len(), 1);
        let o = w.press(KARI, true, &custom_id, &["9z"]).await;
        assert!(text(message(&o)).contains(&t(Locale::Nn, "common.expired", &[])));
        // No user id is kept with a candidate.
        let columns: Vec<String> = match db.store.backend() {
            somebot::store::Backend::Sqlite => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info('guideline_candidates')")
                    .fetch_all(db.store.pool())
                    .await
                    .unwrap()
            }
            somebot::store::Backend::Postgres => sqlx::query_scalar(
                "SELECT column_name::TEXT FROM information_schema.columns WHERE table_name = 'guideline_candidates'",
            )
            .fetch_all(db.store.pool())
            .await
            .unwrap(),
        };
        assert!(columns.iter().any(|c| c == "question") && columns.iter().all(|c| !c.contains("user")), "{columns:?}");
        db.cleanup().await;
    }
}
