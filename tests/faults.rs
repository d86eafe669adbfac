//! Faults inside the bot: the database going away during a run. Operations fail kindly (an
//! apology with a reference, never internal error text) and nothing is half-written.

mod dbs;

use std::sync::Arc;

use somebot::clock::SystemClock;
use somebot::core::{Actor, CommandInput, Input, OptionValue, Reply};
use somebot::i18n::Locale;
use somebot::store::Store;
use somebot::App;

#[tokio::test]
async fn a_database_that_goes_away_gets_an_apology_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("f.db").display())).await.unwrap();
    let app = App::new(store.clone(), Arc::new(SystemClock));
    let actor = Actor {
        user_id: 1,
        guild_id: Some(2),
        channel_id: Some(3),
        locale: Locale::Nn,
        display_name: "Kari".into(),
        can_manage_guild: false,
        role_ids: vec![],
    };
    let ask = Input::Command(CommandInput {
        name: "guideline".into(),
        subcommand: vec!["ask".into()],
        options: vec![("question".into(), OptionValue::String("Kan eg bruke jobbmailen privat?".into()))],
    });
    let ok = app.handle(&actor, ask.clone()).await;
    assert!(matches!(&ok.reply, Reply::Message(m) if !m.embeds.is_empty()));

    store.close().await;
    // A question needs no database to be answered: its log entry is written after the answer,
    // and that write failing costs only the entry.
    let answered = app.handle(&actor, ask).await;
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
        let actor = Actor {
            user_id: 6,
            guild_id: Some(2),
            channel_id: Some(3),
            locale: Locale::Nn,
            display_name: "Kari".into(),
            can_manage_guild: false,
            role_ids: vec![],
        };
        let ask = Input::Command(CommandInput {
            name: "guideline".into(),
            subcommand: vec!["ask".into()],
            options: vec![(
                "question".into(),
                OptionValue::String("Kan eg\u{0} bruke\u{200B} jobbmailen privat?".into()),
            )],
        });
        let o = app.handle(&actor, ask).await;
        let Reply::Message(m) = &o.reply else { panic!("an answer") };
        let vote = m
            .components
            .iter()
            .flatten()
            .find_map(|c| match c {
                somebot::core::Component::Button { custom_id, .. } if custom_id.starts_with("gl:vote:") => {
                    Some(custom_id.clone())
                }
                _ => None,
            })
            .expect("vote buttons");
        let id: i64 = vote.split(':').nth(2).unwrap().parse().unwrap();
        let logged = db.store.question(id).await.unwrap().expect("logged");
        assert_eq!(logged.question, "Kan eg bruke jobbmailen privat?", "{}", db.label);
        db.cleanup().await;
    }
}
