//! `services[i].pools`, `.rules`, `.first_data` and each server's `pool`:
//! the layer-7 part of a service (issue 17).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use super::checker::Checker;
use crate::document::{DnsRuleDoc, DnsTypeDoc, HelloRuleDoc, HttpRuleDoc, RuleDoc, ServiceDoc};
use crate::l7::{
    DnsRule, FirstData, HeaderMatch, HelloMatch, HttpRule, Rule, RuleMatch, DEFAULT_POOL, DNS_TYPES,
};
use crate::model::{Algorithm, Pool, Protocol};

const MAX_POOLS: usize = 16;
const MAX_RULES: usize = 64;
/// Bound of a rule's strings (names, paths, values).
const MAX_TEXT: usize = 253;

/// The service's pools (`pools`), checked with its servers' `pool` names.
pub(super) fn pools(
    c: &mut Checker,
    p: &str,
    d: &ServiceDoc,
    algorithm: Algorithm,
    port: u16,
    vip: Option<IpAddr>,
) -> Vec<Pool> {
    if d.pools.len() > MAX_POOLS {
        let n = d.pools.len();
        c.err(
            format_args!("{p}.pools"),
            format!("must hold at most {MAX_POOLS} pools (got {n})"),
        );
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(d.pools.len());
    for (k, pd) in d.pools.iter().enumerate() {
        let pp = format!("{p}.pools[{k}]");
        c.name(format_args!("{pp}.name"), &pd.name);
        if pd.name == DEFAULT_POOL {
            c.err(
                format_args!("{pp}.name"),
                "\"default\" is the pool of the servers that name none: it takes the \
                 service's algorithm and health",
            );
        }
        if let Some(first) = names.insert(&pd.name, k) {
            c.err(
                format_args!("{pp}.name"),
                format!("duplicate pool name {:?} (also pools[{first}])", pd.name),
            );
        }
        let health = pd
            .health
            .as_ref()
            .map(|h| super::health::health(c, &pp, Some(h), d.protocol, port, vip));
        out.push(Pool {
            name: pd.name.clone(),
            algorithm: pd.algorithm.unwrap_or(algorithm),
            health,
        });
    }
    for (j, s) in d.servers.iter().enumerate() {
        if let Some(name) = &s.pool {
            if name != DEFAULT_POOL && !names.contains_key(name.as_str()) {
                c.err(
                    format_args!("{p}.servers[{j}].pool"),
                    format!("no pool {name:?} in this service's pools"),
                );
            }
        }
    }
    out
}

/// The service's rules; `syn_proxy` tells whether a TCP service binds on
/// data (it must, to read any).
pub(super) fn rules(c: &mut Checker, p: &str, d: &ServiceDoc, syn_proxy: bool) -> Vec<Rule> {
    if d.rules.len() > MAX_RULES {
        let n = d.rules.len();
        c.err(
            format_args!("{p}.rules"),
            format!("must hold at most {MAX_RULES} rules (got {n})"),
        );
    }
    let pools: Vec<&str> = d.pools.iter().map(|p| p.name.as_str()).collect();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(d.rules.len());
    for (k, rd) in d.rules.iter().enumerate() {
        let rp = format!("{p}.rules[{k}]");
        c.name(format_args!("{rp}.name"), &rd.name);
        if let Some(first) = names.insert(&rd.name, k) {
            c.err(
                format_args!("{rp}.name"),
                format!("duplicate rule name {:?} (also rules[{first}])", rd.name),
            );
        }
        if rd.pool != DEFAULT_POOL && !pools.contains(&rd.pool.as_str()) {
            c.err(
                format_args!("{rp}.pool"),
                format!(
                    "no pool {:?} in this service's pools (or \"default\")",
                    rd.pool
                ),
            );
        }
        if let Some(matcher) = rule_match(c, &rp, rd, d.protocol, syn_proxy) {
            out.push(Rule {
                name: rd.name.clone(),
                pool: rd.pool.clone(),
                matcher,
            });
        }
    }
    out
}

fn rule_match(
    c: &mut Checker,
    rp: &str,
    rd: &RuleDoc,
    protocol: Protocol,
    syn_proxy: bool,
) -> Option<RuleMatch> {
    let given = [
        rd.http.is_some(),
        rd.tls.is_some(),
        rd.dns.is_some(),
        rd.quic.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        c.err(rp, "must have exactly one of http, tls, dns or quic");
        return None;
    }
    let (kind, wants) = if rd.http.is_some() || rd.tls.is_some() {
        (
            if rd.http.is_some() { "http" } else { "tls" },
            Protocol::Tcp,
        )
    } else {
        (if rd.dns.is_some() { "dns" } else { "quic" }, Protocol::Udp)
    };
    if protocol != wants {
        c.err(
            format_args!("{rp}.{kind}"),
            format!(
                "is for {} services (this one is {})",
                wants.as_str(),
                protocol.as_str()
            ),
        );
        return None;
    }
    if protocol == Protocol::Tcp && !syn_proxy {
        c.err(
            format_args!("{rp}.{kind}"),
            "needs syn_proxy: slbd reads a TCP client's first data only when it binds \
             the session after the handshake",
        );
        return None;
    }
    let fp = format!("{rp}.{kind}");
    let m = if let Some(h) = &rd.http {
        http(c, &fp, h)
    } else if let Some(t) = &rd.tls {
        RuleMatch::Tls(hello(c, &fp, t))
    } else if let Some(q) = &rd.quic {
        RuleMatch::Quic(hello(c, &fp, q))
    } else {
        dns(c, &fp, rd.dns.as_ref()?)
    };
    let empty = match &m {
        RuleMatch::Http(h) => {
            h.method.is_none() && h.host.is_none() && h.path_prefix.is_none() && h.header.is_none()
        }
        RuleMatch::Tls(h) | RuleMatch::Quic(h) => h.sni.is_none() && h.alpn.is_none(),
        RuleMatch::Dns(d) => d.suffix.is_none() && d.qtype.is_none(),
    };
    if empty {
        c.err(&fp, "must match on at least one field");
    }
    Some(m)
}

fn http(c: &mut Checker, fp: &str, h: &HttpRuleDoc) -> RuleMatch {
    if let Some(m) = &h.method {
        token(c, format!("{fp}.method"), m, 16);
    }
    let host = h
        .host
        .as_ref()
        .map(|v| host_pattern(c, format!("{fp}.host"), v, true));
    if let Some(v) = &h.path_prefix {
        if !v.starts_with('/') || !visible(v) || v.len() > MAX_TEXT {
            c.err(
                format_args!("{fp}.path_prefix"),
                format!("must start with '/' and be at most {MAX_TEXT} visible ASCII characters (got {v:?})"),
            );
        }
    }
    let header = h.header.as_ref().map(|hd| {
        token(c, format!("{fp}.header.name"), &hd.name, 64);
        if let Some(v) = &hd.value {
            if v.len() > MAX_TEXT || !v.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
                c.err(
                    format_args!("{fp}.header.value"),
                    format!("must be at most {MAX_TEXT} printable ASCII characters (got {v:?})"),
                );
            }
        }
        HeaderMatch {
            name: hd.name.to_ascii_lowercase(),
            value: hd.value.as_ref().map(|v| v.trim().to_string()),
        }
    });
    RuleMatch::Http(HttpRule {
        method: h.method.clone(),
        host,
        path_prefix: h.path_prefix.clone(),
        header,
    })
}

