//! The kinds of alert rule and how one is written down: from the CLI's
//! flags or the Alerts page's form, checked before it is stored.

use crate::db::alerts::{NewRule, Rule};
use crate::money::Micros;

/// What a rule watches.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A budget's actual spend, or its forecast to the month's end, at or
    /// past `percent` of it.
    Budget { forecast: bool, percent: f64 },
    /// A cost anomaly (not marked false alarm or planned) whose impact is
    /// at least this much.
    Anomaly { min_impact: Micros },
    /// A commitment (Savings Plan, RI) ending within this many days.
    CommitmentExpiry { days: i64 },
    /// The month's unallocated cost above `percent` of its cost.
    Unallocated { percent: f64 },
    /// An import or pull failing.
    RunFailed,
}

pub const KINDS: [&str; 5] = [
    "budget",
    "anomaly",
    "commitment-expiry",
    "unallocated",
    "run-failed",
];

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Budget { .. } => "budget",
            Kind::Anomaly { .. } => "anomaly",
            Kind::CommitmentExpiry { .. } => "commitment-expiry",
            Kind::Unallocated { .. } => "unallocated",
            Kind::RunFailed => "run-failed",
        }
    }

    /// The stored rule's kind.
    pub fn of(rule: &Rule) -> Option<Kind> {
        Some(match rule.kind.as_str() {
            "budget" => Kind::Budget {
                forecast: rule.basis == "forecast",
                percent: rule.percent,
            },
            "anomaly" => Kind::Anomaly {
                min_impact: Micros(rule.impact_micros),
            },
            "commitment-expiry" => Kind::CommitmentExpiry { days: rule.days },
            "unallocated" => Kind::Unallocated {
                percent: rule.percent,
            },
            "run-failed" => Kind::RunFailed,
            _ => return None,
        })
    }

    /// "forecast ≥ 80 % of a budget", for lists.
    pub fn describe(&self, currency: &str) -> String {
        match self {
            Kind::Budget { forecast, percent } => format!(
                "{} at or past {} % of a budget",
                if *forecast {
                    "forecast to the month's end"
                } else {
                    "actual spend"
                },
                trim(*percent)
            ),
            Kind::Anomaly { min_impact } => format!(
                "a cost anomaly ending in the last {} days of data, impact {} or more, not marked false alarm or planned",
                super::evaluate::ANOMALY_RECENT_DAYS,
                min_impact.display(currency)
            ),
            Kind::CommitmentExpiry { days } => {
                format!("a commitment ends within {days} days")
            }
            Kind::Unallocated { percent } => {
                format!(
                    "unallocated effective cost above {} % of the month so far",
                    trim(*percent)
                )
            }
            Kind::RunFailed => "an import or pull fails".to_string(),
        }
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A rule as written on the command line or the page, before checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleInput {
    pub name: String,
    pub kind: String,
    /// Budget rules: `actual` or `forecast`.
    pub basis: String,
    /// Budget and unallocated rules.
    pub percent: String,
    /// Anomaly rules: money.
    pub min_impact: String,
    /// Commitment rules.
    pub days: String,
    pub channels: Vec<String>,
}

/// Checks `input` against the channels that exist; the message names the
/// field at fault.
pub fn parse(
    input: &RuleInput,
    channels: &[String],
    by: &str,
    now: chrono::NaiveDateTime,
) -> Result<NewRule, String> {
    let name = input.name.trim();
    if name.is_empty()
        || name.len() > 60
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_ .".contains(c))
    {
        return Err(format!(
            "Name '{name}': 1 to 60 letters, digits, spaces, '-', '_' or '.'"
        ));
    }
    let percent = || -> Result<f64, String> {
        let text = input.percent.trim().trim_end_matches('%').trim();
        if text.is_empty() {
            return Err("Percent: give one (80 alerts at 80 %)".to_string());
        }
        let v: f64 = text
            .parse()
            .map_err(|_| format!("Percent: '{}' is not a number", input.percent))?;
        if !(v > 0.0 && v <= 1000.0) {
            return Err(format!(
                "Percent: {v} is out of range (above 0, at most 1000)"
            ));
        }
        Ok(v)
    };
    let mut rule = NewRule {
        name: name.to_string(),
        kind: String::new(),
        basis: String::new(),
        percent: 0.0,
        impact_micros: 0,
        days: 0,
        channels: String::new(),
        created_by: by.to_string(),
        created_at: now,
    };
    match input.kind.trim() {
        "budget" => {
            rule.basis = match input.basis.trim() {
                "" | "actual" => "actual".to_string(),
                "forecast" => "forecast".to_string(),
                other => return Err(format!("Basis: '{other}' is not actual or forecast")),
            };
            rule.percent = percent()?;
        }
        "anomaly" => {
            // "$1,000" as typed: the currency sign is not part of the amount.
            let cleaned: String = input
                .min_impact
                .trim()
                .chars()
                .filter(|c| !matches!(c, '$' | '€' | '£' | '¥'))
                .collect();
            let text = if cleaned.trim().is_empty() {
                "0"
            } else {
                cleaned.trim()
            };
            let m = crate::budget::parse_amount(text).or_else(|e| {
                if text == "0" {
                    Ok(Micros::ZERO)
                } else {
                    Err(e)
                }
            });
            rule.impact_micros = m.map_err(|e| format!("Smallest impact: {e}"))?.0;
        }
        "commitment-expiry" => {
            let d: i64 = input
                .days
                .trim()
                .parse()
                .map_err(|_| format!("Days: '{}' is not a whole number", input.days))?;
            if !(1..=1095).contains(&d) {
                return Err(format!("Days: {d} is out of range 1 to 1095"));
            }
            rule.days = d;
        }
        "unallocated" => rule.percent = percent()?,
        "run-failed" => {}
        other => {
            return Err(format!(
                "Kind: '{other}' is not one of {}",
                KINDS.join(", ")
            ))
        }
    }
    rule.kind = input.kind.trim().to_string();
    let mut names: Vec<String> = Vec::new();
    for c in input
        .channels
        .iter()
        .flat_map(|c| crate::db::alerts::split_channels(c))
    {
        if !channels.contains(&c) {
            return Err(if channels.is_empty() {
                format!("Send to: channel '{c}' is not configured: no alert_channel is set in the settings")
            } else {
                format!(
                    "Send to: channel '{c}' is not configured (configured: {})",
                    channels.join(", ")
                )
            });
        }
        if !names.contains(&c) {
            names.push(c);
        }
    }
    if names.is_empty() {
        return Err("Send to: tick at least one channel".to_string());
    }
    rule.channels = names.join(",");
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    #[test]
    fn rules_are_checked_field_by_field() {
        let ch = vec!["finance".to_string()];
        let ok = parse(
            &RuleInput {
                name: "forecast over".into(),
                kind: "budget".into(),
                basis: "forecast".into(),
                percent: "100%".into(),
                channels: vec!["finance".into()],
                ..RuleInput::default()
            },
            &ch,
            "ana",
            now(),
        )
        .unwrap();
        assert_eq!((ok.basis.as_str(), ok.percent), ("forecast", 100.0));
        let bad = |i: RuleInput| parse(&i, &ch, "ana", now()).unwrap_err();
        assert_eq!(
            bad(RuleInput {
                name: "x".into(),
                kind: "budget".into(),
                percent: "lots".into(),
                channels: vec!["finance".into()],
                ..RuleInput::default()
            }),
            "Percent: 'lots' is not a number"
        );
        assert!(bad(RuleInput {
            name: "x".into(),
            kind: "anomaly".into(),
            channels: vec!["pager".into()],
            ..RuleInput::default()
        })
        .starts_with("Send to: channel 'pager' is not configured"));
        assert!(bad(RuleInput {
            name: "x".into(),
            kind: "weather".into(),
            channels: vec!["finance".into()],
            ..RuleInput::default()
        })
        .starts_with("Kind: 'weather'"));
    }
}
