//! `fireline serve`: open the store, load the policy, run the API and web UI beside the
//! engine, alert processing and delivery until SIGTERM or SIGINT, then close cleanly.
//! SIGHUP reloads the policy file.

use crate::config::{mask_url, Settings};
use crate::policy::load;
use anyhow::Context;
use clap::Args;
use fireline_core::policy::Policy;
use fireline_engine::{
    AlertProcessor, Clock, Commands, Delivery, DeliveryConfig, Engine, LivePolicy, Pager, Runbooks,
    SystemClock,
};
use fireline_http::AppState;
use fireline_notify::{Notifier, Providers, PushoverConfig, SmtpConfig, TwilioConfig};
use fireline_store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// `serve` flags.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "FIRELINE_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Policy file (TOML) [default: the built-in policies/default.toml]; SIGHUP reloads it
    #[arg(long, env = "FIRELINE_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Runbook folder (Markdown; docs/runbooks.md) that incidents may follow
    #[arg(long, env = "FIRELINE_RUNBOOKS", value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
}

/// Longest the engine sleeps with nothing due: a safety net for changes made by other
/// replicas, which cannot wake this one.
const ENGINE_MAX_IDLE: Duration = Duration::from_secs(5);

fn load_policy(path: Option<&PathBuf>) -> anyhow::Result<Policy> {
    match path {
        None => Ok(Policy::builtin()),
        Some(path) => load(path).map_err(|f| anyhow::anyhow!(f.message)),
    }
}

fn smtp_config(settings: &Settings) -> anyhow::Result<Option<SmtpConfig>> {
    let Some(m) = &settings.smtp else {
        return Ok(None);
    };
    Ok(Some(SmtpConfig {
        host: m.host.clone(),
        port: m.port,
        tls: m
            .tls
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp tls: {e}"))?,
        username: m.username.clone(),
        password: m.password.as_ref().map(|p| p.0.clone()),
        from: m.from.clone(),
        timeout: Duration::from_secs(10),
    }))
}

