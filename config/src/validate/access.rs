//! `services[i].allow` and `services[i].deny`: access lists of network
//! prefixes (IPv4 and IPv6), checked at admission.

use std::collections::HashMap;
use std::fmt::Display;

use super::checker::Checker;
use crate::address::Prefix;

/// Most prefixes one list may hold. The lookup cost does not grow with
/// the list (see `slb_core::access`); this bounds memory and reload time.
pub(super) const MAX_PREFIXES: usize = 100_000;

/// The prefixes of one list, each checked with its own path
/// (`services[0].allow[3]`); duplicates are errors.
pub(super) fn prefixes(c: &mut Checker, path: impl Display, docs: &[String]) -> Vec<Prefix> {
    if docs.len() > MAX_PREFIXES {
        c.err(
            &path,
            format!(
                "must hold at most {MAX_PREFIXES} prefixes (got {})",
                docs.len()
            ),
        );
    }
    let mut seen: HashMap<Prefix, usize> = HashMap::new();
    let mut out = Vec::with_capacity(docs.len());
    for (k, s) in docs.iter().enumerate() {
        match Prefix::parse(s) {
            Err(reason) => c.err(format_args!("{path}[{k}]"), reason),
            Ok(p) => {
                if let Some(first) = seen.insert(p, k) {
                    c.err(
                        format_args!("{path}[{k}]"),
                        format!("duplicate prefix {p} (also [{first}])"),
                    );
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}
