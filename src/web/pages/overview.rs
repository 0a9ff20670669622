//! `GET /`: the Overview page.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, Duration, NaiveDate};

use super::{platform_options, CheckOption, LineView, Tile};
use crate::dims;
use crate::money::Micros;
use crate::report::chart::{self, Chart};
use crate::report::overview::{overview, BreakdownLine, Overview, OverviewRequest};
use crate::report::period::Month;
use crate::report::{percent_text, Catalog, Change, Metric};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::params::{default_month, Params};
use crate::web::state::AppState;
use crate::web::views::{
    money, query_string, range_text, short_date, thousands, ChangeView, Layout,
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
    beyond: String,
    beyond_direction: &'static str,
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
    /// The period starts the data: nothing to compare with.
    no_previous: bool,
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
    /// This month's budgets and the anomalies nobody reviewed yet.
    watch: Vec<WatchTile>,
}

/// A key figure that links to the page that explains it.
struct WatchTile {
    id: &'static str,
    label: String,
    value: String,
    note: String,
    note_class: &'static str,
    href: String,
}

/// The month of the latest data against its budgets: the total's use and
/// forecast (or, without a total, the platform budgets), naming every
/// budget the forecast passes.
fn budget_tile(
    conn: &mut crate::db::DbConnection,
    last: NaiveDate,
    cur: &str,
) -> Result<WatchTile, WebError> {
    let month = Month::of(last);
    let statuses = crate::budget::status::month_status(conn, month, cur)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let href = format!("/budgets?month={month}");
    let label = format!("Budget, {}", month.long_name());
    let over: Vec<String> = statuses
        .iter()
        .filter(|s| !s.budget.is_total() && s.forecast_over())
        .map(|s| s.label.clone())
        .collect();
    let over_note = if over.is_empty() {
        String::new()
    } else {
        format!("; forecast over: {}", over.join(", "))
    };
    let Some(total) = statuses.iter().find(|s| s.budget.is_total()) else {
        return Ok(WatchTile {
            id: "tile-budget",
            label,
            value: if statuses.is_empty() {
                "none set".to_string()
            } else {
                format!("{} budgets", statuses.len())
            },
            note: if statuses.is_empty() {
                "set budgets on the Budgets page".to_string()
            } else {
                format!("no total budget{over_note}")
            },
            note_class: if over.is_empty() { "flat" } else { "up" },
            href,
        });
    };
    let amount = total.budget.amount();
    let crossing = match (total.crosses_on, total.crossed) {
        (Some(d), true) => format!(", passed on {}", short_date(d)),
        (Some(d), false) => format!(", crosses on {}", short_date(d)),
        (None, _) => String::new(),
    };
    let quarter = match total.quarter_budget {
        Some(q) => format!(
            "; {} forecast {} of {}",
            total.quarter_label,
            money(total.quarter_forecast, cur),
            money(q, cur)
        ),
        None => format!(
            "; {} forecast {}",
            total.quarter_label,
            money(total.quarter_forecast, cur)
        ),
    };
    Ok(WatchTile {
        id: "tile-budget",
        label,
        value: format!("{} used", percent_text(total.used())),
        note: format!(
            "{} of {}; forecast {} ({}){crossing}{quarter}{over_note}",
            money(total.actual, cur),
            money(amount, cur),
            money(total.forecast_month, cur),
            percent_text(total.forecast_used()),
        ),
        note_class: if total.forecast_over() || !over.is_empty() {
            "up"
        } else {
            "down"
        },
        href,
    })
}