/// The SaaS providers `[pushover]` and `[twilio]` configure; says at start which are on,
/// and warns when credentials would cross the network in plain text.
fn providers(settings: &Settings) -> Providers {
    let plain = |section: &str, url: &str| {
        let Some(rest) = url.strip_prefix("http://") else {
            return;
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let local = ["localhost", "127.", "[::1]"]
            .iter()
            .any(|local| host.starts_with(local));
        if !local {
            tracing::warn!(
                section,
                "[{section}] api_url is plain http: its credentials cross the network unencrypted"
            );
        }
    };
    let pushover = settings.pushover.as_ref().map(|p| {
        plain("pushover", &p.api_url);
        tracing::info!(api_url = %p.api_url, "[pushover] configured: pushover contacts are reachable");
        PushoverConfig {
            token: p.token.0.clone(),
            api_url: p.api_url.clone(),
        }
    });
    if pushover.is_none() {
        tracing::info!("no [pushover] token configured: pushover contacts cannot be reached");
    }
    let twilio = settings.twilio.as_ref().map(|t| {
        plain("twilio", &t.api_url);
        tracing::info!(api_url = %t.api_url, "[twilio] configured: sms and voice contacts are reachable");
        TwilioConfig {
            account_sid: t.account_sid.clone(),
            auth_token: t.auth_token.0.clone(),
            from: t.from.clone(),
            api_url: t.api_url.clone(),
        }
    });
    if twilio.is_none() {
        tracing::info!("no [twilio] account configured: sms and voice contacts cannot be reached");
    }
    Providers {
        pushover,
        twilio,
        slack: Some(fireline_notify::SlackApiConfig {
            api_url: settings.slack.api_url.clone(),
            interactive: settings.slack.signing_secret.is_some(),
        }),
        // Buttons only where this server answers their clicks, at its public URL.
        mattermost: mattermost(settings).map(|app| app.buttons(&settings.public_url.value)),
    }
}

/// The Mattermost slash command this server answers (`[mattermost] command_token`), if
/// any; its buttons' key is derived from the same token.
fn mattermost(settings: &Settings) -> Option<fireline_http::MattermostApp> {
    settings
        .mattermost
        .command_token
        .as_ref()
        .map(|token| fireline_http::MattermostApp::new(&token.0))
}

/// The notifier delivery sends through: e-mail, `[outbound] allow` for the roster's
/// URLs, the SaaS providers, and Web Push with the server's VAPID key (made on first
/// start), whose public half is returned for browsers to subscribe with.
async fn notifier(
    settings: &Settings,
    allow: fireline_notify::Allow,
    store: &dyn fireline_store::Store,
) -> anyhow::Result<(Notifier, String)> {
    let vapid = fireline_engine::push::vapid_key(store)
        .await
        .context("cannot read the Web Push (VAPID) key")?;
    let public_key = vapid.public_key();
    let notifier = Notifier::new(smtp_config(settings)?, Duration::from_secs(10))
        .context("invalid e-mail settings")?
        .with_outbound(allow)
        .with_providers(providers(settings))
        .context("invalid [pushover] or [twilio] settings")?
        .with_web_push(fireline_notify::WebPushConfig {
            key: vapid,
            subject: fireline_engine::push::vapid_subject(&settings.public_url.value),
        })
        .context("invalid Web Push settings")?;
    if settings.smtp.is_none() {
        tracing::info!("no [smtp] host configured: e-mail contacts cannot be reached");
    }
    Ok((notifier, public_key))
}

/// The key Twilio signs what it sends back with (a key pressed in a call, an SMS reply):
/// the account's auth token.
fn twilio_auth_token(settings: &Settings) -> Option<fireline_http::TwilioAuthToken> {
    settings
        .twilio
        .as_ref()
        .map(|t| fireline_http::TwilioAuthToken::new(t.auth_token.0.clone()))
}

/// Runs the server until a shutdown signal, then stops the engine, finishes in-flight
/// requests and closes the database (SQLite checkpoints its WAL).
pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let policy_path = settings.policy.as_ref().map(|p| p.value.clone());
    let (policy, store) = open(settings, policy_path.as_ref()).await?;
    let first_admin = store.list_tokens().await?.is_empty() && store.list_users().await?.is_empty();
    let listener = TcpListener::bind(&settings.listen.value)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen.value))?;
    let address = listener.local_addr().context("listener has no address")?;
    let live = LivePolicy::new(policy);
    // Stable across restarts, so what a crashed run held is taken up at once (in
    // `Workers::build`) rather than after its leases run out.
    let owner = settings.instance_name(address.port());
    let workers = Workers::build(settings, store.clone(), live.clone(), owner).await?;
    let state = app_state(settings, store.clone(), live.clone(), &workers);
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(signals(
        stop_tx,
        policy_path,
        live,
        store.clone(),
        workers.commands.engine_waker(),
    ));
    let work_finished = start_work(store.backend(), workers, &stop_rx)?;
    tracing::info!("listening on http://{address}");
    if first_admin {
        first_start(store.as_ref(), address).await?;
    }
    let router = fireline_http::with_mattermost(fireline_http::router(state), mattermost(settings));
    fireline_http::serve(listener, router, stopped(stop_rx))
        .await
        .context("server failed")?;
    if !work_finished.await.unwrap_or(false) {
        anyhow::bail!("the engine, delivery or alert processing failed");
    }
    tracing::info!("in-flight requests and engine cycle finished; closing the database");
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Loads the policy (refusing a broken file before anything else starts) and opens the
/// database, which migrates it.
async fn open(
    settings: &Settings,
    policy_path: Option<&PathBuf>,
) -> anyhow::Result<(Policy, Arc<dyn Store>)> {
    let policy = load_policy(policy_path)?;
    tracing::info!(policy = %policy.label(), "policy loaded");
    let store = fireline_store::open(&settings.db.value)
        .await
        .with_context(|| format!("cannot open database {}", mask_url(&settings.db.value)))?;
    tracing::info!(database = %mask_url(&settings.db.value), backend = store.backend(), "database ready");
    Ok((policy, store))
}

/// Resolves once `stop` turns true: the shutdown future each worker and the HTTP server
/// is given.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The runbook folder `serve --runbooks` names, keyed by id; none without it.
fn load_runbooks(settings: &Settings) -> anyhow::Result<Runbooks> {
    let Some(dir) = &settings.runbooks else {
        return Ok(Arc::default());
    };
    let books = crate::runbook::load(&dir.value)
        .map_err(|f| anyhow::anyhow!("runbooks {}: {}", dir.value.display(), f.message))?;
    tracing::info!(dir = %dir.value.display(), count = books.len(), "runbooks loaded");
    Ok(Arc::new(
        books.into_iter().map(|b| (b.id.clone(), b)).collect(),
    ))
}

