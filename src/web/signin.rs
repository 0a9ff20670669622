//! `GET /login`, `POST /login`, `POST /login/demo`, `POST /logout`.
//!
//! The login form carries its own CSRF token (a short-lived cookie and the
//! same value in the form), failed sign-ins are rate limited per user name
//! and address, and every sign-in, refusal and sign-out is audited. The
//! session cookie is HttpOnly, SameSite=Lax, and Secure when the request
//! came over TLS (directly or through a proxy that says so).

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::errors::{HtmlError, WebError};
use super::guard::{self, SESSION_COOKIE};
use super::state::AppState;
use super::views::Layout;
use crate::auth::throttle::{self, Verdict};
use crate::auth::{secret, sessions, Role};

/// The login form's own CSRF cookie.
pub const LOGIN_COOKIE: &str = "finops_login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    token: String,
    username: String,
    message: String,
    notice: String,
    demo: bool,
    demo_roles: Vec<(&'static str, String)>,
}

/// Where to go after sign-in: a path on this site, else the overview.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2000
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !next.starts_with("/login")
        && !next.starts_with("/logout");
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// Over HTTPS, directly or through a trusted proxy that says so.
fn secure(req: &HttpRequest) -> bool {
    super::client::of(req).https
}

fn cookie<'a>(
    req: &HttpRequest,
    name: &'a str,
    value: String,
    path: &'a str,
    max_age: time::Duration,
) -> Cookie<'a> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(req))
        .max_age(max_age)
        .finish()
}

/// Renders the form with a fresh login token (also set as a cookie).
/// `demo`: offer the demo sign-in.
fn render_form(
    req: &HttpRequest,
    demo: bool,
    status: actix_web::http::StatusCode,
    next: &str,
    username: &str,
    message: &str,
) -> Result<HttpResponse, WebError> {
    let token = secret::random_hex();
    let notice = match req.query_string() {
        q if q.contains("signed_out=1") => "You are signed out.".to_string(),
        _ => String::new(),
    };
    let page = LoginPage {
        layout: Layout::plain("Sign in").with_active("login"),
        next: safe_next(next),
        token: token.clone(),
        username: username.to_string(),
        message: message.to_string(),
        notice,
        demo,
        demo_roles: Role::ALL
            .into_iter()
            .map(|r| (r.as_str(), sessions::demo_user(r)))
            .collect(),
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie(
            req,
            LOGIN_COOKIE,
            token,
            "/login",
            time::Duration::hours(1),
        ))
        .body(page.render()?))
}

fn field(body: &[u8], name: &str) -> String {
    guard::form_field(body, name).unwrap_or_default()
}

/// The login form's token matches its cookie.
fn login_token_ok(req: &HttpRequest, body: &[u8]) -> bool {
    let sent = field(body, "csrf");
    req.cookie(LOGIN_COOKIE)
        .is_some_and(|c| !sent.is_empty() && secret::same(c.value(), &sent))
}

fn signed_in(req: &HttpRequest, session: sessions::NewSession, next: &str) -> HttpResponse {
    let mut gone = cookie(
        req,
        LOGIN_COOKIE,
        String::new(),
        "/login",
        time::Duration::ZERO,
    );
    gone.make_removal();
    let hours = (session.expires_at - crate::clock::now())
        .num_seconds()
        .max(0);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, safe_next(next)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie(
            req,
            SESSION_COOKIE,
            session.token,
            "/",
            time::Duration::seconds(hours),
        ))
        .cookie(gone)
        .finish()
}

/// Audits a sign-in event; a failure to write is logged, not shown.
/// `group`: repeats of it count on one entry.
async fn audit(
    state: &AppState,
    actor: String,
    action: &'static str,
    outcome: &'static str,
    detail: String,
    group: Option<String>,
) {
    let entry = crate::audit::NewAudit {
        actor,
        action: action.to_string(),
        target: "session".to_string(),
        outcome: outcome.to_string(),
        detail,
        group,
    };
    super::audit_or_warn(state, entry).await;
}

