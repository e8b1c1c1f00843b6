//! The Internet checksum (RFC 1071), its pseudo-headers (RFC 768, RFC 9293
//! §3.1, RFC 8200 §8.1) and its incremental update (RFC 1624).
//!
//! Sums here are ones' complement sums folded to 16 bits but *not*
//! complemented; [`finish`] complements. A header whose checksum field is
//! included verifies when its sum is `0xffff`.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Ones' complement sum of `data` as big-endian 16-bit words (an odd last
/// byte is padded with a zero byte on the right, RFC 1071 §4.1).
///
/// Adds 32-bit big-endian words (a 32-bit word `hi << 16 | lo` is
/// `hi + lo` modulo 0xffff, so the folded result is the same as adding
/// 16-bit words, RFC 1071 §2(B)): half the additions, and a 20-byte IPv4
/// header is five of them (the data path verifies one per unlabelled
/// frame).
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut quads = data.chunks_exact(4);
    for q in &mut quads {
        acc += u64::from(u32::from_be_bytes([q[0], q[1], q[2], q[3]]));
    }
    match *quads.remainder() {
        [a, b, c] => {
            acc += u64::from(u16::from_be_bytes([a, b])) + u64::from(u16::from_be_bytes([c, 0]))
        }
        [a, b] => acc += u64::from(u16::from_be_bytes([a, b])),
        [a] => acc += u64::from(u16::from_be_bytes([a, 0])),
        _ => {}
    }
    fold(acc)
}

/// Fold a wide accumulator to a 16-bit ones' complement sum.
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Ones' complement sum of partial sums.
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The checksum to store: the complement of the sum.
#[inline]
pub fn finish(sum: u16) -> u16 {
    !sum
}

/// Sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768): source,
/// destination, zero, protocol, L4 length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, l4_len: u16) -> u16 {
    let mut acc = u64::from(sum(&src.octets()));
    acc += u64::from(sum(&dst.octets()));
    acc += u64::from(protocol);
    acc += u64::from(l4_len);
    fold(acc)
}

/// Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination,
/// 32-bit upper-layer length, three zero bytes, next header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, l4_len: u32) -> u16 {
    let mut acc = u64::from(sum(&src.octets()));
    acc += u64::from(sum(&dst.octets()));
    acc += u64::from(l4_len >> 16) + u64::from(l4_len & 0xffff);
    acc += u64::from(next_header);
    fold(acc)
}

/// Checksum of an L4 segment over IPv4, `segment` with its checksum field
/// zeroed (to compute) or as received (then `0` means valid).
pub fn l4_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, segment: &[u8]) -> u16 {
    let len = u16::try_from(segment.len()).unwrap_or(u16::MAX);
    finish(combine(&[
        pseudo_header_v4(src, dst, protocol, len),
        sum(segment),
    ]))
}

/// Checksum of an L4 segment over IPv6 (see [`l4_v4`]).
pub fn l4_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, segment: &[u8]) -> u16 {
    let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
    finish(combine(&[
        pseudo_header_v6(src, dst, next_header, len),
        sum(segment),
    ]))
}

/// RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered
/// data changed from `old` to `new`: `HC' = ~(~HC + ~m + m')`.
///
/// Unlike eqn. 2 this never yields the `0x0000`/`0xffff` ambiguity RFC 1624
/// §3 warns about for a sum that is not itself zero.
#[inline]
pub fn update16(check: u16, old: u16, new: u16) -> u16 {
    !fold(u64::from(!check) + u64::from(!old) + u64::from(new))
}

/// Overwrite `data[at..at + new.len()]` with `new` and return the checksum
/// `check` (which covers `data` from offset 0, possibly with other data
/// before it that starts on an even offset) updated incrementally.
///
/// Works for any alignment of `at`: the words that hold changed bytes are
/// re-read before and after. Returns `None` (and changes nothing) if the
/// range or its word-aligned cover is out of `data`.
pub fn replace_bytes(data: &mut [u8], at: usize, new: &[u8], check: u16) -> Option<u16> {
    let start = at & !1;
    let end = at.checked_add(new.len())?.checked_add(1)? & !1;
    // The cover must exist to read whole words; an odd-length segment's
    // final half-word is implicitly padded by zero, which never changes.
    let cover_end = end.min(data.len());
    if at + new.len() > data.len() || start > cover_end {
        return None;
    }
    let mut acc_old: u64 = 0;
    let mut acc_new: u64 = 0;
    acc_old += u64::from(sum(data.get(start..cover_end)?));
    data.get_mut(at..at + new.len())?.copy_from_slice(new);
    acc_new += u64::from(sum(data.get(start..cover_end)?));
    Some(update16(check, fold(acc_old), fold(acc_new)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 §3 worked example: bytes 00 01 f2 03 f4 f5 f6 f7 sum to
    /// ddf2 (one's complement, before complementing).
    #[test]
    fn rfc1071_example() {
        assert_eq!(
            sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    #[test]
    fn odd_length_pads_right() {
        assert_eq!(sum(&[0x12]), 0x1200);
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    #[test]
    fn update16_matches_recompute() {
        let mut data = [0x45u8, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00];
        let check = finish(sum(&data));
        let old = u16::from_be_bytes([data[2], data[3]]);
        data[2..4].copy_from_slice(&0x0100u16.to_be_bytes());
        assert_eq!(update16(check, old, 0x0100), finish(sum(&data)));
    }

    #[test]
    fn replace_bytes_odd_offset() {
        let mut data = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let check = finish(sum(&data));
        let updated = replace_bytes(&mut data, 3, &[0xaa, 0xbb], check).unwrap();
        assert_eq!(data, [1, 2, 3, 0xaa, 0xbb, 6, 7, 8, 9, 10]);
        assert_eq!(updated, finish(sum(&data)));
        assert!(replace_bytes(&mut data, 9, &[1, 2], check).is_none());
    }
}
