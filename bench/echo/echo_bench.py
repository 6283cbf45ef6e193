"""The network benchmark's harness: every echo server, the same load, the same
run, results as JSON lines (one per load generator run, memory measurement or
note). ./dev bench runs it, then bench/report.py turns the lines into
BENCHMARKS.md.

    /usr/bin/python3 bench/echo/echo_bench.py --bin DIR --out FILE.jsonl \
        [--reps 3] [--duration 1.5] [--servers a,b,...] [--configs pingpong:64:64,...]
        [--memory-only | --no-memory]

DIR holds the binaries (copied out of bazel-out by ./dev bench): the
load_generator, the bench/echo servers, and the examples' echo_server of each
backend as sluice_asio_example / sluice_libevent_example when they exist. A
server whose binary (or, for uvloop, Python module) is missing is skipped with
a note, never an error.

Each repetition starts every server afresh (in a rotating order, so slow drift
of a shared machine does not favour one) and runs against it, 1.5 s each:
  pingpong and pipelined, 64 connections, lines of 64 B and 4 KiB;
  pingpong, 2,000 connections, 64 B lines (scale).
(--configs picks some of them, e.g. --configs pingpong:64:64 alone while
profiling one server; --servers picks servers, --no-memory skips memory.)
The server's CPU time (user + system, /proc/PID/stat) is recorded per run:
on a busy machine CPU per request varies less than requests per second.
Then, once per server, memory per connection: VmRSS of the whole server
(/proc/PID/status) after a warm-up connection, with 1,000 idle connections,
after one echo on each, one connection after the other (what a connection
keeps), and after one more echo on all of them at once (a burst: what the
allocator keeps of the peak). --memory-only skips the load runs (only the
memory records, a few seconds per server); --no-memory skips the memory
measurement.

Traffic stays on 127.0.0.1; every run is bounded in time and the generator
stops by itself.
"""

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's python3, the one python3-uvloop is for

# (name, binary in DIR or None for the Python servers, extra arguments, what it is)
SERVERS = [
    ("epoll", "epoll_echo_server", [], "raw epoll, writes batched per read (the ceiling)"),
    ("sluice_asio", "sluice_asio_echo_server", [], "sluice, Asio backend (examples' handler, no per-line log)"),
    ("sluice_asio_task", "sluice_asio_task_echo_server", [], "sluice, Asio backend, the same handler as a sluice::Task (coroutine forms)"),
    ("sluice_libevent", "sluice_libevent_echo_server", [], "sluice, libevent backend (examples' handler, no per-line log)"),
    ("sluice_asio_example", "sluice_asio_example", [], "examples/asio/echo_server as shipped (logs every line)"),
    ("sluice_libevent_example", "sluice_libevent_example", [], "examples/libevent/echo_server as shipped"),
    ("asio_raw", "asio_echo_server", [], "plain Asio: async_read_until + async_write per line"),
    ("libevent_raw", "libevent_echo_server", [], "plain libevent: bufferevent + evbuffer_readln per line"),
    ("libevent_event", "libevent_event_echo_server", [], "libevent's loop alone: the epoll server on raw events (event_new, EV_PERSIST)"),
    ("asyncio", None, ["--loop", "asyncio"], "CPython asyncio streams (start_server, readline, write, drain)"),
    ("uvloop", None, ["--loop", "uvloop"], "the same on uvloop"),
]

# (mode, connections, line size)
CONFIGS = [
    ("pingpong", 64, 64),
    ("pipelined", 64, 64),
    ("pingpong", 64, 4096),
    ("pipelined", 64, 4096),
    ("pingpong", 2000, 64),
]

MEMORY_CONNECTIONS = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def command(name, binary, extra, bindir):
    if binary is None:
        return [PYTHON, os.path.join(HERE, "asyncio_echo_server.py")] + extra
    return [os.path.join(bindir, binary)] + extra


def availability(name, binary, bindir):
    """None if the server can run here, else why not."""
    if binary is not None:
        path = os.path.join(bindir, binary)
        return None if os.access(path, os.X_OK) else f"{binary} not built (no such target yet)"
    if not os.access(PYTHON, os.X_OK):
        return f"{PYTHON} missing"
    if name == "uvloop":
        probe = subprocess.run([PYTHON, "-c", "import uvloop"], capture_output=True)
        if probe.returncode != 0:
            return "python3-uvloop is not installed for Debian's python3"
    return None


class Server:
    """A running echo server on 127.0.0.1, stdout to /dev/null (the examples
    log every line), ready once its port accepts a connection."""

    def __init__(self, argv):
        self.proc = None
        self.err = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server must never block on it
        for _ in range(3):  # a chosen free port can be taken before the server binds it
            self.port = free_port()
            self.proc = subprocess.Popen(
                argv + ["--host", "127.0.0.1", "--port", str(self.port)],
                stdout=subprocess.DEVNULL, stderr=self.err, preexec_fn=raise_nofile)
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"{argv[0]} did not start: {self.stderr()}")

    def _wait_ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")[-500:]

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def load(bindir, port, mode, connections, size, duration, label):
    argv = [os.path.join(bindir, "load_generator"), "--port", str(port), "--mode", mode,
            "--connections", str(connections), "--size", str(size), "--duration", str(duration),
            "--label", label]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 90)
    except subprocess.TimeoutExpired:
        return {"verified": False, "error": "load_generator timed out"}
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"verified": False, "error": f"load_generator failed: {out.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def run_load(server, bindir, name, rep, mode, connections, size, duration):
    cpu0 = server.cpu_seconds()
    r = load(bindir, server.port, mode, connections, size, duration, name)
    r["server_cpu_s"] = server.cpu_seconds() - cpu0 if server.alive() else None
    r.update(kind="run", server=name, rep=rep, mode=mode, connections=connections, size=size)
    if not server.alive():
        r["verified"] = False
        r["error"] = (r.get("error") or "") + " (the server died: " + server.stderr() + ")"
    return r


