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
