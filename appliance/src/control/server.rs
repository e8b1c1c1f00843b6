//! The control socket: newline-delimited JSON on a Unix stream socket.
//!
//! One thread accepts (non-blocking, so it notices shutdown) and samples
//! the rates every second; each client gets its own thread with read and
//! write timeouts, so a slow or vanished client holds only its own thread
//! and never the scheduler or the workers (they only ever see a bounded
//! command queue). At most [`MAX_CLIENTS`] at once; one more is told
//! `busy` and closed. A request line, once begun, must be complete within
//! [`REQUEST_TIMEOUT`]: a client that sends half a line (or drips it byte
//! by byte, which a per-read timeout alone would never end) is closed.

use super::Control;
use serde_json::Value;
use slb_proto::{code, ErrorBody, Response, MAX_REQUEST};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const MAX_CLIENTS: usize = 64;
/// A client that sends nothing for this long is disconnected.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A client that does not read its answer for this long is disconnected.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// A request line must be complete this long after its first byte
/// arrived, or the client is disconnected (slowloris).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Gives a client's slot back when its thread ends, even by a panic.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Binds `path` (mode 0660). A socket file left by a dead slbd is
/// removed; one something still listens on is an error.
pub fn bind(path: &Path) -> Result<UnixListener, String> {
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(format!(
                "control socket {}: another process listens on it (is slbd already running?)",
                path.display()
            ));
        }
        std::fs::remove_file(path).map_err(|e| {
            format!(
                "control socket {}: cannot remove the stale file: {e}",
                path.display()
            )
        })?;
    }
    let l =
        UnixListener::bind(path).map_err(|e| format!("control socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| format!("control socket {}: chmod 0660: {e}", path.display()))?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(l)
}

/// Serves until `stop()` is true, then removes the socket file.
pub fn serve(
    listener: UnixListener,
    path: PathBuf,
    control: Arc<Control>,
    stop: impl Fn() -> bool,
) {
    let clients = Arc::new(AtomicUsize::new(0));
    let mut next_sample = Instant::now();
    while !stop() {
        if Instant::now() >= next_sample {
            control.sample();
            next_sample += Duration::from_secs(1);
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                if clients.load(Ordering::Relaxed) >= MAX_CLIENTS {
                    refuse_busy(stream);
                    continue;
                }
                clients.fetch_add(1, Ordering::Relaxed);
                let slot = Slot(clients.clone());
                let c = control.clone();
                // If the spawn fails, the closure (and the slot) is dropped.
                let _ = std::thread::Builder::new()
                    .name("slbd-ctl-client".into())
                    .spawn(move || {
                        let _slot = slot;
                        client(stream, &c);
                    });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => {
                tracing::warn!(error = %e, "control socket accept failed");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    let _ = std::fs::remove_file(&path);
}

fn refuse_busy(mut s: UnixStream) {
    let _ = s.set_write_timeout(Some(Duration::from_millis(100)));
    let r = Response::err(
        Value::Null,
        ErrorBody::new(
            code::BUSY,
            format!("too many control clients (at most {MAX_CLIENTS})"),
        ),
    );
    let _ = writeln!(s, "{}", serde_json::to_string(&r).unwrap_or_default());
}

fn too_large(writer: &mut UnixStream) {
    let r = Response::err(
        Value::Null,
        ErrorBody::new(
            code::REQUEST_TOO_LARGE,
            format!("request longer than {MAX_REQUEST} bytes; closing"),
        ),
    );
    let _ = writeln!(writer, "{}", serde_json::to_string(&r).unwrap_or_default());
}

/// Answers one line; false when the answer could not be written.
fn answer(writer: &mut UnixStream, control: &Control, line: &[u8]) -> bool {
    let mut pump = || std::thread::sleep(Duration::from_micros(200));
    let r = control.handle_line(line, &mut pump);
    let mut text = serde_json::to_string(&r).unwrap_or_default();
    text.push('\n');
    writer.write_all(text.as_bytes()).is_ok()
}

fn client(mut reader: UnixStream, control: &Control) {
    let _ = reader.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(mut writer) = reader.try_clone() else {
        return;
    };
    // Bytes received and not yet answered: at most one partial line of
    // MAX_REQUEST bytes plus one read.
    let mut pending: Vec<u8> = Vec::with_capacity(1024);
    // How far `pending` has been searched for a newline.
    let mut scanned = 0;
    // When the first byte of the line in `pending` arrived.
    let mut begun: Option<Instant> = None;
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(at) = pending[scanned..].iter().position(|&b| b == b'\n') {
            let end = scanned + at;
            if end > MAX_REQUEST {
                too_large(&mut writer);
                return;
            }
            let line: Vec<u8> = pending.drain(..=end).collect();
            scanned = 0;
            begun = (!pending.is_empty()).then(Instant::now);
            let line = &line[..end];
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            if !answer(&mut writer, control, line) {
                return;
            }
        }
        scanned = pending.len();
        if pending.len() > MAX_REQUEST {
            too_large(&mut writer);
            return;
        }
        let wait = match begun {
            None => IDLE_TIMEOUT,
            Some(t) => match REQUEST_TIMEOUT.checked_sub(t.elapsed()) {
                Some(left) if !left.is_zero() => left,
                // Half a request for too long: close.
                _ => return,
            },
        };
        let _ = reader.set_read_timeout(Some(wait));
        match reader.read(&mut chunk) {
            Ok(0) => {
                // A last line without a newline is still answered.
                if !pending.iter().all(|b| b.is_ascii_whitespace()) {
                    answer(&mut writer, control, &pending);
                }
                return;
            }
            Ok(n) => {
                if begun.is_none() {
                    begun = Some(Instant::now());
                }
                pending.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // Idle too long, request deadline passed, or the peer is gone.
            Err(_) => return,
        }
    }
}
