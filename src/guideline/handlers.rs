//! `/guideline`: section quotes, single points, free-text questions, autocomplete, sharing,
//! feedback and the list of gaps for the document's owner.
//!
//! Custom ids: [`GuidelineId`].

use crate::core::errors::{HandlerError, HandlerResult, UserError};
use crate::core::ids::{CustomId, Start};
use crate::core::reply::clip;
use crate::core::{
    ActionRow, Actor, Bookkeeping, ButtonStyle, Choice, CommandInput, Component, Embed, Message, Outcome, Reply, Tone,
};
use crate::ctx::Ctx;
use crate::guideline::commands::MAX_QUESTION;
use crate::guideline::ids::GuidelineId;
use crate::guideline::{render, search, GuidelineDoc};
use crate::i18n::{t, Locale};

/// `/guideline <subcommand>`.
pub async fn command(cx: &Ctx<'_>, actor: &Actor, cmd: &CommandInput) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    match cmd.sub() {
        Some("ask") => {
            let question = cmd.str_option("question").unwrap_or_default();
            ask(cx, actor, question).await
        }
        Some("unanswered") => unanswered(cx, actor).await,
        Some("review") => {
            let guild = may_review(cx, actor).await?;
            Ok(Outcome::reply(Reply::Message(review_message(cx, locale, guild, Review::Start).await?)))
        }
        Some(slug) => {
            let doc = GuidelineDoc::official();
            let section = doc.section(slug).ok_or_else(|| UserError::new("guideline.unknown-section"))?;
            match cmd.str_option("point") {
                Some(id) => point(locale, &section.id, id),
                None => Ok(Outcome::reply(Reply::Message(section_page(locale, &section.id, 0)))),
            }
        }
        None => Err(UserError::new("guideline.unknown-section").into()),
    }
}

/// One page of a section, with page buttons when there is more than one.
fn section_page(locale: Locale, section_id: &str, page: usize) -> Message {
    let pages = render::section_pages(locale, section_id);
    let n = pages.len();
    let page = page.min(n.saturating_sub(1));
    let ids: Vec<String> = GuidelineDoc::official().points_of(section_id).map(|p| p.id.clone()).collect();
    let mut rows: Vec<ActionRow> = Vec::new();
    if n > 1 {
        let mut nav = Vec::new();
        if page > 0 {
            nav.push(Component::button(
                GuidelineId::Page { section: section_id.to_string(), locale, page: page - 1 }.format(),
                t(locale, "guideline.previous", &[]),
                ButtonStyle::Secondary,
            ));
        }
        if page + 1 < n {
            nav.push(Component::button(
                GuidelineId::Page { section: section_id.to_string(), locale, page: page + 1 }.format(),
                t(locale, "guideline.next", &[]),
                ButtonStyle::Secondary,
            ));
        }
        rows.push(nav);
    }
    rows.push(share_row(locale, &ids));
    if let Some(row) = cross_links(locale, &ids) {
        rows.push(row);
    }
    Message {
        content: None,
        embeds: pages.into_iter().nth(page).into_iter().collect(),
        components: rows,
        ephemeral: true,
        attachments: Vec::new(),
    }
}

/// Share (and, for translations, "official text") buttons.
fn share_row(locale: Locale, ids: &[String]) -> ActionRow {
    let mut row = vec![Component::button(
        GuidelineId::Share { locale, points: ids.to_vec() }.format(),
        t(locale, "guideline.share", &[]),
        ButtonStyle::Secondary,
    )];
    if !GuidelineDoc::for_locale(locale).official {
        row.push(Component::button(
            GuidelineId::Official { points: ids.to_vec() }.format(),
            t(locale, "guideline.show-official", &[]),
            ButtonStyle::Secondary,
        ));
    }
    row
}

