//! `/healthz` and Prometheus metrics on an optional local port (`SOMEBOT_METRICS_ADDR`):
//! interactions by kind, command and outcome, handling time, deliveries, escalations, and the
//! outbox backlog. A small hand-written HTTP/1.1 responder is enough for two GET routes and
//! keeps a web framework out of the binary.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use once_cell::sync::Lazy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::store::Store;

/// Upper bounds (seconds) of the handling-time histogram.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    interactions: Mutex<BTreeMap<(String, String, String), u64>>,
    handling: Mutex<BTreeMap<String, Histogram>>,
    deliveries_sent: AtomicU64,
    deliveries_retried: AtomicU64,
    deliveries_failed: AtomicU64,
    escalations: Mutex<BTreeMap<String, u64>>,
    timers_ran: AtomicU64,
    timers_failed: AtomicU64,
}

static METRICS: Lazy<Metrics> = Lazy::new(Metrics::default);

/// The global metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    /// One interaction answered (`outcome`: answered, deferred, failed) after `elapsed`.
    pub fn interaction(&self, kind: &str, name: &str, outcome: &str, elapsed: Duration) {
        if let Ok(mut m) = self.interactions.lock() {
            *m.entry((kind.to_string(), name.to_string(), outcome.to_string())).or_default() += 1;
        }
        if let Ok(mut h) = self.handling.lock() {
            let h = h.entry(kind.to_string()).or_default();
            let secs = elapsed.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// A delivery attempt's result: `sent`, `retried` or `failed`.
    pub fn delivery(&self, result: &str) {
        let c = match result {
            "sent" => &self.deliveries_sent,
            "retried" => &self.deliveries_retried,
            _ => &self.deliveries_failed,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A timer run's result: `ran` or `failed` (it will be retried).
    pub fn timer(&self, result: &str) {
        let c = if result == "ran" { &self.timers_ran } else { &self.timers_failed };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// An escalation (`channel-head`, `channel-officers`, `report-reroute`).
    pub fn escalation(&self, what: &str) {
        if let Ok(mut m) = self.escalations.lock() {
            *m.entry(what.to_string()).or_default() += 1;
        }
    }

    /// The Prometheus text exposition, with the outbox backlog read from the database.
    pub fn render(&self, pending: Option<i64>) -> String {
        let mut out = String::new();
        out.push_str("# HELP somebot_interactions_total Interactions handled, by kind, command and outcome.\n");
        out.push_str("# TYPE somebot_interactions_total counter\n");
        if let Ok(m) = self.interactions.lock() {
            for ((kind, name, outcome), n) in m.iter() {
                out.push_str(&format!(
                    "somebot_interactions_total{{kind=\"{}\",name=\"{}\",outcome=\"{}\"}} {n}\n",
                    label(kind),
                    label(name),
                    label(outcome)
                ));
            }
        }
        out.push_str("# HELP somebot_interaction_seconds Time from receiving an interaction to answering it.\n");
        out.push_str("# TYPE somebot_interaction_seconds histogram\n");
        if let Ok(h) = self.handling.lock() {
            for (kind, h) in h.iter() {
                let kind = label(kind);
                for (i, b) in BUCKETS.iter().enumerate() {
                    out.push_str(&format!(
                        "somebot_interaction_seconds_bucket{{kind=\"{kind}\",le=\"{b}\"}} {}\n",
                        h.counts[i]
                    ));
                }
                out.push_str(&format!(
                    "somebot_interaction_seconds_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {}\n",
                    h.count
                ));
                out.push_str(&format!("somebot_interaction_seconds_sum{{kind=\"{kind}\"}} {}\n", h.sum));
                out.push_str(&format!("somebot_interaction_seconds_count{{kind=\"{kind}\"}} {}\n", h.count));
            }
        }
        out.push_str("# HELP somebot_deliveries_total Delivery attempts of stored messages, by result.\n");
        out.push_str("# TYPE somebot_deliveries_total counter\n");
        for (r, c) in [
            ("sent", &self.deliveries_sent),
            ("retried", &self.deliveries_retried),
            ("failed", &self.deliveries_failed),
        ] {
            out.push_str(&format!("somebot_deliveries_total{{result=\"{r}\"}} {}\n", c.load(Ordering::Relaxed)));
        }
        out.push_str("# HELP somebot_timers_total Timer runs, by result (a failed one is retried).\n");
        out.push_str("# TYPE somebot_timers_total counter\n");
        for (r, c) in [("ran", &self.timers_ran), ("failed", &self.timers_failed)] {
            out.push_str(&format!("somebot_timers_total{{result=\"{r}\"}} {}\n", c.load(Ordering::Relaxed)));
        }
        out.push_str("# HELP somebot_escalations_total Escalations and reroutes, by kind.\n");
        out.push_str("# TYPE somebot_escalations_total counter\n");
        if let Ok(m) = self.escalations.lock() {
            for (what, n) in m.iter() {
                out.push_str(&format!("somebot_escalations_total{{kind=\"{}\"}} {n}\n", label(what)));
            }
        }
        if let Some(p) = pending {
            out.push_str("# HELP somebot_deliveries_pending Stored messages not yet delivered.\n");
            out.push_str("# TYPE somebot_deliveries_pending gauge\n");
            out.push_str(&format!("somebot_deliveries_pending {p}\n"));
        }
        out
    }
}

/// Label values are our own words; escape anyway, as the format requires.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Binds the metrics port; returns the listener and its address (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves `/healthz` and `/metrics` until the task is dropped.
pub async fn serve(listener: TcpListener, store: Store) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let store = store.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), answer(stream, &store)).await;
        });
    }
}

