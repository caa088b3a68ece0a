# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the egress policy: validation, DNS answers, the desired table, the plan, gathered config.

The ``*.nft.json`` fixtures are real ``nft -j list ruleset`` output of the
tables this core rendered for the policies in fixtures/policies.json (see
nft_fixtures).
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common import destinations
from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import FieldError
from ansible_collections.dlegate.rtc.plugins.module_utils.egress import policy as egress
from ansible_collections.dlegate.rtc.plugins.module_utils.egress.argspec import ARGUMENT_SPEC, CONFIG_SPEC, RULE_SPEC
from ansible_collections.dlegate.rtc.plugins.module_utils.nft import codec
from ansible_collections.dlegate.rtc.plugins.module_utils.nft import table as nft
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture, policy_args

TABLE = "dlegate_egress"
SMALL = {
    "destinations": {"media": ["198.51.100.0/25", "198.51.100.128/25", "2001:db8::1"],
                     "signaling": ["203.0.113.10"]},
    "rules": [{"name": "signaling", "protocol": "tcp", "ports": [443], "destinations": ["signaling"]},
              {"name": "media", "protocol": "udp", "ports": [3478, "49152-65535"], "destinations": ["media"]}],
}

SMALL_PERMIT = """\
table inet dlegate_egress {
    set media_v4 {
        type ipv4_addr
        flags interval
        elements = {
            198.51.100.0/24,
        }
    }
    set media_v6 {
        type ipv6_addr
        flags interval
        elements = {
            2001:db8::1,
        }
    }
    set signaling_v4 {
        type ipv4_addr
        flags interval
        elements = {
            203.0.113.10,
        }
    }
    set signaling_v6 {
        type ipv6_addr
        flags interval
    }
    chain egress {
        type filter hook output priority filter - 10; policy accept;
        ip daddr @signaling_v4 tcp dport 443 meta mark set meta mark | 0x00200000 accept comment "signaling"
        ip6 daddr @signaling_v6 tcp dport 443 meta mark set meta mark | 0x00200000 accept comment "signaling"
        ip daddr @media_v4 udp dport { 3478, 49152-65535 } meta mark set meta mark | 0x00200000 accept comment "media"
        ip6 daddr @media_v6 udp dport { 3478, 49152-65535 } meta mark set meta mark | 0x00200000 accept comment "media"
    }
}
""".replace("    ", "\t")

SMALL_ENFORCE_DROPS = """\
        ip daddr @media_v4 counter drop comment "enforce media"
        ip6 daddr @media_v6 counter drop comment "enforce media"
        ip daddr @signaling_v4 counter drop comment "enforce signaling"
        ip6 daddr @signaling_v6 counter drop comment "enforce signaling"
""".replace("    ", "\t")


def args(config=None, **top):
    return dict(top, config=dict(SMALL if config is None else config))


def small(**config):
    return args(dict(SMALL, **config))


def with_rule(**changes):
    return small(rules=[SMALL["rules"][0], dict(SMALL["rules"][1], **changes)])


def policy_of(module_args):
    return egress.normalize_policy(module_args)


def desired(module_args, answers=None, errors=None):
    return egress.build_desired_state(policy_of(module_args), answers, errors)


def desired_state(module_args):
    return desired(module_args)[0]


def live(name):
    return egress.parse_live(fixture(name), TABLE)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

