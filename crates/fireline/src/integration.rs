//! `fireline integration …` (on the database, like tokens) and `fireline alert send`.

use crate::cli::{AlertAction, HeartbeatCommand, IntegrationCommand};
use crate::config::Settings;
use crate::exit::Failure;
use crate::output::{listing, table, when, when_or_dash};
use fireline_http::auth::{issue_integration, IssueError};
use fireline_http::wire::IntegrationView;
use fireline_store::StoreError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Runs an integration subcommand.
pub async fn run(settings: &Settings, command: &IntegrationCommand) -> Result<(), Failure> {
    let store = crate::config::open_store(settings).await?;
    let result = match command {
        IntegrationCommand::Create { service, name } => {
            match issue_integration(
                store.as_ref(),
                name.as_deref(),
                service,
                jiff::Timestamp::now(),
            )
            .await
            {
                Ok((key, record)) => {
                    eprintln!(
                        "created {} ({}, service {}); the key is shown only once.\n\
                         Alertmanager: url: <fireline>/api/v1/integrations/<key>/alertmanager",
                        record.id, record.name, record.service
                    );
                    outln!("{key}");
                    Ok(())
                }
                Err(IssueError::Invalid(d)) => Err(Failure::general(format!("--{d}"))),
                Err(IssueError::Store(s)) => Err(Failure::general(s.to_string())),
            }
        }
        IntegrationCommand::List { json } => match store.list_integrations().await {
            Ok(list) => listing(
                &list,
                *json,
                |i| IntegrationView::from(i),
                "no integrations; create one with `fireline integration create --service S`",
                &["ID", "NAME", "SERVICE", "CREATED", "REVOKED"],
                |i| {
                    vec![
                        i.id.clone(),
                        i.name.clone(),
                        i.service.clone(),
                        when(&i.created_at),
                        when_or_dash(i.revoked_at.as_ref()),
                    ]
                },
            ),
            Err(e) => Err(Failure::general(e.to_string())),
        },
        IntegrationCommand::Revoke { id } => {
            match store.revoke_integration(id, jiff::Timestamp::now()).await {
                Ok(record) => {
                    outln!("revoked {} ({})", record.id, record.name);
                    Ok(())
                }
                Err(StoreError::NotFound) => Err(Failure::general(format!(
                    "no integration {id}; see `fireline integration list`"
                ))),
                Err(e) => Err(Failure::general(e.to_string())),
            }
        }
    };
    store.close().await;
    result
}

/// `alert send`: one alert to the generic receiver.
pub fn send(settings: &Settings, action: &AlertAction) -> Result<(), Failure> {
    let AlertAction::Send {
        key,
        id,
        summary,
        resolve,
        severity,
        service,
        labels,
        group,
    } = action;
    let mut label_map = BTreeMap::new();
    for pair in labels {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| Failure::general(format!("--label {pair}: expected KEY=VALUE")))?;
        label_map.insert(k.trim().to_owned(), v.to_owned());
    }
    let body = json!({
        "key": id,
        "status": if *resolve { "resolved" } else { "firing" },
        "summary": summary,
        "severity": severity,
        "service": service,
        "labels": label_map,
        "group": group,
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let base = settings.url.value.trim_end_matches('/');
    let url = format!("{base}/api/v1/integrations/{key}/alerts");
    let mut response = agent
        .post(&url)
        .send_json(&body)
        .map_err(|e| Failure::unreachable(format!("cannot reach fireline at {base}: {e}")))?;
    let status = response.status().as_u16();
    let answer: Value = response
        .body_mut()
        .read_json()
        .map_err(|e| Failure::general(format!("the server answered {status} without JSON: {e}")))?;
    if status >= 400 {
        return Err(Failure::from_api(status, &answer));
    }
    outln!(
        "accepted: {} {id}",
        if *resolve { "resolved" } else { "firing" }
    );
    Ok(())
}

fn seconds(flag: &str, raw: &str) -> Result<i64, Failure> {
    fireline_core::policy::PolicyDuration::wall_clock_secs(raw)
        .map_err(|e| Failure::general(format!("--{flag}: {e}")))
}

/// Runs a heartbeat subcommand (on the database, like tokens).
pub async fn heartbeat(settings: &Settings, command: &HeartbeatCommand) -> Result<(), Failure> {
    let store = crate::config::open_store(settings).await?;
    let result = match command {
        HeartbeatCommand::Create {
            integration,
            name,
            interval,
            grace,
        } => {
            let (interval, grace) = (seconds("interval", interval)?, seconds("grace", grace)?);
            match fireline_http::auth::issue_heartbeat(
                store.as_ref(),
                integration,
                name,
                interval,
                grace,
                jiff::Timestamp::now(),
            )
            .await
            {
                Ok((key, record)) => {
                    eprintln!("created {} ({}); ping POST <fireline>/api/v1/heartbeats/<key>; the key is shown only once", record.id, record.name);
                    outln!("{key}");
                    Ok(())
                }
                Err(fireline_http::auth::HeartbeatError::Invalid { field, message }) => {
                    Err(Failure::general(format!("--{field}: {message}")))
                }
                Err(e) => Err(Failure::general(e.to_string())),
            }
        }
        HeartbeatCommand::List { json } => match store.list_heartbeats().await {
            Ok(list) if *json => {
                let views: Vec<fireline_http::wire::HeartbeatView> = list
                    .iter()
                    .map(fireline_http::wire::HeartbeatView::from)
                    .collect();
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&views)
                        .map_err(|e| Failure::general(e.to_string()))?
                );
                Ok(())
            }
            Ok(list) => {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|h| {
                        vec![
                            h.id.clone(),
                            h.name.clone(),
                            h.state.clone(),
                            fireline_core::policy::duration::format_fixed(
                                jiff::SignedDuration::from_secs(h.interval_s),
                            ),
                            h.last_ping_at
                                .as_ref()
                                .map(when)
                                .unwrap_or_else(|| "-".to_owned()),
                        ]
                    })
                    .collect();
                out!(
                    "{}",
                    table(&["ID", "NAME", "STATE", "INTERVAL", "LAST PING"], &rows)
                );
                Ok(())
            }
            Err(e) => Err(Failure::general(e.to_string())),
        },
    };
    store.close().await;
    result
}