/// Buttons that lead from a quote to the workflow it describes: 3h to `/report-threat`,
/// section 1 to `/new-channel`.
fn cross_links(locale: Locale, ids: &[String]) -> Option<ActionRow> {
    let mut row = Vec::new();
    if ids.iter().any(|id| id == "3h") {
        row.push(Component::button(
            Start::ReportThreat.format(),
            t(locale, "guideline.start-report", &[]),
            ButtonStyle::Primary,
        ));
    }
    if ids.iter().any(|id| id == "1" || id.starts_with("1.")) {
        row.push(Component::button(
            Start::NewChannel.format(),
            t(locale, "guideline.start-channel", &[]),
            ButtonStyle::Primary,
        ));
    }
    (!row.is_empty()).then_some(row)
}

/// `/guideline <section> point:<id>`: the document's own numbering within the section (`7`,
/// `a`) or a full id (`1.7`, `2a`). A point of another section is shown too, with a note saying
/// where it stands.
fn point(locale: Locale, section_id: &str, id: &str) -> HandlerResult<Outcome> {
    let doc = GuidelineDoc::official();
    let p = doc
        .point_in_section(section_id, id)
        .ok_or_else(|| UserError::new("guideline.unknown-point").arg("point", clip(id, 20)))?;
    let content = (p.section != section_id).then(|| {
        t(
            locale,
            "guideline.point-in-other-section",
            &[("point", &p.id), ("section", &render::section_title(locale, &p.section))],
        )
    });
    let ids = vec![p.id.clone()];
    let title = render::section_title(locale, &p.section);
    let mut components = vec![share_row(locale, &ids)];
    components.extend(cross_links(locale, &ids));
    Ok(Outcome::reply(Reply::Message(Message {
        content,
        embeds: render::points_pages(locale, title, &[p.id.as_str()]),
        components,
        ephemeral: true,
        attachments: Vec::new(),
    })))
}

/// The document's own number of a point within its section (`7` for 1.7, `a` for 2a), if it
/// has one.
fn own_number(p: &crate::guideline::GuidelinePoint) -> Option<String> {
    let n = crate::guideline::doc::normalize_id(&p.label);
    (!n.is_empty()).then_some(n)
}

/// Autocomplete for `point` of `/guideline <section>`: the section's points, each offered in
/// both forms (`7 · 1.7 – text`), matched by either form or by a word of the text; a full id of
/// another section is offered too, marked with its section.
pub fn point_autocomplete(locale: Locale, section_id: &str, typed: &str) -> Outcome {
    let doc = GuidelineDoc::for_locale(locale);
    let official = GuidelineDoc::official();
    let wanted = crate::guideline::doc::normalize_id(typed);
    let words = typed.trim().to_lowercase();
    // `where_` names the section of a point of another one, before the text (which is clipped).
    let name = |p: &crate::guideline::GuidelinePoint, where_: &str| {
        let text = p.text.replace('\n', " ");
        let label = match own_number(p) {
            Some(n) => format!("{n} · {}{where_} – {text}", p.id),
            None => format!("{}{where_} – {text}", p.id),
        };
        clip(&label, 100)
    };
    let mut choices: Vec<Choice> = doc
        .points_of(section_id)
        .filter(|p| {
            wanted.is_empty()
                || own_number(p).is_some_and(|n| n.starts_with(&wanted))
                || p.id.starts_with(&wanted)
                || (words.chars().count() >= 3 && p.text.to_lowercase().contains(&words))
        })
        .map(|p| Choice { name: name(p, ""), value: p.id.clone() })
        .collect();
    if let Some(other) = official.point(&wanted).filter(|p| p.section != section_id) {
        if let Some(p) = doc.point(&other.id) {
            let section = render::section_title(locale, &p.section);
            choices.insert(0, Choice { name: name(p, &format!(" ({section})")), value: p.id.clone() });
        }
    }
    choices.truncate(crate::core::reply::limits::CHOICES);
    Outcome::reply(Reply::Choices(choices))
}

