//! The effective configuration: defaults, then `fireline.toml`, then `FIRELINE_*`
//! environment variables, then flags (clap applies the last two).

use crate::cli::{GlobalArgs, LogFormat};
use anyhow::{bail, Context};
use clap::parser::ValueSource;
use clap::ArgMatches;
use std::fmt;
use std::path::{Path, PathBuf};

pub mod show;

/// The config file's shape. Every key is optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    db: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    policy: Option<PathBuf>,
    runbooks: Option<PathBuf>,
    log_format: Option<LogFormat>,
    url: Option<String>,
    token: Option<String>,
    public_url: Option<String>,
    smtp: Option<SmtpFile>,
    pushover: Option<PushoverFile>,
    twilio: Option<TwilioFile>,
    slack: Option<SlackFile>,
    mattermost: Option<MattermostFile>,
    metrics_token: Option<String>,
    outbound: Option<OutboundFile>,
    instance: Option<String>,
}

/// `[outbound]` in the config file: what webhook and Slack deliveries may reach beyond
/// public addresses. `FIRELINE_OUTBOUND_ALLOW` (comma-separated) replaces `allow`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundFile {
    allow: Option<Vec<String>>,
}

/// `[smtp]` in the config file; each key can be overridden by `FIRELINE_SMTP_<KEY>`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFile {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<String>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
}

/// `[pushover]` in the config file; each key can be overridden by
/// `FIRELINE_PUSHOVER_<KEY>`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverFile {
    token: Option<String>,
    api_url: Option<String>,
}

/// `[twilio]` in the config file; each key can be overridden by `FIRELINE_TWILIO_<KEY>`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioFile {
    account_sid: Option<String>,
    auth_token: Option<String>,
    from: Option<String>,
    api_url: Option<String>,
}

/// `[slack]` in the config file; each key can be overridden by `FIRELINE_SLACK_<KEY>`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackFile {
    api_url: Option<String>,
    signing_secret: Option<String>,
    bot_token: Option<String>,
}

/// The server's Slack app: where `slack_bot` contacts and channels post, and the secret
/// its slash command and buttons are signed with.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// The Web API (default `https://slack.com/api`).
    pub api_url: String,
    /// The app's signing secret (never printed); without it `/hooks/slack/…` refuses
    /// every request and messages carry link buttons only.
    pub signing_secret: Option<Secret>,
    /// The app's bot token (never printed), which opens incidents' own channels where
    /// the policy's `[incident_channel]` asks for them.
    pub bot_token: Option<Secret>,
}

/// `[mattermost]` in the config file; each key can be overridden by
/// `FIRELINE_MATTERMOST_<KEY>`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MattermostFile {
    command_token: Option<String>,
}

/// The server's side of a Mattermost custom slash command.
#[derive(Debug, Clone, Default)]
pub struct MattermostSettings {
    /// The token Mattermost gave the `/fireline` slash command (never printed): it
    /// proves a command came from Mattermost, and the key of the buttons' signed context
    /// is derived from it. Without it `/hooks/mattermost/…` refuses every request and
    /// `mattermost` messages carry links only.
    pub command_token: Option<Secret>,
}

/// How pages reach Pushover contacts: the server's Pushover application.
#[derive(Debug, Clone)]
pub struct PushoverSettings {
    /// The application's API token (never printed).
    pub token: Secret,
    /// Pushover's API (default `https://api.pushover.net`).
    pub api_url: String,
}

/// How pages reach SMS and voice contacts: the server's Twilio account.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// The account SID (`AC…`).
    pub account_sid: String,
    /// The auth token: the API password and the key Twilio signs its requests with
    /// (never printed).
    pub auth_token: Secret,
    /// The number texts and calls come from, E.164.
    pub from: String,
    /// Twilio's API, or a Twilio-compatible provider's (default `https://api.twilio.com`).
    pub api_url: String,
}

/// How pages go out by e-mail.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Server host.
    pub host: String,
    /// Port (default: 587 with starttls, 465 with tls, 25 without).
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: String,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Password (never printed).
    pub password: Option<Secret>,
    /// Sender address.
    pub from: String,
}

/// Where a value came from, for `config show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Built in.
    Default,
    /// The config file.
    File,
    /// A `FIRELINE_*` variable.
    Env,
    /// A command-line flag.
    Flag,
}

