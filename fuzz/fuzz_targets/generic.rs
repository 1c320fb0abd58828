//! Generic alert bodies: parsing and checking never panic, whatever the bytes.
#![no_main]

use fireline_http::extract::parse_json;
use fireline_http::receivers::generic::{normalise, GenericAlert};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(alert) = parse_json::<GenericAlert>(data) {
        let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid");
        let _ = normalise(alert, now);
    }
});
