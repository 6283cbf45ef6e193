#!/usr/bin/env python3
"""The real asyncio's streams, as the peer of sluice's interop tests
(backends/asio/asyncio_interop_test.cc, backends/libevent/
asyncio_interop_test.cc; conformance/peers/asyncio_peer.h starts it).
Standard library only; every wait is bounded (TIMEOUT).

    asyncio_peer.py server MODE
        asyncio.start_server on 127.0.0.1, port 0. Prints "port N" once
        listening, serves until its standard input closes, then exits 0, or
        1 if a connection went wrong (the reason on stderr). MODE:
          echo       writes each line back (drained) until EOF, then closes;
          summarize  reads to EOF, answers "LENGTH CRC32\\n" (CRC-32 in 8
                     lower-case hex digits), then closes.

    asyncio_peer.py client MODE HOST PORT
        asyncio.open_connection to HOST:PORT; exits 0 when the exchange was
        right, else 1 with the reason on stderr. MODE:
          lines       sends a few lines, expects each echoed (echo server);
          large       sends LARGE_BYTES in lines of varying length while
                      reading the echo, compares the SHA-256 of both ways;
          half_close  sends LARGE_BYTES, write_eof(), reads to EOF and
                      expects "LENGTH CRC32\\n" of what it sent.
"""

import asyncio
import hashlib
import random
import sys
import zlib

TIMEOUT = 30
LARGE_BYTES = 8 * 1024 * 1024
LINES = [b"hello\n", b"second line\n", b"\n", b"bytes \x00\xff\r\n", b"x" * 60000 + b"\n"]

failures = []


def large_payload(seed=7):
    """LARGE_BYTES of lines (1 B .. 16 KiB each), every byte value but \\n
    inside them."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < LARGE_BYTES:
        n = rng.randint(0, 16 * 1024)
        line = bytes(rng.choice(range(256)) for _ in range(min(n, 64)))
        line = (line * (n // 64 + 1))[:n].replace(b"\n", b"\r")
        out += line + b"\n"
    return bytes(out)


# --- server --------------------------------------------------------------

async def echo(reader, writer):
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except Exception as e:
        failures.append(f"echo: {e!r}")
    writer.close()
    await writer.wait_closed()


async def summarize(reader, writer):
    try:
        data = await reader.read()
        writer.write(f"{len(data)} {zlib.crc32(data):08x}\n".encode())
        await writer.drain()
    except Exception as e:
        failures.append(f"summarize: {e!r}")
    writer.close()
    await writer.wait_closed()


async def serve(mode):
    handler = {"echo": echo, "summarize": summarize}[mode]
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.to_thread(sys.stdin.read)       # until stdin closes
    server.close()
    await asyncio.wait_for(server.wait_closed(), TIMEOUT)


# --- client --------------------------------------------------------------

async def client_lines(reader, writer):
    for line in LINES:
        writer.write(line)
        await writer.drain()
        got = await reader.readline()
        if got != line:
            failures.append(f"sent {line[:40]!r}, got back {got[:40]!r}")
    writer.write_eof()
    rest = await reader.read()
    if rest:
        failures.append(f"unexpected bytes after the echo: {rest[:40]!r}")


async def client_large(reader, writer):
    payload = large_payload()

    async def send():
        for k in range(0, len(payload), 100_000):
            writer.write(payload[k:k + 100_000])
            await writer.drain()
        writer.write_eof()

    async def receive():
        digest = hashlib.sha256()
        size = 0
        while chunk := await reader.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest()

    _, (size, received) = await asyncio.gather(send(), receive())
    if (size, received) != (len(payload), hashlib.sha256(payload).hexdigest()):
        failures.append(f"echo of {len(payload)} bytes came back as {size} bytes, "
                        "or with other bytes")


async def client_half_close(reader, writer):
    payload = large_payload(seed=11)
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    answer = await reader.read()
    want = f"{len(payload)} {zlib.crc32(payload):08x}\n".encode()
    if answer != want:
        failures.append(f"answer {answer!r}, want {want!r}")


async def connect(mode, host, port):
    run = {"lines": client_lines, "large": client_large,
           "half_close": client_half_close}[mode]
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        await run(reader, writer)
    finally:
        writer.close()
        await writer.wait_closed()


def main(argv):
    if len(argv) >= 2 and argv[0] == "server" and len(argv) == 2:
        coro = serve(argv[1])
    elif len(argv) == 4 and argv[0] == "client":
        coro = asyncio.wait_for(connect(*argv[1:]), TIMEOUT)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        asyncio.run(coro)
    except Exception as e:
        failures.append(repr(e))
    for f in failures:
        print(f"asyncio_peer.py: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
