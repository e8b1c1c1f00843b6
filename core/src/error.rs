//! [`CoreError`]: what can go wrong while configuring the core and its
//! services (label range, servers, services).

use std::net::IpAddr;

use crate::labels::LabelError;
use crate::pool::PoolError;
use crate::session::Protocol;

/// Configuration errors of the core.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("labels: {0}")]
    Labels(#[from] LabelError),
    #[error("servers: {0}")]
    Pool(#[from] PoolError),
    #[error("a service for {protocol:?} {vip} port {port} already exists")]
    DuplicateService {
        protocol: Protocol,
        vip: IpAddr,
        port: u16,
    },
    #[error("maglev_table_size {0} must be a prime (e.g. 65537)")]
    TableSize(u32),
    #[error("at most 65535 services")]
    TooManyServices,
    #[error("no service with id {0}")]
    NoSuchService(u16),
    #[error("service {0} still has {1} sessions")]
    ServiceHasSessions(u16, u32),
}
