//! `GET /recommendations`: rightsizing and commitment recommendations,
//! filtered and sorted, with totals and a CSV download
//! (`/recommendations.csv`, same parameters); `GET
//! /recommendations/detail?id=…` explains one with its chart, every
//! option, a ladder and a what-if.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;

use super::Tile;
use crate::db::DbConnection;
use crate::money::Micros;
use crate::recommend::fleet::FleetOptions;
use crate::recommend::output;
use crate::recommend::purchase::{self, Plan, PurchaseOptions};
use crate::recommend::rightsizing::Decision;
use crate::recommend::run::{self, Commitments, RecommendError, Rightsizing};
use crate::recommend::{Kind, Recommendation, Status};
use crate::report::chart::{line_chart, Chart, Line};
use crate::report::Catalog;
use crate::web::errors::{HtmlError, WebError};
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::{Layout, Viewer};
use crate::web::Payload;

pub const PARAMS: [&str; 11] = [
    "kind",
    "platform",
    "region",
    "status",
    "sort",
    "dir",
    "lookback",
    "statistic",
    "headroom",
    "across_families",
    "event_window",
];

const SORTS: [(&str, &str); 5] = [
    ("savings", "Saves / month"),
    ("kind", "Kind"),
    ("scope", "Scope"),
    ("utilisation", "Expected utilisation"),
    ("status", "Status"),
];

fn recommend_error(e: RecommendError) -> WebError {
    match e {
        RecommendError::Db(d) => WebError::from(d),
        RecommendError::NoUtilisation => WebError::NotFound(e.to_string()),
    }
}

/// The rightsizing options a request asks for.
fn fleet_options(params: &Params) -> Result<FleetOptions, WebError> {
    let get = |name: &str| params.one(name).map_err(WebError::BadRequest);
    let lookback = match get("lookback")? {
        None | Some("") => 14,
        Some(v) => crate::recommend::fleet::parse_lookback(v)
            .map_err(|e| WebError::BadRequest(format!("lookback: {e}")))?,
    };
    let headroom = match get("headroom")? {
        None | Some("") => 20.0,
        Some(v) => v
            .trim_end_matches('%')
            .parse::<f64>()
            .map_err(|_| WebError::BadRequest(format!("headroom: '{v}' is not a percentage")))?,
    };
    let window = match get("event_window")? {
        None | Some("") => 30,
        Some(v) => v.parse::<i64>().map_err(|_| {
            WebError::BadRequest(format!("event_window: '{v}' is not a number of days"))
        })?,
    };
    FleetOptions::from_parts(
        lookback,
        get("statistic")?
            .filter(|s| !s.is_empty())
            .unwrap_or("p99.5"),
        headroom,
        get("across_families")?.is_some_and(|v| v == "1" || v == "on" || v == "true"),
        window,
    )
    .map_err(WebError::BadRequest)
}

struct Review {
    rightsizing: Option<Rightsizing>,
    commitments: Commitments,
    /// Why there is no rightsizing, when there is none.
    rightsizing_problem: Option<String>,
}

fn review(conn: &mut DbConnection, options: &FleetOptions) -> Result<Review, WebError> {
    let (rightsizing, rightsizing_problem) = match run::rightsizing(conn, options) {
        Ok(r) => (Some(r), None),
        Err(RecommendError::NoUtilisation) => {
            (None, Some(RecommendError::NoUtilisation.to_string()))
        }
        Err(e) => return Err(recommend_error(e)),
    };
    let commitments =
        run::commitments(conn, &PurchaseOptions::default()).map_err(recommend_error)?;
    Ok(Review {
        rightsizing,
        commitments,
        rightsizing_problem,
    })
}

fn all_recommendations(r: &Review) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = r
        .rightsizing
        .as_ref()
        .map(|r| r.recommendations.clone())
        .unwrap_or_default();
    out.extend(r.commitments.recommendations.iter().cloned());
    out
}

