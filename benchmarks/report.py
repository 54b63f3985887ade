#!/usr/bin/env python3
"""Turns the JSON lines that benchmarks/bench records into markdown tables (standard library only).

usage: report.py RESULTS.jsonl [MORE.jsonl ...]   (markdown on standard output)

One table per run, scenario, size and link. Each row is one tool: its rounds, the median wall time,
throughput, CPU, peak RSS, the ratio to the peer measured in the same run, and the command.
The peer is named per scenario (PEERS); behind a shaped link the ratio is to the link's rate.
"""
import json
import statistics
import sys

MIB = float(1 << 20)

# Scenario -> the tools that serve as its peer, in order of preference (the first one measured).
PEERS = {
    "loader": ["fio-direct"],
    "coldstart": ["cp", "rclone+load", "aws+load"],
    "s3": ["rclone", "aws"],
    "shaped": ["rclone", "aws"],
    "sweep": ["rclone", "aws"],
    "http-clients": ["rclone"],
    "verify-cost": ["baseline"],
}


def load(paths):
    """Every line of every file, as dicts, in file order; blank lines are ignored."""
    rows = []
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError as e:
                        raise SystemExit("%s:%d: not a JSON line (%s)" % (path, number, e))
    return rows


def group_key(row):
    return (row["run"], row["scenario"], row["size"], row.get("link_bps"))


def groups(rows):
    """Measurement rows grouped by (run, scenario, size, link_bps), in order of appearance."""
    out = {}
    for row in rows:
        if row.get("status") == "info":
            continue
        out.setdefault(group_key(row), []).append(row)
    return out


def summarize(rows):
    """Per tool, in order of appearance: ok walls, the median, CPU, RSS, bytes, status, command."""
    tools = {}
    for row in rows:
        t = tools.setdefault(row["tool"], {"walls": [], "cpus": [], "rss": [], "bytes": 0,
                                          "failed": 0, "reason": None, "command": row.get("command", "")})
        status = row.get("status", "ok")
        if status == "ok":
            t["walls"].append(row["wall_s"])
            if "cpu_s" in row:
                t["cpus"].append(row["cpu_s"])
            if "rss_kib" in row:
                t["rss"].append(row["rss_kib"])
            t["bytes"] = row.get("bytes", 0)
        elif status == "failed":
            t["failed"] += 1
        elif status == "skipped":
            t["reason"] = row.get("reason", "")
    for t in tools.values():
        t["median"] = statistics.median(t["walls"]) if t["walls"] else None
    return tools


def peer_of(scenario, tools):
    """The first of the scenario's peers that has a median in this group, or None."""
    for name in PEERS.get(scenario, []):
        if name in tools and tools[name]["median"]:
            return name
    return None


def ratio(tool, peer_tool, link_bps=None, link_tool=None):
    """How this tool compares: on a shaped link 'N% of the link' (its throughput over the link's
    nominal rate) and, when the run measured the link itself (the `link` tool: raw TCP streams
    through it), 'N% of the measured link' (that time over this tool's); against a peer the peer's
    median wall time over this tool's ('2.00x': twice as fast as the peer; only between runs that
    moved the same bytes). Joined by '; ', those that are known; None when none is."""
    if not tool["median"]:
        return None
    parts = []
    if link_bps and tool["bytes"]:
        parts.append("%.0f%% of the link" % (100.0 * tool["bytes"] * 8 / tool["median"] / link_bps))
    if (link_tool is not None and link_tool is not tool and link_tool["median"]
            and link_tool["bytes"] == tool["bytes"]):
        parts.append("%.0f%% of the measured link" % (100.0 * link_tool["median"] / tool["median"]))
    # Wall times compare only when both moved the same bytes.
    if peer_tool is not None and peer_tool["median"] and peer_tool["bytes"] == tool["bytes"]:
        parts.append("%.2fx" % (peer_tool["median"] / tool["median"]))
    return "; ".join(parts) or None


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(scenario, rows):
    """The markdown lines of one group's table."""
    tools = summarize(rows)
    link_bps = rows[0].get("link_bps")
    peer = peer_of(scenario, tools)
    if peer:
        against = "peer: %s, its median wall time / the tool's (above 1: faster than %s)" % (peer, peer)
    else:
        wanted = " or ".join(PEERS.get(scenario, [])) or "none named"
        against = "no peer measured in this run (%s)" % wanted
    if link_bps:
        against = "the link rate (%.0f Mbit/s) and %s" % (link_bps / 1e6, against)
    heading = " and ".join((["link"] if link_bps else []) + [peer or "peer"])
    lines = ["| tool | rounds | wall median (s) | wall range (s) | MiB/s | CPU user+sys (s) | peak RSS (MiB) | vs %s | command |"
             % heading,
             "|---|---|---|---|---|---|---|---|---|"]
    for name, t in tools.items():
        if t["median"] is None:
            state = ("skipped: " + t["reason"]) if t["reason"] is not None else "failed (%d)" % t["failed"]
            lines.append("| %s | 0 | %s | - | - | - | - | - | %s |" % (cell(name), cell(state), ("`%s`" % cell(t["command"])) if t["command"] else "-"))
            continue
        mibs = "%.0f" % (t["bytes"] / MIB / t["median"]) if t["bytes"] else "-"
        cpu = "%.1f" % statistics.median(t["cpus"]) if t["cpus"] else "-"
        rss = "%.0f" % (max(t["rss"]) / 1024.0) if t["rss"] else "-"
        r = ratio(t, tools.get(peer), link_bps, tools.get("link")) or "-"
        if name == peer:
            r += " (peer)"
        runs = str(len(t["walls"])) + (" (+%d failed)" % t["failed"] if t["failed"] else "")
        lines.append("| %s | %s | %.2f | %.2f-%.2f | %s | %s | %s | %s | `%s` |" % (
            cell(name), runs, t["median"], min(t["walls"]), max(t["walls"]), mibs, cpu, rss, r, cell(t["command"])))
    return ["Ratios against " + against + ".", ""] + lines


def report(rows):
    """The whole markdown report of the given rows."""
    out = []
    infos = {r["run"]: r for r in rows if r.get("status") == "info"}
    seen = set()
    for (run, scenario, size, link_bps), group in groups(rows).items():
        if run not in seen:
            seen.add(run)
            info = infos.get(run, {})
            out.append("## %s" % run)
            out.append("")
            if info:
                out.append("Command: `%s`, %s, %s cores, load average %s at the start." % (
                    info.get("driver", "?"), info.get("date", "?"), info.get("cores", "?"), info.get("load_average", "?")))
                out.append("")
        where = " behind a %.0f Mbit/s link, %s ms per GET" % (link_bps / 1e6, group[0].get("get_latency_ms", "?")) if link_bps else ""
        source = " from %s" % group[0]["from"] if "from" in group[0] else ""
        out.append("### %s%s, %s%s" % (scenario, source, size, where))
        out.append("")
        out.extend(table(scenario, group))
        out.append("")
    return "\n".join(out)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    sys.stdout.write(report(load(argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
