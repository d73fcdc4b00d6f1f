//! The `sslsock` command: connect, serve and demonstrate TLS sockets.
//!
//! Exit codes: 0 success, 1 TLS or verification failure, 2 usage or configuration error,
//! 3 network error. Errors go to stderr as one line starting with `sslsock: `.

mod connect;
mod demo;
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
    Connect(connect::ConnectArgs),
    /// Run a TLS server (echo, sink or http).
    Serve(serve::ServeArgs),
    /// Show, offline on loopback, what sslsock does: verified TLS, STARTTLS up and down, refusals.
    Demo,
}

/// A failure with the exit code it maps to.
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("sslsock: {}", f.message.replace('\n', " "));
            ExitCode::from(f.code)
        }
    }
}
