//! The organisation as the bot needs it: which role the communications officers
//! (informasjonskonsulentar) hold, where channel requests are reviewed, and (with
//! `/report-threat`) who manages whom. Configured by admins with `/setup` or `somebot setup`.

use crate::core::errors::{HandlerResult, UserError};
use crate::core::{Actor, CommandInput, Embed, EmbedField, Message, OptionValue, Outcome, Reply, Tone};
use crate::i18n::{t, Locale};
use crate::store::Store;
use crate::App;

/// Setting key: the role of the communications officers.
pub const COMMUNICATIONS_ROLE: &str = "communications_role";
/// Setting key: the channel where channel requests are reviewed.
pub const REVIEW_CHANNEL: &str = "review_channel";

/// The organisation settings of one server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSettings {
    pub communications_role: Option<u64>,
    pub review_channel: Option<u64>,
}

impl OrgSettings {
    /// Loads a server's settings.
    pub async fn load(store: &Store, guild_id: u64) -> sqlx::Result<OrgSettings> {
        let id = |v: Option<String>| v.and_then(|s| s.parse().ok());
        Ok(OrgSettings {
            communications_role: id(store.setting(guild_id, COMMUNICATIONS_ROLE).await?),
            review_channel: id(store.setting(guild_id, REVIEW_CHANNEL).await?),
        })
    }
}

/// Checks that the actor may change the setup: in a server, with Manage Server.
pub fn require_admin(actor: &Actor) -> HandlerResult<u64> {
    let guild = actor.guild_id.ok_or_else(|| UserError::new("common.guild-only"))?;
    if !actor.can_manage_guild {
        return Err(UserError::new("common.needs-manage-server").into());
    }
    Ok(guild)
}

/// `/setup <subcommand>`.
pub async fn command(app: &App, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
    let guild = require_admin(actor)?;
    let locale = actor.locale;
    let now = app.clock.now_ms();
    match cmd.sub() {
        Some("communications-role") => {
            let Some(OptionValue::Role(role)) = cmd.option("role") else {
                return Err(UserError::new("setup.missing-option").arg("option", "role").into());
            };
            app.store.set_setting(guild, COMMUNICATIONS_ROLE, &role.to_string(), actor.user_id, now).await?;
            tracing::info!(guild, role, by = actor.user_id, "communications role set");
            Ok(Outcome::ephemeral(t(locale, "setup.role-set", &[("role", &format!("<@&{role}>"))])))
        }
        Some("review-channel") => {
            let Some(OptionValue::Channel(channel)) = cmd.option("channel") else {
                return Err(UserError::new("setup.missing-option").arg("option", "channel").into());
            };
            app.store.set_setting(guild, REVIEW_CHANNEL, &channel.to_string(), actor.user_id, now).await?;
            tracing::info!(guild, channel, by = actor.user_id, "review channel set");
            Ok(Outcome::ephemeral(t(locale, "setup.channel-set", &[("channel", &format!("<#{channel}>"))])))
        }
        Some("show") => Ok(Outcome::reply(Reply::Message(show(app, guild, locale).await?))),
        Some("manager") => {
            let (Some(OptionValue::User(employee)), Some(OptionValue::User(manager))) =
                (cmd.option("employee"), cmd.option("manager"))
            else {
                return Err(UserError::new("setup.missing-option").arg("option", "employee, manager").into());
            };
            if employee == manager {
                return Err(UserError::new("setup.manager-self").into());
            }
            app.store.set_manager(guild, *employee, *manager, actor.user_id, now).await?;
            tracing::info!(guild, employee, manager, by = actor.user_id, "line manager recorded");
            Ok(Outcome::ephemeral(t(
                locale,
                "setup.manager-set",
                &[("employee", &format!("<@{employee}>")), ("manager", &format!("<@{manager}>"))],
            )))
        }
        Some("alternate") => {
            let Some(OptionValue::User(user)) = cmd.option("user") else {
                return Err(UserError::new("setup.missing-option").arg("option", "user").into());
            };
            let remove = matches!(cmd.option("remove"), Some(OptionValue::Bool(true)));
            app.store.set_alternate(guild, *user, remove, actor.user_id, now).await?;
            tracing::info!(guild, user, remove, by = actor.user_id, "alternate recipient changed");
            let key = if remove { "setup.alternate-removed" } else { "setup.alternate-added" };
            Ok(Outcome::ephemeral(t(locale, key, &[("user", &format!("<@{user}>"))])))
        }
        Some("managers") => Ok(Outcome::reply(Reply::Message(register(app, guild, locale).await?))),
        _ => Err(UserError::new("common.unknown-command").into()),
    }
}

