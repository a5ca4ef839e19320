#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Convert a PyTorch CUDA memory snapshot to an iovatrace 1 file.

A snapshot (torch.cuda.memory._dump_snapshot()) is a pickle of a dict with
"segments" and "device_traces": one list per device of entries
{action, addr, size, stream, time_us, frames}. By default the device-level
contiguous allocations are converted: segment_alloc/segment_free become
alloc/free, segment_map/segment_unmap (expandable segments) become map/unmap.
With --fine, the caching allocator's blocks are converted instead:
alloc/free_completed become alloc/free (a second, finer workload).

A pickle is code: this loader refuses every global, so a file that tries to
import or call anything fails to load instead of running. Snapshots are plain
dicts, lists, strings and numbers and load fine.

The trace buffer is a ring, so snapshots often start mid-run: frees of
addresses never allocated, zero sizes and malformed entries are counted and
reported (with their entry numbers) and skipped, unless --strict.

Usage: pytorch_snapshot.py SNAPSHOT.pickle OUT.trace [--fine] [--strict] [--device N]
Standard library only.
"""
import argparse
import io
import os
import pickle
import sys
import tempfile


class RefusingUnpickler(pickle.Unpickler):
    """An unpickler with no globals at all: find_class always refuses."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing global {module}.{name}: a pickle is code, this loader runs none")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing persistent id: not a plain snapshot")


def load_snapshot(path):
    with open(path, "rb") as f:
        data = f.read()
    return RefusingUnpickler(io.BytesIO(data)).load()


class Problems:
    NAMES = ("unparseable", "unknown-free", "zero-size", "live-realloc", "unconvertible")

    def __init__(self, strict):
        self.strict = strict
        self.counts = {n: 0 for n in self.NAMES}
        self.notes = []

    def add(self, kind, where, text):
        self.counts[kind] += 1
        if len(self.notes) < 32:
            self.notes.append(f"{where}: {kind}: {text}")
        if self.strict:
            raise SystemExit(f"error: {where}: {kind}: {text}")


def token(s):
    s = str(s)
    return "".join(c if c > " " and c not in "#=" and c != "\x7f" else "_" for c in s)[:255] or "_"


def convert(snapshot, fine, device_filter, problems):
    if not isinstance(snapshot, dict) or "device_traces" not in snapshot:
        raise SystemExit("error: not a CUDA memory snapshot (no 'device_traces')")
    traces = snapshot["device_traces"]
    if not isinstance(traces, list):
        raise SystemExit("error: 'device_traces' is not a list")
    if fine:
        create = {"alloc": "alloc"}
        release = {"free_completed": "free"}
        ignore = {"free_requested", "segment_alloc", "segment_free", "segment_map", "segment_unmap", "snapshot", "oom"}
    else:
        create = {"segment_alloc": "alloc", "segment_map": "map"}
        release = {"segment_free": "free", "segment_unmap": "unmap"}
        ignore = {"alloc", "free_requested", "free_completed", "snapshot", "oom"}
    ops = []
    live = {}  # name -> "alloc" | "map" | "dropped"
    last_ts = {}
    stats = {"entries": 0, "events": 0, "ignored": 0}
    for dev, entries in enumerate(traces):
        if device_filter is not None and dev != device_filter:
            continue
        if not isinstance(entries, list):
            problems.add("unparseable", f"device {dev}", "trace is not a list")
            continue
        for i, e in enumerate(entries):
            stats["entries"] += 1
            where = f"device {dev} entry {i}"
            if not isinstance(e, dict) or "action" not in e:
                problems.add("unparseable", where, "not an entry with an action")
                continue
            action = e["action"]
            if action in ignore:
                stats["ignored"] += 1
                continue
            if action not in create and action not in release:
                problems.add("unconvertible", where, f"unknown action {action!r}")
                continue
            try:
                addr = int(e["addr"])
                size = int(e.get("size", 0) or 0)
                stream = int(e.get("stream", 0) or 0)
                t = e.get("time_us")
                ts = int(t) * 1000 if t is not None else stats["entries"]
            except (KeyError, TypeError, ValueError):
                problems.add("unparseable", where, "addr, size, stream or time_us missing or not a number")
                continue
            stats["events"] += 1
            sname = f"{dev}.{stream}"
            ts = max(ts, last_ts.get(sname, 0))
            last_ts[sname] = ts
            name = token(f"d{dev}:{addr:x}")
            if action in create:
                kind = create[action]
                if size <= 0:
                    problems.add("zero-size", where, f"{action} of {name} with size {size}: dropped")
                    live[name] = "dropped"
                    continue
                if live.get(name) in ("alloc", "map"):
                    problems.add("live-realloc", where, f"{name} created again while live: freed first")
                    ops.append((ts, sname, "free" if live[name] == "alloc" else "unmap", name, None))
                live[name] = kind
                ops.append((ts, sname, kind, name, size))
            else:
                state = live.get(name)
                if state == "dropped":
                    live[name] = None
                    continue
                if state not in ("alloc", "map"):
                    problems.add("unknown-free", where, f"{action} of {name}, which is not live (the ring buffer started later)")
                    continue
                live[name] = None
                ops.append((ts, sname, "free" if state == "alloc" else "unmap", name, None))
    return ops, stats


def write_trace(path, ops, fine):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pytorch-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(f"iovatrace 1 importer=pytorch mode={'blocks' if fine else 'segments'}\n")
            for ts, stream, kind, name, size in ops:
                f.write(f"{ts} {stream} {kind} {name}" + (f" {size}\n" if size is not None else "\n"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("snapshot")
    ap.add_argument("output")
    ap.add_argument("--fine", action="store_true", help="convert alloc/free_completed blocks instead of segments")
    ap.add_argument("--strict", action="store_true", help="stop at the first problem")
    ap.add_argument("--device", type=int, default=None, help="only this device's trace")
    args = ap.parse_args(argv)
    try:
        snapshot = load_snapshot(args.snapshot)
    except (pickle.UnpicklingError, EOFError, ValueError, OSError) as e:
        print(f"error: {args.snapshot}: cannot load: {e}", file=sys.stderr)
        return 1
    problems = Problems(args.strict)
    try:
        ops, stats = convert(snapshot, args.fine, args.device, problems)
    except SystemExit as e:
        print(f"{args.snapshot}: {e}", file=sys.stderr)
        return 1
    write_trace(args.output, ops, args.fine)
    print(f"{args.snapshot}: {stats['entries']} entries, {stats['events']} events, {stats['ignored']} ignored, "
          f"{len(ops)} operations", file=sys.stderr)
    for kind, n in problems.counts.items():
        if n:
            print(f"  {kind:13} {n}", file=sys.stderr)
    for note in problems.notes:
        print(f"  {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
