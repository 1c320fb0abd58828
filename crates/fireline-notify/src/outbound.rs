//! Where outbound requests to user-given URLs may go.
//!
//! Webhook and Slack URLs are typed in by whoever edits the roster, so without a check
//! they are a way to make the server call its own network: the cloud metadata service
//! (`169.254.169.254`), an admin port on loopback, a database on a private subnet.
//! Fireline refuses loopback, link-local, private, shared (CGNAT), unspecified,
//! multicast, broadcast, documentation and reserved addresses unless the configuration's
//! `[outbound] allow` permits them, by category (`"loopback"`) or by range
//! (`"10.1.2.0/24"`).
//!
//! The check that matters runs at connection time on the addresses the name resolved to
//! ([`GuardedResolver`]), so a DNS answer pointing at `127.0.0.1`, or one that changes
//! between a check and the connection (rebinding), cannot get past it. [`check_literal`]
//! is a cheap early check for the roster API: it refuses URLs that name a refused
//! address or `localhost` outright, so an admin hears about it when saving the contact.
//!
//! The SMTP relay is not checked: it is the admin's own configuration, not user input.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// A kind of address that outbound requests refuse unless allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// `127.0.0.0/8`, `::1`: this machine.
    Loopback,
    /// `169.254.0.0/16`, `fe80::/10`: the local link, where cloud metadata services live.
    LinkLocal,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918) and `fc00::/7` (unique
    /// local).
    Private,
    /// `100.64.0.0/10`: carrier-grade NAT's shared address space (RFC 6598), used inside
    /// provider and Kubernetes networks.
    Cgnat,
    /// `0.0.0.0/8` and `::`: "this host" (connecting to `0.0.0.0` reaches loopback on
    /// Linux).
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`:
    /// examples in documentation, never real hosts.
    Documentation,
    /// Everything else set aside by IANA: `240.0.0.0/4`, `192.0.0.0/24`,
    /// `198.18.0.0/15` (benchmarking), `192.88.99.0/24` (6to4 relays), `::/96`
    /// (IPv4-compatible), `::ffff:0:0/96` (IPv4-translated), `100::/64` (discard),
    /// `2001::/23` (IETF protocols, Teredo), `64:ff9b:1::/48` (local NAT64), `fec0::/10`
    /// (deprecated site-local).
    Reserved,
}

impl Category {
    /// Every category, in the order the docs list them.
    pub const ALL: [Category; 9] = [
        Category::Loopback,
        Category::LinkLocal,
        Category::Private,
        Category::Cgnat,
        Category::Unspecified,
        Category::Multicast,
        Category::Broadcast,
        Category::Documentation,
        Category::Reserved,
    ];

    /// The name used in `[outbound] allow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Loopback => "loopback",
            Category::LinkLocal => "link_local",
            Category::Private => "private",
            Category::Cgnat => "cgnat",
            Category::Unspecified => "unspecified",
            Category::Multicast => "multicast",
            Category::Broadcast => "broadcast",
            Category::Documentation => "documentation",
            Category::Reserved => "reserved",
        }
    }

    /// Words for messages: "a link-local address".
    fn described(self) -> &'static str {
        match self {
            Category::Loopback => "a loopback address",
            Category::LinkLocal => "a link-local address (cloud metadata lives there)",
            Category::Private => "a private address",
            Category::Cgnat => "a shared (CGNAT) address",
            Category::Unspecified => "an unspecified address",
            Category::Multicast => "a multicast address",
            Category::Broadcast => "the broadcast address",
            Category::Documentation => "a documentation address",
            Category::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The category `ip` falls in, or `None` for an ordinary public address.
///
/// IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped
/// (`::ffff:127.0.0.1`, which the kernel connects to as `127.0.0.1`), NAT64
/// (`64:ff9b::/96`) and 6to4 (`2002::/16`), whose gateways forward to the IPv4 inside.
pub fn classify(ip: IpAddr) -> Option<Category> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Category> {
    let [a, b, c, _] = ip.octets();
    let category = match (a, b, c) {
        (127, _, _) => Category::Loopback,
        (169, 254, _) => Category::LinkLocal,
        (10, _, _) | (192, 168, _) => Category::Private,
        (172, 16..=31, _) => Category::Private,
        (100, 64..=127, _) => Category::Cgnat,
        (0, _, _) => Category::Unspecified,
        (224..=239, _, _) => Category::Multicast,
        _ if ip == Ipv4Addr::BROADCAST => Category::Broadcast,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Category::Documentation,
        (240..=255, _, _) | (192, 0, 0) | (192, 88, 99) | (198, 18..=19, _) => Category::Reserved,
        _ => return None,
    };
    Some(category)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Category> {
    let s = ip.segments();
    let category = if ip == Ipv6Addr::LOCALHOST {
        Category::Loopback
    } else if ip.is_unspecified() {
        Category::Unspecified
    } else if s[0] & 0xffc0 == 0xfe80 {
        Category::LinkLocal
    } else if s[0] & 0xfe00 == 0xfc00 {
        Category::Private
    } else if s[0] & 0xff00 == 0xff00 {
        Category::Multicast
    } else if (s[0], s[1]) == (0x2001, 0x0db8) || s[0] & 0xfff0 == 0x3ff0 {
        Category::Documentation
    } else if s[..6] == [0; 6]
        || s[..6] == [0, 0, 0, 0, 0xffff, 0]
        || s[..4] == [0x0100, 0, 0, 0]
        || s[0] == 0x2001 && s[1] < 0x0200
        || s[..3] == [0x64, 0xff9b, 1]
        // The deprecated site-local fec0::/10 still routes internally on some networks.
        || s[0] & 0xffc0 == 0xfec0
    {
        // ::/96 here is IPv4-compatible (:: and ::1 were caught above);
        // ::ffff:0:0/96 is IPv4-translated (RFC 2765).
        Category::Reserved
    } else {
        return None;
    };
    Some(category)
}

/// The IPv4 address an IPv6 address stands for, where the network delivers it there:
/// IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::/48`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(from(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(from(s[1], s[2]))
    } else {
        None
    }
}

