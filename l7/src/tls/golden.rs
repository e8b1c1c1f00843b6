//! Golden ClientHellos: the RFC 8448 trace and captures of real clients,
//! as hex, each with what it must read as; and malformed ones built from
//! them, each with its error.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

use super::*;
use std::vec::Vec;

/// RFC 8448 §3 (simple 1-RTT handshake), "{client} send handshake record:
/// complete record": 196-byte ClientHello in a 201-byte record, SNI
/// "server", no ALPN, key share X25519.
pub(crate) const RFC8448: &str = "\
    16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef628302\
    4dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a0014\
    0012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4\
    bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e04\
    0305030603020308040805080604010501060102010402050206020202002d00020101001c000240\
    01";

/// `openssl s_client -connect 127.0.0.1:4433 -servername example.com -alpn
/// h2,http/1.1` (OpenSSL 3.0.19, Debian 12), read by a Python server on
/// loopback in a network namespace: TLS 1.3, key share X25519, 31 suites.
pub(crate) const OPENSSL_TLS13: &str = "\
    160301014a01000146030331ce3ef6ab70b51fe585aa4222117ea9b7fd7cc6ebf5ec6edf2049458d\
    d023a92022622ccedffc0e14f8a3539232096e5d9489545cf88e69f55fb020deaf6e11d1003e1302\
    13031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039\
    c009c0130033009d009c003d003c0035002f00ff010000bf00000010000e00000b6578616d706c65\
    2e636f6d000b000403000102000a00160014001d0017001e00190018010001010102010301040023\
    00000010000e000c02683208687474702f312e310016000000170000000d002a0028040305030603\
    080708080809080a080b080408050806040105010601030303010302040205020602002b00090803\
    04030303020301002d00020101003300260024001d0020ce01844d5b77aa01a967f8f6886df77e32\
    586f640c6b751b26389738b532cd2b";

/// `openssl s_client ... -servername WWW.Example.ORG -tls1_2` (OpenSSL
/// 3.0.19), captured as above: TLS 1.2 only, the name's case as given.
const OPENSSL_TLS12: &str = "\
    16030100cf010000cb030319c8fb1b6811462cb0b25c6c29421614e99d7144c10b1da808ff9d2cb4\
    30d5e2000038c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac014\
    0039c009c0130033009d009c003d003c0035002f00ff0100006a00000014001200000f5757572e45\
    78616d706c652e4f5247000b000403000102000a000c000a001d0017001e00190018002300000016\
    000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601\
    030303010302040205020602";

