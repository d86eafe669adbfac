//! The custom ids of `/new-channel` and `/channels`, formatted and parsed here only.

use crate::core::ids::{fields, CustomId};

/// A button, menu or form of a channel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestId {
    /// A button or menu of the conversation in the DM: `nc:<request>:<action>`.
    Conversation { request: i64, action: Action },
    /// An approver's button: `nca:<request>:<decision>`.
    Approval { request: i64, decision: Decision },
    /// The form with an approver's reason: `ncm:<request>:<decision>`.
    Reason { request: i64, decision: Decision },
    /// An answer to the half-yearly review: `ncr:<request>:<answer>`.
    Review { request: i64, answer: ReviewAnswer },
}

/// What a conversation button or menu does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A choice: the button's own value, or (`None`) the value chosen in the select.
    Choose(Option<String>),
    /// Go back to a step from the summary: the button's step, or (`None`) the one chosen.
    Edit(Option<String>),
    Yes,
    No,
    Confirm,
    Back,
    /// Asks whether to cancel the request ...
    Cancel,
    /// ... and this cancels it, answers and all.
    CancelConfirm,
    Submit,
    /// Carry on with a request left open (`/new-channel` again, or a reminder).
    Resume,
    /// Throw the open request away and start again.
    Fresh,
}

/// An approver's decision on a submitted request (points 1.7 to 1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    HeadApprove,
    HeadDecline,
    /// The head sends the request back for changes, as the officers can.
    HeadChanges,
    OfficerApprove,
    OfficerReject,
    OfficerChanges,
}

impl Decision {
    /// Every decision.
    pub const ALL: [Decision; 6] = [
        Decision::HeadApprove,
        Decision::HeadDecline,
        Decision::HeadChanges,
        Decision::OfficerApprove,
        Decision::OfficerReject,
        Decision::OfficerChanges,
    ];

    /// The decision's word in custom ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::HeadApprove => "head-approve",
            Decision::HeadDecline => "head-decline",
            Decision::HeadChanges => "head-changes",
            Decision::OfficerApprove => "off-approve",
            Decision::OfficerReject => "off-reject",
            Decision::OfficerChanges => "off-changes",
        }
    }

    fn parse(s: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// An answer of a responsible person to the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAnswer {
    /// The channel is still in use.
    Active,
    /// It can be retired (the officers decide).
    Retire,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        let (verb, arg) = match s.split_once(':') {
            Some((verb, arg)) => (verb, Some(arg)),
            None => (s, None),
        };
        let value = match arg {
            None => None,
            Some(v) if !v.is_empty() => Some(v.to_string()),
            Some(_) => return None,
        };
        Some(match (verb, value) {
            ("choose", v) => Action::Choose(v),
            ("edit", v) => Action::Edit(v),
            ("yes", None) => Action::Yes,
            ("no", None) => Action::No,
            ("confirm", None) => Action::Confirm,
            ("back", None) => Action::Back,
            ("cancel", None) => Action::Cancel,
            ("cancel-yes", None) => Action::CancelConfirm,
            ("submit", None) => Action::Submit,
            ("resume", None) => Action::Resume,
            ("fresh", None) => Action::Fresh,
            _ => return None,
        })
    }

    fn format(&self) -> String {
        match self {
            Action::Choose(None) => "choose".into(),
            Action::Choose(Some(v)) => format!("choose:{v}"),
            Action::Edit(None) => "edit".into(),
            Action::Edit(Some(v)) => format!("edit:{v}"),
            Action::Yes => "yes".into(),
            Action::No => "no".into(),
            Action::Confirm => "confirm".into(),
            Action::Back => "back".into(),
            Action::Cancel => "cancel".into(),
            Action::CancelConfirm => "cancel-yes".into(),
            Action::Submit => "submit".into(),
            Action::Resume => "resume".into(),
            Action::Fresh => "fresh".into(),
        }
    }
}

impl CustomId for RequestId {
    const PREFIXES: &'static [&'static str] = &["nc", "nca", "ncm", "ncr"];

    fn parse(id: &str) -> Option<Self> {
        let kind = crate::core::ids::prefix(id);
        let [request, rest] = fields::<2>(id, kind)?;
        let request: i64 = request.parse().ok()?;
        match kind {
            "nc" => Some(RequestId::Conversation { request, action: Action::parse(&rest)? }),
            "nca" => Some(RequestId::Approval { request, decision: Decision::parse(&rest)? }),
            "ncm" => Some(RequestId::Reason { request, decision: Decision::parse(&rest)? }),
            "ncr" => Some(RequestId::Review {
                request,
                answer: match rest.as_str() {
                    "active" => ReviewAnswer::Active,
                    "retire" => ReviewAnswer::Retire,
                    _ => return None,
                },
            }),
            _ => None,
        }
    }

    fn format(&self) -> String {
        match self {
            RequestId::Conversation { request, action } => format!("nc:{request}:{}", action.format()),
            RequestId::Approval { request, decision } => format!("nca:{request}:{}", decision.as_str()),
            RequestId::Reason { request, decision } => format!("ncm:{request}:{}", decision.as_str()),
            RequestId::Review { request, answer } => format!(
                "ncr:{request}:{}",
                match answer {
                    ReviewAnswer::Active => "active",
                    ReviewAnswer::Retire => "retire",
                }
            ),
        }
    }
}

/// The id of a conversation button.
pub fn conversation(request: i64, action: Action) -> String {
    RequestId::Conversation { request, action }.format()
}
