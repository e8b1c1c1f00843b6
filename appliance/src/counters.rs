//! Per-lcore counters: every drop by reason, and what the data path did.
//! Each lcore writes only its own block (plain load + store, no atomic
//! read-modify-write); the main thread reads all blocks for reports.

use slb_wire::DropReason;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$doc:meta])* $v:ident => $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name { $($(#[$doc])* $v,)* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            pub const COUNT: usize = Self::ALL.len();
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)* }
            }
            #[inline]
            pub const fn index(self) -> usize { self as usize }
        }
    };
}

named_enum! {
    /// Drops decided by slbd's data path (the packet layer's own reasons are
    /// [`DropReason`]).
    PathDrop {
        /// A label no session owns (never assigned, or long gone).
        UnknownLabel => "unknown_label",
        /// A label withdrawn from its session and in quarantine: a late
        /// frame of a closed session.
        WithdrawnLabel => "withdrawn_label",
        /// A client-to-server label from a server-side port, or the reverse.
        WrongPortRole => "wrong_port_role",
        /// A client-to-server label whose inner source is not the
        /// session's client (label spoofing).
        ForeignSource => "foreign_source",
        /// The session's next hop is not resolved (yet).
        NoNextHop => "no_next_hop",
        /// Larger than the out port's MTU.
        Oversize => "oversize",
        /// No headroom to push a label (never with DPDK's default headroom).
        NoHeadroom => "no_headroom",
        /// Unlabelled IP not addressed to a service VIP.
        NotForVip => "not_for_vip",
        /// Unlabelled IP to slbd's own address that slbd does not serve.
        ToAppliance => "to_appliance",
        /// ARP not for slbd (or a VIP on a client-side port).
        ArpNotForUs => "arp_not_for_us",
        /// NS/NA not for slbd, or duplicate address detection.
        NdNotForUs => "nd_not_for_us",
        /// An EtherType slbd does not handle (LLDP, MPLS multicast, ...).
        OtherEthertype => "other_ethertype",
        /// The worker's queue to the scheduler was full (new-session flood).
        PuntQueueFull => "punt_queue_full",
        /// A multi-segment frame (larger than one mbuf).
        Segmented => "segmented",
        /// A new session the service refused (details per refusal reason).
        Refused => "refused",
        /// Unlabelled packet of a TCP flow that is not a SYN and has no
        /// session.
        NoSession => "no_session",
        /// The held queue of an unresolved neighbour was full.
        NeighbourQueueFull => "neighbour_queue_full",
        /// The frame could not be rewritten (a malformed inner packet).
        Rewrite => "rewrite_failed",
        /// A multicast or broadcast source MAC: no host slbd may answer or
        /// learn as a client's next hop.
        BadSourceMac => "bad_source_mac",
        /// TCP or UDP from source port 0.
        ZeroPort => "zero_port",
        // Hard edges (issue 19): martians, foreign frames, spoofed servers.
        /// A new session's first packet from a source no client can have
        /// (`slb_wire::ip::martian_source`: 0/8, 127/8, 224/4, 240/4, ::,
        /// ::1, ff00::/8, ...): dropped before admission.
        MartianSource => "martian_source",
        /// A new session's first packet whose source is a VIP or one of
        /// slbd's own addresses ("LAND"): dropped before admission.
        LandSource => "land_source",
        /// A unicast destination MAC that is not the port's own (another
        /// host's frame flooded by a switch).
        ForeignDstMac => "foreign_dst_mac",
        /// A group destination MAC slbd has not joined: broadcast other
        /// than ARP, multicast other than ND's all-nodes and
        /// solicited-node groups (MLD, IGMP, LLDP: the segment's
        /// background).
        GroupNotJoined => "group_not_joined",
        /// An 802.1Q-tagged frame: slbd's ports are untagged.
        VlanTagged => "vlan_tagged",
        /// An unlabelled IPv4/IPv6 fragment to a service: slbd does not
        /// reassemble (non-first fragments are `non_first_fragment`).
        Fragment => "unlabelled_fragment",
        /// A server-to-client label from a source MAC other than the
        /// session's server's (a server-side host spoofing a live label).
        ForeignServer => "foreign_server",
        /// A frame of a session that ended by a RST, or by FINs from both
        /// ends and the linger: neither end still considers it open (a
        /// frame in flight when the RST crossed it, a retransmission).
        /// Harmless; `withdrawn_label` and `no_session` count the rest.
        StrayAfterEnd => "stray_after_end",
        // ICMP and PMTU (issue 18; `worker/icmp.rs`, `scheduler/icmp_errors.rs`).
        /// An echo request slbd would answer, over the lcore's
        /// `icmp.echo_*` rate.
        EchoRateLimited => "icmp_echo_rate_limited",
        /// An echo request to a VIP with `icmp.vip_echo: drop`.
        VipEchoDropped => "vip_echo_dropped",
        /// An echo request slbd would answer with a bad ICMP checksum.
        BadEcho => "bad_echo",
        /// Too big for the egress once labelled, but the lcore's
        /// `icmp.too_big_*` rate is spent (no error sent).
        TooBigRateLimited => "icmp_too_big_rate_limited",
        /// An IPv4 packet too big for the egress once labelled, DF clear:
        /// slbd does not fragment (see docs/packet-layer.md).
        OversizeDfClear => "oversize_df_clear",
        /// An ICMP error to a VIP over the lcore's `icmp.errors_*` rate
        /// (not handed to the scheduler).
        IcmpErrorRateLimited => "icmp_error_rate_limited",
        /// An ICMP error to a VIP whose quoted packet is no live session's.
        IcmpNoSession => "icmp_no_session",
        /// An ICMP error to a VIP whose quote is too short, of another
        /// family, not TCP/UDP, or not from that VIP.
        IcmpBadQuote => "icmp_bad_quote",
        // Cluster (issue 14; `scheduler/stateless.rs`).
        /// A server-to-client label no session here holds, in cluster
        /// mode, whose inner source (VIP, port, protocol) is no service:
        /// it cannot be switched without state.
        StatelessNoService => "stateless_no_service",
        // Delayed binding (issue 16; `worker/syn_cookie.rs`,
        // `scheduler/splice.rs`).
        /// A SYN to a `syn_proxy` service that cannot be answered with a
        /// cookie: malformed options, or no room for the SYN-ACK.
        BadSyn => "bad_syn",
        /// An ACK to a `syn_proxy` service, of no session, whose cookie is
        /// older than two 64 s counters (`syn_cookies_invalid` counts these
        /// with `cookie_forged`).
        CookieStale => "cookie_stale",
        /// An ACK to a `syn_proxy` service, of no session, whose cookie is
        /// not one slbd made: a guess, another tuple's, or a flood.
        CookieForged => "cookie_forged",
        /// A valid cookie ACK while `SPLICE_PENDING_MAX` handshakes wait
        /// for their servers: dropped, no label taken (the client sends
        /// again).
        SplicePendingFull => "splice_pending_full",
        /// A client frame of a session whose server has not answered yet,
        /// past the frames held for it (the client sends it again).
        SpliceHoldFull => "splice_hold_full",
        /// Frames held for a session whose server never answered its SYN
        /// (`splice_timeouts`) or refused it with a reset: the client is
        /// reset.
        SpliceAbandoned => "splice_abandoned",
        /// A server's segment on the label of a session whose handshake
        /// waits, that is not the answer to the SYN slbd sent (a SYN-ACK
        /// acknowledging another ISN, or no SYN-ACK).
        SpliceBadAnswer => "splice_bad_answer",
        /// A spliced session's server sending its SYN-ACK again (its
        /// replayed ACK was lost): answered by the scheduler with the ACK
        /// again (`splice_ack_resent`), kept from the client.
        SplicedSynAck => "spliced_syn_ack",
        // Layer-7 rules (issue 17; `scheduler/first_data.rs`).
        /// Frames held for a session waiting for its first data whose
        /// client reset it: nothing was bound.
        FirstDataAbandoned => "l7_client_reset",
        /// Frames of a session refused for a malformed first request
        /// (`first_data.malformed: refuse`).
        FirstDataRefused => "l7_refused",
    }
}

