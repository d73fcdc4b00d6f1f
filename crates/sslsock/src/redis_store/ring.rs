//! A fleet's session ticket keys in Redis: numbered generations, the current number under
//! one key and each generation's key sealed under its own. Rotation is one atomic script:
//! the server that gets there first writes the next generation, the others read it.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ::redis::{cmd, Cmd};

use super::link::Link;
use super::seal::StoreKey;
use crate::session::{TicketKey, TicketKeys};

/// How often a server asks Redis for the current generation (and so how late it may learn
/// of a rotation made elsewhere).
pub(crate) const REFRESH: Duration = Duration::from_secs(1);

/// A ticket under a newer generation than the one known makes a server ask again, but not
/// more often than this.
const FORCED_REFRESH: Duration = Duration::from_millis(100);

/// Writes generation `ARGV[4]` with key `ARGV[2]` (for `ARGV[3]` ms) if the current
/// generation is still `ARGV[1]` ("0": none yet); returns the current generation either way.
const ROTATE: &str = r"
local cur = redis.call('GET', KEYS[1])
if (cur or '0') ~= ARGV[1] then return cur end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('SET', KEYS[1], ARGV[4])
return ARGV[4]
";

/// Session ticket keys shared by the servers of a fleet through Redis
/// ([`RedisStore::ticket_keys`](super::RedisStore::ticket_keys)): one current key for the
/// whole fleet, replaced every `period` by whichever server first sees it due (or at
/// [`rotate`](TicketKeys::rotate)), and the key before it still opening tickets; a ticket from
/// before two rotations does not resume. Keys are sealed under the [`StoreKey`] in Redis.
///
/// Each server asks Redis for the current generation at most once a second, so it learns of a
/// rotation made elsewhere within a second. When Redis does not answer, a server keeps the
/// keys it has (and rotates again once Redis is back); a server that never had a key issues
/// no tickets until it gets one.
pub struct RedisTicketKeys {
    link: Arc<Link>,
    key: Arc<StoreKey>,
    prefix: String,
    period: Duration,
    local: Mutex<Local>,
}

/// What this server knows of the fleet's keys.
#[derive(Default)]
struct Local {
    current: Option<Generation>,
    previous: Option<Generation>,
    /// When Redis was last asked (answered or not).
    asked: Option<Instant>,
    /// The last generation found not to open (warned about once).
    unopened: Option<u64>,
}

#[derive(Clone)]
struct Generation {
    number: u64,
    key: TicketKey,
    /// When it became current (milliseconds since the epoch, by the clock of the server that
    /// made it): a rotation is due a period later.
    made: u64,
}

impl RedisTicketKeys {
    pub(crate) fn new(
        link: Arc<Link>,
        key: Arc<StoreKey>,
        prefix: String,
        period: Duration,
    ) -> RedisTicketKeys {
        RedisTicketKeys {
            link,
            key,
            prefix,
            period: period.max(Duration::from_secs(1)),
            local: Mutex::new(Local::default()),
        }
    }

    fn current_name(&self) -> String {
        format!("{}tk:current", self.prefix)
    }

    fn generation_name(&self, n: u64) -> String {
        format!("{}tk:{n}", self.prefix)
    }

    /// Brings `local` up to the fleet's current generation, rotating when it is due (or
    /// `force_rotate`).
    fn sync(&self, local: &mut Local, force_rotate: bool) {
        local.asked = Some(Instant::now());
        let Some(current) = self
            .link
            .run::<Option<u64>>(cmd("GET").arg(self.current_name()))
        else {
            return;
        };
        if let Some(n) = current {
            self.load(local, n);
        }
        let due = match (current, &local.current) {
            // A fresh fleet, or a store that lost its data: the first server to ask makes one.
            (None, _) => true,
            (Some(n), Some(g)) if g.number == n => {
                force_rotate || now_millis() >= g.made.saturating_add(period_millis(self.period))
            }
            // The current key is there and does not open here (another store key?): not
            // this server's to replace, or servers with different keys would take turns.
            (Some(n), _) if local.unopened == Some(n) => false,
            // Named but gone (expired while the fleet was idle) or unreadable just now.
            _ => true,
        };
        if due {
            let next = current
                .unwrap_or(0)
                .max(local.current.as_ref().map_or(0, |g| g.number))
                + 1;
            if let Some(now_current) = self.rotate_from(current.unwrap_or(0), next) {
                self.load(local, now_current);
            }
        }
    }

