//! The approval workflow of `/new-channel` (points 1.7 to 1.11) as one pure function: from a
//! request's [`Status`], the kind of user acting ([`Who`]) and what they do ([`Act`]) to the
//! [`Transition`] the handlers write, or the [`Refusal`] they explain. The table test below
//! covers every status × kind of user × action.

use crate::channel_request::ids::Decision;

/// A request's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The requester is answering the assessment questions.
    Draft,
    /// Sent back by the officers (or the head) for changes; the requester answers again.
    ChangesRequested,
    AwaitingHead,
    AwaitingOfficer,
    Approved,
    /// Declined by the department head.
    Declined,
    /// Rejected by the communications officers.
    Rejected,
    Cancelled,
    Expired,
    /// An approved channel that has been closed down.
    Retired,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Draft,
        Status::ChangesRequested,
        Status::AwaitingHead,
        Status::AwaitingOfficer,
        Status::Approved,
        Status::Declined,
        Status::Rejected,
        Status::Cancelled,
        Status::Expired,
        Status::Retired,
    ];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::ChangesRequested => "changes_requested",
            Status::AwaitingHead => "awaiting_head",
            Status::AwaitingOfficer => "awaiting_officer",
            Status::Approved => "approved",
            Status::Declined => "declined",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The status in words (a key of prompts/messages/*/channel-flow.toml).
    pub fn text_key(self) -> &'static str {
        match self {
            Status::Draft => "channel-flow.status-draft",
            Status::ChangesRequested => "channel-flow.status-changes_requested",
            Status::AwaitingHead => "channel-flow.status-awaiting_head",
            Status::AwaitingOfficer => "channel-flow.status-awaiting_officer",
            Status::Approved => "channel-flow.status-approved",
            Status::Declined => "channel-flow.status-declined",
            Status::Rejected => "channel-flow.status-rejected",
            Status::Cancelled => "channel-flow.status-cancelled",
            Status::Expired => "channel-flow.status-expired",
            Status::Retired => "channel-flow.status-retired",
        }
    }

    /// The requester is still answering.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Draft | Status::ChangesRequested)
    }
}

/// What the acting user is to this request (one person can be several: an officer's own
/// request, a head who is also an officer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Who {
    pub requester: bool,
    pub head: bool,
    pub officer: bool,
}

impl Who {
    /// The bot itself (timers).
    pub const BOT: Who = Who { requester: false, head: false, officer: false };
}

/// What is done to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// An answer, a resume, or a change at the summary.
    Answer,
    Cancel,
    Submit,
    Decide(Decision),
    /// The approver did not act in time (a timer).
    Escalate,
    /// The conversation was left idle too long (a timer).
    Expire,
    /// An officer closes an approved channel down.
    Retire,
}

impl Act {
    pub fn all() -> Vec<Act> {
        let mut v = vec![Act::Answer, Act::Cancel, Act::Submit, Act::Escalate, Act::Expire, Act::Retire];
        v.extend(Decision::ALL.iter().copied().map(Act::Decide));
        v
    }
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: Status,
}

/// Why an act is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Only the requester answers their request.
    NotYours,
    /// The request is no longer being answered.
    NotOpen,
    /// This step is someone else's decision.
    NotYourDecision,
    /// Nobody decides on their own request (an officer who applied).
    OwnRequest,
    /// The step was decided already (or escalated away).
    AlreadyDecided,
    /// Only approved channels can be retired, by an officer.
    NotApproved,
    RetireRefused,
    /// A timer whose moment has passed: nothing to do.
    Nothing,
}

fn to(status: Status) -> Result<Transition, Refusal> {
    Ok(Transition { to: status })
}

/// The workflow.
pub fn decide(status: Status, who: Who, act: Act) -> Result<Transition, Refusal> {
    use Status::*;
    match act {
        Act::Answer | Act::Cancel | Act::Submit => {
            if !who.requester {
                return Err(Refusal::NotYours);
            }
            if !status.is_open() {
                return Err(Refusal::NotOpen);
            }
            match act {
                Act::Answer => to(status),
                Act::Cancel => to(Cancelled),
                _ => to(AwaitingHead),
            }
        }
        Act::Decide(d) => {
            let (stage, allowed) = match d {
                Decision::HeadApprove | Decision::HeadDecline | Decision::HeadChanges => (AwaitingHead, who.head),
                _ => (AwaitingOfficer, who.officer),
            };
            if !allowed {
                return Err(Refusal::NotYourDecision);
            }
            if status != stage {
                return Err(Refusal::AlreadyDecided);
            }
            if who.requester && stage == AwaitingOfficer {
                return Err(Refusal::OwnRequest);
            }
            match d {
                Decision::HeadApprove => to(AwaitingOfficer),
                Decision::HeadDecline => to(Declined),
                Decision::HeadChanges => to(ChangesRequested),
                Decision::OfficerApprove => to(Approved),
                Decision::OfficerReject => to(Rejected),
                Decision::OfficerChanges => to(ChangesRequested),
            }
        }
        Act::Escalate => match status {
            AwaitingHead => to(AwaitingOfficer),
            // The officers' step stays with them; the admin is told.
            AwaitingOfficer => to(AwaitingOfficer),
            _ => Err(Refusal::Nothing),
        },
        Act::Expire => {
            if status.is_open() {
                to(Expired)
            } else {
                Err(Refusal::Nothing)
            }
        }
        Act::Retire => {
            if !who.officer {
                return Err(Refusal::RetireRefused);
            }
            if status != Approved {
                return Err(Refusal::NotApproved);
            }
            to(Retired)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    const REQUESTER: Who = Who { requester: true, head: false, officer: false };
    const HEAD: Who = Who { requester: false, head: true, officer: false };
    const OFFICER: Who = Who { requester: false, head: false, officer: true };
    const OFFICER_REQUESTER: Who = Who { requester: true, head: false, officer: true };
    const HEAD_OFFICER: Who = Who { requester: false, head: true, officer: true };
    const KINDS: [(&str, Who); 6] = [
        ("requester", REQUESTER),
        ("head", HEAD),
        ("officer", OFFICER),
        ("officer's own", OFFICER_REQUESTER),
        ("head and officer", HEAD_OFFICER),
        ("other", Who::BOT),
    ];

    /// The expected answer for every case, written as the rules read in points 1.7-1.11.
    fn expected(status: Status, who: Who, act: Act) -> Result<Status, Refusal> {
        let open = matches!(status, Draft | ChangesRequested);
        match act {
            Act::Answer | Act::Cancel | Act::Submit if !who.requester => Err(Refusal::NotYours),
            Act::Answer | Act::Cancel | Act::Submit if !open => Err(Refusal::NotOpen),
            Act::Answer => Ok(status),
            Act::Cancel => Ok(Cancelled),
            Act::Submit => Ok(AwaitingHead),
            Act::Decide(Decision::HeadApprove | Decision::HeadDecline | Decision::HeadChanges) if !who.head => {
                Err(Refusal::NotYourDecision)
            }
            Act::Decide(Decision::HeadApprove | Decision::HeadDecline | Decision::HeadChanges)
                if status != AwaitingHead =>
            {
                Err(Refusal::AlreadyDecided)
            }
            Act::Decide(Decision::HeadApprove) => Ok(AwaitingOfficer),
            Act::Decide(Decision::HeadDecline) => Ok(Declined),
            Act::Decide(Decision::HeadChanges) => Ok(ChangesRequested),
            Act::Decide(_) if !who.officer => Err(Refusal::NotYourDecision),
            Act::Decide(_) if status != AwaitingOfficer => Err(Refusal::AlreadyDecided),
            Act::Decide(_) if who.requester => Err(Refusal::OwnRequest),
            Act::Decide(Decision::OfficerApprove) => Ok(Approved),
            Act::Decide(Decision::OfficerReject) => Ok(Rejected),
            Act::Decide(Decision::OfficerChanges) => Ok(ChangesRequested),
            Act::Escalate if matches!(status, AwaitingHead | AwaitingOfficer) => Ok(AwaitingOfficer),
            Act::Escalate => Err(Refusal::Nothing),
            Act::Expire if open => Ok(Expired),
            Act::Expire => Err(Refusal::Nothing),
            Act::Retire if !who.officer => Err(Refusal::RetireRefused),
            Act::Retire if status != Approved => Err(Refusal::NotApproved),
            Act::Retire => Ok(Retired),
        }
    }

    #[test]
    fn every_status_kind_of_user_and_act_has_the_expected_answer() {
        let mut cases = 0;
        for status in Status::ALL {
            for (name, who) in KINDS {
                for act in Act::all() {
                    let got = decide(status, who, act).map(|t| t.to);
                    assert_eq!(got, expected(status, who, act), "{act:?} by {name} on {status:?}");
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 10 * 6 * 12);
    }

    #[test]
    fn the_path_to_the_register_and_its_refusals() {
        assert_eq!(decide(Draft, REQUESTER, Act::Submit), Ok(Transition { to: AwaitingHead }));
        assert_eq!(decide(AwaitingHead, HEAD, Act::Decide(Decision::HeadApprove)).unwrap().to, AwaitingOfficer);
        assert_eq!(decide(AwaitingOfficer, OFFICER, Act::Decide(Decision::OfficerApprove)).unwrap().to, Approved);
        // An officer never approves their own request; a double click is "already decided".
        assert_eq!(
            decide(AwaitingOfficer, OFFICER_REQUESTER, Act::Decide(Decision::OfficerApprove)),
            Err(Refusal::OwnRequest)
        );
        assert_eq!(decide(Approved, OFFICER, Act::Decide(Decision::OfficerApprove)), Err(Refusal::AlreadyDecided));
        // After escalation the head's buttons no longer decide anything.
        assert_eq!(decide(AwaitingOfficer, HEAD, Act::Decide(Decision::HeadApprove)), Err(Refusal::AlreadyDecided));
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
