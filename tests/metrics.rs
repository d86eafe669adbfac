//! `/healthz` and `/metrics` as a scraper and Docker see them: served by `metrics::serve` over a
//! real database, read back with a Prometheus text-format parser, and probed by the binary's
//! `somebot healthcheck`, while the database is up, after it is gone, and with nothing listening.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use prometheus_parse::{Sample, Scrape, Value};
use somebot::store::Store;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let r = client().get(format!("http://{addr}{path}")).send().await.unwrap();
    let status = r.status().as_u16();
    let kind = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, kind, r.text().await.unwrap())
}

/// `somebot healthcheck` with only `SOMEBOT_METRICS_ADDR` set: its exit code and output.
async fn healthcheck(addr: &str) -> (Option<i32>, String) {
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .arg("healthcheck")
        .env_clear()
        .env("SOMEBOT_METRICS_ADDR", addr)
        .output()
        .await
        .unwrap();
    (o.status.code(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn find<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> &'a Sample {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .unwrap_or_else(|| panic!("no {metric} {labels:?} in {:?}", scrape.samples))
}

#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_health_follows_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    let (listener, addr) = somebot::metrics::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
    let server = tokio::spawn(somebot::metrics::serve(listener, store.clone()));

    let m = somebot::metrics::global();
    m.interaction("command", "help", "answered", Duration::from_millis(20));
    m.interaction("component", "vote", "deferred", Duration::from_secs(2));
    m.delivery("retried");
    m.escalation("report-reroute");

    let (status, kind, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let scrape = Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let names: BTreeSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "somebot_deliveries_pending",
            "somebot_deliveries_total",
            "somebot_escalations_total",
            "somebot_interaction_seconds",
            "somebot_interaction_seconds_count",
            "somebot_interaction_seconds_sum",
            "somebot_interactions_total",
            "somebot_timers_total",
        ]),
        "{body}"
    );
    // Timer runs are exported from the start, a failed one (retried later) apart.
    for result in ["ran", "failed"] {
        assert!(
            scrape.samples.iter().any(|s| s.metric == "somebot_timers_total" && s.labels.get("result") == Some(result)),
            "no timer result {result}: {body}"
        );
    }
    for family in [
        "somebot_interactions_total",
        "somebot_interaction_seconds",
        "somebot_deliveries_total",
        "somebot_escalations_total",
        "somebot_timers_total",
        "somebot_deliveries_pending",
    ] {
        assert!(scrape.docs.contains_key(family), "{family} has a HELP line: {body}");
    }

    let s =
        find(&scrape, "somebot_interactions_total", &[("kind", "command"), ("name", "help"), ("outcome", "answered")]);
    assert!(matches!(s.value, Value::Counter(n) if n == 1.0), "{:?}", s.value);
    let s = find(&scrape, "somebot_interaction_seconds", &[("kind", "component")]);
    let Value::Histogram(buckets) = &s.value else { panic!("{:?}", s.value) };
    let bounds: Vec<f64> = buckets.iter().map(|b| b.less_than).collect();
    assert_eq!(bounds, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, f64::INFINITY]);
    let counts: Vec<f64> = buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "2 s falls in le=2.5");
    let s = find(&scrape, "somebot_interaction_seconds_count", &[("kind", "component")]);
    assert!(matches!(s.value, Value::Untyped(n) if n == 1.0), "{:?}", s.value);
    for (result, n) in [("sent", 0.0), ("retried", 1.0), ("failed", 0.0)] {
        let s = find(&scrape, "somebot_deliveries_total", &[("result", result)]);
        assert!(matches!(s.value, Value::Counter(v) if v == n), "{result}: {:?}", s.value);
    }
    let s = find(&scrape, "somebot_escalations_total", &[("kind", "report-reroute")]);
    assert!(matches!(s.value, Value::Counter(n) if n == 1.0), "{:?}", s.value);
    let s = find(&scrape, "somebot_deliveries_pending", &[]);
    assert!(matches!(s.value, Value::Gauge(n) if n == 0.0), "an empty outbox: {:?}", s.value);

    let (status, _, body) = get(addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert_eq!(get(addr, "/nothing").await.0, 404);
    // The Docker HEALTHCHECK: the image listens on 0.0.0.0, which the probe reads as this host.
    let (code, out) = healthcheck(&format!("0.0.0.0:{}", addr.port())).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("healthy"), "{out}");

    // Without the database: 503, unhealthy, and /metrics still answers, without the backlog.
    store.close().await;
    let (status, _, body) = get(addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (503, "database unavailable\n"));
    let (code, out) = healthcheck(&addr.to_string()).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("503"), "the reason is given: {out}");
    let (status, _, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("somebot_interactions_total") && !body.contains("somebot_deliveries_pending"), "{body}");

    // Nothing listening at all.
    server.abort();
    let _ = server.await;
    let (code, out) = healthcheck(&addr.to_string()).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no answer"), "{out}");
}
