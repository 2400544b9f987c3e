#!/usr/bin/env python3
"""Opens N TCP connections to host:port one after the other, optionally sending one request on each and reading its
response before opening the next (so each ends up an idle keep-alive connection, as after real traffic). With a fifth
argument "tls", each connection is a TLS session first (no verification). Waits SETTLE seconds (environment, default 3:
the same for every contender), prints 'ready <n>' once all are open and idle, then reads stdin: a line 'more <k>' opens k
more the same way and prints 'ready <total>' again; end of input closes them all. Used by run.sh and https.sh to measure
the memory each contender spends on an idle connection (the growth over all of them, and over the last ones alone)."""
import os
import socket
import ssl
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
request = sys.argv[4].encode().decode("unicode_escape").encode("latin-1") if len(sys.argv) > 4 else b""
tls = ssl.create_default_context() if len(sys.argv) > 5 and sys.argv[5] == "tls" else None
settle = float(os.environ.get("SETTLE", "3"))
if tls is not None:
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
sockets = []


def open_more(n):
    for _ in range(n):
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
    # Give the proxies time to finish accepting, connecting upstream and settling what an idle connection keeps.
    time.sleep(settle)
    print(f"ready {len(sockets)}", flush=True)


open_more(count)
for line in sys.stdin:
    parts = line.split()
    if len(parts) == 2 and parts[0] == "more":
        open_more(int(parts[1]))
