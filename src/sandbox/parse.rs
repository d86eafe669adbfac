//! Turning typed lines into inputs: slash commands with their options, and durations for
//! `:wait`.

use super::world::{resolve_person, CHANNEL_ID, OFFICER_ROLE, REVIEW_CHANNEL_ID};
use crate::app::commands;
use crate::core::commands::{CommandSpec, OptionKind};
use crate::core::{CommandInput, OptionValue};

/// `90m`, `25h`, `3d` in milliseconds.
pub(super) fn parse_duration(s: &str) -> Option<i64> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms)
}

/// Parses `/name sub opt:value ...`. A subcommand's only required string option may be given
/// without its name (`/guideline ask Kan eg ...`). An option's value runs to the next
/// `known-option:`.
pub fn parse_command(line: &str) -> Result<CommandInput, String> {
    let line = line.trim().trim_start_matches('/');
    let mut words = line.splitn(2, char::is_whitespace);
    let name = words.next().unwrap_or_default().to_string();
    let rest = words.next().unwrap_or_default().trim();
    let spec: CommandSpec = commands::find(&name).ok_or_else(|| format!("Unknown command /{name}. Try /help."))?;
    let mut subcommand = Vec::new();
    let mut rest = rest.to_string();
    let mut option_specs = spec.options.clone();
    if option_specs.iter().any(|o| o.kind == OptionKind::SubCommand) {
        let (sub, tail) = rest
            .split_once(char::is_whitespace)
            .map(|(a, b)| (a.to_string(), b.trim().to_string()))
            .unwrap_or((rest.clone(), String::new()));
        let Some(s) = spec.subcommand(&sub) else {
            let names: Vec<&str> = spec.options.iter().map(|o| o.name).collect();
            return Err(format!("/{name} needs one of: {}", names.join(", ")));
        };
        subcommand.push(sub);
        option_specs = s.options.clone();
        rest = tail;
    }
    let names: Vec<&str> = option_specs.iter().map(|o| o.name).collect();
    let mut options = Vec::new();
    // Find `name:` markers of known options.
    let mut marks: Vec<(usize, &str)> = Vec::new();
    for n in &names {
        let pat = format!("{n}:");
        let mut from = 0;
        while let Some(i) = rest[from..].find(&pat) {
            let at = from + i;
            if at == 0 || rest[..at].ends_with(char::is_whitespace) {
                marks.push((at, n));
            }
            from = at + pat.len();
        }
    }
    marks.sort();
    if marks.is_empty() && !rest.is_empty() {
        let free: Vec<_> = option_specs.iter().filter(|o| o.kind == OptionKind::String).collect();
        match free.as_slice() {
            [only] => options.push((only.name.to_string(), OptionValue::String(rest.clone()))),
            _ => return Err(format!("Give options as name:value ({}).", names.join(", "))),
        }
    }
    for (i, (at, n)) in marks.iter().enumerate() {
        let start = at + n.len() + 1;
        let end = marks.get(i + 1).map(|m| m.0).unwrap_or(rest.len());
        let value = rest[start..end].trim().trim_matches('"').to_string();
        let o = option_specs.iter().find(|o| o.name == *n).expect("marks come from specs");
        let v = match o.kind {
            OptionKind::String => OptionValue::String(value),
            OptionKind::Integer => {
                OptionValue::Integer(value.parse().map_err(|_| format!("{n} must be a whole number"))?)
            }
            OptionKind::Bool => OptionValue::Bool(matches!(value.as_str(), "true" | "yes" | "ja")),
            OptionKind::User => {
                OptionValue::User(resolve_person(&value).ok_or_else(|| format!("{n}: no such person or id {value:?}"))?)
            }
            OptionKind::Role => OptionValue::Role(match value.trim_start_matches('@') {
                "officer" | "officers" | "informasjonskonsulent" => OFFICER_ROLE,
                v => v.parse().map_err(|_| format!("{n}: say officers or a role id"))?,
            }),
            OptionKind::Channel => OptionValue::Channel(match value.trim_start_matches('#') {
                "general" => CHANNEL_ID,
                "review" | "godkjenning" => REVIEW_CHANNEL_ID,
                v => v.parse().map_err(|_| format!("{n}: say #general, #review or a channel id"))?,
            }),
            OptionKind::Attachment => {
                return Err("Attachments cannot be given in the sandbox; leave the option out.".into());
            }
            OptionKind::SubCommand => continue,
        };
        options.push((n.to_string(), v));
    }
    for o in option_specs.iter().filter(|o| o.required) {
        if !options.iter().any(|(n, _)| n == o.name) {
            return Err(format!("/{name} {} needs {}:…", subcommand.join(" "), o.name));
        }
    }
    Ok(CommandInput { name, subcommand, options })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_and_without_option_names() {
        let c = parse_command("/guideline private-profile point:3h").unwrap();
        assert_eq!(c.subcommand, ["private-profile"]);
        assert_eq!(c.str_option("point"), Some("3h"));
        let c = parse_command("/guideline ask Kan eg bruke jobbmailen privat?").unwrap();
        assert_eq!(c.str_option("question"), Some("Kan eg bruke jobbmailen privat?"));
        let c = parse_command("/guideline ask question: kva med point: x").unwrap();
        assert_eq!(c.str_option("question"), Some("kva med point: x"));
        assert!(parse_command("/guideline").is_err());
        assert!(parse_command("/nope").is_err());
        assert!(parse_command("/guideline ask").is_err());
        let c = parse_command("/help").unwrap();
        assert!(c.subcommand.is_empty() && c.options.is_empty());
    }
}
