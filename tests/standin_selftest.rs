//! Self-test of the Discord stand-in in `tests/support/`: a minimal in-process serenity 0.12.5
//! client (written here, not the bot) goes through READY, GUILD_CREATE, command registration,
//! slash commands, buttons, selects, modals, autocomplete, DMs, follow-ups, edits and a gateway
//! reconnect against the stand-in; every request it sends passes the OpenAPI oracle, and the
//! oracle is shown to catch requests that break the spec. The payload builders are also parsed
//! with serenity's own model types, so a missing required field fails here, loudly.

mod support;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use serde_json::{json, Value};
use serenity::all::{
    ChunkGuildFilter, Client, ClientBuilder, Command, CommandDataOptionValue, CommandOptionType,
    ComponentInteractionDataKind, Context, CreateActionRow, CreateAttachment, CreateAutocompleteResponse, CreateButton,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage, CreateModal, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption, EditInteractionResponse, EventHandler, GatewayIntents, Guild,
    GuildId, GuildMembersChunkEvent, HttpBuilder, InputTextStyle, Interaction, InteractionContext, Message,
    Permissions, Ready, ResumedEvent, UserId,
};
use support::payloads::{self, InteractionSpec, Place};
use support::standin::{Direction, GatewayFrame};
use support::{ids, openapi, StandIn, World};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);

/// What the test client's handler saw or did, reported back to the test.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Ready { user: u64, application: u64, guilds: Vec<u64> },
    Registered(Result<Vec<String>, String>),
    GuildCreate { channels: Vec<String>, roles: Vec<String>, members: usize },
    Chunk { members: usize, cached_members: usize },
    Command { name: String, sub: String, value: String, locale: String, roles: Vec<u64>, manage_guild: bool },
    DmCommand { name: String, user: u64, locale: String },
    Autocomplete { option: String, partial: String },
    Button { custom_id: String, message_id: u64 },
    Select { custom_id: String, values: Vec<String>, resolved_users: Vec<String> },
    Modal { custom_id: String, fields: Vec<(String, String)>, has_message: bool },
    Dm { author: u64, content: String },
    Outcome { what: &'static str, result: Result<String, String> },
    Resumed,
}

struct Handler {
    tx: mpsc::UnboundedSender<Seen>,
}

impl Handler {
    fn send(&self, seen: Seen) {
        let _ = self.tx.send(seen);
    }
}

fn error_text(e: &serenity::Error) -> String {
    match e {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            format!("{} {}: {}", r.status_code.as_u16(), r.error.code, r.error.message)
        }
        other => other.to_string(),
    }
}

fn outcome<T>(what: &'static str, r: &serenity::Result<T>, ok: impl Fn(&T) -> String) -> Seen {
    Seen::Outcome { what, result: r.as_ref().map(ok).map_err(error_text) }
}

fn somebot_command() -> CreateCommand {
    CreateCommand::new("somebot")
        .description("Spør om retningslinjene for sosiale medium")
        .default_member_permissions(Permissions::SEND_MESSAGES)
        .add_option(
            CreateCommandOption::new(CommandOptionType::SubCommand, "spor", "Still eit spørsmål").add_sub_option(
                CreateCommandOption::new(CommandOptionType::String, "tekst", "Spørsmålet")
                    .required(true)
                    .set_autocomplete(true),
            ),
        )
        .add_option(
            CreateCommandOption::new(CommandOptionType::SubCommand, "meld", "Meld ei sak til nokon")
                .add_sub_option(CreateCommandOption::new(CommandOptionType::User, "kven", "Mottakar").required(true)),
        )
}

fn hjelp_command() -> CreateCommand {
    CreateCommand::new("hjelp")
        .description("Kva kan somebot gjere?")
        .contexts(vec![InteractionContext::Guild, InteractionContext::BotDm])
}

