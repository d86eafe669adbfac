//! The serenity adapter: connects to Discord (or a stand-in at `DISCORD_API_URL`), registers
//! the commands, translates events into core inputs and performs the replies. It decides
//! nothing itself.

pub mod convert;
pub mod register;
pub mod respond;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serenity::all::{
    ChunkGuildFilter, Command, Context, CreateInteractionResponse, CreateInteractionResponseMessage, EventHandler,
    GatewayIntents, Guild, GuildId, GuildMemberUpdateEvent, GuildMembersChunkEvent, Http, HttpBuilder, Interaction,
    Member, Message as DMessage, Ready,
};
use serenity::async_trait;
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};

use crate::app::bookkeeping::{Bookkeeper, BookkeeperTask};
use crate::config::Config;
use crate::core::{Actor, Input, Outcome, Reply};
use crate::i18n::Locale;
use crate::App;

use respond::{DiscordDeliverer, Target};

/// Past this, an interaction is deferred so Discord's 3-second window is never missed.
pub const DEFER_AFTER: Duration = Duration::from_millis(1500);

/// Gateway intents: guilds (channels, roles), members (people pickers, leavers) and DMs.
/// GUILD_MEMBERS is privileged: enable "Server Members Intent" in the developer portal.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MEMBERS | GatewayIntents::DIRECT_MESSAGES
}

/// Counts handlers in flight so shutdown can wait for them.
#[derive(Debug, Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

struct InFlightGuard<'a>(&'a InFlight);

impl InFlight {
    fn enter(&self) -> InFlightGuard<'_> {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self)
    }

    /// Waits until no handler runs, or the timeout passes.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return self.count.load(Ordering::SeqCst) == 0;
            }
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The serenity event handler.
pub struct Handler {
    app: App,
    guild_id: Option<u64>,
    in_flight: Arc<InFlight>,
    deliverer: DiscordDeliverer,
    bookkeeper: Bookkeeper,
}

impl Handler {
    /// A handler over the core; what answers leave for later goes to `bookkeeper`.
    pub fn new(
        app: App,
        guild_id: Option<u64>,
        in_flight: Arc<InFlight>,
        deliverer: DiscordDeliverer,
        bookkeeper: Bookkeeper,
    ) -> Self {
        Handler { app, guild_id, in_flight, deliverer, bookkeeper }
    }

    /// Delivers what an interaction queued, at once; a failure hook's message is shown to the
    /// user privately as a follow-up of the same interaction.
    async fn deliver(&self, target: &Target<'_>, queued: &[i64]) {
        for d in self.app.deliver_ids(&self.deliverer, queued).await {
            if let Some(Reply::Message(m)) = d.hook_outcome.map(|o| o.reply) {
                if let Err(e) = target.followup(&self.deliverer.http, &m).await {
                    warn!(error = %e, "telling the user about a failed delivery failed");
                }
            }
        }
    }

    async fn register(&self, http: &Http) {
        let commands = register::all();
        let n = commands.len();
        let result = match self.guild_id {
            Some(g) => GuildId::new(g).set_commands(http, commands).await.map(|_| ()),
            None => Command::set_global_commands(http, commands).await.map(|_| ()),
        };
        match result {
            Ok(()) => info!(commands = n, guild = ?self.guild_id, "slash commands registered"),
            Err(e) => error!(error = %e, "registering slash commands failed"),
        }
    }

