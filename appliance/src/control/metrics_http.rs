//! The Prometheus endpoint: `GET /metrics` over HTTP on
//! `control.metrics_listen`, the same text `slbctl metrics` prints
//! ([`super::Control::metrics_text`]).
//!
//! HTTP/1.1 is hyper's (its connection state machine, header parsing and
//! limits), driven by a one-thread tokio runtime on a thread of its own
//! (`slbd-metrics`, beside the control socket's thread; never a worker or
//! the scheduler). Bounded whatever a scraper does:
//!
//! - at most [`Limits::max_connections`] connections at once; one more is
//!   closed as soon as it is accepted;
//! - the request head must arrive within [`Limits::header_timeout`] of the
//!   connection (a scraper that drips its request is closed), and the
//!   whole connection (request, rendering, response) ends after
//!   [`Limits::deadline`] (a scraper that does not read its answer);
//! - one request per connection (no keep-alive), at most 8 KiB of head;
//! - every connection is a task of the one thread: no thread per scraper.
//!
//! The text is rendered on that thread, waiting for the scheduler's
//! answer like a control socket client does (at most the control
//! timeout); other scrapers wait meanwhile, the control socket does not.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The metrics text, or why there is none (the scheduler did not answer).
pub type Source = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// How much a scraper can hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 8,
            header_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(10),
        }
    }
}

/// How often the accept loop looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Binds `addr` (`control.metrics_listen`). Done at start-up, before EAL,
/// so an address in use stops slbd with this error.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    let l = TcpListener::bind(addr)
        .map_err(|e| format!("control.metrics_listen {addr}: cannot listen: {e}"))?;
    l.set_nonblocking(true)
        .map_err(|e| format!("control.metrics_listen {addr}: {e}"))?;
    Ok(l)
}

/// Gives a connection's place back when its task ends (or is dropped
/// with the runtime).
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `listener` until `stop()` is true; connections still open then
/// are closed.
pub fn serve(listener: TcpListener, source: Source, limits: Limits, stop: impl Fn() -> bool) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "metrics listener: no runtime; not serving");
            return;
        }
    };
    rt.block_on(accept_loop(listener, source, limits, stop));
    // Dropping the runtime drops the connections' tasks: their sockets close.
}

