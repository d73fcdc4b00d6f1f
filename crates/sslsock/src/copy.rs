//! Byte copies on the data path, made in slices small enough to stay off `rep movsb`.
//!
//! glibc copies more than about 2 KiB with `rep movsb`. When the destination lies a few bytes
//! past the source modulo 4 KiB, as with a record buffer the heap placed right after the
//! caller's 16 KiB buffer, that instruction runs many times slower on some x86 CPUs (4 KiB
//! aliasing; 0.4-0.6 s per GB instead of 0.02 on an AMD EPYC). Smaller copies take the vector
//! path, which does not mind the distance. Where both ends are known the distance is checked
//! first ([`pieces`]); the engine's record buffer is not known, so plaintext goes in always in
//! slices.

use std::io::{self, Read};

/// The largest single copy: below glibc's smallest `rep movsb` threshold (2 KiB with SSE2).
pub(crate) const COPY_SLICE: usize = 1024;

/// The pieces in which to copy `src` to `dst`: slices of at most [`COPY_SLICE`] bytes when
/// the destination lies just past the source modulo 4 KiB, all of it at once otherwise.
pub(crate) fn pieces(dst: *const u8, src: &[u8]) -> std::slice::Chunks<'_, u8> {
    let size = if aliases(dst, src.as_ptr()) {
        COPY_SLICE
    } else {
        src.len().max(1)
    };
    src.chunks(size)
}

/// `dst[..src.len()].copy_from_slice(src)`, in the [`pieces`] the distance calls for.
pub(crate) fn copy_sliced(dst: &mut [u8], src: &[u8]) {
    let mut at = 0;
    for piece in pieces(dst.as_ptr(), src) {
        dst[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
    }
}

/// Whether stores to `dst` would run a few bytes ahead of loads from `src` in the same 4 KiB
/// page offsets (the slow case for `rep movsb`).
fn aliases(dst: *const u8, src: *const u8) -> bool {
    let ahead = (dst as usize).wrapping_sub(src as usize) % 4096;
    (1..ALIASING_DISTANCE).contains(&ahead)
}

/// Distances (modulo 4 KiB) below which a forward copy suffers: measured slow at 5 to 40
/// bytes, normal from 64.
const ALIASING_DISTANCE: usize = 128;

/// Reads from a byte slice with [`copy_sliced`]; hands a record to the engine.
pub(crate) struct SlicedReader<'a>(pub(crate) &'a [u8]);

impl Read for SlicedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.0.len());
        copy_sliced(buf, &self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliced_copies_are_whole_copies() {
        let src: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        for len in [0, 1, COPY_SLICE - 1, COPY_SLICE, COPY_SLICE + 1, 5000] {
            let mut dst = vec![0xeeu8; 5001];
            copy_sliced(&mut dst, &src[..len]);
            assert_eq!(&dst[..len], &src[..len]);
            assert!(
                dst[len..].iter().all(|&b| b == 0xee),
                "nothing past the copy"
            );
        }
        // Destination 21 bytes past the source modulo 4 KiB: the sliced branch.
        let mut both = vec![0u8; 8192 + 5000];
        let (s, d) = both.split_at_mut(4096);
        s.copy_from_slice(&src[..4096]);
        assert!(aliases(d[21..].as_ptr(), s.as_ptr()));
        assert_eq!(pieces(d[21..].as_ptr(), s).count(), 4096 / COPY_SLICE);
        assert_eq!(pieces(d[200..].as_ptr(), s).count(), 1);
        copy_sliced(&mut d[21..], s);
        assert_eq!(&d[21..21 + 4096], &src[..4096]);
        assert!(
            !aliases(s.as_ptr(), d[21..].as_ptr()),
            "behind the source is fine"
        );

        let mut r = SlicedReader(&src);
        let mut out = vec![0u8; 3000];
        assert_eq!(r.read(&mut out).unwrap(), 3000);
        assert_eq!(out, src[..3000]);
        assert_eq!(r.read(&mut out).unwrap(), 2000);
        assert_eq!(out[..2000], src[3000..]);
        assert_eq!(r.read(&mut out).unwrap(), 0);
    }
}
