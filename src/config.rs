//! Configuration, read once at start from environment variables and command-line flags into
//! one typed [`Config`]. Every missing or malformed value is reported in one message that names
//! the variable and the fix; the token is wrapped so it never appears in logs or `Debug`.
//! [`prepare_environment`] runs first: it reads a `.env` file and makes an empty value count as
//! unset, for every reader of the environment alike.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Every environment variable the binary reads. `.env.example` lists each with its default
/// (a test checks), and an empty value of any of them counts as unset.
pub const VARS: [&str; 17] = [
    "DISCORD_TOKEN",
    "DATABASE_URL",
    "SOMEBOT_DATA_DIR",
    "DISCORD_GUILD_ID",
    "DISCORD_API_URL",
    "SOMEBOT_METRICS_ADDR",
    "SOMEBOT_STARTUP_ATTEMPTS",
    "SOMEBOT_SHARD",
    "SOMEBOT_REPORT_KEY",
    "SOMEBOT_REPORT_ACK_HOURS",
    "SOMEBOT_REPORT_RETENTION_DAYS",
    "SOMEBOT_CHANNEL_REMINDER_HOURS",
    "SOMEBOT_CHANNEL_EXPIRY_DAYS",
    "SOMEBOT_APPROVAL_REMINDER_WORKDAYS",
    "SOMEBOT_APPROVAL_ESCALATION_WORKDAYS",
    "SOMEBOT_REVIEW_INTERVAL_DAYS",
    "SOMEBOT_REVIEW_ANSWER_DAYS",
];

/// `RUST_LOG` is read by the log filter; it obeys the same rules as [`VARS`].
pub const LOG_VAR: &str = "RUST_LOG";

/// The `.env` file read from the working directory.
pub const DOTENV: &str = ".env";

/// The Docker image's defaults (`SOMEBOT_DATA_DIR=/data`, `SOMEBOT_METRICS_ADDR=0.0.0.0:9100`).
/// They are a file rather than the image's `ENV`, because `docker run --env-file` or `-e NAME=`
/// would replace an `ENV` value with an empty one; read last, they apply wherever neither the
/// environment nor `.env` gives a value.
pub const IMAGE_DEFAULTS: &str = "/etc/somebot/defaults.env";

/// Prepares the process environment before anything reads it: call it first in `main`, before
/// any thread starts (it sets variables). Afterwards clap, the log filter and [`Config`] see the
/// same thing:
///
/// - a variable of [`VARS`] (or `RUST_LOG`) set to an empty value is removed, so that a default
///   applies, as an empty line of an env file or `-e NAME=` would have it;
/// - then each file of `files` that exists, in order, sets the variables still unset (the
///   environment wins over `.env`, both over the image's defaults; an empty value sets nothing).
///
/// Returns the files read. A line a file cannot be parsed at is one problem naming the file and
/// the line, never the value (it may be a secret).
pub fn prepare_environment(files: &[&Path]) -> Result<Vec<PathBuf>, ConfigError> {
    for name in VARS.iter().copied().chain([LOG_VAR]) {
        if std::env::var_os(name).is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
            std::env::remove_var(name);
        }
    }
    let mut read = Vec::new();
    for path in files {
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(env_file_problem(path, format!("cannot be read ({e})"))),
        };
        let Ok(text) = String::from_utf8(text) else {
            return Err(env_file_problem(path, "is not UTF-8 text".into()));
        };
        for (name, value) in unset_pairs(&parse_env_file(path, &text)?, |k| std::env::var_os(k).is_some()) {
            std::env::set_var(name, value);
        }
        read.push(path.to_path_buf());
    }
    Ok(read)
}

/// The `NAME=value` pairs of an env file, in order.
fn parse_env_file(path: &Path, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    dotenvy::from_read_iter(text.as_bytes())
        .map(|item| {
            item.map_err(|e| match e {
                dotenvy::Error::LineParse(line, _) => {
                    let number = text.find(&line).map_or(0, |at| text[..at].matches('\n').count() + 1);
                    env_file_problem(path, format!("cannot be parsed at line {number}"))
                }
                e => env_file_problem(path, format!("cannot be read ({e})")),
            })
        })
        .collect()
}

