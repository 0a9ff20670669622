//! Who is on the other end of a request: the client's address, whether it
//! came over HTTPS and the host it asked for. `Forwarded`,
//! `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are
//! believed only when the connection comes from a configured trusted proxy
//! (`trusted_proxies`, none by default); anyone else could write anything
//! there. The address is always a parsed IP, never header text.

use std::net::IpAddr;

use actix_web::http::header::{self, HeaderMap};
use actix_web::HttpRequest;

/// One entry of `trusted_proxies`: an address or a CIDR block.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IpBlock {
    base: IpAddr,
    prefix: u8,
}

impl IpBlock {
    /// `10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    pub fn parse(text: &str) -> Result<IpBlock, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let base: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address or CIDR block"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}': the prefix length must be 0 to {max}"))?,
        };
        Ok(IpBlock { base, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.base), ip) {
            (IpAddr::V4(b), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(b) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(b), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(b) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The proxies whose forwarding headers are believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpBlock>);

impl TrustedProxies {
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .filter(|e| !e.trim().is_empty())
            .map(|e| IpBlock::parse(e))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(ip))
    }
}

/// The far end of a request, as far as it can be known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the peer, or the first address a trusted
    /// proxy chain names.
    pub ip: Option<IpAddr>,
    /// The request reached a proxy (or this service) over HTTPS.
    pub https: bool,
    /// The host the client asked for (for the same-origin check).
    pub host: String,
    /// The request came through a proxy (it carries forwarding headers).
    pub forwarded: bool,
}

impl Client {
    /// The address as text for logs, limits and the audit log.
    pub fn address(&self) -> String {
        self.ip
            .map(|ip| canonical(ip).to_string())
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// On this machine and not forwarded by a proxy.
    pub fn is_local(&self) -> bool {
        !self.forwarded && self.ip.is_some_and(|ip| canonical(ip).is_loopback())
    }

    /// What the sign-in limits count by: the address, or for IPv6 its /64
    /// network (one subscriber usually holds a whole /64, so counting single
    /// addresses would give them 2^64 tries).
    pub fn limit_key(&self) -> String {
        match self.ip.map(canonical) {
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Some(v4) => v4.to_string(),
            None => "unknown".to_string(),
        }
    }
}

/// Whether a header is one that proxies and load balancers add (so a
/// request carrying it came through one, and is not "local" whatever its
/// peer): `Forwarded`, `Via`, any `*forwarded*`, `*real-ip`, `*client-ip`
/// or `*connecting-ip`, and the vendor families (`X-Envoy-*`,
/// `X-Original-*`, `X-Amzn-*`, `X-Azure-*`, `X-AppEngine-*`, `CF-*`).
fn is_proxy_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "via"
        || n.contains("forwarded")
        || n.ends_with("real-ip")
        || n.ends_with("client-ip")
        || n.ends_with("connecting-ip")
        || [
            "x-envoy-",
            "x-original-",
            "x-amzn-",
            "x-azure-",
            "x-appengine-",
            "cf-",
        ]
        .iter()
        .any(|p| n.starts_with(p))
}

/// The hops a `Forwarded` or `X-Forwarded-For` header lists, nearest last,
/// and the proto the nearest proxy saw (`Forwarded: proto=`).
fn forwarded_hops(headers: &HeaderMap) -> Option<(Vec<Option<IpAddr>>, Option<String>)> {
    let joined = |name: &str| -> Option<String> {
        let values: Vec<&str> = headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    if let Some(text) = joined("forwarded") {
        let mut hops = Vec::new();
        let mut proto = None;
        for element in text.split(',') {
            for pair in element.split(';') {
                let Some((k, v)) = pair.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "for" => hops.push(parse_node(v)),
                    "proto" => proto = Some(v.to_ascii_lowercase()),
                    _ => {}
                }
            }
        }
        return Some((hops, proto));
    }
    joined("x-forwarded-for").map(|text| (text.split(',').map(parse_node).collect(), None))
}

/// `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`; `None` for anything else
/// (`unknown`, obfuscated names, rubbish).
fn parse_node(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = t.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Works out the client of a request whose TCP peer is `peer`.
pub fn resolve(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    own_tls: bool,
    trusted: &TrustedProxies,
) -> Client {
    let host_header = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let hops = forwarded_hops(headers);
    let forwarded = headers.keys().any(|h| is_proxy_header(h.as_str()));
    let from_proxy = peer.is_some_and(|p| trusted.trusts(p));
    if !from_proxy {
        return Client {
            ip: peer,
            https: own_tls,
            host: host_header,
            forwarded,
        };
    }
    // Walk back from the nearest hop while the hops are trusted proxies;
    // without a chain, a proxy's `X-Real-IP` names the client.
    let mut ip = peer;
    let mut proto_seen = None;
    if hops.is_none() {
        if let Some(real) = headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_node)
        {
            ip = Some(real);
        }
    }
    if let Some((list, proto)) = hops {
        proto_seen = proto;
        for hop in list.iter().rev() {
            match hop {
                Some(addr) => {
                    ip = Some(*addr);
                    if !trusted.trusts(*addr) {
                        break;
                    }
                }
                // A hop we cannot read: the last trusted one is as far as
                // we can see.
                None => break,
            }
        }
    }
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let proto = proto_seen.or_else(|| header_text("x-forwarded-proto"));
    let host = header_text("x-forwarded-host")
        .filter(|h| !h.is_empty())
        .unwrap_or(host_header);
    Client {
        ip,
        https: own_tls || proto.as_deref() == Some("https"),
        host,
        forwarded,
    }
}

