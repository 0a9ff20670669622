//! Who may call what: one table from each route — the method and the
//! pattern the router matched, never the path as the client spelled it —
//! to what it asks of the caller. A request that matches no route needs
//! sign-in (then gets a 404); a method a route does not list needs an admin
//! when it writes (deny by default).

use super::Role;

/// What a request needs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// No sign-in: the login form, static files, health and (as
    /// configured) metrics.
    Public,
    /// A signed-in user or token with at least this role.
    AtLeast(Role),
}

/// What a route asks of the caller, before the request's own details.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    Public,
    Role(Role),
    /// Data viewers read; asked for as a CSV file it is an export, for
    /// analysts (`format=csv`, parsed once by the guard).
    ExportAsCsv,
    /// `/metrics`, as the `metrics_access` setting says.
    Metrics,
}

/// Who may read `/metrics` without signing in (`metrics_access`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who can reach the service.
    Public,
    /// Programs on this machine (a loopback client, not forwarded by a
    /// proxy); others sign in or send an API token. The default.
    Loopback,
    /// Signed-in users and API tokens only.
    SignedIn,
}

impl MetricsAccess {
    pub fn parse(text: &str) -> Option<MetricsAccess> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" => Some(MetricsAccess::Public),
            "loopback" | "local" => Some(MetricsAccess::Loopback),
            "signed-in" | "signed_in" | "token" => Some(MetricsAccess::SignedIn),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MetricsAccess::Public => "public",
            MetricsAccess::Loopback => "loopback",
            MetricsAccess::SignedIn => "signed-in",
        }
    }
}

use Role::{Admin, Analyst, Viewer};
use Rule::*;

/// Every route the service has: method, pattern, rule. `web::routes`
/// registers the handlers; `tests::every_route_is_listed` keeps the two in
/// step.
pub const ROUTES: &[(&str, &str, Rule)] = &[
    ("GET", "/login", Public),
    ("POST", "/login", Public),
    ("POST", "/login/demo", Public),
    ("POST", "/logout", Role(Viewer)),
    ("GET", "/account", Role(Viewer)),
    ("POST", "/account/password", Role(Viewer)),
    ("GET", "/admin", Role(Admin)),
    ("GET", "/", Role(Viewer)),
    ("GET", "/month", Role(Viewer)),
    ("GET", "/costs", Role(Viewer)),
    ("GET", "/sources", Role(Viewer)),
    ("POST", "/sources/upload", Role(Analyst)),
    ("GET", "/forecast", Role(Viewer)),
    ("GET", "/capacity", Role(Viewer)),
    ("GET", "/scenarios", Role(Viewer)),
    ("GET", "/recommendations", Role(Viewer)),
    ("GET", "/recommendations.csv", Role(Analyst)),
    ("GET", "/recommendations/detail", Role(Viewer)),
    ("GET", "/recommendations/held", Role(Viewer)),
    ("GET", "/api/v1/recommendations", Role(Viewer)),
    ("GET", "/anomalies", Role(Viewer)),
    ("POST", "/anomalies/feedback", Role(Analyst)),
    ("POST", "/anomalies/detect", Role(Analyst)),
    ("GET", "/alerts", Role(Viewer)),
    ("POST", "/alerts/rules", Role(Analyst)),
    ("POST", "/alerts/rules/remove", Role(Analyst)),
    ("POST", "/alerts/run", Role(Analyst)),
    ("GET", "/budgets", Role(Viewer)),
    ("POST", "/budgets", Role(Analyst)),
    ("POST", "/budgets/delete", Role(Analyst)),
    ("GET", "/calendar", Role(Viewer)),
    ("POST", "/calendar", Role(Analyst)),
    ("POST", "/calendar/delete", Role(Analyst)),
    ("GET", "/calendar.toml", Role(Viewer)),
    ("GET", "/rules", Role(Viewer)),
    ("GET", "/unallocated", Role(Viewer)),
    ("POST", "/rules", Role(Admin)),
    ("GET", "/export/monthly.csv", Role(Analyst)),
    ("GET", "/api/v1/costs", ExportAsCsv),
    ("GET", "/api/v1/overview", Role(Viewer)),
    ("GET", "/api/v1/month", Role(Viewer)),
    ("GET", "/api/v1/unallocated", Role(Viewer)),
    ("GET", "/api/v1/forecast", Role(Viewer)),
    ("GET", "/healthz", Public),
    ("GET", "/readyz", Public),
    ("GET", "/metrics", Metrics),
    ("GET", "/static/{name}", Public),
];

/// The rule of `method` on the route whose pattern matched (`None`: no
/// route matched).
pub fn rule(method: &str, pattern: Option<&str>) -> Rule {
    let method = if method == "HEAD" { "GET" } else { method };
    let Some(pattern) = pattern else {
        // Sign in first; then the answer is a 404.
        return Role(Viewer);
    };
    if let Some((_, _, rule)) = ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == pattern)
    {
        return *rule;
    }
    if method == "GET" {
        // A read the route does not offer (405): sign-in first.
        Role(Viewer)
    } else {
        Role(Admin)
    }
}

