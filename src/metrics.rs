//! `/healthz` and Prometheus metrics on an optional local port (`SOMEBOT_METRICS_ADDR`):
//! interactions by kind, command and outcome, handling time, deliveries, escalations, and the
//! outbox backlog. axum serves the two routes; the `prometheus` crate keeps the counters and
//! histograms and writes its text format; `somebot healthcheck` asks `/healthz` with reqwest.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use once_cell::sync::Lazy;
use prometheus::core::Collector;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;

use crate::store::Store;

/// Upper bounds (seconds) of the handling-time histogram.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The results a delivery attempt is counted under; each is exported from the start, at 0.
const DELIVERY_RESULTS: [&str; 3] = ["sent", "retried", "failed"];

/// The results a timer run is counted under (a failed one is retried), exported from the start.
const TIMER_RESULTS: [&str; 2] = ["ran", "failed"];

/// How long `/healthz` and `/metrics` wait for the database before answering without it.
const DATABASE_WAIT: Duration = Duration::from_secs(3);

/// The process's counters, in a registry of their own.
pub struct Metrics {
    registry: Registry,
    interactions: IntCounterVec,
    handling: HistogramVec,
    deliveries: IntCounterVec,
    escalations: IntCounterVec,
    timers: IntCounterVec,
}

static METRICS: Lazy<Metrics> = Lazy::new(Metrics::default);

/// The global metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

impl Default for Metrics {
    fn default() -> Self {
        // The names, help texts and labels are constants: a failure here is a programming
        // error that the unit test below meets first.
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter")
        };
        let interactions = counter(
            "somebot_interactions_total",
            "Interactions handled, by kind, command and outcome.",
            &["kind", "name", "outcome"],
        );
        let handling = HistogramVec::new(
            HistogramOpts::new("somebot_interaction_seconds", "Time from receiving an interaction to answering it.")
                .buckets(BUCKETS.to_vec()),
            &["kind"],
        )
        .expect("a valid histogram");
        let deliveries =
            counter("somebot_deliveries_total", "Delivery attempts of stored messages, by result.", &["result"]);
        let escalations = counter("somebot_escalations_total", "Escalations and reroutes, by kind.", &["kind"]);
        let timers = counter("somebot_timers_total", "Timer runs, by result (a failed one is retried).", &["result"]);
        for result in DELIVERY_RESULTS {
            deliveries.with_label_values(&[result]);
        }
        for result in TIMER_RESULTS {
            timers.with_label_values(&[result]);
        }
        let registry = Registry::new();
        for c in [
            Box::new(interactions.clone()) as Box<dyn Collector>,
            Box::new(handling.clone()),
            Box::new(deliveries.clone()),
            Box::new(escalations.clone()),
            Box::new(timers.clone()),
        ] {
            registry.register(c).expect("distinct metric names");
        }
        Metrics { registry, interactions, handling, deliveries, escalations, timers }
    }
}

impl Metrics {
    /// One interaction answered (`outcome`: answered, deferred, failed) after `elapsed`.
    pub fn interaction(&self, kind: &str, name: &str, outcome: &str, elapsed: Duration) {
        self.interactions.with_label_values(&[kind, name, outcome]).inc();
        self.handling.with_label_values(&[kind]).observe(elapsed.as_secs_f64());
    }

    /// A delivery attempt's result: `sent`, `retried` or `failed` (anything else counts as
    /// failed).
    pub fn delivery(&self, result: &str) {
        let result = DELIVERY_RESULTS.into_iter().find(|r| *r == result).unwrap_or("failed");
        self.deliveries.with_label_values(&[result]).inc();
    }

    /// A timer run's result: `ran` or `failed` (it will be retried; anything else counts as
    /// failed).
    pub fn timer(&self, result: &str) {
        let result = TIMER_RESULTS.into_iter().find(|r| *r == result).unwrap_or("failed");
        self.timers.with_label_values(&[result]).inc();
    }