/// The pairs that set something: a non-empty value of a variable not set yet (by `is_set`, or by
/// an earlier line).
fn unset_pairs(pairs: &[(String, String)], is_set: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in pairs {
        if !value.trim().is_empty() && !is_set(name) && !out.iter().any(|(n, _)| n == name) {
            out.push((name.clone(), value.clone()));
        }
    }
    out
}

fn env_file_problem(path: &Path, problem: String) -> ConfigError {
    ConfigError(vec![Problem {
        var: "env file",
        problem: format!("{} {problem}", path.display()),
        fix: "write each line as NAME=value (see .env.example), or remove the file".into(),
    }])
}

/// A secret string (the bot token). `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DISCORD_TOKEN`: the bot token (required by `run`).
    pub token: Option<Secret>,
    /// `DATABASE_URL`, or a SQLite file in the data directory.
    pub database_url: String,
    /// `SOMEBOT_DATA_DIR`, or the working directory.
    pub data_dir: PathBuf,
    /// `DISCORD_GUILD_ID`: register commands to this guild (instant) instead of globally.
    pub guild_id: Option<u64>,
    /// `DISCORD_API_URL`: a Discord-compatible REST API standing where https://discord.com is.
    pub api_url: Option<String>,
    /// `--shard ID/COUNT`: the one shard this process serves; `None` lets serenity autoshard.
    pub shard: Option<(u32, u32)>,
    /// `SOMEBOT_METRICS_ADDR`: where `/healthz` and `/metrics` are served, if anywhere.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Reminder, escalation, expiry and review times (`SOMEBOT_*` variables).
    pub timings: crate::ctx::Timings,
    /// `SOMEBOT_REPORT_KEY` (64 hex digits): the key that seals threat reports. When unset,
    /// the file `report.key` in the data directory is used, created on first start.
    pub report_key: Option<crate::crypto::ReportKey>,
}

/// The timing variables: name, what it sets, unit in milliseconds, and how to set it.
const TIMING_VARS: [(&str, &str); 8] = [
    ("SOMEBOT_CHANNEL_REMINDER_HOURS", "hours"),
    ("SOMEBOT_CHANNEL_EXPIRY_DAYS", "days"),
    ("SOMEBOT_APPROVAL_REMINDER_WORKDAYS", "working days"),
    ("SOMEBOT_APPROVAL_ESCALATION_WORKDAYS", "working days"),
    ("SOMEBOT_REVIEW_INTERVAL_DAYS", "days"),
    ("SOMEBOT_REVIEW_ANSWER_DAYS", "days"),
    ("SOMEBOT_REPORT_ACK_HOURS", "hours"),
    ("SOMEBOT_REPORT_RETENTION_DAYS", "days"),
];

/// Values given on the command line; they win over the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// One bad variable and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub var: &'static str,
    pub problem: String,
    pub fix: String,
}

/// Every problem found, printed one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub Vec<Problem>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "configuration error: {} {}; {}", p.var, p.problem, p.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// What the command about to run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// `run`: a Discord token is required.
    Discord,
    /// Everything else: the database only.
    DatabaseOnly,
}