/// Anomalies of the last 90 days nobody gave a verdict on.
fn anomaly_tile(
    conn: &mut crate::db::DbConnection,
    last: NaiveDate,
    cur: &str,
) -> Result<WatchTile, WebError> {
    let from = last - Duration::days(crate::anomaly::run::DEFAULT_DAYS - 1);
    let found = crate::db::anomalies::between(conn, from, last)?;
    let open: Vec<_> = found.iter().filter(|a| a.feedback.is_empty()).collect();
    let impact: Micros = open
        .iter()
        .filter(|a| a.service != crate::db::budgets::ALL && a.currency == cur)
        .map(|a| a.impact())
        .sum();
    Ok(WatchTile {
        id: "tile-anomalies",
        label: "Anomalies to review".to_string(),
        value: open.len().to_string(),
        note: if open.is_empty() {
            "none open in the last 90 days".to_string()
        } else {
            format!("{} above the expectation, last 90 days", money(impact, cur))
        },
        note_class: if open.is_empty() { "flat" } else { "up" },
        href: format!("/anomalies?from={from}&to={last}"),
    })
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

/// The overview a request asks for (shared with the API): a range (the
/// latest whole month by default), a metric, a currency and filters.
pub fn request_from(params: &Params, catalog: &Catalog) -> Result<OverviewRequest, WebError> {
    let month = default_month(catalog, crate::clock::today());
    let (from, to) = params
        .range((month.first_day(), month.last_day()))
        .map_err(WebError::BadRequest)?;
    Ok(OverviewRequest {
        from,
        to,
        currency: params.currency(catalog).map_err(WebError::BadRequest)?,
        metric: params.metric().map_err(WebError::BadRequest)?,
        platforms: params.platforms().map_err(WebError::BadRequest)?,
        regions: params
            .dimension_values("region")
            .map_err(WebError::BadRequest)?,
    })
}

/// Links into the Costs explorer for the overview's range.
struct ExplorerLinks {
    from: NaiveDate,
    to: NaiveDate,
}

impl ExplorerLinks {
    fn to(&self, platforms: &[String], regions: &[String], group_by: &[&str]) -> String {
        let mut pairs = vec![("from", self.from.to_string()), ("to", self.to.to_string())];
        pairs.extend(platforms.iter().map(|p| ("platform", p.clone())));
        pairs.extend(regions.iter().map(|r| ("region", r.clone())));
        pairs.extend(group_by.iter().map(|g| ("group_by", g.to_string())));
        format!("/costs?{}", query_string(&pairs))
    }
}

fn line(l: &BreakdownLine, href: String, label: String, cur: &str) -> LineView {
    LineView {
        key: l.key.clone(),
        label,
        href,
        billed: money(l.current.billed, cur),
        effective: money(l.current.effective, cur),
        share: percent_text(l.share),
        change: ChangeView::of(&l.change, cur),
    }
}

/// The breakdown by platform (each linking to its services) and by
/// region (each linking to its platforms).
fn breakdowns(
    o: &Overview,
    req: &OverviewRequest,
    links: &ExplorerLinks,
    cur: &str,
) -> (Vec<LineView>, Vec<LineView>) {
    let platforms = o
        .platforms
        .iter()
        .map(|l| {
            let href = links.to(std::slice::from_ref(&l.key), &req.regions, &["service"]);
            line(l, href, l.key.clone(), cur)
        })
        .collect();
    let regions = o
        .regions
        .iter()
        .map(|l| {
            let href = links.to(&req.platforms, std::slice::from_ref(&l.key), &["platform"]);
            let label = match dims::region_name(&l.key) {
                Some(name) => format!("{} · {}", l.key, name),
                None => l.key.clone(),
            };
            line(l, href, label, cur)
        })
        .collect();
    (platforms, regions)
}

fn tiles(o: &Overview, metric: Metric, cur: &str) -> Vec<Tile> {
    let word = metric_word(metric);
    let (other_label, other) = match metric {
        Metric::Effective => ("Billed cost", o.total.billed),
        Metric::Billed => ("Effective cost", o.total.effective),
    };
    vec![
        Tile {
            id: "tile-total",
            label: format!("{} cost", word[..1].to_uppercase() + &word[1..]),
            value: money(o.total.get(metric), cur),
            note: {
                let days = (o.to - o.from).num_days() + 1;
                let before = (o.previous_to - o.previous_from).num_days() + 1;
                let change = ChangeView::of(&o.total_change, cur).percent;
                if days == before || days <= 0 || before <= 0 {
                    format!("{change} vs previous period")
                } else {
                    // Months differ in length: say what the change is per day.
                    let per_day = Change::per_day(
                        o.total.get(metric),
                        days,
                        o.previous_total.get(metric),
                        before,
                    );
                    format!(
                        "{change} vs previous period ({days} days against {before}); per day {}",
                        per_day.percent_text()
                    )
                }
            },
            note_class: o.total_change.direction(),
        },
        Tile {
            id: "tile-other",
            label: other_label.to_string(),
            value: money(other, cur),
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
            note_class: if o.unallocated_is_high() {
                "up"
            } else {
                "flat"
            },
        },
        Tile {
            id: "tile-unit",
            label: "Per 1,000 player-hours".to_string(),
            value: o
                .overall_cost_per_thousand()
                .map(|m| money(m, cur))
                .unwrap_or_else(|| "–".into()),
            note: format!("{} player-hours", thousands(o.player_hours())),
            note_class: "flat",
        },
    ]
}

fn metric_word(metric: Metric) -> &'static str {
    match metric {
        Metric::Billed => "billed",
        Metric::Effective => "effective",
    }
}

