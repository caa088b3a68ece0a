"""tools/doctor.py names each missing or broken prerequisite with its fix."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DOCTOR = REPO / "tools" / "doctor.py"
LAB_CONF = REPO / "tools" / "lab" / "containers.conf"
TOOLS = ("podman", "runc", "iptables", "nft", "ip", "tc", "debootstrap", "openssl")


def load_doctor():
    spec = importlib.util.spec_from_file_location("rtc_doctor", DOCTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


doctor = load_doctor()


def fake_path(tmp_path, without=(), broken=()):
    """A PATH holding the real tools except `without`, and failing stand-ins for `broken`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        real = shutil.which(tool)
        if tool in broken:
            stub = bin_dir / tool
            stub.write_text("#!/bin/sh\necho \"$0: cannot initialize table\" >&2\nexit 3\n")
            stub.chmod(0o755)
        elif tool not in without and real:
            (bin_dir / tool).symlink_to(real)
    return str(bin_dir)


def run_doctor(path):
    env = dict(os.environ, PATH=path, CONTAINERS_CONF=str(LAB_CONF))
    return subprocess.run([sys.executable, str(DOCTOR)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_missing_iptables_is_named_with_its_package(tmp_path):
    proc = run_doctor(fake_path(tmp_path, without=["iptables"]))
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if line.startswith("iptables:")]
    assert lines == ["iptables: not found in PATH (netavark calls it for every lab network "
                     "(podman only suggests it)); fix: apt-get install iptables"]


def test_broken_iptables_is_named_with_its_error(tmp_path):
    proc = run_doctor(fake_path(tmp_path, broken=["iptables"]))
    assert proc.returncode == 1
    line = next(line for line in proc.stdout.splitlines() if line.startswith("iptables:"))
    assert "does not work" in line and "cannot initialize table" in line and "fix:" in line


def test_every_missing_tool_gets_its_own_line():
    found = doctor.check_commands(which=lambda name: None if name in ("runc", "tc") else "/bin/" + name)
    assert [line.split(":")[0] for line in found] == ["runc", "tc"]
    assert found[1].endswith("fix: apt-get install iproute2")


def test_netavark_is_looked_for_in_podman_helper_dirs(tmp_path):
    assert doctor.check_netavark(helper_dirs=[str(tmp_path)])[0].startswith("netavark: ")
    helper = tmp_path / "netavark"
    helper.write_text("#!/bin/sh\n")
    helper.chmod(0o755)
    assert doctor.check_netavark(helper_dirs=[str(tmp_path)]) == []


def test_lab_containers_conf_has_every_setting():
    assert doctor.containers_conf_problems(LAB_CONF.read_text(), "lab.conf") == []


@pytest.mark.parametrize("text, subject", [
    ('[containers]\ndefault_ulimits = ["nofile=1024:1024"]\n[engine]\nruntime = "crun"\ncgroup_manager = "cgroupfs"\n',
     "runtime = 'crun'"),
    ('[containers]\ndefault_ulimits = ["nofile=1024:1024"]\n[engine]\nruntime = "runc"\n', "cgroup_manager = None"),
    ('[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n', "no nofile limit"),
    ("[engine\n", "not valid TOML"),
])
def test_containers_conf_gaps_are_named(text, subject):
    found = doctor.containers_conf_problems(text, "x.conf")
    assert len(found) == 1 and subject in found[0] and "fix: " in found[0]


def test_podman_info_with_other_runtime_and_backend():
    info = {"host": {"ociRuntime": {"name": "crun"}, "cgroupManager": "systemd", "networkBackend": "cni"}}
    found = doctor.podman_info_problems(info)
    assert [line.split(" (")[0].split(";")[0] for line in found] == [
        "podman: uses the runtime 'crun'", "podman: uses the cgroup manager 'systemd'",
        "podman: uses the network backend 'cni'"]
    info = {"host": {"ociRuntime": {"name": "runc"}, "cgroupManager": "cgroupfs", "networkBackend": "netavark"}}
    assert doctor.podman_info_problems(info) == []


def test_unset_containers_conf_is_a_problem():
    assert doctor.check_containers_conf(environ={})[0].startswith("CONTAINERS_CONF: not set")


def test_failing_kernel_step_names_the_module(monkeypatch):
    calls = []

    def fake_run(cmd, input_text=None):
        calls.append(cmd)
        return (2, "Error: Specified qdisc kind is unknown.") if "htb" in cmd else (0, "")
    monkeypatch.setattr(doctor, "run", fake_run)
    found = doctor.kernel_steps("ns")
    assert len(found) == 1 and found[0].startswith("sch_htb: the kernel has no HTB qdisc")
    assert "qdisc kind is unknown" in found[0] and "modprobe sch_htb" in found[0]
    assert all(cmd[1:3] == ["-n", "ns"] for cmd in calls)