/// The default SQLite file name in the data directory.
pub const DEFAULT_DB_FILE: &str = "somebot.db";

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env(overrides: &Overrides, needs: Needs) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok(), overrides, needs, DEFAULT_DB_FILE)
    }

    /// Reads the configuration through `get` (the environment, or a map in tests).
    /// `default_db_file` is the SQLite file used when `DATABASE_URL` is not set.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
        needs: Needs,
        default_db_file: &str,
    ) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let var = |k: &str| value(&get, k);

        let token = match var("DISCORD_TOKEN") {
            Some(t) => {
                let t = t.strip_prefix("Bot ").unwrap_or(&t).trim().to_string();
                if t.is_empty() || t.chars().any(char::is_whitespace) {
                    problems.push(Problem {
                        var: "DISCORD_TOKEN",
                        problem: "contains spaces".into(),
                        fix:
                            "copy the token again from the Bot page of your application in the Discord developer portal"
                                .into(),
                    });
                    None
                } else {
                    Some(Secret::new(t))
                }
            }
            None => {
                if needs == Needs::Discord {
                    problems.push(Problem {
                        var: "DISCORD_TOKEN",
                        problem: "is not set".into(),
                        fix: "set it to your bot's token (Discord developer portal, Bot, Reset Token), or run `somebot chat` to try the bot without Discord".into(),
                    });
                }
                None
            }
        };

        let data_dir = overrides
            .data_dir
            .clone()
            .or_else(|| var("SOMEBOT_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));

        let database_url = match overrides.database_url.clone().or_else(|| var("DATABASE_URL")) {
            Some(url) => {
                if let Err(why) = check_database_url(&url) {
                    problems.push(Problem {
                        var: "DATABASE_URL",
                        problem: why,
                        fix: "use sqlite://PATH (for example sqlite://somebot.db) or postgres://USER@HOST:PORT/DATABASE, or unset it to use the default SQLite file".into(),
                    });
                }
                url
            }
            None => {
                let path = data_dir.join(default_db_file);
                format!("sqlite://{}", path.display())
            }
        };

        let guild_id = match var("DISCORD_GUILD_ID") {
            Some(v) => match u64::from_str(&v) {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    problems.push(Problem {
                        var: "DISCORD_GUILD_ID",
                        problem: format!("is not a Discord server id ({v:?})"),
                        fix: "set it to the numeric server id (Discord: Developer Mode, right-click the server, Copy Server ID), or unset it to register commands globally".into(),
                    });
                    None
                }
            },
            None => None,
        };

        let api_url = match var("DISCORD_API_URL") {
            Some(v) => {
                let v = v.trim_end_matches('/').to_string();
                if (v.starts_with("http://") || v.starts_with("https://")) && v.len() > "https://".len() {
                    Some(v)
                } else {
                    problems.push(Problem {
                        var: "DISCORD_API_URL",
                        problem: format!("is not an http(s) URL ({v:?})"),
                        fix: "set it to the base URL that stands where https://discord.com would (for example http://127.0.0.1:8080), or unset it to talk to Discord".into(),
                    });
                    None
                }
            }
            None => None,
        };

        let metrics_addr = metrics_addr(&get).unwrap_or_else(|p| {
            problems.push(p);
            None
        });

        let mut timings = crate::ctx::Timings::default();
        for (name, unit) in TIMING_VARS {
            let Some(v) = var(name) else { continue };
            match v.parse::<u32>() {
                Ok(n) if n > 0 && n <= 3650 => {
                    let n64 = i64::from(n);
                    match name {
                        "SOMEBOT_CHANNEL_REMINDER_HOURS" => timings.conversation_reminder_ms = n64 * crate::clock::HOUR,
                        "SOMEBOT_CHANNEL_EXPIRY_DAYS" => timings.conversation_expiry_ms = n64 * crate::clock::DAY,
                        "SOMEBOT_APPROVAL_REMINDER_WORKDAYS" => timings.approval_reminder_working_days = n,
                        "SOMEBOT_APPROVAL_ESCALATION_WORKDAYS" => timings.approval_escalation_working_days = n,
                        "SOMEBOT_REVIEW_INTERVAL_DAYS" => timings.review_interval_ms = n64 * crate::clock::DAY,
                        "SOMEBOT_REPORT_ACK_HOURS" => timings.report_ack_timeout_ms = n64 * crate::clock::HOUR,
                        "SOMEBOT_REPORT_RETENTION_DAYS" => timings.report_retention_ms = n64 * crate::clock::DAY,
                        _ => timings.review_answer_ms = n64 * crate::clock::DAY,
                    }
                }
                _ => problems.push(Problem {
                    var: name,
                    problem: format!("is not a whole number of {unit} from 1 to 3650 ({v:?})"),
                    fix: "set a whole number, or unset it for the default".into(),
                }),
            }
        }

        let key_var = crate::crypto::KEY_VAR;
        let report_key = match var(key_var) {
            Some(v) => match crate::crypto::ReportKey::from_hex(&v) {
                Ok(k) => Some(k),
                Err(why) => {
                    problems.push(Problem {
                        var: key_var,
                        problem: why,
                        fix: "set it to 64 hex digits (32 bytes, for example from `openssl rand -hex 32`), or unset it to use the key file report.key in SOMEBOT_DATA_DIR".into(),
                    });
                    None
                }
            },
            None => None,
        };

        if problems.is_empty() {
            Ok(Config {
                token,
                database_url,
                data_dir,
                guild_id,
                api_url,
                shard: None,
                metrics_addr,
                timings,
                report_key,
            })
        } else {
            Err(ConfigError(problems))
        }
    }
}

