//! Standard output and the log on standard error.
//!
//! Output goes through [`line`] and [`bytes`]: a reader that has gone away (`sslsock ... |
//! head -1`) ends the command quietly instead of with a panic, and any other failure to
//! write is a local error, not a network one.

use std::fmt;
use std::io::{ErrorKind, Write};

use crate::Failure;

/// Writes one line to standard output.
///
/// Control characters in it are escaped (certificate names and server text are not the
/// terminal's to interpret); one call is one line.
pub(crate) fn line(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    let text = args.to_string();
    let mut out = std::io::stdout().lock();
    out.write_all(sslsock::escape_control(&text).as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .map_err(output_error)
}

/// Writes raw bytes to standard output and flushes them.
pub(crate) fn bytes(data: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(data)
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// Flushes standard output.
pub(crate) fn flush() -> Result<(), Failure> {
    std::io::stdout().flush().map_err(output_error)
}

fn output_error(e: std::io::Error) -> Failure {
    if e.kind() == ErrorKind::BrokenPipe {
        // Whoever reads has what it wanted.
        Failure::silent(0)
    } else {
        Failure::usage(format!("cannot write to standard output: {e}"))
    }
}

/// `println!` through [`line`], returning the failure to the caller with `?`.
macro_rules! outln {
    () => {
        $crate::out::line(format_args!(""))?
    };
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))?
    };
}
pub(crate) use outln;

/// The library's log on standard error: warnings always, the handshake's steps with `-v`
/// (`-vv` for every detail).
struct StderrLog {
    level: log::LevelFilter,
}

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut text = record.args().to_string();
        // The engine's own records name its internals; the errors and warnings of sslsock say
        // the same in words. Below -vv only a warning alert from the peer is worth a line.
        if record.target().starts_with("rustls") && self.level < log::LevelFilter::Debug {
            match warning_alert(&text) {
                Some(alert) => text = format!("the peer sent a warning alert: {alert}"),
                None => return,
            }
        }
        let level = record.level().as_str().to_ascii_lowercase();
        let text = sslsock::escape_control(&text).into_owned();
        // Where a record comes from is for -v and more.
        let line = if self.level <= log::LevelFilter::Warn {
            format!("sslsock: {level}: {text}")
        } else {
            format!("sslsock: {level}: {text} ({})", record.target())
        };
        // Nothing to be done when standard error itself is gone.
        let _ = writeln!(std::io::stderr(), "{line}");
    }

    fn flush(&self) {}
}

/// The alert of the engine's "TLS alert warning received: AlertMessagePayload { level:
/// Warning, description: UnrecognisedName }", in the words of the RFC (`unrecognized_name`).
fn warning_alert(text: &str) -> Option<String> {
    let rest = text.strip_prefix("TLS alert warning received:")?;
    let name = rest
        .split("description:")
        .nth(1)?
        .trim()
        .trim_end_matches('}')
        .trim();
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push('_');
        }
        words.push(c.to_ascii_lowercase());
    }
    // rustls spells the one alert the RFC calls unrecognized_name the British way.
    Some(words.replace("unrecognised", "unrecognized"))
}

/// Installs the log with the verbosity of `-v` given `verbose` times.
pub(crate) fn init_log(verbose: u8) {
    let level = sslsock::debug::level_filter(verbose);
    // Installed once for the life of the process.
    if log::set_logger(Box::leak(Box::new(StderrLog { level }))).is_ok() {
        log::set_max_level(level);
    }
}
