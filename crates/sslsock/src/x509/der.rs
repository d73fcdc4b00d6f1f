//! A minimal DER TLV reader and writer for the few structures read or built by hand.

/// One tag-length-value item.
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    /// Length of the whole item, header included.
    pub(crate) len: usize,
}

impl<'a> Tlv<'a> {
    /// Parses the item at the start of `input` (single-byte tags, definite lengths).
    pub(crate) fn parse(input: &'a [u8]) -> Option<Tlv<'a>> {
        let tag = *input.first()?;
        let first = *input.get(1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let bytes = input.get(2..2 + n)?;
            (
                bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)),
                2 + n,
            )
        };
        let value = input.get(header..header.checked_add(len)?)?;
        Some(Tlv {
            tag,
            value,
            len: header + len,
        })
    }
}

/// True when `der` is exactly one SEQUENCE (how a decrypted key must look).
pub(crate) fn is_single_sequence(der: &[u8]) -> bool {
    Tlv::parse(der).is_some_and(|t| t.tag == 0x30 && t.len == der.len())
}

/// Encodes one item.
pub(crate) fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for n in [0usize, 5, 127, 128, 300, 70_000] {
            let v = vec![7u8; n];
            let e = encode(0x04, &v);
            let t = Tlv::parse(&e).unwrap();
            assert_eq!((t.tag, t.value.len(), t.len), (0x04, n, e.len()));
        }
        assert!(Tlv::parse(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(Tlv::parse(&[0x30, 0x05, 1]).is_none());
    }
}