struct Filters {
    kind: String,
    platform: String,
    region: String,
    status: String,
    sort: String,
    desc: bool,
}

fn filters(params: &Params) -> Result<Filters, WebError> {
    let get = |name: &str| -> Result<String, WebError> {
        Ok(params
            .one(name)
            .map_err(WebError::BadRequest)?
            .unwrap_or("")
            .to_string())
    };
    let kind = get("kind")?;
    if !kind.is_empty()
        && kind != "commitments"
        && kind != "rightsizing"
        && Kind::parse(&kind).is_none()
    {
        return Err(WebError::BadRequest(format!(
            "kind: '{kind}' is not a kind of recommendation"
        )));
    }
    let sort = match get("sort")? {
        s if s.is_empty() => "savings".to_string(),
        s if SORTS.iter().any(|(k, _)| *k == s) => s,
        s => {
            return Err(WebError::BadRequest(format!(
                "sort: '{s}' is not a column to sort by"
            )))
        }
    };
    let status = get("status")?;
    if !status.is_empty() && status != "all" && status != "actionable" && status != "not_actionable"
    {
        return Err(WebError::BadRequest(format!(
            "status: '{status}' must be actionable, not_actionable or all"
        )));
    }
    // A platform by any of its names (`ps5`, `steam`, …), or `shared` for
    // backend services; anything else is refused, as on every page.
    let platform = match get("platform")? {
        p if p.is_empty() || p == "shared" => p,
        p => crate::dims::parse_platform_filter(&p)
            .map_err(|e| WebError::BadRequest(format!("parameter 'platform': {e}")))?,
    };
    Ok(Filters {
        kind,
        platform,
        region: get("region")?,
        status,
        desc: get("dir")? != "asc",
        sort,
    })
}

fn keep(r: &Recommendation, f: &Filters) -> bool {
    let kind_ok = match f.kind.as_str() {
        "" => true,
        "commitments" => r.kind.is_commitment(),
        "rightsizing" => !r.kind.is_commitment(),
        k => r.kind.as_str() == k,
    };
    let status_ok = match f.status.as_str() {
        "" | "actionable" => r.status == Status::Actionable,
        "not_actionable" => r.status != Status::Actionable,
        _ => true,
    };
    kind_ok
        && status_ok
        && (f.platform.is_empty() || r.scope.platform == f.platform || r.scope.platform == "all")
        && (f.region.is_empty() || r.scope.region == f.region || r.scope.region == "all")
}

fn sorted(mut recs: Vec<Recommendation>, f: &Filters) -> Vec<Recommendation> {
    let scope = |r: &Recommendation| {
        format!(
            "{} {} {}",
            r.scope.platform,
            r.scope.region,
            r.scope.family.clone().unwrap_or_default()
        )
    };
    recs.sort_by(|a, b| {
        let o = match f.sort.as_str() {
            "kind" => a.kind.cmp(&b.kind),
            "scope" => scope(a).cmp(&scope(b)),
            "utilisation" => a
                .expected_utilisation
                .unwrap_or(-1.0)
                .total_cmp(&b.expected_utilisation.unwrap_or(-1.0)),
            "status" => a.status.as_str().cmp(b.status.as_str()),
            _ => a.monthly_savings.cmp(&b.monthly_savings),
        };
        let o = if f.desc { o.reverse() } else { o };
        o.then(b.monthly_savings.cmp(&a.monthly_savings))
            .then(a.id.cmp(&b.id))
    });
    recs
}

struct Row {
    id: String,
    kind: &'static str,
    scope: String,
    current: String,
    recommended: String,
    savings: String,
    p10: String,
    utilisation: String,
    break_even: String,
    status: &'static str,
    actionable: bool,
    reason: String,
    risk: String,
    aws: String,
}

struct SortLink {
    label: &'static str,
    href: String,
    mark: &'static str,
}

