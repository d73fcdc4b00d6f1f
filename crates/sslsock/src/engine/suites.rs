//! Protocol version, cipher and group strings in IO::Socket::SSL / OpenSSL syntax,
//! evaluated over what the engine actually has.

use rustls::crypto::aws_lc_rs::{cipher_suite as cs, kx_group};
use rustls::crypto::SupportedKxGroup;
use rustls::{ProtocolVersion, SupportedCipherSuite, SupportedProtocolVersion};

use crate::error::ConfigError;

/// The facts of a negotiated cipher suite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CipherNames {
    pub(crate) openssl: &'static str,
    pub(crate) iana: &'static str,
}

/// One suite the engine has, with its OpenSSL and IANA names and OpenSSL attributes.
#[derive(Debug)]
pub(crate) struct SuiteInfo {
    pub(crate) suite: SupportedCipherSuite,
    pub(crate) openssl: &'static str,
    pub(crate) iana: &'static str,
    pub(crate) tls13: bool,
    /// OpenSSL keywords that select this suite (besides its names).
    keywords: &'static [&'static str],
    bits: u16,
}

const COMMON12: &[&str] = &[
    "ALL", "DEFAULT", "HIGH", "FIPS", "TLSv1.2", "AEAD", "kECDHE", "ECDHE", "EECDH", "kEECDH",
    "ECDH",
];

pub(crate) static SUITES: &[SuiteInfo] = &[
    SuiteInfo {
        suite: cs::TLS13_AES_256_GCM_SHA384,
        openssl: "TLS_AES_256_GCM_SHA384",
        iana: "TLS_AES_256_GCM_SHA384",
        tls13: true,
        keywords: &[],
        bits: 256,
    },
    SuiteInfo {
        suite: cs::TLS13_AES_128_GCM_SHA256,
        openssl: "TLS_AES_128_GCM_SHA256",
        iana: "TLS_AES_128_GCM_SHA256",
        tls13: true,
        keywords: &[],
        bits: 128,
    },
    SuiteInfo {
        suite: cs::TLS13_CHACHA20_POLY1305_SHA256,
        openssl: "TLS_CHACHA20_POLY1305_SHA256",
        iana: "TLS_CHACHA20_POLY1305_SHA256",
        tls13: true,
        keywords: &[],
        bits: 256,
    },
    SuiteInfo {
        suite: cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        openssl: "ECDHE-ECDSA-AES256-GCM-SHA384",
        iana: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        tls13: false,
        keywords: &["aECDSA", "ECDSA", "AESGCM", "AES", "AES256"],
        bits: 256,
    },
    SuiteInfo {
        suite: cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
        iana: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        tls13: false,
        keywords: &["aECDSA", "ECDSA", "AESGCM", "AES", "AES128"],
        bits: 128,
    },
    SuiteInfo {
        suite: cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        openssl: "ECDHE-ECDSA-CHACHA20-POLY1305",
        iana: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        tls13: false,
        keywords: &["aECDSA", "ECDSA", "CHACHA20"],
        bits: 256,
    },
    SuiteInfo {
        suite: cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        openssl: "ECDHE-RSA-AES256-GCM-SHA384",
        iana: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        tls13: false,
        keywords: &["aRSA", "AESGCM", "AES", "AES256"],
        bits: 256,
    },
    SuiteInfo {
        suite: cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        openssl: "ECDHE-RSA-AES128-GCM-SHA256",
        iana: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        tls13: false,
        keywords: &["aRSA", "AESGCM", "AES", "AES128"],
        bits: 128,
    },
    SuiteInfo {
        suite: cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        openssl: "ECDHE-RSA-CHACHA20-POLY1305",
        iana: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        tls13: false,
        keywords: &["aRSA", "CHACHA20"],
        bits: 256,
    },
];

