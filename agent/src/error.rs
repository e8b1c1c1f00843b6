//! Everything that can go wrong in slb-agent, as one line for the operator.

/// Everything that can go wrong, as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Usage(String),
    #[error("{iface}: {message}")]
    Iface { iface: String, message: String },
    #[error("{step}: {source}")]
    Step {
        step: String,
        source: std::io::Error,
    },
}

impl AgentError {
    pub fn iface(iface: &str, message: String) -> Self {
        AgentError::Iface {
            iface: iface.to_owned(),
            message,
        }
    }

    pub fn step(step: impl Into<String>, source: std::io::Error) -> Self {
        AgentError::Step {
            step: step.into(),
            source,
        }
    }
}
