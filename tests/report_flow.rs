//! `/report-threat` through the core on SQLite and PostgreSQL with a controllable clock: intake
//! with evidence, preview, sending, the DM to the line manager, acknowledgement, follow-up,
//! handling and retention; the no-manager path; rerouting when the DM fails and when nobody
//! acknowledges; every outsider refused; deletion; no plaintext in the database file or the logs.

mod common;
mod dbs;

use common::{all_text, button, cmd, message, text, Collect};

use std::sync::{Arc, Mutex};

use somebot::app::delivery::{Deliverer, DeliveryError};
use somebot::clock::{ManualClock, DAY, HOUR};
use somebot::core::{Actor, Component, Input, Message, OptionValue, Outcome, Reply};
use somebot::i18n::Locale;
use somebot::store::directory::Member;
use somebot::store::jobs::OutboxTarget;
use somebot::App;

const G: u64 = 8_000;
const KARI: u64 = 8_001;
const OLA: u64 = 8_002;
const PER: u64 = 8_003;
const INGRID: u64 = 8_004;
const ADMIN: u64 = 8_005;
const START: i64 = 1_795_392_000_000 + 9 * HOUR;
const SECRET: &str = "Han skreiv at han veit kvar eg bur";
const EVIDENCE: &[u8] = b"skjermbilete-bytes: trugsmal i kommentarfeltet";

/// The screenshot attached to `/report-threat`, already downloaded.
fn evidence() -> OptionValue {
    OptionValue::Attachment {
        id: 1,
        filename: "skjermbilete.png".into(),
        content_type: Some("image/png".into()),
        size: EVIDENCE.len() as u64,
        url: "https://cdn.invalid/x".into(),
        data: Some(EVIDENCE.to_vec()),
    }
}

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
        role_ids: vec![],
    }
}

impl World {
    async fn new(store: somebot::store::Store, with_manager: bool) -> World {
        let clock = ManualClock::at(START);
        let app = App::new(store, Arc::new(clock.clone()));
        let members: Vec<Member> =
            [(KARI, "Kari Nordmann"), (OLA, "Ola Hansen"), (PER, "Per Vik"), (INGRID, "Ingrid Berg")]
                .iter()
                .map(|(id, name)| Member {
                    guild_id: G,
                    user_id: *id,
                    username: name.to_lowercase().replace(' ', "."),
                    display_name: name.to_string(),
                    roles: vec![],
                    is_bot: false,
                    present: true,
                })
                .collect();
        app.members_seen(&members).await;
        let w = World { app, clock, out: Collect::default() };
        w.act(ADMIN, true, cmd("setup", &["communications-role"], vec![("role", OptionValue::Role(9))])).await;
        if with_manager {
            let o = w
                .act(
                    ADMIN,
                    true,
                    cmd(
                        "setup",
                        &["manager"],
                        vec![("employee", OptionValue::User(KARI)), ("manager", OptionValue::User(OLA))],
                    ),
                )
                .await;
            assert!(text(message(&o)).contains(&format!("<@{OLA}>")));
        }
        w.act(ADMIN, true, cmd("setup", &["alternate"], vec![("user", OptionValue::User(PER))])).await;
        w
    }

    async fn act(&self, who: u64, in_guild: bool, input: Input) -> Outcome {
        let o = self.app.handle(&actor(who, in_guild), input).await;
        assert!(o.reply.check_limits().is_empty(), "{:?}", o.reply.check_limits());
        let delivered = self.app.deliver_ids(&self.out, &o.queued).await;
        for d in delivered {
            if let Some(h) = d.hook_outcome {
                self.app.deliver_ids(&self.out, &h.queued).await;
            }
        }
        o
    }

    async fn press(&self, who: u64, custom_id: &str, values: &[&str]) -> Outcome {
        let values = values.iter().map(|v| v.to_string()).collect();
        self.act(who, false, Input::Component { custom_id: custom_id.into(), values }).await
    }

    async fn submit(&self, who: u64, custom_id: &str, fields: &[(&str, &str)]) -> Outcome {
        let fields = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.act(who, false, Input::ModalSubmit { custom_id: custom_id.into(), fields }).await
    }

    fn take_dms(&self, user: u64) -> Vec<Message> {
        self.out.take_dms(user)
    }

