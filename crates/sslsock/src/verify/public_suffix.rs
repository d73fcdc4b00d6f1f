//! Public suffixes (publicsuffix.org), used to refuse wildcards such as `*.co.uk`.
//!
//! The built-in list is the ICANN section of the official list, embedded at build time
//! (`data/public_suffix_list_icann.dat`, see `data/README.md` for its version and how to
//! update it). Private-section entries (`s3.amazonaws.com`, `github.io`) are registrable
//! names, not suffixes, for certificate checks.
//!
//! ```
//! use sslsock::verify::public_suffix::PublicSuffix;
//! let list = PublicSuffix::builtin();
//! assert!(list.is_public_suffix("co.uk"));
//! assert!(!list.is_public_suffix("example.co.uk"));
//! // IO::Socket::SSL::PublicSuffix's public_suffix($name, 1): one more label.
//! let split = list.public_suffix("www.example.co.uk", 1).unwrap();
//! assert_eq!((split.rest.as_str(), split.suffix.as_str()), ("www", "example.co.uk"));
//! ```

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::error::ConfigError;

/// The ICANN section of the public suffix list, as shipped.
const BUILTIN_LIST: &str = include_str!("../../data/public_suffix_list_icann.dat");

/// A public suffix list with its rules compiled for lookup.
///
/// ```
/// use sslsock::verify::public_suffix::PublicSuffix;
/// let psl = PublicSuffix::builtin();
/// let split = psl.public_suffix("www.example.co.uk", 0).unwrap();
/// assert_eq!((split.rest.as_str(), split.suffix.as_str()), ("www.example", "co.uk"));
/// ```
#[derive(Debug, Clone)]
pub struct PublicSuffix {
    /// Plain rules (`co.uk`), in A-label form.
    rules: HashSet<String>,
    /// Parents of wildcard rules: `*.kobe.jp` is stored as `kobe.jp`.
    wildcards: HashSet<String>,
    /// Exception rules without the `!`: `city.kobe.jp`.
    exceptions: HashSet<String>,
    /// Labels taken as the suffix when no rule matches.
    min_suffix: usize,
    /// The most labels any rule spans (a wildcard counted with its `*`): only that many
    /// trailing labels of a name can match, which keeps a lookup linear in the name.
    longest_rule: usize,
}

/// The longest host name (RFC 1035: 253 octets in text form without the trailing dot).
pub const MAX_NAME: usize = 253;
/// The longest label (RFC 1035).
pub const MAX_LABEL: usize = 63;

/// A name split into the part before its public suffix and the suffix itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SuffixSplit {
    /// The labels before the suffix, "" when the whole name is a suffix.
    pub rest: String,
    /// The public suffix (extended by the requested labels), "" when there is none.
    pub suffix: String,
}

