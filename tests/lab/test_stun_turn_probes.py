"""The collection's STUN/TURN client (plugins/module_utils/stun), run inside endpoint1
through the site firewall (opened with the permit mark) against the lab's coturn:
it learns the mapped address coturn's own turnutils_stunclient learns, allocates
with long-term and REST credentials over UDP, TCP and TLS, relays to itself and
frees the allocation."""

import base64
import io
import json
import tarfile

import pytest
from conftest import REPO

MODULE_UTILS = REPO / "plugins" / "module_utils"
PACKAGES = ("common", "stun")
PACKAGE = "ansible_collections/dlegate/rtc/plugins/module_utils"

# Unpacks the shipped sources in the lab host, runs EXPRESSION and prints its JSON.
RUNNER = """
import base64, io, json, sys, tarfile, tempfile
root = tempfile.mkdtemp()
tarfile.open(fileobj=io.BytesIO(base64.b64decode(ARCHIVE))).extractall(root)
sys.path.insert(0, root)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.client import (
    Credentials, probe_allocate, probe_binding, probe_binding_train)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import Target
print(json.dumps(EXPRESSION))
"""


def archive():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for package in PACKAGES:
            for source in sorted((MODULE_UTILS / package).glob("*.py")):
                tar.add(str(source), arcname=f"{PACKAGE}/{package}/{source.name}")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def probe(permitted):
    """Run a probe expression in endpoint1 and return its result."""
    shipped = archive()

    def run(expression, timeout=60):
        code = f"ARCHIVE = {shipped!r}\n" + RUNNER.replace("EXPRESSION", expression)
        proc = permitted.python("endpoint1", code, timeout=timeout)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout)
    return run


def test_binding_agrees_with_turnutils_stunclient(permitted, probe):
    ours = probe('probe_binding(Target("turn.dlegate.test"), timeout=5)')
    theirs = permitted.stun_mapped("endpoint1")
    assert ours["reachable"] and ours["passed"], ours
    assert theirs is not None
    assert ours["mapped_address"] == theirs
    assert ours["server_address"] == permitted.state["turn"]["server"]


def test_quality_train_over_udp_is_clean(probe):
    result = probe('probe_binding_train(Target("turn.dlegate.test"), 100, interval_ms=20, timeout=6)')
    assert (result["sent"], result["received"], result["loss_pct"]) == (100, 100, 0.0), result
    assert result["rtt_ms"]["p95"] < 50 and result["jitter_ms"] < 10


@pytest.mark.parametrize("transport, mode", [("udp", "send"), ("udp", "channel"), ("tcp", "channel")])
def test_long_term_allocate_relays_to_itself_and_frees(permitted, probe, transport, mode):
    password = permitted.state["turn"]["users"]["alice"]
    result = probe(f'probe_allocate(Target("turn.dlegate.test", transport="{transport}"), '
                   f'Credentials("alice", {password!r}), timeout=8, relay_count=50, relay_mode="{mode}")')
    assert result["allocated"] and result["freed"], result
    assert result["relayed_address"] == permitted.state["turn"]["server"]
    assert result["realm"] == permitted.state["turn"]["realm"]
    relay = result["relay"]
    assert relay["error"] is None and (relay["sent"], relay["received"]) == (50, 50), relay
    assert password not in json.dumps(result)


def test_udp_allocate_sees_the_same_mapped_address(permitted, probe):
    password = permitted.state["turn"]["users"]["bob"]
    result = probe(f'probe_allocate(Target("turn.dlegate.test"), Credentials("bob", {password!r}), timeout=5)')
    assert result["allocated"] and result["mapped_address"] == permitted.stun_mapped("endpoint1")


def test_rest_secret_allocates_on_the_rest_server(permitted, probe):
    secret = permitted.state["turn"]["secret"]
    result = probe(f'probe_allocate(Target("turn-rest.dlegate.test", transport="tcp"), '
                   f'Credentials.from_rest_secret({secret!r}, "probe", 600), timeout=5)')
    assert result["allocated"] and result["freed"], result
    assert result["relayed_address"] == permitted.state["turn"]["rest_server"]


def test_tls_on_443_verifies_with_the_system_store_and_allocates(permitted, probe):
    password = permitted.state["turn"]["users"]["alice"]
    binding = probe('probe_binding(Target("turn.dlegate.test", 443, "tls"), timeout=5)')
    assert binding["reachable"] and binding["error"] is None, binding
    allocate = probe(f'probe_allocate(Target("turn.dlegate.test", 443, "tls"), Credentials("alice", {password!r}), '
                     'timeout=8, relay_count=20)')
    assert allocate["allocated"] and allocate["freed"] and allocate["relay"]["received"] == 20, allocate


def test_wrong_password_is_coturns_401(probe):
    result = probe('probe_allocate(Target("turn.dlegate.test"), Credentials("alice", "wrong-password"), timeout=5)')
    assert (result["allocated"], result["error"], result["error_code"]) == (False, "allocate_failed", 401), result
    assert [finding["id"] for finding in result["findings"]] == ["turn_auth_failed"]
