#!/usr/bin/env python3
"""Check every prerequisite of the controller: the tools the lab and the test suite
run, podman's settings, and the kernel features the lab and the QoS work rely on.

Prints one line per problem, each with its fix, and exits 1 when there is one;
prints a single 'ok' line and exits 0 otherwise. Changes nothing on the machine
except a network namespace of its own, created and deleted again.
"""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB_CONF = REPO / "tools" / "lab" / "containers.conf"

# command, Debian package, why the controller needs it
COMMANDS = (
    ("podman", "podman", "runs the lab hosts"),
    ("runc", "runc", "the container runtime the lab's containers.conf selects"),
    ("iptables", "iptables", "netavark calls it for every lab network (podman only suggests it)"),
    ("nft", "nftables", "the collection's firewall tool"),
    ("ip", "iproute2", "network namespaces and routes"),
    ("tc", "iproute2", "traffic control"),
    ("debootstrap", "debootstrap", "builds the lab image"),
    ("openssl", "openssl", "makes the lab CA"),
)
# where podman 4 looks for its network helpers (helper_binaries_dir)
HELPER_DIRS = ("/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman")
WANT_ENGINE = {"runtime": "runc", "cgroup_manager": "cgroupfs"}
COMMAND_TIMEOUT = 30


def problem(subject, what, fix):
    return f"{subject}: {what}; fix: {fix}"