/// `/guideline ask question:<text>`.
pub async fn ask(cx: &Ctx<'_>, actor: &Actor, question: &str) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    // Searched and logged without control or invisible characters (PostgreSQL refuses NUL).
    let question = crate::core::text::clean_text(question);
    let question = question.as_str();
    if question.chars().count() < 3 {
        return Err(UserError::new("guideline.question-too-short").into());
    }
    if question.chars().count() > usize::from(MAX_QUESTION) {
        return Err(UserError::new("guideline.question-too-long").arg("max", MAX_QUESTION.to_string()).into());
    }
    // In a server, its confirmed questions (`/guideline review`) join the example memory. The
    // answer does not wait on a database in trouble: it falls back to the built-in memory.
    let extra = match actor.guild_id {
        Some(guild) => server_examples(cx, guild).await.unwrap_or_else(|e| {
            tracing::warn!(error = ?e, "reading the server's confirmed examples failed");
            Vec::new()
        }),
        None => Vec::new(),
    };
    let outcome = search::search_with_examples(question, &extra);
    let ids: Vec<String> = outcome.results.iter().map(|h| h.id.clone()).collect();
    // The question is logged after the answer is sent (see `Bookkeeping`): its id is made here.
    let now = cx.now();
    let qid = crate::store::questions::new_question_id(now);
    tracing::info!(question_id = qid, declined = outcome.declined, points = %ids.join(","), "guideline question answered");
    let mut reply = Outcome::reply(Reply::Message(answer(locale, &outcome, Some(qid))));
    reply.after.push(Bookkeeping::RecordQuestion {
        id: qid,
        asked_at: now,
        locale,
        question: question.to_string(),
        point_ids: ids,
        declined: outcome.declined,
        guild_id: actor.guild_id,
    });
    Ok(reply)
}