/// A value and its origin.
#[derive(Debug, Clone)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Its origin.
    pub source: Source,
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file read, if any.
    pub config_file: Option<PathBuf>,
    /// Database URL (may hold a password: print with [`mask_url`]).
    pub db: Setting<String>,
    /// Data directory.
    pub data_dir: Setting<PathBuf>,
    /// Listen address for `serve`.
    pub listen: Setting<String>,
    /// Policy file for `serve` (none: the built-in default).
    pub policy: Option<Setting<PathBuf>>,
    /// Runbook folder for `serve` (none: no runbooks).
    pub runbooks: Option<Setting<PathBuf>>,
    /// Log format.
    pub log_format: Setting<LogFormat>,
    /// Server URL for client commands.
    pub url: Setting<String>,
    /// Token for client commands.
    pub token: Option<Setting<Secret>>,
    /// The server's URL as responders reach it, for links in pages (acknowledge links).
    pub public_url: Setting<String>,
    /// E-mail delivery, when a host is configured.
    pub smtp: Option<SmtpSettings>,
    /// Pushover delivery, when `[pushover]` is configured.
    pub pushover: Option<PushoverSettings>,
    /// SMS and voice delivery, when `[twilio]` is configured.
    pub twilio: Option<TwilioSettings>,
    /// The Slack app (`[slack]`).
    pub slack: SlackSettings,
    /// The Mattermost slash command and buttons (`[mattermost]`).
    pub mattermost: MattermostSettings,
    /// The bearer token `/metrics` requires (none: open).
    pub metrics_token: Option<Secret>,
    /// Internal addresses (loopback, private, link-local, …) that webhook and Slack
    /// deliveries may reach anyway; by default none.
    pub outbound_allow: Setting<fireline_notify::Allow>,
    /// This server's name among replicas, stable across restarts: it labels the work
    /// it holds, so after a crash it takes that work up at once (see
    /// [`Settings::instance_name`]); none: the host name and the listen port.
    pub instance: Option<String>,
}

impl Settings {
    /// [`Settings::instance`], or `<host name>:<listen port>`: stable across restarts
    /// and distinct for replicas on one host (they listen on different ports).
    pub fn instance_name(&self, port: u16) -> String {
        instance_name(self.instance.as_deref(), port)
    }
}

/// `configured`, or `<host name>:<port>`: never the process id, so a restarted server
/// has the name its previous run held work under.
fn instance_name(configured: Option<&str>, port: u16) -> String {
    if let Some(name) = configured {
        return name.to_owned();
    }
    let host = env("HOSTNAME")
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "fireline".to_owned());
    format!("{host}:{port}")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn smtp_settings(file: Option<SmtpFile>) -> anyhow::Result<Option<SmtpSettings>> {
    let file = file.unwrap_or_default();
    let Some(host) = env("FIRELINE_SMTP_HOST").or(file.host) else {
        return Ok(None);
    };
    let tls = env("FIRELINE_SMTP_TLS")
        .or(file.tls)
        .unwrap_or_else(|| "starttls".to_owned())
        .to_ascii_lowercase();
    let default_port = match tls.as_str() {
        "none" => 25,
        "tls" => 465,
        "starttls" => 587,
        other => bail!("invalid smtp tls `{other}`: expected none, starttls or tls"),
    };
    let port = match env("FIRELINE_SMTP_PORT") {
        Some(p) => p
            .parse()
            .with_context(|| format!("invalid FIRELINE_SMTP_PORT `{p}`"))?,
        None => file.port.unwrap_or(default_port),
    };
    Ok(Some(SmtpSettings {
        host,
        port,
        tls,
        username: env("FIRELINE_SMTP_USERNAME").or(file.username),
        password: env("FIRELINE_SMTP_PASSWORD").or(file.password).map(Secret),
        from: env("FIRELINE_SMTP_FROM")
            .or(file.from)
            .unwrap_or_else(|| "fireline@localhost".to_owned()),
    }))
}

/// Where `[pushover] api_url` defaults to.
const PUSHOVER_API_URL: &str = "https://api.pushover.net";
/// Where `[twilio] api_url` defaults to.
const TWILIO_API_URL: &str = "https://api.twilio.com";

/// One key of a provider section: `FIRELINE_<SECTION>_<KEY>` from `env`, else the file.
fn provider_key(
    env: &dyn Fn(&str) -> Option<String>,
    section: &str,
    key: &str,
    file: Option<String>,
) -> Option<String> {
    env(&format!(
        "FIRELINE_{}_{}",
        section.to_ascii_uppercase(),
        key.to_ascii_uppercase()
    ))
    .or(file)
    .map(|v| v.trim().to_owned())
    .filter(|v| !v.is_empty())
}

