//! The three features through Discord: `/guideline` (sections, points, questions, votes,
//! sharing), `/setup` and the DM hint, `/new-channel` from the first question to the register
//! (with a restart in the middle), and `/report-threat` with evidence to the manager.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{assert_no_pings, callback_data, custom_ids, dm, embed_text, last_dm, Bot, EPHEMERAL, WAIT};
use crate::support::{self, ids, StandIn};

#[tokio::test]
async fn guideline_sections_and_points_are_quoted_privately() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let ir = s
        .slash_command(ids::EMPLOYEE, "guideline", json!([{"type": 1, "name": "private-profile", "options": []}]))
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert_no_pings(&data);
    let text = embed_text(&data);
    for id in ["3a", "3b", "3c", "3d", "3e", "3f", "3g", "3h"] {
        assert!(text.contains(&format!("**{id}**")), "{id} missing: {text}");
    }
    assert!(text.contains("Den kommunale e-postadressa di skal ikkje verte nytta i privat samanheng."));
    assert!(text.contains("Retningslinjer for sosiale medium i Volda kommune (01.01.2020)"));
    let ids_ = custom_ids(&data);
    assert!(ids_.iter().any(|c| c.starts_with("gl:share:nn:")), "{ids_:?}");
    assert!(ids_.contains(&"go:report-threat".to_string()), "3h offers /report-threat: {ids_:?}");

    // One point.
    let ir = s
        .slash_command(
            ids::EMPLOYEE,
            "guideline",
            json!([{"type": 1, "name": "private-profile", "options": [{"type": 3, "name": "point", "value": "3f"}]}]),
        )
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("**3f**") && !text.contains("**3h**"), "{text}");

    // English users get the unofficial translation, marked, with the official text one click away.
    let ir = s
        .slash_command(
            ids::ENGLISH_EMPLOYEE,
            "guideline",
            json!([{"type": 1, "name": "creating-channels", "options": []}]),
        )
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("Unofficial English translation"), "{text}");
    assert!(text.contains("approved by the municipality's communications officer"));
    let official = custom_ids(&data).into_iter().find(|c| c.starts_with("gl:official:")).expect("official text button");
    assert!(custom_ids(&data).contains(&"go:new-channel".to_string()), "section 1 offers /new-channel");
    let ir = s.button(ids::ENGLISH_EMPLOYEE, &official, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(embed_text(&data).contains("Oppretting av nye kanalar skal avklarast med avdelingsleiar"));
    bot.stop().await;
}

#[tokio::test]
async fn questions_are_answered_shared_voted_on_and_listed_for_admins() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let ask = |q: &str| json!([{"type": 1, "name": "ask", "options": [{"type": 3, "name": "question", "value": q}]}]);
    let ir = s
        .slash_command(ids::EMPLOYEE, "guideline", ask("Kan eg bruke jobbmailen når eg registrerer meg på Finn?"))
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    let text = embed_text(&data);
    assert!(text.contains("**3f**"), "the e-mail point answers: {text}");
    let buttons = custom_ids(&data);
    let down =
        buttons.iter().find(|c| c.starts_with("gl:vote:") && c.ends_with(":down")).expect("vote buttons").clone();
    let share = buttons.iter().find(|c| c.starts_with("gl:share:")).expect("share button").clone();

    // Sharing posts the quote publicly, without the question.
    let ir = s.button(ids::EMPLOYEE, &share, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap_or(0) & EPHEMERAL, 0, "shared answers are public");
    assert!(embed_text(&data).contains("**3f**"));
    assert!(!serde_json::to_string(&data).unwrap().contains("Finn"), "the question stays private");
    assert_no_pings(&data);

    // A down-vote is stored and shows up for the admins.
    let ir = s.button(ids::EMPLOYEE, &down, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", ask("Kor lang er lunsjpausen eigentleg?")).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    // A lunch break is a personnel matter: the manager or HR, not the communications officer.
    let said = embed_text(&data);
    assert!(said.contains("leiaren din eller personalavdelinga (HR)"), "declined answers say who to ask: {said}");
    assert!(!said.contains("informasjonskonsulenten"), "{said}");
    assert!(custom_ids(&data).iter().all(|c| !c.starts_with("gl:vote")));

    let unanswered = json!([{"type": 1, "name": "unanswered", "options": []}]);
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", unanswered.clone()).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(data["content"].as_str().unwrap_or("").contains("Administrer server"), "refused: {data}");
    // Questions are logged just after their answers: wait for the second one to be written.
    let deadline = Instant::now() + WAIT;
    while bot.store.question_gaps(10).await.unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the declined question was never logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ir = s.slash_command(ids::ADMIN, "guideline", unanswered).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("lunsjpausen") && text.contains("Finn"), "{text}");
    assert_eq!(bot.store.question_gaps(10).await.unwrap().len(), 2);

    // Autocomplete suggests points while typing, within Discord's 25 choices.
    let ir = s
        .autocomplete(ids::EMPLOYEE, "guideline", json!([{"type": 1, "name": "ask", "options": [{"type": 3, "name": "question", "value": "teieplikt", "focused": true}]}]))
        .await;
    let cb = s.callback_for(&ir, WAIT).await;
    let data = callback_data(&cb, 8);
    let choices = data["choices"].as_array().unwrap();
    assert!(!choices.is_empty() && choices.len() <= 25, "{data}");
    bot.stop().await;
}

