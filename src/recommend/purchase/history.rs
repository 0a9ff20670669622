//! The record of a recommendation on the user's own history: buy as
//! finops would have at the start of each of the last months, with only
//! the data before that day, and score what was stated then against what
//! the usage since then realised. The record calibrates what a new
//! recommendation states (its worst-tenth savings and its utilisation)
//! and the detail view shows it.
//!
//! Each past purchase is scored on the days between it and the last day
//! of data (not a whole term: the rest has not happened yet), at the rate
//! ratio of the option recommended now, on the scope's whole usage
//! (commitments held then are not replayed).

use chrono::{Datelike, NaiveDate};

use super::evaluate::outcome_on;
use super::paths::{forecast_scope, with_profile};
use super::{plan, Daily, Kind, PurchaseOptions, Scope};
use crate::calendar::CalendarEvent;
use crate::money::Micros;
use crate::pricing::{Offer, Payment};
use crate::recommend::commitment::{optimal_from_sorted, savings};

/// Past purchases the record is made of, at most: the start of each of
/// the last six months.
pub const MONTHS: usize = 6;
/// Days of history a past purchase needs before it, and after it to be
/// scored.
pub const MIN_BEFORE_DAYS: i64 = 120;
pub const MIN_SCORED_DAYS: usize = 28;

/// One purchase as finops would have made it on `bought`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PastBuy {
    pub bought: NaiveDate,
    /// Days scored: from `bought` to the last day of data.
    pub days: usize,
    /// Commitment per hour.
    pub commitment: f64,
    /// Over the days scored, on the forecast made then.
    pub stated_utilisation: f64,
    pub stated_savings: f64,
    pub stated_p10_savings: f64,
    /// Over the days scored, on what happened.
    pub realised_utilisation: f64,
    pub realised_savings: f64,
    /// The best commitment in hindsight, over the same days.
    pub hindsight_savings: f64,
}

/// The past purchases of one scope and option.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct HistoryRecord {
    pub buys: Vec<PastBuy>,
}

impl HistoryRecord {
    /// Savings realised as a share of hindsight's, over all purchases.
    pub fn share_of_hindsight(&self) -> Option<f64> {
        let hindsight: f64 = self.buys.iter().map(|b| b.hindsight_savings).sum();
        let realised: f64 = self.buys.iter().map(|b| b.realised_savings).sum();
        (hindsight > 0.0).then(|| realised / hindsight)
    }

    fn mean(&self, f: impl Fn(&PastBuy) -> f64) -> Option<f64> {
        let bought: Vec<&PastBuy> = self.buys.iter().filter(|b| b.commitment > 0.0).collect();
        (!bought.is_empty()).then(|| bought.iter().map(|b| f(b)).sum::<f64>() / bought.len() as f64)
    }

    /// Mean utilisation stated and realised, over purchases that bought
    /// something.
    pub fn stated_utilisation(&self) -> Option<f64> {
        self.mean(|b| b.stated_utilisation)
    }

    pub fn realised_utilisation(&self) -> Option<f64> {
        self.mean(|b| b.realised_utilisation)
    }

    /// Purchases whose realised savings fell below their stated worst
    /// tenth.
    pub fn below_p10(&self) -> usize {
        self.buys
            .iter()
            .filter(|b| b.commitment > 0.0 && b.realised_savings < b.stated_p10_savings)
            .count()
    }

    /// Purchases that bought something.
    pub fn purchases(&self) -> usize {
        self.buys.iter().filter(|b| b.commitment > 0.0).count()
    }

    /// How far a statement should be moved to match the record: the
    /// utilisation realised minus stated (mean), and the worst realised
    /// share of stated savings, when the record has purchases.
    pub fn calibration(&self) -> Option<Calibration> {
        let bought: Vec<&PastBuy> = self
            .buys
            .iter()
            .filter(|b| b.commitment > 0.0 && b.stated_savings > 0.0)
            .collect();
        if bought.is_empty() {
            return None;
        }
        let utilisation_shift = self.realised_utilisation()? - self.stated_utilisation()?;
        let worst_share = bought
            .iter()
            .map(|b| b.realised_savings / b.stated_savings)
            .fold(f64::INFINITY, f64::min);
        Some(Calibration {
            utilisation_shift,
            worst_savings_share: worst_share,
        })
    }

