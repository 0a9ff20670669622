//! Allocation: which player platform each cost belongs to.
//!
//! Rules apply in order; the first that matches decides. A rule matches on
//! a tag key, an account id, or a regular expression over the resource.
//! It assigns a platform, the platform the tag's value names, or `shared`:
//! a split across platforms by a driver (player-hours by default) taken
//! from player activity on the same day, in the same region where there is
//! activity there, else across all regions, else equally. Cost no rule
//! matches is `unallocated`. Splits are exact: parts are whole micro-units
//! that sum to the whole (largest remainder).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use regex::Regex;

use super::billing::ResourceDay;
use crate::db::activity::DriverValue;
use crate::db::allocation_rules::{NewRule, StoredRule};
use crate::db::costs::NewCost;
use crate::dims::{Platform, UNALLOCATED};
use crate::money::Micros;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("rule {position}: unknown kind '{kind}' (use tag, account or resource)")]
    Kind { position: usize, kind: String },
    #[error("rule {position}: the pattern is empty")]
    EmptyPattern { position: usize },
    #[error("rule {position}: '{pattern}' is not a valid regular expression: {message}")]
    Regex {
        position: usize,
        pattern: String,
        message: String,
    },
    #[error("rule {position}: unknown platform '{platform}' (use PC, PlayStation, Xbox, Switch, iOS, Android, shared, or leave empty to take the tag's value)")]
    Platform { position: usize, platform: String },
    #[error("rule {position}: only a tag rule can take the platform from the tag's value; choose a platform or shared")]
    ValueNeedsTag { position: usize },
    #[error(
        "rule {position}: unknown driver '{driver}' (use player_hours, peak_players or equal)"
    )]
    Driver { position: usize, driver: String },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Tag,
    Account,
    Resource,
}

impl RuleKind {
    pub fn parse(text: &str) -> Option<RuleKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tag" => Some(RuleKind::Tag),
            "account" => Some(RuleKind::Account),
            "resource" => Some(RuleKind::Resource),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Tag => "tag",
            RuleKind::Account => "account",
            RuleKind::Resource => "resource",
        }
    }
}

/// What a shared cost is split by.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    PlayerHours,
    PeakPlayers,
    Equal,
}

impl Driver {
    pub fn parse(text: &str) -> Option<Driver> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "" | "player_hours" => Some(Driver::PlayerHours),
            "peak_players" | "peak_concurrent_players" => Some(Driver::PeakPlayers),
            "equal" => Some(Driver::Equal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Driver::PlayerHours => "player_hours",
            Driver::PeakPlayers => "peak_players",
            Driver::Equal => "equal",
        }
    }
}

/// What a matching rule assigns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The platform the tag's value names (`shared` splits).
    TagValue,
    Platform(Platform),
    Shared,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub kind: RuleKind,
    pub pattern: String,
    pub target: Target,
    pub driver: Driver,
    regex: Option<Regex>,
}

/// One rule as an admin writes it (form fields or the stored row).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleInput {
    pub kind: String,
    pub pattern: String,
    /// A platform, `shared`, or empty for the tag's value.
    pub platform: String,
    pub driver: String,
    pub note: String,
}

impl From<&StoredRule> for RuleInput {
    fn from(r: &StoredRule) -> RuleInput {
        RuleInput {
            kind: r.kind.clone(),
            pattern: r.pattern.clone(),
            platform: r.platform.clone(),
            driver: r.driver.clone(),
            note: r.note.clone(),
        }
    }
}

impl Rule {
    /// Validates one rule; `position` (1-based) is for messages.
    pub fn compile(position: usize, input: &RuleInput) -> Result<Rule, RuleError> {
        let kind = RuleKind::parse(&input.kind).ok_or_else(|| RuleError::Kind {
            position,
            kind: input.kind.clone(),
        })?;
        let pattern = input.pattern.trim().to_string();
        if pattern.is_empty() {
            return Err(RuleError::EmptyPattern { position });
        }
        let regex = match kind {
            RuleKind::Resource => Some(Regex::new(&pattern).map_err(|e| RuleError::Regex {
                position,
                pattern: pattern.clone(),
                message: e.to_string(),
            })?),
            _ => None,
        };
        let platform = input.platform.trim();
        let target = if platform.is_empty() {
            if kind != RuleKind::Tag {
                return Err(RuleError::ValueNeedsTag { position });
            }
            Target::TagValue
        } else if platform.eq_ignore_ascii_case("shared") {
            Target::Shared
        } else {
            Target::Platform(platform.parse().map_err(|_| RuleError::Platform {
                position,
                platform: platform.to_string(),
            })?)
        };
        let driver = Driver::parse(&input.driver).ok_or_else(|| RuleError::Driver {
            position,
            driver: input.driver.clone(),
        })?;
        Ok(Rule {
            kind,
            pattern,
            target,
            driver,
            regex,
        })
    }