fn mover_views(o: &Overview, cur: &str) -> Vec<MoverView> {
    o.movers
        .iter()
        .map(|m| MoverView {
            platform: m.platform.clone(),
            region: m.region.clone(),
            service: dims::service_label(&m.service).to_string(),
            previous: money(m.previous, cur),
            current: money(m.current, cur),
            change: ChangeView::of(&m.change, cur),
            beyond: crate::web::views::signed_money(m.beyond_trend, cur),
            beyond_direction: Change::between(m.beyond_trend, Micros::ZERO).direction(),
        })
        .collect()
}

fn unit_views(o: &Overview, cur: &str) -> Vec<UnitView> {
    let or_dash = |m: Option<Micros>| m.map(|m| money(m, cur)).unwrap_or_else(|| "–".into());
    o.unit_costs
        .iter()
        .map(|u| UnitView {
            platform: u.platform.clone(),
            cost: money(u.cost, cur),
            hours: thousands(u.player_hours),
            peak: thousands(u.peak_players as f64),
            per_k: or_dash(u.per_thousand_hours),
            per_k_prev: or_dash(u.previous_per_thousand_hours),
        })
        .collect()
}

fn build(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let req = request_from(params, catalog)?;
    let o = overview(conn, &req)?;
    let (from, to, metric) = (req.from, req.to, req.metric);
    let cur = req.currency.as_str();
    let links = ExplorerLinks { from, to };
    let (platform_lines, region_lines) = breakdowns(&o, &req, &links, cur);
    let y_label = format!("{} ({cur})", metric.label());
    let review_month = Month::of(to);
    let last = catalog.last_day.unwrap_or_else(crate::clock::today);
    let watch = match catalog.last_day {
        Some(day) if !o.is_empty() => {
            vec![budget_tile(conn, day, cur)?, anomaly_tile(conn, day, cur)?]
        }
        _ => Vec::new(),
    };
    let mut page = OverviewPage {
        no_previous: false,
        layout: Layout::new("Overview", "overview", catalog, viewer),
        empty: o.is_empty(),
        has_data: !catalog.is_empty(),
        data_from: catalog.first_day.map(short_date).unwrap_or_default(),
        data_to: catalog.last_day.map(short_date).unwrap_or_default(),
        from: from.to_string(),
        to: to.to_string(),
        period_text: range_text(from, to),
        previous_text: range_text(o.previous_from, o.previous_to),
        metric: metric.as_str(),
        metric_label: metric.label(),
        metric_word: metric_word(metric),
        platform_options: platform_options(catalog, &req.platforms),
        quick_ranges: quick_ranges(last, metric, &req.platforms),
        tiles: tiles(&o, metric, cur),
        trend: chart::stacked_area(&o.trend, &y_label, cur, chart::Size::Wide),
        platforms: platform_lines,
        regions: region_lines,
        total_billed: money(o.total.billed, cur),
        total_effective: money(o.total.effective, cur),
        total_change: ChangeView::of(&o.total_change, cur),
        movers: mover_views(&o, cur),
        unit_costs: unit_views(&o, cur),
        unallocated_share: percent_text(o.unallocated_share),
        unallocated_amount: money(o.unallocated.get(metric), cur),
        unallocated_high: o.unallocated_is_high(),
        unallocated_link: format!(
            "/unallocated?{}",
            query_string(&[("from", req.from.to_string()), ("to", req.to.to_string())])
        ),
        month_link: format!("/month?month={review_month}"),
        month_name: review_month.long_name(),
        explorer_link: links.to(&req.platforms, &req.regions, &["platform"]),
        watch,
    };
    // A period at the start of the data has nothing before it: no
    // changes, no movers, rather than "new" on every line.
    if catalog.first_day.is_some_and(|f| o.previous_to < f) {
        page.no_previous = true;
        page.movers.clear();
        for l in page.platforms.iter_mut().chain(page.regions.iter_mut()) {
            l.change = ChangeView::none();
        }
        page.total_change = ChangeView::none();
        if let Some(t) = page.tiles.iter_mut().find(|t| t.id == "tile-total") {
            t.note = "the start of the data: nothing earlier to compare with".to_string();
            t.note_class = "flat";
        }
    }
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, build).await
}
