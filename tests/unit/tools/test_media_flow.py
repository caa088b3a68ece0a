"""tools/lab/media_flow.py: the shape of its frames, and what it measures against a loopback echo."""

import json
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FLOW = REPO / "tools" / "lab" / "media_flow.py"
QUALITY = REPO / "plugins" / "module_utils" / "common" / "quality.py"


@pytest.fixture
def flow_dir(tmp_path):
    """The script next to the collection's quality.py, the way it is installed on a lab host."""
    shutil.copy(FLOW, tmp_path / "media_flow.py")
    shutil.copy(QUALITY, tmp_path / "quality.py")
    return tmp_path


@pytest.fixture
def load(flow_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(flow_dir))
    import importlib
    module = importlib.import_module("media_flow")
    yield module
    sys.modules.pop("media_flow", None)
    sys.modules.pop("quality", None)


class Echo(threading.Thread):
    """A UDP echo on loopback that drops every ``drop_every``-th datagram (0: none)."""

    def __init__(self, drop_every=0):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.drop_every = drop_every
        self.seen = []
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.seen.append((len(data), peer[1]))
            if self.drop_every and len(self.seen) % self.drop_every == 0:
                continue
            self.sock.sendto(data, peer)

    def stop(self):
        self.stopped.set()
        self.join()
        self.sock.close()


def measure(flow_dir, echo, *args):
    proc = subprocess.run([sys.executable, str(flow_dir / "media_flow.py"), "127.0.0.1", str(echo.port), *args],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("rate, packets, size", [
    (60, 1, 150),       # audio: 150-byte packets, 50 per second
    (760, 2, 950),      # a video call and its audio: 1900 bytes each 20 ms, in two packets
    (1, 1, 36),         # smaller than the headers and the sequence number: the smallest packet
])
def test_frame_shape(load, rate, packets, size):
    assert load.frame_shape(rate, 20, 1200) == (packets, size)


def test_the_train_counts_each_packet_once(load):
    train = load.Train()
    first, second = train.send(0.0), train.send(20.0)
    train.echo(load.SEQUENCE.pack(first), 5.0)
    train.echo(load.SEQUENCE.pack(first), 9.0)        # a duplicate does not count twice
    train.echo(load.SEQUENCE.pack(7), 9.0)            # nor does a number never sent
    train.echo(b"x", 9.0)                             # nor a runt
    assert train.samples() == [(0.0, 5.0), (20.0, None)]
    assert second == 1


def test_jitter_max_is_the_highest_running_estimate(load):
    # Transit 10 ms, but 180 ms for packet 5, which arrives after packet 13: in arrival order the
    # transit jumps by 170 ms and back, J = 170/16, then J += (170 - J)/16, and J decays afterwards.
    samples = [(20.0 * n, 20.0 * n + (180 if n == 5 else 10)) for n in range(100)] + [(2000.0, None)]
    first = 170 / 16.0
    assert load.jitter_max(samples) == round(first + (170 - first) / 16.0, 2) == 20.59
    assert load.quality.summarize_train(samples)["jitter_ms"] < 1.0
    assert load.jitter_max([(0.0, 1.0)]) == 0.0 and load.jitter_max([]) == 0.0


def test_a_clean_echo_loses_nothing_and_sees_the_rate(flow_dir):
    echo = Echo()
    echo.start()
    try:
        result = measure(flow_dir, echo, "--rate-kbps", "760", "--seconds", "1", "--source-port", "0")
    finally:
        echo.stop()
    assert result["sent"] == 100 and result["received"] == 100 and result["loss_pct"] == 0.0
    assert result["packets_per_frame"] == 2 and result["packet_bytes"] == 950
    assert {size for size, _port in echo.seen} == {950 - 28}
    assert 0 <= result["rtt_ms"]["min"] <= result["rtt_ms"]["p95"] < 1000
    assert 0 <= result["jitter_ms"] <= result["jitter_max_ms"]


def test_lost_echoes_are_loss(flow_dir):
    echo = Echo(drop_every=10)
    echo.start()
    try:
        result = measure(flow_dir, echo, "--rate-kbps", "60", "--seconds", "1", "--wait", "0.5")
    finally:
        echo.stop()
    assert (result["sent"], result["received"], result["loss_pct"]) == (50, 45, 10.0)


def test_the_flow_leaves_from_the_source_port_it_is_given(flow_dir):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    echo = Echo()
    echo.start()
    try:
        measure(flow_dir, echo, "--rate-kbps", "60", "--seconds", "0.2", "--source-port", str(free_port))
    finally:
        echo.stop()
    assert {port for _size, port in echo.seen} == {free_port}


def test_bad_arguments_exit_2(flow_dir):
    proc = subprocess.run([sys.executable, str(flow_dir / "media_flow.py"), "127.0.0.1", "9", "--rate-kbps", "0"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
