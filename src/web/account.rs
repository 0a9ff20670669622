//! `GET /account`: who you are signed in as and what your role may do;
//! `POST /account/password`: change your own password (the current one
//! first; counts towards the sign-in rate limit when wrong). Your other
//! sessions end; this one stays.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::errors::{HtmlError, WebError};
use super::guard;
use super::pages::viewer;
use super::state::AppState;
use super::views::{Layout, Viewer};
use crate::auth::sessions::{self, PasswordChange};
use crate::auth::{password, throttle, Role, Via};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    may: Vec<&'static str>,
    message: String,
    notice: String,
    min_length: usize,
}

/// What each role may do, in words, for the page.
fn abilities(role: Option<Role>) -> Vec<&'static str> {
    let mut out = vec!["read every page, the JSON API and the calendar"];
    if role >= Some(Role::Analyst) {
        out.push("import files, export CSV, edit the calendar");
    }
    if role >= Some(Role::Admin) {
        out.push("change allocation rules, see users, API tokens and the audit log");
    }
    out
}

async fn render(
    state: &AppState,
    viewer: Viewer,
    status: StatusCode,
    message: String,
    notice: String,
) -> Result<HttpResponse, WebError> {
    let st = state.clone();
    let body = web::block(move || -> Result<String, WebError> {
        let mut conn = st.pool.get().map_err(crate::db::DbError::from)?;
        let version = crate::db::ingest_runs::data_version(&mut conn)?;
        let catalog = st.catalog(&mut conn, version)?;
        let page = AccountPage {
            layout: Layout::new("Your account", "account", &catalog, &viewer),
            may: abilities(viewer.role),
            message,
            notice,
            min_length: password::MIN_LENGTH,
        };
        Ok(page.render()?)
    })
    .await??;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let notice =
        match form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "changed") {
            Some((_, n)) => format!(
                "Your password is changed. {} other session(s) were signed out.",
                n.parse::<usize>().unwrap_or(0)
            ),
            None => String::new(),
        };
    render(
        &state,
        viewer(&req, &state),
        StatusCode::OK,
        String::new(),
        notice,
    )
    .await
    .map_err(HtmlError)
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let identity = guard::form_sender(&req, &body, "Sign in first.").map_err(HtmlError)?;
    let Via::Session { token_hash, .. } = identity.via.clone() else {
        return Err(HtmlError(WebError::BadRequest(
            "API tokens have no password to change.".to_string(),
        )));
    };
    let viewer = viewer(&req, &state);
    let client = super::client::of(&req);
    let address = client.address();
    let refuse = |status: StatusCode, message: String| {
        let viewer = viewer.clone();
        let state = state.clone();
        async move {
            render(&state, viewer, status, message, String::new())
                .await
                .map_err(HtmlError)
        }
    };
    let field = |name: &str| guard::form_field(&body, name).unwrap_or_default();
    let (current, new, repeated) = (field("current"), field("new"), field("repeat"));
    let pool = state.pool.clone();
    let name = identity.name.clone();
    let addr = client.limit_key();
    let now = state.clock.now();
    // Counted like a sign-in before the current password is checked.
    let outcome = web::block(
        move || -> Result<Result<PasswordChange, std::time::Duration>, WebError> {
            let mut conn = pool.get().map_err(crate::db::DbError::from)?;
            let claim = match throttle::claim(&mut conn, &name, &addr, now)? {
                throttle::Verdict::Wait(wait) => return Ok(Err(wait)),
                throttle::Verdict::Go(claim) => claim,
            };
            let outcome = sessions::change_own_password(
                &mut conn,
                &name,
                &token_hash,
                &current,
                &new,
                &repeated,
            )?;
            let right = !matches!(outcome, PasswordChange::WrongCurrent);
            throttle::settle(&mut conn, &claim, right, now)?;
            Ok(Ok(outcome))
        },
    )
    .await
    .map_err(|e| HtmlError(WebError::from(e)))?
    .map_err(HtmlError)?;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(wait) => {
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many wrong passwords. Try again in {}.",
                    throttle::wait_text(wait)
                ),
            )
            .await
        }
    };
    let (outcome_text, detail, refusal) = match &outcome {
        PasswordChange::Changed {
            other_sessions_ended,
        } => (
            crate::audit::OK,
            format!("own password; {other_sessions_ended} other session(s) ended"),
            None,
        ),
        PasswordChange::WrongCurrent => (
            crate::audit::FAILED,
            format!("own password: the current password was wrong ({address})"),
            Some("Your current password is not right.".to_string()),
        ),
        PasswordChange::Mismatch => (
            crate::audit::FAILED,
            "own password: the new password was not repeated exactly".to_string(),
            Some("The new password and its repetition differ.".to_string()),
        ),
        PasswordChange::Invalid(e) => (
            crate::audit::FAILED,
            format!("own password: {e}"),
            Some(format!("The new password cannot be used: {e}.")),
        ),
    };
    let entry = crate::audit::NewAudit {
        actor: identity.name.clone(),
        action: "user.passwd".to_string(),
        target: identity.name.clone(),
        outcome: outcome_text.to_string(),
        detail,
        group: None,
    };
    super::audit_or_warn(&state, entry).await;
    match (outcome, refusal) {
        (
            PasswordChange::Changed {
                other_sessions_ended,
            },
            _,
        ) => {
            state.identities.clear();
            Ok(HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("/account?changed={other_sessions_ended}"),
                ))
                .finish())
        }
        (_, message) => {
            refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                message.unwrap_or_default(),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_is_told_what_it_may_do() {
        assert_eq!(abilities(Some(Role::Viewer)).len(), 1);
        assert_eq!(abilities(Some(Role::Analyst)).len(), 2);
        assert_eq!(abilities(Some(Role::Admin)).len(), 3);
    }
}