/// Refuses a provider section that names some keys but lacks `missing` ones: a page
/// would fail for every contact of that kind, so it is said at start, not at 3 a.m.
fn require(section: &str, missing: &[&str]) -> anyhow::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let variables: Vec<String> = missing
        .iter()
        .map(|k| {
            format!(
                "FIRELINE_{}_{}",
                section.to_ascii_uppercase(),
                k.to_ascii_uppercase()
            )
        })
        .collect();
    bail!(
        "[{section}] is half set: {} missing (set {} in the config file, or {}), or remove the \
         section to leave {section} off",
        missing.join(", "),
        if missing.len() == 1 { "it" } else { "them" },
        variables.join(", ")
    )
}

/// A setting given on the command line (or by the environment), else the file's, else
/// none.
fn given_or_file<T>(given: Option<(T, Source)>, file: Option<T>) -> Option<Setting<T>> {
    match (given, file) {
        (Some((value, source)), _) => Some(Setting { value, source }),
        (None, Some(value)) => Some(Setting {
            value,
            source: Source::File,
        }),
        (None, None) => None,
    }
}

/// `[slack]` with `FIRELINE_SLACK_*` over it; the API defaults to Slack's own.
fn slack_settings(env: &dyn Fn(&str) -> Option<String>, file: Option<SlackFile>) -> SlackSettings {
    let file = file.unwrap_or_default();
    SlackSettings {
        api_url: provider_key(env, "slack", "api_url", file.api_url)
            .unwrap_or_else(|| fireline_notify::SLACK_API_URL.to_owned()),
        signing_secret: provider_key(env, "slack", "signing_secret", file.signing_secret)
            .filter(|s| !s.is_empty())
            .map(Secret),
        bot_token: provider_key(env, "slack", "bot_token", file.bot_token)
            .filter(|s| !s.is_empty())
            .map(Secret),
    }
}

/// `[mattermost]` with `FIRELINE_MATTERMOST_*` over it.
fn mattermost_settings(
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<MattermostFile>,
) -> MattermostSettings {
    let file = file.unwrap_or_default();
    MattermostSettings {
        command_token: provider_key(env, "mattermost", "command_token", file.command_token)
            .map(Secret),
    }
}

/// `[pushover]` with `FIRELINE_PUSHOVER_*` over it: off when nothing is set anywhere;
/// otherwise `token` is required.
fn pushover_settings(
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<PushoverFile>,
) -> anyhow::Result<Option<PushoverSettings>> {
    let present = file.is_some();
    let file = file.unwrap_or_default();
    let token = provider_key(env, "pushover", "token", file.token);
    let api_url = provider_key(env, "pushover", "api_url", file.api_url);
    let Some(token) = token else {
        if present || api_url.is_some() {
            require("pushover", &["token"])?;
        }
        return Ok(None);
    };
    Ok(Some(PushoverSettings {
        token: Secret(token),
        api_url: api_url.unwrap_or_else(|| PUSHOVER_API_URL.to_owned()),
    }))
}

/// `[twilio]` with `FIRELINE_TWILIO_*` over it: off when nothing is set anywhere;
/// otherwise `account_sid`, `auth_token` and `from` are required.
fn twilio_settings(
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<TwilioFile>,
) -> anyhow::Result<Option<TwilioSettings>> {
    let present = file.is_some();
    let file = file.unwrap_or_default();
    let account_sid = provider_key(env, "twilio", "account_sid", file.account_sid);
    let auth_token = provider_key(env, "twilio", "auth_token", file.auth_token);
    let from = provider_key(env, "twilio", "from", file.from);
    let api_url = provider_key(env, "twilio", "api_url", file.api_url);
    match (account_sid, auth_token, from) {
        (Some(account_sid), Some(auth_token), Some(from)) => Ok(Some(TwilioSettings {
            account_sid,
            auth_token: Secret(auth_token),
            from,
            api_url: api_url.unwrap_or_else(|| TWILIO_API_URL.to_owned()),
        })),
        (None, None, None) if !present && api_url.is_none() => Ok(None),
        (account_sid, auth_token, from) => {
            let missing: Vec<&str> = [
                ("account_sid", account_sid.is_none()),
                ("auth_token", auth_token.is_none()),
                ("from", from.is_none()),
            ]
            .into_iter()
            .filter_map(|(key, missing)| missing.then_some(key))
            .collect();
            require("twilio", &missing)?;
            Ok(None)
        }
    }
}

