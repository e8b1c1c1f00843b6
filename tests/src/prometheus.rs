//! What the tests that scrape slbd with the real Prometheus share.

/// The path of a Prometheus instant query for `q` (PromQL), the query
/// percent-encoded.
pub fn query_path(q: &str) -> String {
    let encoded: String = q
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("/api/v1/query?query={encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(
            super::query_path(r#"sum(up{job="slbd"})"#),
            "/api/v1/query?query=sum%28up%7Bjob%3D%22slbd%22%7D%29"
        );
    }
}
