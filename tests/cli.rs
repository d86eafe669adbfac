//! The `somebot` binary's command line: bad configuration gives one clear line per problem and
//! exit code 2, never a panic or a secret; `ask`, `check`, `migrate` and `chat` work without a
//! token.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn somebot(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_somebot"));
    cmd.args(args).current_dir(dir).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("somebot runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn assert_no_panic(o: &Output) {
    let t = text(o);
    assert!(!t.contains("panicked") && !t.contains("RUST_BACKTRACE"), "{t}");
}

#[test]
fn run_without_a_token_exits_2_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let o = somebot(&["run"], &[], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("DISCORD_TOKEN is not set"), "{t}");
    assert!(t.contains("somebot chat"), "the fix is named: {t}");
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1, "one line: {t}");
    assert_no_panic(&o);
}

#[test]
fn every_bad_variable_is_reported_at_once_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let o = somebot(
        &["run"],
        &[
            ("DISCORD_TOKEN", "secret token-with space"),
            ("DATABASE_URL", "mysql://nope"),
            ("DISCORD_GUILD_ID", "not-a-number"),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    for var in ["DISCORD_TOKEN", "DATABASE_URL", "DISCORD_GUILD_ID"] {
        assert!(t.contains(var), "{var} missing from: {t}");
    }
    assert!(!t.contains("secret token"), "the token leaked: {t}");
    assert_no_panic(&o);
}

#[test]
fn unreachable_database_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = somebot(
        &["run"],
        &[("DISCORD_TOKEN", "abc.def.ghi"), ("DATABASE_URL", "postgres://postgres:hunter2@127.0.0.1:1/none")],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("database error") && t.contains("DATABASE_URL"), "{t}");
    assert!(!t.contains("hunter2"), "the password leaked: {t}");
    assert_no_panic(&o);
}

#[test]
fn unreachable_discord_exits_2_after_retrying() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1 of the loopback address.
    let o = somebot(
        &["run", "--startup-attempts", "2"],
        &[("DISCORD_TOKEN", "abc.def.ghi"), ("DISCORD_API_URL", "http://127.0.0.1:1")],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("could not be reached") && t.contains("2 attempts"), "{t}");
    assert!(t.contains("retrying"), "the retry is logged: {t}");
    assert!(!t.contains("abc.def.ghi"), "the token leaked: {t}");
    assert_no_panic(&o);
}

#[test]
fn ask_prints_json_from_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let o = somebot(&["ask", "Kan eg bruke jobbmailen til private ting?", "--json"], &[], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["question"], "Kan eg bruke jobbmailen til private ting?");
    assert!(v["declined"].is_boolean());
    let results = v["results"].as_array().unwrap();
    assert!(results.len() <= 3);
    for r in results {
        assert!(r["id"].is_string() && r["score"].is_number());
    }
    assert_eq!(results.is_empty(), v["declined"].as_bool().unwrap());
}

#[test]
fn check_and_migrate_work_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_string_lossy().to_string();
    let o = somebot(&["migrate"], &[("SOMEBOT_DATA_DIR", &data_s)], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(data.join("somebot.db").exists(), "the default SQLite file is created");
    let o = somebot(&["check"], &[("SOMEBOT_DATA_DIR", &data_s)], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ok   prompts"));
    let o = somebot(&["check"], &[("DATABASE_URL", "sqlite://")], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn chat_runs_without_a_token_on_piped_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_somebot"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"/guideline private-profile point:3h\n:quit\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Ta kontakt med din nærmaste leiar"), "{out}");
    assert!(dir.path().join("somebot-sandbox.db").exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("starting the terminal sandbox"));
}

#[test]
fn setup_and_the_manager_register_work_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().to_string();
    let env = [("SOMEBOT_DATA_DIR", data.as_str()), ("DISCORD_GUILD_ID", "5")];
    let o = somebot(&["setup", "communications-role", "77"], &env, dir.path());
    assert!(o.status.success() && text(&o).contains("<@&77>"), "{}", text(&o));
    let csv = dir.path().join("leiarar.csv");
    std::fs::write(&csv, "tilsett,leiar\n101,201\n102;201\n# a comment\n103\n104,104\nnobody,201\n").unwrap();
    let o = somebot(&["org", "import", csv.to_str().unwrap()], &env, dir.path());
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("2 lines recorded, 3 skipped"), "{t}");
    assert!(t.contains("line 5") && t.contains("line 6") && t.contains("line 7"), "each bad line is named: {t}");
    let o = somebot(&["setup", "managers"], &env, dir.path());
    let t = text(&o);
    assert!(t.contains("<@101>") && t.contains("<@102>") && t.contains("<@201>"), "{t}");
    let o = somebot(&["org", "import", "/nonexistent.csv"], &env, dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert_no_panic(&o);
}

#[test]
fn a_dotenv_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "# the operator's file\nSOMEBOT_DATA_DIR=from-dotenv\nexport DISCORD_GUILD_ID=\"5\"\n",
    )
    .unwrap();
    let o = somebot(&["migrate"], &[], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("from-dotenv/somebot.db").exists(), "SOMEBOT_DATA_DIR came from .env");
    // clap's defaults read the same environment: `setup` takes its guild from .env.
    let o = somebot(&["setup", "show"], &[], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let o = somebot(&["migrate"], &[("SOMEBOT_DATA_DIR", "from-env")], dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("from-env/somebot.db").exists(), "the environment wins over .env");
}