    /// Runs the core for an interaction, deferring when it takes long, and sends the reply.
    async fn serve(&self, http: &Http, target: Target<'_>, actor: Actor, input: Input, may_defer: bool) {
        let started = Instant::now();
        let kind = match &target {
            Target::Command(_) => "command",
            Target::Component(_) => "component",
            Target::Modal(_) => "modal",
        };
        let is_component = matches!(target, Target::Component(_));
        // The command, or the feature prefix of a custom id: never user text.
        let name = match &input {
            Input::Command(c) => c.name.clone(),
            Input::Component { custom_id, .. } | Input::ModalSubmit { custom_id, .. } => {
                custom_id.split(':').next().unwrap_or_default().chars().take(8).collect()
            }
            _ => String::new(),
        };
        // Attachments are downloaded inside the deferral window, so a slow download defers the
        // answer rather than missing Discord's 3 seconds.
        let fut = async {
            let mut input = input;
            if let Input::Command(c) = &mut input {
                convert::download_attachments(c).await;
            }
            self.app.handle_answer_first(&actor, input).await
        };
        tokio::pin!(fut);
        let early = if may_defer {
            tokio::select! {
                o = &mut fut => Some(o),
                _ = tokio::time::sleep(DEFER_AFTER) => None,
            }
        } else {
            Some(fut.as_mut().await)
        };
        let early_answer = early.is_some();
        let result = match early {
            Some(outcome) => {
                let r = match respond::initial_response(&outcome.reply) {
                    Some(resp) => target.respond_retrying(http, resp, started).await,
                    None => Ok(()),
                };
                self.deliver(&target, &outcome.queued).await;
                self.bookkeeper.submit(&self.app, outcome.after).await;
                r
            }
            None => {
                // Acknowledge now; the answer follows as an edit or a follow-up.
                let defer = if is_component {
                    CreateInteractionResponse::Acknowledge
                } else {
                    CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true))
                };
                if let Err(e) = target.respond_retrying(http, defer, started).await {
                    warn!(error = %e, "deferring failed");
                }
                let outcome: Outcome = fut.await;
                let r = match &outcome.reply {
                    Reply::Message(m) if !is_component => target.edit(http, respond::edit_message(m)).await,
                    Reply::Message(m) => target.followup(http, m).await,
                    Reply::Update(m) => target.edit(http, respond::edit_message(m)).await,
                    Reply::Modal(_) | Reply::Choices(_) | Reply::Nothing => Ok(()),
                };
                self.deliver(&target, &outcome.queued).await;
                self.bookkeeper.submit(&self.app, outcome.after).await;
                r
            }
        };
        let ms = started.elapsed().as_millis() as u64;
        let outcome = match (&result, early_answer) {
            (Err(_), _) => "failed",
            (Ok(()), true) => "answered",
            (Ok(()), false) => "deferred",
        };
        crate::metrics::global().interaction(kind, &name, outcome, started.elapsed());
        match result {
            Ok(()) => debug!(kind, ms, "interaction answered"),
            Err(e) => warn!(kind, ms, error = %e, "answering the interaction failed"),
        }
    }
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        // READY comes again after an invalid session; bulk overwrite makes this idempotent.
        self.register(&ctx.http).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let _guard = self.in_flight.enter();
        match &interaction {
            Interaction::Command(i) => {
                let actor = convert::command_actor(i);
                let input = Input::Command(convert::command(i));
                self.serve(&ctx.http, Target::Command(i), actor, input, true).await;
            }
            Interaction::Autocomplete(i) => {
                let actor = convert::command_actor(i);
                let outcome = self.app.handle_answer_first(&actor, convert::autocomplete(i)).await;
                if let Some(r) = respond::initial_response(&outcome.reply) {
                    if let Err(e) = i.create_response(&ctx.http, r).await {
                        warn!(error = %e, "autocomplete answer failed");
                    }
                }
                self.bookkeeper.submit(&self.app, outcome.after).await;
            }
            Interaction::Component(i) => {
                let actor = convert::component_actor(i);
                let input = convert::component(i);
                self.serve(&ctx.http, Target::Component(i), actor, input, true).await;
            }
            Interaction::Modal(i) => {
                let actor = convert::modal_actor(i);
                let input = convert::modal(i);
                self.serve(&ctx.http, Target::Modal(i), actor, input, true).await;
            }
            _ => debug!("ignoring an interaction kind the bot does not use"),
        }
    }

    async fn guild_create(&self, ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let members: Vec<_> = guild.members.values().map(convert::member).collect();
        self.app.members_seen(&members).await;
        // Without the presence intent GUILD_CREATE carries only the bot itself: ask for the
        // whole member list (it arrives as GUILD_MEMBERS_CHUNK).
        ctx.shard.chunk_guild(guild.id, None, false, ChunkGuildFilter::None, None);
        info!(guild = guild.id.get(), members = members.len(), "joined server; requesting its members");
    }

    async fn guild_members_chunk(&self, _ctx: Context, chunk: GuildMembersChunkEvent) {
        let members: Vec<_> = chunk.members.values().map(convert::member).collect();
        self.app.members_seen(&members).await;
        debug!(guild = chunk.guild_id.get(), members = members.len(), "server members synchronised");
    }

    async fn guild_member_addition(&self, _ctx: Context, member: Member) {
        self.app.members_seen(&[convert::member(&member)]).await;
    }

    async fn guild_member_update(
        &self,
        _ctx: Context,
        _old: Option<Member>,
        new: Option<Member>,
        _e: GuildMemberUpdateEvent,
    ) {
        if let Some(m) = new {
            self.app.members_seen(&[convert::member(&m)]).await;
        }
    }

    async fn guild_member_removal(
        &self,
        _ctx: Context,
        guild_id: GuildId,
        user: serenity::all::User,
        _m: Option<Member>,
    ) {
        let outcome = self.app.member_left(guild_id.get(), user.id.get()).await;
        self.app.deliver_ids(&self.deliverer, &outcome.queued).await;
    }

    async fn message(&self, ctx: Context, msg: DMessage) {
        if msg.guild_id.is_some() || msg.author.bot {
            return;
        }
        let _guard = self.in_flight.enter();
        let actor = Actor {
            user_id: msg.author.id.get(),
            guild_id: None,
            channel_id: Some(msg.channel_id.get()),
            // MESSAGE_CREATE carries no locale: use the one the user last used in an interaction.
            locale: self.app.store.locale_of(msg.author.id.get()).await.unwrap_or(Locale::Nn),
            display_name: msg.author.global_name.clone().unwrap_or_else(|| msg.author.name.clone()),
            can_manage_guild: false,
            role_ids: Vec::new(),
        };
        let outcome = self.app.handle(&actor, Input::DirectMessage { text: msg.content.clone() }).await;
        if let Reply::Message(m) = &outcome.reply {
            if let Err(e) = msg.channel_id.send_message(&ctx.http, respond::create_message(m)).await {
                warn!(error = %e, "answering a direct message failed");
            }
        }
        let delivered = self.app.deliver_ids(&self.deliverer, &outcome.queued).await;
        for d in delivered {
            if let Some(Reply::Message(m)) = d.hook_outcome.map(|o| o.reply) {
                let _ = msg.channel_id.send_message(&ctx.http, respond::create_message(&m)).await;
            }
        }
    }
}

