//! Scale out: two `somebot run` processes, one per shard, share one PostgreSQL database against
//! the Discord stand-in. The guild lives on shard 1 and DMs arrive on shard 0 (as on Discord),
//! so a `/new-channel` started in the guild is handled by one process and its conversation in
//! the DM by the other. Timers and deliveries are claimed with `FOR UPDATE SKIP LOCKED`: each
//! fires and each message goes out exactly once although both processes' workers race for them.
//!
//! Runs when `TEST_POSTGRES_URL` is set (CI's second test pass); without it, it says so and
//! passes without checking anything, as the SQLite-only pass has no shared database to test.

mod dbs;
mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::flows::custom_ids;
use support::{ids, Recorded, StandIn, World};

const WAIT: Duration = Duration::from_secs(15);

fn spawn(s: &StandIn, database_url: &str, key: &str, shard: &str, dir: &std::path::Path) -> tokio::process::Child {
    let log = std::fs::File::create(dir.join(format!("somebot-{}.log", shard.replace('/', "of")))).unwrap();
    support::somebot_command(s)
        .args(["run", "--shard", shard])
        .env("DATABASE_URL", database_url)
        // Every process must share the key: any of them may deliver a stored message.
        .env("SOMEBOT_REPORT_KEY", key)
        .env("SOMEBOT_DATA_DIR", dir.join(shard.replace('/', "of")))
        .env("RUST_LOG", "warn,somebot=debug")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// The connection an interaction's dispatch went out on.
async fn dispatched_on(s: &StandIn, interaction_id: u64) -> u32 {
    let id = interaction_id.to_string();
    s.wait_gateway(|f| f.t.as_deref() == Some("INTERACTION_CREATE") && f.d["id"] == id.as_str(), WAIT).await.conn
}

fn posts_with(s: &StandIn, path: &str, needle: &str) -> Vec<Recorded> {
    s.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path && r.json().is_some_and(|b| b.to_string().contains(needle)))
        .collect()
}

