//! The drop trace: an opt-in, bounded ring per lcore of the frames it
//! dropped most recently, with the reason, the port, when, and the first
//! [`CAPTURE`] bytes of the frame (enough for the Ethernet, VLAN, MPLS,
//! IPv6 and TCP headers). `slbctl drops` reads it; it answers the
//! question a counter cannot: *which* frames were dropped.
//!
//! Off by default. When off, a drop costs one relaxed load more than its
//! counter. When on, it costs a clock read and 16 relaxed stores, on the
//! drop path only: switched frames never touch the trace.
//!
//! Each lcore writes only its own ring (a single writer: no read-modify-
//! write, no lock), so a record is a seqlock: the writer marks the slot
//! odd, writes the words, marks it even; a reader that saw the same even
//! mark before and after copying the words has a whole record. Every word
//! is an atomic, so a torn read is detected, never undefined.

use std::net::IpAddr;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Bytes of each dropped frame kept.
pub const CAPTURE: usize = 96;
/// Records kept per lcore (the oldest is overwritten).
pub const PER_LCORE: usize = 1024;
/// The port of a frame dropped while being sent (not received).
pub const NO_PORT: u8 = u8::MAX;

const FRAME_WORDS: usize = CAPTURE / 8;
/// at, meta, detail, then the frame.
const WORDS: usize = 3 + FRAME_WORDS;

pub use crate::counters::Reason;

/// What the scheduler knew of a late frame's session: how it ended and
/// how long before the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateBy {
    /// How the session ended.
    pub ended: slb_core::session::EndReason,
    /// Microseconds from the session's end to the frame (saturated).
    pub micros: u32,
}

impl LateBy {
    fn encode(d: Option<LateBy>) -> u64 {
        let Some(d) = d else { return 0 };
        let i = slb_core::session::EndReason::ALL
            .iter()
            .position(|r| *r == d.ended)
            .unwrap_or(0) as u64;
        (1 + i) << 32 | u64::from(d.micros)
    }

    fn decode(w: u64) -> Option<LateBy> {
        let i = (w >> 32) as usize;
        let ended = *slb_core::session::EndReason::ALL.get(i.checked_sub(1)?)?;
        Some(LateBy {
            ended,
            micros: w as u32,
        })
    }
}

/// One dropped frame, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Nanoseconds since the trace was created (slbd's start).
    pub at_ns: u64,
    /// The lcore that dropped it: a worker's index, or the number of
    /// workers for the scheduler.
    pub lcore: usize,
    /// The port it came in on (index into the configuration's ports).
    pub port: u8,
    pub reason: Reason,
    /// The frame's length on the wire.
    pub len: u16,
    /// Its first `min(len, CAPTURE)` bytes.
    pub bytes: Vec<u8>,
    pub late: Option<LateBy>,
}

#[repr(align(64))]
struct Slot {
    seq: AtomicU64,
    words: [AtomicU64; WORDS],
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            seq: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

struct Ring {
    /// Records written so far (the writer's own count; the next slot is
    /// `next % len`).
    next: AtomicU64,
    slots: Box<[Slot]>,
}

/// The rings of every lcore, and the switch.
pub struct DropTrace {
    on: AtomicBool,
    base: Instant,
    /// When tracing was last turned on (ns since `base`): older records
    /// are a previous run's.
    since_ns: AtomicU64,
    rings: Box<[Ring]>,
}

impl DropTrace {
    /// Rings for `lcores` lcores of `per_lcore` records each; off.
    pub fn new(lcores: usize, per_lcore: usize) -> DropTrace {
        DropTrace {
            on: AtomicBool::new(false),
            base: Instant::now(),
            since_ns: AtomicU64::new(0),
            rings: (0..lcores)
                .map(|_| Ring {
                    next: AtomicU64::new(0),
                    slots: (0..per_lcore.max(1)).map(|_| Slot::default()).collect(),
                })
                .collect(),
        }
    }

