# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the nft_egress core.

The ``*.nft.json`` fixtures are real ``nft -j list ruleset`` output, captured
by fixtures/capture.py from a throwaway network namespace after loading the
ruleset this core rendered for the policies in fixtures/policies.json.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils import nft_egress as core
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture, policy_args
from ansible_collections.dlegate.rtc.plugins.module_utils.nft_egress import NftParseError, PolicyError


def desired(args, answers=None, errors=None):
    return core.build_desired_state(core.normalize_policy(args), answers, errors)


def desired_state(args):
    return desired(args)[0]


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


def with_rule(**changes):
    rule = dict(SMALL["rules"][1], **changes)
    return dict(SMALL, rules=[SMALL["rules"][0], rule])


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

BAD_INPUT = [
    (with_rule(ports=[0]), "rules[1].ports[0]", "out of range"),
    (with_rule(ports=[65536]), "rules[1].ports[0]", "out of range"),
    (with_rule(ports=["5000-4000"]), "rules[1].ports[0]", "5000-4000"),
    (with_rule(ports=["3478", "1-70000"]), "rules[1].ports[1]", "out of range"),
    (with_rule(ports=["http"]), "rules[1].ports[0]", "LOW-HIGH"),
    (with_rule(ports=[True]), "rules[1].ports[0]", "not a port"),
    (with_rule(ports=[4.5]), "rules[1].ports[0]", "not a port"),
    (with_rule(ports=[]), "rules[1].ports", "non-empty"),
    (with_rule(protocol="icmp"), "rules[1].protocol", "tcp, udp"),
    (with_rule(name="Media"), "rules[1].name", "lowercase letter"),
    (with_rule(name="media-rule"), "rules[1].name", "underscores"),
    (with_rule(name="signaling"), "rules[1].name", "unique"),
    (with_rule(destinations=["voice"]), "rules[1].destinations", "'voice' is not a group"),
    (with_rule(destinations=[]), "rules[1].destinations", "non-empty"),
    (with_rule(port=[1]), "rules[1]", "unknown key"),
    (dict(SMALL, rules=["media"]), "rules[0]", "must be a dict"),
    (dict(SMALL, rules={"name": "x"}), "rules", "must be a list"),
    (dict(SMALL, destinations={"media": ["10.0.0.0/33"]}), "destinations.media[0]", "CIDR"),
    (dict(SMALL, destinations={"media": ["10.0.0.1/24"]}), "destinations.media[0]", "host bits"),
    (dict(SMALL, destinations={"media": ["300.1.2.3"]}), "destinations.media[0]", "not a valid"),
    (dict(SMALL, destinations={"media": ["2001:db8::g"]}), "destinations.media[0]", "not a valid"),
    (dict(SMALL, destinations={"media": ["turn_server.example"]}), "destinations.media[0]", "DNS name"),
    (dict(SMALL, destinations={"media": ["*.dlegate.example"]}), "destinations.media[0]", "wildcard"),
    (dict(SMALL, destinations={"media": ["localhost"]}), "destinations.media[0]", "DNS name"),
    (dict(SMALL, destinations={"media": [""]}), "destinations.media[0]", "DNS name"),
    (dict(SMALL, destinations={"media": "198.51.100.7"}), "destinations.media", "must be a list"),
    (dict(SMALL, destinations=["media"]), "destinations", "must be a dict"),
    (dict(SMALL, destinations={"Media": []}), "destinations.Media", "group name"),
    (dict(SMALL, destinations={"m" * 32: []}), "destinations." + "m" * 32, "group name"),
    (dict(SMALL, destinations={"sources": []}), "destinations.sources", "reserved"),
    (dict(SMALL, source_networks=["10.0.0.0/8"]), "source_networks", "hook=forward"),
    (dict(SMALL, hook="forward", source_networks=["10.0.0.0/88"]), "source_networks[0]", "CIDR"),
    (dict(SMALL, hook="forward", source_networks="10.0.0.0/8"), "source_networks", "list of strings"),
    (dict(SMALL, permit_mark=-1), "permit_mark", "0 to 4294967295"),
    (dict(SMALL, permit_mark=2 ** 32), "permit_mark", "0 to 4294967295"),
    (dict(SMALL, permit_mark="lots"), "permit_mark", "integer"),
    (dict(SMALL, priority=2 ** 31), "priority", "integer"),
    (dict(SMALL, table="1egress"), "table", "letter"),
    (dict(SMALL, table="dlegate-egress"), "table", "letter"),
    (dict(SMALL, state="merged"), "state", "present, absent, rendered, gathered"),
    (dict(SMALL, mode="strict"), "mode", "permit, enforce, audit"),
    (dict(SMALL, hook="input"), "hook", "output, forward"),
    (dict(SMALL, unresolved="ignore"), "unresolved", "fail, skip"),
    (dict(SMALL, mode="audit", state="rendered"), "mode", "state=rendered"),
    (dict(SMALL, nameservers=["dns.example"]), "nameservers[0]", "address"),
    (dict(SMALL, resolve_timeout=0), "resolve_timeout", "above 0"),
    (dict(SMALL, resolved={"turn.example": ["not-an-ip"]}), "resolved.turn.example[0]", "address"),
    (dict(SMALL, resolved={"turn.example": "192.0.2.1"}), "resolved.turn.example", "must be a list"),
    (dict(SMALL, resolved={"no_name": ["192.0.2.1"]}), "resolved.no_name", "DNS name"),
    (dict(SMALL, rollback_timeout=-1), "rollback_timeout", "0 to 86400"),
    (dict(SMALL, rollback_timeout=86401), "rollback_timeout", "0 to 86400"),
    (dict(SMALL, confirm="yes"), "confirm", "true or false"),
]


