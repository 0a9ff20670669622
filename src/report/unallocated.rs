//! Unallocated cost: what in a period has no platform, line by line
//! (account, region, service, from every source, the demo included) and
//! resource by resource (where the import carried resource ids), with the
//! allocation rule that would claim each.
//!
//! The suggested rule comes from what the data already says: a tag whose
//! value names a platform, a resource id that names one, or the account's
//! allocated cost (all on one platform: that platform; none on any: the
//! account is shared, split by player-hours; spread over several: no
//! account rule fits, the resources need tags).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::db::costs::{sum_costs, CostFilter, Dim};
use crate::db::resource_costs;
use crate::db::DbConnection;
use crate::dims::{self, Platform, UNALLOCATED};
use crate::money::Micros;
use crate::report::ReportError;

/// Most lines and resources listed; the rest are summed in one row.
pub const MAX_ROWS: usize = 40;

/// A rule that would give a cost a platform, in the terms of the rules
/// page (`kind`, `pattern`, `platform`; `platform` empty means "the tag's
/// value"). `kind` is empty when no single rule fits.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SuggestedRule {
    pub kind: String,
    pub pattern: String,
    pub platform: String,
    /// Why this rule, in a sentence.
    pub why: String,
}

impl SuggestedRule {
    fn none(why: String) -> SuggestedRule {
        SuggestedRule {
            kind: String::new(),
            pattern: String::new(),
            platform: String::new(),
            why,
        }
    }

    pub fn is_rule(&self) -> bool {
        !self.kind.is_empty()
    }

    /// The rule as a person reads it: "account id 1234 → shared".
    pub fn text(&self) -> String {
        let target = if self.platform.is_empty() {
            "the tag's value".to_string()
        } else if self.platform == dims::SHARED {
            "shared, split by player-hours".to_string()
        } else {
            self.platform.clone()
        };
        match self.kind.as_str() {
            "tag" => format!("tag key {} → {target}", self.pattern),
            "account" => format!("account id {} → {target}", self.pattern),
            "resource" => format!("resource matching {} → {target}", self.pattern),
            _ => "no single rule".to_string(),
        }
    }
}

/// One unallocated line: an account's cost of one service in one region.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnallocatedLine {
    pub account_id: String,
    pub region: String,
    pub service: String,
    pub billed: Micros,
    pub effective: Micros,
    pub rule: SuggestedRule,
}

/// One unallocated resource (imports with resource ids only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnallocatedResourceRow {
    pub resource: String,
    pub account_id: String,
    pub region: String,
    pub service: String,
    pub tags: Vec<(String, String)>,
    pub billed: Micros,
    pub rule: SuggestedRule,
}

/// Unallocated cost in one charge category (usage, purchase, credit…).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CategorySum {
    pub charge_category: String,
    pub billed: Micros,
    pub effective: Micros,
}

/// One suggested rule and everything it would claim: lines that share a
/// rule are one story, told once.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleClaim {
    pub rule: SuggestedRule,
    /// Lines (all of them, not only those listed) the rule would claim.
    pub lines: usize,
    pub billed: Micros,
    pub effective: Micros,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnallocatedReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub billed: Micros,
    pub effective: Micros,
    /// All effective cost in the period, allocated or not.
    pub all_effective: Micros,
    pub categories: Vec<CategorySum>,
    /// Every line grouped by the rule that would claim it, largest first.
    pub claims: Vec<RuleClaim>,
    /// Largest first, at most `MAX_ROWS`.
    pub lines: Vec<UnallocatedLine>,
    /// Lines beyond `MAX_ROWS`: how many and their sums.
    pub more_lines: usize,
    pub more_billed: Micros,
    pub more_effective: Micros,
    /// Largest first (by absolute billed cost), at most `MAX_ROWS`.
    pub resources: Vec<UnallocatedResourceRow>,
}

impl UnallocatedResourceRow {
    /// The resource id, or a note that the line had none.
    pub fn label(&self) -> String {
        if self.resource.is_empty() {
            "(no resource id)".to_string()
        } else {
            self.resource.clone()
        }
    }
}

impl UnallocatedReport {
    /// Unallocated share of all effective cost, in percent.
    pub fn share(&self) -> Option<f64> {
        self.effective.percent_of(self.all_effective)
    }
}

/// How an account's allocated cost spreads over the platforms.
type AccountSpread = BTreeMap<String, BTreeMap<String, Micros>>;

/// Each account's allocated cost by platform, and the period's whole
/// effective cost (allocated or not), from one query.
fn account_spread(
    conn: &mut DbConnection,
    filter: &CostFilter,
) -> Result<(AccountSpread, Micros), ReportError> {
    let mut out: AccountSpread = BTreeMap::new();
    let mut all_effective = Micros::ZERO;
    for s in sum_costs(conn, filter, None, &[Dim::Account, Dim::Platform])? {
        all_effective += s.effective;
        let (account, platform) = (s.keys[0].clone(), s.keys[1].clone());
        if platform == UNALLOCATED {
            continue;
        }
        *out.entry(account).or_default().entry(platform).or_default() += s.effective.abs();
    }
    Ok((out, all_effective))
}

