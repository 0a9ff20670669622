//! `GET /rules`: the allocation rules, editable, and the largest
//! unallocated resources (what a new rule should cover). `POST /rules`
//! saves the edited list and re-applies it to all stored imports.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Duration;

use super::FormOutcome;
use crate::db::allocation_rules;
use crate::dims::Platform;
use crate::ingest::allocate::RuleInput;
use crate::ingest::rules::{self, RulesError};
use crate::report::unallocated::{unallocated_report, UnallocatedReport};
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::state::AppState;
use crate::web::views::{money, range_text, Layout};
use crate::web::Payload;

pub const PARAMS: [&str; 6] = ["from", "to", "saved", "kind", "pattern", "platform"];

/// Blank rows offered for new rules.
const BLANK_ROWS: usize = 3;
/// Most rules the form accepts.
const MAX_RULES: usize = 200;

struct RuleRow {
    index: usize,
    position: usize,
    kind: String,
    pattern: String,
    platform: String,
    driver: String,
    note: String,
}

/// One row of the unallocated summary: a resource where the import had
/// them, else a line (account, region, service).
struct UnallocatedView {
    what: String,
    detail: String,
    amount: String,
    rule: String,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    layout: Layout,
    rows: Vec<RuleRow>,
    error: Option<String>,
    saved: Option<String>,
    platforms: Vec<&'static str>,
    period: String,
    unallocated: Vec<UnallocatedView>,
    unallocated_total: String,
    unallocated_link: String,
    from: String,
    to: String,
}

fn rows_of(inputs: &[RuleInput]) -> Vec<RuleRow> {
    let mut rows: Vec<RuleRow> = inputs
        .iter()
        .enumerate()
        .map(|(i, r)| RuleRow {
            index: i,
            position: i + 1,
            kind: r.kind.clone(),
            pattern: r.pattern.clone(),
            platform: r.platform.clone(),
            driver: if r.driver.is_empty() {
                "player_hours".to_string()
            } else {
                r.driver.clone()
            },
            note: r.note.clone(),
        })
        .collect();
    let n = rows.len();
    for k in 0..BLANK_ROWS {
        rows.push(RuleRow {
            index: n + k,
            position: n + k + 1,
            kind: "tag".to_string(),
            pattern: String::new(),
            platform: String::new(),
            driver: "player_hours".to_string(),
            note: String::new(),
        });
    }
    rows
}

/// Rows in the summary; the Unallocated page lists the rest.
const SUMMARY_ROWS: usize = 10;

fn unallocated_views(r: &UnallocatedReport) -> Vec<UnallocatedView> {
    let cur = r.currency.as_str();
    if !r.resources.is_empty() {
        return r
            .resources
            .iter()
            .take(SUMMARY_ROWS)
            .map(|x| UnallocatedView {
                what: x.label(),
                detail: format!("account {} · {} · {}", x.account_id, x.region, x.service),
                amount: money(x.billed, cur),
                rule: x.rule.text(),
            })
            .collect();
    }
    r.lines
        .iter()
        .take(SUMMARY_ROWS)
        .map(|l| UnallocatedView {
            what: format!("account {}", l.account_id),
            detail: format!("{} · {}", l.region, crate::dims::service_label(&l.service)),
            amount: money(l.billed, cur),
            rule: l.rule.text(),
        })
        .collect()
}

/// The first blank row filled from `kind`, `pattern` and `platform` (the
/// Unallocated page's "Add this rule" link), checked as any rule is when
/// saved.
fn prefill(rows: &mut [RuleRow], params: &crate::web::params::Params) -> Result<(), WebError> {
    let get = |name: &str| -> Result<String, WebError> {
        Ok(params
            .one(name)
            .map_err(WebError::BadRequest)?
            .unwrap_or_default()
            .to_string())
    };
    let (kind, pattern, platform) = (get("kind")?, get("pattern")?, get("platform")?);
    if pattern.is_empty() {
        return Ok(());
    }
    if crate::ingest::allocate::RuleKind::parse(&kind).is_none() {
        return Err(WebError::BadRequest(format!(
            "parameter 'kind': '{kind}' is not tag, account or resource"
        )));
    }
    if let Some(row) = rows.iter_mut().find(|r| r.pattern.is_empty()) {
        row.kind = kind;
        row.pattern = pattern;
        row.platform = platform;
    }
    Ok(())
}

