# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ephemeral-range check: port sampling, arguments by field, and the echo probe against UDP servers
on 127.0.0.1 that echo, stay silent, lose a first datagram, answer garbage or are not there at all."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness import ephemeral
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.ephemeral import (
    PROBE,
    normalize_ephemeral,
    probe_ephemeral,
    sample_ports,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.transport import ProbeError
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.readiness.echo_server import (
    EchoServer,
    closed_udp_port,
)

SLACK = 0.5  # seconds a probe may overrun its deadline on a busy test machine


# ---------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------

def test_samples_spread_over_the_range_with_both_ends():
    assert sample_ports(50000, 50099, 10) == [50000, 50011, 50022, 50033, 50044, 50055, 50066, 50077, 50088, 50099]
    assert sample_ports(49152, 65535, 2) == [49152, 65535]


def test_a_small_range_is_sampled_whole_and_one_sample_is_its_start():
    assert sample_ports(3478, 3480, 10) == [3478, 3479, 3480]
    assert sample_ports(50000, 50099, 1) == [50000]


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(1, 65535), st.integers(0, 70000), st.integers(1, 64))
def test_samples_are_distinct_sorted_inside_and_as_many_as_asked(low, size, count):
    high = min(low + size, 65535)
    ports = sample_ports(low, high, count)
    assert ports == sorted(set(ports))
    assert all(low <= port <= high for port in ports)
    assert len(ports) == min(count, high - low + 1)
    assert ports[0] == low and (len(ports) == 1 or ports[-1] == high)


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------

def test_arguments_are_normalised():
    probe = normalize_ephemeral([" media.example.com ", "media.example.com", "198.51.100.7"], "49152-65535",
                                "50000-50099", samples=3, timeout=2, attempts=2)
    assert probe == {"servers": ["media.example.com", "198.51.100.7"], "port_range": [49152, 65535],
                     "sample_range": [50000, 50099], "ports": [50000, 50049, 50099], "timeout": 2.0, "attempts": 2}


def test_the_sample_range_defaults_to_the_whole_range():
    assert normalize_ephemeral(["m.example.com"], "40000-40003", samples=10)["ports"] == [40000, 40001, 40002, 40003]


@pytest.mark.parametrize("arguments, field, text", [
    (dict(servers=[]), "e.servers", "at least one"),
    (dict(servers=["two words"]), "e.servers[0]", "not a host name"),
    (dict(servers=[None]), "e.servers[0]", "not a host name"),
    (dict(port_range="65535-49152"), "e.port_range", "inverted"),
    (dict(port_range="0-100"), "e.port_range", "out of range"),
    (dict(sample_range="40000-40099"), "e.sample_range", "inside the port range 49152-65535"),
    (dict(sample_range="65000-65536"), "e.sample_range", "out of range"),
    (dict(samples=0), "e.samples", "from 1 to 64"),
    (dict(samples=65), "e.samples", "from 1 to 64"),
    (dict(attempts=8), "e.attempts", "from 1 to 7"),
    (dict(timeout=0), "e.timeout", "more than 0"),
])
def test_bad_arguments_name_their_field(arguments, field, text):
    values = dict(servers=["media.example.com"], port_range="49152-65535", sample_range=None, samples=10,
                  timeout=3.0, attempts=3)
    values.update(arguments)
    with pytest.raises(FieldError) as error:
        normalize_ephemeral(prefix="e.", **values)
    assert error.value.field == field and text in error.value.message


# ---------------------------------------------------------------------------
# the probe
# ---------------------------------------------------------------------------

def probe(ports, timeout=2.0, attempts=3, rto=0.1, servers=("127.0.0.1",)):
    start = time.monotonic()
    result = probe_ephemeral(list(servers), ports, [min(ports), max(ports)], timeout, attempts, rto)
    return result, time.monotonic() - start


def only_server(result):
    assert len(result["servers"]) == 1
    return result["servers"][0]


