//! End to end: the real serenity client, in-process or as the `somebot` binary, against the
//! Discord stand-in on 127.0.0.1. Every request the bot sends is checked against Discord's
//! OpenAPI spec.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use somebot::clock::SystemClock;
use somebot::config::{Config, Overrides};
use somebot::store::Store;
use somebot::App;
use support::{ids, StandIn, World};

const WAIT: Duration = Duration::from_secs(10);
/// Interaction response flag for "only the user sees it".
const EPHEMERAL: u64 = 64;

/// The bot running in this process against a stand-in.
struct Bot {
    standin: StandIn,
    running: Option<somebot::discord::Running>,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Bot {
    async fn start() -> Bot {
        support::init_logging();
        let standin = StandIn::start(World::default()).await;
        let dir = tempfile::tempdir().unwrap();
        Bot::start_on(standin, dir).await
    }

    /// Stops the bot and starts a new one on the same stand-in and database, as a restart.
    async fn restart(mut self) -> Bot {
        if let Some(r) = self.running.take() {
            r.shutdown().await.expect("clean shutdown");
        }
        Bot::start_on(self.standin, self._dir).await
    }

    async fn start_on(standin: StandIn, dir: tempfile::TempDir) -> Bot {
        let url = format!("sqlite://{}", dir.path().join("e2e.db").display());
        let store = Store::open(&url).await.unwrap();
        let world = standin.world();
        let env = [
            ("DISCORD_TOKEN", world.token.clone()),
            ("DATABASE_URL", url.clone()),
            ("DISCORD_GUILD_ID", world.guild_id.to_string()),
            ("DISCORD_API_URL", standin.base_url()),
            ("SOMEBOT_METRICS_ADDR", "127.0.0.1:0".to_string()),
        ];
        let cfg = Config::from_lookup(
            |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()),
            &Overrides::default(),
            somebot::config::Needs::Discord,
            "unused.db",
        )
        .unwrap();
        let mut app = App::new(store.clone(), Arc::new(SystemClock));
        // The same report key across a restart, as `somebot run` keeps it in its data directory.
        let (key, _) = somebot::threat_report::crypto::load_or_create(None, dir.path()).unwrap();
        app.report_key = Arc::new(key);
        let running = somebot::discord::start(cfg, app, 1).await.expect("the bot starts");
        standin.wait_ready(WAIT).await;
        standin.wait_commands_registered(WAIT).await;
        Bot { standin, running: Some(running), store, _dir: dir }
    }

    async fn stop(mut self) {
        self.standin.assert_all_requests_valid();
        if let Some(r) = self.running.take() {
            r.shutdown().await.expect("clean shutdown");
        }
    }
}

/// The callback's `data`, asserting its type.
fn callback_data(rec: &support::Recorded, kind: u64) -> Value {
    let body = rec.json().expect("JSON callback").clone();
    assert_eq!(body["type"], kind, "callback type: {body}");
    body["data"].clone()
}

