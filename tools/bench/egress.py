"""Benchmark: the egress policy on a fleet, nft_egress against two references.

On a lab of N endpoints (default 20), a policy of 20 destinations x 4 port rules is
applied three ways, each timed for a first run, a rerun and a check-mode run:

  nft_egress   dlegate.rtc.nft_egress, one task per host
  iptables     ansible.builtin.iptables, one task per rule (80 loop items per host)
  nft_copy     the floor: copy a pre-rendered ruleset and run nft -f

It prints wall times and ratios; record them in docs/benchmarks.md. Not a test.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LAB = ROOT / "tools" / "lab" / "lab.py"
VARIANTS = ("nft_egress", "nft_copy", "iptables")
RUNS = (("first", []), ("rerun", []), ("check", ["--check"]))
# The iptables reference's check-mode run adds ~15 minutes and no information.
REFERENCE_RUNS = {"iptables": ("first", "rerun")}
# What each variant leaves on a host after its first run, read back on endpoint1.
READ_BACK = {
    "nft_egress": "nft -j list table inet bench_egress | grep -o '\"rule\"' | wc -l",
    "nft_copy": "nft -j list table inet bench_copy | grep -o '\"rule\"' | wc -l",
    "iptables": "iptables -S OUTPUT | grep -c -- '-j ACCEPT'",
}


def lab(*args):
    subprocess.run([sys.executable, str(LAB), *args], check=True)


def reset_endpoints(inventory):
    """Remove what any variant left, so that every first run starts from nothing."""
    script = ("nft delete table inet bench_egress 2>/dev/null; nft delete table inet bench_copy 2>/dev/null; "
              "rm -f /etc/bench_copy.nft; iptables -F OUTPUT; true")
    subprocess.run(["ansible", "-i", str(inventory), "endpoints", "-f", "20", "-m", "ansible.builtin.shell",
                    "-a", script], check=True, stdout=subprocess.DEVNULL)


def rules_on_endpoint1(name, variant):
    out = subprocess.run([sys.executable, str(LAB), "exec", "--name", name, "endpoint1", "--",
                          "sh", "-c", READ_BACK[variant]], check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip()


def play(inventory, playbook, extra_vars, options, forks):
    start = time.monotonic()
    result = subprocess.run(["ansible-playbook", "-i", str(inventory), "-f", str(forks),
                             str(HERE / "playbooks" / playbook), "-e", json.dumps(extra_vars), *options],
                            check=False, stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if result.returncode:
        print(result.stdout[-3000:])
        raise SystemExit(f"{playbook} failed")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--keep-lab", action="store_true")
    args = parser.parse_args()
    os.environ.update(ANSIBLE_PIPELINING="1", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    name = "bench"
    lab("up", "--name", name, "--slot", "9", "--endpoints", str(args.endpoints))
    inventory = ROOT / ".cache" / "lab" / name / "inventory.yml"
    prerendered = ROOT / ".cache" / "bench" / "bench_copy.nft"
    prerendered.parent.mkdir(parents=True, exist_ok=True)
    extra = {"bench_internet_prefix": "198.18.29.", "bench_prerendered": str(prerendered)}
    play(inventory, "prerender.yml", extra, [], 1)
    times = {}
    for variant in args.variants:
        reset_endpoints(inventory)
        for run_name, options in RUNS:
            if run_name not in REFERENCE_RUNS.get(variant, (run_name,)):
                continue
            times[(variant, run_name)] = play(inventory, f"{variant}.yml", extra, options, args.forks)
            print(f"{variant:<11} {run_name:<6} {times[(variant, run_name)]:7.1f} s", flush=True)
            if run_name == "first":
                print(f"{variant:<11} rules on endpoint1 after the first run: "
                      f"{rules_on_endpoint1(name, variant)}", flush=True)
    print(f"\n{args.endpoints} endpoints, 20 destinations x 4 port rules, {args.forks} forks, pipelining on")
    print(f"{'run':<7}" + "".join(f"{v:>12}" for v in args.variants) + "   vs iptables   vs nft_copy")
    for run_name, _options in RUNS:
        row = [times.get((v, run_name)) for v in args.variants]
        ours = times.get(("nft_egress", run_name))
        ipt = times.get(("iptables", run_name))
        floor = times.get(("nft_copy", run_name))
        speedup = f"{ipt / ours:9.1f}x" if ours and ipt else f"{'-':>10}"
        ratio = f"{ours / floor:9.2f}x" if ours and floor else f"{'-':>10}"
        cells = "".join(f"{t:11.1f}s" if t else f"{'-':>12}" for t in row)
        print(f"{run_name:<7}{cells}   {speedup}   {ratio}")
    if not args.keep_lab:
        lab("down", "--name", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
