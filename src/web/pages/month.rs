//! `GET /month?month=YYYY-MM[&platform=P[&region=R]]`: the Month review.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::Tile;
use crate::dims::{self, Platform};
use crate::money::Micros;
use crate::report::chart::{self, Bars, Chart};
use crate::report::drivers::{month_drivers, Drivers, Split};
use crate::report::month::{
    month_review, Drill, MonthLine, MonthRequest, MonthReview, PlatformMonth,
};
use crate::report::period::Month;
use crate::report::{percent_text, Catalog, Change};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::params::{default_month, Params};
use crate::web::state::AppState;
use crate::web::views::{money, query_string, short_date, ChangeView, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 4] = ["month", "platform", "region", "currency"];

struct RowView {
    label: String,
    href: String,
    billed: String,
    effective: String,
    previous: String,
    change: ChangeView,
}

struct PlatformView {
    platform: String,
    href: String,
    billed: String,
    effective: String,
    previous: String,
    change: ChangeView,
    budget: String,
    used: String,
    over_budget: bool,
    regions: Vec<RowView>,
}

/// One row of "why it changed": a platform's change split.
struct DriverRow {
    platform: String,
    previous: String,
    current: String,
    change: ChangeView,
    hours: String,
    volume: String,
    unit_cost_percent: String,
    unit_cost: String,
    rest: String,
}

struct DriversView {
    /// "−6.7 % against October (31 days); per day −3.6 % (30 days against 31)".
    headline: String,
    rows: Vec<DriverRow>,
    total: DriverRow,
}

struct DrillView {
    title: String,
    close_link: String,
    explorer_link: String,
    services: Vec<RowView>,
    billed: String,
    effective: String,
    previous: String,
    change: ChangeView,
}

#[derive(Template)]
#[template(path = "month.html")]
struct MonthPage {
    layout: Layout,
    month: String,
    month_name: String,
    previous_name: String,
    previous_short: String,
    next_name: String,
    prev_link: String,
    next_link: Option<String>,
    csv_link: String,
    partial: bool,
    data_through: String,
    empty: bool,
    no_data_yet: bool,
    /// The first month of data: no changes to show.
    no_previous: bool,
    has_data: bool,
    data_from: String,
    data_to: String,
    tiles: Vec<Tile>,
    budget_chart: Chart,
    daily_chart: Chart,
    platforms: Vec<PlatformView>,
    total_billed: String,
    total_effective: String,
    total_previous: String,
    total_change: ChangeView,
    total_budget: String,
    platform_budgets: String,
    platform_used: String,
    total_used: String,
    drill: Option<DrillView>,
    drivers: Option<DriversView>,
}

fn row(l: &MonthLine, label: String, href: String, cur: &str) -> RowView {
    RowView {
        label,
        href,
        billed: money(l.current.billed, cur),
        effective: money(l.current.effective, cur),
        previous: money(l.previous.effective, cur),
        change: ChangeView::of(&l.change, cur),
    }
}

/// The month review a request asks for (shared with the API): a month
/// (the latest whole one by default), a currency, and an optional platform
/// or platform and region to drill into.
pub fn request_from(params: &Params, catalog: &Catalog) -> Result<MonthRequest, WebError> {
    let month = params
        .month("month")
        .map_err(WebError::BadRequest)?
        .unwrap_or_else(|| default_month(catalog, crate::clock::today()));
    let currency = params.currency(catalog).map_err(WebError::BadRequest)?;
    let platform = match params.one("platform").map_err(WebError::BadRequest)? {
        None => None,
        Some(p) => Some(
            dims::parse_platform_filter(p)
                .map_err(|e| WebError::BadRequest(format!("parameter 'platform': {e}")))?,
        ),
    };
    let region = match params.one("region").map_err(WebError::BadRequest)? {
        None => None,
        Some(r) => Some(dims::validate_dimension_value("region", r).map_err(WebError::BadRequest)?),
    };
    if region.is_some() && platform.is_none() {
        return Err(WebError::BadRequest(
            "parameter 'region' needs 'platform' too (the drill-down is per platform, or platform and region)".into(),
        ));
    }
    Ok(MonthRequest {
        month,
        currency,
        platform,
        region,
    })
}

/// Links within the Month review, keeping the chosen currency.
struct Links<'a> {
    currency: &'a str,
    default_currency: String,
}

impl Links<'_> {
    fn month(&self, m: Month, platform: Option<&str>, region: Option<&str>) -> String {
        let mut pairs = vec![("month", m.to_string())];
        if let Some(p) = platform {
            pairs.push(("platform", p.to_string()));
        }
        if let Some(r) = region {
            pairs.push(("region", r.to_string()));
        }
        if self.currency != self.default_currency {
            pairs.push(("currency", self.currency.to_string()));
        }
        format!("/month?{}", query_string(&pairs))
    }
}

