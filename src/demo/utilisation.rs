//! Daily utilisation of the demo game's EC2 fleet: backend services, game
//! servers that follow player demand, a few oversized instances and a few
//! idle ones that a rightsizing review should find.

use chrono::{NaiveDate, NaiveDateTime};

use super::model::REGIONS;
use super::noise::{hash_str, mix, Noise};
use crate::db::utilisation::NewUtilisation;
use crate::dims::Platform;

pub const SOURCE: &str = crate::runs::Source::Demo.as_str();

/// What an instance does, and so how busy it is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    /// Busy in proportion to the region's demand (CPU at demand index 1).
    Follows { cpu: f64, mem: f64 },
    /// Provisioned far above its load.
    Oversized { cpu: f64, mem: f64 },
    /// Running, doing nothing.
    Idle,
}

#[derive(Clone, Debug)]
struct Instance {
    id: String,
    name: String,
    instance_type: &'static str,
    region_index: usize,
    /// Platform tag, or `shared` for backend services.
    platform: String,
    behaviour: Behaviour,
    from: NaiveDate,
    to: NaiveDate,
    /// Game servers: (index, base count) of an autoscaled group, which
    /// runs as many of its instances as last month's demand calls for.
    slot: Option<(usize, usize)>,
}

fn instance_id(seed: u64, name: &str) -> String {
    let a = mix(seed ^ hash_str(name));
    let b = mix(a);
    format!("i-{:016x}{:x}", a, b & 0xf)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The fleet over the demo window.
fn fleet(seed: u64, start: NaiveDate, end: NaiveDate) -> Vec<Instance> {
    let noise = Noise::new(seed);
    let mut out = Vec::new();
    let upgrade = date(2025, 10, 1);
    let backend: [(&str, &'static str, usize, Behaviour); 6] = [
        (
            "matchmaking",
            "m6i.2xlarge",
            2,
            Behaviour::Follows {
                cpu: 38.0,
                mem: 52.0,
            },
        ),
        (
            "api",
            "c6i.xlarge",
            5,
            Behaviour::Follows {
                cpu: 42.0,
                mem: 40.0,
            },
        ),
        (
            "auth",
            "m6i.large",
            2,
            Behaviour::Follows {
                cpu: 30.0,
                mem: 35.0,
            },
        ),
        (
            "telemetry",
            "r6i.xlarge",
            2,
            Behaviour::Follows {
                cpu: 44.0,
                mem: 68.0,
            },
        ),
        (
            "leaderboard",
            "r6i.4xlarge",
            1,
            Behaviour::Oversized {
                cpu: 6.0,
                mem: 14.0,
            },
        ),
        (
            "analytics-batch",
            "m6i.8xlarge",
            1,
            Behaviour::Oversized {
                cpu: 9.0,
                mem: 22.0,
            },
        ),
    ];
    for (r, (region, _)) in REGIONS.iter().enumerate() {
        for (role, itype, count, behaviour) in backend {
            for k in 0..count {
                let name = format!("{role}-{region}-{k}");
                out.push(Instance {
                    id: instance_id(seed, &name),
                    name,
                    instance_type: itype,
                    region_index: r,
                    platform: "shared".to_string(),
                    behaviour,
                    from: start,
                    to: end,
                    slot: None,
                });
            }
        }
        // Game servers per platform, sized to the platform's players here;
        // the c5 generation is replaced by c6i in October 2025.
        for p in Platform::ALL {
            let share = super::model::platform_share(p) * super::model::region_share(p)[r];
            let count = ((share * 160.0).round() as usize).max(1);
            let live_from = match super::model::platform_launch(p) {
                Some(l) => l.infra_from.max(start),
                None => start,
            };
            // Up to three times the launch-day group, for growth and peaks.
            for k in 0..count * MAX_SCALE {
                let base = format!("gameserver-{}-{region}-{k}", p.as_str().to_lowercase());
                // Regions differ in headroom (some fleets were sized
                // generously, some run hot); instances differ a little.
                let cpu = 24.0 + 18.0 * noise.uniform(region, 7) + 3.0 * noise.uniform(&base, 0);
                let behaviour = Behaviour::Follows { cpu, mem: 48.0 };
                if live_from < upgrade {
                    out.push(Instance {
                        id: instance_id(seed, &format!("{base}-c5")),
                        name: format!("{base}-c5"),
                        instance_type: "c5.4xlarge",
                        region_index: r,
                        platform: p.as_str().to_string(),
                        behaviour,
                        from: live_from,
                        to: (upgrade - chrono::Duration::days(1)).min(end),
                        slot: Some((k, count)),
                    });
                }
                out.push(Instance {
                    id: instance_id(seed, &base),
                    name: base,
                    instance_type: "c6i.4xlarge",
                    region_index: r,
                    platform: p.as_str().to_string(),
                    behaviour,
                    from: live_from.max(upgrade),
                    to: end,
                    slot: Some((k, count)),
                });
            }
        }
    }
    // Forgotten instances.
    let idle: [(&str, &'static str, usize, NaiveDate); 5] = [
        ("build-cache", "t3.xlarge", 0, start),
        ("build-cache", "t3.xlarge", 2, start),
        ("load-test-driver", "c6i.8xlarge", 3, date(2025, 6, 2)),
        ("legacy-matchmaker", "c5.2xlarge", 0, upgrade),
        ("legacy-matchmaker", "c5.2xlarge", 4, upgrade),
    ];
    for (role, itype, r, from) in idle {
        let name = format!("{role}-{}", REGIONS[r].0);
        out.push(Instance {
            id: instance_id(seed, &name),
            name,
            instance_type: itype,
            region_index: r,
            platform: "shared".to_string(),
            behaviour: Behaviour::Idle,
            from: from.max(start),
            to: end,
            slot: None,
        });
    }
    out.retain(|i| i.from <= i.to);
    out
}

/// How many times its launch-day size an autoscaled group may grow.
const MAX_SCALE: usize = 3;

/// Days of demand an autoscaled group is sized on (it runs for the
/// average of the last four weeks, so peaks run hot).
const SIZING_DAYS: i64 = 28;

/// Instances an autoscaled group of `base` runs on each day from `start`:
/// the trailing mean of its demand index × `base`, at least one, at most
/// `MAX_SCALE` × `base`.
fn group_sizes(
    start: NaiveDate,
    end: NaiveDate,
    base: usize,
    index: &dyn Fn(NaiveDate) -> f64,
) -> Vec<usize> {
    let days = (end - start).num_days().max(0) + 1;
    let daily: Vec<f64> = (0..days)
        .map(|i| index(start + chrono::Duration::days(i)))
        .collect();
    let mut out = Vec::with_capacity(daily.len());
    let mut sum = 0.0;
    for i in 0..daily.len() {
        sum += daily[i];
        if i as i64 >= SIZING_DAYS {
            sum -= daily[i - SIZING_DAYS as usize];
        }
        let mean = sum / (i as i64 + 1).min(SIZING_DAYS) as f64;
        out.push(((mean * base as f64).ceil() as usize).clamp(1, base * MAX_SCALE));
    }
    out
}

/// Daily utilisation rows. `demand_index(r, p, day)` is the demand of a
/// region (and platform) relative to its level at the start of history.
pub fn rows(
    seed: u64,
    start: NaiveDate,
    end: NaiveDate,
    demand_index: &dyn Fn(usize, Option<Platform>, NaiveDate) -> f64,
) -> Vec<NewUtilisation> {
    let noise = Noise::new(seed ^ 0x7574_696c);
    let instances = fleet(seed, start, end);
    let mut out = Vec::new();
    let mut sizes: std::collections::HashMap<(usize, String), Vec<usize>> =
        std::collections::HashMap::new();
    for inst in &instances {
        let platform = inst.platform.parse::<Platform>().ok();
        let group = inst.slot.map(|(k, base)| {
            let key = (inst.region_index, inst.platform.clone());
            let sizes = sizes.entry(key).or_insert_with(|| {
                group_sizes(start, end, base, &|d| {
                    demand_index(inst.region_index, platform, d)
                })
            });
            (k, base, &*sizes)
        });
        let mut day = inst.from;
        while day <= inst.to {
            // An autoscaled instance beyond today's group size is not running.
            let running = group.map(|(k, base, sizes)| {
                let i = (day - start).num_days().max(0) as usize;
                let size = sizes.get(i).copied().unwrap_or(base);
                (k < size, base as f64 / size as f64)
            });
            if let Some((false, _)) = running {
                day = day.succ_opt().unwrap_or(NaiveDate::MAX);
                continue;
            }
            let spread = running.map(|r| r.1).unwrap_or(1.0);
            let n = i64::from(chrono::Datelike::num_days_from_ce(&day));
            let jitter = noise.factor(&inst.name, n, 0.06);
            let (cpu_avg, mem_avg, net_per_cpu) = match inst.behaviour {
                Behaviour::Follows { cpu, mem } => {
                    let idx = demand_index(inst.region_index, platform, day) * spread;
                    // Load follows players: a game server's share of its
                    // platform's (the group's size follows last month's
                    // demand), a backend service the region's.
                    let load = idx;
                    (
                        (cpu * load * jitter).min(92.0),
                        mem * (0.9 + 0.1 * load),
                        4.0e9,
                    )
                }
                Behaviour::Oversized { cpu, mem } => (cpu * jitter, mem * jitter, 1.5e9),
                Behaviour::Idle => (0.25 * jitter, 3.0, 2.0e5),
            };
            let (p95, p99, max) = match inst.behaviour {
                Behaviour::Idle => (cpu_avg * 1.8, cpu_avg * 2.2, (cpu_avg * 2.8).min(0.9)),
                _ => (
                    (cpu_avg * 1.45).min(99.0),
                    (cpu_avg * 1.7).min(99.5),
                    (cpu_avg * 2.0).min(100.0),
                ),
            };
            out.push(NewUtilisation {
                period_start: day_start(day),
                granularity: "day".to_string(),
                resource_id: inst.id.clone(),
                resource_kind: "instance".to_string(),
                instance_type: inst.instance_type.to_string(),
                region: REGIONS[inst.region_index].0.to_string(),
                platform: inst.platform.clone(),
                running_hours: 24.0,
                cpu_avg: round2(cpu_avg),
                cpu_p95: Some(round2(p95)),
                cpu_p99: Some(round2(p99)),
                cpu_max: round2(max),
                mem_avg: Some(round2(mem_avg.min(95.0))),
                mem_max: Some(round2((mem_avg * 1.15).min(98.0))),
                network_bytes: Some((cpu_avg * net_per_cpu).round()),
                source: SOURCE.to_string(),
                ingest_run_id: None,
            });
            day = day.succ_opt().unwrap_or(NaiveDate::MAX);
        }
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn day_start(day: NaiveDate) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_autoscaled_group_follows_last_months_demand() {
        let start = date(2026, 1, 1);
        let end = date(2026, 3, 31);
        // Demand doubles on 1 February.
        let index = |d: NaiveDate| if d < date(2026, 2, 1) { 1.0 } else { 2.0 };
        let sizes = group_sizes(start, end, 10, &index);
        assert_eq!(sizes[0], 10);
        assert_eq!(sizes[30], 10, "31 January");
        // A week into February the group has grown a quarter of the way.
        let week = (date(2026, 2, 7) - start).num_days() as usize;
        assert_eq!(sizes[week], 13);
        // Four weeks on it is sized for the new level.
        assert_eq!(*sizes.last().unwrap(), 20);
        // Never above three times the base, never empty.
        let sizes = group_sizes(start, end, 4, &|_| 9.0);
        assert!(sizes.iter().all(|s| *s == 12));
        let sizes = group_sizes(start, end, 4, &|_| 0.0);
        assert!(sizes.iter().all(|s| *s == 1));
    }
}
