#!/usr/bin/env python3
"""Turns the raw outputs of benchmarks/run.sh into the header, "Scaling" and "Cold start" sections
of benchmarks/RESULTS.md and the chart benchmarks/throughput.svg. Standard library only.

usage: suite-report.py OUT_DIR RESULTS_MD CHART_SVG
"""
import glob
import json
import os
import re
import statistics
import sys

OUT, RESULTS, CHART = sys.argv[1], sys.argv[2], sys.argv[3]
GIB = float(1 << 30)
BROKEN_FACTOR = 2.0  # a cold read faster than this times the fio cold ceiling was not cold


def read(name, default=""):
    p = os.path.join(OUT, name)
    return open(p).read().strip() if os.path.exists(p) else default


SIZES = {}  # label -> bytes of the model directory
for line in read("sizes.tsv").splitlines():
    label, nbytes = line.split("\t")
    SIZES[label] = int(nbytes)


def size_key(label):
    return SIZES.get(label, 0)


def gib(label):
    return SIZES[label] / GIB


def fmt_rates(rs):
    if not rs:
        return "n/a"
    if len(rs) == 1:
        return "%.2f (n=1)" % rs[0]
    return "%.2f (%.2f-%.2f, n=%d)" % (statistics.median(rs), min(rs), max(rs), len(rs))


def med(rs):
    return statistics.median(rs) if rs else None


def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "n/a"


def mib(nbytes):
    return "%.0f MiB" % (nbytes / float(1 << 20)) if nbytes and nbytes > 0 else "n/a"


notes = [n for n in read("notes.txt").splitlines() if n]
broken = []
unchecked = set()

# --- fio ----------------------------------------------------------------------------------------
fio = {}  # (label, mode) -> [GiB/s per round]
rounds = {}
for p in glob.glob(os.path.join(OUT, "fio-*.json")):
    m = re.match(r"fio-(\w+)-(direct|buffered-cold|buffered-warm)-(\w+)-(\d+)\.json", os.path.basename(p))
    if not m:
        continue
    try:
        job = json.load(open(p))["jobs"][0]["read"]
    except (ValueError, KeyError, IndexError):
        continue
    acc = rounds.setdefault((m.group(1), m.group(2), m.group(3)), [0, 0])
    acc[0] += job["io_bytes"]
    acc[1] += job["runtime"]
for (label, mode, _), (nbytes, ms) in rounds.items():
    if ms > 0:
        fio.setdefault((label, mode), []).append(nbytes / GIB / (ms / 1000.0))

# --- JMH scaling --------------------------------------------------------------------------------
side = {}
for line in read("side.csv").splitlines():
    key, ctx, value = line.split(",", 2)
    side[(key, ctx)] = value
jmh = {}  # (label, strategy, cache) -> [GiB/s]
jmh_hwm = {}
entries = []
for p in sorted(glob.glob(os.path.join(OUT, "scaling*.json"))):
    try:
        entries += json.load(open(p))
    except ValueError:
        pass  # a run cut short leaves an empty or partial file
for entry in entries:
    prm = entry["params"]
    label = os.path.basename(prm["model"]).replace("model-", "")
    ctx = "model-%s/%s/%s" % (label, prm["strategy"], prm["cache"])
    nbytes = int(side.get(("bytes", ctx), SIZES.get(label, 0)))
    raw = [x for fork in entry["primaryMetric"]["rawData"] for x in fork]
    jmh[(label, prm["strategy"], prm["cache"])] = [nbytes / GIB / (ms / 1000.0) for ms in raw]
    jmh_hwm[(label, prm["strategy"], prm["cache"])] = int(side.get(("hwm", ctx), -1))

