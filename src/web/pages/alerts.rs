//! `GET /alerts`: the alerts raised, newest first, with each channel's
//! delivery (sent, retrying with the last error, given up); the rules and
//! the channels they send to (channels without their secrets). Analysts
//! add and remove rules (`POST /alerts/rules`, `POST /alerts/rules/remove`)
//! and evaluate now (`POST /alerts/run`); viewers read.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::FormOutcome;
use crate::alert::rule::{self, Kind, RuleInput, KINDS};
use crate::alert::{self, AlertError, AlertSettings, When};
use crate::db::alerts as stored;
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::state::AppState;
use crate::web::views::Layout;
use crate::web::Payload;

pub const PARAMS: [&str; 4] = ["saved", "replaced", "removed", "ran"];

/// How many alerts the page lists.
const LISTED: i64 = 100;

struct ChannelRow {
    name: String,
    kind: &'static str,
    target: String,
    /// Ticked in the rule form.
    checked: bool,
}

struct RuleRow {
    name: String,
    what: String,
    channels: String,
    created: String,
}

struct DeliveryRow {
    channel: String,
    status: String,
    class: &'static str,
    detail: String,
}

struct AlertRow {
    id: i64,
    raised: String,
    rule: String,
    title: String,
    body: Vec<String>,
    link: String,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    layout: Layout,
    channels: Vec<ChannelRow>,
    rules: Vec<RuleRow>,
    alerts: Vec<AlertRow>,
    kinds: Vec<&'static str>,
    form: RuleInput,
    notice: Option<String>,
    error: Option<String>,
    /// Channels whose deliveries are failing, with the last error.
    failing: Vec<String>,
}

