# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the STUN/TURN findings: each failure of a probe result maps to one stable id."""

from __future__ import annotations

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.stun import findings


def result(error=None, transport="udp", **fields):
    base = {"server": "turn.example.com", "server_address": "192.0.2.20", "port": 3478, "transport": transport,
            "reachable": error is None, "error": error, "error_detail": "detail of %s" % error,
            "error_code": None, "error_reason": None}
    base.update(fields)
    return base


def turn_result(error=None, allocated=True, freed=True, relay=None, **fields):
    return result(error, allocated=allocated, freed=freed, relay=relay, **fields)


def ids(found):
    return [finding["id"] for finding in found]


@pytest.mark.parametrize("error, transport, expected", [
    (None, "udp", []),
    ("timeout", "udp", ["stun_udp_blocked"]),
    ("connection_refused", "udp", ["stun_udp_blocked"]),
    ("unreachable", "tcp", ["stun_tcp_blocked"]),
    ("connection_closed", "tls", ["stun_tls_blocked"]),
    ("network_error", "udp", ["stun_udp_blocked"]),
    ("resolve_failed", "udp", ["stun_unresolved"]),
    ("certificate_invalid", "tls", ["stun_tls_untrusted"]),
    ("tls_handshake_failed", "tls", ["stun_tls_failed"]),
    ("malformed_response", "tcp", ["stun_malformed"]),
])
def test_binding_failures_map_to_one_finding(error, transport, expected):
    found = findings.binding_findings(result(error, transport))
    assert ids(found) == expected
    for finding in found:
        assert finding["severity"] == "error" and finding["transport"] == transport
        assert "192.0.2.20:3478 (turn.example.com)" in finding["evidence"]
        assert "detail of %s" % error in finding["evidence"]


def test_an_error_response_to_a_binding_names_the_code():
    found = findings.binding_findings(result("binding_failed", error_code=400, error_reason="Bad Request"))
    assert ids(found) == ["stun_error_response"] and found[0]["error_code"] == 400
    assert "answered 400 Bad Request" in found[0]["evidence"]


@pytest.mark.parametrize("code, expected", [(401, "turn_auth_failed"), (441, "turn_auth_failed"),
                                            (486, "turn_quota"), (508, "turn_quota"), (403, "turn_refused")])
def test_refused_allocations_map_by_code(code, expected):
    found = findings.allocate_findings(turn_result("allocate_failed", allocated=False, freed=False,
                                                   error_code=code, error_reason="Why"))
    assert ids(found) == [expected] and found[0]["error_code"] == code


def test_turn_reach_failures_use_turn_ids():
    found = findings.allocate_findings(turn_result("timeout", allocated=False, freed=False, transport="tls"))
    assert ids(found) == ["turn_tls_blocked"]


def relay(**fields):
    base = {"sent": 10, "received": 10, "peer_address": "192.0.2.20", "peer_port": 50000, "error": None,
            "error_detail": None}
    base.update(fields)
    return base


@pytest.mark.parametrize("relay_result, expected", [
    (None, []),
    (relay(), []),
    (relay(received=3), []),  # partial loss is a quality number, judged elsewhere
    (relay(received=0), ["turn_relay_failed"]),
    (relay(sent=0, received=0, error="relay_setup_failed", error_detail="CreatePermission was answered 403"),
     ["turn_relay_failed"]),
])
def test_relay_failures(relay_result, expected):
    found = findings.allocate_findings(turn_result(relay=relay_result))
    assert ids(found) == expected
    if expected:
        assert ("none came back" in found[0]["evidence"]) != bool(relay_result["error"])


def test_an_allocation_not_freed_is_a_warning_that_still_passes():
    found = findings.allocate_findings(turn_result(freed=False))
    assert ids(found) == ["turn_not_freed"] and found[0]["severity"] == "warning"
    assert findings.with_findings({}, found)["passed"] is True


def test_with_findings_fails_on_errors():
    found = findings.binding_findings(result("timeout"))
    assert findings.with_findings({"x": 1}, found) == {"x": 1, "findings": found, "passed": False}
    assert findings.with_findings({}, [])["passed"] is True


def test_every_catalog_entry_has_summary_and_remediation():
    for finding_id, (summary, remediation) in findings.CATALOG.items():
        assert finding_id.startswith(("stun_", "turn_")) and summary and len(remediation) > 40
