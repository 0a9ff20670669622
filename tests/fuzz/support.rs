//! What the fuzz targets share: a scratch directory for the input as a
//! file (the importers read files) and a migrated scratch SQLite database.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("scratch directory");
        // Kept for the life of the fuzzing process.
        dir.keep()
    })
}

/// Writes `data` to a scratch file with `extension` and calls `f` with it.
pub fn with_file(data: &[u8], extension: &str, f: impl FnOnce(&Path)) {
    let path = scratch().join(format!("input.{extension}"));
    if std::fs::write(&path, data).is_ok() {
        f(&path);
    }
}

/// Calls `f` with a connection to the scratch database.
pub fn with_db(f: impl FnOnce(&mut finops::db::DbConnection)) {
    static POOL: OnceLock<finops::db::DbPool> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let url = format!("sqlite://{}", scratch().join("fuzz.db").display());
        let pool = finops::db::connect_pool(&url, 1).expect("scratch database");
        let mut conn = pool.get().expect("connection");
        finops::db::run_migrations(&mut conn).expect("migrations");
        pool
    });
    if let Ok(mut conn) = pool.get() {
        f(&mut conn);
    }
}

/// A billing file of `format` made of `data`, imported into a scratch
/// SQLite database (the focus and cur targets).
pub fn import_billing(data: &[u8], format: finops::ingest::BillingFormat) {
    with_file(data, "csv", |path| {
        with_db(|conn| {
            let _ = finops::ingest::import_billing(
                conn,
                format,
                &finops::ingest::Input::new(path).named("fuzz.csv"),
                &mut |_| {},
            );
        });
    });
}
