//! Accepting under load, shared by `serve` and `intercept`: when accept fails (out of
//! descriptors, most often) the listener pauses, 10 ms doubling up to a second, so that
//! finishing connections free what accept needs; the episode is said once for the whole
//! server, not once per attempt or per thread. Near the limit accepts succeed and fail in
//! turn as descriptors come and go, so an episode ends only after a quiet spell without a
//! failure, not at the first accept that works.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

/// The first pause after a failed accept, and the longest.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// How long accepting must go without a failure before the next failure is a new episode.
const EPISODE_QUIET: Duration = Duration::from_secs(10);

/// The accept failures of one server, shared by all its accept loops.
#[derive(Default)]
pub(crate) struct AcceptEpisodes {
    last_failure: Mutex<Option<Instant>>,
}

impl AcceptEpisodes {
    /// Notes a failure at `now`; true when it opens an episode (and so is to be said).
    fn failed(&self, now: Instant) -> bool {
        let mut last = self
            .last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let opens = last.is_none_or(|at| now.duration_since(at) >= EPISODE_QUIET);
        *last = Some(now);
        opens
    }
}

/// One accept loop's pacing; `episodes` is shared by all the loops of one server.
pub(crate) struct Paced<'a> {
    backoff: Duration,
    episodes: &'a AcceptEpisodes,
}

impl<'a> Paced<'a> {
    pub(crate) fn new(episodes: &'a AcceptEpisodes) -> Paced<'a> {
        Paced {
            backoff: Duration::ZERO,
            episodes,
        }
    }

    /// The next connection; `while_paused` runs after each pause (to reap finished tasks).
    pub(crate) async fn accept(
        &mut self,
        listener: &TcpListener,
        mut while_paused: impl FnMut(),
    ) -> (TcpStream, SocketAddr) {
        let accepted = loop {
            match listener.accept().await {
                Ok(x) => break x,
                Err(e) => {
                    if self.episodes.failed(Instant::now()) {
                        log::warn!("accept failed: {e}; pausing new connections until it passes");
                    }
                    self.backoff = (self.backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
                    tokio::time::sleep(self.backoff).await;
                    while_paused();
                }
            }
        };
        self.backoff = Duration::ZERO;
        accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_close_together_are_one_episode() {
        let episodes = AcceptEpisodes::default();
        let t0 = Instant::now();
        assert!(episodes.failed(t0), "the first failure opens an episode");
        // Failures in turn with successes, each within the quiet spell of the last.
        for s in 1..30 {
            assert!(!episodes.failed(t0 + Duration::from_secs(s)));
        }
        let later = t0 + Duration::from_secs(29) + EPISODE_QUIET;
        assert!(
            episodes.failed(later),
            "a failure after a quiet spell is a new episode"
        );
    }
}