/// The answer to a question, as the bot shows it. `question_id` adds the feedback buttons.
pub fn answer(locale: Locale, outcome: &search::SearchOutcome, question_id: Option<i64>) -> Message {
    if outcome.declined || outcome.results.is_empty() {
        return declined(locale, outcome.topic.as_deref());
    }
    let ids: Vec<String> = outcome.results.iter().map(|h| h.id.clone()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let title = t(locale, "guideline.answer-title", &[]);
    let mut components = vec![share_row(locale, &ids)];
    if let Some(qid) = question_id {
        components.push(vec![
            Component::Button {
                custom_id: GuidelineId::Vote { question: qid, up: true }.format(),
                label: t(locale, "guideline.helpful", &[]),
                style: ButtonStyle::Secondary,
                emoji: Some("👍".into()),
                disabled: false,
            },
            Component::Button {
                custom_id: GuidelineId::Vote { question: qid, up: false }.format(),
                label: t(locale, "guideline.not-helpful", &[]),
                style: ButtonStyle::Secondary,
                emoji: Some("👎".into()),
                disabled: false,
            },
        ]);
    }
    components.extend(cross_links(locale, &ids));
    if let (true, Some(qid)) = (outcome.uncertain && !outcome.alternatives.is_empty(), question_id) {
        components.push(vec![did_you_mean(locale, qid, &outcome.alternatives)]);
    }
    Message {
        content: Some(t(locale, "guideline.answer-intro", &[])),
        embeds: render::points_pages(locale, title, &refs),
        components,
        ephemeral: true,
        attachments: Vec::new(),
    }
}

/// The "did you mean" menu of an uncertain answer: the next candidates, each with its id and
/// the start of its text as a one-line summary.
fn did_you_mean(locale: Locale, question: i64, alternatives: &[search::Hit]) -> Component {
    let doc = GuidelineDoc::for_locale(locale);
    let options = alternatives
        .iter()
        .filter_map(|h| doc.point(&h.id))
        .map(|p| crate::core::SelectOption {
            value: p.id.clone(),
            label: clip(&format!("{} – {}", p.id, p.text.replace('\n', " ")), 100),
            description: None,
            default: false,
        })
        .collect();
    Component::StringSelect {
        custom_id: GuidelineId::Pick { question }.format(),
        placeholder: Some(t(locale, "guideline.did-you-mean", &[])),
        options,
        min_values: 1,
        max_values: 1,
    }
}

/// The line that names whom to ask about a declined question of `topic` (see
/// `prompts/search/topics.toml`); a topic without a line of its own names nobody.
fn ask_line(locale: Locale, topic: Option<&str>) -> String {
    // Named one by one, so the text check sees every key; the test below checks that every
    // topic of topics.toml has its own line.
    let key = match topic {
        Some("personnel") => "guideline.ask-personnel",
        Some("it") => "guideline.ask-it",
        Some("website") => "guideline.ask-website",
        Some("guideline") => "guideline.ask-guideline",
        _ => "guideline.ask-nobody",
    };
    t(locale, key, &[])
}

/// The plain "nothing fits" answer: the sections and whom to ask, by the question's topic
/// (personnel matters: the manager or HR; the web site: the web editors; the guidelines: the
/// communications officer). Never a made-up answer.
fn declined(locale: Locale, topic: Option<&str>) -> Message {
    let doc = GuidelineDoc::for_locale(locale);
    let sections: Vec<String> =
        doc.sections.iter().map(|s| format!("• `/guideline {}`: {}. {}", s.slug, s.id, s.title)).collect();
    Message {
        content: None,
        embeds: vec![Embed {
            title: Some(t(locale, "guideline.declined-title", &[])),
            description: Some(t(
                locale,
                "guideline.declined-body",
                &[("sections", &sections.join("\n")), ("ask", &ask_line(locale, topic))],
            )),
            tone: Some(Tone::Info),
            ..Embed::default()
        }],
        components: Vec::new(),
        ephemeral: true,
        attachments: Vec::new(),
    }
}

/// Autocomplete for `question`: the points that match what has been typed so far.
pub fn autocomplete(locale: Locale, typed: &str) -> Outcome {
    let doc = GuidelineDoc::for_locale(locale);
    let typed = typed.trim();
    if typed.chars().count() < 3 {
        return Outcome::reply(Reply::Choices(Vec::new()));
    }
    let mut choices: Vec<Choice> = search::suggest(typed, 5)
        .into_iter()
        .filter_map(|h| doc.point(&h.id))
        .map(|p| Choice {
            name: clip(&format!("{} – {}", p.id, p.text.replace('\n', " ")), 100),
            // Choosing a suggestion asks about that point: the value is the question text, so
            // the asker's own words stay what they typed when they do not pick one.
            value: clip(&format!("{} {}", p.id, p.text.replace('\n', " ")), 100),
        })
        .collect();
    // What the user typed is always the first choice, so Enter asks exactly that.
    choices.insert(0, Choice { name: clip(typed, 100), value: clip(typed, 100) });
    choices.truncate(crate::core::reply::limits::CHOICES);
    Outcome::reply(Reply::Choices(choices))
}

/// `/guideline unanswered` (Manage Server): declined and down-voted questions.
pub async fn unanswered(cx: &Ctx<'_>, actor: &Actor) -> HandlerResult<Outcome> {
    if !actor.can_manage_guild {
        return Err(UserError::new("common.needs-manage-server").into());
    }
    let gaps = cx.store.question_gaps(25).await?;
    let locale = actor.locale;
    if gaps.is_empty() {
        return Ok(Outcome::ephemeral(t(locale, "guideline.no-gaps", &[])));
    }
    let lines: Vec<String> = gaps
        .iter()
        .map(|q| {
            let what = if q.declined {
                t(locale, "guideline.gap-declined", &[])
            } else {
                t(locale, "guideline.gap-down", &[("points", &q.point_ids.join(", "))])
            };
            format!("• {} — {}", clip(&q.question.replace('\n', " "), 180), what)
        })
        .collect();
    let pages = render::paginate(&lines, 4000);
    let embeds = pages
        .into_iter()
        .take(1)
        .map(|d| Embed {
            title: Some(t(locale, "guideline.gaps-title", &[("count", &gaps.len().to_string())])),
            description: Some(d),
            tone: Some(Tone::Info),
            ..Embed::default()
        })
        .collect();
    Ok(Outcome::reply(Reply::Message(Message {
        content: None,
        embeds,
        components: Vec::new(),
        ephemeral: true,
        attachments: Vec::new(),
    })))
}

/// The questions the officers of `guild` confirmed, as examples for the search's memory (one
/// marked out of scope is an out-of-scope example that names nobody).
async fn server_examples(cx: &Ctx<'_>, guild: u64) -> HandlerResult<Vec<search::Example>> {
    Ok(cx
        .store
        .confirmed_examples(guild)
        .await?
        .into_iter()
        .map(|e| search::Example { text: e.question, points: e.point_ids, topic: None })
        .collect())
}

/// Who may use `/guideline review`: in a server, its communications officers (their role) and
/// those with Manage Server. Returns the server.
async fn may_review(cx: &Ctx<'_>, actor: &Actor) -> HandlerResult<u64> {
    let Some(guild) = actor.guild_id else {
        return Err(UserError::new("guideline.review-in-server").into());
    };
    // The communications role is read from the store (the org feature sets it up).
    if actor.can_manage_guild || cx.store.is_officer(guild, actor.user_id, &actor.role_ids).await? {
        Ok(guild)
    } else {
        Err(UserError::new("guideline.review-not-officer").into())
    }
}

/// Where the review goes on from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Review {
    /// The newest question waiting.
    Start,
    /// The question after this one, which was skipped and stays in the queue.
    Skipped(i64),
    /// The question after this one, which is being reviewed now (the step that writes it is
    /// not committed yet, so it is left out here).
    Reviewed(i64),
}

