//! `/new-channel` through the core, on SQLite and PostgreSQL, with a controllable clock: the
//! whole path from the first question to the register, a restart in the middle, the refusals,
//! the double click, reminders, escalation and expiry.

mod common;
mod dbs;

use common::{button, message, text, Collect};

use std::sync::Arc;

use somebot::app::delivery::{Deliverer, DeliveryError};
use somebot::clock::{ManualClock, DAY, HOUR};
use somebot::core::{Actor, CommandInput, Input, Message, OptionValue, Outcome, Reply};
use somebot::i18n::Locale;
use somebot::store::directory::Member;
use somebot::store::jobs::OutboxTarget;
use somebot::App;

const G: u64 = 7_000;
const KARI: u64 = 7_001;
const OLA: u64 = 7_002;
const INGRID: u64 = 7_003;
const PER: u64 = 7_004;
const ADMIN: u64 = 7_005;
const OFFICERS: u64 = 7_100;
/// Monday 23 November 2026, 09:00 UTC.
const START: i64 = 1_795_392_000_000 + 9 * HOUR;

struct World {
    app: App,
    clock: ManualClock,
    out: Collect,
}

fn actor(user: u64, in_guild: bool) -> Actor {
    Actor {
        user_id: user,
        guild_id: in_guild.then_some(G),
        channel_id: Some(1),
        locale: Locale::Nn,
        display_name: format!("user {user}"),
        can_manage_guild: user == ADMIN,
        role_ids: if user == INGRID && in_guild { vec![OFFICERS] } else { vec![] },
    }
}

impl World {
    async fn new(store: somebot::store::Store) -> World {
        let clock = ManualClock::at(START);
        let app = App::new(store, Arc::new(clock.clone()));
        let people = [
            (KARI, "Kari Nordmann"),
            (OLA, "Ola Hansen"),
            (INGRID, "Ingrid Berg"),
            (PER, "Per Vik"),
            (ADMIN, "Arne Admin"),
        ];
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
        let setup = CommandInput {
            name: "setup".into(),
            subcommand: vec!["communications-role".into()],
            options: vec![("role".into(), OptionValue::Role(OFFICERS))],
        };
        app.handle(&actor(ADMIN, true), Input::Command(setup)).await;
        World { app, clock, out: Collect::default() }
    }

    /// Runs an input, delivers what it queued, and returns the outcome.
    async fn act(&self, who: u64, in_guild: bool, input: Input) -> Outcome {
        let o = self.app.handle(&actor(who, in_guild), input).await;
        self.app.deliver_ids(&self.out, &o.queued).await;
        o
    }

    async fn dm(&self, who: u64, text: &str) -> Outcome {
        self.act(who, false, Input::DirectMessage { text: text.into() }).await
    }

    async fn press(&self, who: u64, custom_id: &str) -> Outcome {
        self.act(who, false, Input::Component { custom_id: custom_id.into(), values: vec![] }).await
    }

    /// Messages delivered to a user since the last call.
    /// Presses a decision button that asks for a reason, and gives it in the form.
    async fn decide_with_reason(&self, who: u64, message: &Message, decision: &str, reason: &str) -> Outcome {
        let o = self.press(who, &button(message, decision)).await;
        let Reply::Modal(modal) = &o.reply else { panic!("{decision}: a reason form, got {:?}", o.reply) };
        let fields = vec![("reason".into(), reason.into())];
        self.act(who, false, Input::ModalSubmit { custom_id: modal.custom_id.clone(), fields }).await
    }

    fn take_dms(&self, user: u64) -> Vec<Message> {
        self.out.take_dms(user)
    }

    async fn tick(&self, ms: i64) {
        self.clock.advance(ms);
        self.app.run_due_timers().await;
        self.app.deliver_due(&self.out).await;
    }
}

/// Walks a request from `/new-channel` to the summary; returns its id.
/// `/new-channel`, as typed.
fn new_channel() -> Input {
    Input::Command(CommandInput { name: "new-channel".into(), subcommand: vec![], options: vec![] })
}

/// The request id in the custom ids of a request's first question.
fn request_id(first: &Message) -> i64 {
    first.components.iter().flatten().next().unwrap().custom_id().split(':').nth(1).unwrap().parse().unwrap()
}

