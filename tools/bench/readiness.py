"""Benchmark: the readiness suite's checks overlap, and its module stays small on the managed host.

On a lab with one endpoint behind a gateway opened by the egress role, the verify
role runs the whole readiness suite, then each of its checks alone, in --rounds rounds.
The module reports how long its checks ran (``duration_ms``); the suite must take
at most 1.3x its slowest single check, because the checks run at once in threads
and do not queue.

Memory: the module's AnsiballZ payload, kept on the endpoint
(ANSIBLE_KEEP_REMOTE_FILES), is run again there under a Python parent that reads
the child's peak resident set size (getrusage RUSAGE_CHILDREN ru_maxrss, the
kernel's VmHWM of the module process). It must stay under 64 MB.

Record a run in docs/benchmarks.md. Not a test.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools" / "lab"))

from rtclab import state as lab_state  # noqa: E402  pylint: disable=wrong-import-position
from rtclab.podman import in_container  # noqa: E402  pylint: disable=wrong-import-position

NAME = "bench-readiness"
SLOT = "8"
MAX_RATIO = 1.3
MAX_RSS_MB = 64.0
REMOTE_TMP = "/root/.ansible/tmp"
# Runs the kept module payload as a child and prints its peak RSS (kB) and what it returned.
PEAK_RSS = """
import json, resource, subprocess, sys
done = subprocess.run([sys.executable, sys.argv[1]], capture_output=True, text=True)
result = json.loads(done.stdout)
print(json.dumps({"maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "verdict": result.get("verdict"), "duration_ms": result.get("duration_ms")}))
"""


def lab(*args):
    subprocess.run([sys.executable, str(ROOT / "tools" / "lab" / "lab.py"), *args], check=True)


def play(inventory, playbook, extra=None, env=None):
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(HERE / "playbooks" / playbook),
                           "-e", json.dumps(extra or {})], check=False, stdout=subprocess.PIPE, text=True,
                          env=dict(os.environ, **(env or {})))
    if proc.returncode:
        print(proc.stdout[-4000:])
        raise SystemExit(f"{playbook} failed")


def timing_round(inventory, out, suite):
    """One round: the suite and every check alone; (suite run, {check: run})."""
    result_file = out / "readiness-runs.json"
    play(inventory, "readiness.yml", {"bench_result_file": str(result_file), "bench_suite": suite})
    runs = json.loads(result_file.read_text())
    suite, singles = runs[0], runs[1:]
    return suite, dict((run["checks"][0], run) for run in singles)


def peak_rss(state, inventory, runs):
    """The readiness module's peak RSS on endpoint1 in MB, over ``runs`` runs of its kept payload."""
    container = state["hosts"]["endpoint1"]["container"]
    in_container(container, f"rm -rf {REMOTE_TMP}/ansible-tmp-*")
    play(inventory, "readiness_once.yml", env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_PIPELINING": "0"})
    found = in_container(container, f"ls -t {REMOTE_TMP}/ansible-tmp-*/AnsiballZ_readiness.py").stdout.split()
    if not found:
        raise SystemExit("no AnsiballZ_readiness.py kept on endpoint1")
    samples = []
    try:
        for _run in range(runs):
            proc = in_container(container, f"python3 - {found[0]}", input=PEAK_RSS, timeout=120)
            samples.append(json.loads(proc.stdout))
    finally:
        in_container(container, f"rm -rf {REMOTE_TMP}/ansible-tmp-*")
    return samples


def summarize(rounds):
    rows = []
    for suite, singles in rounds:
        slowest = max(singles, key=lambda name: singles[name]["duration_ms"])
        rows.append({"suite_ms": suite["duration_ms"], "verdict": suite["verdict"], "findings": suite["findings"],
                     "slowest": slowest, "slowest_ms": singles[slowest]["duration_ms"],
                     "sum_ms": sum(run["duration_ms"] for run in singles.values()),
                     "singles": dict((name, run["duration_ms"]) for name, run in singles.items()),
                     "ratio": suite["duration_ms"] / singles[slowest]["duration_ms"]})
    return rows


def print_report(rows, memory):
    checks = list(rows[0]["singles"])
    print("\nEach check alone (ms, per round): " + "; ".join(
        "%s %s" % (name, "/".join("%.0f" % row["singles"][name] for row in rows)) for name in checks))
    print(f"\n{'round':<7}{'verdict':<10}{'suite ms':>10}{'slowest alone':>22}{'ratio':>8}{'sum alone ms':>14}")
    for index, row in enumerate(rows, 1):
        print(f"{index:<7}{row['verdict']:<10}{row['suite_ms']:>10.0f}"
              f"{row['slowest'] + ' %.0f' % row['slowest_ms']:>22}{row['ratio']:>8.3f}{row['sum_ms']:>14.0f}")
    peaks = [sample["maxrss_kb"] / 1024.0 for sample in memory]
    print("\nmodule peak RSS on endpoint1 (MB): " + ", ".join("%.1f" % peak for peak in peaks)
          + "; verdicts " + ", ".join(sample["verdict"] for sample in memory))
    worst_ratio, worst_rss = max(row["ratio"] for row in rows), max(peaks)
    checks = [(f"suite <= {MAX_RATIO}x its slowest check (worst {worst_ratio:.3f}x)", worst_ratio <= MAX_RATIO),
              (f"module peak RSS < {MAX_RSS_MB:.0f} MB (worst {worst_rss:.1f} MB)", worst_rss < MAX_RSS_MB),
              ("every run's verdict PASS", all(row["verdict"] == "PASS" for row in rows)
               and all(sample["verdict"] == "PASS" for sample in memory))]
    for text, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    return all(passed for _text, passed in checks)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds (default: 3)")
    parser.add_argument("--memory-runs", type=int, default=3, help="runs of the kept module payload (default: 3)")
    parser.add_argument("--reuse-lab", action="store_true", help="use the lab as it is when it is already up")
    parser.add_argument("--keep-lab", action="store_true")
    args = parser.parse_args()
    os.environ.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    out = ROOT / ".cache" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    if not (args.reuse_lab and lab_state.load_state(NAME, required=False)):
        lab("up", "--name", NAME, "--slot", SLOT, "--endpoints", "1")
    try:
        state = lab_state.load_state(NAME)
        inventory = Path(state["inventory"])
        play(inventory, "open_gateway.yml")
        suite = yaml.safe_load((ROOT / "roles" / "verify" / "defaults" / "main.yml").read_text())["verify_checks"]
        rows = summarize([timing_round(inventory, out, suite) for _round in range(args.rounds)])
        memory = peak_rss(state, inventory, args.memory_runs)
        passed = print_report(rows, memory)
    finally:
        if not args.keep_lab:
            lab("down", "--name", NAME)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
