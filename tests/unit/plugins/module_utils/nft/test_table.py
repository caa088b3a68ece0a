# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the table model: render, parse real ``nft -j`` output, differences, counters."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.nft import table
from ansible_collections.dlegate.rtc.plugins.module_utils.nft.codec import empty_rule
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft.fuzzing import mutate, nft_documents
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture, fixture_text, objects

MARK = 0x00200000


def accept(name, family, group, protocol, ports):
    suffix = "_v4" if family == "ip" else "_v6"
    return dict(empty_rule(), comment=name, family=family, daddr=group + suffix, protocol=protocol,
                dport=ports, mark=MARK, verdict="accept")


def small_state():
    state = table.empty_state("dlegate_egress", table.base_chain("egress", "output", -10))
    state["sets"].update(table.family_sets("media", []))
    state["sets"]["media_v4"]["elements"] = ["198.51.100.0/24"]
    state["sets"]["media_v6"]["elements"] = ["2001:db8::1"]
    state["sets"].update(signaling_v4=table.interval_set(4, ["203.0.113.10"]), signaling_v6=table.interval_set(6, []))
    state["rules"] = [accept("signaling", "ip", "signaling", "tcp", [[443, 443]]),
                      accept("signaling", "ip6", "signaling", "tcp", [[443, 443]]),
                      accept("media", "ip", "media", "udp", [[3478, 3478], [49152, 65535]]),
                      accept("media", "ip6", "media", "udp", [[3478, 3478], [49152, 65535]])]
    return state