/// The review message: one question waiting in `guild`, why it waits, a menu of points per
/// section to confirm the right one(s), and the out-of-scope and skip buttons.
async fn review_message(cx: &Ctx<'_>, locale: Locale, guild: u64, from: Review) -> HandlerResult<Message> {
    let (before, reviewed) = match from {
        Review::Start => (None, None),
        Review::Skipped(q) => (Some(q), None),
        Review::Reviewed(q) => (Some(q), Some(q)),
    };
    let waiting = cx.store.review_count(guild, reviewed).await?;
    let next = match cx.store.review_next(guild, before).await? {
        Some(item) if Some(item.question.id) != reviewed => Some(item),
        _ => None,
    };
    let Some(item) = next else {
        let key = if waiting > 0 { "guideline.review-only-skipped" } else { "guideline.review-empty" };
        return Ok(Message::ephemeral_text(t(locale, key, &[])));
    };
    let q = &item.question;
    let mut why = Vec::new();
    if q.declined {
        why.push(t(locale, "guideline.review-declined", &[]));
    } else if q.vote < 0 {
        why.push(t(locale, "guideline.review-voted-down", &[("points", &q.point_ids.join(", "))]));
    } else {
        why.push(t(locale, "guideline.review-answered", &[("points", &q.point_ids.join(", "))]));
    }
    if !item.chosen.is_empty() {
        why.push(t(locale, "guideline.review-chosen", &[("points", &item.chosen.join(", "))]));
    }
    why.push(t(locale, "guideline.review-how", &[]));
    let quoted = clip(&q.question, 1500).lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n");
    let doc = GuidelineDoc::for_locale(locale);
    let mut components: Vec<ActionRow> = GuidelineDoc::official()
        .sections
        .iter()
        .map(|s| {
            let options: Vec<crate::core::SelectOption> = doc
                .points_of(&s.id)
                .take(crate::core::reply::limits::SELECT_OPTIONS)
                .map(|p| crate::core::SelectOption {
                    value: p.id.clone(),
                    label: clip(&format!("{} – {}", p.id, p.text.replace('\n', " ")), 100),
                    description: None,
                    default: false,
                })
                .collect();
            let n = options.len() as u8;
            vec![Component::StringSelect {
                custom_id: GuidelineId::ReviewPoints { question: q.id, section: s.id.clone() }.format(),
                placeholder: Some(t(locale, "guideline.review-section", &[("section", &s.id)])),
                options,
                min_values: 1,
                max_values: n,
            }]
        })
        .collect();
    components.push(vec![
        Component::button(
            GuidelineId::ReviewOutOfScope { question: q.id }.format(),
            t(locale, "guideline.review-out", &[]),
            ButtonStyle::Danger,
        ),
        Component::button(
            GuidelineId::ReviewSkip { question: q.id }.format(),
            t(locale, "guideline.review-skip", &[]),
            ButtonStyle::Secondary,
        ),
    ]);
    Ok(Message {
        content: None,
        embeds: vec![Embed {
            title: Some(t(locale, "guideline.review-title", &[("count", &waiting.to_string())])),
            description: Some(format!("{quoted}\n\n{}", why.join("\n"))),
            tone: Some(Tone::Info),
            ..Embed::default()
        }],
        components,
        ephemeral: true,
        attachments: Vec::new(),
    })
}

