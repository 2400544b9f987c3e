#!/usr/bin/env python3
"""Opens N TCP connections to host:port one after the other, optionally sending one request on each and reading its
response before opening the next (so each ends up an idle keep-alive connection, as after real traffic). With a fifth
argument "tls", each connection is a TLS session first (no verification). Prints 'ready <n>' once all are open and
idle, and holds them until stdin closes. Used by run.sh and https.sh to measure the memory each contender spends on
an idle connection."""
import socket
import ssl
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
request = sys.argv[4].encode().decode("unicode_escape").encode("latin-1") if len(sys.argv) > 4 else b""
tls = ssl.create_default_context() if len(sys.argv) > 5 and sys.argv[5] == "tls" else None
if tls is not None:
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
sockets = []
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect((host, port))
    if tls is not None:
        s = tls.wrap_socket(s, server_hostname="bench.test")
    if request:
        s.sendall(request)
        s.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    sockets.append(s)
# Give the proxies a moment to finish accepting and connecting upstream.
time.sleep(1.0)
print(f"ready {len(sockets)}", flush=True)
sys.stdin.read()