/// A variable's value read through `get`, trimmed; an empty one counts as unset.
fn value(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `SOMEBOT_METRICS_ADDR` read through `get`: where `run` serves `/healthz` and `/metrics`, and
/// where `somebot healthcheck` looks; `None` when unset.
pub fn metrics_addr(get: &impl Fn(&str) -> Option<String>) -> Result<Option<std::net::SocketAddr>, Problem> {
    let Some(v) = value(get, "SOMEBOT_METRICS_ADDR") else {
        return Ok(None);
    };
    v.parse().map(Some).map_err(|_| Problem {
        var: "SOMEBOT_METRICS_ADDR",
        problem: format!("is not an address with a port ({v:?})"),
        fix: "set it like 127.0.0.1:9100 (or 0.0.0.0:9100 in a container), or unset it".into(),
    })
}

/// Checks that a database URL names a backend we speak and parses.
pub fn check_database_url(url: &str) -> Result<(), String> {
    match crate::store::Backend::of_url(url) {
        None => Err("names neither SQLite nor PostgreSQL".into()),
        Some(crate::store::Backend::Postgres) => {
            let rest = url.split_once("://").map(|x| x.1).unwrap_or("");
            let host = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
            let host = host.split(['/', '?']).next().unwrap_or("");
            if host.is_empty() {
                Err("has no host".into())
            } else {
                sqlx::any::install_default_drivers();
                sqlx::any::AnyConnectOptions::from_str(url).map(|_| ()).map_err(|e| format!("cannot be parsed ({e})"))
            }
        }
        Some(crate::store::Backend::Sqlite) => {
            let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
            if rest.is_empty() {
                Err("has no file path".into())
            } else {
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)], needs: Needs) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned(), &Overrides::default(), needs, DEFAULT_DB_FILE)
    }

    #[test]
    fn defaults_need_nothing_but_the_token_for_run() {
        let c = load(&[], Needs::DatabaseOnly).unwrap();
        assert_eq!(c.database_url, "sqlite://./somebot.db");
        assert!(c.token.is_none() && c.guild_id.is_none() && c.api_url.is_none());
        let e = load(&[], Needs::Discord).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].var, "DISCORD_TOKEN");
        assert!(e.to_string().contains("somebot chat"));
    }

    #[test]
    fn every_bad_variable_is_named_at_once_and_no_secret_is_printed() {
        let e = load(
            &[
                ("DISCORD_TOKEN", "abc def"),
                ("DATABASE_URL", "mysql://x"),
                ("DISCORD_GUILD_ID", "volda"),
                ("DISCORD_API_URL", "localhost:80"),
            ],
            Needs::Discord,
        )
        .unwrap_err();
        let vars: Vec<_> = e.0.iter().map(|p| p.var).collect();
        assert_eq!(vars, ["DISCORD_TOKEN", "DATABASE_URL", "DISCORD_GUILD_ID", "DISCORD_API_URL"]);
        let text = e.to_string();
        assert_eq!(text.lines().count(), 4);
        assert!(!text.contains("abc def"));
    }

    #[test]
    fn good_values_are_typed() {
        let c = load(
            &[
                ("DISCORD_TOKEN", "Bot MTIz.abc.def"),
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
                ("DISCORD_GUILD_ID", "123"),
                ("DISCORD_API_URL", "http://127.0.0.1:9000/"),
                ("SOMEBOT_DATA_DIR", "/var/lib/somebot"),
            ],
            Needs::Discord,
        )
        .unwrap();
        assert_eq!(c.token.as_ref().map(Secret::expose), Some("MTIz.abc.def"));
        assert_eq!(format!("{:?}", c.token), "Some([redacted])");
        assert_eq!(c.guild_id, Some(123));
        assert_eq!(c.api_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/somebot"));
    }

    #[test]
    fn the_metrics_address_is_checked() {
        let c = load(&[("SOMEBOT_METRICS_ADDR", "127.0.0.1:9100")], Needs::DatabaseOnly).unwrap();
        assert_eq!(c.metrics_addr.map(|a| a.port()), Some(9100));
        let e = load(&[("SOMEBOT_METRICS_ADDR", "localhost")], Needs::DatabaseOnly).unwrap_err();
        assert_eq!(e.0[0].var, "SOMEBOT_METRICS_ADDR");
    }

    #[test]
    fn timings_are_configurable_and_checked() {
        let c = load(
            &[("SOMEBOT_CHANNEL_REMINDER_HOURS", "2"), ("SOMEBOT_APPROVAL_REMINDER_WORKDAYS", "5")],
            Needs::DatabaseOnly,
        )
        .unwrap();
        assert_eq!(c.timings.conversation_reminder_ms, 2 * crate::clock::HOUR);
        assert_eq!(c.timings.approval_reminder_working_days, 5);
        assert_eq!(c.timings.conversation_expiry_ms, 14 * crate::clock::DAY, "defaults stay");
        let e =
            load(&[("SOMEBOT_REVIEW_INTERVAL_DAYS", "0"), ("SOMEBOT_CHANNEL_EXPIRY_DAYS", "two")], Needs::DatabaseOnly)
                .unwrap_err();
        assert_eq!(e.0.len(), 2);
        let c = load(&[("SOMEBOT_REPORT_ACK_HOURS", "2")], Needs::DatabaseOnly).unwrap();
        assert_eq!(c.timings.report_ack_timeout_ms, 2 * crate::clock::HOUR);
        assert_eq!(c.timings.report_retention_ms, 180 * crate::clock::DAY);
    }

    #[test]
    fn a_malformed_report_key_names_the_variable() {
        let e = load(&[("SOMEBOT_REPORT_KEY", "secret-but-short")], Needs::DatabaseOnly).unwrap_err();
        assert_eq!(e.0[0].var, "SOMEBOT_REPORT_KEY");
        assert!(!e.to_string().contains("secret-but-short"), "the value is not echoed");
        let c = load(&[("SOMEBOT_REPORT_KEY", &"0f".repeat(32))], Needs::DatabaseOnly).unwrap();
        assert!(c.report_key.is_some());
    }

    #[test]
    fn env_files_fill_only_what_is_unset_and_never_with_an_empty_value() {
        let path = Path::new("test.env");
        let pairs = parse_env_file(
            path,
            "\u{feff}# a comment\nDATABASE_URL=sqlite://a.db\nSOMEBOT_METRICS_ADDR=\nexport RUST_LOG=\"debug\"\nDATABASE_URL=sqlite://b.db\nDISCORD_TOKEN='x'\n",
        )
        .unwrap();
        assert_eq!(pairs[0], ("DATABASE_URL".to_string(), "sqlite://a.db".to_string()), "{pairs:?}");
        let set = unset_pairs(&pairs, |k| k == "DISCORD_TOKEN");
        let names: Vec<&str> = set.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["DATABASE_URL", "RUST_LOG"], "not the empty one, nor what is set already");
        assert_eq!(set[0].1, "sqlite://a.db", "the first line of a name wins");
        assert_eq!(set[1].1, "debug", "quotes are the file's syntax");
        // The image's defaults come after .env: what .env set counts as set.
        let defaults = parse_env_file(path, "SOMEBOT_METRICS_ADDR=0.0.0.0:9100\nDATABASE_URL=sqlite://c.db\n").unwrap();
        let later = unset_pairs(&defaults, |k| set.iter().any(|(n, _)| n == k));
        assert_eq!(later, [("SOMEBOT_METRICS_ADDR".to_string(), "0.0.0.0:9100".to_string())]);
    }

    #[test]
    fn a_bad_env_file_line_is_named_by_number_without_its_value() {
        let e = parse_env_file(Path::new("/srv/.env"), "A=1\n\nDISCORD_TOKEN=\"unterminated secret\n").unwrap_err();
        let text = e.to_string();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("/srv/.env") && text.contains("line 3"), "{text}");
        assert!(!text.contains("secret"), "the value is not echoed: {text}");
    }

    #[test]
    fn every_variable_read_is_in_the_list() {
        for (name, _) in TIMING_VARS {
            assert!(VARS.contains(&name), "{name}");
        }
        for name in ["SOMEBOT_METRICS_ADDR", crate::crypto::KEY_VAR, "DISCORD_TOKEN"] {
            assert!(VARS.contains(&name), "{name}");
        }
    }

    #[test]
    fn database_urls_are_checked() {
        assert!(check_database_url("sqlite://somebot.db").is_ok());
        assert!(check_database_url("sqlite::memory:").is_ok());
        assert!(check_database_url("postgres://postgres@127.0.0.1:5432/test").is_ok());
        assert!(check_database_url("postgres://").is_err());
        assert!(check_database_url("sqlite://").is_err());
        assert!(check_database_url("file.db").is_err());
    }
}