fn answer_message(question: &str) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .content(format!("Spørsmål: {question}"))
        .embed(CreateEmbed::new().title("Retningslinje 3.2").field("Kjelde", "Sosiale medium i Volda kommune", false))
        .components(vec![
            CreateActionRow::Buttons(vec![CreateButton::new("vis_meir").label("Vis meir")]),
            CreateActionRow::SelectMenu(CreateSelectMenu::new(
                "vel_tema",
                CreateSelectMenuKind::String {
                    options: vec![
                        CreateSelectMenuOption::new("Personvern", "personvern"),
                        CreateSelectMenuOption::new("Bilete", "bilete"),
                    ],
                },
            )),
            CreateActionRow::SelectMenu(CreateSelectMenu::new(
                "vel_person",
                CreateSelectMenuKind::User { default_users: None },
            )),
        ])
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let guild = GuildId::new(ids::GUILD);
        let registered = guild.set_commands(&ctx.http, vec![somebot_command()]).await;
        let global = Command::set_global_commands(&ctx.http, vec![hjelp_command()]).await;
        let names = match (registered, global) {
            (Ok(mut guild), Ok(global)) => {
                guild.extend(global);
                Ok(guild.into_iter().map(|c| c.name).collect::<Vec<_>>())
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        self.send(Seen::Registered(names.map_err(|e| error_text(&e))));
        self.send(Seen::Ready {
            user: ready.user.id.get(),
            application: ready.application.id.get(),
            guilds: ready.guilds.iter().map(|g| g.id.get()).collect(),
        });
    }

    async fn guild_create(&self, ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let mut channels: Vec<String> = guild.channels.values().map(|c| c.name.clone()).collect();
        channels.sort();
        let mut roles: Vec<String> = guild.roles.values().map(|r| r.name.clone()).collect();
        roles.sort();
        if guild.members.len() < guild.member_count as usize {
            ctx.shard.chunk_guild(guild.id, None, false, ChunkGuildFilter::None, Some("alle".into()));
        }
        self.send(Seen::GuildCreate { channels, roles, members: guild.members.len() });
    }

    async fn guild_members_chunk(&self, ctx: Context, chunk: GuildMembersChunkEvent) {
        let cached_members = ctx.cache.guild(chunk.guild_id).map_or(0, |g| g.members.len());
        self.send(Seen::Chunk { members: chunk.members.len(), cached_members });
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        self.send(Seen::Resumed);
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot || msg.guild_id.is_some() {
            return;
        }
        self.send(Seen::Dm { author: msg.author.id.get(), content: msg.content.clone() });
        // Not `CreateMessage::add_file`: serenity's builder sends the upload's `id` as the
        // integer 0, which the spec refuses (see `oracle_catches_serenitys_upload_ids`).
        let reply = json!({
            "content": format!("Hei {}! Her er retningslinjene.", msg.author.name),
            "attachments": [{"id": "0", "filename": "retningslinjer.txt"}],
        });
        let file = CreateAttachment::bytes(b"Retningslinjer for sosiale medium".to_vec(), "retningslinjer.txt");
        let sent = ctx.http.send_message(msg.channel_id, vec![file], &reply).await;
        self.send(outcome("dm reply", &sent, |m| format!("{}:{}", m.channel_id, m.attachments.len())));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(cmd) if cmd.data.name == "somebot" => {
                let Some(sub) = cmd.data.options.first() else {
                    return;
                };
                let CommandDataOptionValue::SubCommand(inner) = &sub.value else {
                    return;
                };
                let value = match inner.first().map(|o| &o.value) {
                    Some(CommandDataOptionValue::String(s)) => s.clone(),
                    Some(CommandDataOptionValue::User(u)) => u.get().to_string(),
                    _ => String::new(),
                };
                let member = cmd.member.as_ref().expect("guild command has a member");
                self.send(Seen::Command {
                    name: cmd.data.name.clone(),
                    sub: sub.name.clone(),
                    value: value.clone(),
                    locale: cmd.locale.clone(),
                    roles: member.roles.iter().map(|r| r.get()).collect(),
                    manage_guild: member.permissions.is_some_and(|p| p.manage_guild()),
                });
                if sub.name == "spor" {
                    let r = cmd
                        .create_response(&ctx.http, CreateInteractionResponse::Message(answer_message(&value)))
                        .await;
                    self.send(outcome("respond", &r, |_| String::new()));
                    let f = cmd
                        .create_followup(
                            &ctx.http,
                            CreateInteractionResponseFollowup::new().content("Meir info følgjer.").ephemeral(true),
                        )
                        .await;
                    self.send(outcome("followup", &f, |m| m.content.clone()));
                    let e = cmd
                        .edit_response(&ctx.http, EditInteractionResponse::new().content(format!("Svar: {value}")))
                        .await;
                    self.send(outcome("edit original", &e, |m| m.content.clone()));
                } else {
                    let target = UserId::new(value.parse().unwrap_or(1));
                    let sent = match target.create_dm_channel(&ctx.http).await {
                        Ok(dm) => dm.send_message(&ctx.http, CreateMessage::new().content("Du har fått ei sak.")).await,
                        Err(e) => Err(e),
                    };
                    self.send(outcome("dm to target", &sent, |m| m.channel_id.to_string()));
                    let text = match &sent {
                        Ok(_) => "Sendt.".to_string(),
                        Err(e) => format!("Kunne ikkje sende DM ({}).", error_text(e)),
                    };
                    let msg = CreateInteractionResponseMessage::new().content(text).ephemeral(true);
                    let _ = cmd.create_response(&ctx.http, CreateInteractionResponse::Message(msg)).await;
                }
            }
            Interaction::Command(cmd) => {
                self.send(Seen::DmCommand {
                    name: cmd.data.name.clone(),
                    user: cmd.user.id.get(),
                    locale: cmd.locale.clone(),
                });
                let d = cmd.defer(&ctx.http).await;
                self.send(outcome("defer", &d, |_| String::new()));
                let e =
                    cmd.edit_response(&ctx.http, EditInteractionResponse::new().content("Hjelp: /somebot spor")).await;
                self.send(outcome("edit deferred", &e, |m| m.content.clone()));
            }
            Interaction::Autocomplete(cmd) => {
                let Some(focused) = cmd.data.autocomplete() else {
                    return;
                };
                self.send(Seen::Autocomplete { option: focused.name.to_string(), partial: focused.value.to_string() });
                let choices = CreateAutocompleteResponse::new()
                    .add_string_choice("Personvern på sosiale medium", "personvern")
                    .add_string_choice("Publisering av bilete", "bilete");
                let r = cmd.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices)).await;
                self.send(outcome("autocomplete", &r, |_| String::new()));
            }
            Interaction::Component(comp) => match &comp.data.kind {
                ComponentInteractionDataKind::Button => {
                    self.send(Seen::Button {
                        custom_id: comp.data.custom_id.clone(),
                        message_id: comp.message.id.get(),
                    });
                    let modal = CreateModal::new("skjema", "Kvifor?").components(vec![CreateActionRow::InputText(
                        CreateInputText::new(InputTextStyle::Paragraph, "Grunn", "grunn"),
                    )]);
                    let r = comp.create_response(&ctx.http, CreateInteractionResponse::Modal(modal)).await;
                    self.send(outcome("modal", &r, |_| String::new()));
                }
                ComponentInteractionDataKind::StringSelect { values } => {
                    self.send(Seen::Select {
                        custom_id: comp.data.custom_id.clone(),
                        values: values.clone(),
                        resolved_users: vec![],
                    });
                    let update =
                        CreateInteractionResponseMessage::new().content(format!("Tema: {}", values.join(", ")));
                    let r = comp.create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(update)).await;
                    self.send(outcome("update", &r, |_| String::new()));
                }
                ComponentInteractionDataKind::UserSelect { values } => {
                    let mut resolved: Vec<String> = comp.data.resolved.users.values().map(|u| u.name.clone()).collect();
                    resolved.sort();
                    self.send(Seen::Select {
                        custom_id: comp.data.custom_id.clone(),
                        values: values.iter().map(|v| v.get().to_string()).collect(),
                        resolved_users: resolved,
                    });
                    let r = comp.create_response(&ctx.http, CreateInteractionResponse::Acknowledge).await;
                    self.send(outcome("acknowledge", &r, |_| String::new()));
                }
                _ => {}
            },
            Interaction::Modal(modal) => {
                let fields: Vec<(String, String)> = modal
                    .data
                    .components
                    .iter()
                    .flat_map(|row| row.components.iter())
                    .filter_map(|c| match c {
                        serenity::all::ActionRowComponent::InputText(t) => {
                            Some((t.custom_id.clone(), t.value.clone().unwrap_or_default()))
                        }
                        _ => None,
                    })
                    .collect();
                let thanks = format!("Takk: {}", fields.first().map_or("", |f| f.1.as_str()));
                self.send(Seen::Modal {
                    custom_id: modal.data.custom_id.clone(),
                    fields,
                    has_message: modal.message.is_some(),
                });
                let msg = CreateInteractionResponseMessage::new().content(thanks).ephemeral(true);
                let r = modal.create_response(&ctx.http, CreateInteractionResponse::Message(msg)).await;
                self.send(outcome("modal answer", &r, |_| String::new()));
            }
            _ => {}
        }
    }
}