async fn answer(mut stream: TcpStream, store: &Store) -> std::io::Result<()> {
    let mut buf = [0u8; 2048];
    let n = stream.read(&mut buf).await?;
    let request = String::from_utf8_lossy(&buf[..n]);
    let path = request.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("");
    let (status, body) = match path {
        "/healthz" => match sqlx::query("SELECT 1").execute(store.pool()).await {
            Ok(_) => ("200 OK", "ok\n".to_string()),
            Err(_) => ("503 Service Unavailable", "database unavailable\n".to_string()),
        },
        "/metrics" => ("200 OK", global().render(store.outbox_pending().await.ok())),
        _ => ("404 Not Found", "not found\n".to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// `somebot healthcheck`: GET /healthz on the local metrics port; true when it answers 200.
pub async fn probe(addr: SocketAddr) -> bool {
    let target = if addr.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };
    let attempt = async {
        let mut s = TcpStream::connect(target).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok::<bool, std::io::Error>(out.starts_with(b"HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(Duration::from_secs(5), attempt).await, Ok(Ok(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.interaction("command", "help", "answered", Duration::from_millis(7));
        m.interaction("command", "help", "answered", Duration::from_millis(300));
        m.delivery("sent");
        m.escalation("channel-head");
        let text = m.render(Some(3));
        assert!(text.contains("somebot_interactions_total{kind=\"command\",name=\"help\",outcome=\"answered\"} 2"));
        assert!(text.contains("somebot_interaction_seconds_bucket{kind=\"command\",le=\"0.01\"} 1"));
        assert!(text.contains("somebot_interaction_seconds_bucket{kind=\"command\",le=\"0.5\"} 2"));
        assert!(text.contains("somebot_interaction_seconds_count{kind=\"command\"} 2"));
        assert!(text.contains("somebot_deliveries_total{result=\"sent\"} 1"));
        assert!(text.contains("somebot_escalations_total{kind=\"channel-head\"} 1"));
        assert!(text.contains("somebot_deliveries_pending 3"));
        assert_eq!(label("a\"b"), "a\\\"b");
    }
}