    /// Makes `next` current if `expected` still is; the generation current afterwards.
    fn rotate_from(&self, expected: u64, next: u64) -> Option<u64> {
        let fresh = crate::session::fresh_key().map(|mut k| {
            k.name[..8].copy_from_slice(&next.to_be_bytes());
            k
        })?;
        let name = self.generation_name(next);
        let mut plain = Vec::with_capacity(56);
        plain.extend_from_slice(&fresh.name);
        plain.extend_from_slice(&fresh.key);
        plain.extend_from_slice(&now_millis().to_be_bytes());
        let sealed = self.key.seal(&name, &plain)?;
        // Kept for three periods: retired after two rotations, then gone.
        let keep = self.period.saturating_mul(3).as_millis().max(1000);
        let mut script: Cmd = cmd("EVAL");
        script
            .arg(ROTATE)
            .arg(2)
            .arg(self.current_name())
            .arg(&name)
            .arg(expected.to_string())
            .arg(sealed)
            .arg(keep.to_string())
            .arg(next.to_string());
        self.link
            .run::<Option<String>>(&script)?
            .and_then(|n| n.parse().ok())
    }

    /// Sets generations `n` and `n - 1` from Redis (those not already known).
    fn load(&self, local: &mut Local, n: u64) {
        if local.current.as_ref().is_some_and(|g| g.number == n) {
            return;
        }
        let known = [local.current.take(), local.previous.take()];
        let mut unopened = None;
        let mut find = |m: u64| -> Option<Generation> {
            if let Some(g) = known.iter().flatten().find(|g| g.number == m) {
                return Some(g.clone());
            }
            let name = self.generation_name(m);
            let sealed = self.link.run::<Option<Vec<u8>>>(cmd("GET").arg(&name))??;
            let generation = self.key.open(&name, &sealed).and_then(|p| parse(m, &p));
            if generation.is_none() {
                unopened = Some((m, name));
            }
            generation
        };
        let current = find(n);
        let previous = n.checked_sub(1).filter(|&m| m > 0).and_then(&mut find);
        if let Some((m, name)) = unopened {
            if local.unopened != Some(m) {
                log::warn!(
                    "session store {}: ticket key {name} does not open (changed, or sealed under another store key): not used",
                    self.link.label
                );
            }
            local.unopened = Some(m);
        }
        local.current = current;
        local.previous = previous;
    }

    fn with_local<T>(&self, f: impl FnOnce(&Self, &mut Local) -> T) -> Option<T> {
        let mut local = self.local.lock().ok()?;
        Some(f(self, &mut local))
    }
}

/// A generation's key from its sealed form: name (16), key (32), made (8, milliseconds).
fn parse(number: u64, plain: &[u8]) -> Option<Generation> {
    if plain.len() != 56 {
        return None;
    }
    let name: [u8; 16] = plain[..16].try_into().ok()?;
    let key: [u8; 32] = plain[16..48].try_into().ok()?;
    let made = u64::from_be_bytes(plain[48..].try_into().ok()?);
    (name[..8] == number.to_be_bytes()).then_some(Generation {
        number,
        key: TicketKey { name, key },
        made,
    })
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn period_millis(period: Duration) -> u64 {
    u64::try_from(period.as_millis()).unwrap_or(u64::MAX)
}

impl TicketKeys for RedisTicketKeys {
    fn current(&self) -> Option<TicketKey> {
        self.with_local(|this, local| {
            if local.asked.is_none_or(|at| at.elapsed() >= REFRESH) {
                this.sync(local, false);
            }
            local.current.as_ref().map(|g| g.key.clone())
        })?
    }

    fn find(&self, name: &[u8; 16]) -> Option<TicketKey> {
        let number = u64::from_be_bytes(name[..8].try_into().ok()?);
        self.with_local(|this, local| {
            let stale = local.asked.is_none_or(|at| at.elapsed() >= REFRESH);
            // A newer generation than known: made elsewhere since this server last asked.
            let newer = local.current.as_ref().is_none_or(|g| number > g.number)
                && local.asked.is_none_or(|at| at.elapsed() >= FORCED_REFRESH);
            if stale || newer {
                this.sync(local, false);
            }
            [&local.current, &local.previous]
                .into_iter()
                .flatten()
                .find(|g| &g.key.name == name)
                .map(|g| g.key.clone())
        })?
    }

    fn rotate(&self) {
        let _ = self.with_local(|this, local| this.sync(local, true));
    }
}

impl fmt::Debug for RedisTicketKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTicketKeys")
            .field("store", &self.link.label)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}
