//! Storage: one sqlx pool over SQLite (default) or PostgreSQL, chosen by `DATABASE_URL`.
//!
//! All SQL is written once, with `$1`-style placeholders that both backends accept, and runs
//! through sqlx's `Any` driver. Times are unix milliseconds (`BIGINT`), Discord ids are `i64`
//! (see [`id`]). Each backend has its own migration folder because DDL differs.

pub mod audit;
pub mod channels;
pub mod directory;
pub mod examples;
pub mod jobs;
pub mod questions;
pub mod reports;
pub mod tx;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names, or `None` when it names neither.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The database handle shared by the whole bot.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Users' languages as this process last saw them (see [`Store::saw_locale`]).
    locales: std::sync::Arc<directory::LocaleCache>,
    /// Write failures injected by fault tests (see [`Store::fail_write`]).
    faults: std::sync::Arc<tx::Faults>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects without migrating. SQLite files are created when missing, run in WAL mode and
    /// enforce foreign keys.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend =
            Backend::of_url(url).with_context(|| "DATABASE_URL must start with sqlite: or postgres://".to_string())?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url).context("invalid database URL")?;
        // SQLite takes one writer at a time; several connections of one process would queue for
        // its lock in SQLite's busy handler, which sleeps in steps of up to 100 ms (the load
        // benchmark showed it in the p99). One connection queues them fairly in the pool instead;
        // every statement is short and none holds a transaction across an await.
        let max = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 10,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;").await?;
                        // WAL lets readers work while one writer writes; ignored for :memory:.
                        // In WAL mode `synchronous = NORMAL` syncs at checkpoints, not at every
                        // commit: a committed step survives the process being killed, but the
                        // last moment's commits can be lost if the machine itself loses power
                        // (see the README).
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .context("could not connect to the database")?;
        Ok(Store { pool, backend, locales: Default::default(), faults: Default::default() })
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations for this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.context("database migration failed")
    }

    /// The applied migration versions, for `somebot check`.
    pub async fn applied_migrations(&self) -> anyhow::Result<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations ORDER BY version").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The number of migrations shipped in this binary for this backend.
    pub fn known_migrations(&self) -> usize {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.iter().count(),
            Backend::Postgres => POSTGRES_MIGRATIONS.iter().count(),
        }
    }

    /// The pool, for the per-aggregate modules.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A database error inside a handler is an internal error (the user sees an apology with a
/// reference). Written here so that the core's error types know nothing of SQL.
impl From<sqlx::Error> for crate::core::errors::HandlerError {
    fn from(e: sqlx::Error) -> Self {
        crate::core::errors::HandlerError::Internal(e.into())
    }
}

/// Discord ids are u64; databases store i64. The mapping is a bit-for-bit reinterpretation so
/// ids above `i64::MAX` (not issued today, but legal) survive the round trip.
pub mod id {
    /// u64 → i64 for storage.
    pub fn to_db(id: u64) -> i64 {
        id as i64
    }

    /// i64 from storage → u64.
    pub fn from_db(v: i64) -> u64 {
        v as u64
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_round_trip() {
        for v in [0u64, 1, 1_234_567_890_123_456_789, u64::MAX] {
            assert_eq!(super::id::from_db(super::id::to_db(v)), v);
        }
    }

    #[test]
    fn backends_are_recognised() {
        use super::Backend;
        assert_eq!(Backend::of_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://u@h/db"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("mysql://x"), None);
    }
}
