//! Scenarios: a TOML file in `forecasts/scenarios/` that changes the
//! forecast's assumptions, compared side by side with the plan of record.
//!
//! ```toml
//! name = "Expansion slips a month"
//! description = "Shattered Realms ships four weeks late"
//!
//! [[move_event]]            # a calendar event moves
//! event = "Shattered Realms expansion launch"
//! days = 28                 # later (negative: earlier)
//!
//! [[scale_uplift]]          # an event's extra demand, times a factor
//! event = "Season 11 launch"   # or kind = "launch" for every launch
//! factor = 1.5
//!
//! [[add_event]]             # an event the calendar does not have (its fields)
//! name = "Creator showcase"
//! kind = "platform_event"
//! start = 2027-04-10
//! end = 2027-04-12
//! expected_uplift = 0.2
//!
//! [[new_region]]            # a region opens and takes players from another
//! region = "me-central-1"
//! opens = 2027-03-01
//! from_region = "eu-central-1"
//! share = 0.4               # of from_region's players (and their cost)
//! platforms = ["PC"]        # omit for every platform
//! ```

use chrono::NaiveDate;

use super::hierarchy::Hierarchy;
use crate::calendar::{self, CalendarEvent, EventKind};
use crate::dims;

/// Whose uplift a `scale_uplift` change scales.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Event(String),
    Kind(EventKind),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    MoveEvent {
        event: String,
        days: i64,
    },
    ScaleUplift {
        target: Target,
        factor: f64,
    },
    AddEvent(CalendarEvent),
    NewRegion {
        region: String,
        opens: NaiveDate,
        from_region: String,
        share: f64,
        platforms: Vec<String>,
    },
}

