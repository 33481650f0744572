//! A hand-built [`Behaviours`]: a fixed table from addresses (and SNI names) to hosts, for
//! tests that need a handful of exactly specified hosts rather than a procedural world.
//!
//! Unknown addresses behave like addresses with no service: SMTP [`SmtpScript::Reset`] and
//! HTTPS [`HttpsSite::Reset`].

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::behaviour::{Behaviours, HttpsSite, SmtpHost, SmtpScript};

/// A fixed table of SMTP hosts and HTTPS sites.
#[derive(Debug, Clone, Default)]
pub struct BehaviourTable {
    smtp: HashMap<Ipv4Addr, SmtpHost>,
    /// Site per (address, lower-cased SNI); `None`: the site for any (or no) SNI.
    https: HashMap<(Ipv4Addr, Option<String>), HttpsSite>,
}

impl BehaviourTable {
    /// An empty table.
    pub fn new() -> BehaviourTable {
        BehaviourTable::default()
    }

    /// Put `host` at `ip`.
    pub fn smtp(mut self, ip: Ipv4Addr, host: SmtpHost) -> BehaviourTable {
        self.smtp.insert(ip, host);
        self
    }

    /// Put a host with no latency playing `script` at `ip`.
    pub fn smtp_script(self, ip: Ipv4Addr, script: SmtpScript) -> BehaviourTable {
        let host = SmtpHost {
            rtt: Duration::ZERO,
            greet_delay: Duration::ZERO,
            script,
        };
        self.smtp(ip, host)
    }

    /// Serve `site` at `ip` whatever SNI the client sends (unless a per-name site matches).
    pub fn https(mut self, ip: Ipv4Addr, site: HttpsSite) -> BehaviourTable {
        self.https.insert((ip, None), site);
        self
    }

    /// Serve `site` at `ip` to clients that send SNI `name`.
    pub fn https_named(mut self, ip: Ipv4Addr, name: &str, site: HttpsSite) -> BehaviourTable {
        self.https
            .insert((ip, Some(name.to_ascii_lowercase())), site);
        self
    }
}

impl Behaviours for BehaviourTable {
    fn smtp_host(&self, local: Ipv4Addr) -> SmtpHost {
        self.smtp.get(&local).cloned().unwrap_or(SmtpHost {
            rtt: Duration::ZERO,
            greet_delay: Duration::ZERO,
            script: SmtpScript::Reset,
        })
    }

    fn https_site(&self, local: Ipv4Addr, sni: Option<&str>) -> HttpsSite {
        let named = sni.and_then(|n| self.https.get(&(local, Some(n.to_ascii_lowercase()))));
        let any = || self.https.get(&(local, None));
        match named.or_else(any) {
            Some(site) => site.clone(),
            // A site that exists only for some names: with no SNI yet, do not reset.
            None if sni.is_none() && self.https.keys().any(|(ip, _)| *ip == local) => self
                .https
                .iter()
                .find(|((ip, _), _)| *ip == local)
                .map(|(_, s)| s.clone())
                .unwrap_or(HttpsSite::Reset),
            None => HttpsSite::Reset,
        }
    }
}
