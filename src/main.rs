//! The `somebot` command line: `run` (the Discord bot), `chat` (the terminal sandbox), `ask`,
//! `eval`, `unanswered`, `migrate` and `check`. Configuration errors exit with code 2 and one
//! line per problem; nothing panics on bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use somebot::clock::SystemClock;
use somebot::config::{Config, ConfigError, Needs, Overrides, Problem};
use somebot::guideline::{handlers, search};
use somebot::i18n::Locale;
use somebot::store::Store;
use somebot::App;
use tracing_subscriber::EnvFilter;

/// The somebot Discord bot for Volda kommune's social-media guidelines.
#[derive(Parser, Debug)]
#[command(name = "somebot", version, about)]
struct Cli {
    /// Database URL (overrides DATABASE_URL): sqlite://FILE or postgres://USER@HOST:PORT/DB.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Directory for the default SQLite file and the report key (overrides SOMEBOT_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Connect to Discord and serve (the default when DISCORD_TOKEN is set).
    Run {
        /// How many times to try reaching Discord at start before giving up (exit 2).
        #[arg(long, env = "SOMEBOT_STARTUP_ATTEMPTS", default_value_t = 6)]
        startup_attempts: u32,
        /// Serve only shard ID of COUNT (`--shard 0/2`), for several processes sharing one
        /// PostgreSQL database; without it serenity's autosharding picks the count.
        #[arg(long, env = "SOMEBOT_SHARD", value_parser = parse_shard)]
        shard: Option<(u32, u32)>,
    },
    /// Try the bot in the terminal, without Discord (the default without DISCORD_TOKEN).
    Chat,
    /// Answer a question from the guideline, as /guideline ask would.
    Ask {
        /// The question.
        question: String,
        /// Print one JSON object with the ranked point ids instead of the answer.
        #[arg(long)]
        json: bool,
        /// Answer in English instead of Nynorsk.
        #[arg(long, default_value = "nn")]
        lang: String,
    },
    /// Score the question search on an evaluation set (JSON lines with q and expect), or
    /// cross-validate it over every labelled question with --folds.
    Eval {
        /// The evaluation set; defaults to ../shared/eval/guideline-questions.dev.jsonl (with
        /// --folds: the dev set of the pool).
        #[arg(long)]
        set: Option<PathBuf>,
        /// k-fold cross-validation over the example memory, the dev set and the holdout fixture
        /// (each fold left out of the memory and of the fitting): the honest figures.
        #[arg(long)]
        folds: Option<usize>,
        /// The holdout set of the pool (with --folds).
        #[arg(long, default_value = "tests/fixtures/guideline-questions.holdout.jsonl")]
        holdout: PathBuf,
        /// The seed of the folds (with --folds).
        #[arg(long, default_value_t = somebot::guideline::eval::DEFAULT_SEED)]
        seed: u64,
        /// Also fit the calibration on every labelled question and write it to this file
        /// (prompts/search/calibration.toml), with --folds.
        #[arg(long)]
        write_calibration: Option<PathBuf>,
    },
    /// List questions that got no answer or were voted down.
    Unanswered,
    /// Configure a server from the command line, as `/setup` does in Discord.
    Setup {
        /// The server (guild) id; defaults to DISCORD_GUILD_ID.
        #[arg(long, env = "DISCORD_GUILD_ID")]
        guild: u64,
        #[command(subcommand)]
        action: SetupCmd,
    },
    /// The organisation register: who manages whom.
    Org {
        #[command(subcommand)]
        action: OrgCmd,
    },
    /// Exit 0 when the running bot's /healthz (on SOMEBOT_METRICS_ADDR) answers 200; for the
    /// Docker HEALTHCHECK.
    Healthcheck,
    /// Apply database migrations and exit.
    Migrate,
    /// Check configuration, database and prompts; exit 0 when all is well, 2 otherwise.
    Check,
}

#[derive(Subcommand, Debug)]
enum SetupCmd {
    /// The role whose members are the communications officers.
    CommunicationsRole { role: u64 },
    /// The channel where channel requests are reviewed.
    ReviewChannel { channel: u64 },
    /// Record an employee's line manager (user ids).
    Manager { employee: u64, manager: u64 },
    /// Add (or with --remove, remove) an alternate recipient of threat reports.
    Alternate {
        user: u64,
        #[arg(long)]
        remove: bool,
    },
    /// Show the setup.
    Show,
    /// List who manages whom.
    Managers,
}

#[derive(Subcommand, Debug)]
enum OrgCmd {
    /// Import `employee,manager` lines (ids, usernames or display names) from a CSV file.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The server (guild) id; defaults to DISCORD_GUILD_ID.
        #[arg(long, env = "DISCORD_GUILD_ID")]
        guild: u64,
    },
}