SMALL_TEXT = """\
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
PREAMBLE = "table inet dlegate_egress\ndelete table inet dlegate_egress\n"


def parse_egress(name):
    return table.parse_table(fixture(name), "dlegate_egress", "egress")


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def test_golden_table():
    assert table.render_table(small_state()) == SMALL_TEXT


def test_render_priority_ports_and_rules():
    assert [table.render_priority(p) for p in (-10, 0, 5)] == ["filter - 10", "filter", "filter + 5"]
    assert table.render_priority(-150, "route") == "route - 150"
    assert table.render_ports([[443, 443]]) == "443"
    assert table.render_ports([[49152, 65535]]) == "49152-65535"
    assert table.render_ports([[443, 443], [3478, 3481]]) == "{ 443, 3478-3481 }"
    assert table.render_rule(dict(empty_rule(), family="ip6", saddr="sources_v6", daddr="media_v6", counter=True,
                                  verdict="drop", comment='a "quoted" name')) == \
        'ip6 saddr @sources_v6 ip6 daddr @media_v6 counter drop comment "a \\"quoted\\" name"'
    assert table.render_rule(dict(empty_rule(), family="ip", protocol="udp", sport=[[50000, 50019]], dscp=46)) == \
        "udp sport 50000-50019 ip dscp set 46"
    assert table.render_rule({"unknown": '{"rule":{}}'}) == '# unrecognised rule: {"rule":{}}'


def test_mark_zero_sets_no_mark():
    rule = accept("media", "ip", "media", "udp", [[3478, 3478]])
    assert "meta mark" in table.render_rule(rule)
    assert "meta mark" not in table.render_rule(dict(rule, mark=0))


def test_scripts_replace_or_delete_the_table_atomically():
    assert table.render_delete_script("dlegate_egress") == PREAMBLE
    assert table.render_apply_script(small_state()) == PREAMBLE + SMALL_TEXT
    assert table.render_table(None) == ""


def test_transaction():
    state = small_state()
    assert table.transaction(state, copy.deepcopy(state), "dlegate_egress") is None
    assert table.transaction(None, None, "dlegate_egress") is None
    assert table.transaction(state, None, "dlegate_egress") == PREAMBLE
    assert table.transaction(None, state, "dlegate_egress") == PREAMBLE + SMALL_TEXT
    changed = dict(state, rules=state["rules"][:1])
    assert table.transaction(state, changed, "dlegate_egress") == table.render_apply_script(changed)


def test_family_sets():
    networks = [table.ipaddress.ip_network(n) for n in ("198.51.100.0/25", "198.51.100.128/25", "2001:db8::/32")]
    assert table.family_sets("media", networks) == {
        "media_v4": {"type": "ipv4_addr", "elements": ["198.51.100.0/24"]},
        "media_v6": {"type": "ipv6_addr", "elements": ["2001:db8::/32"]}}
    assert table.family_sets("media", networks, versions=(6,)) == {
        "media_v6": {"type": "ipv6_addr", "elements": ["2001:db8::/32"]}}


# ---------------------------------------------------------------------------
# Parsing real nft output
# ---------------------------------------------------------------------------

def test_a_parsed_table_renders_back_to_the_text_nft_loaded():
    live = table.parse_table(fixture("dscp_marking"), "dlegate_qos", "marking")
    assert table.render_table(live) == fixture_text("dscp_marking.nft")
    assert live["chain"] == {"name": "marking", "type": "filter", "hook": "output", "priority": -10, "policy": "accept"}
    assert live["unknown"] == []


def test_parse_of_an_egress_table():
    live = parse_egress("permit_output")
    assert live["chain"] == table.base_chain("egress", "output", -10)
    assert live["sets"]["media_v4"] == {"type": "ipv4_addr", "elements": ["198.51.100.20", "198.51.100.30"]}
    assert live["sets"]["signaling_v6"] == {"type": "ipv6_addr", "elements": ["2001:db8:10::10"]}
    assert [(rule["comment"], rule["family"]) for rule in live["rules"]] == [
        (name, family) for name in ("signaling", "stun", "media", "tls_fallback") for family in ("ip", "ip6")]
    assert live["unknown"] == [] and table.unrecognised_items(live) == []


def test_parse_accepts_text_and_a_missing_table():
    text = json.dumps(fixture("permit_output"))
    assert table.parse_table(text, "dlegate_egress", "egress") == parse_egress("permit_output")
    assert table.parse_table(fixture("permit_output"), "other_table", "egress") is None
    assert table.parse_table({"nftables": [{"metainfo": {"version": "1.0.6"}}]}, "dlegate_egress", "egress") is None


def test_a_terse_listing_has_no_set_elements():
    live = table.parse_table(fixture("shadowing_cases"), "dlegate_egress", "egress")
    assert live["sets"]["media_v4"] == {"type": "ipv4_addr", "elements": []}
    assert len(live["rules"]) == 14 and live["unknown"] == []


def test_another_chain_name_makes_the_chain_and_its_rules_unknown():
    live = table.parse_table(fixture("permit_output"), "dlegate_egress", "output")
    assert live["chain"] is None
    assert len(live["unknown"]) == 1 and live["unknown"][0].startswith('{"chain":{"hook":"output","name":"egress"')
    assert all("unknown" in rule for rule in live["rules"])


def test_unknown_objects_are_kept_for_the_diff():
    data = fixture("permit_output")
    chain = dict(objects(data, "chain")[0], name="extra", handle=99)
    weird_set = dict(objects(data, "set")[0], name="blocked_v4", flags=["constant", "interval"], handle=98)
    foreign_rule = dict(objects(data, "rule")[0], chain="extra", handle=97)
    data["nftables"] += [{"chain": chain}, {"set": weird_set}, {"rule": foreign_rule},
                         {"counter": {"family": "inet", "table": "dlegate_egress", "name": "c", "packets": 1}}]
    live = table.parse_table(data, "dlegate_egress", "egress")
    assert len(live["unknown"]) == 3 and "unknown" in live["rules"][-1]
    assert len(table.unrecognised_items(live)) == 4
    text = table.render_table(live)
    assert '# unrecognised object: {"chain":{"hook":"output","name":"extra"' in text
    assert '# unrecognised object: {"set":{"elem":' in text
    assert '# unrecognised object: {"counter":{"name":"c","packets":1}}' in text
    assert "\t\t# unrecognised rule: " in text
    items = table.differences(live, parse_egress("permit_output"))
    assert [item["item"] for item in items] == ["rule", "object", "object", "object"]
    assert [item["change"] for item in items] == ["remove"] * 4


def test_element_forms_nft_prints():
    body = {"name": "media_v4", "type": "ipv4_addr", "flags": ["interval"],
            "elem": ["198.51.100.7", {"prefix": {"addr": "198.51.100.8", "len": 29}},
                     {"range": ["198.51.100.16", "198.51.100.17"]}, {"elem": {"val": "198.51.100.18"}}]}
    assert table.parse_set(body) == ("media_v4", {"type": "ipv4_addr",
                                                  "elements": ["198.51.100.7", "198.51.100.8/29", "198.51.100.16/31",
                                                               "198.51.100.18"]})
    assert table.parse_set(dict(body, elem=[{"elem": {"val": "198.51.100.7", "timeout": 3}}])) is None
    assert table.parse_set(dict(body, elem=["2001:db8::1"])) is None
    assert table.parse_set(dict(body, elem=[{"range": ["198.51.100.9", "198.51.100.1"]}])) is None
    assert table.parse_set(dict(body, flags=["interval", "timeout"])) is None
    assert table.parse_set(dict(body, type="ether_addr")) is None
    assert table.parse_set(dict(body, elem="198.51.100.7")) is None
    assert table.parse_set(dict(body, counter=True)) is None
    assert table.parse_set({k: v for k, v in body.items() if k != "elem"}) == \
        ("media_v4", {"type": "ipv4_addr", "elements": []})


@pytest.mark.parametrize("data", [None, [], "not json", {"nftables": {}}, {"nftables": [1]},
                                  {"nftables": [{"a": {}, "b": {}}]}, {"nftables": [{"table": []}]}])
def test_malformed_json_raises_the_parse_error(data):
    with pytest.raises(ParseError):
        table.parse_table(data, "dlegate_egress", "egress")
    with pytest.raises(ParseError):
        table.drop_counters(data, "dlegate_egress", "egress")


def test_drop_counters_read_the_live_counts():
    assert table.drop_counters(fixture("enforce_counted"), "dlegate_egress", "egress") == {
        "packets": 3, "bytes": 144,
        "by_set": {"media_v4": {"packets": 3, "bytes": 144}, "media_v6": {"packets": 0, "bytes": 0}}}
    assert table.drop_counters(fixture("permit_output"), "dlegate_egress", "egress") == \
        {"packets": 0, "bytes": 0, "by_set": {}}
    assert table.drop_counters(fixture("enforce_counted"), "other", "egress") == \
        {"packets": 0, "bytes": 0, "by_set": {}}


# ---------------------------------------------------------------------------
# Differences, item by item
# ---------------------------------------------------------------------------

def test_no_differences_between_equal_states():
    assert table.differences(small_state(), small_state()) == []
    assert table.differences(None, None) == []
    assert table.differences(parse_egress("permit_output"), parse_egress("permit_output")) == []


def test_a_missing_or_surplus_table():
    assert table.differences(None, small_state()) == [{"item": "table inet dlegate_egress", "change": "add"}]
    assert table.differences(small_state(), None) == [{"item": "table inet dlegate_egress", "change": "remove"}]


def test_set_differences():
    live, desired = small_state(), small_state()
    live["sets"]["media_v4"]["elements"] = ["198.51.100.0/25", "192.0.2.1"]
    del live["sets"]["signaling_v6"]
    live["sets"]["old_v4"] = table.interval_set(4, [])
    assert table.differences(live, desired) == [
        {"item": "set media_v4", "change": "update", "added": ["198.51.100.0/24"],
         "removed": ["198.51.100.0/25", "192.0.2.1"]},
        {"item": "set old_v4", "change": "remove"},
        {"item": "set signaling_v6", "change": "add"}]


def test_rule_and_chain_differences():
    live, desired = small_state(), small_state()
    live["rules"][2] = dict(live["rules"][2], dport=[[3478, 3478]])
    live["chain"] = dict(live["chain"], priority=0)
    items = table.differences(live, desired)
    assert items[0] == {"item": "chain", "change": "update", "live": live["chain"], "policy": desired["chain"]}
    assert items[1:] == [
        {"item": "rule", "change": "remove",
         "rule": 'ip daddr @media_v4 udp dport 3478 meta mark set meta mark | 0x00200000 accept comment "media"'},
        {"item": "rule", "change": "add",
         "rule": 'ip daddr @media_v4 udp dport { 3478, 49152-65535 } meta mark set meta mark | 0x00200000 accept '
                 'comment "media"'}]


def test_the_same_rules_in_another_order():
    live, desired = small_state(), small_state()
    live["rules"].reverse()
    items = table.differences(live, desired)
    assert len(items) == 1 and items[0]["item"] == "rule order"
    assert items[0]["live"] == [table.render_rule(rule) for rule in live["rules"]]
    assert items[0]["policy"] == [table.render_rule(rule) for rule in desired["rules"]]


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
def test_an_edited_table_differs_by_exactly_the_edit(name, items):
    assert table.differences(parse_egress(name), parse_egress("permit_output")) == items


rules = st.builds(lambda comment, family, group, ports, verdict: dict(
    empty_rule(), comment=comment, family=family, daddr=group + ("_v4" if family == "ip" else "_v6"),
    protocol="udp", dport=ports, mark=MARK if verdict == "accept" else 0, verdict=verdict),
    st.sampled_from([None, "media", "stun"]), st.sampled_from(["ip", "ip6"]), st.sampled_from(["media", "turn"]),
    st.sampled_from([[[3478, 3478]], [[3478, 3479]], [[443, 443], [3478, 3478]]]), st.sampled_from(["accept", "drop"]))
element_lists = st.lists(st.sampled_from(["198.51.100.0/24", "198.51.100.7", "203.0.113.0/25"]), max_size=2, unique=True)


def states(unknown):
    return st.builds(
        lambda hook, policy, sets, rule_list, objects_: dict(
            table.empty_state("dlegate_egress", table.base_chain("egress", hook, -10, policy=policy)),
            sets=sets, rules=rule_list, unknown=objects_),
        st.sampled_from(["output", "forward"]), st.sampled_from(["accept", "drop"]),
        st.dictionaries(st.sampled_from(["media_v4", "turn_v4"]),
                        element_lists.map(lambda elements: table.interval_set(4, elements)), max_size=2),
        st.lists(rules, max_size=3), st.lists(st.just('{"counter":{"name":"c"}}'), max_size=1 if unknown else 0))


# a desired state never holds unknown objects: it is built from a policy
@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.none(), states(unknown=True)), st.one_of(st.none(), states(unknown=False)))
def test_differences_are_empty_exactly_when_the_states_are_equal(live, desired):
    items = table.differences(live, desired)
    assert (items == []) == (live == desired)
    assert json.loads(json.dumps(items)) == items


# ---------------------------------------------------------------------------
# Fuzzing the parser of nft's JSON
# ---------------------------------------------------------------------------

def exercise(data):
    """Every reader of nft JSON either works or raises ParseError."""
    try:
        live = table.parse_table(data, "dlegate_egress", "egress")
        table.render_table(live)
        table.unrecognised_items(live)
        table.differences(live, small_state())
        table.drop_counters(data, "dlegate_egress", "egress")
    except ParseError:
        pass


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(nft_documents)
def test_fuzzed_documents_parse_or_raise_the_parse_error(data):
    exercise(data)


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["permit_output", "enforce_forward", "dscp_marking"]), st.data())
def test_mutated_real_output_parses_or_raises_the_parse_error(name, data):
    document = fixture(name)
    for _step in range(data.draw(st.integers(1, 3))):
        mutate(document, data)
    exercise(document)
    exercise(json.dumps(document))
