#![no_main]
//! The AWS Price List readers (EC2 offer JSON and CSV, Savings Plans JSON).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut list = finops::pricing::aws_price_list::PriceList::default();
    let _ = list.read("fuzz", data, &mut |_| {});
});