#[derive(Template)]
#[template(path = "recommendations.html")]
struct RecommendationsPage {
    layout: Layout,
    tiles: Vec<Tile>,
    rows: Vec<Row>,
    sort_links: Vec<SortLink>,
    csv_href: String,
    kinds: Vec<(String, String)>,
    kind: String,
    platforms: Vec<String>,
    platform: String,
    regions: Vec<String>,
    region: String,
    status: String,
    lookback: i64,
    statistic: String,
    headroom: String,
    event_window: i64,
    across_families: bool,
    as_of: String,
    catalog_source: String,
    rightsizing_problem: Option<String>,
    held: usize,
    too_little_data: usize,
}

fn query(params: &Params, set: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for name in PARAMS {
        if let Some((_, v)) = set.iter().find(|(k, _)| *k == name) {
            if !v.is_empty() {
                out.append_pair(name, v);
            }
        } else if let Ok(Some(v)) = params.one(name) {
            if !v.is_empty() {
                out.append_pair(name, v);
            }
        }
    }
    out.finish()
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.0} %", x * 100.0))
        .unwrap_or_else(|| "—".to_string())
}

fn scope_text(r: &Recommendation) -> String {
    let mut parts: Vec<String> = Vec::new();
    if r.scope.platform != "all" {
        parts.push(r.scope.platform.clone());
    }
    if r.scope.region != "all" {
        parts.push(r.scope.region.clone());
    }
    if r.kind.is_commitment() {
        if let Some(f) = &r.scope.family {
            parts.push(format!("{f} family"));
        }
    }
    if parts.is_empty() {
        "all eligible compute".to_string()
    } else {
        parts.join(" · ")
    }
}

fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    params: &Params,
    viewer: &Viewer,
) -> Result<Payload, WebError> {
    params.allow_only(&PARAMS).map_err(WebError::BadRequest)?;
    let options = fleet_options(params)?;
    let f = filters(params)?;
    let r = review(conn, &options)?;
    let all = all_recommendations(&r);
    let shown = sorted(all.iter().filter(|x| keep(x, &f)).cloned().collect(), &f);
    let currency = catalog.default_currency();
    let totals = output::totals(&shown, &currency);
    let money = |m: Micros| m.display(&currency);
    let tiles = vec![
        Tile {
            id: "tile-total",
            label: "Saves per month, shown".to_string(),
            value: money(totals.combined),
            note: "rightsizing + the better commitment plan (alternatives are not added)"
                .to_string(),
            note_class: "down",
        },
        Tile {
            id: "tile-rightsizing",
            label: "Rightsizing and idle".to_string(),
            value: money(totals.rightsizing),
            note: format!(
                "{} actionable",
                shown
                    .iter()
                    .filter(|x| !x.kind.is_commitment() && x.status == Status::Actionable)
                    .count()
            ),
            note_class: "",
        },
        Tile {
            id: "tile-compute-plan",
            label: "Compute Savings Plan".to_string(),
            value: money(totals.compute_plan),
            note: "one plan over all eligible compute".to_string(),
            note_class: "",
        },
        Tile {
            id: "tile-family-plan",
            label: "Per family: EC2 Instance SP or RIs".to_string(),
            value: money(totals.per_family_plan),
            note: "the better of the two in each family and region".to_string(),
            note_class: "",
        },
    ];
    let rows = shown
        .iter()
        .map(|x| Row {
            id: x.id.clone(),
            kind: x.kind.label(),
            scope: scope_text(x),
            current: x.current.clone(),
            recommended: x.recommended.clone(),
            savings: money(x.monthly_savings),
            p10: x
                .p10_monthly_savings
                .map(money)
                .unwrap_or_else(|| "—".to_string()),
            utilisation: pct(x.expected_utilisation),
            break_even: x
                .break_even_month
                .map(|m| format!("month {m}"))
                .unwrap_or_else(|| "—".to_string()),
            status: x.status.as_str(),
            actionable: x.status == Status::Actionable,
            reason: x.reason.clone(),
            risk: x.risk.clone(),
            aws: x.aws.clone().unwrap_or_default(),
        })
        .collect();
    let sort_links = SORTS
        .iter()
        .map(|(key, label)| {
            let active = f.sort == *key;
            let dir = if active && f.desc { "asc" } else { "desc" };
            SortLink {
                label,
                href: format!(
                    "/recommendations?{}",
                    query(params, &[("sort", key), ("dir", dir)])
                ),
                mark: match (active, f.desc) {
                    (true, true) => " ▼",
                    (true, false) => " ▲",
                    _ => "",
                },
            }
        })
        .collect();
    let mut platforms: Vec<String> = all
        .iter()
        .map(|x| x.scope.platform.clone())
        .filter(|p| p != "all")
        .collect();
    platforms.sort();
    platforms.dedup();
    let mut regions: Vec<String> = all
        .iter()
        .map(|x| x.scope.region.clone())
        .filter(|p| p != "all")
        .collect();
    regions.sort();
    regions.dedup();
    let mut kinds = vec![
        (
            "rightsizing".to_string(),
            "Rightsizing and idle".to_string(),
        ),
        ("commitments".to_string(), "Commitments".to_string()),
    ];
    kinds.extend(
        Kind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label().to_string())),
    );
    let not_actionable = |s: Status| all.iter().filter(|x| x.status == s).count();
    let page = RecommendationsPage {
        layout: Layout::new("Recommendations", "recommendations", catalog, viewer),
        tiles,
        rows,
        sort_links,
        csv_href: format!("/recommendations.csv?{}", query(params, &[])),
        kinds,
        kind: f.kind.clone(),
        platforms,
        platform: f.platform.clone(),
        regions,
        region: f.region.clone(),
        status: f.status.clone(),
        lookback: options.lookback_days,
        statistic: params
            .one("statistic")
            .ok()
            .flatten()
            .filter(|s| !s.is_empty())
            .unwrap_or("p99.5")
            .to_string(),
        headroom: format!("{:.0}", options.policy.headroom * 100.0),
        event_window: options.event_window_days,
        across_families: options.policy.across_families,
        as_of: r
            .rightsizing
            .as_ref()
            .map(|x| x.as_of.to_string())
            .unwrap_or_default(),
        catalog_source: r.commitments.catalog.source.clone(),
        rightsizing_problem: r.rightsizing_problem.clone(),
        held: not_actionable(Status::Held),
        too_little_data: not_actionable(Status::TooLittleData),
    };
    Ok(Payload::html(page.render()?))
}

/// The recommendations a request's filters and sort select (the CSV and
/// the JSON API).
fn shown(conn: &mut DbConnection, params: &Params) -> Result<Vec<Recommendation>, WebError> {
    params.allow_only(&PARAMS).map_err(WebError::BadRequest)?;
    let options = fleet_options(params)?;
    let f = filters(params)?;
    let r = review(conn, &options)?;
    Ok(sorted(
        all_recommendations(&r)
            .into_iter()
            .filter(|x| keep(x, &f))
            .collect(),
        &f,
    ))
}

fn build_csv(
    conn: &mut DbConnection,
    _: &Catalog,
    params: &Params,
    _: &Viewer,
) -> Result<Payload, WebError> {
    let shown = shown(conn, params)?;
    Ok(Payload::csv(
        "finops-recommendations.csv".to_string(),
        output::csv(&shown).into_bytes(),
    ))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, build).await
}

pub async fn csv(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let st = state.clone();
    let response = super::render(req.clone(), state, build_csv).await?;
    crate::web::audit_export(&st, &req, "recommendations CSV".to_string())
        .await
        .map_err(HtmlError)?;
    Ok(response)
}

// ---- detail ----