/// `ID/COUNT` with ID < COUNT.
fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (id, count) = s.split_once('/').ok_or("give the shard as ID/COUNT, for example 0/2")?;
    let id: u32 = id.trim().parse().map_err(|_| "the shard id is not a number")?;
    let count: u32 = count.trim().parse().map_err(|_| "the shard count is not a number")?;
    if count == 0 || id >= count {
        return Err("the shard id must be smaller than the count (0/2 and 1/2 for two processes)".into());
    }
    Ok((id, count))
}

/// The operator at the command line acts as an admin of the server; user id 0 marks the
/// command line in the audit trails.
fn operator(guild: u64) -> somebot::core::Actor {
    somebot::core::Actor {
        user_id: 0,
        guild_id: Some(guild),
        channel_id: None,
        locale: Locale::Nn,
        display_name: "command line".into(),
        can_manage_guild: true,
        role_ids: Vec::new(),
    }
}

fn init_tracing(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only on a terminal: a log file or the journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).try_init();
}

/// Logs to the end of the file at `path` (created if need be), in plain text.
fn init_tracing_to_file(default: &str, path: &std::path::Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let writer = std::sync::Mutex::new(file);
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init();
    Ok(())
}

/// Prints an error for the operator and returns exit code 2.
fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // Before the runtime's threads start and before clap reads its `env` defaults: empty values
    // count as unset, then `.env` and the Docker image's defaults fill in what is unset.
    use somebot::config::{prepare_environment, DOTENV, IMAGE_DEFAULTS};
    if let Err(e) = prepare_environment(&[std::path::Path::new(DOTENV), std::path::Path::new(IMAGE_DEFAULTS)]) {
        return fail(e);
    }
    let cli = Cli::parse();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(serve(cli)),
        Err(e) => fail(format!("somebot: cannot start the async runtime: {e}")),
    }
}

