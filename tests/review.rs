//! `/guideline review` through the app, on both databases: the communications officers go
//! through voted-down, declined and chooser-picked questions one at a time; a confirmed point
//! changes the answer to that question in their server at once (and only there); a question
//! marked out of scope leaves the queue and joins the memory as out of scope; everybody else is
//! refused.

mod common;
mod dbs;

use std::sync::Arc;

use common::{button, cmd, message, text};
use somebot::clock::ManualClock;
use somebot::core::{Actor, Component, Input, OptionValue, Outcome, Reply};
use somebot::i18n::{t, Locale};
use somebot::App;

const G: u64 = 9_000;
const OTHER: u64 = 9_001;
const OFFICERS: u64 = 9_100;
const KARI: u64 = 9_010;
const INGRID: u64 = 9_011;
const ADMIN: u64 = 9_012;

fn actor(user: u64, guild: u64) -> Actor {
    Actor {
        user_id: user,
        guild_id: Some(guild),
        channel_id: Some(guild + 1),
        locale: Locale::Nn,
        display_name: format!("user {user}"),
        can_manage_guild: user == ADMIN,
        role_ids: if user == INGRID { vec![OFFICERS] } else { vec![] },
    }
}

fn ask(q: &str) -> Input {
    cmd("guideline", &["ask"], vec![("question", OptionValue::String(q.into()))])
}

fn review() -> Input {
    cmd("guideline", &["review"], vec![])
}

fn press(id: &str, values: &[&str]) -> Input {
    Input::Component { custom_id: id.into(), values: values.iter().map(|v| v.to_string()).collect() }
}

/// The points an answer shows, best first (from its share button: `gl:share:<lang>:<points>`),
/// or none when it declined.
fn answered(o: &Outcome) -> Vec<String> {
    let m = message(o);
    m.components
        .iter()
        .flatten()
        .find_map(|c| c.custom_id().strip_prefix("gl:share:nn:").map(|p| p.split(',').map(str::to_string).collect()))
        .unwrap_or_default()
}

