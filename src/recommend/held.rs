//! The inventory of commitments held: every Savings Plan and Reserved
//! Instance the bill shows (CUR `savings_plan_*` / `reservation_*`, FOCUS
//! `CommitmentDiscount*`) or the commitments list names (`finops ingest
//! commitments`), with per month what was used and what went unused, the
//! utilisation, and when each expires.
//!
//! On the bill, a commitment's used part is the effective cost of the
//! usage it covered (status `Used`) and its unused part the effective cost
//! of its own fee lines (status `Unused`): utilisation = used ÷ (used +
//! unused).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Text};

use crate::db::commitments::Commitment;
use crate::db::{DbConnection, DbError, Sql};
use crate::money::Micros;

/// Days ahead in which an expiry is flagged.
pub const EXPIRY_WARNING_DAYS: i64 = 90;

/// One month of a commitment on the bill.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HeldMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub used: Micros,
    pub unused: Micros,
    pub utilisation: Option<f64>,
    /// On-demand-equivalent cost of the usage it covered.
    pub covered_list: Micros,
    /// `covered_list` ÷ all eligible compute's list cost that month.
    pub coverage: Option<f64>,
}

/// One commitment held.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HeldCommitment {
    pub id: String,
    /// `Savings Plan`, `Reserved Instance`, `compute_sp`, … as the source
    /// names it.
    pub kind: String,
    /// From the commitments list: hourly commitment, term, payment, start
    /// and end.
    pub hourly_commitment: Option<Micros>,
    pub term_years: Option<i32>,
    pub payment: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Days from `today` to the end date (negative: expired).
    pub expires_in_days: Option<i64>,
    /// First and last day the bill shows it.
    pub first_billed: Option<NaiveDate>,
    pub last_billed: Option<NaiveDate>,
    pub months: Vec<HeldMonth>,
    /// Over every month billed.
    pub used: Micros,
    pub unused: Micros,
    pub utilisation: Option<f64>,
    /// Over every month billed: covered ÷ eligible list cost.
    pub coverage: Option<f64>,
    /// `bill`, `list` or `bill and list`.
    pub seen_in: &'static str,
}

impl HeldCommitment {
    /// A commitment seen in `seen_in`, with nothing known of it yet.
    fn new(id: &str, kind: &str, seen_in: &'static str) -> HeldCommitment {
        HeldCommitment {
            id: id.to_string(),
            kind: kind.to_string(),
            hourly_commitment: None,
            term_years: None,
            payment: None,
            start_date: None,
            end_date: None,
            expires_in_days: None,
            first_billed: None,
            last_billed: None,
            months: Vec::new(),
            used: Micros::ZERO,
            unused: Micros::ZERO,
            utilisation: None,
            coverage: None,
            seen_in,
        }
    }

    pub fn expires_soon(&self) -> bool {
        self.expires_in_days
            .is_some_and(|d| (0..=EXPIRY_WARNING_DAYS).contains(&d))
    }
}

#[derive(diesel::QueryableByName)]
struct BilledPart {
    #[diesel(sql_type = Text)]
    commitment_id: String,
    #[diesel(sql_type = Text)]
    commitment_type: String,
    #[diesel(sql_type = Text)]
    commitment_status: String,
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = Text)]
    first_day: String,
    #[diesel(sql_type = Text)]
    last_day: String,
    #[diesel(sql_type = BigInt)]
    effective: i64,
    /// List (on-demand-equivalent) cost of the lines.
    #[diesel(sql_type = BigInt)]
    list: i64,
    /// The latest end date the bill gives (`YYYY-MM-DD`), or empty.
    #[diesel(sql_type = Text)]
    commitment_end: String,
}

/// used ÷ (used + unused); `None` when both are zero.
pub fn share(used: Micros, unused: Micros) -> Option<f64> {
    let total = used.0 + unused.0;
    (total > 0).then(|| used.0 as f64 / total as f64)
}

