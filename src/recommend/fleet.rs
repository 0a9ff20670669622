//! Rightsizing the whole fleet from the stored utilisation: every instance
//! (EC2) or fleet (GameLift) over the lookback, priced from the catalog,
//! held where a scheduled event in the coming days needs the capacity.
//! Instances with the same platform, region, type and decision are one
//! recommendation (an autoscaled group is one line, not hundreds).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::rightsizing::{self, Decision, InstanceType, Period, Policy, Statistic};
use super::{Kind, Recommendation, Scope, Status};
use crate::calendar::CalendarEvent;
use crate::db::schema::utilisation;
use crate::db::{DbConnection, DbError};
use crate::money::Micros;
use crate::pricing::PriceCatalog;

/// Lookbacks offered, in days (AWS Compute Optimizer's choices).
pub const LOOKBACKS: [i64; 3] = [14, 32, 93];

#[derive(Clone, Debug, PartialEq)]
pub struct FleetOptions {
    pub lookback_days: i64,
    pub policy: Policy,
    /// Events starting within this many days of the last data day hold
    /// the capacity they need.
    pub event_window_days: i64,
}

/// A lookback the rightsizing review offers, from text.
pub fn parse_lookback(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(d) if LOOKBACKS.contains(&d) => Ok(d),
        _ => Err(format!("'{text}' is not a lookback: use 14, 32 or 93 days")),
    }
}

impl FleetOptions {
    /// Options from what a person asks for (the CLI's flags, the page's
    /// form), checked.
    pub fn from_parts(
        lookback: i64,
        statistic: &str,
        headroom_percent: f64,
        across_families: bool,
        event_window: i64,
    ) -> Result<FleetOptions, String> {
        let statistic = match statistic {
            "p90" => Statistic::P90,
            "p95" => Statistic::P95,
            "p99.5" | "p995" => Statistic::P99_5,
            "max" => Statistic::Max,
            other => {
                return Err(format!(
                    "'{other}' is not a statistic: use p90, p95, p99.5 or max"
                ))
            }
        };
        if !(0.0..=200.0).contains(&headroom_percent) {
            return Err(format!(
                "headroom {headroom_percent} % is out of range 0..=200"
            ));
        }
        if !(0..=365).contains(&event_window) {
            return Err(format!(
                "event window {event_window} days is out of range 0..=365"
            ));
        }
        Ok(FleetOptions {
            lookback_days: lookback,
            policy: Policy {
                statistic,
                headroom: headroom_percent / 100.0,
                across_families,
                ..Policy::default()
            },
            event_window_days: event_window,
        })
    }
}

impl Default for FleetOptions {
    fn default() -> FleetOptions {
        FleetOptions {
            lookback_days: 14,
            policy: Policy::default(),
            event_window_days: 30,
        }
    }
}

/// One resource's utilisation over the lookback.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceUsage {
    pub resource_id: String,
    /// `instance` or `fleet`.
    pub resource_kind: String,
    pub instance_type: String,
    pub region: String,
    pub platform: String,
    /// (day, period) in time order.
    pub periods: Vec<(NaiveDateTime, Period)>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    f64,
    f64,
    Option<f64>,
    Option<f64>,
);

/// The last day with utilisation data.
pub fn last_day(conn: &mut DbConnection) -> Result<Option<NaiveDate>, DbError> {
    let last: Option<NaiveDateTime> = utilisation::table
        .select(diesel::dsl::max(utilisation::period_start))
        .first(conn)?;
    Ok(last.map(|t| t.date()))
}

/// Utilisation of every resource over the `days` ending on `last`.
pub fn load_usage(
    conn: &mut DbConnection,
    last: NaiveDate,
    days: i64,
) -> Result<Vec<ResourceUsage>, DbError> {
    let from = (last - chrono::Duration::days(days - 1)).and_time(chrono::NaiveTime::MIN);
    let rows: Vec<Row> = utilisation::table
        .filter(utilisation::period_start.ge(from))
        .select((
            utilisation::resource_id,
            utilisation::resource_kind,
            utilisation::instance_type,
            utilisation::region,
            utilisation::platform,
            utilisation::period_start,
            utilisation::running_hours,
            utilisation::cpu_max,
            utilisation::mem_max,
            utilisation::network_bytes,
        ))
        .order((utilisation::resource_id, utilisation::period_start))
        .load(conn)?;
    let mut out: Vec<ResourceUsage> = Vec::new();
    for (id, kind, itype, region, platform, start, hours, cpu_max, mem_max, net) in rows {
        let period = Period {
            hours,
            cpu_max,
            mem_max,
            network_bytes: net,
        };
        match out.last_mut() {
            Some(u) if u.resource_id == id => {
                // A resized instance is judged on what it runs now: only
                // the periods since it last changed type count.
                if u.instance_type != itype {
                    u.instance_type = itype;
                    u.periods.clear();
                }
                u.periods.push((start, period));
            }
            _ => out.push(ResourceUsage {
                resource_id: id,
                resource_kind: kind,
                instance_type: itype,
                region,
                platform,
                periods: vec![(start, period)],
            }),
        }
    }
    Ok(out)
}

