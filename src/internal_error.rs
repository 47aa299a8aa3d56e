//! An error that is neither the caller's nor the database's: something Herald found that its own code
//! should never produce (a key of the wrong size, a webhook without a secret). The API answers it with 500
//! and logs it once, like any internal error; it is kept apart from `StoreError`, whose variants say what
//! the database did.

/// What went wrong, in words for the log.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InternalError(pub String);

impl InternalError {
    pub fn new(what: impl Into<String>) -> Self {
        Self(what.into())
    }
}
