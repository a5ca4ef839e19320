#!/usr/bin/env python3
"""End-to-end tests of the iovabench command, through the binary.

    test_cli.py IOVABENCH MODE

MODE:
  cli        usage errors (exit 2, a message naming the option or file, nothing
             written), --help of every subcommand, list, topo, gen, import, replay
             from standard input, a run's files and the summary.json schema
  plots      `iovabench plot` writes scripts and non-empty PNG and SVG files
             (exit 77, skipped, without gnuplot)
  interrupt  SIGINT during a run: exit 130, every file written and valid, the
             run and the job marked interrupted, the jobs after it pending
  compare    the binary's exit status on synthetic runs with a planted regression

Run from the project root (the shared traces are found as ../shared/traces/).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

BIN = os.path.abspath(sys.argv[1])
MODE = sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAILED:", what, file=sys.stderr)


def run(args, stdin=None, cwd=None):
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, cwd=cwd, timeout=600)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def no_tmp_files(root):
    left = []
    for dirpath, _, files in os.walk(root):
        left += [os.path.join(dirpath, f) for f in files if ".tmp." in f]
    return left


# ---------------------------------------------------------------------------
# summary.json schema: key -> type (or a nested schema); results/README.md

NUM = (int, float)
OPT_NUM = (int, float, type(None))
OPT_STR = (str, type(None))
HIST = {"count": int, "min": int, "max": int, "mean": NUM, "stddev": NUM, "p50": int, "p90": int, "p99": int,
        "p99.9": int, "p99.99": int}
FRAG = {"total_bytes": int, "free_bytes": int, "allocated_bytes": int, "requested_bytes": int,
        "live_allocations": int, "largest_free_extent": int, "largest_free_block": int, "free_extents": int,
        "external_fragmentation": NUM, "internal_fragmentation": NUM, "unusable_index": list,
        "fragmentation_index": list}
IOMMU = {"policy": str, "clock": str, "fq_entries": int, "fq_timeout_us": int, "cycles_per_us": int, "maps": int,
         "unmaps": int, "dma_ops": int, "dma_faults": int,
         "invalidations": {"page": int, "domain": int, "total": int},
         "flushes": {"total": int, "full": int, "timeout": int, "forced": int},
         "ranges_per_flush": OPT_NUM, "iotlb": {"hits": int, "misses": int, "evictions": int, "hit_rate": OPT_NUM},
         "page_walks": int, "stale_accesses": int,
         "modelled_cycles": {"clock_max": int, "clock_sum": int, "invalidate": int, "device": int},
         "ranges_queued": int, "ranges_released": int, "ranges_drained_at_end": int,
         "vulnerability_window": {"count": int, "p50_cycles": OPT_NUM, "p99_cycles": OPT_NUM,
                                  "max_cycles": OPT_NUM, "p99_us": OPT_NUM},
         "oracle": {"checks": int, "violations": int, "overlaps": int}}
JOB = {"index": int, "id": str, "slug": str, "section": str, "state": str, "error": OPT_STR, "strategy": str,
       "workload": str, "invalidation": str, "policy": str, "threads": int, "clock": str, "placement": str,
       "config": dict,
       "trace": {"spec": str, "source": str, "fallback": bool, "ops_per_pass": int, "streams": int,
                 "peak_live_bytes": int, "occupancy": NUM, "replicate": int},
       "domain": {"base": int, "size": int, "granule": int}, "workers": int, "wall_seconds": NUM,
       "repetitions": list,
       "throughput": {"median_ops_per_sec": NUM, "min_ops_per_sec": NUM, "max_ops_per_sec": NUM},
       "latency_ns": dict, "operations": dict,
       "failures": {"requests": int, "failed": int, "unsupported": int, "by_size": list},
       "fragmentation": {"orders": list, "order_bytes": list}, "strategy_counters": dict,
       "timeseries": OPT_STR}
REP = {"ops": int, "elapsed_ns": int, "ops_per_sec": NUM, "passes": int, "cut": bool, "requests": int,
       "failed": int, "unsupported": int, "latency_p50_ns": int, "latency_p99_ns": int}
SUMMARY = {"schema": str, "schema_version": int, "state": str,
           "tool": {"name": str, "version": str, "git_revision": str, "git_dirty": bool},
           "build": {"compiler": str, "c_flags": str, "build_type": str, "sanitizer": str},
           "run": {"name": str, "started": str, "finished": OPT_STR, "wall_seconds": NUM, "command_line": list,
                   "job_file": OPT_STR, "options": dict},
           "machine": {"hostname": str, "os": str, "cpus_online": int,
                       "topology": {"model": str, "cores": int, "pus": int, "packages": int, "pin_order": list,
                                    "summary": str}},
           "clock": {"source": str, "ticks_per_ns": NUM, "read_cost_ns": NUM, "read_cost_subtracted": bool},
           "notices": list, "skipped_strategies": list, "oracle_violations": int, "jobs": list}


def validate(obj, schema, where):
    for key, t in schema.items():
        if key not in obj:
            check(False, "%s: missing %s" % (where, key))
            continue
        v = obj[key]
        if isinstance(t, dict):
            check(isinstance(v, dict), "%s.%s: not an object" % (where, key))
            if isinstance(v, dict):
                validate(v, t, where + "." + key)
        else:
            ok = isinstance(v, t) and not (isinstance(v, bool) and t in (int, NUM, OPT_NUM))
            check(ok, "%s.%s: %r is not %s" % (where, key, v, t))


def validate_run(d, expect_state):
    with open(os.path.join(d, "summary.json")) as f:
        s = json.load(f)
    validate(s, SUMMARY, "summary")
    check(s["schema"] == "iovabench/summary" and s["schema_version"] == 1, "schema name and version")
    check(s["state"] == expect_state, "state %s, want %s" % (s["state"], expect_state))
    for j in s["jobs"]:
        w = "job " + j.get("id", "?")
        validate(j, JOB, w)
        if j["state"] == "pending":
            continue
        for r in j["repetitions"]:
            validate(r, REP, w + ".repetitions[]")
        for kind, h in j["latency_ns"].items():
            validate(h, HIST, "%s.latency_ns.%s" % (w, kind))
            check(h["p50"] <= h["p90"] <= h["p99"] <= h["p99.9"] <= h["p99.99"] <= h["max"], w + " percentiles ordered")
            path = os.path.join(d, h["hgrm"])
            check(os.path.getsize(path) > 0, path)
            with open(path) as f:
                text = f.read()
            check(text.startswith("       Value     Percentile TotalCount 1/(1-Percentile)"), path + ": header")
            m = re.search(r"Total count    = +(\d+)\]", text)
            check(m and int(m.group(1)) == h["count"], path + ": total count")
        if j["iommu"] is not None:
            validate(j["iommu"], IOMMU, w + ".iommu")
            mmu = j["iommu"]
            check(mmu["oracle"]["violations"] == 0, w + ": oracle violations")
            # Every range queued during the measured passes is released, by a
            # flush during the run or by the drain that ends each repetition,
            # and so has a vulnerability window; no window, no percentiles.
            check(mmu["ranges_released"] + mmu["ranges_drained_at_end"] == mmu["ranges_queued"],
                  "%s: %d ranges released + %d drained != %d queued" % (w, mmu["ranges_released"],
                                                                         mmu["ranges_drained_at_end"],
                                                                         mmu["ranges_queued"]))
            win = mmu["vulnerability_window"]
            if mmu["policy"] in ("percpu", "global") and mmu["unmaps"] > 0:
                check(win["count"] > 0 and win["p99_us"] is not None and win["p99_us"] > 0,
                      "%s: batched policy with %d unmaps but no vulnerability window" % (w, mmu["unmaps"]))
            if win["count"] == 0:
                check(win["p99_us"] is None, "%s: no window measured but p99 %r" % (w, win["p99_us"]))
        for name, c in j["strategy_counters"].items():
            where = "%s.strategy_counters.%s" % (w, name)
            check(c.get("kind") in ("total", "level", "peak") and isinstance(c.get("value"), int), where)
            if c.get("kind") == "total":
                req = j["failures"]["requests"]
                want = c["value"] / req if req else None
                got = c["per_request"]
                check(got == want if want is None else abs(got - want) <= 1e-9 * max(1.0, want),
                      "%s: per_request %r, want %r" % (where, got, want))
            else:
                check("per_request" not in c, where + ": per_request for a %s" % c.get("kind"))
        for key in ("end", "worst"):
            if j["fragmentation"].get(key) is not None:
                validate(j["fragmentation"][key], FRAG, "%s.fragmentation.%s" % (w, key))
        ts = os.path.join(d, j["timeseries"])
        with open(ts) as f:
            rows = f.read().splitlines()
        head = rows[0].split(",")
        check(head[:5] == ["rep", "t_s", "final", "ops", "ops_per_s"] and "largest_free_extent" in head
              and "unusable_o9" in head and "fragindex_o18" in head and "iotlb_hit_rate" in head, ts + ": header")
        check(len(rows) >= 2 and all(len(r.split(",")) == len(head) for r in rows[1:]), ts + ": rows")
    check(not no_tmp_files(d), "temporary files left: %s" % no_tmp_files(d))
    return s


# ---------------------------------------------------------------------------

def mode_cli(tmp):
    rc, out, err = run([])
    check(rc == 2 and "usage" in err, "no arguments: exit 2 with usage")
    rc, out, err = run(["--version"])
    check(rc == 0 and out.startswith("iovabench "), "--version")
    for sub in ("run", "replay", "gen", "import", "list", "topo", "plot", "compare"):
        rc, out, err = run([sub, "--help"])
        check(rc == 0 and "usage: iovabench " + sub in out and "xample" in out, sub + " --help")

    out_dir = os.path.join(tmp, "out")
    bad_ini = os.path.join(tmp, "bad.ini")
    with open(bad_ini, "w") as f:
        f.write("[global]\nstrategy = buddy-lf\n[job]\nworkload = fragmenter\nthread = 2\n")
    usage = [
        (["run", "--threds=2"], "--threds", "--threads"),
        (["run", "--threads=abc"], "--threads", "'abc'"),
        (["run", os.path.join(tmp, "missing.ini")], "missing.ini", "cannot open"),
        (["run", bad_ini], "bad.ini:5:", "did you mean 'threads'"),
        (["run", "--strategy=no-such-strategy", "--workload=fragmenter(count=64)"], "no-such-strategy", "buddy-lf"),
        (["run", "--workload=trace:" + os.path.join(tmp, "missing.trace")], "missing.trace", ""),
        (["replay", os.path.join(tmp, "missing.trace")], "missing.trace", ""),
        (["replay"], "needs a trace", ""),
        (["gen", "no-such-generator"], "unknown generator", "gpu-frame"),
        (["gen", "fragmenter", "nosuch=1"], "nosuch", ""),
        (["import", "nosuchformat", bad_ini], "unknown import format", "minimalloc"),
        (["import", "minimalloc", os.path.join(tmp, "missing.csv")], "missing.csv", ""),
        (["list", "nosuch"], "nosuch", "strategies"),
        (["compare", out_dir], "two result folders", ""),
        (["compare", os.path.join(tmp, "x"), os.path.join(tmp, "y")], "no such folder", ""),
        (["plot", os.path.join(tmp, "nothing")], "summary.json", ""),
        (["frobnicate"], "unknown subcommand", ""),
    ]
    for args, n1, n2 in usage:
        rc, out, err = run(args + ["--output=" + out_dir] if args[0] in ("run", "replay") else args)
        check(rc == 2, "%s: exit %d, want 2 (%s)" % (args, rc, err.strip()))
        check(n1 in err and n2 in err, "%s: message %r lacks %r / %r" % (args, err, n1, n2))
        check(not os.path.exists(out_dir), "%s: wrote %s" % (args, out_dir))

    rc, out, err = run(["list"])
    check(rc == 0 and "buddy-lf" in out and "gpu-frame" in out and "minimalloc" in out and "batched" in out
          and "[percpu]" in out, "list")
    rc, out, err = run(["list", "policies"])
    check(rc == 0 and "strict" in out and "generators" not in out, "list policies")
    rc, out, err = run(["topo"])
    check(rc == 0 and "core(s)" in out and "pinning order" in out and "clock:" in out, "topo")

    rc, trace, err = run(["gen", "fragmenter", "count=64", "seed=3"])
    check(rc == 0 and trace.startswith("iovatrace 1 generator=fragmenter seed=3"), "gen to stdout")
    gen_file = os.path.join(tmp, "f.trace")
    rc, out, err = run(["gen", "fragmenter", "count=64", "seed=3", "-o", gen_file])
    check(rc == 0 and open(gen_file).read() == trace, "gen -o writes the same trace")
    csv = "../shared/traces/minimalloc/A.1048576.csv"
    if os.path.exists(csv):
        rc, out, err = run(["import", "minimalloc", csv])
        check(rc == 0 and out.startswith("iovatrace 1") and " alloc " in out, "import minimalloc to stdout")

    # replay from standard input, and a run with a job file: files and schema
    rc, out, err = run(["replay", "-", "--output=" + out_dir, "--repetitions=2", "--threads=1,2",
                        "--invalidation=strict,batched", "--plots=no", "--interval=5ms"], stdin=trace.encode())
    check(rc == 0, "replay -: exit %d: %s" % (rc, err))
    latest = os.path.join(out_dir, "latest")
    check(os.path.islink(latest) and os.readlink(latest).endswith("-replay"), "latest -> the replay")
    s = validate_run(latest, "complete")
    check(len(s["jobs"]) == 4 and all(j["state"] == "complete" for j in s["jobs"]), "replay: 4 complete jobs")
    check(s["jobs"][0]["trace"]["source"] == "<stdin>", "replay: trace from stdin")
    check("strategy" in out and "ops/s" in out and "p99 alloc" in out and "results: " + out_dir in out,
          "replay prints the table and where the results are")
    check(os.path.exists(os.path.join(latest, "summary.txt")), "summary.txt")

    job = os.path.join(tmp, "small.ini")
    with open(job, "w") as f:
        f.write("[global]\nrepetitions = 2\ninterval = 5ms\nplots = no\n\n"
                "[frag]\nworkload = fragmenter(count=512 large=64K requests=8 streams=2)\n"
                "domain_size = 2M\nthreads = 1, 2\n\n"
                "[gpu]\nworkload = gpu-frame(frames=3 resident=4 transients=4)\ninvalidation = batched\n"
                "domain_size = 4G\n")
    rc, out, err = run(["run", job, "--output=" + out_dir])
    check(rc == 0, "run small.ini: exit %d: %s" % (rc, err))
    s = validate_run(latest, "complete")
    check(os.readlink(latest).endswith("-small"), "the run is named after its job file")
    check([j["id"] for j in s["jobs"]] == ["frag:fragmenter/strict/buddy-lf/t1/domain_size=2M",
                                           "frag:fragmenter/strict/buddy-lf/t2/domain_size=2M",
                                           "gpu:gpu-frame/batched/buddy-lf/t1/domain_size=4G"], "run: job ids")
    check(open(os.path.join(latest, "job.ini")).read() == open(job).read(), "the job file is kept")
    frag = s["jobs"][0]
    check(frag["failures"]["failed"] == 2 * 8, "fragmenter: the large requests fail")
    counters = frag["strategy_counters"]
    check(list(counters) == ["searches", "splits", "merges", "cas_retries"], "buddy-lf's counters: %s" % list(counters))
    # Each failed request is a search that found nothing: at least those.
    check(counters.get("searches", {}).get("value", 0) >= 2 * 8, "buddy-lf counts its searches: %r" % counters)
    gpu = s["jobs"][2]
    check(gpu["iommu"]["policy"] == "percpu" and gpu["iommu"]["dma_ops"] > 0
          and gpu["latency_ns"]["fill"]["count"] > 0 and gpu["latency_ns"]["transfer"]["count"] > 0,
          "gpu-frame: IOMMU operations bound and measured")
    check(s["run"]["job_file"] == job and s["run"]["command_line"][1:3] == ["run", job], "run: command line")
    # the safety oracle fails a run loudly: a deliberately broken policy reuses IOVAs before their flush
    bad_out = os.path.join(tmp, "unsafe")
    rc, out, err = run(["run", "--output=" + bad_out, "--workload=gpu-frame(frames=4 resident=4 transients=8)",
                        "--invalidation=unsafe-early-release", "--repetitions=1", "--domain_size=1G", "--plots=no"])
    check(rc == 1 and "safety oracle" in err and "FAILS" in err and "ORACLE VIOLATIONS" in out,
          "oracle violations: exit %d, stderr %r" % (rc, err[-500:]))
    with open(os.path.join(bad_out, "latest", "summary.json")) as f:
        s = json.load(f)
    check(s["state"] == "failed" and s["oracle_violations"] > 0
          and s["jobs"][0]["iommu"]["oracle"]["violations"] > 0, "oracle violations recorded, run failed")
    # dry run: jobs listed, nothing written
    dry_out = os.path.join(tmp, "dry")
    rc, out, err = run(["run", job, "--dry-run", "--output=" + dry_out])
    check(rc == 0 and "3 job(s)" in out and not os.path.exists(dry_out), "--dry-run")


def mode_plots(tmp):
    if not shutil.which("gnuplot"):
        print("test_cli plots: gnuplot is not installed: skipped")
        sys.exit(77)
    out_dir = os.path.join(tmp, "out")
    rc, out, err = run(["run", "--output=" + out_dir, "--plots=no", "--repetitions=2", "--threads=1,2",
                        "--invalidation=strict,batched", "--interval=2ms",
                        "--workload=fragmenter(count=1024 large=64K requests=16 streams=2)", "--domain_size=4M,8M"])
    check(rc == 0, "run: exit %d: %s" % (rc, err))
    latest = os.path.join(out_dir, "latest")
    check(not os.path.exists(os.path.join(latest, "plots")), "plots=no: no plots")
    rc, out, err = run(["plot", latest])
    check(rc == 0 and "figures as PNG and SVG" in out, "plot: exit %d: %s %s" % (rc, out, err))
    pdir = os.path.join(latest, "plots")
    names = sorted(f[:-3] for f in os.listdir(pdir) if f.endswith(".gp") and f != "all.gp")
    kinds = set(n.split("-")[0] for n in names)
    check({"latency", "percentiles", "throughput", "fragmentation", "tradeoff", "failure"} <= kinds,
          "every kind of figure: %s" % sorted(kinds))
    for n in names:
        png, svg = os.path.join(pdir, n + ".png"), os.path.join(pdir, n + ".svg")
        check(os.path.exists(png) and os.path.getsize(png) > 1000, png + ": missing or empty")
        check(os.path.exists(svg) and os.path.getsize(svg) > 1000, svg + ": missing or empty")
        if os.path.exists(png):
            check(open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", png + ": not a PNG")
        if os.path.exists(svg):
            check("<svg" in open(svg).read(4096), svg + ": not an SVG")
    for lib in ("style.gp", "latency_cdf.gp", "percentile_spectrum.gp", "throughput_threads.gp",
                "fragmentation_time.gp", "invalidation_tradeoff.gp", "failure_occupancy.gp"):
        check(os.path.exists(os.path.join(pdir, "lib", lib)), "lib/" + lib)
    # a figure's script re-renders on its own, from the plots folder
    one = [n for n in names if n.startswith("throughput")][0]
    os.remove(os.path.join(pdir, one + ".png"))
    p = subprocess.run(["gnuplot", one + ".gp"], cwd=pdir, capture_output=True)
    check(p.returncode == 0 and os.path.getsize(os.path.join(pdir, one + ".png")) > 1000, "re-render " + one)
    # Plotting again: a figure an earlier plot drew (all.gp loaded it) and this one does not is
    # removed with its data; a file the plotter never wrote stays; the figures are the same.
    stale = "tradeoff-from-an-older-plot"
    for ext in (".gp", ".png", ".svg"):
        open(os.path.join(pdir, stale + ext), "w").write("old")
    open(os.path.join(pdir, "data", stale + ".dat"), "w").write("old")
    open(os.path.join(pdir, "my-notes.txt"), "w").write("mine")
    with open(os.path.join(pdir, "all.gp"), "a") as f:
        f.write('load "%s.gp"\n' % stale)
    rc, out, err = run(["plot", latest])
    check(rc == 0, "plot again: exit %d: %s" % (rc, err))
    left = [f for f in os.listdir(pdir) + os.listdir(os.path.join(pdir, "data")) if f.startswith(stale)]
    check(not left, "stale figure left behind: %s" % left)
    check(os.path.exists(os.path.join(pdir, "my-notes.txt")), "plot removed a file it did not write")
    again = sorted(f[:-3] for f in os.listdir(pdir) if f.endswith(".gp") and f != "all.gp")
    check(again == names, "plot again drew %d figures, first %d" % (len(again), len(names)))


def mode_interrupt(tmp):
    out_dir = os.path.join(tmp, "out")
    args = [BIN, "run", "--output=" + out_dir, "--progress=yes", "--plots=no", "--warmup=0", "--time_based=1",
            "--runtime=120s", "--repetitions=2", "--interval=5ms", "--threads=2", "--invalidation=batched",
            "--workload=streaming-dma(cpus=2 packets=20000),fragmenter(count=4096)"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = threading.Event()
    err_text = []

    def reader():
        buf = b""
        while True:
            c = p.stderr.read(1)
            if not c:
                break
            buf += c
            # the progress line of the first repetition, with operations measured
            if not seen.is_set() and re.search(rb"rep 1/2 +[0-9.]+[kMG] ops", buf):
                seen.set()
        err_text.append(buf.decode(errors="replace"))
        seen.set()

    t = threading.Thread(target=reader)
    t.start()
    seen.wait(300)
    p.send_signal(signal.SIGINT)
    out = p.stdout.read().decode(errors="replace")
    rc = p.wait(300)
    t.join()
    check(rc == 130, "exit %d, want 130; stderr: %s" % (rc, "".join(err_text)[-2000:]))
    check("interrupted" in out and "results: " in out, "says it was interrupted and where the results are")
    latest = os.path.join(out_dir, "latest")
    s = validate_run(latest, "interrupted")
    jobs = s["jobs"]
    check(len(jobs) == 2, "two jobs planned")
    check(jobs[0]["state"] == "interrupted" and len(jobs[0]["repetitions"]) == 1, "the first job: one repetition, interrupted")
    if jobs[0]["repetitions"]:
        r = jobs[0]["repetitions"][0]
        check(r["cut"] and r["ops"] > 0 and r["ops_per_sec"] > 0, "what was measured is kept")
    check(jobs[1]["state"] == "pending" and jobs[1]["repetitions"] == [], "the second job never ran")
    check(s["run"]["finished"] is not None, "finish time recorded")


def write_summary(d, jobs):
    os.makedirs(d)
    doc = {"schema": "iovabench/summary", "schema_version": 1, "state": "complete", "jobs": []}
    for i, (jid, ops, p50, p99) in enumerate(jobs):
        reps = [{"ops_per_sec": ops * (1 + 0.01 * ((k * 7 + i) % 3 - 1)), "latency_p50_ns": p50,
                 "latency_p99_ns": p99} for k in range(5)]
        doc["jobs"].append({"id": jid, "repetitions": reps})
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(doc, f)


def mode_compare(tmp):
    a, b, c = (os.path.join(tmp, x) for x in "abc")
    write_summary(a, [("m:gpu-frame/strict/buddy-lf/t1", 1e6, 100, 1000), ("m:x/strict/buddy-lf/t1", 1e6, 50, 500)])
    write_summary(b, [("m:gpu-frame/strict/buddy-lf/t1", 0.5e6, 100, 1000), ("m:x/strict/buddy-lf/t1", 1e6, 50, 500)])
    write_summary(c, [("m:gpu-frame/strict/buddy-lf/t1", 1e6, 100, 1000), ("m:x/strict/buddy-lf/t1", 1e6, 50, 500)])
    rc, out, err = run(["compare", a, b])
    check(rc == 1 and "1 significant regression" in out and "m:gpu-frame/strict/buddy-lf/t1: throughput x0.5" in out,
          "planted regression: exit %d\n%s" % (rc, out))
    rc, out, err = run(["compare", a, c])
    check(rc == 0 and "no significant regression" in out, "no regression: exit %d\n%s" % (rc, out))
    rc, out, err = run(["compare", a, b, "--threshold=0.6"])
    check(rc == 0, "a 50%% drop is within a 60%% threshold: exit %d" % rc)
    rc, out, err = run(["compare", a, b, "--threshold=x"])
    check(rc == 2 and "--threshold" in err, "bad threshold")


def main():
    tmp = tempfile.mkdtemp(prefix="iovabench-test-")
    try:
        {"cli": mode_cli, "plots": mode_plots, "interrupt": mode_interrupt, "compare": mode_compare}[MODE](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("test_cli %s: all checks passed" % MODE)


if __name__ == "__main__":
    main()
