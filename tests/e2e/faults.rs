//! What Discord or the network can do to the bot: a 5xx, a 429, a connection reset before or
//! after Discord stored the message, a failed or lost interaction answer, a slow post, a slow
//! attachment download, and gateway Reconnect and Invalid Session.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{assert_no_pings, begin_request, callback_data, copies_in_dm, dm, Bot, EPHEMERAL, WAIT};
use crate::support::ids;

/// Waits until the bot has recorded every outbox message as sent or given up.
async fn outbox_drained(bot: &Bot, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while bot.store.outbox_pending().await.unwrap() != 0 {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_dm_that_discord_refuses_with_a_5xx_is_retried_from_the_outbox() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Discord's message endpoint is down for the first attempt.
    s.fail_next("POST", "/channels/", 1, 502, json!({"message": "502: Bad Gateway", "code": 0}));
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    let data = callback_data(&s.callback_for(&ir, WAIT).await, 4);
    assert_eq!(data["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    let failed = s.wait_for(|r| r.injected_fault && r.path.starts_with("/channels/"), WAIT).await;
    assert_eq!(failed.status, 502);
    // The message stays in the outbox and the worker sends it after the backoff (5 s).
    let delivered = s
        .wait_for(
            |r| r.seq > failed.seq && !r.injected_fault && r.path == failed.path && r.status == 200,
            Duration::from_secs(20),
        )
        .await;
    assert!(delivered.json().unwrap().to_string().contains("nc:"), "the first question arrives");
    // The worker records the delivery right after Discord's answer.
    outbox_drained(&bot, WAIT, "the delivery was not recorded").await;
    bot.stop().await;
}

#[tokio::test]
async fn a_rate_limited_dm_is_retried_after_discords_retry_after() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Discord answers the first DM post with 429 and asks for 2.5 s.
    s.rate_limit_next("POST", "/channels/", 1, 2.5, false);
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let limited = s.wait_for(|r| r.injected_fault && r.status == 429, WAIT).await;
    let retried = s
        .wait_for(
            |r| r.seq > limited.seq && !r.injected_fault && r.path == limited.path && r.status == 200,
            Duration::from_secs(20),
        )
        .await;
    let waited = retried.at.duration_since(limited.at);
    assert!(waited >= Duration::from_millis(2_500), "retried after {waited:?}, before Discord's retry_after");
    // The outbox's own backoff would wait 5 s; the worker looks every second.
    assert!(waited < Duration::from_millis(4_600), "retried after {waited:?}: retry_after was not used");
    assert!(retried.json().unwrap().to_string().contains("nc:"), "the first question arrives");
    bot.stop().await;
}

#[tokio::test]
async fn a_connection_reset_loses_no_message() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // The connection drops, without an answer, when the bot posts the first question.
    s.reset_next("POST", "/channels/", 1);
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let reset = s.wait_for(|r| r.injected_fault && r.status == 0, WAIT).await;
    let delivered =
        s.wait_for(|r| r.seq > reset.seq && r.path == reset.path && r.status == 200, Duration::from_secs(20)).await;
    assert!(delivered.json().unwrap().to_string().contains("nc:"), "the first question arrives");
    outbox_drained(&bot, WAIT, "the delivery was not recorded").await;
    // Once, not twice: the question is in the DM channel one time.
    let copies = copies_in_dm(s, ids::EMPLOYEE, ":choose");
    assert_eq!(copies, 1);
    // The stand-in's server goes on serving after the dropped connection.
    let ir = s.slash_command(ids::EMPLOYEE, "help", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    bot.stop().await;
}

#[tokio::test]
async fn a_message_discord_stored_before_the_connection_dropped_is_not_sent_twice() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Discord posts the first question, but the answer is lost: the bot cannot tell it worked.
    s.reset_after_next("POST", "/channels/", 1);
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let lost = s.wait_for(|r| r.injected_fault && r.status == 0, WAIT).await;
    assert!(lost.response.is_some(), "the stand-in stored the message before dropping the connection");
    let first = lost.json().unwrap().clone();
    assert_eq!(first["enforce_nonce"], json!(true), "{first}");
    let nonce = first["nonce"].as_str().expect("a nonce").to_string();
    // The outbox tries again with the same nonce, and Discord hands back the stored message.
    let retry =
        s.wait_for(|r| r.seq > lost.seq && r.path == lost.path && r.status == 200, Duration::from_secs(20)).await;
    assert_eq!(retry.json().unwrap()["nonce"], json!(nonce), "a retry repeats its nonce");
    assert_eq!(
        retry.response.as_ref().unwrap()["id"],
        lost.response.as_ref().unwrap()["id"],
        "Discord answered with the message it already had"
    );
    outbox_drained(&bot, WAIT, "the delivery was not recorded").await;
    let copies = copies_in_dm(s, ids::EMPLOYEE, ":choose");
    assert_eq!(copies, 1, "the employee sees the question once");
    // Every outbox message carries its own nonce: the next one is posted, not deduplicated.
    let mark = s.request_count();
    let ir = s.slash_command(ids::UNRELATED, "new-channel", json!([])).await;
    callback_data(&s.callback_for(&ir, WAIT).await, 4);
    let other = s
        .wait_for_after(mark, |r| r.method == "POST" && r.path.starts_with("/channels/") && r.status == 200, WAIT)
        .await
        .expect("the second employee's question is posted");
    assert_ne!(other.json().unwrap()["nonce"], json!(nonce));
    bot.stop().await;
}

#[tokio::test]
async fn a_failed_or_lost_interaction_answer_is_sent_again_within_three_seconds() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let section = || json!([{"type": 1, "name": "private-profile", "options": []}]);

    // Discord answers the callback with a 500: the bot sends it once more, in time.
    s.fail_next("POST", "/interactions/", 1, 500, json!({"message": "500: Internal Server Error", "code": 0}));
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", section()).await;
    let (kind, latency) = s.wait_acked(&ir, WAIT).await.expect("answered within Discord's 3 s");
    assert_eq!(kind, 4);
    assert!(latency < Duration::from_secs(3), "{latency:?}");
    let path = ir.callback_path();
    let failed = s.wait_for(|r| r.path == path && r.injected_fault, WAIT).await;
    assert_eq!(failed.status, 500);
    let answered = s.wait_for(|r| r.path == path && (200..300).contains(&r.status), WAIT).await;
    assert!(answered.seq > failed.seq);
    assert!(answered.json().unwrap().to_string().contains("3a"), "the quoted points arrive");

    // Discord takes the answer but the connection drops before it says so: the second try is
    // told "already acknowledged", and the bot takes that as done (one answer, no error).
    s.reset_after_next("POST", "/interactions/", 1);
    let ir = s.slash_command(ids::EMPLOYEE, "guideline", section()).await;
    let (kind, _) = s.wait_acked(&ir, WAIT).await.expect("the first answer counts");
    assert_eq!(kind, 4);
    let path = ir.callback_path();
    let lost = s.wait_for(|r| r.path == path && r.injected_fault, WAIT).await;
    assert_eq!(lost.status, 0, "the connection dropped after the stand-in stored the answer");
    let again = s.wait_for(|r| r.path == path && r.seq > lost.seq, WAIT).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.response.as_ref().unwrap()["code"], json!(40060));
    // Nothing else follows for that interaction: no follow-up, no apology.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mark = s.request_count();
    let ir2 = s.slash_command(ids::EMPLOYEE, "help", json!([])).await;
    callback_data(&s.callback_for(&ir2, WAIT).await, 4);
    assert!(
        s.wait_for_after(mark, |r| r.path.contains(&ir.token), Duration::from_millis(300)).await.is_none(),
        "the lost-and-found answer was not repeated"
    );
    bot.stop().await;
}