/// An address range from `[outbound] allow`, such as `10.1.2.0/24` or `fd00:ec2::/32`.
/// A bare address is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range. An IPv4 range also holds the IPv6 forms that stand
    /// for its addresses (IPv4-mapped, NAT64, 6to4), as [`classify`] judges them so.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => embedded_v4(v6).map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = AllowError;

    fn from_str(text: &str) -> Result<Cidr, AllowError> {
        let invalid = |reason: String| AllowError::InvalidRange {
            entry: text.to_owned(),
            reason,
        };
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| invalid(format!("`{address}` is not an IP address")))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| invalid(format!("the prefix length must be 0 to {max}")))?,
        };
        let cidr = Cidr { network, prefix };
        // Host bits set usually mean a typo ("10.1.2.3/8"): say what the range would be
        // rather than widen or narrow it silently.
        let masked = match network {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        };
        if masked != network {
            return Err(invalid(format!(
                "host bits are set; did you mean {masked}/{prefix}?"
            )));
        }
        Ok(cidr)
    }
}

/// An `[outbound] allow` entry the configuration cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowError {
    /// Neither a category name nor an address range.
    #[error(
        "unknown [outbound] allow entry {0:?}: expected loopback, link_local, private, cgnat, \
         unspecified, multicast, broadcast, documentation, reserved, or a range such as \
         10.1.2.0/24"
    )]
    Unknown(String),
    /// Looks like a range but is not a valid one.
    #[error("invalid [outbound] allow range {entry:?}: {reason}")]
    InvalidRange {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What `[outbound] allow` permits beyond public addresses. The default permits nothing
/// of the refused categories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allow {
    categories: BTreeSet<Category>,
    ranges: Vec<Cidr>,
}

impl Allow {
    /// Allows nothing beyond public addresses: the default.
    pub fn nothing() -> Allow {
        Allow::default()
    }

    /// Also allows `category`.
    pub fn with(mut self, category: Category) -> Allow {
        self.categories.insert(category);
        self
    }

    /// Also allows `range`.
    pub fn with_range(mut self, range: Cidr) -> Allow {
        self.ranges.push(range);
        self
    }