/// OpenSSL keywords that are valid but select none of the engine's suites
/// (legacy ciphers, key exchanges and MACs that rustls does not implement).
const KNOWN_EMPTY: &[&str] = &[
    "COMPLEMENTOFDEFAULT",
    "COMPLEMENTOFALL",
    "MEDIUM",
    "LOW",
    "EXP",
    "EXPORT",
    "EXPORT40",
    "EXPORT56",
    "aNULL",
    "eNULL",
    "NULL",
    "ADH",
    "AECDH",
    "RC4",
    "RC2",
    "DES",
    "3DES",
    "IDEA",
    "SEED",
    "MD5",
    "SHA1",
    "SHA",
    "SHA256",
    "SHA384",
    "GOST94",
    "GOST89MAC",
    "PSK",
    "kPSK",
    "kECDHEPSK",
    "kDHEPSK",
    "kRSAPSK",
    "aPSK",
    "SRP",
    "kSRP",
    "aSRP",
    "DSS",
    "aDSS",
    "DH",
    "DHE",
    "EDH",
    "kDHE",
    "kEDH",
    "kDH",
    "ADH",
    "kRSA",
    "RSA",
    "CAMELLIA",
    "CAMELLIA128",
    "CAMELLIA256",
    "ARIA",
    "ARIA128",
    "ARIA256",
    "ARIAGCM",
    "AESCCM",
    "AESCCM8",
    "CBC",
    "SSLv3",
    "TLSv1",
    "TLSv1.0",
    "kGOST",
    "aGOST",
    "aGOST01",
    "SUITEB128",
    "SUITEB128ONLY",
    "SUITEB192",
    "CHACHA20POLY1305",
    "ECDHEPSK",
    "DHEPSK",
    "RSAPSK",
    "UNTRUSTED",
];

fn matches_word(info: &SuiteInfo, word: &str) -> bool {
    if info.tls13 {
        return false;
    }
    word.eq_ignore_ascii_case(info.openssl)
        || word.eq_ignore_ascii_case(info.iana)
        || COMMON12.contains(&word)
        || info.keywords.contains(&word)
}

fn is_known_word(word: &str) -> bool {
    KNOWN_EMPTY.contains(&word)
        || COMMON12.contains(&word)
        || SUITES
            .iter()
            .any(|s| s.keywords.contains(&word) || matches_word(s, word))
}

/// Evaluates an OpenSSL cipher string (`SSL_cipher_list`) over the TLS 1.2 suites.
pub(crate) fn parse_cipher_list(
    spec: &str,
    unavailable: &mut Vec<String>,
) -> Result<Vec<&'static SuiteInfo>, ConfigError> {
    let err = |reason: String| ConfigError::Cipher {
        spec: spec.to_owned(),
        reason,
    };
    let mut list: Vec<&'static SuiteInfo> = Vec::new();
    let mut banned: Vec<&'static SuiteInfo> = Vec::new();
    // "DEFAULT@SECLEVEL=1" is two terms: a rule and a special.
    let terms = spec
        .split([':', ',', ' ', ';'])
        .flat_map(|t| match t.find('@') {
            Some(i) if i > 0 => vec![&t[..i], &t[i..]],
            _ => vec![t],
        })
        .filter(|t| !t.is_empty());
    for term in terms {
        if term.eq_ignore_ascii_case("@STRENGTH") {
            list.sort_by_key(|s| std::cmp::Reverse(s.bits));
            continue;
        }
        if term.starts_with("@SECLEVEL=") {
            continue;
        }
        let (op, body) = match term.as_bytes()[0] {
            b'!' | b'-' | b'+' => (term.as_bytes()[0], &term[1..]),
            _ => (b' ', term),
        };
        if body.is_empty() {
            return Err(err(format!("\"{term}\" has an operator but no cipher")));
        }
        let words: Vec<&str> = body.split('+').collect();
        for w in &words {
            if w.is_empty() {
                return Err(err(format!("empty word in \"{term}\"")));
            }
            if !is_known_word(w) {
                if openssl_knows(w) {
                    unavailable_name(unavailable, "cipher", w);
                } else {
                    return Err(err(format!("unknown cipher or keyword \"{w}\"")));
                }
            }
        }
        let selected: Vec<&'static SuiteInfo> = SUITES
            .iter()
            .filter(|s| words.iter().all(|w| matches_word(s, w)))
            .collect();
        let same = |a: &&SuiteInfo, b: &&SuiteInfo| std::ptr::eq(*a, *b);
        match op {
            b'!' => {
                list.retain(|s| !selected.iter().any(|x| same(s, x)));
                banned.extend(selected);
            }
            b'-' => list.retain(|s| !selected.iter().any(|x| same(s, x))),
            b'+' => {
                let (moved, kept): (Vec<_>, Vec<_>) = list
                    .iter()
                    .partition(|s| selected.iter().any(|x| same(s, x)));
                list = kept.into_iter().chain(moved).collect();
            }
            _ => {
                for s in selected {
                    if !list.iter().any(|x| same(&s, x)) && !banned.iter().any(|x| same(&s, x)) {
                        list.push(s);
                    }
                }
            }
        }
    }
    if list.is_empty() {
        return Err(err(format!(
            "selects no cipher suite this TLS engine has (available: {})",
            SUITES
                .iter()
                .filter(|s| !s.tls13)
                .map(|s| s.openssl)
                .collect::<Vec<_>>()
                .join(":")
        )));
    }
    Ok(list)
}