/// Whether the login form offers the demo sign-in: `serve --demo`, and
/// the database has no real users yet.
async fn demo_open(state: &AppState) -> bool {
    if !state.demo_sign_in {
        return false;
    }
    let pool = state.pool.clone();
    let open = web::block(move || -> Result<bool, WebError> {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        Ok(!sessions::has_real_users(&mut conn)?)
    })
    .await;
    matches!(open, Ok(Ok(true)))
}

/// The name a sign-in attempt is recorded under: the user's, or one label
/// for every name that is no user (typed text never reaches the log, and
/// a flood of made-up names is one entry).
fn actor_name(typed: &str, user_exists: bool) -> String {
    if user_exists {
        typed.to_string()
    } else {
        NO_SUCH_USER.to_string()
    }
}

/// The actor of sign-in attempts for names that are no user.
pub const NO_SUCH_USER: &str = "(no such user)";

/// A refusal by the rate limit: 429 with `Retry-After`.
fn too_many(
    req: &HttpRequest,
    demo: bool,
    next: &str,
    username: &str,
    wait: std::time::Duration,
) -> Result<HttpResponse, HtmlError> {
    let mut res = render_form(
        req,
        demo,
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        next,
        username,
        &format!(
            "Too many failed sign-ins. Try again in {}.",
            throttle::wait_text(wait)
        ),
    )
    .map_err(HtmlError)?;
    if let Ok(v) = header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(res)
}

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    let next = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "/".to_string());
    if guard::identity_of(&req).is_some() {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, safe_next(&next)))
            .finish());
    }
    let demo = demo_open(&state).await;
    render_form(&req, demo, actix_web::http::StatusCode::OK, &next, "", "").map_err(HtmlError)
}

/// What became of a sign-in attempt.
enum Attempt {
    Limited {
        wait: std::time::Duration,
        user_exists: bool,
    },
    SignedIn(sessions::NewSession, Role),
    Failed {
        user_exists: bool,
    },
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    use actix_web::http::StatusCode;
    guard::same_origin(&req).map_err(HtmlError)?;
    let username = field(&body, "username").trim().to_ascii_lowercase();
    let password = field(&body, "password");
    let next = field(&body, "next");
    let demo = demo_open(&state).await;
    if !login_token_ok(&req, &body) {
        return render_form(
            &req,
            demo,
            StatusCode::FORBIDDEN,
            &next,
            &username,
            "The sign-in form expired. Please sign in again.",
        )
        .map_err(HtmlError);
    }
    if username.is_empty() || password.is_empty() || username.len() > 64 || password.len() > 1024 {
        return render_form(
            &req,
            demo,
            StatusCode::UNPROCESSABLE_ENTITY,
            &next,
            &username,
            "Enter your user name and password.",
        )
        .map_err(HtmlError);
    }
    let client = super::client::of(&req);
    let address = client.address();
    let pool = state.pool.clone();
    let hours = state.session_hours;
    let (name, addr) = (username.clone(), client.limit_key());
    let now = state.clock.now();
    // The attempt is counted before the password is checked, so any number
    // of simultaneous tries get no more than the limit between them.
    let attempt = web::block(move || -> Result<Attempt, WebError> {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        let exists = |conn: &mut crate::db::DbConnection| -> Result<bool, WebError> {
            Ok(crate::db::users::find(conn, &name)?.is_some())
        };
        match throttle::claim(&mut conn, &name, &addr, now)? {
            Verdict::Wait(wait) => Ok(Attempt::Limited {
                wait,
                user_exists: exists(&mut conn)?,
            }),
            Verdict::Go(claim) => {
                let outcome = sessions::sign_in(&mut conn, &name, &password, hours)?;
                throttle::settle(&mut conn, &claim, outcome.is_some(), now)?;
                Ok(match outcome {
                    Some((session, role)) => Attempt::SignedIn(session, role),
                    None => Attempt::Failed {
                        user_exists: exists(&mut conn)?,
                    },
                })
            }
        }
    })
    .await
    .map_err(|e| HtmlError(WebError::from(e)))?
    .map_err(HtmlError)?;
    match attempt {
        Attempt::Limited { wait, user_exists } => {
            let actor = actor_name(&username, user_exists);
            let group = crate::audit::group_key(&["sign-in.limited", &actor]);
            audit(
                &state,
                actor,
                "sign-in",
                crate::audit::REFUSED,
                format!("rate limited (last from {address})"),
                Some(group),
            )
            .await;
            too_many(&req, demo, &next, &username, wait)
        }
        Attempt::SignedIn(session, role) => {
            audit(
                &state,
                username.clone(),
                "sign-in",
                crate::audit::OK,
                format!("as {} from {address}", role.as_str()),
                None,
            )
            .await;
            Ok(signed_in(&req, session, &next))
        }
        Attempt::Failed { user_exists } => {
            let actor = actor_name(&username, user_exists);
            let group = crate::audit::group_key(&["sign-in.failed", &actor]);
            let why = if user_exists {
                "wrong password"
            } else {
                "no such user"
            };
            audit(
                &state,
                actor,
                "sign-in",
                crate::audit::FAILED,
                format!("{why} (last from {address})"),
                Some(group),
            )
            .await;
            render_form(
                &req,
                demo,
                StatusCode::UNAUTHORIZED,
                &next,
                &username,
                "The user name or password is wrong.",
            )
            .map_err(HtmlError)
        }
    }
}

