//! The `/new-channel` conversation as a pure state machine: a [`Conversation`] (stored as JSON
//! between messages) takes an [`Event`] and becomes the next state, or refuses the event with a
//! kind [`Rejection`] that says why. No I/O, no Discord, no clock: the caller loads the state,
//! calls [`Conversation::advance`], stores the new state and shows [`render`]'s message.
//!
//! Its buttons carry [`RequestId::Conversation`] ids (see `ids.rs`); [`event_from_action`]
//! turns such an action, with the values of a select, into an event.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

#[cfg(test)]
use crate::channel_request::ids::RequestId;
use crate::channel_request::ids::{self, Action};
use crate::channel_request::script::{ChoiceDef, LocalText, Script, StepDef, StepKind};
#[cfg(test)]
use crate::core::ids::CustomId;
use crate::core::reply::{clip, limits};
use crate::core::text::clean_text;
use crate::core::{ActionRow, ButtonStyle, Component, Embed, EmbedField, Message, SelectOption, Tone, UserError};
use crate::guideline::render::{point_block, source_line};
use crate::guideline::GuidelineDoc;
use crate::i18n::{t, Locale};

/// The key of the rejection that asks the caller to resolve typed names to members (see
/// [`Conversation::advance`]).
pub const NEEDS_PEOPLE_LOOKUP: &str = "channel.needs-people-lookup";

/// What the summary's fields may take in all (names and values), leaving room in the message
/// (or an approver's message) for a title, a description and a footer within
/// [`limits::EMBED_TOTAL`]. The script's limits keep a full summary under it; when a changed
/// script does not, the longest answers are clipped rather than breaking the message.
pub const SUMMARY_BUDGET: usize = 4800;

/// One stored answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Text(String),
    /// A choice; `other` is the typed name for an option that asks for one.
    Choice {
        value: String,
        other: Option<String>,
    },
    /// A yes/no question and how it is (or will be) ensured.
    YesNo {
        yes: bool,
        how: String,
    },
    People(Vec<u64>),
    Person(u64),
    Confirmed,
}

/// A question inside a step that is waiting for its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    /// The option `value` was chosen and its name is asked for (the "other" platform).
    OtherName { value: String },
    /// Yes or no was answered; "how is it ensured" is asked.
    How { yes: bool },
}

/// The state of one application, stored as JSON between messages.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Conversation {
    /// The step being asked; `None` means the summary is shown.
    pub step: Option<String>,
    /// Answers by step id.
    pub answers: BTreeMap<String, Answer>,
    /// The step was chosen from the summary: answering it (or Back) returns to the summary.
    pub back_to_summary: bool,
    /// A follow-up inside the current step that waits for text.
    pub pending: Option<Pending>,
    /// The answers as they were when an approver asked for changes: a resubmission shows what
    /// changed since.
    pub decided_answers: Option<BTreeMap<String, Answer>>,
}

/// Everything the user can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Text typed in the DM.
    Text(String),
    /// An option of a choice step, by value.
    Choose(String),
    Yes,
    No,
    Confirm,
    /// Member ids the caller resolved from typed names.
    People(Vec<u64>),
    Back,
    /// From the summary: change the answer of this step.
    Edit(String),
    Cancel,
    Submit,
}

/// Where the conversation is after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A question is asked: render it.
    Ask,
    /// The summary is shown: render it.
    Summary,
    /// The user sent the application; the state holds the complete answers.
    Submitted,
    /// The user cancelled; nothing is to be sent.
    Cancelled,
}

/// A kind "please answer again" reason, as a message key with its placeholders. The caller
/// keeps the old state and shows the message, so nothing typed is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Rejection {
    fn new(key: &'static str) -> Self {
        Rejection { key, args: Vec::new() }
    }

    fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// The reason as the user reads it.
    pub fn message(&self, locale: Locale) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        t(locale, self.key, &args)
    }
}

impl From<Rejection> for UserError {
    fn from(r: Rejection) -> Self {
        UserError { key: r.key, args: r.args }
    }
}

/// What answering one step gives: an answer, or a follow-up inside the step.
enum StepResult {
    Answer(Answer),
    Pending(Pending),
}

