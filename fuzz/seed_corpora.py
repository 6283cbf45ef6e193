#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the conformance vectors.

    python3 fuzz/seed_corpora.py        (from the repository root)

- vector_parser_fuzz: the small named vector files as they are.
- stream_reader_fuzz: each vector translated into that target's input
  encoding (fuzz/stream_reader_fuzz.cc: a limit, then actions), so the fuzzer
  starts from every scenario the conformance suite knows.

Seed files are named seed_<sha256 prefix>; files named otherwise (regressions
found by fuzzing) are left alone. Deterministic: re-running changes nothing.
"""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = sorted((ROOT / "conformance" / "vectors").glob("*.jsonl"))
SEP_ALPHABET = "ab\n\r"


def write_corpus(target, blobs):
    out = ROOT / "fuzz" / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("seed_*"):
        old.unlink()
    for blob in blobs:
        (out / ("seed_" + hashlib.sha256(blob).hexdigest()[:16])).write_bytes(blob)


def encode_reader(lines):
    """One vector as stream_reader_fuzz input, or None if it does not fit."""
    ops = [json.loads(l) for l in lines if l.strip()]
    limit = 65536
    if ops and ops[0].get("op") == "config":
        limit = ops.pop(0).get("limit", 65536)
    if not 1 <= limit <= 65536:
        return None
    out = bytearray([0x80, (limit - 1) >> 8, (limit - 1) & 0xFF] if limit > 16 else [0x00, limit - 1])
    max_chunk = 4096 if limit > 16 else 24
    for op in ops:
        kind = op["op"]
        if kind == "feed":
            data = bytes.fromhex(op["hex"])
            for k in range(0, max(len(data), 1), max_chunk):
                chunk = data[k:k + max_chunk]
                out.append(0)  # action: feed
                out.append(0)  # flag: raw bytes
                out += bytes([len(chunk) >> 8, len(chunk) & 0xFF]) if max_chunk > 255 else bytes([len(chunk)])
                out += chunk
        elif kind == "feed_eof":
            out.append(4)
        elif kind == "set_exception":
            out += bytes([5, 0])
        elif kind == "read":
            out += bytes([6, min(max(op["n"], -2), 38) + 2])
        elif kind == "readexactly":
            out += bytes([7, min(max(op["n"], -1), 79) + 1])
        elif kind == "readline":
            out.append(8)
        elif kind == "readuntil":
            seps = op["sep"] if isinstance(op["sep"], list) else [op["sep"]]
            seps = [bytes.fromhex(s) for s in seps][:3] or [b"\n"]
            out += bytes([10, len(seps) - 1])
            for s in seps:
                s = s[:4] or b"\n"
                out.append(len(s) - 1)
                for c in s:
                    ch = chr(c)
                    out.append(SEP_ALPHABET.index(ch) if ch in SEP_ALPHABET else 2)
        # at_eof has no action: the fuzzer checks at_eof after every step.
    return bytes(out)


def main():
    texts = [p.read_bytes() for p in VECTORS]
    # The parser needs variety, not volume: the small named vectors.
    write_corpus("vector_parser_fuzz", [t for p, t in zip(VECTORS, texts)
                                        if not p.name.startswith("random_") and len(t) < 2048])
    reader = [encode_reader(t.decode().splitlines()) for t in texts]
    write_corpus("stream_reader_fuzz", [b for b in reader if b])
    print(f"seeded from {len(VECTORS)} vectors")


if __name__ == "__main__":
    main()