fn date(text: &str) -> Option<NaiveDate> {
    text.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// Every commitment held, the bill's and the list's, soonest expiry first
/// (those without an end date last).
pub fn inventory(
    conn: &mut DbConnection,
    today: NaiveDate,
) -> Result<Vec<HeldCommitment>, DbError> {
    let dialect = conn.dialect();
    let day = dialect.date_text("day");
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT commitment_id, commitment_type, commitment_status, SUBSTR({day}, 1, 7) AS month, \
         MIN({day}) AS first_day, MAX({day}) AS last_day, CAST(SUM(effective_micros) AS BIGINT) AS effective, \
         CAST(SUM(COALESCE(list_micros, 0)) AS BIGINT) AS list, \
         MAX(commitment_end) AS commitment_end \
         FROM cost_resource_daily WHERE commitment_id <> '' GROUP BY 1, 2, 3, 4 ORDER BY 1, 4"
    ));
    let parts: Vec<BilledPart> = sql.load(conn)?;
    let classes: Vec<String> = crate::usage_class::UsageClass::SAVINGS_PLAN_ELIGIBLE
        .iter()
        .map(|c| format!("'{}'", c.as_str()))
        .collect();
    let mut sql = Sql::new(dialect);
    sql.push(&format!(
        "SELECT SUBSTR({day}, 1, 7) AS month, CAST(SUM(COALESCE(list_micros, 0)) AS BIGINT) AS list \
         FROM cost_resource_daily WHERE usage_class IN ({}) AND charge_category = 'Usage' GROUP BY 1",
        classes.join(", ")
    ));
    let eligible: BTreeMap<String, Micros> = sql
        .load::<EligibleMonth>(conn)?
        .into_iter()
        .map(|m| (m.month, Micros(m.list)))
        .collect();
    let listed = crate::db::commitments::all(conn)?;
    Ok(merge(parts, &eligible, &listed, today))
}

#[derive(diesel::QueryableByName)]
struct EligibleMonth {
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = BigInt)]
    list: i64,
}

/// part ÷ whole; `None` when the whole is zero.
fn ratio(part: Micros, whole: Micros) -> Option<f64> {
    (whole.0 > 0).then(|| part.0 as f64 / whole.0 as f64)
}

