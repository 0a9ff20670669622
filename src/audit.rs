//! The audit log: who did what, when. Imports, pulls, calendar, rule and
//! scenario changes are recorded where every one of them already leaves a
//! trace (`runs::record`, in the same transaction); user and
//! token changes, exports, sign-ins and refused requests are recorded where
//! they happen.
//!
//! Who is acting: the web service names the signed-in user for the work it
//! runs on a thread (`Actor::enter`); the CLI names the operating-system
//! user for the whole process (`set_process_actor`); anything else (the
//! scheduled pull) is `system`.

use std::cell::RefCell;
use std::sync::OnceLock;

pub use crate::db::audit::NewAudit;
use crate::db::{audit, DbConnection, DbError};

pub const OK: &str = "ok";
pub const FAILED: &str = "failed";
pub const REFUSED: &str = "refused";

static PROCESS_ACTOR: OnceLock<String> = OnceLock::new();

thread_local! {
    static THREAD_ACTOR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Names the actor of everything this process records without a thread
/// actor (first call wins).
pub fn set_process_actor(name: &str) {
    let _ = PROCESS_ACTOR.set(name.to_string());
}

/// `cli:` and the operating-system user running the command.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_string());
    format!("cli:{user}")
}

/// The actor of work on this thread until the guard drops.
pub struct Actor {
    previous: Option<String>,
}

impl Actor {
    pub fn enter(name: &str) -> Actor {
        let previous = THREAD_ACTOR.with(|a| a.replace(Some(name.to_string())));
        Actor { previous }
    }
}

impl Drop for Actor {
    fn drop(&mut self) {
        let previous = self.previous.take();
        THREAD_ACTOR.with(|a| *a.borrow_mut() = previous);
    }
}

/// Who is acting on this thread.
pub fn current_actor() -> String {
    THREAD_ACTOR
        .with(|a| a.borrow().clone())
        .or_else(|| PROCESS_ACTOR.get().cloned())
        .unwrap_or_else(|| "system".to_string())
}

/// Records an action by the current actor.
pub fn record(
    conn: &mut DbConnection,
    action: &str,
    target: &str,
    outcome: &str,
    detail: &str,
) -> Result<(), DbError> {
    audit::insert(
        conn,
        &NewAudit {
            actor: current_actor(),
            action: action.to_string(),
            target: target.to_string(),
            outcome: outcome.to_string(),
            detail: detail.to_string(),
            group: None,
        },
    )
}

/// Records an entry that names its own actor (and maybe its group).
pub fn record_entry(conn: &mut DbConnection, entry: &NewAudit) -> Result<(), DbError> {
    audit::insert(conn, entry)
}

/// Minutes in which repeats of one event share an entry.
pub const GROUP_MINUTES: i64 = 15;

/// The group of a repeated event: its parts and the current window of
/// [`GROUP_MINUTES`].
pub fn group_key(parts: &[&str]) -> String {
    let window = crate::clock::now().and_utc().timestamp() / (GROUP_MINUTES * 60);
    format!("{}|{window}", parts.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_actor_wins_while_entered() {
        let outer = current_actor();
        {
            let _a = Actor::enter("ana");
            assert_eq!(current_actor(), "ana");
            {
                let _b = Actor::enter("bo");
                assert_eq!(current_actor(), "bo");
            }
            assert_eq!(current_actor(), "ana");
        }
        assert_eq!(current_actor(), outer);
    }
}