    /// One line for the detail view.
    pub fn summary(&self) -> Option<String> {
        let share = self.share_of_hindsight()?;
        let (stated, realised) = (self.stated_utilisation()?, self.realised_utilisation()?);
        Some(format!(
            "On your history ({} purchase{} at month starts, each scored to the last day of data): realised {:.0} % of hindsight's savings; utilisation stated {:.1} %, realised {:.1} %; realised savings below the stated worst tenth in {} of {}.",
            self.purchases(),
            if self.purchases() == 1 { "" } else { "s" },
            share * 100.0,
            stated * 100.0,
            realised * 100.0,
            self.below_p10(),
            self.purchases()
        ))
    }
}

/// How a new statement is moved to match the record.
#[derive(Copy, Clone, Debug, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// Realised minus stated utilisation, mean over past purchases.
    pub utilisation_shift: f64,
    /// The lowest realised ÷ stated savings of a past purchase.
    pub worst_savings_share: f64,
}

/// Purchases a record needs before it moves what a recommendation states.
pub const MIN_PURCHASES_TO_CALIBRATE: usize = 3;

/// Moves what `rec` states to match its record: expected utilisation by
/// the mean gap between realised and stated, the worst-tenth savings down
/// to the worst share of stated savings a past purchase realised; and
/// attaches the record's summary. A record of fewer than
/// [`MIN_PURCHASES_TO_CALIBRATE`] purchases is shown, not applied.
pub fn calibrate(rec: &mut crate::recommend::Recommendation, record: &HistoryRecord) {
    rec.history = record.summary();
    if record.purchases() < MIN_PURCHASES_TO_CALIBRATE {
        return;
    }
    let Some(c) = record.calibration() else {
        return;
    };
    let mut moved = false;
    if let Some(u) = rec.expected_utilisation {
        let calibrated = (u + c.utilisation_shift).clamp(0.0, 1.0);
        moved |= (calibrated - u).abs() >= 0.001;
        rec.expected_utilisation = Some(calibrated);
    }
    if let Some(p10) = rec.p10_monthly_savings {
        let floor = crate::recommend::to_cents(
            rec.monthly_savings.as_units_f64() * c.worst_savings_share.min(1.0),
        );
        if floor < p10 {
            rec.p10_monthly_savings = Some(floor);
            moved = true;
        }
    }
    if moved {
        if !rec.why.is_empty() {
            rec.why.push_str("; calibrated");
        }
        let currency = rec.currency.clone();
        let p10 = rec.p10_monthly_savings.unwrap_or(Micros::ZERO);
        rec.risk = if p10.0 < 0 {
            format!(
                "loses {} a month in the worst tenth of outcomes",
                Micros(-p10.0).display(&currency)
            )
        } else {
            format!(
                "saves at least {} a month in 9 of 10 outcomes",
                p10.display(&currency)
            )
        };
        if let Some(u) = rec.expected_utilisation {
            rec.risk
                .push_str(&format!("; {:.0} % expected utilisation", u * 100.0));
        }
        rec.risk
            .push_str(" (both calibrated on your history; the options below are as forecast)");
    }
}

/// The scope a record is made for and the option it buys.
pub struct Subject<'a> {
    pub kind: Kind,
    pub scope: Scope,
    pub main_type: Option<String>,
    /// Spend per day, the whole history.
    pub history: &'a Daily,
    pub events: &'a [CalendarEvent],
    pub profile: Option<&'a [f64]>,
    pub offer: Offer,
    pub term: i32,
    pub payment: Payment,
    pub ratio: f64,
    pub ri_unit: Option<f64>,
    pub currency: &'a str,
}