BAD_INPUT = [
    (with_rule(ports=[0]), "config.rules[1].ports[0]", "port 0 is out of range"),
    (with_rule(ports=[65536]), "config.rules[1].ports[0]", "port 65536 is out of range"),
    (with_rule(ports=["5000-4000"]), "config.rules[1].ports[0]", "inverted range"),
    (with_rule(ports=["3478", "1-70000"]), "config.rules[1].ports[1]", "out of range"),
    (with_rule(ports=["http"]), "config.rules[1].ports[0]", "LOW-HIGH"),
    (with_rule(ports=[True]), "config.rules[1].ports[0]", "not a port"),
    (with_rule(ports=[4.5]), "config.rules[1].ports[0]", "not a port"),
    (with_rule(ports=[]), "config.rules[1].ports", "non-empty"),
    (with_rule(protocol="icmp"), "config.rules[1].protocol", "tcp, udp"),
    (with_rule(name="Media"), "config.rules[1].name", "lowercase letter"),
    (with_rule(name="media\n"), "config.rules[1].name", "lowercase letter"),
    (with_rule(name="media-rule"), "config.rules[1].name", "underscores"),
    (with_rule(name=None), "config.rules[1].name", "not a valid rule name"),
    (with_rule(name="signaling"), "config.rules[1].name", "unique"),
    (with_rule(destinations=["voice"]), "config.rules[1].destinations", "'voice' is not a group"),
    (with_rule(destinations=[]), "config.rules[1].destinations", "non-empty"),
    (with_rule(port=[1]), "config.rules[1]", "unknown key(s) port"),
    (small(rules=["media"]), "config.rules[0]", "must be a dict"),
    (small(rules={"name": "x"}), "config.rules", "must be a list"),
    (small(destinations={"media": ["10.0.0.0/33"]}), "config.destinations.media[0]", "CIDR"),
    (small(destinations={"media": ["10.0.0.1/24"]}), "config.destinations.media[0]", "host bits"),
    (small(destinations={"media": ["300.1.2.3"]}), "config.destinations.media[0]", "not a valid"),
    (small(destinations={"media": ["2001:db8::g"]}), "config.destinations.media[0]", "not a valid"),
    (small(destinations={"media": ["turn_server.example"]}), "config.destinations.media[0]", "DNS name"),
    (small(destinations={"media": ["*.dlegate.example"]}), "config.destinations.media[0]", "wildcard"),
    (small(destinations={"media": ["localhost"]}), "config.destinations.media[0]", "DNS name"),
    (small(destinations={"media": [""]}), "config.destinations.media[0]", "DNS name"),
    (small(destinations={"media": "198.51.100.7"}), "config.destinations.media", "must be a list"),
    (small(destinations=["media"]), "config.destinations", "must be a dict"),
    (small(destinations={"Media": []}), "config.destinations.Media", "group name"),
    (small(destinations={"media\n": []}), "config.destinations.media\n", "group name"),
    (small(destinations={"m" * 32: []}), "config.destinations." + "m" * 32, "group name"),
    (small(destinations={"sources": []}), "config.destinations.sources", "reserved"),
    (small(source_networks=["10.0.0.0/8"]), "config.source_networks", "hook=forward"),
    (small(hook="forward", source_networks=["10.0.0.0/88"]), "config.source_networks[0]", "CIDR"),
    (small(hook="forward", source_networks="10.0.0.0/8"), "config.source_networks", "list of strings"),
    (small(permit_mark=-1), "config.permit_mark", "0 to 4294967295"),
    (small(permit_mark=2 ** 32), "config.permit_mark", "0 to 4294967295"),
    (small(permit_mark="lots"), "config.permit_mark", "integer"),
    (small(priority=2 ** 31), "config.priority", "integer"),
    (small(table="1egress"), "config.table", "letter"),
    (small(table="dlegate-egress"), "config.table", "letter"),
    (small(table="egress\n"), "config.table", "letter"),
    (small(mode="audit"), "config.mode", "'audit' is not allowed; choose one of permit, enforce"),
    (small(mode="strict"), "config.mode", "permit, enforce"),
    (small(hook="input"), "config.hook", "output, forward"),
    ({"config": "dlegate_egress"}, "config", "must be a dict"),
    (args(state="merged"), "state", "present, absent, rendered, gathered, parsed"),
    (args(unresolved="ignore"), "unresolved", "fail, skip"),
    (args(nameservers=["dns.example"]), "nameservers[0]", "address"),
    (args(resolve_timeout=0), "resolve_timeout", "above 0"),
    (args(resolved={"turn.example": ["not-an-ip"]}), "resolved.turn.example[0]", "address"),
    (args(resolved={"turn.example": "192.0.2.1"}), "resolved.turn.example", "must be a list"),
    (args(resolved={"no_name": ["192.0.2.1"]}), "resolved.no_name", "DNS name"),
    (args(sinkhole_networks=["10.66.0.1/16"]), "sinkhole_networks[0]", "host bits"),
    (args(allow_special_answers="yes"), "allow_special_answers", "true or false"),
    (args(rollback_timeout=-1), "rollback_timeout", "0 to 86400"),
    (args(rollback_timeout=86401), "rollback_timeout", "0 to 86400"),
]


