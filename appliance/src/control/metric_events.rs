//! The Prometheus families of the data path's events (`slb_proto::Events`):
//! one row per event, its metric name, help and the label that tells it
//! from the other events of its family (`metrics.rs` renders them).

/// The family of a data path event (`slb_proto::Events`): its name, help,
/// and the label that tells it from the other events of the same family.
pub(super) struct EventFamily {
    pub(super) event: &'static str,
    pub(super) name: &'static str,
    pub(super) help: &'static str,
    pub(super) label: Option<(&'static str, &'static str)>,
}

const fn ev(
    event: &'static str,
    name: &'static str,
    help: &'static str,
    label: Option<(&'static str, &'static str)>,
) -> EventFamily {
    EventFamily {
        event,
        name,
        help,
        label,
    }
}

const ICMP_SENT: &str = "ICMP messages slbd sent itself, by lcore and kind (rate-limited drops: slbd_drops_total, reason icmp_*).";

const SWITCHED: &str = "Frames switched by label, by lcore and direction (c2s: client to server).";
const PUNTED: &str = "Frames a worker handed to the scheduler, by lcore and reason.";

/// Every event of `slb_proto::Events` by name. An event missing here (a
/// new one) is still exported, as `slbd_<event>_total`.
pub(super) const EVENT_FAMILIES: &[EventFamily] = &[
    ev(
        "switched_c2s",
        "slbd_switched_frames_total",
        SWITCHED,
        Some(("direction", "c2s")),
    ),
    ev(
        "switched_s2c",
        "slbd_switched_frames_total",
        SWITCHED,
        Some(("direction", "s2c")),
    ),
    ev(
        "pushed",
        "slbd_labels_pushed_total",
        "Unlabelled client frames of existing sessions whose label was pushed from the flow cache.",
        None,
    ),
    ev(
        "popped",
        "slbd_labels_popped_total",
        "Labels popped toward plain clients.",
        None,
    ),
    ev(
        "punted_new",
        "slbd_punted_frames_total",
        PUNTED,
        Some(("reason", "new")),
    ),
    ev(
        "punted_label",
        "slbd_punted_frames_total",
        PUNTED,
        Some(("reason", "label")),
    ),
    ev(
        "punted_neighbour",
        "slbd_punted_frames_total",
        PUNTED,
        Some(("reason", "neighbour")),
    ),
    ev(
        "punted_probe",
        "slbd_punted_frames_total",
        PUNTED,
        Some(("reason", "probe")),
    ),
    ev(
        "arp_replies",
        "slbd_arp_replies_total",
        "ARP replies sent.",
        None,
    ),
    ev(
        "nd_replies",
        "slbd_nd_replies_total",
        "Neighbour advertisements sent.",
        None,
    ),
    ev(
        "reports",
        "slbd_reports_total",
        "FIN/RST/first-reply reports sent to the scheduler.",
        None,
    ),
    ev(
        "reports_lost",
        "slbd_reports_lost_total",
        "Reports lost because the report queue was full.",
        None,
    ),
    ev(
        "mss_clamped",
        "slbd_mss_clamped_total",
        "TCP MSS options clamped.",
        None,
    ),
    ev(
        "sessions_admitted",
        "slbd_sessions_admitted_total",
        "New sessions admitted.",
        None,
    ),
    ev(
        "sessions_ended",
        "slbd_sessions_ended_total",
        "Sessions ended.",
        None,
    ),
    ev(
        "resets_sent",
        "slbd_resets_sent_total",
        "TCP resets sent to refused clients.",
        None,
    ),
    ev(
        "reset_probes_sent",
        "slbd_reset_probes_sent_total",
        "Out-of-window ACKs sent to the ends of sessions ended by on_down: reset, to learn the sequence number a reset needs.",
        None,
    ),
    ev(
        "session_resets_sent",
        "slbd_session_resets_sent_total",
        "TCP resets sent to the ends of sessions ended by on_down: reset.",
        None,
    ),
    ev(
        "neighbour_requests",
        "slbd_neighbour_requests_total",
        "ARP requests and neighbour solicitations sent.",
        None,
    ),
    ev(
        "scheduler_tx",
        "slbd_scheduler_tx_frames_total",
        "Frames the scheduler transmitted.",
        None,
    ),
    ev(
        "probes_sent",
        "slbd_probes_sent_total",
        "Health probes sent.",
        None,
    ),
    ev(
        "punted_icmp",
        "slbd_punted_frames_total",
        PUNTED,
        Some(("reason", "icmp")),
    ),
    ev("echo_replies", "slbd_icmp_sent_total", ICMP_SENT, Some(("kind", "echo_reply"))),
    ev(
        "frag_needed_sent",
        "slbd_icmp_sent_total",
        ICMP_SENT,
        Some(("kind", "frag_needed")),
    ),
    ev(
        "packet_too_big_sent",
        "slbd_icmp_sent_total",
        ICMP_SENT,
        Some(("kind", "packet_too_big")),
    ),
    ev(
        "icmp_forwarded",
        "slbd_icmp_errors_forwarded_total",
        "ICMP errors matched to a session by their quote and forwarded to its server, labelled.",
        None,
    ),
    ev(
        "flows_evicted",
        "slbd_flows_evicted_total",
        "Plain clients' flows dropped from a full worker flow cache (re-installed by the scheduler on their next frame).",
        None,
    ),
    ev(
        "switched_stateless",
        "slbd_switched_stateless_total",
        "Server-to-client frames of sessions this instance does not hold, switched without state (cluster).",
        None,
    ),
    ev(
        "recovered_by_hash",
        "slbd_recovered_by_hash_total",
        "Plain clients' flows of no session re-admitted by a consistent hash (cluster).",
        None,
    ),
    ev(
        "punted_exception",
        "slbd_punted_frames_total",
        PUNTED,
        Some(("reason", "exception")),
    ),
    ev(
        "exception_to_kernel",
        "slbd_exception_to_kernel_total",
        "Frames given to the exception path's kernel interface: BGP, BFD, ARP replies and neighbour advertisements (cluster).",
        None,
    ),
    ev(
        "exception_from_kernel",
        "slbd_exception_from_kernel_total",
        "Frames the exception path's kernel interface sent out of its client-facing port (cluster).",
        None,
    ),
    ev(
        "forwarded_to_owner",
        "slbd_forwarded_to_owner_total",
        "Label-aware clients' frames on another instance's label, forwarded to that live instance (cluster).",
        None,
    ),
    ev(
        "sync_records_sent",
        "slbd_sync_records_sent_total",
        "Session sync records sent to peers (cluster).",
        None,
    ),
    ev(
        "sync_records_received",
        "slbd_sync_records_received_total",
        "Session sync records received from peers (cluster).",
        None,
    ),
    ev(
        "sync_bad_datagrams",
        "slbd_sync_bad_datagrams_total",
        "Sync datagrams refused as malformed or not from a peer (cluster).",
        None,
    ),
    ev(
        "sync_dumps_sent",
        "slbd_sync_dumps_sent_total",
        "Bulk dumps of sessions sent to a (re)starting peer (cluster).",
        None,
    ),
    ev(
        "sync_installed",
        "slbd_sessions_installed_total",
        "Sessions installed from a peer's sync record or the state file, by origin.",
        Some(("origin", "synced")),
    ),
    ev(
        "sync_updated",
        "slbd_sync_updated_total",
        "Sync records that updated a session already installed (cluster).",
        None,
    ),
    ev(
        "sync_ended",
        "slbd_sync_ended_total",
        "Synced sessions ended because the peer switching them ended them (cluster).",
        None,
    ),
    ev(
        "restored",
        "slbd_sessions_installed_total",
        "Sessions installed from a peer's sync record or the state file, by origin.",
        Some(("origin", "restored")),
    ),
    ev(
        "install_no_service",
        "slbd_install_refused_total",
        "Synced or restored sessions not installed, by reason.",
        Some(("reason", "no_service")),
    ),
    ev(
        "install_no_server",
        "slbd_install_refused_total",
        "Synced or restored sessions not installed, by reason.",
        Some(("reason", "no_server")),
    ),
    ev(
        "install_label_out_of_range",
        "slbd_install_refused_total",
        "Synced or restored sessions not installed, by reason.",
        Some(("reason", "label_out_of_range")),
    ),
    ev(
        "install_label_busy",
        "slbd_install_refused_total",
        "Synced or restored sessions not installed, by reason.",
        Some(("reason", "label_busy")),
    ),
    ev(
        "install_key_busy",
        "slbd_install_refused_total",
        "Synced or restored sessions not installed, by reason.",
        Some(("reason", "key_busy")),
    ),
    ev(
        "install_no_next_hop",
        "slbd_install_refused_total",
        "Synced or restored sessions not installed, by reason.",
        Some(("reason", "no_next_hop")),
    ),
    ev(
        "punted_sync",
        "slbd_punted_frames_total",
        PUNTED,
        Some(("reason", "sync")),
    ),
    ev(
        "syn_cookies_sent",
        "slbd_syn_cookies_total",
        SYN_COOKIES,
        Some(("result", "sent")),
    ),
    ev(
        "syn_cookies_valid",
        "slbd_syn_cookies_total",
        SYN_COOKIES,
        Some(("result", "valid")),
    ),
    ev(
        "syn_proxy_bypassed",
        "slbd_syn_proxy_bypassed_total",
        "SYNs to syn_proxy services with a TCP-MD5/AO option, admitted by layer 4.",
        None,
    ),
    ev(
        "sessions_spliced",
        "slbd_splice_total",
        SPLICE,
        Some(("result", "spliced")),
    ),
    ev(
        "splice_timeouts",
        "slbd_splice_total",
        SPLICE,
        Some(("result", "timeout")),
    ),
    ev(
        "splice_refused",
        "slbd_splice_total",
        SPLICE,
        Some(("result", "refused")),
    ),
    ev(
        "splice_syn_retries",
        "slbd_splice_syn_retries_total",
        "Replayed SYNs sent again to a server that had not answered.",
        None,
    ),
    ev(
        "splice_held",
        "slbd_splice_held_frames_total",
        "Client frames held while their server answered the replayed SYN.",
        None,
    ),
    ev(
        "splice_option_mismatch",
        "slbd_splice_option_mismatch_total",
        "Servers' SYN-ACKs whose MSS or window scale differ from the service's advertised ones.",
        None,
    ),
    ev(
        "splice_ack_resent",
        "slbd_splice_ack_resent_total",
        "Replayed ACKs sent again because the server sent its SYN-ACK again.",
        None,
    ),
    ev(
        "l7_waits",
        "slbd_l7_waits_total",
        "New sessions of services with layer-7 rules that waited for their client's first data.",
        None,
    ),
    ev(
        "l7_held",
        "slbd_l7_held_frames_total",
        "Client frames held while their session waited for its first data.",
        None,
    ),
    ev(
        "l7_rule_matched",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "rule")),
    ),
    ev(
        "l7_no_match",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "no_match")),
    ),
    ev(
        "l7_fallback_timeout",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "timeout")),
    ),
    ev(
        "l7_fallback_segments",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "segments")),
    ),
    ev(
        "l7_fallback_bytes",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "bytes")),
    ),
    ev(
        "l7_fallback_malformed",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "malformed")),
    ),
    ev(
        "l7_fallback_unsupported",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "unsupported")),
    ),
    ev(
        "l7_fallback_busy",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "busy")),
    ),
    ev(
        "l7_refused_sessions",
        "slbd_l7_decisions_total",
        L7_DECISIONS,
        Some(("decision", "refused")),
    ),
];

const SYN_COOKIES: &str =
    "SYN cookies: sent by workers, valid handshake ACKs (invalid ones are drops: cookie_stale, cookie_forged).";
const L7_DECISIONS: &str = "Sessions of services with layer-7 rules by what bound them, by lcore: a rule, no rule matched (the default pool), a fallback reason (the default pool), refused (a malformed request).";
const SPLICE: &str = "Delayed-binding handshakes with the server, by result.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_its_family() {
        for (e, _) in slb_proto::Events::default().by_name() {
            let rows = EVENT_FAMILIES.iter().filter(|f| f.event == e).count();
            assert_eq!(rows, 1, "event {e}: {rows} rows in EVENT_FAMILIES");
        }
        assert_eq!(
            EVENT_FAMILIES.len(),
            slb_proto::Events::default().by_name().len(),
            "a row for no event"
        );
    }
}
