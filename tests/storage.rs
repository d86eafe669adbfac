//! Storage tests, run on SQLite always and on PostgreSQL when `TEST_POSTGRES_URL` is set.

mod dbs;

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
async fn questions_votes_and_gaps_round_trip() {
    for db in dbs::all().await {
        let s = &db.store;
        let ids = vec!["3f".to_string(), "3b".to_string()];
        let answered = s.record_question(1_000, "nn", "Kan eg bruke jobbmailen privat?", &ids, false).await.unwrap();
        let declined = s.record_question(2_000, "en", "When is lunch? 🥪 «æøå»", &[], true).await.unwrap();
        assert_ne!(answered, declined);

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