@pytest.mark.parametrize("module_args, field, words", BAD_INPUT,
                         ids=["%s:%s" % (case[1].replace("\n", "\\n"), case[2]) for case in BAD_INPUT])
def test_bad_input_names_the_field_and_what_is_allowed(module_args, field, words):
    with pytest.raises(FieldError) as error:
        egress.normalize_policy(module_args)
    assert error.value.field == field
    assert str(error.value).startswith(field + ": ")
    assert words in error.value.message


@pytest.mark.parametrize("digits", ["7" * 5000, "1-" + "7" * 5000])
def test_a_5000_digit_port_is_a_field_error_at_once(digits):
    started = time.monotonic()
    with pytest.raises(FieldError) as error:
        egress.normalize_policy(with_rule(ports=[443, digits]))
    assert time.monotonic() - started < 0.5
    assert error.value.field == "config.rules[1].ports[1]"
    assert "is not a port" in error.value.message and len(error.value.message) < 200


def test_defaults():
    policy = egress.normalize_policy({})
    assert (policy["state"], policy["mode"], policy["hook"], policy["unresolved"]) == \
        ("present", "permit", "output", "fail")
    assert (policy["table"], policy["priority"], policy["permit_mark"]) == ("dlegate_egress", -10, 0x00200000)
    assert (policy["rollback_timeout"], policy["allow_special_answers"], policy["sinkhole_networks"]) == (0, False, [])
    assert (policy["rules"], policy["destinations"], policy["source_networks"]) == ([], {}, [])
    assert egress.normalize_policy({"config": None}) == policy


def test_the_argument_spec_defaults_are_the_core_s():
    spec_defaults = {"config": {key: value.get("default") for key, value in CONFIG_SPEC.items()}}
    spec_defaults.update((key, value.get("default")) for key, value in ARGUMENT_SPEC.items() if key != "config")
    assert egress.normalize_policy(spec_defaults) == egress.normalize_policy({})
    assert set(RULE_SPEC) == set(egress.RULE_KEYS)
    assert ARGUMENT_SPEC["config"]["options"]["mode"]["choices"] == ["permit", "enforce"]


def test_ports_are_merged_and_sorted():
    policy = egress.normalize_policy(with_rule(ports=["49152-65535", 3479, "3478", " 440 - 442 ", 443, 444]))
    assert policy["rules"][1]["ports"] == [[440, 444], [3478, 3479], [49152, 65535]]


def test_permit_mark_accepts_hex_text():
    assert egress.normalize_policy(args({"permit_mark": "0x10"}))["permit_mark"] == 16


def test_rule_keys_left_unset_by_the_argument_spec_are_ignored():
    policy = egress.normalize_policy(with_rule(port=None))
    assert policy["rules"][1]["name"] == "media"


def test_destination_entries_are_sorted_into_networks_and_names():
    entries = ["TURN.dlegate.example.", "198.51.100.7", "turn.dlegate.example", "2001:db8::/32"]
    policy = egress.normalize_policy(args({"destinations": {"media": entries}}))
    group = policy["destinations"]["media"]
    assert group["names"] == ["turn.dlegate.example"]
    assert [str(n) for n in group["networks"]] == ["198.51.100.7/32", "2001:db8::/32"]


