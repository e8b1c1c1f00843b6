//! `control`: the control socket and the metrics listener.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::checker::Checker;
use crate::document::ControlDoc;
use crate::model::Control;

pub(super) fn control(c: &mut Checker, doc: Option<&ControlDoc>) -> Control {
    let d = Control::default();
    let Some(doc) = doc else { return d };
    let socket = match doc.socket.as_deref() {
        None => d.socket,
        Some("") => {
            c.err(
                "control.socket",
                "must be a file path (got an empty string)",
            );
            d.socket
        }
        Some(s) => PathBuf::from(s),
    };
    let metrics_listen = doc.metrics_listen.as_deref().and_then(|s| match s.parse::<SocketAddr>() {
        Err(_) => {
            c.err(
                "control.metrics_listen",
                format!("must be address:port, like 127.0.0.1:9781 or [::1]:9781 (got {s:?})"),
            );
            None
        }
        Ok(a) if !a.ip().is_loopback() => {
            c.err(
                "control.metrics_listen",
                format!("must be a loopback address (127.0.0.0/8 or ::1): metrics are not for the network (got {s})"),
            );
            None
        }
        Ok(a) if a.port() == 0 => {
            c.err("control.metrics_listen", format!("port must be between 1 and 65535 (got {s})"));
            None
        }
        Ok(a) => Some(a),
    });
    Control {
        socket,
        metrics_listen,
    }
}