    /// An escalation (`channel-head`, `channel-officers`, `report-reroute`).
    pub fn escalation(&self, what: &str) {
        self.escalations.with_label_values(&[what]).inc();
    }

    /// The Prometheus text exposition, with the outbox backlog read from the database (left out
    /// when the database did not answer).
    pub fn render(&self, pending: Option<i64>) -> String {
        let mut families = self.registry.gather();
        if let Some(p) = pending {
            if let Ok(gauge) = IntGauge::new("somebot_deliveries_pending", "Stored messages not yet delivered.") {
                gauge.set(p);
                families.extend(gauge.collect());
            }
        }
        let mut out = Vec::new();
        match TextEncoder::new().encode(&families, &mut out) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "the metrics could not be encoded");
                String::new()
            }
        }
    }
}

/// Binds the metrics port; returns the listener and its address (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves `/healthz` and `/metrics` (anything else is 404) until the task is dropped.
pub async fn serve(listener: TcpListener, store: Store) {
    let app = Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics)).with_state(store);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!(error = %e, "the metrics server stopped");
    }
}

/// 200 when the database answers within [`DATABASE_WAIT`], else 503.
async fn healthz(State(store): State<Store>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(DATABASE_WAIT, sqlx::query("SELECT 1").execute(store.pool())).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}

async fn metrics(State(store): State<Store>) -> ([(header::HeaderName, &'static str); 1], String) {
    let pending = tokio::time::timeout(DATABASE_WAIT, store.outbox_pending()).await.ok().and_then(Result::ok);
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], global().render(pending))
}

/// `somebot healthcheck`: GET /healthz on the local metrics port (an unspecified address such
/// as 0.0.0.0 means this host). `Err` says why it is not healthy.
pub async fn probe(addr: SocketAddr) -> Result<(), String> {
    let target = if addr.ip().is_unspecified() { SocketAddr::new([127, 0, 0, 1].into(), addr.port()) } else { addr };
    let url = format!("http://{target}/healthz");
    // A proxy from the environment must not stand between the probe and its own host.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot make an HTTP client ({e})"))?;
    match client.get(&url).send().await {
        Ok(r) if r.status() == reqwest::StatusCode::OK => Ok(()),
        Ok(r) => Err(format!("{url} answered {}", r.status())),
        Err(e) => Err(format!("no answer from {url} ({e})")),
    }
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
        m.delivery("something else");
        m.escalation("channel-head");
        let text = m.render(Some(3));
        assert!(text.contains("# TYPE somebot_interactions_total counter"), "{text}");
        assert!(text.contains("somebot_interactions_total{kind=\"command\",name=\"help\",outcome=\"answered\"} 2"));
        assert!(text.contains("somebot_interaction_seconds_bucket{kind=\"command\",le=\"0.01\"} 1"));
        assert!(text.contains("somebot_interaction_seconds_bucket{kind=\"command\",le=\"0.5\"} 2"));
        assert!(text.contains("somebot_interaction_seconds_bucket{kind=\"command\",le=\"1\"} 2"), "{text}");
        assert!(text.contains("somebot_interaction_seconds_bucket{kind=\"command\",le=\"+Inf\"} 2"));
        assert!(text.contains("somebot_interaction_seconds_count{kind=\"command\"} 2"));
        assert!(text.contains("somebot_deliveries_total{result=\"sent\"} 1"));
        assert!(text.contains("somebot_deliveries_total{result=\"retried\"} 0"), "exported from the start: {text}");
        assert!(text.contains("somebot_deliveries_total{result=\"failed\"} 1"));
        assert!(text.contains("somebot_escalations_total{kind=\"channel-head\"} 1"));
        assert!(text.contains("somebot_deliveries_pending 3"));
        assert!(!m.render(None).contains("somebot_deliveries_pending"), "no backlog without the database");
        m.escalation("a\"b");
        assert!(m.render(None).contains("somebot_escalations_total{kind=\"a\\\"b\"} 1"), "label values are escaped");
    }
}
