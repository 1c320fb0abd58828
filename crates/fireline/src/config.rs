//! The effective configuration: defaults, then `fireline.toml`, then `FIRELINE_*`
//! environment variables, then flags (clap applies the last two).

use crate::cli::{GlobalArgs, LogFormat};
use anyhow::{bail, Context};
use clap::parser::ValueSource;
use clap::ArgMatches;
use std::fmt;
use std::path::{Path, PathBuf};

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
        let policy = match (policy, file.policy) {
            (Some((value, source)), _) => Some(Setting { value, source }),
            (None, Some(value)) => Some(Setting {
                value,
                source: Source::File,
            }),
            (None, None) => None,
        };
        let runbooks = match (runbooks, file.runbooks) {
            (Some((value, source)), _) => Some(Setting { value, source }),
            (None, Some(value)) => Some(Setting {
                value,
                source: Source::File,
            }),
            (None, None) => None,
        };
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
        let smtp = smtp_settings(file.smtp)?;
        let outbound_allow = outbound_allow(env("FIRELINE_OUTBOUND_ALLOW"), file.outbound)?;
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
            outbound_allow,
            public_url,
            smtp,
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
    use super::{instance_name, mask_url, outbound_allow, FileConfig, Source};
    use fireline_notify::{Allow, Category};

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