    /// Reads configuration entries: category names (`"loopback"`, `"link_local"` or
    /// `"link-local"`, …, case-insensitive) and ranges (`"10.1.2.0/24"`, `"fd00::/8"`, a
    /// bare address). Blank entries are skipped.
    pub fn parse<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Allow, AllowError> {
        let mut allow = Allow::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let name = entry.to_ascii_lowercase().replace('-', "_");
            if let Some(category) = Category::ALL.into_iter().find(|c| c.as_str() == name) {
                allow.categories.insert(category);
            } else if entry.contains(['.', ':']) {
                allow.ranges.push(entry.parse()?);
            } else {
                return Err(AllowError::Unknown(entry.to_owned()));
            }
        }
        Ok(allow)
    }

    /// The entries in configuration syntax, categories first: for `config show`.
    pub fn entries(&self) -> Vec<String> {
        self.categories
            .iter()
            .map(|c| c.as_str().to_owned())
            .chain(self.ranges.iter().map(Cidr::to_string))
            .collect()
    }

    /// Whether this allows nothing beyond public addresses.
    pub fn is_nothing(&self) -> bool {
        self.categories.is_empty() && self.ranges.is_empty()
    }

    /// `Ok` if a request may connect to `ip`; otherwise the category that refuses it.
    pub fn check(&self, ip: IpAddr) -> Result<(), Category> {
        match classify(ip) {
            None => Ok(()),
            Some(category)
                if self.categories.contains(&category)
                    || self.ranges.iter().any(|r| r.contains(ip)) =>
            {
                Ok(())
            }
            Some(category) => Err(category),
        }
    }
}

/// Why an outbound request was refused. Names the host, never the URL's path or query
/// (webhook URLs are credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The host is, or resolved to, an address the configuration does not allow.
    #[error(
        "{host}{} is {}: refused, as [outbound] allow lists neither \"{category}\" nor a \
         range that holds it",
        resolved_to(.host, .ip),
        .category.described()
    )]
    Address {
        /// The URL's host, as written (brackets stripped from IPv6).
        host: String,
        /// The address refused.
        ip: IpAddr,
        /// Why it is refused.
        category: Category,
    },
    /// The host is `localhost` or a name under `.localhost` (RFC 6761), which always
    /// means this machine.
    #[error("{0} names this machine: refused, as [outbound] allow does not list \"loopback\"")]
    Localhost(String),
    /// Not an `http://` or `https://` URL with a host.
    #[error("not an http(s) URL with a host")]
    NotHttp,
}

fn resolved_to(host: &str, ip: &IpAddr) -> String {
    if host.parse::<IpAddr>().is_ok() {
        String::new()
    } else {
        format!(" resolves to {ip}, which")
    }
}

/// The write-time check for a contact's URL: refuses a URL that is not `http(s)`, whose
/// host is a literal address the configuration does not allow (in any spelling the
/// resolver accepts, such as `2130706433` or `0x7f.1` for `127.0.0.1`), or `localhost`.
///
/// Host names are not resolved here (DNS answers change; the connection-time check
/// holds whatever they say), so passing this check does not mean delivery will connect.
pub fn check_literal(url: &str, allow: &Allow) -> Result<(), Refused> {
    let uri: ureq::http::Uri = url.trim().parse().map_err(|_| Refused::NotHttp)?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    if !matches!(scheme.as_deref(), Some("http" | "https")) {
        return Err(Refused::NotHttp);
    }
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or(Refused::NotHttp)?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    // An IPv6 zone (`fe80::1%25eth0`) picks an interface; the address is what is judged.
    let address = if host.starts_with('[') {
        bare.split('%').next().unwrap_or(bare)
    } else {
        bare
    };
    let ip = match address.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => loose_ipv4(address).map(IpAddr::V4),
    };
    if let Some(ip) = ip {
        return allow.check(ip).map_err(|category| Refused::Address {
            host: bare.to_owned(),
            ip,
            category,
        });
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    if (name == "localhost" || name.ends_with(".localhost"))
        && !allow.categories.contains(&Category::Loopback)
    {
        return Err(Refused::Localhost(bare.to_owned()));
    }
    Ok(())
}

