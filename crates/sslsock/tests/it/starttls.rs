//! STARTTLS up and down: ours on both sides, and Perl IO::Socket::SSL in either role.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use sslsock::{Engine, SslSocket};

use crate::util::*;

/// A stream whose first read after `arm` waits until the peer says it has sent everything,
/// so that all of it arrives in that one read.
struct GatedReads {
    inner: TcpStream,
    armed: Arc<AtomicBool>,
    peer_sent: mpsc::Receiver<()>,
}

impl sslsock::socket::Transport for GatedReads {}

impl Read for GatedReads {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.peer_sent
                .recv()
                .expect("the peer signals what it sent");
        }
        self.inner.read(buf)
    }
}

impl Write for GatedReads {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn line<R: BufRead>(r: &mut R) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap();
    s
}

/// Server side of the test dialogue: greet in plain, upgrade on STARTTLS, echo one line in TLS.
fn upgrade_and_echo_once(tcp: TcpStream, engine: Engine) -> SslSocket {
    let mut s = SslSocket::new_plain(tcp, &server_opts().server(true).engine(engine)).unwrap();
    write_line(&mut s, "220 ready\r\n");
    assert_eq!(line(&mut s), "STARTTLS\r\n");
    write_line(&mut s, "220 go\r\n");
    s.accept_ssl().unwrap();
    let l = line(&mut s);
    write_line(&mut s, &format!("tls:{l}"));
    s
}

#[test]
fn ours_both_sides_plain_bytes_after_close_notify_survive() {
    plain_bytes_after_close_notify_survive(Engine::Rustls);
}

/// The same dialogue, both sides on the openssl engine.
#[cfg(feature = "openssl")]
#[test]
fn ours_both_sides_plain_bytes_after_close_notify_survive_on_openssl() {
    plain_bytes_after_close_notify_survive(Engine::OpenSsl);
}

fn plain_bytes_after_close_notify_survive(engine: Engine) {
    let (sent, peer_sent) = mpsc::channel();
    let (addr, h) = serve_tcp(1, move |tcp| {
        let mut s = upgrade_and_echo_once(tcp, engine);
        // The client closes TLS first; answer and send plain at once, in one burst.
        let mut buf = [0u8; 16];
        assert_eq!(s.read(&mut buf).unwrap(), 0, "peer's close_notify");
        s.stop_ssl().unwrap();
        write_line(&mut s, "plain after\r\n");
        sent.send(()).unwrap();
        assert_eq!(line(&mut s), "client plain\r\n");
        write_line(&mut s, "bye\r\n");
    });
    let armed = Arc::new(AtomicBool::new(false));
    let tcp = TcpStream::connect(addr).unwrap();
    let stream = GatedReads {
        inner: tcp,
        armed: armed.clone(),
        peer_sent,
    };
    let mut c =
        SslSocket::new_plain(stream, &client_opts().start_handshake(false).engine(engine)).unwrap();
    assert_eq!(line(&mut c), "220 ready\r\n");
    write_line(&mut c, "STARTTLS\r\n");
    assert_eq!(line(&mut c), "220 go\r\n");
    c.connect_ssl().unwrap();
    write_line(&mut c, "hello\r\n");
    assert_eq!(line(&mut c), "tls:hello\r\n");
    // stop_ssl's read for the peer's close_notify gets the plain bytes behind it too.
    armed.store(true, Ordering::SeqCst);
    c.stop_ssl().unwrap();
    assert!(!c.is_tls());
    // The plain bytes were sent in one burst with close_notify; they were not taken from
    // the transport with it (reads stop at the record's end), so they come next.
    assert_eq!(c.pending(), 0);
    assert_eq!(line(&mut c), "plain after\r\n");
    write_line(&mut c, "client plain\r\n");
    assert_eq!(line(&mut c), "bye\r\n");
    h.join().unwrap();
}

