//! A cursor over the big-endian fields of a client's first bytes, shared
//! by the readers (TLS's vectors, QUIC's variable-length integers): every
//! read is checked, none panics.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// Reads forward through `buf`; every read returns `None` when the bytes
/// run out, leaving the position where it was.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Offset of the next byte to read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The next byte, not consumed.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        let b: [u8; 2] = self.bytes(2)?.try_into().ok()?;
        Some(u16::from_be_bytes(b))
    }

    /// A 24-bit length (TLS's handshake header).
    pub(crate) fn u24(&mut self) -> Option<usize> {
        let b = self.bytes(3)?;
        Some(b.iter().fold(0usize, |v, &x| v << 8 | usize::from(x)))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        let a: [u8; 4] = b.try_into().ok()?;
        Some(u32::from_be_bytes(a))
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    /// A variable-length integer (RFC 9000 §16), any of its encodings.
    /// TLS's `opaque x<0..2^8-1>`: a one-byte length, then the bytes.
    pub(crate) fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.bytes(usize::from(n))
    }

    /// TLS's `opaque x<0..2^16-1>`.
    pub(crate) fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.bytes(usize::from(n))
    }

    /// A QUIC variable-length integer (RFC 9000 §16).
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let first = *self.buf.get(self.pos)?;
        let len = 1usize << (first >> 6);
        let b = self.buf.get(self.pos..self.pos.checked_add(len)?)?;
        let v = b
            .iter()
            .skip(1)
            .fold(u64::from(first & 0x3f), |v, &x| (v << 8) | u64::from(x));
        self.pos += len;
        Some(v)
    }
}
