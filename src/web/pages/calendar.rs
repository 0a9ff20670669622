//! `GET /calendar`: the marketing calendar (upcoming and past events) with
//! a form to add or edit one; `POST /calendar` saves, `POST
//! /calendar/delete` deletes, `GET /calendar.toml` downloads every event in
//! the `forecasts/` file format, for committing page edits.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::Connection;

use super::FormOutcome;
use crate::calendar::{self, CalendarEvent, EventKind};
use crate::db::DbConnection;
use crate::dims::Platform;
use crate::runs::Source;
use crate::web::errors::{HtmlError, WebError};
use crate::web::pages::Page;
use crate::web::state::AppState;
use crate::web::views::{short_date, Layout};
use crate::web::Payload;

/// Source recorded for events added or edited on the page.
pub const PAGE_SOURCE: &str = "calendar page";

pub const PARAMS: [&str; 3] = ["edit", "saved", "deleted"];

struct EventView {
    id: i64,
    name: String,
    kind: String,
    dates: String,
    days: i64,
    platforms: String,
    regions: String,
    uplift: String,
    ramp: String,
    source: String,
    notes: String,
}

/// The form's values, as entered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventForm {
    pub id: Option<i64>,
    pub name: String,
    pub kind: String,
    pub start: String,
    pub end: String,
    pub platforms: Vec<String>,
    pub regions: String,
    /// Percent, as typed (40 means +40 %).
    pub uplift_percent: String,
    pub ramp_days: String,
    pub notes: String,
}

impl EventForm {
    fn of(e: &CalendarEvent) -> EventForm {
        EventForm {
            id: e.id,
            name: e.name.clone(),
            kind: e.kind.as_str().to_string(),
            start: e.start.to_string(),
            end: e.end.to_string(),
            platforms: e.platforms.clone(),
            regions: e.regions.join(", "),
            uplift_percent: e
                .expected_uplift
                .map(|u| trim_number(u * 100.0))
                .unwrap_or_default(),
            ramp_days: e.ramp_days.map(|d| d.to_string()).unwrap_or_default(),
            notes: e.notes.clone(),
        }
    }

    /// Validates with the calendar file's rules (via its TOML form).
    pub fn to_event(&self) -> Result<CalendarEvent, String> {
        let mut t = toml::Table::new();
        let text = |v: &str| toml::Value::String(v.trim().to_string());
        if !self.name.trim().is_empty() {
            t.insert("name".into(), text(&self.name));
        }
        if !self.kind.trim().is_empty() {
            t.insert("kind".into(), text(&self.kind));
        }
        for (key, v) in [("start", &self.start), ("end", &self.end)] {
            if !v.trim().is_empty() {
                t.insert(key.into(), text(v));
            }
        }
        if !self.platforms.is_empty() {
            t.insert(
                "platforms".into(),
                toml::Value::Array(self.platforms.iter().map(|p| text(p)).collect()),
            );
        }
        let regions: Vec<toml::Value> = self
            .regions
            .split([',', ' ', ';'])
            .filter(|r| !r.trim().is_empty())
            .map(text)
            .collect();
        if !regions.is_empty() {
            t.insert("regions".into(), toml::Value::Array(regions));
        }
        if !self.uplift_percent.trim().is_empty() {
            let p: f64 = self
                .uplift_percent
                .trim()
                .trim_end_matches('%')
                .parse()
                .map_err(|_| {
                    format!(
                        "expected uplift '{}' is not a number of percent",
                        self.uplift_percent
                    )
                })?;
            t.insert("expected_uplift".into(), toml::Value::Float(p / 100.0));
        }
        if !self.ramp_days.trim().is_empty() {
            let d: i64 = self
                .ramp_days
                .trim()
                .parse()
                .map_err(|_| format!("ramp days '{}' is not a whole number", self.ramp_days))?;
            t.insert("ramp_days".into(), toml::Value::Integer(d));
        }
        if !self.notes.trim().is_empty() {
            t.insert("notes".into(), text(&self.notes));
        }
        let mut event = calendar::parse_one(&t, PAGE_SOURCE)?;
        event.id = self.id;
        Ok(event)
    }