@pytest.mark.parametrize("args, field, words", BAD_INPUT, ids=[case[1] + ":" + case[2] for case in BAD_INPUT])
def test_bad_input_names_the_field_and_what_is_allowed(args, field, words):
    with pytest.raises(PolicyError) as error:
        core.normalize_policy(args)
    assert error.value.field == field
    assert str(error.value).startswith(field + ": ")
    assert words in error.value.message


def test_defaults():
    policy = core.normalize_policy({})
    assert (policy["state"], policy["mode"], policy["hook"], policy["unresolved"]) == \
        ("present", "permit", "output", "fail")
    assert (policy["table"], policy["priority"], policy["permit_mark"]) == ("dlegate_egress", -10, 0x00200000)
    assert (policy["rollback_timeout"], policy["confirm"], policy["rules"]) == (0, False, [])


def test_ports_are_merged_and_sorted():
    policy = core.normalize_policy(with_rule(ports=["49152-65535", 3479, "3478", " 440 - 442 ", 443, 444]))
    assert policy["rules"][1]["ports"] == [[440, 444], [3478, 3479], [49152, 65535]]


def test_permit_mark_accepts_hex_text():
    assert core.normalize_policy({"permit_mark": "0x10"})["permit_mark"] == 16


def test_destination_entries_are_sorted_into_networks_and_names():
    policy = core.normalize_policy({"destinations": {"media": ["TURN.dlegate.example.", "198.51.100.7",
                                                               "turn.dlegate.example", "2001:db8::/32"]}})
    group = policy["destinations"]["media"]
    assert group["names"] == ["turn.dlegate.example"]
    assert [str(n) for n in group["networks"]] == ["198.51.100.7/32", "2001:db8::/32"]


# ---------------------------------------------------------------------------
# Names and resolution
# ---------------------------------------------------------------------------

NAMED = {"destinations": {"media": ["turn.dlegate.example", "media.dlegate.example", "198.51.100.7"]},
         "rules": [{"name": "media", "protocol": "udp", "ports": [3478], "destinations": ["media"]}],
         "resolved": {"media.dlegate.example": ["198.51.100.40"]}}


