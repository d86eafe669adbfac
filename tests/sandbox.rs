//! `somebot chat` drives the same core: a whole /new-channel approval and a guideline question,
//! played by one person switching roles, on a fresh SQLite database.

use std::sync::Arc;

use somebot::clock::OffsetClock;
use somebot::sandbox::Sandbox;
use somebot::store::Store;
use somebot::App;

async fn sandbox() -> (Sandbox, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("s.db").display())).await.unwrap();
    let clock = OffsetClock::default();
    let sb = Sandbox::with_clock(App::new(store, Arc::new(clock.clone())), clock);
    sb.seed().await.unwrap();
    (sb, dir)
}

async fn say(sb: &mut Sandbox, line: &str) -> String {
    sb.line(line).await.expect("not a quit")
}

/// The number the sandbox printed on the button or menu `label` in `shown` (`[5] Ja`, or
/// `[2] ✅ Godkjenn` with an emoji between).
fn number(shown: &str, label: &str) -> String {
    for line in shown.lines() {
        let mut from = 0;
        while let Some(at) = line[from..].find(label).map(|i| i + from) {
            let before = &line[..at];
            if let Some(open) = before.rfind('[') {
                if let Some((n, between)) = before[open + 1..].split_once(']') {
                    let emoji_only = between.chars().all(|c| !c.is_alphanumeric());
                    if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && emoji_only {
                        return n.to_string();
                    }
                }
            }
            from = at + label.len();
        }
    }
    panic!("no button {label:?} in:\n{shown}");
}

/// Presses the button `label` that `shown` printed.
async fn press(sb: &mut Sandbox, shown: &str, label: &str) -> String {
    let n = number(shown, label);
    say(sb, &n).await
}

/// Kari fills in a whole /new-channel request with Ola as the department head and sends it.
async fn submit_request(sb: &mut Sandbox) {
    let out = say(sb, "/new-channel").await;
    assert!(out.contains("direktemelding"), "{out}");
    assert!(out.contains("Spørsmål 1 av 13"), "the first question is shown as a DM: {out}");
    press(sb, &out, "Vel eitt alternativ").await; // the platform menu
    let mut shown = say(sb, "1").await; // Facebook
    for answer in [
        "Volda bibliotek",
        "Biblioteket",
        "Fleire lånarar til biblioteket",
        "Vaksne i Volda kommune",
        "Vi svarar på kommentarar kvar dag",
    ] {
        shown = say(sb, answer).await;
    }
    press(sb, &shown, "Ja").await; // yes, privacy
    let shown = say(sb, "Vi spør alltid skriftleg om samtykke").await;
    press(sb, &shown, "Ja").await; // yes, confidentiality
    say(sb, "Vi publiserer aldri noko om enkeltpersonar").await;
    say(sb, "To timar i veka til oppfølging").await;
    let shown = say(sb, "Kari Nordmann, Ola").await;
    let shown = press(sb, &shown, "Ja").await; // branding
    press(sb, &shown, "Ja").await; // comments
    let summary = say(sb, "Ola Leiar").await;
    assert!(summary.contains("Samandrag") && summary.contains("@Ola Leiar"), "{summary}");
    let sent = press(sb, &summary, "Send").await;
    assert!(sent.contains("KANAL-") && sent.contains("sent ola a direct message"), "{sent}");
}

#[tokio::test]
async fn a_channel_request_is_approved_by_switching_people() {
    let (mut sb, _dir) = sandbox().await;
    submit_request(&mut sb).await;

    let head = say(&mut sb, ":as ola").await;
    assert!(head.contains("Avklar og send vidare") && head.contains("Avslå"), "{head}");
    let approved = say(&mut sb, "1").await;
    assert!(approved.contains("vidare til informasjonskonsulenten"), "{approved}");
    assert!(approved.contains("posted in #godkjenning"), "the review channel gets it: {approved}");

    // The officer reviews in the channel: as Ingrid, the review post's buttons are hers.
    let list = say(&mut sb, "/channels list").await;
    assert!(list.contains("ingen godkjende"), "not approved yet: {list}");
    let officer = say(&mut sb, ":as ingrid").await;
    assert!(officer.contains("#godkjenning") && officer.contains("Be om endringar"), "{officer}");
    let done = say(&mut sb, "1").await;
    assert!(done.contains("har godkjent søknaden"), "{done}");
    let list = say(&mut sb, "/channels list").await;
    assert!(list.contains("KANAL-") && list.contains("Volda bibliotek"), "{list}");
    let kari = say(&mut sb, ":as kari").await;
    assert!(kari.contains("er godkjend"), "the requester is told: {kari}");
}

#[tokio::test]
async fn guideline_questions_and_personas_work() {
    let (mut sb, _dir) = sandbox().await;
    let out = say(&mut sb, "/guideline private-profile point:3h").await;
    assert!(out.contains("nærmaste leiar") && out.contains("[1] Del i kanalen"), "{out}");
    let shared = say(&mut sb, "1").await;
    assert!(shared.contains("posted in #general") && shared.contains("Delt av Kari Nordmann"), "{shared}");
    let who = say(&mut sb, ":who").await;
    assert!(who.contains("ingrid") && who.contains("officer"));
    assert!(say(&mut sb, ":as nobody").await.contains("No such person"));
    assert!(say(&mut sb, "/nope").await.contains("Unknown command"));
    assert!(say(&mut sb, "9").await.contains("no button"));
    assert!(sb.line(":quit").await.is_none());
}

