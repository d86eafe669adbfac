//! The custom ids of `/report-threat` and `/reports`, formatted and parsed here only.

use crate::core::ids::{fields, CustomId};

/// A button, menu or form of a threat report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportId {
    /// A button or menu on a report: `rt:<report>:<action>`.
    Report { report: i64, action: Action },
    /// A form about a report: `rtm:<report>:<form>`.
    Form { report: i64, form: Form },
    /// The menu of `/reports` (the chosen report is its value): `rtl:0:show`.
    List,
}

/// What a report button or menu does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read how the report is stored and who sees it.
    Privacy,
    /// Open the form.
    Write,
    /// Open the form again, with what was written.
    Edit,
    /// Throw the draft away.
    Cancel,
    /// Choose the recipient among the manager and the alternates (the menu's value).
    Alternate,
    /// Pick the line manager when the register has none (the menu's value).
    Pick,
    Send,
    Acknowledge,
    Reply,
    Handle,
    Export,
    /// Ask to delete a sent report ...
    Delete,
    /// ... and confirm it.
    DeleteConfirm,
}

/// The forms of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// What happened, where, when, still going on.
    Report,
    /// A follow-up message.
    Reply,
    /// The recipient's note when handling it.
    Handle,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 13] = [
        Action::Privacy,
        Action::Write,
        Action::Edit,
        Action::Cancel,
        Action::Alternate,
        Action::Pick,
        Action::Send,
        Action::Acknowledge,
        Action::Reply,
        Action::Handle,
        Action::Export,
        Action::Delete,
        Action::DeleteConfirm,
    ];

    /// The action's word in custom ids and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Privacy => "privacy",
            Action::Write => "write",
            Action::Edit => "edit",
            Action::Cancel => "cancel",
            Action::Alternate => "alt",
            Action::Pick => "pick",
            Action::Send => "send",
            Action::Acknowledge => "ack",
            Action::Reply => "reply",
            Action::Handle => "handle",
            Action::Export => "export",
            Action::Delete => "delete",
            Action::DeleteConfirm => "delete-confirm",
        }
    }
}

impl Form {
    /// Every form.
    pub const ALL: [Form; 3] = [Form::Report, Form::Reply, Form::Handle];

    /// The form's word in custom ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Report => "report",
            Form::Reply => "reply",
            Form::Handle => "handle",
        }
    }
}

impl CustomId for ReportId {
    const PREFIXES: &'static [&'static str] = &["rt", "rtm", "rtl"];

    fn parse(id: &str) -> Option<Self> {
        let kind = crate::core::ids::prefix(id);
        let [report, rest] = fields::<2>(id, kind)?;
        let report: i64 = report.parse().ok()?;
        match kind {
            "rt" => Some(ReportId::Report { report, action: Action::ALL.into_iter().find(|a| a.as_str() == rest)? }),
            "rtm" => Some(ReportId::Form { report, form: Form::ALL.into_iter().find(|f| f.as_str() == rest)? }),
            "rtl" if report == 0 && rest == "show" => Some(ReportId::List),
            _ => None,
        }
    }

    fn format(&self) -> String {
        match self {
            ReportId::Report { report, action } => format!("rt:{report}:{}", action.as_str()),
            ReportId::Form { report, form } => format!("rtm:{report}:{}", form.as_str()),
            ReportId::List => "rtl:0:show".into(),
        }
    }
}

/// The id of a report button.
pub fn button(report: i64, action: Action) -> String {
    ReportId::Report { report, action }.format()
}
