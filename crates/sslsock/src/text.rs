//! Text from peers and files on its way to a terminal: control characters escaped.

use std::borrow::Cow;

/// `s` with control characters (C0, DEL, C1) and bidirectional overrides written as Rust
/// escapes (`\u{1b}`, `\n`, `\u{202e}`), so that bytes from a peer's certificate or a
/// server's reply cannot move the cursor, retitle the terminal or reorder what is shown.
/// Text without them comes back borrowed.
///
/// ```
/// assert_eq!(sslsock::escape_control("a\x1b]0;x\x07b"), "a\\u{1b}]0;x\\u{7}b");
/// assert_eq!(sslsock::escape_control("plain"), "plain");
/// ```
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A parser's or engine's variant name (`TooManyWarningAlertsReceived`,
/// `InvalidCharacter(33)`) as words (`too many warning alerts received`,
/// `invalid character (33)`): for the errors nobody wrote a sentence for yet.
pub(crate) fn words_of_debug(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len() + 8);
    let mut prev: Option<char> = None;
    for c in debug.chars() {
        match c {
            '(' | '{' => out.push_str(" ("),
            ')' | '}' => out.push(')'),
            '_' => out.push(' '),
            c if c.is_ascii_uppercase() => {
                if prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                    out.push(' ');
                }
                out.push(c.to_ascii_lowercase());
            }
            c => out.push(c),
        }
        prev = Some(c);
    }
    let mut s = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        ("tls12 or13", "TLS 1.2 or 1.3"),
        ("tls12", "TLS 1.2"),
        ("tls13", "TLS 1.3"),
        ("( ", "("),
        (" )", ")"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// A PEM parse error in words: the marker lines as text, not as byte lists.
pub(crate) fn pem_error(e: &pki_types::pem::Error) -> String {
    use pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { end_marker } => {
            // The engine gives the label alone (`CERTIFICATE`) or the whole line.
            let marker = String::from_utf8_lossy(end_marker);
            let line = if marker.starts_with("-----") {
                marker.into_owned()
            } else {
                format!("-----END {marker}-----")
            };
            format!(
                "a PEM block has no end line (\"{}\" is missing)",
                escape_control(&line)
            )
        }
        E::IllegalSectionStart { line } => format!(
            "a PEM begin line is malformed: \"{}\"",
            escape_control(&String::from_utf8_lossy(line))
        ),
        E::Base64Decode(detail) => format!(
            "the base64 inside a PEM block is invalid ({})",
            words_of_debug(detail)
        ),
        E::NoItemsFound => "no PEM block of the expected kind".to_owned(),
        E::SectionTooLarge => "a PEM block is too large".to_owned(),
        other => format!("malformed PEM ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_become_words() {
        assert_eq!(
            words_of_debug("TooManyWarningAlertsReceived"),
            "too many warning alerts received"
        );
        assert_eq!(
            words_of_debug("InvalidCharacter(33)"),
            "invalid character (33)"
        );
        assert_eq!(
            words_of_debug("ServerDoesNotSupportTls12Or13"),
            "server does not support TLS 1.2 or 1.3"
        );
        assert_eq!(words_of_debug("CaUsedAsEndEntity"), "ca used as end entity");
        assert_eq!(
            pem_error(&pki_types::pem::Error::MissingSectionEnd {
                end_marker: b"-----END CERTIFICATE-----".to_vec()
            }),
            "a PEM block has no end line (\"-----END CERTIFICATE-----\" is missing)"
        );
    }
}

/// Hex digits, written and read in one place (every fingerprint, serial and key id).
pub(crate) mod hex {
    use std::fmt::Write as _;

    /// Lower-case hex.
    pub(crate) fn encode(bytes: &[u8]) -> String {
        joined(bytes, "", false)
    }

    /// Upper-case hex.
    pub(crate) fn encode_upper(bytes: &[u8]) -> String {
        joined(bytes, "", true)
    }

    /// Hex with `sep` between the bytes (`AB:CD`), upper- or lower-case.
    pub(crate) fn joined(bytes: &[u8], sep: &str, upper: bool) -> String {
        let mut out = String::with_capacity(bytes.len() * (2 + sep.len()));
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            // Writing to a String cannot fail.
            let _ = if upper {
                write!(out, "{b:02X}")
            } else {
                write!(out, "{b:02x}")
            };
        }
        out
    }

    /// The bytes of an even number of hex digits (either case); `None` for anything else.
    pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
        if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
            .collect()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trip_and_refusals() {
            assert_eq!(super::encode(&[0x0a, 0xff]), "0aff");
            assert_eq!(super::encode_upper(&[0x0a, 0xff]), "0AFF");
            assert_eq!(super::joined(&[1, 2, 3], ":", true), "01:02:03");
            assert_eq!(super::decode("0aFF"), Some(vec![0x0a, 0xff]));
            assert_eq!(super::decode("0af"), None);
            assert_eq!(super::decode("zz"), None);
            assert_eq!(super::decode("é1"), None);
        }
    }
}
