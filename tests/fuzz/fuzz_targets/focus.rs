#![no_main]
//! A Focus billing file, imported into a scratch SQLite database: any
//! bytes are imported or refused with an error, never a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    finops_fuzz_support::with_file(data, "csv", |path| {
        finops_fuzz_support::with_db(|conn| {
            let _ = finops::ingest::import_billing(
                conn,
                finops::ingest::BillingFormat::Focus,
                &finops::ingest::Input::new(path).named("fuzz.csv"),
                &mut |_| {},
            );
        });
    });
});