impl Change {
    /// The change in a sentence, for pages and tables.
    pub fn describe(&self) -> String {
        match self {
            Change::MoveEvent { event, days } => format!(
                "'{event}' moves {} day{} {}",
                days.abs(),
                if days.abs() == 1 { "" } else { "s" },
                if *days >= 0 { "later" } else { "earlier" }
            ),
            Change::ScaleUplift { target, factor } => match target {
                Target::Event(e) => format!("'{e}' brings {factor}× the extra demand"),
                Target::Kind(k) => {
                    format!(
                        "every {} brings {factor}× the extra demand",
                        k.label().to_lowercase()
                    )
                }
            },
            Change::AddEvent(e) => format!(
                "new {} '{}', {} to {}{}",
                e.kind.label().to_lowercase(),
                e.name,
                e.start,
                e.end,
                e.expected_uplift
                    .map(|u| format!(", expected uplift {:+.0} %", u * 100.0))
                    .unwrap_or_default()
            ),
            Change::NewRegion {
                region,
                opens,
                from_region,
                share,
                platforms,
            } => format!(
                "{region} opens on {opens} and takes {:.0} % of {from_region}'s {}",
                share * 100.0,
                if platforms.is_empty() {
                    "players".to_string()
                } else {
                    format!("{} players", platforms.join(", "))
                }
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file name it came from.
    pub source: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScenarioError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {section} {index}: {message}")]
    Change {
        file: String,
        section: &'static str,
        index: usize,
        message: String,
    },
    #[error("scenario '{scenario}': {message}")]
    Apply { scenario: String, message: String },
}

const SECTIONS: [&str; 4] = ["move_event", "scale_uplift", "add_event", "new_region"];

fn check_keys(fields: &toml::Table, allowed: &[&str]) -> Result<(), String> {
    for key in fields.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(format!(
                "unknown field '{key}' (fields: {})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

fn text_field(fields: &toml::Table, key: &str) -> Result<String, String> {
    fields
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("field '{key}' is missing or empty"))
}

fn number_field(fields: &toml::Table, key: &str) -> Result<f64, String> {
    let v = fields
        .get(key)
        .ok_or_else(|| format!("field '{key}' is missing"))?;
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("field '{key}' must be a number"))
}

fn region_field(fields: &toml::Table, key: &str) -> Result<String, String> {
    let r = text_field(fields, key)?;
    if dims::region_name(&r).is_none() {
        return Err(format!(
            "field '{key}': unknown region '{r}' (use a cloud region code such as eu-central-1)"
        ));
    }
    Ok(r)
}

fn parse_change(section: &str, fields: &toml::Table, file: &str) -> Result<Change, String> {
    match section {
        "move_event" => {
            check_keys(fields, &["event", "days"])?;
            let days = fields
                .get("days")
                .and_then(|v| v.as_integer())
                .ok_or("field 'days' must be a whole number of days (negative: earlier)")?;
            if days == 0 || days.abs() > 730 {
                return Err(format!(
                    "field 'days' is {days}: expected -730 to 730, not 0"
                ));
            }
            Ok(Change::MoveEvent {
                event: text_field(fields, "event")?,
                days,
            })
        }
        "scale_uplift" => {
            check_keys(fields, &["event", "kind", "factor"])?;
            let target = match (fields.get("event"), fields.get("kind")) {
                (Some(_), None) => Target::Event(text_field(fields, "event")?),
                (None, Some(_)) => Target::Kind(
                    text_field(fields, "kind")?
                        .parse()
                        .map_err(|e: String| format!("field 'kind': {e}"))?,
                ),
                _ => return Err("give either 'event' (a name) or 'kind', not both".to_string()),
            };
            let factor = number_field(fields, "factor")?;
            if !(0.0..=10.0).contains(&factor) {
                return Err(format!(
                    "field 'factor' is {factor}: expected 0 to 10 (1.5 means half as much again)"
                ));
            }
            Ok(Change::ScaleUplift { target, factor })
        }
        "add_event" => calendar::parse_one(fields, file).map(Change::AddEvent),
        "new_region" => {
            check_keys(
                fields,
                &["region", "opens", "from_region", "share", "platforms"],
            )?;
            let region = region_field(fields, "region")?;
            let from_region = region_field(fields, "from_region")?;
            if region == from_region {
                return Err("'region' and 'from_region' are the same".to_string());
            }
            let share = number_field(fields, "share")?;
            if !(share > 0.0 && share <= 1.0) {
                return Err(format!(
                    "field 'share' is {share}: expected a fraction above 0 and at most 1 (0.4 = 40 %)"
                ));
            }
            let platforms = calendar::platform_list(fields, "platforms")?;
            Ok(Change::NewRegion {
                region,
                opens: calendar::date_field(fields, "opens")?,
                from_region,
                share,
                platforms,
            })
        }
        _ => Err(format!("unknown section '{section}'")),
    }
}

/// Parses and validates a scenario file. `file` names it in errors.
pub fn parse_scenario(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let syntax = |message: String| ScenarioError::Syntax {
        file: file.to_string(),
        message,
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| syntax(e.to_string().trim().replace('\n', " ")))?;
    for key in table.keys() {
        if !(SECTIONS.contains(&key.as_str()) || key == "name" || key == "description") {
            return Err(syntax(format!(
                "unexpected top-level key '{key}' (name, description, and [[{}]] tables)",
                SECTIONS.join("]], [[")
            )));
        }
    }
    let name = text_field(&table, "name").map_err(syntax)?;
    let description = match table.get("description") {
        None => String::new(),
        Some(v) => v
            .as_str()
            .ok_or_else(|| syntax("'description' must be text".to_string()))?
            .trim()
            .to_string(),
    };
    let mut changes = Vec::new();
    for section in SECTIONS {
        let Some(items) = table.get(section) else {
            continue;
        };
        let items = items.as_array().ok_or_else(|| {
            syntax(format!(
                "'{section}' must be an array of tables ([[{section}]])"
            ))
        })?;
        for (i, item) in items.iter().enumerate() {
            let err = |message: String| ScenarioError::Change {
                file: file.to_string(),
                section,
                index: i + 1,
                message,
            };
            let fields = item
                .as_table()
                .ok_or_else(|| err("must be a table".to_string()))?;
            changes.push(parse_change(section, fields, file).map_err(err)?);
        }
    }
    if changes.is_empty() {
        return Err(syntax(format!(
            "no changes: add at least one of [[{}]]",
            SECTIONS.join("]], [[")
        )));
    }
    Ok(Scenario {
        name,
        description,
        source: calendar::file_label(file),
        changes,
    })
}

/// What a scenario does to the forecast's inputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    pub events: Vec<CalendarEvent>,
    /// Extra-demand factors by event name.
    pub uplift_factors: Vec<(String, f64)>,
}

impl Scenario {
    /// The calendar as the scenario has it, and the uplift factors. A
    /// change that names an event the calendar does not have is an error.
    pub fn apply_to_events(&self, events: &[CalendarEvent]) -> Result<Applied, ScenarioError> {
        let err = |message: String| ScenarioError::Apply {
            scenario: self.name.clone(),
            message,
        };
        let mut out = events.to_vec();
        let mut factors: Vec<(String, f64)> = Vec::new();
        for change in &self.changes {
            match change {
                Change::MoveEvent { event, days } => {
                    let mut found = false;
                    for e in out
                        .iter_mut()
                        .filter(|e| e.name.eq_ignore_ascii_case(event))
                    {
                        e.start += chrono::Duration::days(*days);
                        e.end += chrono::Duration::days(*days);
                        found = true;
                    }
                    if !found {
                        return Err(err(format!(
                            "move_event: the calendar has no event named '{event}'"
                        )));
                    }
                }
                Change::ScaleUplift { target, factor } => {
                    let names: Vec<String> = out
                        .iter()
                        .filter(|e| match target {
                            Target::Event(n) => e.name.eq_ignore_ascii_case(n),
                            Target::Kind(k) => e.kind == *k,
                        })
                        .map(|e| e.name.clone())
                        .collect();
                    if names.is_empty() {
                        return Err(err(match target {
                            Target::Event(n) => {
                                format!("scale_uplift: the calendar has no event named '{n}'")
                            }
                            Target::Kind(k) => {
                                format!("scale_uplift: the calendar has no {} event", k.as_str())
                            }
                        }));
                    }
                    for n in names {
                        match factors.iter_mut().find(|f| f.0 == n) {
                            Some(f) => f.1 *= factor,
                            None => factors.push((n, *factor)),
                        }
                    }
                }
                Change::AddEvent(e) => out.push(e.clone()),
                Change::NewRegion { .. } => {}
            }
        }
        out.sort_by(|a, b| a.start.cmp(&b.start).then(a.name.cmp(&b.name)));
        Ok(Applied {
            events: out,
            uplift_factors: factors,
        })
    }

    /// Region openings, applied to a reconciled forecast. A region to take
    /// players from that has no forecast is an error.
    pub fn apply_to_forecast(&self, hierarchy: &mut Hierarchy) -> Result<(), ScenarioError> {
        for change in &self.changes {
            if let Change::NewRegion {
                region,
                opens,
                from_region,
                share,
                platforms,
            } = change
            {
                if hierarchy.find(None, Some(from_region)).is_none() {
                    return Err(ScenarioError::Apply {
                        scenario: self.name.clone(),
                        message: format!(
                            "new_region: from_region '{from_region}' has no data to take players from"
                        ),
                    });
                }
                hierarchy.move_share(from_region, region, *opens, *share, platforms);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
name = "Expansion slips"
description = "Four weeks late, and bigger"

[[move_event]]
event = "Expansion launch"
days = 28

[[scale_uplift]]
kind = "launch"
factor = 1.5

[[new_region]]
region = "me-central-1"
opens = 2027-03-01
from_region = "eu-central-1"
share = 0.4
"#;

    fn launch() -> CalendarEvent {
        calendar::parse_calendar(
            "c.toml",
            "[[event]]\nname = \"Expansion launch\"\nkind = \"launch\"\nstart = 2027-02-23\nend = 2027-03-08\n",
        )
        .unwrap()
        .remove(0)
    }

    #[test]
    fn parses_and_applies_every_change() {
        let s = parse_scenario("scenarios/slip.toml", FILE).unwrap();
        assert_eq!(s.source, "slip.toml");
        assert_eq!(s.changes.len(), 3);
        assert_eq!(
            s.changes[0].describe(),
            "'Expansion launch' moves 28 days later"
        );
        let applied = s.apply_to_events(&[launch()]).unwrap();
        assert_eq!(
            applied.events[0].start,
            NaiveDate::from_ymd_opt(2027, 3, 23).unwrap()
        );
        assert_eq!(
            applied.uplift_factors,
            vec![("Expansion launch".to_string(), 1.5)]
        );
    }

    #[test]
    fn errors_name_the_file_section_and_field() {
        let bad = FILE.replace("share = 0.4", "share = 40");
        assert_eq!(
            parse_scenario("s.toml", &bad).unwrap_err().to_string(),
            "s.toml: new_region 1: field 'share' is 40: expected a fraction above 0 and at most 1 (0.4 = 40 %)"
        );
        let bad = FILE.replace("me-central-1", "mars-north-1");
        assert!(parse_scenario("s.toml", &bad)
            .unwrap_err()
            .to_string()
            .contains("new_region 1: field 'region': unknown region 'mars-north-1'"));
        let bad = FILE.replace("days = 28", "days = \"a month\"");
        assert!(parse_scenario("s.toml", &bad)
            .unwrap_err()
            .to_string()
            .starts_with("s.toml: move_event 1: field 'days' must be a whole number"));
        assert_eq!(
            parse_scenario("s.toml", "name = \"x\"").unwrap_err().to_string(),
            "s.toml: no changes: add at least one of [[move_event]], [[scale_uplift]], [[add_event]], [[new_region]]"
        );
        let s = parse_scenario("s.toml", &FILE.replace("Expansion launch", "Nope")).unwrap();
        assert_eq!(
            s.apply_to_events(&[launch()]).unwrap_err().to_string(),
            "scenario 'Expansion slips': move_event: the calendar has no event named 'Nope'"
        );
    }
}
