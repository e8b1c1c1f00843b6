//! The ids of services, servers and sessions. They live in a module of
//! their own, apart from the types they index, so that `session`, `pool`,
//! `service` and `session_core` can name each other's ids without
//! importing each other.

/// A service's index in its [`Core`](crate::Core).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub u16);

/// A server's slot in its pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(pub u32);

/// Index of a session in its table (slab slot). Valid until the session ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u32);
