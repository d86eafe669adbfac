//! Fresh, migrated databases for tests: SQLite always, and PostgreSQL when
//! `TEST_POSTGRES_URL` is set. Each PostgreSQL test gets a database of its own, created from
//! that server and dropped afterwards. A test that was asked for PostgreSQL and cannot reach it
//! fails loudly; it never passes silently.

#![allow(dead_code)]

use somebot::store::Store;

/// One test database and how to tidy it up.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// Closes the pool and drops a PostgreSQL database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.pg_admin {
            if let Ok(admin) = Store::connect(&admin_url).await {
                let _ =
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(admin.pool()).await;
                admin.close().await;
            }
        }
    }
}

/// A fresh SQLite file database, migrated.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::open(&url).await.expect("open SQLite");
    TestDb { store, url, label: "sqlite", _dir: Some(dir), pg_admin: None }
}

/// A fresh PostgreSQL database on the server named by `TEST_POSTGRES_URL`, or `None` when the
/// variable is unset. Panics when it is set and the server cannot be used.
pub async fn postgres() -> Option<TestDb> {
    let admin_url = std::env::var("TEST_POSTGRES_URL").ok().filter(|v| !v.trim().is_empty())?;
    let admin = Store::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("TEST_POSTGRES_URL is set but PostgreSQL cannot be reached: {e:#}"));
    let name = unique_name();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.pool())
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    admin.close().await;
    let url = replace_db_name(&admin_url, &name);
    let store = Store::open(&url).await.unwrap_or_else(|e| panic!("cannot open {name}: {e:#}"));
    Some(TestDb { store, url, label: "postgres", _dir: None, pg_admin: Some((admin_url, name)) })
}

/// Every backend this run covers: SQLite, plus PostgreSQL when asked for.
pub async fn all() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("somebot_test_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, N.fetch_add(1, Ordering::SeqCst))
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}