/// `[outbound] allow`, replaced whole by `FIRELINE_OUTBOUND_ALLOW` (comma-separated):
/// an admin widening it for one run should not have to know what the file says.
fn outbound_allow(
    env_value: Option<String>,
    file: Option<OutboundFile>,
) -> anyhow::Result<Setting<fireline_notify::Allow>> {
    let (entries, source) = match (env_value, file.and_then(|f| f.allow)) {
        (Some(list), _) => (
            list.split(',').map(str::to_owned).collect::<Vec<_>>(),
            Source::Env,
        ),
        (None, Some(list)) => (list, Source::File),
        (None, None) => (Vec::new(), Source::Default),
    };
    let value = fireline_notify::Allow::parse(&entries).context(match source {
        Source::Env => "invalid FIRELINE_OUTBOUND_ALLOW",
        _ => "invalid [outbound] allow in the config file",
    })?;
    Ok(Setting { value, source })
}

/// Where `--listen` and the config's `listen` default to.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_DATA_DIR: &str = "./fireline-data";
const DEFAULT_CONFIG: &str = "fireline.toml";

fn source_of(matches: &ArgMatches, id: &str) -> Source {
    match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => Source::Env,
        Some(ValueSource::CommandLine) => Source::Flag,
        _ => Source::Default,
    }
}

fn pick<T>(
    flag_or_env: Option<T>,
    src: Source,
    file: Option<T>,
    default: impl FnOnce() -> T,
) -> Setting<T> {
    match (flag_or_env, file) {
        (Some(value), _) => Setting { value, source: src },
        (None, Some(value)) => Setting {
            value,
            source: Source::File,
        },
        (None, None) => Setting {
            value: default(),
            source: Source::Default,
        },
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

impl Settings {
    /// Resolves settings from parsed arguments, their matches (for sources) and an
    /// optional listen flag of `serve`.
    pub fn resolve(
        args: &GlobalArgs,
        matches: &ArgMatches,
        listen: Option<(String, Source)>,
        policy: Option<(PathBuf, Source)>,
        runbooks: Option<(PathBuf, Source)>,
    ) -> anyhow::Result<Settings> {
        let config_file = match &args.config {
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.is_file()),
        };
        let file = match &config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = pick(
            args.data_dir.clone(),
            source_of(matches, "data_dir"),
            file.data_dir,
            || PathBuf::from(DEFAULT_DATA_DIR),
        );
        let default_db = format!("sqlite://{}", data_dir.value.join("fireline.db").display());
        let db = pick(args.db.clone(), source_of(matches, "db"), file.db, || {
            default_db
        });
        if !(db.value.starts_with("sqlite:")
            || db.value.starts_with("postgres://")
            || db.value.starts_with("postgresql://"))
        {
            bail!(
                "invalid database URL {}: expected sqlite://PATH or postgres://USER@HOST/DB",
                mask_url(&db.value)
            );
        }
        let (listen_value, listen_source) = match listen {
            Some((v, s)) => (Some(v), s),
            None => (None, Source::Default),
        };
        let listen = pick(listen_value, listen_source, file.listen, || {
            DEFAULT_LISTEN.to_owned()
        });
        let policy = given_or_file(policy, file.policy);
        let runbooks = given_or_file(runbooks, file.runbooks);
        let log_format = pick(
            args.log_format,
            source_of(matches, "log_format"),
            file.log_format,
            || LogFormat::Text,
        );
        let url = pick(
            args.url.clone(),
            source_of(matches, "url"),
            file.url,
            || format!("http://{DEFAULT_LISTEN}"),
        );
        let token = match (args.token.clone(), file.token) {
            (Some(t), _) => Some(Setting {
                value: Secret(t),
                source: source_of(matches, "token"),
            }),
            (None, Some(t)) => Some(Setting {
                value: Secret(t),
                source: Source::File,
            }),
            (None, None) => None,
        };
        let public_url = match (env("FIRELINE_PUBLIC_URL"), file.public_url) {
            (Some(value), _) => Setting {
                value,
                source: Source::Env,
            },
            (None, Some(value)) => Setting {
                value,
                source: Source::File,
            },
            (None, None) => Setting {
                value: format!("http://{}", listen.value),
                source: Source::Default,
            },
        };
        let metrics_token = env("FIRELINE_METRICS_TOKEN")
            .or(file.metrics_token)
            .map(Secret);
        let instance = env("FIRELINE_INSTANCE")
            .or(file.instance)
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty());
        Ok(Settings {
            instance,
            metrics_token,
            outbound_allow: outbound_allow(env("FIRELINE_OUTBOUND_ALLOW"), file.outbound)?,
            public_url,
            smtp: smtp_settings(file.smtp)?,
            pushover: pushover_settings(&env, file.pushover)?,
            twilio: twilio_settings(&env, file.twilio)?,
            slack: slack_settings(&env, file.slack),
            mattermost: mattermost_settings(&env, file.mattermost),
            config_file,
            db,
            data_dir,
            listen,
            policy,
            runbooks,
            log_format,
            url,
            token,
        })
    }
}

