//! Writing [`Bookkeeping`] off the answer path: the Discord adapter hands each interaction's
//! records to a [`Bookkeeper`] once the answer is sent, and one background task writes them, a
//! batch per transaction. The interaction handlers never wait on these writes, and a burst of
//! questions costs the database one connection and one commit per batch instead of one each.
//!
//! What is queued here is not state anyone waits for (see [`Bookkeeping`]): if the process is
//! killed, at most the records of the last moments are lost.

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::warn;

use crate::core::Bookkeeping;
use crate::App;

/// Records waiting to be written, at most; past this they are written by the caller itself.
const QUEUE: usize = 10_000;
/// Records written in one transaction, at most.
pub const BATCH: usize = 200;

/// The sending side, cloned into every handler.
#[derive(Debug, Clone)]
pub struct Bookkeeper {
    tx: mpsc::Sender<Bookkeeping>,
}

/// The writing task; [`BookkeeperTask::stop`] writes what is queued and ends it.
#[derive(Debug)]
pub struct BookkeeperTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Bookkeeper {
    /// Starts the writer over `app`.
    pub fn start(app: App) -> (Bookkeeper, BookkeeperTask) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(write_loop(app, rx, stop_rx));
        (Bookkeeper { tx }, BookkeeperTask { stop, task })
    }

    /// Queues records for writing. When the queue is full (the database is far behind), the
    /// rest is written by `app` here, so nothing is dropped silently.
    pub async fn submit(&self, app: &App, records: Vec<Bookkeeping>) {
        let mut overflow = Vec::new();
        for r in records {
            match self.tx.try_send(r) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(r) | mpsc::error::TrySendError::Closed(r)) => overflow.push(r),
            }
        }
        if !overflow.is_empty() {
            app.write_bookkeeping(&overflow).await;
        }
    }
}

impl BookkeeperTask {
    /// Writes what is still queued, then ends the task.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            warn!(error = %e, "the bookkeeping writer ended badly");
        }
    }
}

async fn write_loop(app: App, mut rx: mpsc::Receiver<Bookkeeping>, mut stop: watch::Receiver<bool>) {
    loop {
        let first = tokio::select! {
            r = rx.recv() => r,
            _ = stop.changed() => None,
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        app.write_bookkeeping(&batch).await;
    }
    // Stopping: write whatever is left.
    rx.close();
    let mut rest = Vec::new();
    while let Ok(r) = rx.try_recv() {
        rest.push(r);
        if rest.len() == BATCH {
            app.write_bookkeeping(&std::mem::take(&mut rest)).await;
        }
    }
    if !rest.is_empty() {
        app.write_bookkeeping(&rest).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    async fn app() -> App {
        let store = crate::store::Store::open("sqlite::memory:").await.unwrap();
        App::new(store, std::sync::Arc::new(crate::clock::SystemClock))
    }

    fn question(id: i64) -> Bookkeeping {
        Bookkeeping::RecordQuestion {
            id,
            asked_at: 1_000,
            locale: Locale::Nn,
            question: format!("spørsmål {id}"),
            point_ids: vec!["3f".into()],
            declined: false,
            guild_id: None,
        }
    }

    #[tokio::test]
    async fn queued_records_are_written_in_batches_and_flushed_at_stop() {
        let app = app().await;
        let (keeper, task) = Bookkeeper::start(app.clone());
        let mut records: Vec<Bookkeeping> = (1..=450).map(question).collect();
        records.push(Bookkeeping::RememberLocale { user_id: 77, locale: Locale::En });
        keeper.submit(&app, records).await;
        task.stop().await;
        for id in [1, 200, 201, 450] {
            assert!(app.store.question(id).await.unwrap().is_some(), "question {id} written");
        }
        assert_eq!(app.store.question(451).await.unwrap(), None);
        assert!(!app.store.saw_locale(77, Locale::En), "the language was stored");
        // After stopping, the caller writes itself: nothing is lost.
        keeper.submit(&app, vec![question(999)]).await;
        assert!(app.store.question(999).await.unwrap().is_some());
    }
}