def run(cmd, input_text=None):
    """(exit code, combined output); a missing or hanging command counts as a failure."""
    try:
        proc = subprocess.run(cmd, input=input_text, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return proc.returncode, (proc.stderr or proc.stdout).strip()


def first_line(text):
    return (text.strip().splitlines() or ["no output"])[-1]


def check_root():
    if os.geteuid() != 0:
        return [problem("user", "not root: the lab needs root for podman, namespaces and nft",
                        "run as root (sudo ./rtc ...)")]
    return []


def check_commands(which=shutil.which):
    return [problem(cmd, f"not found in PATH ({why})", f"apt-get install {package}")
            for cmd, package, why in COMMANDS if which(cmd) is None]


def check_netavark(helper_dirs=HELPER_DIRS):
    if any(os.access(os.path.join(d, "netavark"), os.X_OK) for d in helper_dirs):
        return []
    return [problem("netavark", "podman's network helper is not installed (lab networks need it)",
                    "apt-get install netavark aardvark-dns")]


def check_iptables():
    if shutil.which("iptables") is None:
        return []   # already reported as missing
    code, out = run(["iptables", "-w", "-t", "nat", "-S"])
    if code:
        return [problem("iptables", f"does not work ({first_line(out)}); netavark needs it for every lab network",
                        "apt-get install --reinstall iptables, or pick a working backend: "
                        "update-alternatives --set iptables /usr/sbin/iptables-nft")]
    return []


def containers_conf_problems(text, path):
    """What a containers.conf lacks of the settings the lab needs on these machines."""
    try:
        conf = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [problem("containers.conf", f"{path} is not valid TOML ({exc})", f"compare it with {LAB_CONF}")]
    found = []
    engine = conf.get("engine", {})
    for key, want in WANT_ENGINE.items():
        if engine.get(key) != want:
            found.append(problem("containers.conf", f"{path} has {key} = {engine.get(key)!r} in [engine]",
                                 f'set {key} = "{want}" (crun cannot run the lab here)'))
    ulimits = conf.get("containers", {}).get("default_ulimits", [])
    if not any(str(item).startswith("nofile=") for item in ulimits):
        found.append(problem("containers.conf", f"{path} sets no nofile limit in [containers] default_ulimits",
                             'set default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"] '
                             "(the runtime cannot raise rlimits here)"))
    return found


def check_containers_conf(environ=os.environ):
    path = environ.get("CONTAINERS_CONF")
    if not path:
        return [problem("CONTAINERS_CONF", "not set, so podman uses crun and the systemd cgroup manager",
                        f"export CONTAINERS_CONF={LAB_CONF.relative_to(REPO)} (./rtc sets it)")]
    if not os.path.isfile(path):
        return [problem("CONTAINERS_CONF", f"{path} does not exist", f"point it at {LAB_CONF.relative_to(REPO)}")]
    return containers_conf_problems(Path(path).read_text(encoding="utf-8"), path)


def podman_info_problems(info):
    """What the running podman reports that differs from what the lab needs."""
    host = info.get("host", {})
    found = []
    runtime = host.get("ociRuntime", {}).get("name")
    if runtime != WANT_ENGINE["runtime"]:
        found.append(problem("podman", f"uses the runtime {runtime!r}", 'runtime = "runc" in $CONTAINERS_CONF [engine]'))
    manager = host.get("cgroupManager")
    if manager != WANT_ENGINE["cgroup_manager"]:
        found.append(problem("podman", f"uses the cgroup manager {manager!r}",
                             'cgroup_manager = "cgroupfs" in $CONTAINERS_CONF [engine]'))
    backend = host.get("networkBackend")
    if backend != "netavark":
        found.append(problem("podman", f"uses the network backend {backend!r}",
                             'apt-get install netavark aardvark-dns, and network_backend = "netavark" '
                             "in $CONTAINERS_CONF [network]"))
    return found


def check_podman():
    if shutil.which("podman") is None:
        return []
    try:
        proc = subprocess.run(["podman", "info", "--format", "json"], capture_output=True, text=True,
                              check=False, timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [problem("podman", "'podman info' hangs", "see whether another podman process holds its lock")]
    if proc.returncode:
        return [problem("podman", f"'podman info' fails ({first_line(proc.stderr)})", "see the message; check $CONTAINERS_CONF")]
    return podman_info_problems(json.loads(proc.stdout or "{}"))


# Each step runs in a throwaway network namespace; the first failing one is reported.
KERNEL_STEPS = (
    ("veth", ["ip", "-n", "{ns}", "link", "add", "d0", "type", "veth", "peer", "name", "d1"],
     "the kernel cannot make veth pairs, which every container network needs", "a kernel with CONFIG_VETH"),
    ("link", ["ip", "-n", "{ns}", "link", "set", "d0", "up"], "cannot bring an interface up", "check the kernel"),
    ("sch_htb", ["tc", "-n", "{ns}", "qdisc", "add", "dev", "d0", "root", "handle", "1:", "htb", "default", "10"],
     "the kernel has no HTB qdisc (QoS classes)", "modprobe sch_htb, or a kernel with CONFIG_NET_SCH_HTB"),
    ("sch_htb", ["tc", "-n", "{ns}", "class", "add", "dev", "d0", "parent", "1:", "classid", "1:10", "htb", "rate", "1mbit"],
     "the kernel refuses an HTB class", "modprobe sch_htb, or a kernel with CONFIG_NET_SCH_HTB"),
    ("cls_u32", ["tc", "-n", "{ns}", "filter", "add", "dev", "d0", "parent", "1:", "protocol", "ip", "prio", "1",
                 "u32", "match", "ip", "dport", "3478", "0xffff", "flowid", "1:10"],
     "the kernel has no u32 classifier (QoS filters)", "modprobe cls_u32, or a kernel with CONFIG_NET_CLS_U32"),
    ("sch_tbf", ["tc", "-n", "{ns}", "qdisc", "replace", "dev", "d0", "root", "tbf", "rate", "1mbit",
                 "burst", "3000", "latency", "50ms"],
     "the kernel has no TBF qdisc (the lab's WAN bottleneck)", "modprobe sch_tbf, or a kernel with CONFIG_NET_SCH_TBF"),
)
NFT_PROBE = """table inet rtc_doctor {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    meta mark & 0x00200000 == 0x00200000 accept
    numgen random mod 100 < 5 drop
  }
}
table ip rtc_doctor_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 198.18.0.0/15 masquerade
  }
}
"""


def check_kernel(namespace=None):
    """Really add an HTB qdisc, a u32 filter, a TBF and an nft ruleset, in a namespace of our own."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        return []   # reported as not root / missing iproute2
    ns = namespace or f"rtc-doctor-{os.getpid()}"
    code, out = run(["ip", "netns", "add", ns])
    if code:
        return [problem("netns", f"cannot create a network namespace ({first_line(out)})", "run as root on a kernel with namespaces")]
    try:
        found = kernel_steps(ns)
        if shutil.which("nft"):
            code, out = run(["ip", "netns", "exec", ns, "nft", "-f", "-"], NFT_PROBE)
            if code:
                found.append(problem("nft", f"the kernel refused a ruleset with ct, mark, numgen and masquerade ({first_line(out)})",
                                     "a kernel with nf_tables, nft_ct, nft_numgen and nft_masq (CONFIG_NF_TABLES*)"))
        return found
    finally:
        run(["ip", "netns", "delete", ns])


def kernel_steps(ns):
    if not shutil.which("tc"):
        return []
    for subject, cmd, what, fix in KERNEL_STEPS:
        code, out = run([arg.format(ns=ns) for arg in cmd])
        if code:
            return [problem(subject, f"{what} ({first_line(out)})", fix)]
    return []


def all_problems():
    return (check_root() + check_commands() + check_netavark() + check_iptables()
            + check_containers_conf() + check_podman() + check_kernel())


def main():
    found = all_problems()
    for line in found:
        print(line)
    if found:
        print(f"doctor: {len(found)} problem(s) found", file=sys.stderr)
        return 1
    print("doctor: ok (podman, runc, netavark, iptables, containers.conf, htb, u32, tbf, nft)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
