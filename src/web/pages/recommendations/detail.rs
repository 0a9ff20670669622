//! `/recommendations/detail?id=…`: one recommendation with its chart, every option, a ladder and a what-if.

use super::*;

pub(super) struct OptionRow {
    label: String,
    commitment: String,
    savings: String,
    p10: String,
    p90: String,
    utilisation: String,
    coverage: String,
    break_even: String,
    upfront: String,
    best: bool,
}

pub(super) struct LadderRow {
    month: String,
    commitment: String,
    savings: String,
}

#[derive(Template)]
#[template(path = "recommendation.html")]
pub(super) struct DetailPage {
    layout: Layout,
    rec: Recommendation,
    kind_label: &'static str,
    scope: String,
    savings: String,
    p10: String,
    p90: String,
    utilisation: String,
    coverage: String,
    break_even: String,
    chart: Option<Chart>,
    chart_note: String,
    duration: Option<Chart>,
    options: Vec<OptionRow>,
    ladder: Vec<LadderRow>,
    what_if: Option<OptionRow>,
    what_if_value: String,
    what_if_option: String,
    option_choices: Vec<(String, String)>,
    resources: Vec<String>,
    back: String,
    /// A commitment priced with the built-in catalog's derived rates.
    derived_rates: bool,
}

pub(super) fn option_key(o: &purchase::OptionOutcome) -> String {
    format!(
        "{}y-{}-{}",
        o.term_years,
        o.payment.as_str(),
        o.starts_in_days
    )
}

pub(super) fn option_label(plan: &Plan, o: &purchase::OptionOutcome) -> String {
    let when = if o.starts_in_days > 0 {
        format!(", from {}", purchase::start_day(plan, o))
    } else {
        ", now".to_string()
    };
    format!(
        "{} year{}, {}{when}",
        o.term_years,
        if o.term_years > 1 { "s" } else { "" },
        o.payment.label()
    )
}

pub(super) fn option_row(
    plan: &Plan,
    o: &purchase::OptionOutcome,
    currency: &str,
    best: bool,
) -> OptionRow {
    let m = |x: f64| crate::web::views::money(Micros::from_units_f64(x), currency);
    OptionRow {
        label: option_label(plan, o),
        commitment: match o.instances {
            Some(n) => format!("{n} instances ({} /h)", m(o.outcome.commitment)),
            None => format!("{} /h", m(o.outcome.commitment)),
        },
        savings: m(o.monthly_savings),
        p10: m(o.p10_monthly_savings),
        p90: m(o.p90_monthly_savings),
        utilisation: format!("{:.1} %", o.outcome.expected_utilisation * 100.0),
        coverage: format!("{:.1} %", o.outcome.expected_coverage * 100.0),
        break_even: o
            .break_even_month
            .map(|b| format!("month {b}"))
            .unwrap_or_else(|| "never".to_string()),
        upfront: m(o.upfront),
        best,
    }
}

