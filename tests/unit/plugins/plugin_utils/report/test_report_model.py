# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report's data: states, diffs, folding, readiness, plans and totals."""

from __future__ import annotations

import pytest

from ansible_collections.dlegate.rtc.plugins.plugin_utils.report import model
from ansible_collections.dlegate.rtc.tests.unit.plugins.plugin_utils.report.report_samples import (
    DRIFT, PLAN, READINESS_FAIL, READINESS_PASS, RUN, egress_audit, fleet_report)


@pytest.mark.parametrize("name, expected", [
    ("EGR-002 | Apply the policy", "EGR-002"),
    ("egress : EGR-004 | Write the unit", "EGR-004"),
    ("dlegate.rtc.qos : QOS-001 | Size the plan", "QOS-001"),
    ("VER-010 | Readiness", "VER-010"),
    ("Verify | HTTPS to each signalling name (EGR-002)", None),
    ("EGR-02 | too short", None),
    ("egr-002 | lower case", None),
    ("EGR-002 without the bar", None),
    ("", None),
    (None, None),
])
def test_control_id_is_the_task_name_prefix(name, expected):
    assert model.control_id(name) == expected


@pytest.mark.parametrize("status, result, check_mode, expected", [
    ("failed", {"changed": True}, True, "error"),
    ("unreachable", {}, False, "error"),
    ("skipped", {"changed": False}, True, "skipped"),
    ("ok", {"changed": True}, True, "drifted"),
    ("ok", {"changed": False}, True, "compliant"),
    ("ok", {"changed": True}, False, "changed"),
    ("ok", {"changed": False}, False, "ok"),
    # A module that says whether the host complied is judged by that, not by `changed`.
    ("ok", {"changed": False, "compliant": False}, True, "drifted"),
    ("ok", {"changed": True, "compliant": True}, True, "compliant"),
    ("ok", {"changed": True, "compliant": False}, False, "changed"),
    ("ok", {"changed": False, "compliant": "no"}, True, "compliant"),
])
def test_task_state(status, result, check_mode, expected):
    assert model.task_state(status, result, check_mode) == expected


def test_worst_orders_the_states_and_an_empty_list_is_skipped():
    assert model.worst(["ok", "compliant", "drifted", "changed"]) == "drifted"
    assert model.worst(["skipped", "error", "drifted"]) == "error"
    assert model.worst(["ok", "skipped"]) == "ok"
    assert model.worst([]) == "skipped"


def test_diff_text_is_a_unified_diff_with_the_module_headers():
    text = model.diff_text(DRIFT["diff"])
    assert text.splitlines()[:2] == ["--- inet dlegate_egress (live)", "+++ inet dlegate_egress (policy)"]
    assert "-  tcp dport 2222 accept" in text.splitlines()


def test_diff_text_of_loops_prepared_diffs_data_and_nothing():
    loop = [{"before": "a\n", "after": "b\n"}, {"before": "same\n", "after": "same\n"}]
    assert model.diff_text(loop) == "--- before\n+++ after\n@@ -1 +1 @@\n-a\n+b\n"
    assert model.diff_text({"prepared": "--- x\n+++ y\n"}) == "--- x\n+++ y\n"
    data = model.diff_text({"before": {"k": 1}, "after": {"k": 2}})
    assert '-  "k": 1' in data and '+  "k": 2' in data
    assert model.diff_text({"before": "no newline", "after": "at the end"}).endswith("+at the end\n")
    assert model.diff_text(None) == model.diff_text("text") == ""


def test_observation_keeps_the_diff_and_differences_of_drift_only():
    drift = model.observation("gw", 0, "EGR-002 | Apply", "ok", DRIFT, True)
    assert drift["state"] == "drifted" and drift["control"] == "EGR-002"
    assert drift["diff"].startswith("--- inet dlegate_egress (live)")
    assert drift["differences"] == DRIFT["differences"]
    compliant = model.observation("gw", 0, "EGR-002 | Apply", "ok", dict(DRIFT, compliant=True), True)
    assert compliant["diff"] == "" and compliant["differences"] == []


def test_observation_collects_loop_item_diffs_and_differences():
    result = {"changed": True, "results": [{"diff": {"before": "1\n", "after": "2\n"}, "differences": [{"item": "a"}]},
                                           {"diff": {"before": "3\n", "after": "4\n"}}, "not a dict"]}
    record = model.observation("gw", 0, "EGR-004 | Write", "ok", result, False)
    assert record["state"] == "changed"
    assert "-1\n+2\n" in record["diff"] and "-3\n+4\n" in record["diff"]
    assert record["differences"] == [{"item": "a"}]


def test_observation_of_a_failure_keeps_its_message_shortened():
    record = model.observation("gw", 0, "EGR-002 | Apply", "failed", {"msg": "x" * 5000}, False)
    assert record["state"] == "error"
    assert record["message"].startswith("x" * 1000) and record["message"].endswith("(4000 more characters)")
    assert model.observation("gw", 0, "t", "failed", {"stderr": "nft: error"}, False)["message"] == "nft: error"