named_enum! {
    /// What went right, per lcore.
    Event {
        /// Client-to-server frames switched by label.
        SwitchedC2s => "switched_c2s",
        /// Server-to-client frames switched by label.
        SwitchedS2c => "switched_s2c",
        /// Unlabelled client frames of existing sessions that got their label
        /// pushed from the flow cache.
        Pushed => "pushed",
        /// Labels popped toward plain clients.
        Popped => "popped",
        /// Frames handed to the scheduler: new sessions.
        PuntedNew => "punted_new",
        /// Frames handed to the scheduler: labels this core did not know.
        PuntedLabel => "punted_label",
        /// Frames handed to the scheduler: ARP/ND for neighbour resolution.
        PuntedNeighbour => "punted_neighbour",
        ArpReplies => "arp_replies",
        NdReplies => "nd_replies",
        /// FIN/RST/first-reply reports sent to the scheduler.
        Reports => "reports",
        /// Reports lost because the report queue was full.
        ReportsLost => "reports_lost",
        /// MSS options clamped.
        MssClamped => "mss_clamped",
        /// New sessions admitted (scheduler).
        SessionsAdmitted => "sessions_admitted",
        /// Sessions ended (scheduler).
        SessionsEnded => "sessions_ended",
        /// TCP resets sent to refused clients (scheduler).
        ResetsSent => "resets_sent",
        /// ARP requests / NS sent to resolve neighbours (scheduler).
        NeighbourRequests => "neighbour_requests",
        /// Frames the scheduler transmitted.
        SchedulerTx => "scheduler_tx",
        /// Frames handed to the scheduler: answers to health probes.
        PuntedProbe => "punted_probe",
        /// Health probes sent (scheduler).
        ProbesSent => "probes_sent",
        // `on_down: reset` (scheduler, `scheduler/reset.rs`, `session_reset.rs`):
        /// Out-of-window ACKs sent to either end of an ended session to
        /// learn its exact sequence numbers.
        ResetProbesSent => "reset_probes_sent",
        /// Resets with the exact sequence number an end answered with.
        SessionResetsSent => "session_resets_sent",
        // ICMP and PMTU.
        /// Echo replies sent (to slbd's port addresses and to VIPs).
        EchoReplies => "echo_replies",
        /// ICMPv4 "fragmentation needed" sent (type 3 code 4).
        FragNeededSent => "frag_needed_sent",
        /// ICMPv6 "packet too big" sent (type 2).
        PacketTooBigSent => "packet_too_big_sent",
        /// Frames handed to the scheduler: ICMP errors to a VIP.
        PuntedIcmp => "punted_icmp",
        /// ICMP errors matched to a session by their quote and forwarded
        /// to its server with the session's client-to-server label.
        IcmpForwarded => "icmp_forwarded",
        /// Plain clients' flows dropped from a worker's flow cache by full
        /// buckets (`worker/flow_cache.rs`): their next frame goes to the
        /// scheduler, which installs them again. 0 unless a worker holds
        /// more flows than the label range has pairs.
        FlowsEvicted => "flows_evicted",
        /// Server-to-client frames of sessions this instance does not
        /// hold (another instance's, in cluster mode) switched without
        /// state (scheduler, `scheduler/stateless.rs`).
        SwitchedStateless => "switched_stateless",
        /// Plain clients' packets of no session that do not start one,
        /// re-admitted by a consistent hash (Maglev, source hash) in
        /// cluster mode: a flow ECMP moved here (scheduler,
        /// `scheduler/admission.rs`).
        RecoveredByHash => "recovered_by_hash",
        /// Frames handed to the scheduler: BGP or BFD for the routing
        /// daemon (cluster, `shared/exception.rs`).
        PuntedException => "punted_exception",
        /// Frames given to the exception port's kernel interface: BGP,
        /// BFD, and copies of ARP replies / neighbour advertisements
        /// (scheduler).
        ExceptionToKernel => "exception_to_kernel",
        /// Frames the kernel interface sent, out of the client-facing port
        /// (scheduler).
        ExceptionFromKernel => "exception_from_kernel",
        /// Label-aware clients' frames on another instance's
        /// client-to-server label, forwarded to that instance while it is
        /// alive (scheduler, `scheduler/foreign_label.rs`).
        ForwardedToOwner => "forwarded_to_owner",
        // Session sync and restore (issue 15; `scheduler/sync.rs`,
        // `scheduler/install.rs`).
        /// Session sync records sent to peers (scheduler, `scheduler/sync.rs`).
        SyncRecordsSent => "sync_records_sent",
        /// Session sync records received from peers.
        SyncRecordsReceived => "sync_records_received",
        /// Sync datagrams refused: bad magic, version, length or record, or not from a peer.
        SyncBadDatagrams => "sync_bad_datagrams",
        /// Bulk dumps sent to a (re)starting peer that asked for one.
        SyncDumpsSent => "sync_dumps_sent",
        /// Peers' sessions installed here from their sync records.
        SyncInstalled => "sync_installed",
        /// Sync records that updated a session already here (state, timer).
        SyncUpdated => "sync_updated",
        /// Synced sessions ended because their peer ended them.
        SyncEnded => "sync_ended",
        /// Sessions installed from the state file at start (`--restore`).
        Restored => "restored",
        /// Synced or restored sessions not installed: their service is not configured here.
        InstallNoService => "install_no_service",
        /// Synced or restored sessions not installed: their server is not in the service here.
        InstallNoServer => "install_no_server",
        /// Synced or restored sessions not installed: their label is outside the label range.
        InstallLabelOutOfRange => "install_label_out_of_range",
        /// Synced or restored sessions not installed: their label pair is held by another session.
        InstallLabelBusy => "install_label_busy",
        /// Synced or restored sessions not installed: their client flow is held by another session.
        InstallKeyBusy => "install_key_busy",
        /// Synced or restored sessions not installed: no next-hop slot for their client.
        InstallNoNextHop => "install_no_next_hop",
        /// Frames handed to the scheduler: session sync datagrams to
        /// slbd's own address on `cluster.sync.port`.
        PuntedSync => "punted_sync",
        // Delayed binding (issue 16).
        /// SYNs to `syn_proxy` services answered by a worker with a
        /// cookie SYN-ACK (no label, no session).
        SynCookiesSent => "syn_cookies_sent",
        /// SYNs to `syn_proxy` services with a TCP-MD5 or TCP-AO option:
        /// not proxied (a signature covers the sequence numbers), admitted
        /// by layer 4 as without `syn_proxy`.
        SynProxyBypassed => "syn_proxy_bypassed",
        /// Handshake ACKs with a valid cookie: sessions admitted (scheduler).
        SynCookiesValid => "syn_cookies_valid",
        /// Sessions whose server answered the replayed SYN: the client's
        /// ACK replayed marked, the agent splices (scheduler).
        SessionsSpliced => "sessions_spliced",
        /// Replayed SYNs sent again to a server that had not answered.
        SpliceSynRetries => "splice_syn_retries",
        /// Spliced handshakes given up: the server never answered.
        SpliceTimeouts => "splice_timeouts",
        /// Spliced handshakes the server refused with a reset.
        SpliceRefused => "splice_refused",
        /// Client frames held while their server answers the replayed SYN.
        SpliceHeld => "splice_held",
        /// Servers' SYN-ACKs whose MSS is below, or window scale differs
        /// from, what the service advertised to the client.
        SpliceOptionMismatch => "splice_option_mismatch",
        /// Replayed ACKs sent again: the server sent its SYN-ACK again
        /// after the session was installed (the first replay was lost).
        SpliceAckResent => "splice_ack_resent",
        // Layer-7 rules (issue 17; `scheduler/first_data.rs`).
        /// New sessions of services with rules that waited for their
        /// client's first data.
        FirstDataWaits => "l7_waits",
        /// Client frames held while their session waited for its first data
        /// (the frame that began the wait included).
        FirstDataHeld => "l7_held",
        /// Sessions a rule bound to its pool.
        FirstDataRuleMatched => "l7_rule_matched",
        /// Sessions whose first data matched no rule: the default pool.
        FirstDataNoMatch => "l7_no_match",
        /// Sessions sent to the default pool: no complete first data in
        /// `first_data.wait_ms` (a server-speaks-first protocol).
        FirstDataTimeout => "l7_fallback_timeout",
        /// Sessions sent to the default pool: `first_data.segments`
        /// frames without a complete request.
        FirstDataSegments => "l7_fallback_segments",
        /// Sessions sent to the default pool: `first_data.bytes` bytes
        /// without a complete request.
        FirstDataBytes => "l7_fallback_bytes",
        /// Sessions sent to the default pool: a malformed request
        /// (`first_data.malformed: default`).
        FirstDataMalformed => "l7_fallback_malformed",
        /// Sessions sent to the default pool: a request the rules cannot
        /// read (a QUIC version other than 1, a ClientHello over several
        /// TLS records).
        FirstDataUnsupported => "l7_fallback_unsupported",
        /// Sessions sent to the default pool at once: 4096 sessions were
        /// already waiting for their first data.
        FirstDataBusy => "l7_fallback_busy",
        /// Sessions refused for a malformed request
        /// (`first_data.malformed: refuse`).
        FirstDataRefused => "l7_refused_sessions",
    }
}

