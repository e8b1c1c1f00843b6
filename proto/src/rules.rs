//! The `rules.show` result: a service's layer-7 rules (issue 17), what
//! each one matches and which pool it sends sessions to, with the
//! sessions it bound; and the sessions its default pool took without a
//! rule (no rule matched, a fallback, refused). Also what `services.list`
//! and `sessions.list` say of pools and rules.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counters by reason name, in name order (as [`crate::Counts`]).
type Counts = BTreeMap<String, u64>;

/// The fallback reasons of [`DefaultPoolShare::fallbacks`], in slbd's
/// order.
pub const FALLBACK_REASONS: &[&str] = &[
    "timeout",
    "segments",
    "bytes",
    "malformed",
    "unsupported",
    "busy",
];

/// `rules.show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    pub service: String,
    /// How long and how much slbd waits for a session's first data.
    pub first_data: FirstDataLimits,
    /// In order: the first that matches wins.
    pub rules: Vec<RuleRow>,
    /// Sessions the default pool took without a rule.
    pub default_pool: DefaultPoolShare,
}

/// A service's `first_data` (`docs/config-reference.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstDataLimits {
    pub wait_ms: u64,
    pub segments: u64,
    pub bytes: u64,
    /// `default` (the default pool) or `refuse`.
    pub malformed: String,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    /// Its place in the service's rules, from 0.
    pub index: u64,
    pub name: String,
    /// `http`, `tls`, `dns` or `quic`.
    pub kind: String,
    /// What it matches, one line: `host api.example.com, path_prefix /v1/`.
    #[serde(rename = "match")]
    pub matches: String,
    /// The pool it sends sessions to (`default` or a pool's name).
    pub pool: String,
    /// Sessions it bound (since start; a rule of the same name keeps its
    /// count over a reload).
    pub hits: u64,
}

/// The sessions of the default pool that no rule bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultPoolShare {
    /// The first data was read and no rule matched.
    pub no_match: u64,
    /// Sent to the default pool without the rules' say, by reason
    /// ([`FALLBACK_REASONS`]): `timeout` (no first data in
    /// `first_data.wait_ms`: a server-speaks-first protocol, or a slow
    /// client), `segments` / `bytes` (past those limits without a complete
    /// request), `malformed` (`first_data.malformed: default`),
    /// `unsupported` (readable but not by the rules), `busy` (too many
    /// sessions already waiting).
    pub fallbacks: Counts,
    /// Refused for a malformed request (`first_data.malformed: refuse`).
    pub refused: u64,
}

/// A pool of a service (`services.list`, for services with pools or
/// rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRow {
    /// `default` or the pool's name.
    pub name: String,
    pub algorithm: String,
    /// Its servers' names, in configuration order.
    pub servers: Vec<String>,
}
