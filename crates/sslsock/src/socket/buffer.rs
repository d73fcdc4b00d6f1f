//! The raw input buffer and TLS record framing that make reads record-exact.

use std::cell::Cell;
use std::io::{self, Read};

use crate::error::Error;

/// Largest TLS record on the wire: 5-byte header + 2^14 + 2048 bytes (RFC 5246 6.2.3).
pub(crate) const MAX_RECORD: usize = 5 + 16_384 + 2_048;
const CAPACITY: usize = 2 * MAX_RECORD;

thread_local! {
    /// One released buffer per thread, for the next connection that needs one: with
    /// `release_buffers` a busy connection releases and takes a buffer per record, and
    /// reusing it spares an allocation and the zeroing of 37 KiB each time.
    static SPARE: Cell<Option<Box<[u8]>>> = const { Cell::new(None) };
}

/// Bytes read from the transport that nobody has consumed yet. Allocated at the first
/// read (and again after [`release`](Self::release)); bytes move only when a partial record
/// must be shifted to the front to make room.
pub(crate) struct InputBuffer {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl InputBuffer {
    pub(crate) fn new() -> Self {
        InputBuffer {
            buf: Box::default(),
            start: 0,
            end: 0,
        }
    }

    /// Gives the memory back while nothing is buffered (an idle connection): to the
    /// thread's spare slot, whose previous buffer goes to the allocator. Only offsets into
    /// the buffer are ever read, so old bytes in a reused buffer stay unreachable.
    pub(crate) fn release(&mut self) {
        if self.start == self.end && !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            if buf.len() == CAPACITY {
                SPARE.with(|spare| spare.set(Some(buf)));
            }
            self.start = 0;
            self.end = 0;
        }
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once from `r` into the free space, at most `max` bytes; returns the count
    /// (0 on EOF).
    pub(crate) fn fill_from(&mut self, r: &mut impl Read, max: usize) -> io::Result<usize> {
        if self.buf.is_empty() {
            self.buf = SPARE
                .with(Cell::take)
                .unwrap_or_else(|| vec![0; CAPACITY].into_boxed_slice());
        }
        if self.buf.len() - self.end < max.min(MAX_RECORD) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let stop = self.buf.len().min(self.end.saturating_add(max));
        let n = r.read(&mut self.buf[self.end..stop])?;
        self.end += n;
        Ok(n)
    }

    /// Puts bytes back in front (decrypted data left over when TLS ends).
    pub(crate) fn unread(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut v = Vec::with_capacity(bytes.len() + self.end - self.start);
        v.extend_from_slice(bytes);
        v.extend_from_slice(self.data());
        if v.len() > self.buf.len() {
            self.buf = vec![0; v.len()].into_boxed_slice();
        }
        self.buf[..v.len()].copy_from_slice(&v);
        self.start = 0;
        self.end = v.len();
    }
}

/// How many more bytes complete the record at the front of `data` (the header first).
pub(crate) fn record_missing(data: &[u8]) -> usize {
    if data.len() < 5 {
        return 5 - data.len();
    }
    let len = 5 + usize::from(u16::from_be_bytes([data[3], data[4]]));
    len.saturating_sub(data.len()).max(1)
}

/// The length of the complete record at the front of `data`, `None` when more bytes are needed,
/// or an error when the bytes cannot be TLS.
pub(crate) fn record_len(data: &[u8]) -> Result<Option<usize>, Error> {
    if data.is_empty() {
        return Ok(None);
    }
    // Content types change_cipher_spec(20), alert(21), handshake(22), application_data(23).
    let type_ok = (20..=23).contains(&data[0]);
    let version_ok = data.len() < 2 || data[1] == 3;
    if !type_ok || !version_ok {
        return Err(not_tls(data));
    }
    if data.len() < 5 {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([data[3], data[4]]));
    if len + 5 > MAX_RECORD {
        return Err(Error::Tls(crate::error::TlsError::BadMessage(format!(
            "record of {len} bytes exceeds the TLS maximum"
        ))));
    }
    Ok((data.len() >= len + 5).then_some(len + 5))
}

fn not_tls(data: &[u8]) -> Error {
    let shown: String = data
        .iter()
        .take(16)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    Error::NotTls { first_bytes: shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_buffer_is_reused_and_shows_only_new_bytes() {
        let mut first = InputBuffer::new();
        first.fill_from(&mut &b"secret bytes"[..], 64).unwrap();
        let ptr = first.buf.as_ptr();
        first.consume(12);
        first.release();
        assert!(first.buf.is_empty(), "an empty buffer is given back");

        let mut second = InputBuffer::new();
        assert!(second.data().is_empty());
        second.fill_from(&mut &b"new"[..], 64).unwrap();
        assert_eq!(second.buf.as_ptr(), ptr, "the spare buffer is taken");
        assert_eq!(second.data(), b"new");
        // A buffer holding bytes is kept.
        second.release();
        assert_eq!(second.data(), b"new");
    }

    #[test]
    fn frames_records() {
        assert_eq!(record_len(&[22, 3, 1, 0, 2, 1]).unwrap(), None);
        assert_eq!(record_len(&[22, 3, 1, 0, 2, 1, 2, 9]).unwrap(), Some(7));
        assert!(matches!(
            record_len(b"GET / HTTP/1.1\r\n"),
            Err(Error::NotTls { .. })
        ));
        assert!(matches!(
            record_len(&[23, 3, 3, 0xff, 0xff]),
            Err(Error::Tls(_))
        ));
    }

    #[test]
    fn unread_keeps_order() {
        let mut b = InputBuffer::new();
        b.fill_from(&mut &b"tail"[..], usize::MAX).unwrap();
        b.unread(b"head-");
        assert_eq!(b.data(), b"head-tail");
    }
}
