//! The server-side request forgery guard: a webhook may only target http(s) URLs whose host
//! resolves to public addresses. The check runs at registration (a clear 422) and again on
//! every connection, through the resolver the sender uses, so a name that later resolves to a
//! private address (DNS rebinding) is not reached either. Operators may allow private targets
//! (`WEBHOOK_ALLOW_PRIVATE_TARGETS`), for a receiver on their own network or in tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

use crate::error::{ApiError, FieldError};

/// Whether a webhook may reach `ip` when private targets are not allowed: not loopback,
/// private, link-local, shared (CGNAT), unspecified, broadcast, multicast, documentation or
/// reserved space, nor an IPv6 form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_public_v4(v4);
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0);
    let compatible = s[..6].iter().all(|x| *x == 0) && !ip.is_loopback() && !ip.is_unspecified();
    (nat64 || compatible).then_some(tail)
}

/// Who may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

impl TargetPolicy {
    pub fn permits(self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }
}

fn invalid(code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new("url", code, message)
}

/// An endpoint URL as a partner gives it: absolute http(s), a host, no credentials, no
/// fragment, at most 2,000 characters.
pub fn parse_url(text: &str) -> Result<Url, FieldError> {
    if text.chars().count() > 2000 {
        return Err(invalid("too_long", "url must be at most 2000 characters"));
    }
    let url = Url::parse(text.trim())
        .map_err(|e| invalid("invalid_url", format!("url is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("unsupported_scheme", "url must use http or https"));
    }
    if url.host().is_none() {
        return Err(invalid("invalid_url", "url must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "credentials_in_url",
            "url must not carry credentials: deliveries are signed instead",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("invalid_url", "url must not have a fragment"));
    }
    Ok(url)
}

/// The addresses `url`'s host resolves to.
async fn addresses(url: &Url) -> std::io::Result<Vec<SocketAddr>> {
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok(vec![SocketAddr::new(ip.into(), port)]),
        Some(Host::Ipv6(ip)) => Ok(vec![SocketAddr::new(ip.into(), port)]),
        Some(Host::Domain(name)) => Ok(tokio::net::lookup_host((name, port)).await?.collect()),
        None => Ok(Vec::new()),
    }
}

/// 422 unless `url`'s host resolves, and only to addresses `policy` permits.
pub async fn check_target(url: &Url, policy: TargetPolicy) -> Result<(), ApiError> {
    let refuse = |error: FieldError| ApiError::validation(vec![error]);
    let resolved = addresses(url).await.map_err(|e| {
        refuse(invalid(
            "unresolvable_host",
            format!("the host of url cannot be resolved: {e}"),
        ))
    })?;
    if resolved.is_empty() {
        return Err(refuse(invalid(
            "unresolvable_host",
            "the host of url resolves to no address",
        )));
    }
    if let Some(refused) = resolved.iter().find(|a| !policy.permits(a.ip())) {
        return Err(refuse(invalid(
            "forbidden_address",
            format!(
                "url resolves to {}, a private, loopback, link-local or reserved address; webhooks only reach public addresses",
                refused.ip()
            ),
        )));
    }
    Ok(())
}

/// The sender's resolver: drops the addresses the policy does not permit, failing when none is
/// left.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver(pub TargetPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{host} resolves to no public address ({})",
                    all.iter()
                        .map(|a| a.ip().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into();
                return Err(refused);
            }
            let addrs: reqwest::dns::Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether the sender may connect to `url` when its host is an IP literal (the resolver is not
/// consulted for those).
pub fn literal_permitted(url: &Url, policy: TargetPolicy) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => policy.permits(ip.into()),
        Some(Host::Ipv6(ip)) => policy.permits(ip.into()),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn private_loopback_and_link_local_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!public(ip), "{ip} must be refused");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2a01:4f8::1", "::ffff:8.8.8.8"] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(parse_url("https://partner.example.fr/hooks?x=1").is_ok());
        for bad in [
            "ftp://partner.example.fr/",
            "file:///etc/passwd",
            "not a url",
            "https://user:pw@partner.example.fr/",
            "https://partner.example.fr/#frag",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} must be refused");
        }
    }

    #[tokio::test]
    async fn loopback_targets_need_the_operator_s_consent() {
        let url = parse_url("http://127.0.0.1:9/hook").unwrap();
        let refused = check_target(
            &url,
            TargetPolicy {
                allow_private: false,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(refused.errors[0].code, "forbidden_address");
        assert!(check_target(
            &url,
            TargetPolicy {
                allow_private: true
            }
        )
        .await
        .is_ok());
        let named = parse_url("http://localhost:9/hook").unwrap();
        assert!(check_target(
            &named,
            TargetPolicy {
                allow_private: false
            }
        )
        .await
        .is_err());
    }
}