async fn fill_in(w: &World) -> i64 {
    let o = w.act(KARI, true, new_channel()).await;
    assert!(message(&o).ephemeral);
    let first = w.take_dms(KARI).pop().expect("the first question comes by DM");
    let id = request_id(&first);
    let o = w
        .act(KARI, false, Input::Component { custom_id: format!("nc:{id}:choose"), values: vec!["facebook".into()] })
        .await;
    assert!(matches!(o.reply, Reply::Update(_)));
    for answer in [
        "Volda bibliotek på Facebook",
        "Volda bibliotek",
        "Nå fleire lånarar",
        "Vaksne lånarar i Volda",
        "Vi svarar på kommentarar kvar dag",
    ] {
        let o = w.dm(KARI, answer).await;
        assert!(!text(message(&o)).is_empty());
    }
    for _ in 0..2 {
        let m = message(&w.press(KARI, &format!("nc:{id}:yes")).await).clone();
        assert!(!text(&m).is_empty());
        w.dm(KARI, "Vi har rutinar for dette og spør alltid skriftleg").await;
    }
    w.dm(KARI, "To timar i veka").await;
    // Names that do not match, or match several, are asked again; nothing is lost.
    let o = w.dm(KARI, "Nokon Ukjend").await;
    assert!(text(message(&o)).contains("Nokon Ukjend"));
    w.dm(KARI, "Kari Nordmann, Per Vik").await;
    w.press(KARI, &format!("nc:{id}:confirm")).await;
    w.press(KARI, &format!("nc:{id}:confirm")).await;
    let o = w.dm(KARI, "Ola Hansen").await;
    let summary = message(&o);
    assert!(
        summary.components.iter().flatten().any(|c| c.custom_id() == format!("nc:{id}:submit")),
        "at the summary: {summary:?}"
    );
    id
}

