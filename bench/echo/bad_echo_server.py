"""A broken line echo server, for load_generator_check_test.sh: it proves the
load generator's check (echo_line.h) fails a server that loses, corrupts or
repeats lines instead of letting it look fast.

    python3 bad_echo_server.py --host 127.0.0.1 --port 0 --fault drop|corrupt|repeat

Every 50th line of a connection is dropped, has a byte changed, or is echoed
twice. Prints "Serving on HOST:PORT" like the other echo servers.
"""

import argparse
import asyncio
import signal


async def handle(reader, writer, fault):
    n = 0
    try:
        while line := await reader.readline():
            n += 1
            if n % 50 == 0:
                if fault == "drop":
                    continue
                if fault == "corrupt":
                    line = line[:20] + (b"#" if line[20:21] != b"#" else b"$") + line[21:]
                if fault == "repeat":
                    writer.write(line)
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fault", choices=["drop", "corrupt", "repeat"], required=True)
    args = ap.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.fault), args.host, args.port)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"Serving on {host}:{port}", flush=True)
    async with server:
        await stop


asyncio.run(main())
