"""Fixtures for the network lab tests: one lab, named lab-test on slot 5 with
one endpoint, for the whole session. Every probe runs inside a lab host."""

import fcntl
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "tools" / "lab"
LAB_PY = LAB_DIR / "lab.py"
LAB_NAME = "lab-test"
LAB_SLOT = 5

sys.path.insert(0, str(LAB_DIR))
from rtclab import common, impairments, podman  # noqa: E402  pylint: disable=wrong-import-position


def lab_cli(*args, timeout=120, check=True):
    """Run tools/lab/lab.py with this interpreter."""
    proc = subprocess.run([sys.executable, str(LAB_PY), *args], capture_output=True,
                          text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"lab.py {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


class Lab:
    """The running lab: its state, and probes that run inside its hosts."""

    def __init__(self, state):
        self.state = state
        self.name = state["name"]

    def addr(self, host, net=None):
        addresses = self.state["hosts"][host]["addresses"]
        return addresses[net] if net else next(iter(addresses.values()))

    def sh(self, host, script, timeout=60, input=None):
        """Run a shell script in a lab host; return CompletedProcess (never raises)."""
        container = self.state["hosts"][host]["container"]
        args = ["exec", "-i", container, "sh", "-c", script] if input else \
            ["exec", container, "sh", "-c", script]
        return podman.podman(*args, check=False, input=input, timeout=timeout)

    def python(self, host, code, timeout=60):
        container = self.state["hosts"][host]["container"]
        return podman.podman("exec", "-i", container, "python3", "-", check=False,
                             input=code, timeout=timeout)

    def impair(self, *args):
        return lab_cli("impair", "--name", self.name, *args)

    def impaired(self, kind, **options):
        """Context manager: the impairment holds inside the with-block and is
        cleared after it, whatever happens (keywords of rtclab.impairments.make_impairment)."""
        return impairments.impaired(self.name, kind, **options)

    # probes ---------------------------------------------------------------

    def https_status(self, host, url="https://signal.dlegate.test/", seconds=3):
        proc = self.sh(host, f"curl -sS --max-time {seconds} -o /dev/null "
                             f"-w '%{{http_code}}' {url}", timeout=seconds + 20)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def stun_mapped(self, host, server="turn.dlegate.test", seconds=3):
        """The reflexive address turnutils_stunclient learns, or None."""
        proc = self.sh(host, f"timeout {seconds} turnutils_stunclient {server}",
                       timeout=seconds + 20)
        match = re.search(r"UDP reflexive addr: ([\d.]+):(\d+)", proc.stdout + proc.stderr)
        return match.group(1) if match else None

    def resolve(self, host, name):
        """Addresses getent finds for name through the host's resolver."""
        proc = self.sh(host, f"getent ahostsv4 {name}", timeout=30)
        return sorted({line.split()[0] for line in proc.stdout.splitlines() if line.strip()})

    def uclient(self, host, *args, server="turn.dlegate.test", messages=100, timeout=60):
        """Relay traffic with turnutils_uclient (client to client); return
        (sent, received, loss percent) or raise with its output."""
        interval = [] if "-z" in args else ["-z", "5"]
        cmd = ("turnutils_uclient -c -y -m 1 -l 170 "
               f"-n {messages} {' '.join([*interval, *args])} {server}")
        proc = self.sh(host, f"timeout {timeout - 5} {cmd}", timeout=timeout)
        out = proc.stdout + proc.stderr
        totals = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$", out, re.M)
        lost = re.search(r"Total lost packets \d+ \(([\d.]+)%\)", out)
        if not totals or not lost:
            raise AssertionError(f"turnutils_uclient gave no totals:\n{out[-2000:]}")
        return int(totals[-1][0]), int(totals[-1][1]), float(lost.group(1))


@pytest.fixture(scope="session")
def lab():
    # one test lab per machine at a time: a second session waits for the first
    lock_path = REPO / ".cache" / "lab" / f".{LAB_NAME}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lab_cli("up", "--name", LAB_NAME, "--slot", str(LAB_SLOT), "--endpoints", "1",
                timeout=1800)
        state = json.loads((REPO / ".cache" / "lab" / LAB_NAME / "state.json").read_text())
        try:
            yield Lab(state)
        finally:
            lab_cli("down", "--name", LAB_NAME, check=False)


PERMIT_TABLE = "lab_test_permit"


@pytest.fixture(scope="module")
def permitted(lab):
    """Let endpoint1's traffic through the site firewall the way the collection
    does it: gw marks the packets with the permit mark before filtering.
    (A mark set on the endpoint itself does not survive the hop to gw.)"""
    src = lab.addr("endpoint1")
    script = (f"table inet {PERMIT_TABLE} {{\n chain prerouting {{\n"
              "  type filter hook prerouting priority mangle; policy accept;\n"
              f"  ip saddr {src} meta mark set mark or {common.PERMIT_MARK}\n }}\n}}\n")
    proc = lab.sh("gw", "nft -f -", input=script)
    assert proc.returncode == 0, proc.stderr
    try:
        yield lab
    finally:
        lab.sh("gw", f"nft delete table inet {PERMIT_TABLE}")
        lab.impair("clear", "all")
