//! Users as stored: name, role, password hash.

use diesel::prelude::*;

use super::schema::users;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub username: String,
    pub role: String,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    username: &'a str,
    role: &'a str,
    password_hash: &'a str,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, username: &str) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Adds a user; `false` when the name is taken.
pub fn add(
    conn: &mut DbConnection,
    username: &str,
    role: &str,
    password_hash: &str,
) -> Result<bool, DbError> {
    if find(conn, username)?.is_some() {
        return Ok(false);
    }
    let now = crate::clock::now();
    diesel::insert_into(users::table)
        .values(NewUser {
            username,
            role,
            password_hash,
            created_at: now,
            updated_at: now,
        })
        .execute(conn)?;
    Ok(true)
}

/// Sets a user's password hash and/or role; `false` when there is no such
/// user.
pub fn update(
    conn: &mut DbConnection,
    username: &str,
    password_hash: Option<&str>,
    role: Option<&str>,
) -> Result<bool, DbError> {
    let Some(user) = find(conn, username)? else {
        return Ok(false);
    };
    diesel::update(users::table.filter(users::username.eq(username)))
        .set((
            users::password_hash.eq(password_hash.unwrap_or(&user.password_hash)),
            users::role.eq(role.unwrap_or(&user.role)),
            users::updated_at.eq(crate::clock::now()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Removes a user; `false` when there is no such user.
pub fn remove(conn: &mut DbConnection, username: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(users::table.filter(users::username.eq(username))).execute(conn)? > 0)
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<User>, DbError> {
    Ok(users::table
        .order(users::username)
        .select(User::as_select())
        .load(conn)?)
}
