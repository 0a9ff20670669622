//! The marketing calendar: launches, sales, seasons, platform events and
//! maintenance windows, kept as TOML files in `forecasts/`.
//!
//! ```toml
//! [[event]]
//! name = "Season 6 launch"
//! kind = "launch"              # launch | sale | season | platform_event | maintenance
//! start = 2026-03-17
//! end = 2026-03-30             # inclusive
//! platforms = ["PC", "PlayStation", "Xbox"]   # omit for every platform
//! regions = ["us-east-1"]      # omit for every region
//! expected_uplift = 0.45       # +45 % demand at the height of the event
//! ramp_days = 3                # demand starts rising this many days before start
//! notes = "Battle pass, new map"
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::Serialize;

use crate::dims::{self, Platform};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Launch,
    Sale,
    Season,
    PlatformEvent,
    Maintenance,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Launch,
        EventKind::Sale,
        EventKind::Season,
        EventKind::PlatformEvent,
        EventKind::Maintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Launch => "launch",
            EventKind::Sale => "sale",
            EventKind::Season => "season",
            EventKind::PlatformEvent => "platform_event",
            EventKind::Maintenance => "maintenance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::Launch => "Launch",
            EventKind::Sale => "Sale",
            EventKind::Season => "Season",
            EventKind::PlatformEvent => "Platform event",
            EventKind::Maintenance => "Maintenance",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(text: &str) -> Result<EventKind, String> {
        let key = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == key)
            .ok_or_else(|| {
                format!(
                    "unknown event kind '{text}' (known: launch, sale, season, platform_event, maintenance)"
                )
            })
    }
}

/// One calendar event. `end` is inclusive; empty `platforms` / `regions`
/// mean every platform / region.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalendarEvent {
    pub id: Option<i64>,
    pub name: String,
    pub kind: EventKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub platforms: Vec<String>,
    pub regions: Vec<String>,
    pub expected_uplift: Option<f64>,
    pub ramp_days: Option<u32>,
    pub notes: String,
    pub source: String,
}

impl CalendarEvent {
    pub fn applies_to(&self, platform: &str, region: &str) -> bool {
        (self.platforms.is_empty() || self.platforms.iter().any(|p| p == platform))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }

    pub fn duration_days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    pub fn overlaps(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.start <= to && self.end >= from
    }
}

/// A calendar file that failed validation: names the file, the event and
/// the field.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalendarError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: event {index} ('{name}'): {message}")]
    Event {
        file: String,
        index: usize,
        name: String,
        message: String,
    },
}

/// Parses and validates a calendar file's text. `file` names it in errors.
pub fn parse_calendar(file: &str, text: &str) -> Result<Vec<CalendarEvent>, CalendarError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| CalendarError::Syntax {
            file: file.to_string(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
    for key in table.keys() {
        if key != "event" {
            return Err(CalendarError::Syntax {
                file: file.to_string(),
                message: format!(
                    "unexpected top-level key '{key}' (events go in [[event]] tables)"
                ),
            });
        }
    }
    let Some(items) = table.get("event") else {
        return Ok(Vec::new());
    };
    let items = items.as_array().ok_or_else(|| CalendarError::Syntax {
        file: file.to_string(),
        message: "'event' must be an array of tables ([[event]])".into(),
    })?;
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let index = i + 1;
        let name = item
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let err = |message: String| CalendarError::Event {
            file: file.to_string(),
            index,
            name: name.clone(),
            message,
        };
        let fields = item
            .as_table()
            .ok_or_else(|| err("must be a table".into()))?;
        let event = parse_event(fields, file).map_err(err)?;
        events.push(event);
    }
    check_duplicates(file, &events)?;
    Ok(events)
}

/// Validates one event given as TOML fields (the Calendar page builds
/// them from its form), with the file rules. Errors name the field.
pub fn parse_one(fields: &toml::Table, source: &str) -> Result<CalendarEvent, String> {
    let mut event = parse_event(fields, source)?;
    event.source = source.to_string();
    Ok(event)
}

/// Whether `candidate` duplicates one of `existing` (same name and kind,
/// overlapping dates, another id): the message names the other event.
pub fn duplicate_of(candidate: &CalendarEvent, existing: &[CalendarEvent]) -> Option<String> {
    existing
        .iter()
        .filter(|e| e.id.is_none() || e.id != candidate.id)
        .find(|e| {
            e.name.eq_ignore_ascii_case(&candidate.name)
                && e.kind == candidate.kind
                && e.overlaps(candidate.start, candidate.end)
        })
        .map(|e| {
            format!(
                "'{}' ({}, {} to {}, from {}) already covers these dates: same name and kind",
                e.name,
                e.kind.as_str(),
                e.start,
                e.end,
                e.source
            )
        })
}

