//! `GET /unallocated?from&to[&currency]`: the cost in a period that no
//! allocation rule gave a platform, line by line and resource by resource,
//! with the rule that would claim each (and, for admins, a link that puts
//! it in a blank row on the rules page).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Duration;

use crate::report::percent_text;
use crate::report::unallocated::{unallocated_report, SuggestedRule, UnallocatedReport};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::state::AppState;
use crate::web::views::{money, query_string, range_text, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 3] = ["from", "to", "currency"];

struct RuleView {
    text: String,
    why: String,
    /// The rules page with this rule in a blank row (admins), or empty.
    add_link: String,
}

struct LineView {
    account: String,
    region: String,
    service: String,
    billed: String,
    effective: String,
    effective_micros: i64,
    share: String,
    rule: RuleView,
}

struct ResourceView {
    resource: String,
    account: String,
    region: String,
    service: String,
    tags: String,
    billed: String,
    billed_micros: i64,
    rule: RuleView,
}

struct ClaimView {
    rule: RuleView,
    lines: usize,
    billed: String,
    effective: String,
    share: String,
}

struct CategoryView {
    name: String,
    billed: String,
    effective: String,
}

#[derive(Template)]
#[template(path = "unallocated.html")]
struct UnallocatedPage {
    layout: Layout,
    from: String,
    to: String,
    period: String,
    effective: String,
    billed: String,
    share: String,
    all_effective: String,
    categories: Vec<CategoryView>,
    claims: Vec<ClaimView>,
    lines: Vec<LineView>,
    more_lines: usize,
    more_billed: String,
    more_effective: String,
    resources: Vec<ResourceView>,
    explorer_link: String,
}

fn rule_view(rule: &SuggestedRule, can_admin: bool) -> RuleView {
    RuleView {
        text: rule.text(),
        why: rule.why.clone(),
        add_link: if can_admin && rule.is_rule() {
            format!(
                "/rules?{}",
                query_string(&[
                    ("kind", rule.kind.clone()),
                    ("pattern", rule.pattern.clone()),
                    ("platform", rule.platform.clone()),
                ])
            )
        } else {
            String::new()
        },
    }
}

fn view(r: &UnallocatedReport, layout: Layout) -> UnallocatedPage {
    let cur = r.currency.as_str();
    let can_admin = layout.can_admin;
    UnallocatedPage {
        from: r.from.to_string(),
        to: r.to.to_string(),
        period: range_text(r.from, r.to),
        effective: money(r.effective, cur),
        billed: money(r.billed, cur),
        share: percent_text(r.share()),
        all_effective: money(r.all_effective, cur),
        categories: r
            .categories
            .iter()
            .map(|c| CategoryView {
                name: c.charge_category.clone(),
                billed: money(c.billed, cur),
                effective: money(c.effective, cur),
            })
            .collect(),
        claims: r
            .claims
            .iter()
            .map(|c| ClaimView {
                rule: rule_view(&c.rule, can_admin),
                lines: c.lines,
                billed: money(c.billed, cur),
                effective: money(c.effective, cur),
                share: percent_text(c.effective.percent_of(r.effective)),
            })
            .collect(),
        lines: r
            .lines
            .iter()
            .map(|l| LineView {
                account: l.account_id.clone(),
                region: l.region.clone(),
                service: crate::dims::service_label(&l.service).to_string(),
                billed: money(l.billed, cur),
                effective: money(l.effective, cur),
                effective_micros: l.effective.0,
                share: percent_text(l.effective.percent_of(r.effective)),
                rule: rule_view(&l.rule, can_admin),
            })
            .collect(),
        more_lines: r.more_lines,
        more_billed: money(r.more_billed, cur),
        more_effective: money(r.more_effective, cur),
        resources: r
            .resources
            .iter()
            .map(|x| ResourceView {
                resource: x.label(),
                account: x.account_id.clone(),
                region: x.region.clone(),
                service: crate::dims::service_label(&x.service).to_string(),
                tags: if x.tags.is_empty() {
                    "(none)".to_string()
                } else {
                    x.tags
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" · ")
                },
                billed: money(x.billed, cur),
                billed_micros: x.billed.0,
                rule: rule_view(&x.rule, can_admin),
            })
            .collect(),
        explorer_link: format!(
            "/costs?{}",
            query_string(&[
                ("from", r.from.to_string()),
                ("to", r.to.to_string()),
                ("platform", crate::dims::UNALLOCATED.to_string()),
                ("granularity", "day".to_string()),
                ("group_by", "service".to_string()),
            ])
        ),
        layout,
    }
}

/// The report a request asks for (shared with the API): the last 30 days
/// of data by default.
pub fn report_for(page: &mut Page) -> Result<UnallocatedReport, WebError> {
    let last = page.catalog.last_day.unwrap_or_else(crate::clock::today);
    let (from, to) = page
        .params
        .range((last - Duration::days(29), last))
        .map_err(WebError::BadRequest)?;
    let currency = page
        .params
        .currency(page.catalog)
        .map_err(WebError::BadRequest)?;
    Ok(unallocated_report(page.conn, from, to, &currency)?)
}

fn build(mut page: Page) -> Result<Payload, WebError> {
    let report = report_for(&mut page)?;
    let layout = Layout::new("Unallocated cost", "unallocated", page.catalog, page.viewer);
    Ok(Payload::html(view(&report, layout).render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, build).await
}
