#!/usr/bin/env python3
"""Turns the loader benchmark's raw outputs into the "Loader" section of benchmarks/RESULTS.md.

usage: loader-report.py OUT_DIR MODEL_DIR RESULTS_MD
"""
import glob
import json
import os
import statistics
import sys

out, model, results = sys.argv[1], sys.argv[2], sys.argv[3]
GIB = float(1 << 30)
BEGIN, END = "<!-- loader:begin -->", "<!-- loader:end -->"


def data_bytes():
    """Sum of the data sections of the model's shards (what every loader run delivers)."""
    total = 0
    for f in sorted(glob.glob(os.path.join(model, "*.safetensors"))):
        with open(f, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
        total += os.path.getsize(f) - 8 - n
    return total


DATA = data_bytes()


def load(name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else []


def rates(entry):
    """GiB/s of each measured iteration of a single-shot benchmark (score in ms per load)."""
    raw = [x for fork in entry["primaryMetric"]["rawData"] for x in fork]
    return [DATA / GIB / (ms / 1000.0) for ms in raw]


def fmt(rs):
    if not rs:
        return "n/a"
    return "%.2f (%.2f-%.2f, n=%d)" % (statistics.median(rs), min(rs), max(rs), len(rs))


def med(rs):
    return statistics.median(rs) if rs else float("nan")


def fio_rates(prefix):
    per_run = {}
    for f in sorted(glob.glob(os.path.join(out, "fio-%s*.json" % prefix))):
        run = os.path.basename(f).split("-")[1]
        j = json.load(open(f))["jobs"][0]["read"]
        b, ms = per_run.get(run, (0, 0))
        per_run[run] = (b + j["io_bytes"], ms + j["runtime"])
    return [b / GIB / (ms / 1000.0) for b, ms in per_run.values() if ms > 0]


side = {}
if os.path.exists(os.path.join(out, "side.csv")):
    for line in open(os.path.join(out, "side.csv")):
        key, ctx, value = line.strip().split(",", 2)
        side.setdefault(ctx, {})[key] = value

fio = fio_rates("before") + fio_rates("after")
rows = {}
for entry in load("loader") + load("loader-reused") + load("digest"):
    p = entry["params"]
    rows[(p["strategy"], p["sink"], p["cache"])] = rates(entry)
copy = {e["benchmark"].rsplit(".", 1)[1]: rates(e) for e in load("copy")}
chron = {e["params"]["cache"]: rates(e) for e in load("chronicle")}
sweep = []
for entry in load("sweep") + load("sweep-inflight"):
    p = entry["params"]
    sweep.append((int(p["blockSizeBytes"]), int(p["inFlight"]), rates(entry)))

L = []
L.append(BEGIN)
L.append("## Loader")
L.append("")
L.append("Produced by `benchmarks/loader-bench.sh` (JMH single-shot loads of the whole model, one fork,")
L.append("1 warm-up + 5 measured iterations; fio 3 runs before and 3 after JMH). Model: %s, %d shards,"
         % (model, len(glob.glob(os.path.join(model, '*.safetensors')))))
L.append("%.2f GiB of tensor data. Throughput in GiB/s of tensor data: median (min-max, n)." % (DATA / GIB))
L.append("Cold = every shard's pages dropped with posix_fadvise(DONTNEED) before each iteration and checked")
L.append("with mincore (the setup fails above 1% resident); warm = read into the page cache and checked >= 99%.")
L.append("")
L.append("Conditions (shared 2-core VM: other builds ran at the same time, so figures are noisy):")
L.append("")
for line in open(os.path.join(out, "conditions.txt")):
    L.append("    " + line.rstrip())
L.append("")
L.append("| strategy | sink | cold GiB/s | warm GiB/s |")
L.append("|---|---|---|---|")
for s in ("DIRECT", "BUFFERED", "MMAP"):
    for k in ("discard", "offheap", "offheap-reused", "crc32c", "sha256"):
        cold, warm = rows.get((s, k, "cold")), rows.get((s, k, "warm"))
        if cold or warm:
            L.append("| %s | %s | %s | %s |" % (s.lower(), k, fmt(cold or []), fmt(warm or [])))
L.append("")
L.append("Peers over the same shards in the same run:")
L.append("")
L.append("| peer | GiB/s |")
L.append("|---|---|")
L.append("| fio O_DIRECT read, bs=4M iodepth=16 libaio (cold by construction) | %s |" % fmt(fio))
L.append("| MemorySegment.copy from a mapping into a fresh Arena.allocate destination (warm) | %s |"
         % fmt(copy.get("segmentCopyFreshDestination", [])))
L.append("| MemorySegment.copy from a mapping into a destination touched before the run (warm) | %s |"
         % fmt(copy.get("segmentCopyReusedDestination", [])))
L.append("| Chronicle Bytes MappedBytes (64 MiB chunks) read into an 8 MiB byte[], cold | %s |" % fmt(chron.get("cold", [])))
L.append("| Chronicle Bytes MappedBytes (64 MiB chunks) read into an 8 MiB byte[], warm | %s |" % fmt(chron.get("warm", [])))
L.append("")
L.append("Ratios (medians):")
L.append("")
def ratio(a, b):
    return "%.2fx" % (med(a) / med(b)) if a and b else "n/a"
L.append("- cold direct -> discard vs fio: **%s** (goal >= 0.9x)" % ratio(rows.get(("DIRECT", "discard", "cold")), fio))
L.append("- cold direct -> off-heap vs fio: %s" % ratio(rows.get(("DIRECT", "offheap", "cold")), fio))
L.append("- warm mmap -> off-heap vs MemorySegment.copy into a fresh destination: **%s** (goal >= 0.8x)"
         % ratio(rows.get(("MMAP", "offheap", "warm")), copy.get("segmentCopyFreshDestination")))
L.append("- warm mmap -> off-heap (reused slab) vs MemorySegment.copy into a touched destination: **%s** (goal >= 0.8x)"
         % ratio(rows.get(("MMAP", "offheap-reused", "warm")), copy.get("segmentCopyReusedDestination")))
L.append("- warm buffered -> off-heap (reused slab) vs the same copy: %s"
         % ratio(rows.get(("BUFFERED", "offheap-reused", "warm")), copy.get("segmentCopyReusedDestination")))
L.append("- cold mmap -> discard vs Chronicle MappedBytes cold: %s" % ratio(rows.get(("MMAP", "discard", "cold")), chron.get("cold")))
L.append("")
if sweep:
    L.append("Direct-read block size and reads in flight (cold, discard sink, 3 iterations each):")
    L.append("")
    L.append("| blockSizeBytes | inFlight | GiB/s | vs fio |")
    L.append("|---|---|---|---|")
    for b, n, rs in sorted(sweep):
        L.append("| %d MiB | %d | %s | %s |" % (b >> 20, n, fmt(rs), ratio(rs, fio)))
    L.append("")
L.append("Memory (from /proc/self/status of each JMH fork): the buffer pool is what the loader itself holds;")
L.append("peak RSS (VmHWM) also counts the JVM (1 GiB heap, -Xms1g), the sink's copies and, for mmap, the")
L.append("mapped file pages.")
L.append("")
L.append("| strategy/sink/cache | buffer pool | RSS after open | peak RSS |")
L.append("|---|---|---|---|")
for ctx in sorted(side):
    v = side[ctx]
    if "hwm" not in v:
        continue
    parts = ctx.split("/")
    if parts[3] != "8388608" or parts[4] != "4":
        continue
    L.append("| %s | %.0f MiB | %.0f MiB | %.0f MiB |" % ("/".join(parts[:3]).lower(), int(v["pool"]) / 2**20,
                                                       int(v["rss0"]) / 2**20, int(v["hwm"]) / 2**20))
L.append("")
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loader-notes.md")
if os.path.exists(notes):
    L.append(open(notes).read().rstrip("\n"))
    L.append("")
L.append(END)
section = "\n".join(L) + "\n"

text = open(results).read() if os.path.exists(results) else "# Benchmark results\n\n"
if BEGIN in text and END in text:
    text = text[: text.index(BEGIN)] + section.rstrip("\n") + text[text.index(END) + len(END):]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(results, "w").write(text)