struct OptionRow {
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

struct LadderRow {
    month: String,
    commitment: String,
    savings: String,
}

#[derive(Template)]
#[template(path = "recommendation.html")]
struct DetailPage {
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
}

fn option_key(o: &purchase::OptionOutcome) -> String {
    format!(
        "{}y-{}-{}",
        o.term_years,
        o.payment.as_str(),
        o.starts_in_days
    )
}

fn option_label(plan: &Plan, o: &purchase::OptionOutcome) -> String {
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

fn option_row(plan: &Plan, o: &purchase::OptionOutcome, currency: &str, best: bool) -> OptionRow {
    let m = |x: f64| Micros::from_units_f64(x).display(currency);
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

fn commitment_chart(plan: &Plan, events: &[crate::calendar::CalendarEvent]) -> Chart {
    let u = &plan.usage;
    let tail = u.history.len().saturating_sub(120);
    let mut lines = vec![Line {
        label: "Usage, on-demand per hour (history)".to_string(),
        points: u.history[tail..]
            .iter()
            .map(|(d, v)| (*d, v / 24.0))
            .collect(),
    }];
    let day = |i: usize| plan.start + chrono::Duration::days(i as i64);
    lines.push(Line {
        label: "Forecast (mean)".to_string(),
        points: u.forecast.iter().map(|p| (p.date, p.mean / 24.0)).collect(),
    });
    // Daily averages of the paths (hourly paths are averaged per day).
    let spd = u.steps_per_day.max(1);
    let daily = |p: &Vec<f64>| -> Vec<(NaiveDate, f64)> {
        p.chunks(spd)
            .enumerate()
            .map(|(i, c)| (day(i), c.iter().sum::<f64>() / c.len().max(1) as f64))
            .collect()
    };
    if let (Some(lo), Some(hi)) = (u.paths.first(), u.paths.last()) {
        lines.push(Line {
            label: "Forecast P10".to_string(),
            points: daily(lo),
        });
        lines.push(Line {
            label: "Forecast P90".to_string(),
            points: daily(hi),
        });
    }
    let new_cover = plan
        .best
        .map(|i| &plan.options[i])
        .map(|o| o.outcome.commitment / o.rate_ratio)
        .unwrap_or(0.0);
    let n = u.forecast.len();
    lines.push(Line {
        label: "Covered: held + recommended".to_string(),
        points: (0..n)
            .map(|i| {
                (
                    day(i),
                    plan.existing.get(i).copied().unwrap_or(0.0) + new_cover,
                )
            })
            .collect(),
    });
    line_chart(
        &lines,
        None,
        events,
        "On-demand-equivalent spend per hour",
        "",
    )
}

/// The recommended option's usage over its term (net of what is held),
/// all paths pooled, busiest hour first, against the level it covers.
fn duration_chart(plan: &Plan) -> Option<Chart> {
    let o = &plan.options[plan.best?];
    let days = (o.term_years as i64 * 365) as usize;
    let spd = plan.usage.steps_per_day.max(1);
    let mut values: Vec<f64> = plan
        .usage
        .paths
        .iter()
        .flat_map(|p| {
            (0..days * spd).map(move |i| {
                let step = o.starts_in_days * spd + i;
                let u = p.get(step % p.len().max(1)).copied().unwrap_or(0.0);
                let held = plan.existing.get(step / spd).copied().unwrap_or(0.0);
                (u - held).max(0.0)
            })
        })
        .collect();
    values.sort_unstable_by(|a, b| b.total_cmp(a));
    Some(crate::report::chart::duration_curve(
        &values,
        &[(
            "Covered by the recommended commitment".to_string(),
            o.outcome.commitment / o.rate_ratio,
        )],
        Some(o.rate_ratio),
        "On-demand-equivalent spend per hour",
        &plan.currency,
    ))
}

fn rightsizing_chart(
    review: &Rightsizing,
    rec: &Recommendation,
    events: &[crate::calendar::CalendarEvent],
) -> Option<Chart> {
    let members: Vec<&crate::recommend::fleet::ResourceDecision> = review
        .decisions
        .iter()
        .filter(|d| rec.scope.resources.contains(&d.usage.resource_id))
        .collect();
    let current = members.first()?.current.clone()?;
    let mut peak: std::collections::BTreeMap<NaiveDate, f64> = Default::default();
    for d in &members {
        for (t, p) in &d.usage.periods {
            let e = peak.entry(t.date()).or_insert(0.0);
            *e = e.max(p.cpu_max);
        }
    }
    let first = *peak.keys().next()?;
    let last = review.as_of + chrono::Duration::days(review.options.event_window_days);
    let flat = |v: f64| -> Vec<(NaiveDate, f64)> {
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| (d, v))
            .collect()
    };
    let mut lines = vec![Line {
        label: "Peak CPU per day, % of the current type".to_string(),
        points: peak.into_iter().collect(),
    }];
    let target = match &members[0].decision {
        Decision::Resize { to, .. } => Some(to.clone()),
        Decision::Held { would_be, .. } => match would_be.as_ref() {
            Decision::Resize { to, .. } => Some(to.clone()),
            _ => None,
        },
        _ => None,
    };
    if let Some(to) = target {
        lines.push(Line {
            label: format!("{} capacity, % of the current type", to.name),
            points: flat(100.0 * to.vcpu / current.vcpu),
        });
    }
    lines.push(Line {
        label: "Peak + headroom".to_string(),
        points: flat(
            crate::recommend::rightsizing::needed(
                &current,
                &members
                    .iter()
                    .flat_map(|d| d.usage.periods.iter().map(|(_, p)| p.clone()))
                    .collect::<Vec<_>>(),
                &review.options.policy,
            )
            .0 / current.vcpu
                * 100.0,
        ),
    });
    Some(line_chart(
        &lines,
        Some((100.0, "Current type")),
        events,
        "CPU, % of the current type's vCPUs",
        "%",
    ))
}

fn build_detail(
    conn: &mut DbConnection,
    catalog: &Catalog,
    params: &Params,
    viewer: &Viewer,
) -> Result<Payload, WebError> {
    let mut known: Vec<&str> = PARAMS.to_vec();
    known.extend(["id", "what_if", "option"]);
    params.allow_only(&known).map_err(WebError::BadRequest)?;
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
    let r = review(conn, &options)?;
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
        x.map(|v| v.display(&currency))
            .unwrap_or_else(|| "—".to_string())
    };
    let mut page = DetailPage {
        layout: Layout::new("Recommendation", "recommendations", catalog, viewer),
        kind_label: rec.kind.label(),
        scope: scope_text(&rec),
        savings: rec.monthly_savings.display(&currency),
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
        page.chart = Some(commitment_chart(plan, &events));
        page.duration = duration_chart(plan);
        page.chart_note = "Daily average on-demand-equivalent spend per hour: the last 120 days, the forecast's mean and its 10th and 90th percentile paths, and the level the commitments held plus the recommended one cover. Shaded: calendar events.".to_string();
        page.options = plan
            .options
            .iter()
            .enumerate()
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
                commitment: Micros::from_units_f64(t.commitment).display(&currency) + " /h",
                savings: Micros::from_units_f64(t.expected_savings).display(&currency),
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
    super::render(req, state, build_detail).await
}

fn build_json(
    conn: &mut DbConnection,
    catalog: &Catalog,
    params: &Params,
    _: &str,
) -> Result<Payload, WebError> {
    let shown = shown(conn, params)?;
    Payload::json(&serde_json::json!({
        "totals": output::totals(&shown, &catalog.default_currency()),
        "recommendations": shown,
    }))
}

/// `GET /api/v1/recommendations`: the same list as JSON, with totals;
/// errors as the API's JSON errors.
pub async fn json(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, crate::web::errors::ApiError> {
    let params = Params::parse(req.query_string());
    crate::web::answer(
        state.into_inner(),
        crate::web::cache_key(&req),
        move |conn, catalog| build_json(conn, catalog, &params, ""),
    )
    .await
    .map_err(crate::web::errors::ApiError)
}
