//! The organisation as the bot needs it: which role the communications officers
//! (informasjonskonsulentar) hold, where channel requests are reviewed, and (with
//! `/report-threat`) who manages whom. Configured by admins with `/setup` or `somebot setup`.

use crate::core::errors::{HandlerResult, UserError};
use crate::core::{Actor, CommandInput, Embed, EmbedField, Message, OptionValue, Outcome, Reply, Tone};
use crate::ctx::Ctx;
use crate::i18n::{t, Locale};
use crate::store::Store;

/// Setting key: the role of the communications officers.
pub use crate::store::directory::COMMUNICATIONS_ROLE;
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
    pub async fn load(store: &Store, guild_id: u64) -> HandlerResult<OrgSettings> {
        let id = |v: Option<String>| v.and_then(|s| s.parse().ok());
        Ok(OrgSettings {
            communications_role: id(store.setting(guild_id, COMMUNICATIONS_ROLE).await?),
            review_channel: id(store.setting(guild_id, REVIEW_CHANNEL).await?),
        })
    }
}

/// Whether a user is a communications officer of a server: holds its communications role (from
/// the member directory, which also works for clicks in a DM, where Discord sends no roles).
pub async fn is_officer(cx: &Ctx<'_>, guild: u64, actor: &Actor) -> HandlerResult<bool> {
    let here: &[u64] = if actor.guild_id == Some(guild) { &actor.role_ids } else { &[] };
    Ok(cx.store.is_officer(guild, actor.user_id, here).await?)
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
pub async fn command(cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
    let guild = require_admin(actor)?;
    let locale = actor.locale;
    let now = cx.now();
    match cmd.sub() {
        Some("communications-role") => {
            let Some(OptionValue::Role(role)) = cmd.option("role") else {
                return Err(UserError::new("setup.missing-option").arg("option", "role").into());
            };
            cx.store.set_setting(guild, COMMUNICATIONS_ROLE, &role.to_string(), actor.user_id, now).await?;
            tracing::info!(guild, role, by = actor.user_id, "communications role set");
            Ok(Outcome::ephemeral(t(locale, "setup.role-set", &[("role", &format!("<@&{role}>"))])))
        }
        Some("review-channel") => {
            let Some(OptionValue::Channel(channel)) = cmd.option("channel") else {
                return Err(UserError::new("setup.missing-option").arg("option", "channel").into());
            };
            cx.store.set_setting(guild, REVIEW_CHANNEL, &channel.to_string(), actor.user_id, now).await?;
            tracing::info!(guild, channel, by = actor.user_id, "review channel set");
            Ok(Outcome::ephemeral(t(locale, "setup.channel-set", &[("channel", &format!("<#{channel}>"))])))
        }
        Some("show") => Ok(Outcome::reply(Reply::Message(show(cx, guild, locale).await?))),
        Some("manager") => {
            let (Some(OptionValue::User(employee)), Some(OptionValue::User(manager))) =
                (cmd.option("employee"), cmd.option("manager"))
            else {
                return Err(UserError::new("setup.missing-option").arg("option", "employee, manager").into());
            };
            if employee == manager {
                return Err(UserError::new("setup.manager-self").into());
            }
            let mut step = cx.step().await?;
            step.tx.set_manager(guild, *employee, *manager, actor.user_id, now).await?;
            step.commit(Outcome::reply(Reply::Nothing)).await?;
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
            let mut step = cx.step().await?;
            step.tx.set_alternate(guild, *user, remove, actor.user_id, now).await?;
            step.commit(Outcome::reply(Reply::Nothing)).await?;
            tracing::info!(guild, user, remove, by = actor.user_id, "alternate recipient changed");
            let key = if remove { "setup.alternate-removed" } else { "setup.alternate-added" };
            Ok(Outcome::ephemeral(t(locale, key, &[("user", &format!("<@{user}>"))])))
        }
        Some("managers") => Ok(Outcome::reply(Reply::Message(register(cx, guild, locale).await?))),
        Some("import-managers") => {
            let Some(OptionValue::Attachment { data, size, .. }) = cmd.option("file") else {
                return Err(UserError::new("setup.missing-option").arg("option", "file").into());
            };
            if *size > MAX_IMPORT_BYTES as u64 {
                return Err(UserError::new("setup.import-too-big").arg("max", "1 MB").into());
            }
            let text = data
                .as_ref()
                .and_then(|d| String::from_utf8(d.clone()).ok())
                .ok_or_else(|| UserError::new("setup.import-unreadable"))?;
            let report = import_managers(cx, guild, &text, actor.user_id).await?;
            Ok(Outcome::ephemeral(report.render(locale)))
        }
        _ => Err(UserError::new("common.unknown-command").into()),
    }
}

/// `/setup managers`: who manages whom, and the alternate recipients.
pub async fn register(cx: &Ctx<'_>, guild: u64, locale: Locale) -> HandlerResult<Message> {
    let pairs = cx.store.managers(guild).await?;
    let alternates = cx.store.alternates(guild).await?;
    let none = t(locale, "setup.none", &[]);
    let lines: Vec<String> = pairs.iter().map(|(e, m)| format!("<@{e}> → <@{m}>")).collect();
    let alt: Vec<String> = alternates.iter().map(|a| format!("<@{a}>")).collect();
    // The register's gaps: present members with no manager on record (every one of them who
    // reports a threat has to pick a recipient).
    let mut gaps: Vec<String> = cx
        .store
        .members(guild)
        .await?
        .into_iter()
        .filter(|m| m.present && !m.is_bot && !pairs.iter().any(|(e, _)| *e == m.user_id))
        .map(|m| format!("<@{}>", m.user_id))
        .collect();
    let gap_count = gaps.len();
    gaps.truncate(40);
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
                EmbedField {
                    name: t(locale, "setup.field-gaps", &[("count", &gap_count.to_string())]),
                    value: join(&gaps),
                    inline: false,
                },
            ],
            footer: None,
            tone: Some(Tone::Info),
        }],
        components: Vec::new(),
        ephemeral: true,
        attachments: Vec::new(),
    })
}

