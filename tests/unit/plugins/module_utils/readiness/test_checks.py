# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning the readiness checks: defaults, the servers each check falls back to, the names the DNS check
adds, credentials, and every bad argument named by its field before anything runs."""

from __future__ import annotations

import pytest

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.dns_probe import run_dns_probe
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness import checks as planning
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.argspec import (
    ARGUMENT_SPEC,
    DEFAULT_CHECKS,
    with_defaults,
)
from ansible_collections.dlegate.rtc.plugins.module_utils.readiness.checks import plan_checks, target_name
from ansible_collections.dlegate.rtc.plugins.module_utils.stun import codec
from ansible_collections.dlegate.rtc.plugins.module_utils.stun.client import (
    probe_allocate,
    probe_binding,
    probe_binding_train,
)
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.dns_server import DnsServer

LAB = {
    "dns": {"names": ["Signal.Dlegate.Test."]},
    "signaling": {"host": "signal.dlegate.test"},
    "turn": {"server": "turn.dlegate.test", "username": "alice", "password": "s3cret-pw"},
    "ephemeral": {"servers": ["media.dlegate.test"], "sample_range": "50000-50099"},
}


def planned(params):
    return dict((check.name, check) for check in plan_checks(params))


def test_the_default_checks_in_order_and_what_each_reaches():
    checks = plan_checks(LAB)
    assert [check.name for check in checks] == DEFAULT_CHECKS
    assert [(check.name, check.kind, check.targets) for check in checks] == [
        ("dns", "dns", ["signal.dlegate.test", "turn.dlegate.test", "media.dlegate.test"]),
        ("signaling", "signaling", ["signal.dlegate.test"]),
        ("stun", "stun", ["turn.dlegate.test"]),
        ("turn_udp", "turn", ["turn.dlegate.test"]),
        ("turn_tls", "turn", ["turn.dlegate.test"]),
        ("ephemeral", "ephemeral", ["media.dlegate.test"]),
        ("quality", "quality", ["turn.dlegate.test"]),
    ]


def test_each_check_calls_its_probe_with_the_settings():
    checks = planned(dict(LAB, checks=["stun", "turn_udp", "turn_tcp", "turn_tls", "quality", "ephemeral"],
                          quality={"count": 500, "interval_ms": 10}))
    assert checks["stun"].run.func is probe_binding
    target, timeout = checks["stun"].run.args
    assert (target.host, target.port, target.transport, timeout) == ("turn.dlegate.test", 3478, "udp", 5.0)
    ports = {}
    for name in ("turn_udp", "turn_tcp", "turn_tls"):
        assert checks[name].run.func is probe_allocate
        target, credentials, timeout, relay_count, interval, mode = checks[name].run.args
        ports[target.transport] = target.port
        assert (credentials.username, timeout, relay_count, interval, mode) == ("alice", 10.0, 50, 20, "send")
    assert ports == {"udp": 3478, "tcp": 3478, "tls": 443}
    assert checks["quality"].run.func is probe_binding_train
    assert checks["quality"].run.args[1:] == (500, 10, 10.0, 1000)
    servers, ports, port_range, timeout, attempts = checks["ephemeral"].run.args
    assert (servers, port_range, len(ports), ports[0], ports[-1]) == (["media.dlegate.test"], [49152, 65535], 10,
                                                                      50000, 50099)


def test_servers_fall_back_to_the_turn_server():
    checks = planned({"checks": ["stun", "ephemeral", "quality"], "turn": {"server": "198.51.100.20"}})
    assert checks["stun"].run.args[0].host == "198.51.100.20"
    assert checks["quality"].run.args[0].host == "198.51.100.20"
    assert checks["ephemeral"].run.args[0] == ["198.51.100.20"]
    assert all(check.targets == [] for check in checks.values())  # an address needs no DNS


def test_the_quality_check_follows_a_separate_stun_server():
    checks = planned({"checks": ["quality"], "stun": {"server": "stun.example.com"}})
    assert checks["quality"].run.args[0].host == "stun.example.com"


def test_a_signalling_address_needs_no_dns():
    checks = planned({"checks": ["dns", "signaling"], "dns": {"names": ["cdn.example.com"]},
                      "signaling": {"host": "signal.example.com", "address": "198.51.100.10"}})
    assert checks["signaling"].targets == [] and checks["dns"].targets == ["cdn.example.com"]


def test_the_dns_check_resolves_through_a_resolver_that_asks_again():
    checks = planned(dict(LAB, checks=["dns"], dns={"names": ["a.example.com"], "resolvers": ["192.0.2.53"],
                                                    "system_resolver": False, "timeout": 3}))
    run = checks["dns"].run
    assert run.func is run_dns_probe
    assert run.keywords["resolver_factory"] is planning.retrying_resolver
    resolver = planning.retrying_resolver(["192.0.2.53"], 3.0)
    assert (resolver.timeout, resolver.lifetime, resolver.nameservers) == (1.0, 3.0, ["192.0.2.53"])


class LosesFirstQuery(DnsServer):
    """Drops the first question for each name, as a lossy WAN would."""

    def answer(self, query, question):
        asked = [name for name, _rdtype in self.queries].count(question.name.to_text())
        return None if asked == 1 else DnsServer.answer(self, query, question)


def test_a_lost_dns_answer_is_asked_again_within_the_timeout():
    zone = {"signal.dlegate.test": {"A": ["198.18.11.10"]}}
    with LosesFirstQuery(zone) as server:
        probe = run_dns_probe(["signal.dlegate.test"], resolvers=[server.nameserver], system_resolver=False,
                              rdtypes=["A"], timeout=1.5, resolver_factory=planning.retrying_resolver)
    assert probe["findings"] == []
    assert probe["results"][server.nameserver]["signal.dlegate.test"]["usable"] == ["198.18.11.10"]
    with LosesFirstQuery(zone) as server:
        probe = run_dns_probe(["signal.dlegate.test"], resolvers=[server.nameserver], system_resolver=False,
                              rdtypes=["A"], timeout=1.5)
    assert [finding["id"] for finding in probe["findings"]] == ["dns_timeout"]  # one try only, without it


def test_rest_credentials_come_from_the_secret():
    checks = planned({"checks": ["turn_udp"], "turn": {"server": "turn.example.com", "secret": "rest-secret",
                                                       "username": "probe", "rest_ttl": 600}})
    credentials = checks["turn_udp"].run.args[1]
    expiry, user = credentials.username.split(":")
    assert user == "probe" and int(expiry) > 0
    assert credentials.password == codec.rest_credentials("rest-secret", "probe", int(expiry))[1]
    assert "rest-secret" not in repr(checks) and credentials.password not in repr(credentials)


def test_target_names_are_as_dns_asks_for_them():
    assert target_name(" Turn.Example.COM. ") == "turn.example.com"
    assert target_name("198.51.100.20") is None and target_name("2001:db8::20") is None


BAD = [
    ({"checks": []}, "checks", "at least one"),
    ({"checks": ["dns", "ping"]}, "checks[1]", "'ping' is not allowed"),
    ({"signaling": {"host": None}}, "signaling.host", "DNS name"),
    ({"signaling": {"port": 0}}, "signaling.port", "1-65535"),
    ({"signaling": {"spki_pins": ["short"]}}, "signaling.spki_pins[0]", "base64"),
    ({"checks": ["turn_udp"], "turn": {"server": None}}, "turn.server", "TURN server"),
    ({"turn": {"password": None}}, "turn.password", "password"),
    ({"turn": {"username": None}}, "turn.username", "user name"),
    ({"turn": {"secret": "s"}}, "turn.secret", "not both"),
    ({"turn": {"password": None, "secret": "s", "rest_ttl": 10}}, "turn.rest_ttl", "from 60"),
    ({"turn": {"tls_port": 70000}}, "turn.tls_port", "from 1 to 65535"),
    ({"turn": {"relay_count": 500}}, "turn.timeout", "relay_count"),
    ({"turn": {"relay_count": -1}}, "turn.relay_count", "from 0"),
    ({"turn": {"timeout": 0}}, "turn.timeout", "more than 0"),
    ({"stun": {"port": 0}}, "stun.port", "from 1 to 65535"),
    ({"stun": {"server": "two words"}}, "stun.server", "without spaces"),
    ({"ephemeral": {"sample_range": "1000-2000"}}, "ephemeral.sample_range", "inside the port range"),
    ({"ephemeral": {"samples": 100}}, "ephemeral.samples", "from 1 to 64"),
    ({"quality": {"count": 1000}}, "quality.timeout", "train's duration"),
    ({"quality": {"interval_ms": 0}}, "quality.interval_ms", "between 1"),
    ({"quality": {"wait_ms": -1}}, "quality.wait_ms", "between 0"),
    ({"dns": {"resolvers": ["resolver.example.com"]}}, "dns.resolvers[0]", "not an IP address"),
    ({"dns": {"timeout": 0}}, "dns.timeout", "more than 0"),
    ({"dns": {"sinkhole_networks": ["nonsense"]}}, "dns.sinkhole_networks[0]", "CIDR"),
    ({"dns": {"colour": "blue"}}, "dns", "unknown key(s) colour"),
]


@pytest.mark.parametrize("change, field, text", BAD, ids=[case[1] for case in BAD])
def test_a_bad_argument_names_its_field(change, field, text):
    params = dict((key, dict(value) if isinstance(value, dict) else value) for key, value in LAB.items())
    for section, values in change.items():
        if isinstance(values, dict):
            params[section] = dict(params.get(section) or {}, **values)
        else:
            params[section] = values
    if "turn" in change and ("secret" in change["turn"] or "rest_ttl" in change["turn"]):
        params["turn"]["username"] = "probe"
    with pytest.raises(FieldError) as error:
        plan_checks(params)
    assert error.value.field == field and text in error.value.message, str(error.value)


def test_a_dns_check_with_no_name_to_ask_is_refused():
    with pytest.raises(FieldError) as error:
        plan_checks({"checks": ["dns", "stun"], "stun": {"server": "198.51.100.20"}})
    assert error.value.field == "dns.names"


def test_every_section_gets_the_specs_defaults():
    filled = with_defaults({"turn": {"server": "t.example.com", "relay_count": None}})
    assert filled["checks"] == DEFAULT_CHECKS
    assert filled["turn"]["relay_count"] == ARGUMENT_SPEC["turn"]["options"]["relay_count"]["default"] == 50
    assert filled["turn"]["server"] == "t.example.com"
    assert set(filled) == set(ARGUMENT_SPEC)
    for section, spec in ARGUMENT_SPEC.items():
        if section != "checks":
            assert set(filled[section]) == set(spec["options"])
