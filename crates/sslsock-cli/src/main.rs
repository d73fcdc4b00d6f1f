//! The `sslsock` command: connect, serve and demonstrate TLS sockets.
//!
//! Exit codes: 0 success, 1 TLS or verification failure, 2 usage, configuration or local
//! (file, standard output) error, 3 network error. Errors go to stderr as one line starting
//! with `sslsock: `.

/// mimalloc instead of glibc's malloc: glibc hands the engine's record buffers out at
/// addresses 4 KiB apart give or take a few bytes, where its `rep movsb` copies run several
/// times slower; with mimalloc the bulk server spends about half the user CPU per GiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accept;
mod args;
mod bench;
mod cert;
mod connect;
mod demo;
mod inspect;
mod intercept;
mod ocsp;
mod out;
mod serve;
mod starttls;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// TLS sockets as easy as plain sockets.
#[derive(Parser)]
#[command(name = "sslsock", version, about)]
struct Cli {
    /// Show the library's log on stderr, by the manual's debug levels: -d handshake outcomes,
    /// -dd also each certificate's verification and session reuse, -ddd everything (-v is
    /// the same). Warnings are shown without it.
    #[arg(short = 'd', short_alias = 'v', long = "debug", action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect to HOST:PORT, handshake, show what was negotiated and verified.
    Connect(Box<connect::ConnectArgs>),
    /// Run a TLS server (echo, sink or http).
    Serve(Box<serve::ServeArgs>),
    /// Show, offline on loopback, what sslsock does: verified TLS, STARTTLS up and down, refusals.
    Demo,
    /// Check whether a certificate is valid for a host name under a scheme.
    VerifyHostname(inspect::VerifyHostnameArgs),
    /// Split a name into the rest and its public suffix.
    PublicSuffix(inspect::PublicSuffixArgs),
    /// Print the fingerprint of a certificate or of its public key.
    Fingerprint(inspect::FingerprintArgs),
    /// An HTTP CONNECT proxy that inspects TLS with certificates forged by a local CA.
    Intercept(intercept::InterceptArgs),
    /// Ask a certificate's OCSP responder whether it is revoked.
    Ocsp(ocsp::OcspArgs),
    /// Create and inspect certificates and keys.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// The roles of the benchmark harness (sink server; handshake, bulk and idle clients).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell), e.g.
    /// `sslsock completions bash > /etc/bash_completion.d/sslsock`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `sslsock man | man -l -`.
    Man,
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    /// The class of failure, for machine-readable output (`usage`, `verify`, `tls`, ...).
    kind: &'static str,
    message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            kind: "usage",
            message: message.into(),
        }
    }
    pub(crate) fn tls(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            kind: "tls",
            message: message.into(),
        }
    }
    /// A peer that could not be reached: exit 3.
    pub(crate) fn unreachable(message: impl Into<String>) -> Failure {
        Failure {
            code: 3,
            kind: "network",
            message: message.into(),
        }
    }
    /// An exit code whose reason the command has already printed.
    pub(crate) fn silent(code: u8) -> Failure {
        Failure {
            code,
            kind: "silent",
            message: String::new(),
        }
    }
    /// The exit code.
    pub(crate) fn code(&self) -> u8 {
        self.code
    }
    /// The class of failure.
    pub(crate) fn kind(&self) -> &'static str {
        self.kind
    }
    /// The one-line message.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

impl From<sslsock::Error> for Failure {
    fn from(e: sslsock::Error) -> Failure {
        let (code, kind) = match &e {
            sslsock::Error::Config(_) => (2, "config"),
            sslsock::Error::Verify(_) => (1, "verify"),
            sslsock::Error::Tls(_) => (1, "tls"),
            sslsock::Error::NotTls { .. } => (1, "not_tls"),
            sslsock::Error::HandshakeEof => (1, "handshake_eof"),
            sslsock::Error::Timeout(_) => (3, "timeout"),
            sslsock::Error::Resolve { .. } => (3, "resolve"),
            e if e.is_network() => (3, "network"),
            _ => (1, "other"),
        };
        Failure {
            code,
            kind,
            message: e.to_string(),
        }
    }
}

impl From<sslsock::ConfigError> for Failure {
    fn from(e: sslsock::ConfigError) -> Failure {
        sslsock::Error::from(e).into()
    }
}

impl Failure {
    /// A transport failure: exit 3.
    pub(crate) fn network(e: std::io::Error) -> Failure {
        sslsock::Error::from(e).into()
    }
    /// The async runtime could not start: exit 2.
    pub(crate) fn runtime(e: std::io::Error) -> Failure {
        Failure::usage(format!("cannot start the async runtime: {e}"))
    }
    /// A local file that cannot be read or written: exit 2.
    /// Reads an input file, at most [`sslsock::x509::MAX_FILE`] bytes.
    pub(crate) fn read(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
        sslsock::x509::read_capped(path)
            .map_err(|reason| Failure::usage(format!("{}: {reason}", path.display())))
    }
}

/// A usage error on one line, as every error of the command: clap's message with its
/// details (possible values, tips), without the usage block.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    text.lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let line = one_line(&e);
            let _ = writeln!(
                std::io::stderr(),
                "sslsock: {}",
                sslsock::escape_control(&line)
            );
            return ExitCode::from(2);
        }
        // --help and --version.
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    out::init_log(cli.verbose);
    let result = match cli.command {
        Command::Connect(args) => connect::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Demo => demo::run(),
        Command::VerifyHostname(args) => inspect::verify_hostname_cmd(&args),
        Command::PublicSuffix(args) => inspect::public_suffix_cmd(&args),
        Command::Fingerprint(args) => inspect::fingerprint_cmd(&args),
        Command::Ocsp(args) => ocsp::run(&args),
        Command::Intercept(args) => intercept::run(&args),
        Command::Cert(cmd) => cert::run(&cmd),
        Command::Bench(cmd) => bench::run(&cmd),
        Command::Completions { shell } => completions(shell),
        Command::Man => manual(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                let line = f.message.replace('\n', " ");
                let _ = writeln!(
                    std::io::stderr(),
                    "sslsock: {}",
                    sslsock::escape_control(&line)
                );
            }
            ExitCode::from(f.code)
        }
    }
}

/// The completion script for `shell`, from the same definitions as the parser.
fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sslsock", &mut script);
    out::bytes(&script)
}

/// The manual page, from the same definitions as the parser.
fn manual() -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Failure::usage(format!("cannot write the manual page: {e}")))?;
    out::bytes(&page)
}
