//! Alertmanager webhook bodies: parsing and checking never panic, whatever the bytes.
#![no_main]

use fireline_http::extract::parse_json;
use fireline_http::receivers::alertmanager::{normalise, Payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = parse_json::<Payload>(data) {
        let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid");
        let _ = normalise(payload, now);
    }
});
