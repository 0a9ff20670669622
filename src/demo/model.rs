//! The demo game's shape: where its players are, what its services cost,
//! and how its commitments are bought. Rates are in micro-dollars so that
//! no money constant is a float.

use chrono::NaiveDate;

use crate::dims::Platform;

/// Share of peak concurrent players per platform at the start of history.
pub fn platform_share(p: Platform) -> f64 {
    match p {
        Platform::Pc => 0.36,
        Platform::PlayStation => 0.27,
        Platform::Xbox => 0.15,
        Platform::Switch => 0.08,
        Platform::Ios => 0.08,
        Platform::Android => 0.06,
    }
}

/// Regions the game is served from, with on-demand price level relative to
/// us-east-1.
pub const REGIONS: [(&str, f64); 8] = [
    ("us-east-1", 1.00),
    ("us-west-2", 1.00),
    ("eu-west-1", 1.06),
    ("eu-central-1", 1.12),
    ("ap-northeast-1", 1.25),
    ("ap-southeast-1", 1.18),
    ("ap-southeast-2", 1.22),
    ("sa-east-1", 1.55),
];

/// Share of a platform's players served from each region (rows follow
/// `REGIONS`). Consoles lean to North America and Europe, Switch to Japan,
/// mobile to South-East Asia and South America.
pub fn region_share(p: Platform) -> [f64; 8] {
    match p {
        Platform::Pc => [0.22, 0.12, 0.17, 0.15, 0.07, 0.12, 0.05, 0.10],
        Platform::PlayStation => [0.27, 0.14, 0.18, 0.13, 0.12, 0.05, 0.05, 0.06],
        Platform::Xbox => [0.34, 0.17, 0.18, 0.14, 0.03, 0.04, 0.05, 0.05],
        Platform::Switch => [0.20, 0.10, 0.13, 0.10, 0.31, 0.07, 0.05, 0.04],
        Platform::Ios => [0.22, 0.11, 0.12, 0.09, 0.16, 0.15, 0.07, 0.08],
        Platform::Android => [0.12, 0.06, 0.09, 0.08, 0.08, 0.31, 0.04, 0.22],
    }
}

/// Total peak concurrent players across platforms at the start of history.
pub const BASE_PEAK_PLAYERS: f64 = 150_000.0;

/// When a platform's players arrive: before `live` a platform has
/// `pre_launch_level` of its eventual demand (0 = not released; soft
/// launch otherwise). Infrastructure for a platform exists from
/// `infra_from` on.
pub struct PlatformLaunch {
    pub live: NaiveDate,
    pub pre_launch_level: f64,
    pub infra_from: NaiveDate,
}

pub fn platform_launch(p: Platform) -> Option<PlatformLaunch> {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("valid constant date");
    match p {
        Platform::Switch => Some(PlatformLaunch {
            live: d(2025, 8, 21),
            pre_launch_level: 0.0,
            infra_from: d(2025, 6, 20),
        }),
        Platform::Ios | Platform::Android => Some(PlatformLaunch {
            live: d(2025, 4, 15),
            pre_launch_level: 0.10,
            infra_from: d(2020, 1, 1),
        }),
        _ => None,
    }
}

/// How a service's daily cost is driven. Rates in micro-dollars at
/// us-east-1 prices; regional price levels multiply them.
pub struct ServiceModel {
    pub name: &'static str,
    /// Fixed micro-dollars per day per region of average size.
    pub fixed_per_region_day: i64,
    /// Micro-dollars per player-hour.
    pub per_player_hour: i64,
    /// Micro-dollars per peak concurrent player per day.
    pub per_peak_player: i64,
    /// Share of the cost no allocation tag covers.
    pub untagged_share: f64,
    /// Usage unit reported for the service.
    pub unit: &'static str,
    /// Micro-dollars per usage unit, to derive a believable quantity.
    pub unit_rate: i64,
    /// Eligible for the Compute Savings Plan.
    pub savings_plan_eligible: bool,
}

pub const EC2: &str = "Amazon Elastic Compute Cloud - Compute";
pub const GAMELIFT: &str = "Amazon GameLift";
pub const CLOUDFRONT: &str = "Amazon CloudFront";
pub const SAVINGS_PLANS: &str = "Savings Plans for AWS Compute usage";