/// IPv4 in the spellings `inet_aton` (and so `getaddrinfo`) also accepts: one to four
/// parts, each decimal, octal (leading `0`) or hex (`0x`), the last filling the
/// remaining bytes: `2130706433`, `127.1`, `0x7f.0.0.1`, `0177.0.0.1`.
fn loose_ipv4(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for part in &parts {
        let lower = part.to_ascii_lowercase();
        let number = if let Some(hex) = lower.strip_prefix("0x") {
            if hex.is_empty() {
                0
            } else {
                u32::from_str_radix(hex, 16).ok()?
            }
        } else if lower.len() > 1 && lower.starts_with('0') {
            u32::from_str_radix(&lower[1..], 8).ok()?
        } else {
            if lower.is_empty() || !lower.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            lower.parse::<u32>().ok()?
        };
        numbers.push(number);
    }
    let (last, leading) = numbers.split_last()?;
    let mut value: u32 = 0;
    for (i, n) in leading.iter().enumerate() {
        if *n > 255 {
            return None;
        }
        value |= n << (24 - 8 * i);
    }
    let room = 32 - 8 * leading.len() as u32;
    if room < 32 && u64::from(*last) >= 1u64 << room {
        return None;
    }
    Some(Ipv4Addr::from(value | last))
}

/// A [`Resolver`] that resolves as ureq does, then refuses the request if any address
/// the name resolved to is not allowed. The connector connects only to the addresses a
/// resolver returns, so this checks exactly what will be connected to, after DNS.
///
/// Refusing when *any* answer is refused, rather than dropping those answers, makes a
/// name that points inward (a typo, split-horizon DNS, or rebinding) fail the same way
/// every time, with a message that says so.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    allow: Arc<Allow>,
    inner: Arc<DefaultResolver>,
}

impl GuardedResolver {
    /// Resolves with ureq's default resolver, allowing what `allow` allows.
    pub fn new(allow: Allow) -> GuardedResolver {
        GuardedResolver {
            allow: Arc::new(allow),
            inner: Arc::default(),
        }
    }
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = self.inner.resolve(uri, config, timeout)?;
        for address in addresses.iter() {
            if let Err(category) = self.allow.check(address.ip()) {
                let host = uri.host().unwrap_or_default();
                let host = host.trim_start_matches('[').trim_end_matches(']');
                return Err(ureq::Error::Other(Box::new(Refused::Address {
                    host: host.to_owned(),
                    ip: address.ip(),
                    category,
                })));
            }
        }
        Ok(addresses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn every_refused_range_is_classified() {
        let cases = [
            ("127.0.0.1", Category::Loopback),
            ("127.255.255.254", Category::Loopback),
            ("::1", Category::Loopback),
            ("169.254.169.254", Category::LinkLocal),
            ("169.254.0.1", Category::LinkLocal),
            ("fe80::1", Category::LinkLocal),
            ("febf:ffff::1", Category::LinkLocal),
            ("10.0.0.1", Category::Private),
            ("10.255.255.255", Category::Private),
            ("172.16.0.1", Category::Private),
            ("172.31.255.255", Category::Private),
            ("192.168.1.1", Category::Private),
            ("fc00::1", Category::Private),
            ("fd00:ec2::254", Category::Private),
            ("100.64.0.1", Category::Cgnat),
            ("100.127.255.255", Category::Cgnat),
            ("0.0.0.0", Category::Unspecified),
            ("0.1.2.3", Category::Unspecified),
            ("::", Category::Unspecified),
            ("224.0.0.1", Category::Multicast),
            ("239.255.255.250", Category::Multicast),
            ("ff02::1", Category::Multicast),
            ("255.255.255.255", Category::Broadcast),
            ("192.0.2.1", Category::Documentation),
            ("198.51.100.7", Category::Documentation),
            ("203.0.113.9", Category::Documentation),
            ("2001:db8::1", Category::Documentation),
            ("3fff::1", Category::Documentation),
            ("240.0.0.1", Category::Reserved),
            ("192.0.0.8", Category::Reserved),
            ("192.88.99.1", Category::Reserved),
            ("198.18.0.1", Category::Reserved),
            ("198.19.255.255", Category::Reserved),
            ("::7f00:1", Category::Reserved),
            ("::ffff:0:7f00:1", Category::Reserved),
            ("100::1", Category::Reserved),
            ("2001::1", Category::Reserved),
            ("2001:2::1", Category::Reserved),
            ("64:ff9b:1::a", Category::Reserved),
            ("fec0::1", Category::Reserved),
        ];
        for (text, category) in cases {
            assert_eq!(classify(ip(text)), Some(category), "{text}");
        }
    }

    #[test]
    fn public_addresses_and_range_edges_pass() {
        for text in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "223.255.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "2001:200::1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(classify(ip(text)), None, "{text}");
        }
    }