fn merge(
    parts: Vec<BilledPart>,
    eligible: &BTreeMap<String, Micros>,
    listed: &[Commitment],
    today: NaiveDate,
) -> Vec<HeldCommitment> {
    let mut held: BTreeMap<String, HeldCommitment> = BTreeMap::new();
    // (id, month) → (used, unused, covered list).
    let mut months: BTreeMap<(String, String), (Micros, Micros, Micros)> = BTreeMap::new();
    for p in parts {
        let h = held
            .entry(p.commitment_id.clone())
            .or_insert_with(|| HeldCommitment::new(&p.commitment_id, &p.commitment_type, "bill"));
        if let Some(end) = date(&p.commitment_end) {
            h.end_date = Some(h.end_date.map_or(end, |e| e.max(end)));
        }
        let (first, last) = (date(&p.first_day), date(&p.last_day));
        h.first_billed = match (h.first_billed, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        h.last_billed = match (h.last_billed, last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let m = months
            .entry((p.commitment_id.clone(), p.month.clone()))
            .or_insert((Micros::ZERO, Micros::ZERO, Micros::ZERO));
        // Purchases and fees without a status (an upfront payment) are
        // neither: they are amortised into the other two.
        if p.commitment_status.eq_ignore_ascii_case("unused") {
            m.1 += Micros(p.effective);
        } else if p.commitment_status.eq_ignore_ascii_case("used") {
            m.0 += Micros(p.effective);
            m.2 += Micros(p.list);
        }
    }
    let mut covered_total: BTreeMap<String, (Micros, Micros)> = BTreeMap::new();
    for ((id, month), (used, unused, covered)) in months {
        if let Some(h) = held.get_mut(&id) {
            h.used += used;
            h.unused += unused;
            let whole = eligible.get(&month).copied().unwrap_or(Micros::ZERO);
            let t = covered_total
                .entry(id.clone())
                .or_insert((Micros::ZERO, Micros::ZERO));
            t.0 += covered;
            t.1 += whole;
            h.months.push(HeldMonth {
                month,
                used,
                unused,
                utilisation: share(used, unused),
                covered_list: covered,
                coverage: ratio(covered, whole),
            });
        }
    }
    for (id, (covered, whole)) in covered_total {
        if let Some(h) = held.get_mut(&id) {
            h.coverage = ratio(covered, whole);
        }
    }
    for c in listed {
        let h = held
            .entry(c.commitment_id.clone())
            .or_insert_with(|| HeldCommitment::new(&c.commitment_id, &c.kind, "list"));
        if h.seen_in == "bill" {
            h.seen_in = "bill and list";
        }
        h.hourly_commitment = Some(Micros(c.hourly_commitment_micros));
        h.term_years = Some(c.term_years);
        h.payment = Some(c.payment.clone());
        h.start_date = Some(c.start_date);
        // The list's end date is the one a user entered: it wins.
        h.end_date = Some(c.end_date);
    }
    let mut out: Vec<HeldCommitment> = held
        .into_values()
        .map(|mut h| {
            h.utilisation = share(h.used, h.unused);
            h.expires_in_days = h.end_date.map(|e| (e - today).num_days());
            h
        })
        .collect();
    out.sort_by_key(|h| (h.end_date.is_none(), h.end_date, h.id.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(id: &str, status: &str, month: &str, effective: i64) -> BilledPart {
        BilledPart {
            commitment_id: id.into(),
            commitment_type: "Savings Plan".into(),
            commitment_status: status.into(),
            month: month.into(),
            first_day: format!("{month}-01"),
            last_day: format!("{month}-28"),
            effective,
            list: if status == "Used" {
                effective * 5 / 4
            } else {
                0
            },
            commitment_end: if id == "sp-1" {
                "2027-06-30".into()
            } else {
                String::new()
            },
        }
    }

    #[test]
    fn utilisation_is_used_over_used_and_unused_per_month_and_overall() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let listed = vec![Commitment {
            commitment_id: "ri-1".into(),
            kind: "reserved".into(),
            region: "eu-west-1".into(),
            family: "c6i".into(),
            instance_type: "c6i.4xlarge".into(),
            instance_count: 2,
            hourly_commitment_micros: 1_000_000,
            term_years: 1,
            payment: "no".into(),
            start_date: d(2026, 1, 1),
            end_date: d(2027, 1, 31),
            source: "list".into(),
        }];
        let parts = vec![
            part("sp-1", "Used", "2026-10", 800),
            part("sp-1", "Unused", "2026-10", 200),
            part("sp-1", "Used", "2026-11", 1000),
        ];
        let eligible: BTreeMap<String, Micros> = [
            ("2026-10".to_string(), Micros(4000)),
            ("2026-11".to_string(), Micros(2500)),
        ]
        .into_iter()
        .collect();
        let held = merge(parts, &eligible, &listed, d(2026, 12, 1));
        assert_eq!(held.len(), 2);
        // The one expiring first leads.
        assert_eq!(held[0].id, "ri-1");
        assert_eq!(held[0].expires_in_days, Some(61));
        assert!(held[0].expires_soon());
        assert_eq!(held[0].seen_in, "list");
        let sp = &held[1];
        assert_eq!(sp.months.len(), 2);
        assert_eq!(sp.months[0].utilisation, Some(0.8));
        assert_eq!(sp.months[1].utilisation, Some(1.0));
        assert_eq!(sp.used, Micros(1800));
        assert_eq!(sp.unused, Micros(200));
        assert_eq!(sp.utilisation, Some(0.9));
        // Coverage: its covered list cost ÷ all eligible list cost.
        assert_eq!(sp.months[0].covered_list, Micros(1000));
        assert_eq!(sp.months[0].coverage, Some(0.25));
        assert_eq!(sp.months[1].coverage, Some(0.5));
        assert_eq!(sp.coverage, Some((1000.0 + 1250.0) / 6500.0));
        assert_eq!(held[0].coverage, None);
        assert!(!sp.expires_soon());
        // Its end date comes from the bill.
        assert_eq!(sp.end_date, NaiveDate::from_ymd_opt(2027, 6, 30));
        assert_eq!(sp.expires_in_days, Some(211));
    }
}