/// `/setup show`: every setting, who set it, and what is missing.
pub async fn show(cx: &Ctx<'_>, guild: u64, locale: Locale) -> HandlerResult<Message> {
    let settings = OrgSettings::load(cx.store, guild).await?;
    let unset = t(locale, "setup.unset", &[]);
    let officers = match settings.communications_role {
        Some(role) => cx.store.members_with_role(guild, role).await?.len(),
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
        attachments: Vec::new(),
    })
}

/// The largest manager file `/setup import-managers` reads.
pub const MAX_IMPORT_BYTES: usize = 1_000_000;

/// What an import of the manager register did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Pairs recorded.
    pub imported: usize,
    /// Lines skipped: their number, the message key saying why, and the name concerned.
    pub skipped: Vec<(usize, &'static str, String)>,
}

impl ImportReport {
    /// The report as a message (at most the first ten problems are listed).
    pub fn render(&self, locale: Locale) -> String {
        let mut out = t(
            locale,
            "setup.import-done",
            &[("imported", &self.imported.to_string()), ("skipped", &self.skipped.len().to_string())],
        );
        for (line, key, name) in self.skipped.iter().take(10) {
            let why = t(locale, key, &[("name", name)]);
            out.push_str(&format!(
                "\n• {}",
                t(locale, "setup.import-line", &[("line", &line.to_string()), ("why", &why)])
            ));
        }
        crate::core::reply::clip(&out, 1900)
    }
}

/// Imports `employee,manager` lines (ids, mentions, usernames or display names; `,`, `;` or tab
/// between them; a header line and `#` comments are skipped). Lines that cannot be read are
/// reported with their number; the others are recorded.
pub async fn import_managers(cx: &Ctx<'_>, guild: u64, text: &str, by: u64) -> HandlerResult<ImportReport> {
    let mut report = ImportReport::default();
    let now = cx.now();
    // Every line is read (and every name looked up) first; the register changes in one step.
    let mut pairs = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split([',', ';', '\t']).map(|f| f.trim().trim_matches('"')).collect();
        if fields.len() != 2 {
            report.skipped.push((n, "setup.import-why-fields", String::new()));
            continue;
        }
        let lower = line.to_lowercase();
        if n == 1 && (lower.contains("employee") || lower.contains("tilsett") || lower.contains("manager")) {
            continue;
        }
        let employee = person(cx, guild, fields[0]).await?;
        let manager = person(cx, guild, fields[1]).await?;
        match (employee, manager) {
            (Ok(e), Ok(m)) if e == m => report.skipped.push((n, "setup.import-why-same", String::new())),
            (Ok(e), Ok(m)) => pairs.push((e, m)),
            (Err((key, name)), _) | (_, Err((key, name))) => report.skipped.push((n, key, name)),
        }
    }
    let mut step = cx.step().await?;
    for (e, m) in pairs {
        step.tx.set_manager(guild, e, m, by, now).await?;
        report.imported += 1;
    }
    step.commit(Outcome::reply(Reply::Nothing)).await?;
    tracing::info!(guild, imported = report.imported, skipped = report.skipped.len(), by, "manager register imported");
    Ok(report)
}

