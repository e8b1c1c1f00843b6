//! `tls` checks: a TLS handshake (1.3 or 1.2, rustls with ring) over the
//! probe's own TCP (`stream.rs`), as an [`App`]. Up when the handshake
//! completes: slbd sends its Finished, then resets the connection.
//!
//! The server's certificate chain is not verified (no trust anchors, no
//! names, no dates): the check asks whether the service speaks TLS, not
//! whether a client should trust it; an expired certificate is an
//! operator's alert, not a reason to stop sending clients. The server's
//! signature over the handshake is verified, so the server holds the key
//! of the certificate it shows. Resumption is off: every probe does a full
//! handshake. At most [`TlsCheck::MAX_HANDSHAKE`] bytes (16 KiB) of the
//! server's handshake are read, certificates included.
//!
//! rustls does the protocol in memory (`read_tls`/`write_tls` on byte
//! slices): no socket, no thread, nothing that blocks the scheduler.

use super::stream::{App, Verdict};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use slb_config::TlsCheck;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// Accepts any certificate chain; checks the handshake's signatures.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// The client configuration every probe shares (built once).
fn client_config() -> Result<Arc<ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider: Arc<CryptoProvider> = Arc::new(ring::default_provider());
            let verifier = AnyCertificate(provider.signature_verification_algorithms);
            let mut c = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("tls: {e}"))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            c.resumption = Resumption::disabled();
            Ok(Arc::new(c))
        })
        .clone()
}

/// A `tls` check over a probe's stream.
#[derive(Debug)]
pub struct TlsApp {
    conn: ClientConnection,
}

impl TlsApp {
    /// A handshake with server `addr`, sending `sni` as its name (none
    /// when `None`: rustls sends no SNI for an address).
    pub fn new(sni: Option<&str>, addr: IpAddr) -> Result<TlsApp, String> {
        let name = match sni {
            Some(n) => ServerName::try_from(n.to_string()).map_err(|e| format!("tls: {e}"))?,
            None => ServerName::IpAddress(addr.into()),
        };
        let conn =
            ClientConnection::new(client_config()?, name).map_err(|e| format!("tls: {e}"))?;
        Ok(TlsApp { conn })
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            if self.conn.write_tls(out).is_err() {
                break;
            }
        }
    }
}

impl App for TlsApp {
    fn start(&mut self, out: &mut Vec<u8>) {
        self.flush(out);
    }