/// Why `run` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "DISCORD_TOKEN was refused by Discord ({0}); copy a fresh token from the Bot page of the developer portal"
    )]
    TokenRefused(String),
    #[error("Discord could not be reached at {url} after {attempts} attempts ({last}); check the network or DISCORD_API_URL")]
    Unreachable { url: String, attempts: u32, last: String },
    #[error("the Discord client failed: {0}")]
    Client(String),
    #[error("SOMEBOT_METRICS_ADDR {0} cannot be served ({1}); choose a free port, or unset it")]
    Metrics(String, String),
}

/// Builds the HTTP client, pointed at `DISCORD_API_URL` when set. serenity's rate limiter
/// ignores the proxy (see shared/discord/NOTES.md), so a proxied client runs without it.
pub fn http(cfg: &Config, token: &str) -> Http {
    let mut b = HttpBuilder::new(token);
    if let Some(url) = &cfg.api_url {
        b = b.proxy(url.clone()).ratelimiter_disabled(true);
    }
    b.build()
}

/// Checks the token and that the API answers, retrying with backoff while it is unreachable.
pub async fn preflight(http: &Http, cfg: &Config, attempts: u32) -> Result<(), StartError> {
    let url = cfg.api_url.clone().unwrap_or_else(|| "https://discord.com".into());
    let mut delay = Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 1..=attempts.max(1) {
        match http.get_current_user().await {
            Ok(user) => {
                info!(bot = %user.name, "Discord accepted the token");
                return Ok(());
            }
            Err(serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(resp)))
                if resp.status_code.as_u16() == 401 || resp.status_code.as_u16() == 403 =>
            {
                return Err(StartError::TokenRefused(resp.status_code.to_string()));
            }
            Err(e) => {
                last = e.to_string();
                if attempt < attempts {
                    warn!(attempt, of = attempts, retry_in_ms = delay.as_millis() as u64, error = %e, "Discord unreachable, retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(15));
                }
            }
        }
    }
    Err(StartError::Unreachable { url, attempts, last })
}

/// A running bot: the gateway client and the background worker.
pub struct Running {
    /// Where `/healthz` and `/metrics` are served (the bound port when 0 was asked for).
    pub metrics_addr: Option<std::net::SocketAddr>,
    metrics_task: Option<tokio::task::JoinHandle<()>>,
    client_task: Option<tokio::task::JoinHandle<Result<(), StartError>>>,
    worker: tokio::task::JoinHandle<()>,
    shards: Arc<serenity::gateway::ShardManager>,
    stop: tokio::sync::watch::Sender<bool>,
    in_flight: Arc<InFlight>,
    bookkeeping: BookkeeperTask,
    app: App,
}

