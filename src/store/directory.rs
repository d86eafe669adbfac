//! Users' languages, the server's member list and per-server settings.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{id, Store};
use crate::i18n::Locale;

/// How long this process trusts what it saw of a user's language. Another process serving the
/// same user (their DMs run on shard 0, their server on its own shard) may store a newer one;
/// past this, the database is asked again.
pub const LOCALE_FRESH: Duration = Duration::from_secs(600);
/// At most this many users are remembered; the map is emptied when full.
const LOCALE_CACHE_MAX: usize = 10_000;

/// Stores a user's language: user id, language code, time.
pub(super) const UPSERT_LOCALE: &str = "INSERT INTO users (user_id, locale, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id) DO UPDATE SET locale = excluded.locale, updated_at = excluded.updated_at";

/// The languages this process saw recently, and whether it stored them.
#[derive(Debug, Default)]
pub struct LocaleCache {
    seen: Mutex<HashMap<u64, Seen>>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    locale: Locale,
    /// When this process last stored `locale` (None: not yet).
    stored_at: Option<Instant>,
    seen_at: Instant,
}

impl LocaleCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Seen>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `user_id`'s entry, made with `locale` when missing (the map is emptied when full).
    fn entry(map: &mut HashMap<u64, Seen>, user_id: u64, locale: Locale, now: Instant) -> &mut Seen {
        if map.len() >= LOCALE_CACHE_MAX && !map.contains_key(&user_id) {
            map.clear();
        }
        map.entry(user_id).or_insert(Seen { locale, stored_at: None, seen_at: now })
    }

    /// Records `locale` for `user_id`; true when it needs storing.
    fn saw(&self, user_id: u64, locale: Locale) -> bool {
        let now = Instant::now();
        let mut map = self.lock();
        let entry = Self::entry(&mut map, user_id, locale, now);
        if entry.locale != locale {
            *entry = Seen { locale, stored_at: None, seen_at: now };
        }
        entry.seen_at = now;
        entry.stored_at.is_none_or(|at| now.duration_since(at) >= LOCALE_FRESH)
    }

    pub(super) fn stored(&self, user_id: u64, locale: Locale) {
        let now = Instant::now();
        let mut map = self.lock();
        let e = Self::entry(&mut map, user_id, locale, now);
        // A newer language seen meanwhile still needs storing.
        if e.locale == locale {
            e.stored_at = Some(now);
        }
    }

    fn get(&self, user_id: u64) -> Option<Locale> {
        let map = self.lock();
        map.get(&user_id).filter(|e| e.seen_at.elapsed() < LOCALE_FRESH).map(|e| e.locale)
    }
}

/// A member of a server as the bot knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub guild_id: u64,
    pub user_id: u64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<u64>,
    pub is_bot: bool,
    pub present: bool,
}

type MemberRow = (i64, i64, String, String, String, i64, i64);

fn member(r: MemberRow) -> Member {
    Member {
        guild_id: id::from_db(r.0),
        user_id: id::from_db(r.1),
        username: r.2,
        display_name: r.3,
        roles: r.4.split(',').filter_map(|s| s.parse().ok()).collect(),
        is_bot: r.5 != 0,
        present: r.6 != 0,
    }
}

const MEMBER_COLS: &str = "guild_id, user_id, username, display_name, roles, is_bot, present";

fn roles_text(roles: &[u64]) -> String {
    let mut s = String::from(",");
    for r in roles {
        s.push_str(&r.to_string());
        s.push(',');
    }
    s
}