    #[test]
    fn ipv6_forms_of_ipv4_are_judged_by_the_ipv4_inside() {
        for (text, category) in [
            ("::ffff:127.0.0.1", Category::Loopback),
            ("::ffff:169.254.169.254", Category::LinkLocal),
            ("::ffff:10.0.0.1", Category::Private),
            ("::ffff:172.16.0.1", Category::Private),
            ("::ffff:192.168.0.1", Category::Private),
            ("::ffff:100.64.0.1", Category::Cgnat),
            ("::ffff:0.0.0.0", Category::Unspecified),
            ("::ffff:224.0.0.1", Category::Multicast),
            ("::ffff:255.255.255.255", Category::Broadcast),
            ("::ffff:192.0.2.1", Category::Documentation),
            ("::ffff:240.0.0.1", Category::Reserved),
            ("64:ff9b::a9fe:a9fe", Category::LinkLocal),
            ("64:ff9b::7f00:1", Category::Loopback),
            ("2002:a9fe:a9fe::", Category::LinkLocal),
            ("2002:0a00:0001::1", Category::Private),
        ] {
            assert_eq!(classify(ip(text)), Some(category), "{text}");
        }
    }

    #[test]
    fn webhook_to_metadata_address_is_refused() {
        let allow = Allow::nothing();
        assert_eq!(allow.check(ip("169.254.169.254")), Err(Category::LinkLocal));
        assert_eq!(
            allow.check(ip("::ffff:169.254.169.254")),
            Err(Category::LinkLocal)
        );
        assert_eq!(allow.check(ip("fd00:ec2::254")), Err(Category::Private));
        let refused = check_literal("http://169.254.169.254/latest/meta-data/?x=1", &allow);
        let Err(refused) = refused else {
            panic!("{refused:?}")
        };
        let text = refused.to_string();
        assert!(text.contains("169.254.169.254"), "{text}");
        assert!(text.contains("link-local"), "{text}");
        assert!(
            !text.contains("meta-data") && !text.contains("x=1"),
            "{text}"
        );
    }

