//! The `/guideline` command: one subcommand per section (its point autocompleted), `ask`
//! `unanswered` and `review` (the communications officers teach the answers).

use crate::core::commands::{subcommand, CommandSpec, OptionKind, OptionSpec};
use crate::guideline::GuidelineDoc;

/// The longest free-text question accepted by `/guideline ask`.
pub const MAX_QUESTION: u16 = 500;

/// The description of a section's subcommand (a key of prompts/messages/*/guideline.toml).
fn section_key(slug: &str) -> &'static str {
    match slug {
        "creating-channels" => "cmd.guideline.creating-channels",
        "on-behalf" => "cmd.guideline.on-behalf",
        "private-profile" => "cmd.guideline.private-profile",
        _ => "cmd.guideline.section",
    }
}

/// The commands of this feature.
pub fn commands() -> Vec<CommandSpec> {
    let mut options: Vec<OptionSpec> = GuidelineDoc::official()
        .sections
        .iter()
        .map(|s| {
            // Autocompleted rather than fixed choices, so the document's own numbering can be
            // typed (`7` in creating-channels is 1.7) as well as the full id.
            let mut point = OptionSpec::new(OptionKind::String, "point", "cmd.guideline.point");
            point.autocomplete = true;
            subcommand(s.slug.as_str(), section_key(&s.slug), vec![point])
        })
        .collect();
    let mut question = OptionSpec::new(OptionKind::String, "question", "cmd.guideline.ask.question").required();
    question.autocomplete = true;
    question.max_length = Some(MAX_QUESTION);
    options.push(subcommand("ask", "cmd.guideline.ask.description", vec![question]));
    options.push(subcommand("unanswered", "cmd.guideline.unanswered", Vec::new()));
    options.push(subcommand("review", "cmd.guideline.review", Vec::new()));
    vec![CommandSpec {
        name: "guideline",
        description_key: "cmd.guideline.description".into(),
        options,
        admin_only: false,
        in_dms: true,
    }]
}