# --- cold starts --------------------------------------------------------------------------------
OURS = {"download-load", "cached-load", "stream"}
runs = {}  # (scenario, label, tool) -> list of dict
for line in read("runs.tsv").splitlines():
    f = line.split("\t")
    if len(f) < 9 or f[4] == "FAILED":
        if len(f) >= 3:
            notes.append("a %s run of %s at %s failed (see the run's log)" % (f[2], f[0], f[1]))
        continue
    scenario, label, tool, _, nbytes, wall, fetch, load, rss = f
    wall, fetch, load = float(wall), float(fetch), float(load)
    total = wall if tool in OURS else wall + load
    runs.setdefault((scenario, label, tool), []).append(
        {"fetch": fetch if tool in OURS else wall, "load": load, "total": total, "rss": int(rss) * 1024,
         "rate": SIZES.get(label, int(nbytes)) / GIB / total if total > 0 else 0})

def fio_cold_ceiling(label):
    """The fastest cold read fio managed in this run, on any of the models: what the disk (and the
    VM host's cache behind it) demonstrably delivers. Single fio samples on this shared VM vary by
    2x, so a per-size median would flag honest cold reads; mincore has already proved the guest's
    page cache empty before every cold iteration."""
    c = [x for (l, mode), rs in fio.items() if mode in ("direct", "buffered-cold") for x in rs]
    return max(c) if c else None


def cold_check(label, what, rates):
    """Returns the cell text: the figure, or a BROKEN flag when it ran at memory speed."""
    ceiling = fio_cold_ceiling(label)
    if rates and not ceiling:
        unchecked.add(label)
    if rates and ceiling and med(rates) > BROKEN_FACTOR * ceiling:
        broken.append("%s at %s: %.2f GiB/s cold is more than %.0fx the fio cold ceiling (%.2f GiB/s)"
                      % (what, label, med(rates), BROKEN_FACTOR, ceiling))
        return "BROKEN: %.2f > %.0fx fio cold, pages were not cold" % (med(rates), BROKEN_FACTOR)
    return fmt_rates(rates)


# --- sections -----------------------------------------------------------------------------------
machine = read("machine.txt")
command = read("command.txt")
settings = read("settings.txt")
labels = sorted({k[0] for k in jmh} | {k[0] for k in fio} | {k[1] for k in runs}, key=size_key)

header = []
header.append("How fast does a model get into memory, from the local disk and from network storage, and "
              "how close is that to what the machine can do? Every figure below comes with the command "
              "that produced it; peers were measured in the same run, on the same files, and ratios "
              "are taken between medians of that run.")
header.append("")
header.append("- [Scaling](#scaling): load throughput against model size from the local disk, each read "
              "strategy, cold and warm, against fio and Chronicle Bytes (`benchmarks/run.sh`)")
header.append("- [Cold start](#cold-start): the whole cold start, download then load against load from "
              "the cache, from a `file:` source and from S3, against cp, `aws s3 sync` and "
              "S3TransferManager (`benchmarks/run.sh`)")
_existing = open(RESULTS).read() if os.path.exists(RESULTS) else ""
for _title in re.findall(r"^## (.+)$", _existing, flags=re.M):
    if _title in ("Scaling", "Cold start"):
        continue
    _anchor = re.sub(r"[^a-z0-9 -]", "", _title.lower()).replace(" ", "-")
    header.append("- [%s](#%s): its own section, written by its own script" % (_title, _anchor))
header.append("")
def is_broken(label, rs):
    ceiling = fio_cold_ceiling(label)
    return bool(rs and ceiling and med(rs) > BROKEN_FACTOR * ceiling)


headline = []
def total_of(scenario, label, tool):
    rs = runs.get((scenario, label, tool))
    return med([r["total"] for r in rs]) if rs else None
