"""A peer: asyncio's streams echo server (the asyncio docs' one), on CPython's
own event loop or on uvloop.

    python3 asyncio_echo_server.py --host 127.0.0.1 --port P [--loop uvloop]

Same command line and "Serving on HOST:PORT" line as the other echo servers
(bench/echo/server_flags.h); stops on SIGINT or SIGTERM. Run it with
Debian's /usr/bin/python3 (python3-uvloop is Debian's package for it).
"""

import argparse
import asyncio
import signal
import sys


async def handle_echo(reader, writer):
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    writer.close()


async def serve(host, port):
    server = await asyncio.start_server(handle_echo, host, port, backlog=4096)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    bound = server.sockets[0].getsockname()
    print(f"Serving on {bound[0]}:{bound[1]}", flush=True)
    async with server:
        await stop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop  # Debian's python3-uvloop

        uvloop.install()
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
