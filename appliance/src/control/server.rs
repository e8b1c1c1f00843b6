//! The control socket: newline-delimited JSON on a Unix stream socket.
//!
//! One thread accepts (non-blocking, so it notices shutdown) and samples
//! the rates every second; each client gets its own thread with read and
//! write timeouts, so a slow or vanished client holds only its own thread
//! and never the scheduler or the workers (they only ever see a bounded
//! command queue). At most [`MAX_CLIENTS`] at once; one more is told
//! `busy` and closed.

use super::Control;
use serde_json::Value;
use slb_ctl::protocol::{code, ErrorBody, Response, MAX_REQUEST};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
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
                let (c, n) = (control.clone(), clients.clone());
                let spawned = std::thread::Builder::new()
                    .name("slbd-ctl-client".into())
                    .spawn(move || {
                        client(stream, &c);
                        n.fetch_sub(1, Ordering::Relaxed);
                    });
                if spawned.is_err() {
                    clients.fetch_sub(1, Ordering::Relaxed);
                }
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

fn client(stream: UnixStream, control: &Control) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::with_capacity(1024);
    let mut pump = || std::thread::sleep(Duration::from_micros(200));
    loop {
        buf.clear();
        let n = match reader
            .by_ref()
            .take(MAX_REQUEST as u64 + 1)
            .read_until(b'\n', &mut buf)
        {
            Ok(0) => return,
            Ok(n) => n,
            Err(_) => return,
        };
        let complete = buf.last() == Some(&b'\n');
        if !complete && n > MAX_REQUEST {
            let r = Response::err(
                Value::Null,
                ErrorBody::new(
                    code::REQUEST_TOO_LARGE,
                    format!("request longer than {MAX_REQUEST} bytes; closing"),
                ),
            );
            let _ = writeln!(writer, "{}", serde_json::to_string(&r).unwrap_or_default());
            return;
        }
        let line = if complete {
            &buf[..buf.len() - 1]
        } else {
            &buf[..]
        };
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            if !complete {
                return;
            }
            continue;
        }
        let r = control.handle_line(line, &mut pump);
        let mut text = serde_json::to_string(&r).unwrap_or_default();
        text.push('\n');
        if writer.write_all(text.as_bytes()).is_err() {
            return;
        }
        if !complete {
            return;
        }
    }
}
