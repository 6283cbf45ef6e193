"""Writes BENCHMARKS.md (and its chart) from one `./dev bench` run: the core
benchmarks' Google Benchmark JSON, the echo harness's JSON lines
(bench/echo/echo_bench.py), the machine and the exact commands. Every ratio
compares numbers of the same run; each issue 8 target is marked met / not met.

    /usr/bin/python3 bench/report.py --reader R.json --writer W.json \
        --net NET.jsonl --commands CMDS.txt --load LOAD.txt \
        --out BENCHMARKS.md --chart bench/results/echo.png
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile

# --------------------------------------------------------------------------
# Reading the results


def gbench_runs(path):
    """{benchmark name: [per-repetition results]} from Google Benchmark JSON."""
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        runs.setdefault(b.get("run_name", b["name"]), []).append(b)
    return runs, data.get("context", {})


def net_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    """(max - min) / median, as a percentage: the spread over repetitions."""
    values = [v for v in values if v is not None]
    if len(values) < 2 or not statistics.median(values):
        return None
    return 100.0 * (max(values) - min(values)) / statistics.median(values)


# --------------------------------------------------------------------------
# Formatting


def si(x, unit=""):
    if x is None:
        return "n/a"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g} {suffix}{unit}".rstrip()
    return f"{x:.3g} {unit}".rstrip()


def pct(x):
    return "n/a" if x is None else f"±{x / 2:.0f}%"


def ratio(x):
    return "n/a" if x is None else f"{x:.3g}×"


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def div(a, b):
    return a / b if a is not None and b else None


# --------------------------------------------------------------------------
# Machine


def machine():
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()
        except Exception:
            return "?"

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except Exception:
        pass
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1048576:.0f} GiB"
    except Exception:
        mem = "?"
    return [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", cpu),
        ("Memory", mem),
        ("Kernel", platform.release()),
        ("Compiler", first(["gcc", "--version"])),
        ("Python (peers)", first(["/usr/bin/python3", "--version"])),
    ]


# --------------------------------------------------------------------------
# Core section


def core_section(reader_path, writer_path):
    reader, _ = gbench_runs(reader_path)
    writer, _ = gbench_runs(writer_path)
    lines = []

    def lines_per_s(name):
        return [r.get("lines/s") for r in reader.get(name, [])]

    def bytes_per_s(name):
        return [r.get("bytes_per_second") for r in reader.get(name, [])]

    def times(name, runs):
        return [r["real_time"] for r in runs.get(name, [])]

    families = ["memchr_views", "memchr_strings", "readline_view", "readline", "readuntil_1byte",
                "readuntil_2byte", "readuntil_several", "readexactly", "read"]
    rows = []
    for fam in families:
        row = [f"`{fam}`"]
        for size in (16, 80, 1024, 65536):
            name = f"BM_{fam}/{size}"
            row.append(f"{si(med(bytes_per_s(name)), 'B/s')} {pct(spread(bytes_per_s(name)))}")
        rows.append(row)
    lines += ["### Reader throughput (16 MiB of lines fed in 64 KiB chunks)", "",
              "Median over the repetitions, ± half the spread (max − min) as a percentage of the median.", "",
              table(["benchmark", "16 B lines", "80 B lines", "1 KiB lines", "64 KiB lines"], rows), ""]

    # Targets
    targets = []
    r_copy = div(med(lines_per_s("BM_readline/80")), med(lines_per_s("BM_memchr_strings/80")))
    targets.append(["copying `readline` vs memchr + `std::string`, 80 B lines", "≥ 0.6×", ratio(r_copy),
                    verdict(None if r_copy is None else r_copy >= 0.6)])
    r_view = div(med(lines_per_s("BM_readline_view/80")), med(lines_per_s("BM_memchr_views/80")))
    targets.append(["`readline_view` vs plain memchr, 80 B lines", "≥ 0.7×", ratio(r_view),
                    verdict(None if r_view is None else r_view >= 0.7)])

    lin_rows = []
    at_once = {n: med(times(f"BM_line_at_once/{n}", reader)) for n in (1 << 20, 16 << 20)}
    feed = {n: med(times(f"BM_trickle<Trickle::kFeedOnly>/{n}", reader)) for n in (1 << 20, 16 << 20)}
    for kind, label in (("kReadline", "readline"), ("kReaduntil4", "readuntil, 4-byte separator"),
                        ("kReaduntilSeveral", "readuntil, several separators")):
        t1 = med(times(f"BM_trickle<Trickle::{kind}>/{1 << 20}", reader))
        t16 = med(times(f"BM_trickle<Trickle::{kind}>/{16 << 20}", reader))
        vs_feed = div(t1, feed[1 << 20])
        vs_once = div(t1, at_once[1 << 20])
        growth = div(t16, t1)
        lin_rows.append([label, f"{t1:.1f} ms" if t1 else "n/a", f"{t16:.0f} ms" if t16 else "n/a",
                         ratio(vs_feed), ratio(vs_once), ratio(growth)])
        targets.append([f"1 MiB line one byte at a time ({label}) vs the same bytes fed with no read pending",
                        "≤ 3×", ratio(vs_feed), verdict(None if vs_feed is None else vs_feed <= 3)])
        targets.append([f"1 MiB line one byte at a time ({label}) vs the line fed at once (the issue's literal wording)",
                        "≤ 3×", ratio(vs_once), verdict(None if vs_once is None else vs_once <= 3)])
        targets.append([f"linear growth ({label}): 16 MiB vs 1 MiB one byte at a time", "≈ 16× (≤ 20×)",
                        ratio(growth), verdict(None if growth is None else growth <= 20)])
    lines += ["### Linearity (one line fed one byte at a time)", "",
              f"Feeding alone (no read pending): {feed[1 << 20]:.1f} ms for 1 MiB, {feed[16 << 20]:.0f} ms for 16 MiB. "
              f"The line fed at once: {at_once[1 << 20]:.2f} ms for 1 MiB, {at_once[16 << 20]:.1f} ms for 16 MiB.", "",
              table(["pending read", "1 MiB", "16 MiB", "1 MiB vs feed-only", "1 MiB vs at once", "16 MiB / 1 MiB"],
                    lin_rows), ""]

    w_rows = []
    for writes in (100, 1000, 10000):
        runs = writer.get(f"BM_small_writes_flush/{writes}", [])
        sends = med([r.get("sends") for r in runs])
        w_rows.append([f"{writes} writes of 64 B", f"{sends:.0f}" if sends is not None else "n/a",
                       f"{med([r['real_time'] for r in runs]) / 1e3:.1f} µs" if runs else "n/a"])
        targets.append([f"{writes} small writes then one flush: sends", "few (≥ 100 writes per send)",
                        f"{sends:.0f} sends" if sends is not None else "n/a",
                        verdict(None if sends is None else sends * 100 <= writes)])
    wd = writer.get("BM_write_drain_64", [])
    msgs = [r.get("msgs/s") for r in wd]
    targets.append(["`write` + drain of 64 B messages, in memory", "≥ 20 M msgs/s",
                    f"{si(med(msgs), 'msgs/s')} {pct(spread(msgs))}",
                    verdict(None if med(msgs) is None else med(msgs) >= 20e6)])
    lines += ["### Writer", "",
              table(["many small writes, then one flush (gather sends of up to 16 views)", "sends", "time"], w_rows),
              "",
              f"`write` + drain of 64-byte messages: {si(med(msgs), 'msgs/s')} {pct(spread(msgs))} "
              f"({med([r.get('bytes/send') for r in wd]) or 0:.0f} bytes per send).", ""]

    # One ping-pong request through a Connection (feed a line under a pending
    # readline, write it back, send it), with and without a BufferPool.
    pp_rows = []
    for receive, how in ((0, "data_received"), (65536, "prepare_receive(64 KiB)")):
        plain = med([r["real_time"] for r in writer.get(f"BM_ping_pong/pool:0/receive:{receive}", [])])
        pooled = med([r["real_time"] for r in writer.get(f"BM_ping_pong/pool:1/receive:{receive}", [])])
        if plain is None or pooled is None:
            continue
        pp_rows.append([how, f"{plain:.0f} ns", f"{pooled:.0f} ns", f"{plain / pooled:.2f}×"])
    if pp_rows:
        lines += ["### One ping-pong request in memory, with and without a BufferPool", "",
                  table(["bytes arrive by", "malloc/free per request", "BufferPool", "speed-up"], pp_rows), ""]
    return "\n".join(lines), targets


# --------------------------------------------------------------------------
# Network section

CONFIG_TITLES = [
    (("pingpong", 64, 64), "Ping-pong, 64 connections, 64 B lines"),
    (("pipelined", 64, 64), "Pipelined, 64 connections, 64 B lines"),
    (("pingpong", 64, 4096), "Ping-pong, 64 connections, 4 KiB lines"),
    (("pipelined", 64, 4096), "Pipelined, 64 connections, 4 KiB lines"),
    (("pingpong", 2000, 64), "Scale: ping-pong, 2,000 connections, 64 B lines"),
]

SLUICE = ["sluice_asio", "sluice_asio_task", "sluice_libevent", "sluice_asio_example",
          "sluice_libevent_example"]


def net_section(records, chart_path):
    servers = [r for r in records if r["kind"] == "server"]
    available = [s["server"] for s in servers if s["available"]]
    runs = [r for r in records if r["kind"] == "run"]
    memory = {r["server"]: r for r in records if r["kind"] == "memory"}

    def cell(server, cfg):
        mode, conns, size = cfg
        return [r for r in runs if r["server"] == server and r.get("mode") == mode
                and r.get("connections") == conns and r.get("size") == size]

    def good(rs):
        return [r for r in rs if r.get("verified")]

    def rps_of(server, cfg):
        return med([r["rps"] for r in good(cell(server, cfg))])

    def cpu_per_req(r):
        n = r.get("lines_verified") or 0
        return r["server_cpu_s"] / n * 1e6 if r.get("server_cpu_s") is not None and n else None

    def cpu_of(server, cfg):
        return med([cpu_per_req(r) for r in good(cell(server, cfg))])

    out = ["### Servers", "",
           table(["name", "what", "command"],
                 [[s["server"], s["what"], f"`{s['argv']} --host 127.0.0.1 --port P`" if s["available"]
                   else f"skipped: {s['note']}"] for s in servers]), ""]

    failures = [r for r in runs if not r.get("verified")]
    if failures:
        out += ["**Failed runs** (not counted):", ""]
        out += [f"- {r['server']} {r.get('mode')} {r.get('connections')}×{r.get('size')} B, rep {r.get('rep', 0) + 1}: "
                f"{r.get('error')}" for r in failures]
        out += [""]

    for cfg, title in CONFIG_TITLES:
        rows = []
        for s in available:
            rs = good(cell(s, cfg))
            if not rs:
                rows.append([s, "failed", "", "", "", "", "", ""])
                continue
            rps = [r["rps"] for r in rs]
            row = [s, f"{si(med(rps))}/s", pct(spread(rps)), f"{med([r['mbps'] for r in rs]):.1f}"]
            if cfg[0] == "pingpong":
                row += [f"{med([r['p50_us'] for r in rs]):.0f}", f"{med([r['p99_us'] for r in rs]):.0f}"]
            else:
                row += ["–", "–"]
            row += [f"{med([cpu_per_req(r) for r in rs]) or 0:.2f}", ratio(div(med(rps), rps_of("epoll", cfg)))]
            rows.append(row)
        out += [f"### {title}", "",
                table(["server", "requests/s", "spread", "MB/s", "p50 µs", "p99 µs", "server CPU µs/req",
                       "vs epoll"], rows), ""]

    # Targets
    targets = []
    pp, pl = ("pingpong", 64, 64), ("pipelined", 64, 64)

    def per_rep_ratio(a, b, cfg):
        ra = {r["rep"]: r["rps"] for r in good(cell(a, cfg))}
        rb = {r["rep"]: r["rps"] for r in good(cell(b, cfg))}
        rs = [ra[k] / rb[k] for k in ra if k in rb and rb[k]]
        return f" (per rep {min(rs):.2f}–{max(rs):.2f})" if len(rs) > 1 else ""

    for s in SLUICE:
        if s not in available:
            targets.append([f"{s}: all network targets", "", "not measured (server missing)", "n/a"])
            continue
        for cfg, label, peer, goal in ((pp, "ping-pong", "epoll", 0.9), (pp, "ping-pong", "uvloop", 2.0),
                                       (pl, "pipelined", "epoll", 0.7), (pl, "pipelined", "uvloop", 20.0)):
            if peer not in available:
                targets.append([f"{s}: {label} vs {peer}", f"≥ {goal}×", f"{peer} not measured", "n/a"])
                continue
            r = div(rps_of(s, cfg), rps_of(peer, cfg))
            cpu = div(cpu_of(peer, cfg), cpu_of(s, cfg))
            targets.append([f"{s}: {label} 64 conns × 64 B vs {peer}", f"≥ {goal}×",
                            ratio(r) + per_rep_ratio(s, peer, cfg) + f"; CPU per request: {ratio(cpu)}",
                            verdict(None if r is None else r >= goal)])

    mem_rows = []
    for s in available:
        m = memory.get(s)
        if not m or not m.get("verified"):
            mem_rows.append([s, "failed" if m else "not measured", (m or {}).get("error", ""), "", "", "", "", ""])
            continue
        growth = m["kib_per_conn_echo"] - m["kib_per_conn_idle"]
        mem_rows.append([s, f"{m['rss_base_kib']:,}", f"{m['rss_idle_kib']:,}", f"{m['rss_echo_kib']:,}",
                         f"{m['rss_burst_kib']:,}", f"{m['kib_per_conn_idle']:.2f}", f"{growth:+.2f}",
                         f"{m['kib_per_conn_burst'] - m['kib_per_conn_echo']:+.2f}"])
        goal = {"sluice_libevent": 1.5, "sluice_libevent_example": 1.5, "sluice_asio": 2.5,
                "sluice_asio_task": 2.5,
                "sluice_asio_example": 2.5}.get(s)
        if goal is not None:
            targets.append([f"{s}: memory per idle connection", f"≤ {goal} KiB", f"{m['kib_per_conn_idle']:.2f} KiB",
                            verdict(m["kib_per_conn_idle"] <= goal)])
            targets.append([f"{s}: growth after one echo on each (one connection at a time)", "none (≤ 0.1 KiB)",
                            f"{growth:+.2f} KiB (then {m['kib_per_conn_burst'] - m['kib_per_conn_echo']:+.2f} "
                            f"more after an echo on all at once)", verdict(growth <= 0.1)])
    out += ["### Memory per connection", "",
            "Whole-server VmRSS (KiB): after a warm-up connection (base); with 1,000 idle connections; after one "
            "64 B echo on each, one connection after the other (what a connection keeps); after one more echo on "
            "all 1,000 at once (a burst: what the allocator keeps of the peak). Per connection = difference / "
            "1,000. One measurement per server (RSS is not noisy the way throughput is). Kernel socket buffers "
            "are not in RSS.", "",
            table(["server", "base", "1,000 idle", "after echo, one at a time", "after echo, all at once",
                   "KiB/conn idle", "KiB/conn growth (one at a time)", "KiB/conn growth (burst)"], mem_rows), ""]

    scale = ("pingpong", 2000, 64)
    for s in SLUICE:
        if s in available:
            rs = cell(s, scale)
            ok = bool(rs) and all(r.get("verified") for r in rs)
            targets.append([f"{s}: 2,000 concurrent connections served (ping-pong)", "all echoed, verified",
                            f"{si(rps_of(s, scale))} req/s", verdict(ok)])

    chart = make_chart(available, rps_of, chart_path)
    if chart:
        out += ["### Chart", "", f"![echo results]({chart})", ""]
    return "\n".join(out), targets


def make_chart(available, rps_of, chart_path):
    """A clustered bar chart of the median requests/s (log scale); None if
    gnuplot is missing."""
    if not chart_path or not shutil.which("gnuplot"):
        return None
    cfgs = [c for c, _ in CONFIG_TITLES]
    labels = ["ping-pong 64B", "pipelined 64B", "ping-pong 4KiB", "pipelined 4KiB", "ping-pong 2000 conns"]
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "echo.dat")
        with open(dat, "w") as f:
            f.write("config " + " ".join(available) + "\n")
            for cfg, label in zip(cfgs, labels):
                f.write(f'"{label}" ' + " ".join(str(rps_of(s, cfg) or 1) for s in available) + "\n")
        palette = ["#444444", "#1b9e77", "#d95f02", "#66c2a5", "#fc8d62", "#7570b3", "#e7298a", "#a6761d",
                   "#e6ab02", "#1f78b4", "#b2df8a"]
        colors = "\n".join(f'set linetype {i + 1} lc rgb "{c}"' for i, c in enumerate(palette))
        script = f"""
