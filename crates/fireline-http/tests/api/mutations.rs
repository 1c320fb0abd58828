//! A deterministic cousin of the cargo-fuzz targets (`fuzz/`), run on every change: real
//! payloads, mutated thousands of ways, through every parser of untrusted input. Nothing
//! may panic, and the live receivers answer 202 or a 4xx — never a 5xx.

use crate::support::App;
use axum::body::Body;
use axum::http::{header, Method, Request};
use fireline_http::extract::parse_json;
use fireline_http::receivers::{alertmanager, generic, pagerduty};
use fireline_store::backend_tests;
use fireline_store::testing::TestDatabase;

backend_tests!(receivers_answer_4xx_not_5xx_to_mangled_payloads);

/// xorshift64*: a fixed seed makes every run test the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-1",
    "1e309",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"0001-01-01T00:00:00Z\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"\\ud800\"",
    "\"firing\"",
    "\"resolved\"",
    "\"version\"",
    "\"4\"",
    "\"alerts\"",
    "\"labels\"",
    "{}",
    "[]",
    "\"\"",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 if !out.is_empty() => {
                let end = (at + rng.below(32)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(64)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            4 => out.truncate(at),
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

const AM: [&str; 4] = [
    include_str!("../fixtures/alertmanager-webhook-firing.json"),
    include_str!("../fixtures/alertmanager-webhook-grouped.json"),
    include_str!("../fixtures/alertmanager-webhook-resolved.json"),
    include_str!("../fixtures/alertmanager-webhook-mixed.json"),
];
const PD: &str = r#"{"routing_key":"fli_x","event_action":"trigger","dedup_key":"d","payload":{"summary":"s","source":"h","severity":"critical","timestamp":"2027-01-15T08:00:00Z","component":"c","group":"g","class":"k","custom_details":{"a":[1,2]}},"links":[{"href":"http://x"}]}"#;
const GENERIC: &str = r#"{"key":"k","status":"firing","summary":"s","severity":"warning","service":"api","labels":{"a":"b"},"annotations":{"description":"d"},"group":"g","link":"l","started_at":"2027-01-15T08:00:00Z"}"#;

fn now() -> jiff::Timestamp {
    crate::support::start()
}

#[test]
fn parsers_never_panic_on_mutated_inputs() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for round in 0..6_000 {
        let base = AM[round % AM.len()].as_bytes();
        let input = mutate(&mut rng, base);
        if let Ok(payload) = parse_json::<alertmanager::Payload>(&input) {
            parsed += 1;
            let _ = alertmanager::normalise(payload, now());
        }
        let input = mutate(&mut rng, PD.as_bytes());
        if let Ok(event) = parse_json::<pagerduty::Event>(&input) {
            let _ = pagerduty::normalise(event, now(), || "k".to_owned());
        }
        let input = mutate(&mut rng, GENERIC.as_bytes());
        if let Ok(alert) = parse_json::<generic::GenericAlert>(&input) {
            let _ = generic::normalise(alert, now());
        }
    }
    // Guards against a vacuous pass: some mutants still parse and reach the checks.
    assert!(parsed > 100, "only {parsed} mutants parsed");
}

#[test]
fn policy_checker_never_panics_on_mutated_policies() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let base = fireline_core::policy::BUILTIN.as_bytes();
    let mut clean = 0;
    for _ in 0..1_500 {
        let input = mutate(&mut rng, base);
        if let Ok(text) = std::str::from_utf8(&input) {
            if fireline_core::policy::check(text).is_empty() {
                clean += 1;
            }
        }
    }
    assert!(clean > 10, "some mutants stay valid policies: {clean}");
}

async fn receivers_answer_4xx_not_5xx_to_mangled_payloads(db: &TestDatabase) {
    let app = App::new(db).await;
    let key = fireline_http::auth::issue_integration(app.store.as_ref(), None, "api", now())
        .await
        .expect("key")
        .0;
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    for round in 0..300 {
        let (path, base) = match round % 3 {
            0 => (
                format!("/api/v1/integrations/{key}/alertmanager"),
                AM[round % AM.len()].to_owned(),
            ),
            1 => ("/v2/enqueue".to_owned(), PD.replace("fli_x", &key)),
            _ => (
                format!("/api/v1/integrations/{key}/alerts"),
                GENERIC.to_owned(),
            ),
        };
        let body = mutate(&mut rng, base.as_bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri(&path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone()))
            .expect("request");
        let reply = app.send(request).await;
        assert!(
            reply.status.is_success() || reply.status.is_client_error(),
            "{path} answered {} to {:?}: {}",
            reply.status,
            String::from_utf8_lossy(&body),
            reply.body
        );
    }
}
