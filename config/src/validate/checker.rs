//! The error collector every check writes to, and the checks shared by
//! several sections: numbers in a range, names, host addresses.

use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr};

use crate::error::ConfigError;

const NAME_MAX: usize = 32;

/// Collects errors; each check returns a usable placeholder on failure so
/// validation can go on and find the next error.
pub(super) struct Checker {
    pub(super) errors: Vec<ConfigError>,
}

impl Checker {
    pub(super) fn err(&mut self, path: impl Display, reason: impl Into<String>) {
        self.errors.push(ConfigError::new(path.to_string(), reason));
    }

    /// `value` within `lo..=hi`, or an error naming the range and the value.
    pub(super) fn range(
        &mut self,
        path: impl Display,
        value: u64,
        lo: u64,
        hi: u64,
    ) -> Option<u64> {
        if (lo..=hi).contains(&value) {
            Some(value)
        } else {
            self.err(path, format!("must be between {lo} and {hi} (got {value})"));
            None
        }
    }

    /// An optional number with a default, within `lo..=hi`.
    pub(super) fn field(
        &mut self,
        path: impl Display,
        value: Option<u64>,
        default: u64,
        lo: u64,
        hi: u64,
    ) -> u64 {
        match value {
            None => default,
            Some(v) => self.range(path, v, lo, hi).unwrap_or(default),
        }
    }

    pub(super) fn name(&mut self, path: impl Display, name: &str) {
        let ok = (1..=NAME_MAX).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            self.err(
                path,
                format!(
                    "must be 1 to {NAME_MAX} characters of a-z, 0-9, '_' and '-' (got {name:?})"
                ),
            );
        }
    }

    /// A unicast address usable on the wire.
    pub(super) fn host_address(&mut self, path: impl Display, address: IpAddr) -> bool {
        let why = if address.is_unspecified() {
            Some("the unspecified address")
        } else if address.is_loopback() {
            Some("a loopback address")
        } else if address.is_multicast() {
            Some("a multicast address")
        } else if address == IpAddr::V4(Ipv4Addr::BROADCAST) {
            Some("the broadcast address")
        } else {
            None
        };
        match why {
            Some(why) => {
                self.err(
                    path,
                    format!("must be a unicast host address, not {why} (got {address})"),
                );
                false
            }
            None => true,
        }
    }

    pub(super) fn ip(&mut self, path: impl Display, s: &str) -> Option<IpAddr> {
        match s.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(path, format!("must be an IPv4 or IPv6 address (got {s:?})"));
                None
            }
        }
    }

    /// A domain name (a health check's `query_name` and `sni`, a rule's
    /// host, server name and DNS suffix) without its trailing dot.
    pub(super) fn domain_name(&mut self, path: impl Display, name: &str) -> String {
        let bare = name.strip_suffix('.').unwrap_or(name);
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if bare.is_empty() || bare.len() > 253 || !bare.split('.').all(label_ok) {
            self.err(
                path,
                format!(
                    "must be a domain name: labels of 1 to 63 letters, digits, '-' or '_', \
                     at most 253 characters (got {name:?})"
                ),
            );
            return String::new();
        }
        bare.to_string()
    }
}
