//! Typed custom ids: every variant of every feature round-trips through its one formatter and
//! parser and fits Discord's 100 characters (property tests), and forged or stale ids get the
//! kind "this has expired" answer from the router, never an apology or an answer.

mod dbs;

use std::sync::Arc;

use proptest::prelude::*;
use somebot::channel_request::ids::{Action, Decision, RequestId, ReviewAnswer};
use somebot::channel_request::{Script, StepKind};
use somebot::clock::ManualClock;
use somebot::core::ids::{CustomId, Start, MAX_LEN};
use somebot::core::{Actor, Input, Reply};
use somebot::guideline::ids::{GuidelineId, MAX_POINTS};
use somebot::guideline::GuidelineDoc;
use somebot::i18n::{t, Locale};
use somebot::threat_report::ids::{self as report_ids, Form, ReportId};
use somebot::App;

fn round_trips<T: CustomId + PartialEq + std::fmt::Debug>(id: &T) -> Result<(), TestCaseError> {
    let text = id.format();
    prop_assert!(text.len() <= MAX_LEN, "{text} is {} characters", text.len());
    prop_assert!(T::owns(&text), "{text} carries its own prefix");
    let parsed = T::parse(&text);
    prop_assert_eq!(parsed.as_ref(), Some(id), "{}", text);
    Ok(())
}

fn locale() -> impl Strategy<Value = Locale> {
    prop::sample::select(Locale::ALL.to_vec())
}

fn guideline_id() -> impl Strategy<Value = GuidelineId> {
    let doc = GuidelineDoc::official();
    let sections: Vec<String> = doc.sections.iter().map(|s| s.id.clone()).collect();
    let points: Vec<String> = doc.points.iter().map(|p| p.id.clone()).collect();
    // Points in document order, as the answers list them.
    let subset = prop::sample::subsequence(points, 1..=MAX_POINTS);
    prop_oneof![
        (prop::sample::select(sections.clone()), locale(), 0usize..1000)
            .prop_map(|(section, locale, page)| GuidelineId::Page { section, locale, page }),
        (locale(), subset.clone()).prop_map(|(locale, points)| GuidelineId::Share { locale, points }),
        subset.prop_map(|points| GuidelineId::Official { points }),
        (0i64..i64::MAX, any::<bool>()).prop_map(|(question, up)| GuidelineId::Vote { question, up }),
        (0i64..i64::MAX).prop_map(|question| GuidelineId::Pick { question }),
        (0i64..i64::MAX, prop::sample::select(sections))
            .prop_map(|(question, section)| GuidelineId::ReviewPoints { question, section }),
        (0i64..i64::MAX).prop_map(|question| GuidelineId::ReviewOutOfScope { question }),
        (0i64..i64::MAX).prop_map(|question| GuidelineId::ReviewSkip { question }),
    ]
}

fn conversation_action() -> impl Strategy<Value = Action> {
    let script = Script::new_channel();
    let mut values: Vec<String> = Vec::new();
    for s in &script.steps {
        if let StepKind::Choice { options } = &s.kind {
            values.extend(options.iter().map(|o| o.value.clone()));
        }
    }
    let steps: Vec<String> = script.steps.iter().map(|s| s.id.clone()).collect();
    prop_oneof![
        prop::option::of(prop::sample::select(values)).prop_map(Action::Choose),
        prop::option::of(prop::sample::select(steps)).prop_map(Action::Edit),
        prop::sample::select(vec![
            Action::Yes,
            Action::No,
            Action::Confirm,
            Action::Back,
            Action::Cancel,
            Action::CancelConfirm,
            Action::Submit,
            Action::Resume,
            Action::Fresh,
        ]),
    ]
}

fn request_id() -> impl Strategy<Value = RequestId> {
    let decision = prop::sample::select(Decision::ALL.to_vec());
    prop_oneof![
        (any::<i64>(), conversation_action()).prop_map(|(request, action)| RequestId::Conversation { request, action }),
        (any::<i64>(), decision.clone()).prop_map(|(request, decision)| RequestId::Approval { request, decision }),
        (any::<i64>(), decision).prop_map(|(request, decision)| RequestId::Reason { request, decision }),
        (any::<i64>(), prop::sample::select(vec![ReviewAnswer::Active, ReviewAnswer::Retire]))
            .prop_map(|(request, answer)| RequestId::Review { request, answer }),
    ]
}