/// The client of a request, with the service's trusted proxies.
pub fn of(req: &HttpRequest) -> Client {
    let trusted = req
        .app_data::<actix_web::web::Data<super::state::AppState>>()
        .map(|s| s.trusted_proxies.clone())
        .unwrap_or_default();
    resolve(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        req.app_config().secure(),
        &trusted,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn blocks_contain_what_they_should() {
        let b = IpBlock::parse("10.0.0.0/8").unwrap();
        assert!(b.contains("10.200.3.4".parse().unwrap()));
        assert!(b.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!b.contains("11.0.0.1".parse().unwrap()));
        let one = IpBlock::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = IpBlock::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(IpBlock::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["", "x", "10.0.0.0/33", "::/129", "10.0.0.0/a"] {
            assert!(IpBlock::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarding_headers_from_strangers_are_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[
            ("host", "finops.example"),
            ("x-forwarded-for", "1.2.3.4"),
            ("forwarded", "for=5.6.7.8;proto=https"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let c = resolve(ip("203.0.113.9"), &h, false, &none);
        assert_eq!(c.address(), "203.0.113.9");
        assert!(!c.https);
        assert_eq!(c.host, "finops.example");
        assert!(c.forwarded);
        assert!(!c.is_local());
        let local = resolve(ip("127.0.0.1"), &h, false, &none);
        assert!(!local.is_local(), "a forwarded request is not local");
        for header in [
            "x-real-ip",
            "via",
            "x-forwarded-proto",
            "x-forwarded-server",
            "x-original-forwarded-for",
            "client-ip",
            "x-forwarded",
            "forwarded-for",
            "x-envoy-external-address",
            "x-amzn-trace-id",
            "x-original-url",
            "cf-connecting-ip",
        ] {
            let one = resolve(
                ip("127.0.0.1"),
                &headers(&[(header, "1.2.3.4")]),
                false,
                &none,
            );
            assert!(!one.is_local(), "{header}");
            assert_eq!(one.address(), "127.0.0.1", "{header}");
        }
        let plain = resolve(ip("127.0.0.1"), &headers(&[]), false, &none);
        assert!(plain.is_local());
    }

    #[test]
    fn a_trusted_proxy_chain_names_the_client() {
        let trusted =
            TrustedProxies::parse(&["10.0.0.0/8".to_string(), "127.0.0.1".to_string()]).unwrap();
        // The client forged the first entry; the proxies appended the rest.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "finops.example"),
        ]);
        let c = resolve(ip("127.0.0.1"), &h, false, &trusted);
        assert_eq!(c.address(), "198.51.100.7");
        assert!(c.https);
        assert_eq!(c.host, "finops.example");
        let f = headers(&[(
            "forwarded",
            "for=198.51.100.8;proto=https, for=\"[fd00::1]:99\"",
        )]);
        let c = resolve(ip("10.1.1.1"), &f, false, &trusted);
        assert_eq!(c.address(), "fd00::1");
        // Rubbish in the chain: the last trusted hop is the answer.
        let r = headers(&[("x-forwarded-for", "<script>, 10.0.0.3")]);
        let c = resolve(ip("10.0.0.9"), &r, false, &trusted);
        assert_eq!(c.address(), "10.0.0.3");
        assert_eq!(parse_node("1.2.3.4:8080"), ip("1.2.3.4"));
        // nginx's usual `X-Real-IP`, from a trusted proxy.
        let real = headers(&[("x-real-ip", "203.0.113.50")]);
        assert_eq!(
            resolve(ip("10.0.0.9"), &real, false, &trusted).address(),
            "203.0.113.50"
        );
    }

    #[test]
    fn the_limits_count_an_ipv6_subscriber_as_one() {
        let none = TrustedProxies::default();
        let a = resolve(ip("2001:db8:1:2::1"), &headers(&[]), false, &none);
        let b = resolve(ip("2001:db8:1:2:ffff::9"), &headers(&[]), false, &none);
        assert_eq!(a.limit_key(), "2001:db8:1:2::/64");
        assert_eq!(a.limit_key(), b.limit_key());
        assert_ne!(a.address(), b.address());
        let v4 = resolve(ip("::ffff:192.0.2.1"), &headers(&[]), false, &none);
        assert_eq!(v4.limit_key(), "192.0.2.1");
        assert_eq!(parse_node("unknown"), None);
    }
}
