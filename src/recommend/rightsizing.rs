//! Rightsizing one instance from its utilisation over a lookback: the
//! cheapest instance type that carries the observed load (CPU at a chosen
//! statistic of the periods' peaks, memory where measured) plus headroom;
//! idle instances are terminated; too little data gets no
//! recommendation; and capacity a scheduled event needs is held.

use chrono::NaiveDate;

/// An instance type as the catalog describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceType {
    pub name: String,
    pub family: String,
    pub vcpu: f64,
    pub memory_gib: f64,
    /// On-demand price per hour in the region.
    pub hourly: f64,
}

/// One utilisation period (an hour or a day) of the instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Period {
    pub hours: f64,
    /// Peak CPU of the period, %.
    pub cpu_max: f64,
    /// Peak memory of the period, %, where an agent measures it.
    pub mem_max: Option<f64>,
    /// Network bytes in and out over the period, where measured.
    pub network_bytes: Option<f64>,
}

/// Which statistic of the periods' CPU peaks sizes the instance.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Statistic {
    P90,
    P95,
    P99_5,
    Max,
}

impl Statistic {
    fn level(self) -> f64 {
        match self {
            Statistic::P90 => 0.90,
            Statistic::P95 => 0.95,
            Statistic::P99_5 => 0.995,
            Statistic::Max => 1.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub statistic: Statistic,
    /// Extra capacity above the statistic (0.2: 20 %).
    pub headroom: f64,
    /// Look at every family, not only the instance's own.
    pub across_families: bool,
    /// Fewer hours of data than this: no recommendation.
    pub min_hours: f64,
    /// Load to size for, as a multiple of the observed (1.0; above 1 for
    /// an event's expected uplift).
    pub load_factor: f64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            statistic: Statistic::P99_5,
            headroom: 0.2,
            across_families: false,
            min_hours: 30.0,
            load_factor: 1.0,
        }
    }
}

/// Hours in an average month, for monthly savings.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Idle: peak CPU at most this, %.
pub const IDLE_CPU: f64 = 1.0;
/// … and at most this much network per hour on average (5 MB).
pub const IDLE_NETWORK_PER_HOUR: f64 = 5.0e6;

#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// The instance is the cheapest that carries its load.
    Keep,
    Resize {
        to: InstanceType,
        monthly_savings: f64,
    },
    Terminate {
        monthly_savings: f64,
    },
    /// Under `min_hours` of data: said, not guessed.
    TooLittleData {
        hours: f64,
    },
    /// A resize or termination a scheduled event would need undone.
    Held {
        event: String,
        starts: NaiveDate,
        would_be: Box<Decision>,
    },
}

/// The decision for `current` from its `periods`, choosing among
/// `catalog`. `event_ahead` is the first scheduled event in the coming
/// window that this instance's platform and region serve, if any.
pub fn rightsize(
    current: &InstanceType,
    periods: &[Period],
    catalog: &[InstanceType],
    policy: &Policy,
    event_ahead: Option<(&str, NaiveDate)>,
) -> Decision {
    let hours: f64 = periods.iter().map(|p| p.hours).sum();
    if hours < policy.min_hours {
        return Decision::TooLittleData { hours };
    }
    let decision = size(current, periods, catalog, policy, hours);
    match (event_ahead, &decision) {
        (Some((event, starts)), Decision::Resize { .. } | Decision::Terminate { .. }) => {
            Decision::Held {
                event: event.to_string(),
                starts,
                would_be: Box::new(decision),
            }
        }
        _ => decision,
    }
}

/// vCPUs and memory (GiB) the load needs, headroom included.
pub fn needed(current: &InstanceType, periods: &[Period], policy: &Policy) -> (f64, f64) {
    let cpu: Vec<f64> = periods
        .iter()
        .map(|p| p.cpu_max.clamp(0.0, 100.0))
        .collect();
    let mem: Vec<f64> = periods
        .iter()
        .filter_map(|p| p.mem_max.map(|m| m.clamp(0.0, 100.0)))
        .collect();
    let level = policy.statistic.level();
    let cpu_stat = crate::forecast::accuracy::quantile(&cpu, level);
    let mem_stat = crate::forecast::accuracy::quantile(&mem, level);
    let grow = (1.0 + policy.headroom.max(0.0)) * policy.load_factor.max(1.0);
    (
        current.vcpu * cpu_stat / 100.0 * grow,
        current.memory_gib * mem_stat / 100.0 * grow,
    )
}

