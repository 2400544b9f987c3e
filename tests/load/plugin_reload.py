#!/usr/bin/env python3
"""Drives tests/load/plugin-reload.sh: keeps probe keep-alive connections on the proxy (the load itself is wrk's) while it
replaces the plugin's files with the next build, N times, spread evenly over DURATION seconds, and measures the time
from the end of each copy to the first response served by the new version (the X-Plugin-Version header). Prints
requests sent, failed, and the swap latencies."""
import os
import shutil
import socket
import sys
import threading
import time

port, plugins, builds, swaps, connections, duration = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
REQUEST = b"GET /small HTTP/1.1\r\nHost: bench\r\n\r\n"
lock = threading.Lock()
first_seen = {}
counts = {"sent": 0, "ok": 0, "failed": 0}
failures = []
stop = threading.Event()


def read_response(sock, pending):
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the proxy")
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        rest += chunk
    return status, headers.get("x-plugin-version"), rest[length:]


def client():
    sock = None
    pending = b""
    while not stop.is_set():
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
                pending = b""
            sock.sendall(REQUEST)
            with lock:
                counts["sent"] += 1
            status, version, pending = read_response(sock, pending)
            now = time.monotonic()
            with lock:
                if status == 200:
                    counts["ok"] += 1
                else:
                    counts["failed"] += 1
                    failures.append(f"status {status}")
                if version and version not in first_seen:
                    first_seen[version] = now
        except (OSError, ValueError, IndexError) as error:
            with lock:
                counts["failed"] += 1
                failures.append(repr(error))
            if sock is not None:
                sock.close()
            sock = None
    if sock is not None:
        sock.close()


def wait_for(version, deadline=30.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with lock:
            if version in first_seen:
                return first_seen[version]
        time.sleep(0.001)
    return None


began = time.monotonic()
threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
for thread in threads:
    thread.start()
if wait_for("1.0.1") is None:
    print("the first version never served", file=sys.stderr)
    sys.exit(1)
interval = duration / (swaps + 1)
latencies = []
target = os.path.join(plugins, "VersionStamp")
for n in range(2, swaps + 2):
    time.sleep(max(0.0, began + (n - 1) * interval - time.monotonic()))
    source = os.path.join(builds, f"v{n}", "VersionStamp")
    for name in sorted(os.listdir(source)):
        # A plain copy over the running plugin's files (new times, as a deploy makes them).
        shutil.copyfile(os.path.join(source, name), os.path.join(target, name))
    changed = time.monotonic()
    seen = wait_for(f"1.0.{n}")
    if seen is None:
        print(f"version 1.0.{n} never served", file=sys.stderr)
        stop.set()
        sys.exit(1)
    latencies.append((seen - changed) * 1000)
    print(f"  swap {n - 1:2}: 1.0.{n - 1} -> 1.0.{n}, new version serving {latencies[-1]:6.0f} ms after the files changed", flush=True)
time.sleep(max(0.0, began + duration - time.monotonic()))
stop.set()
for thread in threads:
    thread.join(15)
latencies.sort()
elapsed = time.monotonic() - began
print(f"probe requests sent: {counts['sent']} in {elapsed:.1f} s ({counts['sent'] / elapsed:.0f}/s), ok: {counts['ok']}, failed: {counts['failed']}")
print(f"file change to new version serving: min {latencies[0]:.0f} ms, median {latencies[len(latencies) // 2]:.0f} ms, max {latencies[-1]:.0f} ms")
if failures:
    print("first failures: " + "; ".join(failures[:5]))
sys.exit(0 if counts["failed"] == 0 else 2)
