#![no_main]
//! A utilisation export.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    finops_fuzz_support::with_file(data, "csv", |path| {
        let _ = finops::ingest::utilisation::read(&finops::ingest::Input::new(path).named("fuzz.csv"));
    });
});