fn size(
    current: &InstanceType,
    periods: &[Period],
    catalog: &[InstanceType],
    policy: &Policy,
    hours: f64,
) -> Decision {
    let peak_cpu = periods.iter().map(|p| p.cpu_max).fold(0.0, f64::max);
    let network: Option<f64> = periods.iter().map(|p| p.network_bytes).sum::<Option<f64>>();
    let quiet_network = network.is_none_or(|n| n / hours <= IDLE_NETWORK_PER_HOUR);
    if peak_cpu <= IDLE_CPU && quiet_network {
        return Decision::Terminate {
            monthly_savings: current.hourly * HOURS_PER_MONTH,
        };
    }
    let (vcpu, memory) = needed(current, periods, policy);
    let best = catalog
        .iter()
        .filter(|t| policy.across_families || t.family == current.family)
        .filter(|t| t.vcpu >= vcpu && t.memory_gib >= memory)
        .min_by(|a, b| {
            a.hourly
                .total_cmp(&b.hourly)
                .then(a.vcpu.total_cmp(&b.vcpu))
        });
    match best {
        Some(t) if t.hourly < current.hourly && t.name != current.name => Decision::Resize {
            to: t.clone(),
            monthly_savings: (current.hourly - t.hourly) * HOURS_PER_MONTH,
        },
        _ => Decision::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, vcpu: f64, mem: f64, hourly: f64) -> InstanceType {
        InstanceType {
            name: name.to_string(),
            family: name.split('.').next().unwrap_or("").to_string(),
            vcpu,
            memory_gib: mem,
            hourly,
        }
    }

    fn catalog() -> Vec<InstanceType> {
        vec![
            t("c6i.large", 2.0, 4.0, 0.085),
            t("c6i.xlarge", 4.0, 8.0, 0.17),
            t("c6i.2xlarge", 8.0, 16.0, 0.34),
            t("c6i.4xlarge", 16.0, 32.0, 0.68),
            t("m6i.large", 2.0, 8.0, 0.096),
            t("m6i.xlarge", 4.0, 16.0, 0.192),
            t("m6i.2xlarge", 8.0, 32.0, 0.384),
            t("r6i.large", 2.0, 16.0, 0.126),
        ]
    }

    fn days(cpu: &[f64], mem: Option<f64>) -> Vec<Period> {
        cpu.iter()
            .map(|c| Period {
                hours: 24.0,
                cpu_max: *c,
                mem_max: mem,
                network_bytes: Some(1.0e9),
            })
            .collect()
    }

    #[test]
    fn an_oversized_server_moves_down_its_family_and_says_what_it_saves() {
        let current = t("c6i.4xlarge", 16.0, 32.0, 0.68);
        // Peaks around 20 % of 16 vCPUs = 3.2 vCPUs; +20 % = 3.84: xlarge.
        let periods = days(&[18.0, 20.0, 19.0, 17.0, 20.0, 16.0, 19.0], Some(20.0));
        match rightsize(&current, &periods, &catalog(), &Policy::default(), None) {
            Decision::Resize {
                to,
                monthly_savings,
            } => {
                assert_eq!(to.name, "c6i.xlarge");
                assert!((monthly_savings - (0.68 - 0.17) * 730.0).abs() < 1e-9);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn idle_terminates_little_data_says_so_and_events_hold_capacity() {
        let current = t("m6i.2xlarge", 8.0, 32.0, 0.384);
        let idle: Vec<Period> = (0..14)
            .map(|_| Period {
                hours: 24.0,
                cpu_max: 0.6,
                mem_max: None,
                network_bytes: Some(2.0e6),
            })
            .collect();
        assert!(matches!(
            rightsize(&current, &idle, &catalog(), &Policy::default(), None),
            Decision::Terminate { .. }
        ));
        assert_eq!(
            rightsize(&current, &idle[..1], &catalog(), &Policy::default(), None),
            Decision::TooLittleData { hours: 24.0 }
        );
        let launch = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        match rightsize(
            &current,
            &idle,
            &catalog(),
            &Policy::default(),
            Some(("Season 10 launch", launch)),
        ) {
            Decision::Held {
                event,
                starts,
                would_be,
            } => {
                assert_eq!(event, "Season 10 launch");
                assert_eq!(starts, launch);
                assert!(matches!(*would_be, Decision::Terminate { .. }));
            }
            other => panic!("{other:?}"),
        }
        // A busy server is kept.
        let busy = days(&[70.0; 10], Some(50.0));
        assert_eq!(
            rightsize(&current, &busy, &catalog(), &Policy::default(), None),
            Decision::Keep
        );
    }

    #[test]
    fn never_below_the_observed_peak_plus_headroom() {
        let mut seed: u64 = 11;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let catalog = catalog();
        for case in 0..500 {
            let current = catalog[(next() * catalog.len() as f64) as usize % catalog.len()].clone();
            let n = 2 + (next() * 40.0) as usize;
            let periods: Vec<Period> = (0..n)
                .map(|_| Period {
                    hours: 24.0,
                    cpu_max: 100.0 * next(),
                    mem_max: if next() < 0.5 {
                        Some(100.0 * next())
                    } else {
                        None
                    },
                    network_bytes: None,
                })
                .collect();
            let policy = Policy {
                statistic: Statistic::Max,
                headroom: 0.3 * next(),
                across_families: next() < 0.5,
                min_hours: 30.0,
                load_factor: 1.0,
            };
            if let Decision::Resize { to, .. } =
                rightsize(&current, &periods, &catalog, &policy, None)
            {
                let peak_cpu = periods.iter().map(|p| p.cpu_max).fold(0.0, f64::max);
                let peak_mem = periods.iter().filter_map(|p| p.mem_max).fold(0.0, f64::max);
                let grow = 1.0 + policy.headroom;
                assert!(
                    to.vcpu >= current.vcpu * peak_cpu / 100.0 * grow - 1e-9,
                    "case {case}: {} vCPU for a peak of {peak_cpu} % of {}",
                    to.vcpu,
                    current.vcpu
                );
                assert!(
                    to.memory_gib >= current.memory_gib * peak_mem / 100.0 * grow - 1e-9,
                    "case {case}: memory"
                );
                assert!(to.hourly < current.hourly);
            }
        }
    }
}