    fn received(&mut self, mut data: &[u8], complete: bool, out: &mut Vec<u8>) -> Option<Verdict> {
        while !data.is_empty() {
            match self.conn.read_tls(&mut data) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Some(Err(format!("tls: {e}"))),
            }
            if let Err(e) = self.conn.process_new_packets() {
                return Some(Err(format!("tls: {e}")));
            }
        }
        // Our Finished (1.3), or key exchange and Finished (1.2).
        self.flush(out);
        if !self.conn.is_handshaking() {
            let v = self.conn.protocol_version();
            return Some(Ok(match v {
                Some(v) => format!("handshake {v:?}"),
                None => "handshake".into(),
            }));
        }
        complete.then(|| Err("tls: handshake incomplete".into()))
    }

    fn bound(&self) -> usize {
        TlsCheck::MAX_HANDSHAKE
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::stream::{Conn, Segment, Send};
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    use rustls::{ServerConfig, ServerConnection, SupportedProtocolVersion};
    use slb_wire::TcpFlags;

    pub(crate) const CERT: &str = include_str!("../../../testdata/health-tls/cert.pem");
    pub(crate) const KEY: &str = include_str!("../../../testdata/health-tls/key.pem");

    /// A server with the test certificate that speaks `versions`.
    pub(crate) fn server(versions: &[&'static SupportedProtocolVersion]) -> ServerConnection {
        let cert = CertificateDer::from_pem_slice(CERT.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
        let c = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        ServerConnection::new(Arc::new(c)).unwrap()
    }

    const ISS: u32 = 1000;
    const IRS: u32 = 50_000;

    /// Plays TCP between a probe's Conn and `serve`, which takes the
    /// client's bytes and returns its own (and whether it closes); what
    /// slbd sends with its verdict is served too, its answer dropped.
    /// Returns the verdict and the segments slbd sent.
    fn play(
        app: TlsApp,
        mut serve: impl FnMut(&[u8]) -> (Vec<u8>, bool),
    ) -> (Option<Verdict>, Vec<Send>) {
        let mut c = Conn::new(ISS, Box::new(app));
        let mut sent = Vec::new();
        let mut out = Vec::new();
        let synack = Segment {
            flags: TcpFlags::SYN | TcpFlags::ACK,
            seq: IRS,
            ack: ISS + 1,
            payload: b"",
        };
        assert_eq!(c.on_segment(&synack, &mut out), None);
        let mut rcv = IRS + 1;
        for _ in 0..20 {
            let client: Vec<u8> = out.iter().flat_map(|s| s.payload.clone()).collect();
            assert!(out.iter().all(|s| s.payload.len() <= 536));
            sent.append(&mut out);
            let (bytes, fin) = serve(&client);
            if bytes.is_empty() && !fin {
                return (None, sent);
            }
            let flags = if fin {
                TcpFlags::ACK | TcpFlags::FIN
            } else {
                TcpFlags::ACK
            };
            let seg = Segment {
                flags,
                seq: rcv,
                ack: 0,
                payload: &bytes,
            };
            rcv += bytes.len() as u32;
            if let Some(v) = c.on_segment(&seg, &mut out) {
                // What slbd sent with its verdict reaches the server.
                let last: Vec<u8> = out.iter().flat_map(|s| s.payload.clone()).collect();
                serve(&last);
                sent.append(&mut out);
                return (Some(v), sent);
            }
        }
        panic!("no verdict");
    }

    /// `serve` for a rustls server.
    fn rustls_server(s: &mut ServerConnection) -> impl FnMut(&[u8]) -> (Vec<u8>, bool) + '_ {
        move |mut client: &[u8]| {
            while !client.is_empty() {
                s.read_tls(&mut client).unwrap();
                s.process_new_packets().unwrap();
            }
            let mut back = Vec::new();
            while s.wants_write() {
                s.write_tls(&mut back).unwrap();
            }
            (back, false)
        }
    }

    fn addr() -> IpAddr {
        "198.18.1.11".parse().unwrap()
    }

    #[test]
    fn a_tls13_handshake_completes_with_sni_and_ends_in_a_reset() {
        let mut s = server(&[&rustls::version::TLS13]);
        let app = TlsApp::new(Some("slb-health.test"), addr()).unwrap();
        let (v, sent) = play(app, rustls_server(&mut s));
        assert_eq!(v, Some(Ok("handshake TLSv1_3".into())));
        assert_eq!(s.server_name(), Some("slb-health.test"));
        // The server got our Finished: its side of the handshake is done.
        assert!(!s.is_handshaking());
        assert_eq!(sent.last().map(|x| x.flags), Some(TcpFlags::RST));
        // The ClientHello went in one segment (PSH on the first).
        assert_eq!(
            sent[0].flags,
            TcpFlags::ACK | TcpFlags::PSH,
            "{}",
            sent[0].payload.len()
        );
    }

    #[test]
    fn a_tls12_handshake_completes_without_sni() {
        let mut s = server(&[&rustls::version::TLS12]);
        let app = TlsApp::new(None, addr()).unwrap();
        let (v, _) = play(app, rustls_server(&mut s));
        assert_eq!(v, Some(Ok("handshake TLSv1_2".into())));
        assert_eq!(s.server_name(), None);
        assert!(!s.is_handshaking());
    }

    #[test]
    fn a_server_that_does_not_speak_tls_fails() {
        let app = TlsApp::new(None, addr()).unwrap();
        let (v, _) = play(app, |_| {
            (b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(), true)
        });
        let why = v.unwrap().unwrap_err();
        assert!(why.starts_with("tls: "), "{why}");
    }

    #[test]
    fn a_server_that_closes_mid_handshake_fails() {
        let mut s = server(&[&rustls::version::TLS13]);
        let mut first = true;
        let mut inner = rustls_server(&mut s);
        let app = TlsApp::new(None, addr()).unwrap();
        let (v, _) = play(app, move |c| {
            let (mut b, _) = inner(c);
            if std::mem::take(&mut first) {
                b.truncate(20);
            }
            (b, true)
        });
        assert_eq!(v, Some(Err("tls: handshake incomplete".into())));
    }

    #[test]
    fn a_server_that_refuses_the_name_fails_with_its_alert() {
        // A server that sends a fatal alert (unrecognized_name, RFC 8446
        // section 6.2) as its answer to the ClientHello.
        let app = TlsApp::new(Some("other.test"), addr()).unwrap();
        let alert = [21u8, 3, 3, 0, 2, 2, 112];
        let (v, _) = play(app, |_| (alert.to_vec(), false));
        let why = v.unwrap().unwrap_err();
        assert!(why.contains("alert"), "{why}");
    }

    #[test]
    fn names_with_an_underscore_are_accepted_as_sni() {
        // The configuration allows '_' in names; so must the handshake.
        assert!(TlsApp::new(Some("a_b.test"), addr()).is_ok());
    }
}
