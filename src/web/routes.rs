//! Every route of the service: its method, pattern and handler. Each is
//! registered inside a resource wrapped with `guard::enforce`, so the
//! access check runs on the route the router chose, with the rule
//! `auth::policy::ROUTES` gives for it.

use actix_web::{web, FromRequest, Handler, Responder, Route};

use super::{account, admin, api, assets, export, guard, health, observe, pages, signin};

/// A route: method, pattern and what handles it.
pub struct Entry {
    pub method: &'static str,
    pub pattern: &'static str,
    route: Route,
}

fn get<F, Args>(pattern: &'static str, handler: F) -> Entry
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Entry {
        method: "GET",
        pattern,
        route: web::get().to(handler),
    }
}

fn post<F, Args>(pattern: &'static str, handler: F) -> Entry
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Entry {
        method: "POST",
        pattern,
        route: web::post().to(handler),
    }
}

/// Every route, in the order they are matched.
pub fn entries() -> Vec<Entry> {
    vec![
        get("/login", signin::form),
        post("/login", signin::submit),
        post("/login/demo", signin::demo),
        post("/logout", signin::sign_out),
        get("/admin", admin::page),
        get("/account", account::page),
        post("/account/password", account::change_password),
        get("/", pages::overview::page),
        get("/month", pages::month::page),
        get("/costs", pages::explorer::page),
        get("/sources", pages::sources::page),
        post("/sources/upload", pages::sources::upload),
        get("/forecast", pages::forecast::page),
        get("/capacity", pages::capacity::page),
        get("/scenarios", pages::scenarios::page),
        get("/recommendations", pages::recommendations::page),
        get("/recommendations.csv", pages::recommendations::csv),
        get("/recommendations/detail", pages::recommendations::detail),
        get("/api/v1/recommendations", pages::recommendations::json),
        get("/calendar", pages::calendar::page),
        post("/calendar", pages::calendar::save),
        post("/calendar/delete", pages::calendar::delete),
        get("/calendar.toml", pages::calendar::download),
        get("/rules", pages::rules::page),
        post("/rules", pages::rules::save),
        get("/export/monthly.csv", export::monthly),
        get("/api/v1/costs", api::costs),
        get("/api/v1/overview", api::overview_json),
        get("/api/v1/month", api::month_json),
        get("/api/v1/forecast", api::forecast_json),
        get("/healthz", health::healthz),
        get("/readyz", health::readyz),
        get("/metrics", observe::metrics),
        get("/static/{name}", assets::static_file),
    ]
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
        let registered: Vec<(&str, &str)> =
            entries().iter().map(|e| (e.method, e.pattern)).collect();
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