/// One member from an id, a mention, a username or a display name (which must be unique).
async fn person(cx: &Ctx<'_>, guild: u64, field: &str) -> HandlerResult<Result<u64, (&'static str, String)>> {
    let id = field.trim_start_matches("<@").trim_start_matches('!').trim_end_matches('>');
    if let Ok(uid) = id.parse::<u64>() {
        return Ok(Ok(uid));
    }
    let found = cx.store.find_members(guild, field).await?;
    let folded = crate::store::directory::fold(field);
    let exact: Vec<_> = found
        .iter()
        .filter(|m| {
            crate::store::directory::fold(&m.display_name) == folded
                || crate::store::directory::fold(&m.username) == folded
        })
        .collect();
    Ok(match (exact.as_slice(), found.as_slice()) {
        ([one], _) => Ok(one.user_id),
        ([], [one]) => Ok(one.user_id),
        ([], []) => Err(("setup.import-why-nobody", crate::core::reply::clip(field, 40))),
        _ => Err(("setup.import-why-several", crate::core::reply::clip(field, 40))),
    })
}

/// The commands of this feature: `/setup`, for admins.
pub fn commands() -> Vec<crate::core::commands::CommandSpec> {
    use crate::core::commands::{CommandSpec, OptionKind, OptionSpec};
    let sub = crate::core::commands::subcommand;
    vec![CommandSpec {
        name: "setup",
        description_key: "cmd.setup.description".into(),
        options: vec![
            sub(
                "communications-role",
                "cmd.setup.communications-role",
                vec![OptionSpec::new(OptionKind::Role, "role", "cmd.setup.role").required()],
            ),
            sub(
                "review-channel",
                "cmd.setup.review-channel",
                vec![OptionSpec::new(OptionKind::Channel, "channel", "cmd.setup.channel").required()],
            ),
            sub("show", "cmd.setup.show", Vec::new()),
            sub(
                "manager",
                "cmd.setup.manager",
                vec![
                    OptionSpec::new(OptionKind::User, "employee", "cmd.setup.employee").required(),
                    OptionSpec::new(OptionKind::User, "manager", "cmd.setup.manager-user").required(),
                ],
            ),
            sub(
                "alternate",
                "cmd.setup.alternate",
                vec![
                    OptionSpec::new(OptionKind::User, "user", "cmd.setup.alternate-user").required(),
                    OptionSpec::new(OptionKind::Bool, "remove", "cmd.setup.alternate-remove"),
                ],
            ),
            sub("managers", "cmd.setup.managers", Vec::new()),
            sub(
                "import-managers",
                "cmd.setup.import-managers",
                vec![OptionSpec::new(OptionKind::Attachment, "file", "cmd.setup.import-file").required()],
            ),
        ],
        admin_only: true,
        in_dms: false,
    }]
}

/// The `/setup` feature.
#[derive(Debug, Clone, Copy, Default)]
pub struct Setup;

/// `/setup` has no buttons or forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoId {}

impl crate::core::ids::CustomId for NoId {
    const PREFIXES: &'static [&'static str] = &[];

    fn parse(_id: &str) -> Option<Self> {
        None
    }

    fn format(&self) -> String {
        match *self {}
    }
}

impl crate::feature::Feature for Setup {
    type Id = NoId;

    fn commands(&self) -> Vec<crate::core::commands::CommandSpec> {
        commands()
    }

    fn command_names(&self) -> &'static [&'static str] {
        &["setup"]
    }

    fn background_prefix(&self) -> &'static str {
        "org"
    }

    async fn command(&self, cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
        command(cx, actor, cmd).await
    }

    async fn component(&self, _cx: &Ctx<'_>, _actor: &Actor, id: NoId, _values: &[String]) -> HandlerResult<Outcome> {
        match id {}
    }
}