impl Running {
    /// Stops: closes the gateway, lets in-flight interactions finish (up to 10 s), stops the
    /// worker and closes the database pool.
    pub async fn shutdown(self) -> Result<(), StartError> {
        info!("shutting down: closing the gateway");
        let _ = self.stop.send(true);
        self.shards.shutdown_all().await;
        let result = match self.client_task {
            Some(task) => match task.await {
                Ok(r) => r,
                Err(e) => Err(StartError::Client(e.to_string())),
            },
            None => Ok(()),
        };
        if !self.in_flight.wait_idle(Duration::from_secs(10)).await {
            warn!("some interactions were still running at shutdown");
        }
        self.bookkeeping.stop().await;
        let _ = self.worker.await;
        if let Some(m) = self.metrics_task {
            m.abort();
        }
        self.app.store.close().await;
        info!("stopped");
        result
    }

    /// Waits until the client stops by itself (an error such as a refused token).
    pub async fn wait(&mut self) -> Result<(), StartError> {
        match self.client_task.take() {
            Some(task) => match task.await {
                Ok(r) => r,
                Err(e) => Err(StartError::Client(e.to_string())),
            },
            None => std::future::pending().await,
        }
    }
}

/// Checks the token, connects to the gateway and starts serving in the background.
pub async fn start(cfg: Config, app: App, startup_attempts: u32) -> Result<Running, StartError> {
    let token = cfg.token.as_ref().map(|t| t.expose().to_string()).unwrap_or_default();
    let http = Arc::new(http(&cfg, &token));
    preflight(&http, &cfg, startup_attempts).await?;
    let (metrics_addr, metrics_task) = match cfg.metrics_addr {
        Some(addr) => {
            let (listener, bound) =
                crate::metrics::bind(addr).await.map_err(|e| StartError::Metrics(addr.to_string(), e.to_string()))?;
            info!(addr = %bound, "serving /healthz and /metrics");
            (Some(bound), Some(tokio::spawn(crate::metrics::serve(listener, app.store.clone()))))
        }
        None => (None, None),
    };
    let in_flight = Arc::new(InFlight::default());
    let deliverer = DiscordDeliverer::new(http.clone(), cfg.api_url.as_deref());
    let (bookkeeper, bookkeeping) = Bookkeeper::start(app.clone());
    let handler = Handler::new(app.clone(), cfg.guild_id, in_flight.clone(), deliverer, bookkeeper);
    let mut client = serenity::client::ClientBuilder::new_with_http(http_for_client(&cfg, &token), intents())
        .event_handler(handler)
        .await
        .map_err(|e| StartError::Client(e.to_string()))?;
    let shards = client.shard_manager.clone();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let worker =
        tokio::spawn(background_worker(app.clone(), DiscordDeliverer::new(http, cfg.api_url.as_deref()), stop_rx));
    let shard = cfg.shard;
    let client_task = tokio::spawn(async move {
        let r = match shard {
            Some((id, count)) => client.start_shard(id, count).await,
            None => client.start_autosharded().await,
        };
        r.map_err(|e| StartError::Client(e.to_string()))
    });
    Ok(Running {
        metrics_addr,
        metrics_task,
        client_task: Some(client_task),
        worker,
        shards,
        stop,
        in_flight,
        bookkeeping,
        app,
    })
}

/// Connects and serves until SIGINT/SIGTERM, then finishes in-flight work.
pub async fn run(cfg: Config, app: App, startup_attempts: u32) -> Result<(), StartError> {
    let mut running = start(cfg, app, startup_attempts).await?;
    tokio::select! {
        _ = shutdown_signal() => running.shutdown().await,
        r = running.wait() => {
            let _ = running.shutdown().await;
            r
        }
    }
}

/// A second HTTP client for the gateway client (serenity takes its own by value).
fn http_for_client(cfg: &Config, token: &str) -> Http {
    http(cfg, token)
}

/// How often the worker looks for due messages and timers.
pub const WORKER_TICK: Duration = Duration::from_secs(1);

/// Delivers due outbox messages and runs due timers until told to stop.
pub async fn background_worker(app: App, deliverer: DiscordDeliverer, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        app.deliver_due(&deliverer).await;
        app.run_due_timers().await;
        tokio::select! {
            _ = tokio::time::sleep(WORKER_TICK) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
