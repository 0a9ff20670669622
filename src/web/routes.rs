//! Every route of the service: its method, pattern and handler. Each is
//! registered inside a resource wrapped with `guard::enforce`, so the
//! access check runs on the route the router chose, with the rule
//! `auth::policy::ROUTES` gives for it.

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder, Route};

use super::{account, admin, api, assets, export, guard, health, observe, pages, signin};

/// A route: method, pattern and what handles it.
pub struct Entry {
    pub method: Method,
    pub pattern: &'static str,
    route: Route,
}

fn on<F, Args>(method: Method, pattern: &'static str, handler: F) -> Entry
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Entry {
        route: web::method(method.clone()).to(handler),
        method,
        pattern,
    }
}

/// Every route, in the order they are matched.
pub fn entries() -> Vec<Entry> {
    use pages::recommendations as recs;
    vec![
        on(Method::GET, "/login", signin::form),
        on(Method::POST, "/login", signin::submit),
        on(Method::POST, "/login/demo", signin::demo),
        on(Method::POST, "/logout", signin::sign_out),
        on(Method::GET, "/admin", admin::page),
        on(Method::GET, "/account", account::page),
        on(Method::POST, "/account/password", account::change_password),
        on(Method::GET, "/", pages::overview::page),
        on(Method::GET, "/month", pages::month::page),
        on(Method::GET, "/costs", pages::explorer::page),
        on(Method::GET, "/sources", pages::sources::page),
        on(Method::POST, "/sources/upload", pages::sources::upload),
        on(Method::GET, "/forecast", pages::forecast::page),
        on(Method::GET, "/capacity", pages::capacity::page),
        on(Method::GET, "/scenarios", pages::scenarios::page),
        on(Method::GET, "/recommendations", recs::page),
        on(Method::GET, "/recommendations.csv", recs::csv),
        on(Method::GET, "/recommendations/detail", recs::detail),
        on(Method::GET, "/recommendations/held", recs::held),
        on(Method::GET, "/api/v1/recommendations", recs::json),
        on(Method::GET, "/anomalies", pages::anomalies::page),
        on(
            Method::POST,
            "/anomalies/feedback",
            pages::anomalies::feedback,
        ),
        on(Method::POST, "/anomalies/detect", pages::anomalies::detect),
        on(Method::GET, "/alerts", pages::alerts::page),
        on(Method::POST, "/alerts/rules", pages::alerts::add_rule),
        on(
            Method::POST,
            "/alerts/rules/remove",
            pages::alerts::remove_rule,
        ),
        on(Method::POST, "/alerts/run", pages::alerts::run),
        on(Method::GET, "/budgets", pages::budgets::page),
        on(Method::POST, "/budgets", pages::budgets::save),
        on(Method::POST, "/budgets/delete", pages::budgets::delete),
        on(Method::GET, "/calendar", pages::calendar::page),
        on(Method::POST, "/calendar", pages::calendar::save),
        on(Method::POST, "/calendar/delete", pages::calendar::delete),
        on(Method::GET, "/calendar.toml", pages::calendar::download),
        on(Method::GET, "/rules", pages::rules::page),
        on(Method::GET, "/unallocated", pages::unallocated::page),
        on(Method::POST, "/rules", pages::rules::save),
        on(Method::GET, "/export/monthly.csv", export::monthly),
        on(Method::GET, "/api/v1/costs", api::costs),
        on(Method::GET, "/api/v1/overview", api::overview_json),
        on(Method::GET, "/api/v1/month", api::month_json),
        on(Method::GET, "/api/v1/unallocated", api::unallocated_json),
        on(Method::GET, "/api/v1/forecast", api::forecast_json),
        on(Method::GET, "/healthz", health::healthz),
        on(Method::GET, "/readyz", health::readyz),
        on(Method::GET, "/metrics", observe::metrics),
        on(Method::GET, "/static/{name}", assets::static_file),
    ]
}

/// The answer for a path that matches no route (behind the guard, so only
/// the signed-in learn that there is nothing there).
pub async fn not_found(
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, super::errors::HtmlError> {
    Err(super::errors::HtmlError(super::errors::WebError::NotFound(
        format!("There is no page at {}.", req.path()),
    )))
}

/// Registers every route, one resource per pattern, each behind the guard.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut resources: Vec<(&'static str, Vec<Route>)> = Vec::new();
    for entry in entries() {
        match resources.iter_mut().find(|(p, _)| *p == entry.pattern) {
            Some((_, routes)) => routes.push(entry.route),
            None => resources.push((entry.pattern, vec![entry.route])),
        }
    }
    for (pattern, routes) in resources {
        let resource = routes
            .into_iter()
            .fold(web::resource(pattern), |r, route| r.route(route));
        cfg.service(resource.wrap(actix_web::middleware::from_fn(guard::enforce)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::ROUTES;

    #[test]
    fn every_route_has_its_rule_and_every_rule_its_route() {
        let all = entries();
        let registered: Vec<(&str, &str)> =
            all.iter().map(|e| (e.method.as_str(), e.pattern)).collect();
        let listed: Vec<(&str, &str)> = ROUTES.iter().map(|(m, p, _)| (*m, *p)).collect();
        for r in &registered {
            assert!(
                listed.contains(r),
                "{r:?} has no rule in auth::policy::ROUTES"
            );
        }
        for l in &listed {
            assert!(
                registered.contains(l),
                "{l:?} is in the policy but not routed"
            );
        }
    }
}
