//! Daily cost rows of the demo game, as a FOCUS-style billing export would
//! give them after allocation: regional services per platform, untagged
//! spend, the CDN, a Compute Savings Plan (fees, upfront payment and the
//! discount it gives EC2), promotional credits and an SLA refund.

use chrono::{Datelike, NaiveDate};

use super::demand::{availability, growth, Demand, DemandModel};
use super::model::{self, ServiceModel, REGIONS, SERVICES};
use super::noise::Noise;
use crate::db::costs::NewCost;
use crate::dims::{Platform, UNALLOCATED};
use crate::money::Micros;
use crate::usage_class::UsageClass;

pub const SOURCE: &str = crate::runs::Source::Demo.as_str();
const PROVIDER: &str = "AWS";
const CURRENCY: &str = "USD";

/// Relative size of each region: its share of all players, mean 1.
fn region_sizes() -> [f64; 8] {
    let mut sizes = [0.0; 8];
    for p in Platform::ALL {
        for (i, s) in model::region_share(p).iter().enumerate() {
            sizes[i] += model::platform_share(p) * s;
        }
    }
    let mean = sizes.iter().sum::<f64>() / sizes.len() as f64;
    sizes.map(|s| s / mean)
}

/// How much of a region's fixed infrastructure a platform carries on `day`.
fn infrastructure_weight(p: Platform, region_index: usize, day: NaiveDate) -> f64 {
    let presence = match model::platform_launch(p) {
        Some(l) if day < l.infra_from => 0.0,
        Some(l) if day < l.live => 0.25_f64.max(l.pre_launch_level),
        _ => availability(p, day),
    };
    model::platform_share(p) * model::region_share(p)[region_index] * presence
}

/// Step changes in provisioned databases and caches (scaled up before
/// Season 5, again before the Game Pass release).
fn provisioned_step(service: &str, day: NaiveDate) -> f64 {
    let stepped = matches!(
        service,
        "Amazon Relational Database Service" | "Amazon ElastiCache"
    );
    if !stepped {
        return 1.0;
    }
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or(day);
    if day >= d(2026, 4, 14) {
        1.55
    } else if day >= d(2025, 9, 1) {
        1.3
    } else {
        1.0
    }
}

struct RowSpec<'a> {
    day: NaiveDate,
    platform: &'a str,
    region: &'a str,
    service: &'a str,
    account: &'a str,
    category: &'a str,
    billed: i64,
    effective: i64,
    list: Option<i64>,
    quantity: Option<(f64, &'a str)>,
}

fn row(spec: RowSpec<'_>) -> NewCost {
    NewCost {
        day: spec.day,
        billing_period: format!("{:04}-{:02}", spec.day.year(), spec.day.month()),
        billing_account: model::ACCOUNT_PAYER.to_string(),
        provider: PROVIDER.to_string(),
        account_id: spec.account.to_string(),
        platform: spec.platform.to_string(),
        region: spec.region.to_string(),
        service: spec.service.to_string(),
        charge_category: spec.category.to_string(),
        source: SOURCE.to_string(),
        currency: CURRENCY.to_string(),
        billed_micros: spec.billed,
        effective_micros: spec.effective,
        list_micros: spec.list,
        usage_quantity: spec.quantity.map(|(q, _)| (q * 1000.0).round() / 1000.0),
        usage_unit: spec.quantity.map(|(_, u)| u.to_string()),
        // The demo bills EC2 instance hours alone under "EC2 - Compute".
        usage_class: if spec.service == model::EC2 && spec.category == "Usage" {
            UsageClass::ComputeInstance
        } else {
            UsageClass::Other
        }
        .as_str()
        .to_string(),
        estimated: 0,
        ingest_run_id: None,
    }
}

fn to_micros(x: f64) -> i64 {
    x.round() as i64
}

/// Cost rows for one day. `demand[p][r]` is the day's demand.
pub fn day_rows(
    noise: &Noise,
    model: &DemandModel<'_>,
    day: NaiveDate,
    demand: &[[Demand; 8]; 6],
) -> Vec<NewCost> {
    let sizes = region_sizes();
    let day_n = i64::from(day.num_days_from_ce());
    let mut rows = Vec::with_capacity(6 * 8 * SERVICES.len() + 64);
    // On-demand EC2 rows, to which the Savings Plan applies afterwards.
    let mut ec2_rows: Vec<usize> = Vec::new();

    for (r, (region, price_level)) in REGIONS.iter().enumerate() {
        let weights: Vec<f64> = Platform::ALL
            .iter()
            .map(|&p| infrastructure_weight(p, r, day))
            .collect();
        let weight_sum: f64 = weights.iter().sum::<f64>().max(1e-9);
        for service in SERVICES.iter() {
            let fixed_total = service.fixed_per_region_day as f64
                * sizes[r]
                * (0.8 + 0.2 * growth(day))
                * provisioned_step(service.name, day);
            let mut untagged = 0.0;
            for (pi, &p) in Platform::ALL.iter().enumerate() {
                let d = demand[pi][r];
                let fixed = fixed_total * weights[pi] / weight_sum;
                let variable = service.per_player_hour as f64 * d.player_hours
                    + service.per_peak_player as f64 * d.peak_players;
                let jitter = noise.factor(
                    &format!("svc/{}/{}/{}", service.name, p, region),
                    day_n,
                    0.015,
                );
                let cost = (fixed + variable) * price_level * jitter;
                if cost < 1.0 {
                    continue;
                }
                untagged += cost * service.untagged_share;
                let tagged = cost * (1.0 - service.untagged_share);
                rows.push(usage_row(
                    day,
                    p.as_str(),
                    region,
                    service,
                    model::ACCOUNT_PRODUCTION,
                    Micros(to_micros(tagged)),
                ));
                if service.savings_plan_eligible {
                    ec2_rows.push(rows.len() - 1);
                }
            }
            if untagged >= 1.0 {
                rows.push(usage_row(
                    day,
                    UNALLOCATED,
                    region,
                    service,
                    model::ACCOUNT_SHARED,
                    Micros(to_micros(untagged)),
                ));
                if service.savings_plan_eligible {
                    ec2_rows.push(rows.len() - 1);
                }
            }
        }
    }

    // CloudFront is global: launcher and mobile asset downloads, with
    // patch-day spikes around launches.
    for (pi, &p) in Platform::ALL.iter().enumerate() {
        let peak: f64 = demand[pi].iter().map(|d| d.peak_players).sum();
        if peak <= 0.0 {
            continue;
        }
        let spike = if model.in_patch_window(p, day) {
            4.0
        } else {
            1.0
        };
        let cost = model::cdn_rate_per_peak_player(p) as f64
            * peak
            * spike
            * noise.factor(&format!("cdn/{p}"), day_n, 0.05);
        let cdn = ServiceModel {
            name: model::CLOUDFRONT,
            unit: "GB",
            unit_rate: 60_000,
            ..SERVICES[0]
        };
        rows.push(usage_row(
            day,
            p.as_str(),
            "global",
            &cdn,
            model::ACCOUNT_PRODUCTION,
            Micros(to_micros(cost)),
        ));
    }

    apply_savings_plans(day, &mut rows, &ec2_rows);
    rows.extend(credits(day));
    rows
}