def test_domains_to_resolve_leaves_out_the_given_ones():
    assert core.domains_to_resolve(core.normalize_policy(NAMED)) == ["turn.dlegate.example"]
    for state in ("absent", "rendered", "gathered"):
        assert core.domains_to_resolve(core.normalize_policy(dict(NAMED, state=state))) == []


def test_resolved_names_fill_the_sets():
    state, report = desired(NAMED, {"turn.dlegate.example": ["198.51.100.8", "2001:db8::8"]})
    assert state["sets"]["media_v4"]["elements"] == ["198.51.100.7", "198.51.100.8", "198.51.100.40"]
    assert state["sets"]["media_v6"]["elements"] == ["2001:db8::8"]
    assert report["resolved"] == {"turn.dlegate.example": ["198.51.100.8", "2001:db8::8"],
                                  "media.dlegate.example": ["198.51.100.40"]}
    assert report["skipped_domains"] == [] and report["warnings"] == []


def test_unresolved_name_fails_naming_it():
    with pytest.raises(PolicyError) as error:
        desired(NAMED, {"turn.dlegate.example": []}, {"turn.dlegate.example": "A: NXDOMAIN"})
    assert error.value.field == "destinations"
    assert "turn.dlegate.example" in error.value.message and "NXDOMAIN" in error.value.message


def test_unresolved_name_is_skipped_with_a_warning():
    state, report = desired(dict(NAMED, unresolved="skip"), {}, {"turn.dlegate.example": "A: Timeout"})
    assert report["skipped_domains"] == ["turn.dlegate.example"]
    assert "turn.dlegate.example" in report["warnings"][0] and "Timeout" in report["warnings"][0]
    assert state["sets"]["media_v4"]["elements"] == ["198.51.100.7", "198.51.100.40"]


def test_rendered_never_resolves_and_skips_what_is_not_given():
    state, report = desired(dict(NAMED, state="rendered"))
    assert report["skipped_domains"] == ["turn.dlegate.example"]
    assert "not given in resolved" in report["warnings"][0]
    assert state["sets"]["media_v4"]["elements"] == ["198.51.100.7", "198.51.100.40"]


def test_empty_answers_count_as_unresolved():
    state, report = desired(dict(NAMED, unresolved="skip"), {"turn.dlegate.example": []})
    assert report["skipped_domains"] == ["turn.dlegate.example"]
    assert "no A or AAAA record" in report["warnings"][0]


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def test_golden_permit_ruleset():
    state = desired_state(SMALL)
    assert core.render_ruleset(state) == SMALL_PERMIT


def test_golden_enforce_ruleset_appends_counted_drops():
    state = desired_state(dict(SMALL, mode="enforce"))
    assert core.render_ruleset(state) == SMALL_PERMIT.replace("\t}\n}\n", SMALL_ENFORCE_DROPS + "\t}\n}\n")


def test_forward_with_source_networks():
    state = desired_state(dict(SMALL, hook="forward", source_networks=["10.20.0.0/16", "10.21.0.0/16"]))
    text = core.render_ruleset(state)
    assert "type filter hook forward priority filter - 10; policy accept;" in text
    assert "\tset sources_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = {\n\t\t\t10.20.0.0/15,\n" in text
    assert "\tset sources_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n" in text
    assert 'ip saddr @sources_v4 ip daddr @signaling_v4 tcp dport 443 ' in text
    assert 'ip6 saddr @sources_v6 ip6 daddr @media_v6 udp dport { 3478, 49152-65535 } ' in text


def test_ipv6_networks_are_collapsed():
    state = desired_state({"destinations": {"media": ["2001:db8::/33", "2001:db8:8000::/33", "2001:db8::1"]}})
    assert state["sets"]["media_v6"]["elements"] == ["2001:db8::/32"]