    fn channel_posts(&self) -> usize {
        self.out.sent.lock().unwrap().iter().filter(|(t, _)| matches!(t, OutboxTarget::Channel(_))).count()
    }

    async fn tick(&self, ms: i64) {
        self.clock.advance(ms);
        self.app.run_due_timers().await;
        self.app.deliver_due(&self.out).await;
    }

    /// `/report-threat` with evidence, the form and the preview; returns the id and preview.
    async fn draft(&self) -> (i64, Message) {
        let o = self.act(KARI, true, cmd("report-threat", &[], vec![("evidence", evidence())])).await;
        let m = message(&o).clone();
        assert!(m.ephemeral);
        let first = text(&m);
        assert!(first.starts_with("**") && first.contains("112") && first.contains("02800"), "police first: {first}");
        let sha = somebot::threat_report::crypto::sha256_hex(EVIDENCE);
        assert!(first.contains(&sha), "the evidence hash is shown: {first}");
        let write = button(&m, ":write");
        let id: i64 = write.split(':').nth(1).unwrap().parse().unwrap();
        let privacy = self.press(KARI, &button(&m, ":privacy"), &[]).await;
        assert!(text(message(&privacy)).contains("180"), "retention is stated");
        let Reply::Modal(modal) = self.press(KARI, &write, &[]).await.reply else { panic!("the form opens") };
        assert_eq!(modal.inputs.len(), 4);
        assert_eq!(modal.inputs[0].max_length, Some(4000));
        assert!(modal.inputs[0].label.contains("4000"), "the limit is stated");
        // Too little is asked again; what was typed is kept and offered again.
        let o =
            self.submit(KARI, &modal.custom_id, &[("what", "x"), ("where", "Facebook https://fb.invalid/p/1")]).await;
        let again = message(&o).clone();
        let Reply::Modal(modal) = self.press(KARI, &button(&again, ":edit"), &[]).await.reply else { panic!() };
        assert_eq!(modal.inputs[1].value.as_deref(), Some("Facebook https://fb.invalid/p/1"));
        let o = self
            .submit(
                KARI,
                &modal.custom_id,
                &[
                    ("what", SECRET),
                    ("where", "Facebook https://fb.invalid/p/1"),
                    ("when", "i går kveld"),
                    ("ongoing", "ja"),
                ],
            )
            .await;
        (id, message(&o).clone())
    }
}