/// The first word of an OpenSSL cipher string that reads as a suite name (with '-') but is
/// the name of no suite OpenSSL knows: a misspelling, which OpenSSL itself would skip
/// silently when other words match.
#[cfg(feature = "openssl")]
pub(crate) fn unknown_suite_name(spec: &str) -> Option<&str> {
    spec.split([':', ',', ' ', ';'])
        .map(|t| {
            t.split('@')
                .next()
                .unwrap_or(t)
                .trim_start_matches(['!', '-', '+'])
        })
        .flat_map(|t| t.split('+'))
        .find(|w| w.contains('-') && !is_known_word(w) && !openssl_knows(w))
}

/// Whether OpenSSL knows `w` as a TLS 1.2-or-older suite name (a name the engine may lack),
/// as against a misspelling.
fn openssl_knows(w: &str) -> bool {
    const NAMES: &str = include_str!("../../data/openssl-cipher-names.txt");
    NAMES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|name| name.eq_ignore_ascii_case(w))
}

/// A name OpenSSL knows and this engine lacks: dropped from its list, as OpenSSL drops what
/// it lacks, but said (a warning, and [`crate::SslContext::unavailable_names`]).
fn unavailable_name(unavailable: &mut Vec<String>, what: &str, name: &str) {
    log::warn!("{what} {name} is not available in this TLS engine; dropped from the list");
    if !unavailable.iter().any(|n| n == name) {
        unavailable.push(name.to_owned());
    }
}

/// Parses the TLS 1.3 suite list (`SSL_ciphersuites`): exact names separated by ':'.
pub(crate) fn parse_ciphersuites(
    spec: &str,
    unavailable: &mut Vec<String>,
) -> Result<Vec<&'static SuiteInfo>, ConfigError> {
    let mut out = Vec::new();
    for name in spec.split(':').map(str::trim).filter(|n| !n.is_empty()) {
        match SUITES.iter().find(|s| {
            s.tls13
                && (name.eq_ignore_ascii_case(s.iana)
                    || name.eq_ignore_ascii_case(&format!("TLS13_{}", &s.iana[4..])))
        }) {
            Some(s) => out.push(s),
            None if matches!(name, "TLS_AES_128_CCM_SHA256" | "TLS_AES_128_CCM_8_SHA256") => {
                unavailable_name(unavailable, "TLS 1.3 suite", name)
            }
            None => {
                return Err(ConfigError::Cipher {
                    spec: spec.to_owned(),
                    reason: format!("unknown TLS 1.3 cipher suite \"{name}\""),
                })
            }
        }
    }
    Ok(out)
}

/// The protocol versions selected by an `SSL_version` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Versions {
    pub(crate) tls12: bool,
    pub(crate) tls13: bool,
}

impl Versions {
    pub(crate) fn engine_versions(self) -> Vec<&'static SupportedProtocolVersion> {
        let mut v = Vec::new();
        if self.tls13 {
            v.push(&rustls::version::TLS13);
        }
        if self.tls12 {
            v.push(&rustls::version::TLS12);
        }
        v
    }
}

/// Every protocol version an `SSL_version` string can select, the old ones included (the
/// openssl engine offers them; the default engine refuses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AllVersions {
    pub(crate) tls10: bool,
    pub(crate) tls11: bool,
    pub(crate) tls12: bool,
    pub(crate) tls13: bool,
}

