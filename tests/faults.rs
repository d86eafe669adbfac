//! Faults inside the bot: the database going away during a run. Operations fail kindly (an
//! apology with a reference, never internal error text) and nothing is half-written.

mod dbs;

use std::sync::Arc;

use somebot::clock::SystemClock;
use somebot::core::{Actor, CommandInput, Component, Input, OptionValue, Outcome, Reply};
use somebot::i18n::Locale;
use somebot::store::Store;
use somebot::App;

/// An employee in the server, without special rights.
fn employee(user_id: u64) -> Actor {
    Actor {
        user_id,
        guild_id: Some(2),
        channel_id: Some(3),
        locale: Locale::Nn,
        display_name: "Kari".into(),
        can_manage_guild: false,
        role_ids: vec![],
    }
}

/// `/guideline ask question:<text>`.
fn ask(text: &str) -> Input {
    Input::Command(CommandInput {
        name: "guideline".into(),
        subcommand: vec!["ask".into()],
        options: vec![("question".into(), OptionValue::String(text.into()))],
    })
}

/// The question id on an answer's vote buttons.
fn question_id(o: &Outcome) -> i64 {
    let Reply::Message(m) = &o.reply else { panic!("an answer: {o:?}") };
    let vote = m
        .components
        .iter()
        .flatten()
        .find_map(|c| match c {
            Component::Button { custom_id, .. } if custom_id.starts_with("gl:vote:") => Some(custom_id.clone()),
            _ => None,
        })
        .expect("vote buttons");
    vote.split(':').nth(2).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_database_that_goes_away_gets_an_apology_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("f.db").display())).await.unwrap();
    let app = App::new(store.clone(), Arc::new(SystemClock));
    let actor = employee(1);
    let question = ask("Kan eg bruke jobbmailen privat?");
    let ok = app.handle(&actor, question.clone()).await;
    assert!(matches!(&ok.reply, Reply::Message(m) if !m.embeds.is_empty()));

    store.close().await;
    // A question needs no database to be answered: its log entry is written after the answer,
    // and that write failing costs only the entry.
    let answered = app.handle(&actor, question).await;
    assert!(matches!(&answered.reply, Reply::Message(m) if !m.embeds.is_empty()), "{answered:?}");
    // Votes on it need the database: they are refused kindly.
    for input in [
        Input::Command(CommandInput { name: "new-channel".into(), subcommand: vec![], options: vec![] }),
        Input::Component { custom_id: "gl:vote:1:up".into(), values: vec![] },
    ] {
        let o = app.handle(&actor, input).await;
        let Reply::Message(m) = &o.reply else { panic!("an answer") };
        let text = m.content.clone().unwrap_or_default();
        assert!(m.ephemeral && text.contains("E-"), "an apology with a reference: {text}");
        assert!(!text.to_lowercase().contains("pool") && !text.contains("sqlx"), "no internal error text: {text}");
        assert!(o.queued.is_empty() && o.effects.is_empty(), "nothing half-sent");
    }
    // Pure answers that need no database still work.
    let help = app
        .handle(&actor, Input::Command(CommandInput { name: "help".into(), subcommand: vec![], options: vec![] }))
        .await;
    assert!(matches!(&help.reply, Reply::Message(m) if !m.embeds.is_empty()));
}

#[tokio::test]
async fn a_record_the_database_refuses_costs_only_itself() {
    use somebot::core::Bookkeeping;
    for db in dbs::all().await {
        let app = App::new(db.store.clone(), Arc::new(SystemClock));
        let question = |id: i64, text: &str| Bookkeeping::RecordQuestion {
            id,
            asked_at: 1_000,
            locale: Locale::Nn,
            question: text.into(),
            point_ids: vec!["3f".into()],
            declined: false,
            guild_id: None,
        };
        // PostgreSQL refuses a NUL in text, and with it the whole batch's transaction.
        app.write_bookkeeping(&[
            question(1, "Kan eg bruke jobbmailen privat?"),
            question(2, "ei \u{0} null"),
            Bookkeeping::RememberLocale { user_id: 5, locale: Locale::En },
        ])
        .await;
        assert!(db.store.question(1).await.unwrap().is_some(), "{}: the good question is kept", db.label);
        if db.store.backend() == somebot::store::Backend::Postgres {
            assert!(db.store.question(2).await.unwrap().is_none(), "PostgreSQL refused the NUL: the batch failed");
        }
        assert_eq!(Store::connect(&db.url).await.unwrap().locale_of(5).await.unwrap(), Locale::En, "{}", db.label);

        // A typed question is logged without control or invisible characters, on both databases.
        let o = app.handle(&employee(6), ask("Kan eg\u{0} bruke\u{200B} jobbmailen privat?")).await;
        let logged = db.store.question(question_id(&o)).await.unwrap().expect("logged");
        assert_eq!(logged.question, "Kan eg bruke jobbmailen privat?", "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_answer_goes_first_and_a_quick_vote_waits_for_its_question() {
    let db = dbs::sqlite().await;
    let app = App::new(db.store.clone(), Arc::new(SystemClock));
    let o = app.handle_answer_first(&employee(7), ask("Kan eg bruke jobbmailen privat?")).await;
    let id = question_id(&o);
    assert!(db.store.question(id).await.unwrap().is_none(), "nothing is written before the answer");
    assert_eq!(o.after.len(), 2, "the language and the question wait: {:?}", o.after);
    // The employee votes before the log entry is written; it lands 300 ms later.
    let writer = {
        let (app, after) = (app.clone(), o.after.clone());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            app.write_bookkeeping(&after).await;
        })
    };
    let vote = Input::Component { custom_id: format!("gl:vote:{id}:down"), values: vec![] };
    let voted = app.handle(&employee(7), vote).await;
    writer.await.unwrap();
    let Reply::Message(m) = &voted.reply else { panic!("an answer") };
    assert!(!m.content.clone().unwrap_or_default().contains("E-"), "{m:?}");
    assert_eq!(db.store.question(id).await.unwrap().expect("logged").vote, -1, "the vote counted");
    db.cleanup().await;
}