#[tokio::test]
async fn a_report_reaches_the_manager_is_acknowledged_followed_up_handled_and_expires() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        let (id, preview) = w.draft().await;
        assert!(text(&preview).contains(&format!("<@{OLA}>")), "the manager is named: {}", text(&preview));
        assert!(text(&preview).contains(SECRET), "the reporter sees their own text");
        // The alternates can be chosen instead.
        let alt = button(&preview, ":alt");
        let o = w.press(KARI, &alt, &[&PER.to_string()]).await;
        assert!(text(message(&o)).contains(&format!("<@{PER}>")));
        let o = w.press(KARI, &alt, &[&OLA.to_string()]).await;
        assert!(text(message(&o)).contains(&format!("<@{OLA}>")));

        let o = w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        let receipt = text(message(&o));
        assert!(message(&o).ephemeral);
        assert!(receipt.contains("TRUGSMAL-2026-0001"), "{receipt}");
        let dm = w.take_dms(OLA);
        assert_eq!(dm.len(), 1);
        assert!(text(&dm[0]).contains(SECRET) && text(&dm[0]).contains("TRUGSMAL-2026-0001"));
        // The evidence copied at intake goes with it, as the file it was.
        assert_eq!(dm[0].attachments.len(), 1, "the evidence is forwarded");
        assert_eq!(
            (dm[0].attachments[0].filename.as_str(), dm[0].attachments[0].data.as_slice()),
            ("skjermbilete.png", EVIDENCE)
        );
        assert!(text(&dm[0]).contains(&somebot::threat_report::crypto::sha256_hex(EVIDENCE)));
        let row = w.app.store.report(id).await.unwrap().unwrap();
        assert_eq!(row.status, "sent");
        assert!(row.has_evidence_data);
        assert_eq!(w.app.store.open_timers("rt.ack-timeout", id).await.unwrap(), vec![START + DAY]);

        // Nobody else can do anything with it; each attempt is logged.
        for action in [
            "write",
            "edit",
            "cancel",
            "send",
            "ack",
            "reply",
            "handle",
            "export",
            "delete",
            "delete-confirm",
            "alt",
            "pick",
        ] {
            let o = w.press(INGRID, &format!("rt:{id}:{action}"), &[&INGRID.to_string()]).await;
            let t = text(message(&o));
            assert!(t.contains("ikkje til deg"), "{action}: {t}");
            assert!(!t.contains(SECRET));
        }
        for form in ["report", "reply", "handle"] {
            let o = w.submit(INGRID, &format!("rtm:{id}:{form}"), &[("text", "hei"), ("what", "hei")]).await;
            assert!(text(message(&o)).contains("ikkje til deg"), "{form}");
        }
        let o = w
            .act(INGRID, false, Input::Component { custom_id: "rtl:0:show".into(), values: vec![id.to_string()] })
            .await;
        assert!(text(message(&o)).contains("ikkje til deg"));
        // The reporter cannot acknowledge or handle on the recipient's behalf.
        for action in ["ack", "handle"] {
            assert!(text(message(&w.press(KARI, &format!("rt:{id}:{action}"), &[]).await)).contains("ikkje til deg"));
        }
        let refused =
            w.app.store.report_events(id).await.unwrap().into_iter().filter(|e| e.action == "refused").count();
        assert_eq!(refused, 12 + 3 + 1 + 2);
        assert!(w.take_dms(INGRID).is_empty());

        // Acknowledged: the reporter is told.
        let o = w.press(OLA, &format!("rt:{id}:ack"), &[]).await;
        assert!(text(message(&o)).contains("TRUGSMAL-2026-0001"));
        let told = w.take_dms(KARI);
        assert!(all_text(&told).contains(&format!("<@{OLA}>")), "{}", all_text(&told));
        assert!(w.app.store.open_timers("rt.ack-timeout", id).await.unwrap().is_empty());
        // A second click changes nothing.
        w.press(OLA, &format!("rt:{id}:ack"), &[]).await;
        assert!(w.take_dms(KARI).is_empty());

        // Follow-up both ways, relayed by DM.
        let Reply::Modal(m) = w.press(OLA, &format!("rt:{id}:reply"), &[]).await.reply else { panic!() };
        w.submit(OLA, &m.custom_id, &[("text", "Kan du ta eit skjermbilete til?")]).await;
        assert!(all_text(&w.take_dms(KARI)).contains("Kan du ta eit skjermbilete til?"));
        w.submit(KARI, &format!("rtm:{id}:reply"), &[("text", "Ja, eg sender det")]).await;
        assert!(all_text(&w.take_dms(OLA)).contains("Ja, eg sender det"));

        // /reports lists it for both.
        for who in [KARI, OLA] {
            let o = w.act(who, false, cmd("reports", &[], vec![])).await;
            assert!(text(message(&o)).contains("TRUGSMAL-2026-0001"));
        }
        let o = w.act(INGRID, false, cmd("reports", &[], vec![])).await;
        assert!(!text(message(&o)).contains("TRUGSMAL"));

        // The export is a text file that holds every fact, the hash and the follow-ups.
        w.press(KARI, &format!("rt:{id}:export"), &[]).await;
        let export = w.take_dms(KARI);
        assert_eq!(export.len(), 1);
        assert!(export[0].check_limits().is_empty());
        let file = &export[0].attachments[0];
        assert_eq!(file.filename, "TRUGSMAL-2026-0001.txt");
        let all = String::from_utf8(file.data.clone()).unwrap();
        // The log in words, people by name with their Discord id, each time once.
        let kari = format!("Kari Nordmann (brukarnummer på Discord: {KARI})");
        let ola = format!("Ola Hansen (brukarnummer på Discord: {OLA})");
        for needle in [
            SECRET,
            "Ja, eg sender det",
            "Kan du ta eit skjermbilete til?",
            "TRUGSMAL-2026-0001",
            "stadfesta at meldinga er motteken",
            &format!("leverte meldinga til: {ola}"),
            &format!("Meldt av: {kari}"),
            &format!("Mottakar: {ola}"),
        ] {
            assert!(all.contains(needle), "export lacks {needle}: {all}");
        }
        for internal in ["(Discord id)", "delivered-to", " acknowledged", "UTC UTC", "follow-up"] {
            assert!(!all.contains(internal), "export shows {internal}: {all}");
        }
        assert!(all.contains(&somebot::threat_report::crypto::sha256_hex(EVIDENCE)));
        // Times are in Europe/Oslo, each once: drafted at 09:00 UTC on a November Monday is 10:00.
        assert!(all.contains(": 23.11.2026 10:00\n"), "{all}");
        assert!(!all.contains("UTC") && !all.contains("23.11.2026 23.11.2026"), "{all}");

        // Handled with a note; the reporter is told; retention deletes the content later.
        w.submit(OLA, &format!("rtm:{id}:handle"), &[("text", "Meldt til politiet")]).await;
        assert!(all_text(&w.take_dms(KARI)).contains("Meldt til politiet"));
        assert_eq!(w.app.store.report(id).await.unwrap().unwrap().status, "handled");
        w.tick(179 * DAY).await;
        assert_eq!(w.app.store.report(id).await.unwrap().unwrap().status, "handled");
        w.tick(2 * DAY).await;
        let row = w.app.store.report(id).await.unwrap().unwrap();
        assert_eq!(row.status, "deleted");
        assert!(row.content.is_none() && row.handled_note.is_none() && !row.has_evidence_data);
        assert_eq!(row.reference.as_deref(), Some("TRUGSMAL-2026-0001"), "the record stays");
        assert!(w.app.store.report_messages(id).await.unwrap().iter().all(|m| m.body.is_none()));
        assert!(all_text(&w.take_dms(KARI)).contains("TRUGSMAL-2026-0001"));
        assert_eq!(w.channel_posts(), 0, "nothing is ever posted in a channel");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn without_a_manager_the_reporter_picks_one_and_nobody_hears_of_it() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), false).await;
        let (id, preview) = w.draft().await;
        // Opening the form tells nobody (its timing alone would say who thinks of reporting);
        // the admins see the register's gaps in /setup managers instead.
        assert!(w.take_dms(ADMIN).is_empty(), "the admin is told nothing");
        let register = w.act(ADMIN, true, cmd("setup", &["managers"], vec![])).await;
        let gaps = &message(&register).embeds[0].fields[2];
        assert!(gaps.name.contains("Utan næraste leiar"), "{gaps:?}");
        assert!(gaps.value.contains(&format!("<@{KARI}>")), "{gaps:?}");
        assert!(preview.components.iter().flatten().any(|c| matches!(c, Component::UserSelect { .. })));
        let disabled =
            preview.components.iter().flatten().any(
                |c| matches!(c, Component::Button { custom_id, disabled: true, .. } if custom_id.ends_with(":send")),
            );
        assert!(disabled, "nothing to send to yet");
        let o = w.press(KARI, &format!("rt:{id}:pick"), &[&KARI.to_string()]).await;
        assert!(text(message(&o)).contains("deg sjølv"));
        let o = w.press(KARI, &format!("rt:{id}:pick"), &[&OLA.to_string()]).await;
        assert!(text(message(&o)).contains(&format!("<@{OLA}>")));
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        assert!(all_text(&w.take_dms(OLA)).contains(SECRET));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_undeliverable_or_unacknowledged_report_goes_to_an_alternate() {
    for db in dbs::all().await {
        // The manager does not accept DMs: the alternate gets it at once, the reporter is told.
        let w = World::new(db.store.clone(), true).await;
        w.out.blocked.lock().unwrap().insert(OLA);
        let (id, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        let per = w.take_dms(PER);
        assert_eq!(per.len(), 1, "{per:?}");
        assert!(text(&per[0]).contains(SECRET));
        let told = all_text(&w.take_dms(KARI));
        assert!(told.contains(&format!("<@{PER}>")), "{told}");
        let row = w.app.store.report(id).await.unwrap().unwrap();
        assert_eq!(row.recipient_id, Some(PER));
        // The manager it never reached cannot act on it now.
        let o = w.press(OLA, &format!("rt:{id}:ack"), &[]).await;
        assert!(text(message(&o)).contains("ikkje til deg"));
        w.out.blocked.lock().unwrap().clear();

        // Nobody acknowledges a second report: after 24 hours it goes to the alternate.
        let (id2, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id2}:send"), &[]).await;
        assert_eq!(w.take_dms(OLA).len(), 1);
        w.take_dms(KARI);
        w.tick(23 * HOUR).await;
        assert!(w.take_dms(PER).is_empty());
        w.tick(2 * HOUR).await;
        let per = w.take_dms(PER);
        assert!(all_text(&per).contains(SECRET), "{per:?}");
        assert!(all_text(&w.take_dms(KARI)).contains(&format!("<@{PER}>")));
        // The manager who missed the 24 hours is told kindly that it moved on.
        let o = w.press(OLA, &format!("rt:{id2}:ack"), &[]).await;
        assert!(text(message(&o)).contains("send vidare"), "{}", text(message(&o)));
        // No further alternate: after another day the reporter is told to reach out another way.
        w.tick(25 * HOUR).await;
        assert!(w.take_dms(KARI).iter().any(|m| text(m).contains("annan måte")));
        let o = w.press(PER, &format!("rt:{id2}:ack"), &[]).await;
        assert!(text(message(&o)).contains("TRUGSMAL"));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_reporter_can_delete_and_the_record_stays_without_content() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        let (id, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        w.take_dms(OLA);
        let o = w.press(KARI, &format!("rt:{id}:delete"), &[]).await;
        let confirm = button(message(&o), ":delete-confirm");
        w.press(KARI, &confirm, &[]).await;
        let row = w.app.store.report(id).await.unwrap().unwrap();
        assert_eq!(row.status, "deleted");
        assert!(row.content.is_none() && !row.has_evidence_data && row.deleted_at.is_some());
        assert!(row.evidence.as_ref().is_some_and(|e| e.sha256.is_some()), "the hash is kept as a record");
        let told = all_text(&w.take_dms(OLA));
        assert!(told.contains("TRUGSMAL-2026-0001") && !told.contains(SECRET));
        let o = w.press(OLA, &format!("rt:{id}:export"), &[]).await;
        assert!(!text(message(&o)).contains(SECRET));
        assert!(w.take_dms(OLA).is_empty());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_database_file_holds_no_plaintext() {
    let db = dbs::sqlite().await;
    let w = World::new(db.store.clone(), true).await;
    let (id, _) = w.draft().await;
    w.press(KARI, &format!("rt:{id}:send"), &[]).await;
    w.submit(KARI, &format!("rtm:{id}:reply"), &[("text", "Oppfølging med hemmeleg innhald")]).await;
    let path = db.url.trim_start_matches("sqlite://").to_string();
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    let hay = String::from_utf8_lossy(&bytes);
    for needle in [SECRET, "fb.invalid", "Oppfølging med hemmeleg", "trugsmal i kommentarfeltet"] {
        assert!(!hay.contains(needle), "the database file contains {needle:?}");
    }
    assert!(hay.contains("TRUGSMAL-2026-0001") || bytes.len() > 10_000, "the file was read");
    db.cleanup().await;
}

/// A tracing writer that keeps everything written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Everything this test binary logs, at every level.
static CAPTURE: once_cell::sync::Lazy<Captured> = once_cell::sync::Lazy::new(|| {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber of this test binary");
    captured
});

#[tokio::test]
async fn the_logs_hold_no_report_text() {
    // A process-wide subscriber: a thread-local one (`set_default`) misses events now and then
    // when other tests run at the same time, because tracing caches each call site's interest
    // across threads. The capture so also covers the other tests of this file, which must not
    // log report text either.
    let captured = CAPTURE.clone();
    let db = dbs::sqlite().await;
    let w = World::new(db.store.clone(), true).await;
    w.out.blocked.lock().unwrap().insert(OLA);
    let (id, _) = w.draft().await;
    w.press(KARI, &format!("rt:{id}:send"), &[]).await;
    w.press(INGRID, &format!("rt:{id}:export"), &[]).await;
    w.submit(PER, &format!("rtm:{id}:reply"), &[("text", "Svar med løyndom")]).await;
    w.submit(PER, &format!("rtm:{id}:handle"), &[("text", "Notat med løyndom")]).await;
    w.press(KARI, &format!("rt:{id}:export"), &[]).await;
    db.cleanup().await;
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
    assert!(logs.contains(&format!("report={id}")), "the log names the report by id: {logs}");
    assert!(logs.contains("refused access"));
    for needle in [SECRET, "fb.invalid", "i går kveld", "løyndom", "skjermbilete"] {
        assert!(!logs.contains(needle), "the log contains {needle:?}");
    }
}

/// Discord is down when the report is sent.
struct Down;

impl Deliverer for Down {
    async fn send(&self, _: i64, _: OutboxTarget, _: &Message) -> Result<(), DeliveryError> {
        Err(DeliveryError::Transient { retry_after_ms: None, reason: "HTTP 502".into() })
    }
}

#[tokio::test]
async fn a_report_sent_while_discord_is_down_goes_out_after_a_restart() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        let (id, _) = w.draft().await;
        // The send is stored, but the DM fails: the reporter still gets the receipt.
        let o = w
            .app
            .handle(&actor(KARI, false), Input::Component { custom_id: format!("rt:{id}:send"), values: vec![] })
            .await;
        assert!(text(message(&o)).contains("TRUGSMAL-"), "{}", db.label);
        let failed = w.app.deliver_ids(&Down, &o.queued).await;
        assert!(!failed.is_empty() && failed.iter().all(|d| d.result.is_err()));
        assert!(db.store.outbox_pending().await.unwrap() >= 1, "kept for later");

        // The bot restarts (same database, same key); once the retry time has come it delivers.
        let restarted = World {
            app: App { report_key: w.app.report_key.clone(), ..App::new(db.store.clone(), Arc::new(w.clock.clone())) },
            clock: w.clock.clone(),
            out: Collect::default(),
        };
        restarted.app.deliver_due(&restarted.out).await;
        assert!(restarted.take_dms(OLA).is_empty(), "not before the backoff");
        restarted.clock.advance(6_000);
        restarted.app.deliver_due(&restarted.out).await;
        let to_ola = restarted.take_dms(OLA);
        assert_eq!(to_ola.len(), 1);
        assert!(text(&to_ola[0]).contains(SECRET));
        assert_eq!(db.store.outbox_pending().await.unwrap(), 0);
        db.cleanup().await;
    }
}

/// Every step of a report, failed at each of its writes in turn: all of it or none of it is
/// written, and the user gets the apology with a reference. Then the step runs whole.
#[tokio::test]
async fn every_report_step_is_written_whole_or_not_at_all() {
    use common::whole_or_nothing;
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        let s = &w.app.store;
        let (o, writes) = whole_or_nothing(s, "open a draft", || {
            w.act(KARI, true, cmd("report-threat", &[], vec![("evidence", evidence())]))
        })
        .await;
        assert!(writes >= 2, "a draft and its commit: {writes}");
        let id: i64 = button(message(&o), ":write").split(':').nth(1).unwrap().parse().unwrap();
        let fields = [("what", SECRET), ("where", "Facebook"), ("when", "i går"), ("ongoing", "ja")];
        let (form, reply, handle) = (format!("rtm:{id}:report"), format!("rtm:{id}:reply"), format!("rtm:{id}:handle"));
        let (alt, send, ack) = (format!("rt:{id}:alt"), format!("rt:{id}:send"), format!("rt:{id}:ack"));
        let per = [PER.to_string()];
        let per: Vec<&str> = per.iter().map(String::as_str).collect();
        let (o, _) = whole_or_nothing(s, "the form", || w.submit(KARI, &form, &fields)).await;
        assert!(text(message(&o)).contains(SECRET));
        let (o, _) = whole_or_nothing(s, "choose the alternate", || w.press(KARI, &alt, &per)).await;
        assert!(text(message(&o)).contains(&format!("<@{PER}>")));
        w.press(KARI, &format!("rt:{id}:alt"), &[&OLA.to_string()]).await;
        // Sending: the status, the reference, two audit events, the timer and the DM.
        let (o, writes) = whole_or_nothing(s, "send", || w.press(KARI, &send, &[])).await;
        assert!(writes >= 6, "send is one step of several writes: {writes}");
        assert!(text(message(&o)).contains("TRUGSMAL-2026-0001"), "no reference number was used up");
        assert_eq!(w.take_dms(OLA).len(), 1, "the DM went out once");
        assert_eq!(s.report(id).await.unwrap().unwrap().status, "sent");
        whole_or_nothing(s, "acknowledge", || w.press(OLA, &ack, &[])).await;
        assert_eq!(w.take_dms(KARI).len(), 1, "the reporter is told once");
        let follow_up = [("text", "Takk, eg ringjer deg")];
        whole_or_nothing(s, "follow-up", || w.submit(OLA, &reply, &follow_up)).await;
        assert_eq!(s.report_messages(id).await.unwrap().len(), 1);
        let note = [("text", "Meldt til politiet")];
        whole_or_nothing(s, "handle", || w.submit(OLA, &handle, &note)).await;
        assert_eq!(s.report(id).await.unwrap().unwrap().status, "handled");
        assert_eq!(s.open_timers("rt.retention", id).await.unwrap().len(), 1);
        // A refused press records the refusal in its own step and changes nothing else.
        let before = common::fingerprint(s).await;
        let o = w.press(INGRID, &format!("rt:{id}:export"), &[]).await;
        assert!(text(message(&o)).contains("ikkje til deg"));
        let after = common::fingerprint(s).await;
        let changed: Vec<_> = before.iter().zip(&after).filter(|(a, b)| a != b).map(|(a, _)| a.0.as_str()).collect();
        assert_eq!(changed, ["threat_report_events"], "{}", db.label);
        db.cleanup().await;
    }
}

/// A timer whose handler fails is not lost: it is retried with backoff until it succeeds, and
/// its effect happens once.
#[tokio::test]
async fn a_timer_whose_handler_fails_twice_runs_the_third_time() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        let (id, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        w.take_dms(OLA);
        let s = &w.app.store;
        // The acknowledgement times out; the reroute's step fails twice on the database.
        w.clock.advance(DAY);
        s.fail_write(1);
        assert_eq!(w.app.run_due_timers().await, 1);
        assert!(!s.write_failure_pending());
        assert_eq!(s.report(id).await.unwrap().unwrap().recipient_id, Some(OLA), "{}: nothing rerouted", db.label);
        let (attempts, done): (i64, Option<i64>) =
            sqlx::query_as("SELECT attempts, done_at FROM timers WHERE kind = 'rt.ack-timeout' AND subject_id = $1")
                .bind(id)
                .fetch_one(s.pool())
                .await
                .unwrap();
        assert_eq!((attempts, done), (1, None), "{}: the timer is kept, its failure counted", db.label);
        // Not again at once: it waits for its backoff.
        assert_eq!(w.app.run_due_timers().await, 0);
        w.clock.advance(5_000);
        s.fail_write(2);
        assert_eq!(w.app.run_due_timers().await, 1);
        assert_eq!(s.report(id).await.unwrap().unwrap().recipient_id, Some(OLA));
        w.clock.advance(10_000);
        assert_eq!(w.app.run_due_timers().await, 1, "the third run");
        w.app.deliver_due(&w.out).await;
        assert_eq!(s.report(id).await.unwrap().unwrap().recipient_id, Some(PER), "{}: rerouted once", db.label);
        assert_eq!(w.take_dms(PER).len(), 1, "the alternate gets it once");
        let rerouted = s.report_events(id).await.unwrap().into_iter().filter(|e| e.action == "rerouted").count();
        assert_eq!(rerouted, 1);
        let metrics = somebot::metrics::global().render(None);
        assert!(metrics.contains("somebot_timers_total{result=\"failed\"}"), "{metrics}");
        db.cleanup().await;
    }
}