jl = [l for l in labels if (l, "DIRECT", "cold") in jmh]
if jl:
    big, small = jl[-1], jl[0]
    parts = []
    for strategy, name in (("DIRECT", "O_DIRECT"), ("MMAP", "mmap"), ("BUFFERED", "buffered")):
        rs = jmh.get((big, strategy, "cold"))
        if rs and is_broken(big, rs):
            parts.append("%s BROKEN (not cold)" % name)
        elif rs:
            parts.append("%s %.2f GiB/s (%s fio O_DIRECT)" % (name, med(rs), ratio(med(rs), med(fio.get((big, "direct"), [])))))
    headline.append("Local disk, cold, %s model: %s." % (big, "; ".join(parts)))
    if big != small:
        a, b = med(jmh[(small, "DIRECT", "cold")]), med(jmh[(big, "DIRECT", "cold")])
        headline.append("Cost against size: a cold O_DIRECT load takes %.2f s per GiB at %s and %.2f s per GiB at "
                        "%s (throughput at %s = %s that at %s)." % (1 / a, small, 1 / b, big, big, ratio(b, a), small))
    rs = jmh.get((big, "BUFFERED", "warm"))
    if rs:
        headline.append("Local disk, warm, %s: buffered %.2f GiB/s (%s fio buffered warm)." % (
            big, med(rs), ratio(med(rs), med(fio.get((big, "buffered-warm"), [])))))
for scenario, what in (("file", "`file:` source"), ("s3", "S3 on loopback"), ("shaped", "S3 at 1 gbit + 20 ms")):
    sl = sorted({k[1] for k in runs if k[0] == scenario and k[2] == "download-load"}, key=size_key)
    if not sl:
        continue
    big = sl[-1]
    dl, cached = total_of(scenario, big, "download-load"), total_of(scenario, big, "cached-load")
    cached_runs = runs.get((scenario, big, "cached-load"), [])
    if is_broken(big, [SIZES.get(big, 0) / GIB / r["load"] for r in cached_runs if r["load"] > 0]):
        line = "Cold start, %s, %s: download then load %.1f s; load from the cache BROKEN (not cold)" % (what, big, dl)
    elif cached:
        line = "Cold start, %s, %s: download then load %.1f s; load from the cache %.1f s (%.1fx faster)" % (
            what, big, dl, cached, dl / cached)
    else:
        line = "Cold start, %s, %s: download then load %.1f s" % (what, big, dl)
    for tool, name in (("cp", "cp + load"), ("aws-s3-sync", "aws s3 sync + load"), ("tm-crt", "TransferManager CRT + load")):
        t = total_of(scenario, big, tool)
        if t:
            line += "; %s %.1f s (ours %s)" % (name, t, "%.2fx faster" % (t / dl) if t >= dl else "%.2fx slower" % (dl / t))
    if scenario == "shaped":
        line += "; our whole pipeline averages %.0f%% of the link rate" % (100 * SIZES[big] / dl / (1e9 / 8))
    headline.append(line + ".")
if headline:
    header.append("Headline figures of this run (details and spreads below):")
    header.append("")
    for h in headline:
        header.append("- " + h)
    header.append("")
header.append("![throughput against model size](throughput.svg)")
header.append("")
header.append("Suite run (Scaling, Cold start, the chart): `%s` (%s)." % (command, settings))
header.append("Machine:")
header.append("")
for line in machine.splitlines():
    header.append("    " + line)
header.append("")
header.append("Run `benchmarks/run.sh --quick` for a smoke run (small models), `benchmarks/run.sh` for "
              "these tables, `benchmarks/run.sh --all` to refresh the Loader and S3 sections too. "
              "Data lives in `$MODELCACHE_BENCH_DIR` (default `/work/bench-data`).")
if notes:
    header.append("")
    header.append("Skipped or degraded in this run:")
    header.append("")
    for n in notes:
        header.append("- " + n)

sc = []
provenance = "Produced by `%s` on %s (machine and load in the header above)." % (
    command, re.sub(r"^.*date: (\S+).*$", r"\1", machine.replace("\n", " ")) if "date: " in machine else "?")
sc.append("## Scaling")
sc.append("")
sc.append(provenance)
sc.append("")
sc.append("One whole-model load per JMH iteration (`ScalingBenchmark`, single shot, one fork per "
          "model/reader/state, %s) into the discard sink, which touches one byte per 4 KiB page. "
          "Models: safetensors shards of at most 2 GiB of random BF16 tensors (sizes: %s). Throughput "
          "in GiB/s of tensor data: median (min-max, n)." % (
              settings.split("jmh ")[-1] if "jmh " in settings else "see settings",
              ", ".join("%s = %.2f GiB" % (l, gib(l)) for l in labels if l in SIZES)))
