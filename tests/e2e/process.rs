//! The `somebot` binary's own life: start, command registration and a first answer, a
//! refused token, SIGKILL and restart, serving one shard of several, `/healthz` and
//! `/metrics`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{begin_request, callback_data, copies_in_dm, dm, embed_text, Bot, EPHEMERAL, WAIT};
use crate::support::{self, ids, StandIn, World};

#[tokio::test]
async fn the_binary_starts_registers_and_answers_within_three_seconds() {
    support::init_logging();
    let standin = StandIn::start(World::default()).await;
    let world = standin.world();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = support::somebot_command(&standin)
        .arg("run")
        .env("SOMEBOT_DATA_DIR", dir.path())
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Logs at trace level are read while the bot runs, so a full pipe never blocks it.
    let mut stderr_pipe = child.stderr.take().unwrap();
    let log_reader = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut buf = String::new();
        let _ = stderr_pipe.read_to_string(&mut buf).await;
        buf
    });
    standin.wait_ready(WAIT).await;
    let ready = started.elapsed();
    let commands = standin.wait_commands_registered(WAIT).await;
    let registered = started.elapsed();
    let mut names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["channels", "guideline", "help", "new-channel", "report-threat", "reports", "setup"]);
    // Registered to the guild (DISCORD_GUILD_ID), by bulk overwrite.
    assert!(standin
        .requests()
        .iter()
        .any(|r| r.method == "PUT" && r.path.ends_with(&format!("/guilds/{}/commands", world.guild_id))));

    let sent = Instant::now();
    let ir = standin.slash_command(ids::EMPLOYEE, "help", json!([])).await;
    let cb = standin.callback_for(&ir, Duration::from_secs(3)).await;
    let answered = sent.elapsed();
    // Idle memory of the bot process after start (printed for the record, not asserted).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().expect("running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: unknown").to_string();
    println!("start to READY: {ready:?}; start to commands registered: {registered:?}; /help answered in {answered:?}; idle {rss}");
    assert!(answered < Duration::from_secs(3), "/help took {answered:?}");
    let data = callback_data(&cb, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert!(embed_text(&data).contains("/guideline"));
    standin.assert_all_requests_valid();

    // SIGTERM: a clean stop with exit code 0.
    let pid = child.id().expect("running") as i32;
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let out = tokio::time::timeout(WAIT, child.wait()).await.expect("stops after SIGTERM").unwrap();
    assert!(out.success(), "exit status after SIGTERM: {out:?}");
    let stderr = log_reader.await.unwrap();
    assert!(stderr.contains("TRACE"), "logs were written at trace level");
    let bare_token = world.token.trim_start_matches("Bot ");
    assert!(!stderr.contains(bare_token), "the token was logged");
    let key = std::fs::read_to_string(dir.path().join("report.key")).expect("a first start creates the key file");
    assert_eq!(key.trim().len(), 64);
    assert!(!stderr.contains(key.trim()), "the report key was logged");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn a_refused_token_exits_2_at_once() {
    support::init_logging();
    let standin = StandIn::start(World::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .arg("run")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DISCORD_TOKEN", "not.the.token")
        .env("DISCORD_API_URL", standin.base_url())
        .env("SOMEBOT_DATA_DIR", dir.path())
        .output();
    let out = tokio::time::timeout(WAIT, out).await.expect("exits at once").unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DISCORD_TOKEN was refused"), "{stderr}");
    assert!(!stderr.contains("not.the.token") && !stderr.contains("panicked"), "{stderr}");
}

/// The `somebot` binary against the stand-in, with its data (SQLite, report key) in `dir`.
fn spawn_binary(standin: &StandIn, dir: &std::path::Path) -> tokio::process::Child {
    support::somebot_command(standin).arg("run").env("SOMEBOT_DATA_DIR", dir).env("RUST_LOG", "warn").spawn().unwrap()
}

/// SIGKILL (no clean shutdown at all), then a new process on the same data; returns once it
/// has registered its commands.
async fn kill_and_restart(
    standin: &StandIn,
    mut bot: tokio::process::Child,
    dir: &std::path::Path,
) -> tokio::process::Child {
    bot.start_kill().unwrap();
    bot.wait().await.unwrap();
    let puts_before = standin.requests().iter().filter(|r| r.method == "PUT").count();
    let second = spawn_binary(standin, dir);
    let deadline = std::time::Instant::now() + WAIT;
    while standin.requests().iter().filter(|r| r.method == "PUT").count() == puts_before {
        assert!(std::time::Instant::now() < deadline, "the second process did not register");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second
}

#[tokio::test]
async fn a_killed_bot_carries_on_after_a_restart() {
    support::init_logging();
    let standin = StandIn::start(World::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let first = spawn_binary(&standin, dir.path());
    standin.wait_commands_registered(WAIT).await;
    begin_request(&standin).await;
    dm(&standin, ids::EMPLOYEE, "Ungdomsklubben på Instagram").await;

    let _second = kill_and_restart(&standin, first, dir.path()).await;
    let next = dm(&standin, ids::EMPLOYEE, "Volda ungdomsklubb").await;
    assert!(next.to_string().contains("1.1"), "the conversation carries on: {next}");
    standin.assert_all_requests_valid();
}

#[tokio::test]
async fn a_killed_bot_loses_no_pending_approval_and_no_undelivered_report() {
    use support::flows::{self, Observer, Strict};
    support::init_logging();
    let standin = StandIn::start(World::default()).await;
    let s = &standin;
    let world = s.world();
    let me = world.user(ids::EMPLOYEE).unwrap().clone();
    let head = world.user(ids::DEPARTMENT_HEAD).unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let bot = spawn_binary(s, dir.path());
    s.wait_commands_registered(WAIT).await;
    for options in [
        json!([{"type": 1, "name": "communications-role", "options": [{"type": 8, "name": "role", "value": ids::ROLE_INFORMASJONSKONSULENT.to_string()}]}]),
        json!([{"type": 1, "name": "review-channel", "options": [{"type": 7, "name": "channel", "value": ids::KOMMUNIKASJON.to_string()}]}]),
        json!([{"type": 1, "name": "manager", "options": [
            {"type": 6, "name": "employee", "value": me.id.to_string()},
            {"type": 6, "name": "manager", "value": head.id.to_string()}]}]),
    ] {
        let ir = s.slash_command(ids::ADMIN, "setup", options).await;
        Strict.ack(s, "/setup", &ir).await.unwrap();
    }

    // A channel request waits for the department head's decision ...
    let submitted = flows::channel_submit(s, &Strict, &me, &head).await.unwrap();
    let to_head = flows::head_asked(s, &submitted).await.unwrap();
    // ... and a threat report cannot reach the manager: Discord refuses its DM once.
    let head_dm = s.dm_channel_of(head.id).expect("the head's DM is open");
    s.fail_next(
        "POST",
        &format!("/channels/{head_dm}/messages"),
        1,
        502,
        json!({"message": "502: Bad Gateway", "code": 0}),
    );
    let sent = flows::report_send(s, &Strict, &me).await.unwrap();
    s.wait_for_after(sent.mark, |r| r.injected_fault && r.status == 502, WAIT).await.expect("the report's DM failed");
    // Let the bot record the failed attempt (its retry waits 5 s), then kill it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _bot = kill_and_restart(s, bot, dir.path()).await;

    // The head decides on the DM the killed process sent; the officer approves.
    flows::channel_decide(s, &Strict, &submitted, &head, &to_head).await.unwrap();
    let review = format!("/channels/{}/messages", ids::KOMMUNIKASJON);
    assert_eq!(
        s.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == review && (200..300).contains(&r.status))
            .count(),
        1,
        "one review post"
    );
    // The new process delivers the report from the outbox, once; the manager acknowledges it.
    let delivered = flows::report_delivered(s, &sent, Duration::from_secs(20)).await.unwrap();
    let ir = s.button(head.id, &format!("rt:{}:ack", sent.id), delivered.response.clone()).await;
    Strict.ack(s, "the manager's acknowledgement", &ir).await.unwrap();
    let copies = copies_in_dm(s, head.id, &format!("rt:{}:ack", sent.id));
    assert_eq!(copies, 1, "the manager got the report once");
    // The reporter hears that the manager has seen it.
    let my_dm = format!("/channels/{}/messages", s.dm_channel_of(me.id).unwrap());
    let told = s
        .wait_for_after(sent.mark, |r| r.path == my_dm && r.status == 200 && flows::has(r, "har stadfesta"), WAIT)
        .await;
    assert!(told.is_some(), "the reporter was told of the acknowledgement");
    s.assert_all_requests_valid();
}

#[tokio::test]
async fn a_process_can_serve_one_shard_of_several() {
    support::init_logging();
    let standin = StandIn::start(World::default()).await;
    let world = standin.world();
    let dir = tempfile::tempdir().unwrap();
    let _child = tokio::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .args(["run", "--shard", "1/2"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DISCORD_TOKEN", &world.token)
        .env("DISCORD_API_URL", standin.base_url())
        .env("SOMEBOT_DATA_DIR", dir.path())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    standin.wait_shard_ready(1, WAIT).await;
    let identify = standin.identify().expect("the bot identified");
    assert_eq!(identify["shard"], json!([1, 2]), "{identify}");

    let bad = tokio::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .args(["run", "--shard", "2/2"])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("smaller than the count"));
}

/// A plain HTTP GET on the metrics port (one request, so the connection closes after it).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn health_and_metrics_are_served_on_the_local_port() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let addr = bot.running.as_ref().unwrap().metrics_addr.expect("metrics are served");
    assert!(http_get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
    let ir = s.slash_command(ids::EMPLOYEE, "help", json!([])).await;
    s.callback_for(&ir, WAIT).await;
    // The counter is written right after the callback is sent.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let metrics = http_get(addr, "/metrics").await;
    assert!(
        metrics.contains("somebot_interactions_total{kind=\"command\",name=\"help\",outcome=\"answered\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("somebot_interaction_seconds_count{kind=\"command\"}"));
    assert!(metrics.contains("somebot_deliveries_pending 0"));
    assert!(http_get(addr, "/nothing").await.starts_with("HTTP/1.1 404"));
    // `somebot healthcheck` is what the Docker HEALTHCHECK runs.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .arg("healthcheck")
        .env("SOMEBOT_METRICS_ADDR", addr.to_string())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    bot.stop().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .arg("healthcheck")
        .env("SOMEBOT_METRICS_ADDR", addr.to_string())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a stopped bot is unhealthy");
}
