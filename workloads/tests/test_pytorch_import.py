#!/usr/bin/env python3
"""The PyTorch snapshot importer: a snapshot pickled here with the standard
library converts to a trace the C parser accepts with the expected counts;
--fine converts the block-level workload; problems are counted; --strict
stops; and a pickle carrying a global is refused without running it."""
import os
import pickle
import subprocess
import sys
import tempfile

script, checker = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"FAILED: {what}", file=sys.stderr)


def run(*args):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True)


def counts(path):
    r = subprocess.run([checker, path], capture_output=True, text=True)
    check(r.returncode == 0, f"trace_check {path}: {r.stderr}")
    return dict(kv.split("=") for kv in r.stdout.split())


def entry(action, addr, size, stream=0, t=0):
    return {"action": action, "addr": addr, "size": size, "stream": stream, "time_us": t, "frames": [{"filename": "x.py", "line": 1, "name": "f"}]}


snapshot = {
    "segments": [{"device": 0, "address": 0x7f0000000000, "total_size": 2 << 20, "blocks": []}],
    "device_traces": [
        [
            entry("segment_free", 0x7e0000000000, 1 << 20, 0, 1),  # the ring started after its alloc
            entry("segment_alloc", 0x7f0000000000, 2 << 20, 0, 2),
            entry("alloc", 0x7f0000000000, 512, 0, 3),
            entry("alloc", 0x7f0000000200, 1024, 7, 4),
            entry("free_requested", 0x7f0000000000, 512, 0, 5),
            entry("free_completed", 0x7f0000000000, 512, 0, 6),
            entry("segment_alloc", 0x7f0000400000, 0, 0, 7),  # zero size
            entry("segment_alloc", 0x7f0000800000, 4 << 20, 7, 8),
            entry("segment_free", 0x7f0000800000, 4 << 20, 0, 9),  # freed on another stream
            entry("snapshot", 0, 0, 0, 10),
            "garbage",
            entry("oom", 0, 1 << 30, 0, 11),
        ],
        [
            entry("segment_map", 0x7f1000000000, 2 << 20, 0, 5),
            entry("segment_unmap", 0x7f1000000000, 2 << 20, 0, 6),
        ],
    ],
}

with tempfile.TemporaryDirectory() as d:
    snap = os.path.join(d, "snap.pickle")
    with open(snap, "wb") as f:
        pickle.dump(snapshot, f)
    out = os.path.join(d, "out.trace")

    r = run(snap, out)
    check(r.returncode == 0, f"segments import failed: {r.stderr}")
    c = counts(out)
    check(c.get("alloc") == "2" and c.get("free") == "1", f"segments: {c}")
    check(c.get("map") == "1" and c.get("unmap") == "1", f"segment_map/unmap: {c}")
    check(c.get("streams") == "3", f"streams: {c}")
    check("unknown-free  1" in r.stderr and "zero-size     1" in r.stderr and "unparseable   1" in r.stderr,
          f"report: {r.stderr}")
    check("device 0 entry 0: unknown-free" in r.stderr, f"entry number in the notes: {r.stderr}")

    r = run(snap, out, "--fine")
    check(r.returncode == 0, f"fine import failed: {r.stderr}")
    c = counts(out)
    check(c.get("alloc") == "2" and c.get("free") == "1", f"fine: {c}")

    r = run(snap, out, "--strict")
    check(r.returncode != 0 and "device 0 entry 0: unknown-free" in r.stderr, f"strict: {r.returncode} {r.stderr}")

    # A pickle is code: one that calls os.system must be refused, not run.
    marker = os.path.join(d, "pwned")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = os.path.join(d, "evil.pickle")
    with open(evil, "wb") as f:
        pickle.dump({"device_traces": [[Evil()]]}, f)
    before = os.path.exists(out) and open(out).read()
    r = run(evil, out)
    check(r.returncode != 0, "a pickle with a global was accepted")
    check("refusing global" in r.stderr, f"refusal message: {r.stderr}")
    check(not os.path.exists(marker), "the pickle's code ran")
    check((os.path.exists(out) and open(out).read()) == before, "a refused import touched the output")

    # Even harmless-looking globals (a builtin set) are refused.
    with open(evil, "wb") as f:
        pickle.dump({"device_traces": [], "x": {1, 2}}, f, protocol=2)
    r = run(evil, out)
    check(r.returncode != 0 and "refusing global" in r.stderr, f"builtins.set accepted: {r.stderr}")

    with open(evil, "wb") as f:
        f.write(b"not a pickle")
    r = run(evil, out)
    check(r.returncode == 1 and "cannot load" in r.stderr, f"garbage file: {r.stderr}")

print(f"{'0 failed' if not failures else str(failures) + ' failed'}")
sys.exit(1 if failures else 0)