/// Parses `SSL_version`: `SSLv23`, `TLSv1`, `TLSv1_1`, `TLSv1_2`, `TLSv12`, `TLSv1.3`,
/// `!TLSv1_3`, joined by ':'; case and the `v` are free, so `TLS1.2`, `tls1_2` and `1.2` are
/// TLS 1.2 too. `SSLv23` (any) means TLS 1.2 and 1.3: older versions are on only when named.
/// SSLv2 and SSLv3 are refused.
pub(crate) fn parse_all_versions(spec: &str) -> Result<AllVersions, ConfigError> {
    let err = |reason: String| ConfigError::Version {
        spec: spec.to_owned(),
        reason,
    };
    let mut positive: Option<AllVersions> = None;
    let mut negative = AllVersions::default();
    for raw in spec.split(':').map(str::trim).filter(|t| !t.is_empty()) {
        let (neg, word) = match raw.strip_prefix('!') {
            Some(w) => (true, w),
            None => (false, raw),
        };
        let norm = word.to_ascii_lowercase().replace(['_', '.'], "");
        // TLSv1_2, TLS1.2, tls12 and 1.2 all come to "12".
        let number = norm
            .strip_prefix("tlsv")
            .or_else(|| norm.strip_prefix("tls"))
            .unwrap_or(&norm);
        let pick = |v: &mut AllVersions| -> Result<(), ConfigError> {
            match (norm.as_str(), number) {
                ("sslv23" | "sslv2/3" | "tls" | "any" | "all", _) => {
                    v.tls12 = true;
                    v.tls13 = true;
                }
                (_, "1" | "10") => v.tls10 = true,
                (_, "11") => v.tls11 = true,
                (_, "12") => v.tls12 = true,
                (_, "13") => v.tls13 = true,
                _ => {
                    return Err(err(format!(
                        "unknown protocol \"{word}\" (known: TLSv1_3, TLSv1_2, TLSv1_1, TLSv1, SSLv23 for any; also written TLS1.2, tls1_2 or 1.2; ! excludes one, : joins them)"
                    )))
                }
            }
            Ok(())
        };
        match norm.as_str() {
            "sslv2" | "sslv3" if neg => continue,
            "sslv2" | "sslv3" => {
                return Err(err(format!(
                    "{word} needs TLS older than 1.2 and is broken: neither engine offers it"
                )))
            }
            "sslv23" | "sslv2/3" | "tls" | "any" | "all" if neg => {
                return Err(err("\"!SSLv23\" disables every version".to_owned()))
            }
            _ if neg => pick(&mut negative)?,
            _ => pick(positive.get_or_insert_with(AllVersions::default))?,
        }
    }
    let base = positive.unwrap_or(AllVersions {
        tls12: true,
        tls13: true,
        ..AllVersions::default()
    });
    let result = AllVersions {
        tls10: base.tls10 && !negative.tls10,
        tls11: base.tls11 && !negative.tls11,
        tls12: base.tls12 && !negative.tls12,
        tls13: base.tls13 && !negative.tls13,
    };
    if !(result.tls10 || result.tls11 || result.tls12 || result.tls13) {
        return Err(err("selects no protocol version".to_owned()));
    }
    Ok(result)
}

/// Parses `SSL_version` for the default engine: TLS 1.2 and 1.3 only.
pub(crate) fn parse_versions(spec: &str) -> Result<Versions, ConfigError> {
    let all = parse_all_versions(spec)?;
    if all.tls10 || all.tls11 {
        let name = if all.tls10 { "TLSv1" } else { "TLSv1_1" };
        return Err(ConfigError::Version {
            spec: spec.to_owned(),
            reason: format!(
                "{name} needs TLS older than 1.2, which the default engine does not support (TLS 1.2 and 1.3 only); the openssl engine offers it (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)"
            ),
        });
    }
    let result = Versions {
        tls12: all.tls12,
        tls13: all.tls13,
    };
    Ok(result)
}