    /// Reads a posted form (`platform` may repeat).
    pub fn parse(body: &[u8]) -> Result<EventForm, String> {
        let mut f = EventForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            if value.len() > 2000
                || value
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r')
            {
                return Err(format!(
                    "field {key} is too long or holds control characters"
                ));
            }
            let v = value.to_string();
            match key.as_ref() {
                "id" if v.trim().is_empty() => {}
                "id" => f.id = Some(v.trim().parse().map_err(|_| "bad event id".to_string())?),
                "name" => f.name = v,
                "kind" => f.kind = v,
                "start" => f.start = v,
                "end" => f.end = v,
                "platform" => f.platforms.push(v),
                "regions" => f.regions = v,
                "expected_uplift" => f.uplift_percent = v,
                "ramp_days" => f.ramp_days = v,
                "notes" => f.notes = v,
                // Checked by `post_form` before the form is read.
                "csrf" => {}
                other => return Err(format!("unexpected form field '{other}'")),
            }
        }
        Ok(f)
    }
}

fn trim_number(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn view(e: &CalendarEvent) -> EventView {
    EventView {
        id: e.id.unwrap_or(0),
        name: e.name.clone(),
        kind: e.kind.label().to_string(),
        dates: if e.start == e.end {
            short_date(e.start)
        } else {
            format!("{} – {}", short_date(e.start), short_date(e.end))
        },
        days: e.duration_days(),
        platforms: if e.platforms.is_empty() {
            "all".to_string()
        } else {
            e.platforms.join(", ")
        },
        regions: if e.regions.is_empty() {
            "all".to_string()
        } else {
            e.regions.join(", ")
        },
        uplift: e
            .expected_uplift
            .map(|u| {
                format!(
                    "{}{}\u{a0}%",
                    if u >= 0.0 { "+" } else { "" },
                    trim_number(u * 100.0)
                )
            })
            .unwrap_or_else(|| "learned".to_string()),
        ramp: e.ramp_days.map(|d| format!("{d} d")).unwrap_or_default(),
        source: e.source.clone(),
        notes: e.notes.clone(),
    }
}

struct PlatformBox {
    value: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    upcoming: Vec<EventView>,
    past: Vec<EventView>,
    form: EventForm,
    form_platforms: Vec<PlatformBox>,
    kinds: Vec<(&'static str, &'static str)>,
    editing: bool,
    error: Option<String>,
    notice: Option<String>,
}

fn build(page: Page, entered: Option<(EventForm, String)>) -> Result<Payload, WebError> {
    let (conn, catalog, params, viewer) = (page.conn, page.catalog, page.params, page.viewer);
    let events = crate::db::calendar::all_events(conn)?;
    let today = crate::clock::today();
    let edit_id = match params.one("edit").map_err(WebError::BadRequest)? {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| WebError::BadRequest(format!("edit: '{v}' is not an event id")))?,
        ),
    };
    let (form, error) = match entered {
        Some((form, error)) => (form, Some(error)),
        None => match edit_id {
            Some(id) => {
                let e = events.iter().find(|e| e.id == Some(id)).ok_or_else(|| {
                    WebError::NotFound(format!("There is no event {id} in the calendar."))
                })?;
                (EventForm::of(e), None)
            }
            None => (
                EventForm {
                    kind: "launch".to_string(),
                    ..EventForm::default()
                },
                None,
            ),
        },
    };
    let notice = if params.one("saved").map_err(WebError::BadRequest)?.is_some() {
        Some("Saved.".to_string())
    } else if params
        .one("deleted")
        .map_err(WebError::BadRequest)?
        .is_some()
    {
        Some("Deleted.".to_string())
    } else {
        None
    };
    let (past, upcoming): (Vec<&CalendarEvent>, Vec<&CalendarEvent>) =
        events.iter().partition(|e| e.end < today);
    let page = CalendarPage {
        layout: Layout::new("Calendar", "calendar", catalog, viewer),
        upcoming: upcoming.into_iter().map(view).collect(),
        past: past.into_iter().rev().map(view).collect(),
        form_platforms: Platform::ALL
            .iter()
            .map(|p| PlatformBox {
                value: p.as_str(),
                checked: form.platforms.iter().any(|f| f == p.as_str()),
            })
            .collect(),
        editing: form.id.is_some(),
        form,
        kinds: EventKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        error,
        notice,
    };
    Ok(Payload::html(page.render()?))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    super::render(req, state, &PARAMS, |page| build(page, None)).await
}

