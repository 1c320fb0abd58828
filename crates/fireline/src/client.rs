//! A small client for fireline's JSON API, used by the CLI's incident and on-call commands.

use crate::exit::Failure;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Talks to one server with one token.
pub struct ApiClient {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl ApiClient {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Error statuses carry the API's JSON error, which we want to read.
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        ApiClient {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path?query`.
    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        let mut req = self
            .agent
            .get(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token));
        for (k, v) in query {
            req = req.query(*k, v);
        }
        self.finish(path, req.call())
    }

    /// `POST path` with a JSON body.
    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Failure> {
        let result = self
            .agent
            .post(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(body);
        self.finish(path, result)
    }

    /// `PUT path` with a JSON body.
    pub fn put<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Failure> {
        let result = self
            .agent
            .put(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(body);
        self.finish(path, result)
    }

    /// `DELETE path`; a `204 No Content` is success.
    pub fn delete(&self, path: &str) -> Result<(), Failure> {
        let mut response = self
            .agent
            .delete(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .map_err(|e| {
                Failure::unreachable(format!("cannot reach fireline at {}: {e}", self.base))
            })?;
        let status = response.status().as_u16();
        if status >= 400 {
            let body: Value = response.body_mut().read_json().unwrap_or(Value::Null);
            return Err(Failure::from_api(status, &body));
        }
        Ok(())
    }

    /// `PATCH path` with a JSON body.
    pub fn patch<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, Failure> {
        let result = self
            .agent
            .patch(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(body);
        self.finish(path, result)
    }

    /// `GET path?query` of a document that is not JSON (an export); errors are still the
    /// API's JSON errors.
    pub fn get_text(&self, path: &str, query: &[(&str, String)]) -> Result<String, Failure> {
        let mut req = self
            .agent
            .get(&self.url(path))
            .header("Authorization", &format!("Bearer {}", self.token));
        for (k, v) in query {
            req = req.query(*k, v);
        }
        let mut response = req.call().map_err(|e| {
            Failure::unreachable(format!("cannot reach fireline at {}: {e}", self.base))
        })?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(|e| {
            Failure::general(format!("{path}: cannot read the server's answer: {e}"))
        })?;
        if status >= 400 {
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            return Err(Failure::from_api(status, &body));
        }
        Ok(text)
    }

    fn finish<T: DeserializeOwned>(
        &self,
        path: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, Failure> {
        let mut response = result.map_err(|e| {
            Failure::unreachable(format!("cannot reach fireline at {}: {e}", self.base))
        })?;
        let status = response.status().as_u16();
        let body: Value = response.body_mut().read_json().map_err(|e| {
            Failure::general(format!(
                "{path}: the server answered {status} without a JSON body: {e}"
            ))
        })?;
        if status >= 400 {
            return Err(Failure::from_api(status, &body));
        }
        serde_json::from_value(body)
            .map_err(|e| Failure::general(format!("{path}: unexpected response shape: {e}")))
    }
}
