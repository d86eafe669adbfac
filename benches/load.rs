//! Load benchmark: N concurrent simulated employees drive the real `somebot` binary (built by
//! `cargo bench` with the release profile) through the Discord stand-in of `tests/support`
//! (REST + gateway on 127.0.0.1), on SQLite and on PostgreSQL. In the same run a bare serenity
//! bot that answers `/ping` at once gives the floor: what serenity, the stand-in and this
//! machine cost before the bot does any work.
//!
//! For each kind of interaction it reports the time from the stand-in sending the dispatch to
//! the bot's interaction callback arriving (p50, p99, max), the throughput, the errors, and the
//! bot's idle and peak memory. An interaction not acknowledged within Discord's 3 s counts as an
//! error (the stand-in refuses a later callback, as Discord does), and so does a step of a
//! conversation that never arrives or a request that breaks Discord's OpenAPI spec: the run
//! exits non-zero on any error. The latencies are measured, not asserted; the targets are
//! printed beside them.
//!
//! ```text
//! cargo bench --bench load                    # 100 users, SQLite (+ PostgreSQL with TEST_POSTGRES_URL)
//! cargo bench --bench load -- --short         # 20 users, fewer rounds: the CI mode
//! cargo bench --bench load -- --users 200 --rounds 10 --db postgres --out results.md
//! ```

#[path = "../tests/dbs/mod.rs"]
mod dbs;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{flows, ids, InteractionRef, StandIn, UserSpec, World};

/// How long the driver waits for an acknowledgement: past Discord's 3 s the stand-in refuses
/// the callback, so anything not acknowledged by then never will be.
const ACK_WAIT: Duration = Duration::from_millis(3_500);

// ================================================================================= options ==

struct Options {
    users: usize,
    rounds: usize,
    backends: Vec<Backend>,
    out: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

fn parse_options() -> Result<Options, String> {
    let mut users = 100;
    let mut rounds = 5;
    let mut db: Option<String> = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--short" => {
                users = 20;
                rounds = 2;
            }
            "--users" => users = value("--users")?.parse().map_err(|_| "--users takes a number")?,
            "--rounds" => rounds = value("--rounds")?.parse().map_err(|_| "--rounds takes a number")?,
            "--db" => db = Some(value("--db")?),
            "--out" => out = Some(value("--out")?.into()),
            // `cargo bench` adds --bench; a filter argument may follow it.
            "--bench" => {}
            other if !other.starts_with('-') => {}
            other => return Err(format!("unknown option {other}")),
        }
    }
    if users == 0 || rounds == 0 {
        return Err("--users and --rounds must be at least 1".into());
    }
    let pg = std::env::var("TEST_POSTGRES_URL").ok().filter(|v| !v.trim().is_empty()).is_some();
    let backends = match db.as_deref() {
        None if pg => vec![Backend::Sqlite, Backend::Postgres],
        None | Some("sqlite") => vec![Backend::Sqlite],
        Some("postgres") | Some("all") if !pg => {
            return Err(
                "--db postgres needs TEST_POSTGRES_URL (for example postgres://postgres@127.0.0.1:5432/test)".into()
            )
        }
        Some("postgres") => vec![Backend::Postgres],
        Some("all") => vec![Backend::Sqlite, Backend::Postgres],
        Some(other) => return Err(format!("--db takes sqlite, postgres or all, not {other}")),
    };
    Ok(Options { users, rounds, backends, out })
}

// =================================================================================== world ==

/// The simulated staff: employees, a department head per ten of them, the officer and an admin.
struct Staff {
    employees: Vec<UserSpec>,
    heads: Vec<UserSpec>,
}

impl Staff {
    fn head_of(&self, i: usize) -> &UserSpec {
        &self.heads[i % self.heads.len()]
    }
}

fn staff(users: usize) -> Staff {
    let employee = |i: usize| UserSpec {
        id: 1_300_000_000_000_010_000 + i as u64,
        username: format!("tilsett.{i:04}"),
        global_name: Some(format!("Tilsett {i:04}")),
        // Every fourth employee uses Discord in English.
        locale: if i % 4 == 3 { "en-US".into() } else { "no".into() },
        roles: vec![],
        manage_guild: false,
    };
    let head = |j: usize| UserSpec {
        id: 1_300_000_000_000_020_000 + j as u64,
        username: format!("leiar.{j:03}"),
        global_name: Some(format!("Leiar {j:03}")),
        locale: "no".into(),
        roles: vec![ids::ROLE_LEIAR],
        manage_guild: false,
    };
    Staff { employees: (0..users).map(employee).collect(), heads: (0..users.div_ceil(10)).map(head).collect() }
}

