//! The command tree: every feature's commands, in the order `/help` shows them. The Discord
//! adapter registers this tree; the sandbox parses typed commands with it.

use crate::core::commands::CommandSpec;
#[cfg(test)]
use crate::core::commands::OptionSpec;
#[cfg(test)]
use crate::i18n::Locale;

/// Every command the bot registers, in the order shown by `/help`.
pub fn all() -> Vec<CommandSpec> {
    let mut all = Vec::new();
    all.extend(crate::guideline::commands::commands());
    all.extend(crate::channel_request::commands());
    all.extend(crate::threat_report::commands());
    all.extend(crate::org::commands());
    all.push(super::help::command());
    const ORDER: [&str; 7] = ["guideline", "new-channel", "report-threat", "reports", "channels", "setup", "help"];
    all.sort_by_key(|c| ORDER.iter().position(|n| *n == c.name).unwrap_or(ORDER.len()));
    all
}

/// The command called `name`.
pub fn find(name: &str) -> Option<CommandSpec> {
    all().into_iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(opts: &[OptionSpec], f: &mut impl FnMut(&OptionSpec)) {
        for o in opts {
            f(o);
            walk(&o.options, f);
        }
    }

    #[test]
    fn names_and_descriptions_fit_discord() {
        for c in all() {
            assert!(c.name.len() <= 32 && c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-'));
            for l in Locale::ALL {
                let d = c.description(l);
                assert!((1..=100).contains(&d.chars().count()), "{} {l:?}: {d}", c.name);
                assert!(!d.starts_with("cmd."), "missing description key for {}", c.name);
            }
            assert!(c.options.len() <= 25);
            walk(&c.options, &mut |o| {
                assert!(o.name.len() <= 32);
                for l in Locale::ALL {
                    let d = o.description(l);
                    assert!((1..=100).contains(&d.chars().count()), "{}.{} {l:?}: {d}", c.name, o.name);
                    assert!(!d.starts_with("cmd."), "missing description key {}", o.description_key);
                }
                assert!(o.choices.len() <= 25);
                for ch in &o.choices {
                    assert!(ch.name_nn.chars().count() <= 100 && ch.name_en.chars().count() <= 100);
                }
            });
        }
    }

    #[test]
    fn guideline_has_one_subcommand_per_section_plus_ask() {
        let g = find("guideline").unwrap();
        for slug in ["creating-channels", "on-behalf", "private-profile", "ask", "unanswered"] {
            assert!(g.subcommand(slug).is_some(), "{slug}");
        }
        // The point is autocompleted (so `7` and `1.7` can both be typed); with nothing typed
        // it offers the section's points in order.
        let pp = g.subcommand("private-profile").unwrap();
        assert_eq!(pp.options[0].name, "point");
        assert!(pp.options[0].autocomplete && pp.options[0].choices.is_empty());
        let crate::core::Reply::Choices(choices) =
            crate::guideline::handlers::point_autocomplete(Locale::Nn, "3", "").reply
        else {
            panic!("choices expected");
        };
        let ids: Vec<_> = choices.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(ids, ["3a", "3b", "3c", "3d", "3e", "3f", "3g", "3h"]);
    }
}