#[test]
fn empty_values_count_as_unset_in_the_environment_and_in_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "SOMEBOT_DATA_DIR=from-dotenv\nDATABASE_URL=\nSOMEBOT_REPORT_KEY=\n")
        .unwrap();
    // An empty variable in the environment does not hide the value .env gives, nor the default.
    let empty = [("SOMEBOT_DATA_DIR", ""), ("RUST_LOG", ""), ("SOMEBOT_CHANNEL_EXPIRY_DAYS", " ")];
    let o = somebot(&["migrate"], &empty, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("from-dotenv/somebot.db").exists(), "{}", text(&o));
    // Empty clap-read variables are not values either: the one problem is the missing token.
    let o = somebot(
        &["run"],
        &[("DISCORD_TOKEN", ""), ("SOMEBOT_STARTUP_ATTEMPTS", ""), ("SOMEBOT_SHARD", "")],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("DISCORD_TOKEN is not set"), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim().lines().count(), 1, "{}", text(&o));
    let o = somebot(&["healthcheck"], &[("SOMEBOT_METRICS_ADDR", "")], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SOMEBOT_METRICS_ADDR is not set"), "{}", text(&o));
}

#[test]
fn a_bad_dotenv_line_exits_2_naming_the_file_and_line_but_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "SOMEBOT_DATA_DIR=data\nDISCORD_TOKEN=\"abc.secret\n").unwrap();
    let o = somebot(&["check"], &[], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(".env") && t.contains("line 2"), "{t}");
    assert!(!t.contains("abc.secret"), "the value leaked: {t}");
    assert_eq!(t.trim().lines().count(), 1, "{t}");
    assert_no_panic(&o);
}

/// `.env.example` beside the manifest.
fn env_example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap()
}

#[test]
fn env_example_lists_every_variable_with_its_default_and_a_copy_changes_nothing() {
    let example = env_example();
    let mut listed = Vec::new();
    for line in example.lines().filter(|l| !l.trim().is_empty()) {
        assert!(line.starts_with('#'), "a copy must change nothing, but this line sets something: {line}");
        let Some((name, value)) = line.trim_start_matches("# ").split_once('=') else { continue };
        if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !name.is_empty() {
            listed.push((name.to_string(), value.to_string()));
        }
    }
    let mut names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    let mut read: Vec<&str> = somebot::config::VARS.iter().copied().chain([somebot::config::LOG_VAR]).collect();
    read.sort();
    assert_eq!(names, read, "every variable the binary reads, once");
    // The values shown are the defaults: setting them changes no timing.
    let timings = |pairs: &[(String, String)]| {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let cfg = somebot::config::Config::from_lookup(
            get,
            &Default::default(),
            somebot::config::Needs::DatabaseOnly,
            "x.db",
        );
        cfg.unwrap().timings
    };
    assert_eq!(timings(&listed), timings(&[]));

    // And as a file: the same answer with a copy as .env as without it.
    let plain = tempfile::tempdir().unwrap();
    let copied = tempfile::tempdir().unwrap();
    std::fs::write(copied.path().join(".env"), &example).unwrap();
    let a = somebot(&["check"], &[], plain.path());
    let b = somebot(&["check"], &[], copied.path());
    assert!(a.status.success() && b.status.success(), "{}{}", text(&a), text(&b));
    assert_eq!(text(&a), text(&b));
}