impl Conversation {
    /// The steps whose answers differ from those an approver saw when asking for changes, in
    /// the script's order (empty before any such request).
    pub fn changed_since_decision<'s>(&self, script: &'s Script) -> Vec<&'s str> {
        let Some(before) = &self.decided_answers else { return Vec::new() };
        script.steps.iter().filter(|s| before.get(&s.id) != self.answers.get(&s.id)).map(|s| s.id.as_str()).collect()
    }

    /// A new conversation at the first step of the `/new-channel` script.
    pub fn start() -> Conversation {
        Conversation { step: Script::new_channel().steps.first().map(|s| s.id.clone()), ..Conversation::default() }
    }

    /// The next state after `event`, or why the event is refused. Pure, and never panics.
    ///
    /// * Cancel ends the conversation from anywhere ([`Progress::Cancelled`]).
    /// * Back goes to the previous step. Inside a follow-up (the "other" name, the "how" after
    ///   yes/no) it goes back to the step's own question, so the user can answer it again; in a
    ///   step chosen from the summary it returns to the summary; at the summary it goes to the
    ///   last step; at the first step it is refused.
    /// * After an answer the next step is asked, or the summary shown after the last step or
    ///   when the step was chosen from the summary.
    /// * At the summary, Edit(step id) asks that step again and Submit sends a complete
    ///   application.
    ///
    /// Text is cleaned before it is checked: control characters (except line breaks) and
    /// zero-width and bidirectional formatting characters are removed, and the ends trimmed.
    ///
    /// **People lookup contract:** a `people` or `person` step takes [`Event::People`] with
    /// member ids (exactly one id for `person`). Typed text there is refused with the key
    /// [`NEEDS_PEOPLE_LOOKUP`] and the cleaned text as argument `text`: the caller resolves the
    /// names to members of the server and calls again with `Event::People(ids)`.
    ///
    /// A stored state whose step is no longer in the script is repaired: it goes to the first
    /// unanswered step, or to the summary.
    pub fn advance(
        &self,
        script: &Script,
        event: Event,
        requester: u64,
    ) -> Result<(Conversation, Progress), Rejection> {
        if event == Event::Cancel {
            return Ok((self.clone(), Progress::Cancelled));
        }
        let Some(id) = self.step.as_deref() else {
            return self.at_summary(script, event);
        };
        let Some(index) = script.index(id) else {
            return Ok(self.repaired(script));
        };
        let step = &script.steps[index];
        match event {
            Event::Back => self.back(script, index),
            Event::Edit(_) | Event::Submit => Err(Rejection::new("channel.not-now")),
            event => match self.answer_step(step, event, requester)? {
                StepResult::Pending(p) => {
                    let mut next = self.clone();
                    next.pending = Some(p);
                    Ok((next, Progress::Ask))
                }
                StepResult::Answer(a) => Ok(self.answered(script, index, a)),
            },
        }
    }

    /// Every step has an answer of the right kind that passes the step's checks.
    pub fn is_complete(&self, script: &Script) -> bool {
        script.steps.iter().all(|s| self.answers.get(&s.id).is_some_and(|a| answer_fits(s, a)))
    }

    fn answer_step(&self, step: &StepDef, event: Event, requester: u64) -> Result<StepResult, Rejection> {
        match (&step.kind, event) {
            (StepKind::Choice { options }, Event::Choose(value)) => choose(options, &value),
            (StepKind::Choice { options }, Event::Text(text)) => {
                let pending_other = match &self.pending {
                    Some(Pending::OtherName { value }) => {
                        step.option(value).and_then(|o| o.other.as_ref().map(|d| (o, d)))
                    }
                    _ => None,
                };
                if let Some((option, def)) = pending_other {
                    let name = valid_text(&text, def.min, def.max)?;
                    return Ok(StepResult::Answer(Answer::Choice { value: option.value.clone(), other: Some(name) }));
                }
                // A typed option name (in either language) counts as choosing it.
                let typed = clean_text(&text);
                let found = options.iter().find(|o| {
                    o.value.eq_ignore_ascii_case(&typed)
                        || Locale::ALL.iter().any(|l| o.label.get(*l).to_lowercase() == typed.to_lowercase())
                });
                match found {
                    Some(o) => choose(options, &o.value),
                    None => Err(Rejection::new("channel.use-buttons")),
                }
            }
            (StepKind::Text { min, max }, Event::Text(text)) => {
                Ok(StepResult::Answer(Answer::Text(valid_text(&text, *min, *max)?)))
            }
            (StepKind::YesNoHow { .. }, Event::Yes) => Ok(StepResult::Pending(Pending::How { yes: true })),
            (StepKind::YesNoHow { .. }, Event::No) => Ok(StepResult::Pending(Pending::How { yes: false })),
            (StepKind::YesNoHow { min, max }, Event::Text(text)) => match self.pending {
                Some(Pending::How { yes }) => {
                    Ok(StepResult::Answer(Answer::YesNo { yes, how: valid_text(&text, *min, *max)? }))
                }
                _ => Err(Rejection::new("channel.use-buttons")),
            },
            (StepKind::People { .. } | StepKind::Person, Event::Text(text)) => {
                Err(Rejection::new(NEEDS_PEOPLE_LOOKUP).arg("text", clean_text(&text)))
            }
            (StepKind::People { min, max }, Event::People(ids)) => {
                let ids = distinct(ids);
                if ids.len() < *min {
                    return Err(Rejection::new("channel.people-too-few").arg("min", min).arg("count", ids.len()));
                }
                if ids.len() > *max {
                    return Err(Rejection::new("channel.people-too-many").arg("max", max).arg("count", ids.len()));
                }
                if step.not_requester && ids.contains(&requester) {
                    return Err(Rejection::new("channel.not-yourself"));
                }
                Ok(StepResult::Answer(Answer::People(ids)))
            }
            (StepKind::Person, Event::People(ids)) => {
                let ids = distinct(ids);
                let [id] = ids[..] else {
                    return Err(Rejection::new("channel.person-exactly-one").arg("count", ids.len()));
                };
                if step.not_requester && id == requester {
                    return Err(Rejection::new("channel.not-yourself"));
                }
                Ok(StepResult::Answer(Answer::Person(id)))
            }
            (StepKind::Confirm, Event::Confirm) => Ok(StepResult::Answer(Answer::Confirmed)),
            (_, Event::Text(_)) => Err(Rejection::new("channel.use-buttons")),
            _ => Err(Rejection::new("channel.not-now")),
        }
    }

    /// Stores the answer to step `index` and moves on.
    fn answered(&self, script: &Script, index: usize, answer: Answer) -> (Conversation, Progress) {
        let mut next = self.clone();
        next.answers.insert(script.steps[index].id.clone(), answer);
        next.pending = None;
        match script.steps.get(index + 1) {
            Some(following) if !self.back_to_summary => {
                next.step = Some(following.id.clone());
                (next, Progress::Ask)
            }
            _ => {
                next.step = None;
                next.back_to_summary = false;
                (next, Progress::Summary)
            }
        }
    }

    fn back(&self, script: &Script, index: usize) -> Result<(Conversation, Progress), Rejection> {
        let mut next = self.clone();
        if self.pending.is_some() {
            next.pending = None;
            return Ok((next, Progress::Ask));
        }
        if self.back_to_summary {
            next.step = None;
            next.back_to_summary = false;
            return Ok((next, Progress::Summary));
        }
        match index.checked_sub(1).and_then(|i| script.steps.get(i)) {
            Some(previous) => {
                next.step = Some(previous.id.clone());
                Ok((next, Progress::Ask))
            }
            None => Err(Rejection::new("channel.no-previous")),
        }
    }

    fn at_summary(&self, script: &Script, event: Event) -> Result<(Conversation, Progress), Rejection> {
        let mut next = self.clone();
        next.pending = None;
        next.back_to_summary = false;
        match event {
            Event::Back => {
                let last = script.steps.last().ok_or(Rejection::new("channel.no-previous"))?;
                next.step = Some(last.id.clone());
                Ok((next, Progress::Ask))
            }
            Event::Edit(id) => {
                let step = script.step(&id).ok_or(Rejection::new("channel.unknown-step"))?;
                next.step = Some(step.id.clone());
                next.back_to_summary = true;
                Ok((next, Progress::Ask))
            }
            Event::Submit if self.is_complete(script) => Ok((next, Progress::Submitted)),
            Event::Submit => Err(Rejection::new("channel.incomplete")),
            Event::Text(_) => Err(Rejection::new("channel.use-buttons")),
            _ => Err(Rejection::new("channel.not-now")),
        }
    }

    /// A state whose step is unknown goes to the first step without a fitting answer, or to
    /// the summary when there is none.
    fn repaired(&self, script: &Script) -> (Conversation, Progress) {
        let mut next = self.clone();
        next.pending = None;
        next.back_to_summary = false;
        let missing = script.steps.iter().find(|s| !self.answers.get(&s.id).is_some_and(|a| answer_fits(s, a)));
        match missing {
            Some(s) => {
                next.step = Some(s.id.clone());
                (next, Progress::Ask)
            }
            None => {
                next.step = None;
                (next, Progress::Summary)
            }
        }
    }
}

fn choose(options: &[ChoiceDef], value: &str) -> Result<StepResult, Rejection> {
    let option = options.iter().find(|o| o.value == value).ok_or(Rejection::new("channel.unknown-choice"))?;
    Ok(match option.other {
        Some(_) => StepResult::Pending(Pending::OtherName { value: option.value.clone() }),
        None => StepResult::Answer(Answer::Choice { value: option.value.clone(), other: None }),
    })
}

