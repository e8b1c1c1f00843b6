//! `rules.show`: a service's layer-7 rules (issue 17) as the scheduler
//! runs them ([`crate::scheduler::first_data_state::L7Rt`]): each rule's
//! match, pool and hits, and what its default pool took without a rule.
//! Also what the other views say of pools and rules: a session's rule
//! and pool (`sessions.list`), a service's pools (`services.list`), its
//! rules in `stats` (the Prometheus families). On the scheduler lcore,
//! like the other views.

use crate::frame::Frame;
use crate::scheduler::first_data_state::{Fallback, L7Rt};
use crate::scheduler::Scheduler;
use slb_config::{RuleMatch, DEFAULT_POOL};
use slb_core::{BoundBy, ServiceId};
use slb_proto as proto;
use slb_proto::{code, ErrorBody};

/// What a rule matches, on one line: `host api.example.com, path_prefix
/// /v1/` (the configuration's field names, `type` for a DNS type).
pub fn match_text(m: &RuleMatch) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut add = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            parts.push(format!("{k} {v}"));
        }
    };
    match m {
        RuleMatch::Http(h) => {
            add("method", h.method.as_deref());
            add("host", h.host.as_deref());
            add("path_prefix", h.path_prefix.as_deref());
            if let Some(hd) = &h.header {
                let v = match &hd.value {
                    Some(v) => format!("{}: {v}", hd.name),
                    None => hd.name.clone(),
                };
                add("header", Some(&v));
            }
        }
        RuleMatch::Tls(h) | RuleMatch::Quic(h) => {
            add("sni", h.sni.as_deref());
            add("alpn", h.alpn.as_deref());
        }
        RuleMatch::Dns(d) => {
            add("suffix", d.suffix.as_deref());
            let t = d.qtype.map(slb_config::l7::dns_type_name);
            add("type", t.as_deref());
        }
    }
    parts.join(", ")
}

/// What bound a session, as `sessions.list` names it (see
/// [`proto::Session::rule`]): rule `i` by the running configuration's
/// name of `cfg.rules[i]`; None for a session bound by layer 4.
pub fn bound_by_name(cfg: Option<&slb_config::Service>, b: BoundBy) -> Option<String> {
    if b == BoundBy::L4 {
        return None;
    }
    Some(if b == BoundBy::COPIED {
        "copied".into()
    } else if b == BoundBy::NO_MATCH {
        DEFAULT_POOL.into()
    } else if let Some(r) = b.fallback_reason() {
        match Fallback::from_code(r) {
            Some(f) => format!("fallback:{}", f.as_str()),
            None => format!("fallback:{r}"),
        }
    } else {
        let i = b.rule_index().unwrap_or(usize::MAX);
        cfg.and_then(|c| c.rules.get(i))
            .map(|r| r.name.clone())
            .unwrap_or_else(|| format!("rule#{i}"))
    })
}

/// The rules' counters of one service (`cfg`, as running) as
/// `rules.show` answers them.
pub fn rules_answer(cfg: &slb_config::Service, rt: &L7Rt) -> proto::Rules {
    let rules = cfg
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| proto::RuleRow {
            index: i as u64,
            name: r.name.clone(),
            kind: r.matcher.kind().into(),
            matches: match_text(&r.matcher),
            pool: r.pool.clone(),
            hits: rt.hits.get(i).copied().unwrap_or(0),
        })
        .collect();
    let l = &rt.limits;
    proto::Rules {
        service: cfg.name.clone(),
        first_data: proto::FirstDataLimits {
            wait_ms: l.wait.as_millis() as u64,
            segments: u64::from(l.segments),
            bytes: u64::from(l.bytes),
            malformed: l.malformed.as_str().into(),
        },
        rules,
        default_pool: proto::DefaultPoolShare {
            no_match: rt.no_match,
            fallbacks: Fallback::ALL
                .iter()
                .map(|f| (f.as_str().to_string(), rt.fallbacks[f.index()]))
                .collect(),
            refused: rt.refused,
        },
    }
}

