//! Signing in and out, and who a cookie or API token stands for. Plain
//! functions over a connection; the web layer calls them in the blocking
//! pool.

use std::sync::OnceLock;

use chrono::{Duration, NaiveDateTime};

use super::{password, secret, Identity, Role, Via};
use crate::db::{api_tokens, sessions, users, DbConnection, DbError};

/// Password hash of the demo sign-in's users: not a valid PHC string, so no
/// password ever matches it.
pub const DEMO_PASSWORD_HASH: &str = "!demo-sign-in:no-password";

/// A session just made: the cookie's value (shown to the browser once,
/// stored only as its digest) and its CSRF token.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: NaiveDateTime,
}

/// A hash to verify against when the user does not exist, so a wrong name
/// takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| password::hash(&secret::random_hex()).unwrap_or_default())
}

/// Checks a user's password; on success, starts a session of `hours`.
pub fn sign_in(
    conn: &mut DbConnection,
    username: &str,
    password_text: &str,
    hours: u32,
) -> Result<Option<(NewSession, Role)>, DbError> {
    let user = users::find(conn, username)?;
    let role = user.as_ref().and_then(|u| Role::parse(&u.role));
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or_else(|| decoy_hash());
    let matches = password::verify(password_text, stored);
    match (matches, user, role) {
        (true, Some(user), Some(role)) => Ok(Some((start(conn, &user.username, hours)?, role))),
        _ => Ok(None),
    }
}

/// Signs in as the demo user of `role` (`demo-viewer`, …), made on first
/// use with a hash no password matches. `None` when the database has real
/// users: then the demo users and their sessions are removed instead.
pub fn demo_sign_in(
    conn: &mut DbConnection,
    role: Role,
    hours: u32,
) -> Result<Option<NewSession>, DbError> {
    if demo_closed(conn, true)? {
        return Ok(None);
    }
    let name = demo_user(role);
    if users::find(conn, &name)?.is_none() {
        users::add(conn, &name, role.as_str(), DEMO_PASSWORD_HASH)?;
    }
    start(conn, &name, hours).map(Some)
}

pub fn demo_user(role: Role) -> String {
    format!("demo-{}", role.as_str())
}

/// Whether the database has users other than the demo sign-in's: then the
/// demo sign-in stays off.
pub fn has_real_users(conn: &mut DbConnection) -> Result<bool, DbError> {
    Ok(users::all(conn)?
        .iter()
        .any(|u| u.password_hash != DEMO_PASSWORD_HASH))
}

/// Whether the demo sign-in is off: it was not asked for (`serve` without
/// `--demo`), or the database has real users. When it is off, the demo
/// users and their sessions are removed, so nothing signed in through it
/// outlives it.
pub fn demo_closed(conn: &mut DbConnection, asked_for: bool) -> Result<bool, DbError> {
    if asked_for && !has_real_users(conn)? {
        return Ok(false);
    }
    retire_demo_users(conn)?;
    Ok(true)
}

/// Removes the demo sign-in's users and ends their sessions; returns how
/// many users there were.
pub fn retire_demo_users(conn: &mut DbConnection) -> Result<usize, DbError> {
    let demo: Vec<String> = users::all(conn)?
        .into_iter()
        .filter(|u| u.password_hash == DEMO_PASSWORD_HASH)
        .map(|u| u.username)
        .collect();
    for name in &demo {
        sessions::delete_for_user(conn, name)?;
        users::remove(conn, name)?;
    }
    if !demo.is_empty() {
        tracing::info!(users = demo.len(), "demo sign-in users removed");
    }
    Ok(demo.len())
}

fn start(conn: &mut DbConnection, username: &str, hours: u32) -> Result<NewSession, DbError> {
    let token = secret::random_hex();
    let csrf = secret::random_hex();
    let expires_at = crate::clock::now() + Duration::hours(i64::from(hours.max(1)));
    sessions::create(conn, &secret::digest(&token), username, &csrf, expires_at)?;
    Ok(NewSession {
        token,
        csrf,
        expires_at,
    })
}

/// Who the session cookie `token` stands for, if it is live.
pub fn from_cookie(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<Identity>, DbError> {
    if !secret::well_formed(token) {
        return Ok(None);
    }
    let token_hash = secret::digest(token);
    let Some(live) = sessions::live(conn, &token_hash, now)? else {
        return Ok(None);
    };
    Ok(Role::parse(&live.role).map(|role| Identity {
        name: live.username,
        role,
        via: Via::Session {
            token_hash,
            csrf: live.csrf_token,
        },
    }))
}

/// Who the API token stands for (noting its use), if it exists.
pub fn from_api_token(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<Identity>, DbError> {
    let Some(body) = token.strip_prefix(secret::TOKEN_PREFIX) else {
        return Ok(None);
    };
    if !secret::well_formed(body) {
        return Ok(None);
    }
    let Some(stored) = api_tokens::find_by_hash(conn, &secret::digest(token))? else {
        return Ok(None);
    };
    // "Last used" to the minute: a busy token is not written on every look-up.
    let stale = stored
        .last_used_at
        .is_none_or(|t| now - t >= Duration::minutes(1));
    if stale {
        api_tokens::touch(conn, stored.id, now)?;
    }
    Ok(Role::parse(&stored.role).map(|role| Identity {
        name: format!("token:{}", stored.name),
        role,
        via: Via::Token,
    }))
}

/// Why a password change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordChange {
    Changed { other_sessions_ended: usize },
    WrongCurrent,
    Mismatch,
    Invalid(super::AuthError),
}

/// A signed-in user changes their own password: the current one must
/// match, the new one typed twice; the user's other sessions end.
pub fn change_own_password(
    conn: &mut DbConnection,
    username: &str,
    keep_token_hash: &str,
    current: &str,
    new: &str,
    repeated: &str,
) -> Result<PasswordChange, DbError> {
    let Some(user) = users::find(conn, username)? else {
        return Ok(PasswordChange::WrongCurrent);
    };
    if !password::verify(current, &user.password_hash) {
        return Ok(PasswordChange::WrongCurrent);
    }
    if new != repeated {
        return Ok(PasswordChange::Mismatch);
    }
    let hash = match password::hash(new) {
        Ok(h) => h,
        Err(e) => return Ok(PasswordChange::Invalid(e)),
    };
    users::update(conn, username, Some(&hash), None)?;
    let ended = sessions::delete_others(conn, username, keep_token_hash)?;
    Ok(PasswordChange::Changed {
        other_sessions_ended: ended,
    })
}

/// Ends the session with this cookie digest.
pub fn sign_out(conn: &mut DbConnection, token_hash: &str) -> Result<(), DbError> {
    sessions::delete(conn, token_hash)
}

/// Makes an API token; returns the token (shown once) or `None` when the
/// name is taken.
pub fn add_api_token(
    conn: &mut DbConnection,
    name: &str,
    role: Role,
    created_by: &str,
) -> Result<Option<String>, DbError> {
    let token = secret::new_api_token();
    let added = api_tokens::add(
        conn,
        name,
        &secret::digest(&token),
        role.as_str(),
        created_by,
    )?;
    Ok(added.then_some(token))
}