async fn serve(cli: Cli) -> ExitCode {
    let overrides = Overrides { database_url: cli.database_url.clone(), data_dir: cli.data_dir.clone() };
    let command = cli.command.unwrap_or_else(|| {
        if std::env::var_os("DISCORD_TOKEN").is_some() {
            Cmd::Run { startup_attempts: 6, shard: None }
        } else {
            eprintln!("DISCORD_TOKEN is not set: starting the terminal sandbox (somebot chat). Set it to run the Discord bot.");
            Cmd::Chat
        }
    });
    match command {
        Cmd::Run { startup_attempts, shard } => {
            init_tracing("info,serenity=warn,sqlx=warn");
            let mut cfg = match Config::from_env(&overrides, Needs::Discord) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            cfg.shard = shard;
            let app = match open_app(&cfg).await {
                Ok(a) => a,
                Err(code) => return code,
            };
            match somebot::discord::run(cfg, app, startup_attempts).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("somebot run: {e}")),
            }
        }
        Cmd::Chat => {
            let cfg = match Config::from_lookup(
                |k| std::env::var(k).ok(),
                &overrides,
                Needs::DatabaseOnly,
                "somebot-sandbox.db",
            ) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            let clock = somebot::clock::OffsetClock::default();
            let app = match open_app(&cfg).await {
                Ok(a) => App { clock: Arc::new(clock.clone()), ..a },
                Err(code) => return code,
            };
            // Log lines go to a file beside the database: printed, they would land in the middle
            // of the conversation.
            let log = cfg.data_dir.join(somebot::sandbox::LOG_FILE);
            let log = match init_tracing_to_file("info,sqlx=warn", &log) {
                Ok(()) => Some(log),
                Err(e) => {
                    eprintln!("The sandbox keeps no log: {} cannot be written ({e}).", log.display());
                    None
                }
            };
            eprintln!("Sandbox database: {}", cfg.database_url);
            let result = somebot::sandbox::run(app.clone(), clock, log).await;
            app.store.close().await;
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("somebot chat: terminal error: {e}")),
            }
        }
        Cmd::Ask { question, json, lang } => {
            init_tracing("warn");
            let outcome = search::search(&question);
            if json {
                let v = serde_json::json!({
                    "question": question,
                    "declined": outcome.declined,
                    "results": outcome.results,
                    "uncertain": outcome.uncertain,
                    "alternatives": outcome.alternatives,
                    "topic": outcome.topic,
                });
                println!("{v}");
            } else {
                let locale = if lang.starts_with("en") { Locale::En } else { Locale::Nn };
                let m = handlers::answer(locale, &outcome, None);
                print!("{}", somebot::sandbox::render(&m, 1));
            }
            ExitCode::SUCCESS
        }
        Cmd::Eval { set, folds, holdout, seed, write_calibration } => {
            init_tracing("warn");
            let path = set.unwrap_or_else(|| PathBuf::from("../shared/eval/guideline-questions.dev.jsonl"));
            let Some(folds) = folds else {
                if write_calibration.is_some() {
                    return fail("somebot eval: --write-calibration needs --folds".to_string());
                }
                return match somebot::guideline::eval::evaluate(&path) {
                    Ok(report) => {
                        println!("{report}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(format!("somebot eval: cannot read {}: {e}", path.display())),
                };
            };
            use somebot::guideline::eval;
            if folds < 2 {
                return fail("somebot eval: --folds needs at least 2".to_string());
            }
            let pool = match eval::labelled_pool(&path, &holdout) {
                Ok(p) => p,
                Err(e) => return fail(format!("somebot eval: cannot read the question sets: {e}")),
            };
            println!("{}", eval::cross_validate(&pool, folds, seed));
            if let Some(out) = write_calibration {
                let text = eval::calibration_file(&eval::calibrate(&pool, seed), seed);
                if let Err(e) = std::fs::write(&out, text) {
                    return fail(format!("somebot eval: cannot write {}: {e}", out.display()));
                }
                println!("calibration written to {}", out.display());
            }
            ExitCode::SUCCESS
        }
        Cmd::Unanswered => {
            init_tracing("warn,sqlx=error");
            let (_cfg, app) = match database_app(&overrides).await {
                Ok(x) => x,
                Err(code) => return code,
            };
            let code = match app.store.question_gaps(200).await {
                Ok(gaps) if gaps.is_empty() => {
                    println!("No unanswered or down-voted questions.");
                    ExitCode::SUCCESS
                }
                Ok(gaps) => {
                    for q in gaps {
                        let why = if q.declined {
                            "declined".to_string()
                        } else {
                            format!("voted down ({})", q.point_ids.join(","))
                        };
                        println!("{}\t{}\t{}\t{}", q.id, q.locale, why, q.question.replace(['\n', '\t'], " "));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("somebot unanswered: database error: {e}")),
            };
            app.store.close().await;
            code
        }
        Cmd::Setup { guild, action } => {
            use somebot::core::{CommandInput, Input, OptionValue};
            init_tracing("warn,sqlx=error");
            let (_cfg, app) = match database_app(&overrides).await {
                Ok(x) => x,
                Err(code) => return code,
            };
            let (sub, options): (&str, Vec<(&str, OptionValue)>) = match action {
                SetupCmd::CommunicationsRole { role } => {
                    ("communications-role", vec![("role", OptionValue::Role(role))])
                }
                SetupCmd::ReviewChannel { channel } => {
                    ("review-channel", vec![("channel", OptionValue::Channel(channel))])
                }
                SetupCmd::Manager { employee, manager } => (
                    "manager",
                    vec![("employee", OptionValue::User(employee)), ("manager", OptionValue::User(manager))],
                ),
                SetupCmd::Alternate { user, remove } => {
                    ("alternate", vec![("user", OptionValue::User(user)), ("remove", OptionValue::Bool(remove))])
                }
                SetupCmd::Show => ("show", Vec::new()),
                SetupCmd::Managers => ("managers", Vec::new()),
            };
            let input = Input::Command(CommandInput {
                name: "setup".into(),
                subcommand: vec![sub.into()],
                options: options.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            });
            let outcome = app.handle(&operator(guild), input).await;
            if let somebot::core::Reply::Message(m) = &outcome.reply {
                print!("{}", somebot::sandbox::render(m, 1));
            }
            app.store.close().await;
            ExitCode::SUCCESS
        }
        Cmd::Org { action: OrgCmd::Import { file, guild } } => {
            init_tracing("warn,sqlx=error");
            let text = match std::fs::read(&file) {
                Ok(b) if b.len() <= somebot::org::MAX_IMPORT_BYTES => match String::from_utf8(b) {
                    Ok(t) => t,
                    Err(_) => return fail(format!("somebot org import: {} is not UTF-8 text", file.display())),
                },
                Ok(_) => return fail(format!("somebot org import: {} is larger than 1 MB", file.display())),
                Err(e) => return fail(format!("somebot org import: cannot read {}: {e}", file.display())),
            };
            let (_cfg, app) = match database_app(&overrides).await {
                Ok(x) => x,
                Err(code) => return code,
            };
            let code = match somebot::org::import_managers(&app.cx(), guild, &text, 0).await {
                Ok(report) => {
                    println!("{}", report.render(Locale::En));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("somebot org import: {e:?}")),
            };
            app.store.close().await;
            code
        }
        Cmd::Healthcheck => {
            let addr = match somebot::config::metrics_addr(&|k| std::env::var(k).ok()) {
                Ok(Some(addr)) => addr,
                Ok(None) => {
                    return fail(ConfigError(vec![Problem {
                        var: "SOMEBOT_METRICS_ADDR",
                        problem: "is not set".into(),
                        fix: "set it (for example 127.0.0.1:9100) for `run` and for the health check".into(),
                    }]))
                }
                Err(p) => return fail(ConfigError(vec![p])),
            };
            match somebot::metrics::probe(addr).await {
                Ok(()) => {
                    println!("healthy");
                    ExitCode::SUCCESS
                }
                Err(why) => {
                    eprintln!("unhealthy: {why}");
                    ExitCode::from(1)
                }
            }
        }
        Cmd::Migrate => {
            init_tracing("info,sqlx=warn");
            let cfg = match Config::from_env(&overrides, Needs::DatabaseOnly) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            match open_app(&cfg).await {
                Ok(app) => {
                    let n = app.store.applied_migrations().await.map(|v| v.len()).unwrap_or(0);
                    println!("Database is up to date ({n} migrations applied): {}", redact_url(&cfg.database_url));
                    app.store.close().await;
                    ExitCode::SUCCESS
                }
                Err(code) => code,
            }
        }
        Cmd::Check => {
            init_tracing("warn,sqlx=error");
            check(&overrides).await
        }
    }
}

/// The configuration and core of a command that needs only the database.
async fn database_app(overrides: &Overrides) -> Result<(Config, App), ExitCode> {
    let cfg = Config::from_env(overrides, Needs::DatabaseOnly).map_err(fail)?;
    let app = open_app(&cfg).await?;
    Ok((cfg, app))
}

/// Opens the database (creating the data directory for the default SQLite file) and applies
/// migrations. Failures are reported in one line with exit code 2.
async fn open_app(cfg: &Config) -> Result<App, ExitCode> {
    if cfg.database_url.starts_with("sqlite:") {
        if let Err(e) = std::fs::create_dir_all(&cfg.data_dir) {
            return Err(fail(format!(
                "configuration error: SOMEBOT_DATA_DIR {} cannot be created ({e}); point it at a writable directory",
                cfg.data_dir.display()
            )));
        }
    }
    let report_key = match &cfg.report_key {
        Some(k) => k.clone(),
        None => {
            use somebot::threat_report::crypto::{load_or_create, KeySource};
            match load_or_create(None, &cfg.data_dir) {
                Ok((k, KeySource::Created(path))) => {
                    eprintln!(
                        "Created the report key file {} (mode 0600). Keep it and back it up: without it stored threat reports cannot be read.",
                        path.display()
                    );
                    k
                }
                Ok((k, _)) => k,
                Err(e) => return Err(fail(e)),
            }
        }
    };
    match Store::open(&cfg.database_url).await {
        Ok(store) => {
            let mut app = App::new(store, Arc::new(SystemClock));
            app.timings = cfg.timings.clone();
            app.report_key = Arc::new(report_key);
            Ok(app)
        }
        Err(e) => Err(fail(format!(
            "database error: {} ({e:#}); check DATABASE_URL and that the database server is running",
            redact_url(&cfg.database_url)
        ))),
    }
}

/// Hides a password in a database URL.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `somebot check`: configuration, database and prompts.
async fn check(overrides: &Overrides) -> ExitCode {
    let mut ok = true;
    let cfg = match Config::from_env(overrides, Needs::DatabaseOnly) {
        Ok(c) => {
            println!("ok   configuration");
            if c.token.is_none() {
                println!("note DISCORD_TOKEN is not set: `somebot run` needs it; `somebot chat` does not");
            }
            Some(c)
        }
        Err(e) => {
            println!("FAIL {e}");
            ok = false;
            None
        }
    };
    if let Some(cfg) = &cfg {
        match Store::connect(&cfg.database_url).await {
            Ok(store) => {
                let applied = store.applied_migrations().await.map(|v| v.len()).unwrap_or(0);
                let known = store.known_migrations();
                if applied == known {
                    println!("ok   database {} ({applied} migrations applied)", redact_url(&cfg.database_url));
                } else {
                    println!("note database {} has {applied} of {known} migrations; `somebot migrate` or `somebot run` applies them", redact_url(&cfg.database_url));
                }
                store.close().await;
            }
            Err(e) => {
                println!("FAIL database {}: {e:#}", redact_url(&cfg.database_url));
                ok = false;
            }
        }
    }
    match somebot::prompts_check() {
        Ok(n) => println!("ok   prompts ({n} messages in each language, guideline in nn and en)"),
        Err(e) => {
            println!("FAIL prompts: {e}");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
