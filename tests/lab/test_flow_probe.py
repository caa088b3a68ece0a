"""tests/molecule/files/flow.py (the Molecule scenarios' flow tester) tells a blocked
flow (exit 1) from a failure of the probe itself (exit 2). Loopback only."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

FLOW = Path(__file__).resolve().parents[1] / "molecule" / "files" / "flow.py"


def flow(*args, timeout=30):
    return subprocess.run([sys.executable, str(FLOW), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("proto, kind", [("udp", socket.SOCK_DGRAM), ("tcp", socket.SOCK_STREAM)])
def test_a_flow_to_a_closed_port_is_blocked(proto, kind):
    proc = flow("probe", proto, "127.0.0.1", str(free_port(kind)), "--timeout", "1")
    assert (proc.returncode, proc.stdout.strip()) == (1, "blocked")


@pytest.mark.parametrize("proto, kind", [("udp", socket.SOCK_DGRAM), ("tcp", socket.SOCK_STREAM)])
def test_a_flow_to_the_echo_server_passes(proto, kind):
    port = str(free_port(kind))
    with subprocess.Popen([sys.executable, str(FLOW), "serve", proto, port, "--seconds", "20"]) as server:
        try:
            for _attempt in range(50):
                proc = flow("probe", proto, "127.0.0.1", port, "--timeout", "1")
                if proc.returncode == 0:
                    break
                time.sleep(0.1)
            assert (proc.returncode, proc.stdout.strip()) == (0, "pass")
        finally:
            server.kill()


@pytest.mark.parametrize("args", [
    ["probe", "udp", "127.0.0.1", "9", "--timeout", "-1"],   # the probe crashes (bad timeout)
    ["probe", "sctp", "127.0.0.1", "9"],                      # bad arguments
])
def test_a_probe_that_fails_itself_is_an_error_not_blocked(args):
    proc = flow(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "blocked" not in proc.stdout