/// What a request on a route with `rule` needs. `csv`: it asked for its
/// data as a CSV file; `local_client`: it came from this machine and not
/// through a proxy.
pub fn required(rule: Rule, csv: bool, metrics: MetricsAccess, local_client: bool) -> Access {
    match rule {
        Public => Access::Public,
        Role(role) => Access::AtLeast(role),
        ExportAsCsv if csv => Access::AtLeast(Analyst),
        ExportAsCsv => Access::AtLeast(Viewer),
        Metrics => match metrics {
            MetricsAccess::Public => Access::Public,
            MetricsAccess::Loopback if local_client => Access::Public,
            MetricsAccess::Loopback | MetricsAccess::SignedIn => Access::AtLeast(Viewer),
        },
    }
}

/// Whether answers of this route are for programs (JSON errors, 401
/// rather than the login form).
pub fn for_programs(pattern: Option<&str>) -> bool {
    pattern.is_some_and(|p| p.starts_with("/api/") || p == "/metrics")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Access::AtLeast;
    const OPEN: Access = Access::Public;

    fn need(method: &str, pattern: &str) -> Access {
        required(
            rule(method, Some(pattern)),
            false,
            MetricsAccess::Loopback,
            false,
        )
    }

    #[test]
    fn each_route_needs_what_its_role_may_do() {
        let cases = [
            ("GET", "/login", OPEN),
            ("POST", "/login", OPEN),
            ("GET", "/static/{name}", OPEN),
            ("HEAD", "/static/{name}", OPEN),
            ("GET", "/healthz", OPEN),
            ("GET", "/readyz", OPEN),
            ("POST", "/healthz", AtLeast(Role::Admin)),
            ("GET", "/", AtLeast(Role::Viewer)),
            ("GET", "/month", AtLeast(Role::Viewer)),
            ("GET", "/api/v1/costs", AtLeast(Role::Viewer)),
            ("GET", "/calendar.toml", AtLeast(Role::Viewer)),
            ("GET", "/export/monthly.csv", AtLeast(Role::Analyst)),
            ("GET", "/recommendations.csv", AtLeast(Role::Analyst)),
            ("POST", "/sources/upload", AtLeast(Role::Analyst)),
            ("POST", "/calendar", AtLeast(Role::Analyst)),
            ("POST", "/calendar/delete", AtLeast(Role::Analyst)),
            ("POST", "/budgets", AtLeast(Role::Analyst)),
            ("GET", "/budgets", AtLeast(Role::Viewer)),
            ("POST", "/rules", AtLeast(Role::Admin)),
            ("GET", "/admin", AtLeast(Role::Admin)),
            ("POST", "/admin", AtLeast(Role::Admin)),
            ("POST", "/logout", AtLeast(Role::Viewer)),
            ("GET", "/account", AtLeast(Role::Viewer)),
            ("POST", "/account/password", AtLeast(Role::Viewer)),
            ("DELETE", "/", AtLeast(Role::Admin)),
            ("GET", "/metrics", AtLeast(Role::Viewer)),
        ];
        for (method, pattern, want) in cases {
            assert_eq!(need(method, pattern), want, "{method} {pattern}");
        }
        // No route matched: sign in first, whatever the method.
        assert_eq!(rule("GET", None), Rule::Role(Role::Viewer));
        assert_eq!(rule("POST", None), Rule::Role(Role::Viewer));
    }

    #[test]
    fn csv_from_the_api_is_an_export() {
        let r = rule("GET", Some("/api/v1/costs"));
        let m = MetricsAccess::Loopback;
        assert_eq!(required(r, true, m, true), AtLeast(Role::Analyst));
        assert_eq!(required(r, false, m, true), AtLeast(Role::Viewer));
    }

    #[test]
    fn metrics_follow_the_setting() {
        let r = rule("GET", Some("/metrics"));
        use MetricsAccess as M;
        assert_eq!(required(r, false, M::Public, false), OPEN);
        assert_eq!(required(r, false, M::Loopback, true), OPEN);
        assert_eq!(
            required(r, false, M::Loopback, false),
            AtLeast(Role::Viewer)
        );
        assert_eq!(required(r, false, M::SignedIn, true), AtLeast(Role::Viewer));
        for m in [M::Public, M::Loopback, M::SignedIn] {
            assert_eq!(MetricsAccess::parse(m.as_str()), Some(m));
        }
    }

    #[test]
    fn every_route_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (m, p, _) in ROUTES {
            assert!(seen.insert((m, p)), "{m} {p} listed twice");
            assert!(p.starts_with('/'), "{p}");
        }
    }
}
