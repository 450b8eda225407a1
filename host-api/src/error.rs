//! The failures a host call can report to the guest.

use crate::bindings::automa::host::types::Error as WitError;

/// Why a host call did not do what the script asked. Turned into the WIT `error`
/// variant, which the SDK raises as a Python exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The capabilities do not allow the call; the text says how to grant it.
    #[error("denied: {0}")]
    Denied(String),
    /// The arguments were malformed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The call ran out of time.
    #[error("timeout: {0}")]
    Timeout(String),
    /// A size limit was exceeded.
    #[error("too large: {0}")]
    TooLarge(String),
    /// A cap on the number of calls was reached.
    #[error("limit reached: {0}")]
    LimitReached(String),
    /// The named thing does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The host or a remote party failed.
    #[error("failed: {0}")]
    Failed(String),
}

impl HostError {
    /// The same kind of error with its message rewritten by `f`.
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            HostError::Denied(m) => HostError::Denied(f(m)),
            HostError::InvalidInput(m) => HostError::InvalidInput(f(m)),
            HostError::Timeout(m) => HostError::Timeout(f(m)),
            HostError::TooLarge(m) => HostError::TooLarge(f(m)),
            HostError::LimitReached(m) => HostError::LimitReached(f(m)),
            HostError::NotFound(m) => HostError::NotFound(f(m)),
            HostError::Failed(m) => HostError::Failed(f(m)),
        }
    }

    /// A short stable name of the kind, for audit records.
    pub fn kind(&self) -> &'static str {
        match self {
            HostError::Denied(_) => "denied",
            HostError::InvalidInput(_) => "invalid_input",
            HostError::Timeout(_) => "timeout",
            HostError::TooLarge(_) => "too_large",
            HostError::LimitReached(_) => "limit_reached",
            HostError::NotFound(_) => "not_found",
            HostError::Failed(_) => "failed",
        }
    }
}

impl From<HostError> for WitError {
    fn from(error: HostError) -> Self {
        match error {
            HostError::Denied(m) => WitError::Denied(m),
            HostError::InvalidInput(m) => WitError::InvalidInput(m),
            HostError::Timeout(m) => WitError::Timeout(m),
            HostError::TooLarge(m) => WitError::TooLarge(m),
            HostError::LimitReached(m) => WitError::LimitReached(m),
            HostError::NotFound(m) => WitError::NotFound(m),
            HostError::Failed(m) => WitError::Failed(m),
        }
    }
}

impl From<WitError> for HostError {
    fn from(error: WitError) -> Self {
        match error {
            WitError::Denied(m) => HostError::Denied(m),
            WitError::InvalidInput(m) => HostError::InvalidInput(m),
            WitError::Timeout(m) => HostError::Timeout(m),
            WitError::TooLarge(m) => HostError::TooLarge(m),
            WitError::LimitReached(m) => HostError::LimitReached(m),
            WitError::NotFound(m) => HostError::NotFound(m),
            WitError::Failed(m) => HostError::Failed(m),
        }
    }
}
