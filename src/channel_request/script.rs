//! The `/new-channel` script as data: the steps of the application for a new official social
//! media channel, loaded from `prompts/scripts/new-channel.toml` (embedded at build time).
//!
//! The file is checked when it is parsed: ids, kinds and the fields each kind needs, limits
//! that keep every answer inside Discord's embeds, and guideline points that exist. The
//! embedded file is parsed once; a test makes sure it parses, so a broken file is a build
//! defect, not a runtime surprise.

use std::collections::HashSet;

use once_cell::sync::Lazy;
use serde::Deserialize;

use crate::core::reply::limits;
use crate::guideline::GuidelineDoc;
use crate::i18n::Locale;

/// The longest text answer a script may allow, so that an answer with its yes/no prefix fits
/// one embed field.
pub const MAX_TEXT: usize = 900;
/// The most people a `people` step may ask for (a summary field must hold all mentions).
pub const MAX_PEOPLE: usize = 25;
/// The longest step id or option value, so that every custom id stays short.
pub const MAX_ID: usize = 32;

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalText {
    pub nn: String,
    pub en: String,
}

impl LocalText {
    /// The text in `locale`.
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::Nn => &self.nn,
            Locale::En => &self.en,
        }
    }
}

/// A follow-up question asked as text after an option (e.g. "other" asks for the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherDef {
    pub question: LocalText,
    pub min: usize,
    pub max: usize,
}

/// One option of a choice step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceDef {
    /// Stable value: stored in answers and used in custom ids.
    pub value: String,
    pub label: LocalText,
    /// Set when choosing this option asks for a name as text.
    pub other: Option<OtherDef>,
}

/// What kind of answer a step takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// One of the options (buttons, or a select when there are more than five).
    Choice { options: Vec<ChoiceDef> },
    /// Free text of `min..=max` characters.
    Text { min: usize, max: usize },
    /// Yes or no, then how it is ensured as text of `min..=max` characters.
    YesNoHow { min: usize, max: usize },
    /// `min..=max` distinct members of the server.
    People { min: usize, max: usize },
    /// Exactly one member of the server.
    Person,
    /// A statement the user confirms.
    Confirm,
}

/// One step of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDef {
    /// Stable id: stored in the database and used in custom ids.
    pub id: String,
    pub kind: StepKind,
    /// The guideline point the question comes from.
    pub point: Option<String>,
    /// Further guideline points quoted with the question.
    pub also: Vec<String>,
    /// Short name of the step in the summary.
    pub label: LocalText,
    pub question: LocalText,
    /// An optional line under the question.
    pub hint: Option<LocalText>,
    /// `YesNoHow`: asked after "yes".
    pub how: Option<LocalText>,
    /// `YesNoHow`: asked after "no", under the quoted point.
    pub how_after_no: Option<LocalText>,
    /// `Confirm`: the confirm button's label.
    pub confirm: Option<LocalText>,
    /// `Person`/`People`: the requester may not be chosen.
    pub not_requester: bool,
}

impl StepDef {
    /// The guideline points of this step: `point` and then `also`.
    pub fn points(&self) -> Vec<&str> {
        self.point.iter().chain(&self.also).map(String::as_str).collect()
    }

    /// The option with this value, for choice steps.
    pub fn option(&self, value: &str) -> Option<&ChoiceDef> {
        match &self.kind {
            StepKind::Choice { options } => options.iter().find(|o| o.value == value),
            _ => None,
        }
    }
}

/// A whole conversation script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The name of what the user fills in (the summary's title).
    pub title: LocalText,
    /// The steps in the order they are asked.
    pub steps: Vec<StepDef>,
}

static NEW_CHANNEL: Lazy<Script> = Lazy::new(|| {
    match Script::parse(include_str!("../../prompts/scripts/new-channel.toml")) {
        Ok(s) => s,
        // The file is embedded and parsed by a test; a failure here is a build defect.
        Err(e) => panic!("embedded script new-channel.toml is invalid: {e}"),
    }
});