/// The rule the account's allocated cost points to.
pub fn rule_for_account(account: &str, spread: &AccountSpread) -> SuggestedRule {
    if account.is_empty() {
        return SuggestedRule::none(
            "the line carries no account id: tag the resources with their platform".into(),
        );
    }
    let Some(platforms) = spread.get(account).filter(|p| !p.is_empty()) else {
        return SuggestedRule {
            kind: "account".into(),
            pattern: account.to_string(),
            platform: dims::SHARED.into(),
            why: format!(
                "nothing in account {account} has a platform: shared infrastructure, fees or credits serve every platform"
            ),
        };
    };
    let total: i128 = platforms.values().map(|m| i128::from(m.0)).sum();
    let (top, top_amount) = platforms
        .iter()
        .max_by_key(|(_, m)| m.0)
        .map(|(p, m)| (p.clone(), i128::from(m.0)))
        .unwrap_or_default();
    if total > 0 && top_amount * 100 >= total * 95 {
        return SuggestedRule {
            kind: "account".into(),
            pattern: account.to_string(),
            platform: top.clone(),
            why: format!("the rest of account {account}'s cost is allocated to {top}"),
        };
    }
    let mut shares: Vec<(String, i128)> = platforms
        .iter()
        .map(|(p, m)| (p.clone(), i128::from(m.0)))
        .collect();
    shares.sort_by_key(|s| std::cmp::Reverse(s.1));
    let spread_text = shares
        .iter()
        .take(3)
        .map(|(p, m)| format!("{p} {:.0} %", *m as f64 * 100.0 / total.max(1) as f64))
        .collect::<Vec<_>>()
        .join(", ");
    SuggestedRule::none(format!(
        "account {account} serves several platforms ({spread_text}): an account rule would misallocate; tag these resources with their platform"
    ))
}

/// Platform words that resource ids and names use: narrower than the
/// aliases a platform tag's value may use (`Platform::from_str`), since in
/// an id `windows`, `ns` or `epic` say nothing about the player platform.
const PLATFORM_WORDS: [&str; 12] = [
    "pc",
    "steam",
    "ps5",
    "ps4",
    "playstation",
    "xbox",
    "switch",
    "nintendo",
    "ios",
    "iphone",
    "android",
    "googleplay",
];

/// The platform a resource id names as a whole word (`gs-ps5-01`,
/// `arn:…/xbox-matchmaker`), with the word.
fn platform_in_resource(resource: &str) -> Option<(&'static str, Platform)> {
    let lower = resource.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|token| {
            PLATFORM_WORDS
                .iter()
                .find(|w| **w == token)
                .and_then(|w| w.parse::<Platform>().ok().map(|p| (*w, p)))
        })
}

/// The rule for one resource: a tag that names a platform, then a
/// platform word in the id, then the account.
pub fn rule_for_resource(
    resource: &str,
    account: &str,
    tags: &[(String, String)],
    spread: &AccountSpread,
) -> SuggestedRule {
    if let Some((key, value, platform)) = tags.iter().find_map(|(k, v)| {
        (v.trim().eq_ignore_ascii_case(dims::SHARED))
            .then(|| (k, v, dims::SHARED.to_string()))
            .or_else(|| {
                v.parse::<Platform>()
                    .ok()
                    .map(|p| (k, v, p.as_str().to_string()))
            })
    }) {
        return SuggestedRule {
            kind: "tag".into(),
            pattern: key.clone(),
            platform: String::new(),
            why: format!("its tag {key}={value} names {platform}, but no rule reads that tag key"),
        };
    }
    if let Some((word, platform)) = platform_in_resource(resource) {
        return SuggestedRule {
            kind: "resource".into(),
            pattern: format!("(?i)(^|[^a-z0-9]){word}([^a-z0-9]|$)"),
            platform: platform.as_str().to_string(),
            why: format!("its id names {} ({word})", platform.as_str()),
        };
    }
    rule_for_account(account, spread)
}

