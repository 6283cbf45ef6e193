#!/usr/bin/env python3
"""Conformance vectors for sluice, generated from the REAL CPython asyncio.

This script is the reference oracle of the conformance suite: it runs vectors
(format: shared/conformance-vectors.md, version 1) against a real
``asyncio.StreamReader`` of the running Python (the reference is CPython
3.13.0) and prints what asyncio does, in exactly the output format of the
project's replay tool. Standard library only.

Usage (from the repository root)::

    PYENV_VERSION=3.13.0 python3 conformance/generate_vectors.py
        Regenerate everything: every vector is written to
        conformance/vectors/NAME.jsonl and the reference results to
        conformance/expected/NAME.jsonl (results only, no {"vector":...}
        header line). Stale NAME.jsonl files in both directories are removed.
        Deterministic (seeded RNGs): re-running gives identical files.

    PYENV_VERSION=3.13.0 python3 conformance/generate_vectors.py --expect [FILE ...]
        "Reference replay", a drop-in for ``replay --backend=... [FILE ...]``:
        with FILEs it prints, for each, a line {"vector":"FILE"} followed by
        that vector's results; with no FILE it reads one vector from standard
        input and prints its results without the header line. Exit status 0
        when every vector ran, 2 for unusable input (not JSON, unknown op, bad
        member, config not on line 0, a feed after feed_eof - which asyncio
        asserts against), with a message naming the file and line on stderr.

    PYENV_VERSION=3.13.0 python3 conformance/generate_vectors.py --sensitivity FILE...
        Print, for each FILE, whether it is chunk-sensitive and the first
        re-chunking that changes its results (a diagnostic).

    PYENV_VERSION=3.13.0 python3 conformance/generate_vectors.py --selftest
        Check the emulation against results verified by hand in
        shared/reference/asyncio-streams-spec.md.

How a vector is replayed (identical in every mode)
--------------------------------------------------
A fresh event loop and ``asyncio.StreamReader(limit=...)`` (65536 without a
config line). ``{"op":"config","limit":N}`` with N <= 0: the constructor's
ValueError is printed as {"i":0,"error":"invalid_argument"} and the remaining
lines are ignored. Lines are processed in order; after each line the event
loop runs until it is quiescent (``await asyncio.sleep(0)`` until no callback
is ready), so every task woken by that line has finished or waits again.

  * feed / feed_eof / set_exception call feed_data(bytes) / feed_eof() /
    set_exception(ConnectionResetError()).
  * A read op is started as a task; a done-callback records its result, so
    results appear in the order they become available: a read that completes
    within the quiescence is printed at once, a pending one when a later line
    completes it (a second read that completes at once while the first still
    waits is printed before the first). Reads still pending after the last
    line are printed as {"i":i,"pending":true}, in order of i.
  * at_eof prints {"i":i,"bool":reader.at_eof()}.
  * readuntil's "sep" list is passed as a Python tuple (CPython 3.13 form).
  * Exceptions: IncompleteReadError -> incomplete_read (partial, expected or
    null); LimitOverrunError -> limit_overrun with consumed; the ValueError
    readline raises for the limit -> limit_overrun without consumed; any other
    ValueError (negative readexactly, empty separator, empty tuple) ->
    invalid_argument; ConnectionResetError -> connection_error; RuntimeError
    "... already waiting ..." -> concurrent_read.
  * Output: compact JSON (separators ",", ":"), members in the order of the
    format doc, bytes as lower-case hex.

chunk_sensitive: how it is computed
-----------------------------------
Over a network the bytes of one ``feed`` line may reach the reader in several
pieces, and several feed lines may arrive as one piece; and the network replay
tool stops delivering while the reader has paused reading (more than 2*limit
buffered), so the rest stays in the socket until reads drain the buffer (format
doc, "Running it over a network backend"). A real connection also cannot
carry every line (the replay tool's rules, see network_ops()): after
set_exception (the peer's reset) the connection is gone, so later feed,
feed_eof and set_exception lines never arrive; and a set_exception after
feed_eof never reaches the reader (once it has the EOF it stops reading, as
asyncio's transports do, and Linux reports the FIN before a reset behind it).
A vector is chunk-sensitive when any of these re-runs, of its ops as a
network carries them, gives results different from the reference results:

  chunkings (each piece is delivered as if it were its own line, with a
  quiescent event loop between pieces):
    1. the original feeds;
    2. every feed split into 1-byte feeds;
    3. five seeded random splits of every feed (seed: CRC-32 of the vector
       name; each byte boundary is a cut with probability 1/2, 1/3, 1/4, 1/6
       or 1/10);
    4. every run of consecutive feed lines (no other line between them)
       merged into one feed;
  each chunking run three times: without flow control (chunking 1 is then the
  reference itself, unless the network rules dropped a line), and twice with
  flow control emulated like the network tool: a fake transport records
  pause_reading()/resume_reading(); delivered pieces, the EOF and the reset
  queue up in order ("the socket") and are delivered only while the reader is
  not paused, with quiescence between deliveries (so bytes fed after a pause,
  and any EOF or reset behind them, wait until a read resumes reading). The
  two flow-control runs differ in how queued bytes come out: one piece at a
  time, or all the bytes queued together (up to 64 KiB), as one recv() of a
  backend takes them when reading resumes.

Results are compared as lists: every result keeps the line index i of the
original op (a piece of a split feed belongs to its original line, a merged
feed to the first line of its run; feeds produce no results of their own), so
the lists are equal exactly when the same reads give the same results in the
same order. If any run differs, the vector's config line gets
"chunk_sensitive":true (a config line with the limit is added if the vector
has none; its expected results are then computed with that line in place, so
every i counts it).

The vectors
-----------
  * Named edge cases (one small file each, a "note" member in the config line
    says what it shows): every rule of spec section 1 plus the cases of
    CPython's test_streams.py (DATA = b'line1\\nline2\\nline3\\n').
  * random_NNNN: seeded random sequences of all ops (limits 1..64, sometimes
    the default; bytes biased toward \\n, \\r, a and b; random chunking;
    single and multi-separator readuntil; at_eof; feed_eof near the end;
    occasionally set_exception), each under 60 lines.
"""

import argparse
import asyncio
import collections
import json
import os
import random
import re
import sys
import zlib

DEFAULT_LIMIT = 65536

HERE = os.path.dirname(os.path.abspath(__file__))
VECTOR_DIR = os.path.join(HERE, "vectors")
EXPECTED_DIR = os.path.join(HERE, "expected")

READ_OPS = ("read", "readline", "readexactly", "readuntil")
_HEX_RE = re.compile(r"\A(?:[0-9a-fA-F]{2})*\Z")


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


# ---------------------------------------------------------------------------
# Parsing a vector.
# ---------------------------------------------------------------------------

class VectorError(Exception):
    """Unusable input: the message names the file and line."""


class Vector:
    """A parsed vector: limit (int), ops [(i, kind, arg)], has_config."""

    def __init__(self, limit, ops, has_config, config):
        self.limit = limit
        self.ops = ops
        self.has_config = has_config
        self.config = config


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def parse_vector(text, name="<stdin>"):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    limit = DEFAULT_LIMIT
    has_config = False
    config = None
    ops = []
    eof_fed = False

    def bad(i, msg):
        raise VectorError(f"{name}:{i + 1}: {msg}")

    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError as e:
            bad(i, f"not JSON ({e})")
        if not isinstance(obj, dict):
            bad(i, "not a JSON object")
        op = obj.get("op")
        if not isinstance(op, str):
            bad(i, 'no "op" string')
        if op == "config":
            if i != 0:
                bad(i, "config is allowed on the first line only")
            has_config = True
            config = obj
            if "limit" in obj:
                if not _is_int(obj["limit"]):
                    bad(i, "config limit must be an integer")
                limit = obj["limit"]
        elif op == "feed":
            h = obj.get("hex")
            if not isinstance(h, str) or not _HEX_RE.match(h):
                bad(i, 'feed needs "hex": an even number of hex digits')
            if eof_fed:
                bad(i, "feed after feed_eof (asyncio asserts; undefined)")
            ops.append((i, "feed", bytes.fromhex(h)))
        elif op == "feed_eof":
            eof_fed = True
            ops.append((i, "feed_eof", None))
        elif op == "set_exception":
            ops.append((i, "set_exception", None))
        elif op in ("read", "readexactly"):
            n = obj.get("n")
            if not _is_int(n):
                bad(i, f'{op} needs an integer "n"')
            ops.append((i, op, n))
        elif op == "readline":
            ops.append((i, "readline", None))
        elif op == "readuntil":
            sep = obj.get("sep")
            if isinstance(sep, str):
                if not _HEX_RE.match(sep):
                    bad(i, '"sep" must be hex')
                arg = bytes.fromhex(sep)
            elif isinstance(sep, list):
                if not all(isinstance(s, str) and _HEX_RE.match(s) for s in sep):
                    bad(i, '"sep" list members must be hex strings')
                arg = tuple(bytes.fromhex(s) for s in sep)
            else:
                bad(i, 'readuntil needs "sep": a hex string or a list of them')
            ops.append((i, "readuntil", arg))
        elif op == "at_eof":
            ops.append((i, "at_eof", None))
        else:
            bad(i, f"unknown op {op!r}")
    return Vector(limit, ops, has_config, config)