fn budget_text(budget: Option<Micros>, cur: &str) -> String {
    budget.map(|b| money(b, cur)).unwrap_or_else(|| "–".into())
}

/// The "used" column: the projected month while it runs, the share of
/// the budget once it is over.
fn used_text(partial: bool, projected: Micros, used: Option<f64>, cur: &str) -> String {
    if partial {
        money(projected, cur)
    } else {
        percent_text(used)
    }
}

fn platform_views(
    review: &MonthReview,
    month: Month,
    links: &Links,
    cur: &str,
) -> Vec<PlatformView> {
    review
        .platforms
        .iter()
        .map(|p| PlatformView {
            platform: p.platform.clone(),
            href: links.month(month, Some(&p.platform), None),
            billed: money(p.current.billed, cur),
            effective: money(p.current.effective, cur),
            previous: money(p.previous.effective, cur),
            change: ChangeView::of(&p.change, cur),
            budget: budget_text(p.budget, cur),
            used: used_text(review.partial, p.projected, p.budget_used, cur),
            over_budget: p.over_budget(),
            regions: p
                .regions
                .iter()
                .map(|r| {
                    let label = match dims::region_name(&r.key) {
                        Some(n) => format!("{} · {n}", r.key),
                        None => r.key.clone(),
                    };
                    row(
                        r,
                        label,
                        links.month(month, Some(&p.platform), Some(&r.key)),
                        cur,
                    )
                })
                .collect(),
        })
        .collect()
}

