#!/usr/bin/env python3
"""Full TLS handshakes per second, for tests/load/https.sh (a benchmark, not a test).

    python3 tests/load/https_handshakes.py PORT DURATION CLIENTS [PATH]

CLIENTS processes start together and, until DURATION (wrk style: 8, 8s, 1m) has passed, each loops: a new TCP
connection, a TLS handshake with a new session (no session is ever offered, so the server cannot resume one; each
connection's session_reused is checked and counted), GET PATH with Connection: close, read to the server's close.
Certificates are not verified (as wrk does not); the handshake still checks the server's signature.

Prints one line:  handshakes/s p99_ms count non200 errors reused protocol cipher
(handshakes/s counts the connections whose response was a 200, completed within DURATION.)
"""
import multiprocessing
import socket
import ssl
import sys
import time


def seconds(text):
    text = text.strip()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def client(port, path, start, end, results):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    request = f"GET {path} HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n".encode()
    latencies, non200, errors, reused, protocol, cipher = [], 0, 0, 0, "-", "-"
    time.sleep(max(0.0, start - time.time()))
    while True:
        begin = time.time()
        if begin >= end:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with context.wrap_socket(raw, server_hostname="bench.test") as tls:
                    protocol, cipher = tls.version(), tls.cipher()[0]
                    if tls.session_reused:
                        reused += 1
                    tls.sendall(request)
                    response = b""
                    while True:
                        chunk = tls.recv(65536)
                        if not chunk:
                            break
                        response += chunk
        except (OSError, ssl.SSLError):
            errors += 1
            continue
        done = time.time()
        if not response.startswith((b"HTTP/1.1 200 ", b"HTTP/1.0 200 ")):
            non200 += 1
        elif done <= end:
            latencies.append(done - begin)
    results.put((latencies, non200, errors, reused, protocol, cipher))


def main():
    port, duration, clients = int(sys.argv[1]), seconds(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/small"
    start = time.time() + 0.5
    end = start + duration
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=client, args=(port, path, start, end, results)) for _ in range(clients)]
    for worker in workers:
        worker.start()
    latencies, non200, errors, reused, protocol, cipher = [], 0, 0, 0, "-", "-"
    for _ in workers:
        l, n, e, r, p, c = results.get()
        latencies += l
        non200, errors, reused = non200 + n, errors + e, reused + r
        if p != "-":
            protocol, cipher = p, c
    for worker in workers:
        worker.join()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0.0
    print(f"{len(latencies) / duration:.2f} {p99:.2f}ms {len(latencies)} {non200} {errors} {reused} {protocol} {cipher}")


if __name__ == "__main__":
    main()
