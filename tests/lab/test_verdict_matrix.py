"""The readiness verdict matrix: each lab impairment in turn, the verify role run on
endpoint1 (let through the site firewall), and the verdict and finding ids it must give.

One lab for all rows; every impairment is cleared after its row."""

import contextlib
import json
import os
import subprocess

import pytest
from conftest import REPO

PLAYBOOK = REPO / "tests" / "lab" / "playbooks" / "verify_endpoint.yml"
TURN_TLS_BLOCK = "verdict_matrix_block"
NETWORK_IDS = {"udp_blocked", "tls_fallback_only", "ephemeral_udp_blocked", "tcp443_blocked", "stun_udp_blocked",
               "turn_udp_blocked", "turn_tcp_blocked", "turn_tls_blocked", "quality_loss", "quality_jitter",
               "quality_rtt"}


@pytest.fixture(scope="module")
def verify(permitted, tmp_path_factory):
    """Run the verify role on endpoint1 with extra variables; return its verify_result."""
    lab = permitted
    inventory = REPO / ".cache" / "lab" / lab.name / "inventory.yml"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".cache" / "collections"))
    out = tmp_path_factory.mktemp("verify")

    def run(**extra_vars):
        result_file = out / "result.json"
        result_file.unlink(missing_ok=True)
        extra = dict(extra_vars, verify_result_file=str(result_file))
        proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(PLAYBOOK), "-e", json.dumps(extra)],
                              capture_output=True, text=True, timeout=300, env=env, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return json.loads(result_file.read_text())
    return run


def ids(result):
    return sorted(finding["id"] for finding in result["findings"])


def explain(result):
    return "%s: %s" % (result["verdict"], [(f["id"], f["evidence"]) for f in result["findings"]])


@contextlib.contextmanager
def turn_tls_blocked(lab):
    """The gateway drops TCP 443 to the TURN server only: signalling on 443 still passes."""
    script = (f"table inet {TURN_TLS_BLOCK} {{\n chain forward {{\n"
              "  type filter hook forward priority filter - 60; policy accept;\n"
              f"  ip daddr {lab.state['turn']['server']} tcp dport 443 drop\n }}\n}}\n")
    proc = lab.sh("gw", "nft -f -", input=script)
    assert proc.returncode == 0, proc.stderr
    try:
        yield
    finally:
        lab.sh("gw", f"nft delete table inet {TURN_TLS_BLOCK}")


def test_all_open_is_pass(verify):
    result = verify()
    assert result["verdict"] == "PASS", explain(result)
    assert result["findings"] == []
    assert all(check["passed"] for check in result["checks"].values())


def test_udp_blocked_is_degraded_with_turn_over_tls_on_443_verified(permitted, verify):
    with permitted.impaired("block-udp"):
        result = verify()
    assert result["verdict"] == "DEGRADED", explain(result)
    assert ids(result) == ["tls_fallback_only", "udp_blocked"]
    tls = result["checks"]["turn_tls"]["result"]
    assert (tls["allocated"], tls["port"], tls["transport"]) == (True, 443, "tls")
    assert tls["relay"]["received"] > 0
    assert result["checks"]["stun"]["result"]["error"] == "timeout"


def test_udp_and_tcp_443_to_the_turn_host_blocked_is_fail(permitted, verify):
    with permitted.impaired("block-udp"), turn_tls_blocked(permitted):
        result = verify()
    assert result["verdict"] == "FAIL", explain(result)
    assert ids(result) == ["turn_tls_blocked", "udp_blocked"]
    assert result["checks"]["signaling"]["passed"]  # only the TURN host's 443 is blocked


def test_nxdomain_for_the_signalling_name_is_fail(permitted, verify):
    with permitted.impaired("dns-nxdomain", target="signal.dlegate.test"):
        result = verify()
    assert result["verdict"] == "FAIL", explain(result)
    assert ids(result) == ["dns_nxdomain"]
    assert result["findings"][0]["evidence"].startswith("signal.dlegate.test: ")


def test_a_sinkhole_answer_is_fail(permitted, verify):
    with permitted.impaired("dns-sinkhole", target="signal.dlegate.test"):
        result = verify()
    assert result["verdict"] == "FAIL", explain(result)
    assert ids(result) == ["dns_sinkhole"]
    assert "0.0.0.0" in result["findings"][0]["evidence"]


def test_five_percent_wan_loss_is_degraded_with_the_loss_measured(permitted, verify):
    # Loss on the way out only: a round trip then loses 5 %, not 1 - 0.95^2.
    with permitted.impaired("loss", percent=5, direction="up"):
        result = verify(verify_quality_count=1000, verify_quality_interval_ms=10, verify_quality_timeout=15.0)
    assert result["verdict"] == "DEGRADED", explain(result)
    assert ids(result) == ["quality_loss"]
    quality = result["checks"]["quality"]["result"]
    assert quality["sent"] >= 500
    assert 3.0 <= quality["loss_pct"] <= 7.0, quality
    assert result["findings"][0]["value"] == quality["loss_pct"]


def test_a_wrong_turn_password_is_fail_with_no_network_finding(verify):
    result = verify(verify_turn_password="not-the-lab-password")
    assert result["verdict"] == "FAIL", explain(result)
    assert ids(result) == ["turn_auth_failed"]
    assert not NETWORK_IDS & set(ids(result))


def test_the_ephemeral_range_blocked_while_3478_is_open(permitted, verify):
    echo = permitted.state["udp_echo"]["ports"]
    with permitted.impaired("block-udp", ports=f"{echo[0]}-{echo[1]}"):
        result = verify()
    assert result["verdict"] == "DEGRADED", explain(result)
    assert ids(result) == ["ephemeral_udp_blocked"]
    assert result["checks"]["stun"]["passed"] and result["checks"]["turn_udp"]["passed"]
    assert result["checks"]["ephemeral"]["result"]["answered"] == 0
