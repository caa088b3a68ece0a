# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness suite: checks really run at once, a crash stays in its check, and the whole suite
against the service on 127.0.0.1 (open, UDP blocked, wrong TURN password)."""

from __future__ import annotations

import json
import threading

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.runner import (
    run_concurrently,
    run_readiness,
    timed,
)
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.readiness.local_service import (
    PASSWORD,
    LocalService,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with LocalService(tmp_path_factory.mktemp("service")) as local:
        yield local


def test_the_checks_run_at_the_same_time():
    # each task waits until all have started: run one after another, the first would wait for ever
    barrier = threading.Barrier(5, timeout=5)
    tasks = dict(("check%d" % index, lambda index=index: (barrier.wait(), index)[1]) for index in range(5))
    outcomes = run_concurrently(tasks)
    assert dict((name, outcome["result"]) for name, outcome in outcomes.items()) == \
        {"check0": 0, "check1": 1, "check2": 2, "check3": 3, "check4": 4}
    assert all(outcome["error"] is None for outcome in outcomes.values())


def test_a_crash_is_the_checks_error_and_the_others_still_report():
    def crash():
        raise RuntimeError("boom")

    outcomes = run_concurrently({"good": lambda: {"passed": True}, "bad": crash})
    assert outcomes["good"]["result"] == {"passed": True}
    assert (outcomes["bad"]["result"], outcomes["bad"]["error"]) == (None, "RuntimeError: boom")


def test_each_check_is_timed_on_the_clock_given():
    ticks = iter([10.0, 10.25])
    assert timed(lambda: "done", clock=lambda: next(ticks)) == {"result": "done", "error": None, "duration_ms": 250.0}


def test_nothing_to_run_is_nothing():
    assert run_concurrently({}) == {}


def test_the_open_service_passes_every_check(service):
    report = run_readiness(service.params())
    assert report["verdict"] == "PASS", report["findings"]
    assert report["findings"] == []
    assert set(report["checks"]) == {"dns", "signaling", "stun", "turn_udp", "turn_tcp", "turn_tls", "ephemeral",
                                     "quality"}
    for name, check in report["checks"].items():
        assert check["passed"] and check["error"] is None and check["duration_ms"] > 0, name
    assert report["checks"]["turn_tls"]["result"]["relay"]["received"] == 10
    assert report["checks"]["ephemeral"]["result"]["answered"] == 4
    assert report["checks"]["quality"]["result"]["received"] == 40
    assert report["checks"]["signaling"]["result"]["websocket"]["echoed"] is True
    assert report["thresholds"] == {"rtt_ms": 100, "jitter_ms": 30, "loss_pct": 1}
    # the suite takes as long as its slowest check, not their sum
    durations = [check["duration_ms"] for check in report["checks"].values()]
    assert report["duration_ms"] < sum(durations)
    assert PASSWORD not in json.dumps(report)


def test_udp_blocked_is_degraded_on_the_tls_fallback(service):
    report = run_readiness(service.params(udp_blocked=True, checks=["dns", "signaling", "stun", "turn_udp",
                                                                    "turn_tls", "ephemeral", "quality"]))
    assert report["verdict"] == "DEGRADED", report["findings"]
    assert [finding["id"] for finding in report["findings"]] == ["udp_blocked", "tls_fallback_only"]
    assert report["checks"]["turn_tls"]["result"]["allocated"] is True
    assert report["checks"]["stun"]["result"]["error"] == "connection_refused"


def test_a_wrong_turn_password_fails_on_the_credentials_alone(service):
    report = run_readiness(service.params(turn={"password": "not-the-password"}))
    assert report["verdict"] == "FAIL"
    assert [finding["id"] for finding in report["findings"]] == ["turn_auth_failed"]
    assert report["findings"][0]["checks"] == ["turn_udp", "turn_tcp", "turn_tls"]
    assert "not-the-password" not in json.dumps(report)


def test_quality_thresholds_come_from_the_parameters(service):
    report = run_readiness(service.params(checks=["quality"], thresholds={"rtt_ms": 0.001}))
    assert report["verdict"] == "DEGRADED"
    assert [finding["id"] for finding in report["findings"]] == ["quality_rtt"]
    assert report["thresholds"]["rtt_ms"] == 0.001


def test_bad_input_fails_before_any_check_runs(service):
    before = len(service.turn.received_raw)
    with pytest.raises(FieldError) as error:
        run_readiness(service.params(quality={"count": 0}))
    assert error.value.field == "quality.count"
    assert len(service.turn.received_raw) == before
