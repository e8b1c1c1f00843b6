//! slbd's configuration: one JSON file, read by slbd at start (`--config`),
//! checked without starting anything by `slbd --check-config`, and diffed
//! against the running one on reload.
//!
//! Reading happens in two steps:
//! 1. serde reads the document (`document`): syntax, JSON types, unknown or
//!    missing fields. An error here stops reading; it carries the JSON path
//!    and the line and column.
//! 2. `validate` checks every rule of the schema and collects *all* errors,
//!    each with the JSON path of the bad field, like
//!    `services[0].servers[2].weight: must be between 1 and 65535 (got 0)`.
//!
//! The field-by-field reference is `docs/config-reference.md`.
//!
//! Modules:
//! - `document`: the JSON document as written (serde's view of the file);
//! - `validate`: from the document to a validated [`Config`], every rule;
//!   one submodule per section of the document (`ports`, `labels`,
//!   `timeouts`, `neighbours`, `control`, `services`, `cluster`) and `checker`, the
//!   error collector and checks they share;
//! - `model`: the validated configuration slbd runs with;
//! - `address`: IPv4/IPv6 interface addresses, CIDRs, MACs;
//! - `error`: errors, each naming the JSON path of the bad field;
//! - `diff`: what changed between two configurations, and whether it can
//!   apply live;
//! - `emit`: a validated configuration back to its document;
//! - [`convert`]: configuration types into session-core types (`From`);
//! - `tests`: the schema's rules, one test each;
//!   `tests/every_field_has_an_effect.rs` walks a configuration with every
//!   field and fails on a field whose change `diff` does not see.
//!
//! ```
//! use slb_config::{Config, Role};
//!
//! let config = Config::from_json_str(include_str!("../examples/minimal.json")).unwrap();
//! assert_eq!(config.ports[0].role, Role::Both);
//! assert_eq!(config.services[0].servers[0].weight, 1); // default
//!
//! let bad = r#"{ "ports": [], "labels": { "first": 3 } }"#;
//! let errors = Config::from_json_str(bad).unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     "ports: must hold between 1 and 16 ports (got 0)\n\
//!      labels.first: must be at least 16: labels 0-15 are reserved by RFC 3032 (got 3)"
//! );
//!
//! // Reload: what changed, and whether it can apply live.
//! let mut new = config.clone();
//! new.services[0].servers[0].weight = 4;
//! let diff = config.diff(&new);
//! assert!(!diff.needs_restart());
//! assert_eq!(diff.to_string(), "service web: server s1: weight 1 -> 4");
//! ```

mod address;
pub mod convert;
mod diff;
mod document;
mod emit;
mod error;
pub mod l7;
mod model;
mod validate;

use std::path::Path;
use std::str::FromStr;

pub use address::{format_mac, parse_mac, Ipv4Cidr, Ipv6Cidr, Prefix};
pub use diff::{diff, ConfigDiff, NotLive, ServerChange, ServerDiff, ServiceChange, ServiceDiff};
pub use error::{ConfigError, ConfigErrors};
pub use l7::{
    DnsRule, FirstData, HeaderMatch, HelloMatch, HttpRule, Malformed, Rule, RuleMatch, DEFAULT_POOL,
};
pub use model::{
    Algorithm, ClientMode, Cluster, Config, Control, DnsCheck, DnsType, Exception, Health,
    HealthKind, HttpCheck, Icmp, IcmpRate, Labels, Neighbour, OnDown, Peer, Pool, Port, Protocol,
    Refuse, Role, Server, ServerState, Service, SynProxy, TcpSignatures, Timeouts, TlsCheck,
    UdpCheck, VipEcho,
};

impl Config {
    /// Parses and validates a document; on failure, every error found.
    pub fn from_json_str(json: &str) -> Result<Config, ConfigErrors> {
        let doc = read_document(json)?;
        validate::validate(&doc)
    }

    /// Reads, parses and validates a file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigErrors> {
        let json = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("", format!("cannot read {}: {e}", path.display())))?;
        Config::from_json_str(&json)
    }

    /// The configuration as JSON with every default written out; parsing
    /// it gives back an equal `Config`. Ends with a newline.
    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(&emit::document(self))
            .expect("a document of strings, numbers and enums always serializes");
        s.push('\n');
        s
    }

    /// What changed from `self` (running) to `new`; see [`diff`].
    pub fn diff(&self, new: &Config) -> ConfigDiff {
        diff::diff(self, new)
    }
}

impl FromStr for Config {
    type Err = ConfigErrors;

    fn from_str(s: &str) -> Result<Config, ConfigErrors> {
        Config::from_json_str(s)
    }
}

fn read_document(json: &str) -> Result<document::Document, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let doc: document::Document = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = json_path(e.path());
        serde_error(path, e.into_inner())
    })?;
    de.end().map_err(|e| serde_error(String::new(), e))?;
    Ok(doc)
}

/// `services[0].servers[2].weight`, as the validation errors write it;
/// segments serde could not name (a key not yet read) are left out.
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    out
}

/// serde_json's message without its " at line L column C" tail, which goes
/// into `location` instead.
fn serde_error(path: String, e: serde_json::Error) -> ConfigError {
    let location = (e.line() != 0).then(|| (e.line(), e.column()));
    let mut reason = e.to_string();
    if let Some((line, column)) = location {
        let tail = format!(" at line {line} column {column}");
        if let Some(stripped) = reason.strip_suffix(&tail) {
            reason = stripped.to_string();
        }
    }
    ConfigError {
        path,
        reason,
        location,
    }
}

#[cfg(test)]
mod tests;