fn world(staff: &Staff) -> World {
    let mut w = World::default();
    // Keep the officer and the admin of the default world; the rest are the simulated staff.
    w.users.retain(|u| u.id == ids::COMMS_OFFICER || u.id == ids::ADMIN);
    w.users.extend(staff.employees.iter().cloned());
    w.users.extend(staff.heads.iter().cloned());
    w
}

// =================================================================================== stats ==

#[derive(Default)]
struct Stats {
    samples: Mutex<BTreeMap<String, Vec<Duration>>>,
    errors: Mutex<BTreeMap<String, Vec<String>>>,
}

impl Stats {
    fn sample(&self, what: &str, d: Duration) {
        self.samples.lock().unwrap().entry(what.to_string()).or_default().push(d);
    }

    fn error(&self, what: &str, detail: String) {
        self.errors.lock().unwrap().entry(what.to_string()).or_default().push(detail);
    }

    /// Records an acknowledgement (its latency) or its absence (an error); `Some` when acked.
    fn ack(&self, what: &str, ir: &InteractionRef, acked: Option<(u64, Duration)>) -> Option<u64> {
        match acked {
            Some((kind, d)) => {
                self.sample(what, d);
                Some(kind)
            }
            None => {
                self.error(what, format!("interaction {} not acknowledged within 3 s", ir.id));
                None
            }
        }
    }

    fn error_count(&self) -> usize {
        self.errors.lock().unwrap().values().map(Vec::len).sum()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// One measured phase: its label, its wall time and the stats it filled.
struct Phase {
    label: String,
    wall: Duration,
    stats: Arc<Stats>,
}

/// One bot process's run: the phases and its memory.
struct RunResult {
    title: String,
    phases: Vec<Phase>,
    idle_rss_kb: Option<u64>,
    peak_hwm_kb: Option<u64>,
    spec_violations: usize,
}

impl RunResult {
    fn errors(&self) -> usize {
        self.phases.iter().map(|p| p.stats.error_count()).sum::<usize>() + self.spec_violations
    }

    fn p99_of(&self, what: &str) -> Option<Duration> {
        self.phases.iter().find_map(|p| {
            let samples = p.stats.samples.lock().unwrap();
            samples.get(what).map(|v| {
                let mut v = v.clone();
                v.sort();
                percentile(&v, 99.0)
            })
        })
    }

    fn max_ack(&self) -> Duration {
        self.phases
            .iter()
            .flat_map(|p| {
                let samples = p.stats.samples.lock().unwrap();
                samples
                    .iter()
                    .filter(|(k, _)| !k.contains('→'))
                    .flat_map(|(_, v)| v.iter().copied())
                    .collect::<Vec<_>>()
            })
            .max()
            .unwrap_or_default()
    }

    fn render(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        out.push_str("| phase | measured | n | p50 ms | p99 ms | max ms | per s | errors |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
        for p in &self.phases {
            let samples = p.stats.samples.lock().unwrap();
            let errors = p.stats.errors.lock().unwrap();
            let mut keys: Vec<&String> = samples.keys().chain(errors.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let mut v = samples.get(k).cloned().unwrap_or_default();
                v.sort();
                let n = v.len();
                let rate = n as f64 / p.wall.as_secs_f64().max(1e-9);
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {:.0} | {} |\n",
                    p.label,
                    k,
                    n,
                    ms(percentile(&v, 50.0)),
                    ms(percentile(&v, 99.0)),
                    ms(v.last().copied().unwrap_or_default()),
                    rate,
                    errors.get(k).map_or(0, Vec::len)
                ));
            }
        }
        let mb = |kb: Option<u64>| kb.map_or("unknown".to_string(), |k| format!("{:.1} MB", k as f64 / 1024.0));
        out.push_str(&format!(
            "\nMemory: idle after start {} (VmRSS), peak {} (VmHWM). Requests breaking Discord's OpenAPI spec: {}.\n",
            mb(self.idle_rss_kb),
            mb(self.peak_hwm_kb),
            self.spec_violations
        ));
        for p in &self.phases {
            for (k, list) in p.stats.errors.lock().unwrap().iter() {
                for e in list.iter().take(5) {
                    out.push_str(&format!("- error in {} / {k}: {e}\n", p.label));
                }
            }
        }
        out
    }
}

// ============================================================================ bot processes ==

fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A bot process against a stand-in; its stderr goes to a log file in its data directory.
struct BotProcess {
    child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl BotProcess {
    fn spawn(program: &std::path::Path, args: &[&str], env: &[(&str, String)]) -> BotProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("bot.log")).expect("log file");
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SOMEBOT_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        BotProcess { child, dir }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("the bot process runs")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bot.log")).unwrap_or_default()
    }