@pytest.mark.parametrize("entries, elements", [
    (["10.0.0.0/25", "10.0.0.128/25"], ["10.0.0.0/24"]),
    (["10.0.0.0/24", "10.0.0.5"], ["10.0.0.0/24"]),
    (["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "10.0.0.2"]),
    (["10.0.0.2", "10.0.0.3", "10.0.0.1"], ["10.0.0.1", "10.0.0.2/31"]),
    (["10.0.1.0/24", "10.0.0.0/24", "10.0.2.0/23"], ["10.0.0.0/22"]),
])
def test_overlapping_and_adjacent_networks_are_merged(entries, elements):
    state = desired_state({"destinations": {"media": entries}})
    assert state["sets"]["media_v4"]["elements"] == elements


def test_priority_and_ports_rendering():
    assert [core.render_priority(p) for p in (-10, 0, 5)] == ["filter - 10", "filter", "filter + 5"]
    assert core.render_ports([[443, 443]]) == "443"
    assert core.render_ports([[49152, 65535]]) == "49152-65535"
    assert core.render_ports([[443, 443], [3478, 3481]]) == "{ 443, 3478-3481 }"


def test_mark_zero_sets_no_mark():
    state = desired_state(dict(SMALL, permit_mark=0))
    assert "meta mark" not in core.render_ruleset(state)


def test_apply_and_delete_scripts_replace_atomically():
    state = desired_state(SMALL)
    preamble = "table inet dlegate_egress\ndelete table inet dlegate_egress\n"
    assert core.render_delete_script("dlegate_egress") == preamble
    assert core.render_apply_script(state) == preamble + SMALL_PERMIT


def test_absent_has_no_desired_table():
    state = desired_state(dict(SMALL, state="absent"))
    assert state is None and core.render_ruleset(None) == ""


# ---------------------------------------------------------------------------
# Parsing real nft output
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, policy", [
    ("permit_output", "permit_output"),
    ("enforce_forward", "enforce_forward"),
    ("enforce_counted", "enforce_output"),
    ("shadowing_honoured", "enforce_forward"),
    ("shadowing_ignored", "enforce_forward"),
])
def test_live_table_parses_equal_to_what_was_loaded(name, policy):
    state = desired_state(policy_args(policy))
    live = core.parse_table(fixture(name))
    assert live == state
    assert core.compare_states(live, state) == {"changed": False, "before": core.render_ruleset(state),
                                                "after": core.render_ruleset(state), "added": [], "removed": []}


def test_parse_accepts_text_and_a_missing_table():
    text = json.dumps(fixture("permit_output"))
    assert core.parse_table(text) == core.parse_table(fixture("permit_output"))
    assert core.parse_table(fixture("permit_output"), "other_table") is None
    assert core.parse_table({"nftables": [{"metainfo": {"version": "1.0.6"}}]}) is None


EDITS = [
    ("edited_rule_removed", ['ip daddr @media_v4 udp dport 3478 meta mark set meta mark | 0x00200000 accept comment "stun"'], []),
    ("edited_rule_changed",
     ['ip daddr @signaling_v4 tcp dport 443 meta mark set meta mark | 0x00200000 accept comment "signaling"'],
     ['ip daddr @signaling_v4 tcp dport 8443 meta mark set meta mark | 0x00200000 accept comment "signaling"']),
    ("edited_element_changed", ["198.51.100.20,"], ["198.51.100.21,"]),
    ("edited_rule_added", [], ['# unrecognised rule: {"rule":{"chain":"egress","comment":"ssh","expr":[{"match":'
                               '{"left":{"payload":{"field":"dport","protocol":"tcp"}},"op":"==","right":22}},'
                               '{"accept":null}]}}']),
]


@pytest.mark.parametrize("name, added, removed", EDITS, ids=[edit[0] for edit in EDITS])
def test_edited_table_differs_by_exactly_the_edit(name, added, removed):
    state = desired_state(policy_args("permit_output"))
    comparison = core.compare_states(core.parse_table(fixture(name)), state)
    assert comparison["changed"] is True
    assert (comparison["added"], comparison["removed"]) == (added, removed)


def _table_objects(data, kind):
    return [item[kind] for item in data["nftables"] if kind in item]


