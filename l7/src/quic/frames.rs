//! The frames of a client's Initials ([`Frames`], RFC 9000 §12.4, §19) and
//! the CRYPTO stream they carry, put back in order up to the whole TLS
//! ClientHello ([`CryptoReassembly`]).
//!
//! ```text
//!  frames an Initial may carry (RFC 9000 §12.4, table 3)
//!  0x00        PADDING           (a run of zero bytes)
//!  0x01        PING
//!  0x02, 0x03  ACK               largest, delay, range count, first range,
//!                                ranges (gap, length)..., [3 ECN counts]
//!  0x06        CRYPTO            offset (i), length (i), data
//!  0x1c        CONNECTION_CLOSE  error code (i), frame type (i),
//!                                reason length (i), reason
//!
//!  CRYPTO stream (the TLS handshake, from offset 0)
//! +------+------------------+---------------------------------+
//! | 0x01 | length (24 bits) | ClientHello body (RFC 8446 §4)  |
//! +------+------------------+---------------------------------+
//!  |<-- handshake header -->|
//!  complete when offsets 0 .. 4 + length are all in
//! ```
//!
//! CRYPTO frames may come in any order, across Initials and datagrams
//! (a ClientHello with a post-quantum key share takes two); where they
//! overlap they must agree byte for byte.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::error::QuicError;
use super::keys::InitialKeys;
use super::kind::PacketType;
use super::packet::{decrypt_initial, packets, Header, Initial, MAX_CID_LEN};
use super::varint::VARINT_MAX;
use crate::reader::Reader;

/// The most CRYPTO stream bytes [`CryptoReassembly`] holds, so the longest
/// ClientHello (with its 4-byte header) it reassembles. Browsers' are
/// under 2 KB, with an ML-KEM key share.
pub const CRYPTO_CAPACITY: usize = 4096;

/// TLS handshake type client_hello (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
/// The handshake header: type (1 byte) and length (24 bits).
const HANDSHAKE_HEADER_LEN: usize = 4;

const PADDING: u64 = 0x00;
const PING: u64 = 0x01;
const ACK: u64 = 0x02;
const ACK_ECN: u64 = 0x03;
const CRYPTO: u64 = 0x06;
const CONNECTION_CLOSE: u64 = 0x1c;

/// One frame of an Initial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A run of PADDING frames (zero bytes).
    Padding {
        /// How many.
        len: usize,
    },
    /// PING.
    Ping,
    /// ACK (with ECN counts or not); its ranges are read past, not kept.
    Ack {
        /// Largest Acknowledged.
        largest: u64,
    },
    /// CRYPTO: `data` at `offset` of the handshake stream.
    Crypto {
        /// The data's offset in the stream.
        offset: u64,
        /// The data.
        data: &'a [u8],
    },
    /// CONNECTION_CLOSE of type 0x1c (a transport error).
    ConnectionClose {
        /// The error code.
        error_code: u64,
    },
}

/// The frames of an Initial's payload, in order. A frame that cannot be
/// read yields its error and ends the iteration.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> Frames<'a> {
    /// The frames of `payload`, an Initial's plaintext.
    pub fn new(payload: &'a [u8]) -> Self {
        Frames {
            r: Reader::new(payload),
            failed: false,
        }
    }

    fn frame(&mut self) -> Result<Frame<'a>, QuicError> {
        let frame_type = self.r.varint().ok_or(QuicError::FrameTruncated {
            frame_type: PADDING,
        })?;
        let cut = QuicError::FrameTruncated { frame_type };
        let r = &mut self.r;
        match frame_type {
            PADDING => {
                let mut len = 1;
                while let Some(0) = r.peek() {
                    r.u8();
                    len += 1;
                }
                Ok(Frame::Padding { len })
            }
            PING => Ok(Frame::Ping),
            ACK | ACK_ECN => {
                let largest = r.varint().ok_or(cut)?;
                let _delay = r.varint().ok_or(cut)?;
                let count = r.varint().ok_or(cut)?;
                let _first_range = r.varint().ok_or(cut)?;
                // Each range is at least two bytes: the loop ends with
                // the payload, whatever the count says.
                let mut left = count;
                while left > 0 {
                    r.varint().ok_or(cut)?;
                    r.varint().ok_or(cut)?;
                    left -= 1;
                }
                if frame_type == ACK_ECN {
                    for _ in 0..3 {
                        r.varint().ok_or(cut)?;
                    }
                }
                Ok(Frame::Ack { largest })
            }
            CRYPTO => {
                let offset = r.varint().ok_or(cut)?;
                let len = r.varint().ok_or(cut)?;
                if offset.checked_add(len).is_none_or(|end| end > VARINT_MAX) {
                    return Err(QuicError::CryptoOffsetOverflow);
                }
                let len = usize::try_from(len).map_err(|_| cut)?;
                let data = r.bytes(len).ok_or(cut)?;
                Ok(Frame::Crypto { offset, data })
            }
            CONNECTION_CLOSE => {
                let error_code = r.varint().ok_or(cut)?;
                let _frame_type = r.varint().ok_or(cut)?;
                let len = r.varint().ok_or(cut)?;
                let len = usize::try_from(len).map_err(|_| cut)?;
                r.bytes(len).ok_or(cut)?;
                Ok(Frame::ConnectionClose { error_code })
            }
            _ => Err(QuicError::FrameNotAllowed { frame_type }),
        }
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, QuicError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.remaining() == 0 {
            return None;
        }
        let f = self.frame();
        self.failed = f.is_err();
        Some(f)
    }
}