# ---------------------------------------------------------------------------
# Running a vector against the real asyncio.StreamReader.
# ---------------------------------------------------------------------------

class _FakeTransport:
    """Records pause_reading/resume_reading calls from the StreamReader."""

    def __init__(self):
        self.paused = False

    def pause_reading(self):
        self.paused = True

    def resume_reading(self):
        self.paused = False


async def _quiesce():
    """Run the loop until no callback is ready (no timers or I/O are used)."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)
    if ready is None:                      # not the stock event loop
        for _ in range(64):
            await asyncio.sleep(0)
        return
    for _ in range(100000):
        await asyncio.sleep(0)
        if not ready:
            return
    raise RuntimeError("event loop does not become quiescent")


def _result_of(task, i, kind):
    if task.cancelled():
        raise RuntimeError(f"read {i} was cancelled")
    exc = task.exception()
    if exc is None:
        return {"i": i, "hex": task.result().hex()}
    if isinstance(exc, asyncio.IncompleteReadError):
        return {"i": i, "error": "incomplete_read",
                "partial": exc.partial.hex(), "expected": exc.expected}
    if isinstance(exc, asyncio.LimitOverrunError):
        return {"i": i, "error": "limit_overrun", "consumed": exc.consumed}
    if isinstance(exc, ValueError):
        if kind == "readline" and str(exc).startswith("Separator is"):
            return {"i": i, "error": "limit_overrun"}
        return {"i": i, "error": "invalid_argument"}
    if isinstance(exc, ConnectionResetError):
        return {"i": i, "error": "connection_error"}
    if isinstance(exc, RuntimeError) and "already waiting" in str(exc):
        return {"i": i, "error": "concurrent_read"}
    raise RuntimeError(f"unexpected exception from read {i}: {exc!r}")


# How the emulated network tool delivers what waits in "the socket" while the
# reader is not paused (flow control emulated; see chunk_sensitive above).
FLOW_ONE_BY_ONE = "one-by-one"   # each queued piece on its own
FLOW_MERGED = "merged"           # queued bytes together, as one recv() takes them
RECV_CHUNK = 65536               # the most one recv() of the Asio backend takes


async def _replay(limit, ops, flow):
    loop = asyncio.get_running_loop()
    try:
        reader = asyncio.StreamReader(limit=limit)
    except ValueError:
        return [{"i": 0, "error": "invalid_argument"}]
    transport = None
    if flow:
        transport = _FakeTransport()
        reader.set_transport(transport)
    out = []
    failures = []
    pending = {}                      # task -> (i, its done-callback)
    socket = collections.deque()      # events not yet delivered to the reader

    def deliver(ev):
        kind, arg = ev
        if kind == "feed":
            reader.feed_data(arg)
        elif kind == "feed_eof":
            reader.feed_eof()
        else:
            reader.set_exception(ConnectionResetError())

    async def settle():
        while True:
            await _quiesce()
            if socket and not (transport is not None and transport.paused):
                ev = socket.popleft()
                if flow == FLOW_MERGED and ev[0] == "feed":
                    # One recv() takes every byte waiting in the socket (up
                    # to its size), whichever feed lines they came from.
                    data = bytearray(ev[1])
                    while socket and socket[0][0] == "feed":
                        data += socket.popleft()[1]
                    if len(data) > RECV_CHUNK:
                        socket.appendleft(("feed", bytes(data[RECV_CHUNK:])))
                        del data[RECV_CHUNK:]
                    ev = ("feed", bytes(data))
                deliver(ev)
                continue
            return

    def start(i, kind, arg):
        if kind == "read":
            coro = reader.read(arg)
        elif kind == "readline":
            coro = reader.readline()
        elif kind == "readexactly":
            coro = reader.readexactly(arg)
        else:
            coro = reader.readuntil(arg)
        task = loop.create_task(coro)

        def done(t, i=i, kind=kind):
            del pending[t]
            try:
                out.append(_result_of(t, i, kind))
            except BaseException as e:     # the loop would only log it
                failures.append(e)
        pending[task] = (i, done)
        task.add_done_callback(done)

    for i, kind, arg in ops:
        if kind in ("feed", "feed_eof", "set_exception"):
            if kind == "feed" and not arg:
                pass                  # feed_data(b'') is a no-op (spec 1.3)
            else:
                socket.append((kind, arg))
        elif kind == "at_eof":
            out.append({"i": i, "bool": reader.at_eof()})
        else:
            start(i, kind, arg)
        await settle()
        if failures:
            raise failures[0]

    left = sorted(pending.items(), key=lambda kv: kv[1][0])
    for task, (i, done) in left:
        out.append({"i": i, "pending": True})
        task.remove_done_callback(done)
        task.cancel()
    if left:
        await asyncio.gather(*(t for t, _ in left), return_exceptions=True)
    return out


def run_ops(limit, ops, flow=None):
    """Results (list of dicts) of ops [(i, kind, arg)] on a reader; flow is
    None (no flow control) or FLOW_ONE_BY_ONE / FLOW_MERGED."""
    return asyncio.run(_replay(limit, ops, flow))


def reference_results(vec):
    return run_ops(vec.limit, vec.ops)


# ---------------------------------------------------------------------------
# Chunk sensitivity.
# ---------------------------------------------------------------------------

def _split_feeds(ops, cut):
    """Split every feed's bytes at the positions cut(data) returns."""
    res = []
    for i, kind, arg in ops:
        if kind == "feed" and len(arg) > 1:
            pos = [0] + sorted(cut(arg)) + [len(arg)]
            for a, b in zip(pos, pos[1:]):
                if b > a:
                    res.append((i, "feed", arg[a:b]))
        else:
            res.append((i, kind, arg))
    return res


def _merge_feeds(ops):
    res = []
    for i, kind, arg in ops:
        if kind == "feed" and res and res[-1][1] == "feed":
            j, _, prev = res[-1]
            res[-1] = (j, "feed", prev + arg)
        else:
            res.append((i, kind, arg))
    return res


def chunkings(vec, name):
    """[(label, ops)]: the re-chunkings the sensitivity check runs."""
    rng = random.Random(zlib.crc32(name.encode()))
    out = [("original", vec.ops),
           ("1-byte", _split_feeds(vec.ops, lambda d: range(1, len(d))))]
    for p in (2, 3, 4, 6, 10):
        out.append((f"random-1/{p}", _split_feeds(
            vec.ops,
            lambda d, p=p: [k for k in range(1, len(d)) if rng.randrange(p) == 0])))
    out.append(("merged", _merge_feeds(vec.ops)))
    return out


def network_ops(ops):
    """The ops as a real connection can carry them: after set_exception (the
    peer's reset) the connection is gone, so later feed, feed_eof and
    set_exception lines never arrive; and a set_exception after feed_eof never
    reaches the reader (once it has the EOF it stops reading, as asyncio's
    transports do, and Linux reports the FIN before a reset behind it)."""
    res = []
    eof = reset = False
    for i, kind, arg in ops:
        if kind in ("feed", "feed_eof", "set_exception"):
            if reset or (kind == "set_exception" and eof):
                continue
            eof = eof or kind == "feed_eof"
            reset = reset or kind == "set_exception"
        res.append((i, kind, arg))
    return res


class _NetVector:
    def __init__(self, vec):
        self.limit = vec.limit
        self.ops = network_ops(vec.ops)


def sensitivity(vec, name, ref=None):
    """None if not chunk-sensitive, else a label of the first differing run."""
    if vec.limit <= 0:
        return None
    if ref is None:
        ref = reference_results(vec)
    net = _NetVector(vec)
    for flow in (None, FLOW_ONE_BY_ONE, FLOW_MERGED):
        for label, ops in chunkings(net, name):
            if label == "original" and flow is None and net.ops == vec.ops:
                continue              # the reference itself
            if run_ops(vec.limit, ops, flow) != ref:
                return label + (f" +flow-control ({flow})" if flow else "")
    return None