    /// The stored form of a validated rule.
    pub fn to_new(&self, position: usize, note: &str) -> NewRule {
        NewRule {
            position: position as i32,
            kind: self.kind.as_str().to_string(),
            pattern: self.pattern.clone(),
            platform: match &self.target {
                Target::TagValue => String::new(),
                Target::Shared => "shared".to_string(),
                Target::Platform(p) => p.as_str().to_string(),
            },
            driver: self.driver.as_str().to_string(),
            note: note.trim().to_string(),
            updated_at: crate::clock::now(),
        }
    }
}

/// Validates a whole rule list.
pub fn compile_all(inputs: &[RuleInput]) -> Result<Vec<Rule>, RuleError> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, r)| Rule::compile(i + 1, r))
        .collect()
}

/// Where one cost goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assignment {
    Platform(Platform),
    Shared(Driver),
    Unallocated,
}

/// The first matching rule's assignment. Tags are the parsed JSON object.
pub fn assign(rules: &[Rule], row: &ResourceDay, tags: &HashMap<String, String>) -> Assignment {
    for rule in rules {
        let matched_value: Option<&str> = match rule.kind {
            RuleKind::Tag => tags.get(&rule.pattern).map(String::as_str),
            RuleKind::Account => (row.account_id == rule.pattern
                || row.billing_account == rule.pattern)
                .then_some(""),
            RuleKind::Resource => rule
                .regex
                .as_ref()
                .is_some_and(|re| re.is_match(&row.resource))
                .then_some(""),
        };
        let Some(value) = matched_value else { continue };
        match &rule.target {
            Target::Platform(p) => return Assignment::Platform(*p),
            Target::Shared => return Assignment::Shared(rule.driver),
            Target::TagValue => {
                if value.trim().eq_ignore_ascii_case("shared") {
                    return Assignment::Shared(rule.driver);
                }
                // A value that names no platform falls through to the next
                // rule (and is listed as unallocated if none matches).
                if let Ok(p) = value.parse::<Platform>() {
                    return Assignment::Platform(p);
                }
            }
        }
    }
    Assignment::Unallocated
}

/// Parses a tags JSON object into text values (numbers and booleans as
/// written; nested values ignored). Bad JSON reads as no tags.
pub fn parse_tags(text: &str) -> HashMap<String, String> {
    if text.is_empty() {
        return HashMap::new();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                serde_json::Value::Number(n) => Some((k, n.to_string())),
                serde_json::Value::Bool(b) => Some((k, b.to_string())),
                _ => None,
            })
            .collect(),
        _ => HashMap::new(),
    }
}

/// Driver weights per day (and region), from player activity.
#[derive(Default)]
pub struct Drivers {
    by_region: HashMap<(NaiveDate, String), BTreeMap<Platform, (f64, i64)>>,
    by_day: HashMap<NaiveDate, BTreeMap<Platform, (f64, i64)>>,
}

impl Drivers {
    pub fn new(values: &[DriverValue]) -> Drivers {
        let mut d = Drivers::default();
        for v in values {
            let Ok(p) = v.platform.parse::<Platform>() else {
                continue;
            };
            let e = d
                .by_region
                .entry((v.day, v.region.clone()))
                .or_default()
                .entry(p)
                .or_default();
            e.0 += v.player_hours;
            e.1 += v.peak_concurrent_players;
            let e = d.by_day.entry(v.day).or_default().entry(p).or_default();
            e.0 += v.player_hours;
            e.1 += v.peak_concurrent_players;
        }
        d
    }

    /// Weights of each platform for a cost on `day` in `region`.
    fn weights(&self, driver: Driver, day: NaiveDate, region: &str) -> Vec<(Platform, f64)> {
        let pick = |m: &BTreeMap<Platform, (f64, i64)>| -> Vec<(Platform, f64)> {
            m.iter()
                .map(|(p, (h, peak))| {
                    let w = match driver {
                        Driver::PlayerHours => *h,
                        Driver::PeakPlayers => *peak as f64,
                        Driver::Equal => 1.0,
                    };
                    (*p, w)
                })
                .filter(|(_, w)| *w > 0.0 && w.is_finite())
                .collect()
        };
        if driver != Driver::Equal {
            for m in [
                self.by_region.get(&(day, region.to_string())),
                self.by_day.get(&day),
            ]
            .into_iter()
            .flatten()
            {
                let w = pick(m);
                if !w.is_empty() {
                    return w;
                }
            }
        }
        Platform::ALL.iter().map(|p| (*p, 1.0)).collect()
    }
}

