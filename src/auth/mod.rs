//! Who may use finops: users with a role and an Argon2id password hash,
//! browser sessions, API tokens, the login rate limit and the access
//! policy of each route.

pub mod password;
pub mod policy;
pub mod secret;
pub mod sessions;
pub mod throttle;

/// What a user may do: viewers read; analysts also import, export and edit
/// the calendar and scenarios; admins also manage users, allocation rules
/// and data sources.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Analyst,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// Who is making a request, and how they proved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// A user name, or `token:NAME` for an API token.
    pub name: String,
    pub role: Role,
    pub via: Via,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A browser session: the digest of its cookie and its CSRF token.
    Session { token_hash: String, csrf: String },
    /// An API token (no cookies, so no CSRF).
    Token,
}

impl Identity {
    pub fn may(&self, role: Role) -> bool {
        self.role >= role
    }

    /// The CSRF token forms must carry, for a browser session.
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Token => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("'{0}' is not a user name: use 1–64 lower-case letters, digits, '.', '_' or '-'")]
    BadName(String),
    #[error("the password is too short: at least {min} characters")]
    ShortPassword { min: usize },
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// A user name: 1–64 of `[a-z0-9._-]`.
pub fn check_name(name: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_names() {
        assert_eq!(Role::parse(" Analyst "), Some(Role::Analyst));
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Viewer < Role::Analyst && Role::Analyst < Role::Admin);
        assert!(check_name("ana.lyst-1_x").is_ok());
        for bad in ["", "Ana", "a b", "x;drop", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
