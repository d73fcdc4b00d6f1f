//! The connection to Redis: a few kept connections, a deadline on every call, and failure
//! as a miss. An outage is one episode: warned about when it starts and when it ends, with a
//! new attempt at most every `retry` in between, so that a server whose store is gone pays
//! nothing per handshake.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ::redis::{Client, Cmd, Connection, FromRedisValue};

/// Connections kept open between calls (more are opened under load, then closed).
const IDLE_KEPT: usize = 16;

pub(crate) struct Link {
    client: Client,
    /// The store's address as logged: the URL without its password.
    pub(crate) label: String,
    deadline: Duration,
    retry: Duration,
    idle: Mutex<Vec<Connection>>,
    health: Mutex<Health>,
}

/// The state of the current outage, if there is one.
#[derive(Default)]
struct Health {
    /// When the store stopped answering.
    down_since: Option<Instant>,
    /// No call before this, while down.
    next_try: Option<Instant>,
}

impl Link {
    pub(crate) fn new(client: Client, label: String, deadline: Duration, retry: Duration) -> Link {
        Link {
            client,
            label,
            deadline,
            retry,
            idle: Mutex::new(Vec::new()),
            health: Mutex::new(Health::default()),
        }
    }

    /// Runs `cmd`; `None` when the store did not answer in time, answered with an error, or
    /// is in an outage and not due for another try.
    pub(crate) fn run<T: FromRedisValue>(&self, cmd: &Cmd) -> Option<T> {
        if !self.due() {
            return None;
        }
        // The whole call, a retry included, ends at the deadline.
        let ends = Instant::now() + self.deadline;
        let kept = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let outcome = match kept {
            // A kept connection may have been closed by the server since (a restart): one
            // more try on a fresh connection, in what is left of the deadline.
            Some(mut con) => match cmd.query::<T>(&mut con) {
                Ok(v) => Ok((v, con)),
                Err(e) if e.is_timeout() => Err(self.late()),
                Err(_) => self.fresh(cmd, ends),
            },
            None => self.fresh(cmd, ends),
        };
        match outcome {
            Ok((value, con)) => {
                if let Ok(mut idle) = self.idle.lock() {
                    if idle.len() < IDLE_KEPT {
                        idle.push(con);
                    }
                }
                self.answered();
                Some(value)
            }
            Err(why) => {
                self.failed(&why);
                None
            }
        }
    }

    /// `cmd` on a new connection, all of it before `ends`; the connection keeps the whole
    /// deadline for later calls.
    fn fresh<T: FromRedisValue>(
        &self,
        cmd: &Cmd,
        ends: Instant,
    ) -> Result<(T, Connection), String> {
        let left = ends.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.late());
        }
        let why = |e: ::redis::RedisError| {
            if e.is_timeout() {
                self.late()
            } else {
                e.to_string()
            }
        };
        let mut con = self.client.get_connection_with_timeout(left).map_err(why)?;
        let left = ends
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        con.set_read_timeout(Some(left))
            .and_then(|()| con.set_write_timeout(Some(left)))
            .map_err(why)?;
        let value = cmd.query::<T>(&mut con).map_err(why)?;
        con.set_read_timeout(Some(self.deadline))
            .and_then(|()| con.set_write_timeout(Some(self.deadline)))
            .map_err(why)?;
        Ok((value, con))
    }

    /// What a call that ran out of time says.
    fn late(&self) -> String {
        format!("no answer within {} ms", self.deadline.as_millis())
    }

    /// Whether a call may go out now (always, unless in an outage before its next try).
    fn due(&self) -> bool {
        let Ok(mut health) = self.health.lock() else {
            return false;
        };
        match health.next_try {
            Some(at) if Instant::now() < at => false,
            Some(_) => {
                // This caller makes the try; the others keep missing until it is done.
                health.next_try = Some(Instant::now() + self.retry);
                true
            }
            None => true,
        }
    }

    fn answered(&self) {
        let Ok(mut health) = self.health.lock() else {
            return;
        };
        if let Some(since) = health.down_since.take() {
            log::warn!(
                "session store {}: answering again after {:.1} s; sessions resume across servers again",
                self.label,
                since.elapsed().as_secs_f64()
            );
        }
        health.next_try = None;
    }

    fn failed(&self, why: &str) {
        if let Ok(mut idle) = self.idle.lock() {
            // Kept connections are as suspect as the one that failed.
            idle.clear();
        }
        let Ok(mut health) = self.health.lock() else {
            return;
        };
        if health.down_since.is_none() {
            health.down_since = Some(Instant::now());
            log::warn!(
                "session store {}: {why}: handshakes are full (no resumption across servers) until it answers; trying again every {} ms",
                self.label,
                self.retry.as_millis()
            );
        }
        health.next_try = Some(Instant::now() + self.retry);
    }

    /// Whether the store is in an outage now.
    pub(crate) fn is_down(&self) -> bool {
        self.health.lock().map_or(true, |h| h.down_since.is_some())
    }
}

/// `url` without a password, for messages.
pub(crate) fn label(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_hide_passwords() {
        assert_eq!(
            super::label("redis://:pw@127.0.0.1:6379/2"),
            "redis://***@127.0.0.1:6379/2"
        );
        assert_eq!(super::label("rediss://user:p@ss@h:1"), "rediss://***@h:1");
        assert_eq!(super::label("redis://h:1/0"), "redis://h:1/0");
    }
}