#[tokio::test]
async fn a_request_goes_from_the_first_question_to_the_register() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        let id = fill_in(&w).await;

        // Submitting sends the request to the department head.
        let o = w.press(KARI, &format!("nc:{id}:submit")).await;
        let reference = "KANAL-2026-0001".to_string();
        assert!(text(message(&o)).contains(&reference), "{}", db.label);
        let to_head = w.take_dms(OLA).pop().expect("the head is asked");
        assert!(text(&to_head).contains("Kari") || text(&to_head).contains(&format!("<@{KARI}>")));
        let approve = button(&to_head, "head-approve");

        // Only the head decides at this stage; nothing changes for anyone else.
        for intruder in [KARI, PER, INGRID] {
            let o = w.press(intruder, &approve).await;
            assert!(text(message(&o)).contains("ikkje di"), "{intruder} was not refused");
        }
        assert_eq!(db.store.channel_request(id).await.unwrap().unwrap().status, "awaiting_head");

        let o = w.press(OLA, &approve).await;
        assert!(matches!(o.reply, Reply::Update(_)));
        let again = w.press(OLA, &approve).await;
        assert!(text(message(&again)).contains("allereie"), "a double click changes nothing");
        assert!(!text(message(&again)).contains(", )"), "the date is given: {}", text(message(&again)));
        assert!(w.take_dms(KARI).iter().any(|m| text(m).contains("avklart")));

        // No review channel is set: the officers get it by DM. Their decision is taken once.
        let to_officer = w.take_dms(INGRID).pop().expect("the officer is asked");
        let approve = button(&to_officer, "off-approve");
        let o = w.press(PER, &approve).await;
        assert!(text(message(&o)).contains("ikkje di"));
        let (a, b) = tokio::join!(w.press(INGRID, &approve), w.press(INGRID, &approve));
        let texts = [text(message(&a)), text(message(&b))];
        assert_eq!(texts.iter().filter(|t| t.contains("har godkjent")).count(), 1, "{texts:?}");
        let row = db.store.channel_request(id).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.decided_by), ("approved", Some(INGRID)));
        assert!(w.take_dms(KARI).iter().any(|m| text(m).contains("godkjend")));

        // The register and the history.
        let list = CommandInput { name: "channels".into(), subcommand: vec!["list".into()], options: vec![] };
        let o = w.act(PER, true, Input::Command(list)).await;
        let t = text(message(&o));
        assert!(t.contains(&reference) && t.contains("Volda bibliotek"), "{t}");
        assert!(t.contains("· Facebook ·") && !t.contains("facebook"), "the platform's name, not its value: {t}");
        let history = |who| {
            let c = CommandInput {
                name: "channels".into(),
                subcommand: vec!["request".into()],
                options: vec![("reference".into(), OptionValue::String(reference.to_lowercase()))],
            };
            w.act(who, true, Input::Command(c))
        };
        let t = text(message(&history(KARI).await));
        for event in ["sende søknaden", "avklarte som avdelingsleiar", "godkjende"] {
            assert!(t.contains(event), "{event} missing: {t}");
        }
        assert!(text(message(&history(PER).await)).contains("Berre"), "others are refused the history");
        let events = db.store.channel_events(id).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["started", "submitted", "head-approved", "approved"]
        );
        // The history's times are in Europe/Oslo: an hour ahead of UTC in November, no "UTC".
        let history_text = text(message(&history(KARI).await));
        assert!(!history_text.contains("UTC"), "{history_text}");
        for e in &events {
            let utc_minutes = e.at.rem_euclid(DAY) / 60_000;
            let oslo = format!("{:02}:{:02}", (utc_minutes / 60 + 1) % 24, utc_minutes % 60);
            assert!(history_text.contains(&oslo), "{} at {oslo} Oslo time: {history_text}", e.action);
        }

        // A responsible person leaves the server: the officers hear of it.
        w.take_dms(INGRID);
        let o = w.app.member_left(G, PER).await;
        w.app.deliver_ids(&w.out, &o.queued).await;
        let notice = w.take_dms(INGRID);
        assert!(notice.iter().any(|m| text(m).contains(&reference) && text(m).contains("1.8")), "{notice:?}");
        assert!(db.store.find_members(G, "Per Vik").await.unwrap().is_empty(), "gone from the directory");

        // Half a year later the responsible people are asked whether it is still active.
        w.tick(183 * DAY).await;
        let ask = w.take_dms(KARI).pop().expect("responsible people are asked");
        let o = w.press(KARI, &button(&ask, ":active")).await;
        assert!(text(message(&o)).contains(&reference));

        // Retiring the channel tells its responsible people (the officer who retires it knows).
        w.take_dms(KARI);
        let retire = CommandInput {
            name: "channels".into(),
            subcommand: vec!["retire".into()],
            options: vec![("reference".into(), OptionValue::String(reference.clone()))],
        };
        let o = w.act(INGRID, true, Input::Command(retire)).await;
        assert!(text(message(&o)).contains(&reference));
        let told = w.take_dms(KARI);
        assert!(
            told.iter().any(|m| text(m).contains(&reference) && text(m).contains("lagd ned")),
            "{}: the responsible person is told: {told:?}",
            db.label
        );
        assert!(w.take_dms(INGRID).is_empty(), "not the officer who did it");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_conversation_survives_a_restart_and_can_be_resumed() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        let o = w.act(KARI, true, new_channel()).await;
        assert!(message(&o).ephemeral);
        let first = w.take_dms(KARI).pop().unwrap();
        let id = request_id(&first);
        w.act(KARI, false, Input::Component { custom_id: format!("nc:{id}:choose"), values: vec!["instagram".into()] })
            .await;
        w.dm(KARI, "Ungdomsklubben").await;

        // A new process over the same database carries on where the old one stopped.
        let w2 = World {
            app: App::new(db.store.clone(), Arc::new(w.clock.clone())),
            clock: w.clock.clone(),
            out: Collect::default(),
        };
        let o = w2.dm(KARI, "Volda ungdomsklubb").await;
        assert!(text(message(&o)).contains("1.1"), "the next question is the purpose (1.1): {:?}", message(&o));
        // /new-channel offers to resume instead of starting a second request.
        let o = w2.act(KARI, true, new_channel()).await;
        let m = message(&o);
        // The step is named as the summary names it, never by its id in the script.
        let offer = text(m);
        assert!(offer.contains("«Formål og mål»"), "{offer}");
        assert!(!offer.contains("«purpose»"), "{offer}");
        let resume = button(m, ":resume");
        let o = w2.press(KARI, &resume).await;
        assert!(message(&o).ephemeral);
        assert_eq!(w2.take_dms(KARI).len(), 1, "the current question is sent again");
        assert_eq!(db.store.channel_requests_of(KARI, &["draft"]).await.unwrap().len(), 1);
        // Another user cannot press the requester's buttons.
        let o = w2.press(PER, &format!("nc:{id}:cancel")).await;
        assert!(text(message(&o)).contains("Nokon andre") || text(message(&o)).contains("ikkje din"));
        assert_eq!(db.store.channel_request(id).await.unwrap().unwrap().status, "draft");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn idle_conversations_are_reminded_once_then_expire() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        w.act(KARI, true, new_channel()).await;
        w.take_dms(KARI);
        w.tick(23 * HOUR).await;
        assert!(w.take_dms(KARI).is_empty(), "no reminder before 24 h");
        w.tick(2 * HOUR).await;
        let reminders = w.take_dms(KARI);
        assert_eq!(reminders.len(), 1, "{}", db.label);
        assert!(text(&reminders[0]).contains("ikkje ferdig"));
        w.tick(5 * DAY).await;
        assert!(w.take_dms(KARI).is_empty(), "one reminder only");
        w.tick(9 * DAY).await;
        assert!(w.take_dms(KARI).iter().any(|m| text(m).contains("lukka")));
        let rows = db.store.channel_requests_of(KARI, &["expired"]).await.unwrap();
        assert_eq!(rows.len(), 1);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn silent_approvers_are_reminded_then_escalated() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        let id = fill_in(&w).await;
        w.press(KARI, &format!("nc:{id}:submit")).await;
        w.take_dms(OLA);
        // Submitted on a Monday: the reminder comes after three working days (Thursday).
        w.tick(2 * DAY + 23 * HOUR).await;
        assert!(w.take_dms(OLA).is_empty());
        w.tick(2 * HOUR).await;
        let reminder = w.take_dms(OLA);
        assert_eq!(reminder.len(), 1, "{}", db.label);
        assert!(text(&reminder[0]).contains("Påminning"));
        // Three more working days (over the weekend): the officers get it.
        w.tick(5 * DAY).await;
        let row = db.store.channel_request(id).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.escalated), ("awaiting_officer", true));
        let escalated_on = somebot::clock::format_date(somebot::clock::Clock::now_ms(&w.clock));
        // The escalation that ran is done; the officers' own escalation is the one left.
        assert_eq!(db.store.open_timers("nc.escalate", id).await.unwrap().len(), 1, "{}", db.label);
        assert_eq!(db.store.open_timers("nc.approval-remind", id).await.unwrap().len(), 1);
        let to_officer = w.take_dms(INGRID).pop().expect("escalated to the officers");
        assert!(text(&to_officer).contains("ikkje svart"));
        assert!(!text(&to_officer).contains("har avklart"), "the head cleared nothing: {}", text(&to_officer));
        assert!(w.take_dms(KARI).iter().any(|m| text(m).contains("ikkje svart")));
        assert!(w.take_dms(OLA).is_empty(), "the head is not reminded of a step that left them");
        // The head's old button now changes nothing, and says where the request went and when.
        let o = w.press(OLA, &format!("nca:{id}:head-approve")).await;
        let said = text(message(&o));
        assert!(said.contains("gjekk difor vidare") && said.contains(&escalated_on), "{said}");
        // The officers' reminder counts from when it reached them.
        w.tick(3 * DAY + 2 * HOUR).await;
        let reminder = w.take_dms(INGRID);
        assert_eq!(reminder.len(), 1, "{}", db.label);
        let reminded = text(&reminder[0]);
        assert!(reminded.contains(&format!("sidan {escalated_on}")), "{reminded}");
        // An officer asks for changes: the reason is required, and the requester is back at the summary.
        let o = w.press(INGRID, &button(&to_officer, "off-changes")).await;
        let Reply::Modal(modal) = &o.reply else { panic!("a reason modal") };
        let o = w
            .act(
                INGRID,
                false,
                Input::ModalSubmit { custom_id: modal.custom_id.clone(), fields: vec![("reason".into(), " ".into())] },
            )
            .await;
        assert!(text(message(&o)).contains("grunngjeving"));
        let o = w
            .act(
                INGRID,
                false,
                Input::ModalSubmit {
                    custom_id: modal.custom_id.clone(),
                    fields: vec![("reason".into(), "Skriv meir om målgruppa.".into())],
                },
            )
            .await;
        assert!(matches!(o.reply, Reply::Update(_)));
        assert_eq!(db.store.channel_request(id).await.unwrap().unwrap().status, "changes_requested");
        let to_kari = w.take_dms(KARI);
        assert!(to_kari.iter().any(|m| text(m).contains("Skriv meir om målgruppa.")));
        let summary = to_kari.last().unwrap();
        w.take_dms(OLA);
        w.press(KARI, &button(summary, ":submit")).await;
        let again = w.take_dms(OLA);
        assert!(again.iter().any(|m| text(m).contains("ingen svar er endra")), "{again:?}");
        let row = db.store.channel_request(id).await.unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.reference.as_deref()),
            ("awaiting_head", Some("KANAL-2026-0001")),
            "resubmitted, same reference"
        );
        // The history says what happened in words: no status value, no internal note.
        let c = CommandInput {
            name: "channels".into(),
            subcommand: vec!["request".into()],
            options: vec![("reference".into(), OptionValue::String("KANAL-2026-0001".into()))],
        };
        let history = text(message(&w.act(KARI, true, Input::Command(c)).await));
        assert!(history.contains("Skriv meir om målgruppa."), "the officer's reason is shown: {history}");
        assert!(history.contains("hjå avdelingsleiaren"), "the reminder's step in words: {history}");
        for internal in
            ["awaiting_head", "awaiting_officer", "head did not answer", "changes_requested", "KANAL-2026-0001:"]
        {
            assert!(!history.contains(internal), "{internal} shown: {history}");
        }
        db.cleanup().await;
    }
}