/// The budget tile: the top-down total (or, without one, the sum of the
/// platform budgets), how much of it is used, the forecast and the day it
/// crosses, and any platform over its own budget, so a total within
/// budget never hides an overspent platform.
fn budget_tile(
    review: &MonthReview,
    cur: &str,
    statuses: &[crate::budget::status::BudgetStatus],
) -> Tile {
    let total_status = statuses.iter().find(|s| s.budget.is_total());
    // While the month runs, a platform is over when the calendar-aware
    // forecast of its own budget says so (as on Budgets and the
    // Overview); once it is over, when its spend is.
    let over: Vec<String> = if review.partial && !statuses.is_empty() {
        statuses
            .iter()
            .filter(|s| s.budget.is_platform_only() && s.forecast_over())
            .map(|s| s.budget.platform.clone())
            .collect()
    } else {
        review
            .platforms_over()
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let (label, value, used) = match (review.total_budget, review.platform_budgets) {
        (Some(t), _) => (
            "Total budget (top-down)",
            money(t, cur),
            review.budget_used(),
        ),
        (None, Some(p)) => (
            "Platform budgets (sum)",
            money(p, cur),
            review.platform_budgets_used(),
        ),
        (None, None) => ("Budget", "none set".to_string(), None),
    };
    let mut notes = Vec::new();
    match used {
        Some(u) => notes.push(format!("{u:.1} % used")),
        None if review.platform_budgets.is_none() => notes.push("no budget for this month".into()),
        None => {}
    }
    if let Some(s) = total_status.filter(|_| review.partial) {
        notes.push(format!("forecast {}", money(s.forecast_month, cur)));
        if let Some(d) = s.crosses_on {
            notes.push(format!(
                "{} {}",
                if s.crossed { "passed on" } else { "crosses on" },
                short_date(d)
            ));
        }
        if let Some(q) = s.quarter_budget {
            notes.push(format!(
                "{} forecast {} of {}",
                s.quarter_label,
                money(s.quarter_forecast, cur),
                money(q, cur)
            ));
        }
    }
    if let (Some(_), Some(p)) = (review.total_budget, review.platform_budgets) {
        notes.push(format!("platform budgets sum to {}", money(p, cur)));
    }
    if !over.is_empty() {
        notes.push(format!(
            "{}: {}",
            if review.partial {
                "forecast over budget"
            } else {
                "over budget"
            },
            over.join(", ")
        ));
    }
    let total_over = review.projected_over_budget()
        || total_status.is_some_and(|s| s.forecast_over() && review.partial);
    Tile {
        id: "tile-budget",
        label: label.into(),
        value,
        note: notes.join(" · "),
        note_class: if total_over || !over.is_empty() {
            "up"
        } else {
            "flat"
        },
    }
}

fn tiles(
    review: &MonthReview,
    month: Month,
    cur: &str,
    statuses: &[crate::budget::status::BudgetStatus],
    drivers: Option<&Drivers>,
) -> Vec<Tile> {
    let over = if review.projected_over_budget() {
        "up"
    } else {
        "flat"
    };
    let gap = review.total.billed - review.total.effective;
    let mut tiles = vec![
        Tile {
            id: "tile-effective",
            label: "Effective cost".into(),
            value: money(review.total.effective, cur),
            note: match drivers.filter(|d| d.days != d.previous_days) {
                Some(d) => format!(
                    "{} vs {} ({} days against {}); per day {}",
                    review.total_change.percent_text(),
                    month.prev().long_name(),
                    d.days,
                    d.previous_days,
                    d.per_day_change.percent_text()
                ),
                None => format!(
                    "{} vs {}",
                    review.total_change.percent_text(),
                    month.prev().long_name()
                ),
            },
            note_class: review.total_change.direction(),
        },
        Tile {
            id: "tile-billed",
            label: "Billed cost".into(),
            value: money(review.total.billed, cur),
            note: if gap.is_zero() {
                "equal to effective".to_string()
            } else {
                format!(
                    "{} vs effective (commitment timing)",
                    crate::web::views::signed_money(gap, cur)
                )
            },
            note_class: "flat",
        },
        budget_tile(review, cur, statuses),
    ];
    if review.partial {
        tiles.push(Tile {
            id: "tile-projected",
            label: "Run rate to month end".into(),
            value: money(review.total_projected, cur),
            note: "the month-to-date daily rate, without the calendar (the forecast is on Budgets)"
                .into(),
            note_class: over,
        });
    }
    tiles
}

/// Per platform: the previous month, this month (projected when partial)
/// and the budget as a marker.
fn budget_chart(review: &MonthReview, month: Month, y_label: &str, cur: &str) -> Chart {
    let shown: Vec<&PlatformMonth> = review
        .platforms
        .iter()
        .filter(|p| p.platform.parse::<Platform>().is_ok())
        .collect();
    let categories: Vec<String> = shown.iter().map(|p| p.platform.clone()).collect();
    let (this_label, previous_label) = if review.partial {
        (format!("{} (projected)", month.long_name()), "same days")
    } else {
        (month.long_name(), "month")
    };
    let this_month = |p: &&PlatformMonth| {
        if review.partial {
            p.projected
        } else {
            p.current.effective
        }
    };
    let bars = Bars {
        categories: &categories,
        series: vec![
            (
                format!("{} ({previous_label})", month.prev().long_name()),
                (190, 190, 190),
                shown.iter().map(|p| p.previous.effective).collect(),
            ),
            (
                this_label,
                (0, 114, 178),
                shown.iter().map(this_month).collect(),
            ),
        ],
        targets: Some((
            "Budget".to_string(),
            shown.iter().map(|p| p.budget).collect(),
        )),
    };
    chart::grouped_bars(&bars, y_label, cur, chart::Size::Half)
}

fn drill_view(d: &Drill, month: Month, links: &Links, cur: &str) -> DrillView {
    let (current, previous) = d.totals();
    let mut explorer_pairs = vec![
        ("from", month.first_day().to_string()),
        ("to", month.last_day().to_string()),
        ("platform", d.platform.clone()),
        ("granularity", "day".to_string()),
        ("group_by", "service".to_string()),
    ];
    if let Some(r) = &d.region {
        explorer_pairs.push(("region", r.clone()));
    }
    DrillView {
        title: match &d.region {
            Some(r) => format!("{} in {r}", d.platform),
            None => d.platform.clone(),
        },
        close_link: links.month(month, None, None),
        explorer_link: format!("/costs?{}", query_string(&explorer_pairs)),
        services: d
            .services
            .iter()
            .map(|s| {
                row(
                    s,
                    dims::service_label(&s.key).to_string(),
                    String::new(),
                    cur,
                )
            })
            .collect(),
        billed: money(current.billed, cur),
        effective: money(current.effective, cur),
        previous: money(previous, cur),
        change: ChangeView::of(&Change::between(current.effective, previous), cur),
    }
}

fn signed_percent(p: Option<f64>) -> String {
    p.map(crate::report::signed_percent_text)
        .unwrap_or_else(|| "–".to_string())
}

fn driver_row(s: &Split, cur: &str) -> DriverRow {
    let signed = crate::web::views::signed_money;
    DriverRow {
        platform: s.platform.clone(),
        previous: money(s.previous, cur),
        current: money(s.current, cur),
        change: ChangeView::of(&Change::between(s.current, s.previous), cur),
        hours: signed_percent(s.hours_percent()),
        volume: signed(s.volume, cur),
        unit_cost_percent: signed_percent(s.unit_cost_percent()),
        unit_cost: signed(s.unit_cost, cur),
        rest: signed(s.rest, cur),
    }
}

fn drivers_view(d: &Drivers, review: &MonthReview, previous_name: &str, cur: &str) -> DriversView {
    let mut headline = format!(
        "{} against {previous_name} ({} days)",
        review.total_change.percent_text(),
        d.previous_days
    );
    if d.days != d.previous_days {
        headline.push_str(&format!(
            "; per day {} ({} days against {}: {} a day against {})",
            d.per_day_change.percent_text(),
            d.days,
            d.previous_days,
            money(d.per_day, cur),
            money(d.previous_per_day, cur)
        ));
    } else {
        headline.push_str(&format!("; {} a day", money(d.per_day, cur)));
    }
    DriversView {
        headline,
        rows: d.platforms.iter().map(|s| driver_row(s, cur)).collect(),
        total: driver_row(&d.total, cur),
    }
}

fn build(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let request = request_from(params, catalog)?;
    let review = month_review(conn, &request)?;
    let drivers = if review.platforms.is_empty() || request.platform.is_some() {
        None
    } else {
        Some(month_drivers(conn, request.month, &review)?)
    };
    // How the total and each platform's budget stand while the month
    // runs: the calendar-aware forecast and the crossing day.
    let statuses = if review.partial {
        crate::budget::status::month_status_where(conn, request.month, &request.currency, |b| {
            (b.is_total() || b.is_platform_only()) && b.basis == "effective"
        })
        .map_err(|e| WebError::Internal(e.to_string()))?
    } else {
        Vec::new()
    };
    let MonthRequest {
        month,
        currency,
        platform,
        region,
    } = request;
    let cur = currency.as_str();
    let links = Links {
        currency: cur,
        default_currency: catalog.default_currency(),
    };
    let (prev, next) = (month.prev(), month.next());
    let y_label = format!("Effective cost ({cur})");
    let last = catalog.last_day.map(Month::of);
    let no_data_yet = last.is_some_and(|l| month > l);
    // The first month of data has nothing before it to compare with.
    let no_previous = catalog.first_day.is_some_and(|f| prev.last_day() < f);
    let drivers = drivers.filter(|_| !no_previous);
    let mut page = MonthPage {
        layout: Layout::new(&format!("Month review {month}"), "month", catalog, viewer),
        month: month.to_string(),
        month_name: month.long_name(),
        previous_name: prev.long_name(),
        previous_short: prev.first_day().format("%b %Y").to_string(),
        next_name: next.long_name(),
        prev_link: links.month(prev, platform.as_deref(), region.as_deref()),
        next_link: match last {
            Some(l) if next <= l => Some(links.month(next, platform.as_deref(), region.as_deref())),
            _ => None,
        },
        csv_link: format!("/export/monthly.csv?month={month}"),
        partial: review.partial,
        data_through: review.data_through.map(short_date).unwrap_or_default(),
        empty: review.platforms.is_empty() || no_data_yet,
        no_data_yet,
        no_previous: false,
        has_data: !catalog.is_empty(),
        data_from: catalog.first_day.map(short_date).unwrap_or_default(),
        data_to: catalog.last_day.map(short_date).unwrap_or_default(),
        tiles: tiles(&review, month, cur, &statuses, drivers.as_ref()),
        budget_chart: budget_chart(&review, month, &y_label, cur),
        daily_chart: chart::stacked_area(&review.daily, &y_label, cur, chart::Size::Half),
        platforms: platform_views(&review, month, &links, cur),
        total_billed: money(review.total.billed, cur),
        total_effective: money(review.total.effective, cur),
        total_previous: money(review.previous_total.effective, cur),
        total_change: ChangeView::of(&review.total_change, cur),
        total_budget: budget_text(review.total_budget, cur),
        platform_budgets: budget_text(review.platform_budgets, cur),
        platform_used: used_text(
            review.partial,
            review.total_projected,
            review.platform_budgets_used(),
            cur,
        ),
        total_used: used_text(
            review.partial,
            review.total_projected,
            review.budget_used(),
            cur,
        ),
        drill: review
            .drill
            .as_ref()
            .map(|d| drill_view(d, month, &links, cur)),
        drivers: drivers
            .as_ref()
            .map(|d| drivers_view(d, &review, &prev.long_name(), cur)),
    };
    if no_previous {
        page.no_previous = true;
        for p in &mut page.platforms {
            p.change = ChangeView::none();
            p.regions
                .iter_mut()
                .for_each(|r| r.change = ChangeView::none());
        }
        page.total_change = ChangeView::none();
        if let Some(d) = &mut page.drill {
            d.change = ChangeView::none();
            d.services
                .iter_mut()
                .for_each(|r| r.change = ChangeView::none());
        }
        if let Some(t) = page.tiles.iter_mut().find(|t| t.id == "tile-effective") {
            t.note = "the first month of data: nothing earlier to compare with".to_string();
            t.note_class = "flat";
        }
    }
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, build).await
}