set terminal pngcairo size 1400,700 font "sans,11" noenhanced
set output "{chart_path}"
{colors}
set title "Echo servers on loopback: median requests/s (log scale; higher is better)"
set style data histograms
set style histogram clustered gap 2
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set format y "%.0s%c"
set ylabel "requests/s"
set grid ytics
set key outside right top vertical
set yrange [1000:*]
plot for [i=2:{len(available) + 1}] "{dat}" using i:xtic(1) title columnheader(i)
"""
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if r.returncode != 0:
            return None
    return os.path.relpath(chart_path, os.path.dirname(os.path.abspath(ARGS.out)))


# --------------------------------------------------------------------------


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader", required=True)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--net", required=True)
    ap.add_argument("--commands", required=True, help="the commands that were run, one per line")
    ap.add_argument("--load", default="", help="load averages noted during the run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--chart", default="")
    ap.add_argument("--elapsed", default="")
    ARGS = ap.parse_args()

    core, core_targets = core_section(ARGS.reader, ARGS.writer)
    net, net_targets = net_section(net_records(ARGS.net), ARGS.chart)
    with open(ARGS.commands) as f:
        commands = f.read().strip()
    load = open(ARGS.load).read().strip() if ARGS.load and os.path.exists(ARGS.load) else ""

    doc = ["# sluice benchmarks", "",
           "Generated by `./dev bench` (bench/report.py); do not edit by hand. Issue 8 sets the targets: all are "
           "ratios between numbers measured in the same run on the same machine, so compare ratios, not absolute "
           "numbers, across runs.", "",
           "> **These numbers were taken on a shared 2-core machine while other engineers were compiling and "
           "fuzzing** (load averages below), so throughput is noisy and latency tails are mostly scheduling. "
           "The final numbers will be regenerated with `./dev bench` on a quiet machine.", "",
           "## Machine", "", table(["", ""], machine() + ([("Load average (start / end)", load)] if load else [])
                                    + ([("Elapsed", ARGS.elapsed)] if ARGS.elapsed else [])), "",
           "## Commands", "", "```", commands, "```", "",
           "## Targets (issue 8)", "",
           table(["target", "goal", "measured", ""], core_targets + net_targets), "",
           "## Core (Google Benchmark, in memory)", "", core,
           "## Network (bench/echo, loopback TCP)", "",
           "One load generator (bench/echo/load_generator.cc: one thread, epoll, non-blocking) against each "
           "server in turn, every echoed byte checked (sequence-numbered lines). Ping-pong: one line per "
           "connection in flight. Pipelined: each connection keeps up to 64 KiB of lines in flight "
           "(`--window`), counting the lines echoed. Requests/s is the median over the repetitions; the spread is ± "
           "half of (max − min) over the median; p50/p99 are medians of the per-run percentiles; server CPU is "
           "user + system time of the server process over the run (warm-up and drain included) divided by the "
           "lines echoed, which a busy machine disturbs less than requests/s.", "",
           net]
    with open(ARGS.out, "w") as f:
        f.write("\n".join(doc).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