/// The record of `subject` over the starts of the last [`MONTHS`] months
/// that have [`MIN_BEFORE_DAYS`] of history before them and
/// [`MIN_SCORED_DAYS`] after.
pub fn record(subject: &Subject<'_>) -> HistoryRecord {
    let Some((first, last)) = subject
        .history
        .first()
        .map(|(d, _)| *d)
        .zip(subject.history.last().map(|(d, _)| *d))
    else {
        return HistoryRecord::default();
    };
    let mut cuts = Vec::new();
    let mut month = last.with_day(1).unwrap_or(last);
    for _ in 0..=MONTHS {
        let scored = (last - month).num_days() + 1;
        if scored >= MIN_SCORED_DAYS as i64 && (month - first).num_days() >= MIN_BEFORE_DAYS {
            cuts.push(month);
        }
        month = match month.pred_opt().map(|d| d.with_day(1)) {
            Some(Some(m)) => m,
            _ => break,
        };
        if cuts.len() == MONTHS {
            break;
        }
    }
    cuts.reverse();
    let buys = cuts
        .into_iter()
        .filter_map(|cut| past_buy(subject, cut, last))
        .collect();
    HistoryRecord { buys }
}

fn past_buy(subject: &Subject<'_>, cut: NaiveDate, last: NaiveDate) -> Option<PastBuy> {
    let before: Daily = subject
        .history
        .iter()
        .filter(|(d, _)| *d < cut)
        .cloned()
        .collect();
    let after: Vec<f64> = subject
        .history
        .iter()
        .filter(|(d, _)| *d >= cut && *d <= last)
        .map(|(_, v)| v / 24.0)
        .collect();
    let term_days = (subject.term as i64 * 365) as usize;
    let days = after.len().min(term_days);
    if days < MIN_SCORED_DAYS {
        return None;
    }
    let usage = forecast_scope(
        subject.kind,
        subject.scope.clone(),
        subject.main_type.clone(),
        before,
        subject.events,
        subject.profile,
    );
    if usage.problem.is_some() {
        return None;
    }
    let spd = usage.steps_per_day;
    let options = PurchaseOptions {
        terms: vec![subject.term],
        payments: vec![subject.payment],
        ladder_steps: 1,
        min_hourly: 0.0,
    };
    let rates = vec![(subject.term, subject.payment, subject.ratio)];
    let p = plan(
        usage,
        subject.currency,
        &options,
        &[(subject.offer, rates)],
        &|n| vec![0.0; n],
        subject.ri_unit,
    );
    let commitment = p
        .best
        .and_then(|i| p.options.get(i))
        .map_or(0.0, |o| o.outcome.commitment);
    // What was stated, over the days that can be scored.
    let window: Vec<Vec<f64>> = p
        .usage
        .paths
        .iter()
        .map(|path| path.iter().take(days * spd).copied().collect())
        .collect();
    let stated = outcome_on(&window, commitment, subject.ratio, spd);
    // What happened, at the same resolution (the within-day profile when
    // the forecast had one).
    let actual_days = &after[..days];
    let actual: Vec<f64> = match subject.profile {
        Some(f) if f.len() == 24 && spd == 24 => with_profile(&[actual_days.to_vec()], f).concat(),
        _ => actual_days.to_vec(),
    };
    let hours = 24.0 / spd.max(1) as f64;
    let realised_savings = savings(&actual, commitment, subject.ratio) * hours;
    let covered = if subject.ratio > 0.0 {
        commitment / subject.ratio
    } else {
        0.0
    };
    let realised_utilisation = if covered > 0.0 {
        actual.iter().map(|u| u.max(0.0).min(covered)).sum::<f64>()
            / (covered * actual.len() as f64)
    } else {
        0.0
    };
    let mut sorted = actual.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let best = optimal_from_sorted(&sorted, subject.ratio);
    let hindsight_savings = savings(&actual, best, subject.ratio).max(0.0) * hours;
    Some(PastBuy {
        bought: cut,
        days,
        commitment,
        stated_utilisation: stated.expected_utilisation,
        stated_savings: stated.expected_savings,
        stated_p10_savings: stated.p10_savings,
        realised_utilisation,
        realised_savings,
        hindsight_savings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(days: i64, per_day: f64) -> Daily {
        let start = NaiveDate::from_ymd_opt(2025, 6, 1).expect("date");
        (0..days)
            .map(|i| (start + chrono::Duration::days(i), per_day))
            .collect()
    }

    fn subject(history: &Daily) -> Subject<'_> {
        Subject {
            kind: Kind::ComputeSavingsPlan,
            scope: Scope {
                platform: "all".to_string(),
                region: "all".to_string(),
                instance_type: None,
                family: None,
                resources: Vec::new(),
            },
            main_type: None,
            history,
            events: &[],
            profile: None,
            offer: Offer::ComputeSp,
            term: 1,
            payment: Payment::NoUpfront,
            ratio: 0.72,
            ri_unit: None,
            currency: "USD",
        }
    }

    #[test]
    fn flat_usage_is_bought_at_its_level_and_realises_what_was_stated() {
        let history = flat(400, 2400.0);
        let r = record(&subject(&history));
        assert_eq!(r.buys.len(), MONTHS, "{:?}", r.buys);
        for b in &r.buys {
            assert!((b.commitment - 72.0).abs() < 1.5, "{b:?}");
            assert!(b.realised_utilisation > 0.98, "{b:?}");
        }
        let share = r.share_of_hindsight().expect("share");
        assert!(share > 0.97, "{share}");
        assert_eq!(r.below_p10(), 0);
        let c = r.calibration().expect("calibration");
        assert!(c.utilisation_shift.abs() < 0.02, "{c:?}");
    }

    #[test]
    fn a_fall_after_the_purchases_shows_in_the_record_and_its_calibration() {
        // A year at 100 an hour, then the last four months at 40.
        let mut history = flat(400, 2400.0);
        let n = history.len();
        for (_, v) in history.iter_mut().skip(n - 120) {
            *v = 960.0;
        }
        let r = record(&subject(&history));
        let c = r.calibration().expect("calibration");
        assert!(c.utilisation_shift < -0.1, "{c:?}");
        assert!(c.worst_savings_share < 0.5, "{c:?}");
        assert!(r.below_p10() >= 1, "{:?}", r.buys);
        let text = r.summary().expect("summary");
        assert!(text.starts_with("On your history ("), "{text}");
    }

    #[test]
    fn calibration_moves_a_statement_only_on_enough_purchases() {
        let mut history = flat(400, 2400.0);
        let n = history.len();
        for (_, v) in history.iter_mut().skip(n - 120) {
            *v = 960.0;
        }
        let r = record(&subject(&history));
        let mut rec = crate::recommend::Recommendation::new(
            "x".to_string(),
            Kind::ComputeSavingsPlan,
            subject(&history).scope,
            "USD",
        );
        rec.monthly_savings = Micros::from_units(1000);
        rec.p10_monthly_savings = Some(Micros::from_units(900));
        rec.expected_utilisation = Some(0.99);
        calibrate(&mut rec, &r);
        assert!(rec.expected_utilisation.unwrap_or(1.0) < 0.9, "{rec:?}");
        assert!(rec.p10_monthly_savings.unwrap_or(Micros::ZERO) < Micros::from_units(500));
        assert!(rec.risk.contains("calibrated on your history"));
        // The risk line states the calibrated figures, not the forecast's.
        let p10 = rec.p10_monthly_savings.unwrap_or(Micros::ZERO);
        let stated = if p10.0 < 0 {
            Micros(-p10.0).display("USD")
        } else {
            p10.display("USD")
        };
        assert!(rec.risk.contains(&stated), "{} / {stated}", rec.risk);
        assert!(rec.history.is_some());
        let short = HistoryRecord {
            buys: r.buys[..2].to_vec(),
        };
        let mut other = crate::recommend::Recommendation::new(
            "y".to_string(),
            Kind::ComputeSavingsPlan,
            subject(&history).scope,
            "USD",
        );
        other.expected_utilisation = Some(0.99);
        calibrate(&mut other, &short);
        assert_eq!(other.expected_utilisation, Some(0.99));
        assert!(other.history.is_some());
    }

    #[test]
    fn a_short_history_has_no_record() {
        let history = flat(100, 2400.0);
        assert!(record(&subject(&history)).buys.is_empty());
        assert!(record(&subject(&history)).summary().is_none());
    }
}
