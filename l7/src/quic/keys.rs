//! The Initial keys (RFC 9001 §5.2): anyone who sees the client's first
//! Destination Connection ID derives them, which is what lets slbd read a
//! ClientHello it will not answer.
//!
//! ```text
//! initial_secret = HKDF-Extract(initial_salt, client_dcid)
//! client_secret  = HKDF-Expand-Label(initial_secret, "client in", "", 32)
//! key            = HKDF-Expand-Label(client_secret,  "quic key",  "", 16)
//! iv             = HKDF-Expand-Label(client_secret,  "quic iv",   "", 12)
//! hp             = HKDF-Expand-Label(client_secret,  "quic hp",   "", 16)
//!
//! HKDF-Expand-Label(secret, label, context, length)   (RFC 8446 §7.1)
//!   = HKDF-Expand(secret, HkdfLabel, length), HkdfLabel =
//!     +-----------+-----------+---------------------+-----------+---------+
//!     | length 16 | label len | "tls13 " + label    | ctx len 0 | context |
//!     +-----------+-----------+---------------------+-----------+---------+
//! ```
//!
//! SHA-256 is the hash and AES-128-GCM the AEAD (RFC 9001 §5.2: the
//! Initial packets use TLS_AES_128_GCM_SHA256), AES-128 the header
//! protection cipher (§5.4.3). All from RustCrypto's crates: nothing here
//! computes a hash or a cipher itself.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use aes::Aes128;
use aes_gcm::{Aes128Gcm, KeyInit};
use hkdf::Hkdf;
use sha2::Sha256;

/// QUIC version 1's initial salt (RFC 9001 §5.2).
pub const INITIAL_SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];

/// The derived key material of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secrets {
    /// The AEAD key (AES-128-GCM).
    pub key: [u8; 16],
    /// The AEAD IV, XORed with the packet number for each nonce (RFC 9001
    /// §5.3).
    pub iv: [u8; 12],
    /// The header protection key (AES-128, §5.4.3).
    pub hp: [u8; 16],
}

/// The keys that protect a client's Initial packets, their ciphers keyed
/// once (so each packet costs no key schedule).
#[derive(Clone)]
pub struct InitialKeys {
    secrets: Secrets,
    pub(crate) aead: Aes128Gcm,
    pub(crate) hp: Aes128,
}

impl core::fmt::Debug for InitialKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Not secret: anyone with the DCID derives them.
        f.debug_struct("InitialKeys")
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl InitialKeys {
    /// The client's Initial keys for a connection whose client chose
    /// `dcid` as the Destination Connection ID of its first Initial.
    pub fn client(dcid: &[u8]) -> InitialKeys {
        Self::derive(dcid, b"client in")
    }

    /// The server's Initial keys for the same connection (RFC 9001 §5.2,
    /// "server in"): what a server's Initials are protected with.
    pub fn server(dcid: &[u8]) -> InitialKeys {
        Self::derive(dcid, b"server in")
    }

    fn derive(dcid: &[u8], label: &[u8]) -> InitialKeys {
        let (initial_secret, _) = Hkdf::<Sha256>::extract(Some(&INITIAL_SALT_V1), dcid);
        let secret: [u8; 32] = expand_label(&initial_secret, label);
        let secrets = Secrets {
            key: expand_label(&secret, b"quic key"),
            iv: expand_label(&secret, b"quic iv"),
            hp: expand_label(&secret, b"quic hp"),
        };
        InitialKeys {
            aead: Aes128Gcm::new(&secrets.key.into()),
            hp: Aes128::new(&secrets.hp.into()),
            secrets,
        }
    }

    /// The key, IV and header protection key.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }
}

/// HKDF-Expand-Label(secret, label, "", N) (RFC 8446 §7.1) with SHA-256.
fn expand_label<const N: usize>(secret: &[u8], label: &[u8]) -> [u8; N] {
    const {
        // HKDF-Expand gives at most 255 hash lengths; HkdfLabel's length
        // is a u16. Every N used here is 12, 16 or 32.
        assert!(N <= 255 * 32 && N <= u16::MAX as usize);
    }
    let mut out = [0u8; N];
    let len = (N as u16).to_be_bytes();
    let label_len = [(b"tls13 ".len() + label.len()) as u8];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0u8]];
    // A secret of 32 bytes is a valid PRK (HashLen), and `expand` fails
    // only for an output over 255 hash lengths, which the const assertion
    // above rules out: neither error can happen.
    #[allow(clippy::expect_used)]
    Hkdf::<Sha256>::from_prk(secret)
        .expect("a 32-byte PRK")
        .expand_multi_info(&info, &mut out)
        .expect("N <= 255 * HashLen");
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::super::rfc9001_vectors::{hex, A1};
    use super::*;

    /// RFC 9001 §A.1: both directions' key, IV and header protection key
    /// from DCID 0x8394c8f03e515708.
    #[test]
    fn rfc9001_a1() {
        let dcid = hex(A1.dcid);
        for (keys, want) in [
            (InitialKeys::client(&dcid), &A1.client),
            (InitialKeys::server(&dcid), &A1.server),
        ] {
            let s = keys.secrets();
            assert_eq!(s.key[..], hex(want.key)[..]);
            assert_eq!(s.iv[..], hex(want.iv)[..]);
            assert_eq!(s.hp[..], hex(want.hp)[..]);
        }
    }

    /// §A.1's HkdfLabel bytes: what `expand_label` feeds HKDF-Expand, and
    /// the intermediate secrets.
    #[test]
    fn rfc9001_a1_labels_and_secrets() {
        for (label, len, want) in A1.labels {
            let mut info = Vec::new();
            info.extend_from_slice(&(*len as u16).to_be_bytes());
            info.push((6 + label.len()) as u8);
            info.extend_from_slice(b"tls13 ");
            info.extend_from_slice(label.as_bytes());
            info.push(0);
            assert_eq!(info, hex(want), "{label}");
        }
        let (initial, _) = Hkdf::<Sha256>::extract(Some(&INITIAL_SALT_V1), &hex(A1.dcid));
        assert_eq!(initial[..], hex(A1.initial_secret)[..]);
        let client: [u8; 32] = expand_label(&initial, b"client in");
        assert_eq!(client[..], hex(A1.client_secret)[..]);
        let server: [u8; 32] = expand_label(&initial, b"server in");
        assert_eq!(server[..], hex(A1.server_secret)[..]);
    }

    #[test]
    fn keys_depend_on_the_dcid() {
        let a = InitialKeys::client(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let b = InitialKeys::client(&[1, 2, 3, 4, 5, 6, 7, 9]);
        let e = InitialKeys::client(&[]);
        assert_ne!(a.secrets(), b.secrets());
        assert_ne!(a.secrets(), e.secrets());
        assert_eq!(
            a.secrets(),
            InitialKeys::client(&[1, 2, 3, 4, 5, 6, 7, 8]).secrets()
        );
    }
}