/// A user who does not accept direct messages.
struct ClosedDms;

impl Deliverer for ClosedDms {
    async fn send(&self, _: i64, _: OutboxTarget, _: &Message) -> Result<(), DeliveryError> {
        Err(DeliveryError::Permanent("HTTP 403 code 50007: Cannot send messages to this user".into()))
    }
}

#[tokio::test]
async fn closed_dms_are_explained_and_the_request_is_kept() {
    let db = dbs::sqlite().await;
    let w = World::new(db.store.clone()).await;
    let o = w.app.handle(&actor(KARI, true), new_channel()).await;
    let delivered = w.app.deliver_ids(&ClosedDms, &o.queued).await;
    let hook = delivered.into_iter().find_map(|d| d.hook_outcome).expect("the failure is answered");
    let m = message(&hook);
    assert!(m.ephemeral, "told privately, in the same interaction");
    assert!(text(m).contains("direktemeldingar"), "says how to fix it: {}", text(m));
    let retry = button(m, ":resume");
    assert_eq!(db.store.channel_requests_of(KARI, &["draft"]).await.unwrap().len(), 1, "the request is kept");
    // Once DMs are open, Try again sends the question.
    w.press(KARI, &retry).await;
    assert_eq!(w.take_dms(KARI).len(), 1);
    db.cleanup().await;
}