/// tlslite-ng 0.8.2 with kyber-py 1.2.0 (`handshakeClientCert(serverName=
/// "pq.example.net", alpn=[b"h2", b"http/1.1"])`), captured with tcpdump
/// on loopback (MTU 1500) in a network namespace: key shares
/// X25519MLKEM768 (0x11ec, 1,216 + 32 bytes), secp256r1 and X25519, a
/// 1,713-byte stream. Loopback's GSO sent it as one segment; on a
/// 1,500-byte-MTU path with TCP timestamps the first segment carries
/// 1,448 bytes ([`PQ_FIRST_SEGMENT`]).
pub(crate) const TLSLITE_MLKEM: &str = "\
    16030106ac010006a803030ef807b55d15c564c00ee4cfa748b870f7fe749c6cefe3db5dbcad2294\
    62117c20bad0fc9e8f2708baab6b417c2ad8c430d66486f46d86442e968a99056ae8e5dd005e00ff\
    1302130113031304cca9c02cc02bc0adc0acc024c023c00ac009c008cca8c030c02fc028c027c014\
    c013c012ccaa009f009ec09fc09e006b0067003900330016009d009cc09dc09c003d003c0035002f\
    000a00a300a2003800320013010006010016000000170000000d0036003408070808081c081b081a\
    0603050304030806080b0805080a0804080903030203060205020402030202020601050104010301\
    02010010000e000c02683208687474702f312e31002b00090803040303030203010033052f052d11\
    ec04c0c940906980874c33be46d531995cb4d66b5cb31179b3467f8701ced7384d2934c0cf239d06\
    a8887f93204e55821b21576cf26209d5381806a93de60b6d94b9c9427f70854cf5a9216f550f781b\
    118be10b8c163647aa020ee19de8a2c9e991789468c20dd4663de92adb61b2cedb1c0776b95b988e\
    2c5b5fdab7c5274c4c8cd3a158e4571109007da789e3004e6770cf06baa7a662438c642284471dc1\
    856e0a46636fc7140cd072d5f090d99b9958c07084385b2356ab1ebcc97b527fb2871a3feb045ac6\
    a7a4040c2aa0b9f4eaa777db480bca40483a16e8605283515dd454bb043908bd711fe694359cd04b\
    c5dab908772d9d22101787adc97c771d104617034b395b0adc98aef96090192b24b24c3cc88a3760\
    5751196567b32c2ab7b1b0cd514fbcb5bd87a30f0719adb3a9a6f4a8372271437caa807274982883\
    30ad48b5fb8b0fa696a93a7b048308371e93a0e56a3b61876ea5897e53d5a90633c3fb86b2d5e9c4\
    0465000b2c8e7523bb0821b78385ae5d94253b653bff983080e677a8744ba499814651c24cc102c8\
    13a0b9c0595f14050d62a394336e29d2bc4db95b5b2648a658a1e7eb8ca0516920da987bacb4d9b0\
    0b4dd11f501173ac45b069f6b12880a08c2222ef0027ceb3632447ba2b1b914f43282cf442242072\
    140a514ee9643d568c7521a6f2767286fc48c3159309072a4ad68e92f38ba62825855c2362856171\
    477a2f7760a531b630bbb5285724ee00349d3b7116a0719d0c57d3342e43f0a6d5374ab2831b2bc6\
    a38d30c532acab044a0b83fb2125aab3d3085525726f24732a4d9c1edff953dc7b6bf88cafb3007e\
    5683647001be8a8a9ebcf78a2fbb1c28e38c420147de8b15a4670b2e2640c5465255d05389ebbe61\
    4569ce249215548f2af8413c91800eac878da34b3e41a6a8a47794310c0e0bb7e9926087cc8aafb3\
    c5cb19368a3751cf71b881069ab7d8633d86753cb73459197a2c1284155598e244b7985c6f2c8c65\
    58a9ab0895417ee2a252f77676084a189c8798ca614e517de6a01224f41f45ec41acc27429801e6c\
    9715806cb15fa1aafc5b0a3193cda060c403a74193713157997820a141bbf9cfac7b94410979845c\
    1fdd87110e04a076aa64cef920e36c7d795b111b5c467a7b636a591f85a97e5ef60efa59455566cb\
    31a443b075ac166352fa676e5ff43ff0b42212c0afebc1873cdbb417662f67ab0412c085c6ebca8b\
    5b0c55151a1657abab0a179f270c8a02623668c2ec7bcd82e118c890a33b83cf8911c3b16a8c001a\
    a615e21df73424055a6b0d82857c54bd60d53c3d741ff7ac7ec007452f173dda2b928d5b8d36f474\
    90657db2d768c9ebcef47190adf330b9e503c0fc7e02dc6e79801a11242d687a9cefe89f0ca2aee1\
    28ace72379a7b87265a7b678e02b3d3a32d59301199560857cb26d933d4dac3a4d1040ef295ef8a9\
    2645421dfe9b046d815a36f4cedb7b6406f8994f415842f305d5795d34a39a6b1c639397aee48cc4\
    1cc19665988e80a804062c6cb9408018a26596461e6dd73abc159081ab6113a195cc27be245002db\
    82292643cfa46c8653fa9ccf814109b3973d460c9f97333d62b67db82d1a326f7c3ca70b50648bd6\
    b2aa4020caddb6bb616467139e038212cef67fbed4f892cd864866fe13bec6a93f38094924a61513\
    54b54febdf61f8d9866531083e5c1dbdc02e3500170041042fbbcabe8126934b2acb47b729e35961\
    aab2e1381dde10e54e96ff44559a1aeea7daccfd2614fdcda74a35f4a6eb0555c32792ef53d01982\
    81317d9933dfabd7001d002067bcad5e5e7a7373614262658511af56efbe0192d987e006c61184c9\
    3b8a2647002d0003020100000b0003020100000a0028002611ec0017001d11eb11ed001e00180019\
    001c001b001a001f0020002101000101010201030104000f000101001c0002400100230000001b00\
    0302000100090002010000000013001100000e70712e6578616d706c652e6e6574";

