//! Who may call what: one table from method and path to the access a
//! request needs. Everything not listed needs sign-in; unknown writes need
//! an admin (deny by default).

use super::Role;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// No sign-in: the login form, static files, health and (when so
    /// configured) metrics.
    Public,
    /// A signed-in user or token with at least this role.
    AtLeast(Role),
}

/// Whether a query string asks for CSV (`format=csv`): the API's data as a
/// file is an export.
pub fn asks_for_csv(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes())
        .any(|(k, v)| k == "format" && v.eq_ignore_ascii_case("csv"))
}

/// The access `method path?query` needs. `metrics_public` is the
/// `metrics_public` setting.
pub fn required(method: &str, path: &str, query: &str, metrics_public: bool) -> Access {
    let read = method == "GET" || method == "HEAD";
    match path {
        "/login" | "/login/demo" => return Access::Public,
        "/healthz" | "/readyz" | "/favicon.ico" if read => return Access::Public,
        "/metrics" if read && metrics_public => return Access::Public,
        "/metrics" if read => return Access::AtLeast(Role::Viewer),
        "/logout" | "/account" | "/account/password" => return Access::AtLeast(Role::Viewer),
        _ => {}
    }
    if read && path.starts_with("/static/") {
        return Access::Public;
    }
    if path == "/admin" || path.starts_with("/admin/") {
        return Access::AtLeast(Role::Admin);
    }
    if read {
        // Exports leave the service for finance: analysts and admins.
        let export = path.starts_with("/export/")
            || path.ends_with(".csv")
            || (path.starts_with("/api/") && asks_for_csv(query));
        return Access::AtLeast(if export { Role::Analyst } else { Role::Viewer });
    }
    match path {
        // Imports and calendar edits.
        "/sources/upload" | "/calendar" | "/calendar/delete" => Access::AtLeast(Role::Analyst),
        // Allocation rules, and any other change.
        _ => Access::AtLeast(Role::Admin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Access::*;

    #[test]
    fn each_route_needs_what_its_role_may_do() {
        let cases = [
            ("GET", "/login", Public),
            ("POST", "/login", Public),
            ("GET", "/static/finops.css", Public),
            ("GET", "/healthz", Public),
            ("GET", "/readyz", Public),
            ("GET", "/metrics", Public),
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
            ("POST", "/rules", AtLeast(Role::Admin)),
            ("GET", "/admin", AtLeast(Role::Admin)),
            ("GET", "/admin/audit", AtLeast(Role::Admin)),
            ("POST", "/logout", AtLeast(Role::Viewer)),
            ("GET", "/account", AtLeast(Role::Viewer)),
            ("POST", "/account/password", AtLeast(Role::Viewer)),
            ("DELETE", "/", AtLeast(Role::Admin)),
            ("GET", "/static/../x", Public),
        ];
        for (method, path, want) in cases {
            assert_eq!(required(method, path, "", true), want, "{method} {path}");
        }
        assert_eq!(
            required("GET", "/metrics", "", false),
            AtLeast(Role::Viewer)
        );
        assert_eq!(
            required("GET", "/api/v1/costs", "from=2026-10-01&format=CSV", true),
            AtLeast(Role::Analyst)
        );
        assert_eq!(
            required("GET", "/api/v1/costs", "format=json", true),
            AtLeast(Role::Viewer)
        );
    }
}
