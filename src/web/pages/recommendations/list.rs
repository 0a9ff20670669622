//! The Recommendations page, `/recommendations.csv` and `/api/v1/recommendations`: the same filtered, sorted list.

use super::*;

pub(super) struct Row {
    id: String,
    kind: &'static str,
    scope: String,
    current: String,
    recommended: String,
    savings: String,
    p10: String,
    upfront: String,
    utilisation: String,
    break_even: String,
    status: &'static str,
    actionable: bool,
    reason: String,
    risk: String,
    aws: String,
}

/// One purchase of the plan.
pub(super) struct PlanRow {
    id: String,
    kind: &'static str,
    scope: String,
    recommended: String,
    upfront: String,
    savings: String,
    p10: String,
    break_even: String,
}

pub(super) struct SortLink {
    label: &'static str,
    href: String,
    mark: &'static str,
}

#[derive(Template)]
#[template(path = "recommendations.html")]
pub(super) struct RecommendationsPage {
    layout: Layout,
    tiles: Vec<Tile>,
    plan_rows: Vec<PlanRow>,
    plan_upfront: String,
    plan_savings: String,
    /// The other commitment plan, in words.
    plan_alternative: String,
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
    /// The commitment rates are the built-in catalog's derived ones.
    derived_rates: bool,
    rightsizing_problem: Option<String>,
    held: usize,
    too_little_data: usize,
}

pub(super) fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.0} %", x * 100.0))
        .unwrap_or_else(|| "—".to_string())
}

pub(super) fn scope_text(r: &Recommendation) -> String {
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

/// The values of a scope's part, sorted, without "all".
fn distinct_scopes<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let set: std::collections::BTreeSet<&String> = values.filter(|v| *v != "all").collect();
    set.into_iter().cloned().collect()
}

pub(crate) fn build(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let options = fleet_options(params)?;
    let f = filters(params)?;
    let r = review(conn, page.shared, &options)?;
    let all = all_recommendations(&r);
    let shown = sorted(all.iter().filter(|x| keep(x, &f)).cloned().collect(), &f);
    let currency = catalog.default_currency();
    let totals = output::totals(&shown, &currency);
    let money = |m: Micros| crate::web::views::money(m, &currency);
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
        Tile {
            id: "tile-upfront",
            label: "Upfront to pay".to_string(),
            value: money(totals.upfront),
            note: "at purchase, for the better commitment plan".to_string(),
            note_class: "",
        },
    ];
    let plan = output::purchase_plan(&shown, &currency);
    let plan_rows = plan
        .chosen
        .iter()
        .map(|x| PlanRow {
            id: x.id.clone(),
            kind: x.kind.label(),
            scope: scope_text(x),
            recommended: x.recommended.clone(),
            upfront: x.upfront.map(money).unwrap_or_else(|| "—".to_string()),
            savings: money(x.monthly_savings),
            p10: x
                .p10_monthly_savings
                .map(money)
                .unwrap_or_else(|| "—".to_string()),
            break_even: x
                .break_even_month
                .map(|m| format!("month {m}"))
                .unwrap_or_else(|| "—".to_string()),
        })
        .collect();
    let plan_alternative = if plan.compute_chosen {
        format!(
            "Instead: EC2 Instance Savings Plans or RIs per family save {} a month.",
            money(plan.per_family_plan)
        )
    } else {
        format!(
            "Instead: one Compute Savings Plan over all eligible compute saves {} a month.",
            money(plan.compute_plan)
        )
    };
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
            upfront: x.upfront.map(money).unwrap_or_else(|| "—".to_string()),
            utilisation: pct(x.expected_utilisation),
            break_even: x
                .break_even_month
                .map(|m| format!("month {m}"))
                .unwrap_or_else(|| "—".to_string()),
            status: x.status.as_str(),
            actionable: x.status == Status::Actionable,
            reason: if x.why.is_empty() {
                x.reason.clone()
            } else {
                x.why.clone()
            },
            // A commitment's risk is its P10 and utilisation columns; the
            // sentence is on the detail view.
            risk: if x.kind.is_commitment() {
                String::new()
            } else {
                x.risk.clone()
            },
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
    let platforms = distinct_scopes(all.iter().map(|x| &x.scope.platform));
    let regions = distinct_scopes(all.iter().map(|x| &x.scope.region));
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
        plan_upfront: money(plan.upfront()),
        plan_savings: money(plan.monthly_savings()),
        plan_rows,
        plan_alternative,
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
        derived_rates: r
            .commitments
            .recommendations
            .iter()
            .any(|c| crate::pricing::origin_is_derived(&c.price_source)),
        rightsizing_problem: r.rightsizing_problem.clone(),
        held: not_actionable(Status::Held),
        too_little_data: not_actionable(Status::TooLittleData),
    };
    Ok(Payload::html(page.render()?))
}

pub(super) fn build_csv(page: Page) -> Result<Payload, WebError> {
    let (conn, params) = (page.conn, page.params);
    let shown = shown(conn, page.shared, params)?;
    Ok(Payload::csv(
        "finops-recommendations.csv".to_string(),
        output::csv(&shown).into_bytes(),
    ))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    crate::web::pages::render(req, state, &PARAMS, build).await
}

pub async fn csv(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let st = state.clone();
    let response =
        crate::web::pages::render::<_, HtmlError>(req.clone(), state, &PARAMS, build_csv).await?;
    crate::web::audit_export(&st, &req, "recommendations CSV".to_string())
        .await
        .map_err(HtmlError)?;
    Ok(response)
}

fn build_json(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params) = (page.conn, page.catalog, page.params);
    let shown = shown(conn, page.shared, params)?;
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
    crate::web::pages::render(req, state, &PARAMS, build_json).await
}