/// Events as a calendar file (the format `parse_calendar` reads), for
/// committing page edits to `forecasts/`.
pub fn to_toml(events: &[CalendarEvent]) -> String {
    let mut out = String::from("# Marketing calendar exported by finops\n");
    for e in events {
        let mut t = toml::Table::new();
        t.insert("name".into(), toml::Value::String(e.name.clone()));
        t.insert("kind".into(), toml::Value::String(e.kind.as_str().into()));
        for (key, date) in [("start", e.start), ("end", e.end)] {
            if let Ok(d) = date.to_string().parse::<toml::value::Datetime>() {
                t.insert(key.into(), toml::Value::Datetime(d));
            }
        }
        let list =
            |v: &[String]| toml::Value::Array(v.iter().cloned().map(toml::Value::String).collect());
        if !e.platforms.is_empty() {
            t.insert("platforms".into(), list(&e.platforms));
        }
        if !e.regions.is_empty() {
            t.insert("regions".into(), list(&e.regions));
        }
        if let Some(u) = e.expected_uplift {
            t.insert("expected_uplift".into(), toml::Value::Float(u));
        }
        if let Some(r) = e.ramp_days {
            t.insert("ramp_days".into(), toml::Value::Integer(i64::from(r)));
        }
        if !e.notes.is_empty() {
            t.insert("notes".into(), toml::Value::String(e.notes.clone()));
        }
        out.push_str("\n[[event]]\n");
        out.push_str(&toml::to_string(&t).unwrap_or_default());
    }
    out
}

const FIELDS: [&str; 9] = [
    "name",
    "kind",
    "start",
    "end",
    "platforms",
    "regions",
    "expected_uplift",
    "ramp_days",
    "notes",
];

fn parse_event(fields: &toml::Table, file: &str) -> Result<CalendarEvent, String> {
    for key in fields.keys() {
        if !FIELDS.contains(&key.as_str()) {
            return Err(format!(
                "unknown field '{key}' (fields: {})",
                FIELDS.join(", ")
            ));
        }
    }
    let name = fields
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("field 'name' is missing or empty")?
        .to_string();
    let kind: EventKind = fields
        .get("kind")
        .and_then(|v| v.as_str())
        .ok_or("field 'kind' is missing")?
        .parse()
        .map_err(|e: String| format!("field 'kind': {e}"))?;
    let start = date_field(fields, "start")?;
    let end = date_field(fields, "end")?;
    if end < start {
        return Err(format!("field 'end' ({end}) is before 'start' ({start})"));
    }
    let platforms = platform_list(fields, "platforms")?;
    let regions = string_list(fields, "regions")?;
    for r in &regions {
        if dims::region_name(r).is_none() {
            return Err(format!(
                "field 'regions': unknown region '{r}' (use a cloud region code such as us-east-1)"
            ));
        }
    }
    let expected_uplift = match fields.get("expected_uplift") {
        None => None,
        Some(v) => {
            let x = v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .ok_or("field 'expected_uplift' must be a number such as 0.4 (for +40 %)")?;
            if !(-0.95..=20.0).contains(&x) {
                return Err(format!(
                    "field 'expected_uplift' is {x}: expected a fraction between -0.95 and 20 (0.4 means +40 %)"
                ));
            }
            Some(x)
        }
    };
    let ramp_days = match fields.get("ramp_days") {
        None => None,
        Some(v) => {
            let d = v
                .as_integer()
                .ok_or("field 'ramp_days' must be a whole number of days")?;
            if !(0..=90).contains(&d) {
                return Err(format!("field 'ramp_days' is {d}: expected 0 to 90"));
            }
            Some(d as u32)
        }
    };
    let notes = match fields.get("notes") {
        None => String::new(),
        Some(v) => v.as_str().ok_or("field 'notes' must be text")?.to_string(),
    };
    Ok(CalendarEvent {
        id: None,
        name,
        kind,
        start,
        end,
        platforms,
        regions,
        expected_uplift,
        ramp_days,
        notes,
        source: file_label(file),
    })
}

