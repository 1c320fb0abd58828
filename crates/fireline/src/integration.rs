//! `fireline integration …` and `fireline heartbeat …` (on the database, like tokens),
//! and `fireline alert send` (through the server's generic receiver).

use crate::config::Settings;
use crate::exit::Failure;
use crate::output::{listing, table, when, when_or_dash};
use clap::{Args, Subcommand};
use fireline_http::auth::{issue_integration, IssueError};
use fireline_http::wire::IntegrationView;
use fireline_store::StoreError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

/// `integration …`
#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Create an integration and print its key alone on stdout (shown only once)
    #[command(
        after_help = "Example:\n  fireline integration create --service checkout --name prometheus-prod"
    )]
    Create {
        /// The service its alerts concern unless they say otherwise
        #[arg(long)]
        service: String,
        /// Name [default: the service]
        #[arg(long)]
        name: Option<String>,
    },
    /// List integrations (never their keys)
    #[command(after_help = "Example:\n  fireline integration list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke an integration: its key stops working at once
    #[command(after_help = "Example:\n  fireline integration revoke int_3f9a0c1d2e4b5a69")]
    Revoke {
        /// Integration id (int_…)
        id: String,
    },
}

/// `heartbeat …`
#[derive(Debug, Subcommand)]
pub enum HeartbeatCommand {
    /// Create a monitor and print its key alone on stdout (shown only once)
    #[command(after_help = "Example:
  fireline heartbeat create --integration int_3f9a… --name nightly-backup --interval 24h --grace 1h
  # then, at the end of the job:  curl -fsS -X POST $FIRELINE_URL/api/v1/heartbeats/<key>")]
    Create {
        /// The integration (int_…) its alerts go through
        #[arg(long)]
        integration: String,
        /// Name
        #[arg(long)]
        name: String,
        /// Expected time between pings (e.g. 5m, 1h, 24h)
        #[arg(long)]
        interval: String,
        /// Extra time before a late ping counts as missed
        #[arg(long, default_value = "0m")]
        grace: String,
    },
    /// List monitors and their state
    #[command(after_help = "Example:\n  fireline heartbeat list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// `alert send`
#[derive(Debug, Args)]
pub struct AlertCommand {
    #[command(subcommand)]
    pub action: AlertAction,
}

/// Alert actions.
#[derive(Debug, Subcommand)]
pub enum AlertAction {
    /// Send one alert (firing, or resolved with --resolve)
    Send {
        /// Integration key (fli_…)
        #[arg(long, env = "FIRELINE_INTEGRATION_KEY", hide_env_values = true)]
        key: String,
        /// The alert's identity: send again with the same id to update or resolve it
        #[arg(long)]
        id: String,
        /// One line for people
        #[arg(long)]
        summary: String,
        /// Resolve instead of fire
        #[arg(long)]
        resolve: bool,
        /// A policy severity or a word it maps (critical, warning)
        #[arg(long)]
        severity: Option<String>,
        /// Service it concerns [default: the integration's]
        #[arg(long)]
        service: Option<String>,
        /// A label, KEY=VALUE (repeatable)
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
        /// Alerts with the same group join one incident
        #[arg(long)]
        group: Option<String>,
    },
}

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
                         Alertmanager: url: {}",
                        record.id,
                        record.name,
                        record.service,
                        keyed_url(
                            settings,
                            "integrations/{key}/alertmanager",
                            &key,
                            std::io::stdout().is_terminal()
                        )
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

/// The URL of API `path` (its `{key}` filled in) on the server the CLI talks to: an
/// integration's receiver, a heartbeat's ping. The key goes into it only when stdout,
/// where the key is printed, is a terminal: the key is on screen then anyway, while a
/// script that captures stdout should not find it again in its logs (stderr), so there
/// it stays `<key>`.
fn keyed_url(settings: &Settings, path: &str, key: &str, show_key: bool) -> String {
    let base = settings.url.value.trim_end_matches('/');
    let key = if show_key { key } else { "<key>" };
    format!("{base}/api/v1/{}", path.replace("{key}", key))
}

/// Runs an alert subcommand; `send` is the only one.
pub fn alert(settings: &Settings, command: &AlertCommand) -> Result<(), Failure> {
    send(settings, &command.action)
}

/// `alert send`: one alert to the generic receiver.
fn send(settings: &Settings, action: &AlertAction) -> Result<(), Failure> {
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
                    eprintln!(
                        "created {} ({}); the key is shown only once.\nping: POST {}",
                        record.id,
                        record.name,
                        keyed_url(
                            settings,
                            "heartbeats/{key}",
                            &key,
                            std::io::stdout().is_terminal()
                        )
                    );
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
