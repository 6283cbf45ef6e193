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
doc, "Running it over a network backend"). A vector is chunk-sensitive when
any of these re-runs gives results different from the reference results:

  chunkings (each piece is delivered as if it were its own line, with a
  quiescent event loop between pieces):
    1. the original feeds;
    2. every feed split into 1-byte feeds;
    3. five seeded random splits of every feed (seed: CRC-32 of the vector
       name; each byte boundary is a cut with probability 1/2, 1/3, 1/4, 1/6
       or 1/10);
    4. every run of consecutive feed lines (no other line between them)
       merged into one feed;
  each chunking run twice: without flow control (chunking 1 is then the
  reference itself), and with flow control emulated like the network tool: a
  fake transport records pause_reading()/resume_reading(); delivered pieces,
  the EOF and the reset queue up in order ("the socket") and are delivered one
  at a time, with quiescence between, only while the reader is not paused
  (so bytes fed after a pause, and any EOF or reset behind them, wait until a
  read resumes reading).

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
                deliver(socket.popleft())
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


def run_ops(limit, ops, flow=False):
    """Results (list of dicts) of ops [(i, kind, arg)] on a reader."""
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


def sensitivity(vec, name, ref=None):
    """None if not chunk-sensitive, else a label of the first differing run."""
    if vec.limit <= 0:
        return None
    if ref is None:
        ref = reference_results(vec)
    for flow in (False, True):
        for label, ops in chunkings(vec, name):
            if label == "original" and not flow:
                continue
            if run_ops(vec.limit, ops, flow) != ref:
                return label + (" +flow-control" if flow else "")
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
