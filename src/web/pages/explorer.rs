//! `GET /costs`: the Costs explorer. Every filter lives in the URL.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::{platform_options, value_options, CheckOption};
use crate::db::costs::Dim;
use crate::db::sql::Granularity;
use crate::dims;
use crate::report::chart::{self, Chart};
use crate::report::explorer::{explore, Explorer, ExplorerRequest};
use crate::report::{percent_text, Catalog};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::params::{default_whole_periods, Params};
use crate::web::state::AppState;
use crate::web::views::{money, query_string, range_text, short_date, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 9] = [
    "from",
    "to",
    "platform",
    "region",
    "service",
    "granularity",
    "group_by",
    "metric",
    "currency",
];

/// Per-period columns are shown up to this many periods.
const MAX_COLUMNS: usize = 14;
/// Series drawn before the rest are folded into "Other".
const CHART_SERIES: usize = 8;

struct GroupView {
    label: String,
    billed: String,
    effective: String,
    share: String,
    values: Vec<String>,
}

#[derive(Template)]
#[template(path = "explorer.html")]
struct ExplorerPage {
    layout: Layout,
    from: String,
    to: String,
    period_text: String,
    granularity: &'static str,
    granularity_label: &'static str,
    granularity_plural: &'static str,
    granularities: Vec<(&'static str, &'static str)>,
    dimensions: Vec<(&'static str, &'static str)>,
    group1: &'static str,
    group2: &'static str,
    group_label: String,
    group_label_lower: String,
    metric: &'static str,
    metric_label: &'static str,
    platform_options: Vec<CheckOption>,
    region_options: Vec<CheckOption>,
    service_options: Vec<CheckOption>,
    regions_open: bool,
    regions_chosen: usize,
    services_open: bool,
    services_chosen: usize,
    json_link: String,
    csv_link: String,
    empty: bool,
    has_data: bool,
    data_from: String,
    data_to: String,
    total_billed: String,
    total_effective: String,
    group_count: usize,
    period_count: usize,
    main_chart: Chart,
    period_headers: Vec<String>,
    groups: Vec<GroupView>,
    period_totals: Vec<String>,
    periods_hidden: bool,
    has_partial: bool,
    max_columns: usize,
}

/// The explorer request from parameters (shared with the API).
pub fn request_from(
    params: &Params,
    catalog: &Catalog,
    default_granularity: Granularity,
    default_group_by: &[Dim],
) -> Result<ExplorerRequest, String> {
    let today = crate::clock::today();
    let granularity = params.granularity(default_granularity)?;
    let filter = params.cost_filter(catalog, default_whole_periods(catalog, today, granularity))?;
    Ok(ExplorerRequest {
        filter,
        granularity,
        group_by: params.group_by(default_group_by)?,
        metric: params.metric()?,
    })
}

/// The same view as JSON and as CSV (the costs API).
fn data_links(req: &ExplorerRequest) -> (String, String) {
    let f = &req.filter;
    let mut pairs: Vec<(&str, String)> = vec![
        ("from", f.from.to_string()),
        ("to", f.to.to_string()),
        ("granularity", req.granularity.as_str().to_string()),
        ("metric", req.metric.as_str().to_string()),
    ];
    pairs.extend(
        req.group_by
            .iter()
            .map(|d| ("group_by", d.as_str().to_string())),
    );
    pairs.extend(f.platforms.iter().map(|p| ("platform", p.clone())));
    pairs.extend(f.regions.iter().map(|r| ("region", r.clone())));
    pairs.extend(f.services.iter().map(|s| ("service", s.clone())));
    pairs.push(("currency", f.currency.clone()));
    let json = format!("/api/v1/costs?{}", query_string(&pairs));
    pairs.push(("format", "csv".to_string()));
    (json, format!("/api/v1/costs?{}", query_string(&pairs)))
}

/// A period's column heading; a period with days still to come is starred.
fn period_label(granularity: Granularity, d: chrono::NaiveDate, partial: bool) -> String {
    let label = match granularity {
        Granularity::Month => d.format("%b %Y").to_string(),
        Granularity::Week => format!("wk {}", d.format("%d %b")),
        Granularity::Day => d.format("%d %b").to_string(),
    };
    if partial {
        format!("{label} *")
    } else {
        label
    }
}

