//! `SSL_ocsp_mode`: which revocation checks a client makes, and how strictly.

use std::fmt;
use std::ops::BitOr;

/// The OCSP flags of the manual's `SSL_ocsp_mode`, combined with `|`. The values are the
/// Perl module's.
///
/// ```
/// use sslsock::ocsp::OcspMode;
/// let mode = OcspMode::FULL_CHAIN | OcspMode::FAIL_HARD;
/// assert!(mode.contains(OcspMode::FAIL_HARD));
/// assert_eq!(OcspMode::parse("must")?, OcspMode::MUST_STAPLE);
/// # Ok::<(), sslsock::ConfigError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OcspMode(u32);

impl OcspMode {
    /// Do not look at a stapled response (the engine still asks for one, as every client of
    /// it does; the answer is then ignored). A must-staple certificate is still refused
    /// without a valid staple.
    pub const NO_STAPLE: OcspMode = OcspMode(0x01);
    /// A missing staple is an error.
    pub const MUST_STAPLE: OcspMode = OcspMode(0x02);
    /// Soft errors (no responder, a response that does not verify, status unknown) are fatal
    /// when the resolver asks the responders. Errors in a staple stay soft, as the resolver
    /// is expected to ask the responder then.
    pub const FAIL_HARD: OcspMode = OcspMode(0x04);
    /// The resolver checks every certificate of the chain, not only the leaf.
    pub const FULL_CHAIN: OcspMode = OcspMode(0x08);
    /// Check a staple when there is one (the default when the peer is verified).
    pub const TRY_STAPLE: OcspMode = OcspMode(0x10);
    /// **Dangerous:** no OCSP check at all, must-staple included. Weakens security: logged as
    /// dangerous.
    pub const NO_CHECK: OcspMode = OcspMode(0x100);

    const NAMES: [(&'static str, OcspMode); 6] = [
        ("none", OcspMode::NO_CHECK),
        ("no-staple", OcspMode::NO_STAPLE),
        ("try", OcspMode::TRY_STAPLE),
        ("must", OcspMode::MUST_STAPLE),
        ("hard", OcspMode::FAIL_HARD),
        ("full-chain", OcspMode::FULL_CHAIN),
    ];

    /// True when every flag of `other` is set.
    pub fn contains(self, other: OcspMode) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw bits (the Perl constants' values).
    pub fn bits(self) -> u32 {
        self.0
    }

    /// From the Perl constants' values; unknown bits are refused.
    pub fn from_bits(bits: u32) -> Option<OcspMode> {
        let all = OcspMode::NAMES.iter().fold(0, |a, (_, m)| a | m.0);
        (bits & !all == 0).then_some(OcspMode(bits))
    }

    /// Parses names joined by `,` or `|`: `none`, `no-staple`, `try`, `must`, `hard`,
    /// `full-chain` (as `sslsock connect --ocsp` takes them).
    pub fn parse(s: &str) -> Result<OcspMode, crate::ConfigError> {
        let mut mode = OcspMode(0);
        for word in s.split([',', '|']).map(str::trim) {
            let Some((_, m)) = OcspMode::NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(word))
            else {
                return Err(crate::ConfigError::Invalid(format!(
                    "unknown OCSP mode \"{word}\" (known: none, no-staple, try, must, hard, full-chain)"
                )));
            };
            mode = mode | *m;
        }
        Ok(mode)
    }

    /// A staple, when sent, is checked.
    pub(crate) fn checks_staple(self) -> bool {
        !self.contains(OcspMode::NO_CHECK) && !self.contains(OcspMode::NO_STAPLE)
    }
}

impl BitOr for OcspMode {
    type Output = OcspMode;
    fn bitor(self, rhs: OcspMode) -> OcspMode {
        OcspMode(self.0 | rhs.0)
    }
}

impl Default for OcspMode {
    fn default() -> OcspMode {
        OcspMode::TRY_STAPLE
    }
}

impl fmt::Debug for OcspMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OcspMode({self})")
    }
}

impl fmt::Display for OcspMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = OcspMode::NAMES
            .iter()
            .filter(|(_, m)| self.contains(*m))
            .map(|(n, _)| *n)
            .collect();
        if names.is_empty() {
            f.write_str("try")
        } else {
            f.write_str(&names.join("|"))
        }
    }
}