#[tokio::test]
async fn a_threat_report_reaches_the_manager_and_nobody_else() {
    let (mut sb, _dir) = sandbox().await;
    say(&mut sb, ":as admin").await;
    say(&mut sb, "/setup manager employee:kari manager:ola").await;
    say(&mut sb, ":as kari").await;
    let intake = say(&mut sb, "/report-threat").await;
    assert!(intake.contains("112") && intake.contains("02800"), "{intake}");
    press(&mut sb, &intake, "Skriv meldinga").await; // write the report
    let mut shown = String::new();
    for field in ["Ein forelder truga meg i ein kommentar", "Facebook", "I går", "Ja"] {
        shown = say(&mut sb, field).await;
    }
    let sent = press(&mut sb, &shown, "Send").await;
    assert!(sent.contains("TRUGSMAL-") && sent.contains("sent ola a direct message"), "{sent}");
    assert!(!sent.contains("posted in"), "nothing is posted in a channel: {sent}");
    let manager = say(&mut sb, ":as ola").await;
    assert!(manager.contains("Ein forelder truga meg"), "{manager}");
    let ack = say(&mut sb, "1").await;
    assert!(ack.contains("stadfesta motteken"), "{ack}");
    assert!(say(&mut sb, ":as kari").await.contains("har stadfesta at meldinga di"));
    say(&mut sb, ":as ingrid").await;
    let others = say(&mut sb, "/reports").await;
    assert!(!others.contains("truga"), "someone else sees nothing: {others}");
}

#[tokio::test]
async fn timers_that_are_due_fire_right_after_wait() {
    let (mut sb, _dir) = sandbox().await;
    let started = say(&mut sb, "/new-channel").await;
    assert!(started.contains("Spørsmål 1 av 13"), "{started}");
    let early = say(&mut sb, ":wait 23h").await;
    assert!(!early.contains("direct message from somebot"), "nothing is due yet: {early}");
    // The conversation reminder is due after 24 hours: it comes with the `:wait`, not with the
    // next command.
    let waited = say(&mut sb, ":wait 2h").await;
    assert!(waited.contains("time moves 2h forward"), "{waited}");
    assert!(waited.contains("direct message from somebot") && waited.contains("er ikkje ferdig"), "{waited}");
}

#[tokio::test]
async fn labels_say_what_happened_and_where() {
    let (mut sb, _dir) = sandbox().await;
    submit_request(&mut sb).await;
    say(&mut sb, ":as ola").await;
    let approved = say(&mut sb, "1").await;
    // The head's button is on a DM: the DM is edited, and the bot posts in the review channel.
    assert!(approved.contains("── edited (direct message) ──"), "{approved}");
    assert!(approved.contains("── posted in #godkjenning ──"), "{approved}");
    assert!(!approved.contains("#general"), "{approved}");
    let officer = say(&mut sb, ":as ingrid").await;
    assert!(officer.contains("── new in #godkjenning (the review channel) ──"), "{officer}");
    let done = say(&mut sb, "1").await;
    assert!(done.contains("── edited in #godkjenning ──") && done.contains("har godkjent søknaden"), "{done}");
    assert!(!done.contains("posted in"), "the decision edits the review post, it posts nothing: {done}");
    // A command's public answer is posted where the command was typed.
    let out = say(&mut sb, "/guideline private-profile point:3h").await;
    let shared = say(&mut sb, "1").await;
    assert!(out.contains("Del i kanalen") && shared.contains("── posted in #general ──"), "{shared}");
}

