#![no_main]
//! The marketing-calendar TOML parser: any text is a calendar or an error.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = finops::calendar::parse_calendar("fuzz.toml", &text);
});