/// The background workers (the engine, delivery and alert processing) and what the
/// HTTP app shares with them.
struct Workers {
    engine: Engine,
    delivery: Delivery,
    alerts: AlertProcessor,
    /// The one command path, built once: requests, the engine and delivery change
    /// incidents through it, and it wakes the engine and delivery when they have work.
    commands: Commands,
    pager: Pager,
    clock: Arc<dyn Clock>,
    runbooks: Runbooks,
    /// The public half of the Web Push (VAPID) key, for browsers to subscribe with.
    web_push_key: String,
}

impl Workers {
    /// Builds the workers under the instance name `owner`, after taking up the work a
    /// previous run under that name held.
    async fn build(
        settings: &Settings,
        store: Arc<dyn Store>,
        live: LivePolicy,
        owner: String,
    ) -> anyhow::Result<Workers> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let delivery_owner = format!("{owner}/delivery");
        let pager = Pager::open(store.clone(), &settings.public_url.value)
            .await
            .context("cannot read the acknowledge-link key")?
            .with_slack_bot_token(settings.slack.bot_token.as_ref().map(|t| t.0.clone()));
        let commands = Commands::new(store.clone(), live.clone(), clock.clone(), pager.clone());
        let engine = Engine::new(store.clone(), live.clone(), clock.clone(), owner.clone())
            .with_commands(commands.clone());
        let runbooks = load_runbooks(settings)?;
        let alerts = AlertProcessor::new(
            store.clone(),
            live.clone(),
            clock.clone(),
            owner.clone(),
            commands.clone(),
        )
        .with_runbooks(runbooks.clone());
        // Before any worker runs: the engine shares the processor's name, delivery has
        // its own.
        alerts
            .recover()
            .await
            .context("cannot take up the work a previous run held")?;
        store
            .release_leases(&delivery_owner)
            .await
            .context("cannot take up the work a previous run held")?;
        tracing::info!(instance = %owner, "instance name (labels the work this server holds)");
        let allow = settings.outbound_allow.value.clone();
        if !allow.is_nothing() {
            tracing::info!(allow = %allow.entries().join(", "), "[outbound] allow: webhooks may reach these internal addresses");
        }
        let (notifier, web_push_key) = notifier(settings, allow, store.as_ref()).await?;
        let delivery = Delivery::new(
            store,
            live,
            clock.clone(),
            delivery_owner,
            notifier,
            pager.clone(),
            DeliveryConfig::default(),
        )
        .with_commands(commands.clone());
        Ok(Workers {
            engine,
            delivery,
            alerts,
            commands,
            pager,
            clock,
            runbooks,
            web_push_key,
        })
    }
}

/// What every request handler shares: the store, the policy, the command path, the
/// alert inbox (whose writer starts here) and the settings the handlers read.
fn app_state(
    settings: &Settings,
    store: Arc<dyn Store>,
    live: LivePolicy,
    workers: &Workers,
) -> AppState {
    AppState {
        store: store.clone(),
        clock: workers.clock.clone(),
        policy: live,
        commands: workers.commands.clone(),
        inbox: fireline_http::receivers::inbox::InboxWriter::start(store, workers.alerts.waker()),
        pager: workers.pager.clone(),
        metrics_token: settings.metrics_token.as_ref().map(|t| t.0.clone()),
        runbooks: workers.runbooks.clone(),
        signin_throttle: Arc::default(),
        outbound: settings.outbound_allow.value.clone(),
        twilio_auth_token: twilio_auth_token(settings),
        web_push_key: Some(workers.web_push_key.clone()),
        slack: settings.slack.signing_secret.as_ref().map(|secret| {
            let app = fireline_http::SlackApp::new(
                secret.0.clone(),
                fireline_notify::SlackResponder::new(
                    Duration::from_secs(10),
                    settings.outbound_allow.value.clone(),
                ),
            );
            match &settings.slack.bot_token {
                Some(token) => app.with_web_api(fireline_notify::SlackWebApi::new(
                    &settings.slack.api_url,
                    &token.0,
                    Duration::from_secs(10),
                )),
                None => app,
            }
        }),
    }
}

