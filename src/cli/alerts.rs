//! `finops alerts add|remove|rules|channels|run|list|test`.

use crate::alert::rule::{self, Kind, RuleInput};
use crate::alert::{self, AlertError, AlertSettings, When};
use crate::cli::{AlertsCommand, CliError};
use crate::config::Settings;
use crate::db::alerts as stored;
use crate::db::DbConnection;

impl From<AlertError> for CliError {
    fn from(e: AlertError) -> CliError {
        match e {
            AlertError::Invalid(m) => CliError::BadInput(m),
            AlertError::Db(d) => d.into(),
            AlertError::Budget(b) => b.into(),
            AlertError::Anomaly(a) => a.into(),
        }
    }
}

pub fn run(
    conn: &mut DbConnection,
    settings: &Settings,
    command: &AlertsCommand,
) -> Result<(), CliError> {
    let alerting = AlertSettings::from_settings(settings);
    match command {
        AlertsCommand::Add {
            name,
            kind,
            basis,
            percent,
            min_impact,
            days,
            channels,
        } => {
            let input = RuleInput {
                name: name.clone(),
                kind: kind.clone(),
                basis: basis.clone(),
                percent: percent.clone(),
                min_impact: min_impact.clone(),
                days: days.clone(),
                channels: channels.clone(),
            };
            let new = rule::parse(
                &input,
                &alerting.channel_names(),
                &crate::audit::cli_actor(),
                crate::clock::now(),
            )
            .map_err(CliError::BadInput)?;
            let replaced = alert::save_rule(conn, &new)?;
            let currency = crate::currency::reporting(conn)?;
            if let Some(old) = replaced {
                let was =
                    Kind::of(&old).map_or_else(|| old.kind.clone(), |k| k.describe(&currency));
                println!("rule '{}' replaced; it was: {was}", old.name);
            }
            let described = stored::rules(conn)?
                .into_iter()
                .find(|r| r.name == new.name)
                .and_then(|r| Kind::of(&r))
                .map(|k| k.describe(&currency))
                .unwrap_or_default();
            println!(
                "rule '{}' saved: {described}; to {}",
                new.name,
                new.channels.replace(',', ", ")
            );
            Ok(())
        }
        AlertsCommand::Remove { name } => {
            if alert::remove_rule(conn, name)? {
                println!("rule '{name}' removed");
                Ok(())
            } else {
                Err(CliError::BadInput(format!("there is no rule '{name}'")))
            }
        }
        AlertsCommand::Rules => {
            let rules = stored::rules(conn)?;
            if rules.is_empty() {
                println!("no alert rules: add one with `finops alerts add`");
            }
            let currency = crate::currency::reporting(conn)?;
            for r in rules {
                let what = Kind::of(&r).map_or_else(|| r.kind.clone(), |k| k.describe(&currency));
                println!("{:<24} {what}  → {}", r.name, r.channels.replace(',', ", "));
            }
            Ok(())
        }
        AlertsCommand::Channels => {
            if alerting.channels.is_empty() {
                println!("no alert channels: add [[alert_channel]] tables to the settings file");
            }
            for c in &alerting.channels {
                println!("{:<16} {:<8} {}", c.name, c.kind(), c.shown_target());
            }
            Ok(())
        }
        AlertsCommand::Run => {
            let report = alert::cycle(
                conn,
                &alerting,
                When::Always,
                crate::clock::today(),
                crate::clock::now(),
            )?;
            match report {
                None => println!("another process is evaluating the alerts now; nothing done"),
                Some(r) => {
                    for id in &r.evaluation.raised {
                        if let Some(a) = stored::alert(conn, *id)? {
                            println!("raised: {}", a.title);
                        }
                    }
                    println!("{}", r.summary());
                }
            }
            Ok(())
        }
        AlertsCommand::List { limit, format } => {
            let list = alert::latest(conn, (*limit).clamp(1, 10_000))?;
            match format.as_str() {
                "json" => {
                    let text = serde_json::to_string_pretty(&list)
                        .map_err(|e| CliError::Runtime(e.to_string()))?;
                    println!("{text}");
                }
                "table" => {
                    if list.is_empty() {
                        println!("no alerts raised yet");
                    }
                    for v in list {
                        println!(
                            "{} {:>5}  {}",
                            v.alert.raised_at.format("%Y-%m-%d %H:%M"),
                            v.alert.id,
                            v.alert.title
                        );
                        for d in v.deliveries {
                            let detail = if d.last_error.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", d.last_error)
                            };
                            println!(
                                "                    → {} {} after {} attempt(s){detail}",
                                d.channel, d.status, d.attempts
                            );
                        }
                    }
                }
                other => {
                    return Err(CliError::BadInput(format!(
                        "--format '{other}': expected table or json"
                    )))
                }
            }
            Ok(())
        }
        AlertsCommand::Test { channel } => {
            let c = alerting
                .channels
                .iter()
                .find(|c| &c.name == channel)
                .ok_or_else(|| {
                    CliError::BadInput(format!(
                        "channel '{channel}' is not configured (configured: {})",
                        alerting.channel_names().join(", ")
                    ))
                })?;
            let now = crate::clock::now();
            let test = stored::Alert {
                id: 0,
                rule_id: 0,
                rule_name: "test".to_string(),
                kind: "test".to_string(),
                episode: format!("test:{now}"),
                title: "Test message from finops".to_string(),
                body: format!(
                    "The channel '{}' works: this is what alerts will look like.",
                    c.name
                ),
                link: "/alerts".to_string(),
                raised_at: now,
            };
            alert::deliver::send(c, &test, alerting.public_url.as_deref())
                .map_err(|e| CliError::Runtime(format!("channel '{}': {e}", c.name)))?;
            println!("sent a test message to '{}' ({})", c.name, c.shown_target());
            Ok(())
        }
    }
}
