//! The state file of a planned restart (issue 15): what `slbd
//! --save-state FILE` writes as it stops (or on `slbctl save-sessions`)
//! and `slbd --restore FILE` reinstalls before any lcore switches a frame.
//!
//! ```text
//!  0..8    magic "SLBSTATE"
//!  8..10   format version (big endian u16): 1
//!  10..18  when it was saved: milliseconds since the Unix epoch (u64)
//!  18..22  body length in bytes (u32)
//!  22..    body:
//!            sessions: count (u32), then that many session records
//!              (slb_core::SessionRecord, 38 or 74 bytes each), sorted by
//!              time left, so that installing them in order keeps the
//!              session table's expiry lists in order
//!            quarantined own label pairs: count (u32), then per pair its
//!              C2S label (u32) and milliseconds left in quarantine (u32)
//!            runtime changes: count (u32), then per change its length
//!              (u32) and the change request's protocol line (UTF-8 JSON,
//!              `{"id":N,"command":"servers.drain","args":{..}}`), in the
//!              order they were applied
//!  end-4.. CRC-32 (IEEE) of every byte before it (u32)
//! ```
//!
//! Every integer is big endian. Decoding is all or nothing: the whole
//! file is checked (magic, version, length, checksum, then each section)
//! before anything of it is returned, and a file that fails any check is
//! a [`StateError`] naming what is wrong. It never panics, whatever the
//! bytes. The version sits right after the magic in every version, so a
//! file of another version is named as such before its length or
//! checksum are read.

use slb_core::{RecordError, SessionRecord};
use slb_proto::SessionsSaved;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file's first 8 bytes.
pub const MAGIC: &[u8; 8] = b"SLBSTATE";
/// The format version this slbd writes and reads.
pub const VERSION: u16 = 1;
/// Magic, version, save time, body length.
pub const HEADER_LEN: usize = 8 + 2 + 8 + 4;
/// The checksum after the body.
pub const CRC_LEN: usize = 4;

/// What a state file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// When it was saved, in milliseconds since the Unix epoch: a restore
    /// takes the time since off every timer.
    pub saved_at_ms: u64,
    /// The sessions, sorted by `remaining_ms` (see [`State::sort`]).
    pub sessions: Vec<SessionRecord>,
    /// Quarantined pairs of the own slice: C2S label, milliseconds left.
    pub quarantined: Vec<(u32, u32)>,
    /// The change requests applied since start, in order, each as its
    /// protocol line.
    pub changes: Vec<String>,
}

/// Why bytes are not a state file this slbd reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("not an slbd state file (it does not start with \"SLBSTATE\")")]
    Magic,
    #[error("state file version {0}; this slbd reads version {VERSION}")]
    Version(u16),
    #[error("truncated: {expected} bytes expected, {have} present")]
    Truncated { expected: usize, have: usize },
    #[error("{extra} bytes after the end of the state file")]
    Trailing { extra: usize },
    #[error("corrupt: checksum {computed:#010x} of the contents, {stored:#010x} stored")]
    Checksum { stored: u32, computed: u32 },
    #[error("session record {index}: {error}")]
    Record { index: usize, error: RecordError },
    #[error("section {section}: {what}")]
    Section { section: &'static str, what: String },
    #[error("{0} bytes after the last section")]
    Leftover(usize),
}

/// Why a state file was not written or read: the file, or its contents.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Format { path: PathBuf, error: StateError },
}

impl State {
    /// Sorts the sessions by time left, shortest first (installing them
    /// in this order appends to each expiry list in deadline order).
    pub fn sort(&mut self) {
        self.sessions.sort_by_key(|r| r.remaining_ms);
        self.quarantined.sort_by_key(|&(_, ms)| ms);
    }

    /// The file's bytes. A session whose record cannot be encoded (mixed
    /// address families: no session has them) is left out and counted in
    /// the second value.
    pub fn encode(&self) -> (Vec<u8>, usize) {
        let mut body = Vec::with_capacity(self.sessions.len() * 40 + 64);
        let count_at = body.len();
        body.extend_from_slice(&0u32.to_be_bytes());
        let (mut written, mut skipped) = (0u32, 0usize);
        for r in &self.sessions {
            let at = body.len();
            if r.encode(&mut body).is_ok() {
                written += 1;
            } else {
                body.truncate(at);
                skipped += 1;
            }
        }
        body[count_at..count_at + 4].copy_from_slice(&written.to_be_bytes());
        put_u32(&mut body, self.quarantined.len());
        for &(c2s, ms) in &self.quarantined {
            body.extend_from_slice(&c2s.to_be_bytes());
            body.extend_from_slice(&ms.to_be_bytes());
        }
        put_u32(&mut body, self.changes.len());
        for c in &self.changes {
            put_u32(&mut body, c.len());
            body.extend_from_slice(c.as_bytes());
        }
        let mut out = Vec::with_capacity(HEADER_LEN + body.len() + CRC_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.saved_at_ms.to_be_bytes());
        put_u32(&mut out, body.len());
        out.extend_from_slice(&body);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        (out, skipped)
    }

