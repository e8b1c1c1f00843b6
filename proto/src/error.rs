//! Errors on the wire: a stable code and a message for people.

use serde::{Deserialize, Serialize};

/// An error: a stable `code` (one of [`code`]) and a message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// `invalid_argument` with this message (it names the argument).
    pub fn invalid(message: impl Into<String>) -> ErrorBody {
        ErrorBody::new(code::INVALID_ARGUMENT, message)
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErrorBody {}

/// The stable error codes.
pub mod code {
    /// The line is not JSON, or not a request object.
    pub const PARSE_ERROR: &str = "parse_error";
    /// The line exceeds [`crate::MAX_REQUEST`]; the connection is closed.
    pub const REQUEST_TOO_LARGE: &str = "request_too_large";
    /// No such command.
    pub const UNKNOWN_COMMAND: &str = "unknown_command";
    /// A missing, mistyped or out-of-range argument (the message names it;
    /// configuration rules are reported with their JSON path).
    pub const INVALID_ARGUMENT: &str = "invalid_argument";
    pub const UNKNOWN_SERVICE: &str = "unknown_service";
    pub const UNKNOWN_SERVER: &str = "unknown_server";
    pub const UNKNOWN_SESSION: &str = "unknown_session";
    /// A service or server of that name exists already.
    pub const ALREADY_EXISTS: &str = "already_exists";
    /// The service still has live sessions (remove, or a change that
    /// recreates it: VIP, port, protocol, algorithm).
    pub const SERVICE_BUSY: &str = "service_busy";
    /// `config.reload`: the file is unreadable or invalid; nothing changed.
    pub const INVALID_CONFIG: &str = "invalid_config";
    /// The change touches what only a restart can change (ports, labels,
    /// control, timeouts); nothing changed.
    pub const RESTART_REQUIRED: &str = "restart_required";
    /// `instance.drain`, `instance.undrain`: slbd announces no VIPs (no
    /// `cluster.announce_table`), so there is nothing to withdraw.
    pub const NOT_ANNOUNCING: &str = "not_announcing";
    /// `sessions.save`: slbd runs without `--save-state FILE`, so there
    /// is nowhere to write; or writing the file failed (the message says
    /// why).
    pub const NO_STATE_FILE: &str = "no_state_file";
    /// Too many clients, or the command queue to the scheduler is full.
    pub const BUSY: &str = "busy";
    /// The scheduler did not answer in time.
    pub const TIMEOUT: &str = "timeout";
    /// A bug: slbd could not do what it should have.
    pub const INTERNAL: &str = "internal";

    /// Every code, for documentation tests.
    pub const ALL: &[&str] = &[
        PARSE_ERROR,
        REQUEST_TOO_LARGE,
        UNKNOWN_COMMAND,
        INVALID_ARGUMENT,
        UNKNOWN_SERVICE,
        UNKNOWN_SERVER,
        UNKNOWN_SESSION,
        ALREADY_EXISTS,
        SERVICE_BUSY,
        INVALID_CONFIG,
        RESTART_REQUIRED,
        NOT_ANNOUNCING,
        NO_STATE_FILE,
        BUSY,
        TIMEOUT,
        INTERNAL,
    ];
}