# ---------------------------------------------------------------------------
# Names and resolution
# ---------------------------------------------------------------------------

NAMED = {"config": {"destinations": {"media": ["turn.dlegate.example", "media.dlegate.example", "198.51.100.7"]},
                    "rules": [{"name": "media", "protocol": "udp", "ports": [3478], "destinations": ["media"]}]},
         "resolved": {"media.dlegate.example": ["198.51.100.40"]}}


def named(**top):
    return dict(NAMED, **top)


def test_domains_to_resolve_leaves_out_the_given_ones():
    assert egress.domains_to_resolve(policy_of(NAMED)) == ["turn.dlegate.example"]
    for state in ("absent", "rendered", "gathered", "parsed"):
        assert egress.domains_to_resolve(policy_of(named(state=state, running_config="x"))) == []


def test_resolved_names_fill_the_sets():
    state, report = desired(NAMED, {"turn.dlegate.example": ["198.51.100.8", "2001:db8::8"]})
    assert state["sets"]["media_v4"]["elements"] == ["198.51.100.7", "198.51.100.8", "198.51.100.40"]
    assert state["sets"]["media_v6"]["elements"] == ["2001:db8::8"]
    assert report["resolved"] == {"turn.dlegate.example": ["198.51.100.8", "2001:db8::8"],
                                  "media.dlegate.example": ["198.51.100.40"]}
    assert report["skipped_domains"] == [] and report["warnings"] == [] and report["rejected_answers"] == {}


def test_unresolved_name_fails_naming_it():
    with pytest.raises(FieldError) as error:
        desired(NAMED, {"turn.dlegate.example": []}, {"turn.dlegate.example": "A: NXDOMAIN"})
    assert error.value.field == "config.destinations"
    assert "turn.dlegate.example" in error.value.message and "NXDOMAIN" in error.value.message


def test_unresolved_name_is_skipped_with_a_warning():
    state, report = desired(named(unresolved="skip"), {}, {"turn.dlegate.example": "A: Timeout"})
    assert report["skipped_domains"] == ["turn.dlegate.example"]
    assert "turn.dlegate.example" in report["warnings"][0] and "Timeout" in report["warnings"][0]
    assert state["sets"]["media_v4"]["elements"] == ["198.51.100.7", "198.51.100.40"]


def test_rendered_never_resolves_and_skips_what_is_not_given():
    state, report = desired(named(state="rendered"))
    assert report["skipped_domains"] == ["turn.dlegate.example"]
    assert "not given in resolved" in report["warnings"][0]
    assert state["sets"]["media_v4"]["elements"] == ["198.51.100.7", "198.51.100.40"]


def test_empty_answers_count_as_unresolved():
    _state, report = desired(named(unresolved="skip"), {"turn.dlegate.example": []})
    assert report["skipped_domains"] == ["turn.dlegate.example"]
    assert "no A or AAAA record" in report["warnings"][0]


# ---------------------------------------------------------------------------
# Special-use and sinkhole answers
# ---------------------------------------------------------------------------

SPECIAL = ["127.0.0.1", "0.0.0.0", "169.254.10.1", "224.0.0.251", "::1", "fe80::1", "::ffff:127.0.0.1"]
SPECIAL_REASONS = ["loopback", "unspecified", "link-local", "multicast", "loopback", "link-local", "loopback"]


