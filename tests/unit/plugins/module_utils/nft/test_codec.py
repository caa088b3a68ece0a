# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of nft's JSON objects and rule expressions, mostly on real ``nft -j`` output (see nft_fixtures)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.dlegate.rtc.plugins.module_utils.common.errors import ParseError
from ansible_collections.dlegate.rtc.plugins.module_utils.nft import codec
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft.fuzzing import mutate
from ansible_collections.dlegate.rtc.tests.unit.plugins.module_utils.nft_fixtures import fixture, objects


def rules_of(name):
    return objects(fixture(name), "rule")


def rule(**fields):
    return dict(codec.empty_rule(), **fields)


# ---------------------------------------------------------------------------
# The listing
# ---------------------------------------------------------------------------

def test_ruleset_objects_reads_parsed_json_text_and_bytes():
    data = fixture("permit_output")
    listed = codec.ruleset_objects(data)
    assert listed == codec.ruleset_objects(json.dumps(data)) == codec.ruleset_objects(json.dumps(data).encode())
    assert listed[0] == ("metainfo", data["nftables"][0]["metainfo"])
    assert [kind for kind, _body in listed].count("rule") == 8


@pytest.mark.parametrize("data, words", [
    (None, "no 'nftables' list"),
    ([], "no 'nftables' list"),
    ("not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    ({"nftables": {}}, "no 'nftables' list"),
    ({"nftables": [1]}, "not a one-key object"),
    ({"nftables": [{}]}, "not a one-key object"),
    ({"nftables": [{"a": {}, "b": {}}]}, "not a one-key object"),
    ({"nftables": [{"table": []}]}, "a 'table' that is not an object"),
    ("[" * 100000 + "]" * 100000, "not JSON"),
    ('{"nftables": [{"rule": {"expr": ' + "[" * 5000 + "]" * 5000 + "}}]}", "not JSON"),
], ids=["none", "list", "text", "bytes", "dict-nftables", "number-item", "empty-item", "two-keys", "table-list",
        "deep", "deep-rule"])
def test_what_is_not_nft_s_shape_raises_the_parse_error(data, words):
    with pytest.raises(ParseError) as error:
        codec.ruleset_objects(data)
    assert words in str(error.value)


def test_a_huge_bad_item_is_cut_in_the_message():
    with pytest.raises(ParseError) as error:
        codec.ruleset_objects({"nftables": [["x" * 10000]]})
    assert len(str(error.value)) < 300


def test_strip_runtime_and_belongs():
    body = {"family": "inet", "table": "dlegate_egress", "handle": 4, "name": "media_v4", "type": "ipv4_addr"}
    assert codec.strip_runtime("set", body) == {"set": {"name": "media_v4", "type": "ipv4_addr"}}
    assert codec.belongs("set", body, "dlegate_egress")
    assert not codec.belongs("set", body, "other")
    assert not codec.belongs("set", dict(body, family="ip"), "dlegate_egress")
    assert codec.belongs("table", {"family": "inet", "name": "dlegate_egress"}, "dlegate_egress")
    assert not codec.belongs("table", {"family": "inet", "name": "other", "table": "dlegate_egress"}, "dlegate_egress")


def test_dump_is_canonical():
    assert codec.dump({"b": [1, {"d": None, "c": True}], "a": "x"}) == '{"a":"x","b":[1,{"c":true,"d":null}]}'


# ---------------------------------------------------------------------------
# Rules of real listings
# ---------------------------------------------------------------------------

def test_the_rules_the_collection_writes_decode_as_written():
    rules = [codec.decode_rule(body) for body in rules_of("enforce_forward")]
    assert rules[0] == rule(comment="signaling", family="ip", saddr="sources_v4", daddr="signaling_v4",
                            protocol="tcp", dport=[[443, 443]], mark=0x00200000, verdict="accept")
    assert rules[3] == rule(comment="media", family="ip6", saddr="sources_v6", daddr="media_v6", protocol="udp",
                            dport=[[3478, 3479], [49152, 65535]], mark=0x00200000, verdict="accept")
    assert rules[-1] == rule(comment="enforce signaling", family="ip6", daddr="signaling_v6", counter=True,
                             verdict="drop")
    assert None not in rules and len(rules) == 14


def test_dscp_rules_decode_with_the_names_nft_prints():
    rules = [codec.decode_rule(body) for body in rules_of("dscp_marking")]
    assert [(r["comment"], r["family"], r["dscp"]) for r in rules] == [
        ("audio", "ip", 46), ("audio", "ip6", 46), ("video", "ip", 34), ("sharing", "ip", 18),
        ("signaling", "ip", 24), ("best effort", "ip", 0)]
    assert rules[0] == rule(comment="audio", family="ip", daddr="media_v4", protocol="udp", sport=[[50000, 50019]],
                            dscp=46)
    assert rules[3]["counter"] is True and rules[3]["verdict"] is None


def test_dscp_names_are_the_published_code_points():
    # RFC 2474 class selectors, RFC 2597 AF, RFC 3246 EF, RFC 5865 VOICE-ADMIT, RFC 8622 LE
    assert [codec.DSCP_NAMES[name] for name in ("cs0", "cs1", "cs3", "cs5", "cs7")] == [0, 8, 24, 40, 56]
    assert [codec.DSCP_NAMES[name] for name in ("af11", "af21", "af31", "af41", "af42", "af43")] == \
        [10, 18, 26, 34, 36, 38]
    assert (codec.DSCP_NAMES["ef"], codec.DSCP_NAMES["va"], codec.DSCP_NAMES["le"]) == (46, 44, 1)
    assert len(codec.DSCP_NAMES) == 8 + 12 + 3


IP6_DSCP = {"mangle": {"key": {"payload": {"protocol": "ip6", "field": "dscp"}}, "value": 46}}
MUTATIONS = {
    "reordered": lambda r: r["expr"].reverse(),
    "counter-first": lambda r: r["expr"].insert(0, {"counter": {"packets": 0, "bytes": 0}}),
    "repeated": lambda r: r["expr"].append(r["expr"][0]),
    "literal-address": lambda r: r["expr"][0]["match"].update(right="198.51.100.7"),
    "wrong-family-set": lambda r: r["expr"][0]["match"].update(right="@media_v6"),
    "uppercase-set": lambda r: r["expr"][0]["match"].update(right="@Media_v4"),
    "negated": lambda r: r["expr"][0]["match"].update(op="!="),
    "extra-key": lambda r: r["expr"][0]["match"].update(extra=1),
    "inverted-range": lambda r: r["expr"][1]["match"].update(right={"range": [443, 80]}),
    "port-zero": lambda r: r["expr"][1]["match"].update(right=0),
    "port-text": lambda r: r["expr"][1]["match"].update(right="443"),
    "empty-port-set": lambda r: r["expr"][1]["match"].update(right={"set": []}),
    "other-protocol": lambda r: r["expr"][1]["match"]["left"]["payload"].update(protocol="sctp"),
    "other-field": lambda r: r["expr"][1]["match"]["left"]["payload"].update(field="length"),
    "zero-mark": lambda r: r["expr"][2]["mangle"]["value"].update({"|": [{"meta": {"key": "mark"}}, 0]}),
    "mark-over-32-bits": lambda r: r["expr"][2]["mangle"]["value"].update({"|": [{"meta": {"key": "mark"}}, 2 ** 32]}),
    "mark-set-literal": lambda r: r["expr"][2]["mangle"].update(value=2097152),
    "verdict-with-value": lambda r: r["expr"].__setitem__(3, {"accept": {}}),
    "jump": lambda r: r["expr"].__setitem__(3, {"jump": {"target": "x"}}),
    "no-verdict": lambda r: r["expr"].pop(),
    "ip6-dscp-in-ip-rule": lambda r: r["expr"].insert(3, IP6_DSCP),
    "comment-not-text": lambda r: r.update(comment=7),
    "expr-not-list": lambda r: r.update(expr="accept"),
    "expr-empty": lambda r: r.update(expr=[]),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_rules_the_collection_did_not_write_are_not_decoded(name):
    body = copy.deepcopy(rules_of("permit_output")[0])
    assert codec.decode_rule(body) is not None
    MUTATIONS[name](body)
    assert codec.decode_rule(body) is None


def test_a_rule_needs_a_verdict_or_a_dscp():
    body = copy.deepcopy(rules_of("permit_output")[0])
    body["expr"] = body["expr"][:2]
    assert codec.decode_rule(body) is None
    body["expr"].append({"mangle": {"key": {"payload": {"protocol": "ip", "field": "dscp"}}, "value": "cs0"}})
    assert codec.decode_rule(body)["dscp"] == 0


# ---------------------------------------------------------------------------
# Expressions one by one
# ---------------------------------------------------------------------------

def test_parse_ports_forms():
    assert codec.parse_ports(443) == [[443, 443]]
    assert codec.parse_ports({"range": [49152, 65535]}) == [[49152, 65535]]
    assert codec.parse_ports({"set": [3479, 3478, {"range": [5000, 6000]}, {"range": [5500, 7000]}]}) == \
        [[3478, 3479], [5000, 7000]]
    for right in (0, 65536, True, "443", {"range": [5, 1]}, {"range": [1, 2, 3]}, {"set": []}, {"set": [1, "x"]},
                  {"set": 443}, None, [443]):
        assert codec.parse_ports(right) is None


def test_set_reference_wants_the_family_suffix_and_a_plain_name():
    assert codec.set_reference("@media_v4", "ip") == "media_v4"
    assert codec.set_reference("@media_v6", "ip6") == "media_v6"
    for right, family in (("@media_v6", "ip"), ("media_v4", "ip"), ("@_v4", "ip"), ("@1media_v4", "ip"),
                          ("@Media_v4", "ip"), ("@me-dia_v4", "ip"), (7, "ip")):
        assert codec.set_reference(right, family) is None


def test_mark_value_of_the_or_mangle_only():
    mark = {"mangle": {"key": {"meta": {"key": "mark"}}, "value": {"|": [{"meta": {"key": "mark"}}, 0x10]}}}
    assert codec.mark_value(mark) == 0x10
    assert codec.mark_value({"mangle": {"key": {"meta": {"key": "mark"}}, "value": 0x10}}) is None
    assert codec.mark_value({"mangle": {"key": {"meta": {"key": "priority"}},
                                        "value": {"|": [{"meta": {"key": "mark"}}, 0x10]}}}) is None
    assert codec.mark_value({"accept": None}) is None


def test_dscp_value_numbers_and_names():
    def dscp(protocol, value):
        return {"mangle": {"key": {"payload": {"protocol": protocol, "field": "dscp"}}, "value": value}}
    assert codec.dscp_value(dscp("ip", "ef")) == ("ip", 46)
    assert codec.dscp_value(dscp("ip6", 34)) == ("ip6", 34)
    for bad in (dscp("ip", 64), dscp("ip", -1), dscp("ip", "gold"), dscp("ip", True), dscp("arp", 46),
                dscp(["ip"], 46), dscp({"ip": 1}, 46)):
        assert codec.dscp_value(bad) is None


def test_counter_of_reads_packets_and_bytes():
    assert codec.counter_of({"expr": [{"match": {}}, {"counter": {"packets": 3, "bytes": 144}}, {"drop": None}]}) == \
        {"packets": 3, "bytes": 144}
    assert codec.counter_of({"expr": [{"counter": {"packets": "3", "bytes": True}}]}) == {"packets": 0, "bytes": 0}
    assert codec.counter_of({"expr": [{"drop": None}]}) == {"packets": 0, "bytes": 0}
    assert codec.counter_of({}) == {"packets": 0, "bytes": 0}


REAL_RULES = rules_of("permit_output") + rules_of("enforce_forward") + rules_of("dscp_marking")


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(range(len(REAL_RULES))), st.data())
def test_a_mutated_real_rule_decodes_or_is_not_the_collection_s(index, data):
    body = copy.deepcopy(REAL_RULES[index])
    for _step in range(data.draw(st.integers(1, 2))):
        mutate(body, data)
    decoded = codec.decode_rule(body)
    if decoded is not None:
        assert set(decoded) == set(codec.empty_rule()) and decoded["verdict"] in (None, "accept", "drop")
        assert set(codec.counter_of(body)) == {"packets", "bytes"}