#[tokio::test]
async fn setup_is_for_admins_and_dms_get_a_hint() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let show = json!([{"type": 1, "name": "show", "options": []}]);
    let ir = s.slash_command(ids::EMPLOYEE, "setup", show.clone()).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(data["content"].as_str().unwrap().contains("Administrer server"));
    let set = json!([{"type": 1, "name": "communications-role", "options": [{"type": 8, "name": "role", "value": ids::ROLE_INFORMASJONSKONSULENT.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_no_pings(&data);
    let ir = s.slash_command(ids::ADMIN, "setup", show).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(serde_json::to_string(&data).unwrap().contains(&ids::ROLE_INFORMASJONSKONSULENT.to_string()));

    let m = s.dm_message(ids::EMPLOYEE, "hei").await;
    let reply =
        s.wait_for(|r| r.method == "POST" && r.path == format!("/channels/{}/messages", m.channel_id), WAIT).await;
    assert!(reply.json().unwrap()["content"].as_str().unwrap().contains("/help"));
    bot.stop().await;
}

#[tokio::test]
async fn a_channel_request_runs_through_discord_with_a_restart_in_the_middle() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Admin setup: the officers' role.
    let set = json!([{"type": 1, "name": "communications-role", "options": [{"type": 8, "name": "role", "value": ids::ROLE_INFORMASJONSKONSULENT.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    s.callback_for(&ir, WAIT).await;
    let set = json!([{"type": 1, "name": "review-channel", "options": [{"type": 7, "name": "channel", "value": ids::KOMMUNIKASJON.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    s.callback_for(&ir, WAIT).await;

    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    s.wait_for(|r| r.method == "POST" && r.path == "/users/@me/channels", WAIT).await;
    let q1 = s
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.path.starts_with("/channels/")
                    && r.json().is_some_and(|b| b.to_string().contains("nc:"))
            },
            WAIT,
        )
        .await;
    let select_id =
        custom_ids(q1.json().unwrap()).into_iter().find(|c| c.ends_with(":choose")).expect("a platform menu");
    let ir = s.select(ids::EMPLOYEE, &select_id, vec!["facebook".into()], 3).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);

    for answer in ["Volda bibliotek", "Biblioteket", "Fleire lånarar til biblioteket"] {
        dm(s, ids::EMPLOYEE, answer).await;
    }
    // The bot restarts in the middle of the conversation; the next answer carries on.
    let bot = bot.restart().await;
    let s = &bot.standin;
    let next = dm(s, ids::EMPLOYEE, "Vaksne i Volda kommune").await;
    assert!(next.to_string().contains("1.3"), "after a restart the dialogue question (1.3) follows: {next}");
    dm(s, ids::EMPLOYEE, "Vi svarar på kommentarar kvar dag").await;
    for how in ["Vi spør alltid skriftleg om samtykke", "Vi publiserer aldri noko om enkeltpersonar"] {
        let id = custom_ids(&last_dm(s, ids::EMPLOYEE)).into_iter().find(|c| c.ends_with(":yes")).unwrap();
        let ir = s.button(ids::EMPLOYEE, &id, None).await;
        callback_data(&s.callback_for(&ir, WAIT).await, 7);
        dm(s, ids::EMPLOYEE, how).await;
    }
    dm(s, ids::EMPLOYEE, "To timar i veka til oppfølging").await;
    let branding = dm(s, ids::EMPLOYEE, "Kari Nordmann, Lars Vik").await;
    for _ in 0..2 {
        let id = custom_ids(&last_dm(s, ids::EMPLOYEE)).into_iter().find(|c| c.ends_with(":confirm")).unwrap();
        let ir = s.button(ids::EMPLOYEE, &id, None).await;
        callback_data(&s.callback_for(&ir, WAIT).await, 7);
    }
    assert!(branding.to_string().contains("1.9"));
    let summary = dm(s, ids::EMPLOYEE, "Ola Hansen").await;
    let submit = custom_ids(&summary).into_iter().find(|c| c.ends_with(":submit")).expect("the summary");
    let ir = s.button(ids::EMPLOYEE, &submit, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 7);
    assert!(data.to_string().contains("KANAL-"), "{data}");

    // The department head decides in a DM.
    let to_head = s
        .wait_for(|r| r.method == "POST" && r.json().is_some_and(|b| b.to_string().contains("head-approve")), WAIT)
        .await;
    let approve = custom_ids(to_head.json().unwrap()).into_iter().find(|c| c.ends_with("head-approve")).unwrap();
    let ir = s.button(ids::DEPARTMENT_HEAD, &approve, None).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);

    // The officers review in the review channel; anyone else who clicks there is refused.
    let to_officer = s
        .wait_for(|r| r.method == "POST" && r.path == format!("/channels/{}/messages", ids::KOMMUNIKASJON), WAIT)
        .await;
    assert_no_pings(to_officer.json().unwrap());
    let reject = custom_ids(to_officer.json().unwrap()).into_iter().find(|c| c.ends_with("off-reject")).unwrap();
    let ir = s.button(ids::UNRELATED, &reject, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL, "the refusal is private");
    assert!(data["content"].as_str().unwrap().contains("ikkje di"));
    // The officer asks for changes with a reason from a modal; the requester gets the summary.
    let changes = custom_ids(to_officer.json().unwrap()).into_iter().find(|c| c.ends_with("off-changes")).unwrap();
    let ir = s.button(ids::COMMS_OFFICER, &changes, None).await;
    let modal = callback_data(&s.callback_for(&ir, WAIT).await, 9);
    let modal_id = modal["custom_id"].as_str().unwrap().to_string();
    let mark = s.requests().len();
    let ir = s.modal_submit(ids::COMMS_OFFICER, &modal_id, &[("reason", "Skriv kven som tek over i feriane.")]).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    let dm_path = format!("/channels/{}/messages", s.dm_channel_of(ids::EMPLOYEE).unwrap());
    let told = s
        .wait_for(
            |r| r.path == dm_path && r.json().is_some_and(|b| b.to_string().contains("Skriv kven som tek over")),
            WAIT,
        )
        .await;
    assert_no_pings(told.json().unwrap());
    let summary = s
        .wait_for(
            |r| r.seq >= mark && r.path == dm_path && r.json().is_some_and(|b| b.to_string().contains(":submit")),
            WAIT,
        )
        .await;

    // Resubmitted: the head clears it again, and the officer approves it into the register.
    let submit = custom_ids(summary.json().unwrap()).into_iter().find(|c| c.ends_with(":submit")).unwrap();
    let before = s.requests().len();
    let ir = s.button(ids::EMPLOYEE, &submit, None).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    s.wait_for(|r| r.seq >= before && r.json().is_some_and(|b| b.to_string().contains("head-approve")), WAIT).await;
    let ir = s.button(ids::DEPARTMENT_HEAD, &approve, None).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 7);
    let review = format!("/channels/{}/messages", ids::KOMMUNIKASJON);
    let second = s.wait_for(|r| r.seq > before && r.method == "POST" && r.path == review, WAIT).await;
    let approve_officer = custom_ids(second.json().unwrap()).into_iter().find(|c| c.ends_with("off-approve")).unwrap();
    let ir = s.button(ids::COMMS_OFFICER, &approve_officer, None).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 7);
    assert!(data["content"].as_str().unwrap().contains("har godkjent"), "{data}");
    // A second click on the message as it was (a double click, or another officer at the same
    // moment) changes nothing.
    let ir = s.button(ids::COMMS_OFFICER, &approve_officer, second.response.clone()).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert!(data["content"].as_str().unwrap().contains("allereie"), "{data}");

    let ir = s.slash_command(ids::UNRELATED, "channels", json!([{"type": 1, "name": "list", "options": []}])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let text = embed_text(&data);
    assert!(text.contains("KANAL-2026-0001") && text.contains("Volda bibliotek"), "{text}");
    let rows = bot.store.channel_requests_of(ids::EMPLOYEE, &["approved"]).await.unwrap();
    assert_eq!(rows.len(), 1);
    bot.stop().await;
}

/// Every interaction request and callback body for `ir`, as text.
fn interaction_text(s: &StandIn, ir: &support::InteractionRef) -> String {
    s.requests_for(ir).iter().filter_map(|r| r.json().map(|j| j.to_string())).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn a_threat_report_with_evidence_reaches_the_manager_and_is_acknowledged() {
    const SECRET: &str = "Han truga meg i kommentarfeltet";
    let bot = Bot::start().await;
    let s = &bot.standin;
    let set = json!([{"type": 1, "name": "manager", "options": [
        {"type": 6, "name": "employee", "value": ids::EMPLOYEE.to_string()},
        {"type": 6, "name": "manager", "value": ids::DEPARTMENT_HEAD.to_string()}]}]);
    let ir = s.slash_command(ids::ADMIN, "setup", set).await;
    s.callback_for(&ir, WAIT).await;

    let bytes = b"PNG-ish evidence bytes".to_vec();
    let att = s.upload_attachment("skjermbilete.png", "image/png", &bytes);
    let ir =
        s.slash_command(ids::EMPLOYEE, "report-threat", json!([{"type": 11, "name": "evidence", "value": att}])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert!(data["content"].as_str().unwrap().contains("112"));
    let sha = somebot::threat_report::crypto::sha256_hex(&bytes);
    assert!(data["content"].as_str().unwrap().contains(&sha), "the evidence was copied: {data}");
    let write = custom_ids(&data).into_iter().find(|c| c.ends_with(":write")).unwrap();
    let id: i64 = write.split(':').nth(1).unwrap().parse().unwrap();
    let ir =
        s.button(ids::EMPLOYEE, &write, Some(json!({"components": data["components"].clone(), "flags": 64}))).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 9);
    let ir = s
        .modal_submit(
            ids::EMPLOYEE,
            &format!("rtm:{id}:report"),
            &[("what", SECRET), ("where", "Facebook https://fb.invalid/p/9"), ("when", "i dag"), ("ongoing", "ja")],
        )
        .await;
    s.callback_for(&ir, WAIT).await;
    let send = format!("rt:{id}:send");
    s.wait_for(|r| r.json().is_some_and(|b| b.to_string().contains(&send)), WAIT).await;
    assert!(interaction_text(s, &ir).contains(&ids::DEPARTMENT_HEAD.to_string()), "the manager is shown");
    let preview = s.requests_for(&ir).iter().rev().find_map(|r| r.json().cloned()).unwrap();
    let components =
        if preview["data"].is_object() { preview["data"]["components"].clone() } else { preview["components"].clone() };
    let ir = s.button(ids::EMPLOYEE, &send, Some(json!({"components": components, "flags": 64}))).await;
    s.callback_for(&ir, WAIT).await;
    s.wait_for(|r| r.json().is_some_and(|b| b.to_string().contains("TRUGSMAL-")), WAIT).await;

    // The manager gets it by DM, without pings.
    let ack = format!("rt:{id}:ack");
    let to_head =
        s.wait_for(|r| r.method == "POST" && r.json().is_some_and(|b| b.to_string().contains(&ack)), WAIT).await;
    assert_eq!(
        Some(to_head.path.clone()),
        s.dm_channel_of(ids::DEPARTMENT_HEAD).map(|c| format!("/channels/{c}/messages"))
    );
    assert!(to_head.json().unwrap().to_string().contains(SECRET));
    assert_no_pings(to_head.json().unwrap());
    // The evidence goes with it as the file it was (a multipart upload).
    let files = to_head.files();
    assert_eq!(files.len(), 1, "the evidence file is attached");
    assert_eq!((files[0].filename.as_deref(), files[0].data.as_slice()), (Some("skjermbilete.png"), bytes.as_slice()));

    // Someone else is refused, privately.
    let ir = s
        .button(ids::UNRELATED, &ack, Some(json!({"components": to_head.json().unwrap()["components"].clone()})))
        .await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    assert!(data["content"].as_str().unwrap().contains("ikkje til deg"));

    let ir = s.button(ids::DEPARTMENT_HEAD, &ack, None).await;
    s.callback_for(&ir, WAIT).await;
    let told = s
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.json().is_some_and(|b| b.to_string().contains("stadfesta"))
                    && r.path.starts_with("/channels/")
            },
            WAIT,
        )
        .await;
    let reporter_dm = format!("/channels/{}/messages", s.dm_channel_of(ids::EMPLOYEE).expect("the reporter's DM"));
    assert_eq!(told.path, reporter_dm, "the reporter is told by DM");
    let row = bot.store.report(id).await.unwrap().unwrap();
    assert_eq!(row.status, "acknowledged");
    assert!(row.has_evidence_data);
    assert_eq!(row.evidence.as_ref().and_then(|e| e.sha256.clone()), Some(sha));

    // No guild channel message carries report text.
    for r in s.requests() {
        let guild_channel =
            [ids::GENERAL, ids::KOMMUNIKASJON].iter().any(|c| r.path.starts_with(&format!("/channels/{c}/")));
        if guild_channel {
            assert!(!r.json().is_some_and(|b| b.to_string().contains(SECRET)), "report text in a channel: {}", r.path);
        }
    }
    for c in [ids::GENERAL, ids::KOMMUNIKASJON] {
        // Interaction answers sit in the channel too; those with report text are ephemeral.
        for m in s.messages_in(c).iter().filter(|m| m.to_string().contains(SECRET)) {
            assert_eq!(
                m["flags"].as_u64().unwrap_or(0) & EPHEMERAL,
                EPHEMERAL,
                "a visible message with report text: {m}"
            );
        }
    }
    bot.stop().await;
}