def test_unknown_objects_are_kept_for_the_diff():
    data = fixture("permit_output")
    chain = dict(_table_objects(data, "chain")[0], name="extra", handle=99)
    weird_set = dict(_table_objects(data, "set")[0], name="blocked_v4", flags=["constant", "interval"], handle=98)
    foreign_rule = dict(_table_objects(data, "rule")[0], chain="extra", handle=97)
    data["nftables"] += [{"chain": chain}, {"set": weird_set}, {"rule": foreign_rule},
                         {"counter": {"family": "inet", "table": "dlegate_egress", "name": "c", "packets": 1}}]
    live = core.parse_table(data)
    assert len(live["unknown"]) == 3 and "unknown" in live["rules"][-1]
    text = core.render_ruleset(live)
    assert '# unrecognised object: {"chain":{"hook":"output","name":"extra"' in text
    assert '# unrecognised object: {"set":{"elem":' in text
    assert '# unrecognised object: {"counter":{"name":"c","packets":1}}' in text
    assert "\t\t# unrecognised rule: " in text
    state = desired_state(policy_args("permit_output"))
    removed = core.diff_lines(text, core.render_ruleset(state))[1]
    assert len([line for line in removed if line.startswith("# unrecognised")]) == 4


@pytest.mark.parametrize("mutate", [
    lambda rule: rule["expr"].reverse(),
    lambda rule: rule["expr"].insert(0, {"counter": {"packets": 0, "bytes": 0}}),
    lambda rule: rule["expr"].append(rule["expr"][0]),
    lambda rule: rule["expr"][0]["match"].update(right="198.51.100.7"),
    lambda rule: rule["expr"][0]["match"].update(right="@media_v6"),
    lambda rule: rule["expr"][0]["match"].update(op="!="),
    lambda rule: rule["expr"][1]["match"].update(right={"range": [443, 80]}),
    lambda rule: rule["expr"][1]["match"]["left"]["payload"].update(protocol="sctp"),
    lambda rule: rule["expr"][2]["mangle"]["value"].update({"|": [{"meta": {"key": "mark"}}, 0]}),
    lambda rule: rule["expr"].pop(),
    lambda rule: rule.update(comment=7),
    lambda rule: rule.update(expr="accept"),
], ids=["reordered", "counter-first", "repeated", "literal-address", "wrong-family-set", "negated",
        "inverted-range", "other-protocol", "zero-mark", "no-verdict", "comment-not-text", "expr-not-list"])
def test_rules_this_module_did_not_write_are_unknown(mutate):
    data = fixture("permit_output")
    mutate(_table_objects(data, "rule")[0])
    assert "unknown" in core.parse_table(data)["rules"][0]


@pytest.mark.parametrize("data", [None, [], "not json", {"nftables": {}}, {"nftables": [1]},
                                  {"nftables": [{"a": {}, "b": {}}]}, {"nftables": [{"table": []}]}])
def test_malformed_json_raises_the_parse_error(data):
    with pytest.raises(NftParseError):
        core.parse_table(data)


def test_element_forms_nft_prints():
    body = {"name": "media_v4", "type": "ipv4_addr", "flags": ["interval"],
            "elem": ["198.51.100.7", {"prefix": {"addr": "198.51.100.8", "len": 29}},
                     {"range": ["198.51.100.16", "198.51.100.17"]}, {"elem": {"val": "198.51.100.18"}}]}
    assert core.parse_set(body) == ("media_v4", {"type": "ipv4_addr",
                                                 "elements": ["198.51.100.7", "198.51.100.8/29", "198.51.100.16/31",
                                                              "198.51.100.18"]})
    assert core.parse_set(dict(body, elem=[{"elem": {"val": "198.51.100.7", "timeout": 3}}])) is None
    assert core.parse_set(dict(body, elem=["2001:db8::1"])) is None
    assert core.parse_set(dict(body, elem=[{"range": ["198.51.100.9", "198.51.100.1"]}])) is None


# ---------------------------------------------------------------------------
# Counters and shadowing chains
# ---------------------------------------------------------------------------