/// The demo sign-in: only with `serve --demo` on a database without its
/// own users. Whether real users exist is decided on every demo sign-in;
/// once they do, the demo users and their sessions are removed.
pub async fn demo(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let closed = || {
        HtmlError(WebError::NotFound(
            "The demo sign-in is off: this service was not started with --demo, or the database has its own users."
                .to_string(),
        ))
    };
    if !state.demo_sign_in {
        return Err(closed());
    }
    guard::same_origin(&req).map_err(HtmlError)?;
    if !login_token_ok(&req, &body) {
        return render_form(
            &req,
            demo_open(&state).await,
            actix_web::http::StatusCode::FORBIDDEN,
            "/",
            "",
            "The sign-in form expired. Please sign in again.",
        )
        .map_err(HtmlError);
    }
    let role = Role::parse(&field(&body, "role")).ok_or_else(|| {
        HtmlError(WebError::BadRequest(
            "Choose viewer, analyst or admin.".to_string(),
        ))
    })?;
    let pool = state.pool.clone();
    let hours = state.session_hours;
    let session = web::block(move || -> Result<_, WebError> {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        Ok(sessions::demo_sign_in(&mut conn, role, hours)?)
    })
    .await
    .map_err(|e| HtmlError(WebError::from(e)))?
    .map_err(HtmlError)?;
    let Some(session) = session else {
        // Sessions of the removed demo users may be remembered here.
        state.identities.clear();
        return Err(closed());
    };
    audit(
        &state,
        sessions::demo_user(role),
        "sign-in",
        crate::audit::OK,
        "demo sign-in".to_string(),
        None,
    )
    .await;
    Ok(signed_in(&req, session, &field(&body, "next")))
}

pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HtmlError> {
    let identity = guard::form_sender(&req, &body, "You are not signed in.").map_err(HtmlError)?;
    if let crate::auth::Via::Session { token_hash, .. } = &identity.via {
        let pool = state.pool.clone();
        let hash = token_hash.clone();
        web::block(move || -> Result<(), WebError> {
            let mut conn = pool.get().map_err(crate::db::DbError::from)?;
            Ok(sessions::sign_out(&mut conn, &hash)?)
        })
        .await
        .map_err(|e| HtmlError(WebError::from(e)))?
        .map_err(HtmlError)?;
        state.identities.forget_session(token_hash);
        audit(
            &state,
            identity.name.clone(),
            "sign-out",
            crate::audit::OK,
            String::new(),
            None,
        )
        .await;
    }
    let mut gone = cookie(
        &req,
        SESSION_COOKIE,
        String::new(),
        "/",
        time::Duration::ZERO,
    );
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login?signed_out=1"))
        .cookie(gone)
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next("/month?month=2026-10"), "/month?month=2026-10");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/login",
            "/logout",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
