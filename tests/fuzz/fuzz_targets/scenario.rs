#![no_main]
//! The forecast-scenario TOML parser.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = finops::forecast::scenario::parse_scenario("fuzz.toml", &text);
});