/// Every step of `/new-channel`, failed at each of its writes in turn: all of it or none of it
/// is written, and the user gets the apology with a reference. Then the step runs whole.
#[tokio::test]
async fn every_request_step_is_written_whole_or_not_at_all() {
    use common::whole_or_nothing;
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        let s = &w.app.store;
        let start = || w.act(KARI, true, new_channel());
        let (o, writes) = whole_or_nothing(s, "start", start).await;
        assert!(writes >= 4, "the request, its timers and the first question: {writes}");
        assert_eq!(o.queued.len(), 1, "the first question is queued with the request");
        let first = w.take_dms(KARI).pop().expect("the first question comes by DM");
        let id = request_id(&first);
        let choose = || {
            w.act(
                KARI,
                false,
                Input::Component { custom_id: format!("nc:{id}:choose"), values: vec!["facebook".into()] },
            )
        };
        whole_or_nothing(s, "an answer by button", choose).await;
        let (o, _) = whole_or_nothing(s, "an answer by DM", || w.dm(KARI, "Volda bibliotek på Facebook")).await;
        assert!(!text(message(&o)).is_empty());
        let row = s.channel_request(id).await.unwrap().unwrap();
        let conv: serde_json::Value = serde_json::from_str(&row.conversation).unwrap();
        assert_eq!(conv["answers"]["name"]["text"], "Volda bibliotek på Facebook", "the answer is saved once: {conv}");
        let label = db.label;
        db.cleanup().await;

        // Submitting and both approvals, on a request filled in as usual.
        let db = if label == "sqlite" { dbs::sqlite().await } else { dbs::postgres().await.unwrap() };
        let w = World::new(db.store.clone()).await;
        let s = &w.app.store;
        let id = fill_in(&w).await;
        let submit = format!("nc:{id}:submit");
        let (o, writes) = whole_or_nothing(s, "submit", || w.press(KARI, &submit)).await;
        assert!(writes >= 6, "status, reference, audit, four timers, the head's DM: {writes}");
        assert!(text(message(&o)).contains("KANAL-2026-0001"), "no reference number was used up");
        let to_head = w.take_dms(OLA);
        assert_eq!(to_head.len(), 1, "the head is asked once");
        let approve = button(&to_head[0], "head-approve");
        whole_or_nothing(s, "the head approves", || w.press(OLA, &approve)).await;
        assert_eq!(w.take_dms(KARI).len(), 1, "the requester is told once");
        let to_officer = w.take_dms(INGRID);
        assert_eq!(to_officer.len(), 1, "the officer is asked once");
        let approve = button(&to_officer[0], "off-approve");
        whole_or_nothing(s, "the officer approves", || w.press(INGRID, &approve)).await;
        let row = s.channel_request(id).await.unwrap().unwrap();
        assert_eq!(row.status, "approved");
        let events = s.channel_events(id).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["started", "submitted", "head-approved", "approved"],
            "{}",
            db.label
        );
        assert_eq!(s.open_timers("nc.review", id).await.unwrap().len(), 1);
        assert!(s.open_timers("nc.escalate", id).await.unwrap().is_empty());
        db.cleanup().await;
    }
}

