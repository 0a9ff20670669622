//! Recommendations from the database: loads what the engines need, runs
//! them and returns the recommendations with what their detail views
//! show. Pages, the API and the CLI call these.

use chrono::NaiveDate;

use super::fleet::{self, FleetOptions, ResourceDecision};
use super::purchase::{self, Plan, PurchaseOptions};
use super::{usage, Recommendation};
use crate::db::{DbConnection, DbError};
use crate::pricing::PriceCatalog;

#[derive(Debug, thiserror::Error)]
pub enum RecommendError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("there is no utilisation data to rightsize from; import utilisation (finops ingest utilisation) or load the demo")]
    NoUtilisation,
}

/// The rightsizing review of the whole fleet.
#[derive(Clone, Debug)]
pub struct Rightsizing {
    /// Last day of utilisation data; the lookback ends here.
    pub as_of: NaiveDate,
    pub options: FleetOptions,
    pub catalog_source: String,
    pub decisions: Vec<ResourceDecision>,
    pub recommendations: Vec<Recommendation>,
}

pub fn rightsizing(
    conn: &mut DbConnection,
    options: &FleetOptions,
) -> Result<Rightsizing, RecommendError> {
    let as_of = fleet::last_day(conn)?.ok_or(RecommendError::NoUtilisation)?;
    let catalog = crate::recommend::price_catalog(conn)?;
    let events = crate::db::calendar::all_events(conn)?;
    let usage = fleet::load_usage(conn, as_of, options.lookback_days)?;
    let decisions = fleet::decide_all(usage, &catalog, &events, as_of, options);
    let currency = catalog
        .prices
        .values()
        .next()
        .map(|p| p.currency.clone())
        .unwrap_or_else(|| "USD".to_string());
    let mut recommendations = fleet::recommendations(&decisions, options, &currency);
    attach_aws_rightsizing(conn, &mut recommendations)?;
    for r in &mut recommendations {
        r.price_source = catalog.source.clone();
    }
    Ok(Rightsizing {
        as_of,
        options: options.clone(),
        catalog_source: catalog.source.clone(),
        decisions,
        recommendations,
    })
}

/// The commitment plans and their recommendations.
#[derive(Clone, Debug)]
pub struct Commitments {
    pub catalog: PriceCatalog,
    pub plans: Vec<Plan>,
    pub recommendations: Vec<Recommendation>,
    pub inputs_held: Vec<crate::db::commitments::Commitment>,
}

pub fn purchase_inputs(
    conn: &mut DbConnection,
    catalog: &PriceCatalog,
) -> Result<purchase::Inputs, RecommendError> {
    let (eligible, currency) = usage::eligible_compute(conn)?;
    let hours = usage::instance_hours(conn)?;
    Ok(purchase::Inputs {
        eligible,
        currency,
        families: usage::by_family(&hours, catalog),
        held: crate::db::commitments::all(conn)?,
        events: crate::db::calendar::all_events(conn)?,
        profile: usage::hourly_profile(conn)?,
        rightsized: purchase::Rightsized::default(),
    })
}

/// What the recommended rightsizing takes away from the EC2 usage
/// commitments cover, in on-demand spend per hour: each actionable resize
/// or termination of an instance, its monthly savings ÷ 730 hours from
/// the pool; per family, the old type's spend leaves its family and a
/// resize's new type's spend joins its own.
pub fn rightsized(decisions: &[ResourceDecision]) -> purchase::Rightsized {
    use super::rightsizing::Decision;
    let mut out = purchase::Rightsized::default();
    for d in decisions {
        let Some(cur) = &d.current else { continue };
        if d.usage.resource_kind != "instance" || cur.hourly <= 0.0 {
            continue;
        }
        let region = d.usage.region.clone();
        let (saved, to) = match &d.decision {
            Decision::Resize {
                to,
                monthly_savings,
            } => (*monthly_savings, Some(to)),
            Decision::Terminate { monthly_savings } => (*monthly_savings, None),
            _ => continue,
        };
        let hourly = saved / super::rightsizing::HOURS_PER_MONTH;
        if hourly <= 0.0 {
            continue;
        }
        out.total += hourly;
        // The share of the hours it runs: savings ÷ the price difference.
        let gap = cur.hourly - to.map_or(0.0, |t| t.hourly);
        let running = if gap > 0.0 { hourly / gap } else { 0.0 };
        *out.by_family
            .entry((region.clone(), cur.family.clone()))
            .or_default() += cur.hourly * running;
        if let Some(t) = to {
            *out.by_family.entry((region, t.family.clone())).or_default() -= t.hourly * running;
        }
    }
    out
}