/// An algorithm as the configuration file writes it
/// (`weighted_round_robin`).
fn algorithm_name(a: slb_config::Algorithm) -> String {
    match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The pool `group` of a service: `default` or its name.
pub fn pool_name(cfg: Option<&slb_config::Service>, group: u16) -> String {
    group
        .checked_sub(1)
        .and_then(|k| cfg?.pools.get(usize::from(k)))
        .map_or_else(|| DEFAULT_POOL.to_string(), |p| p.name.clone())
}

/// A service's pools, `default` first, with their servers; none for a
/// service without pools or rules.
pub fn pool_rows(cfg: &slb_config::Service) -> Vec<proto::PoolRow> {
    if cfg.pools.is_empty() && cfg.rules.is_empty() {
        return Vec::new();
    }
    (0..=cfg.pools.len() as u16)
        .map(|g| proto::PoolRow {
            name: pool_name(Some(cfg), g),
            algorithm: algorithm_name(cfg.pool_algorithm(g)),
            servers: cfg
                .servers
                .iter()
                .filter(|s| cfg.server_pool_index(s) == g)
                .map(|s| s.name.clone())
                .collect(),
        })
        .collect()
}

impl<F: Frame> Scheduler<F> {
    /// `rules.show`: `unknown_service`, or `invalid_argument` for a
    /// service without rules (it binds by layer 4: there is nothing to
    /// count, and an empty table would read as rules that never match).
    pub(crate) fn view_rules(&self, f: &proto::RulesFilter) -> Result<proto::Rules, ErrorBody> {
        let sid = self.service_by_name(&f.service)?;
        self.rules_of_service(sid, &f.service).ok_or_else(|| {
            ErrorBody::new(
                code::INVALID_ARGUMENT,
                format!("service {} has no rules", f.service),
            )
        })
    }

    /// Service `sid`'s rules (named `name`), if it has any.
    pub(crate) fn rules_of_service(&self, sid: ServiceId, name: &str) -> Option<proto::Rules> {
        let rt = self.rules_of(sid)?;
        Some(rules_answer(self.config.service(name)?, rt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_config::{DnsRule, HeaderMatch, HelloMatch, HttpRule};

    #[test]
    fn a_match_reads_as_its_fields() {
        let http = RuleMatch::Http(HttpRule {
            method: Some("GET".into()),
            host: Some("*.example.com".into()),
            path_prefix: Some("/static/".into()),
            header: Some(HeaderMatch {
                name: "x-canary".into(),
                value: Some("1".into()),
            }),
        });
        assert_eq!(
            match_text(&http),
            "method GET, host *.example.com, path_prefix /static/, header x-canary: 1"
        );
        let presence = RuleMatch::Http(HttpRule {
            method: None,
            host: None,
            path_prefix: None,
            header: Some(HeaderMatch {
                name: "x-canary".into(),
                value: None,
            }),
        });
        assert_eq!(match_text(&presence), "header x-canary");
        let tls = RuleMatch::Quic(HelloMatch {
            sni: Some("api.example.com".into()),
            alpn: Some("h3".into()),
        });
        assert_eq!(match_text(&tls), "sni api.example.com, alpn h3");
        let dns = RuleMatch::Dns(DnsRule {
            suffix: Some("corp.example".into()),
            qtype: Some(28),
        });
        assert_eq!(match_text(&dns), "suffix corp.example, type AAAA");
        let odd = RuleMatch::Dns(DnsRule {
            suffix: None,
            qtype: Some(999),
        });
        assert_eq!(match_text(&odd), "type 999");
    }

    #[test]
    fn what_bound_a_session_is_named() {
        assert_eq!(bound_by_name(None, BoundBy::L4), None);
        assert_eq!(bound_by_name(None, BoundBy::COPIED).unwrap(), "copied");
        assert_eq!(bound_by_name(None, BoundBy::NO_MATCH).unwrap(), "default");
        for f in Fallback::ALL {
            assert_eq!(
                bound_by_name(None, BoundBy::fallback(f.code())).unwrap(),
                format!("fallback:{}", f.as_str())
            );
        }
        assert_eq!(bound_by_name(None, BoundBy::rule(3)).unwrap(), "rule#3");
    }
}
