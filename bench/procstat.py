#!/usr/bin/env python3
"""Runs a shell command and measures it with every process it starts, daemons included.

    bench/procstat.py 'sikprobe ... < addresses > records'

The command runs under a child subreaper, so ssh control masters that daemonise are still
reaped here and their CPU counts in RUSAGE_CHILDREN. /proc is sampled every 50 ms for the
number of processes below us and the sum of their RSS (shared pages count once per process,
so the sum overstates memory; it is the figure for comparing runs). The sampler itself costs
some CPU, which is not counted. Prints one line:

    wall=SECONDS cpu=SECONDS peak_procs=N peak_rss_mb=MB exit=STATUS
"""
import ctypes
import os
import resource
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36


def descendants(root):
    """(pid, parent pid, state) of every process whose ancestry leads to root."""
    parent, state = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parent[int(name)] = int(fields[1])
            state[int(name)] = fields[0]
        except (OSError, IndexError, ValueError):
            continue
    found = []
    for pid in parent:
        walk = pid
        while walk in parent and walk != root and walk > 1:
            walk = parent[walk]
        if walk == root and pid != root:
            found.append((pid, parent[pid], state[pid]))
    return found


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: procstat.py 'COMMAND'")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("procstat: prctl(PR_SET_CHILD_SUBREAPER) failed")
    me = os.getpid()
    peak = {"procs": 0, "rss": 0}
    done = threading.Event()

    main_child = {}

    def sample():
        while not done.is_set():
            live = []
            for pid, ppid, state in descendants(me):
                if state != "Z":
                    live.append(pid)
                elif ppid == me and pid != main_child.get("pid"):
                    # An exited daemon handed to us: reap it, which adds its CPU to ours.
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
            peak["procs"] = max(peak["procs"], len(live))
            peak["rss"] = max(peak["rss"], sum(rss_kb(pid) for pid in live))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    child = subprocess.Popen(["sh", "-c", sys.argv[1]])
    main_child["pid"] = child.pid
    sampler.start()
    status = child.wait()
    # Orphaned daemons (ssh masters) are ours to reap; wait until none is left.
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The sampling shell is a child too; its share is tiny next to what is measured.
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"wall={wall:.2f} cpu={cpu:.2f} peak_procs={peak['procs']} "
        f"peak_rss_mb={peak['rss'] / 1024:.0f} exit={status}"
    )


if __name__ == "__main__":
    main()