/// The commitment plans, sized on the usage after the recommended
/// rightsizing where there is utilisation to rightsize from.
pub fn commitments(
    conn: &mut DbConnection,
    options: &PurchaseOptions,
) -> Result<Commitments, RecommendError> {
    let cut = match rightsizing(conn, &FleetOptions::default()) {
        Ok(r) => Some(rightsized(&r.decisions)),
        Err(RecommendError::NoUtilisation) => None,
        Err(e) => return Err(e),
    };
    commitments_after(conn, options, cut)
}

/// The commitment plans, sized on the usage after `rightsized` (none:
/// as billed).
pub fn commitments_after(
    conn: &mut DbConnection,
    options: &PurchaseOptions,
    rightsized: Option<purchase::Rightsized>,
) -> Result<Commitments, RecommendError> {
    let catalog = crate::recommend::price_catalog(conn)?;
    let mut inputs = purchase_inputs(conn, &catalog)?;
    inputs.rightsized = rightsized.unwrap_or_default();
    let plans = purchase::all_plans(&inputs, &catalog, options);
    let advice = crate::db::aws_advice::all(conn)?;
    let recommendations = plans
        .iter()
        .map(|p| {
            let mut r = purchase::to_recommendation(p, super::aws::side_by_side(&advice, p));
            r.price_source = plan_price_sources(&catalog, &inputs.families, p).describe();
            // The pool's plan is replayed on the past months and calibrated
            // by that record (the family plans on their detail view).
            if p.usage.kind == super::Kind::ComputeSavingsPlan {
                if let Some(record) = history_record(p, &inputs.events, inputs.profile.as_deref()) {
                    purchase::history::calibrate(&mut r, &record);
                }
            }
            r
        })
        .collect();
    Ok(Commitments {
        catalog,
        plans,
        recommendations,
        inputs_held: inputs.held,
    })
}

/// The record of a plan's recommended option on the user's own past
/// months ([`purchase::history`]), if it recommends one.
pub fn history_record(
    plan: &Plan,
    events: &[crate::calendar::CalendarEvent],
    profile: Option<&[f64]>,
) -> Option<purchase::history::HistoryRecord> {
    let o = plan.options.get(plan.best?)?;
    let unit = match (o.instances, o.outcome.commitment) {
        (Some(n), c) if n > 0 && o.rate_ratio > 0.0 => Some(c / o.rate_ratio / f64::from(n)),
        _ => None,
    };
    Some(purchase::history::record(&purchase::history::Subject {
        kind: plan.usage.kind,
        scope: plan.usage.scope.clone(),
        main_type: plan.usage.main_type.clone(),
        history: &plan.usage.history,
        events,
        profile,
        offer: o.offer,
        term: o.term_years,
        payment: o.payment,
        ratio: o.rate_ratio,
        ri_unit: unit,
        currency: &plan.currency,
    }))
}

/// Where the prices of a plan came from: the on-demand prices and the
/// recommended option's rate (or, with none recommended, all the offer's
/// rates) of the (type, region) pairs it is priced on: all of the fleet's
/// for a Compute Savings Plan, the family's main type for the others.
pub fn plan_price_sources(
    catalog: &PriceCatalog,
    families: &[usage::FamilyUsage],
    plan: &Plan,
) -> crate::pricing::PriceSources {
    use crate::pricing::Offer;
    let offer = match plan.usage.kind {
        super::Kind::Ec2InstanceSavingsPlan => Offer::Ec2InstanceSp,
        super::Kind::ReservedInstances => Offer::Reserved,
        _ => Offer::ComputeSp,
    };
    let chosen = plan
        .best
        .and_then(|i| plan.options.get(i))
        .map(|o| (o.offer, o.term_years, o.payment));
    let rates = |k: &crate::pricing::RateKey| match chosen {
        Some(c) => *k == c,
        None => k.0 == offer,
    };
    match (&plan.usage.main_type, offer) {
        (Some(t), Offer::Ec2InstanceSp | Offer::Reserved) => {
            catalog.sources_for([(t.as_str(), plan.usage.scope.region.as_str())], rates)
        }
        _ => catalog.sources_for(
            families
                .iter()
                .map(|f| (f.main_type.as_str(), f.region.as_str())),
            rates,
        ),
    }
}

fn attach_aws_rightsizing(
    conn: &mut DbConnection,
    recs: &mut [Recommendation],
) -> Result<(), DbError> {
    let advice = crate::db::aws_advice::all(conn)?;
    for r in recs.iter_mut() {
        r.aws = super::aws::rightsizing_for(&advice, r);
    }
    Ok(())
}