def test_special_use_answers_are_rejected_by_default_and_reported_per_name():
    answers = {"turn.dlegate.example": SPECIAL + ["198.51.100.8", "10.66.1.5", "2001:db8::8"]}
    state, report = desired(named(sinkhole_networks=["10.66.0.0/16"]), answers)
    assert report["resolved"]["turn.dlegate.example"] == ["198.51.100.8", "2001:db8::8"]
    assert report["rejected_answers"] == {"turn.dlegate.example": [
        {"address": address, "reason": reason} for address, reason in zip(SPECIAL, SPECIAL_REASONS)
    ] + [{"address": "10.66.1.5", "reason": "sinkhole range 10.66.0.0/16"}]}
    assert state["sets"]["media_v4"]["elements"] == ["198.51.100.7", "198.51.100.8", "198.51.100.40"]
    assert state["sets"]["media_v6"]["elements"] == ["2001:db8::8"]
    assert len(report["warnings"]) == len(SPECIAL) + 1
    assert report["warnings"][0] == ("turn.dlegate.example answered 127.0.0.1 (loopback): not a service address, "
                                     "it is left out; set allow_special_answers to use it")


def test_allow_special_answers_uses_them_but_never_sinkhole_answers():
    answers = {"turn.dlegate.example": ["127.0.0.1", "10.66.1.5", "::1"]}
    state, report = desired(named(sinkhole_networks=["10.66.0.0/16"], allow_special_answers=True), answers)
    assert report["rejected_answers"] == {"turn.dlegate.example": [
        {"address": "10.66.1.5", "reason": "sinkhole range 10.66.0.0/16"}]}
    assert report["warnings"] == ["turn.dlegate.example answered 10.66.1.5 (sinkhole range 10.66.0.0/16): not a "
                                  "service address, it is left out"]
    assert state["sets"]["media_v4"]["elements"] == ["127.0.0.1", "198.51.100.7", "198.51.100.40"]
    assert state["sets"]["media_v6"]["elements"] == ["::1"]


def test_a_name_with_only_rejected_answers_fails():
    with pytest.raises(FieldError) as error:
        desired(NAMED, {"turn.dlegate.example": ["0.0.0.0", "::"]})
    assert error.value.field == "config.destinations"
    assert "'turn.dlegate.example' did not resolve to a usable address (only special-use answers)" \
        in error.value.message


def test_a_name_with_only_rejected_answers_is_skipped_with_skip():
    state, report = desired(named(unresolved="skip"), {"turn.dlegate.example": ["127.0.0.53"]})
    assert report["skipped_domains"] == ["turn.dlegate.example"]
    assert report["rejected_answers"] == {"turn.dlegate.example": [{"address": "127.0.0.53", "reason": "loopback"}]}
    assert "turn.dlegate.example" not in report["resolved"]
    assert "127.0.0.53" not in state["sets"]["media_v4"]["elements"]
    assert report["warnings"][-1] == ("turn.dlegate.example did not resolve (only special-use answers); it is left "
                                      "out of the policy")


def test_a_name_in_two_groups_is_judged_and_reported_once():
    config = {"destinations": {"media": ["turn.dlegate.example"], "fallback": ["turn.dlegate.example"]}}
    state, report = desired(args(config), {"turn.dlegate.example": ["127.0.0.1", "198.51.100.8"]})
    assert report["rejected_answers"] == {"turn.dlegate.example": [{"address": "127.0.0.1", "reason": "loopback"}]}
    assert len(report["warnings"]) == 1
    assert state["sets"]["media_v4"]["elements"] == state["sets"]["fallback_v4"]["elements"] == ["198.51.100.8"]
    _state, report = desired(args(config, unresolved="skip"), {"turn.dlegate.example": ["::1"]})
    assert report["skipped_domains"] == ["turn.dlegate.example"] and len(report["warnings"]) == 2


def test_addresses_given_in_resolved_are_not_judged():
    state, report = desired(named(resolved={"turn.dlegate.example": ["127.0.0.1"],
                                            "media.dlegate.example": ["198.51.100.40"]}))
    assert report["rejected_answers"] == {}
    assert "127.0.0.1" in state["sets"]["media_v4"]["elements"]


