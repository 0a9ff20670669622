//! API tokens as stored: a name, the digest of the token, the role it acts
//! with, who made it and when it was last used.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_tokens;
use super::{DbConnection, DbError};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub token_hash: String,
    pub role: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = api_tokens)]
struct NewToken<'a> {
    name: &'a str,
    token_hash: &'a str,
    role: &'a str,
    created_by: &'a str,
    created_at: NaiveDateTime,
}

/// Adds a token; `false` when the name is taken.
pub fn add(
    conn: &mut DbConnection,
    name: &str,
    token_hash: &str,
    role: &str,
    created_by: &str,
) -> Result<bool, DbError> {
    let taken = api_tokens::table
        .filter(api_tokens::name.eq(name))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if taken {
        return Ok(false);
    }
    diesel::insert_into(api_tokens::table)
        .values(NewToken {
            name,
            token_hash,
            role,
            created_by,
            created_at: crate::clock::now(),
        })
        .execute(conn)?;
    Ok(true)
}

pub fn find_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<ApiToken>, DbError> {
    Ok(api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?)
}

/// Notes that a token was used at `at`.
pub fn touch(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(api_tokens::table.filter(api_tokens::id.eq(id)))
        .set(api_tokens::last_used_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// Revokes (deletes) a token; `false` when there is none by that name.
pub fn revoke(conn: &mut DbConnection, name: &str) -> Result<bool, DbError> {
    Ok(diesel::delete(api_tokens::table.filter(api_tokens::name.eq(name))).execute(conn)? > 0)
}

pub fn all(conn: &mut DbConnection) -> Result<Vec<ApiToken>, DbError> {
    Ok(api_tokens::table
        .order(api_tokens::name)
        .select(ApiToken::as_select())
        .load(conn)?)
}