    async fn stop(mut self) -> String {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        self.log()
    }
}

fn discord_env(s: &StandIn) -> Vec<(&'static str, String)> {
    let w = s.world();
    vec![
        ("DISCORD_TOKEN", w.token.clone()),
        ("DISCORD_API_URL", s.base_url()),
        ("DISCORD_GUILD_ID", w.guild_id.to_string()),
    ]
}

/// Runs all users' `per_user` futures at once and returns the phase.
async fn phase<F, Fut>(label: &str, users: usize, per_user: F) -> Phase
where
    F: Fn(usize, Arc<Stats>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let stats = Arc::new(Stats::default());
    let started = Instant::now();
    let tasks: Vec<_> = (0..users).map(|i| tokio::spawn(per_user(i, stats.clone()))).collect();
    for t in tasks {
        if let Err(e) = t.await {
            stats.error("driver", format!("a simulated user's task failed: {e}"));
        }
    }
    Phase { label: label.to_string(), wall: started.elapsed(), stats }
}

// ================================================================================== floor ==

/// The bare serenity bot: registers `/ping` and answers it at once, nothing else.
mod floor {
    use serenity::all::{
        Context, CreateCommand, CreateInteractionResponse, CreateInteractionResponseMessage, EventHandler,
        GatewayIntents, GuildId, HttpBuilder, Interaction, Ready,
    };

    struct Handler {
        guild: GuildId,
    }

    #[serenity::async_trait]
    impl EventHandler for Handler {
        async fn ready(&self, ctx: Context, _ready: Ready) {
            let ping = CreateCommand::new("ping").description("Pong");
            if let Err(e) = self.guild.set_commands(&ctx.http, vec![ping]).await {
                eprintln!("floor bot: registering /ping failed: {e}");
            }
        }

        async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
            if let Interaction::Command(c) = interaction {
                let reply = CreateInteractionResponseMessage::new().content("pong").ephemeral(true);
                if let Err(e) = c.create_response(&ctx.http, CreateInteractionResponse::Message(reply)).await {
                    eprintln!("floor bot: answering failed: {e}");
                }
            }
        }
    }

    pub fn run() -> std::process::ExitCode {
        let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("floor bot: {k} is not set"));
        let token = env("DISCORD_TOKEN");
        let guild = GuildId::new(env("DISCORD_GUILD_ID").parse().expect("a guild id"));
        let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
        rt.block_on(async move {
            // The same HTTP setup as the bot's: through the stand-in, serenity's limiter is off.
            let http = HttpBuilder::new(&token).proxy(env("DISCORD_API_URL")).ratelimiter_disabled(true).build();
            let mut client = serenity::all::ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
                .event_handler(Handler { guild })
                .await
                .expect("floor bot client");
            client.start().await.expect("floor bot runs");
        });
        std::process::ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--floor-bot") {
        return floor::run();
    }
    let opts = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(run(opts))
}

// =============================================================================== scenarios ==

/// Waits for `ir`'s acknowledgement, recording it under `what`.
async fn ack(s: &StandIn, stats: &Stats, what: &str, ir: &InteractionRef) -> Result<u64, String> {
    let acked = s.wait_acked(ir, ACK_WAIT).await;
    stats.ack(what, ir, acked).ok_or_else(|| format!("{what} was not acknowledged"))
}

/// The journeys of `support::flows` record into the phase's statistics.
impl flows::Observer for Stats {
    async fn ack(&self, s: &StandIn, what: &str, ir: &InteractionRef) -> Result<u64, String> {
        ack(s, self, what, ir).await
    }

    fn sample(&self, what: &str, d: Duration) {
        Stats::sample(self, what, d);
    }
}

/// `/guideline`: `rounds` questions and section lookups, one after the other.
async fn guideline_user(
    s: Arc<StandIn>,
    user: u64,
    questions: Arc<Vec<String>>,
    first: usize,
    rounds: usize,
    stats: Arc<Stats>,
) {
    const SECTIONS: [&str; 3] = ["private-profile", "creating-channels", "on-behalf"];
    for r in 0..rounds {
        let (what, options) = if r % 2 == 0 {
            let q = &questions[(first + r) % questions.len()];
            (
                "/guideline ask",
                json!([{"type": 1, "name": "ask", "options": [{"type": 3, "name": "question", "value": q}]}]),
            )
        } else {
            let section = SECTIONS[(first + r) % SECTIONS.len()];
            ("/guideline <section>", json!([{"type": 1, "name": section, "options": []}]))
        };
        let ir = s.slash_command(user, "guideline", options).await;
        let _ = ack(&s, &stats, what, &ir).await;
    }
}

