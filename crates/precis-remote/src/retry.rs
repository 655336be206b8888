//! The one retry policy for remote requests: which failures are worth another try, and how
//! long to wait before it.

use std::time::Duration;

/// How often and how patiently a failed request is tried again. Only failures a server
/// recovers from are retried (429, 408, 5xx, a refused or reset connection), and only before
/// any of the answer arrived: text already shown is never asked for twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait before the second try; doubled for each later one.
    pub first_delay: Duration,
    /// No wait is longer, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before try number `next` (2 for the first retry): the server's `Retry-After`
    /// when it gave one, else the doubling backoff; a little spread by `spread` (the job's
    /// number), so parallel requests refused together do not all come back at once.
    pub fn delay(&self, next: u32, retry_after: Option<Duration>, spread: usize) -> Duration {
        let backoff = self
            .first_delay
            .saturating_mul(1 << next.saturating_sub(2).min(16));
        let jitter = self.first_delay / 8 * (spread % 4) as u32;
        retry_after.unwrap_or(backoff + jitter).min(self.max_delay)
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from these servers and is ignored: the
/// backoff applies then).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_retry_after_wins_within_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(2, None, 0), Duration::from_millis(500));
        assert_eq!(policy.delay(3, None, 0), Duration::from_millis(1000));
        assert_eq!(policy.delay(4, None, 0), Duration::from_millis(2000));
        assert_eq!(policy.delay(40, None, 0), Duration::from_secs(30));
        assert!(policy.delay(2, None, 3) > policy.delay(2, None, 0));
        assert_eq!(
            policy.delay(2, Some(Duration::from_secs(7)), 0),
            Duration::from_secs(7)
        );
        assert_eq!(
            policy.delay(2, Some(Duration::from_secs(600)), 0),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