/// Why a frame was dropped: a packet-layer or a data-path reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Wire(DropReason),
    Path(PathDrop),
}

impl Reason {
    /// Its counter's name (`stats`, `slbd_drops_total{reason}`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Wire(r) => r.as_str(),
            Reason::Path(r) => r.as_str(),
        }
    }

    /// A stable number (the drop trace stores it).
    pub(crate) fn code(self) -> u16 {
        match self {
            Reason::Wire(r) => r.index() as u16,
            Reason::Path(r) => 0x8000 | r.index() as u16,
        }
    }

    pub(crate) fn from_code(c: u16) -> Option<Reason> {
        if c & 0x8000 != 0 {
            PathDrop::ALL
                .get(usize::from(c & 0x7fff))
                .map(|r| Reason::Path(*r))
        } else {
            DropReason::ALL
                .get(usize::from(c))
                .map(|r| Reason::Wire(*r))
        }
    }
}

impl From<DropReason> for Reason {
    fn from(r: DropReason) -> Reason {
        Reason::Wire(r)
    }
}

impl From<PathDrop> for Reason {
    fn from(r: PathDrop) -> Reason {
        Reason::Path(r)
    }
}

/// One lcore's counters. Aligned so two lcores never share a cache line.
#[repr(align(64))]
pub struct Counters {
    wire: [AtomicU64; DropReason::COUNT],
    path: [AtomicU64; PathDrop::COUNT],
    events: [AtomicU64; Event::COUNT],
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            wire: std::array::from_fn(|_| AtomicU64::new(0)),
            path: std::array::from_fn(|_| AtomicU64::new(0)),
            events: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

#[inline]
fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

impl Counters {
    #[inline]
    pub fn wire_drop(&self, r: DropReason) {
        bump(&self.wire[r.index()], 1);
    }
    #[inline]
    pub fn path_drop(&self, r: PathDrop) {
        bump(&self.path[r.index()], 1);
    }
    /// Counts a drop of either kind.
    #[inline]
    pub fn dropped(&self, r: Reason) {
        match r {
            Reason::Wire(w) => self.wire_drop(w),
            Reason::Path(p) => self.path_drop(p),
        }
    }