#[tokio::test]
async fn a_slow_discord_delays_only_the_message_it_holds() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    // Posting the first question of a conversation takes Discord 5 s.
    s.delay_next("POST", "/channels/", 1, Duration::from_secs(5));
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    let (_, latency) = s.wait_acked(&ir, WAIT).await.expect("the command is answered");
    assert!(latency < Duration::from_secs(3), "{latency:?}");
    let asked = std::time::Instant::now();
    // Meanwhile another employee is served at once.
    let other = s
        .slash_command(ids::UNRELATED, "guideline", json!([{"type": 1, "name": "private-profile", "options": []}]))
        .await;
    let (_, latency) = s.wait_acked(&other, WAIT).await.expect("the other employee is answered");
    assert!(latency < Duration::from_secs(3), "{latency:?}");
    assert!(asked.elapsed() < Duration::from_secs(3), "not held up by the slow post");
    // The slow message arrives, once.
    outbox_drained(&bot, Duration::from_secs(20), "the slow delivery was not recorded").await;
    let copies = copies_in_dm(s, ids::EMPLOYEE, ":choose");
    assert_eq!(copies, 1);
    bot.stop().await;
}

#[tokio::test]
async fn a_slow_evidence_download_is_deferred_within_three_seconds() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    let att = s.upload_attachment("bilete.png", "image/png", b"evidence");
    s.delay_attachments(Duration::from_millis(2500));
    let sent = Instant::now();
    let ir =
        s.slash_command(ids::EMPLOYEE, "report-threat", json!([{"type": 11, "name": "evidence", "value": att}])).await;
    let cb = s.callback_for(&ir, WAIT).await;
    let acknowledged = sent.elapsed();
    println!("deferred after {acknowledged:?}");
    // A deferred, private answer (type 5) ...
    let body = cb.json().unwrap();
    assert_eq!(body["type"], 5, "{body}");
    assert_eq!(body["data"]["flags"].as_u64().unwrap() & EPHEMERAL, EPHEMERAL);
    // ... then the real answer as an edit of the original response.
    let edit = s
        .wait_for(
            |r| r.method == "PATCH" && r.path.ends_with("/messages/@original") && r.path.contains(&ir.token),
            WAIT,
        )
        .await;
    assert!(edit.json().unwrap()["content"].as_str().unwrap().contains("112"));
    assert_no_pings(edit.json().unwrap());
    bot.stop().await;
}