/// The stand-in plus a running test client.
struct Bot {
    standin: StandIn,
    events: mpsc::UnboundedReceiver<Seen>,
    seen: Vec<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Bot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Bot {
    async fn start(world: World, intents: GatewayIntents) -> Bot {
        support::init_logging();
        let token = world.token.clone();
        let standin = StandIn::start(world).await;
        let http = HttpBuilder::new(&token).proxy(standin.base_url()).ratelimiter_disabled(true).build();
        let (tx, events) = mpsc::unbounded_channel();
        let mut client: Client =
            ClientBuilder::new_with_http(http, intents).event_handler(Handler { tx }).await.expect("serenity client");
        let task = tokio::spawn(async move {
            let _ = client.start().await;
        });
        Bot { standin, events, seen: Vec::new(), task }
    }

    async fn default() -> Bot {
        Bot::start(
            World::default(),
            GatewayIntents::GUILDS | GatewayIntents::GUILD_MEMBERS | GatewayIntents::DIRECT_MESSAGES,
        )
        .await
    }

    /// Waits for an event matching `pred` (earlier ones count); panics with what was seen.
    async fn expect(&mut self, what: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
        if let Some(s) = self.seen.iter().find(|s| pred(s)) {
            return s.clone();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(s)) => {
                    self.seen.push(s.clone());
                    if pred(&s) {
                        return s;
                    }
                }
                _ => panic!("handler never reported {what}; seen: {:#?}\n{}", self.seen, self.standin.report()),
            }
        }
    }

    async fn outcome(&mut self, what: &'static str) -> Result<String, String> {
        let s = self.expect(what, |s| matches!(s, Seen::Outcome { what: w, .. } if *w == what)).await;
        match s {
            Seen::Outcome { result, .. } => result,
            _ => unreachable!(),
        }
    }

    async fn ready(&mut self) {
        self.standin.wait_ready(WAIT).await;
        self.standin.wait_commands_registered(WAIT).await;
        let registered = self.expect("registration", |s| matches!(s, Seen::Registered(_))).await;
        assert_eq!(registered, Seen::Registered(Ok(vec!["somebot".into(), "hjelp".into()])));
    }
}

