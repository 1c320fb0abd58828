//! `fireline user …`: UI users, straight in the database (like `token`), so an admin can
//! be made before any server runs and a locked-out admin can be let back in.

use crate::config::Settings;
use crate::exit::Failure;
use crate::output::{listing, when, when_or_dash};
use clap::Subcommand;
use fireline_core::AccessRole;
use fireline_http::users::{self, UserError};
use fireline_http::wire::UserView;
use fireline_store::StoreError;
use std::io::{BufRead, IsTerminal};

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who signs in to the web UI with a password
    #[command(after_help = "Examples:
  fireline user create alice --role responder          # asks for the password twice
  printf '%s\\n' \"$PW\" | fireline user create ci-admin --role admin --password-stdin

Use the person's roster id as the username so \"mine\" and \"my shifts\" work.")]
    Create {
        /// Username: a-z, 0-9, '.', '_', '-'
        name: String,
        /// viewer (read), responder (act on incidents) or admin (everything)
        #[arg(long)]
        role: String,
        /// Read the password from the first line of stdin instead of asking
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users (never their password hashes)
    #[command(after_help = "Examples:\n  fireline user list\n  fireline user list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password; their sessions end
    #[command(after_help = "Example:\n  fireline user passwd alice")]
    Passwd {
        /// Username
        name: String,
        /// Read the password from the first line of stdin instead of asking
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user at once: no sign-in, sessions end
    Disable {
        /// Username
        name: String,
    },
    /// Enable a disabled user again
    Enable {
        /// Username
        name: String,
    },
}

/// Runs a user subcommand.
pub async fn run(settings: &Settings, command: &UserCommand) -> Result<(), Failure> {
    // Read the password before opening the database: a refused prompt changes nothing.
    let password = match command {
        UserCommand::Create { password_stdin, .. } | UserCommand::Passwd { password_stdin, .. } => {
            Some(read_password(*password_stdin)?)
        }
        _ => None,
    };
    let store = crate::config::open_store(settings).await?;
    let now = jiff::Timestamp::now();
    let result = match (command, password) {
        (UserCommand::Create { name, role, .. }, Some(password)) => {
            match role.parse::<AccessRole>() {
                Err(e) => Err(Failure::general(format!("--role: {e}"))),
                Ok(role) => users::create_user(store.as_ref(), name, role, &password, now)
                    .await
                    .map(|user| outln!("created user {} (role {})", user.name, user.role))
                    .map_err(|e| user_failure(e, name)),
            }
        }
        (UserCommand::Passwd { name, .. }, Some(password)) => {
            users::change_password(store.as_ref(), name, &password, now)
                .await
                .map(|()| outln!("password of {name} changed; their sessions have ended"))
                .map_err(|e| user_failure(e, name))
        }
        (UserCommand::List { json }, _) => list(store.as_ref(), *json).await,
        (UserCommand::Disable { name }, _) => store
            .set_user_disabled(name, Some(now))
            .await
            .map(|u| outln!("disabled {}; their sessions have ended", u.name))
            .map_err(|e| user_failure(e.into(), name)),
        (UserCommand::Enable { name }, _) => store
            .set_user_disabled(name, None)
            .await
            .map(|u| outln!("enabled {}", u.name))
            .map_err(|e| user_failure(e.into(), name)),
        (UserCommand::Create { .. } | UserCommand::Passwd { .. }, None) => {
            Err(Failure::general("no password was read"))
        }
    };
    store.close().await;
    result
}

async fn list(store: &dyn fireline_store::Store, json: bool) -> Result<(), Failure> {
    let users = store
        .list_users()
        .await
        .map_err(|e| user_failure(e.into(), ""))?;
    listing(
        &users,
        json,
        |u| UserView::from(u),
        "no users; create one with `fireline user create NAME --role admin`",
        &["NAME", "ROLE", "CREATED", "PASSWORD SET", "DISABLED"],
        |u| {
            vec![
                u.name.clone(),
                u.role.to_string(),
                when(&u.created_at),
                when(&u.password_changed_at),
                when_or_dash(u.disabled_at.as_ref()),
            ]
        },
    )
}

/// The new password: the first line of stdin with `--password-stdin`, else asked twice
/// on the terminal without echo.
fn read_password(from_stdin: bool) -> Result<String, Failure> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::general(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::general(
                "no terminal to ask for the password; pass --password-stdin and pipe it in",
            ));
        }
        let first = rpassword::prompt_password("Password: ")
            .map_err(|e| Failure::general(format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("Password again: ")
            .map_err(|e| Failure::general(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(Failure::general(
                "the two passwords differ; nothing changed",
            ));
        }
        first
    };
    users::check_password(&password).map_err(|e| Failure::general(e.to_string()))?;
    Ok(password)
}

fn user_failure(e: UserError, name: &str) -> Failure {
    match e {
        UserError::Store(StoreError::NotFound) => {
            Failure::general(format!("no user {name}; see `fireline user list`"))
        }
        UserError::Store(StoreError::Exists(_)) => {
            Failure::general(format!("user {name} already exists"))
        }
        UserError::Store(e @ StoreError::Unavailable(_)) => Failure::unreachable(e.to_string()),
        UserError::Invalid { field, message } => Failure::general(format!("{field}: {message}")),
        other => Failure::general(other.to_string()),
    }
}
