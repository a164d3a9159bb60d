//! The portal's address, parsed once and checked by one rule everywhere (the
//! configuration, `--portal`, `licensectl init`, the app's Settings, the keyring):
//!
//! - `https://` to any host;
//! - plain `http://` only when the host *is* this machine: a loopback IP literal
//!   (`127.0.0.0/8`, `::1`) or exactly `localhost`. Prefix tricks such as
//!   `http://127.0.0.1.nip.io` or `http://localhost.evil.example` name other hosts;
//! - never user-info (`http://127.0.0.1@attacker.example` has the host
//!   `attacker.example`), a query or a fragment.
//!
//! The normalised text (no trailing slash) is the one key under which a token is
//! stored and looked up, so "stored" and "found" can never disagree.

use crate::error::Error;
use reqwest::Url;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortalUrl {
    url: Url,
    text: String,
}

impl PortalUrl {
    pub fn parse(input: &str) -> Result<Self, Error> {
        let input = input.trim();
        let bad =
            |reason: &str| Error::BadPortalUrl { input: input.chars().take(200).collect(), reason: reason.to_string() };
        let url = Url::parse(input).map_err(|e| bad(&format!("it is not a URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "it contains a user name or password before '@'; the part after '@' would be the real host",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it has a query or fragment; give only the portal's address"));
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("it names no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(host) => {}
            "http" => {
                return Err(bad(
                    "plain http:// is allowed only to this machine (127.0.0.1, [::1] or localhost); use https://",
                ))
            }
            _ => return Err(bad("only https:// portals are supported")),
        }
        let text = url.as_str().trim_end_matches('/').to_string();
        Ok(Self { url, text })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host is this machine: such a portal is never reached through a proxy.
    pub fn is_loopback(&self) -> bool {
        self.url.host_str().is_some_and(is_loopback_host)
    }

    /// `path` must start with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.text)
    }

    /// Same scheme, host and port: where a redirect may go with the token.
    pub fn same_origin(&self, other: &Url) -> bool {
        self.url.scheme() == other.scheme()
            && self.url.host_str() == other.host_str()
            && self.url.port_or_known_default() == other.port_or_known_default()
    }
}

fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    // `Url` keeps IPv6 hosts in brackets.
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for PortalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for PortalUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl serde::Serialize for PortalUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for PortalUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "ts")]
ts_as!([] PortalUrl => String);

#[cfg(test)]
mod tests {
    use super::PortalUrl;

    #[test]
    fn https_anywhere_and_plain_http_only_to_this_machine() {
        for ok in [
            "https://portal.example.com",
            "https://portal.example.com/",
            "https://portal.example.com:8443/base",
            "http://127.0.0.1:8787",
            "http://127.1.2.3",
            "http://localhost:8787/",
            "http://localhost",
            "http://[::1]:8787",
            "  http://127.0.0.1:8787/  ",
        ] {
            assert!(PortalUrl::parse(ok).is_ok(), "{ok} must be accepted");
        }
        // Each of these sends the token in clear to another host, or is not a portal address.
        for bad in [
            "http://127.0.0.1@portal.attacker.example:8080",
            "https://user:pw@portal.example.com",
            "http://127.0.0.1.nip.io",
            "http://localhost.evil.example",
            "http://localhost:8787@evil.example",
            "http://[::1].evil.example",
            "http://portal.example.com",
            "http://10.0.0.1",
            "ftp://portal.example.com",
            "file:///etc/passwd",
            "https://portal.example.com/?next=x",
            "https://portal.example.com/#x",
            "portal.example.com",
            "",
        ] {
            let e = PortalUrl::parse(bad).expect_err(bad);
            assert_eq!(e.code(), "bad_portal_url", "{bad}");
        }
    }

    #[test]
    fn one_normal_form_for_the_keyring() {
        let a = PortalUrl::parse("http://127.0.0.1:8787/").unwrap();
        let b = PortalUrl::parse("HTTP://127.0.0.1:8787").unwrap();
        assert_eq!(a.as_str(), "http://127.0.0.1:8787");
        assert_eq!(a, b);
        assert!(a.is_loopback());
        assert!(!PortalUrl::parse("https://portal.example.com").unwrap().is_loopback());
    }
}
