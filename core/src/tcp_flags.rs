//! A TCP header's flag byte, as the session core reads it.

/// TCP flags as in the TCP header's flag byte (RFC 9293, section 3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;

    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// SYN without ACK, FIN or RST: the only packet that creates a TCP session.
    pub fn is_session_start(self) -> bool {
        self.has(Self::SYN) && !self.has(Self::ACK | Self::FIN | Self::RST)
    }

    /// SYN with FIN or RST: never valid, ignored by the state machine.
    pub fn is_invalid(self) -> bool {
        self.has(Self::SYN) && self.has(Self::FIN | Self::RST)
    }
}