    #[inline]
    pub fn event(&self, e: Event) {
        bump(&self.events[e.index()], 1);
    }

    /// `n` occurrences of `e` at once.
    pub fn events(&self, e: Event, n: u64) {
        bump(&self.events[e.index()], n);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            wire: std::array::from_fn(|i| self.wire[i].load(Ordering::Relaxed)),
            path: std::array::from_fn(|i| self.path[i].load(Ordering::Relaxed)),
            events: std::array::from_fn(|i| self.events[i].load(Ordering::Relaxed)),
        }
    }
}

/// A copy of [`Counters`], addable across lcores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub wire: [u64; DropReason::COUNT],
    pub path: [u64; PathDrop::COUNT],
    pub events: [u64; Event::COUNT],
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            wire: [0; DropReason::COUNT],
            path: [0; PathDrop::COUNT],
            events: [0; Event::COUNT],
        }
    }
}

impl Snapshot {
    pub fn add(&mut self, o: &Snapshot) {
        self.wire.iter_mut().zip(o.wire).for_each(|(a, b)| *a += b);
        self.path.iter_mut().zip(o.path).for_each(|(a, b)| *a += b);
        self.events
            .iter_mut()
            .zip(o.events)
            .for_each(|(a, b)| *a += b);
    }

    pub fn wire_drop(&self, r: DropReason) -> u64 {
        self.wire[r.index()]
    }
    pub fn path_drop(&self, r: PathDrop) -> u64 {
        self.path[r.index()]
    }
    pub fn event(&self, e: Event) -> u64 {
        self.events[e.index()]
    }