/// Splits `total` into whole micro-units proportional to `weights`, summing
/// exactly to `total` (largest remainder; ties to the earlier platform).
pub fn split_exact(total: Micros, weights: &[(Platform, f64)]) -> Vec<(Platform, Micros)> {
    let sum: f64 = weights.iter().map(|(_, w)| w).sum();
    if weights.is_empty() || sum <= 0.0 {
        return Vec::new();
    }
    let magnitude = total.0.unsigned_abs() as f64;
    let mut parts: Vec<(Platform, i64, f64)> = weights
        .iter()
        .map(|(p, w)| {
            let exact = magnitude * w / sum;
            (*p, exact.floor() as i64, exact - exact.floor())
        })
        .collect();
    let assigned: i64 = parts.iter().map(|(_, v, _)| v).sum();
    let mut left = total.0.abs() - assigned;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].2.total_cmp(&parts[*a].2).then(a.cmp(b)));
    let mut i = 0;
    while left > 0 && !order.is_empty() {
        parts[order[i % order.len()]].1 += 1;
        left -= 1;
        i += 1;
    }
    let sign = if total.0 < 0 { -1 } else { 1 };
    parts
        .into_iter()
        .map(|(p, v, _)| (p, Micros(v * sign)))
        .collect()
}

/// The result of allocation: report rows, and for each input row what it
/// was allocated to (a platform, `shared` or `unallocated`).
pub struct Allocation {
    pub costs: Vec<NewCost>,
    pub allocated_to: Vec<String>,
}

/// Allocates resource-day costs to platforms and sums them to the daily
/// report grain. `source` and `ingest_run_id` label the output rows.
pub fn allocate(
    rows: &[ResourceDay],
    rules: &[Rule],
    drivers: &Drivers,
    source: &str,
    ingest_run_id: Option<i64>,
    estimated: bool,
) -> Allocation {
    #[derive(Default)]
    struct Sums {
        billed: i64,
        effective: i64,
        list: Option<i64>,
        quantity: Option<f64>,
    }
    let mut out: BTreeMap<CostKey, Sums> = BTreeMap::new();
    let mut tag_cache: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut allocated_to = Vec::with_capacity(rows.len());
    for row in rows {
        let tags = tag_cache
            .entry(row.tags.clone())
            .or_insert_with(|| parse_tags(&row.tags));
        let assignment = assign(rules, row, tags);
        allocated_to.push(match &assignment {
            Assignment::Platform(p) => p.as_str().to_string(),
            Assignment::Shared(_) => "shared".to_string(),
            Assignment::Unallocated => UNALLOCATED.to_string(),
        });
        let parts: Vec<(String, Micros, Micros, Option<Micros>, f64)> = match assignment {
            Assignment::Platform(p) => vec![(
                p.as_str().to_string(),
                row.billed,
                row.effective,
                row.list,
                1.0,
            )],
            Assignment::Unallocated => vec![(
                UNALLOCATED.to_string(),
                row.billed,
                row.effective,
                row.list,
                1.0,
            )],
            Assignment::Shared(driver) => {
                let weights = drivers.weights(driver, row.day, &row.region);
                let total_w: f64 = weights.iter().map(|(_, w)| w).sum();
                let billed = split_exact(row.billed, &weights);
                let effective = split_exact(row.effective, &weights);
                let list = row.list.map(|l| split_exact(l, &weights));
                weights
                    .iter()
                    .enumerate()
                    .map(|(i, (p, w))| {
                        (
                            p.as_str().to_string(),
                            billed[i].1,
                            effective[i].1,
                            list.as_ref().map(|l| l[i].1),
                            w / total_w,
                        )
                    })
                    .collect()
            }
        };
        for (platform, billed, effective, list, share) in parts {
            let key = (
                row.day,
                row.billing_period.clone(),
                row.billing_account.clone(),
                row.provider.clone(),
                row.account_id.clone(),
                platform,
                row.region.clone(),
                row.service.clone(),
                row.charge_category.clone(),
                row.currency.clone(),
                row.usage_class.as_str().to_string(),
                row.usage_unit.clone(),
            );
            let s = out.entry(key).or_default();
            s.billed += billed.0;
            s.effective += effective.0;
            if let Some(l) = list {
                s.list = Some(s.list.unwrap_or(0) + l.0);
            }
            // The unit is part of the key: quantities that add up.
            if let Some(q) = row.usage_quantity {
                s.quantity = Some(s.quantity.unwrap_or(0.0) + q * share);
            }
        }
    }
    let costs = out
        .into_iter()
        .map(|(k, s)| NewCost {
            day: k.0,
            billing_period: k.1,
            billing_account: k.2,
            provider: k.3,
            account_id: k.4,
            platform: k.5,
            region: k.6,
            service: k.7,
            charge_category: k.8,
            source: source.to_string(),
            currency: k.9,
            billed_micros: s.billed,
            effective_micros: s.effective,
            list_micros: s.list,
            usage_quantity: s.quantity,
            usage_unit: k.11,
            usage_class: k.10,
            estimated: i32::from(estimated),
            ingest_run_id,
        })
        .collect();
    Allocation {
        costs,
        allocated_to,
    }
}