/// A declined request tells the requester why and what they can do next.
#[tokio::test]
async fn a_declined_request_says_what_to_do_next() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        let id = fill_in(&w).await;
        w.press(KARI, &format!("nc:{id}:submit")).await;
        let to_head = w.take_dms(OLA).pop().expect("the head is asked");
        w.decide_with_reason(OLA, &to_head, "head-decline", "Vi har alt ein kanal for dette.").await;
        let told = w.take_dms(KARI);
        let t = told.iter().map(text).collect::<Vec<_>>().join("\n");
        assert!(t.contains("Vi har alt ein kanal for dette."), "{t}");
        assert!(t.contains("/new-channel") && t.contains("prøve igjen"), "{}: the next step: {t}", db.label);
        db.cleanup().await;
    }
}

/// Cancel throws every answer away, so it asks first; only the confirmation cancels.
#[tokio::test]
async fn cancel_asks_first() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        let o = w.act(KARI, true, new_channel()).await;
        assert!(message(&o).ephemeral);
        let first = w.take_dms(KARI).pop().unwrap();
        let id = request_id(&first);
        let o = w.press(KARI, &format!("nc:{id}:cancel")).await;
        let ask = message(&o);
        assert!(ask.ephemeral && text(ask).contains("Vil du avbryte"), "{}", text(ask));
        assert_eq!(db.store.channel_request(id).await.unwrap().unwrap().status, "draft", "nothing is lost yet");
        let o = w.press(KARI, &button(ask, ":cancel-yes")).await;
        assert!(text(message(&o)).contains("avbroten"), "{}", text(message(&o)));
        assert_eq!(db.store.channel_request(id).await.unwrap().unwrap().status, "cancelled", "{}", db.label);
        db.cleanup().await;
    }
}

/// The head can ask for changes too; the resubmission shows what changed since.
#[tokio::test]
async fn the_head_asks_for_changes_and_sees_what_changed() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone()).await;
        let id = fill_in(&w).await;
        w.press(KARI, &format!("nc:{id}:submit")).await;
        let to_head = w.take_dms(OLA).pop().expect("the head is asked");
        w.decide_with_reason(OLA, &to_head, "head-changes", "Skriv tydelegare kva målet er.").await;
        assert_eq!(db.store.channel_request(id).await.unwrap().unwrap().status, "changes_requested", "{}", db.label);
        let to_kari = w.take_dms(KARI);
        assert!(to_kari.iter().any(|m| text(m).contains("Skriv tydelegare kva målet er.")));
        // The requester changes the purpose from the summary and sends it again.
        w.press(KARI, &format!("nc:{id}:edit:purpose")).await;
        w.dm(KARI, "Nå fleire unge lånarar med tips om nye bøker kvar veke").await;
        w.press(KARI, &format!("nc:{id}:submit")).await;
        let again = w.take_dms(OLA).pop().expect("the head is asked again");
        let t = text(&again);
        assert!(t.contains("Endra sidan sist") && t.contains("«Formål og mål»"), "{t}");
        assert!(!t.contains("«Eining»"), "only what changed: {t}");
        db.cleanup().await;
    }
}