fn service_of(resource_kind: &str) -> &'static str {
    if resource_kind == "fleet" {
        "gamelift"
    } else {
        "ec2"
    }
}

fn instance_type(
    catalog: &PriceCatalog,
    service: &str,
    name: &str,
    region: &str,
) -> Option<InstanceType> {
    let spec = catalog.spec(service, name)?;
    let prices = catalog.prices(service, name, region)?;
    Some(InstanceType {
        name: name.to_string(),
        family: spec.family.clone(),
        vcpu: spec.vcpu,
        memory_gib: spec.memory_gib,
        hourly: prices.on_demand.as_units_f64(),
    })
}

/// The event in the window that binds the size of a resource it serves
/// (one for its platform, or any for shared backends, in its region): one
/// whose uplift is not known yet (first such), else the largest uplift.
pub fn event_ahead<'a>(
    events: &'a [CalendarEvent],
    platform: &str,
    region: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Option<&'a CalendarEvent> {
    let applicable: Vec<&CalendarEvent> = events
        .iter()
        .filter(|e| e.overlaps(from, to))
        .filter(|e| {
            (platform == "shared"
                || e.platforms.is_empty()
                || e.platforms.iter().any(|p| p == platform))
                && (e.regions.is_empty() || e.regions.iter().any(|r| r == region))
        })
        .collect();
    applicable
        .iter()
        .filter(|e| e.expected_uplift.is_none())
        .min_by_key(|e| e.start)
        .or_else(|| {
            applicable.iter().max_by(|a, b| {
                a.expected_uplift
                    .unwrap_or(0.0)
                    .total_cmp(&b.expected_uplift.unwrap_or(0.0))
            })
        })
        .copied()
}

/// One resource's decision, with the event considered.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDecision {
    pub usage: ResourceUsage,
    pub current: Option<InstanceType>,
    pub decision: Decision,
    /// The event the size was checked against, and its uplift.
    pub event: Option<(String, NaiveDate, Option<f64>)>,
}