def test_observation_of_a_no_log_result_keeps_nothing_but_its_state():
    secret = {"changed": True, "diff": {"before": "password=old\n", "after": "password=new\n"},
              "differences": ["password"], "msg": "password=new", "_ansible_no_log": True}
    record = model.observation("gw", 0, "VER-003 | TURN allocate", "ok", secret, True)
    assert record["state"] == "drifted"
    assert record["message"] == model.HIDDEN and record["diff"] == "" and record["differences"] == []
    censored = model.observation("gw", 0, "VER-003 | TURN", "failed", {"censored": "hidden", "msg": "secret"}, True)
    assert censored["state"] == "error" and "secret" not in str(censored)


def test_fold_control_takes_the_last_play_that_ran_it_and_keeps_the_history():
    observations = [
        model.observation("gw", 0, "EGR-002 | Audit", "ok", DRIFT, True),
        model.observation("gw", 1, "EGR-002 | Apply", "ok", {"changed": True}, False),
        model.observation("gw", 2, "EGR-002 | Audit", "ok", {"changed": False, "compliant": True}, True),
        model.observation("gw", 3, "EGR-002 | Audit", "skipped", {}, True),
    ]
    folded = model.fold_control("EGR-002", observations, ["Preflight", "Configure", "Verify", "Report"])
    assert folded["state"] == "compliant"
    assert folded["history"] == [{"play": "Preflight", "state": "drifted"}, {"play": "Configure", "state": "changed"},
                                 {"play": "Verify", "state": "compliant"}, {"play": "Report", "state": "skipped"}]
    assert folded["diff"] == "" and folded["remediation"] == ""


def test_fold_control_of_a_drifted_play_keeps_all_its_diffs_and_says_how_to_restore():
    observations = [model.observation("gw", 0, "EGR-004 | Write the file", "ok", {"changed": True,
                                                                                  "diff": {"before": "a\n", "after": "b\n"}}, True),
                    model.observation("gw", 0, "EGR-004 | Write the unit", "ok", {"changed": False}, True)]
    folded = model.fold_control("EGR-004", observations, [])
    assert folded["state"] == "drifted"
    assert folded["history"] == [{"play": "0", "state": "drifted"}]
    assert folded["tasks"] == ["EGR-004 | Write the file", "EGR-004 | Write the unit"]
    assert "-a\n+b\n" in folded["diff"]
    assert folded["remediation"] == "Restore the control: ansible-playbook dlegate.rtc.rollout --limit gw --tags EGR-004"


def test_a_control_skipped_in_every_play_is_skipped():
    folded = model.fold_control("EGR-003", [model.observation("gw", 0, "EGR-003 | Confirm", "skipped", {}, True)], ["A"])
    assert folded["state"] == "skipped"


def test_readiness_record_keeps_verdict_findings_and_quality_against_thresholds():
    record = model.readiness_record(READINESS_FAIL)
    assert record["verdict"] == "FAIL"
    assert record["findings"] == [dict(READINESS_FAIL["findings"][0])]
    assert record["quality"] == [
        {"check": "relay_quality", "metric": "loss_pct", "value": 5.2, "unit": "%", "threshold": 2.0, "within": False},
        {"check": "relay_quality", "metric": "rtt_ms", "value": 80.0, "unit": "ms", "threshold": 100.0, "within": True},
        {"check": "relay_quality", "metric": "jitter_ms", "value": 45.0, "unit": "ms", "threshold": 30.0, "within": False}]


def test_readiness_record_reads_rtt_averages_nested_quality_and_short_threshold_names():
    raw = {"verdict": "degraded", "thresholds": {"rtt": 50, "jitter": "x"},
           "quality": {"loss_pct": 0.4}, "checks": {"turn": {"quality": {"rtt_ms": {"avg": 60}}}, "dns": "skipped"}}
    record = model.readiness_record(raw)
    assert record["verdict"] == "DEGRADED"
    assert [(row["check"], row["metric"], row["value"], row["threshold"], row["within"]) for row in record["quality"]] == [
        ("quality", "loss_pct", 0.4, 1.0, True), ("turn", "rtt_ms", 60.0, 50.0, False)]


def test_readiness_record_reads_the_quality_of_the_readiness_module_checks():
    raw = {"verdict": "PASS", "findings": [], "thresholds": {"rtt_ms": 100, "jitter_ms": 30, "loss_pct": 1},
           "checks": {"quality": {"kind": "quality", "passed": True, "duration_ms": 10200.5, "error": None,
                                  "result": {"sent": 500, "received": 498, "loss_pct": 0.4,
                                             "rtt_ms": {"min": 1.1, "avg": 2.25, "max": 9.0, "p95": 4.0},
                                             "jitter_ms": 0.31}},
                      "dns": {"kind": "dns", "passed": True, "result": {"names": {}}}}}
    assert [(row["check"], row["metric"], row["value"]) for row in model.readiness_record(raw)["quality"]] == [
        ("quality", "loss_pct", 0.4), ("quality", "rtt_ms", 2.25), ("quality", "jitter_ms", 0.31)]