def test_judge_answers_alone():
    policy = policy_of(args(sinkhole_networks=["192.0.2.0/24"]))
    report = {"rejected_answers": {}, "warnings": []}
    assert destinations.judge_answers("a.example", ["192.0.2.7", "198.51.100.1", "ff02::1"], policy, report) == \
        ["198.51.100.1"]
    assert report["rejected_answers"] == {"a.example": [
        {"address": "192.0.2.7", "reason": "sinkhole range 192.0.2.0/24"},
        {"address": "ff02::1", "reason": "multicast"}]}


# ---------------------------------------------------------------------------
# The desired table
# ---------------------------------------------------------------------------

def test_golden_permit_ruleset():
    assert nft.render_table(desired_state(small())) == SMALL_PERMIT


def test_golden_enforce_ruleset_appends_counted_drops():
    state = desired_state(small(mode="enforce"))
    assert nft.render_table(state) == SMALL_PERMIT.replace("\t}\n}\n", SMALL_ENFORCE_DROPS + "\t}\n}\n")


def test_forward_with_source_networks():
    text = nft.render_table(desired_state(small(hook="forward", source_networks=["10.20.0.0/16", "10.21.0.0/16"])))
    assert "type filter hook forward priority filter - 10; policy accept;" in text
    assert "\tset sources_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = {\n\t\t\t10.20.0.0/15,\n" in text
    assert "\tset sources_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n" in text
    assert "ip saddr @sources_v4 ip daddr @signaling_v4 tcp dport 443 " in text
    assert "ip6 saddr @sources_v6 ip6 daddr @media_v6 udp dport { 3478, 49152-65535 } " in text


def test_ipv6_networks_are_collapsed():
    state = desired_state(args({"destinations": {"media": ["2001:db8::/33", "2001:db8:8000::/33", "2001:db8::1"]}}))
    assert state["sets"]["media_v6"]["elements"] == ["2001:db8::/32"]


def test_mark_zero_sets_no_mark():
    assert "meta mark" not in nft.render_table(desired_state(small(permit_mark=0)))


def test_absent_has_no_desired_table():
    assert desired_state(args(state="absent")) is None


def test_each_fixture_is_what_its_policy_renders():
    for name, policy in (("permit_output", "permit_output"), ("enforce_forward", "enforce_forward"),
                         ("enforce_counted", "enforce_output"), ("shadowing_honoured", "enforce_forward"),
                         ("shadowing_ignored", "enforce_forward")):
        assert live(name) == desired_state(policy_args(name=policy)), name


# ---------------------------------------------------------------------------
# The plan: differences, script
# ---------------------------------------------------------------------------

def test_plan_creates_replaces_and_deletes():
    policy = policy_of(small())
    created = egress.plan(policy, None)
    assert created["differences"] == [{"item": "table inet dlegate_egress", "change": "add"}]
    assert created["script"] == nft.render_apply_script(created["desired"])
    assert (created["before"], created["after"]) == ("", SMALL_PERMIT)
    unchanged = egress.plan(policy, created["desired"])
    assert (unchanged["differences"], unchanged["script"]) == ([], None)
    assert unchanged["before"] == unchanged["after"] == SMALL_PERMIT
    deleted = egress.plan(policy_of(args(state="absent")), created["desired"])
    assert deleted["differences"] == [{"item": "table inet dlegate_egress", "change": "remove"}]
    assert deleted["script"] == nft.render_delete_script(TABLE) and deleted["after"] == ""
    nothing = egress.plan(policy_of(args(state="absent")), None)
    assert (nothing["differences"], nothing["script"]) == ([], None)


def test_plan_carries_the_dns_report():
    decision = egress.plan(policy_of(named(unresolved="skip")), None, {"turn.dlegate.example": ["127.0.0.1"]})
    assert decision["skipped_domains"] == ["turn.dlegate.example"]
    assert decision["rejected_answers"]["turn.dlegate.example"][0]["reason"] == "loopback"
    assert decision["live"] is None and decision["desired"]["table"] == TABLE