/// Validates and stores an event; `Err` holds the re-rendered form.
fn save_event(conn: &mut DbConnection, form: &EventForm) -> Result<Result<i64, String>, WebError> {
    let event = match form.to_event() {
        Ok(e) => e,
        Err(message) => return Ok(Err(message)),
    };
    let stored = crate::db::calendar::all_events(conn)?;
    if let Some(id) = event.id {
        if !stored.iter().any(|e| e.id == Some(id)) {
            return Err(WebError::NotFound(format!(
                "There is no event {id} in the calendar."
            )));
        }
    }
    if let Some(message) = calendar::duplicate_of(&event, &stored) {
        return Ok(Err(format!("duplicates {message}")));
    }
    let id = crate::db::calendar::save_event(conn, &event)?;
    // A run row bumps the data version, so cached pages refresh.
    crate::runs::record_change(
        conn,
        Source::Calendar,
        PAGE_SOURCE,
        1,
        crate::clock::now(),
        format!("event {id} '{}' saved", event.name),
    )?;
    Ok(Ok(id))
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let form = EventForm::parse(&body).map_err(|e| HtmlError(WebError::BadRequest(e)))?;
    let entered = form.clone();
    super::post_form(
        &req,
        state,
        &body,
        64 * 1024,
        move |conn| {
            let saved = conn.transaction::<_, WebError, _>(|conn| save_event(conn, &form))?;
            Ok(match saved {
                Ok(id) => FormOutcome::Saved(format!("/calendar?saved={id}")),
                Err(message) => FormOutcome::Refused(message),
            })
        },
        move |page, message| build(page, Some((entered, message))),
    )
    .await
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    crate::web::guard::check_form(&req, &body).map_err(HtmlError)?;
    let id: i64 = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.trim().parse().ok())
        .ok_or_else(|| {
            HtmlError(WebError::BadRequest(
                "Which event? (id missing)".to_string(),
            ))
        })?;
    let actor = super::viewer(&req, &state).user;
    let state = state.into_inner();
    let st = state.clone();
    let found = web::block(move || -> Result<bool, WebError> {
        let _acting = crate::audit::Actor::enter(&actor);
        let mut conn = st.pool.get().map_err(crate::db::DbError::from)?;
        let found = conn.transaction::<_, crate::db::DbError, _>(|conn| {
            let found = crate::db::calendar::delete_event(conn, id)?;
            if found {
                crate::runs::record_change(
                    conn,
                    Source::Calendar,
                    PAGE_SOURCE,
                    0,
                    crate::clock::now(),
                    format!("event {id} deleted"),
                )?;
            }
            Ok(found)
        })?;
        if found {
            st.cache.invalidate();
        }
        Ok(found)
    })
    .await
    .map_err(|e| HtmlError(WebError::Internal(e.to_string())))?
    .map_err(HtmlError)?;
    if !found {
        return Err(HtmlError(WebError::NotFound(format!(
            "There is no event {id} in the calendar."
        ))));
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/calendar?deleted=1"))
        .finish())
}

pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HtmlError> {
    if !req.query_string().is_empty() {
        return Err(HtmlError(WebError::BadRequest(
            "calendar.toml takes no parameters.".to_string(),
        )));
    }
    crate::web::answer(
        state.into_inner(),
        crate::web::cache_key(&req),
        move |conn, _, _| {
            let events = crate::db::calendar::all_events(conn)?;
            Ok(Payload {
                content_type: "application/toml; charset=utf-8",
                file_name: Some("calendar.toml".to_string()),
                body: calendar::to_toml(&events).into_bytes().into(),
            })
        },
    )
    .await
    .map_err(HtmlError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_validated_with_the_file_rules() {
        let body = b"name=Winter+sale&kind=sale&start=2026-12-20&end=2026-12-10&platform=PC&regions=eu-west-1&expected_uplift=30&ramp_days=2&notes=";
        let form = EventForm::parse(body).unwrap();
        let e = form.to_event().unwrap_err();
        assert!(
            e.contains("'end' (2026-12-10) is before 'start' (2026-12-20)"),
            "{e}"
        );
        let body = b"name=Winter+sale&kind=sale&start=2026-12-10&end=2026-12-20&platform=ps5&regions=eu-west-1%2C+us-east-1&expected_uplift=30&ramp_days=2&notes=";
        let e = EventForm::parse(body).unwrap().to_event().unwrap();
        assert_eq!(e.platforms, vec!["PlayStation"]);
        assert_eq!(e.regions, vec!["eu-west-1", "us-east-1"]);
        assert_eq!(e.expected_uplift, Some(0.3));
        let body = b"name=X&kind=sale&start=2026-12-10&end=2026-12-20&regions=mars-1";
        assert!(EventForm::parse(body)
            .unwrap()
            .to_event()
            .unwrap_err()
            .contains("unknown region 'mars-1'"));
        assert!(EventForm::parse(b"evil=1").is_err());
    }
}
