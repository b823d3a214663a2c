//! The per-caller rate limit on tool calls (`RATE_LIMIT_PER_MINUTE`, `RATE_LIMIT_BURST`):
//! what keeps one caller, signed in or not, from spending the upstream API's quota for
//! everyone. A caller is its token's subject; without one, its client address (an IPv6
//! address by its /56, what one home or small site is usually given: a /64 each would let
//! one /48, free from tunnel brokers, pose as 65,536 callers). Beyond the limit a call is answered
//! HTTP 429 with `Retry-After` before anything else is done for it.
//!
//! The limiter is governor's GCRA, one cell per caller, over a table of callers that is
//! bounded: callers whose bucket has refilled are forgotten, and while the table is full of
//! recent callers, new ones share one overflow bucket. Filling the table thus neither grows
//! memory nor lifts anybody's limit.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderName;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};

use crate::auth::Principal;
use crate::config::RateLimitSettings;

/// Callers remembered at once: tens of bytes each, so a few MB at most.
pub const MAX_CALLERS: usize = 100_000;
/// A full table is swept at most this often, so a flood of new callers costs no more than
/// one scan of it per interval.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// The address a connection came from, put in each request's extensions by the listener.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Who a call is counted against. A subject is kept as a keyed hash: the table holds no
/// user ids, and every key has the same small size whatever the token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallerKey {
    Subject(u64),
    Address(IpAddr),
}

pub struct RateLimit {
    limiter: RateLimiter<CallerKey, Callers, DefaultClock>,
    clock: DefaultClock,
    hasher: RandomState,
    client_ip_header: Option<HeaderName>,
}

impl RateLimit {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self::with_capacity(settings, MAX_CALLERS)
    }

    fn with_capacity(settings: &RateLimitSettings, capacity: usize) -> Self {
        // Settings are checked to be from 1 up at startup.
        let per_minute = NonZeroU32::new(settings.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let clock = DefaultClock::default();
        let callers = Callers {
            table: Mutex::new(Table::default()),
            capacity,
            start: Instant::now(),
            interval: quota.replenish_interval(),
        };
        Self {
            limiter: RateLimiter::new(quota, callers, clock.clone()),
            clock,
            hasher: RandomState::new(),
            client_ip_header: settings.client_ip_header.clone(),
        }
    }

    /// Who the request is from: the verified token's subject, else the client's address.
    pub fn caller(&self, principal: Option<&Principal>, parts: &Parts) -> CallerKey {
        if let Some(subject) = principal.and_then(|p| p.subject.as_deref()) {
            return CallerKey::Subject(self.hasher.hash_one(subject));
        }
        let forwarded = self
            .client_ip_header
            .as_ref()
            .and_then(|name| parts.headers.get_all(name).iter().next_back())
            .and_then(|value| value.to_str().ok())
            .and_then(last_address);
        let address = forwarded
            .or_else(|| parts.extensions.get::<ClientAddr>().map(|c| c.0.ip()))
            .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        CallerKey::Address(host_part(address))
    }

    /// `Err` is how long the caller should wait before its next call.
    pub fn check(&self, caller: &CallerKey) -> Result<(), Duration> {
        self.limiter
            .check_key(caller)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// governor's keyed state (each caller's theoretical arrival time, in nanoseconds since the
/// limiter started), with a bounded number of callers.
struct Callers {
    table: Mutex<Table>,
    capacity: usize,
    /// Taken just before the limiter's own start, so ages measured from it are never less
    /// than the limiter's.
    start: Instant,
    /// The time one call's cell takes to refill.
    interval: Duration,
}

#[derive(Default)]
struct Table {
    callers: HashMap<CallerKey, u64>,
    /// The bucket new callers share while `callers` is full.
    overflow: Option<u64>,
    last_sweep: Option<Instant>,
}

impl StateStore for Callers {
    type Key = CallerKey;

    fn measure_and_replace<T, F, E>(&self, key: &CallerKey, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let held = table.callers.get(key).copied();
        if held.is_none() && table.callers.len() >= self.capacity && !self.make_room(&mut table) {
            let (outcome, arrival) = f(table.overflow.map(Nanos::from))?;
            table.overflow = Some(arrival.into());
            return Ok(outcome);
        }
        let (outcome, arrival) = f(held.map(Nanos::from))?;
        table.callers.insert(*key, arrival.into());
        Ok(outcome)
    }
}

impl Callers {
    /// Forgets the callers whose bucket is full again, so indistinguishable from new ones
    /// (governor's `retain_recent` rule, with a millisecond to spare); whether there is room
    /// now. Sweeps at most once per [`SWEEP_INTERVAL`].
    fn make_room(&self, table: &mut Table) -> bool {
        if table
            .last_sweep
            .is_some_and(|at| at.elapsed() < SWEEP_INTERVAL)
        {
            return false;
        }
        table.last_sweep = Some(Instant::now());
        let age = self.start.elapsed();
        let refilled = age.saturating_sub(self.interval + Duration::from_millis(1));
        let refilled = u64::try_from(refilled.as_nanos()).unwrap_or(u64::MAX);
        table.callers.retain(|_, arrival| *arrival > refilled);
        if table.callers.len() < self.capacity {
            return true;
        }
        tracing::warn!(
            callers = self.capacity,
            "the rate limit's table is full of recent callers; new callers share one bucket"
        );
        false
    }
}

/// The last address of a list such as `X-Forwarded-For` (`client, proxy1, proxy2`): the one
/// the proxy in front of this server appended; those before it are the client's to claim.
fn last_address(value: &str) -> Option<IpAddr> {
    let last = value.rsplit(',').next()?.trim();
    // `Forwarded`-style and bracketed IPv6 forms are left to the peer address.
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// IPv4 addresses as they are; IPv6 by their /56 (and IPv4-mapped ones as IPv4).
fn host_part(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ff00_0000_0000_0000_0000,
            )),
        },
    }
}

