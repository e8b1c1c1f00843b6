//! `drops`: the drop trace (slbd's rings of recently dropped frames),
//! turned on or off, and read.
//!
//! ```text
//! -> {"id": 1, "command": "drops", "args": {"enable": true}}
//! -> {"id": 2, "command": "drops", "args": {"reason": "withdrawn_label", "limit": 20}}
//! ```

use crate::args::Args;
use crate::error::ErrorBody;
use crate::view_args::DEFAULT_LIMIT;
use serde::{Deserialize, Serialize};

/// `drops` arguments, all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DropsArgs {
    /// Turn the trace on (starting empty) or off, before reading it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Only drops with this counter name (`withdrawn_label`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The newest this many; 1 to [`crate::MAX_LIMIT`], [`DEFAULT_LIMIT`]
    /// if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl DropsArgs {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    pub(crate) fn decode(a: &Args) -> Result<DropsArgs, ErrorBody> {
        Ok(DropsArgs {
            enable: a.opt_bool("enable")?,
            reason: a.opt_str("reason")?,
            limit: crate::view_args::limit(a)?,
        })
    }
}

/// `drops`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drops {
    /// Whether the trace is on (after `enable`).
    pub enabled: bool,
    /// Records per lcore the rings keep.
    pub per_lcore: u64,
    /// Records that matched (before `limit`).
    pub matched: u64,
    /// The newest `limit` of them, oldest first.
    pub drops: Vec<DropRecord>,
}

/// One dropped frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropRecord {
    /// Seconds since slbd started.
    pub at_s: f64,
    /// `worker N` or `scheduler`.
    pub lcore: String,
    /// The port it came in on; null for a frame dropped while being sent.
    pub port: Option<String>,
    pub reason: String,
    /// Bytes on the wire.
    pub len: u64,
    pub vlan: Option<u16>,
    /// The top MPLS label.
    pub label: Option<u32>,
    /// `tcp`, `udp`, `icmp`, `icmpv6` or the protocol number.
    pub protocol: Option<String>,
    /// Address, with `:port` (`[v6]:port`) for TCP and UDP.
    pub src: Option<String>,
    pub dst: Option<String>,
    /// TCP flags as letters: `S` SYN, `A` ACK, `F` FIN, `R` RST, `P` PSH,
    /// `U` URG.
    pub tcp_flags: Option<String>,
    /// For a frame of an ended session: how it ended, and how long before.
    pub late: Option<Late>,
    /// The captured bytes (at most 96) in hex.
    pub bytes: String,
}

/// How long after its session's end a frame came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Late {
    /// The session's end reason (`reset`, `closed`, `idle`, ...).
    pub ended: String,
    /// Microseconds from the end to the frame.
    pub after_us: u64,
}
