//! Host-name patterns, one reading for every layer-7 rule that names a
//! host: HTTP's `Host` ([`crate::http::Request::host_matches`]), TLS's
//! server name ([`crate::tls::ClientHello::sni_matches`]), and whatever
//! comes next (QUIC's SNI is TLS's).
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// Whether host name `name` matches `pattern`: `pattern` exactly, or, for
/// a pattern `*.example.com`, a name ending in `.example.com` with one or
/// more labels before it (as nginx's `server_name` and Envoy's domains
/// read a leading wildcard: a routing rule, not a certificate's RFC 6125
/// single label). Never the bare `example.com`, never an IP literal in
/// brackets. ASCII case-insensitive; one trailing dot (a fully qualified
/// name) on either side is ignored. An empty name matches nothing.
pub fn matches(host: &str, pattern: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return !host.is_empty() && host.eq_ignore_ascii_case(pattern);
    };
    // One or more labels, a dot, the suffix; an IP literal has no labels.
    let Some(dot) = host.len().checked_sub(suffix.len() + 1) else {
        return false;
    };
    !suffix.is_empty()
        && !host.starts_with('[')
        && dot > 0
        && host.as_bytes().get(dot) == Some(&b'.')
        && host
            .get(dot + 1..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let cases: &[(&str, &str, bool)] = &[
            ("example.com", "example.com", true),
            ("Example.COM", "example.com", true),
            ("example.com.", "example.com", true),
            ("example.com", "example.com.", true),
            ("www.example.com", "example.com", false),
            ("www.example.com", "*.example.com", true),
            ("a.b.example.com", "*.example.com", true),
            ("WWW.Example.Com.", "*.EXAMPLE.com", true),
            ("example.com", "*.example.com", false),
            (".example.com", "*.example.com", false),
            ("badexample.com", "*.example.com", false),
            ("wwwexample.com", "*.example.com", false),
            ("a.example.co", "*.example.com", false),
            ("[::1]", "[::1]", true),
            ("[::1]", "*.1]", false),
            ("", "", false),
            ("a.b", "*.", false),
            ("é.example.com", "*.example.com", true),
            ("x.é", "*.é", true),
        ];
        for &(host, pattern, want) in cases {
            assert_eq!(matches(host, pattern), want, "{host} ~ {pattern}");
        }
    }

    /// TLS server names (already valid host names: no trailing dot, no
    /// brackets) read the same way.
    #[test]
    fn server_names() {
        for (name, pattern, want) in [
            ("a.example.com", "*.example.com", true),
            ("A.Example.Com", "*.example.com", true),
            ("a.b.example.com", "*.example.com", true),
            ("example.com", "*.example.com", false),
            ("aexample.com", "*.example.com", false),
            ("a.example.org", "*.example.com", false),
            ("example", "*.example", false),
            ("a.example", "*.example", true),
            ("a.example.com", "a.*.com", false),
            ("a.example.com", "*", false),
        ] {
            assert_eq!(matches(name, pattern), want, "{name} ~ {pattern}");
        }
    }
}