def measure_memory(server, bindir, name):
    """RSS with MEMORY_CONNECTIONS idle connections and after one echo on each."""
    warm = load(bindir, server.port, "pingpong", 1, 64, 0.2, name)
    time.sleep(0.3)
    base_fds, base = server.fds(), server.status("VmRSS")
    gen = subprocess.Popen(
        [os.path.join(bindir, "load_generator"), "--port", str(server.port), "--mode", "idle",
         "--connections", str(MEMORY_CONNECTIONS), "--size", "64", "--label", name],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    result = {"kind": "memory", "server": name, "connections": MEMORY_CONNECTIONS,
              "rss_base_kib": base, "warm_up_verified": warm.get("verified", False)}
    try:
        line = gen.stdout.readline()
        if '"connected"' not in line:
            raise RuntimeError(f"idle connections failed: {line.strip()}")
        deadline = time.monotonic() + 20
        while server.fds() < base_fds + MEMORY_CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.05)
        if server.fds() < base_fds + MEMORY_CONNECTIONS:
            raise RuntimeError(f"the server accepted {server.fds() - base_fds} of {MEMORY_CONNECTIONS}")
        time.sleep(0.3)
        result["rss_idle_kib"] = server.status("VmRSS")
        for command, key in (("echo-seq", "rss_echo_kib"), ("echo", "rss_burst_kib")):
            gen.stdin.write(command + "\n")
            gen.stdin.flush()
            line = gen.stdout.readline()
            if '"echoed"' not in line:
                raise RuntimeError(f"{command} on the idle connections failed: {line.strip()}")
            time.sleep(0.3)
            result[key] = server.status("VmRSS")
        result["verified"] = True
    except Exception as e:  # recorded, the run goes on
        result["verified"] = False
        result["error"] = str(e)
    finally:
        try:
            gen.stdin.close()
        except OSError:
            pass
        try:
            gen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            gen.kill()
            gen.wait()
    for k in ("idle", "echo", "burst"):
        if f"rss_{k}_kib" in result:
            result[f"kib_per_conn_{k}"] = (result[f"rss_{k}_kib"] - base) / MEMORY_CONNECTIONS
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="directory of the binaries")
    ap.add_argument("--out", required=True, help="JSON lines output")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.5)
    ap.add_argument("--servers", default="", help="comma-separated subset of the server names")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    only.add_argument("--memory-only", action="store_true", help="only the memory measurement")
    ap.add_argument("--configs", default="",
                    help="comma-separated subset of the loads as MODE:CONNECTIONS:SIZE, e.g. pingpong:64:64")
    args = ap.parse_args()
    if args.memory_only:
        args.reps = 0
    raise_nofile()
    wanted = set(filter(None, args.servers.split(",")))
    wanted_configs = set(filter(None, args.configs.split(",")))
    configs = [c for c in CONFIGS if not wanted_configs or "%s:%d:%d" % c in wanted_configs]
    servers = []
    with open(args.out, "w") as out:
        def emit(record):
            out.write(json.dumps(record) + "\n")
            out.flush()

        for name, binary, extra, what in SERVERS:
            if wanted and name not in wanted:
                continue
            why = availability(name, binary, args.bin)
            shown = [os.path.basename(a) if i == 0 else os.path.relpath(a, os.path.dirname(os.path.dirname(HERE)))
                     if a.startswith(HERE) else a for i, a in enumerate(command(name, binary, extra, args.bin))]
            emit({"kind": "server", "server": name, "what": what, "argv": " ".join(shown),
                  "available": why is None, "note": why or ""})
            if why is None:
                servers.append((name, command(name, binary, extra, args.bin)))
            else:
                print(f"echo_bench: skipping {name}: {why}", file=sys.stderr)

        for rep in range(args.reps):
            order = servers[rep % len(servers):] + servers[:rep % len(servers)] if servers else []
            for name, argv in order:
                t0 = time.monotonic()
                try:
                    server = Server(argv)
                except RuntimeError as e:
                    emit({"kind": "run", "server": name, "rep": rep, "verified": False, "error": str(e)})
                    continue
                try:
                    for mode, connections, size in configs:
                        emit(run_load(server, args.bin, name, rep, mode, connections, size, args.duration))
                finally:
                    server.stop()
                print(f"echo_bench: rep {rep + 1}/{args.reps} {name}: {time.monotonic() - t0:.1f} s",
                      file=sys.stderr)

        if not args.no_memory:
            for name, argv in servers:
                try:
                    server = Server(argv)
                except RuntimeError as e:
                    emit({"kind": "memory", "server": name, "verified": False, "error": str(e)})
                    continue
                try:
                    emit(measure_memory(server, args.bin, name))
                finally:
                    server.stop()
                print(f"echo_bench: memory {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
