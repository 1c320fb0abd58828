//! UI users: usernames with argon2id password hashes, and the one-time code that lets the
//! first admin in on a fresh database.
//!
//! Hashing is deliberately slow (argon2id with the crate's defaults: 19 MiB, 2 passes,
//! OWASP's recommendation), so callers run it off the async threads
//! ([`tokio::task::spawn_blocking`]). A sign-in for an unknown or disabled user still
//! verifies against a fixed hash, so the answer's timing does not tell which names exist.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use fireline_core::{hash_token, AccessRole};
use fireline_store::{Store, StoreError, UserRecord};
use jiff::Timestamp;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask for more).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: hashing cost grows with length, so an unbounded one is a
/// denial-of-service lever.
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Why a user could not be created, changed or signed in.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A field is unacceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Hashing failed (no randomness from the OS, or a damaged stored hash).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UserError> for crate::ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Invalid { field, message } => crate::ApiError::invalid(field, message),
            UserError::Store(StoreError::Exists(what)) => {
                crate::ApiError::Conflict(format!("{what} already exists"))
            }
            UserError::Store(s) => s.into(),
            UserError::Hashing(m) => {
                tracing::error!(error = %m, "password hashing failed");
                crate::ApiError::Internal
            }
        }
    }
}

/// Checks a username: 1–64 characters of `a-z 0-9 . _ -`, starting with a letter or
/// digit. Usernames are the principal recorded on the timeline, so they match roster
/// person ids' alphabet (use the person's id to have "mine" work).
pub fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(UserError::Invalid {
            field: "name",
            message: "a username is 1-64 characters of a-z, 0-9, '.', '_' and '-', \
                      starting with a letter or digit"
                .to_owned(),
        })
    }
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), UserError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(UserError::Invalid {
            field: "password",
            message: format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(UserError::Invalid {
            field: "password",
            message: format!("a password may have at most {MAX_PASSWORD_BYTES} bytes"),
        });
    }
    Ok(())
}

/// The argon2id hash of `password` in PHC string form, with a fresh random salt. Slow:
/// call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| UserError::Hashing(format!("no randomness from the OS: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| UserError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hashing(e.to_string()))
}

/// A hash of a password nobody has, verified against when the user does not exist so
/// that both answers take as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password("fireline decoy password, never valid")
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$invalid".to_owned())
    })
}

/// Whether `password` matches the PHC `hash` (a malformed hash matches nothing). Slow.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// At most this many hashes at once (about the cores): each takes 19 MiB and a core for
/// tens of milliseconds, and sign-in and set-up can be called by anyone.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UserError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| UserError::Hashing(format!("hashing slots closed: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| UserError::Hashing(format!("hashing task failed: {e}")))
}

/// A new user's record with its password hashed (off the async threads).
pub async fn new_user(
    name: &str,
    role: AccessRole,
    password: &str,
    now: Timestamp,
) -> Result<UserRecord, UserError> {
    check_name(name)?;
    check_password(password)?;
    let password = password.to_owned();
    let password_hash = blocking(move || hash_password(&password)).await??;
    Ok(UserRecord {
        name: name.to_owned(),
        role,
        password_hash,
        created_at: now,
        password_changed_at: now,
        disabled_at: None,
        sessions_from: now,
    })
}

/// Creates a user; [`StoreError::Exists`] (inside [`UserError::Store`]) when the name is
/// taken.
pub async fn create_user(
    store: &dyn Store,
    name: &str,
    role: AccessRole,
    password: &str,
    now: Timestamp,
) -> Result<UserRecord, UserError> {
    let user = new_user(name, role, password, now).await?;
    store.insert_user(&user).await?;
    Ok(user)
}

/// Sets a new password, which ends the user's sessions.
pub async fn change_password(
    store: &dyn Store,
    name: &str,
    password: &str,
    now: Timestamp,
) -> Result<(), UserError> {
    check_password(password)?;
    let password = password.to_owned();
    let hash = blocking(move || hash_password(&password)).await??;
    store.update_user_password(name, &hash, now).await?;
    Ok(())
}

/// The enabled user `name` if `password` is theirs. Unknown, disabled and wrong answer
/// alike, in about the same time.
pub async fn authenticate(
    store: &dyn Store,
    name: &str,
    password: &str,
) -> Result<Option<UserRecord>, UserError> {
    let user = store.user(name).await?.filter(|u| u.disabled_at.is_none());
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = password.to_owned();
    // The decoy is made (once) on the blocking thread too, never on an async worker.
    let matches = blocking(move || {
        verify_password(&password, hash.as_deref().unwrap_or_else(|| decoy_hash()))
    })
    .await?;
    Ok(user.filter(|_| matches))
}

/// Makes a new one-time first-admin code, stores its hash (replacing any earlier code)
/// and returns the code, to be shown once.
pub async fn issue_first_admin_code(store: &dyn Store) -> Result<String, UserError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| UserError::Hashing(format!("no randomness from the OS: {e}")))?;
    let code = hex::encode(bytes);
    store.set_first_admin_code(&hash_token(&code)).await?;
    Ok(code)
}