/// Parses `SSL_ecdh_curve`: group names separated by ':' (or "auto" for the defaults).
pub(crate) fn parse_groups(
    spec: &str,
    unavailable: &mut Vec<String>,
) -> Result<Vec<&'static dyn SupportedKxGroup>, ConfigError> {
    let err = |reason: String| ConfigError::Groups {
        spec: spec.to_owned(),
        reason,
    };
    let mut out: Vec<&'static dyn SupportedKxGroup> = Vec::new();
    for name in spec
        .split([':', ','])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let group: Option<&'static dyn SupportedKxGroup> = match name.to_ascii_lowercase().as_str()
        {
            "auto" => {
                for g in parse_groups(crate::defaults::GROUPS, unavailable)? {
                    if !out.iter().any(|x| x.name() == g.name()) {
                        out.push(g);
                    }
                }
                continue;
            }
            "x25519mlkem768" => Some(kx_group::X25519MLKEM768),
            "secp256r1mlkem768" | "p256mlkem768" => Some(kx_group::SECP256R1MLKEM768),
            "mlkem768" => Some(kx_group::MLKEM768),
            "mlkem1024" => Some(kx_group::MLKEM1024),
            "x25519" => Some(kx_group::X25519),
            "p-256" | "p256" | "prime256v1" | "secp256r1" => Some(kx_group::SECP256R1),
            "p-384" | "p384" | "secp384r1" => Some(kx_group::SECP384R1),
            "p-521" | "p521" | "secp521r1" | "x448" | "ffdhe2048" | "ffdhe3072" | "ffdhe4096"
            | "ffdhe6144" | "ffdhe8192" => None,
            _ => return Err(err(format!("unknown group \"{name}\""))),
        };
        match group {
            Some(g) if !out.iter().any(|x| x.name() == g.name()) => out.push(g),
            Some(_) => {}
            None => unavailable_name(unavailable, "group", name),
        }
    }
    if out.is_empty() {
        return Err(err(
            "selects no group this TLS engine has (available: X25519MLKEM768, X25519, P-256, P-384, SecP256r1MLKEM768, MLKEM768, MLKEM1024)"
                .to_owned(),
        ));
    }
    Ok(out)
}

/// The Perl module's version name for a wire version (`TLSv1_3`).
pub(crate) fn version_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1_3",
        ProtocolVersion::TLSv1_2 => "TLSv1_2",
        ProtocolVersion::TLSv1_1 => "TLSv1_1",
        ProtocolVersion::TLSv1_0 => "TLSv1",
        _ => "unknown",
    }
}