/// The CRYPTO stream of a client's Initials, put back in order: an inline
/// buffer of [`CRYPTO_CAPACITY`] bytes and a bitmap of the offsets
/// received (about 4.6 KB in all, no heap allocation; box it to keep it
/// off the stack). Feed it each Initial's frames
/// ([`feed_initial`](Self::feed_initial)) or whole datagrams
/// ([`feed_datagram`](Self::feed_datagram)) until
/// [`client_hello`](Self::client_hello) gives the ClientHello. After an
/// error the frames before the bad one stay fed; the caller gives the flow
/// up (or balances it by 5-tuple).
#[derive(Clone)]
pub struct CryptoReassembly {
    buf: [u8; CRYPTO_CAPACITY],
    have: [u64; CRYPTO_CAPACITY / 64],
    /// Bytes in from offset 0 with no gap.
    contiguous: usize,
    /// The highest end offset fed.
    max_end: usize,
    /// The ClientHello's end (length + 4), once its header is in.
    hello_end: Option<usize>,
}

impl core::fmt::Debug for CryptoReassembly {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CryptoReassembly")
            .field("contiguous", &self.contiguous)
            .field("max_end", &self.max_end)
            .field("hello_end", &self.hello_end)
            .finish_non_exhaustive()
    }
}

impl Default for CryptoReassembly {
    fn default() -> Self {
        Self::new()
    }
}

impl CryptoReassembly {
    /// Empty.
    pub const fn new() -> Self {
        CryptoReassembly {
            buf: [0; CRYPTO_CAPACITY],
            have: [0; CRYPTO_CAPACITY / 64],
            contiguous: 0,
            max_end: 0,
            hello_end: None,
        }
    }

    /// The stream's bytes from offset 0 up to the first gap.
    pub fn contiguous(&self) -> &[u8] {
        self.buf.get(..self.contiguous).unwrap_or_default()
    }

    /// The ClientHello's length with its 4-byte header, once the header
    /// is in.
    pub fn client_hello_len(&self) -> Option<usize> {
        self.hello_end
    }

    /// The whole ClientHello, handshake header included (what the `tls`
    /// module parses), once all of it is in.
    pub fn client_hello(&self) -> Option<&[u8]> {
        let end = self.hello_end?;
        if self.contiguous < end {
            return None;
        }
        self.buf.get(..end)
    }

    /// Whether the whole ClientHello is in.
    pub fn is_complete(&self) -> bool {
        self.client_hello().is_some()
    }

    /// Feed the frames of one decrypted Initial.
    pub fn feed_initial(&mut self, initial: &Initial<'_>) -> Result<(), QuicError> {
        self.feed_frames(initial.payload)
    }

