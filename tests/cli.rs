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