def test_every_echoing_port_answers_at_once_with_no_finding():
    with EchoServer(["echo"] * 5) as server:
        result, seconds = probe(server.ports)
    report = only_server(result)
    assert report["answered"] == server.ports and report["silent"] == [] and report["refused"] == []
    assert (result["sampled"], result["answered"], result["findings"], result["passed"]) == (5, 5, [], True)
    assert report["rtt_ms"]["max"] < 1000 and report["address"] == "127.0.0.1"
    assert seconds < 1.0  # done as soon as all answered, not at the deadline
    assert all(len(received) == 1 and len(received[0]) == PROBE.size for received in server.received.values())


def test_a_silent_range_is_an_error_finding_after_the_retransmissions():
    with EchoServer(["silent"] * 3) as server:
        result, seconds = probe(server.ports, timeout=1.0, attempts=3, rto=0.1)
    report = only_server(result)
    assert report["answered"] == [] and report["silent"] == server.ports
    assert all(len(received) == 3 for received in server.received.values())
    assert 1.0 <= seconds < 1.0 + SLACK
    [finding] = result["findings"]
    assert (finding["id"], finding["severity"], finding["answered"], finding["sampled"]) == \
        ("ephemeral_udp_blocked", "error", 0, 3)
    assert "0 of 3 sampled UDP ports" in finding["evidence"] and str(server.ports[0]) in finding["evidence"]
    assert "3478 and ephemeral UDP range" in finding["remediation"]
    assert result["passed"] is False


def test_a_partly_open_range_is_a_warning_naming_the_silent_ports():
    with EchoServer(["echo", "silent", "echo"]) as server:
        result, _seconds = probe(server.ports, timeout=0.8)
    report = only_server(result)
    assert report["answered"] == [server.ports[0], server.ports[2]] and report["silent"] == [server.ports[1]]
    [finding] = result["findings"]
    assert finding["severity"] == "warning" and "2 of 3" in finding["evidence"]
    assert "no answer from %d" % server.ports[1] in finding["evidence"]
    assert result["passed"] is True


def test_a_lost_first_datagram_is_retransmitted_and_timed_from_the_answered_transmission():
    with EchoServer(["drop_first"]) as server:
        result, _seconds = probe(server.ports, rto=0.3)
    report = only_server(result)
    assert report["answered"] == server.ports and len(server.received[server.ports[0]]) == 2
    # the answer echoes transmission 1, sent 0.3 s after the first: its RTT is local, not 300 ms
    assert report["rtt_ms"]["max"] < 250


def test_answers_that_are_not_the_probe_do_not_count():
    with EchoServer(["garbage", "other_token"]) as server:
        result, _seconds = probe(server.ports, timeout=0.6)
    assert only_server(result)["answered"] == []
    assert result["findings"][0]["severity"] == "error"


def test_a_closed_port_is_refused_without_waiting_for_the_deadline():
    port = closed_udp_port()
    result, seconds = probe([port], timeout=3.0)
    report = only_server(result)
    assert report["refused"] == [port] and report["silent"] == [] and report["answered"] == []
    assert seconds < 1.0
    assert "refused (ICMP port unreachable): %d" % port in result["findings"][0]["evidence"]


def test_every_server_is_sampled_on_the_same_ports():
    with EchoServer(["echo", "echo"]) as server:
        result, _seconds = probe(server.ports, servers=("127.0.0.1", "127.0.0.2"))
    first, second = result["servers"]
    assert first["answered"] == server.ports
    # the echo listens on 127.0.0.1 only: 127.0.0.2 refuses or stays silent, and is named
    assert second["answered"] == [] and result["sampled"] == 4 and result["answered"] == 2
    assert [finding["server"] for finding in result["findings"]] == ["127.0.0.2"]


def test_a_name_that_does_not_resolve_is_its_own_finding(monkeypatch):
    def unresolvable(target):
        raise ProbeError("resolve_failed", "cannot resolve %s: Name or service not known" % target.host)

    monkeypatch.setattr(ephemeral, "resolve", unresolvable)
    result, seconds = probe([50000], servers=("media.invalid",))
    report = only_server(result)
    assert (report["error"], report["address"], report["answered"]) == ("resolve_failed", None, [])
    assert [finding["id"] for finding in result["findings"]] == ["ephemeral_unresolved"]
    assert "media.invalid" in result["findings"][0]["evidence"] and seconds < 0.5
