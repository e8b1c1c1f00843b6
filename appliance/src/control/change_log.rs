//! The change log: every change request the control thread applied
//! since start (or since the last `config.reload`), as its protocol line,
//! in order. slbd saves it in its state file, and `slbd --restore`
//! replays it on the configuration file (`crate::restart`), so drains,
//! weights and servers added over the socket survive a restart. A reload
//! clears it: the file read is then the truth (a reload of another file
//! than `--config` stays, as the one entry).

use slb_proto::{ReloadArgs, Request};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The change requests applied since start (or since the last reload),
/// as protocol lines, in order. Shared by the control thread (which
/// records) and slbd's main thread (which saves them as slbd stops).
#[derive(Clone, Default, Debug)]
pub struct ChangeLog(Arc<Mutex<Vec<String>>>);

impl ChangeLog {
    /// A log that starts with `lines` (the changes a restore replayed).
    pub fn new(lines: Vec<String>) -> ChangeLog {
        ChangeLog(Arc::new(Mutex::new(lines)))
    }

    /// Records an applied change request.
    pub fn push(&self, r: &Request) {
        if let Ok(mut l) = self.0.lock() {
            let id = l.len() + 1;
            l.push(r.to_line(id));
        }
    }

    /// A reload of `path` applied: the file is the truth now. `config` is
    /// slbd's `--config`; a reload of another file stays in the log.
    pub fn reloaded(&self, path: &Path, config: Option<&Path>) {
        let Ok(mut l) = self.0.lock() else { return };
        l.clear();
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        if config.map(abs) != Some(abs(path)) {
            let r = Request::ConfigReload(ReloadArgs {
                path: Some(abs(path).display().to_string()),
            });
            l.push(r.to_line(1));
        }
    }

    /// The requests, in order.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_proto::ServerRef;

    #[test]
    fn changes_are_kept_in_order_and_a_reload_resets_them() {
        let log = ChangeLog::default();
        let drain = Request::ServersDrain(ServerRef {
            service: "web".into(),
            server: "s1".into(),
        });
        log.push(&drain);
        log.push(&drain);
        assert_eq!(log.lines().len(), 2);
        assert!(log.lines()[1].starts_with(r#"{"id":2,"command":"servers.drain""#));
        let cfg = Path::new("/etc/slb/slbd.json");
        log.reloaded(cfg, Some(cfg));
        assert!(log.lines().is_empty());
        log.push(&drain);
        log.reloaded(Path::new("/etc/slb/other.json"), Some(cfg));
        assert_eq!(
            log.lines(),
            [r#"{"id":1,"command":"config.reload","args":{"path":"/etc/slb/other.json"}}"#]
        );
        // A shared log: the clone sees the same lines.
        let other = log.clone();
        other.push(&drain);
        assert_eq!(log.lines().len(), 2);
    }
}
