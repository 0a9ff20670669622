#![no_main]
//! Query-string parsing and the typed readers every page uses; the audit
//! log's filter; the access policy (a CSV however `format` is spelled is
//! an export); the client address behind forwarding headers (always an IP
//! or "unknown", never header text); and where sign-in may send a browser
//! (always a path on this site).
use finops::auth::policy::{self, Access, MetricsAccess};
use finops::auth::Role;
use finops::web::params::OutputFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let p = finops::web::params::Params::parse(&query);
    let _ = p.allow_only(&["from", "to", "month", "platform", "region", "service"]);
    let _ = p.platforms();
    let _ = p.dimension_values("region");
    let _ = p.month("month");
    let _ = p.one("from");
    let _ = finops::web::admin::filter_of(&p);
    let rule = policy::rule("GET", Some("/api/v1/costs"));
    if let Ok(format) = OutputFormat::of(&query) {
        let access = policy::required(
            rule,
            format == OutputFormat::Csv,
            MetricsAccess::Loopback,
            false,
        );
        let asks_csv = p.one("format").ok().flatten().is_some_and(|v| v.eq_ignore_ascii_case("csv"));
        assert_eq!(asks_csv, access == Access::AtLeast(Role::Analyst), "{query:?}");
    }
    let _ = policy::rule("POST", Some(&query));
    let next = finops::web::signin::safe_next(&query);
    assert!(
        next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'),
        "{next:?}"
    );
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&query) {
        let mut headers = actix_web::http::header::HeaderMap::new();
        headers.insert(
            actix_web::http::header::HeaderName::from_static("x-forwarded-for"),
            value.clone(),
        );
        headers.insert(
            actix_web::http::header::HeaderName::from_static("forwarded"),
            value,
        );
        let trusted = finops::web::client::TrustedProxies::parse(&["127.0.0.0/8".to_string()])
            .expect("a block");
        let client = finops::web::client::resolve(
            Some("127.0.0.1".parse().expect("an address")),
            &headers,
            false,
            &trusted,
        );
        let address = client.address();
        assert!(
            address == "unknown" || address.parse::<std::net::IpAddr>().is_ok(),
            "{address:?}"
        );
    }
});