/// The floor: `/ping`, `rounds` times, one after the other.
async fn ping_user(s: Arc<StandIn>, user: u64, rounds: usize, stats: Arc<Stats>) {
    for _ in 0..rounds {
        let ir = s.slash_command(user, "ping", json!([])).await;
        let _ = ack(&s, &stats, "/ping", &ir).await;
    }
}

// ===================================================================================== runs ==

fn questions() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = [
        root.join("tests/fixtures/guideline-questions.holdout.jsonl"),
        std::env::var("SOMEBOT_EVAL_SET")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| root.join("../shared/eval/guideline-questions.dev.jsonl")),
    ];
    let mut out: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .filter_map(|v| v["q"].as_str().map(str::to_string))
        .collect();
    if out.is_empty() {
        out.push("Kan eg bruke den kommunale e-postadressa mi på ein privat profil?".into());
    }
    out
}

async fn wait_started(s: &StandIn, what: &str) {
    let started = Instant::now();
    s.wait_ready(Duration::from_secs(30)).await;
    s.wait_commands_registered(Duration::from_secs(30)).await;
    println!("{what}: READY and commands registered after {:?}", started.elapsed());
}

async fn run_floor(opts: &Options, staff: &Arc<Staff>) -> RunResult {
    let s = Arc::new(StandIn::start(world(staff)).await);
    let exe = std::env::current_exe().expect("the bench's own path");
    let bot = BotProcess::spawn(&exe, &["--floor-bot"], &discord_env(&s));
    wait_started(&s, "floor bot").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = proc_status_kb(bot.pid(), "VmRSS:");
    let users: Vec<u64> = staff.employees.iter().map(|u| u.id).collect();
    let rounds = opts.rounds;
    let p = phase("floor", users.len(), |i, stats| ping_user(s.clone(), users[i], rounds, stats)).await;
    let peak = proc_status_kb(bot.pid(), "VmHWM:");
    let violations = s.check_requests().len();
    let log = bot.stop().await;
    if !log.trim().is_empty() {
        eprintln!("floor bot log:\n{log}");
    }
    RunResult {
        title: "Floor: a bare serenity 0.12 bot answering /ping at once".into(),
        phases: vec![p],
        idle_rss_kb: idle,
        peak_hwm_kb: peak,
        spec_violations: violations,
    }
}

async fn run_bot(opts: &Options, staff: &Arc<Staff>, backend: Backend, questions: &Arc<Vec<String>>) -> RunResult {
    let s = Arc::new(StandIn::start(world(staff)).await);
    let db = match backend {
        Backend::Sqlite => dbs::sqlite().await,
        Backend::Postgres => dbs::postgres().await.expect("TEST_POSTGRES_URL is set"),
    };
    db.store.close().await;
    let mut env = discord_env(&s);
    env.push(("DATABASE_URL", db.url.clone()));
    let bot = BotProcess::spawn(std::path::Path::new(env!("CARGO_BIN_EXE_somebot")), &["run"], &env);
    wait_started(&s, &format!("somebot on {}", backend.label())).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = proc_status_kb(bot.pid(), "VmRSS:");

    // The admin's setup: the officers' role, the review channel, and everyone's manager.
    let setup = Arc::new(Stats::default());
    let setup_started = Instant::now();
    let admin = |options: Value| {
        let s = s.clone();
        let setup = setup.clone();
        async move {
            let ir = s.slash_command(ids::ADMIN, "setup", options).await;
            let _ = ack(&s, &setup, "/setup", &ir).await;
        }
    };
    admin(json!([{"type": 1, "name": "communications-role", "options": [{"type": 8, "name": "role", "value": ids::ROLE_INFORMASJONSKONSULENT.to_string()}]}])).await;
    admin(json!([{"type": 1, "name": "review-channel", "options": [{"type": 7, "name": "channel", "value": ids::KOMMUNIKASJON.to_string()}]}])).await;
    for (i, e) in staff.employees.iter().enumerate() {
        admin(json!([{"type": 1, "name": "manager", "options": [
            {"type": 6, "name": "employee", "value": e.id.to_string()},
            {"type": 6, "name": "manager", "value": staff.head_of(i).id.to_string()}]}]))
        .await;
    }
    let mut phases = vec![Phase { label: "setup (one admin)".into(), wall: setup_started.elapsed(), stats: setup }];

    let n = staff.employees.len();
    let rounds = opts.rounds;
    let q = questions.clone();
    let st = staff.clone();
    phases.push(
        phase("guideline", n, |i, stats| {
            guideline_user(s.clone(), st.employees[i].id, q.clone(), i * 7, rounds, stats)
        })
        .await,
    );
    phases.push(
        phase("new-channel", n, |i, stats| {
            let (s, st) = (s.clone(), st.clone());
            async move {
                if let Err(e) = flows::channel_flow(&s, &*stats, &st.employees[i], st.head_of(i)).await {
                    stats.error("conversation", format!("{}: {e}", st.employees[i].username));
                }
            }
        })
        .await,
    );
    phases.push(
        phase("report-threat", n, |i, stats| {
            let (s, st) = (s.clone(), st.clone());
            async move {
                if let Err(e) = flows::report_flow(&s, &*stats, &st.employees[i], st.head_of(i)).await {
                    stats.error("report", format!("{}: {e}", st.employees[i].username));
                }
            }
        })
        .await,
    );
    let peak = proc_status_kb(bot.pid(), "VmHWM:");
    let violations = s.check_requests();
    for v in violations.iter().take(5) {
        eprintln!("OpenAPI: {v:?}");
    }
    let log = bot.stop().await;
    if log.contains("panicked") || log.contains("ERROR") {
        eprintln!("somebot log ({}):\n{}", backend.label(), log.lines().take(40).collect::<Vec<_>>().join("\n"));
    }
    let result = RunResult {
        title: format!("somebot on {} ({n} users)", backend.label()),
        phases,
        idle_rss_kb: idle,
        peak_hwm_kb: peak,
        spec_violations: violations.len(),
    };
    if log.contains("panicked") {
        result.phases[0].stats.error("process", "the bot panicked (see its log above)".into());
    }
    db.cleanup().await;
    result
}

