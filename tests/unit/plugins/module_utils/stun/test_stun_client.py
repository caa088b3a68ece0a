# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the STUN/TURN probes against a fake server on 127.0.0.1 (UDP, TCP and TLS).

Network failures and hostile answers must come back as results, within the
deadline; only bad arguments raise FieldError.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.stun import client, codec
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.client import (
    Credentials,
    probe_allocate,
    probe_binding,
    probe_binding_train,
    transmission_schedule,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import ProbeError, Target
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.stun.fake_server import FakeServer
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.stun.tls_certs import SERVER_NAME, make_pki

USERS = {"alice": "correct horse"}
ALICE = Credentials("alice", "correct horse")
SLACK = 0.4  # seconds a probe may overrun its deadline on a busy test machine


def target(server, transport="udp", **tls):
    return Target("127.0.0.1", server.port(transport), transport, **tls)


def timed(probe, *args, **kwargs):
    start = time.monotonic()
    result = probe(*args, **kwargs)
    return result, time.monotonic() - start


def closed_port(kind):
    """A local port nothing listens on (bound, then released)."""
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


# ---------------------------------------------------------------------------
# pure parts
# ---------------------------------------------------------------------------

def test_transmission_schedule_doubles_the_rto_rfc8489():
    assert transmission_schedule(0.0, 0.5, 100.0) == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert transmission_schedule(10.0, 0.5, 11.6) == [10.0, 10.5, 11.5]
    assert transmission_schedule(10.0, 0.5, 10.0) == []


def test_discards_tell_a_hostile_server_from_a_silent_one():
    silent = client.Discards().failure("the Binding request", 1.25)
    assert (silent.code, silent.detail) == ("timeout", "no answer to the Binding request within 1.2 s")
    hostile = client.Discards()
    hostile.add("STUN message truncated")
    hostile.add("wrong magic cookie")
    error = hostile.failure("the Binding request", 1.0)
    assert error.code == "malformed_response"
    assert "2 answer(s) discarded, first: STUN message truncated" in error.detail


def test_credentials_hide_themselves_and_derive_rest_ones():
    assert "correct" not in repr(ALICE) and "alice" not in repr(ALICE)
    rest = Credentials.from_rest_secret("s3cret", "alice", 3600, now=1000)
    assert rest.username == "4600:alice"
    assert (rest.username, rest.password) == codec.rest_credentials("s3cret", "alice", 4600)


@pytest.mark.parametrize("call, field", [
    (lambda: probe_binding(Target("", 3478)), "server"),
    (lambda: probe_binding(Target("a b", 3478)), "server"),
    (lambda: probe_binding(Target("127.0.0.1", 0)), "port"),
    (lambda: probe_binding(Target("127.0.0.1", 70000)), "port"),
    (lambda: probe_binding(Target("127.0.0.1", transport="sctp")), "transport"),
    (lambda: probe_binding(Target("127.0.0.1", transport="tls", ca_path="/nonexistent/ca.pem")), "ca_path"),
    (lambda: probe_binding(Target("127.0.0.1"), timeout=0), "timeout"),
    (lambda: probe_binding_train(Target("127.0.0.1"), 0), "count"),
    (lambda: probe_binding_train(Target("127.0.0.1"), 10001), "count"),
    (lambda: probe_binding_train(Target("127.0.0.1"), 10, interval_ms=0), "interval_ms"),
    (lambda: probe_binding_train(Target("127.0.0.1"), 500, interval_ms=20, timeout=10), "timeout"),
    (lambda: probe_binding_train(Target("127.0.0.1"), 5, wait_ms=-1), "wait_ms"),
    (lambda: probe_allocate(Target("127.0.0.1"), Credentials("", "pw")), "username"),
    (lambda: probe_allocate(Target("127.0.0.1"), Credentials("alice", "")), "password"),
    (lambda: probe_allocate(Target("127.0.0.1"), Credentials("alice", u"bell\u0007")), "password"),
    (lambda: probe_allocate(Target("127.0.0.1"), ALICE, relay_count=5, relay_mode="tcp"), "relay_mode"),
    (lambda: probe_allocate(Target("127.0.0.1"), ALICE, relay_count=-1), "relay_count"),
    (lambda: probe_allocate(Target("127.0.0.1"), ALICE, relay_count=5, relay_interval_ms=0), "relay_interval_ms"),
    (lambda: probe_allocate(Target("127.0.0.1"), ALICE, timeout=5, relay_count=200, relay_interval_ms=20), "timeout"),
])
def test_bad_arguments_raise_field_error_naming_the_field(call, field):
    with pytest.raises(FieldError) as error:
        call()
    assert error.value.field == field
    assert "correct horse" not in str(error.value)


# ---------------------------------------------------------------------------
# Binding
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_binding_returns_the_mapped_address_and_rtt(transport):
    with FakeServer() as server:
        result = probe_binding(target(server, transport), timeout=2)
    assert result["reachable"] is True and result["error"] is None
    assert result["mapped_address"] == "127.0.0.1" and 0 < result["mapped_port"] < 65536
    assert result["server_address"] == "127.0.0.1" and result["transmissions"] == 1
    rtt = result["rtt_ms"]
    assert 0 < rtt["min"] == rtt["avg"] == rtt["max"] == rtt["p95"] < 2000
    assert server.methods() == [codec.BINDING]
    assert (result["findings"], result["passed"]) == ([], True)


def test_binding_over_tls_verifies_the_certificate_against_ca_path(pki):
    ca_path, context = pki
    with FakeServer(tls=context) as server:
        ok = probe_binding(target(server, "tls", server_name=SERVER_NAME, ca_path=ca_path), timeout=3)
        by_address = probe_binding(target(server, "tls", ca_path=ca_path), timeout=3)
        wrong_name = probe_binding(target(server, "tls", server_name="other.test", ca_path=ca_path), timeout=3)
        system_ca = probe_binding(target(server, "tls", server_name=SERVER_NAME), timeout=3)
        unchecked = probe_binding(target(server, "tls", server_name="other.test", validate_certs=False), timeout=3)
    assert ok["reachable"] and ok["mapped_address"] == "127.0.0.1"
    assert by_address["reachable"]
    assert (wrong_name["reachable"], wrong_name["error"]) == (False, "certificate_invalid")
    assert [f["id"] for f in wrong_name["findings"]] == ["stun_tls_untrusted"]
    assert "other.test" in wrong_name["error_detail"]
    assert (system_ca["reachable"], system_ca["error"]) == (False, "certificate_invalid")
    assert unchecked["reachable"] and unchecked["error"] is None


def test_tls_to_a_plain_tcp_server_is_a_handshake_failure():
    with FakeServer() as server:
        result, elapsed = timed(probe_binding, target(server, "tls", validate_certs=False), timeout=1)
    assert result["reachable"] is False
    assert result["error"] in ("tls_handshake_failed", "connection_closed", "timeout")
    assert elapsed < 1 + SLACK


def test_lost_request_is_retransmitted_after_the_rto():
    with FakeServer(drop_first=1) as server:
        result, elapsed = timed(probe_binding, target(server), timeout=3)
    assert result["reachable"] and result["transmissions"] == 2
    assert 0.45 <= elapsed < 1.5
    assert result["rtt_ms"]["max"] < 450  # measured from the retransmission


def test_error_response_to_a_binding_is_reported_with_its_code():
    with FakeServer(binding_error=(400, "Bad Request")) as server:
        result = probe_binding(target(server), timeout=2)
    assert result["reachable"] is True and result["mapped_address"] is None
    assert (result["error"], result["error_code"], result["error_reason"]) == ("binding_failed", 400, "Bad Request")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_silent_server_is_a_timeout_within_the_deadline(transport):
    with FakeServer(hostile="silent") as server:
        result, elapsed = timed(probe_binding, target(server, transport), timeout=0.8)
    assert (result["reachable"], result["error"]) == (False, "timeout")
    assert [f["id"] for f in result["findings"]] == ["stun_%s_blocked" % transport] and not result["passed"]
    assert 0.75 <= elapsed < 0.8 + SLACK


@pytest.mark.parametrize("transport, hostile", [
    ("udp", "garbage"), ("udp", "truncated"), ("udp", "wrong_transaction"),
    ("tcp", "garbage"), ("tcp", "truncated"), ("tcp", "wrong_transaction"), ("tcp", "not_stun_stream"),
])
def test_hostile_answers_are_malformed_response_findings(transport, hostile):
    with FakeServer(hostile=hostile) as server:
        result, elapsed = timed(probe_binding, target(server, transport), timeout=0.8)
    assert (result["reachable"], result["error"]) == (False, "malformed_response"), result
    assert result["mapped_address"] is None
    assert elapsed < 0.8 + SLACK
    if hostile == "wrong_transaction":
        assert "transaction id" in result["error_detail"]


@pytest.mark.parametrize("kind, transport", [(socket.SOCK_STREAM, "tcp"), (socket.SOCK_DGRAM, "udp")])
def test_closed_port_is_connection_refused(kind, transport):
    result, elapsed = timed(probe_binding, Target("127.0.0.1", closed_port(kind), transport), timeout=2)
    assert (result["reachable"], result["error"]) == (False, "connection_refused")
    assert elapsed < 1


def test_unresolvable_server_is_resolve_failed(monkeypatch):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    result = probe_binding(Target("stun.example.invalid"), timeout=1)
    assert (result["reachable"], result["error"], result["server_address"]) == (False, "resolve_failed", None)


# ---------------------------------------------------------------------------
# quality train
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_train_measures_every_answer(transport):
    with FakeServer() as server:
        result, elapsed = timed(probe_binding_train, target(server, transport), 25, interval_ms=5, timeout=3)
    assert (result["sent"], result["received"], result["loss_pct"]) == (25, 25, 0.0)
    assert result["reachable"] and result["mapped_address"] == "127.0.0.1"
    rtt = result["rtt_ms"]
    assert 0 <= rtt["min"] <= rtt["avg"] <= rtt["max"] and rtt["min"] <= rtt["p95"] <= rtt["max"]
    assert result["jitter_ms"] >= 0
    assert elapsed < 1.5  # stops as soon as every answer is in, without waiting wait_ms
    assert server.methods() == [codec.BINDING] * 25


def test_train_counts_unanswered_requests_as_lost():
    with FakeServer(drop_first=5) as server:
        result = probe_binding_train(target(server), 20, interval_ms=5, timeout=3, wait_ms=300)
    assert (result["sent"], result["received"], result["loss_pct"]) == (20, 15, 25.0)
    assert result["reachable"] and result["error"] is None


def test_train_to_a_silent_server_loses_everything_within_the_deadline():
    with FakeServer(hostile="silent") as server:
        result, elapsed = timed(probe_binding_train, target(server), 10, interval_ms=10, timeout=1, wait_ms=5000)
    assert (result["sent"], result["received"], result["loss_pct"]) == (10, 0, 100.0)
    assert (result["reachable"], result["error"]) == (False, "timeout")
    assert result["rtt_ms"]["avg"] is None and result["jitter_ms"] is None
    assert elapsed < 1 + SLACK


def test_train_with_garbage_answers_is_malformed():
    with FakeServer(hostile="garbage") as server:
        result = probe_binding_train(target(server), 5, interval_ms=10, timeout=1, wait_ms=100)
    assert (result["received"], result["error"]) == (0, "malformed_response")


# ---------------------------------------------------------------------------
# TURN
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_allocate_answers_the_challenge_and_frees_the_allocation(transport):
    with FakeServer(users=USERS) as server:
        result = probe_allocate(target(server, transport), ALICE, timeout=3)
        allocations = list(server.allocations.values())
    assert result["allocated"] and result["reachable"] and result["error"] is None
    assert (result["relayed_address"], result["relayed_port"], result["lifetime"]) == ("127.0.0.1", 50000, 600)
    assert result["mapped_address"] == "127.0.0.1" and result["realm"] == "lab.test"
    assert result["freed"] is True and allocations[0]["freed"] is True
    assert server.methods() == [codec.ALLOCATE, codec.ALLOCATE, codec.REFRESH]
    assert result["relay"] is None


def test_allocate_over_tls(pki):
    ca_path, context = pki
    with FakeServer(users=USERS, tls=context) as server:
        result = probe_allocate(target(server, "tls", server_name=SERVER_NAME, ca_path=ca_path), ALICE,
                                timeout=3, relay_count=10, relay_interval_ms=5, relay_mode="channel")
    assert result["allocated"] and result["freed"]
    assert (result["relay"]["sent"], result["relay"]["received"]) == (10, 10)


def test_stale_nonce_is_retried_with_the_new_nonce():
    with FakeServer(users=USERS, stale_nonce_once=True) as server:
        result = probe_allocate(target(server), ALICE, timeout=3)
    assert result["allocated"] and result["freed"]
    assert server.methods() == [codec.ALLOCATE] * 3 + [codec.REFRESH]


@pytest.mark.parametrize("reject_code, reason", [(441, "Wrong Credentials"), (401, "Unauthorized")])
def test_wrong_credentials_are_reported_with_the_servers_code(reject_code, reason):
    wrong = Credentials("alice", "wrong horse")
    with FakeServer(users=USERS, reject_code=reject_code) as server:
        result = probe_allocate(target(server), wrong, timeout=3)
    assert result["allocated"] is False and result["reachable"] is True and result["freed"] is False
    error = (result["error"], result["error_code"], result["error_reason"])
    assert error == ("allocate_failed", reject_code, reason)
    assert [f["id"] for f in result["findings"]] == ["turn_auth_failed"]
    assert server.methods() == [codec.ALLOCATE, codec.ALLOCATE]


def test_credentials_never_appear_in_the_result():
    secret_user = "user-7f3a9c"
    with FakeServer(users={secret_user: "pw-0d1e2f3a"}) as server:
        good = probe_allocate(target(server), Credentials(secret_user, "pw-0d1e2f3a"), timeout=3)
        bad = probe_allocate(target(server), Credentials(secret_user, "pw-wrong-99"), timeout=3)
    assert good["allocated"] and bad["error_code"] == 401
    for result in (good, bad):
        text = json.dumps(result)
        assert secret_user not in text and "pw-0d1e2f3a" not in text and "pw-wrong-99" not in text


def test_rest_credentials_allocate():
    rest = Credentials.from_rest_secret("shared-secret", "probe", 600)
    with FakeServer(users={rest.username: rest.password}) as server:
        result = probe_allocate(target(server), rest, timeout=3)
    assert result["allocated"] and result["freed"]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("mode", ["send", "channel"])
def test_relay_train_goes_through_the_relay_and_back(transport, mode):
    with FakeServer(users=USERS) as server:
        result = probe_allocate(target(server, transport), ALICE, timeout=3, relay_count=20, relay_interval_ms=5,
                                relay_mode=mode)
        requests = server.methods()
        indications = server.methods(codec.INDICATION)
    relay = result["relay"]
    assert relay["mode"] == mode and relay["error"] is None
    assert (relay["peer_address"], relay["peer_port"]) == ("127.0.0.1", 50000)
    assert (relay["sent"], relay["received"], relay["loss_pct"]) == (20, 20, 0.0)
    assert relay["rtt_ms"]["p95"] is not None and relay["jitter_ms"] >= 0
    expected = [codec.ALLOCATE, codec.ALLOCATE, codec.CREATE_PERMISSION]
    expected += [codec.CHANNEL_BIND] if mode == "channel" else []
    assert requests == expected + [codec.REFRESH]
    assert indications == ([codec.SEND] * 20 if mode == "send" else [])
    assert result["freed"]


def test_relay_losses_are_counted():
    with FakeServer(users=USERS, relay_drop_every=4) as server:
        result = probe_allocate(target(server), ALICE, timeout=3, relay_count=20, relay_interval_ms=5, wait_ms=300)
    assert (result["relay"]["received"], result["relay"]["loss_pct"]) == (15, 25.0)


def test_refused_permission_is_a_relay_finding_and_the_allocation_is_still_freed():
    with FakeServer(users=USERS, forbid_peer=True) as server:
        result = probe_allocate(target(server), ALICE, timeout=3, relay_count=10, relay_interval_ms=5)
    assert result["allocated"] and result["freed"] and result["error"] is None
    relay = result["relay"]
    assert (relay["error"], relay["error_code"], relay["error_reason"]) == ("relay_setup_failed", 403, "Forbidden")
    assert [f["id"] for f in result["findings"]] == ["turn_relay_failed"]
    assert relay["sent"] == 0


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_silent_turn_server_is_a_timeout_within_the_deadline(transport):
    with FakeServer(hostile="silent") as server:
        result, elapsed = timed(probe_allocate, target(server, transport), ALICE, timeout=1.5)
    assert (result["reachable"], result["allocated"], result["error"]) == (False, False, "timeout")
    assert elapsed < 1.5 + SLACK


@pytest.mark.parametrize("hostile", ["garbage", "truncated", "wrong_transaction", "bad_integrity"])
def test_hostile_turn_answers_are_malformed_response(hostile):
    with FakeServer(users=USERS, hostile=hostile) as server:
        result, elapsed = timed(probe_allocate, target(server), ALICE, timeout=1.5)
    assert (result["allocated"], result["error"]) == (False, "malformed_response"), result
    assert elapsed < 1.5 + SLACK


# ---------------------------------------------------------------------------
# fuzzing: whatever the server sends, the probe returns a result within its deadline
# ---------------------------------------------------------------------------

class ScriptedTransport(object):
    """An in-memory stream transport whose server answers each request through ``mutate``."""

    stream = True
    channel_data = False
    partial_frame = False
    server_address = "192.0.2.1"

    def __init__(self, mutate):
        self.mutate = mutate
        self.queue = []
        self.logic = FakeServer(users=USERS)
        self.logic.udp.close()
        self.logic.tcp.close()

    def send(self, frame, deadline):
        answers = self.logic.answer(frame, ("192.0.2.9", 40000), stream=True)
        self.queue.extend(self.mutate(answer) for answer in answers)

    def receive(self, until):
        """The next answer; with none left the server hangs up (a silent one is tested above)."""
        if self.queue:
            return self.queue.pop(0)
        raise ProbeError("connection_closed", "the server closed the connection")

    def close(self):
        pass


def mutation(data):
    changes = data.draw(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=3))
    cut = data.draw(st.integers(0, 200))

    def mutate(frame):
        damaged = bytearray(frame)
        for index, value in changes:
            if index < len(damaged):
                damaged[index] = value
        return bytes(damaged[:max(cut, 1)])
    return mutate


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_turn_answers_give_a_result_within_the_deadline(monkeypatch_module, data):
    transport = ScriptedTransport(mutation(data))
    monkeypatch_module.setattr(client, "open_transport", lambda target, deadline: transport)
    result, elapsed = timed(probe_allocate, Target("192.0.2.1"), ALICE, timeout=1.2, relay_count=3,
                            relay_interval_ms=5, wait_ms=20)
    json.dumps(result)
    assert elapsed < 1.2 + SLACK
    assert result["error"] in (None, "allocate_failed", "malformed_response", "connection_closed")
    assert result["allocated"] == (result["relayed_address"] is not None)


@pytest.fixture(scope="module")
def monkeypatch_module():
    patcher = pytest.MonkeyPatch()
    yield patcher
    patcher.undo()
