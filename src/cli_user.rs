//! `finops user add|passwd|role|remove|list`.

use std::io::BufRead;

use crate::auth::{self, password, Role};
use crate::cli::{CliError, UserCommand};
use crate::db::{users, DbConnection};

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
            eprintln!("added {name} ({})", r.as_str());
        }
        UserCommand::Passwd { name } => {
            let hash = hashed(&read_password()?)?;
            if !users::update(conn, name, Some(&hash), None)? {
                return Err(CliError::BadInput(format!("there is no user '{name}'")));
            }
            eprintln!("password of {name} changed");
        }
        UserCommand::Role { name, role: r } => {
            let r = role(r)?;
            if !users::update(conn, name, None, Some(r.as_str()))? {
                return Err(CliError::BadInput(format!("there is no user '{name}'")));
            }
            eprintln!("{name} is now {}", r.as_str());
        }
        UserCommand::Remove { name } => {
            if !users::remove(conn, name)? {
                return Err(CliError::BadInput(format!("there is no user '{name}'")));
            }
            eprintln!("removed {name}");
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