sc.append("")
sc.append("**Cold** = every file's pages dropped with `posix_fadvise(DONTNEED)` before each iteration and "
          "checked with `mincore` (the iteration fails above 1%% resident); a cold figure above %.0fx "
          "the fastest cold read fio made in this run (any model, O_DIRECT or buffered) is flagged "
          "BROKEN instead of reported: that would be a read from memory, not from the disk. **Warm** = "
          "the files read first and checked at least 99%% resident. fio reads the same files "
          "(`--rw=read --bs=4M --iomem_align=4096`; O_DIRECT with libaio and `--iodepth=16`; "
          "buffered with psync, `--invalidate=1` after our drop for cold; without the page-aligned "
          "buffer fio's warm buffered reads run 5x slower on this machine), in rounds before and after JMH." % BROKEN_FACTOR)
sc.append("")
READERS = [("DIRECT", "loader, O_DIRECT (8 MiB blocks, 4 in flight)"), ("MMAP", "loader, mmap"),
           ("BUFFERED", "loader, buffered reads"), ("CHRONICLE", "Chronicle Bytes MappedBytes (peer)")]
for cache, fio_mode, fio_name in (("cold", "direct", "fio O_DIRECT (ceiling)"),
                                  ("warm", "buffered-warm", "fio buffered, warm (ceiling)")):
    sc.append("### %s" % cache.capitalize())
    sc.append("")
    sc.append("| size | reader | GiB/s | ÷ %s | ÷ Chronicle | peak RSS |" % fio_name.split(" (")[0])
    sc.append("|---|---|---|---|---|---|")
    for label in labels:
        ceiling = med(fio.get((label, fio_mode), []))
        chron = med(jmh.get((label, "CHRONICLE", cache), []))
        if (label, fio_mode) in fio:
            sc.append("| %s | %s | %s | 1.00x | | |" % (label, fio_name, fmt_rates(fio[(label, fio_mode)])))
        if cache == "cold" and (label, "buffered-cold") in fio:
            r = fio[(label, "buffered-cold")]
            sc.append("| %s | fio buffered, cold | %s | %s | | |" % (label, fmt_rates(r), ratio(med(r), ceiling)))
        for strategy, name in READERS:
            rs = jmh.get((label, strategy, cache), [])
            if not rs:
                continue
            cell = cold_check(label, name, rs) if cache == "cold" else fmt_rates(rs)
            bad = cell.startswith("BROKEN")
            sc.append("| %s | %s | %s | %s | %s | %s |" % (
                label, name, cell, "-" if bad else ratio(med(rs), ceiling),
                "" if strategy == "CHRONICLE" or bad else ratio(med(rs), chron), mib(jmh_hwm.get((label, strategy, cache)))))
    sc.append("")
sc.append("What each reader does with the bytes: fio and Chronicle copy every byte into a user buffer "
          "(Chronicle: an 8 MiB `byte[]`); the loader's O_DIRECT and buffered strategies deliver every "
          "byte into their buffer pool; mmap hands out zero-copy views of the mapping, so a warm mmap "
          "load costs page-table work only (the sink touches one byte per page) and copies nothing: "
          "its warm figure is the time until the weights are addressable, not a copy rate, and its "
          "ratio to copying readers is not like for like.")
sc.append("")
sc.append("Peak RSS is the JMH fork's `VmHWM`: the JVM (heap capped at 1 GiB) plus the loader's buffers; "
          "for mmap and Chronicle it also counts the mapped file pages that were resident at once.")
if unchecked:
    sc.append("")
    sc.append("No fio cold figure for %s in this run: those cold figures rest on the mincore check "
              "alone." % ", ".join(sorted(unchecked, key=size_key)))
