//! `/report-threat` (guideline point 3h): an employee tells their line manager, privately, about
//! threats or abuse on social media connected with their work. Intake, routing through the org
//! register, delivery by DM with acknowledgement and rerouting, follow-up, export, retention.
//! Content is sealed at rest ([`crate::crypto`]) and never logged or posted in a guild channel.

/// The sealing of reports lives in [`crate::crypto`] (the outbox uses it too).
pub use crate::crypto;
pub mod decide;
mod delivery;
mod export;
mod follow_up;
pub mod ids;
mod intake;
mod view;
pub mod workflow;

use serde::{Deserialize, Serialize};

/// What the reporter wrote in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportContent {
    pub what: String,
    #[serde(rename = "where")]
    pub place: String,
    pub when: String,
    pub ongoing: String,
}

/// The longest answer to "what happened" (Discord's maximum for a text input).
pub const MAX_WHAT: u16 = 4000;
/// The longest answer to "where" (platform and links).
pub const MAX_WHERE: u16 = 1000;
/// The longest answer to "when".
pub const MAX_WHEN: u16 = 200;
/// The longest answer to "still going on?".
pub const MAX_ONGOING: u16 = 200;
/// The largest evidence file copied at intake.
pub const MAX_EVIDENCE_BYTES: u64 = 10 * 1024 * 1024;

use crate::core::commands::{CommandSpec, OptionKind, OptionSpec};

/// The commands of this feature: `/report-threat` and `/reports`.
pub fn commands() -> Vec<CommandSpec> {
    let evidence = OptionSpec::new(OptionKind::Attachment, "evidence", "cmd.report-threat.evidence");
    vec![
        CommandSpec {
            name: "report-threat",
            description_key: "cmd.report-threat.description".into(),
            options: vec![evidence],
            admin_only: false,
            in_dms: true,
        },
        CommandSpec {
            name: "reports",
            description_key: "cmd.reports.description".into(),
            options: Vec::new(),
            admin_only: false,
            in_dms: true,
        },
    ]
}

use crate::core::errors::{HandlerResult, UserError};
use crate::core::{Actor, CommandInput, Outcome};
use crate::ctx::Ctx;
use crate::feature::Feature;

/// The `/report-threat` and `/reports` feature.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreatReports;

impl Feature for ThreatReports {
    type Id = ids::ReportId;

    fn commands(&self) -> Vec<CommandSpec> {
        commands()
    }

    fn command_names(&self) -> &'static [&'static str] {
        &["report-threat", "reports"]
    }

    fn background_prefix(&self) -> &'static str {
        "rt"
    }

    async fn command(&self, cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
        match cmd.name.as_str() {
            "report-threat" => intake::command(cx, actor, cmd).await,
            _ => view::list(cx, actor).await,
        }
    }

    async fn component(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        id: ids::ReportId,
        values: &[String],
    ) -> HandlerResult<Outcome> {
        match id {
            ids::ReportId::Report { report, action } => workflow::component(cx, actor, report, action, values).await,
            ids::ReportId::List => view::list_component(cx, actor, values).await,
            ids::ReportId::Form { .. } => Err(UserError::new("common.expired").into()),
        }
    }

    async fn modal(
        &self,
        cx: &Ctx<'_>,
        actor: &Actor,
        id: ids::ReportId,
        fields: &[(String, String)],
    ) -> HandlerResult<Outcome> {
        match id {
            ids::ReportId::Form { report, form } => workflow::modal(cx, actor, report, form, fields).await,
            _ => Err(UserError::new("common.expired").into()),
        }
    }

    async fn timer(&self, cx: &Ctx<'_>, kind: &str, subject: i64) -> HandlerResult<Outcome> {
        delivery::timer(cx, kind, subject).await
    }

    async fn delivery_failed(&self, cx: &Ctx<'_>, hook: &str) -> HandlerResult<Outcome> {
        delivery::delivery_failed(cx, hook).await
    }
}
