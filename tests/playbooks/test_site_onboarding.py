"""The main job, end to end against its own lab: a check-mode audit, the onboarding
itself, and a rerun, each judged by its report and by the hosts' live rulesets."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_PY = REPO / "tools" / "lab" / "lab.py"
DEMO = REPO / "tools" / "demo.py"
LAB = ["--name", "onboard-test"]


def lab(*args):
    return subprocess.run([sys.executable, str(LAB_PY), *args], check=False,
                          capture_output=True, text=True, timeout=300)


def onboard(report, *options):
    proc = subprocess.run([sys.executable, str(DEMO), *LAB, "--slot", "6", "--endpoints", "1",
                           "--report", str(report), *options],
                          check=False, capture_output=True, text=True, timeout=900)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.returncode, json.loads(report.read_text())


def egress_table_exists(host):
    return lab("exec", *LAB, host, "--", "nft", "list", "table", "inet", "dlegate_egress").returncode == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Check mode on a fresh lab, then the onboarding, then a rerun on the same lab."""
    out = tmp_path_factory.mktemp("reports")
    try:
        audit = onboard(out / "audit.json", "--check")
        tables_after_audit = {host: egress_table_exists(host) for host in ("gw", "endpoint1")}
        first = onboard(out / "first.json", "--reuse-lab")
        second = onboard(out / "second.json", "--reuse-lab")
        yield {"audit": audit, "tables_after_audit": tables_after_audit, "first": first, "second": second}
    finally:
        lab("down", *LAB)


def test_check_mode_audit_reports_the_gap_and_changes_nothing(runs):
    code, report = runs["audit"]
    assert code != 0
    assert report["check_mode"] in (True, "True")
    for record in report["hosts"].values():
        assert record["preflight_egress_compliant"] is False
        assert record["configure"]["egress_changed"] in (True, "True")
        assert record["verify_egress_compliant"] is False
    assert runs["tables_after_audit"] == {"gw": False, "endpoint1": False}
    # The read-only HTTPS check runs in audits too, and sees the locked-down gateway.
    assert report["hosts"]["endpoint1"]["verify"]["https_status"] == {"signal.dlegate.test": -1}


def test_onboarding_makes_every_host_compliant_and_signalling_reachable(runs):
    code, report = runs["first"]
    assert code == 0
    assert set(report["hosts"]) == {"gw", "endpoint1"}
    for record in report["hosts"].values():
        assert record["preflight_egress_compliant"] is False
        assert record["verify_egress_compliant"] is True
    assert report["hosts"]["endpoint1"]["verify"]["https_status"] == {"signal.dlegate.test": 200}


def test_rerun_changes_nothing(runs):
    code, report = runs["second"]
    assert code == 0
    for record in report["hosts"].values():
        assert record["preflight_egress_compliant"] is True
        assert record["configure"]["egress_changed"] in (False, "False")


def test_report_names_the_stages_that_ran(runs):
    stages = runs["first"][1]["stages"]
    assert stages["preflight"] == {"ran": ["egress_audit", "readiness"], "not_available": []}
    assert stages["verify"] == {"ran": ["egress_audit", "https_reachability", "readiness"], "not_available": []}


def test_the_readiness_verdict_goes_from_fail_to_pass(runs):
    endpoint = runs["first"][1]["hosts"]["endpoint1"]
    assert endpoint["preflight"]["readiness_verdict"] == "FAIL"
    assert "udp_blocked" in endpoint["preflight"]["readiness_findings"]
    assert (endpoint["verify"]["readiness_verdict"], endpoint["verify"]["readiness_findings"]) == ("PASS", [])
    assert runs["second"][1]["hosts"]["endpoint1"]["preflight"]["readiness_verdict"] == "PASS"