/// `/setup managers`: who manages whom, and the alternate recipients.
pub async fn register(app: &App, guild: u64, locale: Locale) -> HandlerResult<Message> {
    let pairs = app.store.managers(guild).await?;
    let alternates = app.store.alternates(guild).await?;
    let none = t(locale, "setup.none", &[]);
    let lines: Vec<String> = pairs.iter().map(|(e, m)| format!("<@{e}> → <@{m}>")).collect();
    let alt: Vec<String> = alternates.iter().map(|a| format!("<@{a}>")).collect();
    let join = |v: &[String]| {
        if v.is_empty() {
            none.clone()
        } else {
            crate::core::reply::clip(&v.join("\n"), crate::core::reply::limits::EMBED_FIELD_VALUE)
        }
    };
    Ok(Message {
        content: None,
        embeds: vec![Embed {
            title: Some(t(locale, "setup.register-title", &[("count", &pairs.len().to_string())])),
            description: None,
            fields: vec![
                EmbedField { name: t(locale, "setup.field-managers", &[]), value: join(&lines), inline: false },
                EmbedField { name: t(locale, "setup.field-alternates", &[]), value: join(&alt), inline: false },
            ],
            footer: None,
            tone: Some(Tone::Info),
        }],
        components: Vec::new(),
        ephemeral: true,
    })
}

/// `/setup show`: every setting, who set it, and what is missing.
pub async fn show(app: &App, guild: u64, locale: Locale) -> HandlerResult<Message> {
    let settings = OrgSettings::load(&app.store, guild).await?;
    let unset = t(locale, "setup.unset", &[]);
    let officers = match settings.communications_role {
        Some(role) => app.store.members_with_role(guild, role).await?.len(),
        None => 0,
    };
    let mut fields = vec![
        EmbedField {
            name: t(locale, "setup.field-role", &[]),
            value: settings
                .communications_role
                .map(|r| {
                    t(locale, "setup.role-value", &[("role", &format!("<@&{r}>")), ("count", &officers.to_string())])
                })
                .unwrap_or_else(|| unset.clone()),
            inline: false,
        },
        EmbedField {
            name: t(locale, "setup.field-channel", &[]),
            value: settings
                .review_channel
                .map(|c| format!("<#{c}>"))
                .unwrap_or_else(|| t(locale, "setup.channel-unset", &[])),
            inline: false,
        },
    ];
    let mut warnings = Vec::new();
    if settings.communications_role.is_none() {
        warnings.push(t(locale, "setup.warn-no-role", &[]));
    } else if officers == 0 {
        warnings.push(t(locale, "setup.warn-no-officers", &[]));
    }
    if !warnings.is_empty() {
        fields.push(EmbedField {
            name: t(locale, "setup.field-warnings", &[]),
            value: warnings.join("\n"),
            inline: false,
        });
    }
    Ok(Message {
        content: None,
        embeds: vec![Embed {
            title: Some(t(locale, "setup.title", &[])),
            description: None,
            fields,
            footer: None,
            tone: Some(if warnings.is_empty() { Tone::Info } else { Tone::Warning }),
        }],
        components: Vec::new(),
        ephemeral: true,
    })
}