impl PublicSuffix {
    /// The built-in list (ICANN section), parsed once.
    pub fn builtin() -> Arc<PublicSuffix> {
        static BUILTIN: OnceLock<Arc<PublicSuffix>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Arc::new(PublicSuffix::parse(BUILTIN_LIST)))
            .clone()
    }

    /// Parses a list in the publicsuffix.org format: one rule per line, `//` comments,
    /// `*.` wildcards and `!` exceptions; every section is used.
    pub fn from_list(text: &str) -> Result<PublicSuffix, ConfigError> {
        let list = PublicSuffix::parse(text);
        if list.rules.is_empty() && list.wildcards.is_empty() {
            return Err(ConfigError::Invalid(
                "public suffix list holds no rule".to_owned(),
            ));
        }
        Ok(list)
    }

    /// Reads a list file in the publicsuffix.org format.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PublicSuffix, ConfigError> {
        let path = path.as_ref();
        let bytes = crate::x509::read_file(path, "public suffix list")?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError::File {
            path: path.to_owned(),
            reason: "the public suffix list is not UTF-8 text".to_owned(),
        })?;
        PublicSuffix::from_list(&text).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// How many labels count as the suffix when no rule matches. Defaults to 1 (an unknown
    /// top-level domain is a suffix); 0 gives an empty suffix.
    pub fn with_min_suffix(mut self, labels: usize) -> PublicSuffix {
        self.min_suffix = labels;
        self
    }

    fn parse(text: &str) -> PublicSuffix {
        let mut list = PublicSuffix {
            rules: HashSet::new(),
            wildcards: HashSet::new(),
            exceptions: HashSet::new(),
            min_suffix: 1,
            longest_rule: 0,
        };
        for line in text.lines() {
            // A rule ends at the first whitespace; the rest of the line is ignored.
            let Some(rule) = line.split_whitespace().next() else {
                continue;
            };
            if rule.starts_with("//") {
                continue;
            }
            let (set, body) = if let Some(e) = rule.strip_prefix('!') {
                (&mut list.exceptions, e)
            } else if let Some(w) = rule.strip_prefix("*.") {
                (&mut list.wildcards, w)
            } else {
                (&mut list.rules, rule)
            };
            // A wildcard anywhere but leftmost is not part of the format: skip the rule.
            if body.contains('*') {
                continue;
            }
            if let Some(ascii) = to_ascii(body) {
                let labels = ascii.split('.').count() + usize::from(rule.starts_with('*'));
                list.longest_rule = list.longest_rule.max(labels);
                set.insert(ascii);
            }
        }
        list
    }

    /// How many trailing labels of `labels` (A-label, lower case) form the public suffix.
    fn suffix_labels(&self, name: &str, labels: &[&str]) -> usize {
        let n = labels.len();
        // Where each label starts in `name`: the suffix from label i is a slice, not a copy.
        let mut starts = Vec::with_capacity(n);
        let mut at = 0;
        for l in labels {
            starts.push(at);
            at += l.len() + 1;
        }
        let from = |i: usize| &name[starts[i]..];
        // No rule spans more labels than the longest one.
        let first = n.saturating_sub(self.longest_rule);
        // An exception rule wins and its suffix is the rule minus its leftmost label.
        for i in first..n {
            if self.exceptions.contains(from(i)) {
                return n - i - 1;
            }
        }
        for i in first..n {
            if self.rules.contains(from(i)) || (i + 1 < n && self.wildcards.contains(from(i + 1))) {
                return n - i;
            }
        }
        self.min_suffix.min(n)
    }

    /// Splits `name` into the rest and its public suffix extended by `add` labels
    /// (`add` = 1 gives the registrable domain). When the name has no more labels than the
    /// suffix and `add` ask for, the suffix is the whole name and the rest is empty (`com` with
    /// `add` = 1: rest `""`, suffix `com`), as in the Perl module. `None` for a name that
    /// cannot be put in A-label form, or is longer than [`MAX_NAME`] bytes, or has a label
    /// longer than [`MAX_LABEL`] (RFC 1035).
    ///
    /// Input is case-insensitive and the result lower case; a trailing dot stays on the
    /// suffix; a name given in U-labels comes back in U-labels.
    pub fn public_suffix(&self, name: &str, add: usize) -> Option<SuffixSplit> {
        let (body, dot) = match name.strip_suffix('.') {
            Some(b) => (b, "."),
            None => (name, ""),
        };
        let unicode = !body.is_ascii();
        let ascii = if unicode {
            to_ascii(body)?
        } else {
            body.to_ascii_lowercase()
        };
        if ascii.len() > MAX_NAME {
            return None;
        }
        let labels: Vec<&str> = if ascii.is_empty() {
            Vec::new()
        } else {
            ascii.split('.').collect()
        };
        if labels.iter().any(|l| l.len() > MAX_LABEL) {
            return None;
        }
        let found = self.suffix_labels(&ascii, &labels);
        let take = found.saturating_add(add).min(labels.len());
        let split_at = labels.len() - take;
        let out = |parts: &[&str]| {
            let s = parts.join(".");
            if unicode {
                idna::domain_to_unicode(&s).0
            } else {
                s
            }
        };
        let suffix = out(&labels[split_at..]);
        Some(SuffixSplit {
            rest: out(&labels[..split_at]),
            suffix: if suffix.is_empty() {
                suffix
            } else {
                suffix + dot
            },
        })
    }

    /// True when `name` (A-label or U-label) is itself a public suffix.
    pub fn is_public_suffix(&self, name: &str) -> bool {
        self.public_suffix(name, 0)
            .is_some_and(|s| s.rest.is_empty() && !s.suffix.is_empty())
    }
}

