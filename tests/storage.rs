//! Storage tests, run on SQLite always and on PostgreSQL when `TEST_POSTGRES_URL` is set.

mod dbs;

use somebot::store::questions::{new_question_id, AskedQuestion};

#[tokio::test]
async fn migrations_apply_once_and_are_idempotent() {
    for db in dbs::all().await {
        let applied = db.store.applied_migrations().await.unwrap();
        assert_eq!(applied.len(), db.store.known_migrations(), "{}", db.label);
        db.store.migrate().await.expect("second migrate is a no-op");
        assert_eq!(db.store.applied_migrations().await.unwrap(), applied, "{}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn candidate_examples_keep_question_and_point_once() {
    for db in dbs::all().await {
        let s = &db.store;
        let id = new_question_id(5_000);
        assert!(!s.record_candidate(id, "3e", 5_100).await.unwrap(), "{}: not logged yet", db.label);
        s.write_records(
            &[],
            &[AskedQuestion {
                id,
                asked_at: 5_000,
                locale: "en".into(),
                question: "Can I write about my job «æøå»?".into(),
                point_ids: vec!["3e".into(), "3b".into()],
                declined: false,
                vote: 0,
                guild_id: Some(7),
            }],
        )
        .await
        .unwrap();
        assert!(s.record_candidate(id, "3b", 5_200).await.unwrap(), "{}", db.label);
        assert!(s.record_candidate(id, "3b", 5_300).await.unwrap(), "{}: again, recorded once", db.label);
        assert!(s.record_candidate(id, "3d", 5_400).await.unwrap());
        let c = s.candidate_examples(10).await.unwrap();
        let got: Vec<(&str, &str, &str, i64)> =
            c.iter().map(|c| (c.question.as_str(), c.point_id.as_str(), c.locale.as_str(), c.chosen_at)).collect();
        assert_eq!(
            got,
            [
                ("Can I write about my job «æøå»?", "3d", "en", 5_400),
                ("Can I write about my job «æøå»?", "3b", "en", 5_200)
            ],
            "{}",
            db.label
        );
        assert!(c.iter().all(|c| c.question_id == id));
        assert_eq!(s.candidate_examples(1).await.unwrap().len(), 1);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn reviewed_questions_are_kept_per_server_and_leave_the_queue() {
    for db in dbs::all().await {
        let s = &db.store;
        // A Discord id above i64::MAX comes back as it went in.
        let guild = u64::MAX - 41;
        let asked = |id: i64, question: &str, declined: bool, guild_id: Option<u64>| AskedQuestion {
            id,
            asked_at: id,
            locale: "nn".into(),
            question: question.into(),
            point_ids: if declined { vec![] } else { vec!["2d".into()] },
            declined,
            vote: 0,
            guild_id,
        };
        let (picked, declined, in_dm, elsewhere, fine) = (
            new_question_id(1_000),
            new_question_id(2_000),
            new_question_id(3_000),
            new_question_id(4_000),
            new_question_id(5_000),
        );
        s.write_records(
            &[],
            &[
                asked(picked, "Kan eg nemne ein brukar med namn?", false, Some(guild)),
                asked(declined, "Når kjem lønna?", true, Some(guild)),
                asked(in_dm, "Kva er ein hashtag?", true, None),
                asked(elsewhere, "Eit anna spørsmål", true, Some(7)),
                asked(fine, "Kan eg slette kommentarar?", false, Some(guild)),
            ],
        )
        .await
        .unwrap();
        assert_eq!(s.question(picked).await.unwrap().unwrap().guild_id, Some(guild), "{}", db.label);
        assert_eq!(s.question(in_dm).await.unwrap().unwrap().guild_id, None);
        assert!(s.record_candidate(picked, "1.4", 6_000).await.unwrap());
        // Newest first: the DM question (every server's), the declined one, the picked one; the
        // answered and unvoted one and another server's are not in this server's queue.
        assert_eq!(s.review_count(guild, None).await.unwrap(), 3, "{}", db.label);
        assert_eq!(s.review_count(guild, Some(in_dm)).await.unwrap(), 2);
        let first = s.review_next(guild, None).await.unwrap().unwrap();
        assert_eq!(first.question.id, in_dm, "{}", db.label);
        let next = s.review_next(guild, Some(declined)).await.unwrap().unwrap();
        assert_eq!((next.question.id, next.chosen.clone()), (picked, vec!["1.4".to_string()]));
        // Past the oldest, the queue starts again from the newest.
        assert_eq!(s.review_next(guild, Some(picked)).await.unwrap().unwrap().question.id, in_dm);

        let mut tx = s.begin().await.unwrap();
        assert!(tx.confirm_example(guild, picked, &["1.4".into(), "2i".into()], 7_000).await.unwrap());
        assert!(tx.confirm_example(guild, declined, &[], 7_000).await.unwrap());
        assert!(!tx.confirm_example(guild, 12_345, &["1.4".into()], 7_000).await.unwrap(), "not logged");
        tx.commit().await.unwrap();
        // A second review of the same question replaces the first.
        let mut tx = s.begin().await.unwrap();
        tx.confirm_example(guild, picked, &["2i".into()], 8_000).await.unwrap();
        tx.commit().await.unwrap();
        let kept = s.confirmed_examples(guild).await.unwrap();
        let got: Vec<(i64, &str, Vec<String>)> =
            kept.iter().map(|e| (e.question_id, e.question.as_str(), e.point_ids.clone())).collect();
        assert_eq!(
            got,
            [
                (picked, "Kan eg nemne ein brukar med namn?", vec!["2i".to_string()]),
                (declined, "Når kjem lønna?", vec![])
            ],
            "{}",
            db.label
        );
        assert!(s.confirmed_examples(7).await.unwrap().is_empty(), "per server");
        assert_eq!(s.review_count(guild, None).await.unwrap(), 1);
        assert_eq!(s.review_count(7, None).await.unwrap(), 2, "the other server still sees its own and the DM's");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn questions_votes_and_gaps_round_trip() {
    for db in dbs::all().await {
        let s = &db.store;
        let ids = vec!["3f".to_string(), "3b".to_string()];
        let answered = new_question_id(1_000);
        let declined = new_question_id(2_000);
        assert!(answered > 0 && declined > answered, "ids sort by time");
        let asked =
            |id: i64, at: i64, locale: &str, question: &str, point_ids: &[String], declined: bool| AskedQuestion {
                id,
                asked_at: at,
                locale: locale.into(),
                question: question.into(),
                point_ids: point_ids.to_vec(),
                declined,
                vote: 0,
                guild_id: None,
            };
        s.write_records(
            &[(12, somebot::i18n::Locale::En, 1_000)],
            &[
                asked(answered, 1_000, "nn", "Kan eg bruke jobbmailen privat?", &ids, false),
                asked(declined, 2_000, "en", "When is lunch? 🥪 «æøå»", &[], true),
            ],
        )
        .await
        .unwrap();
        assert_eq!(s.locale_of(12).await.unwrap(), somebot::i18n::Locale::En);
        // A taken id is skipped: the first question keeps its text, the batch is not lost.
        s.write_records(&[], &[asked(declined, 3_000, "nn", "again", &[], true)]).await.unwrap();
        assert_eq!(s.question(declined).await.unwrap().unwrap().question, "When is lunch? 🥪 «æøå»");

        let q = s.question(answered).await.unwrap().expect("stored");
        assert_eq!(q.point_ids, ids, "{}", db.label);
        assert!(!q.declined && q.vote == 0);

        // Only declined or down-voted questions are gaps, newest first.
        let gaps = s.question_gaps(10).await.unwrap();
        assert_eq!(gaps.iter().map(|g| g.id).collect::<Vec<_>>(), vec![declined], "{}", db.label);
        assert_eq!(gaps[0].question, "When is lunch? 🥪 «æøå»");

        assert!(s.vote_question(answered, -5).await.unwrap());
        assert_eq!(s.question(answered).await.unwrap().unwrap().vote, -1, "votes are clamped to -1/1");
        let gaps = s.question_gaps(10).await.unwrap();
        assert_eq!(gaps.iter().map(|g| g.id).collect::<Vec<_>>(), vec![declined, answered], "{}", db.label);
        assert_eq!(s.question_gaps(1).await.unwrap().len(), 1);

        assert!(!s.vote_question(999_999, 1).await.unwrap(), "unknown question");
        assert!(s.question(999_999).await.unwrap().is_none());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn postgres_is_really_used_when_asked_for() {
    // When CI asks for PostgreSQL, this proves the suite reached it rather than skipping.
    match dbs::postgres().await {
        Some(db) => {
            assert_eq!(db.store.backend(), somebot::store::Backend::Postgres);
            let (v,): (String,) = sqlx::query_as("SELECT version()").fetch_one(db.store.pool()).await.unwrap();
            assert!(v.starts_with("PostgreSQL"), "{v}");
            db.cleanup().await;
        }
        None => assert!(std::env::var("TEST_POSTGRES_URL").is_err()),
    }
}

#[tokio::test]
async fn a_bad_database_url_is_an_error_not_a_panic() {
    let err = somebot::store::Store::open("postgres://postgres@127.0.0.1:1/nothing").await.unwrap_err();
    assert!(format!("{err:#}").contains("connect"), "{err:#}");
}

#[tokio::test]
async fn members_are_found_by_name_mention_and_role() {
    use somebot::store::directory::Member;
    for db in dbs::all().await {
        let s = &db.store;
        let g = 1u64 << 62;
        let m = |id: u64, name: &str, roles: Vec<u64>| Member {
            guild_id: g,
            user_id: id,
            username: name.to_lowercase().replace(' ', "."),
            display_name: name.into(),
            roles,
            is_bot: false,
            present: true,
        };
        s.upsert_member(&m(u64::MAX - 1, "Kari Nordmann", vec![7]), 1).await.unwrap();
        s.upsert_member(&m(2, "Karin Berg", vec![]), 1).await.unwrap();
        s.upsert_member(&m(3, "Ola Ålesund", vec![7, 8]), 1).await.unwrap();
        let names = |v: Vec<Member>| v.into_iter().map(|m| m.display_name).collect::<Vec<_>>();
        assert_eq!(names(s.find_members(g, "kari").await.unwrap()), ["Kari Nordmann", "Karin Berg"], "{}", db.label);
        assert_eq!(names(s.find_members(g, "Kari Nordmann").await.unwrap()), ["Kari Nordmann"]);
        assert_eq!(names(s.find_members(g, "ålesund").await.unwrap()), ["Ola Ålesund"]);
        assert_eq!(names(s.find_members(g, "<@3>").await.unwrap()), ["Ola Ålesund"]);
        assert_eq!(s.member(g, u64::MAX - 1).await.unwrap().unwrap().roles, [7], "big ids survive");
        assert_eq!(names(s.members_with_role(g, 7).await.unwrap()), ["Kari Nordmann", "Ola Ålesund"]);
        assert!(s.member_left(g, 3, 2).await.unwrap());
        assert!(!s.member_left(g, 3, 3).await.unwrap(), "leaving twice is reported once");
        assert_eq!(names(s.members_with_role(g, 7).await.unwrap()), ["Kari Nordmann"]);
        assert!(s.find_members(g, "  ").await.unwrap().is_empty());

        s.set_setting(g, "communications_role", "7", 2, 10).await.unwrap();
        s.set_setting(g, "communications_role", "8", 3, 11).await.unwrap();
        assert_eq!(s.setting(g, "communications_role").await.unwrap().as_deref(), Some("8"));
        assert_eq!(s.settings(g).await.unwrap(), vec![("communications_role".into(), "8".into(), 3, 11)]);

        use somebot::i18n::Locale;
        s.remember_locale(9, Locale::En, 1).await.unwrap();
        assert_eq!(s.locale_of(9).await.unwrap(), Locale::En);
        assert_eq!(s.locale_of(10).await.unwrap(), Locale::Nn);

        // What an interaction carried is seen at once and stored once, not on every interaction.
        assert!(s.saw_locale(11, Locale::En), "a new user's language needs storing");
        assert_eq!(s.locale_of(11).await.unwrap(), Locale::En, "seen before it is stored");
        s.remember_locale(11, Locale::En, 2).await.unwrap();
        assert!(!s.saw_locale(11, Locale::En), "stored and unchanged: no write");
        assert!(s.saw_locale(11, Locale::Nn), "a change needs storing again");
        assert_eq!(s.locale_of(11).await.unwrap(), Locale::Nn);
        s.remember_locale(11, Locale::Nn, 3).await.unwrap();
        // Another process (a fresh store on the same database) reads what was stored.
        let other = somebot::store::Store::connect(&db.url).await.unwrap();
        assert_eq!(other.locale_of(11).await.unwrap(), Locale::Nn, "{}", db.label);
        other.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn outbox_rows_are_claimed_once_and_retried() {
    use somebot::store::jobs::OutboxTarget;
    for db in dbs::all().await {
        let s = &db.store;
        let mut tx = s.begin().await.unwrap();
        let a = tx.enqueue(OutboxTarget::User(5), "sealed:report", Some("rt:1"), 100).await.unwrap();
        let b = tx.enqueue(OutboxTarget::Channel(6), "sealed:post", None, 100).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(s.outbox_pending().await.unwrap(), 2);
        // Two workers claim at the same moment: each row goes to one of them.
        let (x, y) = tokio::join!(s.claim_outbox(200, 1_000, 10), s.claim_outbox(200, 1_000, 10));
        let mut ids: Vec<i64> = x.unwrap().into_iter().chain(y.unwrap()).map(|i| i.id).collect();
        ids.sort();
        assert_eq!(ids, vec![a, b], "{}", db.label);
        assert!(s.claim_outbox(300, 1_000, 10).await.unwrap().is_empty(), "leased rows are not claimed again");
        s.outbox_sent(b, 300).await.unwrap();
        s.outbox_retry(a, 5_000, "HTTP 502").await.unwrap();
        assert!(s.claim_outbox(4_999, 1_000, 10).await.unwrap().is_empty(), "not before the retry time");
        let again = s.claim_outbox(5_000, 1_000, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].attempts, again[0].on_failure.as_deref()), (2, Some("rt:1")));
        assert_eq!(again[0].target, OutboxTarget::User(5));
        // A lease that runs out (the process died) lets another worker take the row.
        assert_eq!(s.claim_outbox(6_001, 1_000, 10).await.unwrap().len(), 1);
        s.outbox_failed(a, 7_000, "gone").await.unwrap();
        assert_eq!(s.outbox_pending().await.unwrap(), 0);
        assert!(s.claim_outbox_item(a, 8_000, 1_000).await.unwrap().is_none());
        // Neither a sent nor a given-up message keeps its content.
        let kept: Vec<(String,)> =
            sqlx::query_as("SELECT payload FROM outbox WHERE payload <> ''").fetch_all(s.pool()).await.unwrap();
        assert!(kept.is_empty(), "{}: {kept:?}", db.label);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn timers_come_due_once_and_can_be_cancelled() {
    for db in dbs::all().await {
        let s = &db.store;
        s.schedule("nc.remind", 1, 1_000, 0).await.unwrap();
        s.schedule("nc.expire", 1, 5_000, 0).await.unwrap();
        s.schedule("nc.remind", 2, 2_000, 0).await.unwrap();
        assert!(s.claim_timers(999, 100, 10).await.unwrap().is_empty());
        let due = s.claim_timers(2_000, 100, 10).await.unwrap();
        assert_eq!(
            due.iter().map(|t| (t.kind.as_str(), t.subject_id)).collect::<Vec<_>>(),
            [("nc.remind", 1), ("nc.remind", 2)],
            "{}",
            db.label
        );
        assert!(s.claim_timers(2_050, 100, 10).await.unwrap().is_empty(), "claimed timers are leased");
        for t in &due {
            s.finish_timer(t.id, 2_060).await.unwrap();
        }
        assert!(s.claim_timers(3_000, 100, 10).await.unwrap().is_empty(), "finished timers stay done");
        assert_eq!(s.open_timers("nc.expire", 1).await.unwrap(), [5_000]);
        let mut tx = s.begin().await.unwrap();
        assert_eq!(tx.cancel_timers("nc.expire", 1, 3_000).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert!(s.claim_timers(10_000, 100, 10).await.unwrap().is_empty());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_failed_timer_comes_due_again_with_its_failures_counted() {
    for db in dbs::all().await {
        let s = &db.store;
        let id = s.schedule("rt.retention", 7, 1_000, 0).await.unwrap();
        let due = s.claim_timers(1_000, 100, 10).await.unwrap();
        assert_eq!((due[0].id, due[0].attempts), (id, 0), "{}", db.label);
        assert_eq!(s.timer_failed(id, 6_000, "database is locked").await.unwrap(), 1);
        assert!(s.claim_timers(5_999, 100, 10).await.unwrap().is_empty(), "not before the retry time");
        let again = s.claim_timers(6_000, 100, 10).await.unwrap();
        assert_eq!((again[0].id, again[0].attempts), (id, 1), "{}", db.label);
        let (error,): (Option<String>,) =
            sqlx::query_as("SELECT last_error FROM timers WHERE id = $1").bind(id).fetch_one(s.pool()).await.unwrap();
        assert_eq!(error.as_deref(), Some("database is locked"));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_step_that_is_not_committed_leaves_nothing() {
    use somebot::store::jobs::OutboxTarget;
    for db in dbs::all().await {
        let s = &db.store;
        {
            let mut tx = s.begin().await.unwrap();
            tx.schedule("nc.remind", 1, 1_000, 0).await.unwrap();
            tx.enqueue(OutboxTarget::User(5), "sealed:x", None, 0).await.unwrap();
            let request = tx.create_channel_request(1, 9, "{}", 0).await.unwrap();
            tx.log_channel_event(request, 0, 9, "submitted", "").await.unwrap();
            // Dropped without commit: rolled back.
        }
        assert!(s.claim_timers(10_000, 100, 10).await.unwrap().is_empty(), "{}", db.label);
        assert_eq!(s.outbox_pending().await.unwrap(), 0, "{}", db.label);
        assert!(s.channel_requests_in(1, &["draft"]).await.unwrap().is_empty(), "{}", db.label);
        // An injected failure at the second write makes the step fail; the first write is gone.
        s.fail_write(2);
        let mut tx = s.begin().await.unwrap();
        tx.schedule("nc.remind", 1, 1_000, 0).await.unwrap();
        assert!(tx.enqueue(OutboxTarget::User(5), "sealed:x", None, 0).await.is_err());
        drop(tx);
        assert!(!s.write_failure_pending());
        assert!(s.claim_timers(10_000, 100, 10).await.unwrap().is_empty(), "{}", db.label);
        db.cleanup().await;
    }
}