fn usage_row(
    day: NaiveDate,
    platform: &str,
    region: &str,
    service: &ServiceModel,
    account: &str,
    cost: Micros,
) -> NewCost {
    let micros = cost.0;
    row(RowSpec {
        day,
        platform,
        region,
        service: service.name,
        account,
        category: "Usage",
        billed: micros,
        effective: micros,
        list: Some(micros),
        quantity: Some((
            micros as f64 / service.unit_rate.max(1) as f64,
            service.unit,
        )),
    })
}

/// Applies the Savings Plans active on `day` to the eligible on-demand rows
/// and adds the plan's own rows: the recurring fee (billed), the unused
/// commitment (effective), and the upfront payment on the first day.
///
/// Per day, effective cost = uncovered on-demand + covered usage at plan
/// rates + unused commitment, so over a plan's term billed and effective
/// totals agree; within a month they differ by the upfront amortisation.
fn apply_savings_plans(day: NaiveDate, rows: &mut Vec<NewCost>, eligible: &[usize]) {
    let discount = model::SAVINGS_PLAN_DISCOUNT;
    for plan in model::savings_plans() {
        if day < plan.start || day > plan.end {
            continue;
        }
        // Eligible usage still billed at on-demand rates.
        let uncovered: i64 = eligible.iter().map(|&i| rows[i].billed_micros).sum();
        let daily_commitment = plan.hourly_commitment * 24;
        let at_plan_rates = uncovered as f64 * (1.0 - discount);
        let covered = (daily_commitment as f64).min(at_plan_rates);
        let fraction = if at_plan_rates > 0.0 {
            covered / at_plan_rates
        } else {
            0.0
        };
        let mut used = 0_i64;
        for &i in eligible {
            let billed = rows[i].billed_micros;
            let covered_on_demand = to_micros(billed as f64 * fraction);
            let at_plan_rate = to_micros(covered_on_demand as f64 * (1.0 - discount));
            used += at_plan_rate;
            rows[i].billed_micros = billed - covered_on_demand;
            rows[i].effective_micros += at_plan_rate - covered_on_demand;
        }
        let term_days = (plan.end - plan.start).num_days() + 1;
        let recurring_fee = to_micros(daily_commitment as f64 * (1.0 - plan.upfront_share));
        // The upfront payment is billed on the first day of the term, in
        // the same row as that day's fee.
        let upfront = if day == plan.start {
            to_micros(daily_commitment as f64 * term_days as f64 * plan.upfront_share)
        } else {
            0
        };
        // The fee is billed; the commitment the usage did not consume is
        // the plan's own effective cost.
        rows.push(row(RowSpec {
            day,
            platform: UNALLOCATED,
            region: "global",
            service: model::SAVINGS_PLANS,
            account: model::ACCOUNT_PAYER,
            category: "Purchase",
            billed: recurring_fee + upfront,
            effective: daily_commitment - used,
            list: None,
            quantity: None,
        }));
    }
}

fn credits(day: NaiveDate) -> Vec<NewCost> {
    let mut out = Vec::new();
    if day <= model::promo_credit_until() {
        out.push(row(RowSpec {
            day,
            platform: UNALLOCATED,
            region: "global",
            service: model::EC2,
            account: model::ACCOUNT_PAYER,
            category: "Credit",
            billed: model::PROMO_CREDIT_PER_DAY,
            effective: model::PROMO_CREDIT_PER_DAY,
            list: None,
            quantity: None,
        }));
    }
    let (refund_day, refund) = model::sla_refund();
    if day == refund_day {
        out.push(row(RowSpec {
            day,
            platform: UNALLOCATED,
            region: "us-east-1",
            service: model::EC2,
            account: model::ACCOUNT_PAYER,
            category: "Credit",
            billed: refund,
            effective: refund,
            list: None,
            quantity: None,
        }));
    }
    out
}
