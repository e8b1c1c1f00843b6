//! The TCP session state machine: what a packet's flags, in a direction,
//! do to a session's state (a pure function, exhaustively tested in
//! `session`'s tests).

use crate::session::{Direction, EndReason, SessionState, TcpFlags};

/// What a TCP packet does to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Invalid flag combination (SYN with FIN or RST): no effect at all.
    Ignore,
    /// Same state; the idle timer restarts (except in linger).
    Stay,
    /// New state; the timer restarts in the new state's class.
    Enter(SessionState),
    /// The session ends now.
    End(EndReason),
}

/// Outcome of [`tcp_transition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub next: Next,
    /// This packet is the server's first reply (response time sample).
    pub first_reply: bool,
}

/// The TCP session state machine, as a pure function of the current state,
/// the packet's flags and its direction. Rules, first match wins:
///
/// 1. SYN with FIN or RST: ignored.
/// 2. Reset: stay (the linger timer is not extended).
/// 3. RST from either side: -> reset; the session ends (`Reset`) when the
///    linger time passes, and is switched until then (a frame the RST
///    overtook, such as the FIN before it, still reaches its end).
/// 4. UDP state: stay (TCP flags do not apply).
/// 5. SYN sent, from the client: stay (SYN retransmissions, early data).
/// 6. SYN sent, from the server: first reply; FIN -> closing by server,
///    otherwise established.
/// 7. Established, FIN from a side -> closing by that side; otherwise stay.
/// 8. Closing by side A, FIN from the other side -> linger; otherwise stay.
/// 9. Linger: stay (the linger timer is not extended).
///
/// PSH, URG and ACK never change the outcome.
pub fn tcp_transition(state: SessionState, flags: TcpFlags, dir: Direction) -> Transition {
    use SessionState::*;
    let stay = Transition {
        next: Next::Stay,
        first_reply: false,
    };
    let to = |s| Transition {
        next: Next::Enter(s),
        first_reply: false,
    };
    if flags.is_invalid() {
        return Transition {
            next: Next::Ignore,
            first_reply: false,
        };
    }
    if state == Reset {
        return stay;
    }
    if flags.has(TcpFlags::RST) {
        return to(Reset);
    }
    let fin = flags.has(TcpFlags::FIN);
    match (state, dir) {
        (Udp, _) => stay,
        (SynSent, Direction::ClientToServer) => stay,
        (SynSent, Direction::ServerToClient) => Transition {
            next: Next::Enter(if fin {
                Closing(Direction::ServerToClient)
            } else {
                Established
            }),
            first_reply: true,
        },
        (Established, d) if fin => to(Closing(d)),
        (Established, _) => stay,
        (Closing(a), d) if fin && a != d => to(Linger),
        (Closing(_), _) => stay,
        (Linger, _) => stay,
        (Reset, _) => stay,
    }
}
