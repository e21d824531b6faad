//! Who the client is (`TRUSTED_PROXIES`): the connection's peer, unless the peer is a proxy
//! the app trusts, in which case the client is the rightmost address of `X-Forwarded-For` (or
//! RFC 7239 `Forwarded`) that is not itself a trusted proxy. The entries to the left of it were
//! written by the client and prove nothing: nginx's `$proxy_add_x_forwarded_for` appends the
//! peer it saw, so reading from the right stops at the first address no trusted proxy vouches
//! for. From a peer that is not trusted these headers are ignored. The scheme is never taken
//! from a request (`X-Forwarded-Proto`): it is `APP_URL`'s, so no header can make the app set a
//! cookie without `Secure`.
//!
//! Used by the login rate limit and the login's log lines.

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use std::net::IpAddr;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose forwarding headers are believed: addresses and CIDR ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR ranges (`127.0.0.1, 10.0.0.0/8, ::1`);
    /// empty trusts none.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => entry.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                    format!(
                        "`{entry}` is not an address or a CIDR range \
                         (e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8)"
                    )
                })?,
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    /// Whether no proxy is trusted (the peer is always the client).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let forwarded = if headers.contains_key(&X_FORWARDED_FOR) {
            forwarded_for(headers)
        } else {
            rfc7239_for(headers)
        };
        // From the right: the peer vouches for the last entry, each trusted entry for the one
        // before it. An entry that is not an address (RFC 7239's `unknown`, a garbled one)
        // vouches for nothing: the last address reached is the client.
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            let Some(address) = entry.map(canonical) else {
                break;
            };
            client = address;
            if !self.contains(address) {
                break;
            }
        }
        client
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, net) in self.0.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(f, "{separator}{net}")?;
        }
        Ok(())
    }
}

/// The entries of every `X-Forwarded-For` header, in order; `None` for one that is not an
/// address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(|entry| parse_node(entry.trim()))
        .collect()
}

/// The `for=` of each element of every `Forwarded` header (RFC 7239 §4), in order.
fn rfc7239_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all(axum::http::header::FORWARDED)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| parse_node(node.trim().trim_matches('"')))
        })
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// An IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 client) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).expect("a value"));
        }
        headers
    }

    #[test]
    fn lists_parse_and_bad_entries_are_named() {
        let proxies = TrustedProxies::parse(" 127.0.0.1, 10.0.0.0/8,fd00::/8 ,").expect("valid");
        assert!(proxies.contains(ip("127.0.0.1")));
        assert!(proxies.contains(ip("::ffff:127.0.0.1")), "mapped IPv4");
        assert!(proxies.contains(ip("10.200.3.4")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("127.0.0.2")));
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        let error = TrustedProxies::parse("10.0.0.0/8, proxy.local").expect_err("a name");
        assert!(error.contains("`proxy.local`"), "{error}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let proxies = TrustedProxies::parse("10.0.0.1").expect("valid");
        let forged = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.8"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            proxies.client(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.1"), &forged), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_rightmost_untrusted_address() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").expect("valid");
        let proxy = ip("10.0.0.1");
        // The client wrote the first entry; nginx appended what it saw.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(proxies.client(proxy, &chain), ip("198.51.100.7"));
        // Two proxies: the inner one's address is skipped.
        let two = headers(&[
            ("x-forwarded-for", "1.2.3.4, 198.51.100.7"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(proxies.client(proxy, &two), ip("198.51.100.7"));
        // Nothing forwarded: the proxy is the client (all its clients share one budget).
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
        // A garbled entry vouches for nothing to its left.
        let garbled = headers(&[("x-forwarded-for", "198.51.100.7, nonsense, 10.2.2.2")]);
        assert_eq!(proxies.client(proxy, &garbled), ip("10.2.2.2"));
        let with_ports = headers(&[("x-forwarded-for", "[2001:db8::7]:443")]);
        assert_eq!(proxies.client(proxy, &with_ports), ip("2001:db8::7"));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let proxies = TrustedProxies::parse("10.0.0.1").expect("valid");
        let forwarded = headers(&[(
            "forwarded",
            "for=192.0.2.43;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1",
        )]);
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &forwarded),
            ip("2001:db8:cafe::17")
        );
        let obfuscated = headers(&[("forwarded", "for=192.0.2.43, for=_hidden")]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &obfuscated), ip("10.0.0.1"));
    }
}
