"""Tests of benchmarks/report.py: peers, ratios and tables. Run: python3 -m unittest discover -s src/test/python"""
import json
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ beside benchmarks/report.py
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
import report  # noqa: E402  (benchmarks/report.py)


def row(tool, wall, scenario="s3", run="s3-1", size="64MiB", status="ok", **extra):
    r = {"run": run, "scenario": scenario, "size": size, "tool": tool, "round": 1, "bytes": 64 << 20,
         "status": status, "command": "cmd-" + tool}
    if status == "ok":
        r.update(wall_s=wall, cpu_s=wall / 2, rss_kib=2048)
    r.update(extra)
    return r


def data_line(text, tool):
    return next(l for l in text.splitlines() if l.startswith("| " + tool + " |"))


class RatioTest(unittest.TestCase):
    def test_ratio_is_the_peers_median_over_the_tools(self):
        tools = report.summarize([row("rclone", 4.0), row("rclone", 6.0), row("rclone", 100.0),
                                  row("cache", 3.0)])
        self.assertEqual(6.0, tools["rclone"]["median"])
        self.assertEqual("2.00x", report.ratio(tools["cache"], tools["rclone"]))
        self.assertEqual("1.00x", report.ratio(tools["rclone"], tools["rclone"]))

    def test_shaped_link_ratio_is_throughput_over_the_link_rate(self):
        # 64 MiB in 1 s = 536.9 Mbit/s on a 1 Gbit/s link
        tools = report.summarize([row("cache", 1.0, link_bps=1e9), row("rclone", 2.0, link_bps=1e9)])
        self.assertEqual("54% of the link", report.ratio(tools["cache"], None, 1e9))
        self.assertEqual("54% of the link; 2.00x", report.ratio(tools["cache"], tools["rclone"], 1e9))

    def test_no_ratio_without_a_peer_or_a_measurement(self):
        tools = report.summarize([row("cache", 2.0), row("rclone", 0, status="skipped", reason="not installed")])
        self.assertIsNone(report.ratio(tools["cache"], None))
        self.assertIsNone(report.ratio(tools["rclone"], tools["cache"]))

    def test_no_ratio_between_runs_of_different_bytes(self):
        other = row("jmh process", 1.0)
        other["bytes"] = 0
        tools = report.summarize([row("fio-direct", 2.0), other])
        self.assertIsNone(report.ratio(tools["jmh process"], tools["fio-direct"]))

    def test_peer_is_the_first_of_the_scenarios_peers_that_was_measured(self):
        tools = report.summarize([row("aws", 5.0), row("rclone", 0, status="skipped", reason="absent"),
                                  row("cache", 2.0)])
        self.assertEqual("aws", report.peer_of("s3", tools))
        self.assertEqual("fio-direct", report.peer_of("loader", report.summarize([row("fio-direct", 1.0), row("loader-direct", 1.0)])))
        self.assertIsNone(report.peer_of("loader", tools))

    def test_failed_rounds_do_not_enter_the_median(self):
        tools = report.summarize([row("cache", 2.0), row("cache", 0, status="failed"), row("cache", 4.0)])
        self.assertEqual(3.0, tools["cache"]["median"])
        self.assertEqual(1, tools["cache"]["failed"])


class TableTest(unittest.TestCase):
    def test_rows_carry_ratio_throughput_and_the_command(self):
        text = "\n".join(report.table("s3", [row("rclone", 2.0), row("cache", 1.0)]))
        self.assertIn("peer: rclone", text)
        cache = data_line(text, "cache")
        self.assertIn("| 2.00x |", cache)
        self.assertIn("| 64 |", cache)          # 64 MiB in 1 s
        self.assertIn("`cmd-cache`", cache)
        self.assertIn("1.00x (peer)", data_line(text, "rclone"))

    def test_skipped_tool_shows_its_reason(self):
        text = "\n".join(report.table("s3", [row("cache", 1.0),
                                             row("rclone", 0, status="skipped", reason="apt-get failed")]))
        self.assertIn("skipped: apt-get failed", data_line(text, "rclone"))
        self.assertIn("no peer measured in this run (rclone or aws)", text)

    def test_shaped_link_table_names_the_link_and_the_peer(self):
        text = "\n".join(report.table("verify-cost", [row("baseline", 2.0, link_bps=1e9),
                                                      row("current", 1.0, link_bps=1e9)]))
        self.assertIn("the link rate (1000 Mbit/s) and peer: baseline", text)
        self.assertIn("| 54% of the link; 2.00x |", data_line(text, "current"))

    def test_pipes_in_commands_are_escaped(self):
        r = row("cp", 1.0, scenario="coldstart")
        r["command"] = "bash -c 'a | b'"
        self.assertIn("`bash -c 'a \\| b'`", "\n".join(report.table("coldstart", [r])))


class ReportTest(unittest.TestCase):
    def test_one_table_per_run_size_and_link_with_the_runs_command(self):
        info = {"run": "s3-1", "scenario": "s3", "size": "-", "tool": "run", "status": "info",
                "driver": "benchmarks/bench s3 --size 64", "cores": 2, "load_average": "1 2 3", "date": "D"}
        rows = [info, row("rclone", 2.0), row("cache", 1.0), row("cache", 1.0, size="128MiB"),
                row("cache", 1.0, run="s3-2")]
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("\n".join(json.dumps(r) for r in rows) + "\n\n")
        try:
            text = report.report(report.load([f.name]))
        finally:
            os.unlink(f.name)
        self.assertIn("Command: `benchmarks/bench s3 --size 64`", text)
        self.assertEqual(3, text.count("### s3, "))
        self.assertEqual(2, text.count("## s3-"))
        self.assertEqual(1, text.count("| 2.00x |"))

    def test_a_line_that_is_not_json_names_its_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write(json.dumps(row("cache", 1.0)) + "\n{oops\n")
        try:
            with self.assertRaises(SystemExit) as e:
                report.load([f.name])
            self.assertIn(f.name + ":2:", str(e.exception))
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
