#![no_main]
//! Query-string parsing and the typed readers every page uses; the audit
//! log's filter; the access policy; and where sign-in may send a browser
//! (always a path on this site).
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
    let _ = finops::auth::policy::required("GET", &query, &query, false);
    let next = finops::web::signin::safe_next(&query);
    assert!(
        next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'),
        "{next:?}"
    );
});