/// The reporter who sends their report to an alternate instead of their manager has bypassed
/// the manager: no reroute ever reaches them, even when they are an alternate too.
#[tokio::test]
async fn a_reroute_never_reaches_the_bypassed_manager() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        w.act(ADMIN, true, cmd("setup", &["alternate"], vec![("user", OptionValue::User(OLA))])).await;
        let (id, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id}:alt"), &[&PER.to_string()]).await;
        w.out.blocked.lock().unwrap().insert(PER);
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        assert!(w.take_dms(OLA).is_empty(), "{}: the bypassed manager got it", db.label);
        assert!(w.take_dms(KARI).iter().any(|m| text(m).contains("annan måte")), "the reporter is told");
        let row = w.app.store.report(id).await.unwrap().unwrap();
        assert_eq!(row.recipient_id, Some(PER), "not rerouted to the manager");
        db.cleanup().await;
    }
}

/// Discord's trouble is not a refusal: a report whose DM fails transiently is retried, never
/// passed on to the alternates.
#[tokio::test]
async fn transient_failures_do_not_burn_through_the_alternates() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        w.out.down.lock().unwrap().insert(OLA);
        let (id, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        // 40 retries over more than a day of trouble (the wait doubles to an hour, then stays).
        for _ in 0..40 {
            w.clock.advance(HOUR);
            w.app.deliver_due(&w.out).await;
        }
        assert!(w.take_dms(PER).is_empty(), "{}: no reroute for Discord's trouble", db.label);
        w.out.down.lock().unwrap().clear();
        w.clock.advance(HOUR);
        w.app.deliver_due(&w.out).await;
        assert!(all_text(&w.take_dms(OLA)).contains(SECRET), "delivered once Discord is back");
        db.cleanup().await;
    }
}