    #[test]
    fn categories_allow_only_themselves() {
        let allow = Allow::parse(["loopback", "Link-Local"]).unwrap_or_default();
        assert_eq!(allow.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(allow.check(ip("::1")), Ok(()));
        assert_eq!(allow.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(allow.check(ip("169.254.169.254")), Ok(()));
        assert_eq!(allow.check(ip("10.0.0.1")), Err(Category::Private));
        assert_eq!(allow.check(ip("0.0.0.0")), Err(Category::Unspecified));
        assert_eq!(allow.check(ip("8.8.8.8")), Ok(()));
        for category in Category::ALL {
            let allow = Allow::nothing().with(category);
            for other in Category::ALL.into_iter().filter(|c| *c != category) {
                assert!(!allow.categories.contains(&other));
            }
            assert_eq!(Allow::parse([category.as_str()]), Ok(allow));
        }
    }

    #[test]
    fn cidr_entries_allow_their_range_only() {
        let allow = Allow::parse(["10.1.2.0/24", "fd00:1::/32", "192.168.7.7"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(allow.check(ip("10.1.2.0")), Ok(()));
        assert_eq!(allow.check(ip("10.1.2.255")), Ok(()));
        assert_eq!(allow.check(ip("::ffff:10.1.2.3")), Ok(()));
        assert_eq!(allow.check(ip("10.1.3.0")), Err(Category::Private));
        assert_eq!(allow.check(ip("10.1.1.255")), Err(Category::Private));
        assert_eq!(allow.check(ip("fd00:1:ffff::1")), Ok(()));
        assert_eq!(allow.check(ip("fd00:2::1")), Err(Category::Private));
        assert_eq!(allow.check(ip("192.168.7.7")), Ok(()));
        assert_eq!(allow.check(ip("192.168.7.8")), Err(Category::Private));
        // An IPv4 range never matches unrelated IPv6 addresses, nor the reverse.
        assert_eq!(allow.check(ip("fe80::1")), Err(Category::LinkLocal));
        assert_eq!(
            allow.entries(),
            ["10.1.2.0/24", "fd00:1::/32", "192.168.7.7/32"]
        );
        let everything = Allow::parse(["0.0.0.0/0", "::/0"]).unwrap_or_default();
        assert_eq!(everything.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(everything.check(ip("fe80::1")), Ok(()));
    }

    #[test]
    fn bad_allow_entries_are_refused_with_a_reason() {
        assert_eq!(
            Allow::parse(["loopbak"]),
            Err(AllowError::Unknown("loopbak".into()))
        );
        for (entry, needle) in [
            ("10.1.2.3/8", "did you mean 10.0.0.0/8"),
            ("10.0.0.0/33", "0 to 32"),
            ("fd00::/129", "0 to 128"),
            ("10.0.0.0/x", "0 to 32"),
            ("10.0.0/8", "not an IP address"),
        ] {
            match Allow::parse([entry]) {
                Err(e @ AllowError::InvalidRange { .. }) => {
                    assert!(e.to_string().contains(needle), "{entry}: {e}")
                }
                other => panic!("{entry}: {other:?}"),
            }
        }
        assert_eq!(Allow::parse(["", "  "]), Ok(Allow::nothing()));
    }

    #[test]
    fn literal_urls_are_checked_without_resolving() {
        let nothing = Allow::nothing();
        for url in [
            "http://127.0.0.1:8080/hook",
            "https://[::1]/x",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://0.0.0.0/",
            "http://2130706433/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://10.0.0.5/",
            "http://[fe80::1%25eth0]/",
            "http://user:pw@192.168.0.1/",
        ] {
            let result = check_literal(url, &nothing);
            assert!(
                matches!(result, Err(Refused::Address { .. })),
                "{url}: {result:?}"
            );
        }
        for url in [
            "http://localhost:9000/x",
            "https://LOCALHOST./",
            "http://a.b.localhost/",
        ] {
            assert!(
                matches!(check_literal(url, &nothing), Err(Refused::Localhost(_))),
                "{url}"
            );
        }
        for url in [
            "ftp://example.com/",
            "hooks.slack.com/x",
            "https://",
            "file:///etc/passwd",
        ] {
            assert_eq!(check_literal(url, &nothing), Err(Refused::NotHttp), "{url}");
        }
        for url in [
            "https://hooks.slack.com/services/T/B/X",
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/",
            // Names are resolved only when connecting.
            "https://internal.example/",
            "https://localhost.example.com/",
            "https://1.2.3.4.nip.io/",
        ] {
            assert_eq!(check_literal(url, &nothing), Ok(()), "{url}");
        }
        let loopback = Allow::nothing().with(Category::Loopback);
        assert_eq!(check_literal("http://localhost:9000/", &loopback), Ok(()));
        assert_eq!(check_literal("http://127.0.0.1:9000/", &loopback), Ok(()));
        assert!(check_literal("http://10.0.0.1/", &loopback).is_err());
    }

    #[test]
    fn refusals_name_the_host_never_the_path_or_query() {
        let refused = check_literal(
            "http://user:pw@10.0.0.5:8443/hooks/SECRET?token=abc",
            &Allow::nothing(),
        );
        let text = refused.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(text.contains("10.0.0.5"), "{text}");
        assert!(text.contains("\"private\""), "{text}");
        for secret in ["SECRET", "token", "abc", "pw", "hooks"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let resolved = Refused::Address {
            host: "hooks.example.com".into(),
            ip: ip("127.0.0.1"),
            category: Category::Loopback,
        };
        assert_eq!(
            resolved.to_string(),
            "hooks.example.com resolves to 127.0.0.1, which is a loopback address: refused, \
             as [outbound] allow lists neither \"loopback\" nor a range that holds it"
        );
    }

    #[test]
    fn loose_ipv4_spellings() {
        for (text, want) in [
            ("2130706433", Some("127.0.0.1")),
            ("127.1", Some("127.0.0.1")),
            ("127.0.1", Some("127.0.0.1")),
            ("0x7f.1", Some("127.0.0.1")),
            ("0x7f000001", Some("127.0.0.1")),
            ("0177.0.0.1", Some("127.0.0.1")),
            ("169.254.43518", Some("169.254.169.254")),
            ("10.0.0.1", Some("10.0.0.1")),
            ("256.1", None),
            ("1.2.3.4.5", None),
            ("4294967296", None),
            ("example.com", None),
            ("08.1.1.1", None),
            ("", None),
        ] {
            assert_eq!(
                loose_ipv4(text),
                want.map(|w| w.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)),
                "{text}"
            );
        }
    }
}
