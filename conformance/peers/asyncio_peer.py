#!/usr/bin/env python3
"""The real asyncio's streams, as the peer of sluice's interop tests
(backends/asio/asyncio_interop_test.cc, backends/libevent/
asyncio_interop_test.cc, and over TLS conformance/tls/*_asyncio_tls_test.cc;
conformance/peers/asyncio_peer.h starts it). Standard library only; every
wait is bounded (TIMEOUT). Needs Python 3.11+ (StreamWriter.start_tls).

    asyncio_peer.py server MODE [--cert FILE --key FILE]
        asyncio.start_server on 127.0.0.1, port 0 (with --cert and --key:
        ssl= a server context presenting them). Prints "port N" once
        listening, serves until its standard input closes, then exits 0, or
        1 if a connection went wrong (the reason on stderr). MODE:
          echo       writes each line back (drained) until EOF, then closes;
          summarize  reads to EOF, answers "LENGTH CRC32\\n" (CRC-32 in 8
                     lower-case hex digits), then closes (plain only);
          starttls   plain until the client's "STARTTLS\\n", answers "OK\\n",
                     then writer.start_tls() with --cert/--key, then echo.

    asyncio_peer.py client MODE HOST PORT [--cafile FILE] [--server-hostname NAME]
        asyncio.open_connection to HOST:PORT (with --cafile: ssl= a client
        context trusting it, checking NAME, by default HOST); exits 0 when
        the exchange was right, else 1 with the reason on stderr. MODE:
          lines       sends a few lines, expects each echoed (echo server),
                      then write_eof() and EOF back (TLS has no write_eof:
                      it closes instead);
          large       sends LARGE_BYTES in lines of varying length while
                      reading the echo, compares the SHA-256 of both ways
                      (TLS: reads exactly LARGE_BYTES, no write_eof);
          half_close  sends LARGE_BYTES, write_eof(), reads to EOF and
                      expects "LENGTH CRC32\\n" of what it sent (plain only);
          starttls    plain: sends "STARTTLS\\n", expects "OK\\n", then
                      writer.start_tls() (--cafile, NAME), then lines;
          starttls_pipelined
                      sends "STARTTLS\\n" and at once writer.start_tls(), so
                      its ClientHello arrives in the same segment (nothing
                      is answered in clear), then lines.
"""

import asyncio
import hashlib
import random
import socket
import ssl
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


async def starttls(reader, writer, context):
    try:
        command = await reader.readline()
        if command != b"STARTTLS\n":
            raise RuntimeError(f"expected STARTTLS, got {command!r}")
        writer.write(b"OK\n")
        await writer.start_tls(context)   # drains first
    except Exception as e:
        failures.append(f"starttls: {e!r}")
        writer.close()
        return
    await echo(reader, writer)


async def serve(mode, context):
    if mode == "starttls":
        async def handler(reader, writer):
            await starttls(reader, writer, context)
        ssl_context = None                # plain until STARTTLS
    else:
        handler = {"echo": echo, "summarize": summarize}[mode]
        ssl_context = context
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ssl_context)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.to_thread(sys.stdin.read)       # until stdin closes
    server.close()
    await asyncio.wait_for(server.wait_closed(), TIMEOUT)


# --- client --------------------------------------------------------------

def over_tls(writer):
    return writer.get_extra_info("ssl_object") is not None


async def client_lines(reader, writer):
    for line in LINES:
        writer.write(line)
        await writer.drain()
        got = await reader.readline()
        if got != line:
            failures.append(f"sent {line[:40]!r}, got back {got[:40]!r}")
    if over_tls(writer):
        return                            # no write_eof: the caller closes
    writer.write_eof()
    rest = await reader.read()
    if rest:
        failures.append(f"unexpected bytes after the echo: {rest[:40]!r}")


async def client_large(reader, writer):
    payload = large_payload()
    tls = over_tls(writer)

    async def send():
        for k in range(0, len(payload), 100_000):
            writer.write(payload[k:k + 100_000])
            await writer.drain()
        if not tls:
            writer.write_eof()

    async def receive():
        digest = hashlib.sha256()
        size = 0
        while not tls or size < len(payload):   # plain: to EOF
            chunk = await reader.read(1 << 16)
            if not chunk:
                break
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


async def client_starttls(reader, writer, context, server_hostname):
    writer.write(b"STARTTLS\n")
    answer = await reader.readline()
    if answer != b"OK\n":
        raise RuntimeError(f"expected OK, got {answer!r}")
    await writer.start_tls(context, server_hostname=server_hostname)
    await client_lines(reader, writer)


async def client_starttls_pipelined(reader, writer, context, server_hostname):
    # TCP_CORK holds "STARTTLS\n" in the kernel until the ClientHello is
    # queued behind it (start_tls writes it in the next loop iterations),
    # so that both arrive in one segment: the server's reader has the
    # ClientHello buffered when it upgrades. The kernel sends corked bytes
    # after 200 ms anyway, so a different ordering cannot hang this.
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    loop = asyncio.get_running_loop()
    uncork = lambda: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)  # noqa: E731
    writer.write(b"STARTTLS\n")
    loop.call_soon(lambda: loop.call_soon(uncork))
    await writer.start_tls(context, server_hostname=server_hostname)
    await client_lines(reader, writer)


async def connect(mode, host, port, context, server_hostname):
    upgrades = {"starttls": client_starttls, "starttls_pipelined": client_starttls_pipelined}
    if mode in upgrades:
        reader, writer = await asyncio.open_connection(host, int(port))
        run = lambda r, w: upgrades[mode](r, w, context, server_hostname or host)  # noqa: E731
    else:
        run = {"lines": client_lines, "large": client_large,
               "half_close": client_half_close}[mode]
        reader, writer = await asyncio.open_connection(
            host, int(port), ssl=context, server_hostname=server_hostname if context else None)
    try:
        await run(reader, writer)
    finally:
        writer.close()
        await writer.wait_closed()


def split_flags(argv):
    """(positional arguments, {"--flag": value}); every flag takes a value."""
    positional, flags = [], {}
    args = iter(argv)
    for arg in args:
        if arg.startswith("--"):
            flags[arg] = next(args, None)
        else:
            positional.append(arg)
    return positional, flags


def main(argv):
    argv, flags = split_flags(argv)
    context = None
    if len(argv) == 2 and argv[0] == "server" and flags.keys() <= {"--cert", "--key"}:
        if flags:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(flags["--cert"], flags["--key"])
        coro = serve(argv[1], context)
    elif len(argv) == 4 and argv[0] == "client" and \
            flags.keys() <= {"--cafile", "--server-hostname"}:
        if "--cafile" in flags:
            context = ssl.create_default_context(cafile=flags["--cafile"])
        coro = asyncio.wait_for(
            connect(*argv[1:], context, flags.get("--server-hostname")), TIMEOUT)
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
