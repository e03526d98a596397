//! Where a remote issuer may send the app. An issuer's discovery document names the
//! endpoints the app then calls with the client secret (token exchange, refresh,
//! revocation, `status`'s probe) and users' tokens (userinfo); a remote issuer must not
//! point them at the app's own host or network. Unless the issuer itself is only on
//! loopback, private or link-local addresses (development, and the tests' providers on
//! 127.0.0.1), every endpoint it names must be https and resolve only to other addresses.
//!
//! Checked when `configure` stores the endpoints and again at every `status`, not when
//! they are used: a name that resolves to a public address now and to a private one later
//! (DNS rebinding) is not caught. Closing that would take the same check inside the HTTP
//! client's resolver, for every request to a remote issuer's endpoints.

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use super::config::check_endpoint;

/// How long one name lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks the `endpoints` (name, URL; blank ones are skipped) an `issuer` named. `Err`
/// names the first refused endpoint and why.
pub async fn check(
    issuer: &Url,
    endpoints: &[(&'static str, &str)],
) -> Result<(), (&'static str, String)> {
    if addresses(issuer)
        .await
        .is_some_and(|ips| ips.iter().all(|ip| is_internal(*ip)))
    {
        return Ok(());
    }
    for &(name, value) in endpoints {
        if value.is_empty() {
            continue;
        }
        let url = check_endpoint(value).map_err(|why| (name, why))?;
        let refuse = |why: String| Err((name, why));
        if url.scheme() != "https" {
            return refuse(format!(
                "{value:?} must use https (http only when the issuer itself is on a loopback or private address)"
            ));
        }
        let host = url.host_str().unwrap_or_default();
        match addresses(&url).await {
            None => return refuse(format!("{host} could not be resolved")),
            Some(ips) => {
                if let Some(ip) = ips.into_iter().find(|ip| is_internal(*ip)) {
                    return refuse(format!(
                        "{host} resolves to {ip}, a loopback, private or link-local address, which only an issuer on such an address may name"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The addresses of `url`'s host: itself when it is an IP address, else what the system
/// resolver answers within [`LOOKUP_TIMEOUT`]. `None` when there are none.
async fn addresses(url: &Url) -> Option<Vec<IpAddr>> {
    let port = url.port_or_known_default().unwrap_or(443);
    let ips: Vec<IpAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![ip.into()],
        Some(Host::Ipv6(ip)) => vec![ip.into()],
        Some(Host::Domain(name)) => {
            tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((name, port)))
                .await
                .ok()?
                .ok()?
                .map(|addr| addr.ip())
                .collect()
        }
        None => Vec::new(),
    };
    (!ips.is_empty()).then_some(ips)
}

/// Loopback, private (RFC 1918, IPv6 unique local), link-local, shared (RFC 6598),
/// unspecified, "this network" or broadcast; an IPv4-mapped IPv6 address as its IPv4 one.
fn is_internal(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    #[tokio::test]
    async fn a_remote_issuer_cannot_point_the_app_at_its_own_host_or_network() {
        // Documentation addresses (RFC 5737, RFC 3849): neither loopback nor private.
        let remote = url("https://203.0.113.7/realms/main");
        let good = [
            ("authorization_endpoint", "https://203.0.113.8/auth"),
            ("userinfo_endpoint", ""),
            ("token_endpoint", "https://[2001:db8::1]/token"),
        ];
        check(&remote, &good).await.expect("public endpoints");
        for (bad, why) in [
            ("http://203.0.113.8/token", "must use https"),
            ("https://127.0.0.1:8080/token", "resolves to 127.0.0.1"),
            ("https://localhost:8080/token", "loopback"),
            ("https://10.1.2.3/token", "resolves to 10.1.2.3"),
            ("https://172.16.0.1/token", "resolves to 172.16.0.1"),
            ("https://192.168.1.1/token", "resolves to 192.168.1.1"),
            ("https://100.64.0.1/token", "resolves to 100.64.0.1"),
            (
                "https://169.254.169.254/token",
                "resolves to 169.254.169.254",
            ),
            ("https://0.0.0.0/token", "resolves to 0.0.0.0"),
            ("https://[::1]/token", "resolves to ::1"),
            ("https://[fe80::1]/token", "resolves to fe80::1"),
            ("https://[fd00::1]/token", "resolves to fd00::1"),
            ("https://[::ffff:127.0.0.1]/token", "loopback"),
        ] {
            let mut found = good;
            found[2].1 = bad;
            match check(&remote, &found).await {
                Err(("token_endpoint", text)) => assert!(text.contains(why), "{bad}: {text}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        // An issuer on this machine (development; the tests' providers) may name such
        // endpoints, and plain http.
        let local = url("http://127.0.0.1:9000");
        let found = [
            ("authorization_endpoint", "http://127.0.0.1:9000/auth"),
            ("token_endpoint", "https://10.1.2.3/token"),
        ];
        check(&local, &found).await.expect("a local issuer");
        check(&url("http://localhost:9000"), &found)
            .await
            .expect("a local issuer by name");
        // A name with one public address is not local.
        assert!(!is_internal("203.0.113.7".parse().expect("an address")));
    }
}
