//! The `/guideline` command: one subcommand per section (with its points as choices), `ask`
//! and `unanswered`.

use crate::core::commands::{subcommand, ChoiceSpec, CommandSpec, OptionKind, OptionSpec};
use crate::guideline::GuidelineDoc;
use crate::i18n::Locale;

/// The longest free-text question accepted by `/guideline ask`.
pub const MAX_QUESTION: u16 = 500;

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
            let mut point = OptionSpec::new(OptionKind::String, "point", "cmd.guideline.point");
            point.choices = point_choices(&s.id);
            subcommand(s.slug.as_str(), section_key(&s.slug), vec![point])
        })
        .collect();
    let mut question = OptionSpec::new(OptionKind::String, "question", "cmd.guideline.ask.question").required();
    question.autocomplete = true;
    question.max_length = Some(MAX_QUESTION);
    options.push(subcommand("ask", "cmd.guideline.ask.description", vec![question]));
    options.push(subcommand("unanswered", "cmd.guideline.unanswered", Vec::new()));
    vec![CommandSpec {
        name: "guideline",
        description_key: "cmd.guideline.description".into(),
        options,
        admin_only: false,
        in_dms: true,
    }]
}