    /// Every drop, packet layer and data path, as (reason, count).
    pub fn drops(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DropReason::ALL
            .iter()
            .map(|r| (r.as_str(), self.wire[r.index()]))
            .chain(
                PathDrop::ALL
                    .iter()
                    .map(|r| (r.as_str(), self.path[r.index()])),
            )
    }

    pub fn total_drops(&self) -> u64 {
        self.wire.iter().sum::<u64>() + self.path.iter().sum::<u64>()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let drops: serde_json::Map<String, serde_json::Value> = self
            .drops()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        let events: serde_json::Map<String, serde_json::Value> = Event::ALL
            .iter()
            .map(|e| (e.as_str().to_string(), self.events[e.index()].into()))
            .collect();
        serde_json::json!({ "drops": drops, "events": events })
    }
}

/// The events of `stats` (`slb_proto::Events`): one field per [`Event`],
/// matched exhaustively, so an event without its field (or a renamed
/// field) does not compile.
impl From<&Snapshot> for slb_proto::Events {
    fn from(s: &Snapshot) -> slb_proto::Events {
        let mut out = slb_proto::Events::default();
        for &e in Event::ALL {
            let field = match e {
                Event::SwitchedC2s => &mut out.switched_c2s,
                Event::SwitchedS2c => &mut out.switched_s2c,
                Event::Pushed => &mut out.pushed,
                Event::FlowsEvicted => &mut out.flows_evicted,
                Event::Popped => &mut out.popped,
                Event::PuntedNew => &mut out.punted_new,
                Event::PuntedLabel => &mut out.punted_label,
                Event::PuntedNeighbour => &mut out.punted_neighbour,
                Event::ArpReplies => &mut out.arp_replies,
                Event::NdReplies => &mut out.nd_replies,
                Event::Reports => &mut out.reports,
                Event::ReportsLost => &mut out.reports_lost,
                Event::MssClamped => &mut out.mss_clamped,
                Event::SessionsAdmitted => &mut out.sessions_admitted,
                Event::SessionsEnded => &mut out.sessions_ended,
                Event::ResetsSent => &mut out.resets_sent,
                Event::NeighbourRequests => &mut out.neighbour_requests,
                Event::SchedulerTx => &mut out.scheduler_tx,
                Event::PuntedProbe => &mut out.punted_probe,
                Event::ProbesSent => &mut out.probes_sent,
                Event::ResetProbesSent => &mut out.reset_probes_sent,
                Event::SessionResetsSent => &mut out.session_resets_sent,
                Event::EchoReplies => &mut out.echo_replies,
                Event::FragNeededSent => &mut out.frag_needed_sent,
                Event::PacketTooBigSent => &mut out.packet_too_big_sent,
                Event::PuntedIcmp => &mut out.punted_icmp,
                Event::IcmpForwarded => &mut out.icmp_forwarded,
                Event::SwitchedStateless => &mut out.switched_stateless,
                Event::RecoveredByHash => &mut out.recovered_by_hash,
                Event::PuntedException => &mut out.punted_exception,
                Event::ExceptionToKernel => &mut out.exception_to_kernel,
                Event::ExceptionFromKernel => &mut out.exception_from_kernel,
                Event::ForwardedToOwner => &mut out.forwarded_to_owner,
                Event::SyncRecordsSent => &mut out.sync_records_sent,
                Event::SyncRecordsReceived => &mut out.sync_records_received,
                Event::SyncBadDatagrams => &mut out.sync_bad_datagrams,
                Event::SyncDumpsSent => &mut out.sync_dumps_sent,
                Event::SyncInstalled => &mut out.sync_installed,
                Event::SyncUpdated => &mut out.sync_updated,
                Event::SyncEnded => &mut out.sync_ended,
                Event::Restored => &mut out.restored,
                Event::InstallNoService => &mut out.install_no_service,
                Event::InstallNoServer => &mut out.install_no_server,
                Event::InstallLabelOutOfRange => &mut out.install_label_out_of_range,
                Event::InstallLabelBusy => &mut out.install_label_busy,
                Event::InstallKeyBusy => &mut out.install_key_busy,
                Event::InstallNoNextHop => &mut out.install_no_next_hop,
                Event::PuntedSync => &mut out.punted_sync,
                Event::SynCookiesSent => &mut out.syn_cookies_sent,
                Event::SynProxyBypassed => &mut out.syn_proxy_bypassed,
                Event::SynCookiesValid => &mut out.syn_cookies_valid,
                Event::SessionsSpliced => &mut out.sessions_spliced,
                Event::SpliceSynRetries => &mut out.splice_syn_retries,
                Event::SpliceTimeouts => &mut out.splice_timeouts,
                Event::SpliceRefused => &mut out.splice_refused,
                Event::SpliceHeld => &mut out.splice_held,
                Event::SpliceOptionMismatch => &mut out.splice_option_mismatch,
                Event::SpliceAckResent => &mut out.splice_ack_resent,
                Event::FirstDataWaits => &mut out.l7_waits,
                Event::FirstDataHeld => &mut out.l7_held,
                Event::FirstDataRuleMatched => &mut out.l7_rule_matched,
                Event::FirstDataNoMatch => &mut out.l7_no_match,
                Event::FirstDataTimeout => &mut out.l7_fallback_timeout,
                Event::FirstDataSegments => &mut out.l7_fallback_segments,
                Event::FirstDataBytes => &mut out.l7_fallback_bytes,
                Event::FirstDataMalformed => &mut out.l7_fallback_malformed,
                Event::FirstDataUnsupported => &mut out.l7_fallback_unsupported,
                Event::FirstDataBusy => &mut out.l7_fallback_busy,
                Event::FirstDataRefused => &mut out.l7_refused_sessions,
            };
            *field = s.event(e);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event lands in the protocol field of its own name, and the
    /// protocol has no field slbd does not count.
    #[test]
    fn events_convert_field_by_name() {
        let mut s = Snapshot::default();
        for (i, n) in s.events.iter_mut().enumerate() {
            *n = 100 + i as u64;
        }
        let ev = slb_proto::Events::from(&s);
        let mut got = ev.by_name();
        got.sort_unstable();
        let mut want: Vec<(&str, u64)> = Event::ALL
            .iter()
            .map(|e| (e.as_str(), s.event(*e)))
            .collect();
        want.sort_unstable();
        assert_eq!(got, want);
    }
}
