//! Failed-login throttling, per client address and per user name.
//!
//! Each key keeps the times of its recent failures; once it holds `max_failures` within
//! `window`, further attempts are refused until the oldest of them leaves the window.
//! The counters live in this process only: each API instance throttles on its own, so N
//! instances behind a balancer allow up to N times the limit. That still turns password
//! guessing from thousands of tries a minute into a handful.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failed logins a client address or a user name may have within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for LoginLimit {
    fn default() -> Self {
        LoginLimit {
            max_failures: 5,
            window: Duration::from_secs(5 * 60),
        }
    }
}

/// Most keys one table holds; beyond it the stalest are forgotten, so a flood of
/// made-up user names cannot grow memory without bound.
const MAX_KEYS: usize = 10_000;

/// The failure counters of one API instance.
#[derive(Debug)]
pub struct LoginLimiter {
    limit: LoginLimit,
    by_ip: Mutex<Failures<IpAddr>>,
    by_user: Mutex<Failures<String>>,
}

impl LoginLimiter {
    pub fn new(limit: LoginLimit) -> Self {
        LoginLimiter {
            limit,
            by_ip: Mutex::new(Failures::default()),
            by_user: Mutex::new(Failures::default()),
        }
    }

    /// `Err(retry_after)` when the address or the user name is over the limit at `now`.
    /// A missing address (no socket information) is throttled by user name only.
    pub fn check(&self, ip: Option<IpAddr>, username: &str, now: Instant) -> Result<(), Duration> {
        let by_ip = ip.and_then(|ip| lock(&self.by_ip).blocked(&ip, self.limit, now));
        let by_user = lock(&self.by_user).blocked(username, self.limit, now);
        match by_ip.into_iter().chain(by_user).max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Count a failed login against the address and the user name.
    pub fn record_failure(&self, ip: Option<IpAddr>, username: &str, now: Instant) {
        if let Some(ip) = ip {
            lock(&self.by_ip).add(ip, self.limit, now);
        }
        lock(&self.by_user).add(username.to_string(), self.limit, now);
    }

    /// A successful login clears the user name's failures. The address keeps its own:
    /// otherwise one known account would let a client guess others without limit.
    pub fn record_success(&self, username: &str) {
        lock(&self.by_user).keys.remove(username);
    }
}

/// The counters stay usable after a panic elsewhere: they hold no invariant a half-done
/// update could break.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug)]
struct Failures<K> {
    keys: HashMap<K, VecDeque<Instant>>,
}

impl<K> Default for Failures<K> {
    fn default() -> Self {
        Failures {
            keys: HashMap::new(),
        }
    }
}

/// Whether `at` is still inside the window that ends at `now`.
fn recent(at: Instant, limit: LoginLimit, now: Instant) -> bool {
    now.saturating_duration_since(at) < limit.window
}

impl<K: Hash + Eq + Clone> Failures<K> {
    fn blocked<Q>(&mut self, key: &Q, limit: LoginLimit, now: Instant) -> Option<Duration>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let times = self.keys.get_mut(key)?;
        times.retain(|at| recent(*at, limit, now));
        let max = usize::try_from(limit.max_failures).unwrap_or(usize::MAX);
        if times.len() < max {
            return None;
        }
        let oldest = times.front()?;
        Some(match oldest.checked_add(limit.window) {
            Some(free_at) => free_at.saturating_duration_since(now),
            None => limit.window,
        })
    }

    fn add(&mut self, key: K, limit: LoginLimit, now: Instant) {
        if self.keys.len() >= MAX_KEYS && !self.keys.contains_key(&key) {
            self.keys
                .retain(|_, times| times.back().is_some_and(|at| recent(*at, limit, now)));
            if self.keys.len() >= MAX_KEYS {
                self.forget_stalest();
            }
        }
        let times = self.keys.entry(key).or_default();
        times.retain(|at| recent(*at, limit, now));
        times.push_back(now);
        // more than the limit tells nothing more; keep memory per key bounded
        let max = usize::try_from(limit.max_failures)
            .unwrap_or(usize::MAX)
            .max(1);
        while times.len() > max {
            times.pop_front();
        }
    }

    fn forget_stalest(&mut self) {
        let stalest = self
            .keys
            .iter()
            .min_by_key(|(_, times)| times.back().copied())
            .map(|(k, _)| k.clone());
        if let Some(key) = stalest {
            self.keys.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: LoginLimit = LoginLimit {
        max_failures: 3,
        window: Duration::from_secs(60),
    };

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_user_name_is_blocked_after_max_failures_until_the_oldest_leaves_the_window() {
        let limiter = LoginLimiter::new(LIMIT);
        let t0 = Instant::now();
        for n in 0..3u8 {
            assert!(limiter.check(ip(n), "alice", t0).is_ok());
            limiter.record_failure(ip(n), "alice", t0 + Duration::from_secs(u64::from(n)));
        }
        let at = t0 + Duration::from_secs(10);
        let wait = limiter.check(ip(9), "alice", at).expect_err("blocked");
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            limiter.check(ip(9), "bob", at).is_ok(),
            "other names are free"
        );
        assert!(
            limiter
                .check(ip(9), "alice", t0 + Duration::from_secs(60))
                .is_ok(),
            "the first failure has left the window"
        );
    }

    #[test]
    fn an_address_is_blocked_whatever_user_names_it_tries() {
        let limiter = LoginLimiter::new(LIMIT);
        let t0 = Instant::now();
        for name in ["a", "b", "c"] {
            limiter.record_failure(ip(1), name, t0);
        }
        assert!(limiter.check(ip(1), "d", t0).is_err());
        assert!(limiter.check(ip(2), "d", t0).is_ok());
        assert!(
            limiter.check(None, "d", t0).is_ok(),
            "no address: by name only"
        );
    }

    #[test]
    fn success_clears_the_user_name_but_not_the_address() {
        let limiter = LoginLimiter::new(LIMIT);
        let t0 = Instant::now();
        limiter.record_failure(ip(1), "alice", t0);
        limiter.record_failure(ip(2), "alice", t0);
        limiter.record_failure(ip(1), "bob", t0);
        limiter.record_success("alice");
        limiter.record_failure(ip(3), "alice", t0);
        limiter.record_failure(ip(3), "alice", t0);
        assert!(
            limiter.check(ip(4), "alice", t0).is_ok(),
            "two since success"
        );
        limiter.record_failure(ip(1), "carol", t0);
        assert!(
            limiter.check(ip(1), "dave", t0).is_err(),
            "the address kept its count"
        );
    }

    #[test]
    fn the_table_of_names_stays_bounded() {
        let limiter = LoginLimiter::new(LIMIT);
        let t0 = Instant::now();
        for n in 0..(MAX_KEYS + 50) {
            limiter.record_failure(None, &format!("user{n}"), t0);
        }
        assert!(lock(&limiter.by_user).keys.len() <= MAX_KEYS);
    }
}
