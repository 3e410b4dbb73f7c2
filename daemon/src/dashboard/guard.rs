//! What the dashboard lets in. It has no access control, so it must
//! answer only requests meant for it: a page an attacker serves can point
//! its own host name at 127.0.0.1 (DNS rebinding) and read the dashboard
//! through a victim's browser unless the `Host` header is checked. And one
//! client must not hold it: connections are limited in number, each must
//! send its request's headers within a time limit, and none lives long.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Connections served at once; more wait in the kernel's queue.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay open, idle or not (every page is one
/// quick read of the store).
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// The host names (without a port) requests may name in `Host`.
#[derive(Clone, Debug)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    /// The loopback names, the address served on, and `extra`
    /// (`[dashboard] allow_hosts`, `serve --allow-host`).
    pub fn new(bound: SocketAddr, extra: &[String]) -> AllowedHosts {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .map(String::from)
            .to_vec();
        let ip = match bound.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        if !bound.ip().is_unspecified() {
            names.push(ip);
        }
        names.extend(extra.iter().map(|h| h.trim().to_ascii_lowercase()));
        AllowedHosts(Arc::new(names))
    }

    /// Whether a request whose `Host` header is `host` is served.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = strip_port(&host);
        self.0.iter().any(|allowed| allowed == name)
    }

    /// The names, for messages.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// `host` without its `:port` (an IPv6 literal keeps its brackets).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

/// Refuses a request whose `Host` names another host (HTTP/1.0 clients
/// that send none are served: a browser always sends one).
pub async fn check_host(allowed: AllowedHosts, request: Request, next: Next) -> Response {
    if let Some(host) = request.headers().get(header::HOST) {
        let host = host.to_str().unwrap_or("");
        if !allowed.allows(host) {
            tracing::debug!("dashboard: refused a request for host {host:?}");
            return (
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this dashboard answers only for {}; start it with --allow-host NAME (or [dashboard] allow_hosts) to reach it by another name\n",
                    allowed.names().join(", ")
                ),
            )
                .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_the_bound_address_are_allowed_and_others_are_not() {
        let allowed = AllowedHosts::new("127.0.0.1:8420".parse().unwrap(), &[]);
        for host in [
            "localhost",
            "localhost:8420",
            "127.0.0.1:8420",
            "[::1]:8420",
            "LOCALHOST",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8420",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!allowed.allows(host), "{host}");
        }
        let wide = AllowedHosts::new("0.0.0.0:80".parse().unwrap(), &["Fuzz.Lab".into()]);
        assert!(wide.allows("fuzz.lab:80"));
        assert!(!wide.allows("0.0.0.0"));
        let v6 = AllowedHosts::new("[fd00::1]:80".parse().unwrap(), &[]);
        assert!(v6.allows("[fd00::1]:80"));
    }
}