fn custom_ids(data: &Value) -> Vec<String> {
    data["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_string))
        .collect()
}

fn embed_text(data: &Value) -> String {
    data["embeds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{}\n{}\n{}",
                e["title"].as_str().unwrap_or(""),
                e["description"].as_str().unwrap_or(""),
                e["footer"]["text"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_no_pings(data: &Value) {
    let am = &data["allowed_mentions"];
    assert_eq!(am["parse"], json!([]), "allowed_mentions must disable pings: {data}");
}

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
async fn guideline_sections_and_points_are_quoted_privately() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let ir = s
        .slash_command(ids::EMPLOYEE, "guideline", json!([{"type": 1, "name": "private-profile", "options": []}]))
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert_no_pings(&data);
    let text = embed_text(&data);
    for id in ["3a", "3b", "3c", "3d", "3e", "3f", "3g", "3h"] {
        assert!(text.contains(&format!("**{id}**")), "{id} missing: {text}");
    }
    assert!(text.contains("Den kommunale e-postadressa di skal ikkje verte nytta i privat samanheng."));
    assert!(text.contains("Retningslinjer for sosiale medium i Volda kommune (01.01.2020)"));
    let ids_ = custom_ids(&data);
    assert!(ids_.iter().any(|c| c.starts_with("gl:share:nn:")), "{ids_:?}");
    assert!(ids_.contains(&"go:report-threat".to_string()), "3h offers /report-threat: {ids_:?}");

    // One point.
    let ir = s
        .slash_command(
            ids::EMPLOYEE,
            "guideline",
            json!([{"type": 1, "name": "private-profile", "options": [{"type": 3, "name": "point", "value": "3f"}]}]),
        )
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("**3f**") && !text.contains("**3h**"), "{text}");

    // English users get the unofficial translation, marked, with the official text one click away.
    let ir = s
        .slash_command(
            ids::ENGLISH_EMPLOYEE,
            "guideline",
            json!([{"type": 1, "name": "creating-channels", "options": []}]),
        )
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("Unofficial English translation"), "{text}");
    assert!(text.contains("approved by the municipality's communications officer"));
    let official = custom_ids(&data).into_iter().find(|c| c.starts_with("gl:official:")).expect("official text button");
    assert!(custom_ids(&data).contains(&"go:new-channel".to_string()), "section 1 offers /new-channel");
    let ir = s.button(ids::ENGLISH_EMPLOYEE, &official, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(embed_text(&data).contains("Oppretting av nye kanalar skal avklarast med avdelingsleiar"));
    bot.stop().await;
}

#[tokio::test]
async fn questions_are_answered_shared_voted_on_and_listed_for_admins() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let ask = |q: &str| json!([{"type": 1, "name": "ask", "options": [{"type": 3, "name": "question", "value": q}]}]);
    let ir = s
        .slash_command(ids::EMPLOYEE, "guideline", ask("Kan eg bruke jobbmailen når eg registrerer meg på Finn?"))
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    let text = embed_text(&data);
    assert!(text.contains("**3f**"), "the e-mail point answers: {text}");
    let buttons = custom_ids(&data);
    let down =
        buttons.iter().find(|c| c.starts_with("gl:vote:") && c.ends_with(":down")).expect("vote buttons").clone();
    let share = buttons.iter().find(|c| c.starts_with("gl:share:")).expect("share button").clone();

    // Sharing posts the quote publicly, without the question.
    let ir = s.button(ids::EMPLOYEE, &share, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap_or(0) & EPHEMERAL, 0, "shared answers are public");
    assert!(embed_text(&data).contains("**3f**"));
    assert!(!serde_json::to_string(&data).unwrap().contains("Finn"), "the question stays private");
    assert_no_pings(&data);

    // A down-vote is stored and shows up for the admins.
    let ir = s.button(ids::EMPLOYEE, &down, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", ask("Kor lang er lunsjpausen eigentleg?")).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(embed_text(&data).contains("informasjonskonsulenten"), "declined answers say who to ask");
    assert!(custom_ids(&data).iter().all(|c| !c.starts_with("gl:vote")));

    let unanswered = json!([{"type": 1, "name": "unanswered", "options": []}]);
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", unanswered.clone()).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(data["content"].as_str().unwrap_or("").contains("Administrer server"), "refused: {data}");
    // Questions are logged just after their answers: wait for the second one to be written.
    let deadline = Instant::now() + WAIT;
    while bot.store.question_gaps(10).await.unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the declined question was never logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ir = s.slash_command(ids::ADMIN, "guideline", unanswered).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("lunsjpausen") && text.contains("Finn"), "{text}");
    assert_eq!(bot.store.question_gaps(10).await.unwrap().len(), 2);

    // Autocomplete suggests points while typing, within Discord's 25 choices.
    let ir = s
        .autocomplete(ids::EMPLOYEE, "guideline", json!([{"type": 1, "name": "ask", "options": [{"type": 3, "name": "question", "value": "teieplikt", "focused": true}]}]))
        .await;
    let cb = s.callback_for(&ir, WAIT).await;
    let data = callback_data(&cb, 8);
    let choices = data["choices"].as_array().unwrap();
    assert!(!choices.is_empty() && choices.len() <= 25, "{data}");
    bot.stop().await;
}

#[tokio::test]
async fn setup_is_for_admins_and_dms_get_a_hint() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let show = json!([{"type": 1, "name": "show", "options": []}]);
    let ir = s.slash_command(ids::EMPLOYEE, "setup", show.clone()).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(data["content"].as_str().unwrap().contains("Administrer server"));
    let set = json!([{"type": 1, "name": "communications-role", "options": [{"type": 8, "name": "role", "value": ids::ROLE_INFORMASJONSKONSULENT.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_no_pings(&data);
    let ir = s.slash_command(ids::ADMIN, "setup", show).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(serde_json::to_string(&data).unwrap().contains(&ids::ROLE_INFORMASJONSKONSULENT.to_string()));

    let m = s.dm_message(ids::EMPLOYEE, "hei").await;
    let reply =
        s.wait_for(|r| r.method == "POST" && r.path == format!("/channels/{}/messages", m.channel_id), WAIT).await;
    assert!(reply.json().unwrap()["content"].as_str().unwrap().contains("/help"));
    bot.stop().await;
}

/// The newest message the bot posted in a user's DM channel.
fn last_dm(s: &StandIn, user: u64) -> Value {
    let channel = s.dm_channel_of(user).expect("a DM channel was opened");
    let mut msgs = s.messages_in(channel);
    msgs.sort_by_key(|m| m["id"].as_str().and_then(|i| i.parse::<u64>().ok()).unwrap_or(0));
    msgs.into_iter()
        .rev()
        .find(|m| m["author"]["id"].as_str().and_then(|i| i.parse::<u64>().ok()) == Some(ids::BOT_USER))
        .expect("a message from the bot")
}

/// Sends a DM and waits for the bot's answer in the DM channel.
async fn dm(s: &StandIn, user: u64, text: &str) -> Value {
    let before = s.requests().len();
    let m = s.dm_message(user, text).await;
    let path = format!("/channels/{}/messages", m.channel_id);
    s.wait_for(|r| r.seq >= before && r.method == "POST" && r.path == path, WAIT).await;
    last_dm(s, user)
}

#[tokio::test]
async fn a_channel_request_runs_through_discord_with_a_restart_in_the_middle() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Admin setup: the officers' role.
    let set = json!([{"type": 1, "name": "communications-role", "options": [{"type": 8, "name": "role", "value": ids::ROLE_INFORMASJONSKONSULENT.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    s.callback_for(&ir, WAIT).await;
    let set = json!([{"type": 1, "name": "review-channel", "options": [{"type": 7, "name": "channel", "value": ids::KOMMUNIKASJON.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    s.callback_for(&ir, WAIT).await;

    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    s.wait_for(|r| r.method == "POST" && r.path == "/users/@me/channels", WAIT).await;
    let q1 = s
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.path.starts_with("/channels/")
                    && r.json().is_some_and(|b| b.to_string().contains("nc:"))
            },
            WAIT,
        )
        .await;
    let select_id =
        custom_ids(q1.json().unwrap()).into_iter().find(|c| c.ends_with(":choose")).expect("a platform menu");
    let ir = s.select(ids::EMPLOYEE, &select_id, vec!["facebook".into()], 3).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);

    for answer in ["Volda bibliotek", "Biblioteket", "Fleire lånarar til biblioteket"] {
        dm(s, ids::EMPLOYEE, answer).await;
    }
    // The bot restarts in the middle of the conversation; the next answer carries on.
    let bot = bot.restart().await;
    let s = &bot.standin;
    let next = dm(s, ids::EMPLOYEE, "Vaksne i Volda kommune").await;
    assert!(next.to_string().contains("1.3"), "after a restart the dialogue question (1.3) follows: {next}");
    dm(s, ids::EMPLOYEE, "Vi svarar på kommentarar kvar dag").await;
    for how in ["Vi spør alltid skriftleg om samtykke", "Vi publiserer aldri noko om enkeltpersonar"] {
        let id = custom_ids(&last_dm(s, ids::EMPLOYEE)).into_iter().find(|c| c.ends_with(":yes")).unwrap();
        let ir = s.button(ids::EMPLOYEE, &id, None).await;
        callback_data(&s.callback_for(&ir, WAIT).await, 7);
        dm(s, ids::EMPLOYEE, how).await;
    }
    dm(s, ids::EMPLOYEE, "To timar i veka til oppfølging").await;
    let branding = dm(s, ids::EMPLOYEE, "Kari Nordmann, Lars Vik").await;
    for _ in 0..2 {
        let id = custom_ids(&last_dm(s, ids::EMPLOYEE)).into_iter().find(|c| c.ends_with(":confirm")).unwrap();
        let ir = s.button(ids::EMPLOYEE, &id, None).await;
        callback_data(&s.callback_for(&ir, WAIT).await, 7);
    }
    assert!(branding.to_string().contains("1.9"));
    let summary = dm(s, ids::EMPLOYEE, "Ola Hansen").await;
    let submit = custom_ids(&summary).into_iter().find(|c| c.ends_with(":submit")).expect("the summary");
    let ir = s.button(ids::EMPLOYEE, &submit, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 7);
    assert!(data.to_string().contains("KANAL-"), "{data}");

    // The department head decides in a DM.
    let to_head = s
        .wait_for(|r| r.method == "POST" && r.json().is_some_and(|b| b.to_string().contains("head-approve")), WAIT)
        .await;
    let approve = custom_ids(to_head.json().unwrap()).into_iter().find(|c| c.ends_with("head-approve")).unwrap();
    let ir = s.button(ids::DEPARTMENT_HEAD, &approve, None).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);

    // The officers review in the review channel; anyone else who clicks there is refused.
    let to_officer = s
        .wait_for(|r| r.method == "POST" && r.path == format!("/channels/{}/messages", ids::KOMMUNIKASJON), WAIT)
        .await;
    assert_no_pings(to_officer.json().unwrap());
    let reject = custom_ids(to_officer.json().unwrap()).into_iter().find(|c| c.ends_with("off-reject")).unwrap();
    let ir = s.button(ids::UNRELATED, &reject, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL, "the refusal is private");
    assert!(data["content"].as_str().unwrap().contains("ikkje di"));
    // The officer asks for changes with a reason from a modal; the requester gets the summary.
    let changes = custom_ids(to_officer.json().unwrap()).into_iter().find(|c| c.ends_with("off-changes")).unwrap();
    let ir = s.button(ids::COMMS_OFFICER, &changes, None).await;
    let modal = callback_data(&s.callback_for(&ir, WAIT).await, 9);
    let modal_id = modal["custom_id"].as_str().unwrap().to_string();
    let mark = s.requests().len();
    let ir = s.modal_submit(ids::COMMS_OFFICER, &modal_id, &[("reason", "Skriv kven som tek over i feriane.")]).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    let dm_path = format!("/channels/{}/messages", s.dm_channel_of(ids::EMPLOYEE).unwrap());
    let told = s
        .wait_for(
            |r| r.path == dm_path && r.json().is_some_and(|b| b.to_string().contains("Skriv kven som tek over")),
            WAIT,
        )
        .await;
    assert_no_pings(told.json().unwrap());
    let summary = s
        .wait_for(
            |r| r.seq >= mark && r.path == dm_path && r.json().is_some_and(|b| b.to_string().contains(":submit")),
            WAIT,
        )
        .await;

    // Resubmitted: the head clears it again, and the officer approves it into the register.
    let submit = custom_ids(summary.json().unwrap()).into_iter().find(|c| c.ends_with(":submit")).unwrap();
    let before = s.requests().len();
    let ir = s.button(ids::EMPLOYEE, &submit, None).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    s.wait_for(|r| r.seq >= before && r.json().is_some_and(|b| b.to_string().contains("head-approve")), WAIT).await;
    let ir = s.button(ids::DEPARTMENT_HEAD, &approve, None).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    let review = format!("/channels/{}/messages", ids::KOMMUNIKASJON);
    let second = s.wait_for(|r| r.seq > before && r.method == "POST" && r.path == review, WAIT).await;
    let approve_officer = custom_ids(second.json().unwrap()).into_iter().find(|c| c.ends_with("off-approve")).unwrap();
    let ir = s.button(ids::COMMS_OFFICER, &approve_officer, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 7);
    assert!(data["content"].as_str().unwrap().contains("godkjende"), "{data}");
    // A second click on the message as it was (a double click, or another officer at the same
    // moment) changes nothing.
    let ir = s.button(ids::COMMS_OFFICER, &approve_officer, second.response.clone()).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(data["content"].as_str().unwrap().contains("allereie"), "{data}");

    let ir = s.slash_command(ids::UNRELATED, "channels", json!([{"type": 1, "name": "list", "options": []}])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("KANAL-2026-0001") && text.contains("Volda bibliotek"), "{text}");
    let rows = bot.store.channel_requests_of(ids::EMPLOYEE, &["approved"]).await.unwrap();
    assert_eq!(rows.len(), 1);
    bot.stop().await;
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

/// Every interaction request and callback body for `ir`, as text.
fn interaction_text(s: &StandIn, ir: &support::InteractionRef) -> String {
    s.requests_for(ir).iter().filter_map(|r| r.json().map(|j| j.to_string())).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn a_threat_report_with_evidence_reaches_the_manager_and_is_acknowledged() {
    const SECRET: &str = "Han truga meg i kommentarfeltet";
    let bot = Bot::start().await;
    let s = &bot.standin;
    let set = json!([{"type": 1, "name": "manager", "options": [
        {"type": 6, "name": "employee", "value": ids::EMPLOYEE.to_string()},
        {"type": 6, "name": "manager", "value": ids::DEPARTMENT_HEAD.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    s.callback_for(&ir, WAIT).await;

    let bytes = b"PNG-ish evidence bytes".to_vec();
    let att = s.upload_attachment("skjermbilete.png", "image/png", &bytes);
    let ir =
        s.slash_command(ids::EMPLOYEE, "report-threat", json!([{"type": 11, "name": "evidence", "value": att}])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert!(data["content"].as_str().unwrap().contains("112"));
    let sha = somebot::threat_report::crypto::sha256_hex(&bytes);
    assert!(data["content"].as_str().unwrap().contains(&sha), "the evidence was copied: {data}");
    let write = custom_ids(&data).into_iter().find(|c| c.ends_with(":write")).unwrap();
    let id: i64 = write.split(':').nth(1).unwrap().parse().unwrap();
    let ir =
        s.button(ids::EMPLOYEE, &write, Some(json!({"components": data["components"].clone(), "flags": 64}))).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 9);
    let ir = s
        .modal_submit(
            ids::EMPLOYEE,
            &format!("rtm:{id}:report"),
            &[("what", SECRET), ("where", "Facebook https://fb.invalid/p/9"), ("when", "i dag"), ("ongoing", "ja")],
        )
        .await;
    s.callback_for(&ir, WAIT).await;
    let send = format!("rt:{id}:send");
    s.wait_for(|r| r.json().is_some_and(|b| b.to_string().contains(&send)), WAIT).await;
    assert!(interaction_text(s, &ir).contains(&ids::DEPARTMENT_HEAD.to_string()), "the manager is shown");
    let preview = s.requests_for(&ir).iter().rev().find_map(|r| r.json().cloned()).unwrap();
    let components =
        if preview["data"].is_object() { preview["data"]["components"].clone() } else { preview["components"].clone() };
    let ir = s.button(ids::EMPLOYEE, &send, Some(json!({"components": components, "flags": 64}))).await;
    s.callback_for(&ir, WAIT).await;
    s.wait_for(|r| r.json().is_some_and(|b| b.to_string().contains("TRUGSMAL-")), WAIT).await;

    // The manager gets it by DM, without pings.
    let ack = format!("rt:{id}:ack");
    let to_head =
        s.wait_for(|r| r.method == "POST" && r.json().is_some_and(|b| b.to_string().contains(&ack)), WAIT).await;
    assert_eq!(
        Some(to_head.path.clone()),
        s.dm_channel_of(ids::DEPARTMENT_HEAD).map(|c| format!("/channels/{c}/messages"))
    );
    assert!(to_head.json().unwrap().to_string().contains(SECRET));
    assert_no_pings(to_head.json().unwrap());
    // The evidence goes with it as the file it was (a multipart upload).
    let files = to_head.files();
    assert_eq!(files.len(), 1, "the evidence file is attached");
    assert_eq!((files[0].filename.as_deref(), files[0].data.as_slice()), (Some("skjermbilete.png"), bytes.as_slice()));

    // Someone else is refused, privately.
    let ir = s
        .button(ids::UNRELATED, &ack, Some(json!({"components": to_head.json().unwrap()["components"].clone()})))
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert!(data["content"].as_str().unwrap().contains("ikkje til deg"));

    let ir = s.button(ids::DEPARTMENT_HEAD, &ack, None).await;
    s.callback_for(&ir, WAIT).await;
    let told = s
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.json().is_some_and(|b| b.to_string().contains("stadfesta"))
                    && r.path.starts_with("/channels/")
            },
            WAIT,
        )
        .await;
    let reporter_dm = format!("/channels/{}/messages", s.dm_channel_of(ids::EMPLOYEE).expect("the reporter's DM"));
    assert_eq!(told.path, reporter_dm, "the reporter is told by DM");
    let row = bot.store.report(id).await.unwrap().unwrap();
    assert_eq!(row.status, "acknowledged");
    assert!(row.has_evidence_data);
    assert_eq!(row.evidence.as_ref().and_then(|e| e.sha256.clone()), Some(sha));

    // No guild channel message carries report text.
    for r in s.requests() {
        let guild_channel =
            [ids::GENERAL, ids::KOMMUNIKASJON].iter().any(|c| r.path.starts_with(&format!("/channels/{c}/")));
        if guild_channel {
            assert!(!r.json().is_some_and(|b| b.to_string().contains(SECRET)), "report text in a channel: {}", r.path);
        }
    }
    for c in [ids::GENERAL, ids::KOMMUNIKASJON] {
        // Interaction answers sit in the channel too; those with report text are ephemeral.
        for m in s.messages_in(c).iter().filter(|m| m.to_string().contains(SECRET)) {
            assert_eq!(
                m["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
                EPHEMERAL,
                "a visible message with report text: {m}"
            );
        }
    }
    bot.stop().await;
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

/// Starts `/new-channel` for the employee and answers the platform; returns the request's id.
async fn begin_request(s: &StandIn) -> String {
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let q1 = s
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.path.starts_with("/channels/")
                    && r.json().is_some_and(|b| b.to_string().contains("nc:"))
            },
            WAIT,
        )
        .await;
    let select_id = custom_ids(q1.json().unwrap()).into_iter().find(|c| c.ends_with(":choose")).unwrap();
    let ir = s.select(ids::EMPLOYEE, &select_id, vec!["instagram".into()], 3).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    select_id
}

#[tokio::test]
async fn conversations_go_on_across_gateway_reconnects_and_invalid_sessions() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    begin_request(s).await;
    dm(s, ids::EMPLOYEE, "Ungdomsklubben på Instagram").await;

    // Op 7 Reconnect: serenity resumes, and the conversation goes on.
    s.send_reconnect();
    s.wait_gateway(|f| f.t.as_deref() == Some("RESUMED"), WAIT).await;
    let next = dm(s, ids::EMPLOYEE, "Volda ungdomsklubb").await;
    assert!(next.to_string().contains("1.1"), "{next}");

    // Op 9 Invalid Session (not resumable): serenity identifies again; READY registers the
    // commands again (a bulk overwrite), and the conversation still goes on.
    let (identifies, _) = s.session_counts();
    s.invalid_session(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while s.session_counts().0 == identifies {
        assert!(std::time::Instant::now() < deadline, "no new Identify after Invalid Session");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.wait_ready(WAIT).await;
    let next = dm(s, ids::EMPLOYEE, "Fleire unge på aktivitetane våre").await;
    assert!(next.to_string().contains("1.2"), "{next}");
    let puts = s.requests().iter().filter(|r| r.method == "PUT" && r.path.ends_with("/commands")).count();
    assert_eq!(puts, 2, "commands are registered again, by bulk overwrite");
    bot.stop().await;
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

/// Waits until the bot has recorded every outbox message as sent or given up.
async fn outbox_drained(bot: &Bot, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while bot.store.outbox_pending().await.unwrap() != 0 {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many messages in `user`'s DM with the bot contain `needle`.
fn copies_in_dm(s: &StandIn, user: u64, needle: &str) -> usize {
    let dm = s.dm_channel_of(user).expect("a DM channel was opened");
    s.messages_in(dm).iter().filter(|m| m.to_string().contains(needle)).count()
}

#[tokio::test]
async fn a_dm_that_discord_refuses_with_a_5xx_is_retried_from_the_outbox() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Discord's message endpoint is down for the first attempt.
    s.fail_next("POST", "/channels/", 1, 502, json!({"message": "502: Bad Gateway", "code": 0}));
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    let failed = s.wait_for(|r| r.injected_fault && r.path.starts_with("/channels/"), WAIT).await;
    assert_eq!(failed.status, 502);
    // The message stays in the outbox and the worker sends it after the backoff (5 s).
    let delivered = s
        .wait_for(
            |r| r.seq > failed.seq && !r.injected_fault && r.path == failed.path && r.status == 200,
            Duration::from_secs(20),
        )
        .await;
    assert!(delivered.json().unwrap().to_string().contains("nc:"), "the first question arrives");
    // The worker records the delivery right after Discord's answer.
    outbox_drained(&bot, WAIT, "the delivery was not recorded").await;
    bot.stop().await;
}

#[tokio::test]
async fn a_rate_limited_dm_is_retried_after_discords_retry_after() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Discord answers the first DM post with 429 and asks for 2.5 s.
    s.rate_limit_next("POST", "/channels/", 1, 2.5, false);
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let limited = s.wait_for(|r| r.injected_fault && r.status == 429, WAIT).await;
    let retried = s
        .wait_for(
            |r| r.seq > limited.seq && !r.injected_fault && r.path == limited.path && r.status == 200,
            Duration::from_secs(20),
        )
        .await;
    let waited = retried.at.duration_since(limited.at);
    assert!(waited >= Duration::from_millis(2_500), "retried after {waited:?}, before Discord's retry_after");
    // The outbox's own backoff would wait 5 s; the worker looks every second.
    assert!(waited < Duration::from_millis(4_600), "retried after {waited:?}: retry_after was not used");
    assert!(retried.json().unwrap().to_string().contains("nc:"), "the first question arrives");
    bot.stop().await;
}

#[tokio::test]
async fn a_connection_reset_loses_no_message() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // The connection drops, without an answer, when the bot posts the first question.
    s.reset_next("POST", "/channels/", 1);
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let reset = s.wait_for(|r| r.injected_fault && r.status == 0, WAIT).await;
    let delivered =
        s.wait_for(|r| r.seq > reset.seq && r.path == reset.path && r.status == 200, Duration::from_secs(20)).await;
    assert!(delivered.json().unwrap().to_string().contains("nc:"), "the first question arrives");
    outbox_drained(&bot, WAIT, "the delivery was not recorded").await;
    // Once, not twice: the question is in the DM channel one time.
    let copies = copies_in_dm(s, ids::EMPLOYEE, ":choose");
    assert_eq!(copies, 1);
    // The stand-in's server goes on serving after the dropped connection.
    let ir = s.slash_command(ids::EMPLOYEE, "help", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    bot.stop().await;
}

#[tokio::test]
async fn a_message_discord_stored_before_the_connection_dropped_is_not_sent_twice() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Discord posts the first question, but the answer is lost: the bot cannot tell it worked.
    s.reset_after_next("POST", "/channels/", 1);
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let lost = s.wait_for(|r| r.injected_fault && r.status == 0, WAIT).await;
    assert!(lost.response.is_some(), "the stand-in stored the message before dropping the connection");
    let first = lost.json().unwrap().clone();
    assert_eq!(first["enforce_nonce"], json!(true), "{first}");
    let nonce = first["nonce"].as_str().expect("a nonce").to_string();
    // The outbox tries again with the same nonce, and Discord hands back the stored message.
    let retry =
        s.wait_for(|r| r.seq > lost.seq && r.path == lost.path && r.status == 200, Duration::from_secs(20)).await;
    assert_eq!(retry.json().unwrap()["nonce"], json!(nonce), "a retry repeats its nonce");
    assert_eq!(
        retry.response.as_ref().unwrap()["id"],
        lost.response.as_ref().unwrap()["id"],
        "Discord answered with the message it already had"
    );
    outbox_drained(&bot, WAIT, "the delivery was not recorded").await;
    let copies = copies_in_dm(s, ids::EMPLOYEE, ":choose");
    assert_eq!(copies, 1, "the employee sees the question once");
    // Every outbox message carries its own nonce: the next one is posted, not deduplicated.
    let mark = s.request_count();
    let ir = s.slash_command(ids::UNRELATED, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let other = s
        .wait_for_after(mark, |r| r.method == "POST" && r.path.starts_with("/channels/") && r.status == 200, WAIT)
        .await
        .expect("the second employee's question is posted");
    assert_ne!(other.json().unwrap()["nonce"], json!(nonce));
    bot.stop().await;
}

#[tokio::test]
async fn a_failed_or_lost_interaction_answer_is_sent_again_within_three_seconds() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let section = || json!([{"type": 1, "name": "private-profile", "options": []}]);

    // Discord answers the callback with a 500: the bot sends it once more, in time.
    s.fail_next("POST", "/interactions/", 1, 500, json!({"message": "500: Internal Server Error", "code": 0}));
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", section()).await;
    let (kind, latency) = s.wait_acked(&ir, WAIT).await.expect("answered within Discord's 3 s");
    assert_eq!(kind, 4);
    assert!(latency < Duration::from_secs(3), "{latency:?}");
    let path = ir.callback_path();
    let failed = s.wait_for(|r| r.path == path && r.injected_fault, WAIT).await;
    assert_eq!(failed.status, 500);
    let answered = s.wait_for(|r| r.path == path && (200..300).contains(&r.status), WAIT).await;
    assert!(answered.seq > failed.seq);
    assert!(answered.json().unwrap().to_string().contains("3a"), "the quoted points arrive");

    // Discord takes the answer but the connection drops before it says so: the second try is
    // told "already acknowledged", and the bot takes that as done (one answer, no error).
    s.reset_after_next("POST", "/interactions/", 1);
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", section()).await;
    let (kind, _) = s.wait_acked(&ir, WAIT).await.expect("the first answer counts");
    assert_eq!(kind, 4);
    let path = ir.callback_path();
    let lost = s.wait_for(|r| r.path == path && r.injected_fault, WAIT).await;
    assert_eq!(lost.status, 0, "the connection dropped after the stand-in stored the answer");
    let again = s.wait_for(|r| r.path == path && r.seq > lost.seq, WAIT).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.response.as_ref().unwrap()["code"], json!(40060));
    // Nothing else follows for that interaction: no follow-up, no apology.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mark = s.request_count();
    let ir2 = s.slash_command(ids::EMPLOYEE, "help", json!([])).await;
    callback_data(&s.callback_for(&ir2, WAIT).await, 4);
    assert!(
        s.wait_for_after(mark, |r| r.path.contains(&ir.token), Duration::from_millis(300)).await.is_none(),
        "the lost-and-found answer was not repeated"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_slow_discord_delays_only_the_message_it_holds() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Posting the first question of a conversation takes Discord 5 s.
    s.delay_next("POST", "/channels/", 1, Duration::from_secs(5));
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    let (_, latency) = s.wait_acked(&ir, WAIT).await.expect("the command is answered");
    assert!(latency < Duration::from_secs(3), "{latency:?}");
    let asked = std::time::Instant::now();
    // Meanwhile another employee is served at once.
    let other = s
        .slash_command(ids::UNRELATED, "guideline", json!([{"type": 1, "name": "private-profile", "options": []}]))
        .await;
    let (_, latency) = s.wait_acked(&other, WAIT).await.expect("the other employee is answered");
    assert!(latency < Duration::from_secs(3), "{latency:?}");
    assert!(asked.elapsed() < Duration::from_secs(3), "not held up by the slow post");
    // The slow message arrives, once.
    outbox_drained(&bot, Duration::from_secs(20), "the slow delivery was not recorded").await;
    let copies = copies_in_dm(s, ids::EMPLOYEE, ":choose");
    assert_eq!(copies, 1);
    bot.stop().await;
}

#[tokio::test]
async fn a_slow_evidence_download_is_deferred_within_three_seconds() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let att = s.upload_attachment("bilete.png", "image/png", b"evidence");
    s.delay_attachments(Duration::from_millis(2500));
    let sent = Instant::now();
    let ir =
        s.slash_command(ids::EMPLOYEE, "report-threat", json!([{"type": 11, "name": "evidence", "value": att}])).await;
    let cb = s.callback_for(&ir, WAIT).await;
    let acknowledged = sent.elapsed();
    println!("deferred after {acknowledged:?}");
    // A deferred, private answer (type 5) ...
    let body = cb.json().unwrap();
    assert_eq!(body["type"], 5, "{body}");
    assert_eq!(body["data"]["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    // ... then the real answer as an edit of the original response.
    let edit = s
        .wait_for(
            |r| r.method == "PATCH" && r.path.ends_with("/messages/@original") && r.path.contains(&ir.token),
            WAIT,
        )
        .await;
    assert!(edit.json().unwrap()["content"].as_str().unwrap().contains("112"));
    assert_no_pings(edit.json().unwrap());
    bot.stop().await;
}