    /// Reads a state file's bytes, all or nothing.
    pub fn decode(bytes: &[u8]) -> Result<State, StateError> {
        let magic_have = bytes.len().min(MAGIC.len());
        if bytes[..magic_have] != MAGIC[..magic_have] {
            return Err(StateError::Magic);
        }
        let truncated = |expected: usize| StateError::Truncated {
            expected,
            have: bytes.len(),
        };
        if bytes.len() < 10 {
            return Err(truncated(HEADER_LEN + CRC_LEN));
        }
        let version = u16::from_be_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(StateError::Version(version));
        }
        if bytes.len() < HEADER_LEN {
            return Err(truncated(HEADER_LEN + CRC_LEN));
        }
        let saved_at_ms = u64::from_be_bytes(bytes[10..18].try_into().unwrap_or_default());
        let body_len = u32::from_be_bytes(bytes[18..22].try_into().unwrap_or_default()) as usize;
        let total = HEADER_LEN + body_len + CRC_LEN;
        if bytes.len() < total {
            return Err(truncated(total));
        }
        if bytes.len() > total {
            return Err(StateError::Trailing {
                extra: bytes.len() - total,
            });
        }
        let (covered, tail) = bytes.split_at(total - CRC_LEN);
        let stored = u32::from_be_bytes(tail.try_into().unwrap_or_default());
        let computed = crc32fast::hash(covered);
        if stored != computed {
            return Err(StateError::Checksum { stored, computed });
        }
        let mut r = Reader {
            bytes: &covered[HEADER_LEN..],
        };
        let n = r.u32("sessions")? as usize;
        // Each record has at least V4_LEN bytes: a count the body cannot
        // hold is an error before anything is allocated for it.
        r.holds("sessions", n, slb_core::session_record::V4_LEN)?;
        let mut sessions = Vec::with_capacity(n);
        for index in 0..n {
            let (rec, len) = SessionRecord::decode(r.bytes)
                .map_err(|error| StateError::Record { index, error })?;
            r.bytes = &r.bytes[len..];
            sessions.push(rec);
        }
        let n = r.u32("quarantined labels")? as usize;
        r.holds("quarantined labels", n, 8)?;
        let mut quarantined = Vec::with_capacity(n);
        for _ in 0..n {
            let c2s = r.u32("quarantined labels")?;
            let ms = r.u32("quarantined labels")?;
            quarantined.push((c2s, ms));
        }
        let n = r.u32("changes")? as usize;
        r.holds("changes", n, 4)?;
        let mut changes = Vec::with_capacity(n);
        for i in 0..n {
            let len = r.u32("changes")? as usize;
            let text = r.take("changes", len)?;
            let text = std::str::from_utf8(text).map_err(|_| StateError::Section {
                section: "changes",
                what: format!("change {i} is not UTF-8"),
            })?;
            changes.push(text.to_string());
        }
        if !r.bytes.is_empty() {
            return Err(StateError::Leftover(r.bytes.len()));
        }
        Ok(State {
            saved_at_ms,
            sessions,
            quarantined,
            changes,
        })
    }

    /// Writes the file atomically: `FILE.tmp`, flushed to disk, renamed
    /// over `FILE` (then the directory flushed), so a crash leaves the old
    /// file or the new one, never part of one. Returns the bytes written
    /// and the sessions left out (see [`State::encode`]).
    pub fn save(&self, path: &Path) -> Result<(usize, usize), LoadError> {
        let (bytes, skipped) = self.encode();
        let io = |error| LoadError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            // The rename is durable once the directory is.
            std::fs::File::open(dir)?.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok((bytes.len(), skipped))
    }

    /// Reads and decodes `path`, all or nothing.
    pub fn load(path: &Path) -> Result<State, LoadError> {
        let bytes = std::fs::read(path).map_err(|error| LoadError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        State::decode(&bytes).map_err(|error| LoadError::Format {
            path: path.to_path_buf(),
            error,
        })
    }
}