/// The file name without directories, as recorded in the database.
pub fn file_label(file: &str) -> String {
    std::path::Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

pub(crate) fn date_field(fields: &toml::Table, key: &str) -> Result<NaiveDate, String> {
    let value = fields
        .get(key)
        .ok_or_else(|| format!("field '{key}' is missing"))?;
    let text = match value {
        toml::Value::Datetime(dt) => dt.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => return Err(format!("field '{key}' must be a date such as 2026-03-17")),
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("field '{key}' is '{text}': expected a date YYYY-MM-DD"))
}

/// A list of platform names, each written the one way the project
/// stores it.
pub(crate) fn platform_list(fields: &toml::Table, key: &str) -> Result<Vec<String>, String> {
    string_list(fields, key)?
        .into_iter()
        .map(|p| {
            p.parse::<Platform>()
                .map(|p| p.as_str().to_string())
                .map_err(|e| format!("field '{key}': {e}"))
        })
        .collect()
}

pub(crate) fn string_list(fields: &toml::Table, key: &str) -> Result<Vec<String>, String> {
    match fields.get(key) {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| format!("field '{key}' must be a list of text values"))
            })
            .collect(),
        Some(_) => Err(format!(
            "field '{key}' must be a list such as [\"PC\", \"Xbox\"]"
        )),
    }
}

/// Two events with the same name and kind whose dates overlap are the same
/// event entered twice.
fn check_duplicates(file: &str, events: &[CalendarEvent]) -> Result<(), CalendarError> {
    for (j, b) in events.iter().enumerate() {
        for (i, a) in events[..j].iter().enumerate() {
            if a.name.eq_ignore_ascii_case(&b.name)
                && a.kind == b.kind
                && a.overlaps(b.start, b.end)
            {
                return Err(CalendarError::Event {
                    file: file.to_string(),
                    index: j + 1,
                    name: b.name.clone(),
                    message: format!(
                        "duplicates event {} ('{}', {} to {}): same name and kind with overlapping dates",
                        i + 1,
                        a.name,
                        a.start,
                        a.end
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[event]]
name = "Season 6 launch"
kind = "launch"
start = 2026-03-17
end = 2026-03-30
platforms = ["PC", "ps5"]
expected_uplift = 0.45
ramp_days = 3

[[event]]
name = "Summer Sale"
kind = "sale"
start = "2026-06-25"
end = "2026-07-09"
regions = ["eu-west-1"]
"#;

    #[test]
    fn parses_a_calendar() {
        let events = parse_calendar("forecasts/x.toml", GOOD).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::Launch);
        assert_eq!(events[0].platforms, vec!["PC", "PlayStation"]);
        assert_eq!(events[0].duration_days(), 14);
        assert_eq!(events[0].source, "x.toml");
        assert!(events[1].applies_to("Xbox", "eu-west-1"));
        assert!(!events[1].applies_to("Xbox", "us-east-1"));
    }

    fn error_of(text: &str) -> String {
        parse_calendar("cal.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn rejects_end_before_start() {
        let e = error_of("[[event]]\nname='A'\nkind='sale'\nstart=2026-02-10\nend=2026-02-01\n");
        assert_eq!(
            e,
            "cal.toml: event 1 ('A'): field 'end' (2026-02-01) is before 'start' (2026-02-10)"
        );
    }

    #[test]
    fn rejects_unknown_platform_region_and_kind() {
        let e = error_of("[[event]]\nname='A'\nkind='sale'\nstart=2026-02-01\nend=2026-02-01\nplatforms=['Dreamcast']\n");
        assert!(e.contains("unknown platform 'Dreamcast'"), "{e}");
        let e = error_of("[[event]]\nname='A'\nkind='sale'\nstart=2026-02-01\nend=2026-02-01\nregions=['moon-1']\n");
        assert!(e.contains("unknown region 'moon-1'"), "{e}");
        let e = error_of("[[event]]\nname='A'\nkind='party'\nstart=2026-02-01\nend=2026-02-01\n");
        assert!(e.contains("unknown event kind 'party'"), "{e}");
    }

    #[test]
    fn rejects_overlapping_duplicates() {
        let e = error_of(
            "[[event]]\nname='Sale'\nkind='sale'\nstart=2026-02-01\nend=2026-02-10\n\
             [[event]]\nname='sale'\nkind='sale'\nstart=2026-02-05\nend=2026-02-12\n",
        );
        assert!(
            e.starts_with("cal.toml: event 2 ('sale'): duplicates event 1"),
            "{e}"
        );
    }

    #[test]
    fn reports_syntax_errors_with_the_file() {
        let e = error_of("[[event]\nname=");
        assert!(e.starts_with("cal.toml: "), "{e}");
        let e = error_of("[[event]]\nname='A'\nkind='sale'\nstart='2026-13-01'\nend=2026-02-01\n");
        assert!(e.contains("field 'start' is '2026-13-01'"), "{e}");
    }
}