/// Report rows summed across several allocations (of slices of one
/// import).
#[derive(Default)]
pub struct CostSums {
    rows: BTreeMap<CostKey, NewCost>,
}

/// A report row's key: day, billing period, billing account, provider,
/// account, platform, region, service, charge category, currency, usage
/// class, usage unit. Lines of different units are different rows, so a
/// row's quantity always adds up and its class is never "mixed".
type CostKey = (
    NaiveDate,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

impl CostSums {
    pub fn add(&mut self, costs: Vec<NewCost>) {
        for c in costs {
            let key = (
                c.day,
                c.billing_period.clone(),
                c.billing_account.clone(),
                c.provider.clone(),
                c.account_id.clone(),
                c.platform.clone(),
                c.region.clone(),
                c.service.clone(),
                c.charge_category.clone(),
                c.currency.clone(),
                c.usage_class.clone(),
                c.usage_unit.clone(),
            );
            match self.rows.get_mut(&key) {
                None => {
                    self.rows.insert(key, c);
                }
                Some(s) => {
                    s.billed_micros += c.billed_micros;
                    s.effective_micros += c.effective_micros;
                    s.list_micros = match (s.list_micros, c.list_micros) {
                        (None, None) => None,
                        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
                    };
                    s.usage_quantity = match (s.usage_quantity, c.usage_quantity) {
                        (None, None) => None,
                        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
                    };
                }
            }
        }
    }

    pub fn into_costs(self) -> Vec<NewCost> {
        self.rows.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(resource: &str, tags: &str, billed: i64) -> ResourceDay {
        ResourceDay {
            day: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            billing_period: "2026-03".into(),
            billing_account: "111".into(),
            provider: "AWS".into(),
            account_id: "222".into(),
            region: "eu-west-1".into(),
            service: "Amazon EC2".into(),
            charge_category: "Usage".into(),
            currency: "USD".into(),
            resource: resource.into(),
            tags: tags.into(),
            billed: Micros(billed),
            effective: Micros(billed),
            list: None,
            usage_quantity: None,
            usage_unit: None,
            usage_class: crate::usage_class::UsageClass::Other,
            instance_type: String::new(),
            commitment_id: String::new(),
            commitment_type: String::new(),
            commitment_status: String::new(),
            commitment_end: String::new(),
        }
    }

    fn rules(list: &[(&str, &str, &str)]) -> Vec<Rule> {
        compile_all(
            &list
                .iter()
                .map(|(k, p, t)| RuleInput {
                    kind: k.to_string(),
                    pattern: p.to_string(),
                    platform: t.to_string(),
                    driver: String::new(),
                    note: String::new(),
                })
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn first_matching_rule_decides() {
        let r = rules(&[
            ("tag", "platform", ""),
            ("account", "222", "Xbox"),
            ("resource", "^ps-", "PlayStation"),
        ]);
        let a = |res: &str, tags: &str| {
            let row = row(res, tags, 1);
            assign(&r, &row, &parse_tags(&row.tags))
        };
        assert_eq!(
            a("x", r#"{"platform":"ps5"}"#),
            Assignment::Platform(Platform::PlayStation)
        );
        assert_eq!(
            a("x", r#"{"platform":"shared"}"#),
            Assignment::Shared(Driver::PlayerHours)
        );
        // An unknown tag value falls through to the account rule.
        assert_eq!(
            a("x", r#"{"platform":"dreamcast"}"#),
            Assignment::Platform(Platform::Xbox)
        );
        let r2 = rules(&[("resource", "^ps-", "PlayStation")]);
        let row2 = row("ps-fleet-1", "", 1);
        assert_eq!(
            assign(&r2, &row2, &HashMap::new()),
            Assignment::Platform(Platform::PlayStation)
        );
        let row3 = row("pc-fleet-1", "", 1);
        assert_eq!(assign(&r2, &row3, &HashMap::new()), Assignment::Unallocated);
    }

    #[test]
    fn rejects_bad_rules_with_their_position() {
        let bad = |k: &str, p: &str, t: &str| {
            Rule::compile(
                3,
                &RuleInput {
                    kind: k.into(),
                    pattern: p.into(),
                    platform: t.into(),
                    driver: String::new(),
                    note: String::new(),
                },
            )
            .err()
            .unwrap()
            .to_string()
        };
        assert!(bad("colour", "x", "PC").starts_with("rule 3: unknown kind"));
        assert!(bad("resource", "([", "PC").contains("not a valid regular expression"));
        assert!(bad("tag", "platform", "Dreamcast").contains("unknown platform 'Dreamcast'"));
        assert!(bad("account", "123", "").contains("only a tag rule"));
        assert!(bad("tag", " ", "").contains("pattern is empty"));
    }

    #[test]
    fn shared_costs_split_exactly_by_player_hours() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let drivers = Drivers::new(&[
            DriverValue {
                day,
                platform: "PC".into(),
                region: "eu-west-1".into(),
                player_hours: 2.0,
                peak_concurrent_players: 5,
            },
            DriverValue {
                day,
                platform: "Xbox".into(),
                region: "eu-west-1".into(),
                player_hours: 1.0,
                peak_concurrent_players: 5,
            },
        ]);
        let r = rules(&[("tag", "platform", "")]);
        let rows = vec![row("a", r#"{"platform":"shared"}"#, 1_000_001)];
        let out = allocate(&rows, &r, &drivers, "focus", None, false).costs;
        let by: HashMap<String, i64> = out
            .iter()
            .map(|c| (c.platform.clone(), c.billed_micros))
            .collect();
        assert_eq!(by["PC"], 666_667);
        assert_eq!(by["Xbox"], 333_334);
        assert_eq!(by.values().sum::<i64>(), 1_000_001);
        // Negative amounts (credits) split the same way.
        let parts = split_exact(Micros(-7), &[(Platform::Pc, 1.0), (Platform::Ios, 1.0)]);
        assert_eq!(parts.iter().map(|p| p.1 .0).sum::<i64>(), -7);
        // Without activity the split is equal over the six platforms.
        let out = allocate(&rows, &r, &Drivers::default(), "focus", None, false).costs;
        assert_eq!(out.len(), 6);
        assert_eq!(out.iter().map(|c| c.billed_micros).sum::<i64>(), 1_000_001);
    }

    #[test]
    fn instance_hours_and_storage_of_one_cell_stay_apart() {
        use crate::usage_class::UsageClass;
        let line = |resource: &str, billed, qty, unit: &str, class| ResourceDay {
            usage_quantity: Some(qty),
            usage_unit: Some(unit.to_string()),
            usage_class: class,
            ..row(resource, r#"{"platform":"PC"}"#, billed)
        };
        let rows = vec![
            line("i-1", 2_000_000, 24.0, "Hrs", UsageClass::ComputeInstance),
            line("i-2", 1_000_000, 12.0, "Hrs", UsageClass::ComputeInstance),
            line("vol-1", 300_000, 0.5, "GB-Mo", UsageClass::Other),
            line("i-1", 40_000, 4.0, "GB", UsageClass::Other),
        ];
        let r = rules(&[("tag", "platform", "")]);
        let out = allocate(&rows, &r, &Drivers::default(), "cur", None, false).costs;
        assert_eq!(out.len(), 3, "one row per class and unit: {out:?}");
        let hours = out
            .iter()
            .find(|c| c.usage_class == "compute_instance")
            .expect("instance hours");
        assert_eq!(hours.billed_micros, 3_000_000);
        assert_eq!(hours.usage_quantity, Some(36.0));
        assert_eq!(hours.usage_unit.as_deref(), Some("Hrs"));
        assert!(out.iter().all(|c| c.usage_unit.is_some()));
        assert_eq!(out.iter().map(|c| c.billed_micros).sum::<i64>(), 3_340_000);
        // Summing slices of one import keeps them apart too.
        let mut sums = CostSums::default();
        sums.add(out.clone());
        sums.add(out);
        let merged = sums.into_costs();
        assert_eq!(merged.len(), 3);
        assert_eq!(
            merged
                .iter()
                .find(|c| c.usage_class == "compute_instance")
                .and_then(|c| c.usage_quantity),
            Some(72.0)
        );
    }
}