/// Replaces a URL's password with `****` (`postgres://u:p@h/db` → `postgres://u:****@h/db`).
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:****@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens the configured database for a command that works on it directly (tokens,
/// integrations, heartbeats), with the exit code for an unreachable database.
pub async fn open_store(
    settings: &Settings,
) -> Result<std::sync::Arc<dyn fireline_store::Store>, crate::exit::Failure> {
    fireline_store::open(&settings.db.value)
        .await
        .with_context(|| format!("cannot open database {}", mask_url(&settings.db.value)))
        .map_err(|e| crate::exit::Failure::unreachable(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::{
        instance_name, mask_url, mattermost_settings, outbound_allow, pushover_settings,
        twilio_settings, FileConfig, Source,
    };
    use fireline_notify::{Allow, Category};
    use std::collections::BTreeMap;

    /// An environment of `vars` only: tests never touch the process's own.
    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).expect("valid config")
    }

    #[test]
    fn providers_are_off_until_configured_and_env_overrides_each_key() {
        let none = file("");
        assert!(pushover_settings(&env(&[]), none.pushover)
            .expect("ok")
            .is_none());
        assert!(twilio_settings(&env(&[]), none.twilio)
            .expect("ok")
            .is_none());

        let both = file(
            "[pushover]\ntoken = \"file-token\"\n\
             [twilio]\naccount_sid = \"AC1\"\nauth_token = \"file-secret\"\nfrom = \"+15005550006\"\n",
        );
        let pushover = pushover_settings(&env(&[]), both.pushover.clone())
            .expect("ok")
            .expect("on");
        assert_eq!(pushover.token.0, "file-token");
        assert_eq!(pushover.api_url, "https://api.pushover.net");
        let twilio = twilio_settings(
            &env(&[
                ("FIRELINE_TWILIO_AUTH_TOKEN", "env-secret"),
                ("FIRELINE_TWILIO_API_URL", "https://sms.internal.example"),
            ]),
            both.twilio,
        )
        .expect("ok")
        .expect("on");
        assert_eq!(twilio.account_sid, "AC1");
        assert_eq!(twilio.auth_token.0, "env-secret");
        assert_eq!(twilio.from, "+15005550006");
        assert_eq!(twilio.api_url, "https://sms.internal.example");
        // Configured by the environment alone.
        let pushover = pushover_settings(&env(&[("FIRELINE_PUSHOVER_TOKEN", "t")]), None)
            .expect("ok")
            .expect("on");
        assert_eq!(pushover.token.0, "t");
        let shown = format!("{pushover:?} {twilio:?}");
        assert!(
            !shown.contains("env-secret") && !shown.contains("\"t\""),
            "{shown}"
        );
    }

    #[test]
    fn the_mattermost_command_token_comes_from_the_file_or_the_env_and_never_prints() {
        assert!(mattermost_settings(&env(&[]), file("").mattermost)
            .command_token
            .is_none());
        let from_file = file("[mattermost]\ncommand_token = \"nezum4kpu3faiec7r7c5zt6tfy\"\n");
        let settings = mattermost_settings(&env(&[]), from_file.mattermost.clone());
        assert_eq!(
            settings.command_token.as_ref().map(|t| t.0.as_str()),
            Some("nezum4kpu3faiec7r7c5zt6tfy")
        );
        let settings = mattermost_settings(
            &env(&[(
                "FIRELINE_MATTERMOST_COMMAND_TOKEN",
                "okwexkjpe7ygb8eq1ww58t483w",
            )]),
            from_file.mattermost,
        );
        assert_eq!(
            settings.command_token.as_ref().map(|t| t.0.as_str()),
            Some("okwexkjpe7ygb8eq1ww58t483w")
        );
        let shown = format!("{settings:?}");
        assert!(!shown.contains("okwexkjpe7"), "{shown}");
    }

    #[test]
    fn a_half_set_provider_section_stops_the_start() {
        let error = |result: anyhow::Result<_>| {
            result
                .err()
                .map(|e: anyhow::Error| format!("{e:#}"))
                .unwrap_or_default()
        };
        let text = error(
            twilio_settings(
                &env(&[]),
                file("[twilio]\naccount_sid = \"AC1\"\nauth_token = \"s3cret\"\n").twilio,
            )
            .map(|_| ()),
        );
        assert!(
            text.contains("[twilio] is half set: from missing"),
            "{text}"
        );
        assert!(text.contains("FIRELINE_TWILIO_FROM"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        let text = error(
            twilio_settings(&env(&[("FIRELINE_TWILIO_FROM", "+15005550006")]), None).map(|_| ()),
        );
        assert!(text.contains("account_sid, auth_token missing"), "{text}");
        let text = error(
            pushover_settings(
                &env(&[]),
                file("[pushover]\napi_url = \"https://p.example\"\n").pushover,
            )
            .map(|_| ()),
        );
        assert!(
            text.contains("[pushover] is half set: token missing"),
            "{text}"
        );
        let text = error(pushover_settings(&env(&[]), file("[pushover]\n").pushover).map(|_| ()));
        assert!(text.contains("FIRELINE_PUSHOVER_TOKEN"), "{text}");
        assert!(
            toml::from_str::<FileConfig>("[twilio]\nauth_tokn = \"x\"\n").is_err(),
            "unknown keys are refused"
        );
    }

    /// The default instance name is the same in every run of one server and holds no
    /// process id: named by process id, a restarted server would wait out its own
    /// leases. (The crash test uses fixed worker names, so it cannot catch that.)
    #[test]
    fn the_default_instance_name_survives_a_restart() {
        let first = instance_name(None, 8080);
        assert_eq!(first, instance_name(None, 8080), "stable");
        assert!(first.ends_with(":8080"), "{first}");
        assert!(
            !first.contains(&std::process::id().to_string()),
            "no process id in {first}"
        );
        assert_ne!(first, instance_name(None, 8081), "replicas differ by port");
        assert_eq!(instance_name(Some("fireline-1"), 8080), "fireline-1");
    }

    #[test]
    fn outbound_allow_defaults_to_nothing_and_layers_file_then_env() {
        let file: FileConfig =
            toml::from_str("[outbound]\nallow = [\"loopback\", \"10.1.2.0/24\"]\n")
                .expect("valid config");
        let none = outbound_allow(None, None).expect("default");
        assert_eq!(
            (none.value, none.source),
            (Allow::nothing(), Source::Default)
        );
        let from_file = outbound_allow(None, file.outbound.clone()).expect("file");
        assert_eq!(from_file.source, Source::File);
        assert_eq!(from_file.value.entries(), ["loopback", "10.1.2.0/24"]);
        // The variable replaces the file's list whole.
        let from_env =
            outbound_allow(Some("private, link-local".into()), file.outbound).expect("env");
        assert_eq!(from_env.source, Source::Env);
        assert_eq!(
            from_env.value,
            Allow::nothing()
                .with(Category::Private)
                .with(Category::LinkLocal)
        );
    }

    #[test]
    fn a_bad_outbound_allow_entry_is_refused_at_start() {
        let error = outbound_allow(Some("loopback,everything".into()), None)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(error.contains("FIRELINE_OUTBOUND_ALLOW"), "{error}");
        assert!(error.contains("everything"), "{error}");
        let file: FileConfig =
            toml::from_str("[outbound]\nallow = [\"10.1.2.3/8\"]\n").expect("valid toml");
        let error = outbound_allow(None, file.outbound)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(error.contains("did you mean 10.0.0.0/8"), "{error}");
        assert!(
            toml::from_str::<FileConfig>("[outbound]\nalow = []\n").is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn masks_only_the_password() {
        assert_eq!(
            mask_url("postgres://app:s3cret@db:5432/fl?sslmode=require"),
            "postgres://app:****@db:5432/fl?sslmode=require"
        );
        assert_eq!(mask_url("postgres://app@db/fl"), "postgres://app@db/fl");
        assert_eq!(
            mask_url("sqlite://./fireline-data/fireline.db"),
            "sqlite://./fireline-data/fireline.db"
        );
        assert_eq!(mask_url("postgres://a:b:c@h/d"), "postgres://a:****@h/d");
    }
}
