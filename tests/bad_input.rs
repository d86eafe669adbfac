//! Everything a user can type or an interaction can carry, thrown at the core by a seeded
//! generator: over-long, empty, control, bidirectional and zero-width text, markdown and mention
//! injection, forged custom ids, unknown commands and options, unknown servers, DMs where a
//! server is expected. The bot must answer every input kindly or refuse it: no panic, no
//! internal error, every reply within Discord's limits.

use std::sync::Arc;

use somebot::clock::ManualClock;
use somebot::core::{Actor, CommandInput, Input, OptionValue, Reply};
use somebot::i18n::Locale;
use somebot::store::directory::Member;
use somebot::store::Store;
use somebot::App;

/// A small deterministic generator (xorshift64*), so a failure can be replayed by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

const NASTY: [&str; 24] = [
    "",
    " ",
    "@everyone",
    "@here hei",
    "<@1300000000000000501>",
    "<@&1300000000000000402>",
    "<#1300000000000000300>",
    "**fet** __under__ ~~stryk~~ `kode` ```blokk```",
    "> sitat\n> meir",
    "\u{202E}snudd tekst\u{202C}",
    "null\u{0}byte",
    "zero\u{200B}width\u{FEFF}",
    "kontroll\u{7}\u{1b}[31mraud",
    "Kan eg bruke jobbmailen privat?",
    "KANAL-2026-0001",
    "TRUGSMAL-2026-0001",
    "3h",
    "'; DROP TABLE channel_requests; --",
    "🦀🇳🇴👍🏽",
    "æøå ÆØÅ aa oe ae",
    "nc:1:submit",
    "\n\n\n",
    "a",
    "Kari Nordmann, Ola Hansen",
];

const COMMANDS: [&str; 9] =
    ["guideline", "new-channel", "report-threat", "help", "setup", "channels", "reports", "nope", ""];
const SUBS: [&str; 14] = [
    "creating-channels",
    "on-behalf",
    "private-profile",
    "ask",
    "unanswered",
    "show",
    "list",
    "request",
    "retire",
    "manager",
    "alternate",
    "managers",
    "communications-role",
    "bogus",
];
const OPTIONS: [&str; 10] =
    ["question", "point", "reference", "role", "channel", "employee", "manager", "user", "file", "x"];
const PREFIXES: [&str; 10] = ["gl", "nc", "nca", "ncr", "ncm", "rt", "rtm", "rtl", "zz", ""];
const ACTIONS: [&str; 20] = [
    "share:nn:3h",
    "vote:1:up",
    "page:1:nn:9",
    "official:s3",
    "choose:facebook",
    "choose",
    "submit",
    "back",
    "cancel",
    "edit",
    "resume",
    "head-approve",
    "off-approve",
    "off-changes",
    "active",
    "write",
    "send",
    "ack",
    "delete-confirm",
    "💥",
];

fn text(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(4) + 1 {
        s.push_str(rng.pick(&NASTY));
    }
    match rng.below(10) {
        0 => s.repeat(rng.below(600) + 1), // over-long
        1 => String::new(),
        _ => s,
    }
}

fn option(rng: &mut Rng) -> (String, OptionValue) {
    let name = rng.pick(&OPTIONS).to_string();
    let v = match rng.below(6) {
        0 => OptionValue::User(rng.next()),
        1 => OptionValue::Role(rng.next()),
        2 => OptionValue::Channel(rng.next()),
        3 => OptionValue::Bool(rng.below(2) == 0),
        4 => OptionValue::Attachment {
            id: rng.next(),
            filename: text(rng),
            content_type: None,
            size: rng.next() % 50_000_000,
            url: "https://cdn.invalid/x".into(),
            data: (rng.below(2) == 0).then(|| text(rng).into_bytes()),
        },
        _ => OptionValue::String(text(rng)),
    };
    (name, v)
}

fn input(rng: &mut Rng) -> Input {
    match rng.below(6) {
        0 | 1 => Input::Command(CommandInput {
            name: rng.pick(&COMMANDS).to_string(),
            subcommand: (0..rng.below(3)).map(|_| rng.pick(&SUBS).to_string()).collect(),
            options: (0..rng.below(4)).map(|_| option(rng)).collect(),
        }),
        2 => {
            let id = match rng.below(3) {
                0 => "1".to_string(),
                1 => rng.next().to_string(),
                _ => text(rng),
            };
            let custom_id = format!("{}:{}:{}", rng.pick(&PREFIXES), id, rng.pick(&ACTIONS));
            Input::Component { custom_id, values: (0..rng.below(3)).map(|_| text(rng)).collect() }
        }
        3 => Input::ModalSubmit {
            custom_id: format!("{}:{}:{}", rng.pick(&PREFIXES), rng.below(3), rng.pick(&ACTIONS)),
            fields: (0..rng.below(5)).map(|_| (rng.pick(&OPTIONS).to_string(), text(rng))).collect(),
        },
        4 => Input::Autocomplete {
            command: CommandInput { name: "guideline".into(), subcommand: vec!["ask".into()], options: vec![] },
            focused: rng.pick(&OPTIONS).to_string(),
            value: text(rng),
        },
        _ => Input::DirectMessage { text: text(rng) },
    }
}

fn actor(rng: &mut Rng) -> Actor {
    let user = 100 + rng.below(4) as u64;
    Actor {
        user_id: user,
        guild_id: match rng.below(4) {
            0 => None,
            1 => Some(rng.next()), // a server the bot knows nothing of
            _ => Some(7),
        },
        channel_id: Some(1),
        locale: if rng.below(2) == 0 { Locale::Nn } else { Locale::En },
        display_name: text(rng),
        can_manage_guild: rng.below(3) == 0,
        role_ids: vec![rng.next()],
    }
}

#[tokio::test]
async fn every_input_gets_a_kind_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await.unwrap();
    let app = App::new(store, Arc::new(ManualClock::at(1_795_392_000_000)));
    let members: Vec<Member> = (100..104)
        .map(|u| Member {
            guild_id: 7,
            user_id: u,
            username: format!("user{u}"),
            display_name: format!("Person {u}"),
            roles: vec![],
            is_bot: false,
            present: true,
        })
        .collect();
    app.members_seen(&members).await;
    let seed = std::env::var("SOMEBOT_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_1234_ABCD_0001);
    let rounds: usize = std::env::var("SOMEBOT_FUZZ_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let mut rng = Rng(seed);
    for round in 0..rounds {
        let who = actor(&mut rng);
        let inp = input(&mut rng);
        let shown = format!("{inp:?}");
        let o = app.handle(&who, inp).await;
        let errs = o.reply.check_limits();
        assert!(errs.is_empty(), "round {round} (seed {seed:#x}): {errs:?} for {shown}");
        if let Reply::Message(m) | Reply::Update(m) = &o.reply {
            let t = m.content.clone().unwrap_or_default();
            let apology: String = somebot::i18n::t(who.locale, "common.apology", &[]).chars().take(30).collect();
            assert!(!t.starts_with(&apology), "round {round}: internal error for {shown}: {t}");
        }
        // Time moves so timers come due now and then; they must cope with whatever was stored.
        if round % 250 == 0 {
            app.run_due_timers().await;
        }
    }
}
