//! What the data path needs from a packet buffer, so the worker and
//! scheduler logic runs on DPDK mbufs in slbd and on plain vectors in tests.

use crate::dpdk::Mbuf;

/// A packet buffer with headroom, owned by whoever holds it.
pub trait Frame: Send + 'static {
    fn data(&self) -> &[u8];
    fn data_mut(&mut self) -> &mut [u8];
    /// Grows the frame by `n` bytes at the front; `None` without headroom.
    fn prepend(&mut self, n: u16) -> Option<&mut [u8]>;
    /// Removes `n` bytes from the front.
    fn adj(&mut self, n: u16) -> bool;
    /// Sets the length, growing (zero-filled) or shrinking at the end;
    /// false when the buffer cannot hold `len` bytes.
    fn set_len(&mut self, len: usize) -> bool;
    #[inline]
    fn len(&self) -> usize {
        self.data().len()
    }
    /// False when the frame continues past `data()` (a chained mbuf).
    #[inline]
    fn is_contiguous(&self) -> bool {
        true
    }
    #[inline]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Frame for Mbuf {
    #[inline]
    fn data(&self) -> &[u8] {
        Mbuf::data(self)
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        Mbuf::data_mut(self)
    }
    #[inline]
    fn prepend(&mut self, n: u16) -> Option<&mut [u8]> {
        Mbuf::prepend(self, n)
    }
    #[inline]
    fn adj(&mut self, n: u16) -> bool {
        Mbuf::adj(self, n)
    }
    #[inline]
    fn is_contiguous(&self) -> bool {
        Mbuf::is_contiguous(self)
    }
    fn set_len(&mut self, len: usize) -> bool {
        let cur = Mbuf::len(self);
        if len >= cur {
            let Ok(grow) = u16::try_from(len - cur) else {
                return false;
            };
            match self.append(grow) {
                Some(tail) => {
                    tail.fill(0);
                    true
                }
                None => false,
            }
        } else {
            u16::try_from(cur - len).is_ok_and(|n| self.trim(n))
        }
    }
}

/// Makes a frame holding a copy of some bytes (the scheduler's own ARP/ND
/// requests and probes); `None` when no buffer is free.
pub type FrameAlloc<F> = Box<dyn Fn(&[u8]) -> Option<F> + Send>;

/// A heap frame with headroom, for tests and for the pure-Rust golden
/// runner. Mirrors an mbuf: `HEADROOM` bytes in front, growable tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VecFrame {
    buf: Vec<u8>,
    start: usize,
}

impl VecFrame {
    /// DPDK's default mbuf headroom.
    pub const HEADROOM: usize = 128;

    pub fn new(data: &[u8]) -> VecFrame {
        let mut buf = vec![0u8; Self::HEADROOM];
        buf.extend_from_slice(data);
        VecFrame {
            buf,
            start: Self::HEADROOM,
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.buf[self.start..].to_vec()
    }
}

impl Frame for VecFrame {
    fn data(&self) -> &[u8] {
        &self.buf[self.start..]
    }
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..]
    }
    fn prepend(&mut self, n: u16) -> Option<&mut [u8]> {
        let n = n as usize;
        if n > self.start {
            return None;
        }
        self.start -= n;
        Some(&mut self.buf[self.start..])
    }
    fn adj(&mut self, n: u16) -> bool {
        let n = n as usize;
        if n > self.buf.len() - self.start {
            return false;
        }
        self.start += n;
        true
    }
    fn set_len(&mut self, len: usize) -> bool {
        if len > 9216 {
            return false;
        }
        self.buf.resize(self.start + len, 0);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_frame_behaves_like_an_mbuf() {
        let mut f = VecFrame::new(&[1, 2, 3]);
        f.prepend(4)
            .unwrap()
            .copy_from_slice(&[9, 9, 9, 9, 1, 2, 3]);
        assert_eq!(f.data(), &[9, 9, 9, 9, 1, 2, 3]);
        assert!(f.adj(4));
        assert_eq!(f.data(), &[1, 2, 3]);
        assert!(f.set_len(5));
        assert_eq!(f.data(), &[1, 2, 3, 0, 0]);
        assert!(f.set_len(1));
        assert_eq!(f.into_vec(), vec![1]);
        let mut g = VecFrame::new(&[]);
        assert!(g.prepend(129).is_none());
        assert!(!g.adj(1));
    }
}