@pytest.mark.parametrize("name, policy", [("permit_output", "permit_output"), ("enforce_forward", "enforce_forward"),
                                          ("enforce_counted", "enforce_output")])
def test_a_compliant_live_table_has_no_differences(name, policy):
    decision = egress.plan(policy_of(policy_args(policy)), live(name))
    assert (decision["differences"], decision["script"]) == ([], None)
    assert decision["before"] == decision["after"]


EDITS = [
    ("edited_rule_removed", [
        {"item": "rule", "change": "add",
         "rule": 'ip daddr @media_v4 udp dport 3478 meta mark set meta mark | 0x00200000 accept comment "stun"'}]),
    ("edited_rule_changed", [
        {"item": "rule", "change": "remove",
         "rule": 'ip daddr @signaling_v4 tcp dport 8443 meta mark set meta mark | 0x00200000 accept comment "signaling"'},
        {"item": "rule", "change": "add",
         "rule": 'ip daddr @signaling_v4 tcp dport 443 meta mark set meta mark | 0x00200000 accept comment "signaling"'}]),
    ("edited_element_changed", [
        {"item": "set media_v4", "change": "update", "added": ["198.51.100.20"], "removed": ["198.51.100.21"]}]),
    ("edited_rule_added", [{"item": "rule", "change": "remove", "rule": 'tcp dport 22 accept comment "ssh"'}]),
]


@pytest.mark.parametrize("name, items", EDITS, ids=[edit[0] for edit in EDITS])
def test_an_edited_live_table_differs_by_exactly_the_edit(name, items):
    decision = egress.plan(policy_of(policy_args("permit_output")), live(name))
    assert decision["differences"] == items
    assert decision["script"] == nft.render_apply_script(decision["desired"])


def test_a_mode_or_hook_change_shows_as_rules_or_chain():
    decision = egress.plan(policy_of(dict(policy_args("permit_output"),
                                          config=dict(policy_args("permit_output")["config"], mode="enforce"))),
                           live("permit_output"))
    assert decision["differences"] == [
        {"item": "rule", "change": "add", "rule": 'ip%s daddr @%s_v%s counter drop comment "enforce %s"'
                                                  % ("" if version == 4 else "6", group, version, group)}
        for group in ("media", "signaling") for version in (4, 6)]
    decision = egress.plan(policy_of(dict(policy_args("permit_output"),
                                          config=dict(policy_args("permit_output")["config"], hook="forward"))),
                           live("permit_output"))
    assert decision["differences"] == [{"item": "chain", "change": "update",
                                        "live": nft.base_chain("egress", "output", -10),
                                        "policy": nft.base_chain("egress", "forward", -10)}]


FIXTURES = ["permit_output", "enforce_forward", "enforce_counted", "edited_rule_removed", "edited_rule_added",
            "edited_rule_changed", "edited_element_changed", "shadowing_honoured", "dscp_marking"]


@pytest.mark.parametrize("policy", ["permit_output", "enforce_forward", "enforce_output"])
def test_differences_are_empty_exactly_when_live_equals_desired(policy):
    for name in FIXTURES:
        decision = egress.plan(policy_of(policy_args(policy)), live(name))
        assert (decision["differences"] == []) == (decision["live"] == decision["desired"]), name
        assert (decision["script"] is None) == (decision["differences"] == []), name


# ---------------------------------------------------------------------------
# Gathered and parsed
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["permit_output", "enforce_forward", "enforce_counted"])
def test_gathered_config_round_trips_to_the_live_table(name):
    config = egress.state_to_config(live(name))
    assert json.loads(json.dumps(config)) == config
    assert desired_state({"config": config}) == live(name)