/// The payload of the first of two segments at MSS 1,460 with timestamps.
pub(crate) const PQ_FIRST_SEGMENT: usize = 1448;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A golden ClientHello and what it reads as (suite and extension counts
/// checked against a separate Python walk of the same bytes).
struct Golden {
    name: &'static str,
    hex: &'static str,
    legacy_version: u16,
    suites: usize,
    sni: Option<&'static str>,
    alpn: &'static [&'static [u8]],
    extensions: usize,
}

const GOLDEN: &[Golden] = &[
    Golden {
        name: "RFC 8448 §3",
        hex: RFC8448,
        legacy_version: 0x0303,
        suites: 3,
        sni: Some("server"),
        alpn: &[],
        extensions: 9,
    },
    Golden {
        name: "openssl 3.0 TLS 1.3",
        hex: OPENSSL_TLS13,
        legacy_version: 0x0303,
        suites: 31,
        sni: Some("example.com"),
        alpn: &[b"h2", b"http/1.1"],
        extensions: 11,
    },
    Golden {
        name: "openssl 3.0 TLS 1.2",
        hex: OPENSSL_TLS12,
        legacy_version: 0x0303,
        suites: 28,
        sni: Some("WWW.Example.ORG"),
        alpn: &[],
        extensions: 7,
    },
    Golden {
        name: "tlslite-ng X25519MLKEM768",
        hex: TLSLITE_MLKEM,
        legacy_version: 0x0303,
        suites: 47,
        sni: Some("pq.example.net"),
        alpn: &[b"h2", b"http/1.1"],
        extensions: 15,
    },
];

#[test]
fn golden_client_hellos_read_as_expected() {
    for g in GOLDEN {
        let b = hex(g.hex);
        let h = client_hello(&b, 4096).unwrap_or_else(|e| panic!("{}: {e}", g.name));
        assert_eq!(h.record_end, b.len(), "{}", g.name);
        assert_eq!(h.legacy_version, g.legacy_version, "{}", g.name);
        assert_eq!(h.random.len(), 32, "{}", g.name);
        assert_eq!(h.cipher_suites.len() / 2, g.suites, "{}", g.name);
        assert_eq!(h.server_name(), g.sni, "{}", g.name);
        assert_eq!(h.alpn().collect::<Vec<_>>(), g.alpn, "{}", g.name);
        assert_eq!(h.extensions().count(), g.extensions, "{}", g.name);
        assert!(!h.ech(), "{}", g.name);
        // Every prefix waits for the whole record; under max_len it is
        // too long.
        for cut in 0..b.len() {
            let need = if cut < RECORD_HEADER_LEN {
                RECORD_HEADER_LEN
            } else {
                b.len()
            };
            assert_eq!(
                client_hello(&b[..cut], 4096),
                Err(TlsError::Incomplete { need }),
                "{} cut at {cut}",
                g.name
            );
        }
        assert_eq!(
            client_hello(&b, b.len() - 1),
            Err(TlsError::TooLong { need: b.len() }),
            "{}",
            g.name
        );
        // Bytes after the record (early data, the next record) are not read.
        let mut more = b.clone();
        more.extend_from_slice(&[23, 3, 3, 0, 1, 0xff]);
        assert_eq!(client_hello(&more, 4096), Ok(h), "{}", g.name);
    }
}

