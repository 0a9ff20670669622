//! `/recommendations/held`: the commitments held, from the bill and the
//! commitments list: utilisation and coverage per month, unused cost, and what expires
//! in the next 90 days.

use super::*;
use crate::recommend::held::{self, HeldCommitment, EXPIRY_WARNING_DAYS};

pub(super) struct HeldRow {
    id: String,
    kind: String,
    terms: String,
    hourly: String,
    period: String,
    expires: String,
    soon: bool,
    utilisation: String,
    coverage: String,
    last_month: String,
    unused: String,
    seen_in: &'static str,
}

#[derive(Template)]
#[template(path = "commitments_held.html")]
pub(super) struct HeldPage {
    layout: Layout,
    tiles: Vec<Tile>,
    rows: Vec<HeldRow>,
    expiring: usize,
    warning_days: i64,
}

fn row(h: &HeldCommitment, currency: &str) -> HeldRow {
    let money = |m: Micros| crate::web::views::money(m, currency);
    let dash = || "—".to_string();
    let terms = match (h.term_years, &h.payment) {
        (Some(t), Some(p)) => {
            let payment = crate::pricing::Payment::parse(p).map_or(p.as_str(), |p| p.label());
            format!("{t} year{}, {payment}", if t > 1 { "s" } else { "" })
        }
        _ => dash(),
    };
    let period = match (h.start_date.or(h.first_billed), h.end_date) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("from {a} (end not on the list)"),
        _ => dash(),
    };
    let expires = match h.expires_in_days {
        Some(d) if d < 0 => format!("expired {} days ago", -d),
        Some(d) => format!("in {d} days"),
        None => dash(),
    };
    HeldRow {
        id: h.id.clone(),
        kind: crate::pricing::Offer::parse(&h.kind)
            .map_or(h.kind.clone(), |o| o.label().to_string()),
        terms,
        hourly: h.hourly_commitment.map(money).unwrap_or_else(dash),
        period,
        expires,
        soon: h.expires_soon(),
        utilisation: pct(h.utilisation),
        coverage: pct(h.coverage),
        last_month: h
            .months
            .last()
            .map(|m| {
                format!(
                    "{}: used {}, covers {}",
                    m.month,
                    pct(m.utilisation),
                    pct(m.coverage)
                )
            })
            .unwrap_or_else(dash),
        unused: if h.seen_in == "list" {
            dash()
        } else {
            money(h.unused)
        },
        seen_in: h.seen_in,
    }
}

pub(super) fn build_held(page: Page) -> Result<Payload, WebError> {
    let (conn, catalog, viewer) = (page.conn, page.catalog, page.viewer);
    let held = held::inventory(conn, crate::clock::today())?;
    let currency = catalog.default_currency();
    let expiring = held.iter().filter(|h| h.expires_soon()).count();
    let expired = held
        .iter()
        .filter(|h| h.expires_in_days.is_some_and(|d| d < 0))
        .count();
    let active = held.len() - expired;
    let used: Micros = held.iter().map(|h| h.used).sum();
    let unused: Micros = held.iter().map(|h| h.unused).sum();
    let hourly: Micros = held
        .iter()
        .filter(|h| h.expires_in_days.is_none_or(|d| d >= 0))
        .filter_map(|h| h.hourly_commitment)
        .sum();
    let money = |m: Micros| crate::web::views::money(m, &currency);
    let tiles = vec![
        Tile {
            id: "tile-held",
            label: "Commitments held".to_string(),
            value: active.to_string(),
            note: if expired > 0 {
                format!(
                    "{} an hour committed (the list); {expired} more expired",
                    money(hourly)
                )
            } else {
                format!("{} an hour committed (the list)", money(hourly))
            },
            note_class: "",
        },
        Tile {
            id: "tile-expiring",
            label: format!("Expire in {EXPIRY_WARNING_DAYS} days"),
            value: expiring.to_string(),
            note: "plan their replacement: see the purchase plan".to_string(),
            note_class: if expiring > 0 { "up" } else { "" },
        },
        Tile {
            id: "tile-held-utilisation",
            label: "Utilisation on the bill".to_string(),
            value: pct(held::share(used, unused)),
            note: format!("{} of commitment went unused", money(unused)),
            note_class: if unused > Micros::ZERO { "up" } else { "" },
        },
    ];
    let rows = held.iter().map(|h| row(h, &currency)).collect();
    let page = HeldPage {
        layout: Layout::new("Commitments held", "recommendations", catalog, viewer),
        tiles,
        rows,
        expiring,
        warning_days: EXPIRY_WARNING_DAYS,
    };
    Ok(Payload::html(page.render()?))
}

pub async fn held(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    crate::web::pages::render(req, state, &[], build_held).await
}
