//! Custom ids: what a button, menu or form says when it comes back. Each feature has one type
//! for its ids, formatted and parsed in one place ([`CustomId`]); nothing splits a custom id by
//! hand. An id that does not parse (forged, or from a version that no longer exists) gets the
//! kind "this has expired" answer.

/// Discord's limit for a custom id.
pub const MAX_LEN: usize = 100;

/// A feature's custom ids.
pub trait CustomId: Sized {
    /// The prefixes (the part before the first `:`) this type owns.
    const PREFIXES: &'static [&'static str];

    /// The id, or `None` when it is not one of this type's (or is malformed).
    fn parse(id: &str) -> Option<Self>;

    /// The id as it goes into a component (at most [`MAX_LEN`] characters).
    fn format(&self) -> String;

    /// Whether `id` carries one of this type's prefixes, parseable or not.
    fn owns(id: &str) -> bool {
        Self::PREFIXES.contains(&prefix(id))
    }
}

/// The part of a custom id before the first `:`.
pub fn prefix(id: &str) -> &str {
    id.split(':').next().unwrap_or_default()
}

/// The fields of a custom id after its prefix, split at `:`, when there are exactly `N`.
pub fn fields<const N: usize>(id: &str, prefix: &str) -> Option<[String; N]> {
    let rest = id.strip_prefix(prefix)?.strip_prefix(':')?;
    let parts: Vec<String> = rest.splitn(N, ':').map(str::to_string).collect();
    parts.try_into().ok()
}

/// A button that runs one of the bot's commands, offered where another feature's text leads to
/// it (the 3h quote leads to `/report-threat`, section 1 to `/new-channel`). The app layer runs
/// the command as if it had been typed. `nc:start` and `rt:start` are the ids of the same
/// buttons in messages sent before this type existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    NewChannel,
    ReportThreat,
}

impl Start {
    /// Every start button.
    pub const ALL: [Start; 2] = [Start::NewChannel, Start::ReportThreat];

    /// The command it runs.
    pub fn command(self) -> &'static str {
        match self {
            Start::NewChannel => "new-channel",
            Start::ReportThreat => "report-threat",
        }
    }
}

impl CustomId for Start {
    const PREFIXES: &'static [&'static str] = &["go"];

    fn parse(id: &str) -> Option<Self> {
        match id {
            "go:new-channel" | "nc:start" => Some(Start::NewChannel),
            "go:report-threat" | "rt:start" => Some(Start::ReportThreat),
            _ => None,
        }
    }

    fn format(&self) -> String {
        format!("go:{}", self.command())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_buttons_round_trip_and_old_ids_still_work() {
        for s in Start::ALL {
            assert_eq!(Start::parse(&s.format()), Some(s));
        }
        assert_eq!(Start::parse("rt:start"), Some(Start::ReportThreat));
        assert_eq!(Start::parse("nc:start"), Some(Start::NewChannel));
        assert_eq!(Start::parse("go:setup"), None);
    }

    #[test]
    fn fields_split_exactly() {
        assert_eq!(fields::<2>("nca:5:head-approve", "nca"), Some(["5".to_string(), "head-approve".to_string()]));
        assert_eq!(fields::<2>("nc:5:choose:a:b", "nc"), Some(["5".to_string(), "choose:a:b".to_string()]));
        assert_eq!(fields::<2>("nca:5", "nca"), None);
        assert_eq!(fields::<2>("ncax:5:x", "nca"), None);
    }
}