fn report_id() -> impl Strategy<Value = ReportId> {
    prop_oneof![
        (any::<i64>(), prop::sample::select(report_ids::Action::ALL.to_vec()))
            .prop_map(|(report, action)| ReportId::Report { report, action }),
        (any::<i64>(), prop::sample::select(Form::ALL.to_vec()))
            .prop_map(|(report, form)| ReportId::Form { report, form }),
        Just(ReportId::List),
    ]
}

proptest! {
    #[test]
    fn guideline_ids_round_trip(id in guideline_id()) {
        round_trips(&id)?;
    }

    #[test]
    fn channel_request_ids_round_trip(id in request_id()) {
        round_trips(&id)?;
    }

    #[test]
    fn report_ids_round_trip(id in report_id()) {
        round_trips(&id)?;
    }

    /// No id of one feature is taken for another's: each parses only as its own type.
    #[test]
    fn features_own_disjoint_ids(g in guideline_id(), r in request_id(), t in report_id()) {
        prop_assert!(RequestId::parse(&g.format()).is_none() && ReportId::parse(&g.format()).is_none());
        prop_assert!(GuidelineId::parse(&r.format()).is_none() && ReportId::parse(&r.format()).is_none());
        prop_assert!(GuidelineId::parse(&t.format()).is_none() && RequestId::parse(&t.format()).is_none());
        for id in [g.format(), r.format(), t.format()] {
            prop_assert!(Start::parse(&id).is_none(), "{id}");
        }
    }
}

#[test]
fn start_buttons_round_trip() {
    for s in Start::ALL {
        assert_eq!(Start::parse(&s.format()), Some(s));
        assert!(s.format().len() <= MAX_LEN);
    }
}

fn actor(user: u64) -> Actor {
    Actor {
        user_id: user,
        guild_id: Some(42),
        channel_id: Some(1),
        locale: Locale::En,
        display_name: "Kari".into(),
        can_manage_guild: false,
        role_ids: Vec::new(),
    }
}

/// Ids that are malformed, forged, of an unknown kind, or name what no longer exists.
fn forged() -> Vec<String> {
    let mut ids = vec![
        "gl".into(),
        "gl:".into(),
        "gl:page".into(),
        "gl:page:9:nn:0".into(),
        "gl:page:1:xx:0".into(),
        "gl:page:1:nn:-1".into(),
        "gl:share:nn:9z".into(),
        "gl:official:".into(),
        "gl:vote:abc:up".into(),
        "gl:vote:5:sideways".into(),
        "gl:vote:5:up:extra".into(),
        "nc".into(),
        "nc:x:back".into(),
        "nc:5".into(),
        "nc:5:".into(),
        "nc:5:teleport".into(),
        "nc:5:yes:please".into(),
        "nc:5:choose:".into(),
        "nca:5:head-approves".into(),
        "ncr:5:maybe".into(),
        "ncm:5:off-changes".into(),
        "rt:5:explode".into(),
        "rt:5".into(),
        "rtl:1:show".into(),
        "rtm:5:report".into(),
        "go:setup".into(),
        "zz:1:2".into(),
        String::new(),
        ":::".into(),
        "x".repeat(100),
    ];
    // Well-formed, but the request or report does not exist (deleted, or from another database).
    ids.extend(["nc:999999:back", "nca:999999:head-approve", "ncr:999999:active", "rt:999999:send"].map(String::from));
    ids
}

#[tokio::test]
async fn forged_and_stale_ids_get_the_kind_expired_answer() {
    for db in dbs::all().await {
        let app = App::new(db.store.clone(), Arc::new(ManualClock::at(1_795_392_000_000)));
        let expired = t(Locale::En, "common.expired", &[]);
        for id in forged() {
            // `ncm:` and `rtm:` are forms: pressed as a button they are as stale as a form
            // submitted under a button's id.
            let inputs = [
                Input::Component { custom_id: id.clone(), values: vec!["1".into()] },
                Input::ModalSubmit { custom_id: id.clone(), fields: vec![("reason".into(), "because".into())] },
            ];
            for input in inputs {
                let o = app.handle(&actor(7), input.clone()).await;
                match &o.reply {
                    Reply::Message(m) => {
                        assert_eq!(m.content.as_deref(), Some(expired.as_str()), "{}: {id:?} ({input:?})", db.label)
                    }
                    other => panic!("{}: {id:?} answered {other:?}", db.label),
                }
                assert!(o.effects.is_empty() && o.queued.is_empty(), "{id:?} caused effects");
            }
        }
        db.cleanup().await;
    }
}