    /// Feed an Initial's plaintext frames: CRYPTO data goes in, PADDING,
    /// PING, ACK and CONNECTION_CLOSE are read past, any other frame is an
    /// error, and so is a payload with no frame.
    pub fn feed_frames(&mut self, payload: &[u8]) -> Result<(), QuicError> {
        if payload.is_empty() {
            return Err(QuicError::NoFrames);
        }
        for f in Frames::new(payload) {
            if let Frame::Crypto { offset, data } = f? {
                self.insert(offset, data)?;
            }
        }
        Ok(())
    }

    /// Decrypt and feed each Initial of `datagram` (in place), skipping
    /// its other packets and Initials whose Destination Connection ID
    /// differs from the first Initial's (RFC 9000 §12.2 advises ignoring
    /// them). Returns how many Initials were fed.
    pub fn feed_datagram(
        &mut self,
        datagram: &mut [u8],
        keys: &InitialKeys,
    ) -> Result<usize, QuicError> {
        let mut first_dcid: Option<([u8; MAX_CID_LEN], usize)> = None;
        let mut fed = 0;
        for p in packets(datagram) {
            let p = p?;
            if p.packet_type != PacketType::Initial {
                continue;
            }
            let dcid = Header::parse(p.bytes)?.dcid;
            match first_dcid {
                None => {
                    let mut id = [0u8; MAX_CID_LEN];
                    if let Some(d) = id.get_mut(..dcid.len()) {
                        d.copy_from_slice(dcid);
                    }
                    first_dcid = Some((id, dcid.len()));
                }
                Some((id, len)) => {
                    if id.get(..len) != Some(dcid) {
                        continue;
                    }
                }
            }
            let initial = decrypt_initial(p.bytes, keys)?;
            self.feed_initial(&initial)?;
            fed += 1;
        }
        Ok(fed)
    }

    fn has(&self, i: usize) -> bool {
        self.have
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    /// Put `data` at `offset` of the stream.
    fn insert(&mut self, offset: u64, data: &[u8]) -> Result<(), QuicError> {
        // Frames checked offset + length <= 2^62 - 1.
        let end = offset.saturating_add(data.len() as u64);
        if data.is_empty() {
            return Ok(());
        }
        if let Some(hello_end) = self.hello_end {
            if end > hello_end as u64 {
                return Err(QuicError::CryptoPastClientHello { end, hello_end });
            }
        }
        if end > CRYPTO_CAPACITY as u64 {
            return Err(QuicError::CryptoPastCapacity { end });
        }
        // end <= CRYPTO_CAPACITY: both fit a usize.
        let (start, end) = (offset as usize, end as usize);
        let dst = self
            .buf
            .get(start..end)
            .ok_or(QuicError::CryptoPastCapacity { end: end as u64 })?;
        for (i, (&old, &new)) in (start..).zip(dst.iter().zip(data)) {
            if old != new && self.has(i) {
                return Err(QuicError::CryptoMismatch { offset: i as u64 });
            }
        }
        if let Some(dst) = self.buf.get_mut(start..end) {
            dst.copy_from_slice(data);
        }
        for i in start..end {
            if let Some(w) = self.have.get_mut(i / 64) {
                *w |= 1u64 << (i % 64);
            }
        }
        self.max_end = self.max_end.max(end);
        while self.contiguous < CRYPTO_CAPACITY && self.has(self.contiguous) {
            self.contiguous += 1;
        }
        self.read_handshake_header()
    }

    /// Once the stream's first bytes are in: a ClientHello, and where it
    /// ends.
    fn read_handshake_header(&mut self) -> Result<(), QuicError> {
        if self.hello_end.is_some() {
            return Ok(());
        }
        let head = self.contiguous();
        if let Some(&msg_type) = head.first() {
            if msg_type != CLIENT_HELLO {
                return Err(QuicError::NotClientHello { msg_type });
            }
        }
        let Some(&[_, a, b, c]) = head.get(..HANDSHAKE_HEADER_LEN) else {
            return Ok(());
        };
        let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
        let hello_end = HANDSHAKE_HEADER_LEN + len;
        if hello_end > CRYPTO_CAPACITY {
            return Err(QuicError::ClientHelloTooLarge { len });
        }
        if self.max_end > hello_end {
            return Err(QuicError::CryptoPastClientHello {
                end: self.max_end as u64,
                hello_end,
            });
        }
        self.hello_end = Some(hello_end);
        Ok(())
    }
}

#[cfg(test)]
#[path = "frames_tests.rs"]
mod tests;
