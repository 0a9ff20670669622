//! `GET /`: the Overview page.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};

use super::{platform_options, CheckOption, LineView, Tile};
use crate::db::DbConnection;
use crate::dims::{self, UNALLOCATED};
use crate::report::chart::{self, Chart};
use crate::report::overview::{overview, OverviewRequest};
use crate::report::period::Month;
use crate::report::{percent_text, Catalog, Metric};
use crate::web::errors::{HtmlError, WebError};
use crate::web::params::{default_month, Params};
use crate::web::state::AppState;
use crate::web::views::{
    money, query_string, range_text, short_date, thousands, ChangeView, Layout, Viewer,
};
use crate::web::Payload;

pub const PARAMS: [&str; 6] = ["from", "to", "platform", "region", "metric", "currency"];

struct MoverView {
    platform: String,
    region: String,
    service: String,
    previous: String,
    current: String,
    change: ChangeView,
}

struct UnitView {
    platform: String,
    cost: String,
    hours: String,
    peak: String,
    per_k: String,
    per_k_prev: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    empty: bool,
    has_data: bool,
    data_from: String,
    data_to: String,
    from: String,
    to: String,
    period_text: String,
    previous_text: String,
    metric: &'static str,
    metric_label: &'static str,
    metric_word: &'static str,
    platform_options: Vec<CheckOption>,
    quick_ranges: Vec<(String, String)>,
    tiles: Vec<Tile>,
    trend: Chart,
    platforms: Vec<LineView>,
    regions: Vec<LineView>,
    total_billed: String,
    total_effective: String,
    total_change: ChangeView,
    movers: Vec<MoverView>,
    unit_costs: Vec<UnitView>,
    unallocated_share: String,
    unallocated_amount: String,
    unallocated_high: bool,
    unallocated_link: String,
    month_link: String,
    month_name: String,
    explorer_link: String,
}

fn quick_ranges(last: NaiveDate, metric: Metric, platforms: &[String]) -> Vec<(String, String)> {
    let month = Month::of(last);
    let last_complete = if last == month.last_day() {
        month
    } else {
        month.prev()
    };
    let link = |from: NaiveDate, to: NaiveDate| {
        let mut pairs = vec![("from", from.to_string()), ("to", to.to_string())];
        pairs.extend(platforms.iter().map(|p| ("platform", p.clone())));
        if metric == Metric::Billed {
            pairs.push(("metric", "billed".to_string()));
        }
        format!("/?{}", query_string(&pairs))
    };
    let three = last_complete.prev().prev();
    let year_from = (last_complete.next().first_day() - Duration::days(1))
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(11)))
        .unwrap_or(three.first_day());
    let mut out = vec![
        (
            last_complete.long_name(),
            link(last_complete.first_day(), last_complete.last_day()),
        ),
        (
            "Last 3 months".to_string(),
            link(three.first_day(), last_complete.last_day()),
        ),
        (
            "Last 12 months".to_string(),
            link(year_from, last_complete.last_day()),
        ),
        (
            "Last 30 days".to_string(),
            link(last - Duration::days(29), last),
        ),
    ];
    if last != month.last_day() {
        out.insert(
            0,
            ("Month to date".to_string(), link(month.first_day(), last)),
        );
    }
    out
}

fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    params: &Params,
    viewer: &Viewer,
) -> Result<Payload, WebError> {
    params.allow_only(&PARAMS).map_err(WebError::BadRequest)?;
    let today = crate::clock::today();
    let month = default_month(catalog, today);
    let (from, to) = params
        .range((month.first_day(), month.last_day()))
        .map_err(WebError::BadRequest)?;
    let metric = params.metric().map_err(WebError::BadRequest)?;
    let currency = params.currency(catalog).map_err(WebError::BadRequest)?;
    let platforms = params.platforms().map_err(WebError::BadRequest)?;
    let regions = params
        .dimension_values("region")
        .map_err(WebError::BadRequest)?;
    let req = OverviewRequest {
        from,
        to,
        currency: currency.clone(),
        metric,
        platforms: platforms.clone(),
        regions: regions.clone(),
    };
    let o = overview(conn, &req)?;
    let cur = currency.as_str();
    let metric_word = match metric {
        Metric::Billed => "billed",
        Metric::Effective => "effective",
    };

    let explorer =
        |platforms: &[String], regions: &[String], extra: Vec<(&'static str, String)>| {
            let mut pairs = vec![("from", from.to_string()), ("to", to.to_string())];
            pairs.extend(platforms.iter().map(|p| ("platform", p.clone())));
            pairs.extend(regions.iter().map(|r| ("region", r.clone())));
            pairs.extend(extra);
            format!("/costs?{}", query_string(&pairs))
        };
    let line = |l: &crate::report::overview::BreakdownLine, href: String, label: String| LineView {
        key: l.key.clone(),
        label,
        href,
        billed: money(l.current.billed, cur),
        effective: money(l.current.effective, cur),
        share: percent_text(l.share),
        change: ChangeView::of(&l.change, cur),
    };
    let platform_lines: Vec<LineView> = o
        .platforms
        .iter()
        .map(|l| {
            let href = explorer(
                std::slice::from_ref(&l.key),
                &regions,
                vec![("group_by", "service".to_string())],
            );
            line(l, href, l.key.clone())
        })
        .collect();
    let region_lines: Vec<LineView> = o
        .regions
        .iter()
        .map(|l| {
            let href = explorer(
                &platforms,
                std::slice::from_ref(&l.key),
                vec![("group_by", "platform".to_string())],
            );
            let label = match dims::region_name(&l.key) {
                Some(name) => format!("{} · {}", l.key, name),
                None => l.key.clone(),
            };
            line(l, href, label)
        })
        .collect();

    let total = o.total.get(metric);
    let overall_per_k = o.overall_cost_per_thousand();
    let tiles = vec![
        Tile {
            id: "tile-total",
            label: format!(
                "{} cost",
                metric_word[..1].to_uppercase() + &metric_word[1..]
            ),
            value: money(total, cur),
            note: format!(
                "{} vs previous period",
                ChangeView::of(&o.total_change, cur).percent
            ),
            note_class: o.total_change.direction(),
        },
        Tile {
            id: "tile-other",
            label: match metric {
                Metric::Effective => "Billed cost".to_string(),
                Metric::Billed => "Effective cost".to_string(),
            },
            value: money(
                match metric {
                    Metric::Effective => o.total.billed,
                    Metric::Billed => o.total.effective,
                },
                cur,
            ),
            note: "what the invoice says vs amortised".to_string(),
            note_class: "flat",
        },
        Tile {
            id: "tile-unallocated",
            label: "Unallocated".to_string(),
            value: percent_text(o.unallocated_share),
            note: format!(
                "{} without a platform",
                money(o.unallocated.get(metric), cur)
            ),
            note_class: if o.unallocated_share.unwrap_or(0.0) > 10.0 {
                "up"
            } else {
                "flat"
            },
        },
        Tile {
            id: "tile-unit",
            label: "Per 1,000 player-hours".to_string(),
            value: overall_per_k
                .map(|m| money(m, cur))
                .unwrap_or_else(|| "–".into()),
            note: format!(
                "{} player-hours",
                thousands(o.unit_costs.iter().map(|u| u.player_hours).sum())
            ),
            note_class: "flat",
        },
    ];

    let movers = o
        .movers
        .iter()
        .map(|m| MoverView {
            platform: m.platform.clone(),
            region: m.region.clone(),
            service: dims::service_label(&m.service).to_string(),
            previous: money(m.previous, cur),
            current: money(m.current, cur),
            change: ChangeView::of(&m.change, cur),
        })
        .collect();
    let unit_costs = o
        .unit_costs
        .iter()
        .map(|u| UnitView {
            platform: u.platform.clone(),
            cost: money(u.cost, cur),
            hours: thousands(u.player_hours),
            peak: thousands(u.peak_players as f64),
            per_k: u
                .per_thousand_hours
                .map(|m| money(m, cur))
                .unwrap_or_else(|| "–".into()),
            per_k_prev: u
                .previous_per_thousand_hours
                .map(|m| money(m, cur))
                .unwrap_or_else(|| "–".into()),
        })
        .collect();

    let y_label = format!("{} ({cur})", metric.label());
    let trend = chart::stacked_area(&o.trend, &y_label, cur, chart::Size::Wide);
    let review_month = Month::of(to);
    let page = OverviewPage {
        layout: Layout::new("Overview", "overview", catalog, viewer),
        empty: o.total.billed.is_zero() && o.total.effective.is_zero() && o.platforms.is_empty(),
        has_data: !catalog.is_empty(),
        data_from: catalog.first_day.map(short_date).unwrap_or_default(),
        data_to: catalog.last_day.map(short_date).unwrap_or_default(),
        from: from.to_string(),
        to: to.to_string(),
        period_text: range_text(from, to),
        previous_text: range_text(o.previous_from, o.previous_to),
        metric: metric.as_str(),
        metric_label: metric.label(),
        metric_word,
        platform_options: platform_options(catalog, &platforms),
        quick_ranges: quick_ranges(catalog.last_day.unwrap_or(today), metric, &platforms),
        tiles,
        trend,
        platforms: platform_lines,
        regions: region_lines,
        total_billed: money(o.total.billed, cur),
        total_effective: money(o.total.effective, cur),
        total_change: ChangeView::of(&o.total_change, cur),
        movers,
        unit_costs,
        unallocated_share: percent_text(o.unallocated_share),
        unallocated_amount: money(o.unallocated.get(metric), cur),
        unallocated_high: o.unallocated_share.unwrap_or(0.0) > 10.0,
        unallocated_link: explorer(
            &[UNALLOCATED.to_string()],
            &regions,
            vec![
                ("group_by", "service".to_string()),
                ("group_by", "region".to_string()),
            ],
        ),
        month_link: format!("/month?month={review_month}"),
        month_name: review_month.long_name(),
        explorer_link: explorer(
            &platforms,
            &regions,
            vec![("group_by", "platform".to_string())],
        ),
    };
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, build).await
}
