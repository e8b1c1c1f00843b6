//! Service acceptance control (docs/claims.md, claims 4 and 11): why a new
//! session is refused, and the new-session rate limit.
//!
//! Only the first packet of a would-be session goes through admission; a
//! packet of an existing session never does (docs/claims.md, claim 11).

/// Why a new session was refused. Names are stable (metrics labels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// No server is in service (all down, draining, disabled, weight 0, or
    /// none configured).
    NoServer,
    /// Servers are in service but every one is at its session limit.
    ServersFull,
    /// The service is at its own session limit.
    SessionLimit,
    /// The service's new-session rate limit is spent.
    RateLimit,
    /// No label pair is free (all active or in quarantine).
    LabelsExhausted,
    /// The client is in the service's deny list.
    Denied,
    /// The service has an allow list and the client is not in it.
    NotAllowed,
}

impl Refusal {
    /// Every reason, in counter-array order ([`Refusal::index`]).
    pub const ALL: [Refusal; 7] = [
        Refusal::NoServer,
        Refusal::ServersFull,
        Refusal::SessionLimit,
        Refusal::RateLimit,
        Refusal::LabelsExhausted,
        Refusal::Denied,
        Refusal::NotAllowed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoServer => "no_server",
            Refusal::ServersFull => "servers_full",
            Refusal::SessionLimit => "session_limit",
            Refusal::RateLimit => "rate_limit",
            Refusal::LabelsExhausted => "labels_exhausted",
            Refusal::Denied => "denied",
            Refusal::NotAllowed => "not_allowed",
        }
    }

    /// Position in [`Refusal::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// New-session rate limit: `per_second` sustained, bursts of `burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

const NANO: u128 = 1_000_000_000;

/// Token bucket in integer nano-tokens: exact, no floating point, no drift.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    /// Tokens x 1e9.
    level: u128,
    last: Option<u64>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> TokenBucket {
        TokenBucket {
            limit,
            level: limit.burst as u128 * NANO,
            last: None,
        }
    }

    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn refill(&mut self, now: u64) {
        let cap = self.limit.burst as u128 * NANO;
        if let Some(last) = self.last {
            let elapsed = now.saturating_sub(last) as u128;
            self.level = (self.level + elapsed * self.limit.per_second as u128).min(cap);
        }
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
    }

    /// Takes one token at `now`; false if none is left.
    pub fn take(&mut self, now: u64) -> bool {
        self.refill(now);
        if self.level >= NANO {
            self.level -= NANO;
            true
        } else {
            false
        }
    }

    /// Gives back a token taken for a session that was then refused for
    /// another reason.
    pub fn give_back(&mut self) {
        let cap = self.limit.burst as u128 * NANO;
        self.level = (self.level + NANO).min(cap);
    }

    /// Whole tokens left at the last refill.
    pub fn tokens(&self) -> u64 {
        (self.level / NANO) as u64
    }
}

/// Admission counters of one service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdmissionCounters {
    pub admitted: u64,
    /// By [`Refusal::index`].
    pub refused: [u64; Refusal::ALL.len()],
}

impl AdmissionCounters {
    pub fn refused(&self, reason: Refusal) -> u64 {
        self.refused[reason.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_indexed() {
        let names: Vec<_> = Refusal::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "no_server",
                "servers_full",
                "session_limit",
                "rate_limit",
                "labels_exhausted",
                "denied",
                "not_allowed"
            ]
        );
        for (i, r) in Refusal::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    #[test]
    fn token_bucket_rate_and_burst() {
        let mut b = TokenBucket::new(RateLimit {
            per_second: 10,
            burst: 3,
        });
        let t0 = 1_000;
        assert!(b.take(t0) && b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(!b.take(t0 + 99_999_999)); // 0.99 token
        assert!(b.take(t0 + 100_000_000)); // 1 token after 100 ms
                                           // A long pause fills to the burst, not beyond.
        let t1 = t0 + 3_600 * 1_000_000_000;
        assert!((0..3).all(|_| b.take(t1)));
        assert!(!b.take(t1));
        b.give_back();
        assert!(b.take(t1));
        // Over one second at 10/s from empty: exactly 10.
        let admitted = (1..=1000).filter(|i| b.take(t1 + i * 1_000_000)).count();
        assert_eq!(admitted, 10);
    }
}
