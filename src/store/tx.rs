//! One step, one transaction: [`Tx`] is the only way the bot writes the state of a feature. A
//! step opens one with [`Store::begin`], makes every write of the step through it (the state
//! with its compare-and-set, audit events, timers, outbox rows) and commits once; dropping it
//! without committing rolls everything back. The write methods live next to their tables (in
//! `channels.rs`, `reports.rs`, `jobs.rs`, ...) as `impl Tx` blocks.
//!
//! On SQLite the pool has one connection, and an open transaction holds it: read everything a
//! step needs before [`Store::begin`], never through the [`Store`] while a [`Tx`] is open.
//!
//! Tests can make the n-th write from now fail ([`Store::fail_write`]) to show that a step is
//! written whole or not at all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sqlx::{Any, AnyConnection, Transaction};

use super::Store;

/// The injected write failure of a store (tests only; off unless [`Store::fail_write`] is called).
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Writes made through transactions so far.
    writes: AtomicUsize,
    /// The write number that fails; 0 when none.
    fail_at: AtomicUsize,
}

impl Faults {
    /// Counts one write (or commit) and fails it when it is the chosen one.
    fn write(&self) -> sqlx::Result<()> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at.load(Ordering::SeqCst) == n {
            self.fail_at.store(0, Ordering::SeqCst);
            return Err(sqlx::Error::Protocol(format!("injected failure at write {n}")));
        }
        Ok(())
    }
}

/// An open transaction: every write of one step.
pub struct Tx {
    tx: Transaction<'static, Any>,
    faults: Arc<Faults>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}

impl Store {
    /// Opens the transaction of one step.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(Tx { tx: self.pool().begin().await?, faults: self.faults.clone() })
    }

    /// Makes the `n`-th transactional write (or commit) from now fail once, with a database
    /// error (`n` = 1 is the next one; 0 clears a failure not yet made). For fault tests.
    #[doc(hidden)]
    pub fn fail_write(&self, n: usize) {
        let now = self.faults.writes.load(Ordering::SeqCst);
        self.faults.fail_at.store(if n == 0 { 0 } else { now + n }, Ordering::SeqCst);
    }

    /// Whether a failure set with [`Store::fail_write`] has not happened yet (the step made
    /// fewer writes than that).
    #[doc(hidden)]
    pub fn write_failure_pending(&self) -> bool {
        self.faults.fail_at.load(Ordering::SeqCst) != 0
    }

    /// Writes made through transactions so far (fault tests count a step's writes with it).
    #[doc(hidden)]
    pub fn writes_so_far(&self) -> usize {
        self.faults.writes.load(Ordering::SeqCst)
    }
}

impl Tx {
    /// The connection for the next write (each call is one write for fault injection).
    pub(super) fn conn(&mut self) -> sqlx::Result<&mut AnyConnection> {
        self.faults.write()?;
        Ok(&mut self.tx)
    }

    /// Commits every write of the step.
    pub async fn commit(self) -> sqlx::Result<()> {
        self.faults.write()?;
        self.tx.commit().await
    }
}