/// The first component whose id starts with `prefix`.
fn starting(m: &somebot::core::Message, prefix: &str) -> String {
    m.components
        .iter()
        .flatten()
        .map(Component::custom_id)
        .find(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no component {prefix}… in {m:?}"))
        .to_string()
}

fn updated(o: &Outcome) -> &somebot::core::Message {
    match &o.reply {
        Reply::Update(m) => m,
        other => panic!("the review message updated, got {other:?}"),
    }
}

#[tokio::test]
async fn an_officer_teaches_the_answer_and_it_changes_at_once() {
    let question = "Kan eg bruke namnet til ein brukar i eit innlegg?";
    // Not about social media, yet answered (wrongly) before the review.
    let out_of_scope = "Må eg ha på meg namneskilt på jobb?";
    for db in dbs::all().await {
        let label = db.label;
        let clock = ManualClock::at(1_795_392_000_000);
        let app = App::new(db.store.clone(), Arc::new(clock.clone()));
        app.handle(
            &actor(ADMIN, G),
            cmd("setup", &["communications-role"], vec![("role", OptionValue::Role(OFFICERS))]),
        )
        .await;

        // Kari asks, and finds the answer not helpful.
        let first = app.handle(&actor(KARI, G), ask(question)).await;
        let before = answered(&first);
        assert!(!before.is_empty(), "{label}: answered at first: {first:?}");
        // The point the officer will confirm: one the answer did not lead with.
        let right = if before[0] == "1.4" { "2i" } else { "1.4" };
        let down = app.handle(&actor(KARI, G), press(&button(message(&first), ":down"), &[])).await;
        assert!(text(message(&down)).contains(&t(Locale::Nn, "guideline.thanks-down", &[])));
        clock.advance(1_000);
        let second = app.handle(&actor(KARI, G), ask(out_of_scope)).await;
        assert!(!answered(&second).is_empty(), "{label}: answered at first: {second:?}");
        let down2 = button(message(&second), ":down");
        app.handle(&actor(KARI, G), press(&down2, &[])).await;
        clock.advance(1_000);

        // Kari may not review, in the server or in a DM.
        let refused = app.handle(&actor(KARI, G), review()).await;
        assert!(text(message(&refused)).contains(&t(Locale::Nn, "guideline.review-not-officer", &[])), "{label}");
        let dm = Actor { guild_id: None, ..actor(INGRID, G) };
        let o = app.handle(&dm, review()).await;
        assert!(text(message(&o)).contains(&t(Locale::Nn, "guideline.review-in-server", &[])), "{label}");

        // The officer sees the newest first: the second question, with why it waits.
        let o = app.handle(&actor(INGRID, G), review()).await;
        let m = message(&o).clone();
        assert!(m.ephemeral, "{label}");
        let said = text(&m);
        assert!(said.contains(out_of_scope), "{label}: {said}");
        assert!(said.contains(&t(Locale::Nn, "guideline.review-title", &[("count", "2")])), "{label}: {said}");
        // Skip: the first question comes next, and the skipped one stays in the queue.
        let o = app.handle(&actor(INGRID, G), press(&starting(&m, "gl:rv-skip:"), &[])).await;
        let m = updated(&o).clone();
        let said = text(&m);
        assert!(said.contains(question), "{label}: {said}");
        let points = before.join(", ");
        assert!(said.contains(&t(Locale::Nn, "guideline.review-voted-down", &[("points", &points)])), "{said}");
        let selects: Vec<&Component> =
            m.components.iter().flatten().filter(|c| matches!(c, Component::StringSelect { .. })).collect();
        assert_eq!(selects.len(), 3, "{label}: one menu per section");
        assert!(m.check_limits().is_empty(), "{:?}", m.check_limits());
        let section = somebot::guideline::GuidelineDoc::official().point(right).unwrap().section.clone();
        let menu = starting(&m, "gl:rv-points:");
        let menu = menu.rsplit_once(':').map(|(q, _)| format!("{q}:{section}")).unwrap();
        assert_eq!(button(&m, &format!(":{section}")), menu);

        // Kari cannot press the officer's menu either; a point of another section is stale.
        let o = app.handle(&actor(KARI, G), press(&menu, &[right])).await;
        assert!(text(message(&o)).contains(&t(Locale::Nn, "guideline.review-not-officer", &[])), "{label}");
        let o = app.handle(&actor(INGRID, G), press(&menu, &["3h"])).await;
        assert!(text(message(&o)).contains(&t(Locale::Nn, "common.expired", &[])), "{label}");
        assert!(db.store.confirmed_examples(G).await.unwrap().is_empty(), "{label}");

        // The officer confirms the right point: saved, and the skipped question comes next.
        let o = app.handle(&actor(INGRID, G), press(&menu, &[right])).await;
        let m = updated(&o).clone();
        let said = text(&m);
        assert!(said.contains(&t(Locale::Nn, "guideline.review-confirmed", &[("points", right)])), "{said}");
        assert!(said.contains(out_of_scope), "{label}: {said}");
        assert!(said.contains(&t(Locale::Nn, "guideline.review-title", &[("count", "1")])), "{label}: {said}");
        let kept = db.store.confirmed_examples(G).await.unwrap();
        assert_eq!(kept.len(), 1, "{label}");
        assert_eq!((kept[0].question.as_str(), kept[0].point_ids.clone()), (question, vec![right.to_string()]));

        // Asked again in the server, the answer leads with the confirmed point; in another
        // server it is what it was.
        let again = app.handle(&actor(KARI, G), ask(question)).await;
        assert_eq!(answered(&again).first().map(String::as_str), Some(right), "{label}: {again:?}");
        let elsewhere = app.handle(&actor(KARI, OTHER), ask(question)).await;
        assert_eq!(answered(&elsewhere), before, "{label}: another server's answer is its own");

        // The other question is marked out of scope: it leaves the queue, and asked again it is
        // declined.
        let o = app.handle(&actor(INGRID, G), press(&starting(&m, "gl:rv-out:"), &[])).await;
        let said = text(updated(&o));
        assert!(said.contains(&t(Locale::Nn, "guideline.review-marked-out", &[])), "{label}: {said}");
        assert!(said.contains(&t(Locale::Nn, "guideline.review-empty", &[])), "{label}: {said}");
        let kept = db.store.confirmed_examples(G).await.unwrap();
        assert_eq!(kept.len(), 2);
        assert!(kept[1].point_ids.is_empty(), "{label}: out of scope has no points");
        let again = app.handle(&actor(KARI, G), ask(out_of_scope)).await;
        assert!(answered(&again).is_empty(), "{label}: declined now: {again:?}");
        let o = app.handle(&actor(INGRID, G), review()).await;
        assert!(text(message(&o)).contains(&t(Locale::Nn, "guideline.review-empty", &[])), "{label}");

        // An admin with Manage Server may review as well; another server's officers have their
        // own queue (the questions were asked in this one).
        let o = app.handle(&actor(ADMIN, G), review()).await;
        assert!(!text(message(&o)).contains(&t(Locale::Nn, "guideline.review-not-officer", &[])), "{label}");
        assert_eq!(db.store.review_count(OTHER, None).await.unwrap(), 0, "{label}");
        db.cleanup().await;
    }
}
