//! PagerDuty Events v2 bodies: parsing and checking never panic, whatever the bytes.
#![no_main]

use fireline_http::extract::parse_json;
use fireline_http::receivers::pagerduty::{normalise, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = parse_json::<Event>(data) {
        let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid");
        let _ = normalise(event, now, || "generated".to_owned());
    }
});
