//! The world the stand-in plays: one guild with its channels, roles and members, the bot's
//! application and user, and the ids of [`World::default`] for assertions.

use std::collections::HashSet;
use std::time::Duration;

use serenity::model::gateway::GatewayIntents;
use serenity::model::Permissions;

/// The ids of [`World::default`], for assertions.
pub mod ids {
    /// The guild "Volda kommune" (also the id of its `@everyone` role).
    pub const GUILD: u64 = 1_300_000_000_000_000_100;
    /// The bot's application.
    pub const APPLICATION: u64 = 1_300_000_000_000_000_200;
    /// The bot's user.
    pub const BOT_USER: u64 = 1_300_000_000_000_000_201;
    /// The bot's managed role.
    pub const BOT_ROLE: u64 = 1_300_000_000_000_000_202;
    /// `#general`.
    pub const GENERAL: u64 = 1_300_000_000_000_000_300;
    /// `#kommunikasjon`.
    pub const KOMMUNIKASJON: u64 = 1_300_000_000_000_000_301;
    /// `@everyone` (Discord gives it the guild's id).
    pub const ROLE_EVERYONE: u64 = GUILD;
    /// Leiar (department heads).
    pub const ROLE_LEIAR: u64 = 1_300_000_000_000_000_401;
    /// Informasjonskonsulent (communications officers).
    pub const ROLE_INFORMASJONSKONSULENT: u64 = 1_300_000_000_000_000_402;
    /// Admin (has MANAGE_GUILD).
    pub const ROLE_ADMIN: u64 = 1_300_000_000_000_000_403;
    /// Kari Nordmann, employee, locale `no`.
    pub const EMPLOYEE: u64 = 1_300_000_000_000_000_501;
    /// John Smith, employee, locale `en-US`.
    pub const ENGLISH_EMPLOYEE: u64 = 1_300_000_000_000_000_502;
    /// Ola Hansen, department head (Leiar).
    pub const DEPARTMENT_HEAD: u64 = 1_300_000_000_000_000_503;
    /// Ingrid Berg, communications officer (Informasjonskonsulent).
    pub const COMMS_OFFICER: u64 = 1_300_000_000_000_000_504;
    /// Per Admin, admin (Admin role, MANAGE_GUILD); owns the guild.
    pub const ADMIN: u64 = 1_300_000_000_000_000_505;
    /// Lars Vik, an employee with no part in any flow.
    pub const UNRELATED: u64 = 1_300_000_000_000_000_506;
}

/// A guild text channel of the world.
#[derive(Clone, Debug)]
pub struct ChannelSpec {
    /// Channel id.
    pub id: u64,
    /// Name without `#`.
    pub name: String,
    /// Topic.
    pub topic: Option<String>,
    /// Sort position.
    pub position: u16,
}

/// A role of the world.
#[derive(Clone, Debug)]
pub struct RoleSpec {
    /// Role id (`@everyone` has the guild's id).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Permission bits.
    pub permissions: u64,
    /// Position in the role list (`@everyone` is 0).
    pub position: u16,
    /// RGB colour, 0 for none.
    pub color: u32,
}

/// A member of the world's guild.
#[derive(Clone, Debug)]
pub struct UserSpec {
    /// User id.
    pub id: u64,
    /// Unique username.
    pub username: String,
    /// Display name.
    pub global_name: Option<String>,
    /// Client locale, sent as an interaction's `locale` (`no`, `en-US`, ...).
    pub locale: String,
    /// Role ids besides `@everyone`.
    pub roles: Vec<u64>,
    /// Grants MANAGE_GUILD on top of the roles' permissions.
    pub manage_guild: bool,
}

/// Everything the stand-in knows about: one guild, its channels, roles and members, the bot.
#[derive(Clone, Debug)]
pub struct World {
    /// The guild's id.
    pub guild_id: u64,
    /// The guild's name.
    pub guild_name: String,
    /// The guild's preferred locale (an interaction's `guild_locale`).
    pub guild_locale: String,
    /// The guild owner's user id.
    pub owner_id: u64,
    /// The bot's application id (READY `application.id`).
    pub application_id: u64,
    /// The bot's user id.
    pub bot_user_id: u64,
    /// The bot's username.
    pub bot_username: String,
    /// The bot's managed role.
    pub bot_role_id: u64,
    /// The permissions of the bot's managed role.
    pub bot_role_permissions: u64,
    /// The bot token the stand-in accepts (REST `Authorization: Bot <token>`, gateway Identify).
    pub token: String,
    /// When everyone joined the guild.
    pub joined_at: String,
    /// Text channels.
    pub channels: Vec<ChannelSpec>,
    /// Roles, `@everyone` included.
    pub roles: Vec<RoleSpec>,
    /// Members (the bot is added by the stand-in).
    pub users: Vec<UserSpec>,
    /// Users whose DMs refuse the bot: posting into their DM channel fails with 403, code 50007.
    pub dm_blocked: HashSet<u64>,
    /// Privileged intents enabled for the application in the developer portal; identifying with
    /// another privileged intent closes the gateway with 4014, as Discord does.
    pub allowed_privileged_intents: u64,
    /// Hello's `heartbeat_interval` in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// How long an interaction accepts its initial response (Discord: 3 s); later callbacks get
    /// 404 "Unknown interaction" (10062).
    pub interaction_deadline: Duration,
}

