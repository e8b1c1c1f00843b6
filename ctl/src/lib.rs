//! slbctl's library side: the control protocol ([`protocol`]) that slbd
//! serves and slbctl speaks, and a small blocking client ([`client`]).

pub mod client;
pub mod protocol;