#[tokio::test]
async fn the_buttons_of_the_last_few_messages_stay_pressable() {
    let (mut sb, _dir) = sandbox().await;
    // A DM with buttons, then another DM with buttons: the first keeps its buttons, the second's
    // are numbered after them.
    let question = say(&mut sb, "/new-channel").await;
    let menu = number(&question, "Vel eitt alternativ");
    let reminder = say(&mut sb, ":wait 25h").await;
    assert!(reminder.contains("er ikkje ferdig"), "{reminder}");
    let first_on_reminder = reminder.split_once("er ikkje ferdig").unwrap().1;
    let n: usize = first_on_reminder.split_once('[').unwrap().1.split_once(']').unwrap().0.parse().unwrap();
    assert!(n > 3, "the reminder's buttons come after the question's three: {reminder}");
    let options = say(&mut sb, &menu).await;
    assert!(options.contains("(1) Facebook"), "the question's menu still opens: {options}");
    say(&mut sb, "1").await;

    // Three answers with a share button each: numbered 1, 2, 3 across them; the oldest's is
    // still pressable.
    let (mut sb, _dir) = sandbox().await;
    let mut shown = Vec::new();
    for point in ["3a", "3b", "3b"] {
        shown.push(say(&mut sb, &format!("/guideline private-profile point:{point}")).await);
    }
    let numbers: Vec<String> = shown.iter().map(|s| number(s, "Del i kanalen")).collect();
    assert_eq!(numbers, ["1", "2", "3"], "{shown:?}");
    let oldest = say(&mut sb, "1").await;
    assert!(oldest.contains("posted in #general") && oldest.contains("Delt av Kari Nordmann"), "{oldest}");
    assert!(oldest.contains("ytringsfridom") && !oldest.contains("teieplikt"), "the first answer is shared: {oldest}");
    // Only the last 3 messages with buttons: after three newer ones, 1 is a newer answer's.
    for _ in 0..3 {
        say(&mut sb, "/guideline private-profile point:3b").await;
    }
    let newer = say(&mut sb, "1").await;
    assert!(newer.contains("teieplikt") && !newer.contains("ytringsfridom"), "{newer}");
    assert!(say(&mut sb, "9").await.contains("no button with that number on your last 3 messages"));
    assert!(sb.banner().contains("any [n] on your last 3 messages with buttons"), "the greeting says how");
    assert!(say(&mut sb, ":help").await.contains("any [n] on your last 3 messages with buttons"));
}

#[test]
fn log_lines_go_to_a_file_the_greeting_names_never_into_the_chat() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .arg("chat")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SOMEBOT_DATA_DIR", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A question answered and a request started are logged (info, the sandbox's default).
    let input = "/guideline ask Kan eg bruke jobbmailen privat?\n/new-channel\n:as ola\n:quit\n";
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    let chat = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{chat}");
    let log_path = dir.path().join("somebot-sandbox.log");
    assert!(
        chat.contains(&format!("Log lines go to {}, not here.", log_path.display())),
        "the greeting names the file: {chat}"
    );
    let log = std::fs::read_to_string(&log_path).expect("the log file is written");
    assert!(log.contains("guideline question answered") && log.contains("INFO"), "{log}");
    assert!(log.contains("channel request started"), "{log}");
    for level in [" INFO ", " WARN ", "ERROR ", "guideline question answered", "channel request started"] {
        assert!(!chat.contains(level), "no log line in the chat ({level}): {chat}");
    }
    assert!(!log.contains("\u{1b}["), "plain text, no colours: {log}");
}

#[tokio::test]
async fn typed_text_is_kept_whole_up_to_discords_limit() {
    let (mut sb, _dir) = sandbox().await;
    let question = say(&mut sb, "/new-channel").await;
    press(&mut sb, &question, "Vel eitt alternativ").await;
    let name = say(&mut sb, "1").await; // Facebook; the next question is the name, 100 at most
    assert!(name.contains("Spørsmål 2 av 13"), "{name}");
    // 4000 characters (7999 bytes) reach the bot whole: it counts them all.
    let long = format!("{}.", "æ".repeat(3999));
    let out = say(&mut sb, &long).await;
    assert!(out.contains("Svaret er for langt: 4000 teikn"), "{out}");
    // Beyond what Discord sends, the sandbox sends nothing, and says how long it was.
    let out = say(&mut sb, &"æ".repeat(5000)).await;
    assert!(out.contains("at most 4000 characters") && out.contains("this one has 5000"), "{out}");
    assert!(!out.contains("Svaret er for langt"), "nothing reached the bot: {out}");
}

/// Types into `somebot chat` on a pseudo-terminal, where the kernel keeps at most 4095 bytes of
/// a line in canonical mode: the line editor must read the whole line.
#[test]
fn a_long_line_typed_on_a_terminal_arrives_whole() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let slave = std::fs::File::from(pty.slave);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_somebot"))
        .arg("chat")
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("SOMEBOT_DATA_DIR", dir.path())
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let mut master = std::fs::File::from(pty.master);
    let seen = Arc::new(Mutex::new(String::new()));
    let reader = {
        let seen = seen.clone();
        let mut master = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            // Reading ends with an error (EIO) once the child has closed the terminal.
            while let Ok(n @ 1..) = master.read(&mut buf) {
                seen.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let wait_for = |needle: &str, after: usize| -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(i) = seen.lock().unwrap()[after..].find(needle) {
                return after + i + needle.len();
            }
            assert!(Instant::now() < deadline, "{needle:?} never came: {}", seen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let mut at = wait_for("kari> ", 0);
    for (line, answer) in [
        ("/new-channel", "Spørsmål 1 av 13"),
        ("1", "(1) Facebook"),
        ("1", "Spørsmål 2 av 13"),
        (&format!("{}.", "æ".repeat(3999)), "Svaret er for langt: 4000 teikn"),
        (&"æ".repeat(5000), "this one has 5000"),
    ] {
        master.write_all(format!("{line}\r").as_bytes()).unwrap();
        at = wait_for(answer, at);
    }
    master.write_all(b":quit\r").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "somebot chat did not end: {}", seen.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(master);
    reader.join().unwrap();
    assert!(!seen.lock().unwrap().contains("terminal error"), "{}", seen.lock().unwrap());
}