/// What the scheduler holds that a state file keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every session this instance switches (not a peer's synced copy).
    pub sessions: Vec<SessionRecord>,
    /// Quarantined pairs of the own slice: C2S label, milliseconds left.
    pub quarantined: Vec<(u32, u32)>,
    /// Sessions not recorded: their server has left their service (a
    /// removed server's sessions finish first, but a record names its
    /// server, and the next run has no such server).
    pub left_out: u64,
}

/// Writes `snap` and `changes` to the state file `path` (atomically, see
/// [`State::save`]); what was written.
pub fn write(
    path: &Path,
    snap: Snapshot,
    changes: Vec<String>,
) -> Result<SessionsSaved, LoadError> {
    let mut state = State {
        saved_at_ms: crate::shared::unix_ms(),
        sessions: snap.sessions,
        quarantined: snap.quarantined,
        changes,
    };
    state.sort();
    let (bytes, skipped) = state.save(path)?;
    Ok(SessionsSaved {
        path: path.display().to_string(),
        sessions: (state.sessions.len() - skipped) as u64,
        left_out: snap.left_out + skipped as u64,
        quarantined_labels: state.quarantined.len() as u64,
        changes: state.changes.len() as u64,
        bytes: bytes as u64,
    })
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    // Counts and lengths past u32 cannot happen (a label range holds at
    // most 2^19 sessions, a request line is at most 64 KiB).
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, section: &'static str, n: usize) -> Result<&'a [u8], StateError> {
        if self.bytes.len() < n {
            return Err(StateError::Section {
                section,
                what: format!("{n} bytes needed, {} left", self.bytes.len()),
            });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u32(&mut self, section: &'static str) -> Result<u32, StateError> {
        let b = self.take(section, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Whether `n` items of at least `min` bytes each fit in what is left.
    fn holds(&self, section: &'static str, n: usize, min: usize) -> Result<(), StateError> {
        if n.saturating_mul(min) > self.bytes.len() {
            return Err(StateError::Section {
                section,
                what: format!(
                    "count {n} does not fit in the {} bytes left",
                    self.bytes.len()
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_core::{Protocol, SessionKey, SessionState};
    use std::net::IpAddr;

    fn rec(i: u32, v6: bool, remaining_ms: u32) -> SessionRecord {
        let a = |s4: &str, s6: &str| -> IpAddr {
            if v6 {
                s6.parse().unwrap()
            } else {
                s4.parse().unwrap()
            }
        };
        SessionRecord {
            key: SessionKey {
                protocol: Protocol::Tcp,
                vip: a("198.18.0.10", "2001:db8::10"),
                vip_port: 80,
                client: a("198.18.1.1", "2001:db8::1:1"),
                client_port: 1024 + i as u16,
            },
            c2s: 1001 + 2 * i,
            server: a("198.19.0.2", "2001:db8::2:2"),
            client_mac: [2, 0, 0, 0, 0, 1],
            ingress_port: 0,
            state: SessionState::Established,
            remaining_ms,
            age_ms: 5000,
            replied: true,
            ended: false,
        }
    }

    fn sample() -> State {
        let mut s = State {
            saved_at_ms: 1_800_000_000_000,
            sessions: vec![rec(0, false, 900), rec(1, true, 300), rec(2, false, 600)],
            quarantined: vec![(2001, 1500), (2003, 20)],
            changes: vec![
                r#"{"id":1,"command":"servers.drain","args":{"service":"web","server":"s1"}}"#
                    .into(),
                "{\"id\":2,\"command\":\"servers.update\",\"args\":{\"weight\":5}}".into(),
            ],
        };
        s.sort();
        s
    }

    #[test]
    fn round_trip() {
        let s = sample();
        assert_eq!(
            s.sessions
                .iter()
                .map(|r| r.remaining_ms)
                .collect::<Vec<_>>(),
            [300, 600, 900]
        );
        let (bytes, skipped) = s.encode();
        assert_eq!(skipped, 0);
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(State::decode(&bytes), Ok(s));
        let empty = State::default();
        assert_eq!(State::decode(&empty.encode().0), Ok(empty));
    }

    #[test]
    fn a_record_that_cannot_be_encoded_is_left_out_and_counted() {
        let mut s = sample();
        s.sessions[1].server = "198.19.0.9".parse().unwrap();
        s.sessions[1].key.vip = "2001:db8::10".parse().unwrap();
        let (bytes, skipped) = s.encode();
        assert_eq!(skipped, 1);
        let back = State::decode(&bytes).unwrap();
        assert_eq!(back.sessions.len(), 2);
    }

    #[test]
    fn every_truncation_is_an_error_naming_the_length() {
        let (bytes, _) = sample().encode();
        for len in 0..bytes.len() {
            let e = State::decode(&bytes[..len]).unwrap_err();
            match e {
                StateError::Truncated { expected, have } => {
                    assert_eq!(have, len);
                    assert!(expected > len, "{len}: {e}");
                }
                other => panic!("truncated at {len}: {other}"),
            }
            assert!(e.to_string().starts_with("truncated: "), "{e}");
        }
    }

    #[test]
    fn every_flipped_byte_is_an_error_never_a_panic() {
        let (bytes, _) = sample().encode();
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                let e = State::decode(&b).unwrap_err();
                let expected_kind = match i {
                    0..=7 => matches!(e, StateError::Magic),
                    8..=9 => matches!(e, StateError::Version(_)),
                    18..=21 => matches!(
                        e,
                        StateError::Truncated { .. } | StateError::Trailing { .. }
                    ),
                    _ => matches!(e, StateError::Checksum { .. }),
                };
                assert!(expected_kind, "byte {i} ^ {bit:#x}: {e}");
            }
        }
    }

    #[test]
    fn another_version_is_named() {
        let (mut bytes, _) = sample().encode();
        bytes[8..10].copy_from_slice(&2u16.to_be_bytes());
        let e = State::decode(&bytes).unwrap_err();
        assert_eq!(e, StateError::Version(2));
        assert_eq!(
            e.to_string(),
            "state file version 2; this slbd reads version 1"
        );
        // Even when only the version's bytes are there.
        assert_eq!(State::decode(&bytes[..10]), Err(StateError::Version(2)));
    }

    #[test]
    fn not_a_state_file_and_trailing_bytes() {
        assert_eq!(State::decode(b"{\"json\": 1}"), Err(StateError::Magic));
        let (mut bytes, _) = sample().encode();
        bytes.push(0);
        assert_eq!(
            State::decode(&bytes),
            Err(StateError::Trailing { extra: 1 })
        );
    }

    /// A body whose checksum is right but whose sections are wrong (a
    /// writer's bug, or a forged file) is still an error naming the
    /// section or the record.
    #[test]
    fn sections_are_checked_under_a_good_checksum() {
        let reseal = |body: &[u8]| {
            let mut out = MAGIC.to_vec();
            out.extend_from_slice(&VERSION.to_be_bytes());
            out.extend_from_slice(&0u64.to_be_bytes());
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(body);
            let crc = crc32fast::hash(&out);
            out.extend_from_slice(&crc.to_be_bytes());
            out
        };
        // A count of records the body cannot hold.
        let e = State::decode(&reseal(&u32::MAX.to_be_bytes())).unwrap_err();
        assert!(
            matches!(
                e,
                StateError::Section {
                    section: "sessions",
                    ..
                }
            ),
            "{e}"
        );
        // A bad record: its index and why.
        let mut body = 1u32.to_be_bytes().to_vec();
        let mut r = Vec::new();
        rec(0, false, 1).encode(&mut r).unwrap();
        r[1] = 9; // no such state
        body.extend_from_slice(&r);
        body.extend_from_slice(&[0; 8]);
        let e = State::decode(&reseal(&body)).unwrap_err();
        assert_eq!(
            e,
            StateError::Record {
                index: 0,
                error: RecordError::State(9)
            }
        );
        // Bytes left after the last section.
        let e = State::decode(&reseal(&[0; 13])).unwrap_err();
        assert_eq!(e, StateError::Leftover(1));
        // A change that is not UTF-8.
        let mut body = [0u8; 8].to_vec();
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&2u32.to_be_bytes());
        body.extend_from_slice(&[0xff, 0xfe]);
        let e = State::decode(&reseal(&body)).unwrap_err();
        assert!(e.to_string().contains("change 0 is not UTF-8"), "{e}");
    }

    #[test]
    fn save_is_atomic_and_load_reads_it_back() {
        let dir = std::env::temp_dir().join(format!("slb-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        let s = sample();
        let (n, _) = s.save(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, n);
        assert!(!dir.join("state.tmp").exists());
        assert_eq!(State::load(&path).unwrap(), s);
        std::fs::write(&path, &s.encode().0[..30]).unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: truncated", path.display())),
            "{e}"
        );
        let e = State::load(&dir.join("none")).unwrap_err().to_string();
        assert!(e.contains("No such file"), "{e}");
        // A directory that does not exist: an error, no panic, no file.
        assert!(s.save(&dir.join("no/such/dir/state")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