async fn accept_loop(
    listener: TcpListener,
    source: Source,
    limits: Limits,
    stop: impl Fn() -> bool,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "metrics listener: not serving");
            return;
        }
    };
    let open = Arc::new(AtomicUsize::new(0));
    while !stop() {
        let stream = match tokio::time::timeout(STOP_POLL, listener.accept()).await {
            Err(_) => continue,
            Ok(Ok((stream, _))) => stream,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "metrics listener: accept failed");
                tokio::time::sleep(STOP_POLL).await;
                continue;
            }
        };
        if open.load(Ordering::Relaxed) >= limits.max_connections {
            // Closed unanswered: answering would be one more connection.
            drop(stream);
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let slot = Slot(open.clone());
        let source = source.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |req| {
                let r = respond(&req, &*source);
                async move { Ok::<_, Infallible>(r) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(false)
                .max_buf_size(8192)
                .serve_connection(TokioIo::new(stream), service);
            // Past the deadline the connection is dropped, which closes it.
            let _ = tokio::time::timeout(limits.deadline, conn).await;
        });
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// `GET /metrics`: the text; another path: 404; another method: 405.
fn respond(
    req: &Request<Incoming>,
    source: &(dyn Fn() -> Result<String, String> + Send + Sync),
) -> Response<Full<Bytes>> {
    if req.uri().path() != "/metrics" {
        return text(
            StatusCode::NOT_FOUND,
            "not found: slbd serves GET /metrics\n".into(),
        );
    }
    if req.method() != Method::GET {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {} not allowed: GET /metrics\n", req.method()),
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    match source() {
        Ok(body) => {
            let mut r = text(StatusCode::OK, body);
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(super::metrics::CONTENT_TYPE),
            );
            r
        }
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::atomic::AtomicBool;
    use std::time::Instant;

    /// A listener on a free loopback port, served until dropped.
    struct Running {
        addr: SocketAddr,
        stop: Arc<AtomicBool>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Drop for Running {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    fn start(source: Source, limits: Limits) -> Running {
        let l = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = l.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread =
            std::thread::spawn(move || serve(l, source, limits, move || s.load(Ordering::Relaxed)));
        Running {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn fixed(text: &'static str) -> Source {
        Arc::new(move || Ok(text.to_string()))
    }

    /// (status, head lines, body) of one request written as `raw`.
    fn exchange(addr: SocketAddr, raw: &str) -> (u16, Vec<String>, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut all = String::new();
        s.read_to_string(&mut all).unwrap();
        let (head, body) = all.split_once("\r\n\r\n").expect("a response head");
        let head: Vec<String> = head.lines().map(str::to_string).collect();
        let status = head[0].split(' ').nth(1).unwrap().parse().unwrap();
        (status, head, body.to_string())
    }

    fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
        head.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    const GET: &str = "GET /metrics HTTP/1.1\r\nHost: slbd\r\n\r\n";

    #[test]
    fn serves_the_text_with_the_exposition_content_type() {
        let r = start(
            fixed("# TYPE x_total counter\nx_total 1\n"),
            Limits::default(),
        );
        let (status, head, body) = exchange(r.addr, GET);
        assert_eq!(status, 200, "{head:?}");
        assert_eq!(
            header(&head, "content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        assert_eq!(body, "# TYPE x_total counter\nx_total 1\n");
        // A query string is still /metrics.
        let (status, _, _) = exchange(r.addr, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
        assert_eq!(status, 200);
    }

    #[test]
    fn other_paths_are_404_and_other_methods_405() {
        let r = start(fixed("x 1\n"), Limits::default());
        for path in ["/", "/metric", "/metrics/", "/favicon.ico"] {
            let (status, _, _) =
                exchange(r.addr, &format!("GET {path} HTTP/1.1\r\nHost: s\r\n\r\n"));
            assert_eq!(status, 404, "{path}");
        }
        for method in ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"] {
            let raw = format!("{method} /metrics HTTP/1.1\r\nHost: s\r\nContent-Length: 0\r\n\r\n");
            let (status, head, _) = exchange(r.addr, &raw);
            assert_eq!(status, 405, "{method}");
            assert_eq!(header(&head, "allow"), Some("GET"), "{method}");
        }
        // Not HTTP at all: hyper answers 400, nothing is served.
        let (status, _, _) = exchange(r.addr, "hello\r\n\r\n");
        assert_eq!(status, 400);
    }

    #[test]
    fn no_text_is_503() {
        let r = start(
            Arc::new(|| Err("the scheduler did not answer within 5s".into())),
            Limits::default(),
        );
        let (status, _, body) = exchange(r.addr, GET);
        assert_eq!(status, 503);
        assert!(body.contains("did not answer"), "{body}");
    }

    #[test]
    fn a_dripping_or_silent_scraper_is_closed_and_connections_are_capped() {
        let limits = Limits {
            max_connections: 2,
            header_timeout: Duration::from_millis(600),
            deadline: Duration::from_secs(5),
        };
        let r = start(fixed("x 1\n"), limits);
        // Two silent connections take every place.
        let mut silent: Vec<TcpStream> = (0..2)
            .map(|_| TcpStream::connect(r.addr).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(150));
        // A third is closed unanswered.
        let mut third = TcpStream::connect(r.addr).unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let _ = third.write_all(GET.as_bytes());
        let mut buf = Vec::new();
        let got = third.read_to_end(&mut buf);
        assert!(
            got.is_err() || buf.is_empty(),
            "answered over the cap: {buf:?}"
        );
        // The silent ones are closed after the header timeout...
        let t0 = Instant::now();
        for s in &mut silent {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
        }
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
        // ... and so is one that drips its request a byte at a time.
        let mut drip = TcpStream::connect(r.addr).unwrap();
        let t0 = Instant::now();
        let mut closed = false;
        for b in GET.as_bytes().iter().cycle().take(200) {
            if drip.write_all(&[*b]).is_err() {
                closed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            if t0.elapsed() > Duration::from_secs(4) {
                break;
            }
        }
        assert!(closed, "a dripping scraper was never closed");
        // The places are free again.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(exchange(r.addr, GET).0, 200);
    }

    #[test]
    fn stops_when_asked_and_a_bound_address_is_a_clear_error() {
        let r = start(fixed("x 1\n"), Limits::default());
        let addr = r.addr;
        let e = bind(addr).unwrap_err();
        assert!(
            e.starts_with(&format!("control.metrics_listen {addr}: cannot listen")),
            "{e}"
        );
        let open = TcpStream::connect(addr).unwrap();
        let t0 = Instant::now();
        drop(r);
        assert!(t0.elapsed() < Duration::from_secs(2));
        assert!(
            TcpStream::connect(addr).is_err(),
            "still listening after stop"
        );
        drop(open);
    }
}