#[test]
fn start_ssl_on_accepted_stream_with_server_option() {
    let (addr, h) = serve_tcp(1, |tcp| {
        let mut s = SslSocket::start_ssl(tcp, &server_opts().server(true)).unwrap();
        let l = line(&mut s);
        write_line(&mut s, &l);
        s.close().unwrap();
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let mut c = SslSocket::start_ssl(tcp, &client_opts()).unwrap();
    write_line(&mut c, "up\n");
    assert_eq!(line(&mut c), "up\n");
    h.join().unwrap();
}

/// A Perl IO::Socket::SSL server: plain greeting, STARTTLS, one echo, STOPTLS, plain echo.
pub(crate) const PERL_SERVER: &str = r#"
use strict; use warnings; use IO::Socket::SSL; use IO::Socket::INET;
my ($cert, $key, $version) = @ARGV;
my $srv = IO::Socket::INET->new(LocalAddr => "127.0.0.1:0", Listen => 1, ReuseAddr => 1) or die "listen: $!";
$| = 1; print $srv->sockport, "\n";
my $c = $srv->accept or die "accept: $!";
$c->autoflush(1);
print $c "220 ready\r\n";
my $l = <$c>; die "want STARTTLS, got $l" unless $l eq "STARTTLS\r\n";
print $c "220 go\r\n";
IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_cert_file => $cert, SSL_key_file => $key,
    SSL_version => $version)
    or die "start_SSL: $SSL_ERROR";
$l = <$c>; print $c "tls:$l";
$l = <$c>; die "want STOPTLS, got $l" unless $l eq "STOPTLS\r\n";
print $c "ok\r\n";
$c->stop_SSL or die "stop_SSL: $SSL_ERROR";
print $c "plain after\r\n";
$l = <$c>; print $c "echo:$l";
print STDOUT "SERVER DONE ", ref($c), "\n";
close $c;
"#;

#[test]
fn perl_server_role_upgrade_and_downgrade() {
    require_perl_ssl();
    for (version, expect) in [("SSLv23", "TLSv1_3"), ("TLSv1_2", "TLSv1_2")] {
        perl_server_role(version, expect);
    }
}

fn perl_server_role(version: &str, expect: &str) {
    let p = pki().pair("srv-rsa");
    let mut peer = Peer::spawn(
        Command::new("perl")
            .args(["-e", PERL_SERVER])
            .arg(&p.cert)
            .arg(&p.key)
            .arg(version)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut out = BufReader::new(peer.child.stdout.take().unwrap());
    let port: u16 = line(&mut out).trim().parse().unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut c = SslSocket::new_plain(tcp, &client_opts()).unwrap();
    assert_eq!(line(&mut c), "220 ready\r\n");
    write_line(&mut c, "STARTTLS\r\n");
    assert_eq!(line(&mut c), "220 go\r\n");
    c.connect_ssl().unwrap();
    assert_eq!(c.version(), Some(expect));
    write_line(&mut c, "secret hello\r\n");
    assert_eq!(line(&mut c), "tls:secret hello\r\n");
    write_line(&mut c, "STOPTLS\r\n");
    assert_eq!(line(&mut c), "ok\r\n");
    c.stop_ssl().unwrap();
    assert_eq!(line(&mut c), "plain after\r\n");
    write_line(&mut c, "back to plain\r\n");
    assert_eq!(line(&mut c), "echo:back to plain\r\n");
    peer.child.stdout = Some(out.into_inner());
    let (stdout, stderr, ok) = peer.finish(20);
    assert!(ok, "perl failed: {stderr}");
    assert!(stdout.contains("SERVER DONE IO::Socket::INET"), "{stdout}");
}

const PERL_CLIENT: &str = r#"
use strict; use warnings; use IO::Socket::SSL; use IO::Socket::INET;
my ($port, $ca) = @ARGV;
my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
$c->autoflush(1);
my $l = <$c>; die "greeting: $l" unless $l eq "220 ready\r\n";
print $c "STARTTLS\r\n";
$l = <$c>; die "go: $l" unless $l eq "220 go\r\n";
IO::Socket::SSL->start_SSL($c, SSL_ca_file => $ca, SSL_hostname => "localhost",
    SSL_verifycn_name => "localhost", SSL_verifycn_scheme => "smtp") or die "start_SSL: $SSL_ERROR";
print STDOUT "VERSION ", $c->get_sslversion, "\n";
print $c "secret hello\r\n";
$l = <$c>; print STDOUT "GOT1 $l";
print $c "STOPTLS\r\n";
$l = <$c>; print STDOUT "GOT2 $l";
$c->stop_SSL or die "stop_SSL: $SSL_ERROR";
$l = <$c>; print STDOUT "GOT3 $l";
print $c "back to plain\r\n";
$l = <$c>; print STDOUT "GOT4 $l";
"#;

#[test]
fn perl_client_role_upgrade_and_downgrade() {
    perl_client_role(Engine::Rustls);
}

/// The same with our server on the openssl engine.
#[cfg(feature = "openssl")]
#[test]
fn perl_client_role_upgrade_and_downgrade_on_openssl() {
    perl_client_role(Engine::OpenSsl);
}

fn perl_client_role(engine: Engine) {
    require_perl_ssl();
    let (addr, h) = serve_tcp(1, move |tcp| {
        let mut s = upgrade_and_echo_once(tcp, engine);
        assert_eq!(line(&mut s), "STOPTLS\r\n");
        write_line(&mut s, "ok\r\n");
        s.stop_ssl().unwrap();
        write_line(&mut s, "plain after\r\n");
        let l = line(&mut s);
        write_line(&mut s, &format!("echo:{l}"));
    });
    let peer = Peer::spawn(
        Command::new("perl")
            .args(["-e", PERL_CLIENT])
            .arg(addr.port().to_string())
            .arg(&pki().ca)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let (stdout, stderr, ok) = peer.finish(30);
    h.join().unwrap();
    assert!(ok, "perl failed: {stderr}\n{stdout}");
    assert!(stdout.contains("VERSION TLSv1_3"), "{stdout}");
    assert!(stdout.contains("GOT1 tls:secret hello\r\n"), "{stdout}");
    assert!(stdout.contains("GOT2 ok\r\n"), "{stdout}");
    assert!(stdout.contains("GOT3 plain after\r\n"), "{stdout}");
    assert!(stdout.contains("GOT4 echo:back to plain\r\n"), "{stdout}");
}

#[test]
fn start_ssl_failure_gives_the_stream_back_when_asked() {
    // The "server" answers in plain text: the client handshake fails, the stream is kept.
    let (addr, h) = serve_tcp(1, |mut tcp| {
        let mut buf = [0u8; 512];
        let _ = tcp.read(&mut buf);
        let _ = tcp.write_all(b"500 not TLS\r\n");
        let _ = tcp.read(&mut buf);
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let err = SslSocket::start_ssl(tcp, &client_opts().keep_socket_on_error(true)).unwrap_err();
    assert!(
        matches!(err.error, sslsock::Error::NotTls { .. }),
        "{:?}",
        err.error
    );
    assert!(err.to_string().contains("500 not TLS"), "{err}");
    let stream = err.stream.expect("stream kept");
    drop(stream);
    h.join().unwrap();
}

/// The context's timeout covers the handshake of a STARTTLS upgrade (`connect_ssl`,
/// `start_ssl`) and of `accept_ssl`, as it covers a direct connect: a peer that goes quiet
/// after agreeing gets the handshake timeout, not a transport error.
#[test]
fn timeout_covers_starttls_handshakes() {
    let timeout = Duration::from_millis(500);
    // A server that agrees to STARTTLS and then says nothing.
    let (stalled, stall) = mpsc::channel::<()>();
    let stall = std::sync::Mutex::new(stall);
    let (addr, h) = serve_tcp(2, move |mut tcp| {
        write_line(&mut tcp, "220 ready\r\n");
        let mut buf = [0u8; 64];
        let _ = tcp.read(&mut buf);
        write_line(&mut tcp, "220 go\r\n");
        // Hold the connection open until the client has given up.
        let _ = stall.lock().unwrap().recv();
    });
    let expect_timeout = |e: sslsock::Error| {
        assert!(
            e.to_string()
                .contains("timed out while waiting for the peer during the TLS handshake"),
            "{e}"
        );
    };
    let opts = client_opts().timeout(timeout).start_handshake(false);
    let mut c = SslSocket::new_plain(TcpStream::connect(addr).unwrap(), &opts).unwrap();
    assert_eq!(line(&mut c), "220 ready\r\n");
    write_line(&mut c, "STARTTLS\r\n");
    assert_eq!(line(&mut c), "220 go\r\n");
    expect_timeout(c.connect_ssl().unwrap_err());
    stalled.send(()).unwrap();
    // start_ssl on the raw stream, after the plain dialogue.
    let mut tcp = TcpStream::connect(addr).unwrap();
    let mut reader = BufReader::new(tcp.try_clone().unwrap());
    assert_eq!(line(&mut reader), "220 ready\r\n");
    write_line(&mut tcp, "STARTTLS\r\n");
    assert_eq!(line(&mut reader), "220 go\r\n");
    expect_timeout(
        SslSocket::start_ssl(tcp, &client_opts().timeout(timeout))
            .unwrap_err()
            .error,
    );
    stalled.send(()).unwrap();
    h.join().unwrap();
    // accept_ssl: a client that connects and sends nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let quiet = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (tcp, _) = listener.accept().unwrap();
    let mut s = SslSocket::new_plain(tcp, &server_opts().server(true).timeout(timeout)).unwrap();
    expect_timeout(s.accept_ssl().unwrap_err());
    drop(quiet);
}
