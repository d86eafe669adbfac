//! The two kinds of error: a [`UserError`] is shown to the user as a message from the
//! catalogue; an [`InternalError`] is logged with its cause chain and the user sees one apology
//! with a reference id. Internal error text never reaches a user.

use std::fmt;

/// A problem the user can act on, rendered from a message key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl UserError {
    /// A user error with no placeholders.
    pub fn new(key: &'static str) -> Self {
        UserError { key, args: Vec::new() }
    }

    /// Adds a placeholder value.
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user error {}", self.key)
    }
}

impl std::error::Error for UserError {}

/// A failure inside the bot (database down, a bug). Carries the cause chain for the log.
#[derive(Debug)]
pub struct InternalError(pub anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for InternalError {
    fn from(e: E) -> Self {
        InternalError(e.into())
    }
}

/// Either kind, for handlers.
#[derive(Debug)]
pub enum HandlerError {
    User(UserError),
    Internal(anyhow::Error),
}

impl From<UserError> for HandlerError {
    fn from(e: UserError) -> Self {
        HandlerError::User(e)
    }
}

impl From<anyhow::Error> for HandlerError {
    fn from(e: anyhow::Error) -> Self {
        HandlerError::Internal(e)
    }
}

/// What handlers return.
pub type HandlerResult<T> = Result<T, HandlerError>;

/// A short reference id for an internal error, shown to the user and written to the log so
/// the two can be matched without exposing the error itself.
pub fn reference_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default(),
    );
    format!("E-{:08X}", h.finish() as u32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reference_ids_differ() {
        let a = super::reference_id();
        let b = super::reference_id();
        assert_ne!(a, b);
        assert!(a.starts_with("E-") && a.len() == 10);
    }
}
