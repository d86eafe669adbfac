//! Who may do what: every decision button, report button and admin command tried by each kind
//! of user (requester, department head, communications officer, line manager, alternate
//! recipient, admin, unrelated employee, a user of another server). Only the allowed act;
//! for everyone else the answer is a private refusal and nothing changes.

mod common;
mod dbs;

use common::{button, cmd};

use std::sync::Arc;

use somebot::clock::ManualClock;
use somebot::core::{Actor, Input, Message, OptionValue, Outcome, Reply};
use somebot::i18n::Locale;
use somebot::store::directory::Member;
use somebot::App;

const G: u64 = 9_000;
const OTHER_GUILD: u64 = 8_888;
const KARI: u64 = 9_001; // requester and reporter
const OLA: u64 = 9_002; // department head
const INGRID: u64 = 9_003; // communications officer
const MARI: u64 = 9_004; // Kari's line manager
const PER: u64 = 9_005; // alternate recipient
const ADMIN: u64 = 9_006;
const LARS: u64 = 9_007; // unrelated employee
const FOREIGN: u64 = 9_999; // someone from another server
const OFFICERS: u64 = 9_100;
const EVERYONE: [u64; 8] = [KARI, OLA, INGRID, MARI, PER, ADMIN, LARS, FOREIGN];

fn actor(user: u64, in_guild: bool) -> Actor {
    Actor {
        user_id: user,
        guild_id: in_guild.then_some(if user == FOREIGN { OTHER_GUILD } else { G }),
        channel_id: Some(1),
        locale: Locale::Nn,
        display_name: format!("user {user}"),
        can_manage_guild: user == ADMIN || user == FOREIGN,
        role_ids: if user == INGRID && in_guild { vec![OFFICERS] } else { vec![] },
    }
}

fn press(custom_id: &str) -> Input {
    Input::Component { custom_id: custom_id.into(), values: vec![] }
}

fn message(o: &Outcome) -> Message {
    match &o.reply {
        Reply::Message(m) | Reply::Update(m) => m.clone(),
        Reply::Modal(_) => Message::text("(a form)"),
        other => panic!("unexpected {other:?}"),
    }
}

struct T {
    app: App,
}

impl T {
    async fn run(&self, who: u64, in_guild: bool, input: Input) -> Outcome {
        self.app.handle(&actor(who, in_guild), input).await
    }