#[tokio::test]
async fn conversations_go_on_across_gateway_reconnects_and_invalid_sessions() {
    let bot = Bot::start().await;
    let s = &bot.standin;
    begin_request(s).await;
    dm(s, ids::EMPLOYEE, "Ungdomsklubben på Instagram").await;

    // Op 7 Reconnect: serenity resumes, and the conversation goes on.
    s.send_reconnect();
    s.wait_gateway(|f| f.t.as_deref() == Some("RESUMED"), WAIT).await;
    let next = dm(s, ids::EMPLOYEE, "Volda ungdomsklubb").await;
    assert!(next.to_string().contains("1.1"), "{next}");

    // Op 9 Invalid Session (not resumable): serenity identifies again; READY registers the
    // commands again (a bulk overwrite), and the conversation still goes on.
    let (identifies, _) = s.session_counts();
    s.invalid_session(false);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while s.session_counts().0 == identifies {
        assert!(std::time::Instant::now() < deadline, "no new Identify after Invalid Session");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.wait_ready(WAIT).await;
    let next = dm(s, ids::EMPLOYEE, "Fleire unge på aktivitetane våre").await;
    assert!(next.to_string().contains("1.2"), "{next}");
    let puts = s.requests().iter().filter(|r| r.method == "PUT" && r.path.ends_with("/commands")).count();
    assert_eq!(puts, 2, "commands are registered again, by bulk overwrite");
    bot.stop().await;
}
