//! PEM reading (with the RFC 1421 headers OpenSSL's encrypted keys carry) and writing.

use base64ct::{Base64, Encoding};

/// One PEM block.
pub(crate) struct Block {
    pub(crate) label: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) der: Vec<u8>,
}

pub(crate) fn is_pem(bytes: &[u8]) -> bool {
    bytes.windows(10).any(|w| w == b"-----BEGIN")
}

/// Every block of the text, in order; unparsable blocks are skipped.
pub(crate) fn blocks(bytes: &[u8]) -> Vec<Block> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut headers = Vec::new();
        let mut body = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            let l = l.trim();
            if l == end {
                closed = true;
                break;
            }
            match l.split_once(": ") {
                Some((k, v)) if body.is_empty() && !k.contains(' ') => {
                    headers.push((k.to_owned(), v.to_owned()))
                }
                _ => body.push_str(l),
            }
        }
        if !closed {
            break;
        }
        if let Ok(der) = Base64::decode_vec(&body) {
            out.push(Block {
                label: label.to_owned(),
                headers,
                der,
            });
        }
    }
    out
}

/// The first block whose label satisfies `want`.
pub(crate) fn find_block(bytes: &[u8], want: impl Fn(&str) -> bool) -> Option<Block> {
    blocks(bytes).into_iter().find(|b| want(&b.label))
}

/// A PEM block with 64-character lines.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_with_headers_round_trip() {
        let text = format!(
            "junk\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n{}-----END RSA PRIVATE KEY-----\n{}",
            encode("X", &[1, 2, 3]).lines().nth(1).unwrap().to_owned() + "\n",
            encode("CERTIFICATE", &[9; 100])
        );
        let b = blocks(text.as_bytes());
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[0].headers[1],
            ("DEK-Info".to_owned(), "AES-128-CBC,00".to_owned())
        );
        assert_eq!(b[0].der, [1, 2, 3]);
        assert_eq!((b[1].label.as_str(), b[1].der.len()), ("CERTIFICATE", 100));
    }
}