pub(super) fn build_detail(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let id = params
        .one("id")
        .map_err(WebError::BadRequest)?
        .ok_or_else(|| {
            WebError::BadRequest(
                "id: which recommendation? (from the Recommendations page)".to_string(),
            )
        })?
        .to_string();
    let options = fleet_options(params)?;
    let r = review(conn, page.shared, &options)?;
    let rec = all_recommendations(&r)
        .into_iter()
        .find(|x| x.id == id)
        .ok_or_else(|| {
            WebError::NotFound(format!(
                "There is no recommendation {id} in the current data (it may have been acted on or the data changed)."
            ))
        })?;
    let events = crate::db::calendar::all_events(conn)?;
    let currency = rec.currency.clone();
    let m = |x: Option<Micros>| {
        x.map(|v| crate::web::views::money(v, &currency))
            .unwrap_or_else(|| "—".to_string())
    };
    let mut page = DetailPage {
        layout: Layout::new("Recommendation", "recommendations", catalog, viewer),
        kind_label: rec.kind.label(),
        scope: scope_text(&rec),
        savings: crate::web::views::money(rec.monthly_savings, &currency),
        p10: m(rec.p10_monthly_savings),
        p90: m(rec.p90_monthly_savings),
        utilisation: pct(rec.expected_utilisation),
        coverage: pct(rec.expected_coverage),
        break_even: rec
            .break_even_month
            .map(|b| format!("month {b}"))
            .unwrap_or_else(|| "—".to_string()),
        chart: None,
        chart_note: String::new(),
        duration: None,
        options: Vec::new(),
        ladder: Vec::new(),
        what_if: None,
        what_if_value: params
            .one("what_if")
            .ok()
            .flatten()
            .unwrap_or("")
            .to_string(),
        what_if_option: String::new(),
        option_choices: Vec::new(),
        resources: rec.scope.resources.iter().take(50).cloned().collect(),
        back: format!("/recommendations?{}", query(params, &[])),
        derived_rates: rec.kind.is_commitment()
            && crate::pricing::origin_is_derived(&rec.price_source),
        rec: rec.clone(),
    };
    if rec.kind.is_commitment() {
        let Some(plan) = r
            .commitments
            .plans
            .iter()
            .zip(&r.commitments.recommendations)
            .find(|(_, x)| x.id == id)
            .map(|(p, _)| p)
        else {
            return Err(WebError::NotFound(format!("no plan for {id}")));
        };
        if page.rec.history.is_none() {
            let profile = crate::recommend::usage::hourly_profile(conn)?;
            page.rec.history =
                crate::recommend::run::history_record(plan, &events, profile.as_deref())
                    .and_then(|record| record.summary());
        }
        page.chart = Some(commitment_chart(plan, &events));
        page.duration = duration_chart(plan);
        page.chart_note = "Daily average on-demand-equivalent spend per hour: the last 120 days, the forecast's mean and its 10th and 90th percentile paths, the level the commitments held cover, and that level plus the recommended commitment from the day it is bought. Shaded: calendar events.".to_string();
        // Options that buy nothing (what is held covers the usage until
        // it ends) are left out of the table; the queued ones say when.
        page.options = plan
            .options
            .iter()
            .enumerate()
            .filter(|(i, o)| plan.best == Some(*i) || o.outcome.commitment > 0.0)
            .map(|(i, o)| option_row(plan, o, &currency, plan.best == Some(i)))
            .collect();
        let first_buy = plan
            .best
            .map(|i| purchase::start_day(plan, &plan.options[i]))
            .unwrap_or(plan.start);
        page.ladder = plan
            .ladder
            .iter()
            .map(|t| LadderRow {
                month: if t.month == 0 && first_buy <= plan.start {
                    "now".to_string()
                } else {
                    let offset = (f64::from(t.month) * purchase::DAYS_PER_MONTH).round() as i64;
                    format!("on {}", first_buy + chrono::Duration::days(offset))
                },
                commitment: crate::web::views::money(
                    Micros::from_units_f64(t.commitment),
                    &currency,
                ) + " /h",
                savings: crate::web::views::money(
                    Micros::from_units_f64(t.expected_savings),
                    &currency,
                ),
            })
            .collect();
        page.option_choices = plan
            .options
            .iter()
            .map(|o| {
                (
                    option_key(o),
                    format!("{} {}", o.offer.label(), option_label(plan, o)),
                )
            })
            .collect();
        let chosen = params
            .one("option")
            .map_err(WebError::BadRequest)?
            .unwrap_or("");
        let option = plan
            .options
            .iter()
            .find(|o| option_key(o) == chosen)
            .or(plan.best.map(|i| &plan.options[i]))
            .or(plan.options.first());
        page.what_if_option = option.map(option_key).unwrap_or_default();
        if let (Some(text), Some(option)) =
            (params.one("what_if").map_err(WebError::BadRequest)?, option)
        {
            if !text.is_empty() {
                let amount = Micros::parse(text)
                    .ok()
                    .filter(|v| v.0 >= 0)
                    .ok_or_else(|| {
                        WebError::BadRequest(format!("what_if: '{text}' is not an amount per hour"))
                    })?;
                let o = purchase::what_if(plan, option, amount.as_units_f64());
                page.what_if = Some(option_row(plan, &o, &currency, false));
            }
        }
    } else if let Some(rs) = &r.rightsizing {
        page.chart = rightsizing_chart(rs, &rec, &events);
        page.chart_note = format!(
            "The highest CPU peak of the group's instances each day over the {}-day lookback, against the current type (100 %), the recommended type's capacity and the peak plus headroom; shaded: events in the next {} days.",
            rs.options.lookback_days, rs.options.event_window_days
        );
    }
    Ok(Payload::html(page.render()?))
}

pub async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    crate::web::pages::render(req, state, &DETAIL_PARAMS, build_detail).await
}
