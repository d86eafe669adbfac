//! Who may do what to a threat report, in which state: one pure function over the report's
//! [`Status`], the kind of user asking ([`Who`]) and what they ask for ([`Asked`]). The
//! handlers ask it first and carry out what it allows; the table test below covers every
//! status × kind of user × action.

use crate::threat_report::ids::{Action, Form};

/// A report's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Being written by the reporter; nobody else sees it.
    Draft,
    /// With its recipient, not yet acknowledged.
    Sent,
    Acknowledged,
    Handled,
    /// Given up as a draft; its content is wiped.
    Cancelled,
    /// Deleted by the reporter or by retention; its content is wiped, the record stays.
    Deleted,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Draft, Status::Sent, Status::Acknowledged, Status::Handled, Status::Cancelled, Status::Deleted];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Sent => "sent",
            Status::Acknowledged => "acknowledged",
            Status::Handled => "handled",
            Status::Cancelled => "cancelled",
            Status::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The status in words (a key of prompts/messages/*/report.toml).
    pub fn text_key(self) -> &'static str {
        match self {
            Status::Draft => "report.status-draft",
            Status::Sent => "report.status-sent",
            Status::Acknowledged => "report.status-acknowledged",
            Status::Handled => "report.status-handled",
            Status::Cancelled => "report.status-cancelled",
            Status::Deleted => "report.status-deleted",
        }
    }

    /// With a recipient: the states in which both sides can still write, export and delete.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Sent | Status::Acknowledged | Status::Handled)
    }
}

/// The kind of user asking, relative to this report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Reporter,
    /// The current recipient of a report that has been sent.
    Recipient,
    Other,
}

impl Who {
    pub const ALL: [Who; 3] = [Who::Reporter, Who::Recipient, Who::Other];

    /// Who `user` is for a report by `reporter` now addressed to `recipient`. A draft has no
    /// recipient yet, whoever it will go to.
    pub fn of(user: u64, reporter: u64, recipient: Option<u64>, status: Status) -> Who {
        if user == reporter {
            Who::Reporter
        } else if recipient == Some(user) && status != Status::Draft {
            Who::Recipient
        } else {
            Who::Other
        }
    }
}

/// What a user asks for: a button or menu of the report, one of its forms, or opening it from
/// `/reports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Asked {
    Button(Action),
    Form(Form),
    Show,
}

impl Asked {
    /// Every action there is (for the table test).
    pub fn all() -> Vec<Asked> {
        let mut v: Vec<Asked> = Action::ALL.iter().copied().map(Asked::Button).collect();
        v.extend(Form::ALL.iter().copied().map(Asked::Form));
        v.push(Asked::Show);
        v
    }

    /// The word the audit trail records for a refused attempt.
    pub fn word(self) -> &'static str {
        match self {
            Asked::Button(a) => a.as_str(),
            Asked::Form(Form::Report) => "form",
            Asked::Form(f) => f.as_str(),
            Asked::Show => "show",
        }
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not this user's report (recorded in the audit trail; the user learns nothing about it).
    NotYours,
    /// Theirs, but not in this state.
    WrongState,
    /// Acknowledging a report that is no longer waiting for it: a kind note, nothing changes.
    AlreadyAcknowledged,
}

/// What the rules allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Only shows something (the privacy notice, a form, the report's actions).
    Show,
    /// Changes the report; the handler writes it in one step (compare-and-set on the version).
    Change,
}

/// Whether `who` may do `asked` to a report in `status`.
pub fn decide(status: Status, who: Who, asked: Asked) -> Result<Allowed, Refusal> {
    use Status::*;
    let is = |allowed: &[Who]| allowed.contains(&who);
    let (people, states, effect): (&[Who], fn(Status) -> bool, Allowed) = match asked {
        // The privacy notice is public: it says how reports are handled, nothing about one.
        Asked::Button(Action::Privacy) => return Ok(Allowed::Show),
        Asked::Button(Action::Write | Action::Edit) => (&[Who::Reporter], |s| s == Draft, Allowed::Show),
        Asked::Button(Action::Cancel | Action::Alternate | Action::Pick | Action::Send) | Asked::Form(Form::Report) => {
            (&[Who::Reporter], |s| s == Draft, Allowed::Change)
        }
        Asked::Button(Action::Acknowledge) => {
            if !is(&[Who::Recipient]) {
                return Err(Refusal::NotYours);
            }
            return if status == Sent { Ok(Allowed::Change) } else { Err(Refusal::AlreadyAcknowledged) };
        }
        Asked::Button(Action::Reply) => (&[Who::Reporter, Who::Recipient], Status::is_live, Allowed::Show),
        Asked::Form(Form::Reply) | Asked::Button(Action::Export) => {
            (&[Who::Reporter, Who::Recipient], Status::is_live, Allowed::Change)
        }
        Asked::Button(Action::Handle) => (&[Who::Recipient], |s| matches!(s, Sent | Acknowledged), Allowed::Show),
        Asked::Form(Form::Handle) => (&[Who::Recipient], |s| matches!(s, Sent | Acknowledged), Allowed::Change),
        Asked::Button(Action::Delete) => (&[Who::Reporter], Status::is_live, Allowed::Show),
        Asked::Button(Action::DeleteConfirm) => (&[Who::Reporter], Status::is_live, Allowed::Change),
        Asked::Show => (&[Who::Reporter, Who::Recipient], |_| true, Allowed::Show),
    };
    if !is(people) {
        return Err(Refusal::NotYours);
    }
    if !states(status) {
        return Err(Refusal::WrongState);
    }
    Ok(effect)
}

/// Whom a report goes to next when its recipient could not be reached or did not acknowledge:
/// the first alternate that is not the reporter, has not had it yet, and is not the line manager
/// the reporter chose to bypass (by sending it to someone else first). `tried` lists the
/// recipients so far, first one first.
pub fn next_recipient(alternates: &[u64], reporter: u64, manager: Option<u64>, tried: &[u64]) -> Option<u64> {
    let bypassed = manager.filter(|m| tried.first().is_some_and(|first| first != m));
    alternates.iter().copied().find(|a| *a != reporter && !tried.contains(a) && Some(*a) != bypassed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules written out as a table, one line per action: who may (R reporter, M
    /// recipient) and in which states (d draft, s sent, a acknowledged, h handled; cancelled
    /// and deleted reports allow nothing but the public notice and being shown to their people).
    const TABLE: &[(&str, &str, &str)] = &[
        ("privacy", "RMO", "dsahcx"),
        ("write", "R", "d"),
        ("edit", "R", "d"),
        ("cancel", "R", "d"),
        ("alt", "R", "d"),
        ("pick", "R", "d"),
        ("send", "R", "d"),
        ("ack", "M", "s"),
        ("reply", "RM", "sah"),
        ("handle", "M", "sa"),
        ("export", "RM", "sah"),
        ("delete", "R", "sah"),
        ("delete-confirm", "R", "sah"),
        ("form:report", "R", "d"),
        ("form:reply", "RM", "sah"),
        ("form:handle", "M", "sa"),
        ("show", "RM", "dsahcx"),
    ];

    fn name(a: Asked) -> String {
        match a {
            Asked::Button(b) => b.as_str().to_string(),
            Asked::Form(f) => format!("form:{}", f.as_str()),
            Asked::Show => "show".into(),
        }
    }

    fn letter(s: Status) -> char {
        match s {
            Status::Draft => 'd',
            Status::Sent => 's',
            Status::Acknowledged => 'a',
            Status::Handled => 'h',
            Status::Cancelled => 'c',
            Status::Deleted => 'x',
        }
    }

    fn who_letter(w: Who) -> char {
        match w {
            Who::Reporter => 'R',
            Who::Recipient => 'M',
            Who::Other => 'O',
        }
    }

    #[test]
    fn every_status_kind_of_user_and_action_follows_the_table() {
        let all = Asked::all();
        assert_eq!(all.len(), TABLE.len(), "every action has a line");
        for asked in all {
            let (_, people, states) =
                TABLE.iter().find(|(n, ..)| *n == name(asked)).unwrap_or_else(|| panic!("{} has no line", name(asked)));
            for status in Status::ALL {
                for who in Who::ALL {
                    let got = decide(status, who, asked);
                    let may = people.contains(who_letter(who));
                    let when = states.contains(letter(status));
                    let case = format!("{} by {who:?} on {status:?}", name(asked));
                    match (may, when) {
                        (false, _) => assert_eq!(got, Err(Refusal::NotYours), "{case}"),
                        (true, true) => assert!(got.is_ok(), "{case}: {got:?}"),
                        (true, false) if asked == Asked::Button(Action::Acknowledge) => {
                            assert_eq!(got, Err(Refusal::AlreadyAcknowledged), "{case}")
                        }
                        (true, false) => assert_eq!(got, Err(Refusal::WrongState), "{case}"),
                    }
                }
            }
        }
    }

    #[test]
    fn a_reroute_never_reaches_the_manager_the_reporter_bypassed() {
        let (reporter, manager, per, ingrid) = (1, 2, 3, 4);
        // Sent to the manager first: the alternates in order, never the reporter.
        assert_eq!(next_recipient(&[reporter, per, ingrid], reporter, Some(manager), &[manager]), Some(per));
        assert_eq!(next_recipient(&[per, ingrid], reporter, Some(manager), &[manager, per]), Some(ingrid));
        assert_eq!(next_recipient(&[per], reporter, Some(manager), &[manager, per]), None);
        // Sent to an alternate instead of the manager: the manager is never tried, even when
        // they are an alternate too.
        assert_eq!(next_recipient(&[manager, per, ingrid], reporter, Some(manager), &[per]), Some(ingrid));
        assert_eq!(next_recipient(&[manager, per], reporter, Some(manager), &[per]), None);
        // No manager on record: any alternate not yet tried.
        assert_eq!(next_recipient(&[per, ingrid], reporter, None, &[per]), Some(ingrid));
    }

    #[test]
    fn a_draft_has_no_recipient_and_statuses_round_trip() {
        assert_eq!(Who::of(5, 1, Some(5), Status::Draft), Who::Other, "the chosen manager sees no draft");
        assert_eq!(Who::of(5, 1, Some(5), Status::Sent), Who::Recipient);
        assert_eq!(Who::of(1, 1, Some(5), Status::Sent), Who::Reporter);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("awaiting_officer"), None);
    }
}