/// The regional services, largest first.
pub const SERVICES: [ServiceModel; 9] = [
    ServiceModel {
        name: GAMELIFT,
        fixed_per_region_day: 90_000_000,
        per_player_hour: 1_900,
        per_peak_player: 15_000,
        untagged_share: 0.01,
        unit: "Hrs",
        unit_rate: 410_000,
        savings_plan_eligible: false,
    },
    ServiceModel {
        name: EC2,
        fixed_per_region_day: 520_000_000,
        per_player_hour: 1_500,
        per_peak_player: 13_000,
        untagged_share: 0.03,
        unit: "Hrs",
        unit_rate: 340_000,
        savings_plan_eligible: true,
    },
    ServiceModel {
        name: "Amazon DynamoDB",
        fixed_per_region_day: 60_000_000,
        per_player_hour: 520,
        per_peak_player: 0,
        untagged_share: 0.02,
        unit: "ReadRequestUnits",
        unit_rate: 250,
        savings_plan_eligible: false,
    },
    ServiceModel {
        name: "AWS Data Transfer",
        fixed_per_region_day: 25_000_000,
        per_player_hour: 420,
        per_peak_player: 0,
        untagged_share: 0.05,
        unit: "GB",
        unit_rate: 90_000,
        savings_plan_eligible: false,
    },
    ServiceModel {
        name: "Amazon Relational Database Service",
        fixed_per_region_day: 210_000_000,
        per_player_hour: 0,
        per_peak_player: 600,
        untagged_share: 0.02,
        unit: "Hrs",
        unit_rate: 1_920_000,
        savings_plan_eligible: false,
    },
    ServiceModel {
        name: "Amazon ElastiCache",
        fixed_per_region_day: 140_000_000,
        per_player_hour: 0,
        per_peak_player: 450,
        untagged_share: 0.02,
        unit: "NodeUsage",
        unit_rate: 680_000,
        savings_plan_eligible: false,
    },
    ServiceModel {
        name: "Amazon Simple Storage Service",
        fixed_per_region_day: 70_000_000,
        per_player_hour: 25,
        per_peak_player: 0,
        untagged_share: 0.08,
        unit: "GB-Mo",
        unit_rate: 23_000,
        savings_plan_eligible: false,
    },
    ServiceModel {
        name: "Amazon Elastic Container Service for Kubernetes",
        fixed_per_region_day: 19_200_000,
        per_player_hour: 0,
        per_peak_player: 0,
        untagged_share: 0.0,
        unit: "Hrs",
        unit_rate: 100_000,
        savings_plan_eligible: false,
    },
    ServiceModel {
        name: "AmazonCloudWatch",
        fixed_per_region_day: 35_000_000,
        per_player_hour: 40,
        per_peak_player: 0,
        untagged_share: 0.20,
        unit: "Metrics",
        unit_rate: 300_000,
        savings_plan_eligible: false,
    },
];

/// CloudFront (global) micro-dollars per peak concurrent player per day,
/// by platform: the launcher and mobile asset bundles come from our CDN,
/// console patches mostly from the platform holders'.
pub fn cdn_rate_per_peak_player(p: Platform) -> i64 {
    match p {
        Platform::Pc => 6_500,
        Platform::Ios | Platform::Android => 11_000,
        Platform::PlayStation | Platform::Xbox | Platform::Switch => 900,
    }
}

/// Accounts: tagged production workloads, shared services (where untagged
/// spend lives) and the payer (commitments, credits).
pub const ACCOUNT_PRODUCTION: &str = "111122223333";
pub const ACCOUNT_SHARED: &str = "444455556666";
pub const ACCOUNT_PAYER: &str = "999988887777";

/// Compute Savings Plans discount on EC2 against on-demand.
pub const SAVINGS_PLAN_DISCOUNT: f64 = 0.27;

/// A Compute Savings Plan held by the demo studio.
pub struct SavingsPlan {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Commitment in micro-dollars per hour (at Savings Plan rates).
    pub hourly_commitment: i64,
    /// Share paid upfront on the start day.
    pub upfront_share: f64,
}

pub fn savings_plans() -> Vec<SavingsPlan> {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("valid constant date");
    vec![
        // 1-year, no upfront, bought after the first holiday season.
        SavingsPlan {
            start: d(2025, 1, 15),
            end: d(2026, 1, 14),
            hourly_commitment: 175_000_000,
            upfront_share: 0.0,
        },
        // Renewed bigger, partial upfront, sized at the holiday peak: on
        // quiet weekdays part of it goes unused.
        SavingsPlan {
            start: d(2026, 1, 15),
            end: d(2027, 1, 14),
            hourly_commitment: 330_000_000,
            upfront_share: 0.5,
        },
    ]
}

/// AWS Activate-style promotional credits: micro-dollars per day until the
/// end date, applied by the payer account.
pub const PROMO_CREDIT_PER_DAY: i64 = -650_000_000;
pub fn promo_credit_until() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, 30).expect("valid constant date")
}

/// A one-off SLA refund after an EC2 incident.
pub fn sla_refund() -> (NaiveDate, i64) {
    (
        NaiveDate::from_ymd_opt(2025, 8, 5).expect("valid constant date"),
        -4_812_370_000,
    )
}