def test_gathered_of_the_forward_policy():
    config = egress.state_to_config(live("enforce_forward"))
    assert (config["hook"], config["mode"], config["priority"], config["table"]) == \
        ("forward", "enforce", -10, TABLE)
    assert config["source_networks"] == ["10.20.0.0/15", "2001:db8:aa::/48"]
    assert config["rules"][1] == {"name": "media", "protocol": "udp", "ports": ["3478-3479", "49152-65535"],
                                  "destinations": ["media"]}
    assert config["rules"][2]["destinations"] == ["fallback", "media"]
    assert sorted(config["destinations"]) == ["fallback", "media", "signaling"]
    assert "audit" not in json.dumps(config)


def test_gathered_of_no_table():
    assert egress.state_to_config(None) is None
    assert egress.parse_live({"nftables": []}, TABLE) is None


def test_drop_counters_of_the_egress_table():
    assert egress.drop_counters(fixture("enforce_counted"), TABLE)["by_set"]["media_v4"] == {"packets": 3, "bytes": 144}
    assert egress.drop_counters(fixture("permit_output"), TABLE) == {"packets": 0, "bytes": 0, "by_set": {}}


# ---------------------------------------------------------------------------
# Fuzzing the arguments
# ---------------------------------------------------------------------------

values = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 70000), st.text(max_size=6),
    st.sampled_from(["media", "media\n", 443, "3478", "49152-65535", "0-1", "198.51.100.0/24", "2001:db8::1",
                     "turn.dlegate.example", "127.0.0.1", "x" * 70, "9" * 5000, "permit", "enforce", "audit",
                     "forward", "output", "skip"]),
    st.lists(st.sampled_from(["media", 443, "3478", "198.51.100.0/24", "2001:db8::1", "turn.dlegate.example",
                              "10.0.0.0/8", None]), max_size=3))
rule_dicts = st.fixed_dictionaries({"name": values, "protocol": st.sampled_from(["tcp", "udp", 6]),
                                    "ports": values, "destinations": values | st.just(["media"])})
config_dicts = st.dictionaries(
    st.sampled_from(["table", "hook", "priority", "mode", "permit_mark", "source_networks", "destinations", "rules"]),
    st.one_of(values, st.dictionaries(st.sampled_from(["media", "Media", "sources", "turn_server"]), values,
                                      max_size=2),
              st.lists(rule_dicts, max_size=2)))
module_arguments = st.fixed_dictionaries({"config": config_dicts | values}, optional={
    key: values for key in ("state", "unresolved", "nameservers", "resolve_timeout", "sinkhole_networks",
                            "allow_special_answers", "rollback_timeout")})


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(module_arguments)
def test_any_arguments_are_a_policy_or_a_field_error_naming_one_of_them(module_args):
    try:
        policy = egress.normalize_policy(module_args)
    except FieldError as error:
        root = error.field.split("[")[0].split(".")
        assert root[0] in module_args
        if root[0] == "config" and len(root) > 1:
            assert root[1] in module_args["config"]
        return
    state = egress.build_desired_state(dict(policy, unresolved="skip"))[0]
    if state is not None:
        nft.render_table(state)
        # gathered config feeds back to the same table
        assert desired_state({"config": egress.state_to_config(state)}) == state


def test_gathered_leaves_out_a_hand_added_rule_without_destinations():
    state = nft.empty_state("dlegate_egress", nft.base_chain("egress", "output", -10))
    state["rules"].append(dict(codec.empty_rule(), comment="ssh", protocol="tcp", dport=[[22, 22]], verdict="accept"))
    config = egress.state_to_config(state)
    assert config["rules"] == []
    egress.normalize_policy({"config": config})


def test_ports_are_ascii_digits_only():
    with pytest.raises(FieldError):
        egress.normalize_policy(args({"destinations": {"media": ["198.51.100.20"]},
                                      "rules": [{"name": "media", "protocol": "udp", "ports": ["\u0663\u0664\u0667\u0668"],
                                                 "destinations": ["media"]}]}))