fn delivery_row(d: &stored::Delivery) -> DeliveryRow {
    let (status, class) = match d.status.as_str() {
        stored::SENT => (
            format!(
                "sent{}",
                d.delivered_at
                    .map(|t| t.format(" %Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            ),
            "down",
        ),
        stored::FAILED => (format!("gave up after {} attempts", d.attempts), "up"),
        _ if d.attempts > 0 => (
            format!(
                "failed {} time{}; next try {} UTC",
                d.attempts,
                if d.attempts == 1 { "" } else { "s" },
                d.next_attempt_at.format("%Y-%m-%d %H:%M")
            ),
            "up",
        ),
        _ => ("waiting to be sent".to_string(), ""),
    };
    DeliveryRow {
        channel: d.channel.clone(),
        status,
        class,
        detail: d.last_error.clone(),
    }
}

fn build(
    page: Page,
    settings: &AlertSettings,
    form: RuleInput,
    error: Option<String>,
) -> Result<Payload, WebError> {
    let currency = page.catalog.default_currency();
    let rules = stored::rules(page.conn)?
        .into_iter()
        .map(|r| RuleRow {
            what: Kind::of(&r).map_or_else(|| r.kind.clone(), |k| k.describe(&currency)),
            channels: r.channels.replace(',', ", "),
            created: format!("{} by {}", r.created_at.format("%Y-%m-%d"), r.created_by),
            name: r.name,
        })
        .collect();
    let latest = alert::latest(page.conn, LISTED).map_err(alert_error)?;
    let failing = failing_channels(&latest);
    let alerts = latest
        .into_iter()
        .map(|v| AlertRow {
            id: v.alert.id,
            raised: v.alert.raised_at.format("%Y-%m-%d %H:%M").to_string(),
            rule: v.alert.rule_name.clone(),
            title: v.alert.title.clone(),
            body: v.alert.body.lines().map(str::to_string).collect(),
            link: v.alert.link.clone(),
            deliveries: v.deliveries.iter().map(delivery_row).collect(),
        })
        .collect();
    let one = |name: &str| page.params.one(name).map_err(WebError::BadRequest);
    let notice = if let Some(name) = one("saved")? {
        Some(format!(
            "Rule '{name}' added; it is evaluated now and after every change."
        ))
    } else if let Some(name) = one("replaced")? {
        Some(format!(
            "Rule '{name}' replaced by what you entered (a rule with that name existed); it is evaluated now and after every change."
        ))
    } else if let Some(name) = one("removed")? {
        Some(format!(
            "Rule '{name}' removed; the alerts it raised stay below, and their unsent deliveries still go out."
        ))
    } else {
        one("ran")?.map(|n| {
            format!(
                "Rules evaluated: {n} new alert{}.",
                if n == "1" { "" } else { "s" }
            )
        })
    };
    let p = AlertsPage {
        layout: Layout::new("Alerts", "alerts", page.catalog, page.viewer),
        channels: settings
            .channels
            .iter()
            .map(|c| ChannelRow {
                name: c.name.clone(),
                kind: c.kind(),
                target: c.shown_target(),
                checked: form.channels.contains(&c.name),
            })
            .collect(),
        rules,
        alerts,
        kinds: KINDS.to_vec(),
        form,
        notice,
        error,
        failing,
    };
    Ok(Payload::html(p.render()?))
}

/// A value for a query string.
fn query_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// "finance-slack: 3 deliveries failing (last: the webhook answered HTTP
/// 500)", one line per channel with deliveries retrying or given up.
fn failing_channels(list: &[alert::AlertView]) -> Vec<String> {
    let mut by_channel: std::collections::BTreeMap<&str, (usize, usize, &str)> = Default::default();
    for d in list.iter().flat_map(|v| v.deliveries.iter()) {
        let retrying = d.status == stored::PENDING && d.attempts > 0;
        let given_up = d.status == stored::FAILED;
        if retrying || given_up {
            let e = by_channel.entry(&d.channel).or_insert((0, 0, ""));
            if retrying {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
            if e.2.is_empty() {
                e.2 = &d.last_error;
            }
        }
    }
    by_channel
        .into_iter()
        .map(|(channel, (retrying, given_up, error))| {
            let mut parts = Vec::new();
            if retrying > 0 {
                parts.push(format!("{retrying} waiting to be tried again"));
            }
            if given_up > 0 {
                parts.push(format!("{given_up} given up"));
            }
            format!("{channel}: {} (last error: {error})", parts.join(", "))
        })
        .collect()
}

fn alert_error(e: AlertError) -> WebError {
    match e {
        AlertError::Db(d) => d.into(),
        AlertError::Invalid(m) => WebError::BadRequest(m),
        other => WebError::Internal(other.to_string()),
    }
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let settings = state.alerts.clone();
    super::render_uncached(req, state, &PARAMS, move |page| {
        build(page, &settings, RuleInput::default(), None)
    })
    .await
}

pub async fn add_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let mut input = RuleInput::default();
    for (k, v) in form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "name" => input.name = v,
            "kind" => input.kind = v,
            "basis" => input.basis = v,
            "percent" => input.percent = v,
            "min_impact" => input.min_impact = v,
            "days" => input.days = v,
            "channel" => input.channels.push(v),
            _ => {}
        }
    }
    let by = super::viewer(&req, &state).user;
    let settings = state.alerts.clone();
    let again = input.clone();
    let settings_again = settings.clone();
    super::post_form(
        &req,
        state,
        &body,
        8 * 1024,
        move |conn| {
            let rule =
                match rule::parse(&input, &settings.channel_names(), &by, crate::clock::now()) {
                    Ok(r) => r,
                    Err(message) => return Ok(FormOutcome::Refused(message)),
                };
            let replaced = alert::save_rule(conn, &rule).map_err(alert_error)?;
            let which = if replaced.is_some() {
                "replaced"
            } else {
                "saved"
            };
            Ok(FormOutcome::Saved(format!(
                "/alerts?{which}={}",
                query_value(&rule.name)
            )))
        },
        move |page, message| build(page, &settings_again, again, Some(message)),
    )
    .await
}

pub async fn remove_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let name = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let settings = state.alerts.clone();
    super::post_form(
        &req,
        state,
        &body,
        4 * 1024,
        move |conn| {
            if alert::remove_rule(conn, &name).map_err(alert_error)? {
                Ok(FormOutcome::Saved(format!(
                    "/alerts?removed={}",
                    query_value(&name)
                )))
            } else {
                Err(WebError::NotFound(format!("There is no rule '{name}'.")))
            }
        },
        move |page, message| build(page, &settings, RuleInput::default(), Some(message)),
    )
    .await
}

pub async fn run(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let settings = state.alerts.clone();
    let settings_again = settings.clone();
    let clock = state.clock.clone();
    super::post_form(
        &req,
        state,
        &body,
        1024,
        move |conn| match alert::cycle(conn, &settings, When::Always, clock.today(), clock.now())
            .map_err(alert_error)?
        {
            Some(r) => Ok(FormOutcome::Saved(format!(
                "/alerts?ran={}",
                r.evaluation.raised.len()
            ))),
            None => Ok(FormOutcome::Refused(
                "Another finops process is evaluating the rules right now; try again in a minute."
                    .to_string(),
            )),
        },
        move |page, message| build(page, &settings_again, RuleInput::default(), Some(message)),
    )
    .await
}
