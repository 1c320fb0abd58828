//! The `fireline` binary: glue between the command line and the library crates.

/// `println!` for command output: a closed pipe (`fireline … | head`) ends the program
/// quietly instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::output::emit(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` for command output, with the same pipe handling as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::emit(&format!($($arg)*)) };
}

mod cli;
mod client;
mod config;
mod exit;
mod incident;
mod integration;
mod log_escape;
mod oncall;
mod output;
mod policy;
mod postmortem;
mod report;
mod runbook;
mod scenario;
mod serve;
mod token;
mod user;

use clap::{CommandFactory, FromArgMatches};
use cli::{AlertAction, Cli, Command, ConfigCommand, LogFormat, PolicyCommand, RunbookCommand};
use config::{mask_url, Settings, Source};
use exit::Failure;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let serve_source = |id: &str| match matches
        .subcommand_matches("serve")
        .and_then(|m| m.value_source(id))
    {
        Some(clap::parser::ValueSource::EnvVariable) => Source::Env,
        _ => Source::Flag,
    };
    let (listen, policy, runbooks) = match &cli.command {
        Command::Serve(args) => (
            args.listen.clone().map(|v| (v, serve_source("listen"))),
            args.policy.clone().map(|v| (v, serve_source("policy"))),
            args.runbooks.clone().map(|v| (v, serve_source("runbooks"))),
        ),
        _ => (None, None, None),
    };
    let settings = match Settings::resolve(&cli.global, &matches, listen, policy, runbooks) {
        Ok(s) => s,
        Err(e) => return report(Failure::general(format!("{e:#}"))),
    };
    init_logging(
        settings.log_format.value,
        matches!(cli.command, Command::Serve(_)),
    );
    match run(&cli.command, &settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(failure),
    }
}

fn report(failure: Failure) -> ExitCode {
    eprintln!("fireline: error: {}", failure.message);
    failure.exit_code()
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::general(format!("cannot start the async runtime: {e}")))
}

fn run(command: &Command, settings: &Settings) -> Result<(), Failure> {
    match command {
        Command::Serve(_) => runtime()?.block_on(serve::run(settings)).map_err(|e| {
            let unreachable = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<fireline_store::StoreError>(),
                    Some(fireline_store::StoreError::Unavailable(_))
                )
            });
            let failure = Failure::from(e);
            if unreachable {
                Failure {
                    code: exit::UNREACHABLE,
                    ..failure
                }
            } else {
                failure
            }
        }),
        Command::Token(cmd) => runtime()?.block_on(token::run(settings, cmd)),
        Command::User(cmd) => runtime()?.block_on(user::run(settings, cmd)),
        Command::Incident(cmd) => incident::run(settings, cmd),
        Command::Postmortem(cmd) => postmortem::run(settings, cmd),
        Command::Action(cmd) => postmortem::action(settings, cmd),
        Command::Config(ConfigCommand::Show { json }) => config_show(settings, *json),
        Command::Integration(cmd) => runtime()?.block_on(integration::run(settings, cmd)),
        Command::Heartbeat(cmd) => runtime()?.block_on(integration::heartbeat(settings, cmd)),
        Command::Alert(cmd) => match &cmd.action {
            AlertAction::Send { .. } => integration::send(settings, &cmd.action),
        },
        Command::Report(args) => report::run(settings, args),
        Command::Status(cmd) => report::status(settings, cmd),
        Command::Policy(PolicyCommand::Check { file, roster }) => {
            policy::check(file, roster.as_deref())
        }
        Command::Import { file, dry_run } => oncall::import(settings, file, *dry_run),
        Command::Oncall(cmd) => oncall::oncall(settings, cmd),
        Command::Person(cmd) => oncall::person(settings, cmd),
        Command::Team(cmd) => oncall::team(settings, cmd),
        Command::Schedule(cmd) => oncall::schedule(settings, cmd),
        Command::Policy(PolicyCommand::Show { json }) => policy::show(settings, *json),
        Command::Runbook(RunbookCommand::Lint {
            path,
            alerts,
            policy,
        }) => runbook::lint(path, alerts.as_deref(), policy.as_deref()),
        Command::Runbook(RunbookCommand::List { dir, json }) => runbook::list(dir, *json),
        Command::Runbook(RunbookCommand::Show { id, dir, json }) => runbook::show(id, dir, *json),
        Command::Runbook(RunbookCommand::Import { seed, out }) => {
            runbook::import_command(seed, out)
        }
        Command::Policy(PolicyCommand::Simulate {
            policy: file,
            scenario,
            json,
        }) => policy::simulate_command(file, scenario, *json),
    }
}

/// Logs go to stderr. The server logs at info; client commands only warn, so their
/// stdout stays clean for scripts. Text logs go through [`log_escape`], so a value from a
/// request cannot break an event's line or reach the terminal as a control sequence;
/// JSON escapes control characters itself.
fn init_logging(format: LogFormat, serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("FIRELINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.with_writer(std::io::stderr).json().init(),
        LogFormat::Text => {
            let colours = std::io::stderr().is_terminal();
            builder
                .with_writer(log_escape::MakeEscaping::new(std::io::stderr, colours))
                .with_ansi(colours)
                .init()
        }
    }
}

fn config_show(settings: &Settings, json: bool) -> Result<(), Failure> {
    let src = |s: Source| match s {
        Source::Default => "default",
        Source::File => "file",
        Source::Env => "env",
        Source::Flag => "flag",
    };
    let token = settings.token.as_ref().map(|t| ("****", src(t.source)));
    if json {
        let value = serde_json::json!({
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
            "smtp": settings.smtp.as_ref().map(|m| serde_json::json!({ "host": m.host, "port": m.port, "tls": m.tls, "username": m.username, "password": m.password.as_ref().map(|_| "****"), "from": m.from })),
            "pushover": settings.pushover.as_ref().map(|p| serde_json::json!({ "token": "****", "api_url": p.api_url })),
            "twilio": settings.twilio.as_ref().map(|t| serde_json::json!({ "account_sid": t.account_sid, "auth_token": "****", "from": t.from, "api_url": t.api_url })),
        });
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
}
