//! The `sslsock` command: connect, serve and demonstrate TLS sockets.
//!
//! Exit codes: 0 success, 1 TLS or verification failure, 2 usage or configuration error,
//! 3 network error. Errors go to stderr as one line starting with `sslsock: `.

mod bench;
mod cert;
mod connect;
mod demo;
mod inspect;
mod serve;
mod starttls;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// TLS sockets as easy as plain sockets.
#[derive(Parser)]
#[command(name = "sslsock", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect to HOST:PORT, handshake, show what was negotiated and verified.
    Connect(Box<connect::ConnectArgs>),
    /// Run a TLS server (echo, sink or http).
    Serve(serve::ServeArgs),
    /// Show, offline on loopback, what sslsock does: verified TLS, STARTTLS up and down, refusals.
    Demo,
    /// Check whether a certificate is valid for a host name under a scheme.
    VerifyHostname(inspect::VerifyHostnameArgs),
    /// Split a name into the rest and its public suffix.
    PublicSuffix(inspect::PublicSuffixArgs),
    /// Print the fingerprint of a certificate or of its public key.
    Fingerprint(inspect::FingerprintArgs),
    /// Create and inspect certificates and keys.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// The roles of the benchmark harness (sink server; handshake, bulk and idle clients).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    pub(crate) fn tls(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
    /// An exit code whose reason the command has already printed.
    pub(crate) fn silent(code: u8) -> Failure {
        Failure {
            code,
            message: String::new(),
        }
    }
}

impl From<sslsock::Error> for Failure {
    fn from(e: sslsock::Error) -> Failure {
        let code = match &e {
            sslsock::Error::Config(_) => 2,
            e if e.is_network() => 3,
            _ => 1,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl From<sslsock::ConfigError> for Failure {
    fn from(e: sslsock::ConfigError) -> Failure {
        sslsock::Error::from(e).into()
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        sslsock::Error::from(e).into()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Connect(args) => connect::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Demo => demo::run(),
        Command::VerifyHostname(args) => inspect::verify_hostname_cmd(&args),
        Command::PublicSuffix(args) => inspect::public_suffix_cmd(&args),
        Command::Fingerprint(args) => inspect::fingerprint_cmd(&args),
        Command::Cert(cmd) => cert::run(&cmd),
        Command::Bench(cmd) => bench::run(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("sslsock: {}", f.message.replace('\n', " "));
            }
            ExitCode::from(f.code)
        }
    }
}