/// Starts the engine, delivery and alert processing, which stop when `stop` turns true.
/// The handle resolves to true once they have finished and nothing of them is left
/// running (on SQLite, their runtime has been dropped too), so closing the store after
/// it never races them; false if they panicked.
fn start_work(
    backend: &str,
    workers: Workers,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<bool>> {
    let Workers {
        engine,
        delivery,
        alerts,
        ..
    } = workers;
    let (stop_engine, stop_delivery, stop_alerts) = (
        stopped(stop.clone()),
        stopped(stop.clone()),
        stopped(stop.clone()),
    );
    // One future, made where it runs.
    let work = move || async move {
        tokio::join!(
            engine.run(ENGINE_MAX_IDLE, stop_engine),
            delivery.run(ENGINE_MAX_IDLE, stop_delivery),
            alerts.run(ENGINE_MAX_IDLE, stop_alerts),
        );
    };
    if backend != "sqlite" {
        return Ok(tokio::spawn(async move {
            work().await;
            true
        }));
    }
    // On SQLite the work runs on a runtime of its own, on a thread of its own: its
    // CPU-heavy steps (folding incidents, deciding a unit of alerts) then never sit in
    // front of the receivers' requests on the HTTP runtime's workers, and the operating
    // system shares the cores between the two. This is safe only because sqlx-sqlite
    // drives each connection on a thread of its own, so a connection first opened here
    // serves HTTP handlers just as well. PostgreSQL connections are driven by the
    // runtime that opened them (its socket I/O would stall while this one is busy, and
    // die with it), so there the work stays on the main one.
    let (work_done, done) = tokio::sync::oneshot::channel::<()>();
    let work_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("fireline-work")
        .build()
        .context("cannot start the background runtime")?;
    std::thread::Builder::new()
        .name("fireline-work".into())
        .spawn(move || {
            work_runtime.block_on(work());
            // Dropped before reporting done: nothing of the work outlives the signal.
            drop(work_runtime);
            let _ = work_done.send(());
        })
        .context("cannot start the background thread")?;
    Ok(tokio::spawn(async move { done.await.is_ok() }))
}

/// A database without tokens or users gets a one-time code and one line on stderr with a
/// set-up link that carries it (like Jupyter's token URL): whoever opens it first chooses
/// the first admin's username and password, and the code is spent. A restart before
/// that replaces the code. Printed after "listening on" so the link works when read.
async fn first_start(store: &dyn Store, address: std::net::SocketAddr) -> anyhow::Result<()> {
    let code = fireline_http::users::issue_first_admin_code(store)
        .await
        .context("cannot create the first-admin code")?;
    let host = match address.ip() {
        ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    let shown = std::net::SocketAddr::new(host, address.port());
    eprintln!("open http://{shown}/ui/setup?code={code}");
    Ok(())
}

/// SIGINT/SIGTERM stop the server; SIGHUP reloads the policy (a broken file is refused
/// and the policy in force stays).
async fn signals(
    stop: watch::Sender<bool>,
    policy_path: Option<PathBuf>,
    live: LivePolicy,
    store: Arc<dyn Store>,
    wake: Arc<tokio::sync::Notify>,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::error!("cannot listen for signals; stop with SIGKILL");
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => { tracing::info!("SIGINT received; shutting down"); break; }
            _ = term.recv() => { tracing::info!("SIGTERM received; shutting down"); break; }
            _ = hup.recv() => reload(policy_path.as_ref(), &live, store.as_ref(), &wake).await,
        }
    }
    let _ = stop.send(true);
}

async fn reload(
    path: Option<&PathBuf>,
    live: &LivePolicy,
    store: &dyn Store,
    wake: &tokio::sync::Notify,
) {
    let Some(path) = path else {
        tracing::info!("SIGHUP: running the built-in policy; nothing to reload");
        return;
    };
    match load_policy(Some(path)) {
        Ok(policy) => {
            let label = policy.label();
            live.replace(policy);
            // Every incident is re-planned under the new policy on the next cycle.
            match store.reschedule_all(jiff::Timestamp::now()).await {
                Ok(n) => tracing::info!(policy = %label, incidents = n, "policy reloaded"),
                Err(e) => tracing::error!(error = %e, "policy reloaded, but rescheduling failed"),
            }
            wake.notify_one();
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "policy reload refused; the previous policy stays in force")
        }
    }
}
