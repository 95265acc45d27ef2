//! The one time limit of a tool call: every request the call sends (reads first, pages,
//! retries, redirects, token renewal) draws on what is left of it, so `timeout_seconds` bounds
//! the call, not each request. A leaf, used by the transport and the identity provider's client.

use std::time::{Duration, Instant};

/// When a call must be over, and how long it was given (for the words of a timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    given: Duration,
}

impl Deadline {
    /// `given` from now.
    pub fn after(given: Duration) -> Deadline {
        Deadline { at: Instant::now() + given, given }
    }

    /// What is left (zero once passed).
    pub fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn passed(&self) -> bool {
        Instant::now() >= self.at
    }

    /// How long the call was given, in whole seconds (at least 1), for messages.
    pub fn given_secs(&self) -> u64 {
        self.given.as_secs().max(1)
    }

    /// The earlier of the two.
    pub fn min(self, other: Deadline) -> Deadline {
        if other.at < self.at { other } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_left_shrinks_and_the_earlier_wins() {
        let long = Deadline::after(Duration::from_secs(60));
        let short = Deadline::after(Duration::ZERO);
        assert!(short.passed() && short.left() == Duration::ZERO && !long.passed());
        assert_eq!(long.min(short), short);
        assert_eq!(short.min(long), short);
        assert_eq!((long.given_secs(), short.given_secs()), (60, 1));
    }
}