impl Script {
    /// The `/new-channel` script.
    pub fn new_channel() -> &'static Script {
        &NEW_CHANNEL
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&StepDef> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The position of the step with this id.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// Every user-facing text of the script in `locale`, for the spelling check.
    pub fn texts(&self, locale: Locale) -> Vec<&str> {
        let mut out = vec![self.title.get(locale)];
        for s in &self.steps {
            out.push(s.label.get(locale));
            out.push(s.question.get(locale));
            for t in [&s.hint, &s.how, &s.how_after_no, &s.confirm].into_iter().flatten() {
                out.push(t.get(locale));
            }
            if let StepKind::Choice { options } = &s.kind {
                for o in options {
                    out.push(o.label.get(locale));
                    if let Some(other) = &o.other {
                        out.push(other.question.get(locale));
                    }
                }
            }
        }
        out
    }

    /// Parses and checks a script file.
    pub fn parse(src: &str) -> Result<Script, String> {
        let raw: RawScript = toml::from_str(src).map_err(|e| e.to_string())?;
        check_text(&raw.title, "title", limits::EMBED_TITLE)?;
        if raw.steps.is_empty() || raw.steps.len() > limits::SELECT_OPTIONS {
            return Err(format!("a script has 1..={} steps, not {}", limits::SELECT_OPTIONS, raw.steps.len()));
        }
        let mut ids = HashSet::new();
        let mut steps = Vec::with_capacity(raw.steps.len());
        for r in raw.steps {
            let id = r.id.clone();
            if !ids.insert(id.clone()) {
                return Err(format!("step id {id:?} is used twice"));
            }
            steps.push(r.into_step().map_err(|e| format!("step {id:?}: {e}"))?);
        }
        Ok(Script { title: raw.title, steps })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    title: LocalText,
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    kind: String,
    point: Option<String>,
    #[serde(default)]
    also: Vec<String>,
    min: Option<usize>,
    max: Option<usize>,
    #[serde(default)]
    not_requester: bool,
    label: LocalText,
    question: LocalText,
    hint: Option<LocalText>,
    how: Option<LocalText>,
    how_after_no: Option<LocalText>,
    confirm: Option<LocalText>,
    #[serde(default)]
    options: Vec<RawOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    value: String,
    label: LocalText,
    other: Option<RawOther>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOther {
    question: LocalText,
    min: Option<usize>,
    max: usize,
}

/// A stable id: lowercase ASCII letters, digits and `-`, at most [`MAX_ID`] characters.
fn check_id(id: &str, what: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("{what} {id:?} must be 1..={MAX_ID} of a-z, 0-9 and -"))
    }
}

fn check_text(t: &LocalText, what: &str, max: usize) -> Result<(), String> {
    for l in Locale::ALL {
        let s = t.get(l);
        if s.trim().is_empty() {
            return Err(format!("{what} is empty in {}", l.code()));
        }
        if s.chars().count() > max {
            return Err(format!("{what} is longer than {max} characters in {}", l.code()));
        }
    }
    Ok(())
}

fn check_range(min: Option<usize>, max: Option<usize>, ceiling: usize) -> Result<(usize, usize), String> {
    let max = max.ok_or("needs max")?;
    let min = min.unwrap_or(1);
    if min == 0 || min > max || max > ceiling {
        return Err(format!("needs 1 <= min <= max <= {ceiling}, has min {min} and max {max}"));
    }
    Ok((min, max))
}

fn check_point(id: &str) -> Result<(), String> {
    for l in Locale::ALL {
        if GuidelineDoc::for_locale(l).point(id).is_none_or(|p| p.id != id) {
            return Err(format!("guideline point {id:?} does not exist in {}", l.code()));
        }
    }
    Ok(())
}