/// Seconds for `Retry-After`: whole, at least one.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use std::collections::BTreeSet;

    fn settings(per_minute: u32, burst: u32, header: Option<&str>) -> RateLimitSettings {
        RateLimitSettings {
            per_minute,
            burst,
            client_ip_header: header.map(|h| HeaderName::try_from(h).unwrap()),
        }
    }

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::post("/mcp");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ClientAddr(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    fn principal(subject: Option<&str>) -> Principal {
        Principal {
            subject: subject.map(str::to_owned),
            scopes: BTreeSet::new(),
        }
    }

    #[test]
    fn callers_are_subjects_else_addresses() {
        let limit = RateLimit::new(&settings(60, 1, None));
        let from = parts("10.0.0.1:5000", &[("x-forwarded-for", "9.9.9.9")]);
        let alice = limit.caller(Some(&principal(Some("alice"))), &from);
        assert!(matches!(alice, CallerKey::Subject(_)));
        assert_eq!(
            alice,
            limit.caller(Some(&principal(Some("alice"))), &parts("10.0.0.2:1", &[]))
        );
        assert_ne!(alice, limit.caller(Some(&principal(Some("bob"))), &from));
        // No subject, no token: the peer; the header counts only when configured.
        let peer = CallerKey::Address("10.0.0.1".parse().unwrap());
        assert_eq!(limit.caller(Some(&principal(None)), &from), peer);
        assert_eq!(limit.caller(None, &from), peer);
        // One IPv6 site (its /56) is one caller; IPv4-mapped is IPv4.
        assert_eq!(
            limit.caller(None, &parts("[2001:db8:1:2:aaaa::1]:1", &[])),
            limit.caller(None, &parts("[2001:db8:1:ff:bbbb::9]:1", &[]))
        );
        assert_ne!(
            limit.caller(None, &parts("[2001:db8:1:2::1]:1", &[])),
            limit.caller(None, &parts("[2001:db8:1:102::1]:1", &[]))
        );
        assert_eq!(limit.caller(None, &parts("[::ffff:10.0.0.1]:1", &[])), peer);
    }

    #[test]
    fn the_proxy_header_counts_its_last_entry_only() {
        let limit = RateLimit::new(&settings(60, 1, Some("x-forwarded-for")));
        let address = |ip: &str| CallerKey::Address(ip.parse().unwrap());
        // The client may write anything before the entry the proxy appends.
        let spoofed = parts("10.0.0.1:1", &[("x-forwarded-for", "1.1.1.1, 203.0.113.7")]);
        assert_eq!(limit.caller(None, &spoofed), address("203.0.113.7"));
        let two_headers = parts(
            "10.0.0.1:1",
            &[
                ("x-forwarded-for", "1.1.1.1"),
                ("x-forwarded-for", "203.0.113.8"),
            ],
        );
        assert_eq!(limit.caller(None, &two_headers), address("203.0.113.8"));
        // Unreadable: the peer address, never a shared bucket for everyone.
        let garbage = parts("10.0.0.1:1", &[("x-forwarded-for", "unknown")]);
        assert_eq!(limit.caller(None, &garbage), address("10.0.0.1"));
        let missing = parts("10.0.0.2:1", &[]);
        assert_eq!(limit.caller(None, &missing), address("10.0.0.2"));
    }

    #[test]
    fn a_caller_over_its_burst_waits_while_others_go_on() {
        let limit = RateLimit::new(&settings(60, 3, None));
        let a = CallerKey::Subject(1);
        let b = CallerKey::Subject(2);
        for _ in 0..3 {
            assert_eq!(limit.check(&a), Ok(()));
        }
        let wait = limit.check(&a).unwrap_err();
        assert!(
            wait > Duration::from_millis(900) && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(retry_after_secs(wait), 1);
        assert_eq!(limit.check(&b), Ok(()));
    }

    #[test]
    fn the_table_of_callers_is_bounded() {
        let limit = RateLimit::with_capacity(&settings(1, 2, None), 100);
        for n in 0..100u64 {
            assert_eq!(limit.check(&CallerKey::Subject(n)), Ok(()));
        }
        // Full of callers still refilling: new ones share one bucket of two calls.
        assert_eq!(limit.check(&CallerKey::Subject(100)), Ok(()));
        assert_eq!(limit.check(&CallerKey::Subject(101)), Ok(()));
        for n in 102..1_000u64 {
            assert!(limit.check(&CallerKey::Subject(n)).is_err(), "{n}");
        }
        let table = limit.limiter.into_state_store().table.into_inner().unwrap();
        assert_eq!(table.callers.len(), 100);
    }

    #[test]
    fn refilled_callers_make_room() {
        let settings = settings(60_000, 1, None);
        let limit = RateLimit::with_capacity(&settings, 10);
        for n in 0..10u64 {
            assert_eq!(limit.check(&CallerKey::Subject(n)), Ok(()));
        }
        // One call refills in a millisecond at 60,000 a minute.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(limit.check(&CallerKey::Subject(10)), Ok(()));
        assert_eq!(
            limit.check(&CallerKey::Subject(10)).map_err(|_| ()),
            Err(())
        );
        assert_eq!(limit.check(&CallerKey::Subject(11)), Ok(()));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2_001)), 3);
    }
}
