//! Logging with `tracing`, to stderr, filtered by `FINOPS_LOG` / `RUST_LOG`
//! syntax (`info`, `finops=debug,actix_web=warn`, …).

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