/// Folds a name for matching: lowercase, letters and digits only, æøå kept.
pub fn fold(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

impl Store {
    /// Notes the language an interaction carried. Returns true when it still has to be stored
    /// with [`Store::remember_locale`]: this process has not stored it in the last
    /// [`LOCALE_FRESH`]. [`Store::locale_of`] sees it at once either way.
    pub fn saw_locale(&self, user_id: u64, locale: Locale) -> bool {
        self.locales.saw(user_id, locale)
    }

    /// Stores the language a user last used, so direct messages (which carry none) can use it.
    pub async fn remember_locale(&self, user_id: u64, locale: Locale, now: i64) -> sqlx::Result<()> {
        self.write_records(&[(user_id, locale, now)], &[]).await
    }

    /// The language a user last used; Nynorsk when unknown. What this process saw in the last
    /// [`LOCALE_FRESH`] comes first, even before it is stored.
    pub async fn locale_of(&self, user_id: u64) -> sqlx::Result<Locale> {
        if let Some(l) = self.locales.get(user_id) {
            return Ok(l);
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT locale FROM users WHERE user_id = $1")
            .bind(id::to_db(user_id))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row.as_ref().map(|r| r.0.as_str()) {
            Some("en") => Locale::En,
            _ => Locale::Nn,
        })
    }

    /// Adds or updates a member (from GUILD_CREATE, member add or update).
    pub async fn upsert_member(&self, m: &Member, now: i64) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO members (guild_id, user_id, username, display_name, roles, is_bot, present, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) \
             ON CONFLICT (guild_id, user_id) DO UPDATE SET username = excluded.username, \
             display_name = excluded.display_name, roles = excluded.roles, is_bot = excluded.is_bot, \
             present = 1, updated_at = excluded.updated_at",
        )
        .bind(id::to_db(m.guild_id))
        .bind(id::to_db(m.user_id))
        .bind(&m.username)
        .bind(&m.display_name)
        .bind(roles_text(&m.roles))
        .bind(i64::from(m.is_bot))
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Marks a member as gone. Returns true when they were present before.
    pub async fn member_left(&self, guild_id: u64, user_id: u64, now: i64) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE members SET present = 0, updated_at = $3 WHERE guild_id = $1 AND user_id = $2 AND present = 1",
        )
        .bind(id::to_db(guild_id))
        .bind(id::to_db(user_id))
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One member.
    pub async fn member(&self, guild_id: u64, user_id: u64) -> sqlx::Result<Option<Member>> {
        let row: Option<MemberRow> =
            sqlx::query_as(&format!("SELECT {MEMBER_COLS} FROM members WHERE guild_id = $1 AND user_id = $2"))
                .bind(id::to_db(guild_id))
                .bind(id::to_db(user_id))
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(member))
    }

    /// Present, human members of a server.
    pub async fn members(&self, guild_id: u64) -> sqlx::Result<Vec<Member>> {
        let rows: Vec<MemberRow> = sqlx::query_as(&format!(
            "SELECT {MEMBER_COLS} FROM members WHERE guild_id = $1 AND present = 1 AND is_bot = 0 \
             ORDER BY display_name, user_id"
        ))
        .bind(id::to_db(guild_id))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(member).collect())
    }

    /// Present members holding a role.
    pub async fn members_with_role(&self, guild_id: u64, role_id: u64) -> sqlx::Result<Vec<Member>> {
        let rows: Vec<MemberRow> = sqlx::query_as(&format!(
            "SELECT {MEMBER_COLS} FROM members WHERE guild_id = $1 AND present = 1 AND is_bot = 0 \
             AND roles LIKE $2 ORDER BY display_name, user_id"
        ))
        .bind(id::to_db(guild_id))
        .bind(format!("%,{role_id},%"))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(member).collect())
    }

    /// Members whose name matches what was typed: a mention or id, else every member whose
    /// display name or username contains the folded text. Best matches (exact, then prefix) first.
    pub async fn find_members(&self, guild_id: u64, typed: &str) -> sqlx::Result<Vec<Member>> {
        let t = typed.trim();
        let as_id = t.trim_start_matches("<@").trim_start_matches('!').trim_end_matches('>');
        if let Ok(uid) = as_id.parse::<u64>() {
            return Ok(self.member(guild_id, uid).await?.filter(|m| m.present && !m.is_bot).into_iter().collect());
        }
        let q = fold(t.trim_start_matches('@'));
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: Vec<(u8, Member)> = self
            .members(guild_id)
            .await?
            .into_iter()
            .filter_map(|m| {
                let names = [fold(&m.display_name), fold(&m.username)];
                let rank = if names.contains(&q) {
                    0
                } else if names.iter().any(|n| n.starts_with(&q)) {
                    1
                } else if names.iter().any(|n| n.contains(&q)) {
                    2
                } else {
                    return None;
                };
                Some((rank, m))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.display_name.cmp(&b.1.display_name)));
        Ok(found.into_iter().map(|x| x.1).collect())
    }

    /// A server setting.
    pub async fn setting(&self, guild_id: u64, key: &str) -> sqlx::Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM guild_settings WHERE guild_id = $1 AND key = $2")
                .bind(id::to_db(guild_id))
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// Sets a server setting on its own (a step sets it through its [`super::tx::Tx`]).
    pub async fn set_setting(&self, guild_id: u64, key: &str, value: &str, by: u64, now: i64) -> sqlx::Result<()> {
        let mut tx = self.begin().await?;
        tx.set_setting(guild_id, key, value, by, now).await?;
        tx.commit().await
    }

    /// Every setting of a server, by key.
    pub async fn settings(&self, guild_id: u64) -> sqlx::Result<Vec<(String, String, u64, i64)>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT key, value, updated_by, updated_at FROM guild_settings WHERE guild_id = $1 ORDER BY key",
        )
        .bind(id::to_db(guild_id))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.0, r.1, id::from_db(r.2), r.3)).collect())
    }
}

impl super::tx::Tx {
    /// Sets a server setting, recording who set it.
    pub async fn set_setting(&mut self, guild_id: u64, key: &str, value: &str, by: u64, now: i64) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO guild_settings (guild_id, key, value, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (guild_id, key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(id::to_db(guild_id))
        .bind(key)
        .bind(value)
        .bind(id::to_db(by))
        .bind(now)
        .execute(self.conn()?)
        .await?;
        Ok(())
    }
}

/// Setting key: the role of the communications officers (set with `/setup`, see `org`).
pub const COMMUNICATIONS_ROLE: &str = "communications_role";

impl Store {
    /// Whether `user` is a communications officer of `guild`: holds its communications role,
    /// by `roles_here` (the roles Discord sent with an input from that server; empty
    /// otherwise) or by the member directory (which also works for clicks in a DM, where
    /// Discord sends no roles).
    pub async fn is_officer(&self, guild: u64, user: u64, roles_here: &[u64]) -> sqlx::Result<bool> {
        let Some(role) = self.setting(guild, COMMUNICATIONS_ROLE).await?.and_then(|s| s.parse::<u64>().ok()) else {
            return Ok(false);
        };
        if roles_here.contains(&role) {
            return Ok(true);
        }
        Ok(self.member(guild, user).await?.is_some_and(|m| m.present && m.roles.contains(&role)))
    }
}