# ---------------------------------------------------------------------------
# --expect: the reference replay.
# ---------------------------------------------------------------------------

def expect_main(files):
    try:
        if not files:
            vec = parse_vector(sys.stdin.read(), "<stdin>")
            for r in reference_results(vec):
                print(dumps(r))
            return 0
        for f in files:
            try:
                with open(f, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as e:
                raise VectorError(f"{f}: {e.strerror}")
            vec = parse_vector(text, f)
            print(dumps({"vector": f}))
            for r in reference_results(vec):
                print(dumps(r))
            sys.stdout.flush()
        return 0
    except VectorError as e:
        sys.stdout.flush()
        print(f"generate_vectors.py: {e}", file=sys.stderr)
        return 2


def sensitivity_main(files):
    status = 0
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                vec = parse_vector(fh.read(), f)
        except (OSError, VectorError) as e:
            print(f"generate_vectors.py: {e}", file=sys.stderr)
            status = 2
            continue
        name = os.path.splitext(os.path.basename(f))[0]
        s = sensitivity(vec, name)
        flag = bool(vec.config and vec.config.get("chunk_sensitive"))
        print(dumps({"vector": f, "chunk_sensitive": s is not None,
                     "first_difference": s, "flagged": flag}))
    return status


# ---------------------------------------------------------------------------
# Building vectors.
# ---------------------------------------------------------------------------

def _b(x):
    return x.encode("latin-1") if isinstance(x, str) else bytes(x)


def F(x):
    """feed"""
    return {"op": "feed", "hex": _b(x).hex()}


EOF_ = {"op": "feed_eof"}
EXC = {"op": "set_exception"}
RL = {"op": "readline"}
AT = {"op": "at_eof"}


def R(n):
    return {"op": "read", "n": n}


def RX(n):
    return {"op": "readexactly", "n": n}


def RU(sep):
    """readuntil: bytes/str is one separator, a tuple or list is several."""
    if isinstance(sep, (tuple, list)):
        return {"op": "readuntil", "sep": [_b(s).hex() for s in sep]}
    return {"op": "readuntil", "sep": _b(sep).hex()}


def FEEDS(*chunks):
    return [F(c) for c in chunks]


DATA = b"line1\nline2\nline3\n"

NAMED = []   # [(name, config dict or None, [op dicts])]


def V(name, note, limit, *ops):
    """A named vector; limit None means no config line (default limit)."""
    flat = []
    for o in ops:
        if isinstance(o, list):
            flat.extend(o)
        else:
            flat.append(o)
    cfg = None
    if limit is not None or note:
        cfg = {"op": "config"}
        if limit is not None:
            cfg["limit"] = limit
        if note:
            cfg["note"] = note
    assert all(n != name for n, _, _ in NAMED), name
    NAMED.append((name, cfg, flat))


# ---------------------------------------------------------------------------
# Named edge cases (spec section 1, in its order).
# ---------------------------------------------------------------------------

def _named():
    # --- config / limit (1.2) -------------------------------------------
    V("limit_zero_invalid", "limit 0: the constructor raises ValueError; the "
      "rest of the vector is ignored", 0, F("ab\n"), RL, R(-1))
    V("limit_negative_invalid", "limit -1 is invalid too", -1, F("ab"), R(1))
    V("default_limit_no_config", None, None, F(b"x" * 100 + b"\n"), RL,
      F("tail"), EOF_, RL, AT)
    V("default_limit_readline_boundary", None, None, F(b"x" * 65536), RL,
      AT, F("y"), F("z\n"), RL)
    V("limit_config_only_limit_member", "config may carry unknown members "
      "(this note); they are ignored", 5, F("abcdef\n"), RL)

    # --- feeding (1.3) ----------------------------------------------------
    V("feed_empty_data", "an empty feed buffers nothing", 8, F(""), AT, R(0),
      F(""), EOF_, AT, R(-1))
    V("feed_empty_does_not_wake_pending_read", "an empty feed does not "
      "complete a pending read", 8, R(5), F(""), F(""), AT, F("ab"))
    V("feed_empty_pending_at_end", "a read pending behind empty feeds stays "
      "pending", 8, RL, F(""), F(""))
    V("feed_empty_while_readuntil_pending", "empty feeds between the two "
      "bytes of a split separator", 8, RU("\r\n"), F("ab\r"), F(""), F("\n"))
    V("feed_empty_before_eof", "empty feed, then EOF", 8, F("ab"), F(""),
      EOF_, R(-1), AT)
    V("feed_eof_idempotent", "feed_eof twice is harmless", 8, F("ab"), EOF_,
      EOF_, R(-1), AT, EOF_, R(5), AT)
    V("feed_eof_only", "EOF with nothing buffered", 8, AT, EOF_, AT, R(1),
      RL, RX(0), AT)
    V("feed_after_exception_still_errors", "bytes fed after set_exception "
      "are buffered but unreachable", 8, EXC, F("abc"), R(1), AT, EOF_, AT,
      R(0))
    V("set_exception_twice", "a second set_exception replaces the first; "
      "reads still fail", 8, F("a"), EXC, EXC, R(1), RL)
    V("set_exception_then_feed_eof", "exception, then EOF: at_eof is true "
      "(nothing buffered) but reads fail", 8, EXC, EOF_, AT, R(0), R(-1))
    V("set_exception_after_eof", "EOF with data buffered, then exception: "
      "reads fail, at_eof stays false", 8, F("ab"), EOF_, EXC, AT, R(2),
      R(-1), AT)

    # --- at_eof (1.3) -------------------------------------------------------
    V("cpython_at_eof", "test_at_eof: false until EOF is fed and the buffer "
      "drained", None, AT, F("some data\n"), AT, RL, AT, EOF_, AT)
    V("at_eof_false_until_drained", "at_eof needs EOF and an empty buffer",
      8, F("ab"), EOF_, AT, R(1), AT, R(1), AT, R(1), AT)
    V("at_eof_after_readexactly_partial", "readexactly's EOF error empties "
      "the buffer", 8, F("ab"), EOF_, AT, RX(5), AT)
    V("at_eof_after_readuntil_incomplete", "readuntil's EOF error empties "
      "the buffer", 8, F("ab"), EOF_, RU("\n"), AT)
    V("at_eof_after_readline_overrun_at_eof", "readline's limit error clears "
      "an unterminated buffer", 3, F("abcd"), EOF_, AT, RL, AT)
    V("at_eof_after_readuntil_overrun_at_eof", "readuntil's limit error "
      "leaves the buffer", 3, F("abcdef"), EOF_, RU("\n"), AT, R(-1), AT)
    V("at_eof_exception_only", "an exception does not make at_eof true", 8,
      F("ab"), EXC, AT, EXC, AT)
    V("at_eof_while_read_pending", "at_eof while a read waits", 8, R(5), AT,
      EOF_, AT)

    # --- concurrent reads (1.4) -------------------------------------------
    V("concurrent_read_second_waits", "a second read that would have to wait "
      "fails; the first is unaffected", 8, R(5), RL, AT, F("ab\n"))
    V("concurrent_read_second_completes", "a second read that can complete at "
      "once does, and prints before the first", 8, F("abc"), RX(5), R(2),
      F("defg"))
    V("concurrent_readline_while_readuntil_pending", "readline completes "
      "from bytes the pending readuntil does not want", 16, F("ab\ncd"),
      RU("X"), RL, R(1), F("dX"))
    V("concurrent_readline_both_wait", "two readlines: the second fails "
      "(asyncio reports it as readuntil)", 8, RL, RL, F("x\n"), RL, RL)
    V("concurrent_read_zero_while_pending", "read(0) never waits", 8, R(5),
      R(0), F("abc"))
    V("concurrent_readexactly_zero_while_pending", "readexactly(0) never "
      "waits", 8, RU("\n"), RX(0), F("abc\n"))
    V("concurrent_invalid_argument_while_pending", "argument errors are "
      "reported before the wait check", 8, RL, RX(-1), RU(""), RU(()),
      RU(("\n", "")), F("a\n"))
    V("concurrent_read_all_loses_collected", "read(-1) takes the buffered "
      "bytes, then fails waiting: those bytes are lost", 8, F("abc"), RU("\n"),
      R(-1), AT, F("x\n"), F("yz\n"), R(-1))
    V("concurrent_read_while_read_all_pending", "read(-1) waits with its "
      "collected bytes; a read(1) cannot wait too", 8, R(-1), F("ab"), R(1),
      F("cd"), EOF_)
    V("concurrent_readexactly_pending_partial_taken", "a second read takes "
      "bytes a pending readexactly was waiting to complete", 8, RX(4), F("ab"),
      R(1), F("cd"), F("e"))
    V("concurrent_second_after_first_completed", "after the first completes, "
      "a new read may wait", 8, R(3), F("ab"), RL, F("c\n"))
    V("concurrent_exception_wakes_then_reads_fail", "set_exception completes "
      "the waiting read; later reads fail", 8, RL, RX(3), EXC, RL, R(0))
    V("concurrent_readuntil_tuple_second_waits", "tuple readuntil as the "
      "second reader", 8, RU("\n"), RU(("\r", "\n")), F("a\r"), RU(("\r",)),
      F("b\n"))

    # --- order of checks (1.5) --------------------------------------------
    V("exception_beats_buffered_all_reads", "a held exception wins over "
      "buffered data for every read, read(0) and readexactly(0) included", 8,
      F("line1\nline2\n"), EXC, R(0), R(5), R(-1), RX(0), RX(3), RL, RU("\n"),
      RU(("\n", "\r\n")), AT)
    V("invalid_argument_beats_exception", "argument errors are reported "
      "even with an exception held", 8, F("ab\n"), EXC, RX(-1), RU(""), RU(()),
      RU(("a", "")), RU(("",)), R(-1), RX(0))
    V("read_zero_with_exception", "read(0) raises the held exception", 8,
      F(DATA), EXC, R(0))
    V("readexactly_zero_with_exception", "readexactly(0) raises the held "
      "exception", 8, F(DATA), EXC, RX(0))
    V("readexactly_negative_with_exception", "readexactly(-1) is an argument "
      "error, even with an exception held", 8, EXC, RX(-1), RX(-5))
    V("readuntil_empty_sep_with_exception", "readuntil(b'') is an argument "
      "error, even with an exception held", 8, EXC, RU(""), RU("\n"))

    # --- read(n) (1.6) ------------------------------------------------------
    V("cpython_read_zero", "test_read_zero: read(0) returns b'' and consumes "
      "nothing", None, F(DATA), R(0), R(18))
    V("read_zero_empty_no_wait", "read(0) on an empty stream returns at once",
      8, R(0), AT, F("a"), R(0), R(1))
    V("read_zero_at_eof", "read(0) at EOF", 8, EOF_, R(0), AT)
    V("cpython_read", "test_read: a pending read(30) gets the 18 bytes fed",
      None, R(30), F(DATA), AT)
    V("cpython_read_line_breaks", "test_read_line_breaks", None, F("line1"),
      F("line2"), R(5), R(5))
    V("cpython_read_eof", "test_read_eof: a pending read is completed by EOF "
      "with b''", None, R(1024), EOF_, AT)
    V("cpython_read_until_eof", "test_read_until_eof: read(-1) joins every "
      "chunk", None, R(-1), F("chunk1\n"), F("chunk2"), EOF_, AT)
    V("cpython_read_exception", "test_read_exception: an exception wins over "
      "buffered b'ne\\n'", None, F("line\n"), R(2), EXC, R(2))
    V("cpython_read_limit", "test_read_limit: read(n) is not bounded by the "
      "limit", 3, F("chunk"), R(5))
    V("cpython_read_all_from_pipe_reader", "test_read_all_from_pipe_reader: "
      "limit 1, read(-1)", 1, R(-1), F("data"), EOF_)
    V("read_all_limit1_many_chunks", "read(-1) with limit 1 reads one byte "
      "per step", 1, R(-1), F("abc"), F(""), F("defgh"), F("i"), EOF_, AT)
    V("read_all_buffered", "read(-1) with everything buffered and EOF", 8,
      F(DATA), EOF_, R(-1), AT)
    V("read_all_empty_eof", "read(-1) at EOF with nothing buffered", 8, EOF_,
      R(-1), R(-1))
    V("read_negative_other_than_minus1", "any negative n reads to EOF", 8,
      F("abc"), R(-7), F("de"), EOF_)
    V("read_all_exception_midway_loses_data", "read(-1) interrupted by "
      "set_exception: the bytes it collected are lost", 8, R(-1), F("abc"),
      EXC, AT, R(0))
    V("read_all_exception_with_buffered", "read(-1) fails at once when an "
      "exception is held", 8, F("abc"), EXC, R(-1))
    V("read_at_eof_empty", "read(n) at EOF returns b''", 8, EOF_, R(5), R(1))
    V("read_returns_available_only", "read(n) returns as soon as one byte is "
      "buffered, at most n", 8, F("ab"), R(10), F("cdef"), R(2), R(10))
    V("read_pending_completed_by_feed_partial", "a pending read(10) returns "
      "the first chunk only", 8, R(10), F("abc"), F("def"), R(10))
    V("read_pending_set_exception", "set_exception completes a pending read "
      "with the error", 8, R(5), EXC, R(5))
    V("read_pending_at_end", "a read still waiting at the end", 8, R(5))
    V("read_all_pending_at_end", "read(-1) still waiting at the end", 8,
      R(-1), F("abc"))
    V("read_more_than_limit_buffered", "read(n) over a buffer above 2*limit",
      2, F("abcdefgh"), R(3), R(100), AT)
    V("read_then_eof_partial", "read after EOF drains the rest", 8,
      F("abcdef"), EOF_, R(4), R(4), R(4), AT)

    # --- readexactly (1.7) --------------------------------------------------
    V("cpython_readexactly_zero_or_less", "test_readexactly_zero_or_less: 0 "
      "returns b'', -1 is an argument error, nothing consumed", None, F(DATA),
      RX(0), RX(-1), EOF_, R(-1))
    V("readexactly_zero_empty_no_wait", "readexactly(0) never waits", 8, RX(0),
      AT, EOF_, RX(0))
    V("readexactly_negative_empty", "readexactly(-1) on an empty stream", 8,
      RX(-1), RX(-100), F("a"), R(1))
    V("cpython_readexactly", "test_readexactly: waits across feeds, leaves "
      "the surplus", None, RX(36), F(DATA), F(DATA), F(DATA), R(18))
    V("cpython_readexactly_limit", "test_readexactly_limit: n above the "
      "limit", 3, F("chunk"), RX(5))
    V("readexactly_gt_limit_pending", "readexactly(n) with limit < n <= "
      "2*limit", 4, RX(7), F("abc"), F("defgh"), R(-1), EOF_)
    V("readexactly_gt_2limit_pending", "readexactly(n > 2*limit) waits "
      "across many feeds", 4, RX(20), F("abcdefg"), F("hijklmn"),
      F("opqrstu"), R(5))
    V("readexactly_gt_2limit_prefed", "readexactly(n > 2*limit) with the "
      "bytes fed before", 4, F("abcdefghi"), F("jklmnopqr"), F("stuvwxyz0"),
      RX(20), R(-1), EOF_)
    V("cpython_readexactly_eof", "test_readexactly_eof: partial = all 18 "
      "bytes, expected 36, buffer emptied", None, RX(36), F(DATA), EOF_, AT)
    V("readexactly_eof_empty", "readexactly at EOF with nothing buffered", 8,
      EOF_, RX(3), AT)
    V("readexactly_eof_partial", "EOF first: IncompleteReadError with "
      "everything buffered", 8, F("ab"), EOF_, RX(3), AT, RX(1))
    V("readexactly_eof_pending", "a pending readexactly completed by EOF", 8,
      RX(5), F("ab"), F("c"), EOF_, AT)
    V("readexactly_exact_buffer", "n equal to the buffered size", 8, F("abc"),
      RX(3), AT, F("de"), EOF_, RX(2), AT)
    V("readexactly_at_eof_success", "enough bytes before EOF succeed", 8,
      F("abc"), EOF_, RX(3), AT, RX(1))
    V("cpython_readexactly_exception", "test_readexactly_exception", None,
      F("line\n"), RX(2), EXC, RX(2))
    V("readexactly_pending_set_exception", "set_exception completes a "
      "pending readexactly", 8, RX(5), F("ab"), EXC, RX(0))
    V("readexactly_pending_at_end", "readexactly still waiting at the end",
      8, RX(5), F("ab"))
    V("readexactly_limit1_large", "limit 1, readexactly(10) trickled", 1,
      RX(10), F("abc"), F("def"), F("ghi"), F("jkl"), R(5))

    # --- readuntil, one separator (1.8) -----------------------------------
    V("cpython_readuntil_separator", "test_readuntil_separator: b'', (b'',) "
      "and () are argument errors", None, F("ab\n"), RU(""), RU(("",)), RU(()),
      RU("\n"))
    V("cpython_readuntil_multi_chunks", "test_readuntil_multi_chunks", None,
      F("lineAAA"), RU("AAA"), F("lineAAA"), RU("AAA"), F("lineAAAxxx"),
      RU("AAA"), R(3))
    V("cpython_readuntil_multi_chunks_1", "test_readuntil_multi_chunks_1 "
      "(bytes fed before each readuntil)", None,
      F("QWEaa"), F("XYaa"), F("a"), RU("aaa"),
      F("QWEaa"), F("XYa"), F("aa"), RU("aaa"),
      F("aaa"), RU("aaa"),
      F("Xaaa"), RU("aaa"),
      F("XXX"), F("a"), F("a"), F("a"), RU("aaa"), AT)
    V("readuntil_multi_chunks_1_pending", "the same chunks, readuntil "
      "waiting for them", None,
      RU("aaa"), F("QWEaa"), F("XYaa"), F("a"),
      RU("aaa"), F("QWEaa"), F("XYa"), F("aa"),
      RU("aaa"), F("XXX"), F("a"), F("a"), F("a"))
    V("readuntil_sep_split_across_feeds_crlf", "a 2-byte separator split "
      "across feeds", 16, RU("\r\n"), F("abc\r"), F("\nx"), R(1))
    V("readuntil_sep_split_three_feeds", "a 4-byte separator split across "
      "three feeds", 32, RU("\r\n\r\n"), F("GET /\r"), F("\n\r"), F("\nbody"),
      R(4))
    V("readuntil_sep_one_byte_per_feed", "a 3-byte separator fed one byte at "
      "a time", 8, RU("aaa"), F("Q"), F("a"), F("a"), F("X"), F("a"), F("a"),
      F("a"))
    V("cpython_readuntil_eof", "test_readuntil_eof: partial is all data, "
      "expected None, buffer emptied", None, F("some dataAA"), EOF_,
      RU("AAA"), AT)
    V("readuntil_eof_empty", "readuntil at EOF with nothing buffered", 8,
      EOF_, RU("\n"), RU(("\n", "\r")))
    V("readuntil_eof_pending_partial_sep", "EOF while waiting: partial holds "
      "part of the separator", 8, RU("\r\n"), F("ab\r"), EOF_, AT)
    V("readuntil_found_beats_eof", "a separator buffered before EOF is "
      "found; the rest is incomplete", 8, F("ab\r\ncd"), EOF_, RU("\r\n"),
      RU("\r\n"), AT)
    V("cpython_readuntil_limit_found_sep", "test_readuntil_limit_found_sep: "
      "'not found' then 'is found', buffer untouched", 3, F("some dataAA"),
      RU("AAA"), F("A"), RU("AAA"), EOF_, R(-1))
    V("readuntil_notfound_consumed_all_at_once", "100 bytes at once, sep "
      "\\r\\n, limit 8: consumed 99", 8, F(b"a" * 100), RU("\r\n"))
    V("readuntil_notfound_consumed_trickled", "the same bytes trickled "
      "5+3+3: consumed 10", 8, RU("\r\n"), F("aaaaa"), F("aaa"), F("aaa"))
    V("readuntil_crlf_limit4_five_bytes_waits", "limit 4, sep \\r\\n: 5 "
      "unterminated bytes wait", 4, F("abcde"), RU("\r\n"))
    V("readuntil_crlf_limit4_six_bytes", "limit 4, sep \\r\\n: 6 bytes raise "
      "with consumed 5", 4, F("abcdef"), RU("\r\n"))
    V("readuntil_crlf_limit4_pending_sixth_byte", "limit 4: the sixth byte "
      "makes the waiting readuntil raise", 4, RU("\r\n"), F("abcde"), F("f"),
      R(-1), EOF_)
    V("readuntil_found_body_limit_minus1", "separator at limit-1", 5,
      F("abcd\n"), RU("\n"))
    V("readuntil_found_body_limit", "separator at limit: allowed", 5,
      F("abcde\n"), RU("\n"))
    V("readuntil_found_body_limit_plus1", "separator at limit+1: 'is found', "
      "consumed limit+1", 5, F("abcdef\n"), RU("\n"), R(7))
    V("readuntil_crlf_found_body_limit_minus1", "\\r\\n at limit-1", 5,
      F("abcd\r\n"), RU("\r\n"))
    V("readuntil_crlf_found_body_limit", "\\r\\n at limit: allowed", 5,
      F("abcde\r\n"), RU("\r\n"))
    V("readuntil_crlf_found_body_limit_plus1", "\\r\\n at limit+1: "
      "overrun", 5, F("abcdef\r\n"), RU("\r\n"), R(8))
    V("readuntil_notfound_limit_waits", "sep \\n: limit unterminated bytes "
      "wait", 5, F("abcde"), RU("\n"), F("\n"))
    V("readuntil_notfound_limit_plus1_raises", "sep \\n: limit+1 "
      "unterminated bytes raise, consumed limit+1", 5, F("abcdef"), RU("\n"))
    V("readuntil_notfound_crlf_limit_plus1_waits", "sep \\r\\n: limit+1 "
      "bytes wait", 5, F("abcdef"), RU("\r\n"), F("x"))
    V("readuntil_notfound_3byte_boundary", "sep of 3 bytes: limit+2 bytes "
      "wait, limit+3 raise", 5, RU("abc"), F("xxxxxxx"), F("y"), R(-1), EOF_)
    V("readuntil_partial_sep_at_limit_completes", "limit+1 bytes ending in a "
      "partial separator wait, then complete", 5, F("abcde\r"), RU("\r\n"),
      F("\n"))
    V("readuntil_overrun_at_eof_beats_incomplete", "at EOF an over-limit "
      "unterminated buffer raises LimitOverrunError", 3, F("abcdef"), EOF_,
      RU("\n"), R(-1))
    V("readuntil_overrun_leaves_buffer_retry", "LimitOverrunError leaves the "
      "buffer; a retry rescans it", 3, F("abcdef"), RU("\n"), RU("\n"),
      F("\n"), RU("\n"), R(7))
    V("readuntil_overrun_pending_raised_on_feed", "a waiting readuntil "
      "raises when a feed pushes it over", 3, RU("\n"), F("ab"), F("cd"),
      R(-1), EOF_)
    V("readuntil_sep_longer_than_limit_found", "a separator longer than the "
      "limit", 2, F("abcd"), RU("abcd"), F("xxxabcd"), RU("abcd"), R(-1),
      EOF_)
    V("readuntil_sep_longer_than_limit_notfound", "not found with a long "
      "separator: consumed = buflen + 1 - seplen", 2, RU("abcd"), F("xxxxx"),
      F("x"), R(-1), EOF_)
    V("readuntil_overlapping_self_sep", "separator aab inside aaab", 8,
      F("aaab"), RU("aab"), F("aaaaab"), RU("aab"))
    V("readuntil_pending_offset_stale_after_concurrent_read", "asyncio "
      "quirk: a concurrent read moves the buffer under a waiting readuntil, "
      "whose scan offset is not adjusted, so it misses a separator", 100,
      F("abc"), RU("\n"), R(3), F("x\n"), F("yz"), F("\n"))
    V("readuntil_pending_offset_stale_crlf", "the same with \\r\\n: the "
      "separator arrives in a region the stale offset skips", 100,
      F("ab\ncd"), RU("\r\n"), R(2), F("\r\n"), F("x"), AT, F("\r\n"))
    V("readuntil_exception_beats_buffered", "exception beats a buffered "
      "separator", 8, F("ab\n"), EXC, RU("\n"))
    V("readuntil_pending_set_exception", "set_exception completes a waiting "
      "readuntil", 8, RU("\n"), F("ab"), EXC, AT)
    V("readuntil_pending_at_end", "readuntil still waiting at the end", 8,
      RU("\r\n"), F("ab\r"))
    V("readuntil_limit1_crlf_found", "limit 1, \\r\\n at 1 is allowed, at 2 "
      "is not", 1, F("a\r\n"), RU("\r\n"), F("ab\r\n"), RU("\r\n"), R(-1),
      EOF_)
    V("readuntil_limit1_crlf_notfound", "limit 1, sep \\r\\n: 2 bytes wait, "
      "3 raise", 1, F("ab"), RU("\r\n"), F("c"), R(-1), EOF_)

    # --- readuntil, several separators (1.8b) ----------------------------
    V("cpython_readuntil_multi_separator", "test_readuntil_multi_separator",
      None, F("line 1\nline 2\r"), RU(("\r", "\n")), RU(("\r", "\n")),
      F("ABCDEFG"), RU(("DEF", "BCDE")), R(2))
    V("readuntil_multi_earliest_end_wins", "(DEF, BCDE) on ABCDEFG: the "
      "earliest end wins, not the first listed", 16, F("ABCDEFG"),
      RU(("DEF", "BCDE")), R(-1), EOF_)
    V("readuntil_multi_tie_shortest", "(\\r\\n, \\n) on xx\\r\\nyy returns "
      "xx\\r\\n (tie, shortest wins)", 16, F("xx\r\nyy"), RU(("\r\n", "\n")),
      R(2))
    V("cpython_readuntil_multi_separator_limit", "test_readuntil_multi_"
      "separator_limit: the tie is won by the shortest, whose start is used "
      "for the limit", 3, F("some dataA"), RU(("A", "ome dataA")), EOF_, R(-1))
    V("readuntil_multi_tie_order_irrelevant", "the same with the tuple "
      "reversed (sorted by length, stable)", 3, F("some dataA"),
      RU(("ome dataA", "A")), EOF_, R(-1))
    V("readuntil_multi_tie_uses_shortest_start_for_limit", "(abc, bc) on "
      "xabc, limit 1: bc starts at 2 > 1", 1, F("xabc"), RU(("abc", "bc")),
      R(-1), EOF_)
    V("readuntil_multi_crlf_tie_limit_quirk", "(\\r\\n, \\n) with a body of "
      "exactly limit: the shortest (\\n) starts at limit+1, so it overruns", 3,
      F("abc\r\n"), RU(("\r\n", "\n")), F("de\r\n"), RU("\r\n"))
    V("cpython_readuntil_multi_separator_negative_offset", "test_readuntil_"
      "multi_separator_negative_offset: offset clamped at 0", None, F("data"),
      RU(("A", "long sep")), F("Z"), F("Aaaa"), R(3))
    V("readuntil_multi_rescan_while_short", "while the buffer is shorter than "
      "the longest separator, short ones are rescanned from 0", 16,
      RU(("xy", "0123456789")), F("ab"), F("x"), F("y"), R(-1), EOF_)
    V("readuntil_multi_duplicates", "duplicate separators", 8, F("ab\ncd\n"),
      RU(("\n", "\n")), RU(("\n", "\n", "\n")))
    V("readuntil_multi_duplicate_long", "duplicates among others", 8,
      F("xxabyc"), RU(("ab", "ab", "c")), RU(("ab", "c", "ab")))
    V("readuntil_multi_prefix_separators", "(ab, abc): ab ends first", 8,
      F("xabcy"), RU(("abc", "ab")), R(-1), EOF_)
    V("readuntil_multi_suffix_separators", "(abc, bc) on xabc: same end, "
      "the shortest wins", 8, F("xabcy"), RU(("abc", "bc")), R(-1), EOF_)
    V("readuntil_multi_overlapping", "(aba, bab) on xababab", 8,
      F("xababab"), RU(("bab", "aba")), RU(("bab", "aba")), R(-1), EOF_)
    V("readuntil_multi_longer_ends_first", "(Q, XYZW) on XYZWQ: the longer "
      "one ends first", 8, F("XYZWQ"), RU(("Q", "XYZW")), R(1))
    V("readuntil_multi_shorter_starts_earlier_ends_later", "(\\n, abcdef) "
      "on abcdef\\n", 8, F("abcdef\n"), RU(("\n", "abcdef")), R(1))
    V("readuntil_multi_crlfcrlf_lflf", "HTTP-style header end: "
      "(\\r\\n\\r\\n, \\n\\n)", 32, F("h: v\r\n\r\nbody\n\nx"),
      RU(("\r\n\r\n", "\n\n")), RU(("\r\n\r\n", "\n\n")), R(-1), EOF_)
    V("readuntil_multi_empty_tuple_invalid", "() is an argument error", 8,
      F("ab\n"), RU(()), RL)
    V("readuntil_multi_empty_member_invalid", "an empty member is an "
      "argument error, even with matching data", 8, F("ab\n"), RU(("\n", "")),
      RU(("", "\n")), RU(("",)), RL)
    V("readuntil_multi_single_member", "a one-element tuple", 8,
      F("ab\r\ncd"), RU(("\r\n",)), RU(("\r\n",)), F("\r\n"))
    V("readuntil_multi_notfound_consumed_max_seplen", "not found: consumed "
      "= buflen + 1 - longest", 4, F("abcdefghij"), RU(("\n", "\r\n\r\n")))
    V("readuntil_multi_long_sep_delays_overrun", "a long separator delays "
      "the not-found overrun", 2, RU(("x", "0123456789")), F("abcdefghi"),
      F("j"), F("k"), F("l"), R(-1), EOF_)
    V("readuntil_multi_split_across_feeds", "(\\r\\n, \\n\\n) completed "
      "across feeds", 16, RU(("\r\n", "\n\n")), F("ab\r"), F("\n"),
      RU(("\r\n", "\n\n")), F("c\n"), F("\n"))
    V("readuntil_multi_eof_incomplete", "tuple readuntil at EOF", 8,
      F("ab\r"), EOF_, RU(("\r\n", "\n")), AT)
    V("readuntil_multi_exception_beats_buffered", "exception beats a "
      "buffered separator (tuple)", 8, F("ab\n"), EXC, RU(("\n", "\r\n")))
    V("readuntil_multi_invalid_beats_exception", "tuple argument errors "
      "beat the exception", 8, EXC, RU(()), RU(("\n", "")), RU(("\n",)))
    V("readuntil_multi_found_limit_boundary", "tuple: match at limit and at "
      "limit+1", 4, F("abcd;efghi,"), RU((";", ",")), RU((",", ";")), R(-1),
      EOF_)

    # --- readline (1.9) -----------------------------------------------------
    V("cpython_readline", "test_readline: waits across feeds", None, RL,
      F("chunk1 "), F("chunk2 "), F("chunk3 \n chunk4"), EOF_, R(-1))
    V("cpython_readline_limit_with_existing_data_found", "test_readline_"
      "limit_with_existing_data (1): the long line is discarded", 3, F("li"),
      F("ne1\nline2\n"), RL, RL)
    V("cpython_readline_limit_with_existing_data_notfound", "test_readline_"
      "limit_with_existing_data (2): the buffer is cleared", 3, F("li"),
      F("ne1"), F("li"), RL, AT, EOF_, AT, RL)
    V("cpython_readline_limit_prefed_found", "test_readline_limit (1)", 7,
      F("chunk1"), F("chunk2"), F("chunk3\n"), EOF_, RL, AT)
    V("cpython_readline_limit_prefed_keeps_rest", "test_readline_limit (2)",
      7, F("chunk1"), F("chunk2\n"), F("chunk3\n"), EOF_, RL, RL, RL)
    V("cpython_readline_limit_exact_body", "test_readline_limit: 1234567\\n "
      "with limit 7 is allowed", 7, F("1234567\n"), RL)
    V("cpython_readline_limit_body_plus_one", "test_readline_limit: "
      "12345678\\n with limit 7 fails, buffer emptied", 7, F("12345678\n"), RL,
      EOF_, AT)
    V("cpython_readline_limit_notfound", "test_readline_limit: 12345678 "
      "without newline fails, buffer emptied", 7, F("12345678"), RL, EOF_, AT,
      RL)
    V("readline_limit_found_discards_line", "found but too long: the line "
      "and its newline are discarded, the rest kept", 7, F("12345678\nnext\n"),
      RL, RL)
    V("readline_limit_pending_tail_quirk", "limit 7, readline waiting: the "
      "overrun clears, the tail of the line becomes the next line", 7, RL,
      F("chunk1"), F("chunk2"), F("chunk3\n"), RL)
    V("readline_tail_quirk", "limit 3, abcdef then gh\\nnext\\n: ValueError, "
      "then gh\\n", 3, F("abcdef"), RL, F("gh\nnext\n"), RL, RL)
    V("readline_tail_quirk_pending", "the tail quirk with readline waiting",
      3, RL, F("ab"), F("cdef"), F("gh\nnext\n"), RL, RL)
    V("readline_limit_trickled_one_byte", "limit 3, one byte at a time: "
      "the fourth byte raises", 3, RL, F("a"), F("b"), F("c"), F("d"), F("\n"),
      RL)
    V("readline_limit_notfound_boundary", "limit 3: 3 bytes wait, then the "
      "newline completes the line", 3, F("abc"), RL, F("\n"))
    V("readline_limit_found_crossing_feeds", "the newline at limit+1 arrives "
      "later: found and too long", 4, RL, F("abcd"), F("e\nf"), RL, F("\n"))
    V("cpython_readline_eof", "test_readline_eof: the partial line at EOF",
      None, F("some data"), EOF_, RL)
    V("readline_eof_pending", "a waiting readline completed by EOF", 8, RL,
      F("some"), EOF_, AT)
    V("cpython_readline_empty_eof", "test_readline_empty_eof", None, EOF_, RL)
    V("readline_empty_eof_pending", "a waiting readline, EOF with nothing "
      "buffered", 8, RL, EOF_, RL)
    V("readline_at_eof_over_limit", "limit 3, abcd at EOF: ValueError, "
      "buffer cleared", 3, F("abcd"), EOF_, RL, AT, RL)
    V("readline_at_eof_exactly_limit", "limit 3, abc at EOF is returned", 3,
      F("abc"), EOF_, RL, AT)
    V("readline_at_eof_found_over_limit", "at EOF, a too-long line with its "
      "newline is discarded, the rest kept", 3, F("abcd\nxy"), EOF_, RL, RL,
      AT)
    V("cpython_readline_nolimit_nowait", "test_readline_nolimit_nowait", None,
      F(DATA), RL, EOF_, R(-1))
    V("cpython_readline_read_byte_count", "test_readline_read_byte_count",
      None, F(DATA), RL, R(7), R(5))
    V("cpython_readline_exception", "test_readline_exception", None,
      F("line\n"), RL, EXC, RL)
    V("cpython_exception_waiter", "test_exception_waiter: set_exception "
      "while readline waits", None, RL, EXC, AT)
    V("readline_crlf_lines", "readline keeps \\r", 8, F("a\r\nb\r\n"), RL, RL,
      F("\r"), EOF_, RL)
    V("readline_limit1", "limit 1: a one-byte line is allowed, two bytes are "
      "not", 1, F("a\n\nab\nb\n"), RL, RL, RL, RL)
    V("readline_limit_found_later_line", "only the first line is checked",
      3, F("ab\nverylong\ncd\n"), RL, RL, RL)
    V("readline_newlines_only", "empty lines", 8, F("\n\n"), RL, RL, EOF_, RL)
    V("cpython_readline_many_lines", "several lines of DATA in one feed",
      None, F(DATA * 2), RL, RL, RL, RL, RL, RL, RL, AT)
    V("readline_limit2_trickle", "limit 2, several short and long lines "
      "trickled", 2, RL, F("a"), F("b\nab"), F("c"), RL, F("\nxy\n"), RL, RL)
    V("readline_pending_at_end", "readline still waiting at the end", 8, RL,
      F("abc"))

    # --- flow control seen through the network tool ---------------------
    V("flow_pause_holds_later_feed", "above 2*limit the network tool holds "
      "back the next feed, so this is chunk-sensitive", 4, F("abcdefghij"),
      F("\n"), RL, RL)
    V("flow_pause_readexactly_resumes", "a readexactly that waits resumes "
      "reading", 2, F("abcde"), F("fgh"), RX(8), EOF_, AT)


_named()


# ---------------------------------------------------------------------------
# Seeded random vectors.
# ---------------------------------------------------------------------------

RANDOM_COUNT = 250
RANDOM_SEED = 0x51_1CE

_SEPS = [b"\n", b"\n", b"\r\n", b"\r\n", b"a", b"ab", b"aa", b"ba", b"aba",
         b"\r\n\r\n", b"\n\n", b"b\n", b"aab", b"\r"]


def _rand_bytes(rng, n):
    out = bytearray()
    for _ in range(n):
        r = rng.random()
        if r < 0.22:
            out.append(0x0A)                    # \n
        elif r < 0.34:
            out.append(0x0D)                    # \r
        elif r < 0.56:
            out.append(0x61)                    # a
        elif r < 0.72:
            out.append(0x62)                    # b
        else:
            out.append(rng.choice(b"cdxyz0 "))
    return bytes(out)


def _rand_sep(rng):
    return rng.choice(_SEPS)


def random_vector(rng):
    """[op dicts] of one random vector (under 60 lines)."""
    ops = []
    r = rng.random()
    if r < 0.08:
        limit = None                            # default limit, no config
    elif r < 0.45:
        limit = rng.randint(1, 8)
    elif r < 0.8:
        limit = rng.randint(1, 24)
    else:
        limit = rng.randint(1, 64)
    if limit is not None:
        ops.append({"op": "config", "limit": limit})
    eff = limit or 64                          # scale of feeds and n
    # Half the vectors feed short chunks (they stay below the pause
    # threshold more often, so fewer are chunk-sensitive).
    feed_max = max(3, eff + 3) if rng.random() < 0.5 else max(2, eff // 2 + 1)
    n_ops = rng.randint(6, 40)
    eof = False
    exc_done = False
    for k in range(n_ops):
        late = k >= n_ops * 0.75
        w = rng.random()
        if not eof and w < 0.36:
            if rng.random() < 0.05:
                data = b""
            elif rng.random() < 0.06:
                data = _rand_bytes(rng, rng.randint(2 * eff, 3 * eff + 4))
            else:
                data = _rand_bytes(rng, rng.randint(1, feed_max))
            ops.append(F(data))
        elif w < 0.46:
            q = rng.random()
            # read(-1) before EOF waits for the rest of the vector (and
            # turns every later read into concurrent_read): keep it rare.
            if q < (0.15 if eof else 0.01):
                n = -1
            elif q < 0.2:
                n = 0
            elif q < (0.22 if eof else 0.205):
                n = -rng.randint(2, 5)
            else:
                n = rng.randint(1, 2 * eff + 2)
            ops.append(R(n))
        elif w < 0.58:
            ops.append(RL)
        elif w < 0.67:
            q = rng.random()
            if q < 0.05:
                n = 0
            elif q < 0.08:
                n = -1
            else:
                n = rng.randint(1, 3 * eff)
            ops.append(RX(n))
        elif w < 0.78:
            q = rng.random()
            ops.append(RU(b"" if q < 0.02 else _rand_sep(rng)))
        elif w < 0.87:
            q = rng.random()
            if q < 0.02:
                seps = ()
            else:
                seps = tuple(_rand_sep(rng) for _ in range(rng.randint(1, 4)))
                if q < 0.05:
                    seps = seps + (b"",)
            ops.append(RU(seps))
        elif w < 0.93:
            ops.append(AT)
        elif late and not eof and rng.random() < 0.6:
            ops.append(EOF_)
            eof = True
        elif late and not exc_done and rng.random() < 0.15:
            ops.append(EXC)
            exc_done = True
        else:
            ops.append(AT)
        # A read op is often followed by bytes that may complete it.
        if (not eof and ops[-1]["op"] in READ_OPS and rng.random() < 0.5
                and len(ops) < 55):
            ops.append(F(_rand_bytes(rng, rng.randint(1, feed_max))))
    # Sometimes the connection fails near the end.
    if not exc_done and rng.random() < 0.1:
        ops.append(EXC)
        for _ in range(rng.randint(1, 2)):
            ops.append(rng.choice([R(0), R(-1), RL, RX(0), AT,
                                   RU((b"\n", b"\r\n"))]))
    # Usually end with EOF and a few reads that drain what is left.
    if not eof and rng.random() < 0.7:
        ops.append(EOF_)
        for _ in range(rng.randint(0, 3)):
            ops.append(rng.choice([R(-1), RL, RU(_rand_sep(rng)), AT,
                                   RX(rng.randint(1, eff))]))
    assert len(ops) < 60
    return ops


def random_vectors():
    rng = random.Random(RANDOM_SEED)
    return [(f"random_{k:04d}", random_vector(rng)) for k in range(RANDOM_COUNT)]


# ---------------------------------------------------------------------------
# Regenerating conformance/vectors and conformance/expected.
# ---------------------------------------------------------------------------

def _finish(name, ops):
    """Vector text with chunk_sensitive set when it applies."""
    text = "".join(dumps(o) + "\n" for o in ops)
    vec = parse_vector(text, name)
    if sensitivity(vec, name) is not None:
        if ops and ops[0]["op"] == "config":
            cfg = dict(ops[0])
            cfg["chunk_sensitive"] = True
            ops = [cfg] + ops[1:]
        else:
            ops = [{"op": "config", "limit": vec.limit,
                    "chunk_sensitive": True}] + ops
        text = "".join(dumps(o) + "\n" for o in ops)
    return text


def generate_main():
    os.makedirs(VECTOR_DIR, exist_ok=True)
    os.makedirs(EXPECTED_DIR, exist_ok=True)
    vectors = []
    for name, cfg, ops in NAMED:
        vectors.append((name, ([cfg] if cfg else []) + ops))
    vectors.extend(random_vectors())
    names = set()
    counts = collections.Counter()
    for name, ops in vectors:
        assert name not in names, name
        names.add(name)
        text = _finish(name, ops)
        vec = parse_vector(text, name)
        results = "".join(dumps(r) + "\n" for r in reference_results(vec))
        for d, content in ((VECTOR_DIR, text), (EXPECTED_DIR, results)):
            with open(os.path.join(d, name + ".jsonl"), "w",
                      encoding="utf-8", newline="\n") as fh:
                fh.write(content)
        kind = "random" if name.startswith("random_") else "named"
        counts[kind] += 1
        if vec.config and vec.config.get("chunk_sensitive"):
            counts[kind + "_sensitive"] += 1
    for d in (VECTOR_DIR, EXPECTED_DIR):
        for f in os.listdir(d):
            if f.endswith(".jsonl") and f[:-len(".jsonl")] not in names:
                os.remove(os.path.join(d, f))
    print(f"{counts['named']} named vectors "
          f"({counts['named_sensitive']} chunk-sensitive), "
          f"{counts['random']} random vectors "
          f"({counts['random_sensitive']} chunk-sensitive), written to "
          f"{os.path.relpath(VECTOR_DIR)} and {os.path.relpath(EXPECTED_DIR)}")
    return 0


# ---------------------------------------------------------------------------
# --selftest: results verified by hand in the spec.
# ---------------------------------------------------------------------------

SELFTEST = [
    # limit 4, sep \r\n: 5 bytes wait, 6 bytes give consumed=5 (spec 1.8).
    (4, [F("abcde"), RU("\r\n")], [{"i": 2, "pending": True}]),
    (4, [RU("\r\n"), F("abcde"), F("f")],
     [{"i": 1, "error": "limit_overrun", "consumed": 5}]),
    # 100 bytes at once: consumed 99; trickled 5+3+3 with limit 8: 10.
    (8, [F(b"a" * 100), RU("\r\n")],
     [{"i": 2, "error": "limit_overrun", "consumed": 99}]),
    (8, [RU("\r\n"), F("aaaaa"), F("aaa"), F("aaa")],
     [{"i": 1, "error": "limit_overrun", "consumed": 10}]),
    # readline tail quirk (spec 1.9).
    (3, [F("abcdef"), RL, F("gh\nnext\n"), RL],
     [{"i": 2, "error": "limit_overrun"}, {"i": 4, "hex": b"gh\n".hex()}]),
    # limit 3: abcd+EOF -> ValueError; abc+EOF -> abc.
    (3, [F("abcd"), EOF_, RL, AT],
     [{"i": 3, "error": "limit_overrun"}, {"i": 4, "bool": True}]),
    (3, [F("abc"), EOF_, RL], [{"i": 3, "hex": b"abc".hex()}]),
    # limit 7: 1234567\n ok, 12345678\n fails.
    (7, [F("1234567\n"), RL], [{"i": 2, "hex": b"1234567\n".hex()}]),
    (7, [F("12345678\n"), RL], [{"i": 2, "error": "limit_overrun"}]),
    # multi-separator (spec 1.8b).
    (65536, [F("ABCDEFG"), RU(("DEF", "BCDE"))], [{"i": 2, "hex": b"ABCDE".hex()}]),
    (65536, [F("xx\r\nyy"), RU(("\r\n", "\n"))], [{"i": 2, "hex": b"xx\r\n".hex()}]),
    (3, [F("some dataA"), RU(("A", "ome dataA"))],
     [{"i": 2, "error": "limit_overrun", "consumed": 9}]),
    (65536, [F("data"), RU(("A", "long sep")), F("Z"), F("Aaaa"), R(3)],
     [{"i": 2, "hex": b"dataZA".hex()}, {"i": 5, "hex": b"aaa".hex()}]),
    # readexactly EOF: partial 18, expected 36.
    (65536, [RX(36), F(DATA), EOF_],
     [{"i": 1, "error": "incomplete_read", "partial": DATA.hex(), "expected": 36}]),
    # readuntil EOF: expected None.
    (65536, [F("some dataAA"), EOF_, RU("AAA")],
     [{"i": 3, "error": "incomplete_read", "partial": b"some dataAA".hex(),
       "expected": None}]),
    # exception ordering (spec 1.5).
    (8, [F("ab"), EXC, R(0), RX(0), RX(-1), RU(""), RU(())],
     [{"i": 3, "error": "connection_error"}, {"i": 4, "error": "connection_error"},
      {"i": 5, "error": "invalid_argument"}, {"i": 6, "error": "invalid_argument"},
      {"i": 7, "error": "invalid_argument"}]),
    # concurrent reads (spec 1.4).
    (8, [R(5), RL, F("ab")],
     [{"i": 2, "error": "concurrent_read"}, {"i": 1, "hex": b"ab".hex()}]),
    (8, [F("abc"), RX(5), R(2), F("defg")],
     [{"i": 3, "hex": b"ab".hex()}, {"i": 2, "hex": b"cdefg".hex()}]),
    # empty feed does not wake a waiting read.
    (8, [R(5), F("")], [{"i": 1, "pending": True}]),
    # limit <= 0.
    (0, [F("ab"), R(1)], [{"i": 0, "error": "invalid_argument"}]),
]


def selftest_main():
    bad = 0
    for limit, ops, want in SELFTEST:
        text = "".join(dumps(o) + "\n" for o in
                       [{"op": "config", "limit": limit}] + ops)
        got = reference_results(parse_vector(text, "selftest"))
        if got != want:
            bad += 1
            print(f"FAIL {text!r}\n  got  {got}\n  want {want}")
    # the chunk-sensitivity check itself
    v = parse_vector(dumps({"op": "config", "limit": 8}) + "\n" +
                     dumps(R(10)) + "\n" + dumps(F("abc")) + "\n", "s1")
    if sensitivity(v, "s1") is None:
        bad += 1
        print("FAIL: a pending read(10) fed 3 bytes must be chunk-sensitive")
    v = parse_vector(dumps({"op": "config", "limit": 8}) + "\n" +
                     dumps(F("ab\ncd\n")) + "\n" + dumps(RL) + "\n", "s2")
    if sensitivity(v, "s2") is not None:
        bad += 1
        print("FAIL: buffered lines read afterwards are not chunk-sensitive")
    # the network rules: a reset after the EOF, and an EOF after a reset,
    # never reach the reader; a reset before the EOF does.
    checks = 2
    for label, ops, want in [
            ("reset after feed_eof", [F("ab"), EOF_, EXC, R(-1)], True),
            ("feed_eof after reset", [EXC, EOF_, AT], True),
            ("reset reaching the reader", [F("ab"), EXC, R(1)], False)]:
        checks += 1
        text = "".join(dumps(o) + "\n" for o in
                       [{"op": "config", "limit": 8}] + ops)
        if (sensitivity(parse_vector(text, label), label) is not None) != want:
            bad += 1
            print(f"FAIL: {label}: chunk-sensitive must be {want}")
    # merged flow: queued bytes come out together when reading resumes.
    checks += 1
    ops = parse_vector("".join(dumps(o) + "\n" for o in [
        {"op": "config", "limit": 1}, F("abc"), F("xyz"), F("w"), R(1), R(1),
        R(10)]), "merged").ops
    got = run_ops(1, ops, FLOW_MERGED)[-1]
    if got != {"i": 6, "hex": b"cxyzw".hex()}:
        bad += 1
        print(f"FAIL: merged flow: got {got}")
    print(f"selftest: {len(SELFTEST) + checks - bad} passed, {bad} failed")
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Conformance vectors from the real CPython asyncio "
        "(see the module docstring).")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--expect", action="store_true",
                   help="print the reference results of FILEs (or of one "
                   "vector on stdin) in the replay tool's output format")
    g.add_argument("--sensitivity", action="store_true",
                   help="report chunk sensitivity of FILEs")
    g.add_argument("--selftest", action="store_true",
                   help="check the emulation against the spec's examples")
    ap.add_argument("files", nargs="*", metavar="FILE")
    args = ap.parse_args(argv)
    if args.expect:
        return expect_main(args.files)
    if args.sensitivity:
        return sensitivity_main(args.files)
    if args.files:
        ap.error("FILE arguments need --expect or --sensitivity")
    if args.selftest:
        return selftest_main()
    return generate_main()


if __name__ == "__main__":
    sys.exit(main())