def test_drop_counters_read_the_live_counts():
    assert core.drop_counters(fixture("enforce_counted")) == {
        "packets": 3, "bytes": 144,
        "by_set": {"media_v4": {"packets": 3, "bytes": 144}, "media_v6": {"packets": 0, "bytes": 0}}}
    assert core.drop_counters(fixture("permit_output")) == {"packets": 0, "bytes": 0, "by_set": {}}


def test_foreign_drop_chain_honouring_the_mark_through_a_jump_is_not_shadowing():
    assert core.find_shadowing_chains(fixture("shadowing_honoured"), hook="forward") == []


def test_foreign_drop_chains_without_the_mark_rule_are_shadowing():
    assert core.find_shadowing_chains(fixture("shadowing_ignored"), hook="forward") == [
        {"family": "inet", "table": "site", "chain": "forward", "hook": "forward", "priority": 0},
        {"family": "ip", "table": "legacy", "chain": "FORWARD", "hook": "forward", "priority": 0}]


def test_shadowing_is_per_hook_and_per_mark():
    honoured = fixture("shadowing_honoured")
    assert core.find_shadowing_chains(honoured, hook="output") == [
        {"family": "inet", "table": "site", "chain": "output", "hook": "output", "priority": 0}]
    assert [c["chain"] for c in core.find_shadowing_chains(honoured, hook="forward", mark=0x10)] == ["forward"]
    assert [c["chain"] for c in core.find_shadowing_chains(honoured, hook="forward", mark=0)] == ["forward"]
    assert core.find_shadowing_chains(honoured, table="site", hook="forward") == []


def test_shadowing_warning_says_what_to_add():
    chain = {"family": "ip", "table": "legacy", "chain": "FORWARD", "hook": "forward", "priority": 0}
    assert "meta mark & 0x00200000 == 0x00200000 accept" in core.shadowing_warning(chain, 0x00200000)
    assert "permit_mark is 0" in core.shadowing_warning(chain, 0)


# ---------------------------------------------------------------------------
# Plan, audit, gathered
# ---------------------------------------------------------------------------

def test_plan_creates_replaces_and_deletes():
    policy = core.normalize_policy(SMALL)
    created = core.plan(policy, None)
    assert created["changed"] and created["script"].startswith("table inet dlegate_egress\ndelete table")
    assert created["removed"] == [] and created["added"][0] == "table inet dlegate_egress {"
    unchanged = core.plan(policy, created["desired"])
    assert (unchanged["changed"], unchanged["script"], unchanged["added"], unchanged["removed"]) == \
        (False, None, [], [])
    absent = core.normalize_policy(dict(SMALL, state="absent"))
    deleted = core.plan(absent, created["desired"])
    assert deleted["script"] == core.render_delete_script("dlegate_egress") and deleted["ruleset"] == ""
    assert deleted["added"] == [] and deleted["removed"][0] == "table inet dlegate_egress {"
    assert core.plan(absent, None)["script"] is None


def test_audit_of_a_compliant_table():
    for name, policy in (("permit_output", "permit_output"), ("enforce_counted", "enforce_output")):
        result = core.plan(core.normalize_policy(dict(policy_args(policy), mode="audit")),
                           core.parse_table(fixture(name)))
        assert (result["compliant"], result["changed"], result["script"]) == (True, False, None)


def test_audit_of_an_edited_table_reports_the_differences():
    result = core.plan(core.normalize_policy(dict(policy_args("permit_output"), mode="audit")),
                       core.parse_table(fixture("edited_element_changed")))
    assert (result["compliant"], result["changed"], result["script"]) == (False, False, None)
    assert (result["added"], result["removed"]) == (["198.51.100.20,"], ["198.51.100.21,"])


def test_audit_of_a_missing_table_and_of_absence():
    missing = core.plan(core.normalize_policy(dict(SMALL, mode="audit")), None)
    assert missing["compliant"] is False and "table inet dlegate_egress {" in missing["added"]
    assert core.plan(core.normalize_policy(dict(SMALL, mode="audit", state="absent")), None)["compliant"] is True


