//! `fireline config show`: the effective configuration, as [`Settings`] resolved it.

use super::{mask_url, Settings, Source};
use crate::cli::LogFormat;
use crate::exit::Failure;
use clap::Subcommand;

/// `config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets masked, with where each value came from
    #[command(
        after_help = "Examples:\n  fireline config show\n  FIRELINE_DB=postgres://app:pw@db/fl fireline config show --json"
    )]
    Show {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// Runs a config subcommand.
pub fn run(settings: &Settings, command: &ConfigCommand) -> Result<(), Failure> {
    match command {
        ConfigCommand::Show { json } => show(settings, *json),
    }
}

/// Prints the effective configuration, secrets masked, each value with where it came from.
fn show(settings: &Settings, json: bool) -> Result<(), Failure> {
    let src = |s: Source| match s {
        Source::Default => "default",
        Source::File => "file",
        Source::Env => "env",
        Source::Flag => "flag",
    };
    let token = settings.token.as_ref().map(|t| ("****", src(t.source)));
    if json {
        let mut value = serde_json::json!({
            "config_file": settings.config_file.as_ref().map(|p| p.display().to_string()),
            "db": { "value": mask_url(&settings.db.value), "source": settings.db.source },
            "data_dir": { "value": settings.data_dir.value.display().to_string(), "source": settings.data_dir.source },
            "listen": { "value": settings.listen.value, "source": settings.listen.source },
            "policy": settings.policy.as_ref().map(|p| serde_json::json!({ "value": p.value.display().to_string(), "source": p.source })),
            "runbooks": settings.runbooks.as_ref().map(|p| serde_json::json!({ "value": p.value.display().to_string(), "source": p.source })),
            "log_format": { "value": settings.log_format.value, "source": settings.log_format.source },
            "url": { "value": settings.url.value, "source": settings.url.source },
            "token": token.map(|(v, s)| serde_json::json!({ "value": v, "source": s })),
            "public_url": { "value": settings.public_url.value, "source": settings.public_url.source },
            "metrics_token": settings.metrics_token.as_ref().map(|_| "****"),
            "instance": settings.instance,
            "outbound": { "allow": settings.outbound_allow.value.entries(), "source": settings.outbound_allow.source },
        });
        if let Some(all) = value.as_object_mut() {
            all.extend(providers_json(settings));
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| Failure::general(e.to_string()))?
        );
        return Ok(());
    }
    let file = settings
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "none".to_owned());
    outln!("# effective configuration (config file: {file})");
    let line = |key: &str, value: String, source: Source| {
        outln!("{key:<10} = {value:<48} # {}", src(source));
    };
    line(
        "db",
        format!("{:?}", mask_url(&settings.db.value)),
        settings.db.source,
    );
    line(
        "data_dir",
        format!("{:?}", settings.data_dir.value.display().to_string()),
        settings.data_dir.source,
    );
    line(
        "listen",
        format!("{:?}", settings.listen.value),
        settings.listen.source,
    );
    match &settings.policy {
        Some(p) => line(
            "policy",
            format!("{:?}", p.value.display().to_string()),
            p.source,
        ),
        None => outln!(
            "# policy is not set: serve runs the built-in policies/default.toml (FIRELINE_POLICY)"
        ),
    }
    match &settings.runbooks {
        Some(r) => line(
            "runbooks",
            format!("{:?}", r.value.display().to_string()),
            r.source,
        ),
        None => outln!("# runbooks is not set: incidents follow no runbooks (FIRELINE_RUNBOOKS)"),
    }
    let format = match settings.log_format.value {
        LogFormat::Text => "\"text\"",
        LogFormat::Json => "\"json\"",
    };
    line("log_format", format.to_owned(), settings.log_format.source);
    line(
        "url",
        format!("{:?}", settings.url.value),
        settings.url.source,
    );
    match &settings.token {
        Some(t) => line("token", "\"****\"".to_owned(), t.source),
        None => outln!("# token is not set (FIRELINE_TOKEN)"),
    }
    line(
        "public_url",
        format!("{:?}", settings.public_url.value),
        settings.public_url.source,
    );
    match &settings.metrics_token {
        Some(_) => outln!("metrics_token = \"****\""),
        None => {
            outln!("# metrics_token is not set: /metrics needs no token (FIRELINE_METRICS_TOKEN)")
        }
    }
    match &settings.instance {
        Some(name) => outln!("instance = {name:?}"),
        None => outln!(
            "# instance is not set: the host name and listen port name this server (FIRELINE_INSTANCE)"
        ),
    }
    print_providers(settings);
    let allow = settings.outbound_allow.value.entries();
    outln!("[outbound]");
    outln!(
        "allow = {allow:?}{}",
        if allow.is_empty() {
            "   # webhooks reach public addresses only (FIRELINE_OUTBOUND_ALLOW)"
        } else {
            ""
        }
    );
    Ok(())
}