    /// Whether drops are traced. Inlined into every drop site.
    #[inline(always)]
    pub fn enabled(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Turns tracing on or off; turning it on starts with empty rings.
    pub fn set_enabled(&self, on: bool) {
        let was = self.on.swap(on, Ordering::Relaxed);
        if on && !was {
            // Records of an earlier run keep their slots; readers skip
            // them by their time (older than `since`).
            self.since_ns
                .store(self.base.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
    }

    /// Records a frame lcore `lcore` dropped. Only that lcore calls this
    /// for its ring (one writer per ring). Out of line: drops are rare
    /// next to switched frames, and this keeps them out of the hot loop.
    #[cold]
    #[inline(never)]
    pub fn record(
        &self,
        lcore: usize,
        reason: Reason,
        port: u8,
        frame: &[u8],
        late: Option<LateBy>,
    ) {
        let Some(ring) = self.rings.get(lcore) else {
            return;
        };
        let n = ring.next.load(Ordering::Relaxed);
        ring.next.store(n.wrapping_add(1), Ordering::Relaxed);
        let slot = &ring.slots[(n % ring.slots.len() as u64) as usize];
        let seq = slot.seq.load(Ordering::Relaxed);
        // Odd: a write is under way.
        slot.seq.store(seq | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        let at = self.base.elapsed().as_nanos() as u64;
        let len = frame.len().min(usize::from(u16::MAX)) as u16;
        let meta = u64::from(reason.code()) | u64::from(port) << 16 | u64::from(len) << 32;
        slot.words[0].store(at, Ordering::Relaxed);
        slot.words[1].store(meta, Ordering::Relaxed);
        slot.words[2].store(LateBy::encode(late), Ordering::Relaxed);
        let mut buf = [0u8; CAPTURE];
        let take = frame.len().min(CAPTURE);
        buf[..take].copy_from_slice(&frame[..take]);
        for (w, chunk) in slot.words[3..].iter().zip(buf.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            w.store(u64::from_ne_bytes(b), Ordering::Relaxed);
        }
        slot.seq.store((seq | 1).wrapping_add(1), Ordering::Release);
    }

    /// Every whole record written since tracing was last turned on,
    /// oldest first (a record being overwritten while read is skipped).
    pub fn records(&self) -> Vec<Record> {
        let since = self.since_ns.load(Ordering::Relaxed);
        let mut out = Vec::new();
        for (lcore, ring) in self.rings.iter().enumerate() {
            for slot in ring.slots.iter() {
                if let Some(r) = read(slot, lcore) {
                    if r.at_ns >= since {
                        out.push(r);
                    }
                }
            }
        }
        out.sort_by_key(|r| r.at_ns);
        out
    }
}

/// A whole record from `slot`, or None (never written, or being written).
fn read(slot: &Slot, lcore: usize) -> Option<Record> {
    let s1 = slot.seq.load(Ordering::Acquire);
    if s1 == 0 || s1 & 1 == 1 {
        return None;
    }
    let words: [u64; WORDS] = std::array::from_fn(|i| slot.words[i].load(Ordering::Relaxed));
    fence(Ordering::Acquire);
    if slot.seq.load(Ordering::Relaxed) != s1 {
        return None;
    }
    let meta = words[1];
    let len = (meta >> 32) as u16;
    let mut bytes = Vec::with_capacity(CAPTURE);
    for w in &words[3..] {
        bytes.extend_from_slice(&w.to_ne_bytes());
    }
    bytes.truncate(usize::from(len).min(CAPTURE));
    Some(Record {
        at_ns: words[0],
        lcore,
        port: (meta >> 16) as u8,
        reason: Reason::from_code(meta as u16)?,
        len,
        bytes,
        late: LateBy::decode(words[2]),
    })
}

/// The headers of a captured frame, read leniently: the capture may end
/// inside them, and a dropped frame may be malformed (that is often why
/// it was dropped), so every field is optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Headers {
    /// The 802.1Q VLAN ID.
    pub vlan: Option<u16>,
    /// The top MPLS label.
    pub label: Option<u32>,
    /// The IP protocol (IPv6: the first next header).
    pub protocol: Option<u8>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub tcp_flags: Option<u8>,
}

/// Reads what it can of `b`'s Ethernet, VLAN, MPLS, IP and TCP/UDP
/// headers.
pub fn headers(b: &[u8]) -> Headers {
    let mut h = Headers::default();
    let _ = read_headers(b, &mut h);
    h
}

fn read_headers(b: &[u8], h: &mut Headers) -> Option<()> {
    let be16 = |o: usize| b.get(o..o + 2).map(|x| u16::from_be_bytes([x[0], x[1]]));
    let mut ethertype = be16(12)?;
    let mut off = 14;
    if ethertype == 0x8100 {
        h.vlan = Some(be16(14)? & 0x0fff);
        ethertype = be16(16)?;
        off = 18;
    }
    if ethertype == 0x8847 {
        // The top label, then down to the bottom of the stack (at most
        // what the capture holds).
        loop {
            let w = b.get(off..off + 4)?;
            let lse = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
            h.label.get_or_insert(lse >> 12);
            off += 4;
            if lse & 0x100 != 0 {
                break;
            }
        }
        ethertype = match b.get(off)? >> 4 {
            4 => 0x0800,
            6 => 0x86dd,
            _ => return None,
        };
    }
    let l4 = match ethertype {
        0x0800 => {
            let ihl = usize::from(b.get(off)? & 0x0f) * 4;
            h.protocol = Some(*b.get(off + 9)?);
            let a: [u8; 4] = b.get(off + 12..off + 16)?.try_into().ok()?;
            h.src = Some(IpAddr::from(a));
            let a: [u8; 4] = b.get(off + 16..off + 20)?.try_into().ok()?;
            h.dst = Some(IpAddr::from(a));
            // A non-first fragment has no ports.
            if be16(off + 6)? & 0x1fff != 0 {
                return None;
            }
            off + ihl
        }
        0x86dd => {
            h.protocol = Some(*b.get(off + 6)?);
            let a: [u8; 16] = b.get(off + 8..off + 24)?.try_into().ok()?;
            h.src = Some(IpAddr::from(a));
            let a: [u8; 16] = b.get(off + 24..off + 40)?.try_into().ok()?;
            h.dst = Some(IpAddr::from(a));
            off + 40
        }
        _ => return None,
    };
    if matches!(h.protocol, Some(6) | Some(17)) {
        h.src_port = Some(be16(l4)?);
        h.dst_port = Some(be16(l4 + 2)?);
        if h.protocol == Some(6) {
            h.tcp_flags = Some(*b.get(l4 + 13)?);
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::PathDrop;
    use slb_core::session::EndReason;
    use slb_wire::DropReason;

    /// A labelled TCP frame: Ethernet, one MPLS label (1001, bottom of
    /// stack), IPv4 198.18.0.10:40000 -> 198.18.100.1:80, flags ACK|FIN.
    fn labelled_fin() -> Vec<u8> {
        let mut f = vec![0u8; 14 + 4 + 20 + 20];
        f[12..14].copy_from_slice(&[0x88, 0x47]);
        f[14..18].copy_from_slice(&((1001u32 << 12) | 0x100 | 64).to_be_bytes());
        let ip = 18;
        f[ip] = 0x45;
        f[ip + 9] = 6;
        f[ip + 12..ip + 16].copy_from_slice(&[198, 18, 0, 10]);
        f[ip + 16..ip + 20].copy_from_slice(&[198, 18, 100, 1]);
        let t = ip + 20;
        f[t..t + 2].copy_from_slice(&40000u16.to_be_bytes());
        f[t + 2..t + 4].copy_from_slice(&80u16.to_be_bytes());
        f[t + 12] = 0x50;
        f[t + 13] = 0x11;
        f
    }

    #[test]
    fn a_record_reads_back_whole() {
        let t = DropTrace::new(2, 4);
        t.set_enabled(true);
        let f = labelled_fin();
        let late = LateBy {
            ended: EndReason::Reset,
            micros: 1234,
        };
        t.record(1, PathDrop::WithdrawnLabel.into(), 3, &f, Some(late));
        let r = t.records();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].lcore, 1);
        assert_eq!(r[0].port, 3);
        assert_eq!(r[0].reason, Reason::Path(PathDrop::WithdrawnLabel));
        assert_eq!(usize::from(r[0].len), f.len());
        assert_eq!(r[0].bytes, f);
        assert_eq!(r[0].late, Some(late));
    }

    #[test]
    fn wire_reasons_and_long_frames() {
        let t = DropTrace::new(1, 4);
        t.set_enabled(true);
        let f = vec![0xa5; 1500];
        t.record(0, DropReason::ALL[0].into(), 0, &f, None);
        let r = &t.records()[0];
        assert_eq!(r.reason, Reason::Wire(DropReason::ALL[0]));
        assert_eq!(r.len, 1500);
        assert_eq!(r.bytes, &f[..CAPTURE]);
        assert_eq!(r.late, None);
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let t = DropTrace::new(1, 4);
        t.set_enabled(true);
        for port in 0..10u8 {
            t.record(0, PathDrop::NotForVip.into(), port, &[port; 20], None);
        }
        let ports: Vec<u8> = t.records().iter().map(|r| r.port).collect();
        assert_eq!(ports, [6, 7, 8, 9]);
    }

    #[test]
    fn turning_it_on_again_forgets_the_last_run() {
        let t = DropTrace::new(1, 4);
        t.set_enabled(true);
        t.record(0, PathDrop::NotForVip.into(), 1, &[0; 20], None);
        t.set_enabled(false);
        std::thread::sleep(std::time::Duration::from_millis(1));
        t.set_enabled(true);
        assert!(t.records().is_empty());
        t.record(0, PathDrop::NotForVip.into(), 2, &[0; 20], None);
        assert_eq!(t.records().len(), 1);
    }

    #[test]
    fn every_reason_survives_its_code() {
        for r in DropReason::ALL {
            assert_eq!(
                Reason::from_code(Reason::Wire(*r).code()),
                Some(Reason::Wire(*r))
            );
        }
        for r in PathDrop::ALL {
            assert_eq!(
                Reason::from_code(Reason::Path(*r).code()),
                Some(Reason::Path(*r))
            );
        }
        for e in EndReason::ALL {
            let l = LateBy {
                ended: e,
                micros: u32::MAX,
            };
            assert_eq!(LateBy::decode(LateBy::encode(Some(l))), Some(l));
        }
        assert_eq!(LateBy::decode(LateBy::encode(None)), None);
    }

    /// A reader racing the writer sees whole records or none, never a
    /// mix of two frames.
    #[test]
    fn readers_never_see_torn_records() {
        let t = std::sync::Arc::new(DropTrace::new(1, 2));
        t.set_enabled(true);
        let w = t.clone();
        let writer = std::thread::spawn(move || {
            for i in 0..20_000u32 {
                let b = (i % 251) as u8;
                w.record(0, PathDrop::NotForVip.into(), b, &[b; CAPTURE], None);
            }
        });
        let mut seen = 0;
        while !writer.is_finished() {
            for r in t.records() {
                assert!(r.bytes.iter().all(|x| *x == r.port), "torn: {r:?}");
                seen += 1;
            }
        }
        writer.join().unwrap();
        assert!(t.records().len() == 2 && seen > 0);
    }

    #[test]
    fn headers_of_a_labelled_frame() {
        let h = headers(&labelled_fin());
        assert_eq!(h.label, Some(1001));
        assert_eq!(h.protocol, Some(6));
        assert_eq!(h.src, Some(IpAddr::from([198, 18, 0, 10])));
        assert_eq!(h.dst, Some(IpAddr::from([198, 18, 100, 1])));
        assert_eq!((h.src_port, h.dst_port), (Some(40000), Some(80)));
        assert_eq!(h.tcp_flags, Some(0x11));
    }

    #[test]
    fn headers_of_a_cut_frame_are_what_it_holds() {
        let f = labelled_fin();
        let h = headers(&f[..18 + 20 + 2]);
        assert_eq!(h.label, Some(1001));
        assert!(h.src.is_some() && h.dst.is_some());
        // The source port is in the capture, the rest is not.
        assert_eq!(
            (h.src_port, h.dst_port, h.tcp_flags),
            (Some(40000), None, None)
        );
        assert_eq!(headers(&f[..10]), Headers::default());
        // A label stack with no bottom within the capture.
        let mut g = f.clone();
        g[16] &= !0x01;
        assert_eq!(headers(&g[..30]).protocol, None);
    }
}