#[tokio::test]
async fn two_processes_on_one_postgresql_share_conversations_timers_and_deliveries() {
    let Some(db) = dbs::postgres().await else {
        eprintln!("two_processes_*: skipped, TEST_POSTGRES_URL is not set (the PostgreSQL pass of .ci/run sets it)");
        return;
    };
    support::init_logging();
    // A guild id on shard 1 of 2; DMs always arrive on shard 0.
    let mut world = World { guild_id: ids::GUILD + (1 << 22), ..World::default() };
    world.roles.iter_mut().filter(|r| r.id == ids::ROLE_EVERYONE).for_each(|r| r.id = ids::GUILD + (1 << 22));
    let s = StandIn::start(world).await;
    let dir = tempfile::tempdir().unwrap();
    let key = "5a".repeat(32);
    let mut a = spawn(&s, &db.url, &key, "0/2", dir.path());
    let mut b = spawn(&s, &db.url, &key, "1/2", dir.path());
    s.wait_ready(WAIT).await;
    s.wait_commands_registered(WAIT).await;
    let identifies: Vec<Value> = s
        .gateway_log()
        .into_iter()
        .filter(|f| f.op == Some(2) && matches!(f.dir, support::standin::Direction::In))
        .map(|f| f.d["shard"].clone())
        .collect();
    assert!(identifies.contains(&json!([0, 2])) && identifies.contains(&json!([1, 2])), "{identifies:?}");
    let (shard0, shard1) = (s.shard_connection(0).unwrap(), s.shard_connection(1).unwrap());

    // The guild command goes to the process serving shard 1 ...
    let ir = s.slash_command(ids::EMPLOYEE, "new-channel", json!([])).await;
    assert_eq!(dispatched_on(&s, ir.id).await, shard1);
    let cb = s.callback_for(&ir, WAIT).await;
    assert_eq!(cb.json().unwrap()["type"], 4);
    let q1 = s
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.path.starts_with("/channels/")
                    && custom_ids(&r.response.clone().unwrap_or_default()).iter().any(|c| c.ends_with(":choose"))
            },
            WAIT,
        )
        .await;
    let dm_path = q1.path.clone();
    let choose = custom_ids(q1.json().unwrap()).into_iter().find(|c| c.ends_with(":choose")).unwrap();
    let id: i64 = choose.split(':').nth(1).unwrap().parse().unwrap();

    // ... and the conversation goes on in the DM, on shard 0: the other process.
    let ir = s.select_on(ids::EMPLOYEE, &choose, vec!["facebook".into()], 3, q1.response.clone().unwrap()).await;
    assert_eq!(dispatched_on(&s, ir.id).await, shard0);
    assert_eq!(s.callback_for(&ir, WAIT).await.json().unwrap()["type"], 7);
    let before = s.request_count();
    let m = s.dm_message(ids::EMPLOYEE, "Volda bibliotek").await;
    let mid = m.id.to_string();
    let frame = s.wait_gateway(|f| f.t.as_deref() == Some("MESSAGE_CREATE") && f.d["id"] == mid.as_str(), WAIT).await;
    assert_eq!(frame.conn, shard0);
    s.wait_for_after(before, |r| r.method == "POST" && r.path == dm_path, WAIT).await.expect("the next question");
    let row = db.store.channel_request(id).await.unwrap().unwrap();
    assert!(row.conversation.contains("Volda bibliotek"), "the answer was saved: {}", row.conversation);

    // Many reminders fall due at once (more than one claim's worth); both processes' workers
    // race for them. Each fires exactly once and each reminder is delivered exactly once.
    const REMINDERS: usize = 120;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    for _ in 0..REMINDERS {
        db.store.schedule("nc.remind", id, now, now).await.unwrap();
    }
    let resume = format!("nc:{id}:resume");
    let deadline = Instant::now() + Duration::from_secs(30);
    while posts_with(&s, &dm_path, &resume).len() < REMINDERS {
        let n = posts_with(&s, &dm_path, &resume).len();
        assert!(Instant::now() < deadline, "only {n} of {REMINDERS} reminders arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Two more worker ticks of both processes: nothing fires twice.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(posts_with(&s, &dm_path, &resume).len(), REMINDERS, "a reminder was sent twice");
    let (due_open,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM timers WHERE kind = 'nc.remind' AND due_at <= $1 AND done_at IS NULL")
            .bind(now)
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(due_open, 0, "every due reminder is marked done");
    assert_eq!(db.store.outbox_pending().await.unwrap(), 0, "nothing is left undelivered");

    // Both stop cleanly; their logs account for every reminder exactly once between them.
    let mut fired = Vec::new();
    let mut delivered: Vec<std::collections::BTreeSet<String>> = Vec::new();
    for (p, label) in [(&mut a, "0of2"), (&mut b, "1of2")] {
        let _ = std::process::Command::new("kill").args(["-TERM", &p.id().unwrap().to_string()]).status();
        let status = tokio::time::timeout(WAIT, p.wait()).await.expect("stops after SIGTERM").unwrap();
        assert!(status.success(), "process {label}: {status:?}");
        let log = std::fs::read_to_string(dir.path().join(format!("somebot-{label}.log"))).unwrap();
        assert!(!log.contains("panicked"), "process {label}:\n{log}");
        fired.push(log.lines().filter(|l| l.contains("timer fired") && l.contains("kind=nc.remind")).count());
        delivered.push(
            log.lines()
                .filter(|l| l.contains("message delivered"))
                .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("outbox=")).map(str::to_string))
                .collect(),
        );
    }
    println!(
        "outbox messages delivered by shard 0's process: {}, by shard 1's: {}",
        delivered[0].len(),
        delivered[1].len()
    );
    assert!(delivered[0].is_disjoint(&delivered[1]), "a message was delivered by both processes");
    assert!(delivered[0].len() + delivered[1].len() > REMINDERS, "every reminder was delivered");
    println!("reminders fired by shard 0's process: {}, by shard 1's: {}", fired[0], fired[1]);
    assert_eq!(fired.iter().sum::<usize>(), REMINDERS, "the processes' logs: {fired:?}");
    s.assert_all_requests_valid();
    db.cleanup().await;
}
