//! Accepting under load, shared by `serve` and `intercept`: when accept fails (out of
//! descriptors, most often) the listener pauses, 10 ms doubling up to a second, so that
//! finishing connections free what accept needs; the episode is said once for the whole
//! server, not once per attempt or per thread.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// The first pause after a failed accept, and the longest.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// One accept loop's pacing; `pausing` is shared by all the loops of one server.
pub(crate) struct Paced<'a> {
    backoff: Duration,
    pausing: &'a AtomicBool,
}

impl<'a> Paced<'a> {
    pub(crate) fn new(pausing: &'a AtomicBool) -> Paced<'a> {
        Paced {
            backoff: Duration::ZERO,
            pausing,
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
                    if self.backoff.is_zero() && !self.pausing.swap(true, Ordering::AcqRel) {
                        log::warn!("accept failed: {e}; pausing new connections until it passes");
                    }
                    self.backoff = (self.backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
                    tokio::time::sleep(self.backoff).await;
                    while_paused();
                }
            }
        };
        // Accepting works again: a later failure is a new episode.
        if self.pausing.load(Ordering::Acquire) {
            self.pausing.store(false, Ordering::Release);
        }
        self.backoff = Duration::ZERO;
        accepted
    }
}
