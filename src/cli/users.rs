//! `finops user add|passwd|role|remove|list`, `finops token
//! add|revoke|list` and `finops audit`. Every change is audited; a changed
//! password or a removed user ends that user's sessions.

use std::io::BufRead;

use crate::audit;
use crate::auth::sessions as auth_sessions;
use crate::auth::{self, password, Role};
use crate::cli::{AuditArgs, CliError, TokenCommand, UserCommand};
use crate::db::{api_tokens, sessions, users, DbConnection};

fn role(text: &str) -> Result<Role, CliError> {
    Role::parse(text).ok_or_else(|| {
        CliError::BadInput(format!(
            "'{text}' is not a role: use viewer, analyst or admin"
        ))
    })
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Runtime(format!("standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn hashed(password: &str) -> Result<String, CliError> {
    password::hash(password).map_err(|e| match e {
        auth::AuthError::ShortPassword { .. } => CliError::BadInput(e.to_string()),
        other => CliError::Runtime(other.to_string()),
    })
}

pub fn run(conn: &mut DbConnection, command: &UserCommand) -> Result<(), CliError> {
    let name_ok =
        |name: &str| auth::check_name(name).map_err(|e| CliError::BadInput(e.to_string()));
    match command {
        UserCommand::Add { name, role: r } => {
            name_ok(name)?;
            let r = role(r)?;
            let hash = hashed(&read_password()?)?;
            if !users::add(conn, name, r.as_str(), &hash)? {
                return Err(CliError::BadInput(format!(
                    "user '{name}' exists (use user passwd or user role)"
                )));
            }
            audit::record(
                conn,
                "user.add",
                name,
                audit::OK,
                &format!("role {}", r.as_str()),
            )?;
            eprintln!("added {name} ({})", r.as_str());
            // Real users end the demo sign-in, in running servers too.
            let retired = auth_sessions::retire_demo_users(conn)?;
            if retired > 0 {
                audit::record(
                    conn,
                    "user.remove",
                    "demo sign-in",
                    audit::OK,
                    &format!("{retired} demo user(s) and their sessions removed: real users exist"),
                )?;
                eprintln!(
                    "the demo sign-in is off: its {retired} user(s) and their sessions are removed"
                );
            }
        }
        UserCommand::Passwd { name } => {
            let hash = hashed(&read_password()?)?;
            if !users::update(conn, name, Some(&hash), None)? {
                return Err(CliError::BadInput(format!("there is no user '{name}'")));
            }
            let ended = sessions::delete_for_user(conn, name)?;
            audit::record(
                conn,
                "user.passwd",
                name,
                audit::OK,
                &format!("{ended} session(s) ended"),
            )?;
            eprintln!("password of {name} changed; {ended} session(s) ended");
        }
        UserCommand::Role { name, role: r } => {
            let r = role(r)?;
            if !users::update(conn, name, None, Some(r.as_str()))? {
                return Err(CliError::BadInput(format!("there is no user '{name}'")));
            }
            audit::record(
                conn,
                "user.role",
                name,
                audit::OK,
                &format!("now {}", r.as_str()),
            )?;
            eprintln!("{name} is now {}", r.as_str());
        }
        UserCommand::Remove { name } => {
            if !users::remove(conn, name)? {
                return Err(CliError::BadInput(format!("there is no user '{name}'")));
            }
            let ended = sessions::delete_for_user(conn, name)?;
            audit::record(
                conn,
                "user.remove",
                name,
                audit::OK,
                &format!("{ended} session(s) ended"),
            )?;
            eprintln!("removed {name}; {ended} session(s) ended");
        }
        UserCommand::List { json } => {
            let all = users::all(conn)?;
            if *json {
                println!("{}", serde_json::to_string(&all).unwrap_or_default());
            } else {
                for u in all {
                    println!(
                        "{:<24} {:<8} since {}",
                        u.username,
                        u.role,
                        u.created_at.date()
                    );
                }
            }
        }
    }
    Ok(())
}

pub fn token(conn: &mut DbConnection, command: &TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Add { name, role: r } => {
            auth::check_name(name).map_err(|e| CliError::BadInput(e.to_string()))?;
            let r = role(r)?;
            let creator = audit::current_actor();
            let Some(token) = auth_sessions::add_api_token(conn, name, r, &creator)? else {
                return Err(CliError::BadInput(format!(
                    "a token named '{name}' exists (revoke it first)"
                )));
            };
            audit::record(
                conn,
                "token.add",
                name,
                audit::OK,
                &format!("role {}", r.as_str()),
            )?;
            eprintln!(
                "token {name} ({}) made; it is shown only now: send it as 'Authorization: Bearer TOKEN'",
                r.as_str()
            );
            println!("{token}");
        }
        TokenCommand::Revoke { name } => {
            if !api_tokens::revoke(conn, name)? {
                return Err(CliError::BadInput(format!("there is no token '{name}'")));
            }
            audit::record(conn, "token.revoke", name, audit::OK, "")?;
            eprintln!("revoked {name}");
        }
        TokenCommand::List { json } => {
            let all = api_tokens::all(conn)?;
            if *json {
                println!("{}", serde_json::to_string(&all).unwrap_or_default());
            } else {
                for t in all {
                    println!(
                        "{:<24} {:<8} made {} by {:<16} last used {}",
                        t.name,
                        t.role,
                        t.created_at.date(),
                        t.created_by,
                        t.last_used_at
                            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_else(|| "never".to_string())
                    );
                }
            }
        }
    }
    Ok(())
}

pub fn audit_log(conn: &mut DbConnection, args: &AuditArgs) -> Result<(), CliError> {
    let entries = crate::db::audit::list(
        conn,
        &crate::db::audit::AuditFilter {
            action: args.action.clone(),
            actor: args.actor.clone(),
            before: None,
            limit: args.limit,
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&entries).unwrap_or_default());
        return Ok(());
    }
    for e in entries {
        println!(
            "{:>6} {} {:<20} {:<18} {:<8} {} {}",
            e.id,
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.outcome,
            e.target,
            e.detail_with_repeats()
        );
    }
    Ok(())
}