/// The `[smtp]`, `[pushover]` and `[twilio]` sections of `config show`, secrets masked.
/// The providers' sections for `--json`, secrets masked.
fn providers_json(settings: &Settings) -> serde_json::Map<String, serde_json::Value> {
    let value = serde_json::json!({
        "smtp": settings.smtp.as_ref().map(|m| serde_json::json!({ "host": m.host, "port": m.port, "tls": m.tls, "username": m.username, "password": m.password.as_ref().map(|_| "****"), "from": m.from })),
        "pushover": settings.pushover.as_ref().map(|p| serde_json::json!({ "token": "****", "api_url": p.api_url })),
        "twilio": settings.twilio.as_ref().map(|t| serde_json::json!({ "account_sid": t.account_sid, "auth_token": "****", "from": t.from, "api_url": t.api_url })),
        "slack": { "api_url": settings.slack.api_url, "signing_secret": settings.slack.signing_secret.as_ref().map(|_| "****"), "bot_token": settings.slack.bot_token.as_ref().map(|_| "****") },
        "mattermost": { "command_token": settings.mattermost.command_token.as_ref().map(|_| "****") },
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

fn print_providers(settings: &Settings) {
    match &settings.smtp {
        Some(m) => {
            outln!("[smtp]");
            outln!("host = {:?}", m.host);
            outln!("port = {}", m.port);
            outln!("tls = {:?}", m.tls);
            if let Some(u) = &m.username {
                outln!("username = {u:?}");
            }
            if m.password.is_some() {
                outln!("password = \"****\"");
            }
            outln!("from = {:?}", m.from);
        }
        None => outln!("# smtp is not set: e-mail contacts cannot be reached ([smtp] host, FIRELINE_SMTP_HOST)"),
    }
    match &settings.pushover {
        Some(p) => {
            outln!("[pushover]");
            outln!("token = \"****\"");
            outln!("api_url = {:?}", p.api_url);
        }
        None => outln!("# pushover is not set: pushover contacts cannot be reached ([pushover] token, FIRELINE_PUSHOVER_TOKEN)"),
    }
    match &settings.twilio {
        Some(t) => {
            outln!("[twilio]");
            outln!("account_sid = {:?}", t.account_sid);
            outln!("auth_token = \"****\"");
            outln!("from = {:?}", t.from);
            outln!("api_url = {:?}", t.api_url);
        }
        None => outln!("# twilio is not set: sms and voice contacts cannot be reached ([twilio] account_sid, auth_token, from; FIRELINE_TWILIO_*)"),
    }
    outln!("[slack]");
    outln!("api_url = {:?}", settings.slack.api_url);
    match &settings.slack.signing_secret {
        Some(_) => outln!("signing_secret = \"****\""),
        None => outln!("# signing_secret is not set: the /fireline command and Slack buttons are refused ([slack] signing_secret, FIRELINE_SLACK_SIGNING_SECRET)"),
    }
    match &settings.slack.bot_token {
        Some(_) => outln!("bot_token = \"****\""),
        None => outln!("# bot_token is not set: incidents get no channel of their own ([slack] bot_token, FIRELINE_SLACK_BOT_TOKEN)"),
    }
    outln!("[mattermost]");
    match &settings.mattermost.command_token {
        Some(_) => outln!("command_token = \"****\""),
        None => outln!("# command_token is not set: the Mattermost /fireline command and buttons are refused ([mattermost] command_token, FIRELINE_MATTERMOST_COMMAND_TOKEN)"),
    }
}