/// Confirms a reviewed question for `guild`: answered by `points`, or out of scope when they
/// are empty. It joins the server's example memory at once; the next question is shown.
async fn confirm(cx: &Ctx<'_>, actor: &Actor, guild: u64, qid: i64, points: Vec<String>) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    let q = cx.store.question(qid).await?.ok_or_else(|| HandlerError::User(UserError::new("common.expired")))?;
    // A question asked in another server is not this server's to review.
    if q.guild_id.is_some_and(|g| g != guild) {
        return Err(UserError::new("common.expired").into());
    }
    let mut next = review_message(cx, locale, guild, Review::Reviewed(qid)).await?;
    let saved = if points.is_empty() {
        t(locale, "guideline.review-marked-out", &[])
    } else {
        t(locale, "guideline.review-confirmed", &[("points", &points.join(", "))])
    };
    // Above what comes next (the next question, or that none is left).
    next.content = Some(match next.content.take() {
        Some(rest) => format!("{saved}\n\n{rest}"),
        None => saved,
    });
    let mut step = cx.step().await?;
    let now = step.now();
    step.tx.confirm_example(guild, qid, &points, now).await?;
    step.commit(Outcome::reply(Reply::Update(next))).await
}

/// Buttons on guideline answers.
pub async fn component(cx: &Ctx<'_>, actor: &Actor, id: GuidelineId, values: &[String]) -> HandlerResult<Outcome> {
    let locale = actor.locale;
    match id {
        GuidelineId::Page { section, page, .. } => {
            Ok(Outcome::reply(Reply::Update(section_page(locale, &section, page))))
        }
        GuidelineId::Share { locale: lang, points } => {
            // Shared in the language the answer was shown in, publicly, without the question.
            let refs: Vec<&str> = points.iter().map(String::as_str).collect();
            let title = t(lang, "guideline.shared-title", &[]);
            Ok(Outcome::reply(Reply::Message(Message {
                content: Some(t(lang, "guideline.shared-by", &[("name", &actor.display_name)])),
                embeds: render::points_pages(lang, title, &refs).into_iter().take(10).collect(),
                components: Vec::new(),
                ephemeral: false,
                attachments: Vec::new(),
            })))
        }
        GuidelineId::Official { points } => {
            let refs: Vec<&str> = points.iter().map(String::as_str).collect();
            let title = GuidelineDoc::official().title.clone();
            Ok(Outcome::reply(Reply::Message(Message {
                content: None,
                embeds: render::points_pages(Locale::Nn, title, &refs).into_iter().take(10).collect(),
                components: Vec::new(),
                ephemeral: true,
                attachments: Vec::new(),
            })))
        }
        GuidelineId::Vote { question: qid, up } => {
            let vote = if up { 1 } else { -1 };
            let mut found = cx.store.vote_question(qid, vote).await?;
            // The question is logged just after its answer is sent (the id holds its time); a
            // click within moments of the answer can beat that write, so a recent question is
            // waited for a little (the adapter defers past 1.5 s).
            let waited = std::time::Instant::now();
            while !found
                && (0..60_000).contains(&(cx.now() - (qid >> 20)))
                && waited.elapsed() < std::time::Duration::from_secs(2)
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                found = cx.store.vote_question(qid, vote).await?;
            }
            if !found {
                return Err(UserError::new("common.expired").into());
            }
            let key = if vote > 0 { "guideline.thanks-up" } else { "guideline.thanks-down" };
            Ok(Outcome::ephemeral(t(locale, key, &[])))
        }
        GuidelineId::Pick { question: qid } => {
            // The chosen point is shown, and the choice kept as a candidate example (question and
            // point, no user id) for the owner's review.
            let doc = GuidelineDoc::official();
            let p = values
                .first()
                .and_then(|v| doc.point(v))
                .ok_or_else(|| HandlerError::User(UserError::new("common.expired")))?;
            let mut found = cx.store.record_candidate(qid, &p.id, cx.now()).await?;
            // As for a vote: the question's log entry may be a moment behind its answer.
            let waited = std::time::Instant::now();
            while !found
                && (0..60_000).contains(&(cx.now() - (qid >> 20)))
                && waited.elapsed() < std::time::Duration::from_secs(2)
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                found = cx.store.record_candidate(qid, &p.id, cx.now()).await?;
            }
            if !found {
                return Err(UserError::new("common.expired").into());
            }
            let mut shown = point(locale, &p.section, &p.id)?;
            if let Reply::Message(m) = &mut shown.reply {
                m.content = Some(t(locale, "guideline.picked", &[]));
            }
            Ok(shown)
        }
        GuidelineId::ReviewPoints { question, section } => {
            let guild = may_review(cx, actor).await?;
            let doc = GuidelineDoc::official();
            // Points of the menu's section only, in document order; anything else is stale.
            let points: Vec<String> =
                doc.points_of(&section).filter(|p| values.contains(&p.id)).map(|p| p.id.clone()).collect();
            if points.is_empty() || points.len() != values.len() {
                return Err(UserError::new("common.expired").into());
            }
            confirm(cx, actor, guild, question, points).await
        }
        GuidelineId::ReviewOutOfScope { question } => {
            let guild = may_review(cx, actor).await?;
            confirm(cx, actor, guild, question, Vec::new()).await
        }
        GuidelineId::ReviewSkip { question } => {
            let guild = may_review(cx, actor).await?;
            Ok(Outcome::reply(Reply::Update(review_message(cx, locale, guild, Review::Skipped(question)).await?)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(o: HandlerResult<Outcome>) -> Message {
        match o.expect("an answer").reply {
            Reply::Message(m) => m,
            other => panic!("a message expected, got {other:?}"),
        }
    }

    fn quoted(m: &Message) -> String {
        m.embeds.iter().map(|e| format!("{:?} {:?} {:?}", e.title, e.description, e.fields)).collect()
    }

    #[test]
    fn a_point_by_the_documents_own_numbering() {
        let doc = GuidelineDoc::official();
        let text = |id: &str| doc.point(id).unwrap().text.clone();
        // `/guideline creating-channels point:7` is 1.7, `/guideline on-behalf point:a` is 2a.
        let m = message(point(Locale::Nn, "1", "7"));
        assert!(m.content.is_none() && m.ephemeral);
        assert!(quoted(&m).contains(&text("1.7")[..40]), "{}", quoted(&m));
        let m = message(point(Locale::Nn, "2", "a"));
        assert!(quoted(&m).contains(&text("2a")[..20]), "{}", quoted(&m));
        // The full id works as before.
        assert_eq!(message(point(Locale::Nn, "1", "1.7")).embeds, message(point(Locale::Nn, "1", "7")).embeds);
        assert!(point(Locale::Nn, "1", "z").is_err());
    }

    #[test]
    fn a_point_of_another_section_is_shown_with_a_note() {
        let m = message(point(Locale::En, "2", "1.7"));
        let note = m.content.clone().expect("a note");
        assert!(note.contains("1.7") && note.contains(&render::section_title(Locale::En, "1")), "{note}");
        let en = GuidelineDoc::for_locale(Locale::En);
        assert!(quoted(&m).contains(&en.point("1.7").unwrap().text[..30]), "{}", quoted(&m));
        assert_eq!(m.components.len(), 2, "share and the new-channel button, as for any point of section 1");
        let m = message(point(Locale::Nn, "1", "3h"));
        assert!(m.content.expect("a note").contains("3h"));
    }

    #[test]
    fn a_declined_question_names_whom_to_ask_by_topic() {
        let body = |q: &str, l: Locale| {
            let outcome = search::search(q);
            assert!(outcome.declined, "{q}: {outcome:?}");
            let m = answer(l, &outcome, None);
            m.embeds[0].description.clone().unwrap_or_default()
        };
        let nn_hr = t(Locale::Nn, "guideline.ask-personnel", &[]);
        let nn_officer = t(Locale::Nn, "guideline.ask-guideline", &[]);
        let salary = body("Når blir løna utbetalt denne månaden?", Locale::Nn);
        assert!(salary.contains(&nn_hr) && !salary.contains(&nn_officer), "{salary}");
        let en = body("How many days of sick leave can I take without a doctor's note?", Locale::En);
        assert!(en.contains(&t(Locale::En, "guideline.ask-personnel", &[])), "{en}");
        // Every topic has its line in both languages, and none is a key left untranslated.
        for topic in search::topics() {
            for l in Locale::ALL {
                let line = ask_line(l, Some(topic));
                assert!(!line.is_empty() && !line.starts_with("guideline."), "{topic} {l:?}: {line}");
                assert_ne!(line, t(l, "guideline.ask-nobody", &[]), "{topic} has no line of its own");
            }
        }
        assert_eq!(ask_line(Locale::En, None), t(Locale::En, "guideline.ask-nobody", &[]));
        assert_eq!(ask_line(Locale::En, Some("canteen")), t(Locale::En, "guideline.ask-nobody", &[]));
    }

    fn choices(o: Outcome) -> Vec<Choice> {
        match o.reply {
            Reply::Choices(c) => c,
            other => panic!("choices expected, got {other:?}"),
        }
    }

    #[test]
    fn point_autocomplete_offers_both_forms() {
        let c = choices(point_autocomplete(Locale::Nn, "1", "7"));
        assert_eq!(c[0].value, "1.7");
        assert!(c[0].name.starts_with("7 · 1.7 – "), "{}", c[0].name);
        assert_eq!(choices(point_autocomplete(Locale::Nn, "1", "1.7"))[0].value, "1.7");
        let c = choices(point_autocomplete(Locale::En, "2", "a"));
        assert_eq!(c.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["2a"]);
        assert!(c[0].name.starts_with("a · 2a – "), "{}", c[0].name);
        // Section 1 lists all its points with nothing typed: the opening and 1.1 to 1.11.
        let all = choices(point_autocomplete(Locale::Nn, "1", ""));
        assert_eq!(all.len(), 12);
        assert!(all.iter().all(|c| c.name.chars().count() <= 100 && c.value.len() <= 100));
        // A full id of another section is offered, marked with its section.
        let c = choices(point_autocomplete(Locale::En, "1", "3h"));
        assert_eq!(c[0].value, "3h");
        assert!(c[0].name.contains(&render::section_title(Locale::En, "3")[..10]), "{}", c[0].name);
        // Words of the text match too.
        let c = choices(point_autocomplete(Locale::Nn, "3", "e-post"));
        assert!(c.iter().any(|c| c.value == "3f"), "{c:?}");
    }

    #[test]
    fn cross_links_follow_the_points() {
        let l = Locale::Nn;
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let row = cross_links(l, &ids(&["3h"])).unwrap();
        assert_eq!(Start::parse(row[0].custom_id()), Some(Start::ReportThreat));
        let row = cross_links(l, &ids(&["1.7"])).unwrap();
        assert_eq!(Start::parse(row[0].custom_id()), Some(Start::NewChannel));
        assert!(cross_links(l, &ids(&["2c"])).is_none());
    }

    #[test]
    fn section_messages_keep_within_limits() {
        for locale in Locale::ALL {
            for s in &GuidelineDoc::official().sections {
                let m = section_page(locale, &s.id, 0);
                assert!(m.check_limits().is_empty(), "{:?}", m.check_limits());
            }
        }
    }
}