pub(crate) fn info_of(suite: SupportedCipherSuite) -> Option<&'static SuiteInfo> {
    SUITES.iter().find(|s| s.suite.suite() == suite.suite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&SuiteInfo]) -> Vec<&'static str> {
        v.iter().map(|s| s.openssl).collect()
    }

    #[test]
    fn the_default_orders_name_every_suite_once_aes128_first() {
        let mut unavailable = Vec::new();
        let tls13 = parse_ciphersuites(crate::defaults::CIPHERSUITES, &mut unavailable).unwrap();
        let tls12 = parse_cipher_list(crate::defaults::CIPHER_LIST, &mut unavailable).unwrap();
        assert!(unavailable.is_empty(), "{unavailable:?}");
        let mut all: Vec<_> = names(&tls13).into_iter().chain(names(&tls12)).collect();
        assert_eq!(all[0], "TLS_AES_128_GCM_SHA256");
        assert_eq!(names(&tls12)[0], "ECDHE-ECDSA-AES128-GCM-SHA256");
        all.sort_unstable();
        let mut table: Vec<_> = SUITES.iter().map(|s| s.openssl).collect();
        table.sort_unstable();
        assert_eq!(all, table);
    }

    #[test]
    fn openssl_cipher_strings() {
        assert_eq!(
            parse_cipher_list("DEFAULT", &mut Vec::new()).unwrap().len(),
            6
        );
        assert_eq!(
            parse_cipher_list("HIGH:!aNULL", &mut Vec::new())
                .unwrap()
                .len(),
            6
        );
        assert_eq!(
            parse_cipher_list("ALL:!LOW:!EXP", &mut Vec::new())
                .unwrap()
                .len(),
            6
        );
        assert_eq!(
            names(&parse_cipher_list("ECDHE+AESGCM", &mut Vec::new()).unwrap()),
            [
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                "ECDHE-RSA-AES256-GCM-SHA384",
                "ECDHE-RSA-AES128-GCM-SHA256"
            ]
        );
        assert_eq!(
            names(&parse_cipher_list("ECDHE-RSA-AES128-GCM-SHA256", &mut Vec::new()).unwrap()),
            ["ECDHE-RSA-AES128-GCM-SHA256"]
        );
        assert_eq!(
            names(&parse_cipher_list("EECDH+aRSA+AES128:!CHACHA20", &mut Vec::new()).unwrap()),
            ["ECDHE-RSA-AES128-GCM-SHA256"]
        );
        let moved = parse_cipher_list("ALL:+AES128", &mut Vec::new()).unwrap();
        assert_eq!(moved.last().unwrap().bits, 128);
        assert!(parse_cipher_list("ALL:!ALL", &mut Vec::new()).is_err());
        assert!(parse_cipher_list("RC4-SHA", &mut Vec::new())
            .unwrap_err()
            .to_string()
            .contains("selects no cipher"));
        assert!(parse_cipher_list("FOOBAR", &mut Vec::new())
            .unwrap_err()
            .to_string()
            .contains("unknown cipher or keyword \"FOOBAR\""));
        // A misspelled suite name is an error, a name OpenSSL has and this engine lacks a
        // warning.
        let mut unavailable = Vec::new();
        let e = parse_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA257", &mut unavailable).unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown cipher or keyword \"ECDHE-ECDSA-AES128-GCM-SHA257\""),
            "{e}"
        );
        let list = parse_cipher_list(
            "DHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256",
            &mut unavailable,
        )
        .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(unavailable, ["DHE-RSA-AES128-SHA"]);
        assert!(
            parse_cipher_list("RC4-SHA:ECDHE-ECDSA-CHACHA20-POLY1305", &mut Vec::new()).is_ok()
        );
        assert!(parse_cipher_list(
            "DEFAULT !EXP !MEDIUM !LOW !eNULL !aNULL !RC4 !DES !MD5 !PSK !SRP",
            &mut Vec::new()
        )
        .is_ok());
    }

    #[test]
    fn version_strings() {
        let both = Versions {
            tls12: true,
            tls13: true,
        };
        assert_eq!(parse_versions("SSLv23").unwrap(), both);
        assert_eq!(
            parse_versions("sslv23:!TLSv1:!TLSv1_1:!SSLv3:!SSLv2").unwrap(),
            both
        );
        assert_eq!(
            parse_versions("TLSv1_2").unwrap(),
            Versions {
                tls12: true,
                tls13: false
            }
        );
        assert_eq!(
            parse_versions("tlsv12").unwrap(),
            Versions {
                tls12: true,
                tls13: false
            }
        );
        assert_eq!(
            parse_versions("TLSv1.3").unwrap(),
            Versions {
                tls12: false,
                tls13: true
            }
        );
        assert_eq!(
            parse_versions("!TLSv1_3").unwrap(),
            Versions {
                tls12: true,
                tls13: false
            }
        );
        assert!(parse_versions("TLSv1")
            .unwrap_err()
            .to_string()
            .contains("older than 1.2"));
        assert!(parse_versions("TLSv1_1").is_err());
        assert!(parse_versions("TLSv1_2:!TLSv1_2").is_err());
        assert!(parse_versions("TLSv9")
            .unwrap_err()
            .to_string()
            .contains("unknown protocol"));
        // The spellings people type, the same version.
        for spelling in ["TLS1.2", "tls1_2", "1.2", "TLSv12", "tlsv1.2"] {
            assert_eq!(
                parse_versions(spelling).unwrap(),
                Versions {
                    tls12: true,
                    tls13: false
                },
                "{spelling}"
            );
        }
        // An unknown word gets the known ones listed.
        let e = parse_versions("TLS2").unwrap_err().to_string();
        assert!(e.contains("known: TLSv1_3, TLSv1_2"), "{e}");
        // SSLv3 and "tls" keep their meaning.
        assert!(parse_versions("SSLv3").is_err());
        assert!(parse_versions("tls").unwrap().tls13);
    }

    #[test]
    fn group_strings() {
        let g = parse_groups("X25519:P-256:prime256v1:secp384r1", &mut Vec::new()).unwrap();
        assert_eq!(g.len(), 3);
        assert_eq!(
            parse_groups("auto", &mut Vec::new()).unwrap()[0].name(),
            rustls::NamedGroup::X25519MLKEM768
        );
        assert!(parse_groups("P-521", &mut Vec::new()).is_err());
        assert!(parse_groups("curve9", &mut Vec::new())
            .unwrap_err()
            .to_string()
            .contains("unknown group"));
        assert!(parse_ciphersuites("TLS_AES_128_GCM_SHA256:TLS_FOO", &mut Vec::new()).is_err());
        assert_eq!(
            parse_ciphersuites("TLS_AES_128_GCM_SHA256", &mut Vec::new())
                .unwrap()
                .len(),
            1
        );
    }
}