fn spor(text: &str) -> Value {
    json!([{"type": 1, "name": "spor", "options": [{"type": 3, "name": "tekst", "value": text}]}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_guild_create_and_member_chunk_reach_the_client() {
    let mut bot = Bot::default().await;
    bot.ready().await;

    let ready = bot.expect("READY", |s| matches!(s, Seen::Ready { .. })).await;
    assert_eq!(ready, Seen::Ready { user: ids::BOT_USER, application: ids::APPLICATION, guilds: vec![ids::GUILD] });

    // Without GUILD_PRESENCES, Discord puts only the bot's own member into GUILD_CREATE.
    let guild = bot.expect("GUILD_CREATE", |s| matches!(s, Seen::GuildCreate { .. })).await;
    assert_eq!(
        guild,
        Seen::GuildCreate {
            channels: vec!["general".into(), "kommunikasjon".into()],
            roles: vec![
                "@everyone".into(),
                "Admin".into(),
                "Informasjonskonsulent".into(),
                "Leiar".into(),
                "somebot".into()
            ],
            members: 1,
        }
    );
    // The handler asked for the rest (op 8); the chunk fills the cache with all 7 members.
    let chunk = bot.expect("GUILD_MEMBERS_CHUNK", |s| matches!(s, Seen::Chunk { .. })).await;
    assert_eq!(chunk, Seen::Chunk { members: 6, cached_members: 7 });

    let identify = bot.standin.identify().expect("identify recorded");
    assert_eq!(identify["token"], format!("Bot {}", bot.standin.world().token));
    assert_eq!(identify["shard"], json!([0, 1]));
    let intents = (GatewayIntents::GUILDS | GatewayIntents::GUILD_MEMBERS | GatewayIntents::DIRECT_MESSAGES).bits();
    assert_eq!(identify["intents"], json!(intents));
    // serenity asks for payload compression; the stand-in compressed the big dispatches.
    assert_eq!(identify["compress"], json!(true));

    let guild_create = bot.standin.gateway_log().into_iter().find(|f| f.t.as_deref() == Some("GUILD_CREATE")).unwrap();
    assert!(guild_create.compressed, "GUILD_CREATE went out zlib-compressed");

    // Sequence numbers increase by one per dispatch.
    let seqs: Vec<u64> = bot.standin.gateway_log().iter().filter_map(|f| f.s).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert!(seqs.len() >= 3, "READY, GUILD_CREATE, GUILD_MEMBERS_CHUNK: {seqs:?}");

    // At start serenity asks only for GET /gateway; registration went to the PUT routes.
    let requests = bot.standin.requests();
    assert!(requests[0].is("GET", "/gateway"), "{}", requests[0]);
    let put = bot
        .standin
        .wait_for(|r| r.is("PUT", &format!("/applications/{}/guilds/{}/commands", ids::APPLICATION, ids::GUILD)), WAIT)
        .await;
    // The known disagreement: serenity sends default_member_permissions as a string.
    assert_eq!(put.json().unwrap()[0]["default_member_permissions"], json!("2048"));
    assert_eq!(put.status, 200);
    bot.standin.assert_all_requests_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_presences_intent_puts_every_member_into_guild_create() {
    let intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MEMBERS | GatewayIntents::GUILD_PRESENCES;
    let mut bot = Bot::start(World::default(), intents).await;
    bot.ready().await;
    let guild = bot.expect("GUILD_CREATE", |s| matches!(s, Seen::GuildCreate { .. })).await;
    assert!(matches!(guild, Seen::GuildCreate { members: 7, .. }), "{guild:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged() {
    let world = World { heartbeat_interval_ms: 100, ..World::default() };
    let mut bot = Bot::start(world, GatewayIntents::GUILDS).await;
    bot.ready().await;
    let beat = bot.standin.wait_gateway(|f| f.dir == Direction::In && f.op == Some(1), WAIT).await;
    assert!(beat.d.as_u64().is_some(), "the heartbeat carries the last sequence: {:?}", beat.d);
    bot.standin.wait_gateway(|f| f.dir == Direction::Out && f.op == Some(11), WAIT).await;
    // serenity keeps the connection: no second connection was opened.
    assert!(bot.standin.gateway_log().iter().all(|f| f.conn == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_command_with_subcommand_followup_and_edit() {
    let mut bot = Bot::default().await;
    bot.ready().await;

    let ir = bot.standin.slash_command(ids::EMPLOYEE, "somebot", spor("Kan eg dele bilete?")).await;
    let seen = bot.expect("the command", |s| matches!(s, Seen::Command { .. })).await;
    assert_eq!(
        seen,
        Seen::Command {
            name: "somebot".into(),
            sub: "spor".into(),
            value: "Kan eg dele bilete?".into(),
            locale: "no".into(),
            roles: vec![],
            manage_guild: false,
        }
    );

    let callback = bot.standin.callback_for(&ir, WAIT).await;
    assert_eq!(callback.status, 204);
    let body = callback.json().expect("callback JSON");
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["content"], "Spørsmål: Kan eg dele bilete?");
    assert_eq!(body["data"]["components"][0]["components"][0]["custom_id"], "vis_meir");

    assert_eq!(bot.outcome("respond").await, Ok(String::new()));
    assert_eq!(bot.outcome("followup").await, Ok("Meir info følgjer.".into()));
    assert_eq!(bot.outcome("edit original").await, Ok("Svar: Kan eg dele bilete?".into()));

    let hook = ir.webhook_path(ids::APPLICATION);
    let follow = bot.standin.wait_for(|r| r.is("POST", &hook), WAIT).await;
    assert_eq!(follow.response.as_ref().unwrap()["flags"], 64, "ephemeral follow-up");
    let meta = &follow.response.as_ref().unwrap()["interaction_metadata"];
    assert_eq!(meta["id"], ir.id.to_string());
    assert_eq!(meta["type"], 2);
    let original = bot.standin.original_response(&ir).expect("original response stored");
    assert_eq!(original["content"], "Svar: Kan eg dele bilete?");
    assert!(original["edited_timestamp"].is_string());
    assert_eq!(meta["original_response_message_id"], original["id"]);

    // An admin carries MANAGE_GUILD in the member permissions of the interaction.
    bot.standin.slash_command(ids::ADMIN, "somebot", spor("Kven godkjenner?")).await;
    let admin = bot
        .expect("the admin's command", |s| matches!(s, Seen::Command { value, .. } if value == "Kven godkjenner?"))
        .await;
    assert!(matches!(admin, Seen::Command { manage_guild: true, ref roles, .. } if roles == &vec![ids::ROLE_ADMIN]));

    bot.standin.assert_all_requests_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn button_modal_selects_and_autocomplete() {
    let mut bot = Bot::default().await;
    bot.ready().await;
    let first = bot.standin.slash_command(ids::ENGLISH_EMPLOYEE, "somebot", spor("Bilete?")).await;
    bot.standin.callback_for(&first, WAIT).await;
    assert_eq!(bot.outcome("edit original").await, Ok("Svar: Bilete?".into()));
    let message_id: u64 = bot.standin.original_response(&first).unwrap()["id"].as_str().unwrap().parse().unwrap();

    // Button on the bot's message → the bot opens a modal.
    let click = bot.standin.button(ids::ENGLISH_EMPLOYEE, "vis_meir", None).await;
    let seen = bot.expect("the button", |s| matches!(s, Seen::Button { .. })).await;
    assert_eq!(seen, Seen::Button { custom_id: "vis_meir".into(), message_id });
    let modal = bot.standin.callback_for(&click, WAIT).await;
    assert_eq!(modal.json().unwrap()["type"], 9);
    assert_eq!(modal.json().unwrap()["data"]["custom_id"], "skjema");
    assert_eq!(bot.outcome("modal").await, Ok(String::new()));

    // The modal submit comes back with the fields and the message the button sat on.
    let submit = bot.standin.modal_submit(ids::ENGLISH_EMPLOYEE, "skjema", &[("grunn", "Fordi eg lurer")]).await;
    let seen = bot.expect("the modal", |s| matches!(s, Seen::Modal { .. })).await;
    assert_eq!(
        seen,
        Seen::Modal {
            custom_id: "skjema".into(),
            fields: vec![("grunn".into(), "Fordi eg lurer".into())],
            has_message: true,
        }
    );
    let thanks = bot.standin.callback_for(&submit, WAIT).await;
    assert_eq!(thanks.json().unwrap()["data"]["content"], "Takk: Fordi eg lurer");
    assert_eq!(bot.outcome("modal answer").await, Ok(String::new()));
    assert!(bot.standin.notes().iter().all(|n| !n.contains("modal_submit")), "{:?}", bot.standin.notes());

    // String select → the bot updates the message in place (type 7).
    let pick = bot.standin.select(ids::ENGLISH_EMPLOYEE, "vel_tema", vec!["personvern".into()], 3).await;
    let seen = bot
        .expect("the string select", |s| matches!(s, Seen::Select { custom_id, .. } if custom_id == "vel_tema"))
        .await;
    assert_eq!(
        seen,
        Seen::Select { custom_id: "vel_tema".into(), values: vec!["personvern".into()], resolved_users: vec![] }
    );
    assert_eq!(bot.standin.callback_for(&pick, WAIT).await.json().unwrap()["type"], 7);
    assert_eq!(bot.outcome("update").await, Ok(String::new()));
    assert_eq!(bot.standin.message(message_id).unwrap()["content"], "Tema: personvern");

    // User select → resolved users reach the handler; the bot acknowledges (type 6).
    let who = bot.standin.select(ids::ENGLISH_EMPLOYEE, "vel_person", vec![ids::COMMS_OFFICER.to_string()], 5).await;
    let seen = bot
        .expect("the user select", |s| matches!(s, Seen::Select { custom_id, .. } if custom_id == "vel_person"))
        .await;
    assert_eq!(
        seen,
        Seen::Select {
            custom_id: "vel_person".into(),
            values: vec![ids::COMMS_OFFICER.to_string()],
            resolved_users: vec!["ingrid.berg".into()],
        }
    );
    assert_eq!(bot.standin.callback_for(&who, WAIT).await.json().unwrap()["type"], 6);

    // Autocomplete: the focused option and what was typed; the bot answers with choices.
    let ac = bot.standin.autocomplete(ids::EMPLOYEE, "somebot", spor("pers")).await;
    let seen = bot.expect("autocomplete", |s| matches!(s, Seen::Autocomplete { .. })).await;
    assert_eq!(seen, Seen::Autocomplete { option: "tekst".into(), partial: "pers".into() });
    let choices = bot.standin.callback_for(&ac, WAIT).await;
    assert_eq!(choices.json().unwrap()["type"], 8);
    assert_eq!(choices.json().unwrap()["data"]["choices"][0]["value"], "personvern");

    assert_eq!(bot.outcome("autocomplete").await, Ok(String::new()));
    bot.standin.assert_all_requests_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_message_and_dm_command() {
    let mut bot = Bot::default().await;
    bot.ready().await;

    let dm = bot.standin.dm_message(ids::EMPLOYEE, "Hei, kva gjeld for bilete?").await;
    let seen = bot.expect("the DM", |s| matches!(s, Seen::Dm { .. })).await;
    assert_eq!(seen, Seen::Dm { author: ids::EMPLOYEE, content: "Hei, kva gjeld for bilete?".into() });
    assert_eq!(bot.outcome("dm reply").await, Ok(format!("{}:1", dm.channel_id)));

    // The reply went to the DM channel as multipart: payload_json plus the file.
    let path = format!("/channels/{}/messages", dm.channel_id);
    let reply = bot.standin.wait_for(|r| r.is("POST", &path), WAIT).await;
    assert_eq!(reply.status, 200);
    assert!(reply.headers["content-type"].starts_with("multipart/form-data"));
    assert_eq!(reply.json().unwrap()["content"], "Hei kari.nordmann! Her er retningslinjene.");
    let files = reply.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename.as_deref(), Some("retningslinjer.txt"));
    assert_eq!(files[0].data, b"Retningslinjer for sosiale medium");
    assert_eq!(bot.standin.messages_in(dm.channel_id).len(), 2);

    // A global command used in the DM: deferred, then the original response is edited.
    let ir = bot.standin.slash_command_in_dm(ids::ENGLISH_EMPLOYEE, "hjelp", json!([])).await;
    let seen = bot.expect("the DM command", |s| matches!(s, Seen::DmCommand { .. })).await;
    assert_eq!(seen, Seen::DmCommand { name: "hjelp".into(), user: ids::ENGLISH_EMPLOYEE, locale: "en-US".into() });
    assert_eq!(ir.guild_id, None);
    assert_eq!(bot.standin.callback_for(&ir, WAIT).await.json().unwrap()["type"], 5);
    assert_eq!(bot.outcome("edit deferred").await, Ok("Hjelp: /somebot spor".into()));
    let original = bot.standin.original_response(&ir).unwrap();
    assert_eq!(original["flags"], 0, "editing clears the LOADING flag");

    bot.standin.assert_all_requests_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_dm_fails_with_discords_50007() {
    let mut world = World::default();
    world.dm_blocked.insert(ids::UNRELATED);
    let mut bot = Bot::start(world, GatewayIntents::GUILDS | GatewayIntents::DIRECT_MESSAGES).await;
    bot.ready().await;

    let options = json!([{"type": 1, "name": "meld", "options": [
        {"type": 6, "name": "kven", "value": ids::UNRELATED.to_string()}
    ]}]);
    let ir = bot.standin.slash_command(ids::COMMS_OFFICER, "somebot", options).await;
    assert_eq!(bot.outcome("dm to target").await, Err("403 50007: Cannot send messages to this user".into()));
    let answer = bot.standin.callback_for(&ir, WAIT).await;
    assert!(answer.json().unwrap()["data"]["content"].as_str().unwrap().contains("50007"));
    let dm = bot.standin.dm_channel_of(ids::UNRELATED).expect("DM channel created");
    let failed = bot.standin.wait_for(|r| r.is("POST", &format!("/channels/{dm}/messages")), WAIT).await;
    assert_eq!(failed.status, 403);
    assert_eq!(failed.response.as_ref().unwrap()["code"], 50007);
    bot.standin.assert_all_requests_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_op7_resumes_the_session() {
    let mut bot = Bot::default().await;
    bot.ready().await;
    let session =
        bot.standin.gateway_log().iter().find(|f| f.t.as_deref() == Some("READY")).unwrap().d["session_id"].clone();
    let last_seq = bot.standin.gateway_log().iter().filter_map(|f| f.s).max().unwrap();

    bot.standin.send_reconnect();
    let resume = bot.standin.wait_gateway(|f| f.dir == Direction::In && f.op == Some(6), WAIT).await;
    assert_eq!(resume.d["session_id"], session);
    assert!(resume.d["seq"].as_u64().unwrap() >= last_seq.min(2), "{:?}", resume.d);
    assert_eq!(resume.conn, 2, "a new connection");
    bot.expect("RESUMED", |s| *s == Seen::Resumed).await;
    assert_eq!(bot.standin.session_counts(), (1, 1), "(identifies, resumes)");

    // The resumed session carries on: sequence numbers continue and events still arrive.
    let ir = bot.standin.slash_command(ids::EMPLOYEE, "somebot", spor("Etter reconnect?")).await;
    assert_eq!(bot.standin.callback_for(&ir, WAIT).await.status, 204);
    let frames: Vec<GatewayFrame> = bot.standin.gateway_log().into_iter().filter(|f| f.conn == 2).collect();
    let resumed = frames.iter().find(|f| f.t.as_deref() == Some("RESUMED")).unwrap();
    assert!(resumed.s.unwrap() > last_seq);

    // A resumable Invalid Session (op 9 true) and a dropped TCP connection both resume too.
    bot.standin.invalid_session(true);
    let again = bot.standin.wait_gateway(|f| f.dir == Direction::In && f.op == Some(6) && f.conn == 3, WAIT).await;
    assert_eq!(again.d["session_id"], session);
    bot.standin.wait_ready(WAIT).await;
    bot.standin.drop_connection();
    bot.standin.wait_gateway(|f| f.dir == Direction::In && f.op == Some(6) && f.conn == 4, WAIT).await;
    bot.standin.wait_ready(WAIT).await;
    assert_eq!(bot.standin.session_counts(), (1, 3), "(identifies, resumes)");
    let ir = bot.standin.slash_command(ids::EMPLOYEE, "somebot", spor("Framleis der?")).await;
    assert_eq!(bot.standin.callback_for(&ir, WAIT).await.status, 204);
    bot.standin.assert_all_requests_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_reach_the_client_once() {
    let world = World::default();
    let token = world.token.clone();
    let standin = StandIn::start(world).await;
    let http = HttpBuilder::new(&token).proxy(standin.base_url()).ratelimiter_disabled(true).build();

    standin.fail_next("GET", "/users/@me", 1, 502, json!({"message": "502: Bad Gateway", "code": 0}));
    let err = http.get_current_user().await.expect_err("injected 502");
    assert_eq!(error_text(&err), "502 0: 502: Bad Gateway");
    assert_eq!(http.get_current_user().await.expect("served again").id.get(), ids::BOT_USER);

    standin.rate_limit_next("*", "/guilds/", 1, 0.25, false);
    let err = http.get_member(GuildId::new(ids::GUILD), UserId::new(ids::EMPLOYEE)).await.expect_err("429");
    assert!(error_text(&err).starts_with("429"), "{}", error_text(&err));
    let member = http.get_member(GuildId::new(ids::GUILD), UserId::new(ids::EMPLOYEE)).await.expect("member");
    assert_eq!(member.user.name, "kari.nordmann");
    let members = http.get_guild_members(GuildId::new(ids::GUILD), Some(1000), None).await.expect("members");
    assert_eq!(members.len(), 7);

    standin.delay_next("GET", "/users/@me", 1, Duration::from_millis(300));
    let started = std::time::Instant::now();
    http.get_current_user().await.expect("delayed");
    assert!(started.elapsed() >= Duration::from_millis(300));

    let recorded = standin.requests();
    assert_eq!(recorded.iter().filter(|r| r.injected_fault).count(), 2);
    // A wrong token gets Discord's 401.
    let bad = HttpBuilder::new("wrong").proxy(standin.base_url()).ratelimiter_disabled(true).build();
    assert_eq!(error_text(&bad.get_current_user().await.expect_err("401")), "401 0: 401: Unauthorized");
    standin.assert_all_requests_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interaction_rules_match_discord() {
    // An interaction that is answered late is gone (10062), and so is its webhook (10015).
    let world = World { interaction_deadline: Duration::ZERO, ..World::default() };
    let token = world.token.clone();
    let mut bot = Bot::start(world, GatewayIntents::GUILDS).await;
    bot.ready().await;
    let late = bot.standin.slash_command(ids::EMPLOYEE, "somebot", spor("For seint?")).await;
    assert_eq!(bot.outcome("respond").await, Err("404 10062: Unknown interaction".into()));
    assert_eq!(bot.outcome("followup").await, Err("404 10015: Unknown Webhook".into()));
    assert!(bot.standin.notes().iter().any(|n| n.contains(&format!("callback for interaction {}", late.id))));

    // A second response to the same interaction is refused (40060).
    let mut bot = Bot::default().await;
    bot.ready().await;
    let ir = bot.standin.slash_command(ids::EMPLOYEE, "somebot", spor("To gonger?")).await;
    assert_eq!(bot.outcome("respond").await, Ok(String::new()));
    let http = HttpBuilder::new(&token).proxy(bot.standin.base_url()).ratelimiter_disabled(true).build();
    let again = json!({"type": 4, "data": {"content": "igjen"}});
    let err =
        http.create_interaction_response(ir.id.into(), &ir.token, &again, vec![]).await.expect_err("second response");
    assert_eq!(error_text(&err), "400 40060: Interaction has already been acknowledged.");
    // Unknown interactions, empty messages and over-long content get Discord's errors too.
    let err = http.create_interaction_response(1.into(), "nope", &again, vec![]).await.expect_err("unknown");
    assert_eq!(error_text(&err), "404 10062: Unknown interaction");
    let err = http.send_message(ids::GENERAL.into(), vec![], &json!({"content": ""})).await.expect_err("empty");
    assert_eq!(error_text(&err), "400 50006: Cannot send an empty message");
    let long = json!({"content": "x".repeat(2001)});
    let err = http.send_message(ids::GENERAL.into(), vec![], &long).await.expect_err("too long");
    assert_eq!(error_text(&err), "400 50035: Invalid Form Body");
    bot.standin.assert_all_requests_valid();
}

/// Sends a raw HTTP/1.1 request to the stand-in and returns the status and body.
async fn raw_request(base_url: &str, method: &str, path: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bot {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_reports_requests_that_break_the_spec() {
    let world = World::default();
    let token = world.token.clone();
    let standin = StandIn::start(world).await;
    let http = HttpBuilder::new(&token).proxy(standin.base_url()).ratelimiter_disabled(true).build();

    // An embed field whose `inline` is a string: serenity sends whatever JSON it is given.
    let bad =
        json!({"content": "x", "embeds": [{"title": "T", "fields": [{"name": "a", "value": "b", "inline": "yes"}]}]});
    // The stand-in accepts it (the oracle, not the stand-in, judges requests) and echoes the
    // embed back, which serenity then fails to parse as a Message: the call's result is moot.
    let _ = http.send_message(ids::GENERAL.into(), vec![], &bad).await;
    // A path Discord does not have, and a method a known path does not take.
    let (status, body) = raw_request(&standin.base_url(), "GET", "/api/v10/channels/1/messagez", &token).await;
    assert_eq!(status, 404);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"message": "404: Not Found", "code": 0}));
    let (status, _) = raw_request(&standin.base_url(), "DELETE", "/api/v10/gateway", &token).await;
    assert_eq!(status, 405);

    let violations = standin.check_requests();
    let described: Vec<(String, String)> = violations.iter().map(|v| (v.request.clone(), v.pointer.clone())).collect();
    assert_eq!(
        described,
        vec![
            (format!("#0 POST /channels/{}/messages", ids::GENERAL), "/embeds/0/fields/0/inline".into()),
            ("#1 GET /channels/1/messagez".into(), "route".into()),
            ("#2 DELETE /gateway".into(), "route".into()),
        ]
    );
    assert!(violations[0].rule.contains("\"yes\" is not of types \"boolean\", \"null\""), "{}", violations[0].rule);
    assert!(violations[0].rule.contains("RichEmbedField"), "{}", violations[0].rule);
    assert!(violations[1].rule.contains("not in Discord's OpenAPI spec"));
    assert!(violations[2].rule.contains("spec has GET"));

    let panic = std::panic::catch_unwind(AssertUnwindSafe(|| standin.assert_all_requests_valid()))
        .expect_err("assert_all_requests_valid panics");
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.starts_with("3 request(s) break Discord's OpenAPI spec"), "{text}");
    assert!(text.contains("at /embeds/0/fields/0/inline"), "{text}");
}

#[test]
fn oracle_matches_literal_segments_and_narrows_unions() {
    let spec = openapi::spec();
    let (template, params) = spec.match_path("/webhooks/1/tok/messages/@original").unwrap();
    assert_eq!(template, "/webhooks/{webhook_id}/{webhook_token}/messages/@original");
    assert_eq!(params["webhook_token"], "tok");
    assert_eq!(
        spec.match_path("/webhooks/1/tok/messages/2").unwrap().0,
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    );
    assert_eq!(spec.match_path("/users/@me/channels").unwrap().0, "/users/@me/channels");
    assert_eq!(spec.match_path("/users/123").unwrap().0, "/users/{user_id}");

    let check = |method: &str, path: &str, query: Option<&str>, body: Option<&Value>| {
        let body = body.map_or(openapi::BodyView::None, openapi::BodyView::Json);
        openapi::check(&openapi::RequestView { label: "t".into(), method, path, query, body })
    };
    // A button style that does not exist, inside the components union.
    let body = json!({"type": 4, "data": {"components": [{"type": 1, "components": [
        {"type": 2, "style": 9, "label": "x", "custom_id": "a"}]}]}});
    let v = check("POST", "/interactions/1/tok/callback", None, Some(&body));
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].pointer, "/data/components/0/components/0/style");
    // A value outside an enumeration written as a union of constants.
    let body = json!({"content": "x", "allowed_mentions": {"parse": ["bogus"]}});
    let v = check("POST", "/channels/1/messages", None, Some(&body));
    assert_eq!(v[0].pointer, "/allowed_mentions/parse/0", "{v:?}");
    assert!(v[0].rule.contains("\"bogus\" is not one of \"users\", \"roles\", \"everyone\""), "{v:?}");
    // A component type no branch has.
    let body = json!({"content": "x", "components": [{"type": 99}]});
    let v = check("POST", "/channels/1/messages", None, Some(&body));
    assert_eq!(v[0].pointer, "/components/0/type", "{v:?}");
    // Path parameters are snowflakes; serenity's leading `&` in queries is not a parameter.
    let v = check("GET", "/guilds/abc/members", Some("&limit=1000&after=0"), None);
    assert_eq!(v.iter().map(|v| v.pointer.as_str()).collect::<Vec<_>>(), vec!["path:guild_id"]);
    let v = check("GET", "/guilds/1/members", Some("&limit=5000"), None);
    assert_eq!(v[0].pointer, "query:limit", "{v:?}");
    // A command registered with the string permissions serenity sends is accepted; a bad name is not.
    let commands = json!([{"name": "somebot", "description": "d", "default_member_permissions": "8"}]);
    assert!(check("PUT", "/applications/1/commands", None, Some(&commands)).is_empty());
    let commands = json!([{"name": "", "description": "d", "default_member_permissions": "x"}]);
    assert!(!check("PUT", "/applications/1/commands", None, Some(&commands)).is_empty());
}

#[test]
fn oracle_checks_the_payload_json_of_multipart_bodies() {
    let check = |method: &str, path: &str, payload_json: &Value, files: &[&str]| {
        let text = payload_json.to_string();
        let mut parts = vec![openapi::FormPart { name: "payload_json", is_file: false, data: text.as_bytes() }];
        parts.extend(files.iter().map(|name| openapi::FormPart { name, is_file: true, data: b"evidence" }));
        let body = openapi::BodyView::Multipart { payload_json: Some(payload_json), parts };
        openapi::check(&openapi::RequestView { label: "t".into(), method, path, query: None, body })
    };
    let pointers = |v: &[openapi::Violation]| v.iter().map(|v| v.pointer.clone()).collect::<Vec<_>>();
    let message = |id: Value| json!({"content": "x", "attachments": [{"id": id, "filename": "a.png"}]});

    // A new upload's id is a snowflake string ("0" for files[0]); the integer 0 is refused.
    let v = check("POST", "/channels/1/messages", &message(json!(0)), &["files[0]"]);
    assert_eq!(pointers(&v), ["payload_json/attachments/0/id"], "{v:?}");
    assert!(v[0].rule.contains("0 is not of type \"string\"") && v[0].rule.contains("SnowflakeType"), "{v:?}");
    assert!(check("POST", "/channels/1/messages", &message(json!("0")), &["files[0]"]).is_empty());
    // The same in an edit, a follow-up and an interaction callback (the message under `data`).
    let edit = "/webhooks/1/tok/messages/@original";
    assert_eq!(pointers(&check("PATCH", edit, &message(json!(0)), &["files[0]"])), ["payload_json/attachments/0/id"]);
    assert!(check("PATCH", edit, &message(json!("0")), &["files[0]"]).is_empty());
    assert_eq!(pointers(&check("POST", "/webhooks/1/tok", &message(json!(0)), &["files[0]"])).len(), 1);
    let callback = |id: Value| json!({"type": 4, "data": message(id)});
    let v = check("POST", "/interactions/1/tok/callback", &callback(json!(0)), &["files[0]"]);
    assert_eq!(pointers(&v), ["payload_json/data/attachments/0/id"], "{v:?}");
    assert!(check("POST", "/interactions/1/tok/callback", &callback(json!("0")), &["files[0]"]).is_empty());

    // The rest of payload_json is checked as a JSON body would be.
    let v = check("POST", "/channels/1/messages", &json!({"content": 5}), &["files[0]"]);
    assert_eq!(pointers(&v), ["payload_json/content"], "{v:?}");
    // Part names are unique; payload_json must be JSON.
    let v = check("POST", "/channels/1/messages", &message(json!("0")), &["files[0]", "files[0]"]);
    assert_eq!(pointers(&v), ["part:files[0]"], "{v:?}");
    let parts = vec![openapi::FormPart { name: "payload_json", is_file: false, data: b"{not json" }];
    let body = openapi::BodyView::Multipart { payload_json: None, parts };
    let v = openapi::check(&openapi::RequestView {
        label: "t".into(),
        method: "POST",
        path: "/channels/1/messages",
        query: None,
        body,
    });
    assert_eq!(pointers(&v), ["payload_json"], "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_catches_serenitys_upload_ids() {
    let world = World::default();
    let token = world.token.clone();
    let standin = StandIn::start(world).await;
    let http = HttpBuilder::new(&token).proxy(standin.base_url()).ratelimiter_disabled(true).build();
    let file = |name: &str| CreateAttachment::bytes(b"evidence".to_vec(), name);

    // serenity 0.12.5's builder numbers each new upload with an integer id.
    let builder = CreateMessage::new().content("x").add_file(file("a.png"));
    serenity::all::ChannelId::new(ids::GENERAL).send_message(&http, builder).await.expect("the stand-in posts it");
    // Its plain call names every part after that id, `files[0]`, however many files it gets.
    let body =
        json!({"content": "y", "attachments": [{"id": "0", "filename": "a.png"}, {"id": "1", "filename": "b.png"}]});
    http.send_message(ids::GENERAL.into(), vec![file("a.png"), file("b.png")], &body).await.expect("posted");
    // One file with the id as a string conforms.
    let body = json!({"content": "z", "attachments": [{"id": "0", "filename": "a.png"}]});
    http.send_message(ids::GENERAL.into(), vec![file("a.png")], &body).await.expect("posted");

    let path = format!("/channels/{}/messages", ids::GENERAL);
    let described: Vec<(String, String)> =
        standin.check_requests().iter().map(|v| (v.request.clone(), v.pointer.clone())).collect();
    assert_eq!(
        described,
        vec![
            (format!("#0 POST {path}"), "payload_json/attachments/0/id".into()),
            (format!("#1 POST {path}"), "part:files[0]".into()),
        ]
    );
    assert!(standin.requests().iter().all(|r| r.headers["content-type"].starts_with("multipart/form-data")));
}

/// Every payload builder parses with serenity's own model types (serenity drops what it cannot
/// parse silently, so this is where a missing field shows).
#[test]
fn payloads_parse_with_serenity_models() {
    use serenity::model::prelude::*;
    fn parse<T: serde::de::DeserializeOwned>(what: &str, v: &Value) -> T {
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{what} does not parse: {e}\n{v:#}"))
    }
    let world = World::default();
    let ready: Ready = parse("READY", &payloads::ready(&world, "s", "ws://x", [0, 1], 0));
    assert_eq!(ready.application.id.get(), ids::APPLICATION);
    let members: Vec<Value> = world.users.iter().map(|u| payloads::member(&world, u)).collect();
    let guild: GuildCreateEvent = parse("GUILD_CREATE", &payloads::guild_create(&world, members));
    assert_eq!(guild.guild.channels.len(), 2);
    assert_eq!(guild.guild.roles.len(), 5);
    assert_eq!(guild.guild.members.len(), 6);
    let admin = &guild.guild.members[&UserId::new(ids::ADMIN)];
    assert_eq!(admin.roles, vec![RoleId::new(ids::ROLE_ADMIN)]);
    let _: Member = parse("bot member", &payloads::bot_member(&world));
    let u = world.user(ids::EMPLOYEE).unwrap();
    let dm: Channel = parse("DM channel", &payloads::dm_channel(5, u));
    assert!(matches!(dm, Channel::Private(_)));
    let dm_msg: Message = parse("DM MESSAGE_CREATE", &payloads::dm_message_create(6, 5, u, "hei"));
    assert_eq!(dm_msg.guild_id, None);
    let command: Command =
        parse("command", &payloads::command(&world, 7, Some(ids::GUILD), &json!({"name": "x", "description": "d"})));
    assert_eq!(command.guild_id, Some(GuildId::new(ids::GUILD)));

    let guild_place = Place::Guild { channel_id: ids::GENERAL };
    let dm_place = Place::Dm { channel_id: 5 };
    let message = payloads::message_base(8, ids::GENERAL, payloads::bot_user(&world));
    let cases = [
        (2u8, json!({"id": "9", "name": "x", "type": 1, "options": []}), None, guild_place),
        (2, json!({"id": "9", "name": "x", "type": 1}), None, dm_place),
        (
            4,
            json!({"id": "9", "name": "x", "type": 1, "options": [{"type": 3, "name": "q", "value": "p", "focused": true}]}),
            None,
            guild_place,
        ),
        (3, json!({"custom_id": "b", "component_type": 2}), Some(message.clone()), guild_place),
        (3, json!({"custom_id": "s", "component_type": 3, "values": ["a"]}), Some(message.clone()), dm_place),
        (
            5,
            json!({"custom_id": "m", "components": [{"type": 1, "components": [{"type": 4, "custom_id": "f", "value": "v"}]}]}),
            None,
            guild_place,
        ),
    ];
    for (kind, data, msg, place) in cases {
        let v = payloads::interaction(
            &world,
            InteractionSpec { id: 10, token: "t", kind, data, user: u, place, message: msg },
        );
        let interaction: Interaction = parse(&format!("interaction type {kind} in {place:?}"), &v);
        assert_eq!(u8::from(interaction.kind()), kind);
        assert_eq!(interaction.guild_id().is_some(), matches!(place, Place::Guild { .. }));
    }

    // A response message with interaction metadata of each kind.
    let user = payloads::user(u);
    for metadata in [
        json!({"id": "1", "type": 2, "user": user, "authorizing_integration_owners": {"0": "1"}, "name": "x"}),
        json!({"id": "1", "type": 3, "user": user, "authorizing_integration_owners": {"0": "1"}, "interacted_message_id": "8"}),
        json!({"id": "1", "type": 5, "user": user, "authorizing_integration_owners": {"0": "0"},
               "triggering_interaction_metadata": {"id": "2", "type": 2, "user": user, "authorizing_integration_owners": {}}}),
    ] {
        let mut m = message.clone();
        m["interaction_metadata"] = metadata;
        m["webhook_id"] = json!("1");
        let parsed: Message = parse("interaction response", &m);
        assert!(parsed.interaction_metadata.is_some());
    }
    let chunk = json!({"guild_id": ids::GUILD.to_string(), "members": [payloads::member(&world, u)], "chunk_index": 0, "chunk_count": 1});
    let _: GuildMembersChunkEvent = parse("GUILD_MEMBERS_CHUNK", &chunk);
}
