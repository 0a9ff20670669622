//! Browser sessions as stored: the digest of the cookie's token, the user,
//! the session's CSRF token and when it ends.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{sessions, users};
use super::{DbConnection, DbError};

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct NewSession<'a> {
    token_hash: &'a str,
    username: &'a str,
    csrf_token: &'a str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// A live session: who, with which role now, and its CSRF token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    pub username: String,
    pub role: String,
    pub csrf_token: String,
    pub expires_at: NaiveDateTime,
}

/// Stores a new session and drops every expired one.
pub fn create(
    conn: &mut DbConnection,
    token_hash: &str,
    username: &str,
    csrf_token: &str,
    expires_at: NaiveDateTime,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?;
    diesel::insert_into(sessions::table)
        .values(NewSession {
            token_hash,
            username,
            csrf_token,
            created_at: now,
            expires_at,
        })
        .execute(conn)?;
    Ok(())
}

/// The unexpired session with this token digest, with its user's current
/// role (a removed user's sessions find nothing).
pub fn live(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<LiveSession>, DbError> {
    let row: Option<(String, String, String, NaiveDateTime)> = sessions::table
        .inner_join(users::table.on(users::username.eq(sessions::username)))
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .select((
            sessions::username,
            users::role,
            sessions::csrf_token,
            sessions::expires_at,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(username, role, csrf_token, expires_at)| LiveSession {
            username,
            role,
            csrf_token,
            expires_at,
        }),
    )
}

pub fn delete(conn: &mut DbConnection, token_hash: &str) -> Result<(), DbError> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn)?;
    Ok(())
}

/// Ends every session of a user (password changed, user removed); returns
/// how many there were.
pub fn delete_for_user(conn: &mut DbConnection, username: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::username.eq(username))).execute(conn)?)
}

/// Ends every session of a user but one (a password changed from that
/// session); returns how many ended.
pub fn delete_others(
    conn: &mut DbConnection,
    username: &str,
    keep_token_hash: &str,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        sessions::table
            .filter(sessions::username.eq(username))
            .filter(sessions::token_hash.ne(keep_token_hash)),
    )
    .execute(conn)?)
}