def test_readiness_record_of_nothing_or_an_unknown_verdict():
    assert model.readiness_record(None) is None
    assert model.readiness_record({"verdict": "MAYBE", "findings": ["not a dict"], "checks": {"x": {"rtt_ms": True}}}) == {
        "verdict": "none", "findings": [], "quality": []}


def test_plan_record_keeps_totals_classes_and_warnings():
    assert model.plan_record(PLAN) == {
        "upstream_kbps": 2240.0, "downstream_kbps": 3340.0, "warnings": ["reservation above 33% of the link"],
        "classes": {"audio": {"upstream_kbps": 600.0, "downstream_kbps": 600.0},
                    "video": {"upstream_kbps": 1400.0, "downstream_kbps": 2500.0}}}
    assert model.plan_record("none") is None


def test_build_report_counts_hosts_controls_verdicts_per_site_and_in_total():
    report = fleet_report()
    assert report["schema"] == model.SCHEMA_NAME and report["schema_version"] == model.SCHEMA_VERSION
    assert report["run"]["mode"] == "audit" and report["controls"] == ["EGR-001", "EGR-002", "EGR-003", "EGR-004"]
    assert [host["name"] for host in report["hosts"]] == ["endpoint-a1", "gw-a", "endpoint-b1"]
    totals = report["totals"]
    assert totals["hosts"] == 3
    assert totals["host_states"] == {"error": 1, "drifted": 1, "changed": 0, "compliant": 1, "ok": 0, "skipped": 0}
    assert totals["control_states"] == {"error": 0, "drifted": 1, "changed": 0, "compliant": 5, "ok": 0, "skipped": 2}
    assert totals["readiness"] == {"PASS": 1, "DEGRADED": 0, "FAIL": 1, "none": 1}
    site_a, site_b = report["sites"]
    assert site_a["name"] == "site-a" and site_a["hosts"] == 2 and site_a["host_states"]["drifted"] == 1
    assert site_b == {"name": "site-b", "hosts": 1, "host_states": dict(totals["host_states"], drifted=0, compliant=0),
                      "control_states": dict.fromkeys(model.STATES, 0),
                      "readiness": {"PASS": 0, "DEGRADED": 0, "FAIL": 0, "none": 1}}


def test_build_report_host_entries():
    hosts = dict((host["name"], host) for host in fleet_report()["hosts"])
    gw = hosts["gw-a"]
    assert gw["state"] == "drifted"
    assert [(c["id"], c["state"]) for c in gw["controls"]] == [
        ("EGR-001", "compliant"), ("EGR-002", "drifted"), ("EGR-003", "skipped"), ("EGR-004", "compliant")]
    assert gw["remediation"] == ["Restore the control: ansible-playbook dlegate.rtc.rollout --limit gw-a --tags EGR-002"]
    assert gw["bandwidth_plan"]["upstream_kbps"] == 2240.0 and gw["readiness"]["verdict"] == "PASS"
    assert hosts["endpoint-a1"]["remediation"] == ["Allow UDP 3478 outbound"]
    unreachable = hosts["endpoint-b1"]
    assert unreachable["state"] == "error" and unreachable["controls"] == []
    assert unreachable["errors"] == [{"task": "Gathering Facts",
                                      "message": "ssh: connect to host endpoint-b1 port 22: timeout"}]


def test_build_report_of_a_host_known_only_by_its_facts_and_of_mixed_runs():
    report = model.build_report(egress_audit("gw") + [model.observation("gw", 1, "EGR-002 | Apply", "ok",
                                                                        {"changed": True}, False)],
                                {"quiet": {"readiness": READINESS_PASS}}, RUN)
    assert report["run"]["mode"] == "mixed"
    quiet = [host for host in report["hosts"] if host["name"] == "quiet"][0]
    assert quiet["state"] == "ok" and quiet["site"] == "unassigned" and quiet["readiness"]["verdict"] == "PASS"
    assert model.build_report([], {}, {})["run"]["mode"] == "none"


def test_hosts_that_ran_no_control_and_published_nothing_are_left_out():
    observations = egress_audit("gw") + [model.observation("localhost", 1, "Summary", "ok", {"changed": False}, False)]
    report = model.build_report(observations, {"gw": {"site": "a"}, "localhost": {"site": "ungrouped"}}, RUN)
    assert [host["name"] for host in report["hosts"]] == ["gw"] and report["totals"]["hosts"] == 1


def test_summary_lists_failing_hosts_and_files():
    summary = model.summary(fleet_report(), {"json": "/r/a.json"})
    assert summary["failing_hosts"] == ["gw-a", "endpoint-b1"] and summary["failing_host_count"] == 2
    assert summary["totals"]["hosts"] == 3 and summary["files"] == {"json": "/r/a.json"} and summary["mode"] == "audit"
