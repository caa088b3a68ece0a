# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readiness verdict, a pure function: every rule on its own, and every combination of the media checks.

The check results are built the way the probes build them, and their findings
come from the probes' own finding functions, so the verdict is tested on the
ids and shapes it really receives.
"""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils import dns_probe
from ansible_collections.dlegate.rtc.plugins.module_utils.common.findings import make_finding, passed
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness import ephemeral
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.verdict import (
    DEGRADED,
    FAIL,
    PASS,
    judge,
    merge_findings,
    normalize_thresholds,
    verdict_of,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.signaling import probe as signaling
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.findings import (
    allocate_findings,
    binding_findings,
    with_findings,
)

SIGNAL = "signal.example.com"
TURN = "turn.example.com"
MEDIA = "media.example.com"
ADDRESS = "203.0.113.20"
THRESHOLDS = {"rtt_ms": 100, "jitter_ms": 30, "loss_pct": 1}
NETWORK_IDS = {"udp_blocked", "tls_fallback_only", "ephemeral_udp_blocked", "tcp443_blocked", "stun_udp_blocked",
               "turn_udp_blocked", "turn_tcp_blocked", "turn_tls_blocked", "quality_loss", "quality_jitter",
               "quality_rtt"}


# ---------------------------------------------------------------------------
# check results, as the probes return them
# ---------------------------------------------------------------------------

def check(kind, targets, result, error=None):
    return {"kind": kind, "targets": targets, "result": result, "error": error, "duration_ms": 1.0}


def stun_result(state, server=TURN):
    result = {"server": server, "port": 3478, "transport": "udp", "server_address": ADDRESS,
              "reachable": state == "ok", "error": None, "error_detail": None, "error_code": None,
              "error_reason": None, "mapped_address": "198.51.100.7" if state == "ok" else None}
    if state == "blocked":
        result.update(error="timeout", error_detail="no answer to the Binding request within 5.0 s")
    elif state == "unresolved":
        result.update(server_address=None, error="resolve_failed", error_detail="cannot resolve %s" % server)
    return with_findings(result, binding_findings(result))


def relay(received, sent=50):
    return {"mode": "send", "sent": sent, "received": received, "loss_pct": 100.0 * (sent - received) / sent,
            "error": None, "error_detail": None, "error_code": None, "error_reason": None,
            "peer_address": ADDRESS, "peer_port": 50321}


def turn_result(transport, state, server=TURN):
    port = 443 if transport == "tls" else 3478
    allocated = state in ("ok", "relay_lost")
    result = {"server": server, "port": port, "transport": transport, "server_address": ADDRESS,
              "reachable": state != "blocked", "allocated": allocated, "freed": allocated,
              "relayed_address": ADDRESS if allocated else None, "relayed_port": 50321 if allocated else None,
              "relay": relay(0 if state == "relay_lost" else 50) if allocated else None,
              "error": None, "error_detail": None, "error_code": None, "error_reason": None}
    if state == "blocked":
        result.update(error="timeout", error_detail="no answer to the Allocate request within 10.0 s")
    elif state == "auth":
        result.update(error="allocate_failed", error_code=401, error_reason="Unauthorized",
                      error_detail="the Allocate request was answered 401 Unauthorized")
    elif state == "unfreed":
        result.update(allocated=True, relayed_address=ADDRESS, relayed_port=50321, relay=relay(50))
    return with_findings(result, allocate_findings(result))


def ephemeral_result(state, server=MEDIA):
    ports = [50000, 50049, 50099]
    answered = {"all": ports, "partial": ports[:1], "none": []}[state]
    report = {"server": server, "address": ADDRESS, "answered": answered,
              "silent": [port for port in ports if port not in answered], "refused": [],
              "rtt_ms": None, "error": None, "error_detail": None}
    findings = ephemeral.server_findings(report, [49152, 65535])
    return {"port_range": "49152-65535", "sampled_ports": ports, "servers": [report], "sampled": 3,
            "answered": len(answered), "findings": findings, "passed": passed(findings)}


def quality_result(state, server=TURN):
    measured = {"good": (0.0, 1.2, 12.0), "lossy": (5.2, 1.5, 12.0), "jittery": (0.0, 31.0, 20.0),
                "slow": (0.0, 2.0, 140.0), "bad": (7.0, 45.0, 220.0), "blocked": (100.0, None, None)}[state]
    received = 0 if state == "blocked" else 1000 - int(measured[0] * 10)
    result = {"server": server, "port": 3478, "transport": "udp", "server_address": ADDRESS,
              "reachable": received > 0, "error": None, "error_detail": None, "error_code": None,
              "error_reason": None, "sent": 1000, "received": received, "loss_pct": measured[0],
              "jitter_ms": measured[1], "rtt_ms": {"min": None, "avg": measured[2], "max": None, "p95": None}}
    if state == "blocked":
        result.update(error="timeout", error_detail="no answer to 1000 Binding requests within 25.0 s")
    return with_findings(result, binding_findings(result))


def dns_result(states):
    """``states`` maps a name to ok, nxdomain, sinkhole or partly_sinkhole."""
    answers, findings = {}, []
    for name, state in states.items():
        answer = {"addresses": [ADDRESS], "cname_chain": [], "latency_ms": 1.0, "error": None, "error_text": None,
                  "queries": {}, "usable": [ADDRESS], "rejected": []}
        if state == "nxdomain":
            answer.update(addresses=[], usable=[], error="nxdomain", error_text="A: NXDOMAIN; AAAA: NXDOMAIN")
        elif state == "sinkhole":
            answer.update(addresses=["0.0.0.0"], usable=[], rejected=[{"address": "0.0.0.0", "reason": "unspecified"}])
        elif state == "partly_sinkhole":
            answer.update(addresses=[ADDRESS, "0.0.0.0"],
                          rejected=[{"address": "0.0.0.0", "reason": "unspecified"}])
        answers[name] = answer
        findings.extend(dns_probe.name_findings("system", name, answer))
    return {"results": {"system": answers}, "findings": findings, "passed": passed(findings)}


def signaling_result(finding_id=None, host=SIGNAL):
    findings = [make_finding(signaling.CATALOG, finding_id, "error", "%s: evidence" % host)] if finding_id else []
    return {"host": host, "port": 443, "findings": findings, "passed": not findings}


def media_checks(stun="ok", turn_udp="ok", turn_tls="ok", ephemeral_state="all", quality="good", turn_tcp=None):
    """The media checks in a state each; None leaves a check out."""
    checks = {}
    if stun:
        checks["stun"] = check("stun", [TURN], stun_result(stun))
    for name, state in (("turn_udp", turn_udp), ("turn_tcp", turn_tcp), ("turn_tls", turn_tls)):
        if state:
            checks[name] = check("turn", [TURN], turn_result(name[len("turn_"):], state))
    if ephemeral_state:
        checks["ephemeral"] = check("ephemeral", [MEDIA], ephemeral_result(ephemeral_state))
    if quality:
        checks["quality"] = check("quality", [TURN], quality_result(quality))
    return checks


def full_checks(dns=None, signaling_finding=None, **media):
    checks = {"dns": check("dns", [SIGNAL, TURN, MEDIA],
                           dns_result(dict({SIGNAL: "ok", TURN: "ok", MEDIA: "ok"}, **(dns or {}))))}
    checks["signaling"] = check("signaling", [SIGNAL], signaling_result(signaling_finding))
    checks.update(media_checks(**media))
    return checks


def ids(judged):
    return [finding["id"] for finding in judged["findings"]]


def finding(judged, finding_id):
    return next(item for item in judged["findings"] if item["id"] == finding_id)


# ---------------------------------------------------------------------------
# the lab's verdict matrix, one rule each
# ---------------------------------------------------------------------------

def test_everything_open_is_pass_without_findings():
    assert judge(full_checks(), THRESHOLDS) == {"verdict": PASS, "findings": []}


def test_udp_blocked_with_turn_over_tls_working_is_degraded():
    judged = judge(full_checks(stun="blocked", turn_udp="blocked", ephemeral_state="none", quality="blocked"),
                   THRESHOLDS)
    assert judged["verdict"] == DEGRADED
    assert ids(judged) == ["udp_blocked", "tls_fallback_only"]
    blocked = finding(judged, "udp_blocked")
    assert blocked["severity"] == "warning" and blocked["checks"] == ["stun", "turn_udp", "ephemeral", "quality"]
    assert "no answer to the Binding request" in blocked["evidence"] and "0 of 3 sampled" in blocked["evidence"]
    fallback = finding(judged, "tls_fallback_only")
    assert fallback["checks"] == ["turn_tls"]
    assert fallback["evidence"] == ("TURN over TLS to turn.example.com:443 allocated the relay 203.0.113.20:50321 "
                                    "and relayed 50 of 50 media packets")
    assert "encrypted transport over TCP (TLS) should be permitted" in fallback["remediation"]


def test_udp_and_the_tls_fallback_blocked_is_fail():
    judged = judge(full_checks(stun="blocked", turn_udp="blocked", turn_tls="blocked", ephemeral_state="none",
                               quality="blocked"), THRESHOLDS)
    assert judged["verdict"] == FAIL
    assert ids(judged) == ["udp_blocked", "turn_tls_blocked"]
    assert all(item["severity"] == "error" for item in judged["findings"])


def test_udp_blocked_without_a_fallback_checked_says_so():
    judged = judge(media_checks(stun="blocked", turn_udp="blocked", turn_tls=None, ephemeral_state=None,
                                quality=None), THRESHOLDS)
    assert judged["verdict"] == FAIL and ids(judged) == ["udp_blocked"]
    assert judged["findings"][0]["evidence"].endswith("no TURN fallback over TCP or TLS was checked")


def test_a_fallback_that_allocates_but_relays_nothing_does_not_count():
    judged = judge(media_checks(stun="blocked", turn_udp="blocked", turn_tls="relay_lost", ephemeral_state="none",
                                quality=None), THRESHOLDS)
    assert judged["verdict"] == FAIL and ids(judged) == ["udp_blocked", "turn_relay_failed"]


def test_turn_over_tcp_is_a_fallback_too():
    judged = judge(media_checks(stun="blocked", turn_udp="blocked", turn_tls="blocked", turn_tcp="ok",
                                ephemeral_state="none", quality="blocked"), THRESHOLDS)
    assert judged["verdict"] == FAIL  # the TLS fallback the service asks for is still blocked
    assert ids(judged) == ["turn_tls_blocked", "udp_blocked", "tls_fallback_only"]
    assert finding(judged, "udp_blocked")["severity"] == "warning"
    judged = judge(media_checks(stun="blocked", turn_udp="blocked", turn_tls=None, turn_tcp="ok",
                                ephemeral_state="none", quality=None), THRESHOLDS)
    assert judged["verdict"] == DEGRADED and finding(judged, "tls_fallback_only")["checks"] == ["turn_tcp"]


@pytest.mark.parametrize("state, finding_id", [("nxdomain", "dns_nxdomain"), ("sinkhole", "dns_sinkhole")])
def test_a_signalling_name_that_does_not_resolve_is_fail_with_the_dns_finding_alone(state, finding_id):
    judged = judge(full_checks(dns={SIGNAL: state}, signaling_finding="tcp443_blocked"), THRESHOLDS)
    assert judged["verdict"] == FAIL
    assert ids(judged) == [finding_id]
    assert finding(judged, finding_id)["evidence"].startswith("signal.example.com: system resolver")
    assert finding(judged, finding_id)["checks"] == ["dns"]


def test_a_turn_name_that_does_not_resolve_explains_every_media_check():
    checks = full_checks(dns={TURN: "nxdomain"}, stun="unresolved", turn_udp="blocked", turn_tls="blocked",
                         quality="blocked")
    judged = judge(checks, THRESHOLDS)
    assert judged["verdict"] == FAIL and ids(judged) == ["dns_nxdomain"]


def test_a_wrong_turn_password_is_fail_with_one_auth_finding_and_no_network_finding():
    judged = judge(full_checks(turn_udp="auth", turn_tls="auth"), THRESHOLDS)
    assert judged["verdict"] == FAIL
    assert ids(judged) == ["turn_auth_failed"]
    auth = judged["findings"][0]
    assert auth["checks"] == ["turn_udp", "turn_tls"]
    assert "udp 203.0.113.20:3478" in auth["evidence"] and "tls 203.0.113.20:443" in auth["evidence"]
    assert auth["error_code"] == 401 and "transport" not in auth  # the context both share, not the one they differ in


def test_the_ephemeral_range_blocked_while_3478_answers_is_degraded():
    judged = judge(full_checks(ephemeral_state="none"), THRESHOLDS)
    assert judged["verdict"] == DEGRADED and ids(judged) == ["ephemeral_udp_blocked"]
    blocked = judged["findings"][0]
    assert blocked["severity"] == "warning" and blocked["server"] == MEDIA and blocked["answered"] == 0


def test_the_ephemeral_range_blocked_without_a_3478_check_is_fail():
    judged = judge(media_checks(stun=None, turn_udp=None, turn_tls=None, ephemeral_state="none", quality=None),
                   THRESHOLDS)
    assert judged["verdict"] == FAIL and ids(judged) == ["ephemeral_udp_blocked"]


def test_3478_blocked_while_the_range_answers_is_not_udp_blocked():
    judged = judge(full_checks(stun="blocked", turn_udp="blocked", quality="blocked"), THRESHOLDS)
    assert judged["verdict"] == FAIL
    assert ids(judged) == ["stun_udp_blocked", "turn_udp_blocked"]


def test_five_percent_loss_is_degraded_with_the_measured_loss():
    judged = judge(full_checks(quality="lossy"), THRESHOLDS)
    assert judged["verdict"] == DEGRADED and ids(judged) == ["quality_loss"]
    loss = judged["findings"][0]
    assert (loss["value"], loss["threshold"], loss["checks"]) == (5.2, 1, ["quality"])
    assert loss["evidence"] == ("loss 5.2% over 1000 STUN Binding requests to turn.example.com:3478 over UDP, "
                                "948 answered; the threshold is below 1%")
    assert "minimal packet loss" in loss["remediation"]


@pytest.mark.parametrize("state, expected", [
    ("jittery", ["quality_jitter"]), ("slow", ["quality_rtt"]),
    ("bad", ["quality_loss", "quality_jitter", "quality_rtt"]),
])
def test_each_quality_threshold(state, expected):
    judged = judge(full_checks(quality=state), THRESHOLDS)
    assert judged["verdict"] == DEGRADED and ids(judged) == expected


def test_thresholds_are_configurable_and_a_value_at_the_threshold_fails_it():
    assert ids(judge(full_checks(quality="lossy"), dict(THRESHOLDS, loss_pct=10))) == []
    assert ids(judge(full_checks(quality="lossy"), dict(THRESHOLDS, loss_pct=5.2))) == ["quality_loss"]
    assert ids(judge(full_checks(quality="good"), dict(THRESHOLDS, rtt_ms=12))) == ["quality_rtt"]


def test_quality_is_not_judged_on_a_train_that_measured_nothing():
    judged = judge(media_checks(stun=None, turn_udp=None, turn_tls=None, ephemeral_state=None, quality="blocked"),
                   THRESHOLDS)
    assert ids(judged) == ["stun_udp_blocked"] and judged["verdict"] == FAIL


@pytest.mark.parametrize("finding_id", ["tcp443_blocked", "tls_inspected", "tls_failed", "wss_failed",
                                        "proxy_refused"])
def test_any_signalling_failure_is_fail(finding_id):
    judged = judge(full_checks(signaling_finding=finding_id), THRESHOLDS)
    assert judged["verdict"] == FAIL and ids(judged) == [finding_id]


def test_a_partly_sinkholed_name_degrades():
    judged = judge(full_checks(dns={MEDIA: "partly_sinkhole"}), THRESHOLDS)
    assert judged["verdict"] == DEGRADED and ids(judged) == ["dns_sinkhole"]


def test_an_allocation_that_was_not_freed_is_only_noted():
    judged = judge(media_checks(turn_udp="unfreed"), THRESHOLDS)
    assert judged["verdict"] == PASS and ids(judged) == ["turn_not_freed"]
    assert judged["findings"][0]["severity"] == "info"


def test_a_crashed_check_is_fail_and_the_others_are_still_judged():
    checks = full_checks(quality="lossy")
    checks["ephemeral"] = check("ephemeral", [MEDIA], None, error="RuntimeError: boom")
    judged = judge(checks, THRESHOLDS)
    assert judged["verdict"] == FAIL and ids(judged) == ["check_error", "quality_loss"]
    assert judged["findings"][0]["evidence"] == "ephemeral: RuntimeError: boom"


def test_a_dns_check_without_resolver_explains_nothing():
    checks = full_checks()
    checks["dns"]["result"] = {"results": {"system": {}}, "passed": False,
                               "findings": [make_finding(dns_probe.CATALOG, "dns_no_resolver", "error",
                                                         "dnspython is not installed", resolver="system")]}
    judged = judge(checks, THRESHOLDS)
    assert judged["verdict"] == FAIL and ids(judged) == ["dns_no_resolver"]


def test_without_the_hosts_resolver_a_name_no_resolver_answered_explains_its_checks():
    checks = full_checks(signaling_finding="tcp443_blocked")
    answers = checks["dns"]["result"]["results"].pop("system")
    bad = dns_result({SIGNAL: "nxdomain"})["results"]["system"][SIGNAL]
    checks["dns"]["result"]["results"] = {"192.0.2.53": dict(answers, **{SIGNAL: bad}),
                                          "192.0.2.54": dict(answers, **{SIGNAL: bad})}
    checks["dns"]["result"]["findings"] = []
    assert ids(judge(checks, THRESHOLDS)) == []
    checks["dns"]["result"]["results"]["192.0.2.54"] = answers  # one resolver answers: the failure stands
    assert ids(judge(checks, THRESHOLDS)) == ["tcp443_blocked"]


# ---------------------------------------------------------------------------
# every combination of the media checks
# ---------------------------------------------------------------------------

STATES = {
    "stun": ("ok", "blocked", None),
    "turn_udp": ("ok", "blocked", "auth", None),
    "turn_tls": ("ok", "blocked", "auth", "relay_lost", None),
    "ephemeral_state": ("all", "partial", "none", None),
    "quality": ("good", "lossy", "blocked", None),
}


def expected_verdict(stun, turn_udp, turn_tls, ephemeral_state, quality):
    """The verdict rules, stated once more in the words of the requirements."""
    primary = [state for state in (stun, turn_udp) if state]
    udp_blocked = bool(primary) and all(state == "blocked" for state in primary) \
        and ephemeral_state not in ("all", "partial")
    if "auth" in (turn_udp, turn_tls):
        return FAIL                                            # credentials refused: no relay at all
    if udp_blocked:
        return DEGRADED if turn_tls == "ok" else FAIL          # works only on the TLS fallback, or not at all
    if "blocked" in (stun, turn_udp, turn_tls, quality) or turn_tls == "relay_lost":
        return FAIL                                            # a path the service needs is closed
    if ephemeral_state == "none" and not primary:
        return FAIL                                            # no media path known to work
    if ephemeral_state in ("none", "partial") or quality == "lossy":
        return DEGRADED                                        # relayed through 3478, or poor quality
    return PASS


COMBINATIONS = [dict(zip(STATES, states)) for states in itertools.product(*STATES.values())]


@pytest.mark.parametrize("states", COMBINATIONS, ids=lambda states: "-".join(str(v) for v in states.values()))
def test_every_combination(states):
    judged = judge(full_checks(**states), THRESHOLDS)
    found = ids(judged)
    assert judged["verdict"] == expected_verdict(**states), judged["findings"]
    assert len(found) == len(set(found))
    assert judged["verdict"] == verdict_of(judged["findings"])
    if "auth" in (states["turn_udp"], states["turn_tls"]):
        assert "turn_auth_failed" in found
    if "udp_blocked" in found:
        assert not {"stun_udp_blocked", "turn_udp_blocked", "ephemeral_udp_blocked", "quality_loss"} & set(found)
        assert ("tls_fallback_only" in found) == (states["turn_tls"] == "ok")
    else:
        assert "tls_fallback_only" not in found


@pytest.mark.parametrize("turn_udp, turn_tls", [("auth", "auth"), ("auth", "ok"), ("ok", "auth")])
def test_refused_credentials_never_raise_a_network_finding(turn_udp, turn_tls):
    found = set(ids(judge(full_checks(turn_udp=turn_udp, turn_tls=turn_tls), THRESHOLDS)))
    assert found == {"turn_auth_failed"} and not found & NETWORK_IDS


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def test_merging_keeps_one_finding_per_id_worst_first_and_the_shared_context():
    first = dict(make_finding(ephemeral.CATALOG, "ephemeral_udp_blocked", "warning", "a", server="m1", sampled=3),
                 checks=["ephemeral"])
    second = dict(first, evidence="b", server="m2", severity="error")
    other = dict(make_finding(dns_probe.CATALOG, "dns_timeout", "warning", "t", name="n", resolver="system"),
                 checks=["dns"])
    merged = merge_findings([other, first, dict(first), second])
    assert [item["id"] for item in merged] == ["ephemeral_udp_blocked", "dns_timeout"]
    blocked = merged[0]
    assert (blocked["severity"], blocked["evidence"], blocked["sampled"]) == ("error", "a; b", 3)
    assert "server" not in blocked and blocked["checks"] == ["ephemeral"]
    assert merged[1]["evidence"] == "n: t" and merged[1]["name"] == "n"


@pytest.mark.parametrize("findings, verdict", [
    ([], PASS), ([{"severity": "info"}], PASS), ([{"severity": "warning"}, {"severity": "info"}], DEGRADED),
    ([{"severity": "warning"}, {"severity": "error"}], FAIL),
])
def test_the_worst_severity_decides(findings, verdict):
    assert verdict_of(findings) == verdict


def test_thresholds_are_numbers_above_zero():
    assert normalize_thresholds({"rtt_ms": "150", "jitter_ms": 15.5, "loss_pct": 0.1}) == \
        {"rtt_ms": 150, "jitter_ms": 15.5, "loss_pct": 0.1}
    for key, value in (("rtt_ms", 0), ("jitter_ms", -1), ("loss_pct", 101), ("loss_pct", True), ("rtt_ms", "fast")):
        with pytest.raises(FieldError) as error:
            normalize_thresholds(dict({"rtt_ms": 100, "jitter_ms": 30, "loss_pct": 1}, **{key: value}))
        assert error.value.field == "thresholds." + key
