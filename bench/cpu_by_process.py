"""CPU time of every process on the machine while a command runs, by kind of process.

    python bench/cpu_by_process.py -- make test
    python bench/cpu_by_process.py -- bash .ci/run

``/usr/bin/time`` counts only the children a process has waited for: chromium's renderer,
GPU and utility processes are not all reaped up the chain to pytest, and the PostgreSQL
server's backends are not the command's children at all, so its figure leaves out about a
sixth of what a test run costs the machine (docs/benchmarks.md, "Thirteenth session"). This
reads ``/proc/<pid>/stat`` of every process every ``--interval`` seconds and sums, per kind
(pytest's controller and workers, ``manage.py`` and Celery subprocesses, chromium by
``--type``, PostgreSQL backends, …), the CPU each process used after it was first seen.
A process that starts and ends between two readings is missed; at 0.25 s that is a few
``psql``-sized processes, not a measurable share.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter

TICKS = os.sysconf("SC_CLK_TCK")


def kind(comm: str, cmdline: str) -> str:
    """What a process is, in a few words."""
    if comm.startswith("python"):
        if "manage.py" in cmdline:
            return "python: manage.py subprocess"
        if "celery" in cmdline:
            return "python: celery worker"
        if "pytest" in cmdline:
            return "python: pytest controller"
        if "execnet" in cmdline or "-c" in cmdline.split():
            return "python: pytest-xdist worker"
        return "python: other"
    if "chrom" in comm or "chrom" in cmdline[:200]:
        found = re.search(r"--type=([\w-]+)", cmdline)
        return f"chromium: {found.group(1) if found else 'browser'}"
    if comm == "postgres":
        return "postgres"
    return comm


def read_all() -> dict[tuple[str, str], tuple[str, int]]:
    """{(pid, start time): (kind, CPU ticks so far)} for every process now."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline") as f:
                cmdline = f.read().replace("\0", " ")
        except OSError:
            continue
        close = stat.rfind(")")
        comm = stat[stat.find("(") + 1:close]
        fields = stat[close + 2:].split()
        out[(pid, fields[19])] = (kind(comm, cmdline), int(fields[11]) + int(fields[12]))
    return out


def sample(stop: threading.Event, interval: float) -> Counter:
    first = {key: ticks for key, (_kind, ticks) in read_all().items()}
    last: dict = {}
    while not stop.is_set():
        last.update(read_all())
        stop.wait(interval)
    last.update(read_all())
    used = Counter()
    for key, (what, ticks) in last.items():
        used[what] += ticks - first.get(key, 0)
    return used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command (python bench/cpu_by_process.py -- COMMAND …)")
    stop, result = threading.Event(), {}
    thread = threading.Thread(target=lambda: result.update(used=sample(stop, args.interval)))
    thread.start()
    started = time.monotonic()
    try:
        status = subprocess.call(command)
    finally:
        wall = time.monotonic() - started
        stop.set()
        thread.join()
    used = result["used"]
    total = sum(used.values()) / TICKS
    print(f"\n{wall:8.1f} s wall, {total:.1f} core-s on {os.cpu_count()} cores "
          f"({total / wall / os.cpu_count():.0%} busy), exit {status}", file=sys.stderr)
    for what, ticks in used.most_common(args.top):
        if ticks:
            print(f"{ticks / TICKS:8.1f} core-s  {what}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