/// Deleting a report cancels its messages still waiting in the outbox.
#[tokio::test]
async fn a_deleted_report_is_not_delivered_later() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        w.out.down.lock().unwrap().insert(OLA);
        let (id, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        w.submit(KARI, &format!("rtm:{id}:reply"), &[("text", "Eg har meir å fortelje")]).await;
        w.press(KARI, &format!("rt:{id}:delete-confirm"), &[]).await;
        assert_eq!(w.app.store.report(id).await.unwrap().unwrap().status, "deleted");
        w.out.down.lock().unwrap().clear();
        w.clock.advance(2 * HOUR);
        w.app.deliver_due(&w.out).await;
        let ola = all_text(&w.take_dms(OLA));
        assert!(!ola.contains(SECRET) && !ola.contains("Eg har meir å fortelje"), "{}: {ola}", db.label);
        let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
            .fetch_one(w.app.store.pool())
            .await
            .unwrap();
        assert_eq!(kept, 0, "nothing of it waits in the outbox");
        db.cleanup().await;
    }
}

/// Access ends with its reason: a recipient who left the server can no longer act on the
/// report; in a DM the reporter's own server's register is used, never another server's.
#[tokio::test]
async fn a_recipient_who_left_has_no_access_and_a_dm_uses_the_reporters_server() {
    for db in dbs::all().await {
        let w = World::new(db.store.clone(), true).await;
        let (id, _) = w.draft().await;
        w.press(KARI, &format!("rt:{id}:send"), &[]).await;
        assert_eq!(w.take_dms(OLA).len(), 1);
        w.app.member_left(G, OLA).await;
        let o = w.press(OLA, &format!("rt:{id}:export"), &[]).await;
        assert!(text(message(&o)).contains("ikkje til deg"), "{}: {}", db.label, text(message(&o)));
        assert!(w.take_dms(OLA).is_empty(), "no export for someone who left");
        // Another server's admin names themselves Kari's manager there: a report Kari starts in
        // a DM still uses her own server's register.
        let other = Member {
            guild_id: G + 1,
            user_id: INGRID,
            username: "ingrid".into(),
            display_name: "Ingrid".into(),
            roles: vec![],
            is_bot: false,
            present: true,
        };
        w.app.members_seen(&[other]).await;
        let mut tx = w.app.store.begin().await.unwrap();
        tx.set_manager(G + 1, KARI, INGRID, INGRID, START).await.unwrap();
        tx.commit().await.unwrap();
        let o = w.act(KARI, false, cmd("report-threat", &[], vec![])).await;
        let report: i64 = button(message(&o), ":write").split(':').nth(1).unwrap().parse().unwrap();
        let row = w.app.store.report(report).await.unwrap().unwrap();
        assert_eq!((row.guild_id, row.manager_id), (Some(G), None), "{}: not the other server's register", db.label);
        db.cleanup().await;
    }
}