    /// Asserts that everyone but `allowed` is refused privately and the state (read by
    /// `state`) stays the same.
    async fn only<F, Fut>(&self, what: &str, allowed: &[u64], in_guild: bool, input: Input, state: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = String>,
    {
        for who in EVERYONE.iter().filter(|u| !allowed.contains(u)) {
            let before = state().await;
            let o = self.run(*who, in_guild, input.clone()).await;
            let m = message(&o);
            assert!(m.ephemeral, "{what}: the refusal to {who} is private");
            assert!(
                m.embeds.is_empty() && m.components.is_empty(),
                "{what}: {who} was shown more than a refusal: {m:?}"
            );
            assert!(!matches!(o.reply, Reply::Modal(_)), "{what}: {who} got the form");
            assert!(o.effects.is_empty(), "{what}: {who} caused effects");
            assert_eq!(state().await, before, "{what}: {who} changed something");
        }
    }
}

#[tokio::test]
async fn only_the_addressed_people_act() {
    let db = dbs::sqlite().await;
    let app = App::new(db.store.clone(), Arc::new(ManualClock::at(1_795_392_000_000)));
    let people = [
        (KARI, "Kari Nordmann"),
        (OLA, "Ola Hansen"),
        (INGRID, "Ingrid Berg"),
        (MARI, "Mari Leiar"),
        (PER, "Per Vik"),
        (ADMIN, "Arne Admin"),
        (LARS, "Lars Lund"),
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
    let t = T { app };
    let store = db.store.clone();

    // Admin commands: only Manage Server in this server.
    t.run(ADMIN, true, cmd("setup", &["communications-role"], vec![("role", OptionValue::Role(OFFICERS))])).await;
    t.run(
        ADMIN,
        true,
        cmd("setup", &["manager"], vec![("employee", OptionValue::User(KARI)), ("manager", OptionValue::User(MARI))]),
    )
    .await;
    t.run(ADMIN, true, cmd("setup", &["alternate"], vec![("user", OptionValue::User(PER))])).await;
    let settings = || async { format!("{:?}", store.settings(G).await.unwrap()) };
    for input in [
        cmd("setup", &["communications-role"], vec![("role", OptionValue::Role(1))]),
        cmd("setup", &["manager"], vec![("employee", OptionValue::User(KARI)), ("manager", OptionValue::User(LARS))]),
    ] {
        // The foreign admin manages another server, not this one.
        t.only("setup", &[ADMIN, FOREIGN], true, input, settings).await;
    }
    assert_eq!(store.manager_of(G, KARI).await.unwrap().map(|m| m.1), Some(MARI));

    // A channel request, submitted to the head.
    let o = t.run(KARI, true, cmd("new-channel", &[], vec![])).await;
    assert!(message(&o).ephemeral);
    let id = store.channel_requests_of(KARI, &["draft"]).await.unwrap()[0].id;
    t.run(KARI, false, Input::Component { custom_id: format!("nc:{id}:choose"), values: vec!["facebook".into()] })
        .await;
    for a in ["Volda bibliotek", "Biblioteket", "Fleire lånarar", "Vaksne i Volda", "Vi svarar kvar dag"] {
        t.run(KARI, false, Input::DirectMessage { text: a.into() }).await;
    }
    for _ in 0..2 {
        t.run(KARI, false, press(&format!("nc:{id}:yes"))).await;
        t.run(KARI, false, Input::DirectMessage { text: "Vi har faste rutinar for dette".into() }).await;
    }
    t.run(KARI, false, Input::DirectMessage { text: "To timar i veka".into() }).await;
    t.run(KARI, false, Input::DirectMessage { text: "Kari Nordmann, Lars Lund".into() }).await;
    t.run(KARI, false, press(&format!("nc:{id}:confirm"))).await;
    t.run(KARI, false, press(&format!("nc:{id}:confirm"))).await;
    t.run(KARI, false, Input::DirectMessage { text: "Ola Hansen".into() }).await;
    let status = || async { store.channel_request(id).await.unwrap().unwrap().status };
    t.only("submit", &[KARI], false, press(&format!("nc:{id}:submit")), status).await;
    t.run(KARI, false, press(&format!("nc:{id}:submit"))).await;
    assert_eq!(status().await, "awaiting_head");
    let reference = store.channel_request(id).await.unwrap().unwrap().reference.unwrap();

    for decision in ["head-approve", "head-decline"] {
        t.only(decision, &[OLA], false, press(&format!("nca:{id}:{decision}")), status).await;
    }
    t.run(OLA, false, press(&format!("nca:{id}:head-approve"))).await;
    assert_eq!(status().await, "awaiting_officer");
    for decision in ["off-approve", "off-reject", "off-changes"] {
        t.only(decision, &[INGRID], false, press(&format!("nca:{id}:{decision}")), status).await;
        t.only(decision, &[INGRID], true, press(&format!("nca:{id}:{decision}")), status).await;
    }
    t.only(
        "reason form",
        &[INGRID],
        false,
        Input::ModalSubmit {
            custom_id: format!("ncm:{id}:off-reject"),
            fields: vec![("reason".into(), "Nei takk".into())],
        },
        status,
    )
    .await;
    t.run(INGRID, true, press(&format!("nca:{id}:off-approve"))).await;
    assert_eq!(status().await, "approved");

    // The history is for the people involved and the admins; retiring for the officers.
    let history = cmd("channels", &["request"], vec![("reference", OptionValue::String(reference.clone()))]);
    t.only("history", &[KARI, OLA, INGRID, ADMIN], true, history.clone(), status).await;
    for who in [KARI, OLA, INGRID, ADMIN] {
        assert!(!message(&t.run(who, true, history.clone()).await).embeds.is_empty(), "{who} sees the history");
    }
    let retire = cmd("channels", &["retire"], vec![("reference", OptionValue::String(reference.clone()))]);
    t.only("retire", &[INGRID], true, retire, status).await;

    // A threat report, sent to Kari's manager.
    let o = t.run(KARI, true, cmd("report-threat", &[], vec![])).await;
    let write = button(&message(&o), ":write");
    let rid: i64 = write.split(':').nth(1).unwrap().parse().unwrap();
    let Reply::Modal(form) = t.run(KARI, true, press(&write)).await.reply else { panic!("the form") };
    let fields = [
        ("what", "Ein forelder truga meg i ein kommentar"),
        ("where", "Facebook"),
        ("when", "i går"),
        ("ongoing", "ja"),
    ];
    t.run(
        KARI,
        true,
        Input::ModalSubmit {
            custom_id: form.custom_id,
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        },
    )
    .await;
    let report_state = || async {
        let r = store.report(rid).await.unwrap().unwrap();
        format!("{} {:?} {}", r.status, r.recipient_id, r.version)
    };
    t.only("send", &[KARI], false, press(&format!("rt:{rid}:send")), report_state).await;
    t.run(KARI, false, press(&format!("rt:{rid}:send"))).await;
    assert!(report_state().await.starts_with("sent"));
    t.only("ack", &[MARI], false, press(&format!("rt:{rid}:ack")), report_state).await;
    t.only("handle", &[MARI], false, press(&format!("rt:{rid}:handle")), report_state).await;
    t.only("reply", &[KARI, MARI], false, press(&format!("rt:{rid}:reply")), report_state).await;
    t.only("export", &[KARI, MARI], false, press(&format!("rt:{rid}:export")), report_state).await;
    t.only("delete", &[KARI], false, press(&format!("rt:{rid}:delete")), report_state).await;
    t.run(MARI, false, press(&format!("rt:{rid}:ack"))).await;
    assert!(report_state().await.starts_with("acknowledged"));
    db.cleanup().await;
}
