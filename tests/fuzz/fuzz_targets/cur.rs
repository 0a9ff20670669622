#![no_main]
//! A Cur billing file, imported into a scratch SQLite database: any
//! bytes are imported or refused with an error, never a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    finops_fuzz_support::import_billing(data, finops::ingest::BillingFormat::Cur);
});