fn hello(c: &mut Checker, fp: &str, t: &HelloRuleDoc) -> HelloMatch {
    let sni = t
        .sni
        .as_ref()
        .map(|v| host_pattern(c, format!("{fp}.sni"), v, true));
    if let Some(a) = &t.alpn {
        if !(1..=255).contains(&a.len()) || !visible(a) {
            c.err(
                format_args!("{fp}.alpn"),
                format!("must be 1 to 255 visible ASCII characters, like h2 or h3 (got {a:?})"),
            );
        }
    }
    HelloMatch {
        sni,
        alpn: t.alpn.clone(),
    }
}

fn dns(c: &mut Checker, fp: &str, d: &DnsRuleDoc) -> RuleMatch {
    let suffix = d
        .suffix
        .as_ref()
        .map(|v| host_pattern(c, format!("{fp}.suffix"), v, false));
    let qtype = d.qtype.as_ref().and_then(|t| match t {
        DnsTypeDoc::Number(n) => c
            .range(format!("{fp}.type"), *n, 1, 65535)
            .map(|n| n as u16),
        DnsTypeDoc::Name(name) => {
            let code = DNS_TYPES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, code)| *code)
                .or_else(|| name.parse::<u16>().ok().filter(|n| *n != 0));
            if code.is_none() {
                let known: Vec<&str> = DNS_TYPES.iter().map(|(n, _)| *n).collect();
                c.err(
                    format_args!("{fp}.type"),
                    format!(
                        "must be one of {} or a number (got {name:?})",
                        known.join(", ")
                    ),
                );
            }
            code
        }
    });
    RuleMatch::Dns(DnsRule { suffix, qtype })
}

/// `first_data`: only with rules.
pub(super) fn first_data(c: &mut Checker, p: &str, d: &ServiceDoc) -> FirstData {
    let def = FirstData::default();
    let Some(fd) = &d.first_data else {
        return def;
    };
    if d.rules.is_empty() {
        c.err(
            format_args!("{p}.first_data"),
            "has no effect without rules (slbd waits for first data only to match rules)",
        );
    }
    FirstData {
        wait: Duration::from_millis(c.field(
            format_args!("{p}.first_data.wait_ms"),
            fd.wait_ms,
            def.wait.as_millis() as u64,
            10,
            5000,
        )),
        segments: c.field(
            format_args!("{p}.first_data.segments"),
            fd.segments,
            def.segments.into(),
            1,
            8,
        ) as u8,
        bytes: c.field(
            format_args!("{p}.first_data.bytes"),
            fd.bytes,
            def.bytes.into(),
            64,
            16384,
        ) as u16,
        malformed: fd.malformed.unwrap_or(def.malformed),
    }
}

/// An HTTP token (RFC 9110 §5.6.2) of at most `max` characters.
fn token(c: &mut Checker, path: String, v: &str, max: usize) {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !(1..=max).contains(&v.len()) || !v.bytes().all(tchar) {
        c.err(
            path,
            format!("must be an HTTP token of 1 to {max} characters (got {v:?})"),
        );
    }
}

fn visible(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_graphic())
}

/// A host name, or with `wildcard` `*.` and a name (the checker's
/// domain names); lowercased.
fn host_pattern(c: &mut Checker, path: String, v: &str, wildcard: bool) -> String {
    let (star, name) = match v.strip_prefix("*.") {
        Some(rest) if wildcard => ("*.", rest),
        _ => ("", v),
    };
    format!("{star}{}", c.domain_name(path, name)).to_ascii_lowercase()
}
