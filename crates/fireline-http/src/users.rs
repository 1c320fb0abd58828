//! UI users: usernames with argon2id password hashes, and the one-time code that lets the
//! first admin in on a fresh database.
//!
//! Hashing is deliberately slow (argon2id with the crate's defaults: 19 MiB, 2 passes,
//! OWASP's recommendation), so callers run it off the async threads
//! ([`tokio::task::spawn_blocking`]), a few at a time, each in a memory buffer borrowed
//! from [`block_pool`] rather than allocated per hash. A sign-in for an unknown or
//! disabled user still verifies against a fixed hash, so the answer's timing does not
//! tell which names exist.

use argon2::password_hash::{Output, PasswordHash, SaltString};
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
                crate::ApiError::exists("name", format!("{what} already exists"))
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

/// Argon2 memory blocks kept for reuse. Each hash needs `m_cost` KiB (19 MiB with the
/// defaults); allocating and freeing that per sign-in leaves the allocator holding
/// freed buffers in per-thread arenas (about 0.9 GB after a burst of failed sign-ins),
/// so hashes borrow a buffer from here instead. At most [`BlockPool::capacity`]
/// buffers ever exist: a hash that finds none free waits for one, so peak hashing memory
/// is `capacity × m_cost` however many requests arrive.
#[derive(Debug)]
pub struct BlockPool {
    /// Buffers not in use.
    free: std::sync::Mutex<PoolState>,
    /// Signalled when a buffer is returned.
    returned: std::sync::Condvar,
    capacity: usize,
}

#[derive(Debug, Default)]
struct PoolState {
    free: Vec<Vec<argon2::Block>>,
    /// Buffers allocated so far (free or lent out); never more than the capacity.
    created: usize,
}

/// Largest `m_cost` (KiB) a stored hash may ask for: hashes are made here with the
/// defaults, so anything far larger is damage, and honouring it would defeat the bound.
const MAX_M_COST_KIB: u32 = 64 * 1024;