if broken:
    sc.append("")
    sc.append("**Broken measurements in this run** (not reported as figures):")
    sc.append("")
    for b in broken:
        sc.append("- " + b)

cs = []
cs.append("## Cold start")
cs.append("")
cs.append(provenance)
cs.append("")
cs.append("What a pod does between \"the process started\" and \"the weights are in memory\", timed in a "
          "fresh JVM per run (`ColdStart`) under `/usr/bin/time`; medians of the rounds, min-max in "
          "brackets. The load step is our loader (O_DIRECT, discard sink) in every pipeline, so the "
          "pipelines differ only in how the files arrive. Total = wall time from process start to "
          "loaded (for a peer: the peer's wall time plus our load time); GiB/s = model size / total; "
          "\"time ÷ ours\" = that pipeline's total / the total of our download-then-load (above 1: ours "
          "is faster; below 1: the peer is). Peak RSS = the largest of the processes involved (%M of `/usr/bin/time`).")
cs.append("")
SCEN = [("file", "From a `file:` source",
         "The source is a model directory on the same local disk (standing in for a network mount), its "
         "pages dropped before each download, so it is read cold. Ours: `ModelCache.ensure` (ranged "
         "reads, 16 in flight, verified, fsynced, committed) then load. Peer: `cp -r` + `sync` of the "
         "files, then load."),
        ("s3", "From S3 on loopback",
         "S3Proxy 4.1.0 standalone (filesystem store, `-Xmx512m`, on the same 2 cores) on 127.0.0.1; "
         "the store's files are warm in its page cache before every run, so the server's disk is "
         "not what is measured. Ours: `ModelCache.ensure` with the s3 backend, then load. Peers: "
         "`aws s3 sync` (Debian awscli) and `S3TransferManager.downloadDirectory` (the CRT client "
         "by default; `--s3-peers` adds the Java client), each followed by the same load. The S3 "
         "section below compares the download alone with more peers."),
        ("shaped", "From S3 behind a 1 gbit link, 20 ms per GET",
         "The same server in a network namespace behind a veth pair shaped with `tbf rate 1gbit "
         "burst 256kb latency 20ms`, plus S3Proxy's 20 ms latency on every GET. The link's rate "
         "is 0.116 GiB/s.")]
NAMES = {"download-load": "ours: download into the cache, then load",
         "cached-load": "ours: load from the cache (hit, pages dropped)",
         "stream": "ours: stream straight from the store into memory (no disk)",
         "cp": "peer: cp -r + sync, then load",
         "aws-s3-sync": "peer: aws s3 sync, then load",
         "tm-crt": "peer: S3TransferManager (CRT), then load",
         "tm-java": "peer: S3TransferManager (Java client), then load"}
ORDER = ["download-load", "cp", "aws-s3-sync", "tm-crt", "tm-java", "stream", "cached-load"]
for scenario, title, text in SCEN:
    rows = {k: v for k, v in runs.items() if k[0] == scenario}
    if not rows:
        continue
    cs.append("### " + title)
    cs.append("")
    cs.append(text)
    cs.append("")
    cs.append("| size | pipeline | fetch s | load s | total s | GiB/s | time ÷ ours | peak RSS |")
    cs.append("|---|---|---|---|---|---|---|---|")
    for label in sorted({k[1] for k in rows}, key=size_key):
        ours = rows.get((scenario, label, "download-load"))
        ours_total = med([r["total"] for r in ours]) if ours else None
        for tool in ORDER:
            rs = rows.get((scenario, label, tool))
            if not rs:
                continue
            totals = [r["total"] for r in rs]
            t = med(totals)
            if tool == "download-load":
                vs = "1.00x"
            elif tool == "cached-load":
                vs = "%.1fx faster" % (ours_total / t) if ours_total else "n/a"
            else:
                vs = ratio(t, ours_total)
            spread = " (%.1f-%.1f)" % (min(totals), max(totals)) if len(totals) > 1 else ""
            rate = med([r["rate"] for r in rs])
            if tool == "cached-load":
                load_rates = [SIZES.get(label, 0) / GIB / r["load"] for r in rs if r["load"] > 0]
                if is_broken(label, load_rates):
                    broken.append("%s load from the cache at %s: %.2f GiB/s is more than %.0fx the fio cold "
                                  "ceiling" % (scenario, label, med(load_rates), BROKEN_FACTOR))
                    cs.append("| %s | %s | BROKEN: the cached load ran at memory speed | | | | | |" % (label, NAMES[tool]))
                    continue
            cs.append("| %s | %s | %.2f | %.2f | %.2f%s | %s | %s | %s |" % (
                label, NAMES.get(tool, tool), med([r["fetch"] for r in rs]), med([r["load"] for r in rs]),
                t, spread, ("%.2f" if rate >= 0.995 else "%.3f") % rate, vs, mib(max(r["rss"] for r in rs))))
    cs.append("")