/// The ids in their first order, each once.
fn distinct(ids: Vec<u64>) -> Vec<u64> {
    let mut seen = BTreeSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// The cleaned text when it has `min..=max` characters.
fn valid_text(s: &str, min: usize, max: usize) -> Result<String, Rejection> {
    let text = clean_text(s);
    let len = text.chars().count();
    if len == 0 {
        return Err(Rejection::new("channel.text-empty"));
    }
    if len < min {
        return Err(Rejection::new("channel.text-too-short").arg("min", min).arg("len", len));
    }
    if len > max {
        return Err(Rejection::new("channel.text-too-long").arg("max", max).arg("len", len));
    }
    Ok(text)
}

/// The answer is of the step's kind and passes its checks (except who the requester is).
fn answer_fits(step: &StepDef, answer: &Answer) -> bool {
    let text_ok = |s: &str, min: usize, max: usize| (min.max(1)..=max).contains(&s.chars().count());
    match (&step.kind, answer) {
        (StepKind::Choice { .. }, Answer::Choice { value, other }) => {
            step.option(value).is_some_and(|o| match (&o.other, other) {
                (Some(def), Some(name)) => text_ok(name, def.min, def.max),
                (None, None) => true,
                _ => false,
            })
        }
        (StepKind::Text { min, max }, Answer::Text(s)) => text_ok(s, *min, *max),
        (StepKind::YesNoHow { min, max }, Answer::YesNo { how, .. }) => text_ok(how, *min, *max),
        (StepKind::People { min, max }, Answer::People(ids)) => {
            (*min..=*max).contains(&ids.iter().collect::<BTreeSet<_>>().len())
        }
        (StepKind::Person, Answer::Person(_)) | (StepKind::Confirm, Answer::Confirmed) => true,
        _ => false,
    }
}

/// The guideline points where the user answered "no" (with an explanation), for flagging.
pub fn flagged_points(script: &Script, answers: &BTreeMap<String, Answer>) -> Vec<String> {
    script
        .steps
        .iter()
        .filter(|s| matches!(answers.get(&s.id), Some(Answer::YesNo { yes: false, .. })))
        .map(|s| s.point.clone().unwrap_or_else(|| s.id.clone()))
        .collect()
}

/// `<@id>`: rendered as the member's name inside embeds, and never pinging there.
fn mention(id: u64) -> String {
    format!("<@{id}>")
}

/// A step's label with its guideline points, as the summary shows it.
fn field_name(step: &StepDef, locale: Locale) -> String {
    let label = step.label.get(locale);
    let points = step.points();
    if points.is_empty() {
        return label.to_string();
    }
    t(locale, "channel.field-name", &[("label", label), ("point", &points.join(", "))])
}

/// An answer as the summary shows it; never empty.
pub fn answer_text(step: &StepDef, answer: Option<&Answer>, locale: Locale) -> String {
    let not_answered = || t(locale, "channel.not-answered", &[]);
    let text = match answer {
        None => not_answered(),
        Some(Answer::Text(s)) => s.clone(),
        Some(Answer::Choice { value, other }) => {
            let label = step.option(value).map_or(value.as_str(), |o| o.label.get(locale));
            match other {
                Some(name) => t(locale, "channel.other-named", &[("label", label), ("name", name)]),
                None => label.to_string(),
            }
        }
        Some(Answer::YesNo { yes: true, how }) => t(locale, "channel.answer-yes", &[("how", how)]),
        Some(Answer::YesNo { yes: false, how }) => t(locale, "channel.answer-no", &[("how", how)]),
        Some(Answer::People(ids)) => ids.iter().map(|id| mention(*id)).collect::<Vec<_>>().join(", "),
        Some(Answer::Person(id)) => mention(*id),
        Some(Answer::Confirmed) => t(locale, "channel.confirmed", &[]),
    };
    if text.trim().is_empty() {
        not_answered()
    } else {
        clip(&text, limits::EMBED_FIELD_VALUE)
    }
}

/// The summary as embed fields: one per step, named with its label and guideline points, in
/// script order. Reused in the approvers' messages. People are Discord mentions `<@id>`.
pub fn summary_fields(script: &Script, answers: &BTreeMap<String, Answer>, locale: Locale) -> Vec<EmbedField> {
    let mut fields: Vec<EmbedField> = script
        .steps
        .iter()
        .take(limits::EMBED_FIELDS)
        .map(|s| EmbedField {
            name: clip(&field_name(s, locale), limits::EMBED_FIELD_NAME),
            value: answer_text(s, answers.get(&s.id), locale),
            inline: false,
        })
        .collect();
    fit_budget(&mut fields, SUMMARY_BUDGET);
    fields
}

/// Clips the longest values (to one common length) until names and values fit `budget`.
fn fit_budget(fields: &mut [EmbedField], budget: usize) {
    let names: usize = fields.iter().map(|f| f.name.chars().count()).sum();
    let room = budget.saturating_sub(names);
    let lens: Vec<usize> = fields.iter().map(|f| f.value.chars().count()).collect();
    if lens.iter().sum::<usize>() <= room {
        return;
    }
    let fits = |cap: usize| lens.iter().map(|l| (*l).min(cap)).sum::<usize>() <= room;
    let (mut lo, mut hi) = (1, lens.iter().copied().max().unwrap_or(1));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    for f in fields.iter_mut() {
        if f.value.chars().count() > lo {
            f.value = clip(&f.value, lo);
        }
    }
}

/// The id of a conversation button of request `request_id`.
fn custom_id(request_id: i64, action: Action) -> String {
    ids::conversation(request_id, action)
}

/// Turns a conversation action, plus the values of a select, into an event; `None` for a
/// select without a value, or an action that is not an answer (`resume`, `fresh`).
pub fn event_from_action(action: &Action, values: &[String]) -> Option<Event> {
    let selected = || values.first().filter(|v| !v.is_empty()).cloned();
    match action {
        Action::Choose(Some(value)) => Some(Event::Choose(value.clone())),
        Action::Choose(None) => selected().map(Event::Choose),
        Action::Edit(Some(id)) => Some(Event::Edit(id.clone())),
        Action::Edit(None) => selected().map(Event::Edit),
        Action::Yes => Some(Event::Yes),
        Action::No => Some(Event::No),
        Action::Confirm => Some(Event::Confirm),
        Action::Back => Some(Event::Back),
        // Cancel asks first (see the workflow); only the confirmation cancels.
        Action::CancelConfirm => Some(Event::Cancel),
        Action::Submit => Some(Event::Submit),
        Action::Cancel | Action::Resume | Action::Fresh => None,
    }
}

/// The message that asks the current step's question (or shows the summary when the step is
/// `None`). `request_id` goes into every custom id.
pub fn render(script: &Script, conv: &Conversation, locale: Locale, request_id: i64) -> Message {
    let index = conv.step.as_deref().map(|id| script.index(id));
    match index {
        Some(Some(i)) => render_step(script, conv, i, locale, request_id),
        Some(None) => {
            // A stored step the script no longer has: show where advance would repair it to.
            let (repaired, _) = conv.repaired(script);
            match repaired.step.as_deref().and_then(|id| script.index(id)) {
                Some(i) => render_step(script, &repaired, i, locale, request_id),
                None => render_summary(script, &repaired, locale, request_id),
            }
        }
        None => render_summary(script, conv, locale, request_id),
    }
}

/// The guideline points of a step, quoted in `locale` with the source line.
fn quote_embed(step: &StepDef, locale: Locale) -> Option<Embed> {
    let doc = GuidelineDoc::for_locale(locale);
    let points = step.points();
    let blocks: Vec<String> = points.iter().filter_map(|id| doc.point(id)).map(|p| point_block(p, false)).collect();
    if blocks.is_empty() {
        return None;
    }
    Some(Embed {
        title: Some(clip(&t(locale, "channel.point-title", &[("points", &points.join(", "))]), limits::EMBED_TITLE)),
        description: Some(clip(&blocks.join("\n\n"), limits::EMBED_DESCRIPTION)),
        fields: Vec::new(),
        footer: Some(source_line(locale)),
        tone: Some(Tone::Guideline),
    })
}

fn type_text(locale: Locale, max: usize) -> String {
    t(locale, "channel.type-text", &[("max", &max.to_string())])
}

fn render_step(script: &Script, conv: &Conversation, index: usize, locale: Locale, request_id: i64) -> Message {
    let step = &script.steps[index];
    let pending = conv.pending.as_ref().filter(|p| match (p, &step.kind) {
        (Pending::OtherName { value }, StepKind::Choice { .. }) => {
            step.option(value).is_some_and(|o| o.other.is_some())
        }
        (Pending::How { .. }, StepKind::YesNoHow { .. }) => true,
        _ => false,
    });
    let label = step.label.get(locale);
    let mut title = t(
        locale,
        "channel.step-title",
        &[("n", &(index + 1).to_string()), ("total", &script.steps.len().to_string()), ("label", label)],
    );
    let mut tone = Tone::Info;
    let mut parts: Vec<String> = Vec::new();
    let text_or_question = |t: &Option<LocalText>| t.as_ref().unwrap_or(&step.question).get(locale).to_string();
    let max_text = match step.kind {
        StepKind::YesNoHow { max, .. } | StepKind::Text { max, .. } => max,
        _ => 1,
    };
    match pending {
        Some(Pending::OtherName { value }) => {
            let def = step.option(value).and_then(|o| o.other.as_ref());
            if let Some(def) = def {
                parts.push(def.question.get(locale).to_string());
                parts.push(type_text(locale, def.max));
            }
        }
        Some(Pending::How { yes: true }) => {
            parts.push(text_or_question(&step.how));
            parts.push(type_text(locale, max_text));
        }
        Some(Pending::How { yes: false }) => {
            let point = step.points().join(", ");
            title = t(locale, "channel.answered-no-title", &[("point", &point)]);
            tone = Tone::Warning;
            parts.push(t(locale, "channel.answered-no", &[("point", &point)]));
            parts.push(text_or_question(&step.how_after_no));
            parts.push(type_text(locale, max_text));
        }
        None => {
            parts.push(step.question.get(locale).to_string());
            if let Some(h) = &step.hint {
                parts.push(h.get(locale).to_string());
            }
            parts.push(match step.kind {
                StepKind::Text { max, .. } => type_text(locale, max),
                StepKind::People { min, max } => {
                    t(locale, "channel.type-people", &[("min", &min.to_string()), ("max", &max.to_string())])
                }
                StepKind::Person => t(locale, "channel.type-person", &[]),
                StepKind::Choice { .. } | StepKind::YesNoHow { .. } | StepKind::Confirm => {
                    t(locale, "channel.press-button", &[])
                }
            });
        }
    }
    if conv.back_to_summary {
        parts.push(t(locale, "channel.editing", &[]));
    }
    let mut fields = Vec::new();
    if pending.is_none() {
        if let Some(answer) = conv.answers.get(&step.id) {
            fields.push(EmbedField {
                name: t(locale, "channel.current-answer", &[]),
                value: answer_text(step, Some(answer), locale),
                inline: false,
            });
        }
    }
    let mut embeds = vec![Embed {
        title: Some(clip(&title, limits::EMBED_TITLE)),
        description: Some(clip(&parts.join("\n\n"), limits::EMBED_DESCRIPTION)),
        fields,
        footer: None,
        tone: Some(tone),
    }];
    embeds.extend(quote_embed(step, locale));

    let mut rows: Vec<ActionRow> = Vec::new();
    if pending.is_none() {
        rows.extend(answer_rows(step, conv.answers.get(&step.id), locale, request_id));
    }
    let back_label = match pending {
        Some(Pending::How { yes: false }) => "channel.answer-again",
        Some(_) => "channel.back",
        None if conv.back_to_summary => "channel.back-to-summary",
        None => "channel.back",
    };
    let first = index == 0 && pending.is_none() && !conv.back_to_summary;
    rows.push(vec![
        Component::Button {
            custom_id: custom_id(request_id, Action::Back),
            label: t(locale, back_label, &[]),
            style: ButtonStyle::Secondary,
            emoji: None,
            disabled: first,
        },
        Component::button(custom_id(request_id, Action::Cancel), t(locale, "channel.cancel", &[]), ButtonStyle::Danger),
    ]);
    Message { content: None, embeds, components: rows, ephemeral: true, attachments: Vec::new() }
}

/// The components that answer a step (none for steps answered by typing).
fn answer_rows(step: &StepDef, current: Option<&Answer>, locale: Locale, request_id: i64) -> Vec<ActionRow> {
    match &step.kind {
        StepKind::Choice { options } if options.len() <= limits::BUTTONS_PER_ROW => vec![options
            .iter()
            .map(|o| {
                Component::button(
                    custom_id(request_id, Action::Choose(Some(o.value.clone()))),
                    clip(o.label.get(locale), limits::BUTTON_LABEL),
                    ButtonStyle::Primary,
                )
            })
            .collect()],
        StepKind::Choice { options } => {
            let chosen = match current {
                Some(Answer::Choice { value, .. }) => Some(value.as_str()),
                _ => None,
            };
            vec![vec![Component::StringSelect {
                custom_id: custom_id(request_id, Action::Choose(None)),
                placeholder: Some(clip(&t(locale, "channel.choose-placeholder", &[]), limits::SELECT_PLACEHOLDER)),
                options: options
                    .iter()
                    .take(limits::SELECT_OPTIONS)
                    .map(|o| SelectOption {
                        value: o.value.clone(),
                        label: clip(o.label.get(locale), limits::SELECT_OPTION_LABEL),
                        description: None,
                        default: chosen == Some(o.value.as_str()),
                    })
                    .collect(),
                min_values: 1,
                max_values: 1,
            }]]
        }
        StepKind::YesNoHow { .. } => vec![vec![
            Component::button(custom_id(request_id, Action::Yes), t(locale, "channel.yes", &[]), ButtonStyle::Success),
            Component::button(custom_id(request_id, Action::No), t(locale, "channel.no", &[]), ButtonStyle::Danger),
        ]],
        StepKind::Confirm => {
            let label = step
                .confirm
                .as_ref()
                .map_or_else(|| t(locale, "channel.confirmed", &[]), |c| c.get(locale).to_string());
            vec![vec![Component::button(
                custom_id(request_id, Action::Confirm),
                clip(&label, limits::BUTTON_LABEL),
                ButtonStyle::Success,
            )]]
        }
        StepKind::Text { .. } | StepKind::People { .. } | StepKind::Person => Vec::new(),
    }
}

fn render_summary(script: &Script, conv: &Conversation, locale: Locale, request_id: i64) -> Message {
    let flagged = flagged_points(script, &conv.answers);
    let complete = conv.is_complete(script);
    let mut parts = vec![t(locale, "channel.summary-intro", &[])];
    if !flagged.is_empty() {
        parts.push(t(locale, "channel.summary-flagged", &[("points", &flagged.join(", "))]));
    }
    if !complete {
        parts.push(t(locale, "channel.summary-incomplete", &[]));
    }
    let embed = Embed {
        title: Some(clip(
            &t(locale, "channel.summary-title", &[("title", script.title.get(locale))]),
            limits::EMBED_TITLE,
        )),
        description: Some(parts.join("\n\n")),
        fields: summary_fields(script, &conv.answers, locale),
        footer: None,
        tone: Some(if flagged.is_empty() { Tone::Info } else { Tone::Warning }),
    };
    let mut rows: Vec<ActionRow> = Vec::new();
    if !script.steps.is_empty() {
        let options = script
            .steps
            .iter()
            .take(limits::SELECT_OPTIONS)
            .map(|s| {
                let answer = conv.answers.get(&s.id);
                // Mentions show as raw ids in a select, so people are not previewed there.
                let preview = match answer {
                    Some(Answer::People(_) | Answer::Person(_)) => None,
                    _ => Some(answer_text(s, answer, locale).replace('\n', " ")),
                };
                SelectOption {
                    value: s.id.clone(),
                    label: clip(&field_name(s, locale), limits::SELECT_OPTION_LABEL),
                    description: preview.map(|p| clip(&p, limits::SELECT_OPTION_DESCRIPTION)),
                    default: false,
                }
            })
            .collect();
        rows.push(vec![Component::StringSelect {
            custom_id: custom_id(request_id, Action::Edit(None)),
            placeholder: Some(clip(&t(locale, "channel.edit-placeholder", &[]), limits::SELECT_PLACEHOLDER)),
            options,
            min_values: 1,
            max_values: 1,
        }]);
    }
    rows.push(vec![
        Component::Button {
            custom_id: custom_id(request_id, Action::Submit),
            label: t(locale, "channel.submit", &[]),
            style: ButtonStyle::Success,
            emoji: None,
            disabled: !complete,
        },
        Component::button(custom_id(request_id, Action::Back), t(locale, "channel.back", &[]), ButtonStyle::Secondary),
        Component::button(custom_id(request_id, Action::Cancel), t(locale, "channel.cancel", &[]), ButtonStyle::Danger),
    ]);
    Message { content: None, embeds: vec![embed], components: rows, ephemeral: true, attachments: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u64 = 1001;
    const ALICE: u64 = 2002;
    const HEAD: u64 = 3003;

    fn script() -> &'static Script {
        Script::new_channel()
    }

    fn text(s: &str) -> Event {
        Event::Text(s.to_string())
    }

    /// Runs the events from `conv`, each of which must be accepted; returns the last state
    /// and progress.
    fn run(conv: Conversation, events: Vec<Event>) -> (Conversation, Progress) {
        let mut state = (conv, Progress::Ask);
        for e in events {
            let dbg = format!("{e:?} at {:?}", state.0.step);
            state = state.0.advance(script(), e, ME).unwrap_or_else(|r| panic!("{dbg} rejected: {r:?}"));
        }
        state
    }

    fn happy_events() -> Vec<Event> {
        vec![
            Event::Choose("instagram".into()),
            text("Volda bibliotek på Instagram"),
            text("  Volda bibliotek "),
            text("Vise fram arrangement og nye bøker."),
            text("Barnefamiliar og unge vaksne i Volda."),
            text("Vi svarar på kommentarar innan ein arbeidsdag."),
            Event::Yes,
            text("Skriftleg samtykkeskjema før fotografering."),
            Event::Yes,
            text("Ingen enkeltsaker i kanalen; vi viser til telefon."),
            text("To timar i veka, delt på to tilsette."),
            Event::People(vec![ME, ALICE]),
            Event::Confirm,
            Event::Confirm,
            Event::People(vec![HEAD]),
        ]
    }

    fn at_summary() -> Conversation {
        let (c, p) = run(Conversation::start(), happy_events());
        assert_eq!(p, Progress::Summary);
        c
    }

    /// A conversation at step `id` with every earlier step answered.
    fn at_step(id: &str) -> Conversation {
        let index = script().index(id).unwrap();
        let (c, _) = run(Conversation::start(), happy_events_until(index));
        assert_eq!(c.step.as_deref(), Some(id));
        c
    }

    /// The happy events that answer the first `steps` steps.
    fn happy_events_until(steps: usize) -> Vec<Event> {
        let mut out = Vec::new();
        let mut answered = 0;
        for e in happy_events() {
            if answered == steps {
                break;
            }
            // Yes/No only opens the follow-up; the text after it answers the step.
            let completes = !matches!(e, Event::Yes | Event::No);
            out.push(e);
            if completes {
                answered += 1;
            }
        }
        out
    }

    #[test]
    fn happy_path_from_start_to_submitted() {
        let c = Conversation::start();
        assert_eq!(c.step.as_deref(), Some("platform"));
        assert!(!c.is_complete(script()));
        let mut c = c;
        let mut asked = vec![c.step.clone().unwrap()];
        for e in happy_events() {
            let (next, p) = c.advance(script(), e, ME).unwrap();
            c = next;
            if p == Progress::Ask && c.pending.is_none() {
                asked.push(c.step.clone().unwrap());
            }
        }
        let ids: Vec<String> = script().steps.iter().map(|s| s.id.clone()).collect();
        assert_eq!(asked, ids, "every step is asked once, in order");
        assert_eq!(c.step, None);
        assert!(c.is_complete(script()));
        assert_eq!(c.answers["platform"], Answer::Choice { value: "instagram".into(), other: None });
        assert_eq!(c.answers["unit"], Answer::Text("Volda bibliotek".into()), "text is trimmed");
        assert_eq!(
            c.answers["privacy"],
            Answer::YesNo { yes: true, how: "Skriftleg samtykkeskjema før fotografering.".into() }
        );
        assert_eq!(c.answers["responsible"], Answer::People(vec![ME, ALICE]), "the requester may be one of them");
        assert_eq!(c.answers["branding"], Answer::Confirmed);
        assert_eq!(c.answers["head"], Answer::Person(HEAD));
        assert!(flagged_points(script(), &c.answers).is_empty());
        let (done, p) = c.advance(script(), Event::Submit, ME).unwrap();
        assert_eq!(p, Progress::Submitted);
        assert_eq!(done.answers, c.answers);
    }

    #[test]
    fn back_goes_to_the_previous_step_and_keeps_answers() {
        let c = at_step("purpose");
        let (c, p) = c.advance(script(), Event::Back, ME).unwrap();
        assert_eq!((c.step.as_deref(), p), (Some("unit"), Progress::Ask));
        assert_eq!(c.answers["unit"], Answer::Text("Volda bibliotek".into()));
        let (c, _) = run(c, vec![text("Volda folkebibliotek")]);
        assert_eq!(c.step.as_deref(), Some("purpose"));
        assert_eq!(c.answers["unit"], Answer::Text("Volda folkebibliotek".into()));
        // Back all the way to the first step, where it is refused.
        let (c, _) = run(c, vec![Event::Back, Event::Back, Event::Back]);
        assert_eq!(c.step.as_deref(), Some("platform"));
        let r = c.advance(script(), Event::Back, ME).unwrap_err();
        assert_eq!(r.key, "channel.no-previous");
        // Back from the summary goes to the last step.
        let (c, p) = at_summary().advance(script(), Event::Back, ME).unwrap();
        assert_eq!((c.step.as_deref(), p), (Some("head"), Progress::Ask));
        // Back inside a follow-up returns to the step's own question.
        let (c, _) = run(at_step("privacy"), vec![Event::Yes]);
        assert_eq!(c.pending, Some(Pending::How { yes: true }));
        let (c, p) = c.advance(script(), Event::Back, ME).unwrap();
        assert_eq!((c.step.as_deref(), c.pending.clone(), p), (Some("privacy"), None, Progress::Ask));
    }

    #[test]
    fn edit_from_the_summary_returns_to_the_summary() {
        let summary = at_summary();
        let (c, p) = summary.advance(script(), Event::Edit("purpose".into()), ME).unwrap();
        assert_eq!((c.step.as_deref(), p, c.back_to_summary), (Some("purpose"), Progress::Ask, true));
        let (c, p) = c.advance(script(), text("Eit nytt og betre formål."), ME).unwrap();
        assert_eq!((c.step.as_deref(), p, c.back_to_summary), (None, Progress::Summary, false));
        assert_eq!(c.answers["purpose"], Answer::Text("Eit nytt og betre formål.".into()));
        assert!(c.is_complete(script()));
        // Editing a yes/no step goes through its follow-up and then back to the summary.
        let (c, p) =
            run(summary.clone(), vec![Event::Edit("privacy".into()), Event::No, text("Vi hentar samtykke først.")]);
        assert_eq!((c.step.as_deref(), p), (None, Progress::Summary));
        // Back in an edit returns to the summary without changing the answer.
        let (c, p) = run(summary.clone(), vec![Event::Edit("name".into()), Event::Back]);
        assert_eq!((c.step.as_deref(), p, c.back_to_summary), (None, Progress::Summary, false));
        assert_eq!(c.answers, summary.answers);
        let r = summary.advance(script(), Event::Edit("nope".into()), ME).unwrap_err();
        assert_eq!(r.key, "channel.unknown-step");
        // Edit is only offered at the summary.
        let r = at_step("audience").advance(script(), Event::Edit("name".into()), ME).unwrap_err();
        assert_eq!(r.key, "channel.not-now");
    }

    #[test]
    fn a_no_for_privacy_needs_an_explanation_and_is_flagged() {
        let c = at_step("privacy");
        let (c, p) = c.advance(script(), Event::No, ME).unwrap();
        assert_eq!(
            (c.step.as_deref(), c.pending.clone(), p),
            (Some("privacy"), Some(Pending::How { yes: false }), Progress::Ask)
        );
        assert!(!c.answers.contains_key("privacy"), "a no is not accepted silently");
        // The follow-up quotes 1.4 and explains what it requires.
        for locale in Locale::ALL {
            let m = render(script(), &c, locale, 7);
            assert_eq!(m.embeds[0].tone, Some(Tone::Warning));
            let quote = m.embeds[1].description.clone().unwrap();
            assert!(quote.contains(&GuidelineDoc::for_locale(locale).point("1.4").unwrap().text));
            assert!(m.embeds[0].description.clone().unwrap().contains(&t(
                locale,
                "channel.answered-no",
                &[("point", "1.4")]
            )));
            let back = m.components.iter().flatten().find(|c| c.custom_id() == "nc:7:back").unwrap();
            assert!(
                matches!(back, Component::Button { label, .. } if *label == t(locale, "channel.answer-again", &[]))
            );
        }
        // Typing nothing is refused; an explanation is stored as no + how.
        assert_eq!(c.advance(script(), text("   "), ME).unwrap_err().key, "channel.text-empty");
        let how = "Vi publiserer ikkje bilete før samtykke ligg føre skriftleg.";
        let (c, p) = c.advance(script(), text(how), ME).unwrap();
        assert_eq!((c.step.as_deref(), p), (Some("confidentiality"), Progress::Ask));
        assert_eq!(c.answers["privacy"], Answer::YesNo { yes: false, how: how.into() });
        let (c, _) = run(c, happy_events()[8..].to_vec());
        assert!(c.is_complete(script()));
        assert_eq!(flagged_points(script(), &c.answers), vec!["1.4".to_string()]);
        let fields = summary_fields(script(), &c.answers, Locale::Nn);
        let privacy = fields.iter().find(|f| f.name.contains("1.4")).unwrap();
        assert_eq!(privacy.value, t(Locale::Nn, "channel.answer-no", &[("how", how)]));
        let m = render(script(), &c, Locale::En, 7);
        assert_eq!(m.embeds[0].tone, Some(Tone::Warning));
        assert!(m.embeds[0].description.clone().unwrap().contains(&t(
            Locale::En,
            "channel.summary-flagged",
            &[("points", "1.4")]
        )));
        // The user may instead go back and answer again.
        let (c, _) =
            run(at_step("privacy"), vec![Event::No, Event::Back, Event::Yes, text("Samtykkeskjema i arkivet.")]);
        assert_eq!(c.answers["privacy"], Answer::YesNo { yes: true, how: "Samtykkeskjema i arkivet.".into() });
    }

    #[test]
    fn text_is_cleaned_and_its_length_checked() {
        let c = at_step("purpose");
        assert_eq!(c.advance(script(), text(""), ME).unwrap_err().key, "channel.text-empty");
        assert_eq!(c.advance(script(), text(" \u{200B}\u{202E} \n"), ME).unwrap_err().key, "channel.text-empty");
        let short = c.advance(script(), text("Kort"), ME).unwrap_err();
        assert_eq!(
            short,
            Rejection { key: "channel.text-too-short", args: vec![("min", "10".into()), ("len", "4".into())] }
        );
        let long = "å".repeat(601);
        let r = c.advance(script(), text(&long), ME).unwrap_err();
        assert_eq!(
            r,
            Rejection { key: "channel.text-too-long", args: vec![("max", "600".into()), ("len", "601".into())] }
        );
        assert!(r.message(Locale::Nn).contains("600") && r.message(Locale::Nn).contains("601"));
        assert!(r.message(Locale::En).contains("600") && r.message(Locale::En).contains("601"));
        let (ok, _) = c.advance(script(), text(&"å".repeat(600)), ME).unwrap();
        assert_eq!(ok.answers["purpose"], Answer::Text("å".repeat(600)));
        let (ok, _) = c
            .advance(script(), text("\u{FEFF}Nå\u{200D}r \u{202A}ungdomen\u{202C}\r\nder\tdei er\u{7}  "), ME)
            .unwrap();
        assert_eq!(ok.answers["purpose"], Answer::Text("Når ungdomen\nder dei er".into()));
        assert_eq!(clean_text("\u{2066}a\u{2069}\u{E0041}b\u{00AD}c"), "abc");
    }

    #[test]
    fn people_and_the_head_are_checked() {
        let c = at_step("responsible");
        let one = c.advance(script(), Event::People(vec![ME]), ME).unwrap_err();
        assert_eq!(
            one,
            Rejection { key: "channel.people-too-few", args: vec![("min", "2".into()), ("count", "1".into())] }
        );
        let same_twice = c.advance(script(), Event::People(vec![ALICE, ALICE]), ME).unwrap_err();
        assert_eq!(same_twice.key, "channel.people-too-few", "two distinct people are needed");
        let many: Vec<u64> = (1..=11).collect();
        assert_eq!(c.advance(script(), Event::People(many), ME).unwrap_err().key, "channel.people-too-many");
        let typed = c.advance(script(), text(" Kari Nordmann, Ola "), ME).unwrap_err();
        assert_eq!(typed, Rejection { key: NEEDS_PEOPLE_LOOKUP, args: vec![("text", "Kari Nordmann, Ola".into())] });
        let (ok, _) = c.advance(script(), Event::People(vec![ALICE, ME, ALICE]), ME).unwrap();
        assert_eq!(ok.answers["responsible"], Answer::People(vec![ALICE, ME]));

        let c = at_step("head");
        assert_eq!(c.advance(script(), Event::People(vec![ME]), ME).unwrap_err().key, "channel.not-yourself");
        assert_eq!(c.advance(script(), Event::People(vec![]), ME).unwrap_err().key, "channel.person-exactly-one");
        let two = c.advance(script(), Event::People(vec![HEAD, ALICE]), ME).unwrap_err();
        assert_eq!(two, Rejection { key: "channel.person-exactly-one", args: vec![("count", "2".into())] });
        assert_eq!(c.advance(script(), text("Avdelingsleiaren"), ME).unwrap_err().key, NEEDS_PEOPLE_LOOKUP);
        let (ok, p) = c.advance(script(), Event::People(vec![HEAD, HEAD]), ME).unwrap();
        assert_eq!((ok.answers["head"].clone(), p), (Answer::Person(HEAD), Progress::Summary));
    }

    #[test]
    fn other_platform_asks_for_its_name() {
        let c = Conversation::start();
        let (c, p) = c.advance(script(), Event::Choose("other".into()), ME).unwrap();
        assert_eq!(
            (c.step.as_deref(), c.pending.clone(), p),
            (Some("platform"), Some(Pending::OtherName { value: "other".into() }), Progress::Ask)
        );
        let m = render(script(), &c, Locale::Nn, 1);
        let question = &script().step("platform").unwrap().option("other").unwrap().other.as_ref().unwrap().question;
        assert!(m.embeds[0].description.clone().unwrap().contains(&question.nn));
        assert_eq!(c.advance(script(), text(""), ME).unwrap_err().key, "channel.text-empty");
        assert_eq!(c.advance(script(), text(&"m".repeat(51)), ME).unwrap_err().key, "channel.text-too-long");
        let (c, p) = c.advance(script(), text(" Mastodon "), ME).unwrap();
        assert_eq!((c.step.as_deref(), p), (Some("name"), Progress::Ask));
        assert_eq!(c.answers["platform"], Answer::Choice { value: "other".into(), other: Some("Mastodon".into()) });
        let field = answer_text(script().step("platform").unwrap(), c.answers.get("platform"), Locale::En);
        assert_eq!(field, "Another platform: Mastodon");
        // Unknown values are refused; a typed platform name counts as choosing it.
        let start = Conversation::start();
        assert_eq!(
            start.advance(script(), Event::Choose("myspace".into()), ME).unwrap_err().key,
            "channel.unknown-choice"
        );
        assert_eq!(start.advance(script(), text("Myspace"), ME).unwrap_err().key, "channel.use-buttons");
        let (c, _) = start.advance(script(), text(" tiktok "), ME).unwrap();
        assert_eq!(c.answers["platform"], Answer::Choice { value: "tiktok".into(), other: None });
        let (c, _) = start.advance(script(), text("anna plattform"), ME).unwrap();
        assert_eq!(c.pending, Some(Pending::OtherName { value: "other".into() }));
    }

    #[test]
    fn cancel_works_everywhere_and_submit_needs_everything() {
        for c in [Conversation::start(), at_step("privacy"), run(at_step("privacy"), vec![Event::No]).0, at_summary()] {
            let (after, p) = c.advance(script(), Event::Cancel, ME).unwrap();
            assert_eq!((after, p), (c.clone(), Progress::Cancelled));
        }
        let mut incomplete = at_summary();
        incomplete.answers.remove("resources");
        assert!(!incomplete.is_complete(script()));
        assert_eq!(incomplete.advance(script(), Event::Submit, ME).unwrap_err().key, "channel.incomplete");
        let m = render(script(), &incomplete, Locale::Nn, 1);
        let submit = m.components.iter().flatten().find(|c| c.custom_id() == "nc:1:submit").unwrap();
        assert!(matches!(submit, Component::Button { disabled: true, .. }));
        assert_eq!(at_step("name").advance(script(), Event::Submit, ME).unwrap_err().key, "channel.not-now");
    }

    /// The event of a conversation action as it comes in a custom id.
    fn ev(action: &str, values: &[String]) -> Option<Event> {
        match RequestId::parse(&format!("nc:1:{action}"))? {
            RequestId::Conversation { action, .. } => event_from_action(&action, values),
            _ => None,
        }
    }

    #[test]
    fn actions_become_events() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(ev("choose:facebook", &[]), Some(Event::Choose("facebook".into())));
        assert_eq!(ev("choose", &v(&["youtube"])), Some(Event::Choose("youtube".into())));
        assert_eq!(ev("choose", &[]), None);
        assert_eq!(ev("choose:", &[]), None);
        assert_eq!(ev("yes", &[]), Some(Event::Yes));
        assert_eq!(ev("no", &[]), Some(Event::No));
        assert_eq!(ev("confirm", &[]), Some(Event::Confirm));
        assert_eq!(ev("back", &[]), Some(Event::Back));
        assert_eq!(ev("cancel", &[]), None, "cancel asks first");
        assert_eq!(ev("cancel-yes", &[]), Some(Event::Cancel));
        assert_eq!(ev("submit", &[]), Some(Event::Submit));
        assert_eq!(ev("edit", &v(&["purpose"])), Some(Event::Edit("purpose".into())));
        assert_eq!(ev("edit:head", &[]), Some(Event::Edit("head".into())));
        assert_eq!(ev("edit", &v(&[""])), None);
        assert_eq!(ev("yes:please", &[]), None);
        assert_eq!(ev("start", &[]), None);
        assert_eq!(ev("", &[]), None);
        let conv = |id: &str| match RequestId::parse(id) {
            Some(RequestId::Conversation { request, action }) => Some((request, action)),
            _ => None,
        };
        assert_eq!(conv("nc:42:choose:x"), Some((42, Action::Choose(Some("x".into())))));
        assert_eq!(conv("nc:-3:back"), Some((-3, Action::Back)));
        assert_eq!(conv("nc:start"), None);
        assert_eq!(conv("gl:42:back"), None);
        assert_eq!(conv("ncx:42:back"), None);
        // Every custom id the renderer makes parses back into an event.
        for c in every_state() {
            for locale in Locale::ALL {
                for comp in render(script(), &c, locale, 99).components.iter().flatten() {
                    let (id, action) = conv(comp.custom_id()).unwrap();
                    assert_eq!(id, 99);
                    let values = match comp {
                        Component::StringSelect { options, .. } => vec![options[0].value.clone()],
                        _ => Vec::new(),
                    };
                    // Cancel asks first (the workflow answers it); its confirmation is the event.
                    let action = if action == Action::Cancel { Action::CancelConfirm } else { action };
                    assert!(event_from_action(&action, &values).is_some(), "{}", comp.custom_id());
                }
            }
        }
    }

    /// Answers that use every limit of the script to the full.
    fn longest_answers() -> BTreeMap<String, Answer> {
        let mut out = BTreeMap::new();
        for s in &script().steps {
            let a = match &s.kind {
                StepKind::Choice { options } => {
                    let o = options.iter().find(|o| o.other.is_some()).unwrap_or(&options[0]);
                    Answer::Choice { value: o.value.clone(), other: o.other.as_ref().map(|d| "Ø".repeat(d.max)) }
                }
                StepKind::Text { max, .. } => Answer::Text("Ø".repeat(*max)),
                StepKind::YesNoHow { max, .. } => Answer::YesNo { yes: false, how: "Ø".repeat(*max) },
                StepKind::People { max, .. } => Answer::People((0..*max as u64).map(|i| u64::MAX - i).collect()),
                StepKind::Person => Answer::Person(u64::MAX),
                StepKind::Confirm => Answer::Confirmed,
            };
            out.insert(s.id.clone(), a);
        }
        out
    }

    /// Every kind of state: each step with and without answers, each follow-up, editing,
    /// the summary (empty, complete, longest), and a step the script does not know.
    fn every_state() -> Vec<Conversation> {
        let mut out = Vec::new();
        let full = longest_answers();
        for s in &script().steps {
            let mut pendings = vec![None];
            match &s.kind {
                StepKind::Choice { .. } => pendings.push(Some(Pending::OtherName { value: "other".into() })),
                StepKind::YesNoHow { .. } => {
                    pendings.push(Some(Pending::How { yes: true }));
                    pendings.push(Some(Pending::How { yes: false }));
                }
                _ => {}
            }
            // A follow-up that does not belong to the step.
            pendings.push(Some(Pending::OtherName { value: "nope".into() }));
            for pending in pendings {
                for answers in [BTreeMap::new(), full.clone()] {
                    for back_to_summary in [false, true] {
                        out.push(Conversation {
                            step: Some(s.id.clone()),
                            answers: answers.clone(),
                            back_to_summary,
                            pending: pending.clone(),
                            decided_answers: None,
                        });
                    }
                }
            }
        }
        out.push(Conversation::default());
        out.push(Conversation { answers: full.clone(), ..Conversation::default() });
        out.push(at_summary());
        out.push(Conversation { step: Some("gone".into()), answers: full.clone(), ..Conversation::default() });
        out.push(Conversation { step: Some("gone".into()), ..Conversation::default() });
        out
    }

    #[test]
    fn every_message_keeps_within_discord_limits() {
        for c in every_state() {
            for locale in Locale::ALL {
                for rid in [0, 1, i64::MAX, i64::MIN] {
                    let m = render(script(), &c, locale, rid);
                    assert!(m.check_limits().is_empty(), "{:?} {locale:?}: {:?}", c.step, m.check_limits());
                    for comp in m.components.iter().flatten() {
                        assert!(comp.custom_id().len() <= limits::CUSTOM_ID);
                        assert!(comp.custom_id().starts_with(&format!("nc:{rid}:")));
                    }
                    assert!(m.ephemeral);
                }
            }
        }
    }

    #[test]
    fn every_question_shows_its_guideline_point_and_the_navigation() {
        for (i, s) in script().steps.iter().enumerate() {
            let c = Conversation { step: Some(s.id.clone()), ..Conversation::default() };
            for locale in Locale::ALL {
                let m = render(script(), &c, locale, 5);
                let title = m.embeds[0].title.clone().unwrap();
                assert!(title.contains(s.label.get(locale)) && title.contains(&format!("{}", i + 1)));
                assert!(m.embeds[0].description.clone().unwrap().contains(s.question.get(locale)));
                if let Some(p) = &s.point {
                    let quote = &m.embeds[1];
                    assert_eq!(quote.tone, Some(Tone::Guideline));
                    let point = GuidelineDoc::for_locale(locale).point(p).unwrap();
                    assert!(quote.description.clone().unwrap().contains(&point.text), "{} quotes {p}", s.id);
                    assert_eq!(quote.footer.clone(), Some(source_line(locale)), "English is marked unofficial");
                }
                let buttons: Vec<(&str, ButtonStyle, bool)> = m
                    .components
                    .iter()
                    .flatten()
                    .filter_map(|c| match c {
                        Component::Button { custom_id, style, disabled, .. } => {
                            Some((custom_id.as_str(), *style, *disabled))
                        }
                        _ => None,
                    })
                    .collect();
                assert!(buttons.contains(&("nc:5:back", ButtonStyle::Secondary, i == 0)), "{}", s.id);
                assert!(buttons.contains(&("nc:5:cancel", ButtonStyle::Danger, false)));
                match &s.kind {
                    StepKind::YesNoHow { .. } => {
                        assert!(buttons.contains(&("nc:5:yes", ButtonStyle::Success, false)));
                        assert!(buttons.contains(&("nc:5:no", ButtonStyle::Danger, false)));
                    }
                    StepKind::Confirm => assert!(buttons.iter().any(|b| b.0 == "nc:5:confirm")),
                    StepKind::Choice { options } => {
                        // Eight platforms: a select, not buttons.
                        assert!(options.len() > 5);
                        let select = m.components.iter().flatten().find(|c| c.custom_id() == "nc:5:choose").unwrap();
                        assert!(
                            matches!(select, Component::StringSelect { options: o, .. } if o.len() == options.len())
                        );
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(script().steps.iter().filter(|s| s.point.is_some()).count(), 11);
    }

    #[test]
    fn few_choices_are_buttons() {
        let src = r#"
            title = { nn = "T", en = "T" }
            [[steps]]
            id = "a"
            kind = "choice"
            label = { nn = "A", en = "A" }
            question = { nn = "Q", en = "Q" }
            [[steps.options]]
            value = "one"
            label = { nn = "Ein", en = "One" }
            [[steps.options]]
            value = "two"
            label = { nn = "To", en = "Two" }
        "#;
        let s = Script::parse(src).unwrap();
        let c = Conversation { step: Some("a".into()), ..Conversation::default() };
        let m = render(&s, &c, Locale::En, 3);
        assert_eq!(m.components[0].len(), 2);
        assert!(
            matches!(&m.components[0][1], Component::Button { custom_id, label, .. } if custom_id == "nc:3:choose:two" && label == "Two")
        );
        let (c, p) = c.advance(&s, Event::Choose("two".into()), ME).unwrap();
        assert_eq!((c.step, p), (None, Progress::Summary));
    }

    #[test]
    fn the_summary_lists_every_answer_with_its_point() {
        let c = at_summary();
        for locale in Locale::ALL {
            let fields = summary_fields(script(), &c.answers, locale);
            assert_eq!(fields.len(), script().steps.len());
            for (f, s) in fields.iter().zip(&script().steps) {
                assert!(f.name.contains(s.label.get(locale)));
                for p in s.points() {
                    assert!(f.name.contains(p), "{} shows point {p}", s.id);
                }
            }
            assert_eq!(fields[9].value, format!("<@{ME}>, <@{ALICE}>"));
            assert_eq!(fields[12].value, format!("<@{HEAD}>"));
            assert_eq!(fields[0].value, "Instagram");
            let m = render(script(), &c, locale, 8);
            assert_eq!(m.embeds[0].fields, fields);
            let Component::StringSelect { custom_id, options, .. } = &m.components[0][0] else { panic!("edit select") };
            assert_eq!(custom_id, "nc:8:edit");
            let ids: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
            let steps: Vec<&str> = script().steps.iter().map(|s| s.id.as_str()).collect();
            assert_eq!(ids, steps);
            let submit = m.components[1].iter().find(|c| c.custom_id() == "nc:8:submit").unwrap();
            assert!(matches!(submit, Component::Button { disabled: false, style: ButtonStyle::Success, .. }));
        }
        // The longest answers the script allows fit without clipping.
        let longest = longest_answers();
        for locale in Locale::ALL {
            let fields = summary_fields(script(), &longest, locale);
            for (f, s) in fields.iter().zip(&script().steps) {
                assert_eq!(f.value, answer_text(s, longest.get(&s.id), locale), "{} is not clipped", s.id);
            }
        }
        // A budget that is too small clips the longest values, never to nothing.
        let mut fields = summary_fields(script(), &longest, Locale::Nn);
        fit_budget(&mut fields, 2000);
        let total: usize = fields.iter().map(|f| f.name.chars().count() + f.value.chars().count()).sum();
        assert!(total <= 2000, "{total}");
        assert!(fields.iter().all(|f| !f.value.is_empty()));
        assert_eq!(fields[10].value, t(Locale::Nn, "channel.confirmed", &[]), "short values are kept");
    }

    #[test]
    fn conversation_survives_a_json_round_trip() {
        let mut states = every_state();
        states.push(run(at_step("privacy"), vec![Event::No]).0);
        for c in states {
            let json = serde_json::to_string(&c).unwrap();
            let back: Conversation = serde_json::from_str(&json).unwrap();
            assert_eq!(back, c, "{json}");
        }
        let c = at_summary();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["answers"]["head"], serde_json::json!({ "person": HEAD }));
        assert_eq!(json["answers"]["branding"], serde_json::json!("confirmed"));
        // Older or partial JSON still loads.
        let partial: Conversation = serde_json::from_str(r#"{"step":"name"}"#).unwrap();
        assert_eq!(partial.step.as_deref(), Some("name"));
        assert!(partial.answers.is_empty() && partial.pending.is_none());
    }

    #[test]
    fn advance_never_panics_on_any_event_at_any_state() {
        let events = || {
            vec![
                text(""),
                text("   "),
                text("facebook"),
                text("Eit heilt vanleg svar på spørsmålet."),
                text(&"x".repeat(5000)),
                text("\u{0}\u{200B}\u{202E}"),
                Event::Choose("facebook".into()),
                Event::Choose("other".into()),
                Event::Choose("".into()),
                Event::Choose("nope".into()),
                Event::Yes,
                Event::No,
                Event::Confirm,
                Event::People(vec![]),
                Event::People(vec![ME]),
                Event::People(vec![HEAD]),
                Event::People(vec![ME, ALICE]),
                Event::People((0..100).collect()),
                Event::Back,
                Event::Edit("purpose".into()),
                Event::Edit("".into()),
                Event::Edit("gone".into()),
                Event::Cancel,
                Event::Submit,
            ]
        };
        let mut accepted = 0;
        for c in every_state() {
            for e in events() {
                for requester in [ME, HEAD, 0] {
                    match c.advance(script(), e.clone(), requester) {
                        Ok((next, p)) => {
                            accepted += 1;
                            // The new state is consistent with the progress it reports.
                            match p {
                                Progress::Ask => {
                                    assert!(next.step.as_deref().is_some_and(|s| script().step(s).is_some()))
                                }
                                Progress::Summary => assert!(next.step.is_none()),
                                Progress::Submitted => assert!(next.is_complete(script())),
                                Progress::Cancelled => assert_eq!(next, c),
                            }
                            for locale in Locale::ALL {
                                assert!(render(script(), &next, locale, 1).check_limits().is_empty());
                            }
                        }
                        Err(r) => {
                            assert!(r.key.starts_with("channel."));
                            for locale in Locale::ALL {
                                assert!(crate::i18n::catalogue(locale).contains_key(r.key), "{} has no message", r.key);
                                assert!(!r.message(locale).contains('{'), "{} has an unfilled placeholder", r.key);
                            }
                        }
                    }
                }
            }
        }
        assert!(accepted > 1000);
        // A script with no steps at all does not panic either.
        let empty = Script { title: script().title.clone(), steps: Vec::new() };
        for e in events() {
            let _ = Conversation::default().advance(&empty, e.clone(), ME);
            let _ = Conversation { step: Some("x".into()), ..Conversation::default() }.advance(&empty, e, ME);
        }
        let _ = render(&empty, &Conversation::default(), Locale::Nn, 1);
    }
}
