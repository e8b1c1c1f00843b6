//! One lcore's ICMP settings and token buckets (`icmp` in the
//! configuration): echo replies, "fragmentation needed" / "packet too
//! big", and ICMP errors handed to the scheduler each have their own
//! bucket, so one kind of traffic cannot spend another's budget. Owned by
//! the lcore (no sharing, no atomics); replaced whole, full, when the
//! configuration changes.

use slb_config::{Icmp, IcmpRate, VipEcho};
use slb_core::admission::TokenBucket;
use slb_core::RateLimit;

/// One lcore's ICMP settings and token buckets.
#[derive(Debug, Clone)]
pub struct IcmpLimits {
    pub vip_echo: VipEcho,
    pub echo: TokenBucket,
    pub too_big: TokenBucket,
    pub errors: TokenBucket,
}

fn bucket(r: IcmpRate) -> TokenBucket {
    TokenBucket::new(RateLimit {
        per_second: r.per_s,
        burst: r.burst,
    })
}

impl IcmpLimits {
    /// Full buckets.
    pub fn new(c: &Icmp) -> IcmpLimits {
        IcmpLimits {
            vip_echo: c.vip_echo,
            echo: bucket(c.echo),
            too_big: bucket(c.too_big),
            errors: bucket(c.errors),
        }
    }
}

impl Default for IcmpLimits {
    fn default() -> Self {
        IcmpLimits::new(&Icmp::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_s: u32, burst: u32) -> Icmp {
        let r = IcmpRate { per_s, burst };
        Icmp {
            vip_echo: VipEcho::Drop,
            echo: r,
            too_big: IcmpRate { per_s: 0, burst: 1 },
            errors: r,
        }
    }

    #[test]
    fn buckets_are_separate_and_refill() {
        let mut l = IcmpLimits::new(&limits(10, 2));
        assert_eq!(l.vip_echo, VipEcho::Drop);
        // Two echoes at once, the third waits 100 ms for its token.
        assert!(l.echo.take(1) && l.echo.take(1));
        assert!(!l.echo.take(1));
        // The errors' bucket is not the echo's.
        assert!(l.errors.take(1) && l.errors.take(1));
        assert!(!l.echo.take(100_000_000));
        assert!(l.echo.take(100_000_001));
        // A rate of 0 never refills.
        assert!(l.too_big.take(1));
        assert!(!l.too_big.take(u64::MAX / 2));
        // Defaults: 100/s echo, full at start.
        let mut d = IcmpLimits::default();
        assert_eq!(d.vip_echo, VipEcho::Answer);
        assert_eq!((0..60).filter(|_| d.echo.take(5)).count(), 50);
    }

    #[test]
    fn zero_zero_is_off() {
        let mut l = IcmpLimits::new(&limits(0, 0));
        assert!(!l.echo.take(1) && !l.errors.take(1));
        assert!(!l.echo.take(10_000_000_000));
    }
}