@pytest.mark.parametrize("name", ["permit_output", "enforce_forward", "enforce_counted"])
def test_gathered_round_trips_to_the_live_table(name):
    live = core.parse_table(fixture(name))
    gathered = core.state_to_policy(live)
    assert json.loads(json.dumps(gathered)) == gathered
    state = desired_state(gathered)
    assert state == live


def test_gathered_of_the_forward_policy():
    gathered = core.state_to_policy(core.parse_table(fixture("enforce_forward")))
    assert gathered["hook"] == "forward" and gathered["mode"] == "enforce" and gathered["priority"] == -10
    assert gathered["source_networks"] == ["10.20.0.0/15", "2001:db8:aa::/48"]
    assert gathered["rules"][1] == {"name": "media", "protocol": "udp", "ports": ["3478-3479", "49152-65535"],
                                    "destinations": ["media"]}
    assert gathered["rules"][2]["destinations"] == ["fallback", "media"]


def test_gathered_of_no_table_and_unrecognised_items():
    assert core.state_to_policy(None) is None and core.unrecognised_items(None) == []
    items = core.unrecognised_items(core.parse_table(fixture("edited_rule_added")))
    assert len(items) == 1 and '"comment":"ssh"' in items[0]


# ---------------------------------------------------------------------------
# Rollback
# ---------------------------------------------------------------------------

def test_rollback_script_restores_the_previous_table_or_its_absence():
    listing = "table inet dlegate_egress {\n\tchain egress {\n\t}\n}\n"
    script = core.render_rollback_script("dlegate_egress", listing, 1767225600)
    assert script == ("# dlegate.rtc nft_egress rollback; table inet dlegate_egress; deadline 1767225600 "
                      "(2026-01-01T00:00:00Z)\n"
                      "table inet dlegate_egress\ndelete table inet dlegate_egress\n" + listing)
    assert core.rollback_deadline(script) == 1767225600
    empty = core.render_rollback_script("dlegate_egress", None, 1767225600)
    assert empty.splitlines()[1:] == ["table inet dlegate_egress", "delete table inet dlegate_egress"]


def test_rearmed_rollback_keeps_the_confirmed_table():
    script = core.render_rollback_script("dlegate_egress", "table inet dlegate_egress {\n}\n", 100)
    rearmed = core.rearm_rollback_script(script, "dlegate_egress", 200)
    assert core.rollback_deadline(rearmed) == 200
    assert rearmed.split("\n", 1)[1] == script.split("\n", 1)[1]
    assert core.rollback_deadline("table inet x\n") is None and core.rollback_deadline(None) is None


def _fake_nft(tmp_path):
    log = tmp_path / "nft.log"
    nft = tmp_path / "nft"
    nft.write_text('#!/bin/sh\necho "$@" >> "%s"\ncat "$2" >> "%s"\n' % (log, log))
    nft.chmod(0o755)
    return str(nft), log


def test_rollback_shell_restores_when_not_confirmed(tmp_path):
    nft, log = _fake_nft(tmp_path)
    script, marker = tmp_path / "t.abc.rollback", tmp_path / "t.rolledback"
    script.write_text("restore me\n")
    subprocess.run(["/bin/sh", "-c", core.ROLLBACK_SHELL, "x", "0", str(script), str(marker), nft], check=True)
    assert log.read_text() == "-f %s.run\nrestore me\n" % script
    assert marker.read_text().startswith("rc=0 time=")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nft", "nft.log", "t.rolledback"]


@pytest.mark.skipif(shutil.which("setsid") is None, reason="setsid (util-linux) is not installed")
def test_rollback_command_returns_at_once_and_restores_later(tmp_path):
    nft, log = _fake_nft(tmp_path)
    script, marker = tmp_path / "t.abc.rollback", tmp_path / "t.rolledback"
    script.write_text("restore me\n")
    command = core.rollback_command("/bin/sh", nft, str(script), 1, str(marker))
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, timeout=5)
    assert time.monotonic() - started < 1 and script.exists()
    while not marker.exists() and time.monotonic() - started < 10:
        time.sleep(0.05)
    assert marker.exists() and "restore me" in log.read_text()