/// Creates the first admin if `code` is the one-time code; `Ok(None)` when it is not
/// (or was used already).
pub async fn claim_first_admin(
    store: &dyn Store,
    code: &str,
    name: &str,
    password: &str,
    now: Timestamp,
) -> Result<Option<UserRecord>, UserError> {
    check_name(name)?;
    check_password(password)?;
    // The cheap check first: a made-up code costs one read, not a password hash.
    let code_hash = hash_token(code);
    if !store.first_admin_code_is(&code_hash).await? {
        return Ok(None);
    }
    let user = new_user(name, AccessRole::Admin, password, now).await?;
    if store.claim_first_admin(&code_hash, &user).await? {
        Ok(Some(user))
    } else {
        Ok(None)
    }
}

/// Failed password sign-ins allowed per username within [`THROTTLE_WINDOW`]…
pub const THROTTLE_FAILURES: u32 = 5;
/// …after which that username is refused without checking for this long.
pub const THROTTLE_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);
/// Usernames tracked at most: past it, entries whose window is over are dropped (and,
/// if all are live, the map is cleared rather than grow without bound).
const THROTTLE_ENTRIES: usize = 10_000;

/// Slows password guessing: after [`THROTTLE_FAILURES`] failed sign-ins for a username
/// within [`THROTTLE_WINDOW`], further attempts for it are refused for the rest of the
/// window without verifying. Per process (each replica counts its own), in memory (a
/// restart forgets), keyed by the name as typed, lowercased. A lock-out cannot be used
/// to learn whether a name exists: unknown names are counted the same way.
#[derive(Debug, Default)]
pub struct Throttle {
    /// Username → (failures in the window, when the window started).
    failures: std::sync::Mutex<std::collections::HashMap<String, (u32, Timestamp)>>,
}

impl Throttle {
    fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// Reserves a sign-in attempt for `name` at `now`, or `Err(wait)` while it is
    /// locked out. Counted before the password is checked, so parallel guesses cannot all
    /// slip in before the first failure is recorded; [`Throttle::succeeded`] clears it.
    pub fn attempt(&self, name: &str, now: Timestamp) -> Result<(), jiff::SignedDuration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let key = Self::key(name);
        if map.len() >= THROTTLE_ENTRIES && !map.contains_key(&key) {
            map.retain(|_, (_, since)| now.duration_since(*since) < THROTTLE_WINDOW);
            // Still full of live entries (a flood of names): drop the oldest entry that
            // is not locked out, never a lock-out, so flooding cannot lift one. If every
            // entry is a lock-out, new names wait for the window too.
            if map.len() >= THROTTLE_ENTRIES {
                let unlocked = map
                    .iter()
                    .filter(|(_, (count, _))| *count < THROTTLE_FAILURES)
                    .min_by_key(|(_, (_, since))| *since)
                    .map(|(k, _)| k.clone());
                match unlocked {
                    Some(key) => {
                        map.remove(&key);
                    }
                    None => return Err(THROTTLE_WINDOW),
                }
            }
        }
        let entry = map.entry(key).or_insert((0, now));
        if now.duration_since(entry.1) >= THROTTLE_WINDOW {
            *entry = (0, now);
        }
        if entry.0 >= THROTTLE_FAILURES {
            let ends = entry.1.checked_add(THROTTLE_WINDOW).unwrap_or(now);
            return Err(ends.duration_since(now));
        }
        entry.0 += 1;
        Ok(())
    }

    /// A successful sign-in clears `name`'s count.
    pub fn succeeded(&self, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&Self::key(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        let again = hash_password("correct horse battery").expect("hash");
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[test]
    fn a_name_is_locked_out_after_repeated_failures_until_the_window_ends() {
        let t0 = Timestamp::from_second(1_800_000_000).expect("valid");
        let at = |secs: i64| t0 + jiff::SignedDuration::from_secs(secs);
        let throttle = Throttle::default();
        for i in 0..THROTTLE_FAILURES {
            assert!(
                throttle.attempt("Alice", at(i64::from(i))).is_ok(),
                "attempt {i}"
            );
        }
        let wait = throttle
            .attempt("ALICE ", at(10))
            .expect_err("locked after five");
        assert_eq!(wait, THROTTLE_WINDOW - jiff::SignedDuration::from_secs(10));
        assert!(throttle.attempt("bob", at(10)).is_ok(), "per name");
        assert!(
            throttle.attempt("alice", at(300)).is_ok(),
            "the window ends"
        );
        throttle.succeeded("alice");
        assert!(!throttle
            .failures
            .lock()
            .expect("lock")
            .contains_key("alice"));
    }

    #[test]
    fn a_flood_of_names_does_not_lift_a_lock_out() {
        let t0 = Timestamp::from_second(1_800_000_000).expect("valid");
        let throttle = Throttle::default();
        for _ in 0..THROTTLE_FAILURES {
            assert!(throttle.attempt("victim", t0).is_ok());
        }
        let later = t0 + jiff::SignedDuration::from_secs(1);
        for i in 0..THROTTLE_ENTRIES + 10 {
            let _ = throttle.attempt(&format!("name-{i}"), later);
        }
        assert!(
            throttle.attempt("victim", later).is_err(),
            "a lock-out survives a flood of other names"
        );
        assert!(throttle.failures.lock().expect("lock").len() <= THROTTLE_ENTRIES);
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_name("alice").is_ok());
        assert!(check_name("a.b-c_9").is_ok());
        for bad in ["", "Alice", "-x", "a b", "ünï", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_password("short").is_err());
        assert!(check_password("long enough!").is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