impl RawStep {
    fn into_step(self) -> Result<StepDef, String> {
        check_id(&self.id, "id")?;
        // A long question would crowd the guideline quote out of the message.
        const QUESTION: usize = 1000;
        check_text(&self.label, "label", limits::BUTTON_LABEL)?;
        check_text(&self.question, "question", QUESTION)?;
        for (t, what) in [(&self.hint, "hint"), (&self.how, "how"), (&self.how_after_no, "how_after_no")] {
            if let Some(t) = t {
                check_text(t, what, QUESTION)?;
            }
        }
        if let Some(c) = &self.confirm {
            check_text(c, "confirm", limits::BUTTON_LABEL)?;
        }
        for p in self.point.iter().chain(&self.also) {
            check_point(p)?;
        }
        if self.point.is_none() && !self.also.is_empty() {
            return Err("has also without point".into());
        }
        let only = |present: bool, field: &str, kinds: &str| -> Result<(), String> {
            if present {
                Err(format!("{field} is only for {kinds}"))
            } else {
                Ok(())
            }
        };
        let is = |k: &str| self.kind == k;
        only(!self.options.is_empty() && !is("choice"), "options", "choice")?;
        only((self.how.is_some() || self.how_after_no.is_some()) && !is("yes-no-how"), "how", "yes-no-how")?;
        only(self.confirm.is_some() && !is("confirm"), "confirm", "confirm")?;
        only(self.not_requester && !is("person") && !is("people"), "not_requester", "person and people")?;
        let no_range = |kind: &str| only(self.min.is_some() || self.max.is_some(), "min and max", kind);
        let kind = match self.kind.as_str() {
            "choice" => {
                no_range("text, yes-no-how and people")?;
                StepKind::Choice { options: check_options(self.options)? }
            }
            "text" => {
                let (min, max) = check_range(self.min, self.max, MAX_TEXT)?;
                StepKind::Text { min, max }
            }
            "yes-no-how" => {
                if self.how.is_none() || self.how_after_no.is_none() {
                    return Err("yes-no-how needs how and how_after_no".into());
                }
                let (min, max) = check_range(self.min, self.max, MAX_TEXT)?;
                StepKind::YesNoHow { min, max }
            }
            "people" => {
                let (min, max) = check_range(self.min, self.max, MAX_PEOPLE)?;
                StepKind::People { min, max }
            }
            "person" => {
                no_range("text, yes-no-how and people")?;
                StepKind::Person
            }
            "confirm" => {
                no_range("text, yes-no-how and people")?;
                if self.confirm.is_none() {
                    return Err("confirm needs a confirm label".into());
                }
                StepKind::Confirm
            }
            other => return Err(format!("unknown kind {other:?}")),
        };
        Ok(StepDef {
            id: self.id,
            kind,
            point: self.point,
            also: self.also,
            label: self.label,
            question: self.question,
            hint: self.hint,
            how: self.how,
            how_after_no: self.how_after_no,
            confirm: self.confirm,
            not_requester: self.not_requester,
        })
    }
}