impl BlockPool {
    /// A pool that lends at most `capacity` buffers at once (at least one).
    pub fn new(capacity: usize) -> BlockPool {
        BlockPool {
            free: std::sync::Mutex::new(PoolState::default()),
            returned: std::sync::Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// How many buffers may exist at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many buffers have been allocated (free or lent out).
    pub fn allocated(&self) -> usize {
        self.lock().created
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work` with a buffer of at least `blocks` blocks, waiting (blocking the
    /// thread) while every buffer is lent out. Call from a blocking thread.
    pub fn with_blocks<T>(&self, blocks: usize, work: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
        let mut buffer = {
            let mut state = self.lock();
            loop {
                if let Some(buffer) = state.free.pop() {
                    break buffer;
                }
                if state.created < self.capacity {
                    state.created += 1;
                    break Vec::new();
                }
                state = self.returned.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        if buffer.len() < blocks {
            buffer.resize(blocks, argon2::Block::default());
        }
        let result = work(&mut buffer[..blocks]);
        self.lock().free.push(buffer);
        self.returned.notify_one();
        result
    }
}

/// The process's hashing buffers: as many as hashes may run at once (see `hashing_slots`).
pub fn block_pool() -> &'static BlockPool {
    static POOL: std::sync::OnceLock<BlockPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| BlockPool::new(hashing_parallelism()))
}

fn hashing_error(e: impl std::fmt::Display) -> UserError {
    UserError::Hashing(e.to_string())
}

/// Argon2 with `params` over `password` and `salt` into `out`, in a pooled buffer.
fn argon2_into(
    algorithm: argon2::Algorithm,
    version: argon2::Version,
    params: argon2::Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), UserError> {
    if params.m_cost() > MAX_M_COST_KIB {
        return Err(UserError::Hashing(format!(
            "a stored hash asks for {} KiB, more than the {MAX_M_COST_KIB} KiB allowed",
            params.m_cost()
        )));
    }
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    block_pool()
        .with_blocks(blocks, |memory| {
            argon.hash_password_into_with_memory(password, salt, out, memory)
        })
        .map_err(hashing_error)
}

/// The argon2id hash of `password` in PHC string form, with a fresh random salt. Slow:
/// call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| UserError::Hashing(format!("no randomness from the OS: {e}")))?;
    let params = argon2::Params::default();
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.clone(),
        password.as_bytes(),
        &salt,
        &mut out,
    )?;
    let salt = SaltString::encode_b64(&salt).map_err(hashing_error)?;
    let hash = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: argon2::password_hash::ParamsString::try_from(&params).map_err(hashing_error)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hashing_error)?),
    };
    Ok(hash.to_string())
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
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let check = || -> Result<bool, UserError> {
        let algorithm = argon2::Algorithm::try_from(parsed.algorithm).map_err(hashing_error)?;
        let version = parsed
            .version
            .map(argon2::Version::try_from)
            .transpose()
            .map_err(hashing_error)?
            .unwrap_or_default();
        let params = argon2::Params::try_from(&parsed).map_err(hashing_error)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let mut salt_buf = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_buf).map_err(hashing_error)?;
        let mut out = vec![0u8; expected.len()];
        argon2_into(
            algorithm,
            version,
            params,
            password.as_bytes(),
            salt,
            &mut out,
        )?;
        // Output's equality is constant-time.
        Ok(Output::new(&out).map_err(hashing_error)? == expected)
    };
    check().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a stored password hash cannot be checked");
        false
    })
}

/// How many hashes may run at once: about the cores.
fn hashing_parallelism() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// At most this many hashes at once (about the cores): each takes 19 MiB and a core for
/// tens of milliseconds, and sign-in and set-up can be called by anyone. The pool
/// ([`block_pool`]) bounds the memory on its own; this keeps waiting hashes off the
/// blocking threads.
fn hashing_slots() -> &'static std::sync::Arc<tokio::sync::Semaphore> {
    static SLOTS: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::OnceLock::new();
    SLOTS.get_or_init(|| std::sync::Arc::new(tokio::sync::Semaphore::new(hashing_parallelism())))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UserError> {
    // The permit moves into the blocking task, so a request that gives up waiting (the
    // client went away) does not free its slot while its hash still runs.
    let slot = hashing_slots()
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| UserError::Hashing(format!("hashing slots closed: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(slot);
        result
    })
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
/// Usernames tracked at most. When the table is full, entries whose window is over go
/// first, then the least recently tried name that is only counting failures, then —
/// only when every entry is a lock-out — the least recently tried lock-out. A name
/// under attack is tried all the time, so it is the last to go, and a new name is
/// never refused for lack of room.
const THROTTLE_ENTRIES: usize = 10_000;

/// One username's failures.
#[derive(Debug, Clone, Copy)]
struct ThrottleEntry {
    /// Attempts counted in the window.
    failures: u32,
    /// When the window started.
    since: Timestamp,
    /// The last attempt, refused ones included: eviction picks the least recent.
    seen: Timestamp,
}

impl ThrottleEntry {
    fn locked(&self) -> bool {
        self.failures >= THROTTLE_FAILURES
    }
}

/// Slows password guessing: after [`THROTTLE_FAILURES`] failed sign-ins for a username
/// within [`THROTTLE_WINDOW`], further attempts for it are refused for the rest of the
/// window without verifying. Per process (each replica counts its own), in memory (a
/// restart forgets), keyed by a SHA-256 digest of the name as typed, trimmed and
/// lowercased — a fixed 32 bytes however long the name sent, so an entry costs the same
/// for a 64 KiB name as for `alice` — and bounded to `THROTTLE_ENTRIES` names (see
/// there for what is evicted). A lock-out cannot be used to learn whether a name exists:
/// unknown names are counted the same way.
#[derive(Debug, Default)]
pub struct Throttle {
    /// Digest of the username → its failures.
    failures: std::sync::Mutex<std::collections::HashMap<ThrottleKey, ThrottleEntry>>,
}

/// What the throttle keeps of a name: its digest (no heap, whatever the name's length).
type ThrottleKey = [u8; 32];

impl Throttle {
    fn key(name: &str) -> ThrottleKey {
        use sha2::Digest;
        sha2::Sha256::digest(name.trim().to_lowercase().as_bytes()).into()
    }

    /// Makes room for one more name in a full table.
    fn make_room(map: &mut std::collections::HashMap<ThrottleKey, ThrottleEntry>, now: Timestamp) {
        map.retain(|_, e| now.duration_since(e.since) < THROTTLE_WINDOW);
        if map.len() < THROTTLE_ENTRIES {
            return;
        }
        // Plain failure counters before lock-outs, so a flood of names cannot lift a
        // lock-out while there is anything else to drop; the least recently tried first.
        let victim = map
            .iter()
            .min_by_key(|(_, e)| (e.locked(), e.seen))
            .map(|(k, _)| *k);
        if let Some(key) = victim {
            map.remove(&key);
        }
    }

    /// Reserves a sign-in attempt for `name` at `now`, or `Err(wait)` while it is
    /// locked out. Counted before the password is checked, so parallel guesses cannot all
    /// slip in before the first failure is recorded; [`Throttle::succeeded`] clears it.
    pub fn attempt(&self, name: &str, now: Timestamp) -> Result<(), jiff::SignedDuration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let key = Self::key(name);
        if map.len() >= THROTTLE_ENTRIES && !map.contains_key(&key) {
            Self::make_room(&mut map, now);
        }
        let entry = map.entry(key).or_insert(ThrottleEntry {
            failures: 0,
            since: now,
            seen: now,
        });
        entry.seen = entry.seen.max(now);
        if now.duration_since(entry.since) >= THROTTLE_WINDOW {
            entry.failures = 0;
            entry.since = now;
        }
        if entry.locked() {
            let ends = entry.since.checked_add(THROTTLE_WINDOW).unwrap_or(now);
            return Err(ends.duration_since(now));
        }
        entry.failures += 1;
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
        // Hashes stored before the pooled hashing (the crate's own PHC output) still
        // verify, and ours verify with the crate's verifier.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(&[7u8; 16]).expect("salt");
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_password("correct horse battery", &theirs));
        assert!(!verify_password("wrong horse battery", &theirs));
        let ours = PasswordHash::new(&hash).expect("PHC");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &ours)
            .is_ok());
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
            .contains_key(&Throttle::key("alice")));
    }

    #[test]
    fn the_sign_in_throttle_keeps_a_fixed_size_per_name() {
        // An entry is its key and counters inline: nothing on the heap that grows with
        // the name, so 10,000 entries cost the same whatever names were sent.
        assert_eq!(std::mem::size_of::<ThrottleKey>(), 32);
        let entry = std::mem::size_of::<(ThrottleKey, ThrottleEntry)>();
        assert!(entry <= 96, "{entry} bytes per entry");
        let t0 = Timestamp::from_second(1_800_000_000).expect("valid");
        let throttle = Throttle::default();
        let long = format!("Mallory{}", "x".repeat(60 * 1024));
        for i in 0..THROTTLE_FAILURES {
            assert!(throttle.attempt(&long, t0).is_ok(), "attempt {i}");
        }
        assert!(
            throttle.attempt(&long.to_uppercase(), t0).is_err(),
            "a long name is throttled like any other"
        );
        assert!(
            throttle.attempt(&long[..long.len() - 1], t0).is_ok(),
            "another name is not"
        );
        let map = throttle.failures.lock().expect("lock");
        assert_eq!(map.len(), 2);
        assert!(map.contains_key(&Throttle::key(&long)));
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
    fn sign_in_after_ten_thousand_locked_names_still_works() {
        let t0 = Timestamp::from_second(1_800_000_000).expect("valid");
        let throttle = Throttle::default();
        let lock_out = |name: &str, at: Timestamp| {
            for _ in 0..THROTTLE_FAILURES {
                assert!(throttle.attempt(name, at).is_ok(), "{name}");
            }
            assert!(throttle.attempt(name, at).is_err(), "{name} locked out");
        };
        lock_out("victim", t0);
        // An attacker locks out ten thousand names while still guessing at the victim.
        for i in 0..THROTTLE_ENTRIES {
            let at = t0 + jiff::SignedDuration::from_millis(i64::try_from(i).expect("small"));
            lock_out(&format!("name-{i}"), at);
            if i % 100 == 0 {
                assert!(throttle.attempt("victim", at).is_err(), "still locked");
            }
        }
        let later = t0 + jiff::SignedDuration::from_secs(20);
        assert!(
            throttle.attempt("carol", later).is_ok(),
            "a new name can still sign in"
        );
        assert!(
            throttle.attempt("victim", later).is_err(),
            "the name under attack stays locked out"
        );
        assert!(throttle.failures.lock().expect("lock").len() <= THROTTLE_ENTRIES);
        // When the window is over, everything is forgotten.
        let after = t0 + THROTTLE_WINDOW + jiff::SignedDuration::from_secs(60);
        assert!(throttle.attempt("victim", after).is_ok());
        assert!(throttle.attempt("someone-new", after).is_ok());
    }

    #[test]
    fn hashing_memory_is_bounded_by_the_pool() {
        let pool = block_pool();
        assert_eq!(pool.capacity(), hashing_parallelism());
        // More hashes at once than the pool lends buffers: they wait, none allocates.
        let threads: Vec<_> = (0..pool.capacity() * 3)
            .map(|i| {
                std::thread::spawn(move || {
                    let hash = hash_password(&format!("password number {i}")).expect("hash");
                    assert!(verify_password(&format!("password number {i}"), &hash));
                })
            })
            .collect();
        for t in threads {
            t.join().expect("hashing thread");
        }
        assert!(
            pool.allocated() <= pool.capacity(),
            "{} buffers for {} slots",
            pool.allocated(),
            pool.capacity()
        );
        // A small pool on its own: one buffer, reused, however many hashes run.
        let small = BlockPool::new(1);
        let seen = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    small.with_blocks(8, |blocks| {
                        seen.lock().expect("lock").push(blocks.as_ptr() as usize);
                    });
                });
            }
        });
        assert_eq!(small.allocated(), 1);
        let seen = seen.into_inner().expect("lock");
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "one buffer reused");
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
