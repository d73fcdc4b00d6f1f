# A TLS 1.3 client (tlslite-ng) that pads every encrypted record it sends: to the largest
# legal size, plus EXTRA bytes (0 stays legal; 3 makes TLSInnerPlaintext 2^14 + 2 bytes,
# one more than RFC 8446 section 5.4 allows). Prints one line: "ok <reply>" or
# "alert <description>" or "failed <what>".
import socket
import sys

from tlslite import HandshakeSettings, TLSConnection
from tlslite.errors import TLSRemoteAlert

port, extra = int(sys.argv[1]), int(sys.argv[2])
sock = socket.create_connection(("127.0.0.1", port))
sock.settimeout(10)
conn = TLSConnection(sock)
conn._recordLayer.padding_cb = lambda length, kind, max_padding: max_padding + extra
settings = HandshakeSettings()
settings.minVersion = (3, 4)
settings.maxVersion = (3, 4)
try:
    conn.handshakeClientCert(settings=settings, serverName="localhost")
    conn.write(b"ping\n")
    print("ok", conn.read(max=100).decode().strip())
except TLSRemoteAlert as e:
    print("alert", e)
except Exception as e:
    print("failed", type(e).__name__, e)
