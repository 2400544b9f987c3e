#!/usr/bin/env python3
"""Drives tests/load/reload-soak.sh: for DURATION seconds, every INTERVAL seconds, one reload in turn:
  1. the rule script edited (in place and by renaming a temporary file over it, alternately), and the time from the
     write to the first response carrying the new version measured;
  2. proxy.toml rewritten with a changed value, then SIGHUP;
  3. a new build of the http plugin copied over the running one (two builds, alternately).
Meanwhile a churn client opens a new connection every 50 ms (so sessions start and end on every plugin version) and
the proxy's resident memory and GC figures are sampled. Prints the edit-to-live figures and the memory trend.

usage: reload_soak.py PORT ADMIN_PORT PID SCRIPT CONFIG PLUGINS BUILDS DURATION INTERVAL"""
import json
import os
import random
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.request

(port, admin, pid, script, config, plugins, builds, duration, interval) = sys.argv[1:10]
port, admin, pid, duration, interval = int(port), int(admin), int(pid), float(duration), float(interval)
REQUEST = b"GET /small HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
stop = threading.Event()
churn = {"ok": 0, "failed": 0}


def fetch():
    """One request on a new connection: (status, X-Rule-Version)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(REQUEST)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
    return int(head[0].split(" ")[1]), headers.get("x-rule-version")


def churn_client():
    while not stop.is_set():
        try:
            status, _ = fetch()
            churn["ok" if status == 200 else "failed"] += 1
        except (OSError, ValueError, IndexError):
            churn["failed"] += 1
        stop.wait(0.05)


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stats():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/api/stats", timeout=5) as r:
            return json.load(r)["memory"]
    except (OSError, ValueError, KeyError):
        return None


def edit_script(n):
    version = f"{n}-{int(time.time())}"
    text = f'Response.Headers.Set("X-Rule-Version", "{version}");\n'
    if n % 2 == 0:
        with open(script, "w") as f:
            f.write(text)
    else:
        temporary = os.path.join(os.path.dirname(script), ".stamp.csx.tmp")
        with open(temporary, "w") as f:
            f.write(text)
        os.rename(temporary, script)
    changed = time.monotonic()
    while time.monotonic() - changed < interval:
        try:
            if fetch()[1] == version:
                return (time.monotonic() - changed) * 1000
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.005)
    return None


def reload_configuration(n):
    with open(config) as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("timeout_server")]
    lines.insert(lines.index("[defaults]") + 1, f'timeout_server = "{30 + n % 2}s"')
    with open(config + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(config + ".tmp", config)
    os.kill(pid, signal.SIGHUP)


def new_plugin_build(n):
    source = os.path.join(builds, f"v{1 + n % 2}", "PluginProxy.Http")
    target = os.path.join(plugins, "PluginProxy.Http")
    for name in sorted(os.listdir(source)):
        shutil.copyfile(os.path.join(source, name), os.path.join(target, name))


threading.Thread(target=churn_client, daemon=True).start()
began = time.monotonic()
samples, edits, missed = [], [], 0
step = 0
while time.monotonic() - began < duration:
    due = began + step * interval
    time.sleep(max(0.0, due - time.monotonic()))
    kind = step % 3
    if kind == 0:
        latency = edit_script(step // 3)
        if latency is None:
            missed += 1
            print(f"  {time.monotonic() - began:6.0f} s: script edit not live after {interval:.0f} s", flush=True)
        else:
            edits.append(latency)
    elif kind == 1:
        reload_configuration(step // 3)
    else:
        new_plugin_build(step // 3)
    memory = stats()
    samples.append((time.monotonic() - began, rss_kib(), memory))
    if step % 30 == 0:
        heap = f", managed heap {memory['managed_heap_bytes'] // 1048576} MiB, gen2 GCs {memory['gc_collections'][2]}" if memory else ""
        print(f"  {samples[-1][0]:6.0f} s: {step} reloads, RSS {samples[-1][1] // 1024} MiB{heap}", flush=True)
    step += 1
stop.set()

edits.sort()
if edits:
    p = lambda q: edits[min(len(edits) - 1, int(q * len(edits)))]
    print(f"script edits: {len(edits) + missed}, edit to live: median {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms, max {edits[-1]:.0f} ms; "
          f"over 1 s: {sum(1 for e in edits if e > 1000) + missed}, not live within {interval:.0f} s: {missed}")
print(f"churn requests (a new connection each): ok {churn['ok']}, failed {churn['failed']}")
# The first minute warms the process up (JIT, first compile, first plugin versions); the trend is measured after it.
warm = [s for s in samples if s[0] >= 60] or samples
first, last = warm[0], warm[-1]
rss = [s[1] for s in warm]
growth = (last[1] - first[1]) / first[1] * 100
print(f"RSS after warm-up {first[1] // 1024} MiB, at the end {last[1] // 1024} MiB ({growth:+.1f}%), min {min(rss) // 1024} MiB, max {max(rss) // 1024} MiB "
      f"over {step} reloads in {samples[-1][0]:.0f} s")
if first[2] and last[2]:
    print(f"managed heap {first[2]['managed_heap_bytes'] // 1048576} -> {last[2]['managed_heap_bytes'] // 1048576} MiB, "
          f"GC committed {first[2]['gc_heap_committed_bytes'] // 1048576} -> {last[2]['gc_heap_committed_bytes'] // 1048576} MiB, "
          f"gen2 GCs {first[2]['gc_collections'][2]} -> {last[2]['gc_collections'][2]}")
with open(os.path.join(os.path.dirname(config), "memory.csv"), "w") as f:
    f.write("seconds,rss_kib,managed_heap_bytes,gc_committed_bytes,gen2\n")
    for t, r, m in samples:
        f.write(f"{t:.0f},{r},{m['managed_heap_bytes'] if m else ''},{m['gc_heap_committed_bytes'] if m else ''},{m['gc_collections'][2] if m else ''}\n")
sys.exit(0 if churn["failed"] == 0 and missed == 0 else 2)
