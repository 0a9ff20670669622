#![no_main]
//! The instance catalog CSV parser.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = finops::pricing::parse("fuzz.csv", &text);
});
