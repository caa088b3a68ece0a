"""Benchmark: does the qos role protect media through a saturated WAN bottleneck?

On a lab with one endpoint, the ISP hop behind the gateway gets a bottleneck
(default 5 Mbit/s both ways). The endpoint then saturates it in both directions
with iperf3 (a UDP flood of 20 Mbit/s upstream, four TCP streams downstream from a
second iperf3 server on the signal host), and meanwhile sends a media-like flow at
the bandwidth model's rate for the profile (one video call and its audio: 760 kbit/s
of IP packets, in 20 ms frames, from the client's audio port) to the UDP echo on the
TURN host, measuring loss, RFC 3550 jitter and RTT (tools/lab/media_flow.py).

Three rows: the flow alone (idle RTT), under the flood without the role, and under
the same flood with the role applied to the gateway and the endpoint. Targets:
with the role, loss < 1 %, jitter < 30 ms and RTT within 20 ms of idle; without it,
the flood must visibly hurt (>= 5 % loss or >= 50 ms added RTT). Record a run in
docs/benchmarks.md. Not a test.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools" / "lab"))

from rtclab import state as lab_state  # noqa: E402  pylint: disable=wrong-import-position
from rtclab.podman import in_container, podman  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.dlegate.rtc.plugins.module_utils.qos.bandwidth import plan  # noqa: E402  pylint: disable=wrong-import-position,import-error

NAME = "bench-qos"
SLOT = "12"
PROFILE = {"sessions": [{"type": "video", "concurrent": 1}, {"type": "audio", "concurrent": 1}], "headroom_pct": 10}
REALTIME = ("audio", "video", "screen_share")
FLOW_DIR = "/usr/local/lib/dlegate-bench"
AUDIO_PORT = 50000
DOWNSTREAM_PORT = 5202
WARMUP = 4


def lab(*args):
    subprocess.run([sys.executable, str(ROOT / "tools" / "lab" / "lab.py"), *args], check=True)


def media_kbps(profile):
    """The model's rate of the profile's real-time classes upstream, without headroom: what the media sends."""
    bare = plan(dict(profile, headroom_pct=0))
    return sum(bare["classes"][name]["upstream_kbps"] for name in REALTIME)


def prepare(state):
    """Open the lab gateway for the site, install the media flow, start a second iperf3 server."""
    site = state["site_network"]
    permit = ("table inet bench_permit {\n chain prerouting {\n"
              "  type filter hook prerouting priority mangle; policy accept;\n"
              f"  ip saddr {site} meta mark set mark or 0x00200000\n }}\n}}\n")
    in_container(state["hosts"]["gw"]["container"], "nft -f -", input=permit)
    endpoint = state["hosts"]["endpoint1"]["container"]
    in_container(endpoint, f"mkdir -p {FLOW_DIR}")
    for source in (ROOT / "tools" / "lab" / "media_flow.py", ROOT / "plugins" / "module_utils" / "common" / "quality.py"):
        in_container(endpoint, f"cat > {FLOW_DIR}/{source.name}", input=source.read_text())
    signal = state["hosts"]["signal"]
    podman("exec", "-d", signal["container"], "iperf3", "-s", "-B", signal["addresses"]["internet"],
           "-p", str(DOWNSTREAM_PORT))


def apply_role(inventory, qos_state, link_kbps, shaping):
    extra = {"qos_state": qos_state, "qos_link_up_kbps": link_kbps, "qos_link_down_kbps": link_kbps,
             "qos_shaping_up_pct": shaping[0], "qos_shaping_down_pct": shaping[1], "qos_profile": PROFILE}
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(HERE / "playbooks" / "qos.yml"),
                           "-e", json.dumps(extra)], check=False, stdout=subprocess.PIPE, text=True)
    if proc.returncode:
        print(proc.stdout[-4000:])
        raise SystemExit(f"the qos role failed ({qos_state})")


def endpoint_json(state, script, timeout):
    proc = in_container(state["hosts"]["endpoint1"]["container"], script, check=False, timeout=timeout)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise SystemExit(f"no JSON from {script!r}: {proc.stdout[-500:]} {proc.stderr[-500:]}") from None


def media(state, rate, seconds):
    script = (f"python3 {FLOW_DIR}/media_flow.py {state['udp_echo']['address']} {state['udp_echo']['ports'][0]} "
              f"--rate-kbps {rate} --seconds {seconds} --source-port {AUDIO_PORT}")
    return endpoint_json(state, script, timeout=seconds + 60)


def floods(state, seconds):
    """The two iperf3 floods of the endpoint, each in a thread; join() them for their JSON."""
    server = state["iperf3"]["address"]
    commands = {
        "up": f"iperf3 -c {server} -p {state['iperf3']['port']} -u -b 20M -l 1200 -t {seconds} -J",
        "down": f"iperf3 -c {server} -p {DOWNSTREAM_PORT} -R -P 4 -t {seconds} -J",
    }
    results = {}

    def run(key):
        results[key] = endpoint_json(state, commands[key], timeout=seconds + 60)

    threads = [threading.Thread(target=run, args=(key,)) for key in commands]
    for thread in threads:
        thread.start()
    return threads, results


def measure(state, rate, seconds, flood):
    """The media flow's summary, with the floods' throughputs when flooded."""
    if not flood:
        return dict(media(state, rate, seconds), up_mbit=None, up_lost_pct=None, down_mbit=None)
    threads, results = floods(state, seconds + WARMUP + 2)
    time.sleep(WARMUP)
    row = media(state, rate, seconds)
    for thread in threads:
        thread.join()
    up, down = results["up"]["end"], results["down"]["end"]
    return dict(row, up_mbit=up["sum"]["bits_per_second"] / 1e6 * (1 - up["sum"]["lost_percent"] / 100.0),
                up_lost_pct=up["sum"]["lost_percent"], down_mbit=down["sum_received"]["bits_per_second"] / 1e6)


def cell(value, form):
    return form % value if value is not None else "-"


def print_rows(rows, idle_rtt):
    print(f"\n{'run':<22}{'loss %':>8}{'jitter':>8}{'max':>7}{'RTT avg':>9}{'RTT p95':>9}{'+RTT':>7}"
          f"{'up flood':>10}{'(lost)':>8}{'down TCP':>10}")
    for name, row in rows:
        added = row["rtt_ms"]["avg"] - idle_rtt if row["rtt_ms"]["avg"] is not None else None
        print(f"{name:<22}{row['loss_pct']:>8.2f}{cell(row['jitter_ms'], '%.1f'):>8}"
              f"{cell(row['jitter_max_ms'], '%.1f'):>7}"
              f"{cell(row['rtt_ms']['avg'], '%.1f'):>9}{cell(row['rtt_ms']['p95'], '%.1f'):>9}"
              f"{cell(added, '%+.1f'):>7}{cell(row['up_mbit'], '%.2f'):>10}{cell(row['up_lost_pct'], '%.0f%%'):>8}"
              f"{cell(row['down_mbit'], '%.2f'):>10}")


def verdict(without, with_role, idle_rtt):
    added_without = (without["rtt_ms"]["avg"] or 0) - idle_rtt
    checks = [
        ("with the role: loss < 1 %", with_role["loss_pct"] < 1),
        ("with the role: jitter < 30 ms (its highest running estimate)", with_role["jitter_max_ms"] < 30),
        ("with the role: RTT within 20 ms of idle",
         with_role["rtt_ms"]["avg"] is not None and with_role["rtt_ms"]["avg"] - idle_rtt <= 20),
        ("without it: >= 5 % loss or >= 50 ms added RTT", without["loss_pct"] >= 5 or added_without >= 50),
    ]
    for text, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    return all(passed for _text, passed in checks)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bottleneck-kbps", type=int, default=5000)
    parser.add_argument("--shaping-up-pct", type=int, default=95, help="the role's qos_shaping_up_pct (default 95)")
    parser.add_argument("--shaping-down-pct", type=int, default=90,
                        help="the role's qos_shaping_down_pct (default 90)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each media measurement")
    parser.add_argument("--keep-lab", action="store_true")
    args = parser.parse_args()
    os.environ.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    rate = media_kbps(PROFILE)
    lab("up", "--name", NAME, "--slot", SLOT, "--endpoints", "1")
    try:
        state = lab_state.load_state(NAME)
        inventory = Path(state["inventory"])
        prepare(state)
        lab("impair", "--name", NAME, "rate", f"{args.bottleneck_kbps}kbit")
        print(f"bottleneck {args.bottleneck_kbps} kbit/s on the ISP hop; media flow {rate} kbit/s in 20 ms frames "
              f"for {args.seconds:g} s; shaped at {args.shaping_up_pct} % up, {args.shaping_down_pct} % down; "
              f"profile {json.dumps(PROFILE)}", flush=True)
        idle = measure(state, rate, args.seconds, flood=False)
        without = measure(state, rate, args.seconds, flood=True)
        apply_role(inventory, "present", args.bottleneck_kbps, (args.shaping_up_pct, args.shaping_down_pct))
        with_role = measure(state, rate, args.seconds, flood=True)
        idle_rtt = idle["rtt_ms"]["avg"]
        print_rows([("idle, no role", idle), ("flood, without role", without), ("flood, with role", with_role)],
                   idle_rtt)
        passed = verdict(without, with_role, idle_rtt)
    finally:
        if not args.keep_lab:
            lab("down", "--name", NAME)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
