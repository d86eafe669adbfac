//! Files as Discord's spec wants them: the outbox's deliverer posts a message with files (a
//! report's export, forwarded evidence) as `payload_json` plus one part `files[n]` per file,
//! each listed in `attachments` with the id `"n"` (a snowflake string), on both of its paths:
//! behind a proxy (every request its own) and with serenity's requests (production, where only
//! the post with files is its own).

use std::sync::Arc;

use serde_json::json;
use serenity::all::HttpBuilder;
use somebot::app::delivery::Deliverer;
use somebot::core::reply::FileAttachment;
use somebot::core::Message;
use somebot::discord::respond::DiscordDeliverer;
use somebot::store::jobs::OutboxTarget;

use crate::support::{ids, StandIn, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_files_goes_out_as_the_spec_says_on_both_delivery_paths() {
    crate::support::init_logging();
    let world = World::default();
    let token = world.token.clone();
    let standin = StandIn::start(world).await;
    // As `somebot` builds it for DISCORD_API_URL: the proxy, serenity's limiter off.
    let http = Arc::new(HttpBuilder::new(&token).proxy(standin.base_url()).ratelimiter_disabled(true).build());
    let file = |name: &str, data: &[u8]| FileAttachment { filename: name.into(), data: data.to_vec() };
    let message = Message {
        content: Some("Eksporten".into()),
        attachments: vec![file("TRUGSMAL-2026-0001.txt", b"the export"), file("bilete.png", b"evidence")],
        ..Message::default()
    };

    let base = standin.base_url();
    let paths = [("behind the proxy", Some(base.as_str())), ("with serenity's requests", None)];
    for (n, (what, api_url)) in paths.into_iter().enumerate() {
        let deliverer = DiscordDeliverer::new(http.clone(), api_url);
        let outbox_id = n as i64 + 1;
        deliverer.send(outbox_id, OutboxTarget::User(ids::EMPLOYEE), &message).await.unwrap_or_else(|e| {
            panic!("{what}: the message with files is delivered: {e:?}");
        });
        let dm = standin.dm_channel_of(ids::EMPLOYEE).expect("a DM channel was opened");
        let posts: Vec<_> =
            standin.requests().into_iter().filter(|r| r.is("POST", &format!("/channels/{dm}/messages"))).collect();
        assert_eq!(posts.len(), n + 1, "{what}: one post per delivery");
        let post = posts.last().unwrap();
        assert_eq!(post.status, 200, "{what}");
        assert!(post.headers["content-type"].starts_with("multipart/form-data"), "{what}");
        let payload = post.json().expect("a payload_json part");
        assert_eq!(payload["content"], "Eksporten", "{what}");
        assert_eq!(payload["nonce"], format!("sb{outbox_id}"), "{what}: the outbox's nonce");
        assert_eq!(
            payload["attachments"],
            json!([{"id": "0", "filename": "TRUGSMAL-2026-0001.txt"}, {"id": "1", "filename": "bilete.png"}]),
            "{what}: every upload listed with its id as a string"
        );
        let files: Vec<(&str, Option<&str>, &[u8])> =
            post.files().iter().map(|p| (p.name.as_str(), p.filename.as_deref(), p.data.as_slice())).collect();
        assert_eq!(
            files,
            [
                ("files[0]", Some("TRUGSMAL-2026-0001.txt"), b"the export".as_slice()),
                ("files[1]", Some("bilete.png"), b"evidence".as_slice()),
            ],
            "{what}: one part per file, named after its id"
        );
    }
    standin.assert_all_requests_valid();
}