def test_rollback_shell_does_nothing_once_confirmed(tmp_path):
    nft, log = _fake_nft(tmp_path)
    script, marker = tmp_path / "t.abc.rollback", tmp_path / "t.rolledback"
    subprocess.run(["/bin/sh", "-c", core.ROLLBACK_SHELL, "x", "0", str(script), str(marker), nft], check=True)
    assert not log.exists() and not marker.exists()


# ---------------------------------------------------------------------------
# Fuzzing the parser of nft's JSON
# ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 70000) | st.floats(allow_nan=False)
    | st.sampled_from(["inet", "dlegate_egress", "egress", "@media_v4", "ip", "ip6", "tcp", "udp", "daddr",
                       "saddr", "dport", "==", "accept", "drop", "interval", "ipv4_addr", "198.51.100.7",
                       "2001:db8::1", "mark", "forward", "output"])
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["family", "table", "name", "chain", "expr", "match", "left", "right", "op", "payload",
                         "protocol", "field", "set", "elem", "prefix", "addr", "len", "range", "counter",
                         "mangle", "key", "value", "meta", "|", "comment", "type", "flags", "hook", "prio",
                         "policy", "accept", "drop", "jump", "target", "packets", "bytes", "val"]) | st.text(max_size=5),
        children, max_size=5),
    max_leaves=30)

nft_objects = st.dictionaries(st.sampled_from(["table", "set", "chain", "rule", "counter", "metainfo"]),
                              json_values, min_size=1, max_size=1)
nft_documents = st.one_of(
    json_values, st.fixed_dictionaries({"nftables": st.lists(nft_objects | json_values, max_size=6)}))


def _exercise(data):
    """Every reader of nft JSON either works or raises NftParseError."""
    try:
        live = core.parse_table(data)
        core.render_ruleset(live)
        core.unrecognised_items(live)
        core.state_to_policy(live)
        core.drop_counters(data)
        core.find_shadowing_chains(data, hook="forward")
    except NftParseError:
        pass


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(nft_documents)
def test_fuzzed_documents_parse_or_raise_the_parse_error(data):
    _exercise(data)


policy_values = st.one_of(
    json_values, st.lists(st.sampled_from(["media", 443, "3478", "49152-65535", "0-1", "198.51.100.0/24",
                                           "2001:db8::1", "turn.dlegate.example", "x" * 70, None]), max_size=3))
policy_arguments = st.dictionaries(
    st.sampled_from(["state", "mode", "hook", "table", "priority", "permit_mark", "source_networks",
                     "destinations", "rules", "unresolved", "nameservers", "resolve_timeout", "resolved",
                     "rollback_timeout", "confirm"]),
    st.one_of(policy_values,
              st.dictionaries(st.sampled_from(["media", "Media", "sources", "turn.dlegate.example"]), policy_values),
              st.lists(st.fixed_dictionaries({"name": policy_values, "protocol": st.sampled_from(["tcp", "udp", 6]),
                                              "ports": policy_values, "destinations": policy_values}), max_size=2)))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_arguments)
def test_any_arguments_are_a_policy_or_a_policy_error(args):
    try:
        policy = core.normalize_policy(args)
    except PolicyError as error:
        assert error.field.split(".")[0].split("[")[0] in args or error.field.startswith(("rules", "destinations"))
        return
    state = core.build_desired_state(dict(policy, unresolved="skip"))[0]
    core.render_ruleset(state)


def _paths(value, path=()):
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in children:
        yield from _paths(child, path + (key,))


PERMIT = fixture("permit_output")
SHADOWED = fixture("shadowing_honoured")


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([PERMIT, SHADOWED]), st.data())
def test_mutated_real_output_parses_or_raises_the_parse_error(original, data):
    document = copy.deepcopy(original)
    for unused in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(document))[1:]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, (dict, list)):
            parent[path[-1]] = data.draw(json_values)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    _exercise(document)
