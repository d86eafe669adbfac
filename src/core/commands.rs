//! The slash commands the bot offers, as plain data. The Discord adapter turns this tree into
//! registration requests; the sandbox uses it to parse typed commands. Descriptions come from
//! the message catalogue (`cmd.*` keys), so they are localised like every other text.

use crate::guideline::GuidelineDoc;
use crate::i18n::{t, Locale};

/// The kind of a command option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    SubCommand,
    String,
    Integer,
    Bool,
    User,
    Role,
    Channel,
    Attachment,
}

/// A fixed choice for a string option: the value and its label per language.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceSpec {
    pub value: String,
    pub name_nn: String,
    pub name_en: String,
}

/// One option (or subcommand) of a command.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSpec {
    pub kind: OptionKind,
    pub name: &'static str,
    /// Catalogue key of the description.
    pub description_key: String,
    pub required: bool,
    pub autocomplete: bool,
    pub choices: Vec<ChoiceSpec>,
    pub max_length: Option<u16>,
    /// Options of a subcommand.
    pub options: Vec<OptionSpec>,
}

impl OptionSpec {
    fn new(kind: OptionKind, name: &'static str, key: impl Into<String>) -> Self {
        OptionSpec {
            kind,
            name,
            description_key: key.into(),
            required: false,
            autocomplete: false,
            choices: Vec::new(),
            max_length: None,
            options: Vec::new(),
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The description in a language.
    pub fn description(&self, locale: Locale) -> String {
        t(locale, &self.description_key, &[])
    }
}

/// A top-level slash command.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub description_key: String,
    pub options: Vec<OptionSpec>,
    /// Only members with Manage Server see and use it.
    pub admin_only: bool,
    /// Usable in a direct message with the bot.
    pub in_dms: bool,
}

impl CommandSpec {
    /// The description in a language.
    pub fn description(&self, locale: Locale) -> String {
        t(locale, &self.description_key, &[])
    }

    /// The subcommand called `name`.
    pub fn subcommand(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.kind == OptionKind::SubCommand && o.name == name)
    }
}

/// Longest label of a point choice (Discord allows 100 characters).
const CHOICE_LABEL: usize = 100;

fn point_choices(section: &str) -> Vec<ChoiceSpec> {
    let nn = GuidelineDoc::official();
    let en = GuidelineDoc::for_locale(Locale::En);
    nn.points_of(section)
        .map(|p| {
            let label = |doc: &GuidelineDoc| {
                let text = doc.point(&p.id).map(|q| q.text.as_str()).unwrap_or_default();
                crate::core::reply::clip(&format!("{} – {}", p.id, text), CHOICE_LABEL)
            };
            ChoiceSpec { value: p.id.clone(), name_nn: label(nn), name_en: label(en) }
        })
        .collect()
}

/// Every command the bot registers, in the order shown by `/help`.
pub fn all() -> Vec<CommandSpec> {
    let sections: Vec<OptionSpec> = GuidelineDoc::official()
        .sections
        .iter()
        .map(|s| {
            let mut point = OptionSpec::new(OptionKind::String, "point", "cmd.guideline.point");
            point.choices = point_choices(&s.id);
            let mut sub = OptionSpec::new(OptionKind::SubCommand, s.slug.as_str(), format!("cmd.guideline.{}", s.slug));
            sub.options = vec![point];
            sub
        })
        .collect();
    let mut question = OptionSpec::new(OptionKind::String, "question", "cmd.guideline.ask.question").required();
    question.autocomplete = true;
    question.max_length = Some(MAX_QUESTION);
    let mut ask = OptionSpec::new(OptionKind::SubCommand, "ask", "cmd.guideline.ask.description");
    ask.options = vec![question];
    let unanswered = OptionSpec::new(OptionKind::SubCommand, "unanswered", "cmd.guideline.unanswered");

    let mut guideline_options = sections;
    guideline_options.push(ask);
    guideline_options.push(unanswered);

    let evidence = OptionSpec::new(OptionKind::Attachment, "evidence", "cmd.report-threat.evidence");

    vec![
        CommandSpec {
            name: "guideline",
            description_key: "cmd.guideline.description".into(),
            options: guideline_options,
            admin_only: false,
            in_dms: true,
        },
        CommandSpec {
            name: "new-channel",
            description_key: "cmd.new-channel.description".into(),
            options: Vec::new(),
            admin_only: false,
            in_dms: false,
        },
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
        CommandSpec {
            name: "channels",
            description_key: "cmd.channels.description".into(),
            options: ["list", "show", "request", "retire"]
                .into_iter()
                .map(|name| {
                    let mut s = OptionSpec::new(OptionKind::SubCommand, name, format!("cmd.channels.{name}"));
                    if name != "list" {
                        let mut r =
                            OptionSpec::new(OptionKind::String, "reference", "cmd.channels.reference").required();
                        r.max_length = Some(20);
                        s.options = vec![r];
                    }
                    s
                })
                .collect(),
            admin_only: false,
            in_dms: false,
        },
        CommandSpec {
            name: "setup",
            description_key: "cmd.setup.description".into(),
            options: vec![
                sub(
                    "communications-role",
                    vec![OptionSpec::new(OptionKind::Role, "role", "cmd.setup.role").required()],
                ),
                sub(
                    "review-channel",
                    vec![OptionSpec::new(OptionKind::Channel, "channel", "cmd.setup.channel").required()],
                ),
                sub("show", Vec::new()),
                sub(
                    "manager",
                    vec![
                        OptionSpec::new(OptionKind::User, "employee", "cmd.setup.employee").required(),
                        OptionSpec::new(OptionKind::User, "manager", "cmd.setup.manager-user").required(),
                    ],
                ),
                sub(
                    "alternate",
                    vec![
                        OptionSpec::new(OptionKind::User, "user", "cmd.setup.alternate-user").required(),
                        OptionSpec::new(OptionKind::Bool, "remove", "cmd.setup.alternate-remove"),
                    ],
                ),
                sub("managers", Vec::new()),
                sub(
                    "import-managers",
                    vec![OptionSpec::new(OptionKind::Attachment, "file", "cmd.setup.import-file").required()],
                ),
            ],
            admin_only: true,
            in_dms: false,
        },
        CommandSpec {
            name: "help",
            description_key: "cmd.help.description".into(),
            options: Vec::new(),
            admin_only: false,
            in_dms: true,
        },
    ]
}

/// A subcommand of `/setup` with its options.
fn sub(name: &'static str, options: Vec<OptionSpec>) -> OptionSpec {
    let mut s = OptionSpec::new(OptionKind::SubCommand, name, format!("cmd.setup.{name}"));
    s.options = options;
    s
}

/// The longest free-text question accepted by `/guideline ask`.
pub const MAX_QUESTION: u16 = 500;

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
        let pp = g.subcommand("private-profile").unwrap();
        let ids: Vec<_> = pp.options[0].choices.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(ids, ["3a", "3b", "3c", "3d", "3e", "3f", "3g", "3h"]);
    }
}
