//! A Ballista scheduler's address, `df://HOST:PORT` (a leaf: the engine, the plan node and
//! the job client all name it).

use std::fmt;

/// A Ballista scheduler's address, written `df://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerAddress {
    /// Host name or IP address.
    pub host: String,
    /// The scheduler's gRPC port.
    pub port: u16,
}

/// A text that is not `df://HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a scheduler address (expected `df://HOST:PORT`)")]
pub struct NotASchedulerAddress(String);

impl SchedulerAddress {
    /// Parses `df://HOST:PORT`.
    pub fn parse(text: &str) -> Result<SchedulerAddress, NotASchedulerAddress> {
        let problem = || NotASchedulerAddress(text.to_string());
        let rest = text.strip_prefix("df://").ok_or_else(problem)?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(problem)?;
        let port: u16 = port.parse().map_err(|_| problem())?;
        if host.is_empty() || host.contains('/') || port == 0 {
            return Err(problem());
        }
        Ok(SchedulerAddress { host: host.to_string(), port })
    }

    /// The scheduler's gRPC endpoint.
    pub fn grpc_url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

impl fmt::Display for SchedulerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses_parse_or_are_refused() {
        assert_eq!(SchedulerAddress::parse("df://127.0.0.1:50050"), Ok(SchedulerAddress { host: "127.0.0.1".into(), port: 50050 }));
        assert_eq!(SchedulerAddress::parse("df://localhost:7").map(|address| address.grpc_url()), Ok("http://localhost:7".into()));
        for bad in ["127.0.0.1:50050", "df://:50050", "df://host", "df://host:0", "df://host:99999", "http://host:1"] {
            assert!(SchedulerAddress::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