/// Decides every resource.
pub fn decide_all(
    usage: Vec<ResourceUsage>,
    catalog: &PriceCatalog,
    events: &[CalendarEvent],
    last: NaiveDate,
    options: &FleetOptions,
) -> Vec<ResourceDecision> {
    let window_end = last + chrono::Duration::days(options.event_window_days.max(0));
    let mut choices: BTreeMap<(String, String), Vec<InstanceType>> = BTreeMap::new();
    let mut out = Vec::with_capacity(usage.len());
    for u in usage {
        let service = service_of(&u.resource_kind);
        let current = instance_type(catalog, service, &u.instance_type, &u.region);
        let Some(cur) = current.clone() else {
            out.push(ResourceDecision {
                usage: u,
                current: None,
                decision: Decision::Keep,
                event: None,
            });
            continue;
        };
        let candidates = choices
            .entry((service.to_string(), u.region.clone()))
            .or_insert_with(|| {
                catalog
                    .priced_in(service, &u.region)
                    .filter_map(|(t, _)| {
                        instance_type(catalog, service, &t.instance_type, &u.region)
                    })
                    .collect()
            });
        let periods: Vec<Period> = u.periods.iter().map(|(_, p)| p.clone()).collect();
        let base = rightsizing::rightsize(&cur, &periods, candidates, &options.policy, None);
        let ahead = event_ahead(
            events,
            &u.platform,
            &u.region,
            last + chrono::Duration::days(1),
            window_end,
        );
        let (decision, event) = match (ahead, &base) {
            (Some(e), Decision::Resize { .. }) => {
                let info = Some((e.name.clone(), e.start, e.expected_uplift));
                match e.expected_uplift {
                    // Sized for the event's load: a smaller type that still
                    // carries it is safe; otherwise hold.
                    Some(uplift) if uplift > 0.0 => {
                        let policy = Policy {
                            load_factor: 1.0 + uplift,
                            ..options.policy.clone()
                        };
                        match rightsizing::rightsize(&cur, &periods, candidates, &policy, None) {
                            d @ Decision::Resize { .. } => (d, info),
                            _ => (
                                Decision::Held {
                                    event: e.name.clone(),
                                    starts: e.start,
                                    would_be: Box::new(base.clone()),
                                },
                                info,
                            ),
                        }
                    }
                    Some(_) => (base.clone(), info),
                    None => (
                        Decision::Held {
                            event: e.name.clone(),
                            starts: e.start,
                            would_be: Box::new(base.clone()),
                        },
                        info,
                    ),
                }
            }
            // Idle capacity serves no one: the event does not need it.
            _ => (base, None),
        };
        out.push(ResourceDecision {
            usage: u,
            current,
            decision,
            event,
        });
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

fn stat_label(policy: &Policy) -> &'static str {
    match policy.statistic {
        rightsizing::Statistic::P90 => "p90",
        rightsizing::Statistic::P95 => "p95",
        rightsizing::Statistic::P99_5 => "p99.5",
        rightsizing::Statistic::Max => "max",
    }
}

/// Groups decisions into recommendations: same platform, region, kind of
/// resource, current type and decision.
pub fn recommendations(
    decisions: &[ResourceDecision],
    options: &FleetOptions,
    currency: &str,
) -> Vec<Recommendation> {
    struct Group<'a> {
        members: Vec<&'a ResourceDecision>,
    }
    let key = |d: &ResourceDecision| -> (String, String, String, String, String) {
        let target = match &d.decision {
            Decision::Keep => "keep".to_string(),
            Decision::Resize { to, .. } => format!("resize:{}", to.name),
            Decision::Terminate { .. } => "terminate".to_string(),
            Decision::TooLittleData { .. } => "data".to_string(),
            Decision::Held {
                event, would_be, ..
            } => format!(
                "held:{event}:{}",
                match would_be.as_ref() {
                    Decision::Resize { to, .. } => to.name.clone(),
                    _ => "terminate".to_string(),
                }
            ),
        };
        (
            d.usage.platform.clone(),
            d.usage.region.clone(),
            d.usage.instance_type.clone(),
            d.usage.resource_kind.clone(),
            target,
        )
    };
    let mut groups: BTreeMap<(String, String, String, String, String), Group> = BTreeMap::new();
    for d in decisions {
        if matches!(d.decision, Decision::Keep) && d.current.is_some() {
            continue;
        }
        groups
            .entry(key(d))
            .or_insert_with(|| Group {
                members: Vec::new(),
            })
            .members
            .push(d);
    }
    let stat = stat_label(&options.policy);
    let headroom = pct(options.policy.headroom);
    let mut out = Vec::new();
    for ((platform, region, itype, rkind, target), g) in groups {
        let n = g.members.len();
        let first = g.members[0];
        let resources: Vec<String> = g
            .members
            .iter()
            .map(|d| d.usage.resource_id.clone())
            .collect();
        let noun = if rkind == "fleet" {
            "fleet"
        } else {
            "instance"
        };
        let count = if n == 1 {
            format!("1 {noun}")
        } else {
            format!("{n} {noun}s")
        };
        let peak_cpu = g
            .members
            .iter()
            .flat_map(|d| d.usage.periods.iter().map(|(_, p)| p.cpu_max))
            .fold(0.0, f64::max);
        let hours: f64 = g
            .members
            .iter()
            .map(|d| d.usage.periods.iter().map(|(_, p)| p.hours).sum::<f64>())
            .sum::<f64>()
            / n as f64;
        let savings_of = |d: &Decision| -> f64 {
            match d {
                Decision::Resize {
                    monthly_savings, ..
                }
                | Decision::Terminate { monthly_savings } => *monthly_savings,
                _ => 0.0,
            }
        };
        let monthly: f64 = g.members.iter().map(|d| savings_of(&d.decision)).sum();
        let scope = Scope {
            platform: platform.clone(),
            region: region.clone(),
            instance_type: Some(itype.clone()),
            family: first.current.as_ref().map(|c| c.family.clone()),
            resources,
        };
        let current = format!("{count} × {itype}");
        let mut rec = Recommendation::new(
            format!("rightsizing:{platform}:{region}:{itype}:{target}"),
            Kind::Rightsize,
            scope,
            currency,
        );
        rec.current = current;
        rec.monthly_savings = super::to_cents(monthly);
        match &first.decision {
            Decision::Resize { to, .. } => {
                rec.recommended = format!("{count} × {}", to.name);
                let cur = first.current.as_ref();
                rec.reason = format!(
                    "peak CPU {peak_cpu:.0} % of {} vCPU over {} days; {stat} + {headroom} headroom fits {} ({} vCPU, {} GiB){}",
                    cur.map(|c| c.vcpu).unwrap_or(0.0),
                    options.lookback_days,
                    to.name,
                    to.vcpu,
                    to.memory_gib,
                    match &first.event {
                        Some((name, starts, Some(u))) => format!(
                            "; sized for {name} on {starts} (+{:.0} % expected)",
                            u * 100.0
                        ),
                        _ => String::new(),
                    }
                );
                rec.risk = if to.vcpu < cur.map(|c| c.vcpu / 2.0).unwrap_or(0.0) {
                    "large step down: watch latency after the change".to_string()
                } else {
                    "low: sized above the observed peak".to_string()
                };
            }
            Decision::Terminate { .. } => {
                rec.kind = Kind::Terminate;
                rec.recommended = "terminate".to_string();
                rec.reason = format!(
                    "idle: peak CPU {peak_cpu:.1} % and little network over {} days",
                    options.lookback_days
                );
                rec.risk =
                    "check the owner first: idle machines are sometimes standbys".to_string();
            }
            Decision::TooLittleData { .. } => {
                rec.status = Status::TooLittleData;
                rec.recommended = "no recommendation".to_string();
                rec.reason = format!(
                    "{hours:.0} hours of data in the last {} days; {:.0} needed",
                    options.lookback_days, options.policy.min_hours
                );
                rec.risk = "unknown".to_string();
            }
            Decision::Held {
                event,
                starts,
                would_be,
            } => {
                rec.status = Status::Held;
                rec.recommended = format!("keep until after {event}");
                let would = match would_be.as_ref() {
                    Decision::Resize { to, .. } => format!("{count} × {}", to.name),
                    _ => "terminate".to_string(),
                };
                let uplift = match &first.event {
                    Some((_, _, Some(u))) => format!(" (+{:.0} % expected)", u * 100.0),
                    _ => " (uplift not given)".to_string(),
                };
                rec.reason = format!(
                    "{event} on {starts}{uplift} needs this capacity; after it, {would} would save {}",
                    Micros::from_units_f64(g.members.iter().map(|d| match &d.decision {
                        Decision::Held { would_be, .. } => savings_of(would_be),
                        _ => 0.0,
                    }).sum()).display(currency)
                );
                rec.risk = "none now; review after the event".to_string();
            }
            Decision::Keep => {
                rec.status = Status::Unpriced;
                rec.recommended = "no recommendation".to_string();
                rec.reason = format!(
                    "{itype} is not in the catalog for {region}; import a catalog that prices it"
                );
                rec.risk = "unknown".to_string();
            }
        }
        out.push(rec);
    }
    out.sort_by(|a, b| {
        b.monthly_savings
            .cmp(&a.monthly_savings)
            .then(a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::EventKind;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
    }

    fn backend(cpu: f64) -> ResourceUsage {
        ResourceUsage {
            resource_id: "i-1".into(),
            resource_kind: "instance".into(),
            instance_type: "m6i.8xlarge".into(),
            region: "eu-west-1".into(),
            platform: "shared".into(),
            periods: (1..=14)
                .map(|d| {
                    (
                        day(d).and_time(chrono::NaiveTime::MIN),
                        Period {
                            hours: 24.0,
                            cpu_max: cpu,
                            mem_max: None,
                            network_bytes: Some(1e10),
                        },
                    )
                })
                .collect(),
        }
    }

    fn launch(uplift: Option<f64>, region: &str) -> CalendarEvent {
        CalendarEvent {
            id: None,
            name: "Season launch".into(),
            kind: EventKind::Launch,
            start: day(20),
            end: day(27),
            platforms: vec!["PC".into()],
            regions: vec![region.into()],
            expected_uplift: uplift,
            ramp_days: None,
            notes: String::new(),
            source: "test".into(),
        }
    }

    fn decide(events: &[CalendarEvent]) -> Decision {
        let catalog = crate::pricing::built_in();
        decide_all(
            vec![backend(20.0)],
            &catalog,
            events,
            day(14),
            &FleetOptions::default(),
        )
        .remove(0)
        .decision
    }

    fn target(d: &Decision) -> String {
        match d {
            Decision::Resize { to, .. } => to.name.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn an_event_ahead_sizes_for_its_uplift_or_holds() {
        // 20 % of 32 vCPUs + 20 % headroom = 7.7 vCPUs: an m6i.2xlarge.
        assert_eq!(target(&decide(&[])), "m6i.2xlarge");
        // A launch elsewhere changes nothing.
        assert_eq!(target(&decide(&[launch(None, "us-east-1")])), "m6i.2xlarge");
        // +50 % expected: 11.5 vCPUs, an m6i.4xlarge carries it.
        assert_eq!(
            target(&decide(&[launch(Some(0.5), "eu-west-1")])),
            "m6i.4xlarge"
        );
        // Uplift unknown, or more than the current size carries: held.
        for uplift in [None, Some(4.0)] {
            match decide(&[launch(uplift, "eu-west-1")]) {
                Decision::Held {
                    event, would_be, ..
                } => {
                    assert_eq!(event, "Season launch");
                    assert_eq!(target(&would_be), "m6i.2xlarge");
                }
                other => panic!("{uplift:?}: {other:?}"),
            }
        }
        // An unknown uplift binds even when a known one comes first.
        let mut known = launch(Some(0.1), "eu-west-1");
        known.start = day(15);
        assert!(matches!(
            decide(&[known, launch(None, "eu-west-1")]),
            Decision::Held { .. }
        ));
    }

    #[test]
    fn alike_decisions_are_one_recommendation_and_savings_are_in_cents() {
        let catalog = crate::pricing::built_in();
        let mut usage = vec![backend(20.0), backend(20.0), backend(0.5)];
        usage[1].resource_id = "i-2".into();
        usage[2].resource_id = "i-3".into();
        usage[2]
            .periods
            .iter_mut()
            .for_each(|(_, p)| p.network_bytes = Some(1e6));
        let options = FleetOptions::default();
        let decisions = decide_all(usage, &catalog, &[], day(14), &options);
        let recs = recommendations(&decisions, &options, "USD");
        assert_eq!(recs.len(), 2);
        let resize = recs.iter().find(|r| r.kind == Kind::Rightsize).unwrap();
        assert_eq!(resize.scope.resources, vec!["i-1", "i-2"]);
        assert_eq!(resize.current, "2 instances × m6i.8xlarge");
        // eu-west-1: (1.73568 − 0.43392) × 730 × 2 = 1,900.5696 → cents.
        assert_eq!(resize.monthly_savings, Micros(1_900_570_000));
        let idle = recs.iter().find(|r| r.kind == Kind::Terminate).unwrap();
        assert_eq!(idle.scope.resources, vec!["i-3"]);
    }

    #[test]
    fn a_gamelift_fleet_is_priced_as_a_fleet() {
        let catalog = crate::pricing::built_in();
        let mut fleet = backend(20.0);
        fleet.resource_kind = "fleet".into();
        let d = decide_all(
            vec![fleet],
            &catalog,
            &[],
            day(14),
            &FleetOptions::default(),
        )
        .remove(0);
        let gamelift = catalog
            .prices("gamelift", "m6i.8xlarge", "eu-west-1")
            .unwrap();
        assert_eq!(
            d.current.as_ref().unwrap().hourly,
            gamelift.on_demand.as_units_f64()
        );
        match d.decision {
            Decision::Resize {
                to,
                monthly_savings,
            } => {
                assert_eq!(to.name, "m6i.2xlarge");
                let new = catalog
                    .prices("gamelift", "m6i.2xlarge", "eu-west-1")
                    .unwrap();
                let expected =
                    (gamelift.on_demand.as_units_f64() - new.on_demand.as_units_f64()) * 730.0;
                assert!((monthly_savings - expected).abs() < 1e-6);
            }
            other => panic!("{other:?}"),
        }
    }
}