async fn run(opts: Options) -> ExitCode {
    let questions = Arc::new(questions());
    let staff = Arc::new(staff(opts.users));
    println!(
        "load: {} users ({} department heads), {} /guideline rounds each; backends: {:?}",
        opts.users,
        staff.heads.len(),
        opts.rounds,
        opts.backends
    );
    let mut results = vec![run_floor(&opts, &staff).await];
    for b in &opts.backends {
        results.push(run_bot(&opts, &staff, *b, &questions).await);
    }

    let mut report = format!(
        "## Load benchmark: {} concurrent users, {} `/guideline` rounds each\n\n\
         Times are from the stand-in sending the dispatch to the bot's interaction callback (for\n\
         interactions), or to the bot's message (rows with →). `per s` is the phase's throughput.\n\n",
        opts.users, opts.rounds
    );
    for r in &results {
        report.push_str(&r.render());
        report.push('\n');
    }
    let floor = results[0].p99_of("/ping").unwrap_or_default();
    report.push_str("### Targets\n\n");
    if cfg!(debug_assertions) {
        report.push_str(
            "(An unoptimised build, as `cargo test --bench load` makes: only the errors count; \
             `cargo bench --bench load` gives the figures to compare with the targets.)\n\n",
        );
    }
    for r in &results[1..] {
        for what in ["/guideline ask", "/guideline <section>"] {
            let p99 = r.p99_of(what).unwrap_or_default();
            let ratio = p99.as_secs_f64() / floor.as_secs_f64().max(1e-9);
            report.push_str(&format!(
                "- {}: `{what}` p99 {} ms = {ratio:.2} × the floor's {} ms (target ≤ 1.5 ×): {}\n",
                r.title,
                ms(p99),
                ms(floor),
                if ratio <= 1.5 { "met" } else { "MISSED" }
            ));
        }
        let max = r.max_ack();
        report.push_str(&format!(
            "- {}: slowest acknowledgement {} ms, {} errors (target: none later than 3 s, no errors): {}\n",
            r.title,
            ms(max),
            r.errors(),
            if r.errors() == 0 && max < Duration::from_secs(3) { "met" } else { "MISSED" }
        ));
        let idle = r.idle_rss_kb.unwrap_or(u64::MAX);
        report.push_str(&format!(
            "- {}: idle memory {:.1} MB (target < 30 MB): {}\n",
            r.title,
            idle as f64 / 1024.0,
            if idle < 30 * 1024 { "met" } else { "MISSED" }
        ));
    }
    println!("\n{report}");
    if let Some(out) = &opts.out {
        if let Err(e) = std::fs::write(out, &report) {
            eprintln!("load: cannot write {}: {e}", out.display());
        }
    }
    let errors: usize = results.iter().map(RunResult::errors).sum();
    if errors > 0 {
        eprintln!("load: {errors} errors (unacknowledged interactions, lost steps or invalid requests)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