impl Default for World {
    fn default() -> World {
        let everyone = Permissions::VIEW_CHANNEL
            | Permissions::SEND_MESSAGES
            | Permissions::EMBED_LINKS
            | Permissions::ATTACH_FILES
            | Permissions::READ_MESSAGE_HISTORY
            | Permissions::ADD_REACTIONS
            | Permissions::USE_EXTERNAL_EMOJIS
            | Permissions::USE_APPLICATION_COMMANDS
            | Permissions::CREATE_INSTANT_INVITE
            | Permissions::CHANGE_NICKNAME
            | Permissions::SEND_MESSAGES_IN_THREADS
            | Permissions::CREATE_PUBLIC_THREADS
            | Permissions::CONNECT
            | Permissions::SPEAK;
        let user = |id, username: &str, global: &str, locale: &str, roles: Vec<u64>, manage_guild| UserSpec {
            id,
            username: username.into(),
            global_name: Some(global.into()),
            locale: locale.into(),
            roles,
            manage_guild,
        };
        World {
            guild_id: ids::GUILD,
            guild_name: "Volda kommune".into(),
            guild_locale: "no".into(),
            owner_id: ids::ADMIN,
            application_id: ids::APPLICATION,
            bot_user_id: ids::BOT_USER,
            bot_username: "somebot".into(),
            bot_role_id: ids::BOT_ROLE,
            bot_role_permissions: (Permissions::VIEW_CHANNEL
                | Permissions::SEND_MESSAGES
                | Permissions::EMBED_LINKS
                | Permissions::ATTACH_FILES
                | Permissions::READ_MESSAGE_HISTORY
                | Permissions::ADD_REACTIONS
                | Permissions::USE_EXTERNAL_EMOJIS
                | Permissions::SEND_MESSAGES_IN_THREADS)
                .bits(),
            token: "MTMwMDAwMDAwMDAwMDAwMDIwMQ.standin.bot-token".into(),
            joined_at: "2025-01-06T08:00:00.000000+00:00".into(),
            channels: vec![
                ChannelSpec { id: ids::GENERAL, name: "general".into(), topic: Some("Allment".into()), position: 0 },
                ChannelSpec {
                    id: ids::KOMMUNIKASJON,
                    name: "kommunikasjon".into(),
                    topic: Some("Kommunikasjon og sosiale medium".into()),
                    position: 1,
                },
            ],
            roles: vec![
                RoleSpec {
                    id: ids::ROLE_EVERYONE,
                    name: "@everyone".into(),
                    permissions: everyone.bits(),
                    position: 0,
                    color: 0,
                },
                RoleSpec {
                    id: ids::ROLE_INFORMASJONSKONSULENT,
                    name: "Informasjonskonsulent".into(),
                    permissions: (Permissions::MANAGE_MESSAGES | Permissions::MENTION_EVERYONE).bits(),
                    position: 2,
                    color: 0x1F8B4C,
                },
                RoleSpec {
                    id: ids::ROLE_LEIAR,
                    name: "Leiar".into(),
                    permissions: Permissions::MENTION_EVERYONE.bits(),
                    position: 3,
                    color: 0x206694,
                },
                RoleSpec {
                    id: ids::ROLE_ADMIN,
                    name: "Admin".into(),
                    permissions: (Permissions::MANAGE_GUILD
                        | Permissions::MANAGE_ROLES
                        | Permissions::MANAGE_CHANNELS
                        | Permissions::MANAGE_MESSAGES
                        | Permissions::KICK_MEMBERS
                        | Permissions::BAN_MEMBERS
                        | Permissions::MENTION_EVERYONE)
                        .bits(),
                    position: 4,
                    color: 0xE74C3C,
                },
            ],
            users: vec![
                user(ids::EMPLOYEE, "kari.nordmann", "Kari Nordmann", "no", vec![], false),
                user(ids::ENGLISH_EMPLOYEE, "john.smith", "John Smith", "en-US", vec![], false),
                user(ids::DEPARTMENT_HEAD, "ola.hansen", "Ola Hansen", "no", vec![ids::ROLE_LEIAR], false),
                user(
                    ids::COMMS_OFFICER,
                    "ingrid.berg",
                    "Ingrid Berg",
                    "no",
                    vec![ids::ROLE_INFORMASJONSKONSULENT],
                    false,
                ),
                user(ids::ADMIN, "per.admin", "Per Admin", "no", vec![ids::ROLE_ADMIN], true),
                user(ids::UNRELATED, "lars.vik", "Lars Vik", "no", vec![], false),
            ],
            dm_blocked: HashSet::new(),
            allowed_privileged_intents: (GatewayIntents::GUILD_MEMBERS
                | GatewayIntents::GUILD_PRESENCES
                | GatewayIntents::MESSAGE_CONTENT)
                .bits(),
            heartbeat_interval_ms: 41_250,
            interaction_deadline: Duration::from_secs(3),
        }
    }
}

impl World {
    /// A user of the world by id.
    pub fn user(&self, id: u64) -> Option<&UserSpec> {
        self.users.iter().find(|u| u.id == id)
    }

    /// A role of the world by id.
    pub fn role(&self, id: u64) -> Option<&RoleSpec> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// A text channel of the world by id.
    pub fn channel(&self, id: u64) -> Option<&ChannelSpec> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// A text channel of the world by name.
    pub fn channel_named(&self, name: &str) -> Option<&ChannelSpec> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// The channel interactions happen in unless a test says otherwise: the first one.
    pub fn default_channel(&self) -> u64 {
        self.channels.first().expect("the world has a channel").id
    }
}