fn group_views(result: &Explorer, show_periods: bool, cur: &str) -> Vec<GroupView> {
    result
        .groups
        .iter()
        .map(|g| GroupView {
            label: g.label(),
            billed: money(g.total.billed, cur),
            effective: money(g.total.effective, cur),
            share: percent_text(g.share),
            values: if show_periods {
                g.values.iter().map(|v| money(*v, cur)).collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

fn build(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let req = request_from(params, catalog, Granularity::Week, &[Dim::Platform])
        .map_err(WebError::BadRequest)?;
    let result = explore(conn, &req)?;
    let f = &req.filter;
    let cur = f.currency.as_str();
    let metric = req.metric;

    let group_label = if req.group_by.is_empty() {
        "Total".to_string()
    } else {
        req.group_by
            .iter()
            .map(|d| d.label())
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let show_periods = result.periods.len() <= MAX_COLUMNS && result.periods.len() > 1;
    let groups = group_views(&result, show_periods, cur);
    let (json_link, csv_link) = data_links(&req);
    let y_label = format!("{} ({cur})", metric.label());
    let chart = chart::stacked_area_marking_partial(
        &result.chart_series(req.granularity, CHART_SERIES),
        &result.partial,
        &y_label,
        cur,
        chart::Size::Wide,
    );
    let mut dimensions = vec![("none", "(nothing)")];
    dimensions.extend(Dim::ALL.iter().map(|d| (d.as_str(), d.label())));
    let page = ExplorerPage {
        layout: Layout::new("Costs explorer", "costs", catalog, viewer),
        from: f.from.to_string(),
        to: f.to.to_string(),
        period_text: range_text(f.from, f.to),
        granularity: req.granularity.as_str(),
        granularity_label: match req.granularity {
            Granularity::Day => "Daily",
            Granularity::Week => "Weekly",
            Granularity::Month => "Monthly",
        },
        granularity_plural: match req.granularity {
            Granularity::Day => "days",
            Granularity::Week => "weeks",
            Granularity::Month => "months",
        },
        granularities: vec![
            ("day", "Day"),
            ("week", "Week (Mon–Sun)"),
            ("month", "Month"),
        ],
        dimensions,
        group1: req.group_by.first().map(|d| d.as_str()).unwrap_or("none"),
        group2: req.group_by.get(1).map(|d| d.as_str()).unwrap_or(""),
        group_label_lower: group_label.to_lowercase(),
        group_label,
        metric: metric.as_str(),
        metric_label: metric.label(),
        platform_options: platform_options(catalog, &f.platforms),
        region_options: value_options(&catalog.regions, &f.regions, |r| {
            match dims::region_name(r) {
                Some(n) => format!("{r} ({n})"),
                None => r.to_string(),
            }
        }),
        service_options: value_options(&catalog.services, &f.services, |s| s.to_string()),
        regions_open: !f.regions.is_empty(),
        regions_chosen: f.regions.len(),
        services_open: !f.services.is_empty(),
        services_chosen: f.services.len(),
        json_link,
        csv_link,
        empty: result.rows.is_empty(),
        has_data: !catalog.is_empty(),
        data_from: catalog.first_day.map(short_date).unwrap_or_default(),
        data_to: catalog.last_day.map(short_date).unwrap_or_default(),
        total_billed: money(result.total.billed, cur),
        total_effective: money(result.total.effective, cur),
        group_count: result.groups.len(),
        period_count: result.periods.len(),
        main_chart: chart,
        period_headers: if show_periods {
            result
                .periods
                .iter()
                .zip(&result.partial)
                .map(|(d, partial)| period_label(req.granularity, *d, *partial))
                .collect()
        } else {
            Vec::new()
        },
        groups,
        period_totals: if show_periods {
            result
                .period_totals
                .iter()
                .map(|v| money(*v, cur))
                .collect()
        } else {
            Vec::new()
        },
        periods_hidden: !show_periods && result.periods.len() > 1,
        has_partial: result.partial.iter().any(|p| *p),
        max_columns: MAX_COLUMNS,
    };
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, build).await
}
