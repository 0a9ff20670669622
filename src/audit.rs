//! The audit log: who did what, when. Imports, pulls, calendar, rule and
//! scenario changes are recorded where every one of them already leaves a
//! trace (`db::ingest_runs::record`, in the same transaction); user and
//! token changes, exports, sign-ins and refused requests are recorded where
//! they happen.
//!
//! Who is acting: the web service names the signed-in user for the work it
//! runs on a thread (`Actor::enter`); the CLI names the operating-system
//! user for the whole process (`set_process_actor`); anything else (the
//! scheduled pull) is `system`.

use std::cell::RefCell;
use std::sync::OnceLock;

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
    audit::insert(conn, &current_actor(), action, target, outcome, detail)
}

/// Records an action by a named actor.
pub fn record_as(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    target: &str,
    outcome: &str,
    detail: &str,
) -> Result<(), DbError> {
    audit::insert(conn, actor, action, target, outcome, detail)
}

/// Records an event that may repeat many times (a refused sign-in flood)
/// as one entry per `group_key`, counting the repeats.
pub fn record_grouped(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    target: &str,
    outcome: &str,
    detail: &str,
    group_key: &str,
) -> Result<(), DbError> {
    audit::insert_grouped(conn, actor, action, target, outcome, detail, group_key)
}

/// The audit action of a run recorded by `ingest_runs::record`.
pub fn action_of_source(source: &str) -> &'static str {
    match source {
        "cost-explorer" => "pull",
        "calendar" => "calendar.change",
        "rules" => "rules.change",
        "scenario" => "scenario.change",
        "catalog" => "catalog.import",
        "commitments" => "commitments.import",
        "demo" => "demo.load",
        _ => "import",
    }
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
        assert_eq!(action_of_source("cost-explorer"), "pull");
        assert_eq!(action_of_source("focus"), "import");
    }
}