/// The unallocated cost of `[from, to]` in `currency`.
pub fn unallocated_report(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
    currency: &str,
) -> Result<UnallocatedReport, ReportError> {
    if from > to {
        return Err(ReportError::BadInput(format!(
            "parameter 'from' ({from}) is after 'to' ({to})"
        )));
    }
    let all = CostFilter::new(from, to, currency);
    let mut only = all.clone();
    only.platforms = vec![UNALLOCATED.to_string()];
    let (spread, all_effective) = account_spread(conn, &all)?;

    let mut lines: Vec<UnallocatedLine> = sum_costs(
        conn,
        &only,
        None,
        &[Dim::Account, Dim::Region, Dim::Service],
    )?
    .into_iter()
    .map(|s| UnallocatedLine {
        rule: rule_for_account(&s.keys[0], &spread),
        account_id: s.keys[0].clone(),
        region: s.keys[1].clone(),
        service: s.keys[2].clone(),
        billed: s.billed,
        effective: s.effective,
    })
    .collect();
    // Largest by either measure: a purchase billed in full but amortised
    // to nothing is still a large line.
    let size = |l: &UnallocatedLine| l.effective.abs().max(l.billed.abs());
    lines.sort_by(|a, b| {
        size(b).cmp(&size(a)).then_with(|| {
            (&a.account_id, &a.region, &a.service).cmp(&(&b.account_id, &b.region, &b.service))
        })
    });
    let (billed, effective) = lines.iter().fold((Micros(0), Micros(0)), |(b, e), l| {
        (b + l.billed, e + l.effective)
    });
    let mut claims: Vec<RuleClaim> = Vec::new();
    for l in &lines {
        match claims.iter_mut().find(|c| c.rule == l.rule) {
            Some(c) => {
                c.lines += 1;
                c.billed += l.billed;
                c.effective += l.effective;
            }
            None => claims.push(RuleClaim {
                rule: l.rule.clone(),
                lines: 1,
                billed: l.billed,
                effective: l.effective,
            }),
        }
    }
    claims.sort_by(|a, b| {
        b.effective
            .abs()
            .cmp(&a.effective.abs())
            .then_with(|| b.billed.abs().cmp(&a.billed.abs()))
    });
    let rest = lines.split_off(lines.len().min(MAX_ROWS));
    let (more_billed, more_effective) = rest.iter().fold((Micros(0), Micros(0)), |(b, e), l| {
        (b + l.billed, e + l.effective)
    });

    let categories = sum_costs(conn, &only, None, &[Dim::ChargeCategory])?
        .into_iter()
        .map(|s| CategorySum {
            charge_category: s.keys[0].clone(),
            billed: s.billed,
            effective: s.effective,
        })
        .collect();

    let resources = resource_costs::unallocated(conn, from, to, MAX_ROWS as i64)?
        .into_iter()
        .filter(|r| r.currency == currency)
        .map(|r| {
            let mut tags: Vec<(String, String)> = crate::ingest::allocate::parse_tags(&r.tags)
                .into_iter()
                .collect();
            tags.sort();
            UnallocatedResourceRow {
                rule: rule_for_resource(&r.resource, &r.account_id, &tags, &spread),
                resource: r.resource,
                account_id: r.account_id,
                region: r.region,
                service: r.service,
                tags,
                billed: r.billed,
            }
        })
        .collect();

    Ok(UnallocatedReport {
        from,
        to,
        currency: currency.to_string(),
        billed,
        effective,
        all_effective,
        categories,
        claims,
        more_lines: rest.len(),
        more_billed,
        more_effective,
        lines,
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(entries: &[(&str, &str, i64)]) -> AccountSpread {
        let mut out = AccountSpread::new();
        for (a, p, m) in entries {
            out.entry(a.to_string())
                .or_default()
                .insert(p.to_string(), Micros(*m));
        }
        out
    }

    #[test]
    fn an_account_with_no_platform_is_shared_one_with_one_platform_is_that_platform() {
        let s = spread(&[
            ("111", "PC", 990),
            ("111", "Xbox", 10),
            ("222", "PC", 500),
            ("222", "iOS", 500),
        ]);
        let shared = rule_for_account("333", &s);
        assert_eq!(
            (shared.kind.as_str(), shared.platform.as_str()),
            ("account", "shared")
        );
        let pc = rule_for_account("111", &s);
        assert_eq!((pc.kind.as_str(), pc.platform.as_str()), ("account", "PC"));
        assert_eq!(pc.text(), "account id 111 → PC");
        let mixed = rule_for_account("222", &s);
        assert!(!mixed.is_rule());
        assert!(mixed.why.contains("PC 50 %"), "{}", mixed.why);
    }

    #[test]
    fn a_resource_is_claimed_by_its_tag_then_its_id_then_its_account() {
        let s = spread(&[]);
        let tagged = rule_for_resource("i-1", "9", &[("game:platform".into(), "ps5".into())], &s);
        assert_eq!(
            (tagged.kind.as_str(), tagged.pattern.as_str()),
            ("tag", "game:platform")
        );
        assert!(tagged.why.contains("PlayStation"), "{}", tagged.why);
        let named = rule_for_resource("arn:aws:ec2:us-east-1:9:instance/gs-xbox-01", "9", &[], &s);
        assert_eq!(
            (named.kind.as_str(), named.platform.as_str()),
            ("resource", "Xbox")
        );
        let re = regex::Regex::new(&named.pattern).unwrap();
        assert!(re.is_match("gs-XBOX-01") && !re.is_match("xboxer-1"));
        // "pc" inside a word is not a platform.
        let plain = rule_for_resource("vpce-0abc", "9", &[], &s);
        assert_eq!(
            (plain.kind.as_str(), plain.platform.as_str()),
            ("account", "shared")
        );
    }
}