/// The case: a post-quantum ClientHello over two TCP segments.
/// The first segment alone is Incomplete with the stream length to wait
/// for; with the second, the name and ALPN read; a 1,500-byte cap (one
/// segment's worth) is too small for it.
#[test]
fn mlkem_client_hello_across_two_segments() {
    let b = hex(TLSLITE_MLKEM);
    assert!((1500..=1800).contains(&b.len()));
    let (first, _) = b.split_at(PQ_FIRST_SEGMENT);
    assert_eq!(
        client_hello(first, 4096),
        Err(TlsError::Incomplete { need: 1713 })
    );
    let h = client_hello(&b, 4096).unwrap();
    assert!(h.sni_matches("*.example.net") && h.offers_alpn(b"h2"));
    // The key share holds X25519MLKEM768 (group 0x11ec).
    let (_, shares) = h.extensions().find(|(t, _)| *t == 51).unwrap();
    assert_eq!(&shares[2..4], &[0x11, 0xec]);
    assert_eq!(
        client_hello(first, 1500),
        Err(TlsError::TooLong { need: 1713 })
    );
}

/// The same ClientHellos as bare handshake messages (QUIC's CRYPTO
/// stream: no record header) read as from the stream; each prefix waits
/// for the message's length; bytes after it are not read.
#[test]
fn golden_client_hellos_as_bare_messages() {
    for g in GOLDEN {
        let b = hex(g.hex);
        let msg = &b[RECORD_HEADER_LEN..];
        let from_stream = client_hello(&b, 4096).unwrap();
        let h = client_hello_message(msg).unwrap_or_else(|e| panic!("{}: {e}", g.name));
        assert_eq!(h.record_end, msg.len(), "{}", g.name);
        assert_eq!(
            (h.server_name(), h.extensions, h.cipher_suites, h.random),
            (
                from_stream.server_name(),
                from_stream.extensions,
                from_stream.cipher_suites,
                from_stream.random
            ),
            "{}",
            g.name
        );
        assert!(h.alpn().eq(from_stream.alpn()), "{}", g.name);
        for cut in 0..msg.len() {
            let need = if cut < HANDSHAKE_HEADER_LEN {
                HANDSHAKE_HEADER_LEN
            } else {
                msg.len()
            };
            assert_eq!(
                client_hello_message(&msg[..cut]),
                Err(TlsError::Incomplete { need }),
                "{} cut at {cut}",
                g.name
            );
        }
        let mut more = msg.to_vec();
        more.extend_from_slice(&[0xff; 7]);
        assert_eq!(client_hello_message(&more), Ok(h), "{}", g.name);
    }
}

/// A bare message that is not a ClientHello, or whose body is bad, is
/// refused as in a record.
#[test]
fn bare_message_errors() {
    assert_eq!(
        client_hello_message(&[2, 0, 0, 0]),
        Err(TlsError::NotClientHello { msg_type: 2 })
    );
    assert_eq!(
        client_hello_message(&[22, 3, 1, 0, 4, 1, 0, 0, 0]),
        Err(TlsError::NotClientHello { msg_type: 22 })
    );
    assert_eq!(
        client_hello_message(&[1, 0, 0, 2, 3, 3]),
        Err(TlsError::BadLength {
            field: Field::VersionAndRandom
        })
    );
    let mut b = hex(OPENSSL_TLS12);
    // legacy_version 0x0304 inside the message.
    b[RECORD_HEADER_LEN + 5] = 4;
    assert_eq!(
        client_hello_message(&b[RECORD_HEADER_LEN..]),
        Err(TlsError::BadHelloVersion { version: 0x0304 })
    );
}
