#!/usr/bin/env python3
"""Drives tests/load/script-edit.sh: edits a rule script of a running proxy, N times per way of writing it, and
measures the time from the end of each write to the first response that carries the new version (the X-Rule-Version
header the rule sets), seen by a probe connection of its own. The load (wrk, a separate process) runs meanwhile when
asked. Ways of writing: in place (truncate and write, as most editors and `cat >` do), and a temporary file renamed over
the script (as `mv`, deploy tools and some editors do). With --reloads, every edit is followed by a configuration reload
(proxy.toml rewritten and SIGHUP), as in the soak of issue 9.

usage: script_edit.py PORT SCRIPT EDITS [--pid PID --config proxy.toml]"""
import argparse
import os
import random
import signal
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("script")
parser.add_argument("edits", type=int)
parser.add_argument("--label", default="")
parser.add_argument("--pid", type=int)
parser.add_argument("--config")
parser.add_argument("--deadline", type=float, default=30.0)
args = parser.parse_args()
REQUEST = b"GET /small HTTP/1.1\r\nHost: probe\r\n\r\n"


class Probe:
    """One keep-alive connection that asks for /small and reports the X-Rule-Version of each response."""

    def __init__(self):
        self.sock = None
        self.pending = b""

    def version(self):
        for _ in range(3):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
                    self.pending = b""
                self.sock.sendall(REQUEST)
                return self._read()
            except (OSError, ValueError) as error:
                print(f"    probe: {error!r}, reconnecting", file=sys.stderr)
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
        raise SystemExit("the probe cannot reach the proxy")

    def _read(self):
        while b"\r\n\r\n" not in self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the proxy")
            self.pending += chunk
        head, _, rest = self.pending.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            rest += chunk
        self.pending = rest[length:]
        return headers.get("x-rule-version")


def rule(version):
    return f'// edited {time.time():.6f}\nResponse.Headers.Set("X-Rule-Version", "{version}");\n'


def write_in_place(text):
    with open(args.script, "w") as f:
        f.write(text)


def write_and_rename(text):
    temporary = os.path.join(os.path.dirname(args.script), "." + os.path.basename(args.script) + ".tmp")
    with open(temporary, "w") as f:
        f.write(text)
    os.rename(temporary, args.script)


reload_count = 0


def reload_configuration():
    """Rewrites proxy.toml with a changed value and sends SIGHUP (the file watcher may reload it as well)."""
    global reload_count
    reload_count += 1
    with open(args.config) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if not l.startswith("timeout_server")]
    at = lines.index("[defaults]") + 1 if "[defaults]" in lines else len(lines)
    lines.insert(at, f'timeout_server = "{30 + reload_count % 2}s"')
    with open(args.config + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(args.config + ".tmp", args.config)
    os.kill(args.pid, signal.SIGHUP)


probe = Probe()
serial = int(time.time() * 1000) % 1000000
results = {}
for way, write in (("in place", write_in_place), ("rename", write_and_rename)):
    latencies, missed = [], 0
    for n in range(args.edits):
        serial += 1
        version = str(serial)
        write(rule(version))
        changed = time.monotonic()
        seen = None
        while time.monotonic() - changed < args.deadline:
            if probe.version() == version:
                seen = time.monotonic()
                break
            time.sleep(0.002)
        if seen is None:
            missed += 1
            print(f"  {way:8} edit {n + 1:2}: not live after {args.deadline:.0f} s", flush=True)
        else:
            latencies.append((seen - changed) * 1000)
        if args.pid and args.config:
            reload_configuration()
        # Edits at irregular moments, so they land in every phase of the proxy's work.
        time.sleep(random.uniform(0.3, 0.8))
    results[way] = (latencies, missed)

for way, (latencies, missed) in results.items():
    latencies.sort()
    if latencies:
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        over = sum(1 for l in latencies if l > 1000) + missed
        print(f"{args.label}{way:8}: {args.edits} edits, edit to live: min {latencies[0]:.0f} ms, median {p(0.5):.0f} ms, "
              f"p95 {p(0.95):.0f} ms, max {latencies[-1]:.0f} ms; over 1 s: {over}, never live within {args.deadline:.0f} s: {missed}")
    else:
        print(f"{args.label}{way:8}: {args.edits} edits, none went live within {args.deadline:.0f} s")
sys.exit(0 if all(m == 0 for _, m in results.values()) else 2)
