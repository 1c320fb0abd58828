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
use cli::{Cli, Command, LogFormat};
use config::{Settings, Source};
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
        // `config show` tells what `serve` would run with, so it reads serve's variables
        // too: clap reads them only for `serve`, whose flags they stand for.
        Command::Config(_) => (
            serve_env("FIRELINE_LISTEN")
                .and_then(|v| v.into_string().ok().map(|v| (v, Source::Env))),
            serve_env("FIRELINE_POLICY").map(|v| (v.into(), Source::Env)),
            serve_env("FIRELINE_RUNBOOKS").map(|v| (v.into(), Source::Env)),
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

/// A `serve` variable, when set to something (clap, too, takes an empty one as unset).
fn serve_env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
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
        Command::Config(cmd) => config::show::run(settings, cmd),
        Command::Integration(cmd) => runtime()?.block_on(integration::run(settings, cmd)),
        Command::Heartbeat(cmd) => runtime()?.block_on(integration::heartbeat(settings, cmd)),
        Command::Alert(cmd) => integration::alert(settings, cmd),
        Command::Report(args) => report::run(settings, args),
        Command::Status(cmd) => report::status(settings, cmd),
        Command::Policy(cmd) => policy::run(settings, cmd),
        Command::Import(args) => oncall::import(settings, args),
        Command::Oncall(cmd) => oncall::oncall(settings, cmd),
        Command::Person(cmd) => oncall::person(settings, cmd),
        Command::Team(cmd) => oncall::team(settings, cmd),
        Command::Schedule(cmd) => oncall::schedule(settings, cmd),
        Command::Runbook(cmd) => runbook::run(cmd),
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
