"""Benchmark: a run of nft_egress that changes nothing, on a host with huge foreign nftables state.

In a network namespace of its own (no traffic is sent), the egress policy is
applied once; then the same run, which changes nothing, is timed N times on:

  clean     a host with the collection's table only
  big_set   the same host plus a foreign table with a 200,000-element set and a
            base chain at the output hook that uses it

Each run is one ansible-playbook on localhost inside the namespace. It also times
the nft listings involved, and `nft -j list ruleset` (what earlier versions read on
every run) for comparison. Target: big_set within 1.5x of clean. Not a test.
"""

import argparse
import ipaddress
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NETNS = "dlegate-bench-foreign"
PLAY = """---
- name: The egress policy, a run that changes nothing
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Apply
      dlegate.rtc.nft_egress:
        config:
          hook: output
          mode: enforce
          destinations:
            signaling: [198.51.100.10, 198.51.100.11]
            media: [198.51.100.0/28, "2001:db8:20::/64"]
          rules:
            - {name: signaling, protocol: tcp, ports: [443], destinations: [signaling]}
            - {name: media, protocol: udp, ports: [3478, "49152-65535"], destinations: [media]}
      register: result

    - name: Nothing changed
      ansible.builtin.assert:
        that: not result.changed
      when: not (first_run | default(false) | bool)
"""


def netns(*cmd, **kwargs):
    return subprocess.run(["ip", "netns", "exec", NETNS, *cmd], check=True, **kwargs)


def big_set_ruleset(elements):
    base = int(ipaddress.IPv4Address("10.0.0.0"))
    addresses = ",\n".join(str(ipaddress.IPv4Address(base + 2 * i)) for i in range(elements))
    return ("table inet site_blocklist {\n set blocked { type ipv4_addr; flags interval; elements = {\n"
            + addresses + "\n} }\n chain output { type filter hook output priority 0; policy accept;"
            " ip daddr @blocked drop; }\n}\n")


def time_play(playbook, runs, *options):
    times = []
    for _ in range(runs):
        start = time.monotonic()
        done = subprocess.run(["ip", "netns", "exec", NETNS, "ansible-playbook", "-i", "localhost,", str(playbook), *options],
                              check=False, stdout=subprocess.PIPE, text=True)
        times.append(time.monotonic() - start)
        if done.returncode:
            print(done.stdout[-2000:])
            raise SystemExit("the playbook failed")
    return times


def time_listing(*args):
    start = time.monotonic()
    netns("nft", *args, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elements", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    subprocess.run(["ip", "netns", "delete", NETNS], check=False, stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            playbook = Path(tmp) / "play.yml"
            playbook.write_text(PLAY)
            time_play(playbook, 1, "-e", "first_run=true")
            clean = time_play(playbook, args.runs)
            ruleset = Path(tmp) / "big.nft"
            ruleset.write_text(big_set_ruleset(args.elements))
            netns("nft", "-f", str(ruleset))
            big = time_play(playbook, args.runs)
            listings = {
                "nft -j list table inet dlegate_egress": time_listing("-j", "list", "table", "inet", "dlegate_egress"),
                "nft -t -j list ruleset": time_listing("-t", "-j", "list", "ruleset"),
                "nft -j list ruleset (earlier versions)": time_listing("-j", "list", "ruleset"),
            }
    finally:
        subprocess.run(["ip", "netns", "delete", NETNS], check=False)
    print(f"a run that changes nothing, {args.runs} runs each (ansible-playbook wall time)")
    print(f"  clean                 median {statistics.median(clean):6.2f} s  all {json.dumps([round(t, 2) for t in clean])}")
    print(f"  {args.elements}-element set median {statistics.median(big):6.2f} s  all {json.dumps([round(t, 2) for t in big])}")
    print(f"  ratio {statistics.median(big) / statistics.median(clean):.2f}x (target <= 1.5x)")
    print("with the big set loaded:")
    for name, seconds in listings.items():
        print(f"  {name:<40} {seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