fn to_ascii(name: &str) -> Option<String> {
    if name.is_ascii() {
        return Some(name.to_ascii_lowercase());
    }
    idna::domain_to_ascii(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(psl: &PublicSuffix, name: &str, add: usize) -> Option<(String, String)> {
        psl.public_suffix(name, add).map(|s| (s.rest, s.suffix))
    }

    fn pair(rest: &str, suffix: &str) -> Option<(String, String)> {
        Some((rest.to_owned(), suffix.to_owned()))
    }

    #[test]
    fn hostile_names_are_refused_up_front_and_add_saturates() {
        let psl = PublicSuffix::builtin();
        let many = "a.".repeat(30_000) + "com";
        let start = std::time::Instant::now();
        assert_eq!(split(&psl, &many, 1), None);
        assert!(start.elapsed() < std::time::Duration::from_millis(100));
        let long_label = "x".repeat(64) + ".example.com";
        assert_eq!(split(&psl, &long_label, 0), None);
        let ok_label = "x".repeat(63) + ".example.com";
        assert!(split(&psl, &ok_label, 0).is_some());
        assert_eq!(split(&psl, "com", usize::MAX), pair("", "com"));
        assert_eq!(
            split(&psl, "www.example.co.uk", usize::MAX),
            pair("", "www.example.co.uk")
        );
        // The longest rule bounds the search, and rules still match at any depth.
        let deep = "a.".repeat(100) + "city.kobe.jp";
        assert_eq!(
            split(&psl, &deep, 0).map(|(_, s)| s),
            Some("kobe.jp".to_owned())
        );
    }

    #[test]
    fn builtin_rules() {
        let psl = PublicSuffix::builtin();
        assert_eq!(
            split(&psl, "www.example.com", 0),
            pair("www.example", "com")
        );
        assert_eq!(
            split(&psl, "WWW.Example.CO.UK", 0),
            pair("www.example", "co.uk")
        );
        assert_eq!(
            split(&psl, "www.example.com.", 0),
            pair("www.example", "com.")
        );
        assert_eq!(
            split(&psl, "www.example.com", 1),
            pair("www", "example.com")
        );
        assert_eq!(split(&psl, "co.uk", 0), pair("", "co.uk"));
        assert_eq!(split(&psl, "co.uk", 1), pair("", "co.uk"));
        assert_eq!(split(&psl, "com", 1), pair("", "com"));
        assert_eq!(split(&psl, "example.com", 2), pair("", "example.com"));
        // Wildcard and exception: *.kobe.jp and !city.kobe.jp.
        assert_eq!(split(&psl, "a.b.kobe.jp", 0), pair("a", "b.kobe.jp"));
        assert_eq!(
            split(&psl, "www.city.kobe.jp", 0),
            pair("www.city", "kobe.jp")
        );
        assert_eq!(split(&psl, "city.kobe.jp", 0), pair("city", "kobe.jp"));
        // Private section not used.
        assert_eq!(
            split(&psl, "bucket.s3.amazonaws.com", 0),
            pair("bucket.s3.amazonaws", "com")
        );
        // Unknown TLD: one label by default.
        assert_eq!(split(&psl, "host.nodomain", 0), pair("host", "nodomain"));
        let zero = (*psl).clone().with_min_suffix(0);
        assert_eq!(split(&zero, "host.nodomain", 0), pair("host.nodomain", ""));
        // U-labels in, U-labels out.
        assert_eq!(
            split(&psl, "www.食狮.公司.cn", 0),
            pair("www.食狮", "公司.cn")
        );
        assert_eq!(
            split(&psl, "www.xn--85x722f.xn--55qx5d.cn", 0),
            pair("www.xn--85x722f", "xn--55qx5d.cn")
        );
        assert!(
            psl.is_public_suffix("co.uk")
                && psl.is_public_suffix("x.kobe.jp")
                && !psl.is_public_suffix("city.kobe.jp")
        );
    }

    #[test]
    fn list_from_string() {
        let psl = PublicSuffix::from_list("// comment\n*.bd\ncom\n!www.bd\n").unwrap();
        assert_eq!(split(&psl, "c.bd", 0), pair("", "c.bd"));
        assert_eq!(split(&psl, "x.c.bd", 0), pair("x", "c.bd"));
        assert_eq!(split(&psl, "www.bd", 0), pair("www", "bd"));
        assert!(PublicSuffix::from_list("// nothing\n").is_err());
    }
}
