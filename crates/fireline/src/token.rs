//! `fireline token …`: works on the database directly, so the first admin token can be
//! made before any server runs.

use crate::config::Settings;
use crate::exit::Failure;
use crate::output::{listing, when, when_or_dash};
use clap::Subcommand;
use fireline_core::AccessRole;
use fireline_http::auth::{issue_token, IssueError};
use fireline_http::wire::TokenView;
use fireline_store::StoreError;

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it alone on stdout (it is shown only once)
    #[command(after_help = "Examples:
  fireline token create --role admin
  fireline token create --role responder --name alertmanager")]
    Create {
        /// viewer (read), responder (act on incidents) or admin (everything)
        #[arg(long)]
        role: String,
        /// Principal the token acts as, shown on the timeline [default: the token id]
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens (never their secrets)
    #[command(after_help = "Examples:\n  fireline token list\n  fireline token list --json")]
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token at once
    #[command(after_help = "Example:\n  fireline token revoke tok_3f9a0c1d2e4b5a69")]
    Revoke {
        /// Token id (tok_…), from `token list`
        id: String,
    },
}

/// Runs a token subcommand.
pub async fn run(settings: &Settings, command: &TokenCommand) -> Result<(), Failure> {
    let store = crate::config::open_store(settings).await?;
    let result = match command {
        TokenCommand::Create { role, name } => {
            let role: AccessRole =
                role.parse()
                    .map_err(|e: fireline_core::access::UnknownAccessRole| {
                        Failure::general(format!("--role: {e}"))
                    })?;
            let (secret, record) = issue_token(
                store.as_ref(),
                name.as_deref(),
                role,
                jiff::Timestamp::now(),
            )
            .await
            .map_err(|e| match e {
                IssueError::Invalid(d) => Failure::general(format!("--{d}")),
                IssueError::Store(s) => Failure::general(s.to_string()),
            })?;
            eprintln!(
                "created {} ({}, role {}); it is shown only once",
                record.id, record.name, record.role
            );
            outln!("{secret}");
            Ok(())
        }
        TokenCommand::List { json } => {
            let tokens = store.list_tokens().await.map_err(store_failure)?;
            listing(
                &tokens,
                *json,
                |t| TokenView::from(t),
                "no tokens; create one with `fireline token create --role admin`",
                &["ID", "NAME", "ROLE", "CREATED", "REVOKED"],
                |t| {
                    vec![
                        t.id.clone(),
                        t.name.clone(),
                        t.role.to_string(),
                        when(&t.created_at),
                        when_or_dash(t.revoked_at.as_ref()),
                    ]
                },
            )
        }
        TokenCommand::Revoke { id } => match store.revoke_token(id, jiff::Timestamp::now()).await {
            Ok(record) => {
                outln!("revoked {} ({})", record.id, record.name);
                Ok(())
            }
            Err(StoreError::NotFound) => Err(Failure::general(format!(
                "no token {id}; see `fireline token list`"
            ))),
            Err(e) => Err(store_failure(e)),
        },
    };
    store.close().await;
    result
}

fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::Unavailable(_) => Failure::unreachable(e.to_string()),
        other => Failure::general(other.to_string()),
    }
}