fn check_options(raw: Vec<RawOption>) -> Result<Vec<ChoiceDef>, String> {
    if raw.is_empty() || raw.len() > limits::SELECT_OPTIONS {
        return Err(format!("a choice has 1..={} options, not {}", limits::SELECT_OPTIONS, raw.len()));
    }
    let mut values = HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for o in raw {
        check_id(&o.value, "option value")?;
        if !values.insert(o.value.clone()) {
            return Err(format!("option value {:?} is used twice", o.value));
        }
        check_text(&o.label, &format!("label of option {:?}", o.value), limits::BUTTON_LABEL)?;
        let other = match o.other {
            Some(r) => {
                check_text(&r.question, &format!("other question of option {:?}", o.value), 1000)?;
                let (min, max) = check_range(r.min, Some(r.max), limits::BUTTON_LABEL)?;
                Some(OtherDef { question: r.question, min, max })
            }
            None => None,
        };
        out.push(ChoiceDef { value: o.value, label: o.label, other });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_script_parses_with_every_step_of_the_brief() {
        let s = Script::new_channel();
        let ids: Vec<&str> = s.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "platform",
                "name",
                "unit",
                "purpose",
                "audience",
                "dialogue",
                "privacy",
                "confidentiality",
                "resources",
                "responsible",
                "branding",
                "comments",
                "head"
            ]
        );
        let point = |id: &str| s.step(id).and_then(|s| s.point.clone());
        assert_eq!(point("platform").as_deref(), Some("1"));
        assert_eq!(point("privacy").as_deref(), Some("1.4"));
        assert_eq!(point("head").as_deref(), Some("1.7"));
        assert_eq!(s.step("comments").map(StepDef::points), Some(vec!["1.10", "1.11"]));
        assert_eq!(s.step("privacy").map(|s| s.kind.clone()), Some(StepKind::YesNoHow { min: 10, max: 500 }));
        assert_eq!(s.step("responsible").map(|s| s.kind.clone()), Some(StepKind::People { min: 2, max: 10 }));
        assert!(s.step("head").is_some_and(|h| h.kind == StepKind::Person && h.not_requester));
        let platform = s.step("platform").unwrap();
        let StepKind::Choice { options } = &platform.kind else { panic!("platform is a choice") };
        let values: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(values, ["facebook", "instagram", "linkedin", "x", "tiktok", "youtube", "snapchat", "other"]);
        assert!(platform.option("other").is_some_and(|o| o.other.is_some()));
        assert!(platform.option("facebook").is_some_and(|o| o.other.is_none()));
        assert_eq!(s.index("head"), Some(12));
        assert!(s.step("nope").is_none());
    }

    #[test]
    fn every_guideline_point_of_section_one_is_asked() {
        let s = Script::new_channel();
        let asked: HashSet<&str> = s.steps.iter().flat_map(StepDef::points).collect();
        for p in GuidelineDoc::official().points_of("1") {
            assert!(asked.contains(p.id.as_str()), "point {} is not asked", p.id);
        }
    }

    #[test]
    fn texts_cover_both_languages() {
        let s = Script::new_channel();
        let nn = s.texts(Locale::Nn);
        let en = s.texts(Locale::En);
        assert_eq!(nn.len(), en.len());
        assert!(nn.contains(&"Kva plattform gjeld søknaden?"));
        assert!(en.contains(&"What is the platform called?"));
        assert!(nn.iter().chain(&en).all(|t| !t.trim().is_empty()));
    }

    const STEP: &str = r#"
        title = { nn = "T", en = "T" }
        [[steps]]
        id = "a"
        label = { nn = "A", en = "A" }
        question = { nn = "Q", en = "Q" }
    "#;

    fn parse_with(extra: &str) -> Result<Script, String> {
        Script::parse(&format!("{STEP}{extra}"))
    }

    #[test]
    fn bad_scripts_are_refused_with_a_reason() {
        assert!(parse_with("kind = \"text\"\nmax = 10").is_ok());
        let bad = [
            ("kind = \"text\"", "needs max"),
            ("kind = \"text\"\nmax = 5000", "max <="),
            ("kind = \"text\"\nmin = 0\nmax = 10", "min"),
            ("kind = \"poem\"", "unknown kind"),
            ("kind = \"confirm\"", "confirm label"),
            ("kind = \"yes-no-how\"\nmax = 10", "how_after_no"),
            ("kind = \"person\"\nmax = 3", "min and max"),
            ("kind = \"text\"\nmax = 10\npoint = \"9.9\"", "does not exist"),
            ("kind = \"text\"\nmax = 10\nnot_requester = true", "not_requester"),
            ("kind = \"text\"\nmax = 10\ncolour = \"red\"", "unknown field"),
            ("kind = \"choice\"", "1..="),
        ];
        for (extra, why) in bad {
            let err = parse_with(extra).expect_err(extra);
            assert!(err.contains(why), "{extra:?} gave {err:?}, expected {why:?}");
        }
        let again = "[[steps]]\nid = \"a\"\nkind = \"person\"\nlabel = { nn = \"B\", en = \"B\" }\nquestion = { nn = \"Q\", en = \"Q\" }";
        assert!(parse_with(&format!("kind = \"person\"\n{again}")).unwrap_err().contains("used twice"));
        let bad_value =
            "kind = \"choice\"\n[[steps.options]]\nvalue = \"Has Space\"\nlabel = { nn = \"A\", en = \"A\" }";
        assert!(parse_with(bad_value).unwrap_err().contains("option value"));
        let empty_en = "kind = \"confirm\"\nconfirm = { nn = \"Ja\", en = \" \" }";
        assert!(parse_with(empty_en).unwrap_err().contains("empty in en"));
    }
}