cs.append("Read-through (loading tensors while the download is still running) is not measured: the "
          "cache commits an entry only when it is complete, and no public API hands a loader a file "
          "before then. The streaming row shows the ceiling such a mode would have: the same ranged "
          "reads with the bytes going to memory instead of the disk.")

# --- chart --------------------------------------------------------------------------------------
def series_jmh(strategy, cache):
    return [(gib(l), med(jmh[(l, strategy, cache)])) for l in labels if (l, strategy, cache) in jmh and l in SIZES]


def series_fio(mode):
    return [(gib(l), med(fio[(l, mode)])) for l in labels if (l, mode) in fio and l in SIZES]


def series_runs(scenario, tool):
    return [(gib(l), med([r["rate"] for r in runs[(scenario, l, tool)]]))
            for l in labels if (scenario, l, tool) in runs and l in SIZES]


PANELS = [
    ("Local disk, cold", [
        ("fio O_DIRECT", series_fio("direct"), "#000000", "4 3"),
        ("fio buffered", series_fio("buffered-cold"), "#777777", "4 3"),
        ("loader O_DIRECT", series_jmh("DIRECT", "cold"), "#d62728", None),
        ("loader mmap", series_jmh("MMAP", "cold"), "#1f77b4", None),
        ("loader buffered", series_jmh("BUFFERED", "cold"), "#2ca02c", None),
        ("Chronicle", series_jmh("CHRONICLE", "cold"), "#9467bd", "2 2")]),
    ("Local disk, warm (mmap: zero-copy, not drawn)", [
        ("fio buffered", series_fio("buffered-warm"), "#777777", "4 3"),
        ("loader O_DIRECT", series_jmh("DIRECT", "warm"), "#d62728", None),
        ("loader buffered", series_jmh("BUFFERED", "warm"), "#2ca02c", None),
        ("Chronicle", series_jmh("CHRONICLE", "warm"), "#9467bd", "2 2")]),
    ("Network storage: download + load", [
        ("file: ours", series_runs("file", "download-load"), "#d62728", None),
        ("file: cp + load", series_runs("file", "cp"), "#d62728", "4 3"),
        ("S3 ours", series_runs("s3", "download-load"), "#1f77b4", None),
        ("S3 aws sync + load", series_runs("s3", "aws-s3-sync"), "#1f77b4", "4 3"),
        ("S3 TM CRT + load", series_runs("s3", "tm-crt"), "#1f77b4", "2 2"),
        ("1 gbit ours", series_runs("shaped", "download-load"), "#ff7f0e", None),
        ("1 gbit aws + load", series_runs("shaped", "aws-s3-sync"), "#ff7f0e", "4 3"),
        ("from cache", series_runs("file", "cached-load"), "#2ca02c", None)]),
]


