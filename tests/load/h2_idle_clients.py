#!/usr/bin/env python3
"""Opens N HTTP/2 cleartext connections (h2c with prior knowledge) to host:port one after the other. On each: the client
preface, an empty SETTINGS, and one HEADERS frame for GET <path> (END_STREAM), then frames are read until the response
ends (END_STREAM on stream 1), acknowledging the server's SETTINGS and answering its PINGs on the way. The connection
is then left open and idle, as a browser's is between page loads. Prints 'ready <n> <not200>' once all are open and
idle (<not200>: responses whose status was not 200), holds them until stdin closes, then prints 'closed <k>': how many
the server had closed (or sent GOAWAY on) meanwhile. Used by h2.sh to measure the memory each contender spends on an
idle HTTP/2 connection.

The request's header block is HPACK written by hand (RFC 7541): indexed fields from the static table for
':method: GET' (index 2) and ':scheme: http' (index 6), and literal fields without indexing, no Huffman, with indexed
names for ':path' (index 4) and ':authority' (index 1)."""
import socket
import struct
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
path = (sys.argv[4] if len(sys.argv) > 4 else "/small").encode()
authority = b"bench"

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name_index, value):
    # Literal header field without indexing, indexed name (4-bit prefix), raw string (7-bit length, no Huffman).
    assert name_index < 15 and len(value) < 127
    return bytes([name_index, len(value)]) + value


BLOCK = bytes([0x82, 0x86]) + literal(4, path) + literal(1, authority)
HELLO = PREFACE + frame(SETTINGS, 0, 0) + frame(HEADERS, END_STREAM | END_HEADERS, 1, BLOCK)


def read_exact(s, n, pending):
    while len(pending) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection before the response ended")
        pending += chunk
    return bytes(pending[:n]), pending[n:]


def one_request(s):
    """Sends the request and reads until the response's END_STREAM; returns whether its status was 200, and the bytes
    read past that frame."""
    s.sendall(HELLO)
    pending = bytearray()
    status_ok = False
    while True:
        head, pending = read_exact(s, 9, pending)
        length = int.from_bytes(head[0:3], "big")
        kind, flags, stream = head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload, pending = read_exact(s, length, pending)
        if kind == SETTINGS and not flags & ACK:
            s.sendall(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            s.sendall(frame(PING, ACK, 0, payload))
        elif kind == GOAWAY:
            raise ConnectionError(f"GOAWAY {int.from_bytes(payload[4:8], 'big')} before the response ended")
        elif kind == RST_STREAM and stream == 1:
            raise ConnectionError(f"RST_STREAM {int.from_bytes(payload[0:4], 'big')} on the request")
        elif kind == HEADERS and stream == 1:
            block = payload
            if flags & PADDED:
                block = block[1:len(block) - block[0]]
            if flags & PRIORITY:
                block = block[5:]
            # ':status: 200' is entry 8 of the static table; every contender sends it indexed (0x88) when it is 200.
            if not status_ok and block[:1] == b"\x88":
                status_ok = True
            if flags & END_STREAM:
                return status_ok, pending
        elif kind == DATA and stream == 1 and flags & END_STREAM:
            return status_ok, pending


sockets = []  # (socket, bytes read past the response, from a frame boundary)
not_ok = 0
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10)
    s.connect((host, port))
    try:
        ok, rest = one_request(s)
        not_ok += not ok
    except (ConnectionError, OSError) as e:
        print(f"connection {i + 1}: {e}", file=sys.stderr)
        sys.exit(1)
    sockets.append((s, rest))
# Give the proxies a moment to finish their work on the last ones.
time.sleep(1.0)
print(f"ready {len(sockets)} {not_ok}", flush=True)
sys.stdin.read()

# Which connections did the server end meanwhile (EOF, or a GOAWAY among what it sent)?
closed = 0
for s, rest in sockets:
    s.setblocking(False)
    data = bytearray(rest)
    ended = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                ended = True
                break
            data += chunk
    except BlockingIOError:
        pass
    except OSError:
        ended = True
    offset = 0
    while not ended and offset + 9 <= len(data):
        if data[offset + 3] == GOAWAY:
            ended = True
        offset += 9 + int.from_bytes(data[offset:offset + 3], "big")
    closed += ended
    s.close()
print(f"closed {closed}", flush=True)
