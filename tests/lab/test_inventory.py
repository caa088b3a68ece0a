"""The generated inventory drives Ansible into the lab hosts."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import lab_cli
from rtclab.podman import podman_env


def ansible_tool(name):
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


def test_inventory_command_prints_the_written_inventory(lab):
    path = lab_cli("inventory", "--name", lab.name).stdout.strip()
    text = Path(path).read_text()
    assert "ansible_connection: containers.podman.podman" in text
    assert f"ansible_host: {lab.state['hosts']['endpoint1']['container']}" in text


def test_ansible_reaches_every_host_through_the_inventory(lab):
    tool = ansible_tool("ansible")
    if not tool:
        pytest.skip("ansible is not installed in this environment")
    proc = subprocess.run([tool, "-i", lab.state["inventory"], "all", "-m", "ping"],
                          capture_output=True, text=True, timeout=180, check=False,
                          env=podman_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.stdout.count("SUCCESS") == len(lab.state["hosts"])


def test_inventory_vars_describe_the_lab(lab):
    tool = ansible_tool("ansible-inventory")
    if not tool:
        pytest.skip("ansible-inventory is not installed in this environment")
    proc = subprocess.run([tool, "-i", lab.state["inventory"], "--host", "endpoint1"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    hostvars = json.loads(proc.stdout)
    assert hostvars["lab_site_address"] == lab.addr("endpoint1")
    assert hostvars["lab_domains"]["signal.dlegate.test"] == lab.addr("signal")
    assert hostvars["lab_turn_users"] == lab.state["turn"]["users"]
    assert hostvars["lab_relay_range"] == lab.state["relay_range"]
    assert Path(hostvars["lab_ca_cert"]).read_text().startswith("-----BEGIN CERTIFICATE")