def svg_chart(path):
    import math
    W, H, PW, PH, ML, MT = 1200, 430, 330, 270, 60, 50
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (W, H), '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="15" font-weight="bold">Throughput against model size '
           '(GiB/s, median; x: model size in GiB, log scale)</text>' % ML]
    xs = sorted({x for _, panel in PANELS for _, s, _, _ in panel for x, _ in s}) or [1]
    x0, x1 = math.log2(min(xs)), math.log2(max(xs))
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    for i, (title, panel) in enumerate(PANELS):
        left = ML + i * (PW + 70)
        ys = [y for _, s, _, _ in panel for _, y in s if y]
        ymax = max(ys) * 1.1 if ys else 1.0
        step = 10 ** math.floor(math.log10(ymax / 4)) if ymax > 0 else 1
        for m in (1, 2, 5, 10):
            if ymax / (step * m) <= 6:
                step *= m
                break
        def px(x):
            return left + (math.log2(x) - x0) / (x1 - x0) * PW
        def py(y):
            return MT + PH - y / ymax * PH
        out.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (left, MT - 8, title))
        out.append('<text x="%d" y="%d" text-anchor="middle" transform="rotate(-90 %d %d)">GiB/s</text>'
                   % (left - 38, MT + PH // 2, left - 38, MT + PH // 2))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (left, MT, PW, PH))
        t = 0.0
        while t <= ymax:
            out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (left, py(t), left + PW, py(t)))
            out.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (left - 4, py(t) + 4, round(t, 3)))
            t += step
        for x in xs:
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (px(x), MT + PH + 14, round(x, 2)))
        if "Network" in title:
            link = 1e9 / 8 / GIB
            if link < ymax:
                out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ff7f0e" stroke-width="0.8"/>'
                           % (left, py(link), left + PW, py(link)))
                out.append('<text x="%d" y="%.1f" fill="#ff7f0e">1 gbit</text>' % (left + PW - 40, py(link) - 3))
        ly = MT + PH + 32
        j = -1
        for name, s, color, dash in panel:
            if not s:
                continue
            j += 1
            pts = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in s if y)
            d = ' stroke-dasharray="%s"' % dash if dash else ""
            out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (pts, color, d))
            for x, y in s:
                if y:
                    out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px(x), py(y), color))
            col, row = j % 2, j // 2
            lx, yy = left + col * 170, ly + row * 14
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
                       % (lx, yy - 4, lx + 22, yy - 4, color, d))
            out.append('<text x="%d" y="%d">%s</text>' % (lx + 26, yy, name))
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


svg_chart(CHART)

# --- RESULTS.md ---------------------------------------------------------------------------------
def block(name, lines):
    return "<!-- %s:begin -->\n%s\n<!-- %s:end -->\n" % (name, "\n".join(lines).rstrip("\n"), name)


text = open(RESULTS).read() if os.path.exists(RESULTS) else "# Benchmark results\n"
# A part this run skipped keeps the section of the run that measured it (each section names its
# own command and date).
old_blocks = {}
for name in ("suite", "scaling", "coldstart"):
    m = re.search(r"<!-- %s:begin -->.*?<!-- %s:end -->\n" % (name, name), text, flags=re.S)
    if m:
        old_blocks[name] = m.group(0)
for name in ("suite", "scaling", "coldstart"):
    text = re.sub(r"<!-- %s:begin -->.*?<!-- %s:end -->\n*" % (name, name), "", text, flags=re.S)
lines = text.split("\n", 1)
title = lines[0] if lines[0].startswith("# ") else "# Benchmark results"
rest = (lines[1] if lines[0].startswith("# ") and len(lines) > 1 else text).strip("\n")
sc_block = block("scaling", sc) if (jmh or fio) or "scaling" not in old_blocks else old_blocks["scaling"]
cs_block = block("coldstart", cs) if runs or "coldstart" not in old_blocks else old_blocks["coldstart"]
new = title + "\n\n" + block("suite", header) + "\n" + sc_block + "\n" + cs_block
if rest:
    new += "\n" + rest + "\n"
open(RESULTS, "w").write(new)
for b in broken:
    print("BROKEN: " + b, file=sys.stderr)