fn build(page: Page, entered: Option<(Vec<RuleInput>, String)>) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let last = catalog.last_day.unwrap_or_else(crate::clock::today);
    let (from, to) = params
        .range((last - Duration::days(29), last))
        .map_err(WebError::BadRequest)?;
    let saved = params
        .one("saved")
        .map_err(WebError::BadRequest)?
        .map(|n| format!("Saved {n} rule(s) and re-applied them to every stored import."));
    let (inputs, error) = match entered {
        Some((inputs, error)) => (inputs, Some(error)),
        None => (
            allocation_rules::list(conn)?
                .iter()
                .map(RuleInput::from)
                .collect(),
            None,
        ),
    };
    let currency = catalog.default_currency();
    let unallocated = unallocated_report(conn, from, to, &currency)?;
    let mut rows = rows_of(&inputs);
    prefill(&mut rows, params)?;
    let page = RulesPage {
        layout: Layout::new("Allocation rules", "rules", catalog, viewer),
        rows,
        error,
        saved,
        platforms: Platform::ALL.iter().map(|p| p.as_str()).collect(),
        period: range_text(from, to),
        unallocated: unallocated_views(&unallocated),
        unallocated_total: if unallocated.lines.is_empty() {
            String::new()
        } else {
            format!(
                "{} of effective cost ({})",
                money(unallocated.effective, &currency),
                crate::report::percent_text(unallocated.share())
            )
        },
        unallocated_link: format!(
            "/unallocated?{}",
            crate::web::views::query_string(&[("from", from.to_string()), ("to", to.to_string())])
        ),
        from: from.to_string(),
        to: to.to_string(),
    };
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, |page| build(page, None)).await
}

/// Reads the posted form: rows `r{i}_kind`, `r{i}_pattern`,
/// `r{i}_platform`, `r{i}_driver`, `r{i}_note`, `r{i}_position`; rows
/// without a pattern are dropped; the rest are ordered by position.
pub fn parse_form(body: &[u8]) -> Result<Vec<RuleInput>, String> {
    let mut rows: std::collections::BTreeMap<usize, (f64, RuleInput)> = Default::default();
    for (key, value) in form_urlencoded::parse(body) {
        if key == "csrf" {
            // Checked by `post_form` before the form is read.
            continue;
        }
        let Some(rest) = key.strip_prefix('r') else {
            return Err(format!("unexpected form field '{key}'"));
        };
        let Some((index, field)) = rest.split_once('_') else {
            return Err(format!("unexpected form field '{key}'"));
        };
        let index: usize = index
            .parse()
            .ok()
            .filter(|i| *i < MAX_RULES + BLANK_ROWS)
            .ok_or_else(|| format!("unexpected form field '{key}'"))?;
        if value.len() > 500 || value.chars().any(|c| c.is_control()) {
            return Err(format!(
                "rule field {field} is too long or holds control characters"
            ));
        }
        let entry = rows
            .entry(index)
            .or_insert_with(|| (index as f64 + 1.0, RuleInput::default()));
        let v = value.trim().to_string();
        match field {
            "kind" => entry.1.kind = v,
            "pattern" => entry.1.pattern = v,
            "platform" => entry.1.platform = v,
            "driver" => entry.1.driver = v,
            "note" => entry.1.note = v,
            "position" => {
                entry.0 = v
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite())
                    .ok_or_else(|| format!("position '{v}' is not a number"))?
            }
            _ => return Err(format!("unexpected form field '{key}'")),
        }
    }
    let mut list: Vec<(f64, usize, RuleInput)> = rows
        .into_iter()
        .filter(|(_, (_, r))| !r.pattern.is_empty())
        .map(|(i, (pos, r))| (pos, i, r))
        .collect();
    list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(list.into_iter().map(|(_, _, r)| r).collect())
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let inputs = parse_form(&body).map_err(|e| HtmlError(WebError::BadRequest(e)))?;
    let entered = inputs.clone();
    super::post_form(
        &req,
        state,
        &body,
        256 * 1024,
        move |conn| match rules::save(conn, &inputs, "the rules page") {
            Ok(_) => Ok(FormOutcome::Saved(format!("/rules?saved={}", inputs.len()))),
            Err(RulesError::Invalid(e)) => Ok(FormOutcome::Refused(e.to_string())),
            Err(RulesError::Db(e)) => Err(e.into()),
        },
        move |page, message| build(page, Some((entered, message))),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rule_rows_in_position_order_and_drops_blank_ones() {
        let body = b"r0_kind=tag&r0_pattern=platform&r0_platform=&r0_driver=player_hours&r0_note=&r0_position=2\
&r1_kind=account&r1_pattern=123&r1_platform=Xbox&r1_driver=equal&r1_note=x&r1_position=1\
&r2_kind=tag&r2_pattern=&r2_platform=&r2_driver=player_hours&r2_note=&r2_position=3";
        let rules = parse_form(body).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].pattern, "123");
        assert_eq!(rules[1].pattern, "platform");
        assert!(parse_form(b"evil=1").is_err());
        assert!(parse_form(b"r0_position=abc").is_err());
    }
}
